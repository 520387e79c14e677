/*
 * test_template.c: the template plugins of sdk/template, loaded from their
 * built shared objects (and the C++ plugin of header_cxx.cpp) and driven
 * through the fake host: their entry symbols, what each computes, the
 * replay exchange's protocol, and that every error path frees what it took.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_host.h"

/* cmocka 1.1.5 (Debian 12) has no assert_double_equal. */
#define assert_near(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

static const char *const template_files[] = {
    TEMPLATE_SMA, TEMPLATE_MEDIAN, TEMPLATE_MOMENTUM, TEMPLATE_LINEAR, TEMPLATE_REPLAY,
};
static const char *const template_ids[] = {
    "example.sma", "example.median", "example.momentum", "example.linear", "example.replay",
};
static const uint32_t template_kinds[] = {
    TACK_KIND_INDICATOR, TACK_KIND_FILTER, TACK_KIND_STRATEGY, TACK_KIND_SCORER, TACK_KIND_EXCHANGE,
};
#define N_TEMPLATES (sizeof template_files / sizeof template_files[0])

/* A loaded plugin: its shared object and its (first) descriptor. */
typedef struct loaded {
  void *handle;
  const tack_plugin_desc *desc;
} loaded;

static loaded load_one(const char *path) {
  loaded l = {NULL, NULL};
  const tack_plugin_list *list = fake_load(path, &l.handle);
  assert_non_null(list);
  assert_true(list->count >= 1);
  l.desc = list->plugins[0];
  return l;
}

static size_t vtable_size_for(uint32_t kind) {
  switch (kind) {
  case TACK_KIND_EXCHANGE:
    return sizeof(tack_exchange_vtable);
  case TACK_KIND_FILTER:
    return sizeof(tack_filter_vtable);
  case TACK_KIND_INDICATOR:
    return sizeof(tack_indicator_vtable);
  case TACK_KIND_SCORER:
    return sizeof(tack_scorer_vtable);
  case TACK_KIND_STRATEGY:
    return sizeof(tack_strategy_vtable);
  default:
    return 0;
  }
}

static int valid_name(const char *s, const char *extra) {
  if (s == NULL || *s == '\0')
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
          strchr(extra, *s) != NULL))
      return 0;
  return 1;
}

/* What the loader checks before running any code, checked here without it. */
static void check_entry(const tack_plugin_list *list) {
  assert_int_equal(list->magic, TACK_MAGIC);
  assert_int_equal(list->size, sizeof(tack_plugin_list));
  assert_int_equal(list->abi_major, TACK_ABI_MAJOR);
  assert_true(list->abi_minor <= TACK_ABI_MINOR);
  assert_true(list->layout == TACK_LAYOUT_FINGERPRINT);
  for (uint32_t i = 0; i < list->count; i++) {
    const tack_plugin_desc *d = list->plugins[i];
    assert_int_equal(d->size, sizeof(tack_plugin_desc));
    assert_true(valid_name(d->id, ".-"));
    assert_non_null(d->name);
    assert_non_null(d->version);
    assert_non_null(d->description);
    assert_int_equal(*(const uint32_t *)d->vtable, vtable_size_for(d->kind));
    const tack_lifecycle *life = fake_lifecycle(d);
    assert_non_null(life->create);
    assert_non_null(life->destroy);
    for (const tack_param_spec *p = d->params; p != NULL && p->name != NULL; p++) {
      assert_true(valid_name(p->name, ""));
      assert_true(p->type >= TACK_PARAM_INT && p->type <= TACK_PARAM_STRING);
      assert_non_null(p->help);
      if ((p->type == TACK_PARAM_INT || p->type == TACK_PARAM_DOUBLE) && p->min <= p->max &&
          !(p->flags & TACK_PARAM_REQUIRED))
        assert_true(p->def >= p->min && p->def <= p->max);
    }
  }
}

static void test_entries(void **state) {
  (void)state;
  for (size_t i = 0; i < N_TEMPLATES; i++) {
    void *handle;
    const tack_plugin_list *list = fake_load(template_files[i], &handle);
    assert_non_null(list);
    check_entry(list);
    assert_int_equal(list->count, 1);
    assert_string_equal(list->plugins[0]->id, template_ids[i]);
    assert_int_equal(list->plugins[0]->kind, template_kinds[i]);
    fake_unload(handle);
  }
}

