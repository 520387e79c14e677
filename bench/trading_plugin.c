/*
 * trading_plugin.c: the plugin side of bench_trading, two plugins in one
 * shared object that share a record (trading_record.h) with the benchmark:
 *
 *   bench.venue  an exchange that does as little as a venue can: one host
 *                timer step at a time (zero delay), it answers the requests
 *                that came in (instruments: the one symbol it lists;
 *                reconcile: a large quote balance), fills every order
 *                submitted since the last step in full at the last close
 *                (an order update FILLED, then the fill), then sends the
 *                next closed one-minute bar of a flat price pattern, and
 *                after the last one TACK_CONN_EOF. It takes the time before
 *                each ex_bar() and on entering submit().
 *   bench.flip   a strategy that signals +1 on even bars and -1 on odd ones,
 *                so that a trader sends an order on every bar (buy, then
 *                close), and takes the time just before returning it.
 *   bench.hold   the same with +1 on every bar: the trader builds its
 *                position on the first bars and then holds it, sending
 *                nothing (a backtest's steady state).
 *
 * Pairing a bar's signal time with its submit time gives the host's path
 * from a signal to an order; the bar's send time with its signal time the
 * path from the venue to a strategy (the baseline).
 */
#include <stdio.h>
#include <string.h>

#include "tack.h"
#include "trading_record.h"

TACK_EXPORT bench_trading_record bench_trading_times;

#define VENUE_MAX_ORDERS 16

/* The bar index of a bar's time; -1 outside the record. */
static int64_t bar_index(tack_time ts) {
  int64_t s = ts / TACK_NS_PER_SEC - BENCH_TRADING_START_S;
  if (s < 0 || s % BENCH_TRADING_TF_S != 0)
    return -1;
  int64_t i = s / BENCH_TRADING_TF_S;
  return (size_t)i < bench_trading_times.cap ? i : -1;
}

/* ------------------------------------------------------------------------ */
/* bench.venue                                                               */
/* ------------------------------------------------------------------------ */

typedef struct venue_order {
  char client_id[TACK_ORDER_ID_MAX];
  uint32_t side, type;
  double quantity;
} venue_order;

typedef struct venue {
  tack_ctx *ctx;
  const tack_host *host;
  const char *symbol;
  int64_t bars, sent;
  int subscribed, eof;
  uint64_t req_instruments, req_reconcile; /* 0: none waiting */
  venue_order orders[VENUE_MAX_ORDERS];
  int n_orders;
  uint64_t seq;
  int64_t current; /* index of the bar being delivered, -1 between bars */
  double last;
  uint64_t timer;
  int armed;
} venue;

static int venue_create(tack_ctx *ctx, const tack_host *host, void **self) {
  venue *v = host->alloc(ctx, sizeof *v);
  if (!v)
    return TACK_ENOMEM;
  memset(v, 0, sizeof *v);
  v->ctx = ctx;
  v->host = host;
  v->current = -1;
  *self = v;
  return 0;
}

static int venue_configure(void *self) {
  venue *v = self;
  int rc = v->host->param_int(v->ctx, "bars", &v->bars);
  return rc < 0 ? rc : v->host->param_string(v->ctx, "symbol", &v->symbol);
}

static void venue_stop(void *self) {
  venue *v = self;
  if (v->armed)
    v->host->timer_stop(v->ctx, v->timer);
  v->armed = 0;
  v->host->ex_connection(v->ctx, TACK_CONN_DOWN, "stopped");
}

static void venue_destroy(void *self) {
  venue *v = self;
  v->host->free(v->ctx, v);
}

static int venue_caps(void *self, tack_exchange_caps *out) {
  (void)self;
  out->flags = TACK_CAP_SIMULATED;
  memset(out->bar_timeframes, 0, sizeof out->bar_timeframes);
  out->bar_timeframes[0] = BENCH_TRADING_TF_S;
  return 0;
}

static void venue_step(void *user, uint64_t timer_id);

static int arm(venue *v) {
  if (v->armed)
    return 0;
  int rc = v->host->timer_start(v->ctx, 0, 0, venue_step, v, &v->timer);
  v->armed = rc == 0;
  return rc;
}

static int venue_connect(void *self) {
  venue *v = self;
  v->host->ex_connection(v->ctx, TACK_CONN_CONNECTING, NULL);
  v->host->ex_connection(v->ctx, TACK_CONN_UP, "bench venue ready");
  return 0;
}

static int venue_instruments(void *self, uint64_t req) {
  venue *v = self;
  v->req_instruments = req;
  return arm(v);
}

static int venue_reconcile(void *self, uint64_t req, tack_time since) {
  venue *v = self;
  (void)since;
  v->req_reconcile = req;
  return arm(v);
}

