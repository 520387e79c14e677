/*
 * header_c.c: tack.h as a C11 plugin author meets it. The sdk_header_c11
 * test compiles this file alone with -std=c11 -Wall -Wextra -Wpedantic
 * -Werror: tack.h comes first, so it must include all it needs; every kind
 * of vtable is filled in and TACK_PLUGINS() is expanded, so every macro a
 * plugin uses must expand cleanly. The asserts pin what the ABI freezes.
 */
#include "tack.h"

/* The value types that cross the boundary: fixed for ABI major 1. */
_Static_assert(sizeof(tack_bar) == 56, "tack_bar");
_Static_assert(sizeof(tack_trade) == 96, "tack_trade");
_Static_assert(sizeof(tack_quote) == 48, "tack_quote");
_Static_assert(sizeof(tack_book_level) == 24, "tack_book_level");
_Static_assert(sizeof(tack_order_request) == 200, "tack_order_request");
_Static_assert(sizeof(tack_order_update) == 328, "tack_order_update");
_Static_assert(sizeof(tack_fill) == 312, "tack_fill");
_Static_assert(sizeof(tack_balance) == 48, "tack_balance");
_Static_assert(sizeof(tack_position) == 112, "tack_position");
_Static_assert(sizeof(tack_signal) == 88, "tack_signal");
_Static_assert(sizeof(tack_instrument) == 176, "tack_instrument");
_Static_assert(sizeof(tack_subscription) == 80, "tack_subscription");
_Static_assert(sizeof(tack_time) == 8, "tack_time");

/* The entry's first four fields keep their place in every ABI major: the
 * loader reads them to explain a mismatch before trusting anything else. */
_Static_assert(offsetof(tack_plugin_list, magic) == 0, "magic");
_Static_assert(offsetof(tack_plugin_list, size) == 4, "size");
_Static_assert(offsetof(tack_plugin_list, abi_major) == 8, "abi_major");
_Static_assert(offsetof(tack_plugin_list, abi_minor) == 10, "abi_minor");

/* Every size-prefixed struct starts with its size. */
_Static_assert(offsetof(tack_host, size) == 0, "tack_host.size");
_Static_assert(offsetof(tack_plugin_desc, size) == 0, "tack_plugin_desc.size");
_Static_assert(offsetof(tack_exchange_vtable, size) == 0, "exchange vtable");
_Static_assert(offsetof(tack_filter_vtable, size) == 0, "filter vtable");
_Static_assert(offsetof(tack_indicator_vtable, size) == 0, "indicator vtable");
_Static_assert(offsetof(tack_scorer_vtable, size) == 0, "scorer vtable");
_Static_assert(offsetof(tack_strategy_vtable, size) == 0, "strategy vtable");
_Static_assert(offsetof(tack_exchange_caps, size) == 0, "caps");
_Static_assert(offsetof(tack_ext_loop, size) == 0, "loop extension");

/* "TACK" in memory on a little-endian machine. */
_Static_assert(TACK_MAGIC ==
                   ((uint32_t)'T' | (uint32_t)'A' << 8 | (uint32_t)'C' << 16 | (uint32_t)'K' << 24),
               "magic spells TACK");

/* The fingerprint is a constant expression (usable in static data). */
_Static_assert(TACK_LAYOUT_FINGERPRINT != 0, "fingerprint");

/* Our error codes stay in their band, clear of libuv's and LMDB's. */
#define CHECK_BAND(name, value, msg)                                                               \
  _Static_assert((value) <= -20000 && (value) > -21000, "TACK_" #name " outside its band");
TACK_ERRNO_MAP(CHECK_BAND)
#undef CHECK_BAND

static int t_create(tack_ctx *ctx, const tack_host *host, void **self) {
  *self = host->alloc(ctx, 1);
  return *self ? 0 : TACK_ENOMEM;
}
static int t_configure(void *self) { return self ? 0 : TACK_EINVAL; }
static int t_start(void *self) { return self ? 0 : TACK_EINVAL; }
static void t_stop(void *self) { (void)self; }
static void t_destroy(void *self) { (void)self; }

static int f_update(void *self, const tack_bar *in, tack_bar *out, uint32_t cap, uint32_t *n) {
  (void)self;
  if (cap < 1)
    return TACK_ENOSPC;
  out[0] = *in;
  *n = 1;
  return 0;
}
static void any_reset(void *self) { (void)self; }

static int i_lookback(void *self) { return self ? 0 : -1; }
static int i_update(void *self, const tack_bar *bar, double *out) {
  (void)self;
  out[0] = bar->close;
  return 1;
}

static int s_score(void *self, const double *x, uint32_t n, tack_signal *out) {
  (void)self;
  out->strength = n ? x[0] : 0.0;
  return 0;
}
static int s_train(void *self, const tack_dataset *train, const tack_dataset *valid) {
  (void)self;
  return train->rows && valid->rows ? 0 : TACK_EINVAL;
}

static int g_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  (void)self;
  out->ts = bar->ts;
  out->strength = 0.0;
  out->confidence = 0.0;
  tack_copy_text(out->reason, sizeof out->reason, tack_strerror(TACK_ENOTSUP));
  return 1;
}
static void g_on_position(void *self, const tack_position *pos) { (void)self, (void)pos; }
static void g_on_fill(void *self, const tack_fill *fill) { (void)self, (void)fill; }