/* The C++ translation unit of header_cxx.cpp, built as a plugin: its entry
 * is right and its strategy runs. */
static void test_cxx_plugin(void **state) {
  (void)state;
  void *handle;
  const tack_plugin_list *list = fake_load(CXX_PLUGIN, &handle);
  assert_non_null(list);
  check_entry(list);
  assert_int_equal(list->count, 2);
  assert_string_equal(list->plugins[0]->id, "test.cxx_strategy");
  assert_string_equal(list->plugins[1]->id, "test.cxx_indicator");

  tack_ctx ctx = {0};
  assert_int_equal(fake_instance_new(&ctx, list->plugins[0], NULL), 0);
  const tack_strategy_vtable *vt = list->plugins[0]->vtable;
  tack_bar up = {.ts = 0, .open = 1, .high = 3, .low = 1, .close = 2, .flags = TACK_BAR_CLOSED};
  tack_signal sig = {0};
  assert_int_equal(vt->on_bar(ctx.self, &up, &sig), 1);
  assert_true(sig.strength == 1.0);
  fake_instance_free(&ctx);
  assert_int_equal(ctx.live_blocks, 0);
  fake_unload(handle);
}

/* ------------------------------------------------------------------------ */
/* example.sma                                                               */
/* ------------------------------------------------------------------------ */

static tack_bar closed_bar(double close) {
  tack_bar b = {.open = close,
                .high = close,
                .low = close,
                .close = close,
                .timeframe_s = 60,
                .flags = TACK_BAR_CLOSED};
  return b;
}

static void test_sma(void **state) {
  (void)state;
  loaded l = load_one(TEMPLATE_SMA);
  const tack_indicator_vtable *vt = l.desc->vtable;
  static const fake_param params[] = {{"period", "3"}, {NULL, NULL}};
  tack_ctx ctx = {0};
  assert_int_equal(fake_instance_new(&ctx, l.desc, params), 0);
  assert_int_equal(vt->lookback(ctx.self), 2);
  assert_string_equal(vt->outputs[0].name, "sma");
  assert_null(vt->outputs[1].name);

  double out = -1;
  tack_bar b = closed_bar(1);
  assert_int_equal(vt->update(ctx.self, &b, &out), 0);
  b = closed_bar(2);
  assert_int_equal(vt->update(ctx.self, &b, &out), 0);
  assert_true(out == -1); /* untouched while warming up */

  /* A forming bar gives a value but leaves the state alone. */
  tack_bar forming = closed_bar(30);
  forming.flags = 0;
  assert_int_equal(vt->update(ctx.self, &forming, &out), 1);
  assert_near(out, 11.0, 1e-12);

  b = closed_bar(3);
  assert_int_equal(vt->update(ctx.self, &b, &out), 1);
  assert_near(out, 2.0, 1e-12);
  b = closed_bar(4);
  assert_int_equal(vt->update(ctx.self, &b, &out), 1);
  assert_near(out, 3.0, 1e-12);
  b = closed_bar(9);
  assert_int_equal(vt->update(ctx.self, &b, &out), 1);
  assert_near(out, 16.0 / 3.0, 1e-12);

  b = closed_bar(NAN);
  assert_int_equal(vt->update(ctx.self, &b, &out), TACK_EINVAL);

  vt->reset(ctx.self);
  b = closed_bar(5);
  assert_int_equal(vt->update(ctx.self, &b, &out), 0);
  fake_instance_free(&ctx);
  assert_int_equal(ctx.live_blocks, 0);

  /* period 1 is the close itself. */
  static const fake_param one[] = {{"period", "1"}, {NULL, NULL}};
  assert_int_equal(fake_instance_new(&ctx, l.desc, one), 0);
  b = closed_bar(7.5);
  assert_int_equal(vt->update(ctx.self, &b, &out), 1);
  assert_true(out == 7.5);
  fake_instance_free(&ctx);
  fake_unload(l.handle);
}