static int venue_subscribe(void *self, const tack_subscription *sub) {
  venue *v = self;
  if (sub->channel != TACK_SUB_BARS || sub->timeframe_s != BENCH_TRADING_TF_S ||
      strcmp(sub->symbol, v->symbol) != 0 || v->subscribed)
    return TACK_ENOTSUP;
  v->subscribed = 1;
  return arm(v);
}

static int venue_submit(void *self, const tack_order_request *req) {
  int64_t now = bench_trading_now();
  venue *v = self;
  bench_trading_record *r = &bench_trading_times;
  r->submits++;
  if (v->current >= 0 && r->submit[v->current] == 0)
    r->submit[v->current] = now;
  if (v->n_orders == VENUE_MAX_ORDERS || strcmp(req->symbol, v->symbol) != 0 ||
      !(req->quantity > 0))
    return TACK_EINVAL;
  venue_order *o = &v->orders[v->n_orders++];
  tack_copy_text(o->client_id, sizeof o->client_id, req->client_id);
  o->side = req->side;
  o->type = req->type;
  o->quantity = req->quantity;
  return arm(v);
}

static int venue_cancel(void *self, const char *client_id, const char *venue_id) {
  (void)self;
  (void)client_id;
  (void)venue_id;
  return TACK_ENOENT; /* every order is filled at the next step */
}

static void answer(venue *v, tack_time clock) {
  if (v->req_instruments) {
    tack_instrument in;
    memset(&in, 0, sizeof in);
    tack_copy_text(in.symbol, sizeof in.symbol, v->symbol);
    tack_copy_text(in.base, sizeof in.base, "BTC");
    tack_copy_text(in.quote, sizeof in.quote, "USD");
    tack_copy_text(in.settle, sizeof in.settle, "USD");
    in.type = TACK_INSTR_SPOT;
    in.flags = TACK_INSTR_TRADING;
    in.price_increment = 0.01;
    in.size_increment = 0.00001;
    in.min_size = 0.00001;
    in.contract_size = 1;
    uint64_t req = v->req_instruments;
    v->req_instruments = 0;
    v->host->ex_instrument(v->ctx, &in);
    v->host->ex_done(v->ctx, req, 0, NULL);
  }
  if (v->req_reconcile) {
    tack_balance b = {"USD", clock, 1e9, 1e9, 0};
    uint64_t req = v->req_reconcile;
    v->req_reconcile = 0;
    v->host->ex_balance(v->ctx, &b);
    v->host->ex_done(v->ctx, req, 0, NULL);
  }
}

static void fill_orders(venue *v, tack_time clock) {
  int n = v->n_orders;
  venue_order batch[VENUE_MAX_ORDERS];
  memcpy(batch, v->orders, (size_t)n * sizeof batch[0]);
  v->n_orders = 0; /* orders sent from inside the callbacks wait for the next step */
  for (int i = 0; i < n; i++) {
    const venue_order *o = &batch[i];
    tack_order_update u;
    tack_fill f;
    v->seq++;
    memset(&u, 0, sizeof u);
    tack_copy_text(u.client_id, sizeof u.client_id, o->client_id);
    snprintf(u.venue_id, sizeof u.venue_id, "B%llu", (unsigned long long)v->seq);
    tack_copy_text(u.symbol, sizeof u.symbol, v->symbol);
    u.ts = clock;
    u.status = TACK_STATUS_FILLED;
    u.side = o->side;
    u.type = o->type;
    u.quantity = o->quantity;
    u.filled = o->quantity;
    u.avg_price = v->last;
    memset(&f, 0, sizeof f);
    tack_copy_text(f.client_id, sizeof f.client_id, o->client_id);
    tack_copy_text(f.venue_order_id, sizeof f.venue_order_id, u.venue_id);
    snprintf(f.trade_id, sizeof f.trade_id, "BT%llu", (unsigned long long)v->seq);
    tack_copy_text(f.symbol, sizeof f.symbol, v->symbol);
    f.ts = clock;
    f.side = o->side;
    f.liquidity = TACK_LIQ_TAKER;
    f.price = v->last;
    f.quantity = o->quantity;
    tack_copy_text(f.fee_currency, sizeof f.fee_currency, "USD");
    v->host->ex_order_update(v->ctx, &u);
    v->host->ex_fill(v->ctx, &f);
    bench_trading_times.fills++;
  }
}

/* Bar n: closes on a flat pattern around 100, on the 0.01 tick. */
static tack_bar make_bar(int64_t n) {
  static const double steps[7] = {0, 3, 6, 2, 5, 1, 4};
  double close = 100.0 + steps[n % 7] / 100.0;
  tack_bar bar = {(BENCH_TRADING_START_S + n * BENCH_TRADING_TF_S) * TACK_NS_PER_SEC,
                  100.0,
                  100.1,
                  99.9,
                  close,
                  10.0,
                  BENCH_TRADING_TF_S,
                  TACK_BAR_CLOSED};
  return bar;
}

