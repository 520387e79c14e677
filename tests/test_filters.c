/*
 * test_filters.c: the candle filters of filters.so (Heikin-Ashi, Renko),
 * loaded as the host loads them and driven through their vtables with the
 * small test host of filters_test_host.c. Hand-built sequences pin down each
 * Renko rule; the real candles of ../shared/data check Heikin-Ashi against
 * its formula and Renko against the invariants its rules imply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dlfcn.h>
#include <math.h>

#include "bars_csv.h"
#include "filters_test_host.h"

#define NS TACK_NS_PER_SEC
#define CAP 4096u

static void *so_handle;
static const tack_plugin_list *so_list;

static int load_plugin(void **state) {
  (void)state;
  return filters_test_load(TACK_FILTERS_SO, &so_handle, &so_list);
}

static int unload_plugin(void **state) {
  (void)state;
  dlclose(so_handle);
  return 0;
}

/* One filter instance with its context. */
typedef struct inst {
  tack_ctx ctx;
  const tack_filter_vtable *vt;
  void *self;
} inst;

static int inst_try(inst *x, const char *id, const char *const *kv) {
  const tack_plugin_desc *d = filters_test_find(so_list, id);
  assert_non_null(d);
  filters_test_ctx_init(&x->ctx, d, kv);
  x->vt = d->vtable;
  x->self = NULL;
  int rc = x->vt->life.create(&x->ctx, &filters_test_host, &x->self);
  if (rc == 0 && x->vt->life.configure) {
    rc = x->vt->life.configure(x->self);
    if (rc != 0)
      x->vt->life.destroy(x->self);
  }
  return rc;
}

static void inst_new(inst *x, const char *id, const char *const *kv) {
  assert_int_equal(inst_try(x, id, kv), 0);
}

static void inst_free(inst *x) {
  x->vt->life.destroy(x->self);
  assert_int_equal(x->ctx.acct.live_blocks, 0);
}

/* update that must succeed; returns the number of bars out. */
static uint32_t run(inst *x, const tack_bar *in, tack_bar *out, uint32_t cap) {
  uint32_t n = 12345;
  assert_int_equal(x->vt->update(x->self, in, out, cap, &n), 0);
  return n;
}

static tack_bar bar(int i, double o, double h, double l, double c, double v) {
  tack_bar b = {(tack_time)i * 60 * NS, o, h, l, c, v, 60, TACK_BAR_CLOSED};
  return b;
}

static tack_bar flat(int i, double c, double v) { return bar(i, c, c, c, c, v); }

static int load_bars(const char *name, uint32_t tf, tack_bar **b, size_t *n) {
  if (!bars_csv_shared_dir()) {
    print_message("TACK_SHARED_DIR is not set or not a folder: skipping the real-data test\n");
    return -1;
  }
  assert_int_equal(bars_csv_bars(name, tf, b, n), 0);
  assert_true(*n > 0);
  return 0;
}

/* Expected bricks, as (open, close) pairs. */
typedef struct edge {
  double open, close;
} edge;

/* Feed closes[] as flat bars, collect every brick, compare with want. */
static void check_close_sequence(const char *const *kv, const double *closes, size_t n,
                                 const edge *want, size_t n_want) {
  inst x;
  inst_new(&x, "renko", kv);
  tack_bar out[CAP];
  size_t got = 0;
  for (size_t i = 0; i < n; i++) {
    tack_bar in = flat((int)i, closes[i], 1);
    uint32_t k = run(&x, &in, out, CAP);
    for (uint32_t j = 0; j < k; j++, got++) {
      assert_true(got < n_want);
      assert_true(out[j].open == want[got].open);
      assert_true(out[j].close == want[got].close);
      assert_true(out[j].ts == in.ts + (tack_time)j);
    }
  }
  assert_int_equal(got, n_want);
  inst_free(&x);
}

/* ------------------------------------------------------------------------ */
/* Loading and parameters                                                    */
/* ------------------------------------------------------------------------ */