/* Streaming over real daily closes gives the batch mean at every bar. */
static void test_sma_real_data(void **state) {
  (void)state;
  const char *shared = getenv("TACK_SHARED_DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/data/btcusd_bitstamp_1d.csv", shared ? shared : "");
  FILE *f = shared ? fopen(path, "r") : NULL;
  if (f == NULL) {
    fprintf(stderr, "skipped: %s is not there (../shared is absent)\n", path);
    skip();
  }
  double *closes = malloc(4000 * sizeof *closes);
  assert_non_null(closes);
  size_t n = 0;
  char line[256];
  while (fgets(line, sizeof line, f) && n < 4000) {
    double ts, o, h, lo, c, v;
    if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf", &ts, &o, &h, &lo, &c, &v) == 6)
      closes[n++] = c;
  }
  fclose(f);
  assert_true(n > 1000);

  loaded l = load_one(TEMPLATE_SMA);
  const tack_indicator_vtable *vt = l.desc->vtable;
  static const fake_param params[] = {{"period", "20"}, {NULL, NULL}};
  tack_ctx ctx = {0};
  assert_int_equal(fake_instance_new(&ctx, l.desc, params), 0);
  for (size_t i = 0; i < n; i++) {
    tack_bar b = closed_bar(closes[i]);
    double out;
    int rc = vt->update(ctx.self, &b, &out);
    assert_int_equal(rc, i >= 19 ? 1 : 0);
    if (rc == 1) {
      double sum = 0;
      for (size_t j = i - 19; j <= i; j++)
        sum += closes[j];
      assert_true(fabs(out - sum / 20) <= 1e-9 * fabs(sum / 20));
    }
  }
  fake_instance_free(&ctx);
  fake_unload(l.handle);
  free(closes);
}

/* ------------------------------------------------------------------------ */
/* example.median                                                            */
/* ------------------------------------------------------------------------ */

static void test_median(void **state) {
  (void)state;
  loaded l = load_one(TEMPLATE_MEDIAN);
  const tack_filter_vtable *vt = l.desc->vtable;
  tack_ctx ctx = {0};
  assert_int_equal(fake_instance_new(&ctx, l.desc, NULL), 0);
  tack_bar in = {.ts = 42,
                 .open = 10,
                 .high = 14,
                 .low = 9,
                 .close = 13,
                 .volume = 5,
                 .timeframe_s = 60,
                 .flags = TACK_BAR_CLOSED};
  tack_bar out[2];
  uint32_t n = 9;
  assert_int_equal(vt->update(ctx.self, &in, out, 2, &n), 0);
  assert_int_equal(n, 1);
  assert_true(out[0].close == 11.5);
  assert_true(out[0].open == 10 && out[0].high == 14 && out[0].low == 9);
  assert_true(out[0].volume == 5 && out[0].ts == 42 && out[0].flags == TACK_BAR_CLOSED);
  assert_int_equal(vt->update(ctx.self, &in, out, 0, &n), TACK_ENOSPC);
  assert_int_equal(n, 0);
  in.low = 20;
  assert_int_equal(vt->update(ctx.self, &in, out, 2, &n), TACK_EINVAL);
  fake_instance_free(&ctx);
  assert_int_equal(ctx.live_blocks, 0);
  fake_unload(l.handle);
}

/* ------------------------------------------------------------------------ */
/* example.momentum                                                          */
/* ------------------------------------------------------------------------ */

