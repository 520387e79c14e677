/*
 * params.h: plugin parameters. A plugin declares its parameters as a
 * tack_param_spec array; its config group `params = { ... }` is checked
 * against that spec here before any plugin code runs, and read from here
 * when the plugin asks through tack_host.param_*.
 */
#ifndef TACK_PARAMS_H
#define TACK_PARAMS_H

#include <libconfig.h>

#include "diag.h"
#include "tack.h"

/*
 * Check a params group against a plugin's spec: unknown keys, wrong types
 * (an int is accepted where a double is declared), out-of-range numbers,
 * strings not among the choices, missing required parameters. Every problem
 * is added to d with the file, line and the setting's path, naming the plugin.
 * params may be NULL (no group given). Returns 0 or TACK_ECONFIG.
 */
int tack_params_check(const tack_plugin_desc *desc, const config_setting_t *params, tack_diag *d);

/* Read a declared parameter; the declared default when absent from params.
 * TACK_ENOENT when key is not declared, TACK_ETYPE for another type. */
int tack_params_int(const tack_plugin_desc *desc, const config_setting_t *params, const char *key,
                    int64_t *out);
int tack_params_double(const tack_plugin_desc *desc, const config_setting_t *params,
                       const char *key, double *out);
int tack_params_bool(const tack_plugin_desc *desc, const config_setting_t *params, const char *key,
                     int *out);
/* The string lives as long as the config (or the static spec default). */
int tack_params_string(const tack_plugin_desc *desc, const config_setting_t *params,
                       const char *key, const char **out);

/* The spec entry for key, NULL when not declared. */
const tack_param_spec *tack_params_find(const tack_plugin_desc *desc, const char *key);

/* Print the effective values of every parameter, "fast=12, slow=26";
 * secret values print as "***". */
void tack_params_print_values(const tack_plugin_desc *desc, const config_setting_t *params,
                              FILE *out);

#endif
