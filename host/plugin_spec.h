/*
 * plugin_spec.h: plugin specs, "NAME[:PARAMS]", the way the command-line
 * tools name a plugin and its parameters without a config file:
 *
 *     rsi                      defaults
 *     rsi:14                   positional, in the order of the plugin's
 *     macd:12,26,9             tack_param_spec array
 *     bbands:period=20,nbdevup=2.5      named
 *     bbands:20,nbdevup=2.5             both: positional values first
 *     renko:brick_size=10
 *
 * Values are typed by the parameter's spec: an integer, a plain decimal
 * number (as csv.h reads them), true or false, or any text for a string (a
 * value cannot hold a comma). The values become a libconfig params group
 * with real types, checked by tack_params_check() like a config file's, and
 * the plugin's own create and configure run on them, so a spec is refused
 * for exactly what a config would be refused for.
 *
 * Every message starts with the spec as given and names the parameter:
 *   rsi:14,x: parameter 2 ('source'): must be one of close|open|..., got "x"
 *
 * A spec owns its params group and, once started, a standalone instance
 * (no runtime: storage, timers and orders are refused, as in `tack check`).
 * Not thread-safe.
 */
#ifndef TACK_PLUGIN_SPEC_H
#define TACK_PLUGIN_SPEC_H

#include <libconfig.h>
#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "loader.h"
#include "tack.h"

typedef struct tack_plugin_spec tack_plugin_spec;

/*
 * Parse text, find its plugin in set (it must be of kind, a TACK_KIND_*),
 * build its params group and check it against the plugin's spec. No plugin
 * code runs yet. set is only read during the call; the plugin must stay
 * loaded while the spec lives. d (not NULL) receives the problems. Returns
 * 0 with *out set, or, with every problem added to d and *out NULL:
 *   TACK_EPARSE   the text is malformed: no id, an empty value, positional
 *                 values after named ones, more positional values than the
 *                 plugin has parameters, a name it does not declare, a
 *                 parameter given twice, a value not of its parameter's type
 *   TACK_ENOENT   no plugin in set has that id (similar ids are listed)
 *   TACK_ETYPE    the plugin is of another kind
 *   TACK_ECONFIG  well-formed, but the plugin's spec refuses a value (out of
 *                 range, not among the choices) or a required one is missing
 *   TACK_ENOMEM
 * tack_plugin_spec_malformed() tells the first three (a mistake in the text,
 * a usage error for a command) from the others.
 */
int tack_plugin_spec_new(const char *text, uint32_t kind, const tack_plugin_set *set, tack_diag *d,
                         tack_plugin_spec **out);

/* 1 for the codes that say the spec text itself is wrong (TACK_EPARSE,
 * TACK_ENOENT, TACK_ETYPE), else 0. */
int tack_plugin_spec_malformed(int rc);

/*
 * Make the standalone instance (create and configure, with no runtime) and
 * start it. The plugin's own refusals (a param_error from configure, a
 * failing create or start) are added to d naming the spec and the parameter,
 * and returned (TACK_ECONFIG, or the plugin's code); the spec then has no
 * instance and may be freed. TACK_ESTATE when it was already started.
 */
int tack_plugin_spec_start(tack_plugin_spec *s, tack_diag *d);

/* Stop and destroy the instance, if any, and free the spec. NULL is a no-op. */
void tack_plugin_spec_free(tack_plugin_spec *s);

/* The text as given to tack_plugin_spec_new(). */
const char *tack_plugin_spec_text(const tack_plugin_spec *s);
const tack_plugin_desc *tack_plugin_spec_desc(const tack_plugin_spec *s);
/* The params group: every value the text set, typed; defaults are not in
 * it (tack_params_* read them from the spec). Valid until free. */
const config_setting_t *tack_plugin_spec_params(const tack_plugin_spec *s);
/* A config entry for the plugin with those params, for a caller that makes
 * its own instance (tack_instance_new() with a runtime). Valid until free. */
const tack_cfg_instance *tack_plugin_spec_config(const tack_plugin_spec *s);
/* The started instance; NULL before tack_plugin_spec_start() succeeded. */
tack_ctx *tack_plugin_spec_instance(const tack_plugin_spec *s);

/* ------------------------------------------------------------------------ */
/* Running filters                                                           */
/* ------------------------------------------------------------------------ */

/*
 * Run one bar through a started filter spec. *out points to the spec's own
 * buffer of *n_out bars, valid until the next call on s. The buffer grows
 * when the filter answers TACK_ENOSPC (Renko on a big move), up to a limit
 * beyond which TACK_ENOSPC is returned. Other codes are the filter's.
 */
int tack_plugin_spec_filter(tack_plugin_spec *s, const tack_bar *in, const tack_bar **out,
                            uint32_t *n_out);

/* Receives each bar that comes out of a chain; a nonzero return stops the
 * chain and is returned by tack_plugin_spec_run_filters(). */
typedef int (*tack_plugin_spec_bar_cb)(void *data, const tack_bar *bar);

/*
 * Run bar through chain[0], each of its output bars through chain[1], and
 * so on; every bar out of the last filter goes to emit (with n 0, bar goes
 * to emit as it is). Returns 0, or the first error: a filter's (then
 * *failed is its index) or emit's (then *failed is n).
 */
int tack_plugin_spec_run_filters(tack_plugin_spec *const *chain, size_t n, const tack_bar *bar,
                                 tack_plugin_spec_bar_cb emit, void *data, size_t *failed);

/* ------------------------------------------------------------------------ */
/* Finding plugins                                                           */
/* ------------------------------------------------------------------------ */

/*
 * Load what a command-line tool may name: every folder of dirs (its
 * --plugin-dir options) in order, then TACK_PLUGIN_PATH and the default
 * folder (tack_loader_scan_defaults()), as `tack plugins` finds them. A
 * folder of dirs that cannot be read is added to warnings; files and
 * folders refused are the loader's refusals. Returns 0 or TACK_ENOMEM.
 */
int tack_plugin_spec_load(tack_loader *ld, const char *const *dirs, size_t n_dirs,
                          tack_diag *warnings);

/* Fill set with the plugins and refusals of ld; free it with
 * tack_plugin_spec_set_free() before ld. Returns 0 or TACK_ENOMEM. */
int tack_plugin_spec_set_init(tack_plugin_set *set, const tack_loader *ld);
void tack_plugin_spec_set_free(tack_plugin_set *set);

#endif