static void plugin_lists_both_filters(void **state) {
  (void)state;
  assert_int_equal(so_list->count, 2);
  const char *ids[] = {"heikin_ashi", "renko"};
  for (int i = 0; i < 2; i++) {
    const tack_plugin_desc *d = filters_test_find(so_list, ids[i]);
    assert_non_null(d);
    assert_int_equal(d->kind, TACK_KIND_FILTER);
    const tack_filter_vtable *vt = d->vtable;
    assert_int_equal(vt->size, sizeof(tack_filter_vtable));
    assert_non_null(vt->life.create);
    assert_non_null(vt->life.destroy);
    assert_non_null(vt->update);
    assert_non_null(vt->reset);
  }
}

static void renko_refuses_bad_params(void **state) {
  (void)state;
  inst x;
  /* mode fixed (the default) needs a brick size. */
  assert_int_equal(inst_try(&x, "renko", NULL), TACK_ECONFIG);
  assert_int_equal(x.ctx.param_errors, 1);
  assert_non_null(strstr(x.ctx.last_error, "brick_size"));
  assert_int_equal(x.ctx.acct.live_blocks, 0);
  const char *const zero_mult[] = {"mode", "atr", "atr_multiplier", "0", NULL};
  assert_int_equal(inst_try(&x, "renko", zero_mult), TACK_ECONFIG);
  assert_non_null(strstr(x.ctx.last_error, "atr_multiplier"));
  assert_int_equal(x.ctx.acct.live_blocks, 0);
  /* mode atr needs no brick size. */
  const char *const atr[] = {"mode", "atr", NULL};
  inst_new(&x, "renko", atr);
  inst_free(&x);
}

/* ------------------------------------------------------------------------ */
/* Heikin-Ashi                                                               */
/* ------------------------------------------------------------------------ */

static void heikin_ashi_hand(void **state) {
  (void)state;
  inst x;
  inst_new(&x, "heikin_ashi", NULL);
  tack_bar out[2];
  tack_bar b0 = bar(0, 10, 14, 8, 12, 3);
  b0.flags |= TACK_BAR_FILLER;
  assert_int_equal(run(&x, &b0, out, 2), 1);
  /* close (10+14+8+12)/4 = 11, open (10+12)/2 = 11 */
  assert_true(out[0].open == 11 && out[0].close == 11 && out[0].high == 14 && out[0].low == 8);
  assert_true(out[0].volume == 3 && out[0].ts == b0.ts && out[0].timeframe_s == 60);
  assert_int_equal(out[0].flags, TACK_BAR_CLOSED | TACK_BAR_FILLER);
  tack_bar b1 = bar(1, 12, 13, 12, 13, 1);
  assert_int_equal(run(&x, &b1, out, 2), 1);
  /* close 12.5, open (11+11)/2 = 11, low min(12, 11, 12.5) = 11 */
  assert_true(out[0].open == 11 && out[0].close == 12.5 && out[0].high == 13 && out[0].low == 11);
  uint32_t n = 7;
  assert_int_equal(x.vt->update(x.self, &b1, out, 0, &n), TACK_ENOSPC);
  assert_int_equal(n, 0);
  tack_bar bad = b1;
  bad.close = NAN;
  assert_int_equal(x.vt->update(x.self, &bad, out, 2, &n), TACK_EINVAL);
  /* reset: the next bar is a first bar again. */
  x.vt->reset(x.self);
  assert_int_equal(run(&x, &b1, out, 2), 1);
  assert_true(out[0].open == 12.5);
  inst_free(&x);
}