static void test_momentum(void **state) {
  (void)state;
  loaded l = load_one(TEMPLATE_MOMENTUM);
  const tack_strategy_vtable *vt = l.desc->vtable;
  static const fake_param params[] = {{"lookback", "2"}, {"scale", "0.1"}, {NULL, NULL}};
  tack_ctx ctx = {0};
  assert_int_equal(fake_instance_new(&ctx, l.desc, params), 0);
  tack_signal sig;
  memset(&sig, 0, sizeof sig);

  tack_bar b = closed_bar(100);
  assert_int_equal(vt->on_bar(ctx.self, &b, &sig), 0);
  b = closed_bar(101);
  assert_int_equal(vt->on_bar(ctx.self, &b, &sig), 0);
  b = closed_bar(104);
  assert_int_equal(vt->on_bar(ctx.self, &b, &sig), 1);
  assert_near(sig.strength, 0.4, 1e-9);
  assert_true(sig.confidence == 1.0);
  assert_true(sig.ts == ctx.now);
  assert_non_null(strstr(sig.reason, "+4.00%"));

  /* Forming bars and bars of another timeframe are ignored. */
  tack_bar forming = closed_bar(1);
  forming.flags = 0;
  assert_int_equal(vt->on_bar(ctx.self, &forming, &sig), 0);
  tack_bar hourly = closed_bar(1);
  hourly.timeframe_s = 3600;
  assert_int_equal(vt->on_bar(ctx.self, &hourly, &sig), 0);

  /* 101 -> 50: far beyond -scale, clamped. */
  b = closed_bar(50);
  assert_int_equal(vt->on_bar(ctx.self, &b, &sig), 1);
  assert_true(sig.strength == -1.0);
  assert_true(sig.reason[sizeof sig.reason - 1] == '\0');
  fake_instance_free(&ctx);
  assert_int_equal(ctx.live_blocks, 0);
  fake_unload(l.handle);
}

/* ------------------------------------------------------------------------ */
/* example.linear                                                            */
/* ------------------------------------------------------------------------ */

static void test_linear(void **state) {
  (void)state;
  loaded l = load_one(TEMPLATE_LINEAR);
  const tack_scorer_vtable *vt = l.desc->vtable;
  static const fake_param params[] = {{"weights", " 0.5, -1 ,2"}, {"bias", "0.1"}, {NULL, NULL}};
  tack_ctx ctx = {0};
  assert_int_equal(fake_instance_new(&ctx, l.desc, params), 0);
  const double x[3] = {1, 2, 3};
  tack_signal sig;
  memset(&sig, 0, sizeof sig);
  assert_int_equal(vt->score(ctx.self, x, 3, &sig), 0);
  assert_near(sig.strength, tanh(0.1 + 0.5 - 2 + 6), 1e-12);
  assert_near(sig.confidence, fabs(sig.strength), 1e-12);
  assert_int_equal(vt->score(ctx.self, x, 2, &sig), TACK_EINVAL);
  const double bad[3] = {1, NAN, 3};
  assert_int_equal(vt->score(ctx.self, bad, 3, &sig), TACK_EINVAL);
  fake_instance_free(&ctx);
  assert_int_equal(ctx.live_blocks, 0);

  static const char *const wrong[] = {"1,abc", "", "1,,2", "1 2", "1e999"};
  for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
    fake_param p[] = {{"weights", wrong[i]}, {NULL, NULL}};
    assert_int_equal(fake_instance_new(&ctx, l.desc, p), TACK_ECONFIG);
    assert_int_equal(ctx.n_param_errors, 1);
    assert_true(strncmp(ctx.param_error, "weights: ", 9) == 0);
    assert_int_equal(ctx.live_blocks, 0);
  }
  fake_unload(l.handle);
}

/* ------------------------------------------------------------------------ */
/* example.replay                                                            */
/* ------------------------------------------------------------------------ */

static const tack_exchange_vtable *replay_vt(const loaded *l) { return l->desc->vtable; }

/* create, configure, start, connect, and wait for the venue to be up. */
static void replay_up(const loaded *l, tack_ctx *ctx, const fake_param *params) {
  const tack_exchange_vtable *vt = replay_vt(l);
  assert_int_equal(fake_instance_new(ctx, l->desc, params), 0);
  assert_int_equal(vt->connect(ctx->self), TACK_ESTATE); /* not started */
  assert_int_equal(vt->life.start(ctx->self), 0);
  assert_int_equal(vt->connect(ctx->self), 0);
  assert_int_equal(ctx->n_conn, 0); /* answers come later, never inside the call */
  fake_run_timers(ctx, 10);
  assert_int_equal(ctx->n_conn, 1);
  assert_int_equal(ctx->conn[0], TACK_CONN_UP);
}

static void replay_down(const loaded *l, tack_ctx *ctx) {
  replay_vt(l)->life.stop(ctx->self);
  fake_instance_free(ctx);
  assert_int_equal(ctx->live_blocks, 0);
}