static int x_caps(void *self, tack_exchange_caps *out) {
  (void)self;
  out->flags = TACK_CAP_SIMULATED;
  return 0;
}
static int x_connect(void *self) { return self ? 0 : TACK_EINVAL; }
static int x_req(void *self, uint64_t req) { return self && req ? 0 : TACK_EINVAL; }
static int x_sub(void *self, const tack_subscription *sub) { return self && sub ? 0 : TACK_EINVAL; }
static int x_history(void *self, uint64_t req, const char *symbol, uint32_t timeframe_s,
                     tack_time from, tack_time to) {
  (void)self, (void)req, (void)symbol, (void)timeframe_s;
  return from < to ? 0 : TACK_EINVAL;
}
static int x_submit(void *self, const tack_order_request *req) {
  return self && req ? 0 : TACK_EINVAL;
}
static int x_cancel(void *self, const char *client_id, const char *venue_id) {
  (void)self, (void)venue_id;
  return client_id ? 0 : TACK_EINVAL;
}
static int x_reconcile(void *self, uint64_t req, tack_time since) {
  (void)self, (void)req;
  return since >= 0 ? 0 : TACK_EINVAL;
}

#define LIFE                                                                                       \
  { t_create, t_configure, t_start, t_stop, t_destroy }

static const tack_param_spec params[] = {
    {.name = "n", .type = TACK_PARAM_INT, .min = 1, .max = 10, .def = 2, .help = "n"},
    {.name = "secret", .type = TACK_PARAM_STRING, .flags = TACK_PARAM_SECRET, .help = "key"},
    {.name = NULL},
};
static const tack_output_spec outputs[] = {{"value", "the close"}, {NULL, NULL}};

static const tack_filter_vtable filter_vt = {sizeof filter_vt, 0, LIFE, f_update, any_reset};
static const tack_indicator_vtable indicator_vt = {sizeof indicator_vt, 0,        LIFE,     outputs,
                                                   i_lookback,          i_update, any_reset};
static const tack_scorer_vtable scorer_vt = {sizeof scorer_vt, 0, LIFE, s_score, s_train};
static const tack_strategy_vtable strategy_vt = {sizeof strategy_vt, 0,        LIFE, g_on_bar,
                                                 g_on_position,      g_on_fill};
static const tack_exchange_vtable exchange_vt = {
    sizeof exchange_vt, 0,        LIFE,     x_caps,     x_connect, x_req, x_sub, x_sub,
    x_history,          x_submit, x_cancel, x_reconcile};

#define DESC(var, kind, id, vt)                                                                    \
  static const tack_plugin_desc var = {                                                            \
      sizeof(tack_plugin_desc), kind, id, id, "1.0.0", id, params, &vt}
DESC(filter_desc, TACK_KIND_FILTER, "c.filter", filter_vt);
DESC(indicator_desc, TACK_KIND_INDICATOR, "c.indicator", indicator_vt);
DESC(scorer_desc, TACK_KIND_SCORER, "c.scorer", scorer_vt);
DESC(strategy_desc, TACK_KIND_STRATEGY, "c.strategy", strategy_vt);
DESC(exchange_desc, TACK_KIND_EXCHANGE, "c.exchange", exchange_vt);

TACK_PLUGINS(&filter_desc, &indicator_desc, &scorer_desc, &strategy_desc, &exchange_desc);