static void heikin_ashi_real(void **state) {
  (void)state;
  const char *files[] = {"btcusd_bitstamp_1h.csv", "btcperp_ftx_1m.csv"};
  const uint32_t tfs[] = {3600, 60};
  for (int f = 0; f < 2; f++) {
    tack_bar *in;
    size_t n;
    if (load_bars(files[f], tfs[f], &in, &n) != 0)
      skip();
    inst plain, prov;
    inst_new(&plain, "heikin_ashi", NULL);
    inst_new(&prov, "heikin_ashi", NULL);
    double po = 0, pc = 0;
    tack_bar out[1];
    for (size_t i = 0; i < n; i++) {
      const tack_bar *b = &in[i];
      double c = (b->open + b->high + b->low + b->close) / 4;
      double o = i == 0 ? (b->open + b->close) / 2 : (po + pc) / 2;
      double h = b->high > o ? b->high : o;
      h = h > c ? h : c;
      double l = b->low < o ? b->low : o;
      l = l < c ? l : c;
      assert_int_equal(run(&plain, b, out, 1), 1);
      assert_true(out[0].open == o && out[0].high == h && out[0].low == l && out[0].close == c);
      assert_true(out[0].ts == b->ts && out[0].volume == b->volume);
      assert_int_equal(out[0].flags, TACK_BAR_CLOSED);

      /* Two provisional versions first: computed from the last closed
       * state, and they leave it alone. */
      for (int k = 0; k < 2; k++) {
        tack_bar p = *b;
        p.flags = 0;
        p.close = k ? b->low : b->high;
        tack_bar po_out[1];
        assert_int_equal(run(&prov, &p, po_out, 1), 1);
        assert_true(po_out[0].open == (i == 0 ? (p.open + p.close) / 2 : o));
        assert_true(po_out[0].close == (p.open + p.high + p.low + p.close) / 4);
        assert_int_equal(po_out[0].flags, 0);
      }
      tack_bar pc_out[1];
      assert_int_equal(run(&prov, b, pc_out, 1), 1);
      assert_memory_equal(pc_out, out, sizeof out);
      po = o;
      pc = c;
    }
    print_message("%s: %zu Heikin-Ashi bars equal the formula\n", files[f], n);
    inst_free(&plain);
    inst_free(&prov);
    free(in);
  }
}

/* ------------------------------------------------------------------------ */
/* Renko: hand-built                                                         */
/* ------------------------------------------------------------------------ */

static const double closes[] = {100, 105, 112, 135, 121, 109, 95, 108, 121};

static void renko_fixed_reversal_2(void **state) {
  (void)state;
  const char *const kv[] = {"brick_size", "10", NULL};
  const edge want[] = {{100, 110}, {110, 120}, {120, 130}, {120, 110}, {110, 100}, {110, 120}};
  check_close_sequence(kv, closes, 9, want, 6);
  const char *const kv2[] = {"brick_size", "10", "reversal", "2", "source", "close", NULL};
  check_close_sequence(kv2, closes, 9, want, 6);
}

static void renko_fixed_reversal_1(void **state) {
  (void)state;
  const char *const kv[] = {"brick_size", "10", "reversal", "1", NULL};
  const edge want[] = {{100, 110}, {110, 120}, {120, 130}, {130, 120},
                       {120, 110}, {110, 100}, {100, 110}, {110, 120}};
  check_close_sequence(kv, closes, 9, want, 8);
}

static void renko_fixed_reversal_3(void **state) {
  (void)state;
  const char *const kv[] = {"brick_size", "10", "reversal", "3", NULL};
  const edge want[] = {{100, 110}, {110, 120}, {120, 130}, {120, 110}, {110, 100}};
  check_close_sequence(kv, closes, 9, want, 5);
}

/* A first brick goes either way from the base, and a bar may make many. */
static void renko_first_brick_down_and_many(void **state) {
  (void)state;
  const char *const kv[] = {"brick_size", "0.5", NULL};
  const double c[] = {10, 9.4, 7.4, 10};
  /* Base 10. 9.4: one brick down. 7.4: four more. 10: the last brick is
   * 8 -> 7.5, so the reversal starts at its open, 8, and climbs to 10. */
  const edge want[] = {{10, 9.5}, {9.5, 9}, {9, 8.5}, {8.5, 8}, {8, 7.5},
                       {8, 8.5},  {8.5, 9}, {9, 9.5}, {9.5, 10}};
  check_close_sequence(kv, c, 4, want, 9);
}

static void renko_volume_and_timestamps(void **state) {
  (void)state;
  const char *const kv[] = {"brick_size", "10", NULL};
  inst x;
  inst_new(&x, "renko", kv);
  tack_bar out[CAP];
  double vol_want[] = {6, 4, 0, 11, 7, 17};
  size_t got = 0;
  tack_time last = INT64_MIN;
  for (int i = 0; i < 9; i++) {
    tack_bar in = flat(i, closes[i], i + 1);
    uint32_t k = run(&x, &in, out, CAP);
    for (uint32_t j = 0; j < k; j++, got++) {
      assert_true(out[j].volume == vol_want[got]);
      assert_true(out[j].ts > last);
      last = out[j].ts;
      assert_int_equal(out[j].flags, TACK_BAR_CLOSED);
      assert_int_equal(out[j].timeframe_s, 60);
      assert_true(out[j].high == fmax(out[j].open, out[j].close));
      assert_true(out[j].low == fmin(out[j].open, out[j].close));
    }
  }
  assert_int_equal(got, 6);
  inst_free(&x);
}