static tack_subscription bars_of(const char *symbol, uint32_t timeframe_s) {
  tack_subscription s;
  memset(&s, 0, sizeof s);
  tack_copy_text(s.symbol, sizeof s.symbol, symbol);
  s.channel = TACK_SUB_BARS;
  s.timeframe_s = timeframe_s;
  return s;
}

static void test_replay_walk(void **state) {
  (void)state;
  loaded l = load_one(TEMPLATE_REPLAY);
  const tack_exchange_vtable *vt = replay_vt(&l);
  static const fake_param params[] = {
      {"seed", "7"}, {"bars", "5"}, {"timeframe", "300"}, {"interval_ms", "2"}, {NULL, NULL}};
  tack_ctx ctx = {0};
  replay_up(&l, &ctx, params);

  tack_exchange_caps caps;
  memset(&caps, 0, sizeof caps);
  caps.size = sizeof caps;
  assert_int_equal(vt->caps(ctx.self, &caps), 0);
  assert_true(caps.flags & TACK_CAP_SIMULATED);
  assert_int_equal(caps.bar_timeframes[0], 300);
  assert_int_equal(caps.bar_timeframes[1], 0);

  assert_int_equal(vt->instruments(ctx.self, 11), 0);
  fake_run_timers(&ctx, 10);
  assert_int_equal(ctx.n_instruments, 2);
  assert_string_equal(ctx.instruments[0].symbol, "BTC-USD");
  assert_string_equal(ctx.instruments[0].base, "BTC");
  assert_string_equal(ctx.instruments[0].quote, "USD");
  assert_string_equal(ctx.instruments[1].symbol, "ETH-USD");
  assert_int_equal(ctx.n_done, 1);
  assert_int_equal(ctx.done_req[0], 11);
  assert_int_equal(ctx.done_status[0], 0);

  tack_subscription sub = bars_of("BTC-USD", 60);
  assert_int_equal(vt->subscribe(ctx.self, &sub), TACK_ENOTSUP);
  sub = bars_of("XRP-USD", 300);
  assert_int_equal(vt->subscribe(ctx.self, &sub), TACK_ENOENT);
  sub = bars_of("BTC-USD", 300);
  sub.channel = TACK_SUB_TRADES;
  assert_int_equal(vt->subscribe(ctx.self, &sub), TACK_ENOTSUP);
  sub = bars_of("BTC-USD", 300);
  assert_int_equal(vt->subscribe(ctx.self, &sub), 0);

  tack_time t0 = ctx.now;
  fake_run_timers(&ctx, 100);
  assert_int_equal(ctx.n_bars, 5);
  for (size_t i = 0; i < ctx.n_bars; i++) {
    const tack_bar *b = &ctx.bars[i].bar;
    assert_string_equal(ctx.bars[i].symbol, "BTC-USD");
    assert_true(ctx.bars[i].at == t0 + (tack_time)(i + 1) * 2000000);
    assert_int_equal(b->flags, TACK_BAR_CLOSED);
    assert_int_equal(b->timeframe_s, 300);
    assert_true(b->ts % (300 * TACK_NS_PER_SEC) == 0);
    if (i > 0) {
      assert_true(b->ts == ctx.bars[i - 1].bar.ts + 300 * TACK_NS_PER_SEC);
      assert_true(b->open == ctx.bars[i - 1].bar.close);
    }
    assert_true(b->low > 0 && b->low <= fmin(b->open, b->close));
    assert_true(b->high >= fmax(b->open, b->close));
    assert_true(b->volume > 0);
  }
  assert_true(ctx.bars[0].bar.open == 100.0);
  assert_int_equal(ctx.n_conn, 2);
  assert_int_equal(ctx.conn[1], TACK_CONN_EOF);
  assert_string_equal(ctx.conn_detail, "replayed 5 bars from random walk, seed 7");

  /* The same seed gives the same bars; another seed, others. */
  fake_bar first[5];
  memcpy(first, ctx.bars, sizeof first);
  replay_down(&l, &ctx);
  replay_up(&l, &ctx, params);
  assert_int_equal(vt->subscribe(ctx.self, &sub), 0);
  fake_run_timers(&ctx, 100);
  assert_int_equal(ctx.n_bars, 5);
  for (size_t i = 0; i < 5; i++)
    assert_memory_equal(&first[i].bar, &ctx.bars[i].bar, sizeof(tack_bar));
  replay_down(&l, &ctx);

  static const fake_param other[] = {
      {"seed", "8"}, {"bars", "5"}, {"timeframe", "300"}, {"interval_ms", "2"}, {NULL, NULL}};
  replay_up(&l, &ctx, other);
  assert_int_equal(vt->subscribe(ctx.self, &sub), 0);
  fake_run_timers(&ctx, 100);
  assert_int_equal(ctx.n_bars, 5);
  assert_true(ctx.bars[1].bar.close != first[1].bar.close);
  replay_down(&l, &ctx);
  fake_unload(l.handle);
}

