/*
 * test_paper.c: the paper venue (exchanges/paper, docs/paper.md), loaded
 * from <build>/plugins/paper.so and driven through a mock host
 * (paper_mock_host.h) whose timers the tests pump by hand. Covered: caps and
 * instruments; replay of bars and trades from fixture files, of real data
 * from $TACK_SHARED_DIR/data, and of the random walk; bad files; the fill
 * rules of market, limit, stop and stop-limit orders (gaps, no fill on a
 * touch, stop-limits that rest); participation, IOC and FOK; fees; each
 * slippage model; order and feed latency; spot funds; shorts; idempotent
 * client ids; cancel; GTD and DAY expiry; fault injection; exact cash against an independent
 * sum and the host's ledger; reconcile; persistence across a restart, and
 * refusal of a mismatched or damaged state; determinism; failing
 * allocations. The store source, over a real store (host/candles.c) behind
 * the mock's candle services: the same events as the files it came from,
 * window refills over many short pages with flat memory, from and to on
 * every source, a restart that resumes at the right candle without paging
 * back, the errors of a missing series, an empty range, unusable candles
 * and no store; and batched steps giving, bit for bit, the events of one
 * step per tick.
 */
#include <dlfcn.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "candles.h"
#include "diag.h"
#include "ledger.h"
#include "paper_mock_host.h"
#include "rounding.h"
#include "store.h"

#define BUY TACK_SIDE_BUY
#define SELL TACK_SIDE_SELL
#define MKT TACK_ORDER_MARKET
#define LMT TACK_ORDER_LIMIT
#define STP TACK_ORDER_STOP
#define STL TACK_ORDER_STOP_LIMIT
#define T0 INT64_C(1704067200)

static const tack_plugin_desc *paper_desc;
static const tack_exchange_vtable *vt;
static char tmp_dir[512];
static char bars_path[600], ticks_path[600], folder_path[600];

/* The host's store for the store source: BTC-USD and ETH-USD at 60 s (the
 * fixture files' bars), SOL-USD at 60 s (BIG_BARS bars, also written to
 * big_path) and at 1 s (SECOND_BARS bars). */
#define BIG_BARS 12000
#define SECOND_BARS 6000
static tack_store *store;
static tack_candles *candles;
static tack_bar big[BIG_BARS];
static char big_path[600];

/* Ten one-minute bars; bar 5 gaps down, bar 8 has no volume. */
static const char bars_csv[] = "ts,open,high,low,close,volume\n"
                               "1704067200,100,101,99,100.5,10\n"
                               "1704067260,100.5,102,100,101,10\n"
                               "1704067320,101,103,100.5,102,10\n"
                               "1704067380,102,102.5,98,99,10\n"
                               "1704067440,99,100,97,98,10\n"
                               "1704067500,95,96,94,95.5,10\n"
                               "1704067560,95.5,97,95,96,10\n"
                               "1704067620,96,99,95.5,98,10\n"
                               "1704067680,98,98,98,98,0\n"
                               "1704067740,98,100,97.5,99,10\n";

static const char eth_csv[] = "ts,open,high,low,close,volume\r\n"
                              "1704067200,10,11,9,10.5,100\r\n"
                              "1704067260,10.5,12,10,11,100\r\n"
                              "1704067320,11,13,10.5,12,100\r\n";

static const char ticks_csv[] = "ts,price,size,side\n"
                                "1704067200.5,100,1,buy\n"
                                "1704067201.25,100.5,2,sell\n"
                                "1704067201.25,100.4,1,sell\n"
                                "1704067202,100.2,0.5,buy\n"
                                "1704067203.123456789,99.9,3,sell\n"
                                "1704067204,101,1,\n";

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_int_equal(fputs(text, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
}

static const char *tmp_file(const char *name, const char *text) {
  static char path[700];
  snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
  write_text(path, text);
  return path;
}

typedef struct venue {
  tack_ctx *ctx;
  void *self;
  int created, started;
} venue;

/* create, configure, start; the first failing code (the context stays for
 * the test to read; venue_close frees it). */
static int venue_open(venue *v, const char *const *params, mock_store *store) {
  memset(v, 0, sizeof *v);
  v->ctx = mock_ctx_new(paper_desc, params, store);
  assert_non_null(v->ctx);
  int rc = vt->life.create(v->ctx, &mock_host, &v->self);
  if (rc != 0)
    return rc;
  v->created = 1;
  if ((rc = vt->life.configure(v->self)) != 0)
    return rc;
  if ((rc = vt->life.start(v->self)) != 0)
    return rc;
  v->started = 1;
  return 0;
}

static void venue_close(venue *v) {
  if (v->started)
    vt->life.stop(v->self);
  if (v->created)
    vt->life.destroy(v->self);
  if (v->ctx->open_reads != 0)
    fail_msg("the paper venue left %zu candle reads open", v->ctx->open_reads);
  if (v->ctx->acct.live_blocks != 0)
    fail_msg("the paper venue leaked %llu blocks (%llu bytes)",
             (unsigned long long)v->ctx->acct.live_blocks,
             (unsigned long long)v->ctx->acct.live_bytes);
  mock_ctx_free(v->ctx);
  memset(v, 0, sizeof *v);
}

static void venue_connect(venue *v) {
  assert_int_equal(vt->connect(v->self), 0);
  assert_int_equal(mock_pump_until(v->ctx, MOCK_CONNECTION, 2), 0);
}

/* Subscribes to what the venue streams: bars of its timeframe, or trades. */
static void venue_sub(venue *v, const char *symbol) {
  tack_exchange_caps caps;
  tack_subscription sub;
  memset(&caps, 0, sizeof caps);
  caps.size = sizeof caps;
  assert_int_equal(vt->caps(v->self, &caps), 0);
  memset(&sub, 0, sizeof sub);
  tack_copy_text(sub.symbol, sizeof sub.symbol, symbol);
  sub.channel = caps.bar_timeframes[0] ? TACK_SUB_BARS : TACK_SUB_TRADES;
  sub.timeframe_s = caps.bar_timeframes[0];
  assert_int_equal(vt->subscribe(v->self, &sub), 0);
}

/* Open, connect and subscribe symbol; asserts each step. */
static void venue_go(venue *v, const char *const *params, mock_store *store, const char *symbol) {
  int rc = venue_open(v, params, store);
  if (rc != 0)
    fail_msg("opening the venue: %s; param error \"%s\"; log \"%s\"", tack_err_name(rc),
             v->ctx->param_error, v->ctx->log_error);
  venue_connect(v);
  venue_sub(v, symbol);
}

static void bars_until(venue *v, size_t n) {
  assert_int_equal(mock_pump_until(v->ctx, MOCK_BAR, n), 0);
}

static int order(venue *v, const char *id, const char *symbol, uint32_t side, uint32_t type,
                 uint32_t tif, double qty, double limit, double stop) {
  tack_order_request r;
  memset(&r, 0, sizeof r);
  tack_copy_text(r.client_id, sizeof r.client_id, id);
  tack_copy_text(r.symbol, sizeof r.symbol, symbol);
  r.side = side;
  r.type = type;
  r.tif = tif;
  r.quantity = qty;
  r.limit_price = limit;
  r.stop_price = stop;
  return vt->submit(v->self, &r);
}

static void submit(venue *v, const char *id, uint32_t side, uint32_t type, double qty, double limit,
                   double stop) {
  assert_int_equal(order(v, id, "BTC-USD", side, type, 0, qty, limit, stop), 0);
}

/* The fills of client id, in order. */
static size_t fills_of(const tack_ctx *ctx, const char *id, const tack_fill **out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < ctx->n_events; i++)
    if (ctx->events[i].kind == MOCK_FILL && strcmp(ctx->events[i].u.fill.client_id, id) == 0) {
      if (n < cap)
        out[n] = &ctx->events[i].u.fill;
      n++;
    }
  return n;
}

static const tack_fill *only_fill(const tack_ctx *ctx, const char *id) {
  const tack_fill *f[4];
  size_t n = fills_of(ctx, id, f, 4);
  if (n != 1)
    fail_msg("order %s has %zu fills, want 1", id, n);
  return f[0];
}

static void assert_status(const tack_ctx *ctx, const char *id, uint32_t status) {
  const tack_order_update *u = mock_last_update(ctx, id);
  if (!u)
    fail_msg("no update for order %s", id);
  if (u->status != status)
    fail_msg("order %s: status %u (%s), want %u", id, (unsigned)u->status, u->reason,
             (unsigned)status);
}

/* The last balance reported for currency. */
static const tack_balance *balance_of(const tack_ctx *ctx, const char *currency) {
  for (size_t i = ctx->n_events; i > 0; i--) {
    const mock_event *e = &ctx->events[i - 1];
    if (e->kind == MOCK_BALANCE && strcmp(e->u.balance.currency, currency) == 0)
      return &e->u.balance;
  }
  fail_msg("no balance reported for %s", currency);
  return NULL;
}

static const tack_position *position_of(const tack_ctx *ctx, const char *symbol) {
  for (size_t i = ctx->n_events; i > 0; i--) {
    const mock_event *e = &ctx->events[i - 1];
    if (e->kind == MOCK_POSITION && strcmp(e->u.position.symbol, symbol) == 0)
      return &e->u.position;
  }
  fail_msg("no position reported for %s", symbol);
  return NULL;
}

/* Index of the first event of kind at or after from; SIZE_MAX if none. */
static size_t find_from(const tack_ctx *ctx, size_t from, int kind) {
  for (size_t i = from; i < ctx->n_events; i++)
    if (ctx->events[i].kind == kind)
      return i;
  return SIZE_MAX;
}

/* Exact money (10^-18) of a double read as its shortest decimal. */
static tack_wide money_of(double x) {
  tack_decimal d;
  assert_int_equal(tack_decimal_from_double(x, &d), 0);
  tack_wide v = d.units;
  for (int k = d.scale; k < 18; k++)
    v *= 10;
  return v;
}

/* Exact money of qty x price. */
static tack_wide notional_of(double qty, double price) {
  tack_decimal q, p;
  assert_int_equal(tack_decimal_from_double(qty, &q), 0);
  assert_int_equal(tack_decimal_from_double(price, &p), 0);
  int scale = q.scale + p.scale;
  assert_true(scale <= 18);
  tack_wide v = (tack_wide)q.units * p.units;
  for (; scale < 18; scale++)
    v *= 10;
  return v;
}

static double double_of(tack_wide m) {
  char buf[96];
  assert_true(tack_decimal_format_wide(m, 18, buf, sizeof buf) > 0);
  return strtod(buf, NULL);
}

/* Standard parameters for the fixture bars, without fees or slippage;
 * extra pairs (NULL-terminated) come first so they win. */
#define MAX_PARAMS 64
typedef struct params {
  const char *kv[MAX_PARAMS];
} params;

static const char *const *make_params(params *p, const char *data, const char *const *extra) {
  size_t n = 0;
  for (const char *const *e = extra; e && e[0]; e += 2) {
    p->kv[n++] = e[0];
    p->kv[n++] = e[1];
  }
  /* A step every second of host time, so that the answers to a request
   * (due at once) come before the next data step. */
  const char *base[] = {"symbols", "BTC-USD",   "data",        data,        "slippage",
                        "none",    "maker_bps", "0",           "taker_bps", "0",
                        "persist", "false",     "interval_ms", "1000"};
  for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
    p->kv[n++] = base[i];
  p->kv[n] = NULL;
  return p->kv;
}

static void open_bars(venue *v, params *pp, const char *const *extra) {
  venue_go(v, make_params(pp, bars_path, extra), NULL, "BTC-USD");
}

/* ------------------------------------------------------------------------ */
/* Caps, instruments, data                                                   */
/* ------------------------------------------------------------------------ */

static void test_caps_and_instruments(void **state) {
  (void)state;
  venue v;
  tack_exchange_caps caps;
  const char *const walk[] = {"symbols", "BTC-USD, ETH-USD", "persist", "false", NULL};
  assert_int_equal(venue_open(&v, walk, NULL), 0);
  memset(&caps, 0, sizeof caps);
  caps.size = sizeof caps;
  assert_int_equal(vt->caps(v.self, &caps), 0);
  assert_int_equal(caps.flags, TACK_CAP_SIMULATED | TACK_CAP_STOP_ORDERS);
  assert_int_equal(caps.bar_timeframes[0], 60);
  assert_int_equal(caps.bar_timeframes[1], 0);
  /* Requests before connect are refused. */
  assert_int_equal(vt->instruments(v.self, 1), TACK_ENOTCONN);
  venue_connect(&v);
  assert_int_equal(mock_nth(v.ctx, MOCK_CONNECTION, 0)->state, TACK_CONN_CONNECTING);
  assert_int_equal(mock_nth(v.ctx, MOCK_CONNECTION, 1)->state, TACK_CONN_UP);
  assert_int_equal(vt->instruments(v.self, 42), 0);
  assert_int_equal(mock_count(v.ctx, MOCK_INSTRUMENT), 0); /* never from inside a request */
  assert_int_equal(mock_pump_until(v.ctx, MOCK_DONE, 1), 0);
  assert_int_equal(mock_count(v.ctx, MOCK_INSTRUMENT), 2);
  const tack_instrument *in = &mock_nth(v.ctx, MOCK_INSTRUMENT, 1)->u.instr;
  assert_string_equal(in->symbol, "ETH-USD");
  assert_string_equal(in->base, "ETH");
  assert_string_equal(in->quote, "USD");
  assert_string_equal(in->settle, "USD");
  assert_int_equal(in->type, TACK_INSTR_SPOT);
  assert_int_equal(in->flags, TACK_INSTR_TRADING);
  assert_true(in->price_increment == 0.01 && in->size_increment == 0.00001);
  assert_true(in->min_size == 0.00001 && in->min_notional == 0 && in->contract_size == 1);
  assert_int_equal(mock_last(v.ctx, MOCK_DONE)->req, 42);
  assert_int_equal(mock_last(v.ctx, MOCK_DONE)->status, 0);

  tack_subscription sub;
  memset(&sub, 0, sizeof sub);
  tack_copy_text(sub.symbol, sizeof sub.symbol, "BTC-USD");
  sub.channel = TACK_SUB_BARS;
  sub.timeframe_s = 300;
  assert_int_equal(vt->subscribe(v.self, &sub), TACK_ENOTSUP);
  sub.channel = TACK_SUB_TRADES;
  assert_int_equal(vt->subscribe(v.self, &sub), TACK_ENOTSUP);
  sub.channel = TACK_SUB_QUOTES;
  assert_int_equal(vt->subscribe(v.self, &sub), TACK_ENOTSUP);
  tack_copy_text(sub.symbol, sizeof sub.symbol, "XRP-USD");
  sub.channel = TACK_SUB_BARS;
  sub.timeframe_s = 60;
  assert_int_equal(vt->subscribe(v.self, &sub), TACK_ENOENT);
  /* No data flows before a subscription. */
  mock_pump(v.ctx, 100);
  assert_int_equal(mock_count(v.ctx, MOCK_BAR), 0);
  venue_close(&v);

  /* shorts: perpetuals that may go short. */
  const char *const perp[] = {"symbols",  "BTC-USD", "shorts",       "true", "persist", "false",
                              "quote",    "USDT",    "tick",         "0.5",  "lot",     "0.001",
                              "min_size", "0.01",    "min_notional", "5",    NULL};
  assert_int_equal(venue_open(&v, perp, NULL), 0);
  assert_int_equal(vt->caps(v.self, &caps), 0);
  assert_int_equal(caps.flags, TACK_CAP_SIMULATED | TACK_CAP_STOP_ORDERS | TACK_CAP_SHORTS);
  venue_connect(&v);
  assert_int_equal(vt->instruments(v.self, 1), 0);
  assert_int_equal(mock_pump_until(v.ctx, MOCK_DONE, 1), 0);
  in = &mock_nth(v.ctx, MOCK_INSTRUMENT, 0)->u.instr;
  assert_int_equal(in->type, TACK_INSTR_PERPETUAL);
  assert_int_equal(in->flags, TACK_INSTR_TRADING | TACK_INSTR_CAN_SHORT);
  assert_string_equal(in->quote, "USDT");
  assert_true(in->price_increment == 0.5 && in->size_increment == 0.001);
  assert_true(in->min_size == 0.01 && in->min_notional == 5);
  venue_close(&v);
}