/* source highlow: o -> l -> h -> c for a rising bar, o -> h -> l -> c for a
 * falling one. */
static void renko_highlow_path(void **state) {
  (void)state;
  const char *const kv[] = {"brick_size", "10", "source", "highlow", NULL};
  inst x;
  inst_new(&x, "renko", kv);
  tack_bar out[CAP];
  tack_bar b0 = flat(0, 100, 1);
  assert_int_equal(run(&x, &b0, out, CAP), 0);
  tack_bar b1 = bar(1, 101, 125, 95, 120, 1); /* rising: low first, no brick at 95 */
  assert_int_equal(run(&x, &b1, out, CAP), 2);
  assert_true(out[0].open == 100 && out[0].close == 110);
  assert_true(out[1].open == 110 && out[1].close == 120);
  tack_bar b2 = bar(2, 118, 131, 99, 100, 1); /* falling: high first */
  assert_int_equal(run(&x, &b2, out, CAP), 3);
  assert_true(out[0].open == 120 && out[0].close == 130);
  assert_true(out[1].open == 120 && out[1].close == 110);
  assert_true(out[2].open == 110 && out[2].close == 100);
  inst_free(&x);

  /* The same bars by close alone. */
  const char *const kvc[] = {"brick_size", "10", NULL};
  inst_new(&x, "renko", kvc);
  assert_int_equal(run(&x, &b0, out, CAP), 0);
  assert_int_equal(run(&x, &b1, out, CAP), 2);
  assert_int_equal(run(&x, &b2, out, CAP), 1);
  assert_true(out[0].open == 110 && out[0].close == 100);
  inst_free(&x);
}

/* More bricks than cap: TACK_ENOSPC and no change, then the same bricks with
 * room. Provisional inputs make provisional bricks and change nothing. */
static void renko_enospc_and_provisional(void **state) {
  (void)state;
  const char *const kv[] = {"brick_size", "10", NULL};
  inst x;
  inst_new(&x, "renko", kv);
  tack_bar out[CAP];
  tack_bar b0 = flat(0, 100, 1);
  run(&x, &b0, out, CAP);
  tack_bar big = flat(1, 155, 1);
  uint32_t n = 99;
  assert_int_equal(x.vt->update(x.self, &big, out, 4, &n), TACK_ENOSPC);
  assert_int_equal(n, 0);
  tack_bar p = big;
  p.flags = 0;
  p.close = 80; /* provisional: two bricks down, not committed */
  assert_int_equal(run(&x, &p, out, CAP), 2);
  assert_true(out[0].open == 100 && out[0].close == 90 && out[0].flags == 0);
  assert_int_equal(run(&x, &big, out, 5), 5);
  for (int i = 0; i < 5; i++) {
    assert_true(out[i].open == 100 + 10 * i && out[i].close == 110 + 10 * i);
    assert_int_equal(out[i].flags, TACK_BAR_CLOSED);
  }
  /* A brick size below the price's resolution never ends: refused. */
  x.vt->reset(x.self);
  inst_free(&x);
  const char *const tiny[] = {"brick_size", "1e-13", NULL};
  inst_new(&x, "renko", tiny);
  tack_bar hi = flat(0, 1e5, 1);
  run(&x, &hi, out, CAP);
  tack_bar hi2 = flat(1, 1e5, 1);
  assert_int_equal(x.vt->update(x.self, &hi2, out, CAP, &n), TACK_ERANGE);
  tack_bar nan = flat(2, NAN, 1);
  assert_int_equal(x.vt->update(x.self, &nan, out, CAP, &n), TACK_EINVAL);
  inst_free(&x);
}