/* Two symbols tick together; unsubscribing the last stops the clock. */
static void test_replay_two_symbols(void **state) {
  (void)state;
  loaded l = load_one(TEMPLATE_REPLAY);
  const tack_exchange_vtable *vt = replay_vt(&l);
  static const fake_param params[] = {{"bars", "10"}, {NULL, NULL}};
  tack_ctx ctx = {0};
  replay_up(&l, &ctx, params);
  tack_subscription btc = bars_of("BTC-USD", 60), eth = bars_of("ETH-USD", 60);
  assert_int_equal(vt->subscribe(ctx.self, &btc), 0);
  assert_int_equal(vt->subscribe(ctx.self, &eth), 0);
  fake_run_timers(&ctx, 3);
  assert_int_equal(ctx.n_bars, 6);
  assert_string_equal(ctx.bars[0].symbol, "BTC-USD");
  assert_string_equal(ctx.bars[1].symbol, "ETH-USD");
  assert_true(ctx.bars[0].bar.ts == ctx.bars[1].bar.ts);
  assert_true(ctx.bars[0].bar.close != ctx.bars[1].bar.close);
  assert_int_equal(vt->unsubscribe(ctx.self, &btc), 0);
  assert_int_equal(vt->unsubscribe(ctx.self, &eth), 0);
  assert_int_equal(fake_run_timers(&ctx, 100), 0);
  replay_down(&l, &ctx);
  fake_unload(l.handle);
}

