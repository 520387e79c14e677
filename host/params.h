/*
 * params.h: plugin parameters. A plugin declares its parameters as a
 * tack_param_spec array; its config group `params = { ... }` is checked
 * against that spec here before any plugin code runs, and read from here
 * when the plugin asks through tack_host.param_*.
 *
 * This file also holds the small helpers that place a message about a
 * libconfig setting (file, line, path); config.c uses them for its schema.
 */
#ifndef TACK_PARAMS_H
#define TACK_PARAMS_H

#include <libconfig.h>
#include <stdio.h>

#include "diag.h"
#include "tack.h"

/*
 * Check a params group against a plugin's spec: unknown keys (with a
 * did-you-mean, or the list of keys the plugin takes), wrong types (an int,
 * with or without the L suffix, is accepted where a double is declared; a
 * double is never accepted where an int is), out-of-range numbers (when
 * min <= max), strings not among the choices, missing required parameters.
 * Every problem is added to d with the file, line and the setting's path
 * ("strategies.trend.params.lookback"); messages about unknown and missing
 * keys name the plugin. The value of a TACK_PARAM_SECRET parameter never
 * appears in a message. params may be NULL (no group given); a missing
 * required parameter is then reported without a place. Returns 0 or
 * TACK_ECONFIG.
 */
int tack_params_check(const tack_plugin_desc *desc, const config_setting_t *params, tack_diag *d);

/*
 * Like tack_params_check(), with owner the setting that holds (or would
 * hold) the params group, usually the instance's group: when params is NULL
 * a missing required parameter is reported at owner's file and line, with
 * the path "<owner path>.params.<key>". owner may be NULL.
 */
int tack_params_check_at(const tack_plugin_desc *desc, const config_setting_t *params,
                         const config_setting_t *owner, tack_diag *d);

/* Read a declared parameter; the declared default when absent from params
 * (params may be NULL). TACK_ENOENT when key is not declared, TACK_ETYPE for
 * a parameter declared with another type, or a setting of a type the check
 * would have refused. An int parameter may be written with or without L. */
int tack_params_int(const tack_plugin_desc *desc, const config_setting_t *params, const char *key,
                    int64_t *out);
int tack_params_double(const tack_plugin_desc *desc, const config_setting_t *params,
                       const char *key, double *out);
int tack_params_bool(const tack_plugin_desc *desc, const config_setting_t *params, const char *key,
                     int *out);
/* The string lives as long as the config (or the static spec default).
 * *out is NULL when the parameter is absent and declares no default. */
int tack_params_string(const tack_plugin_desc *desc, const config_setting_t *params,
                       const char *key, const char **out);

/* The spec entry for key, NULL when not declared. */
const tack_param_spec *tack_params_find(const tack_plugin_desc *desc, const char *key);

/* Print the effective values of every parameter, "fast=12, slow=26";
 * strings are quoted, an unset string without default prints as (unset),
 * secret values print as "***". Prints nothing for a plugin without
 * parameters. */
void tack_params_print_values(const tack_plugin_desc *desc, const config_setting_t *params,
                              FILE *out);

/* ------------------------------------------------------------------------ */
/* Placing messages about settings                                           */
/* ------------------------------------------------------------------------ */

/* The setting's path as messages show it: "strategies.trend.params.fast",
 * "symbols[1].exchange" (list and array elements by 0-based index). The root
 * has the empty path. Always NUL-terminates; truncates to cap. */
void tack_setting_path(const config_setting_t *s, char *buf, size_t cap);

/* "an integer", "a 64-bit integer", "a number", "a string", "a boolean",
 * "a group", "an array", "a list": for "must be X, got Y" messages. */
const char *tack_setting_type_name(const config_setting_t *s);

/* Its type and, for a scalar, its value: `a string "20"`, `an integer 5`,
 * `true`, `a group`. Long strings are cut. Never use it on a secret. */
void tack_setting_describe(const config_setting_t *s, char *buf, size_t cap);

/*
 * Add a problem about s to d, at s's source file and line, with s's path.
 * With key non-NULL the problem is about s's member key (usually a missing
 * one): the path is "<path of s>.<key>" and the place is still s's.
 */
void tack_setting_report(tack_diag *d, const config_setting_t *s, const char *key, const char *fmt,
                         ...) TACK_PRINTF(4, 5);

/* An integer setting's value (int or int64). */
int64_t tack_setting_int(const config_setting_t *s);
/* A number setting's value (an integer or a float). */
double tack_setting_number(const config_setting_t *s);

/* Collects the problems a schema check finds: each at its setting's file and
 * line with its path; a setting without a source (one an override added)
 * at file, line 0. */
typedef struct tack_checker {
  tack_diag *d;
  const char *file;
  int problems;
} tack_checker;
void tack_check_problem(tack_checker *ck, const config_setting_t *s, const char *key,
                        const char *fmt, ...) TACK_PRINTF(4, 5);

/* The edit distance (insertions, deletions, substitutions and swaps of two
 * neighbours) between a and b, or limit + 1 when it exceeds limit. For
 * did-you-mean suggestions. */
int tack_edit_distance(const char *a, const char *b, int limit);

/* A setting's type as one bit, so a schema can say which types a key
 * accepts as a set (INT covers int and int64). 0 for an unknown type. */
#define TACK_SETTING_INT 0x01u
#define TACK_SETTING_FLOAT 0x02u
#define TACK_SETTING_STRING 0x04u
#define TACK_SETTING_BOOL 0x08u
#define TACK_SETTING_GROUP 0x10u
#define TACK_SETTING_ARRAY 0x20u
#define TACK_SETTING_LIST 0x40u
unsigned tack_setting_type_bit(const config_setting_t *s);

/* ------------------------------------------------------------------------ */
/* Checking a group against a schema                                         */
/* ------------------------------------------------------------------------ */

/* Collects the names a misspelt one could have meant: the closest within
 * two edits (best, NULL when none is that close), and all of them, comma
 * separated, in list (cut when long). */
typedef struct tack_suggest {
  const char *target;
  const char *best;
  int best_dist;
  size_t count;
  char list[320];
} tack_suggest;

void tack_suggest_init(tack_suggest *sg, const char *target);
/* name may be NULL (ignored). It must outlive sg (best points to it). */
void tack_suggest_add(tack_suggest *sg, const char *name);

/* One key a group of a schema accepts. */
typedef struct tack_key_spec {
  const char *name;
  unsigned types; /* TACK_SETTING_* bits */
  int required;
  const char *expect;  /* for "must be <expect>, got ..." */
  const char *example; /* a correct setting, shown when the key is missing */
} tack_key_spec;

/* Most keys one schema group may have. */
#define TACK_MAX_KEYS 24

/*
 * Check the members of group against keys (n <= TACK_MAX_KEYS): unknown
 * keys (with a did-you-mean), wrong types, missing required keys (unless a
 * misspelling of it was already reported). found[k] receives the member
 * for keys[k] when present with an accepted type, else NULL. Each problem
 * goes into d at its file and line; returns how many there were.
 */
int tack_check_keys(tack_diag *d, const config_setting_t *group, const tack_key_spec *keys,
                    size_t n, const config_setting_t **found);

#endif