/* reset and configure both start afresh: the next bar is a base again. */
static void renko_reset_and_reconfigure(void **state) {
  (void)state;
  const char *const kv[] = {"brick_size", "10", NULL};
  inst x;
  inst_new(&x, "renko", kv);
  tack_bar out[CAP];
  tack_bar b0 = flat(0, 100, 1), b1 = flat(1, 125, 1), b2 = flat(2, 140, 1);
  run(&x, &b0, out, CAP);
  assert_int_equal(run(&x, &b1, out, CAP), 2);
  x.vt->reset(x.self);
  assert_int_equal(run(&x, &b1, out, CAP), 0); /* the base: 125 */
  assert_int_equal(run(&x, &b2, out, CAP), 1);
  assert_true(out[0].open == 125 && out[0].close == 135);
  assert_int_equal(x.vt->life.configure(x.self), 0);
  assert_int_equal(run(&x, &b2, out, CAP), 0); /* the base: 140 */
  inst_free(&x);
}

/* ATR(3): TR of bars 1..3 are 5, 5, 6, so the first ATR is 16/3 at bar 3,
 * whose close 98 is the base. */
static const tack_bar atr_bars[] = {
    {0 * NS, 100, 102, 98, 100, 1, 60, TACK_BAR_CLOSED},
    {60 * NS, 100, 104, 99, 103, 1, 60, TACK_BAR_CLOSED},
    {120 * NS, 103, 106, 101, 102, 1, 60, TACK_BAR_CLOSED},
    {180 * NS, 102, 103, 97, 98, 1, 60, TACK_BAR_CLOSED},
    {240 * NS, 99, 105, 99, 104, 1, 60, TACK_BAR_CLOSED}, /* TR 7: ATR 53/9 */
    {300 * NS, 104, 115, 104, 115, 1, 60, TACK_BAR_CLOSED},
};

static void renko_atr_once(void **state) {
  (void)state;
  const char *const kv[] = {"mode", "atr", "atr_period", "3", "atr_multiplier", "1", NULL};
  inst x;
  inst_new(&x, "renko", kv);
  tack_bar out[CAP];
  for (int i = 0; i < 4; i++)
    assert_int_equal(run(&x, &atr_bars[i], out, CAP), 0);
  double s = 16.0 / 3;
  assert_int_equal(run(&x, &atr_bars[4], out, CAP), 1);
  assert_true(out[0].open == 98 && out[0].close == 98 + s);
  /* The size stays 16/3 although the ATR moved on. */
  assert_int_equal(run(&x, &atr_bars[5], out, CAP), 2);
  assert_true(out[0].open == 98 + s && out[0].close == 98 + s + s);
  assert_true(out[1].close == (98 + s + s) + s);
  inst_free(&x);
}

static void renko_atr_each_brick(void **state) {
  (void)state;
  const char *const kv[] = {"mode",           "atr", "atr_period", "3", "atr_refresh", "brick",
                            "atr_multiplier", "1",   NULL};
  inst x;
  inst_new(&x, "renko", kv);
  tack_bar out[CAP];
  for (int i = 0; i < 5; i++)
    run(&x, &atr_bars[i], out, CAP);
  /* Bar 5: the first brick has the size in force (16/3); after it the size
   * is re-evaluated from the ATR of the bars before bar 5 (53/9). */
  double s = 16.0 / 3, atr4 = (s * 2 + 7) / 3;
  assert_int_equal(run(&x, &atr_bars[5], out, CAP), 2);
  assert_true(out[0].open == 98 + s && out[0].close == (98 + s) + s);
  assert_true(out[1].open == out[0].close && out[1].close == out[0].close + atr4);
  inst_free(&x);
}

/* A flat market has ATR 0: no base and no brick until a bar has a range. */
static void renko_atr_flat_start(void **state) {
  (void)state;
  const char *const kv[] = {"mode", "atr", "atr_period", "2", NULL};
  inst x;
  inst_new(&x, "renko", kv);
  tack_bar out[CAP];
  for (int i = 0; i < 5; i++) {
    tack_bar f = flat(i, 100, 1);
    assert_int_equal(run(&x, &f, out, CAP), 0);
  }
  tack_bar r = bar(5, 100, 110, 100, 110, 1); /* TR 10: ATR (0 + 10) / 2 = 5 */
  assert_int_equal(run(&x, &r, out, CAP), 0);
  tack_bar up = flat(6, 121, 1);
  assert_int_equal(run(&x, &up, out, CAP), 2);
  assert_true(out[0].open == 110 && out[0].close == 115 && out[1].close == 120);
  /* The first brick carries all the volume since the start. */
  assert_true(out[0].volume == 7 && out[1].volume == 0);
  inst_free(&x);
}