static void test_replay_orders(void **state) {
  (void)state;
  loaded l = load_one(TEMPLATE_REPLAY);
  const tack_exchange_vtable *vt = replay_vt(&l);
  static const fake_param params[] = {{"symbols", "BTC-USD, ETH-USD,ETH-BTC"}, {NULL, NULL}};
  tack_ctx ctx = {0};
  replay_up(&l, &ctx, params);

  tack_order_request req;
  memset(&req, 0, sizeof req);
  tack_copy_text(req.client_id, sizeof req.client_id, "c-1");
  tack_copy_text(req.symbol, sizeof req.symbol, "BTC-USD");
  req.side = TACK_SIDE_BUY;
  req.type = TACK_ORDER_LIMIT;
  req.quantity = 0.5;
  req.limit_price = 99.5;
  assert_int_equal(vt->submit(ctx.self, &req), 0);
  assert_int_equal(ctx.n_updates, 0);
  assert_int_equal(vt->reconcile(ctx.self, 21, 0), 0);
  fake_run_timers(&ctx, 10);

  assert_int_equal(ctx.n_updates, 1);
  const tack_order_update *u = &ctx.updates[0];
  assert_string_equal(u->client_id, "c-1");
  assert_string_equal(u->symbol, "BTC-USD");
  assert_int_equal(u->status, TACK_STATUS_REJECTED);
  assert_int_equal(u->error, TACK_ENOTSUP);
  assert_string_equal(u->reason, "the example replay exchange does not fill orders");
  assert_true(u->quantity == 0.5 && u->limit_price == 99.5 && u->filled == 0);
  assert_int_equal(vt->cancel(ctx.self, "c-1", ""), TACK_ENOENT);

  /* BTC, USD, ETH once each; three flat positions; then done. */
  assert_int_equal(ctx.n_balances, 3);
  assert_string_equal(ctx.balances[0].currency, "BTC");
  assert_string_equal(ctx.balances[1].currency, "USD");
  assert_string_equal(ctx.balances[2].currency, "ETH");
  for (size_t i = 0; i < ctx.n_balances; i++)
    assert_true(ctx.balances[i].total == 0 && ctx.balances[i].available == 0);
  assert_int_equal(ctx.n_positions, 3);
  assert_string_equal(ctx.positions[2].symbol, "ETH-BTC");
  for (size_t i = 0; i < ctx.n_positions; i++)
    assert_true(ctx.positions[i].quantity == 0);
  assert_int_equal(ctx.n_done, 1);
  assert_int_equal(ctx.done_req[0], 21);

  /* Stopped, nothing more is said, even what was queued. */
  assert_int_equal(vt->submit(ctx.self, &req), 0);
  vt->life.stop(ctx.self);
  assert_int_equal(fake_run_timers(&ctx, 10), 0);
  assert_int_equal(ctx.n_updates, 1);
  fake_instance_free(&ctx);
  assert_int_equal(ctx.live_blocks, 0);
  fake_unload(l.handle);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_replay_csv(void **state) {
  (void)state;
  loaded l = load_one(TEMPLATE_REPLAY);
  const tack_exchange_vtable *vt = replay_vt(&l);
  char path[] = "/tmp/tack-replay-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  write_file(path, "ts,open,high,low,close,volume\r\n"
                   "1700000000,10,12,9,11,1.5\r\n"
                   "1700003600,11,11.5,10,10.5,0\r\n"
                   "\n"
                   "1700010800,10.5,13,10.5,13,2\n");
  fake_param params[] = {{"csv", path}, {"symbols", "X-Y"}, {"interval_ms", "0"}, {NULL, NULL}};
  tack_ctx ctx = {0};
  replay_up(&l, &ctx, params);
  tack_subscription sub = bars_of("X-Y", 3600);
  assert_int_equal(vt->subscribe(ctx.self, &sub), 0);
  fake_run_timers(&ctx, 100);
  assert_int_equal(ctx.n_bars, 3);
  assert_true(ctx.bars[0].bar.ts == INT64_C(1700000000) * TACK_NS_PER_SEC);
  assert_true(ctx.bars[1].bar.close == 10.5 && ctx.bars[1].bar.volume == 0);
  assert_true(ctx.bars[2].bar.ts == INT64_C(1700010800) * TACK_NS_PER_SEC);
  assert_int_equal(ctx.bars[2].bar.timeframe_s, 3600);
  assert_int_equal(ctx.conn[ctx.n_conn - 1], TACK_CONN_EOF);
  replay_down(&l, &ctx);

  /* Each broken file is refused with its line and a reason. */
  static const struct {
    const char *text;
    const char *key, *says;
  } broken[] = {
      {"time,o,h,l,c,v\n", "csv", ":1: expected the header"},
      {"ts,open,high,low,close,volume\n", "csv", "no data rows"},
      {"ts,open,high,low,close,volume\n1,1,2,1,1,1\n2,1,2,3,1,1\n", "csv", ":3: prices"},
      {"ts,open,high,low,close,volume\n1,1,2,1,1,1\n1,1,2,1,1,1\n", "csv", ":3: ts must increase"},
      {"ts,open,high,low,close,volume\n1,1,2,1,1\n", "csv", ":2: expected 5 numbers"},
      {"ts,open,high,low,close,volume\nx,1,2,1,1,1\n", "csv", ":2: ts is not"},
      {"ts,open,high,low,close,volume\n60,1,2,1,1,1\n120,1,2,1,1,1\n", "timeframe",
       "rows of the csv are 60 s apart"},
  };
  for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
    write_file(path, broken[i].text);
    fake_param p[] = {{"csv", path}, {"timeframe", "300"}, {NULL, NULL}};
    if (strcmp(broken[i].key, "timeframe") != 0)
      p[1].key = NULL;
    assert_int_equal(fake_instance_new(&ctx, l.desc, p), TACK_ECONFIG);
    assert_true(strncmp(ctx.param_error, broken[i].key, strlen(broken[i].key)) == 0);
    if (strstr(ctx.param_error, broken[i].says) == NULL)
      fail_msg("case %zu: \"%s\" does not say \"%s\"", i, ctx.param_error, broken[i].says);
    assert_int_equal(ctx.live_blocks, 0);
  }
  unlink(path);

  fake_param missing[] = {{"csv", "/nonexistent/bars.csv"}, {NULL, NULL}};
  assert_int_equal(fake_instance_new(&ctx, l.desc, missing), TACK_ECONFIG);
  assert_non_null(strstr(ctx.param_error, "cannot open /nonexistent/bars.csv"));
  static const fake_param twice[] = {{"symbols", "A-B,A-B"}, {NULL, NULL}};
  assert_int_equal(fake_instance_new(&ctx, l.desc, twice), TACK_ECONFIG);
  assert_non_null(strstr(ctx.param_error, "listed twice"));
  static const fake_param nodash[] = {{"symbols", "BTCUSD"}, {NULL, NULL}};
  assert_int_equal(fake_instance_new(&ctx, l.desc, nodash), TACK_ECONFIG);
  assert_non_null(strstr(ctx.param_error, "BASE-QUOTE"));
  fake_unload(l.handle);
}