static void test_bars_replay(void **state) {
  (void)state;
  venue v;
  params pp;
  open_bars(&v, &pp, NULL);
  assert_int_equal(mock_pump_until(v.ctx, MOCK_BAR, 10), 0);
  for (size_t i = 0; i < 10; i++) {
    const mock_event *e = mock_nth(v.ctx, MOCK_BAR, i);
    assert_string_equal(e->symbol, "BTC-USD");
    assert_true(e->u.bar.ts == (T0 + 60 * (int64_t)i) * TACK_NS_PER_SEC);
    assert_int_equal(e->u.bar.timeframe_s, 60);
    assert_int_equal(e->u.bar.flags, TACK_BAR_CLOSED);
  }
  const tack_bar *b5 = &mock_nth(v.ctx, MOCK_BAR, 5)->u.bar;
  assert_true(b5->open == 95 && b5->high == 96 && b5->low == 94 && b5->close == 95.5 &&
              b5->volume == 10);
  mock_pump(v.ctx, 100);
  assert_int_equal(mock_last(v.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  assert_int_equal(mock_count(v.ctx, MOCK_BAR), 10);
  assert_int_equal(mock_timers_pending(v.ctx), 0);
  /* After the end the venue stays open at its last price for market orders
   * (a run closing its positions); nothing else could ever fill. */
  double last = mock_nth(v.ctx, MOCK_BAR, 9)->u.bar.close;
  submit(&v, "late", BUY, MKT, 1, 0, 0);
  mock_pump(v.ctx, 10);
  assert_status(v.ctx, "late", TACK_STATUS_FILLED);
  const tack_fill *f = only_fill(v.ctx, "late");
  assert_true(f->price >= last && f->price <= last * 1.001);
  submit(&v, "late-limit", BUY, LMT, 1, last, 0);
  mock_pump(v.ctx, 10);
  assert_status(v.ctx, "late-limit", TACK_STATUS_REJECTED);
  assert_int_equal(mock_last_update(v.ctx, "late-limit")->error, TACK_ECLOSED);
  venue_close(&v);
}

static void test_folder_and_merge(void **state) {
  (void)state;
  venue v;
  const char *const kv[] = {"symbols", "BTC-USD,ETH-USD", "data", folder_path,
                            "persist", "false",           NULL};
  venue_go(&v, kv, NULL, "BTC-USD");
  venue_sub(&v, "ETH-USD");
  mock_pump(v.ctx, 1000);
  assert_int_equal(mock_count(v.ctx, MOCK_BAR), 13);
  /* Merged by time, ties in the order of symbols. */
  const char *want[] = {"BTC-USD", "ETH-USD", "BTC-USD", "ETH-USD",
                        "BTC-USD", "ETH-USD", "BTC-USD"};
  for (size_t i = 0; i < 7; i++)
    assert_string_equal(mock_nth(v.ctx, MOCK_BAR, i)->symbol, want[i]);
  assert_true(mock_nth(v.ctx, MOCK_BAR, 5)->u.bar.close == 12);
  assert_int_equal(mock_last(v.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  venue_close(&v);
}

static void test_ticks(void **state) {
  (void)state;
  venue v;
  tack_exchange_caps caps;
  const char *const kv[] = {"symbols", "BTC-USD",   "data",        ticks_path,  "slippage",
                            "none",    "taker_bps", "0",           "maker_bps", "0",
                            "persist", "false",     "interval_ms", "1",         NULL};
  assert_int_equal(venue_open(&v, kv, NULL), 0);
  memset(&caps, 0, sizeof caps);
  caps.size = sizeof caps;
  assert_int_equal(vt->caps(v.self, &caps), 0);
  assert_int_equal(caps.flags, TACK_CAP_SIMULATED | TACK_CAP_STOP_ORDERS | TACK_CAP_TRADES);
  assert_int_equal(caps.bar_timeframes[0], 0);
  venue_connect(&v);
  tack_subscription sub;
  memset(&sub, 0, sizeof sub);
  tack_copy_text(sub.symbol, sizeof sub.symbol, "BTC-USD");
  sub.channel = TACK_SUB_BARS;
  sub.timeframe_s = 60;
  assert_int_equal(vt->subscribe(v.self, &sub), TACK_ENOTSUP);
  venue_sub(&v, "BTC-USD");

  assert_int_equal(mock_pump_until(v.ctx, MOCK_TRADE, 1), 0);
  const tack_trade *t = &mock_nth(v.ctx, MOCK_TRADE, 0)->u.trade;
  assert_true(t->ts == T0 * TACK_NS_PER_SEC + 500000000);
  assert_true(t->price == 100 && t->size == 1);
  assert_int_equal(t->side, BUY);
  /* Reacting to trade 1: fills at trade 2, whose size covers it. */
  submit(&v, "m1", BUY, MKT, 1, 0, 0);
  assert_int_equal(mock_pump_until(v.ctx, MOCK_TRADE, 2), 0);
  assert_true(only_fill(v.ctx, "m1")->price == 100.5);
  /* Reacting to trade 2: trade 3 has the same time, so it is out of
   * reach; trade 4 (size 0.5) fills half, and the IOC rest is cancelled. */
  submit(&v, "m2", BUY, MKT, 1, 0, 0);
  assert_int_equal(mock_pump_until(v.ctx, MOCK_TRADE, 4), 0);
  const tack_fill *f = only_fill(v.ctx, "m2");
  assert_true(f->price == 100.2 && f->quantity == 0.5);
  assert_status(v.ctx, "m2", TACK_STATUS_CANCELLED);
  assert_true(mock_last_update(v.ctx, "m2")->filled == 0.5);
  /* A resting buy fills when a trade goes through its limit. */
  submit(&v, "l1", BUY, LMT, 1, 99.95, 0);
  mock_pump(v.ctx, 100);
  assert_int_equal(mock_count(v.ctx, MOCK_TRADE), 6);
  f = only_fill(v.ctx, "l1");
  assert_true(f->price == 99.9 && f->quantity == 1);
  const tack_trade *t5 = &mock_nth(v.ctx, MOCK_TRADE, 4)->u.trade;
  assert_true(t5->ts == INT64_C(1704067203123456789));
  assert_int_equal(t5->side, SELL);
  assert_int_equal(mock_nth(v.ctx, MOCK_TRADE, 5)->u.trade.side, 0);
  assert_string_equal(mock_nth(v.ctx, MOCK_TRADE, 5)->u.trade.id, "6");
  assert_int_equal(mock_last(v.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  venue_close(&v);
}

static void test_walk(void **state) {
  (void)state;
  venue v;
  const char *const kv[] = {"symbols", "BTC-USD,ETH-USD", "bars",  "50", "timeframe", "300", "seed",
                            "3",       "persist",         "false", NULL};
  venue_go(&v, kv, NULL, "ETH-USD");
  mock_pump(v.ctx, 1000);
  /* Only the subscribed symbol is published; every bar is on the tick grid
   * and consistent. */
  assert_int_equal(mock_count(v.ctx, MOCK_BAR), 50);
  double last_close = 100;
  for (size_t i = 0; i < 50; i++) {
    const mock_event *e = mock_nth(v.ctx, MOCK_BAR, i);
    const tack_bar *b = &e->u.bar;
    assert_string_equal(e->symbol, "ETH-USD");
    assert_int_equal(b->timeframe_s, 300);
    assert_true(b->ts % (300 * TACK_NS_PER_SEC) == 0);
    assert_true(b->low <= b->open && b->low <= b->close && b->high >= b->open &&
                b->high >= b->close && b->low > 0 && b->volume >= 1);
    assert_true(b->open == last_close);
    last_close = b->close;
  }
  assert_int_equal(mock_last(v.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  venue_close(&v);
}

/* A configuration the venue refuses: configure fails with TACK_ECONFIG and
 * a message holding want. */
static void refused(const char *const *kv, const char *want) {
  venue v;
  int rc = venue_open(&v, kv, NULL);
  if (rc != TACK_ECONFIG)
    fail_msg("expected TACK_ECONFIG for \"%s\", got %s", want, tack_err_name(rc));
  if (strstr(v.ctx->param_error, want) == NULL)
    fail_msg("param error \"%s\" does not mention \"%s\"", v.ctx->param_error, want);
  venue_close(&v);
}

static void test_bad_files(void **state) {
  (void)state;
  char path[700], want[800];
  const char *f;

  f = tmp_file("bad_header.csv", "time,o,h,l,c,v\n1,2,3,4,5,6\n");
  snprintf(want, sizeof want, "%s:1: expected the header", f);
  const char *const a[] = {"symbols", "BTC-USD", "data", f, NULL};
  refused(a, want);

  f = tmp_file("bad_row.csv", "ts,open,high,low,close,volume\n1704067200,1,2,0.5,1,1\n"
                              "1704067260,1,2,x,1,1\n");
  snprintf(want, sizeof want, "%s:3: expected 5 numbers", f);
  const char *const b[] = {"symbols", "BTC-USD", "data", f, NULL};
  refused(b, want);

  f = tmp_file("bad_ohlc.csv", "ts,open,high,low,close,volume\n1704067200,1,2,1.5,1,1\n");
  snprintf(want, sizeof want, "%s:2: prices must be positive", f);
  const char *const c[] = {"symbols", "BTC-USD", "data", f, NULL};
  refused(c, want);

  f = tmp_file("bad_order.csv", "ts,open,high,low,close,volume\n1704067260,1,2,0.5,1,1\n"
                                "1704067200,1,2,0.5,1,1\n");
  snprintf(want, sizeof want, "%s:3: ts must increase", f);
  const char *const d[] = {"symbols", "BTC-USD", "data", f, NULL};
  refused(d, want);

  f = tmp_file("bad_tick.csv", "ts,price,size,side\n1704067200.5,100,1,buy\n"
                               "1704067200.6,100,1,hold\n");
  snprintf(want, sizeof want, "%s:3: side must be", f);
  const char *const e[] = {"symbols", "BTC-USD", "data", f, NULL};
  refused(e, want);

  f = tmp_file("bad_tick_order.csv", "ts,price,size,side\n1704067200.5,100,1,buy\n"
                                     "1704067200.4,100,1,buy\n");
  snprintf(want, sizeof want, "%s:3: ts must not decrease", f);
  const char *const g[] = {"symbols", "BTC-USD", "data", f, NULL};
  refused(g, want);

  f = tmp_file("empty.csv", "ts,open,high,low,close,volume\n");
  snprintf(want, sizeof want, "%s has no data rows", f);
  const char *const h[] = {"symbols", "BTC-USD", "data", f, NULL};
  refused(h, want);

  f = tmp_file("off_grid.csv", "ts,open,high,low,close,volume\n1704067230,1,2,0.5,1,1\n");
  const char *const i[] = {"symbols", "BTC-USD", "data", f, NULL};
  refused(i, "not on the 60 s grid");

  char big[1200];
  memset(big, '1', sizeof big);
  memcpy(big, "ts,open,high,low,close,volume\n", 30);
  big[sizeof big - 2] = '\n';
  big[sizeof big - 1] = '\0';
  f = tmp_file("long.csv", big);
  snprintf(want, sizeof want, "%s:2: line longer than", f);
  const char *const j[] = {"symbols", "BTC-USD", "data", f, NULL};
  refused(j, want);

  snprintf(path, sizeof path, "%s/missing.csv", tmp_dir);
  const char *const k[] = {"symbols", "BTC-USD", "data", path, NULL};
  refused(k, "cannot read");

  const char *const l[] = {"symbols", "BTC-USD,ETH-USD", "data", bars_path, NULL};
  refused(l, "is one file but 2 symbols are listed");

  const char *const m[] = {"symbols", "BTC-USD,XRP-USD", "data", folder_path, NULL};
  refused(m, "XRP-USD.csv");

  /* A folder whose files differ in kind. */
  snprintf(path, sizeof path, "%s/mixed", tmp_dir);
  mkdir(path, 0700);
  char one[800];
  snprintf(one, sizeof one, "%s/BTC-USD.csv", path);
  write_text(one, bars_csv);
  snprintf(one, sizeof one, "%s/ETH-USD.csv", path);
  write_text(one, ticks_csv);
  const char *const n[] = {"symbols", "BTC-USD,ETH-USD", "data", path, NULL};
  refused(n, "must hold the same kind of data");

  /* Parameters beyond the spec. */
  const char *const o[] = {"symbols", "BTC-USD,BTC-USD", NULL};
  refused(o, "listed twice");
  const char *const p[] = {"symbols", "BTCUSD", NULL};
  refused(p, "is not BASE-QUOTE");
  const char *const q[] = {"symbols", "BTC-USD", "reject_symbol", "ETH-USD", NULL};
  refused(q, "is not one of symbols");
  const char *const r[] = {"symbols", "BTC-USD",      "tick", "0.0000000001",
                           "lot",     "0.0000000001", NULL};
  refused(r, "more than 18 decimals");
  const char *const s[] = {"symbols", "BTC-USD", "persist", "false", NULL};
  venue v;
  assert_int_equal(venue_open(&v, s, NULL), 0);
  assert_int_equal(v.ctx->log_warns, 0);
  venue_close(&v);
}

static void test_real_data(void **state) {
  (void)state;
  const char *shared = getenv("TACK_SHARED_DIR");
  char bars[700], trades[700];
  struct stat st;
  if (!shared || !*shared) {
    print_message("skipped: TACK_SHARED_DIR is not set\n");
    skip();
  }
  snprintf(bars, sizeof bars, "%s/data/btcusd_bitstamp_1d.csv", shared);
  snprintf(trades, sizeof trades, "%s/data/trades_binance_ethusdt.csv", shared);
  if (stat(bars, &st) != 0 || stat(trades, &st) != 0) {
    print_message("skipped: %s or %s is not there\n", bars, trades);
    skip();
  }
  venue v;
  const char *const kv[] = {"symbols", "BTC-USD", "data",        bars, "lot", "0.00000001",
                            "persist", "false",   "interval_ms", "1",  NULL};
  venue_go(&v, kv, NULL, "BTC-USD");
  tack_ledger *ledger;
  assert_int_equal(tack_ledger_new("USD", 100000, &ledger), 0);
  /* Buy on every 100th day, sell on every 100th day after that. */
  for (size_t n = 1;; n++) {
    if (mock_pump_until(v.ctx, MOCK_BAR, n) < 0)
      break;
    char id[32];
    snprintf(id, sizeof id, "d%zu", n);
    if (n % 100 == 0)
      submit(&v, id, BUY, MKT, 0.5, 0, 0);
    else if (n % 100 == 50)
      submit(&v, id, SELL, MKT, 0.5, 0, 0);
  }
  assert_int_equal(mock_count(v.ctx, MOCK_BAR), 2822);
  assert_int_equal(mock_last(v.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  tack_instrument in;
  memset(&in, 0, sizeof in);
  tack_copy_text(in.symbol, sizeof in.symbol, "BTC-USD");
  tack_copy_text(in.quote, sizeof in.quote, "USD");
  in.type = TACK_INSTR_SPOT;
  in.price_increment = 0.01;
  in.size_increment = 0.00000001;
  in.contract_size = 1;
  size_t fills = 0;
  for (size_t i = 0; i < v.ctx->n_events; i++)
    if (v.ctx->events[i].kind == MOCK_FILL) {
      assert_int_equal(tack_ledger_apply_fill(ledger, &in, &v.ctx->events[i].u.fill), 0);
      fills++;
    }
  assert_true(fills >= 50);
  tack_ledger_totals tot;
  assert_int_equal(tack_ledger_get_totals(ledger, &tot), 0);
  assert_true(tack_money_double(tot.cash) == balance_of(v.ctx, "USD")->total);
  tack_ledger_free(ledger);
  venue_close(&v);

  const char *const kt[] = {"symbols", "ETH-USDT", "quote", "USDT",        "data", trades, "lot",
                            "0.0001",  "persist",  "false", "interval_ms", "1",    NULL};
  venue_go(&v, kt, NULL, "ETH-USDT");
  assert_int_equal(mock_pump_until(v.ctx, MOCK_TRADE, 10), 0);
  assert_int_equal(order(&v, "e1", "ETH-USDT", BUY, LMT, 0, 2, 1666.5, 0), 0);
  assert_int_equal(order(&v, "e2", "ETH-USDT", BUY, MKT, 0, 1, 0, 0), 0);
  mock_pump(v.ctx, 100000);
  assert_int_equal(mock_count(v.ctx, MOCK_TRADE), 1000);
  assert_int_equal(mock_last(v.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  assert_true(mock_last_update(v.ctx, "e2")->filled > 0);
  assert_string_equal(balance_of(v.ctx, "USDT")->currency, "USDT");
  venue_close(&v);
}

/* ------------------------------------------------------------------------ */
/* Fill rules                                                                */
/* ------------------------------------------------------------------------ */

static void test_market(void **state) {
  (void)state;
  venue v;
  params pp;
  open_bars(&v, &pp, NULL);
  bars_until(&v, 1);
  submit(&v, "m1", BUY, MKT, 1, 0, 0);
  /* Not answered from inside the request. */
  assert_null(mock_last_update(v.ctx, "m1"));
  size_t before = v.ctx->n_events;
  bars_until(&v, 2);
  /* OPEN, then the fill during bar 1 at its open, then bar 1 itself. */
  size_t i = find_from(v.ctx, before, MOCK_UPDATE);
  assert_int_equal(v.ctx->events[i].u.update.status, TACK_STATUS_OPEN);
  assert_string_equal(v.ctx->events[i].u.update.venue_id, "P1");
  int order_of[] = {MOCK_UPDATE, MOCK_FILL, MOCK_BALANCE, MOCK_BALANCE, MOCK_POSITION, MOCK_BAR};
  for (size_t k = 0; k < 6; k++)
    assert_int_equal(v.ctx->events[i + 1 + k].kind, order_of[k]);
  const tack_order_update *u = &v.ctx->events[i + 1].u.update;
  assert_int_equal(u->status, TACK_STATUS_FILLED);
  assert_true(u->filled == 1 && u->avg_price == 100.5 && u->quantity == 1 && u->fees == 0);
  const tack_fill *f = only_fill(v.ctx, "m1");
  assert_string_equal(f->trade_id, "PT1");
  assert_string_equal(f->venue_order_id, "P1");
  assert_int_equal(f->liquidity, TACK_LIQ_TAKER);
  assert_true(f->price == 100.5 && f->quantity == 1);
  assert_true(f->ts == (T0 + 120) * TACK_NS_PER_SEC); /* the bar's close */
  assert_string_equal(f->fee_currency, "USD");
  assert_true(balance_of(v.ctx, "USD")->total == 99899.5);
  assert_true(balance_of(v.ctx, "BTC")->total == 1);
  const tack_position *pos = position_of(v.ctx, "BTC-USD");
  assert_true(pos->quantity == 1 && pos->avg_price == 100.5 && pos->mark_price == 100.5);
  assert_true(pos->unrealized_pnl == 0);

  submit(&v, "m2", SELL, MKT, 1, 0, 0);
  bars_until(&v, 3);
  assert_true(only_fill(v.ctx, "m2")->price == 101);
  assert_true(balance_of(v.ctx, "USD")->total == 100000.5);
  pos = position_of(v.ctx, "BTC-USD");
  assert_true(pos->quantity == 0 && pos->realized_pnl == 0.5);
  venue_close(&v);
}

static void test_limits(void **state) {
  (void)state;
  venue v;
  params pp;
  open_bars(&v, &pp, NULL);
  bars_until(&v, 2); /* bar 1 closed at 101 */
  submit(&v, "through", BUY, LMT, 1, 100.2, 0);
  submit(&v, "marketable", BUY, LMT, 1, 101.5, 0);
  bars_until(&v, 3);
  /* Bar 2 opens at 101 <= 101.5: takes at the open. Bar 2's low 100.5 is
   * above 100.2: no fill. */
  const tack_fill *f = only_fill(v.ctx, "marketable");
  assert_true(f->price == 101);
  assert_int_equal(f->liquidity, TACK_LIQ_TAKER);
  assert_status(v.ctx, "through", TACK_STATUS_OPEN);
  submit(&v, "touch", BUY, LMT, 1, 98, 0);
  assert_int_equal(order(&v, "ioc", "BTC-USD", BUY, LMT, TACK_TIF_IOC, 1, 100, 0), 0);
  bars_until(&v, 4);
  /* An IOC limit not marketable at the open never rests, even though bar 3
   * then trades through it. */
  const tack_fill *none[1];
  assert_int_equal(fills_of(v.ctx, "ioc", none, 1), 0);
  assert_status(v.ctx, "ioc", TACK_STATUS_CANCELLED);
  /* Bar 3 (102, 102.5, 98, 99): through 100.2 at the limit, as maker; 98 is
   * only touched. */
  f = only_fill(v.ctx, "through");
  assert_true(f->price == 100.2);
  assert_int_equal(f->liquidity, TACK_LIQ_MAKER);
  assert_status(v.ctx, "touch", TACK_STATUS_OPEN);
  submit(&v, "gap", BUY, LMT, 1, 96.5, 0);
  bars_until(&v, 5);
  /* Bar 4 (99, 100, 97, 98) goes through 98. */
  f = only_fill(v.ctx, "touch");
  assert_true(f->price == 98);
  assert_status(v.ctx, "gap", TACK_STATUS_OPEN);
  bars_until(&v, 6);
  /* Bar 5 opens at 95, below the resting 96.5: filled at the open. */
  f = only_fill(v.ctx, "gap");
  assert_true(f->price == 95);
  assert_int_equal(f->liquidity, TACK_LIQ_MAKER);
  /* Sells mirror: 98.5 goes through in bar 7 (high 99); 99 is touched in
   * bar 7, then goes through in bar 9 (high 100). */
  submit(&v, "sell", SELL, LMT, 1, 98.5, 0);
  submit(&v, "sell_touch", SELL, LMT, 1, 99, 0);
  bars_until(&v, 8);
  f = only_fill(v.ctx, "sell");
  assert_true(f->price == 98.5);
  assert_int_equal(f->liquidity, TACK_LIQ_MAKER);
  assert_status(v.ctx, "sell_touch", TACK_STATUS_OPEN);
  bars_until(&v, 10);
  assert_true(only_fill(v.ctx, "sell_touch")->price == 99);
  venue_close(&v);
}

static void test_stops(void **state) {
  (void)state;
  venue v;
  params pp;
  open_bars(&v, &pp, NULL);
  bars_until(&v, 2);
  submit(&v, "stop", BUY, STP, 1, 0, 102.5);
  submit(&v, "stop_limit", BUY, STL, 1, 102.6, 102.5);
  submit(&v, "rests", BUY, STL, 1, 100.9, 100.8);
  bars_until(&v, 3);
  /* Bar 2 (101, 103, 100.5, 102): both 102.5 stops trigger and take at the
   * stop; the 100.8 stop triggers at the open 101, above its 100.9 limit,
   * so it rests as a limit. */
  const tack_fill *f = only_fill(v.ctx, "stop");
  assert_true(f->price == 102.5);
  assert_int_equal(f->liquidity, TACK_LIQ_TAKER);
  assert_true(only_fill(v.ctx, "stop_limit")->price == 102.5);
  assert_status(v.ctx, "rests", TACK_STATUS_OPEN);
  submit(&v, "stop_sell", SELL, STP, 1, 0, 98.5);
  bars_until(&v, 4);
  /* Bar 3 (102, 102.5, 98, 99): the resting limit fills as maker. */
  f = only_fill(v.ctx, "rests");
  assert_true(f->price == 100.9);
  assert_int_equal(f->liquidity, TACK_LIQ_MAKER);
  assert_true(only_fill(v.ctx, "stop_sell")->price == 98.5);
  bars_until(&v, 5);
  submit(&v, "gap_stop", SELL, STP, 1, 0, 96);
  submit(&v, "never", BUY, STP, 1, 0, 200);
  bars_until(&v, 6);
  /* Bar 5 opens at 95, below the 96 stop: filled at the open. */
  assert_true(only_fill(v.ctx, "gap_stop")->price == 95);
  mock_pump(v.ctx, 100);
  assert_status(v.ctx, "never", TACK_STATUS_OPEN);
  venue_close(&v);
}

static void test_participation(void **state) {
  (void)state;
  venue v;
  params pp;
  const char *const extra[] = {"participation", "0.1", NULL};
  open_bars(&v, &pp, extra);
  bars_until(&v, 1);
  /* At most 1 of each bar's volume of 10. */
  assert_int_equal(order(&v, "gtc", "BTC-USD", BUY, MKT, TACK_TIF_GTC, 2.5, 0, 0), 0);
  bars_until(&v, 2);
  assert_status(v.ctx, "gtc", TACK_STATUS_PARTIAL);
  assert_true(mock_last_update(v.ctx, "gtc")->filled == 1);
  bars_until(&v, 4);
  const tack_fill *f[4];
  assert_int_equal(fills_of(v.ctx, "gtc", f, 4), 3);
  assert_true(f[0]->quantity == 1 && f[0]->price == 100.5);
  assert_true(f[1]->quantity == 1 && f[1]->price == 101);
  assert_true(f[2]->quantity == 0.5 && f[2]->price == 102);
  assert_status(v.ctx, "gtc", TACK_STATUS_FILLED);
  assert_true(mock_last_update(v.ctx, "gtc")->avg_price == 101);

  submit(&v, "ioc", BUY, MKT, 2.5, 0, 0);
  bars_until(&v, 5);
  assert_true(only_fill(v.ctx, "ioc")->quantity == 1);
  assert_status(v.ctx, "ioc", TACK_STATUS_CANCELLED);
  assert_true(mock_last_update(v.ctx, "ioc")->filled == 1);

  /* Two orders share one bar's capacity, in the order they arrived. */
  submit(&v, "first", BUY, LMT, 0.7, 100, 0);
  submit(&v, "second", BUY, LMT, 0.7, 100, 0);
  bars_until(&v, 6);
  assert_true(only_fill(v.ctx, "first")->quantity == 0.7);
  assert_true(only_fill(v.ctx, "second")->quantity == 0.3);
  bars_until(&v, 7);
  assert_int_equal(fills_of(v.ctx, "second", f, 4), 2);
  assert_true(f[1]->quantity == 0.4 && f[1]->price == 95.5);
  assert_int_equal(f[1]->liquidity, TACK_LIQ_MAKER);

  /* A bar of unknown volume (0) caps nothing. */
  bars_until(&v, 8);
  submit(&v, "big", BUY, MKT, 5, 0, 0);
  bars_until(&v, 9);
  assert_true(only_fill(v.ctx, "big")->quantity == 5);

  /* FOK: all at once or nothing. */
  assert_int_equal(order(&v, "fok_big", "BTC-USD", BUY, MKT, TACK_TIF_FOK, 2, 0, 0), 0);
  assert_int_equal(order(&v, "fok_small", "BTC-USD", BUY, MKT, TACK_TIF_FOK, 0.5, 0, 0), 0);
  assert_int_equal(order(&v, "fok_limit", "BTC-USD", BUY, LMT, TACK_TIF_FOK, 0.1, 50, 0), 0);
  bars_until(&v, 10);
  assert_int_equal(fills_of(v.ctx, "fok_big", f, 4), 0);
  assert_status(v.ctx, "fok_big", TACK_STATUS_CANCELLED);
  assert_true(only_fill(v.ctx, "fok_small")->quantity == 0.5);
  assert_status(v.ctx, "fok_small", TACK_STATUS_FILLED);
  assert_status(v.ctx, "fok_limit", TACK_STATUS_CANCELLED);
  venue_close(&v);
}

static void test_fees(void **state) {
  (void)state;
  venue v;
  params pp;
  const char *const extra[] = {"maker_bps", "2", "taker_bps", "5", NULL};
  open_bars(&v, &pp, extra);
  bars_until(&v, 1);
  submit(&v, "taker", BUY, MKT, 1, 0, 0);
  submit(&v, "maker", BUY, LMT, 0.5, 100.2, 0);
  bars_until(&v, 2);
  /* Bar 1 (100.5, 102, 100, 101). 100.5 x 5 bps; 50.1 x 2 bps. */
  const tack_fill *f = only_fill(v.ctx, "taker");
  assert_true(f->fee == 0.05025);
  assert_int_equal(f->liquidity, TACK_LIQ_TAKER);
  f = only_fill(v.ctx, "maker");
  assert_true(f->fee == 0.01002);
  assert_int_equal(f->liquidity, TACK_LIQ_MAKER);
  assert_true(mock_last_update(v.ctx, "maker")->fees == 0.01002);
  /* One lot at 101: 0.00101 x 5 bps = 0.000000505, rounded up. */
  submit(&v, "tiny", BUY, MKT, 0.00001, 0, 0);
  bars_until(&v, 3);
  assert_true(only_fill(v.ctx, "tiny")->fee == 0.00000051);
  tack_wide cash = money_of(100000) - money_of(100.5) - money_of(0.05025) - money_of(50.1) -
                   money_of(0.01002) - money_of(0.00101) - money_of(0.00000051);
  assert_true(balance_of(v.ctx, "USD")->total == double_of(cash));
  venue_close(&v);

  /* A negative maker rate is a rebate. */
  const char *const rebate[] = {"maker_bps", "-1", NULL};
  open_bars(&v, &pp, rebate);
  bars_until(&v, 1);
  submit(&v, "maker", BUY, LMT, 0.5, 100.2, 0);
  bars_until(&v, 2);
  assert_true(only_fill(v.ctx, "maker")->fee == -0.00501);
  assert_true(balance_of(v.ctx, "USD")->total ==
              double_of(money_of(100000) - money_of(50.1) + money_of(0.00501)));
  venue_close(&v);
}

static double market_price(const char *model, const char *const *extra_model, uint32_t side) {
  venue v;
  params pp;
  const char *extra[8] = {"slippage", model, NULL};
  size_t n = 2;
  for (const char *const *e = extra_model; e && e[0]; e += 2) {
    extra[n++] = e[0];
    extra[n++] = e[1];
  }
  extra[n] = NULL;
  open_bars(&v, &pp, extra);
  bars_until(&v, 1);
  if (side == SELL) {
    submit(&v, "own", BUY, MKT, 1, 0, 0);
    bars_until(&v, 2);
  }
  submit(&v, "m", side, MKT, 1, 0, 0);
  bars_until(&v, side == SELL ? 3 : 2);
  double price = only_fill(v.ctx, "m")->price;
  venue_close(&v);
  return price;
}

static void test_slippage(void **state) {
  (void)state;
  /* Bar 1: open 100.5, high 102, low 100, close 101, volume 10. */
  assert_true(market_price("none", NULL, BUY) == 100.5);
  const char *const fixed[] = {"slippage_bps", "10", NULL};
  assert_true(market_price("fixed", fixed, BUY) == 100.61);  /* 100.6005 up */
  assert_true(market_price("fixed", fixed, SELL) == 100.89); /* bar 2: 101 x 0.999 down */
  const char *const impact[] = {"impact", "0.1", NULL};
  assert_true(market_price("volume", impact, BUY) == 101.51); /* 100.5 x 1.01 = 101.505 up */
  double f = 0.1 * ((102.0 - 100.0) / 101.0) * sqrt(1.0 / 10.0);
  double want = ceil(100.5 * (1.0 + f) * 100.0) / 100.0;
  assert_true(want == 100.57);
  assert_true(market_price("sqrt", impact, BUY) == 100.57);

  /* A marketable limit never pays past its limit; a maker fill never
   * slips. */
  venue v;
  params pp;
  const char *const big[] = {"slippage", "fixed", "slippage_bps", "100", NULL};
  open_bars(&v, &pp, big);
  bars_until(&v, 1);
  submit(&v, "capped", BUY, LMT, 1, 101, 0);
  bars_until(&v, 2);
  submit(&v, "maker", BUY, LMT, 1, 100.2, 0);
  bars_until(&v, 4);
  assert_true(only_fill(v.ctx, "capped")->price == 101);
  assert_true(only_fill(v.ctx, "maker")->price == 100.2);
  venue_close(&v);
}

static void test_latency(void **state) {
  (void)state;
  venue v;
  params pp;
  const char *const slow[] = {"latency_ms", "90000", NULL};
  open_bars(&v, &pp, slow);
  bars_until(&v, 1); /* the clock is the close of bar 0 */
  submit(&v, "m", BUY, MKT, 1, 0, 0);
  bars_until(&v, 3);
  assert_null(mock_last(v.ctx, MOCK_FILL));
  bars_until(&v, 4);
  /* Arrives 90 s later, inside bar 1: the first bar it sees whole is 3. */
  assert_true(only_fill(v.ctx, "m")->price == 102);
  venue_close(&v);

  /* The feed is a bar late: when the host sees bar 0 the venue has already
   * traded bar 1, so an order in reaction to bar 0 fills in bar 2, before
   * the host sees bar 1. */
  const char *const late[] = {"feed_latency_ms", "60000", NULL};
  open_bars(&v, &pp, late);
  bars_until(&v, 1);
  submit(&v, "m", BUY, MKT, 1, 0, 0);
  bars_until(&v, 2);
  size_t fill = find_from(v.ctx, 0, MOCK_FILL);
  assert_true(fill != SIZE_MAX);
  assert_true(v.ctx->events[fill].u.fill.price == 101);
  assert_true(fill < (size_t)(mock_nth(v.ctx, MOCK_BAR, 1) - v.ctx->events));
  mock_pump(v.ctx, 100);
  assert_int_equal(mock_count(v.ctx, MOCK_BAR), 10); /* all published before EOF */
  assert_int_equal(mock_last(v.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  venue_close(&v);
}

/* ------------------------------------------------------------------------ */
/* Checks, funds, shorts                                                     */
/* ------------------------------------------------------------------------ */

static void assert_rejected(venue *v, const char *id, int error) {
  mock_pump(v->ctx, 1); /* the flush */
  const tack_order_update *u = mock_last_update(v->ctx, id);
  if (!u)
    fail_msg("no update for %s", id);
  if (u->status != TACK_STATUS_REJECTED || u->error != error)
    fail_msg("order %s: status %u error %s (%s), want REJECTED %s", id, (unsigned)u->status,
             tack_err_name(u->error), u->reason, tack_err_name(error));
  assert_string_equal(u->venue_id, "");
}

static void test_checks_and_funds(void **state) {
  (void)state;
  venue v;
  params pp;
  const char *const poor[] = {"cash", "1000", "min_notional", "10", NULL};
  open_bars(&v, &pp, poor);
  /* Malformed requests are refused up front. */
  assert_int_equal(order(&v, "x", "BTC-USD", 0, MKT, 0, 1, 0, 0), TACK_EINVAL);
  assert_int_equal(order(&v, "x", "BTC-USD", BUY, 9, 0, 1, 0, 0), TACK_EINVAL);
  assert_int_equal(order(&v, "x", "BTC-USD", BUY, MKT, 0, -1, 0, 0), TACK_EINVAL);
  assert_int_equal(order(&v, "x", "BTC-USD", BUY, MKT, 0, NAN, 0, 0), TACK_EINVAL);
  assert_int_equal(order(&v, "x", "BTC-USD", BUY, LMT, 0, 1, 0, 0), TACK_EINVAL);
  assert_int_equal(order(&v, "x", "BTC-USD", BUY, STP, 0, 1, 0, INFINITY), TACK_EINVAL);
  assert_int_equal(order(&v, "", "BTC-USD", BUY, MKT, 0, 1, 0, 0), TACK_EINVAL);
  assert_int_equal(order(&v, "x", "BTC-USD", BUY, MKT, 7, 1, 0, 0), TACK_EINVAL);
  assert_int_equal(order(&v, "x", "BTC-USD", BUY, MKT, TACK_TIF_GTD, 1, 0, 0), TACK_EINVAL);
  assert_int_equal(vt->submit(v.self, NULL), TACK_EINVAL);
  bars_until(&v, 1);
  assert_int_equal(order(&v, "unknown", "XRP-USD", BUY, MKT, 0, 1, 0, 0), 0);
  assert_rejected(&v, "unknown", TACK_ENOENT);
  submit(&v, "lots", BUY, MKT, 0.000015, 0, 0);
  assert_rejected(&v, "lots", TACK_EINVAL);
  submit(&v, "ticks", BUY, LMT, 1, 100.005, 0);
  assert_rejected(&v, "ticks", TACK_EINVAL);
  submit(&v, "small", BUY, LMT, 0.05, 100, 0);
  assert_rejected(&v, "small", TACK_ERANGE);
  submit(&v, "rich", BUY, MKT, 20, 0, 0); /* 20 x 100.5 > 1000 */
  assert_rejected(&v, "rich", TACK_ENOFUNDS);
  submit(&v, "nothing", SELL, MKT, 1, 0, 0);
  assert_rejected(&v, "nothing", TACK_ENOFUNDS);
  tack_order_request r;
  memset(&r, 0, sizeof r);
  tack_copy_text(r.client_id, sizeof r.client_id, "post");
  tack_copy_text(r.symbol, sizeof r.symbol, "BTC-USD");
  r.side = BUY;
  r.type = MKT;
  r.quantity = 1;
  r.flags = TACK_ORDER_POST_ONLY;
  assert_int_equal(vt->submit(v.self, &r), 0);
  assert_rejected(&v, "post", TACK_EINVAL);
  /* Funds held by open buys are not available to the next one. */
  submit(&v, "half1", BUY, LMT, 5, 99, 0);
  submit(&v, "half2", BUY, LMT, 5, 101, 0); /* marketable: the last close is 100.5 */
  submit(&v, "none_left", BUY, LMT, 1, 50, 0);
  assert_rejected(&v, "none_left", TACK_ENOFUNDS);
  assert_status(v.ctx, "half1", TACK_STATUS_OPEN);
  assert_int_equal(vt->reconcile(v.self, 1, 0), 0);
  assert_int_equal(mock_pump_until(v.ctx, MOCK_DONE, 1), 0);
  const tack_balance *usd = balance_of(v.ctx, "USD");
  assert_true(usd->total == 1000 && usd->hold == 1000 && usd->available == 0);
  venue_close(&v);

  /* A market order whose price rose past the cash fills what the cash pays
   * for, and the rest is cancelled. */
  const char *const rise[] = {"cash", "1000", "slippage", "fixed", "slippage_bps", "100", NULL};
  open_bars(&v, &pp, rise);
  bars_until(&v, 2);
  submit(&v, "all_in", BUY, MKT, 9.9, 0, 0); /* 9.9 x 101 = 999.9 at the last close */
  bars_until(&v, 3);
  const tack_fill *f = only_fill(v.ctx, "all_in");
  assert_true(f->price == 102.01);
  assert_true(f->quantity == 9.80296);
  assert_status(v.ctx, "all_in", TACK_STATUS_CANCELLED);
  assert_int_equal(mock_last_update(v.ctx, "all_in")->error, TACK_ENOFUNDS);
  assert_true(balance_of(v.ctx, "USD")->total ==
              double_of(money_of(1000) - notional_of(9.80296, 102.01)));
  assert_true(balance_of(v.ctx, "USD")->total >= 0);
  venue_close(&v);
}

static void test_shorts(void **state) {
  (void)state;
  venue v;
  params pp;
  const char *const perp[] = {"shorts", "true", NULL};
  open_bars(&v, &pp, perp);
  bars_until(&v, 1);
  submit(&v, "s1", SELL, MKT, 2, 0, 0);
  bars_until(&v, 2);
  const tack_position *p = position_of(v.ctx, "BTC-USD");
  assert_true(p->quantity == -2 && p->avg_price == 100.5 && p->unrealized_pnl == 0);
  assert_true(balance_of(v.ctx, "USD")->total == 100201);
  assert_true(balance_of(v.ctx, "BTC")->total == 0); /* a perpetual holds no BTC */
  submit(&v, "b1", BUY, MKT, 1, 0, 0);
  bars_until(&v, 3);
  p = position_of(v.ctx, "BTC-USD");
  assert_true(p->quantity == -1 && p->avg_price == 100.5 && p->realized_pnl == -0.5);
  assert_true(balance_of(v.ctx, "USD")->total == 100100);
  submit(&v, "b2", BUY, MKT, 3, 0, 0); /* through zero: close 1, open 2 */
  bars_until(&v, 4);
  p = position_of(v.ctx, "BTC-USD");
  assert_true(p->quantity == 2 && p->avg_price == 102 && p->realized_pnl == -2);
  assert_true(balance_of(v.ctx, "USD")->total == 99794);
  /* reduce-only may close, never open or grow. */
  tack_order_request r;
  memset(&r, 0, sizeof r);
  tack_copy_text(r.client_id, sizeof r.client_id, "grow");
  tack_copy_text(r.symbol, sizeof r.symbol, "BTC-USD");
  r.side = BUY;
  r.type = MKT;
  r.quantity = 1;
  r.flags = TACK_ORDER_REDUCE_ONLY;
  assert_int_equal(vt->submit(v.self, &r), 0);
  assert_rejected(&v, "grow", TACK_EREJECTED);
  tack_copy_text(r.client_id, sizeof r.client_id, "reduce");
  r.side = SELL;
  r.quantity = 2;
  assert_int_equal(vt->submit(v.self, &r), 0);
  bars_until(&v, 5);
  assert_true(position_of(v.ctx, "BTC-USD")->quantity == 0);
  venue_close(&v);
}

/* ------------------------------------------------------------------------ */
/* Orders: idempotence, cancel, faults                                       */
/* ------------------------------------------------------------------------ */

static void test_idempotent_and_cancel(void **state) {
  (void)state;
  venue v;
  params pp;
  const char *const extra[] = {"participation", "0.1", NULL};
  open_bars(&v, &pp, extra);
  bars_until(&v, 1);
  submit(&v, "c1", BUY, LMT, 1, 50, 0);
  submit(&v, "c1", BUY, LMT, 3, 60, 0); /* the same id: nothing new */
  submit(&v, "c2", BUY, LMT, 1, 50, 0);
  mock_pump(v.ctx, 1);
  assert_int_equal(mock_count(v.ctx, MOCK_UPDATE), 3);
  assert_string_equal(mock_nth(v.ctx, MOCK_UPDATE, 0)->u.update.venue_id, "P1");
  assert_string_equal(mock_nth(v.ctx, MOCK_UPDATE, 1)->u.update.venue_id, "P1");
  assert_true(mock_nth(v.ctx, MOCK_UPDATE, 1)->u.update.quantity == 1);
  assert_string_equal(mock_nth(v.ctx, MOCK_UPDATE, 2)->u.update.venue_id, "P2");

  size_t before = v.ctx->n_events;
  assert_int_equal(vt->cancel(v.self, "c1", ""), 0);
  assert_int_equal(v.ctx->n_events, before); /* answered later, not from inside */
  mock_pump(v.ctx, 1);
  assert_status(v.ctx, "c1", TACK_STATUS_CANCELLED);
  assert_int_equal(vt->cancel(v.self, "", "P2"), 0); /* by venue id only */
  mock_pump(v.ctx, 1);
  assert_status(v.ctx, "c2", TACK_STATUS_CANCELLED);
  assert_int_equal(vt->cancel(v.self, "nope", ""), TACK_ENOENT);
  assert_int_equal(vt->cancel(v.self, "", "P99"), TACK_ENOENT);
  /* Cancelling a finished order says how it ended. */
  assert_int_equal(vt->cancel(v.self, "c1", "P1"), 0);
  mock_pump(v.ctx, 1);
  assert_status(v.ctx, "c1", TACK_STATUS_CANCELLED);

  /* A partly filled order keeps its fills when cancelled. */
  assert_int_equal(order(&v, "part", "BTC-USD", BUY, MKT, TACK_TIF_GTC, 2.5, 0, 0), 0);
  bars_until(&v, 2);
  assert_status(v.ctx, "part", TACK_STATUS_PARTIAL);
  assert_int_equal(vt->cancel(v.self, "part", ""), 0);
  bars_until(&v, 3);
  assert_status(v.ctx, "part", TACK_STATUS_CANCELLED);
  assert_true(mock_last_update(v.ctx, "part")->filled == 1);
  const tack_fill *f[4];
  assert_int_equal(fills_of(v.ctx, "part", f, 4), 1);
  assert_true(balance_of(v.ctx, "BTC")->total == 1);

  /* A resent filled order re-reports; nothing fills twice. */
  submit(&v, "once", BUY, MKT, 0.5, 0, 0);
  bars_until(&v, 4);
  submit(&v, "once", BUY, MKT, 0.5, 0, 0);
  bars_until(&v, 5);
  assert_int_equal(fills_of(v.ctx, "once", f, 4), 1);
  assert_status(v.ctx, "once", TACK_STATUS_FILLED);
  venue_close(&v);
}

static void test_expiry(void **state) {
  (void)state;
  venue v;
  params pp;
  open_bars(&v, &pp, NULL);
  bars_until(&v, 1);
  tack_order_request r;
  memset(&r, 0, sizeof r);
  tack_copy_text(r.client_id, sizeof r.client_id, "gtd");
  tack_copy_text(r.symbol, sizeof r.symbol, "BTC-USD");
  r.side = BUY;
  r.type = LMT;
  r.tif = TACK_TIF_GTD;
  r.quantity = 1;
  r.limit_price = 50;
  r.expire_at = (T0 + 180) * TACK_NS_PER_SEC;
  assert_int_equal(vt->submit(v.self, &r), 0);
  tack_copy_text(r.client_id, sizeof r.client_id, "past");
  r.expire_at = T0 * TACK_NS_PER_SEC;
  assert_int_equal(vt->submit(v.self, &r), 0);
  assert_rejected(&v, "past", TACK_EINVAL);
  bars_until(&v, 2);
  assert_status(v.ctx, "gtd", TACK_STATUS_OPEN);
  bars_until(&v, 3); /* bar 2 closes at T0 + 180 */
  assert_status(v.ctx, "gtd", TACK_STATUS_EXPIRED);
  assert_true(mock_last_update(v.ctx, "gtd")->ts == (T0 + 180) * TACK_NS_PER_SEC);
  venue_close(&v);

  /* DAY: until the end of the UTC day of its arrival. */
  const char *const hourly[] = {"symbols", "BTC-USD", "timeframe",   "3600", "bars", "48",
                                "persist", "false",   "interval_ms", "1",    NULL};
  venue_go(&v, hourly, NULL, "BTC-USD");
  bars_until(&v, 1);
  assert_int_equal(order(&v, "day", "BTC-USD", BUY, LMT, TACK_TIF_DAY, 1, 1, 0), 0);
  bars_until(&v, 24);
  assert_status(v.ctx, "day", TACK_STATUS_EXPIRED);
  assert_true(mock_last_update(v.ctx, "day")->ts == (T0 + 86400) * TACK_NS_PER_SEC);
  venue_close(&v);
}

static void test_fault_injection(void **state) {
  (void)state;
  venue v;
  params pp;
  const char *const nth[] = {"reject_nth", "2", NULL};
  open_bars(&v, &pp, nth);
  bars_until(&v, 1);
  submit(&v, "a", BUY, LMT, 1, 50, 0);
  submit(&v, "b", BUY, LMT, 1, 50, 0);
  assert_rejected(&v, "b", TACK_EREJECTED);
  assert_string_equal(mock_last_update(v.ctx, "b")->reason, "rejected by fault injection");
  submit(&v, "c", BUY, LMT, 1, 50, 0);
  mock_pump(v.ctx, 1);
  assert_status(v.ctx, "a", TACK_STATUS_OPEN);
  assert_status(v.ctx, "c", TACK_STATUS_OPEN);
  assert_string_equal(mock_last_update(v.ctx, "c")->venue_id, "P2");
  venue_close(&v);

  const char *const sym[] = {"symbols", "BTC-USD,ETH-USD", "reject_symbol", "ETH-USD",
                             "persist", "false",           "interval_ms",   "1",
                             NULL};
  venue_go(&v, sym, NULL, "BTC-USD");
  bars_until(&v, 1);
  assert_int_equal(order(&v, "eth", "ETH-USD", BUY, MKT, 0, 1, 0, 0), 0);
  assert_rejected(&v, "eth", TACK_EREJECTED);
  assert_int_equal(order(&v, "btc", "BTC-USD", BUY, MKT, 0, 1, 0, 0), 0);
  bars_until(&v, 3);
  assert_status(v.ctx, "btc", TACK_STATUS_FILLED);
  venue_close(&v);
}

/* ------------------------------------------------------------------------ */
/* Exact cash, reconcile                                                     */
/* ------------------------------------------------------------------------ */

static uint64_t lcg(uint64_t *s) {
  *s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
  return *s >> 33;
}

/* The strategy of a seeded session: after every bar, from inside ex_bar
 * (as the host's trader reacts), a random market, limit or stop order on
 * the bar's symbol, or a cancel of the order of three bars before. */
typedef struct session {
  venue *v;
  uint64_t seed;
  size_t n;
} session;

static void session_bar(void *user, tack_ctx *ctx, const char *symbol, const tack_bar *b) {
  session *ss = user;
  venue *v = ss->v;
  (void)ctx;
  size_t n = ++ss->n;
  uint64_t r = lcg(&ss->seed);
  char id[32];
  snprintf(id, sizeof id, "r%zu", n);
  uint32_t side = (r & 1) ? BUY : SELL;
  double qty = (double)(1 + lcg(&ss->seed) % 3000) / 1000.0;
  double off = ((double)(lcg(&ss->seed) % 200) - 100.0) / 10000.0;
  double limit = round(b->close * (1.0 + off) * 100.0) / 100.0;
  switch (r % 5) {
  case 0:
    order(v, id, symbol, side, MKT, 0, qty, 0, 0);
    break;
  case 1:
  case 2:
    order(v, id, symbol, side, LMT, 0, qty, limit, 0);
    break;
  case 3:
    order(v, id, symbol, side, STP, 0, qty, 0, limit);
    break;
  default:
    if (n > 3) {
      char old[32];
      snprintf(old, sizeof old, "r%zu", n - 3);
      vt->cancel(v->self, old, "");
    }
    break;
  }
}

/* Opens a venue with kv, subscribes the symbols of subs (comma-separated)
 * and runs the session of seed to the end of the data. */
static void run_session(venue *v, const char *const *kv, mock_store *store, const char *subs,
                        uint64_t seed) {
  char list[256], *save = NULL;
  session ss = {v, seed, 0};
  snprintf(list, sizeof list, "%s", subs);
  char *first = strtok_r(list, ",", &save);
  venue_go(v, kv, store, first);
  for (char *sym = strtok_r(NULL, ",", &save); sym; sym = strtok_r(NULL, ",", &save))
    venue_sub(v, sym);
  v->ctx->on_bar = session_bar;
  v->ctx->on_bar_user = &ss;
  mock_pump(v->ctx, SIZE_MAX);
  v->ctx->on_bar = NULL;
  v->ctx->on_bar_user = NULL;
}

/* kv pairs of a (NULL-terminated) then b: a's win. */
static const char *const *join_kv(params *p, const char *const *a, const char *const *b) {
  size_t n = 0;
  for (const char *const *e = a; e && e[0]; e += 2) {
    p->kv[n++] = e[0];
    p->kv[n++] = e[1];
  }
  for (const char *const *e = b; e && e[0]; e += 2) {
    p->kv[n++] = e[0];
    p->kv[n++] = e[1];
  }
  p->kv[n] = NULL;
  return p->kv;
}

/* The session's walk: two symbols, fees, volume slippage, a participation
 * cap; extra pairs win. */
static const char *const *session_params(params *p, int persist, const char *const *extra) {
  static const char *const on[] = {"persist", "true", NULL}, *const off[] = {"persist", "false",
                                                                             NULL};
  const char *const walk[] = {"symbols",
                              "BTC-USD,ETH-USD",
                              "bars",
                              "300",
                              "seed",
                              "5",
                              "volatility",
                              "0.01",
                              "lot",
                              "0.001",
                              "maker_bps",
                              "2",
                              "taker_bps",
                              "7.5",
                              "slippage",
                              "volume",
                              "impact",
                              "0.05",
                              "participation",
                              "0.5",
                              NULL};
  params first;
  join_kv(&first, extra, persist ? on : off);
  return join_kv(p, first.kv, walk);
}

/* A seeded session on the random walk. */
static void random_session(venue *v, mock_store *store, uint64_t seed, int persist) {
  static params pp;
  run_session(v, session_params(&pp, persist, NULL), store, "BTC-USD,ETH-USD", seed);
}

static void test_exact_cash(void **state) {
  (void)state;
  venue v;
  random_session(&v, NULL, 99, 0);
  assert_int_equal(mock_last(v.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  tack_ledger *ledger;
  assert_int_equal(tack_ledger_new("USD", 100000, &ledger), 0);
  tack_instrument in;
  memset(&in, 0, sizeof in);
  tack_copy_text(in.quote, sizeof in.quote, "USD");
  in.type = TACK_INSTR_SPOT;
  in.price_increment = 0.01;
  in.size_increment = 0.001;
  in.contract_size = 1;
  tack_wide cash = money_of(100000), btc = 0, fees = 0;
  size_t fills = 0, makers = 0;
  for (size_t i = 0; i < v.ctx->n_events; i++) {
    if (v.ctx->events[i].kind != MOCK_FILL)
      continue;
    const tack_fill *f = &v.ctx->events[i].u.fill;
    tack_wide value = notional_of(f->quantity, f->price);
    cash += f->side == BUY ? -value : value;
    cash -= money_of(f->fee);
    fees += money_of(f->fee);
    if (strcmp(f->symbol, "BTC-USD") == 0)
      btc += f->side == BUY ? money_of(f->quantity) : -money_of(f->quantity);
    tack_copy_text(in.symbol, sizeof in.symbol, f->symbol);
    assert_int_equal(tack_ledger_apply_fill(ledger, &in, f), 0);
    fills++;
    makers += f->liquidity == TACK_LIQ_MAKER;
  }
  assert_true(fills > 100);
  assert_true(makers > 10);
  /* The venue's cash is the exact sum, and agrees with the host's ledger. */
  assert_true(balance_of(v.ctx, "USD")->total == double_of(cash));
  tack_ledger_totals tot;
  assert_int_equal(tack_ledger_get_totals(ledger, &tot), 0);
  assert_true(tot.cash == cash);
  assert_true(tot.fees == fees);
  assert_true(balance_of(v.ctx, "BTC")->total == double_of(btc));
  assert_true(position_of(v.ctx, "BTC-USD")->quantity == double_of(btc));
  tack_ledger_free(ledger);
  venue_close(&v);
}

static void test_reconcile(void **state) {
  (void)state;
  venue v;
  params pp;
  open_bars(&v, &pp, NULL);
  bars_until(&v, 1);
  submit(&v, "f1", BUY, MKT, 1, 0, 0);
  bars_until(&v, 2);
  submit(&v, "f2", BUY, MKT, 2, 0, 0);
  submit(&v, "open1", BUY, LMT, 1, 50, 0);
  submit(&v, "open2", SELL, LMT, 0.5, 500, 0);
  bars_until(&v, 3);
  tack_time second = only_fill(v.ctx, "f2")->ts;
  assert_int_equal(vt->reconcile(v.self, 77, 0), 0);
  size_t from = v.ctx->n_events;
  assert_int_equal(mock_pump_until(v.ctx, MOCK_DONE, 1), 0);
  /* Open orders, fills, balances, positions, done: in that order. */
  int want[] = {MOCK_UPDATE,  MOCK_UPDATE,  MOCK_FILL,     MOCK_FILL,
                MOCK_BALANCE, MOCK_BALANCE, MOCK_POSITION, MOCK_DONE};
  size_t k = 0;
  for (size_t i = from; i < v.ctx->n_events && k < 8; i++) {
    if (v.ctx->events[i].kind == MOCK_BAR)
      continue;
    assert_int_equal(v.ctx->events[i].kind, want[k]);
    k++;
  }
  assert_int_equal(k, 8);
  const mock_event *e = &v.ctx->events[find_from(v.ctx, from, MOCK_UPDATE)];
  assert_string_equal(e->u.update.client_id, "open1");
  assert_int_equal(e->u.update.status, TACK_STATUS_OPEN);
  e = &v.ctx->events[find_from(v.ctx, from, MOCK_BALANCE)];
  assert_string_equal(e->u.balance.currency, "USD");
  assert_true(e->u.balance.total == 100000 - 100.5 - 2 * 101);
  assert_true(e->u.balance.hold == 50);
  assert_true(e->u.balance.available == e->u.balance.total - 50);
  e = &v.ctx->events[find_from(v.ctx, find_from(v.ctx, from, MOCK_BALANCE) + 1, MOCK_BALANCE)];
  assert_string_equal(e->u.balance.currency, "BTC");
  assert_true(e->u.balance.total == 3 && e->u.balance.hold == 0.5 && e->u.balance.available == 2.5);
  assert_int_equal(mock_last(v.ctx, MOCK_DONE)->req, 77);
  assert_int_equal(mock_last(v.ctx, MOCK_DONE)->status, 0);

  /* since: fills at or after it only. */
  assert_int_equal(vt->reconcile(v.self, 78, second), 0);
  from = v.ctx->n_events;
  assert_int_equal(mock_pump_until(v.ctx, MOCK_DONE, 2), 0);
  size_t n = 0;
  for (size_t i = from; i < v.ctx->n_events; i++)
    if (v.ctx->events[i].kind == MOCK_FILL) {
      assert_string_equal(v.ctx->events[i].u.fill.client_id, "f2");
      n++;
    }
  assert_int_equal(n, 1);
  venue_close(&v);
}

/* ------------------------------------------------------------------------ */
/* Persistence                                                               */
/* ------------------------------------------------------------------------ */

static const char *const *persist_params(params *pp) {
  const char *const extra[] = {"persist", "true", NULL};
  return make_params(pp, bars_path, extra);
}

static void test_persistence(void **state) {
  (void)state;
  mock_store st;
  memset(&st, 0, sizeof st);
  venue a, b;
  params pp;
  venue_go(&a, persist_params(&pp), &st, "BTC-USD");
  bars_until(&a, 1);
  submit(&a, "m1", BUY, MKT, 1, 0, 0);
  bars_until(&a, 2);
  submit(&a, "rest", BUY, LMT, 1, 90, 0);
  submit(&a, "gone", BUY, LMT, 1, 80, 0);
  mock_pump(a.ctx, 1);
  assert_int_equal(vt->cancel(a.self, "gone", ""), 0);
  bars_until(&a, 3);
  /* Every accepted order is saved before it is reported open. */
  assert_non_null(mock_store_find(&st, "state"));
  assert_non_null(mock_store_find(&st, "fill/1"));
  assert_non_null(mock_store_find(&st, "order/1"));
  assert_non_null(mock_store_find(&st, "order/3"));
  double cash = balance_of(a.ctx, "USD")->total;
  venue_close(&a);

  venue_go(&b, persist_params(&pp), &st, "BTC-USD");
  assert_int_equal(vt->reconcile(b.self, 5, 0), 0);
  assert_int_equal(mock_pump_until(b.ctx, MOCK_DONE, 1), 0);
  assert_true(balance_of(b.ctx, "USD")->total == cash);
  assert_true(balance_of(b.ctx, "BTC")->total == 1);
  assert_true(position_of(b.ctx, "BTC-USD")->avg_price == 100.5);
  assert_status(b.ctx, "rest", TACK_STATUS_OPEN);
  assert_string_equal(mock_last_update(b.ctx, "rest")->venue_id, "P2");
  assert_null(mock_last_update(b.ctx, "gone")); /* final: not reported as open */
  assert_string_equal(only_fill(b.ctx, "m1")->trade_id, "PT1");
  /* The data continues where it stopped: bar 3 comes next. */
  bars_until(&b, 1);
  assert_true(mock_nth(b.ctx, MOCK_BAR, 0)->u.bar.ts == (T0 + 180) * TACK_NS_PER_SEC);
  /* Counters continue, client ids are still known. */
  submit(&b, "m2", BUY, MKT, 1, 0, 0);
  submit(&b, "m1", BUY, MKT, 1, 0, 0);
  bars_until(&b, 2);
  assert_string_equal(mock_last_update(b.ctx, "m2")->venue_id, "P4");
  assert_string_equal(only_fill(b.ctx, "m2")->trade_id, "PT2");
  assert_status(b.ctx, "m1", TACK_STATUS_FILLED);
  submit(&b, "gone", BUY, LMT, 1, 80, 0);
  mock_pump(b.ctx, 1);
  assert_status(b.ctx, "gone", TACK_STATUS_CANCELLED);
  mock_pump(b.ctx, 100);
  assert_int_equal(mock_count(b.ctx, MOCK_BAR), 7);
  assert_int_equal(mock_last(b.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  venue_close(&b);

  /* A third start after the end reports the end again. */
  venue_go(&b, persist_params(&pp), &st, "BTC-USD");
  mock_pump(b.ctx, 100);
  assert_int_equal(mock_count(b.ctx, MOCK_BAR), 0);
  assert_int_equal(mock_last(b.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  assert_int_equal(vt->reconcile(b.self, 6, 0), 0);
  assert_int_equal(mock_pump_until(b.ctx, MOCK_DONE, 1), 0);
  const tack_fill *f[4];
  assert_int_equal(fills_of(b.ctx, "m2", f, 4), 1);
  assert_status(b.ctx, "rest", TACK_STATUS_OPEN);
  venue_close(&b);
  mock_store_free(&st);
}

static void test_restart_in_memory(void **state) {
  (void)state;
  /* Without persistence, stopping and starting the same instance keeps
   * the venue it had; a new configure starts afresh. */
  venue v;
  params pp;
  open_bars(&v, &pp, NULL);
  bars_until(&v, 1);
  submit(&v, "m", BUY, MKT, 1, 0, 0);
  bars_until(&v, 3);
  vt->life.stop(v.self);
  mock_clear(v.ctx);
  assert_int_equal(vt->life.start(v.self), 0);
  venue_connect(&v);
  venue_sub(&v, "BTC-USD");
  bars_until(&v, 1);
  assert_true(mock_nth(v.ctx, MOCK_BAR, 0)->u.bar.ts == (T0 + 180) * TACK_NS_PER_SEC);
  assert_int_equal(vt->reconcile(v.self, 1, 0), 0);
  assert_int_equal(mock_pump_until(v.ctx, MOCK_DONE, 1), 0);
  assert_true(balance_of(v.ctx, "BTC")->total == 1);
  vt->life.stop(v.self);
  mock_clear(v.ctx);
  assert_int_equal(vt->life.configure(v.self), 0);
  assert_int_equal(vt->life.start(v.self), 0);
  venue_connect(&v);
  venue_sub(&v, "BTC-USD");
  bars_until(&v, 1);
  assert_true(mock_nth(v.ctx, MOCK_BAR, 0)->u.bar.ts == T0 * TACK_NS_PER_SEC);
  venue_close(&v);
}

static void test_state_refused(void **state) {
  (void)state;
  mock_store st;
  memset(&st, 0, sizeof st);
  venue v;
  params pp;
  venue_go(&v, persist_params(&pp), &st, "BTC-USD");
  bars_until(&v, 1);
  submit(&v, "m", BUY, MKT, 1, 0, 0);
  bars_until(&v, 2);
  venue_close(&v);

  /* Another symbol list. */
  const char *const other[] = {"symbols", "ETH-USD", "persist", "true", NULL};
  assert_int_equal(venue_open(&v, other, &st), TACK_ECONFIG);
  assert_non_null(strstr(v.ctx->log_error, "another configuration"));
  assert_non_null(strstr(v.ctx->log_error, "symbol 1 was BTC-USD"));
  venue_close(&v);

  /* Another tick. */
  const char *const tick[] = {"tick", "0.1", "persist", "true", NULL};
  assert_int_equal(venue_open(&v, make_params(&pp, bars_path, tick), &st), TACK_ECONFIG);
  assert_non_null(strstr(v.ctx->log_error, "another tick or lot"));
  venue_close(&v);

  /* Damaged: one byte flipped, or cut short. */
  mock_entry *e = mock_store_find(&st, "state");
  assert_non_null(e);
  ((unsigned char *)e->val)[e->vlen / 2] ^= 0x40;
  assert_int_equal(venue_open(&v, persist_params(&pp), &st), TACK_EPARSE);
  assert_non_null(strstr(v.ctx->log_error, "checksum"));
  venue_close(&v);
  ((unsigned char *)e->val)[e->vlen / 2] ^= 0x40;
  size_t full = e->vlen;
  e->vlen = 10;
  assert_int_equal(venue_open(&v, persist_params(&pp), &st), TACK_EPARSE);
  assert_non_null(strstr(v.ctx->log_error, "not a paper venue record"));
  venue_close(&v);
  e->vlen = full;
  /* A damaged fill record is named. */
  mock_entry *fill = mock_store_find(&st, "fill/1");
  assert_non_null(fill);
  ((unsigned char *)fill->val)[fill->vlen - 1] ^= 1;
  assert_int_equal(venue_open(&v, persist_params(&pp), &st), TACK_EPARSE);
  assert_non_null(strstr(v.ctx->log_error, "fill/1"));
  venue_close(&v);
  ((unsigned char *)fill->val)[fill->vlen - 1] ^= 1;
  /* A lost fill record is a warning: the fill log has a hole. */
  mock_entry saved = *fill;
  fill->klen = 0;
  assert_int_equal(venue_open(&v, persist_params(&pp), &st), 0);
  assert_non_null(strstr(v.ctx->log_error, "1 of 1 fills are missing"));
  venue_close(&v);
  *fill = saved;
  assert_int_equal(venue_open(&v, persist_params(&pp), &st), 0);
  venue_close(&v);

  /* A store that cannot write: the order is refused, never reported open. */
  venue_go(&v, persist_params(&pp), &st, "BTC-USD");
  bars_until(&v, 1);
  st.fail_puts = 1;
  submit(&v, "lost", BUY, LMT, 1, 50, 0);
  assert_rejected(&v, "lost", TACK_EIO);
  st.fail_puts = 0;
  venue_close(&v);
  mock_store_free(&st);

  /* No store at all: a warning, and the venue runs in memory. */
  mock_store off;
  memset(&off, 0, sizeof off);
  off.disabled = 1;
  venue_go(&v, persist_params(&pp), &off, "BTC-USD");
  assert_non_null(strstr(v.ctx->log_error, "has no store"));
  bars_until(&v, 1);
  submit(&v, "m", BUY, MKT, 1, 0, 0);
  bars_until(&v, 2);
  assert_status(v.ctx, "m", TACK_STATUS_FILLED);
  venue_close(&v);
}

static void test_persist_random(void **state) {
  (void)state;
  /* A whole random session with persistence, restarted at the end: the
   * restored venue reports the same balances and every fill. */
  mock_store st;
  memset(&st, 0, sizeof st);
  venue a, b;
  random_session(&a, &st, 7, 1);
  double usd = balance_of(a.ctx, "USD")->total, btc = balance_of(a.ctx, "BTC")->total;
  size_t fills = mock_count(a.ctx, MOCK_FILL);
  venue_close(&a);
  params pp;
  venue_go(&b, session_params(&pp, 1, NULL), &st, "BTC-USD");
  assert_int_equal(vt->reconcile(b.self, 1, 0), 0);
  assert_int_equal(mock_pump_until(b.ctx, MOCK_DONE, 1), 0);
  assert_true(balance_of(b.ctx, "USD")->total == usd);
  assert_true(balance_of(b.ctx, "BTC")->total == btc);
  assert_int_equal(mock_count(b.ctx, MOCK_FILL), fills);
  venue_close(&b);
  mock_store_free(&st);
}

/* ------------------------------------------------------------------------ */
/* Determinism, failing allocations                                          */
/* ------------------------------------------------------------------------ */

static void test_determinism(void **state) {
  (void)state;
  venue a, b;
  random_session(&a, NULL, 123, 0);
  random_session(&b, NULL, 123, 0);
  assert_int_equal(a.ctx->n_events, b.ctx->n_events);
  for (size_t i = 0; i < a.ctx->n_events; i++)
    if (memcmp(&a.ctx->events[i], &b.ctx->events[i], sizeof(mock_event)) != 0)
      fail_msg("event %zu of %zu differs between two equal runs", i, a.ctx->n_events);
  venue_close(&b);
  random_session(&b, NULL, 124, 0);
  int differs = a.ctx->n_events != b.ctx->n_events;
  for (size_t i = 0; !differs && i < a.ctx->n_events; i++)
    differs = memcmp(&a.ctx->events[i], &b.ctx->events[i], sizeof(mock_event)) != 0;
  assert_true(differs);
  venue_close(&a);
  venue_close(&b);
}

/* Standard store parameters (as make_params), extra pairs first. */
static const char *const *store_params(params *p, const char *symbols, const char *const *extra) {
  const char *const base[] = {"symbols", symbols,     "source",      "store",     "slippage",
                              "none",    "maker_bps", "0",           "taker_bps", "0",
                              "persist", "false",     "interval_ms", "1000",      NULL};
  return join_kv(p, extra, base);
}

static void test_failing_allocations(void **state) {
  (void)state;
  /* Fail the n-th allocation, for every n until a whole run needs no
   * failure: each must fail cleanly, leak nothing and crash nowhere. With
   * files, then with the store. */
  for (int source = 0; source < 2; source++) {
    static const char *const persist[] = {"persist", "true", NULL};
    params pp;
    mock_store st;
    memset(&st, 0, sizeof st);
    uint64_t n;
    for (n = 1; n < 2000; n++) {
      venue v;
      const char *const *kv =
          source == 0 ? persist_params(&pp) : store_params(&pp, "BTC-USD", persist);
      tack_alloc_fail_after(n);
      int rc = venue_open(&v, kv, &st);
      if (rc == 0 && vt->connect(v.self) == 0) {
        mock_pump(v.ctx, 4);
        venue_sub(&v, "BTC-USD");
        mock_pump(v.ctx, 3);
        order(&v, "a", "BTC-USD", BUY, MKT, 0, 1, 0, 0);
        order(&v, "b", "BTC-USD", BUY, LMT, 0, 1, 96, 0);
        vt->reconcile(v.self, 1, 0);
        mock_pump(v.ctx, 100);
      }
      tack_alloc_fail_after(0);
      int clean = rc == 0 && v.ctx->acct.failed == 0;
      venue_close(&v);
      mock_store_free(&st);
      if (clean)
        break;
    }
    assert_true(n > 5 && n < 2000);
  }
}

/* ------------------------------------------------------------------------ */
/* The store source, from and to, batching                                   */
/* ------------------------------------------------------------------------ */

/* Every event of a and b equal, bit for bit, in order (connection events
 * left out when skip_connection: they name the data's source). */
static void assert_same_events(const tack_ctx *a, const tack_ctx *b, int skip_connection) {
  size_t i = 0, j = 0, compared = 0;
  for (;;) {
    while (skip_connection && i < a->n_events && a->events[i].kind == MOCK_CONNECTION)
      i++;
    while (skip_connection && j < b->n_events && b->events[j].kind == MOCK_CONNECTION)
      j++;
    if (i == a->n_events || j == b->n_events)
      break;
    if (memcmp(&a->events[i], &b->events[j], sizeof(mock_event)) != 0)
      fail_msg("event %zu (kind %d) differs from event %zu (kind %d)", i, a->events[i].kind, j,
               b->events[j].kind);
    i++;
    j++;
    compared++;
  }
  if (i != a->n_events || j != b->n_events)
    fail_msg("one run has more events: %zu of %zu against %zu of %zu", i, a->n_events, j,
             b->n_events);
  assert_true(compared > 0);
}

static void test_store_replay(void **state) {
  (void)state;
  venue a, b;
  params pa, pb;
  /* The fixture bars from the store and from the file: the same events,
   * orders and fills included. */
  const char *const *kv = store_params(&pa, "BTC-USD", NULL);
  venue_go(&a, kv, NULL, "BTC-USD");
  tack_exchange_caps caps;
  memset(&caps, 0, sizeof caps);
  caps.size = sizeof caps;
  assert_int_equal(vt->caps(a.self, &caps), 0);
  assert_int_equal(caps.bar_timeframes[0], 60);
  assert_non_null(strstr(mock_nth(a.ctx, MOCK_CONNECTION, 1)->detail, "the host's store"));
  open_bars(&b, &pb, NULL);
  venue *both[2] = {&a, &b};
  for (int k = 0; k < 2; k++) {
    venue *v = both[k];
    bars_until(v, 1);
    submit(v, "m1", BUY, MKT, 1, 0, 0);
    submit(v, "l1", BUY, LMT, 2, 96, 0);
    bars_until(v, 4);
    submit(v, "s1", SELL, STP, 1, 0, 97.5);
    mock_pump(v->ctx, 100);
    assert_int_equal(mock_count(v->ctx, MOCK_BAR), 10);
    assert_int_equal(mock_last(v->ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  }
  assert_status(a.ctx, "l1", TACK_STATUS_FILLED);
  assert_same_events(a.ctx, b.ctx, 1);
  venue_close(&a);
  venue_close(&b);

  /* data = "store" is source = "store", also as the path the host makes of
   * it, even where the store itself lives. */
  char here[700];
  snprintf(here, sizeof here, "%s/store", tmp_dir);
  const char *const words[] = {"store", here};
  for (int k = 0; k < 2; k++) {
    const char *const shorthand[] = {"symbols", "BTC-USD", "data", words[k],
                                     "persist", "false",   NULL};
    venue_go(&a, shorthand, NULL, "BTC-USD");
    mock_pump(a.ctx, 100);
    assert_int_equal(mock_count(a.ctx, MOCK_BAR), 10);
    assert_non_null(strstr(mock_nth(a.ctx, MOCK_CONNECTION, 1)->detail, "the host's store"));
    venue_close(&a);
  }

  /* Two symbols merge by time as their files do. */
  venue_go(&a, store_params(&pa, "BTC-USD,ETH-USD", NULL), NULL, "BTC-USD");
  venue_sub(&a, "ETH-USD");
  const char *const files[] = {"symbols", "BTC-USD,ETH-USD", NULL};
  venue_go(&b, make_params(&pb, folder_path, files), NULL, "BTC-USD");
  venue_sub(&b, "ETH-USD");
  mock_pump(a.ctx, 1000);
  mock_pump(b.ctx, 1000);
  assert_int_equal(mock_count(a.ctx, MOCK_BAR), 13);
  assert_same_events(a.ctx, b.ctx, 1);
  venue_close(&a);
  venue_close(&b);
}

static void test_store_window(void **state) {
  (void)state;
  venue v;
  params pp;
  /* Many refills of the window, from short pages, batched: every bar in
   * order, with memory far below the whole series'. */
  mock_page_max = 700;
  const char *const batch[] = {"interval_ms", "0", NULL};
  venue_go(&v, store_params(&pp, "SOL-USD", batch), NULL, "SOL-USD");
  mock_page_max = 0;
  mock_pump(v.ctx, SIZE_MAX);
  assert_int_equal(mock_count(v.ctx, MOCK_BAR), BIG_BARS);
  size_t k = 0;
  for (size_t i = 0; i < v.ctx->n_events; i++) {
    const mock_event *e = &v.ctx->events[i];
    if (e->kind != MOCK_BAR)
      continue;
    if (e->u.bar.ts != big[k].ts || e->u.bar.close != big[k].close)
      fail_msg("bar %zu differs from the store's", k);
    k++;
  }
  assert_int_equal(mock_last(v.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  assert_true(v.ctx->candle_calls >= BIG_BARS / 700);
  uint64_t peak = v.ctx->acct.peak_bytes;
  if (peak >= BIG_BARS * sizeof(tack_bar) / 2)
    fail_msg("peak memory %llu bytes: the window should keep it well under the series' %zu",
             (unsigned long long)peak, BIG_BARS * sizeof(tack_bar));
  venue_close(&v);

  /* A third of the bars: the same memory. */
  const char *const third[] = {"interval_ms", "0", "to", "1704307200", NULL};
  venue_go(&v, store_params(&pp, "SOL-USD", third), NULL, "SOL-USD");
  mock_pump(v.ctx, SIZE_MAX);
  assert_int_equal(mock_count(v.ctx, MOCK_BAR), 4000);
  assert_true(v.ctx->acct.peak_bytes == peak);
  venue_close(&v);

  /* A feed latency longer than the window: it grows to hold what waits,
   * and every bar still arrives, in order. */
  const char *const late[] = {"interval_ms",     "0",        "timeframe", "1",
                              "feed_latency_ms", "86400000", NULL};
  venue_go(&v, store_params(&pp, "SOL-USD", late), NULL, "SOL-USD");
  mock_pump(v.ctx, SIZE_MAX);
  assert_int_equal(mock_count(v.ctx, MOCK_BAR), SECOND_BARS);
  for (size_t i = 0; i < SECOND_BARS; i++)
    assert_true(mock_nth(v.ctx, MOCK_BAR, i)->u.bar.ts == (T0 + (int64_t)i) * TACK_NS_PER_SEC);
  venue_close(&v);
}

static void test_from_to(void **state) {
  (void)state;
  venue v;
  params pp;
  /* [T0 + 120, T0 + 300): three bars, from the store and from the file. */
  const char *const range[] = {"from", "2024-01-01T00:02:00Z", "to", "1704067500", NULL};
  for (int k = 0; k < 2; k++) {
    if (k == 0)
      venue_go(&v, store_params(&pp, "BTC-USD", range), NULL, "BTC-USD");
    else
      open_bars(&v, &pp, range);
    mock_pump(v.ctx, 100);
    assert_int_equal(mock_count(v.ctx, MOCK_BAR), 3);
    assert_true(mock_nth(v.ctx, MOCK_BAR, 0)->u.bar.ts == (T0 + 120) * TACK_NS_PER_SEC);
    assert_true(mock_nth(v.ctx, MOCK_BAR, 2)->u.bar.ts == (T0 + 240) * TACK_NS_PER_SEC);
    venue_close(&v);
  }
  /* Trades: by their time. */
  const char *const ticks[] = {"symbols", "BTC-USD",    "data",        ticks_path,
                               "from",    "1704067201", "to",          "2024-01-01T00:00:04Z",
                               "persist", "false",      "interval_ms", "1",
                               NULL};
  venue_go(&v, ticks, NULL, "BTC-USD");
  mock_pump(v.ctx, 100);
  assert_int_equal(mock_count(v.ctx, MOCK_TRADE), 4);
  venue_close(&v);
  /* The walk starts at from (on the grid) and stops before to. */
  const char *const walk[] = {
      "symbols", "BTC-USD", "from", "2024-03-01T00:00:30Z", "to", "2024-03-01T01:00:00Z",
      "persist", "false",   NULL};
  venue_go(&v, walk, NULL, "BTC-USD");
  mock_pump(v.ctx, 1000);
  assert_int_equal(mock_count(v.ctx, MOCK_BAR), 59);
  assert_true(mock_nth(v.ctx, MOCK_BAR, 0)->u.bar.ts == INT64_C(1709251260) * TACK_NS_PER_SEC);
  venue_close(&v);

  const char *const bad[] = {"symbols", "BTC-USD", "from", "yesterday", NULL};
  refused(bad, "is not a UTC time");
  const char *const back[] = {"symbols", "BTC-USD", "from", "2024-02-01", "to", "2024-01-01", NULL};
  refused(back, "is not after from");
  const char *const none[] = {"symbols", "BTC-USD", "data", bars_path, "from", "2025-01-01", NULL};
  refused(none, "has no rows from 2025-01-01T00:00:00Z");
  const char *const before[] = {"symbols", "BTC-USD", "to", "2023-01-01", NULL};
  refused(before, "leaves no bar of the random walk");
}

static void test_store_errors(void **state) {
  (void)state;
  venue v;
  params pp;
  const char *const *kv = store_params(&pp, "XRP-USD", NULL);
  refused(kv, "XRP-USD at 60 s: the host's store holds no such candles");
  const char *const hourly[] = {"timeframe", "3600", NULL};
  refused(store_params(&pp, "BTC-USD", hourly), "BTC-USD at 3600 s");
  const char *const later[] = {"from", "2030-01-01", NULL};
  refused(store_params(&pp, "BTC-USD", later),
          "holds 10 candles from 2024-01-01T00:00:00Z to 2024-01-01T00:09:00Z, none from "
          "2030-01-01T00:00:00Z");
  const char *const both[] = {"data", bars_path, NULL};
  refused(store_params(&pp, "BTC-USD", both), "data is read only with source = files");
  const char *const files[] = {"symbols", "BTC-USD", "source", "files", NULL};
  refused(files, "is files but data names no file");

  /* Candles with a low of 0: refused at configure when the first page
   * holds one, else the replay stops there. */
  refused(store_params(&pp, "NIL-USD", NULL), "has a low of 0");
  const char *const batch[] = {"interval_ms", "0", NULL};
  venue_go(&v, store_params(&pp, "ZER-USD", batch), NULL, "ZER-USD");
  mock_pump(v.ctx, SIZE_MAX);
  assert_int_equal(mock_last(v.ctx, MOCK_CONNECTION)->state, TACK_CONN_FAILED);
  /* The candle is named in the line before the venue's last words. */
  assert_int_equal(v.ctx->log_errors, 2);
  assert_non_null(strstr(v.ctx->log_error, "reading candles from the store"));
  assert_true(mock_count(v.ctx, MOCK_BAR) < 1500);
  venue_close(&v);

  /* Without a store, configure passes (as `tack check` runs it) and start
   * says what is missing. */
  mock_candles = NULL;
  int rc = venue_open(&v, store_params(&pp, "BTC-USD", NULL), NULL);
  mock_candles = candles;
  assert_int_equal(rc, TACK_ESTATE);
  assert_int_equal(v.ctx->param_errors, 0);
  assert_non_null(strstr(v.ctx->log_error, "runs without a store"));
  /* The store comes back: the next start reads it. */
  v.ctx->candles = candles;
  assert_int_equal(vt->life.start(v.self), 0);
  v.started = 1;
  venue_connect(&v);
  venue_sub(&v, "BTC-USD");
  mock_pump(v.ctx, 100);
  assert_int_equal(mock_count(v.ctx, MOCK_BAR), 10);
  venue_close(&v);
}

static void test_store_resume(void **state) {
  (void)state;
  mock_store st;
  memset(&st, 0, sizeof st);
  venue a, b;
  params pp;
  const char *const persist[] = {"persist", "true", "interval_ms", "1", NULL};
  const char *const *kv = store_params(&pp, "SOL-USD", persist);
  venue_go(&a, kv, &st, "SOL-USD");
  bars_until(&a, 5000);
  assert_int_equal(order(&a, "m", "SOL-USD", BUY, MKT, 0, 1, 0, 0), 0);
  assert_int_equal(order(&a, "rest", "SOL-USD", BUY, LMT, 0, 1, 1, 0), 0);
  bars_until(&a, 5003);
  assert_status(a.ctx, "m", TACK_STATUS_FILLED);
  double cash = balance_of(a.ctx, "USD")->total;
  venue_close(&a);

  /* The restart reads on from the candle after the last one published:
   * it does not page through the 5003 before it. */
  mock_page_max = 100;
  venue_go(&b, kv, &st, "SOL-USD");
  mock_page_max = 0;
  assert_int_equal(vt->reconcile(b.self, 1, 0), 0);
  assert_int_equal(mock_pump_until(b.ctx, MOCK_DONE, 1), 0);
  assert_true(balance_of(b.ctx, "USD")->total == cash);
  assert_status(b.ctx, "rest", TACK_STATUS_OPEN);
  bars_until(&b, 1);
  assert_true(mock_nth(b.ctx, MOCK_BAR, 0)->u.bar.ts == big[5003].ts);
  if (b.ctx->candle_calls >= 50) /* a page at configure, a window of 4096 in pages of 100 */
    fail_msg("%zu reads of the store: the restart paged through what it had replayed",
             b.ctx->candle_calls);
  mock_pump(b.ctx, SIZE_MAX);
  assert_int_equal(mock_count(b.ctx, MOCK_BAR), BIG_BARS - 5003);
  assert_int_equal(mock_last(b.ctx, MOCK_CONNECTION)->state, TACK_CONN_EOF);
  venue_close(&b);

  /* A store that now holds fewer candles than the state counted. */
  const char *const shorter[] = {"persist", "true", "interval_ms", "1", "to", "1704100000", NULL};
  assert_int_equal(venue_open(&b, store_params(&pp, "SOL-USD", shorter), &st), TACK_ECONFIG);
  assert_non_null(strstr(b.ctx->log_error, "outside the range replayed now"));
  venue_close(&b);
  mock_store_free(&st);
}

static void test_store_vs_files(void **state) {
  (void)state;
  /* A seeded session on 3000 bars of SOL-USD, from the store and from its
   * file: the same fills, updates, balances and positions. */
  venue a, b;
  static params pa, pb;
  const char *const range[] = {
      "from", "2024-01-02", "to", "1704369600",    "lot", "0.001", "interval_ms", "0", "slippage",
      "sqrt", "taker_bps",  "4",  "participation", "0.3", "cash",  "100000000",   NULL};
  run_session(&a, store_params(&pa, "SOL-USD", range), NULL, "SOL-USD", 17);
  const char *const file[] = {"data", big_path, "source", "files", NULL};
  params mid;
  join_kv(&mid, file, range);
  run_session(&b, store_params(&pb, "SOL-USD", mid.kv), NULL, "SOL-USD", 17);
  assert_int_equal(mock_count(a.ctx, MOCK_BAR), 3600);
  if (mock_count(a.ctx, MOCK_FILL) < 500)
    fail_msg("%zu fills, want 500 or more", mock_count(a.ctx, MOCK_FILL));
  assert_same_events(a.ctx, b.ctx, 1);
  venue_close(&a);
  venue_close(&b);
}

static void test_batching_parity(void **state) {
  (void)state;
  /* The same session stepped one event per tick (interval_ms 1) and in
   * batches (0): every event the same, bit for bit. */
  const char *const latency[] = {"latency_ms", "90000", "feed_latency_ms", "120000", NULL};
  const char *const *extras[] = {NULL, latency};
  for (size_t k = 0; k < 2; k++) {
    venue a, b;
    static params pa, pb;
    params ea, eb;
    const char *const one[] = {"interval_ms", "1", NULL}, *const many[] = {"interval_ms", "0",
                                                                           NULL};
    join_kv(&ea, one, extras[k]);
    join_kv(&eb, many, extras[k]);
    run_session(&a, session_params(&pa, 0, ea.kv), NULL, "BTC-USD,ETH-USD", 31 + k);
    run_session(&b, session_params(&pb, 0, eb.kv), NULL, "BTC-USD,ETH-USD", 31 + k);
    assert_true(mock_count(a.ctx, MOCK_FILL) > 100);
    assert_same_events(a.ctx, b.ctx, 0);
    /* What batching changes: far fewer timers. */
    assert_true(a.ctx->next_timer_id >= b.ctx->next_timer_id + 500);
    venue_close(&a);
    venue_close(&b);
  }
  /* And on the store, paging. */
  venue a, b;
  static params pa, pb;
  const char *const one[] = {"interval_ms", "1", "lot", "0.001", NULL};
  const char *const many[] = {"interval_ms", "0", "lot", "0.001", NULL};
  mock_page_max = 333;
  run_session(&a, store_params(&pa, "SOL-USD", one), NULL, "SOL-USD", 5);
  run_session(&b, store_params(&pb, "SOL-USD", many), NULL, "SOL-USD", 5);
  mock_page_max = 0;
  assert_int_equal(mock_count(a.ctx, MOCK_BAR), BIG_BARS);
  assert_same_events(a.ctx, b.ctx, 0);
  venue_close(&a);
  venue_close(&b);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Puts the candles of a CSV text into the store. */
static int put_csv(const char *symbol, const char *text) {
  tack_diag d = TACK_DIAG_INIT;
  tack_bar *bars = NULL;
  size_t n = 0;
  int rc = tack_candles_csv_parse(symbol, text, strlen(text), 60, &bars, &n, NULL, 5, &d);
  if (rc == 0)
    rc = tack_candles_put(candles, symbol, 60, bars, n, NULL, NULL);
  if (rc != 0)
    tack_diag_print(&d, stderr);
  tack_free(NULL, bars);
  tack_diag_free(&d);
  return rc;
}

/* The store of the store source's tests (see BIG_BARS), and big's file. */
static int make_store(void) {
  char path[700];
  snprintf(path, sizeof path, "%s/store", tmp_dir);
  if (tack_store_open(path, 0, &store) != 0 || tack_candles_open(store, &candles) != 0 ||
      put_csv("BTC-USD", bars_csv) != 0 || put_csv("ETH-USD", eth_csv) != 0)
    return -1;
  /* A walk on the 0.01 grid, in whole ticks so that every price is the
   * same double in the store and in the file (%.17g reads back exactly). */
  uint64_t r = 42;
  int64_t close = 2000000;
  for (size_t i = 0; i < BIG_BARS; i++) {
    int64_t open = close;
    close = open + (int64_t)(lcg(&r) % 401) - 200;
    int64_t high = (open > close ? open : close) + (int64_t)(lcg(&r) % 100);
    int64_t low = (open < close ? open : close) - (int64_t)(lcg(&r) % 100);
    big[i] = (tack_bar){(T0 + 60 * (int64_t)i) * TACK_NS_PER_SEC,
                        (double)open / 100.0,
                        (double)high / 100.0,
                        (double)low / 100.0,
                        (double)close / 100.0,
                        (double)(1 + lcg(&r) % 100000) / 1000.0,
                        60,
                        TACK_BAR_CLOSED};
  }
  if (tack_candles_put(candles, "SOL-USD", 60, big, BIG_BARS, NULL, NULL) != 0)
    return -1;
  /* Candles the store takes and the venue cannot use: a low of 0, first
   * and in the middle. */
  tack_bar zero[2000];
  memcpy(zero, big, sizeof zero);
  zero[1500].low = 0;
  if (tack_candles_put(candles, "ZER-USD", 60, zero, 2000, NULL, NULL) != 0 ||
      tack_candles_put(candles, "NIL-USD", 60, zero + 1500, 1, NULL, NULL) != 0)
    return -1;
  tack_bar *seconds = calloc(SECOND_BARS, sizeof *seconds);
  if (!seconds)
    return -1;
  for (size_t i = 0; i < SECOND_BARS; i++) {
    seconds[i] = big[i];
    seconds[i].ts = (T0 + (int64_t)i) * TACK_NS_PER_SEC;
  }
  int rc = tack_candles_put(candles, "SOL-USD", 1, seconds, SECOND_BARS, NULL, NULL);
  free(seconds);
  if (rc != 0)
    return -1;
  snprintf(big_path, sizeof big_path, "%s/SOL-USD.csv", tmp_dir);
  FILE *f = fopen(big_path, "w");
  if (!f)
    return -1;
  fprintf(f, "%s\n", TACK_CANDLES_CSV_HEADER);
  for (size_t i = 0; i < BIG_BARS; i++) {
    char row[TACK_CANDLES_CSV_ROW_MAX];
    fwrite(row, 1, tack_candles_csv_row(&big[i], row), f);
  }
  if (fclose(f) != 0)
    return -1;
  mock_candles = candles;
  return 0;
}

int main(void) {
  const char *build = getenv("TACK_BUILD_DIR");
  char so[1024];
  snprintf(so, sizeof so, "%s/plugins/paper.so", build ? build : ".");
  void *handle = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    fprintf(stderr, "test_paper: cannot load %s: %s\n", so, dlerror());
    return 1;
  }
  const tack_plugin_list *list = dlsym(handle, TACK_ENTRY_SYMBOL);
  if (!list || list->magic != TACK_MAGIC || list->layout != TACK_LAYOUT_FINGERPRINT ||
      list->count != 1 || strcmp(list->plugins[0]->id, "paper") != 0 ||
      list->plugins[0]->kind != TACK_KIND_EXCHANGE) {
    fprintf(stderr, "test_paper: %s does not carry the exchange plugin \"paper\"\n", so);
    return 1;
  }
  paper_desc = list->plugins[0];
  vt = paper_desc->vtable;

  snprintf(tmp_dir, sizeof tmp_dir, "%s/tack-paper-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmp_dir)) {
    perror("test_paper: mkdtemp");
    return 1;
  }
  snprintf(bars_path, sizeof bars_path, "%s/bars.csv", tmp_dir);
  snprintf(ticks_path, sizeof ticks_path, "%s/ticks.csv", tmp_dir);
  snprintf(folder_path, sizeof folder_path, "%s/folder", tmp_dir);
  char path[700];
  FILE *f;
  const char *files[][2] = {{bars_path, bars_csv}, {ticks_path, ticks_csv}};
  for (size_t i = 0; i < 2; i++) {
    f = fopen(files[i][0], "w");
    if (!f || fputs(files[i][1], f) < 0 || fclose(f) != 0) {
      perror(files[i][0]);
      return 1;
    }
  }
  if (mkdir(folder_path, 0700) != 0) {
    perror(folder_path);
    return 1;
  }
  const char *folder_files[][2] = {{"BTC-USD.csv", bars_csv}, {"ETH-USD.csv", eth_csv}};
  for (size_t i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s", folder_path, folder_files[i][0]);
    f = fopen(path, "w");
    if (!f || fputs(folder_files[i][1], f) < 0 || fclose(f) != 0) {
      perror(path);
      return 1;
    }
  }

  if (make_store() != 0)
    return 1;

  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_caps_and_instruments),
      cmocka_unit_test(test_bars_replay),
      cmocka_unit_test(test_folder_and_merge),
      cmocka_unit_test(test_ticks),
      cmocka_unit_test(test_walk),
      cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_real_data),
      cmocka_unit_test(test_market),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_stops),
      cmocka_unit_test(test_participation),
      cmocka_unit_test(test_fees),
      cmocka_unit_test(test_slippage),
      cmocka_unit_test(test_latency),
      cmocka_unit_test(test_checks_and_funds),
      cmocka_unit_test(test_shorts),
      cmocka_unit_test(test_idempotent_and_cancel),
      cmocka_unit_test(test_expiry),
      cmocka_unit_test(test_fault_injection),
      cmocka_unit_test(test_exact_cash),
      cmocka_unit_test(test_reconcile),
      cmocka_unit_test(test_persistence),
      cmocka_unit_test(test_restart_in_memory),
      cmocka_unit_test(test_state_refused),
      cmocka_unit_test(test_persist_random),
      cmocka_unit_test(test_determinism),
      cmocka_unit_test(test_failing_allocations),
      cmocka_unit_test(test_store_replay),
      cmocka_unit_test(test_store_window),
      cmocka_unit_test(test_from_to),
      cmocka_unit_test(test_store_errors),
      cmocka_unit_test(test_store_resume),
      cmocka_unit_test(test_store_vs_files),
      cmocka_unit_test(test_batching_parity),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  tack_candles_close(candles);
  tack_store_close(store);
  if (nftw(tmp_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
    fprintf(stderr, "test_paper: could not remove %s\n", tmp_dir);
  return failed;
}