/* ------------------------------------------------------------------------ */
/* Renko: real candles                                                       */
/* ------------------------------------------------------------------------ */

typedef struct renko_case {
  const char *const *kv;
  int fixed;   /* brick size known up front */
  double size; /* when fixed */
  int reversal;
  int by_close;  /* source close */
  int same_size; /* every brick the same height (fixed, or atr once) */
} renko_case;

static const char *const kv_a[] = {"brick_size", "100", NULL};
static const char *const kv_b[] = {"brick_size", "250", "source", "highlow", "reversal", "1", NULL};
static const char *const kv_c[] = {"brick_size", "100", "reversal", "3", NULL};
static const char *const kv_d[] = {"mode", "atr", "atr_period", "14", NULL};
static const char *const kv_e[] = {"mode",           "atr",     "atr_period",  "14",
                                   "atr_multiplier", "0.5",     "atr_refresh", "brick",
                                   "source",         "highlow", NULL};
static const char *const kv_f[] = {"mode", "atr", "atr_period", "14", "reversal", "4", NULL};

static const renko_case renko_cases[] = {
    {kv_a, 1, 100, 2, 1, 1}, {kv_b, 1, 250, 1, 0, 1}, {kv_c, 1, 100, 3, 1, 1},
    {kv_d, 0, 0, 2, 1, 1},   {kv_e, 0, 0, 2, 0, 0},   {kv_f, 0, 0, 4, 1, 1},
};

static int near(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(1, fabs(b)); }

static void renko_real_invariants(void **state) {
  (void)state;
  tack_bar *in;
  size_t n;
  if (load_bars("btcusd_bitstamp_1h.csv", 3600, &in, &n) != 0)
    skip();
  tack_bar *bricks = malloc(sizeof *bricks * 200000);
  size_t *from = malloc(sizeof *from * 200000); /* input bar of each brick */
  assert_non_null(bricks);
  assert_non_null(from);
  for (size_t c = 0; c < sizeof renko_cases / sizeof renko_cases[0]; c++) {
    const renko_case *rc = &renko_cases[c];
    inst x, y;
    inst_new(&x, "renko", rc->kv);
    inst_new(&y, "renko", rc->kv);
    tack_bar out[CAP], pout[CAP];
    size_t nb = 0;
    double vin = 0, vout = 0, vafter = 0;
    for (size_t i = 0; i < n; i++) {
      /* y sees each bar provisional first: the same bricks, unflagged. */
      tack_bar p = in[i];
      p.flags = 0;
      uint32_t kp = run(&y, &p, pout, CAP);
      uint32_t k = run(&x, &in[i], out, CAP);
      uint32_t kc = run(&y, &in[i], pout + kp, CAP - kp);
      assert_int_equal(kp, k);
      assert_int_equal(kc, k);
      for (uint32_t j = 0; j < k; j++) {
        assert_int_equal(pout[j].flags, 0);
        tack_bar a = pout[j];
        a.flags = TACK_BAR_CLOSED;
        assert_memory_equal(&a, &out[j], sizeof a);
        assert_memory_equal(&pout[kp + j], &out[j], sizeof a);
      }
      vin += in[i].volume;
      vafter += in[i].volume;
      if (k > 0)
        vafter = 0;
      for (uint32_t j = 0; j < k; j++) {
        assert_true(nb < 200000);
        vout += out[j].volume;
        from[nb] = i;
        bricks[nb++] = out[j];
      }
      /* By close, the close ends within one brick past the last brick. */
      if (rc->by_close && k > 0 && rc->fixed) {
        const tack_bar *l = &out[k - 1];
        if (l->close > l->open)
          assert_true(in[i].close >= l->close && in[i].close < l->close + rc->size);
        else
          assert_true(in[i].close <= l->close && in[i].close > l->close - rc->size);
      }
    }
    assert_true(nb > 100);
    assert_true(near(vout + vafter, vin));
    double size0 = fabs(bricks[0].close - bricks[0].open);
    size_t reversals = 0;
    for (size_t i = 0; i < nb; i++) {
      const tack_bar *b = &bricks[i];
      double h = fabs(b->close - b->open);
      assert_true(h > 0);
      if (rc->fixed)
        assert_true(near(h, rc->size));
      else if (rc->same_size)
        assert_true(near(h, size0));
      assert_true(b->high == fmax(b->open, b->close) && b->low == fmin(b->open, b->close));
      assert_int_equal(b->flags, TACK_BAR_CLOSED);
      assert_int_equal(b->timeframe_s, 3600);
      assert_true(b->ts >= in[from[i]].ts && b->ts < in[from[i]].ts + 3600 * NS);
      if (i == 0)
        continue;
      const tack_bar *a = &bricks[i - 1];
      assert_true(b->ts > a->ts);
      int up_a = a->close > a->open, up_b = b->close > b->open;
      if (up_a == up_b) {
        assert_true(near(b->open, a->close));
        continue;
      }
      reversals++;
      /* Reversal: from the last brick's open, or its close with r = 1. */
      assert_true(near(b->open, rc->reversal == 1 ? a->close : a->open));
      /* r >= 3: the reversal prints r - 1 bricks at once, from one bar. */
      for (int j = 1; j < rc->reversal - 1; j++) {
        assert_true(i + (size_t)j < nb);
        const tack_bar *q = &bricks[i + (size_t)j];
        assert_true((q->close > q->open) == up_b);
        assert_int_equal(from[i + (size_t)j], from[i]);
      }
    }
    assert_true(reversals > 10);
    print_message("renko case %zu: %zu bars -> %zu bricks, %zu reversals\n", c, n, nb, reversals);
    inst_free(&x);
    inst_free(&y);
  }
  free(from);
  free(bricks);
  free(in);
}

