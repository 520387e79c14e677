/*
 * plugin_1_0.c: the ABI 1.0 golden plugin. It is built against the frozen
 * tests/golden/tack-1.0.h only (tests/loader.cmake gives it no other include
 * folder), so it is what a plugin compiled against the 1.0 SDK looks like:
 * one file carrying every kind with every 1.0 field filled in. test_loader
 * asserts that the current host loads it; keep it as it is, like the header.
 */
#include "tack-1.0.h"

typedef struct golden {
  tack_ctx *ctx;
  const tack_host *host;
} golden;

static int create(tack_ctx *ctx, const tack_host *host, void **self) {
  golden *g = (golden *)host->alloc(ctx, sizeof *g);
  if (!g)
    return TACK_ENOMEM;
  g->ctx = ctx;
  g->host = host;
  *self = g;
  return 0;
}

static int configure(void *self) {
  (void)self;
  return 0;
}

static int start(void *self) {
  (void)self;
  return 0;
}

static void stop(void *self) { (void)self; }

static void destroy(void *self) {
  golden *g = (golden *)self;
  g->host->free(g->ctx, g);
}

static void reset(void *self) { (void)self; }

#define LIFECYCLE                                                                                  \
  { create, configure, start, stop, destroy }

/* Exchange */

static int caps(void *self, tack_exchange_caps *out) {
  (void)self;
  out->flags = TACK_CAP_SIMULATED;
  out->bar_timeframes[0] = 0;
  return 0;
}

static int connect_venue(void *self) {
  golden *g = (golden *)self;
  return g->host->ex_connection(g->ctx, TACK_CONN_UP, "golden");
}

static int instruments(void *self, uint64_t req) {
  golden *g = (golden *)self;
  return g->host->ex_done(g->ctx, req, 0, NULL);
}

static int subscribe(void *self, const tack_subscription *sub) {
  (void)self;
  (void)sub;
  return 0;
}

static int history(void *self, uint64_t req, const char *symbol, uint32_t timeframe_s,
                   tack_time from, tack_time to) {
  golden *g = (golden *)self;
  (void)symbol;
  (void)timeframe_s;
  (void)from;
  (void)to;
  return g->host->ex_done(g->ctx, req, 0, NULL);
}

static int submit(void *self, const tack_order_request *req) {
  (void)self;
  (void)req;
  return TACK_ENOTSUP;
}

static int cancel(void *self, const char *client_id, const char *venue_id) {
  (void)self;
  (void)client_id;
  (void)venue_id;
  return TACK_ENOENT;
}

static int reconcile(void *self, uint64_t req, tack_time since) {
  golden *g = (golden *)self;
  (void)since;
  return g->host->ex_done(g->ctx, req, 0, NULL);
}

static const tack_exchange_vtable exchange_vtable = {sizeof(tack_exchange_vtable),
                                                     0,
                                                     LIFECYCLE,
                                                     caps,
                                                     connect_venue,
                                                     instruments,
                                                     subscribe,
                                                     subscribe,
                                                     history,
                                                     submit,
                                                     cancel,
                                                     reconcile};

static const tack_param_spec exchange_params[] = {{"api_key", TACK_PARAM_STRING,
                                                   TACK_PARAM_REQUIRED | TACK_PARAM_SECRET, 0, 0, 0,
                                                   NULL, NULL, "API key"},
                                                  {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

static const tack_plugin_desc exchange_desc = {
    sizeof(tack_plugin_desc), TACK_KIND_EXCHANGE, "golden_exchange", "Golden exchange", "1.0.0",
    "ABI 1.0 exchange.",      exchange_params,    &exchange_vtable};

/* Filter */

static int filter_update(void *self, const tack_bar *in, tack_bar *out, uint32_t cap,
                         uint32_t *n_out) {
  (void)self;
  if (cap < 1)
    return TACK_ENOSPC;
  out[0] = *in;
  *n_out = 1;
  return 0;
}

static const tack_filter_vtable filter_vtable = {sizeof(tack_filter_vtable), 0, LIFECYCLE,
                                                 filter_update, reset};

static const tack_plugin_desc filter_desc = {sizeof(tack_plugin_desc),
                                             TACK_KIND_FILTER,
                                             "golden_filter",
                                             "Golden filter",
                                             "1.0.0",
                                             "ABI 1.0 filter.",
                                             NULL,
                                             &filter_vtable};

/* Indicator */

static const tack_output_spec outputs[] = {{"value", "the close"}, {NULL, NULL}};

static int lookback(void *self) {
  (void)self;
  return 0;
}

static int indicator_update(void *self, const tack_bar *bar, double *out) {
  (void)self;
  out[0] = bar->close;
  return 1;
}

static const tack_indicator_vtable indicator_vtable = {
    sizeof(tack_indicator_vtable), 0, LIFECYCLE, outputs, lookback, indicator_update, reset};

static const tack_param_spec indicator_params[] = {
    {"period", TACK_PARAM_INT, 0, 1, 500, 10, NULL, NULL, "bars"},
    {"source", TACK_PARAM_STRING, 0, 0, 0, 0, "close", "open|high|low|close", "price used"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

static const tack_plugin_desc indicator_desc = {
    sizeof(tack_plugin_desc), TACK_KIND_INDICATOR, "golden_indicator", "Golden indicator", "1.0.0",
    "ABI 1.0 indicator.",     indicator_params,    &indicator_vtable};

/* Scorer */

static int score(void *self, const double *features, uint32_t n, tack_signal *out) {
  (void)self;
  (void)features;
  (void)n;
  out->strength = 0;
  out->confidence = 0;
  return 0;
}

static int train(void *self, const tack_dataset *train_set, const tack_dataset *valid) {
  (void)self;
  (void)train_set;
  (void)valid;
  return TACK_ENOTSUP;
}

static const tack_scorer_vtable scorer_vtable = {sizeof(tack_scorer_vtable), 0, LIFECYCLE, score,
                                                 train};

static const tack_plugin_desc scorer_desc = {sizeof(tack_plugin_desc),
                                             TACK_KIND_SCORER,
                                             "golden_scorer",
                                             "Golden scorer",
                                             "1.0.0",
                                             "ABI 1.0 scorer.",
                                             NULL,
                                             &scorer_vtable};

/* Strategy */

static int on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  (void)self;
  out->ts = bar->ts;
  out->strength = 0;
  out->confidence = 1;
  tack_copy_text(out->reason, sizeof out->reason, "flat");
  return 1;
}

static void on_position(void *self, const tack_position *pos) {
  (void)self;
  (void)pos;
}

static void on_fill(void *self, const tack_fill *fill) {
  (void)self;
  (void)fill;
}

static const tack_strategy_vtable strategy_vtable = {
    sizeof(tack_strategy_vtable), 0, LIFECYCLE, on_bar, on_position, on_fill};

static const tack_param_spec strategy_params[] = {
    {"threshold", TACK_PARAM_DOUBLE, 0, -1, 1, 0.25, NULL, NULL, "signal threshold"},
    {"enabled", TACK_PARAM_BOOL, 0, 0, 0, 1, NULL, NULL, "trade at all"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

static const tack_plugin_desc strategy_desc = {
    sizeof(tack_plugin_desc), TACK_KIND_STRATEGY, "golden_strategy", "Golden strategy", "1.0.0",
    "ABI 1.0 strategy.",      strategy_params,    &strategy_vtable};

TACK_PLUGINS(&exchange_desc, &filter_desc, &indicator_desc, &scorer_desc, &strategy_desc);