static void venue_step(void *user, uint64_t timer_id) {
  venue *v = user;
  (void)timer_id;
  v->armed = 0;
  tack_time clock = (BENCH_TRADING_START_S + v->sent * BENCH_TRADING_TF_S) * TACK_NS_PER_SEC;
  answer(v, clock);
  fill_orders(v, clock);
  if (v->subscribed && v->sent < v->bars) {
    int64_t n = v->sent++;
    tack_bar bar = make_bar(n);
    int64_t i = bar_index(bar.ts);
    v->last = bar.close;
    v->current = i;
    if (i >= 0)
      bench_trading_times.sent[i] = bench_trading_now();
    v->host->ex_bar(v->ctx, v->symbol, &bar);
    v->current = -1;
    if (v->sent == v->bars && !v->eof) {
      v->eof = 1;
      v->host->ex_connection(v->ctx, TACK_CONN_EOF, "the bench venue sent its last bar");
    }
  }
  if (v->n_orders || v->req_instruments || v->req_reconcile || (v->subscribed && v->sent < v->bars))
    arm(v);
}

static const tack_param_spec venue_params[] = {
    {"bars", TACK_PARAM_INT, 0, 1, 1e9, 1000, NULL, NULL, "bars to send"},
    {"symbol", TACK_PARAM_STRING, 0, 0, 0, 0, "BTC-USD", NULL, "the one instrument listed"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

static const tack_exchange_vtable venue_vtable = {
    sizeof(tack_exchange_vtable),
    0,
    {venue_create, venue_configure, NULL, venue_stop, venue_destroy},
    venue_caps,
    venue_connect,
    venue_instruments,
    venue_subscribe,
    NULL,
    NULL,
    venue_submit,
    venue_cancel,
    venue_reconcile};

static const tack_plugin_desc venue_desc = {
    sizeof(tack_plugin_desc),
    TACK_KIND_EXCHANGE,
    "bench.venue",
    "Trading benchmark venue",
    "1.0.0",
    "Streams bars as fast as the loop runs and fills every order at the next step.",
    venue_params,
    &venue_vtable};

/* ------------------------------------------------------------------------ */
/* bench.flip                                                                */
/* ------------------------------------------------------------------------ */

static int flip_create(tack_ctx *ctx, const tack_host *host, void **self) {
  (void)ctx;
  (void)host;
  static int instance;
  *self = &instance;
  return 0;
}

static void flip_destroy(void *self) { (void)self; }

/* Signal strength on bar n: alternating, or always +1 for hold. */
static int signal_on_bar(const tack_bar *bar, int hold, tack_signal *out) {
  int64_t n = (bar->ts / TACK_NS_PER_SEC - BENCH_TRADING_START_S) / BENCH_TRADING_TF_S;
  int64_t i = bar_index(bar->ts);
  out->ts = bar->ts;
  out->strength = hold || n % 2 == 0 ? 1.0 : -1.0;
  out->confidence = 1.0;
  bench_trading_times.signals++;
  if (i >= 0)
    bench_trading_times.signal[i] = bench_trading_now();
  return 1;
}

static int flip_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  (void)self;
  return signal_on_bar(bar, 0, out);
}

static int hold_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  (void)self;
  return signal_on_bar(bar, 1, out);
}

static const tack_strategy_vtable flip_vtable = {sizeof(tack_strategy_vtable),
                                                 0,
                                                 {flip_create, NULL, NULL, NULL, flip_destroy},
                                                 flip_on_bar,
                                                 NULL,
                                                 NULL};

static const tack_plugin_desc flip_desc = {sizeof(tack_plugin_desc),
                                           TACK_KIND_STRATEGY,
                                           "bench.flip",
                                           "Trading benchmark strategy",
                                           "1.0.0",
                                           "Signals +1 on even bars, -1 on odd ones.",
                                           NULL,
                                           &flip_vtable};

static const tack_strategy_vtable hold_vtable = {sizeof(tack_strategy_vtable),
                                                 0,
                                                 {flip_create, NULL, NULL, NULL, flip_destroy},
                                                 hold_on_bar,
                                                 NULL,
                                                 NULL};

static const tack_plugin_desc hold_desc = {sizeof(tack_plugin_desc),
                                           TACK_KIND_STRATEGY,
                                           "bench.hold",
                                           "Trading benchmark strategy, steady",
                                           "1.0.0",
                                           "Signals +1 on every bar.",
                                           NULL,
                                           &hold_vtable};

TACK_PLUGINS(&venue_desc, &flip_desc, &hold_desc);