/* Heikin-Ashi feeding Renko: bar -> bars chains. */
static void heikin_ashi_into_renko(void **state) {
  (void)state;
  tack_bar *in;
  size_t n;
  if (load_bars("btcperp_ftx_1m.csv", 60, &in, &n) != 0)
    skip();
  const char *const kv[] = {"brick_size", "50", "source", "highlow", NULL};
  inst ha, chained, direct;
  inst_new(&ha, "heikin_ashi", NULL);
  inst_new(&chained, "renko", kv);
  inst_new(&direct, "renko", kv);
  tack_bar ha_out[1], out1[CAP], out2[CAP];
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(run(&ha, &in[i], ha_out, 1), 1);
    uint32_t k1 = run(&chained, ha_out, out1, CAP);
    /* The same Renko on the Heikin-Ashi bar given directly. */
    tack_bar copy = ha_out[0];
    uint32_t k2 = run(&direct, &copy, out2, CAP);
    assert_int_equal(k1, k2);
    assert_memory_equal(out1, out2, k1 * sizeof out1[0]);
    total += k1;
  }
  assert_true(total > 100);
  inst_free(&ha);
  inst_free(&chained);
  inst_free(&direct);
  free(in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(plugin_lists_both_filters),
      cmocka_unit_test(renko_refuses_bad_params),
      cmocka_unit_test(heikin_ashi_hand),
      cmocka_unit_test(heikin_ashi_real),
      cmocka_unit_test(renko_fixed_reversal_2),
      cmocka_unit_test(renko_fixed_reversal_1),
      cmocka_unit_test(renko_fixed_reversal_3),
      cmocka_unit_test(renko_first_brick_down_and_many),
      cmocka_unit_test(renko_volume_and_timestamps),
      cmocka_unit_test(renko_highlow_path),
      cmocka_unit_test(renko_enospc_and_provisional),
      cmocka_unit_test(renko_reset_and_reconfigure),
      cmocka_unit_test(renko_atr_once),
      cmocka_unit_test(renko_atr_each_brick),
      cmocka_unit_test(renko_atr_flat_start),
      cmocka_unit_test(renko_real_invariants),
      cmocka_unit_test(heikin_ashi_into_renko),
  };
  return cmocka_run_group_tests(tests, load_plugin, unload_plugin);
}
