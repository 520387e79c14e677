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

/* ------------------------------------------------------------------------ */
/* Calls the runtime makes on instances                                     */
/* ------------------------------------------------------------------------ */

/* Like tack_instance_new(), for an instance serving one symbol: it is named
 * "<section>.<name>@<scope>" in logs, and its storage namespace is the
 * instance name "<name>@<scope>", so two symbols never share state. */
int tack_instance_new_scoped(const tack_cfg_instance *ci, const char *scope,
                             struct tack_runtime *rt, tack_diag *d, tack_ctx **out);

/* 1 between a successful start and stop. */
int tack_instance_started(const tack_ctx *ctx);

/* The runtime's own pointer for an instance (its pipeline slot), NULL when
 * none was set. */
void tack_instance_set_route(tack_ctx *ctx, void *route);
void *tack_instance_route(const tack_ctx *ctx);

/* tack_instance_free(), handing back the memory account as it was after
 * destroy: live_bytes then counts what the plugin leaked. */
void tack_instance_free_acct(tack_ctx *ctx, tack_alloc_acct *final);

/*
 * The kind callbacks. Each returns TACK_EINVAL for an instance of another
 * kind and TACK_ESTATE (logged) outside the state the SDK allows: caps after
 * configure, the others between start and stop.
 */
int tack_instance_filter_update(tack_ctx *ctx, const tack_bar *in, tack_bar *out, uint32_t cap,
                                uint32_t *n_out);
/* Returns 1 when out[0 .. number of output columns) holds values, 0 while the
 * indicator warms up (out untouched), or a TACK_E* code. */
int tack_instance_indicator_update(tack_ctx *ctx, const tack_bar *bar, double *out);
int tack_instance_strategy_on_bar(tack_ctx *ctx, const tack_bar *bar, tack_signal *out);
int tack_instance_exchange_caps(tack_ctx *ctx, tack_exchange_caps *out);
int tack_instance_exchange_connect(tack_ctx *ctx);
int tack_instance_exchange_subscribe(tack_ctx *ctx, const tack_subscription *sub);
/* The trading engine's venue requests (tack_exchange_vtable); TACK_ESTATE
 * unless the exchange is started. */
int tack_instance_exchange_instruments(tack_ctx *ctx, uint64_t req);
int tack_instance_exchange_submit(tack_ctx *ctx, const tack_order_request *req);
int tack_instance_exchange_cancel(tack_ctx *ctx, const char *client_id, const char *venue_id);
int tack_instance_exchange_reconcile(tack_ctx *ctx, uint64_t req, tack_time since);

/* An indicator's output columns, NULL-name terminated (the loader checked
 * that there is at least one); NULL for an instance of another kind. Static
 * data of the plugin: valid while it is loaded. */
const tack_output_spec *tack_instance_indicator_outputs(const tack_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* The plugin registry and what the indicator service needs                 */
/* ------------------------------------------------------------------------ */

/*
 * The plugins instances may open for their own use: host->ind_open finds
 * indicator plugins by id here. One per process, set by every command that
 * makes instances, once its loader has scanned (NULL, the default, makes
 * ind_open fail with TACK_ENOENT). ld must outlive every instance made, and
 * every indicator opened, while it is set: set NULL before freeing a loader
 * that instances might still use. Loop thread only.
 */
void tack_instance_set_registry(const tack_loader *ld);
const tack_loader *tack_instance_registry(void);

/* The head of the list of indicators ctx opened (indicator_service.c owns
 * the elements; the list is closed when ctx is freed, after destroy). */
struct tack_ind_child;
struct tack_ind_child **tack_instance_ind_children(tack_ctx *ctx);

/* 0 while ctx is in create, configure or start; otherwise logs "<call>
 * called while the instance is <state>" and returns TACK_ESTATE. */
int tack_instance_setting_up(tack_ctx *ctx, const char *call);

/* A problem with what ctx asked of the host. While ctx is created or
 * configured it is added to the diag of tack_instance_new() at the
 * instance's config file and line (the instance then fails with
 * TACK_ECONFIG, as after a param_error); otherwise it is logged as an error
 * tagged with the instance's name. */
void tack_instance_problem(tack_ctx *ctx, const char *fmt, ...) TACK_PRINTF(2, 3);

/* The services table every instance gets. */
extern const tack_host tack_host_services;

#endif