/* The real daily file of ../shared replays whole, at its own timeframe. */
static void test_replay_real_data(void **state) {
  (void)state;
  const char *shared = getenv("TACK_SHARED_DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/data/btcusd_bitstamp_1d.csv", shared ? shared : "");
  if (shared == NULL || access(path, R_OK) != 0) {
    fprintf(stderr, "skipped: %s is not there (../shared is absent)\n", path);
    skip();
  }
  loaded l = load_one(TEMPLATE_REPLAY);
  const tack_exchange_vtable *vt = replay_vt(&l);
  fake_param params[] = {{"csv", path}, {"symbols", "BTC-USD"}, {NULL, NULL}};
  tack_ctx ctx = {0};
  replay_up(&l, &ctx, params);
  tack_subscription sub = bars_of("BTC-USD", 86400);
  assert_int_equal(vt->subscribe(ctx.self, &sub), 0);
  fake_run_timers(&ctx, 10000);
  assert_int_equal(ctx.n_bars, 2822);
  assert_int_equal(ctx.conn[ctx.n_conn - 1], TACK_CONN_EOF);
  replay_down(&l, &ctx);
  fake_unload(l.handle);
}

/* Every allocation of create and configure may fail: the plugin must
 * return TACK_ENOMEM and, after destroy, hold nothing. */
static void test_allocation_failures(void **state) {
  (void)state;
  static const fake_param linear_params[] = {{"weights", "1,2"}, {NULL, NULL}};
  for (size_t i = 0; i < N_TEMPLATES; i++) {
    loaded l = load_one(template_files[i]);
    const fake_param *params = template_kinds[i] == TACK_KIND_SCORER ? linear_params : NULL;
    for (long fail_at = 1;; fail_at++) {
      tack_ctx ctx;
      memset(&ctx, 0, sizeof ctx);
      ctx.fail_at = fail_at;
      int rc = fake_instance_new(&ctx, l.desc, params);
      if (rc == 0) {
        fake_instance_free(&ctx);
        assert_int_equal(ctx.live_blocks, 0);
        break;
      }
      assert_int_equal(rc, TACK_ENOMEM);
      assert_int_equal(ctx.live_blocks, 0);
      assert_true(fail_at < 100);
    }
    fake_unload(l.handle);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_entries),
      cmocka_unit_test(test_cxx_plugin),
      cmocka_unit_test(test_sma),
      cmocka_unit_test(test_sma_real_data),
      cmocka_unit_test(test_median),
      cmocka_unit_test(test_momentum),
      cmocka_unit_test(test_linear),
      cmocka_unit_test(test_replay_walk),
      cmocka_unit_test(test_replay_two_symbols),
      cmocka_unit_test(test_replay_orders),
      cmocka_unit_test(test_replay_csv),
      cmocka_unit_test(test_replay_real_data),
      cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests_name("sdk_template", tests, NULL, NULL);
}
