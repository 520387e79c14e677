/*
 * instance.h: one live plugin instance (the host side of a tack_ctx) and the
 * host services table plugins call.
 *
 * An instance is made from a config entry: tack_instance_new() runs the
 * plugin's create and configure; problems (a failing create, a param_error
 * from configure) are added to a diag with the config file and line. Then
 * start, callbacks, stop, and tack_instance_free() (destroy). Services that
 * need a running host (timers, storage, orders) return TACK_ESTATE when the
 * instance was made without a runtime (as `tack check` does).
 */
#ifndef TACK_INSTANCE_H
#define TACK_INSTANCE_H

#include "alloc.h"
#include "config.h"
#include "diag.h"
#include "tack.h"

struct tack_runtime; /* runtime.h; NULL for instances that only validate */

/* create + configure. On failure returns the plugin's (or the host's) code,
 * with a message in d, and *out NULL; destroy has then already run. */
int tack_instance_new(const tack_cfg_instance *ci, struct tack_runtime *rt, tack_diag *d,
                      tack_ctx **out);
int tack_instance_start(tack_ctx *ctx);
void tack_instance_stop(tack_ctx *ctx);
/* stop (if started) + destroy; logs a warning for memory the plugin leaked. */
void tack_instance_free(tack_ctx *ctx);

void *tack_instance_self(const tack_ctx *ctx);
const tack_cfg_instance *tack_instance_config(const tack_ctx *ctx);
const tack_plugin_desc *tack_instance_desc(const tack_ctx *ctx);
const tack_alloc_acct *tack_instance_memory(const tack_ctx *ctx);
/* "<section>.<name>", for logs. */
const char *tack_instance_name(const tack_ctx *ctx);

/* The services table every instance gets. */
extern const tack_host tack_host_services;

#endif
