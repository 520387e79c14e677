/*
 * test_indicators_props.c: properties every indicator must have, checked on
 * the synthetic series for every plugin (defaults and variants):
 *   - streaming bar by bar, with any number of provisional versions of a bar
 *     before it closes, gives exactly (bit for bit) the batch values of the
 *     closed bars alone; a provisional copy of the closing bar gives the
 *     closed bar's value; ready flags match too;
 *   - the first value comes at lookback() and values never stop (except
 *     VWAP in a session without volume);
 *   - reset forgets everything: a reset instance replays as a fresh one;
 * and on real data (zero-volume, flat and equal-move bars) every value is
 * finite; and indicators.so, loaded as the host loads it, computes what the
 * static build computes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_indicators_host.h"

extern const tack_plugin_list tack_plugin_entry;

#define NB TIH_SYNTH_BARS

typedef struct config {
  const char *id;
  tih_param params[6];
  size_t n;
} config;

/* Variants beyond the defaults: every MA type, every source, both VWAP
 * modes, swapped MACD periods, period 1 where allowed. */
static const config variants[] = {
    {"bbands", {{"matype", "ema"}, {"nbdevup", "1.5"}, {"nbdevdn", "2.5"}}, 3},
    {"bbands", {{"matype", "kama"}, {"period", "10"}}, 2},
    {"bbands", {{"matype", "dema"}, {"source", "hl2"}}, 2},
    {"stoch", {{"slowk_matype", "tema"}, {"slowd_matype", "wma"}}, 2},
    {"stoch", {{"fastk_period", "1"}, {"slowk_period", "1"}, {"slowd_period", "1"}}, 3},
    {"stochrsi", {{"fastd_matype", "ema"}, {"fastk_period", "14"}}, 2},
    {"macd", {{"fast", "26"}, {"slow", "12"}, {"signal", "1"}}, 3},
    {"ema", {{"source", "ohlc4"}, {"period", "2"}}, 2},
    {"rsi", {{"source", "open"}, {"period", "2"}}, 2},
    {"kama", {{"source", "high"}, {"period", "2"}}, 2},
    {"wma", {{"source", "low"}, {"period", "2"}}, 2},
    {"sma", {{"source", "hlc3"}, {"period", "2"}}, 2},
    {"atr", {{"period", "1"}}, 1},
    {"roc", {{"period", "1"}}, 1},
    {"donchian", {{"period", "1"}}, 1},
    {"vwap", {{"mode", "rolling"}, {"period", "5"}}, 2},
    {"vwap", {{"session", "14400"}, {"offset", "1800"}, {"source", "close"}}, 3},
    {"ichimoku", {{"tenkan", "3"}, {"kijun", "5"}, {"senkou", "2"}, {"displacement", "4"}}, 4},
    {"supertrend", {{"period", "3"}, {"multiplier", "0.5"}}, 2},
    {"sar", {{"acceleration", "0.3"}, {"maximum", "0.2"}}, 2},
    {"adx", {{"period", "2"}}, 1},
    {"aroon", {{"period", "2"}}, 1},
    {"cci", {{"period", "2"}}, 1},
    {"mfi", {{"period", "2"}}, 1},
};

typedef struct run {
  int rc[NB];
  double out[NB][TIH_MAX_OUTPUTS];
} run;

static run batch, other;
static tack_bar bars[NB];

static uint64_t rng = 12345;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void open_config(tih_ind *ind, const config *c) {
  if (tih_open(ind, c->id, c->params, c->n) != 0)
    fail_msg("%s: cannot open: %s", c->id, tih_last_error());
}

static void run_closed(tih_ind *ind, run *r) {
  size_t i;
  memset(r, 0, sizeof(*r));
  for (i = 0; i < NB; i++)
    r->rc[i] = tih_update(ind, &bars[i], r->out[i]);
}

static void same(const char *what, const char *id, size_t bar, int rc, const double *out,
                 int want_rc, const double *want, int n_out) {
  if (rc != want_rc)
    fail_msg("%s: %s: bar %zu: returned %d, batch %d", id, what, bar, rc, want_rc);
  if (rc == 1 && memcmp(out, want, (size_t)n_out * sizeof(double)) != 0)
    fail_msg("%s: %s: bar %zu: %.17g differs from batch %.17g", id, what, bar, out[0], want[0]);
}

/* A provisional version of b: prices moved up to ±2%, volume scaled. */
static tack_bar noisy(const tack_bar *b) {
  tack_bar p = *b;
  double f[5];
  int i;
  for (i = 0; i < 5; i++)
    f[i] = 1.0 + ((double)(next_rand() % 2001) - 1000.0) * 0.00002;
  p.open *= f[0];
  p.high *= f[1];
  p.low *= f[2];
  p.close *= f[3];
  p.volume *= 2.0 * f[4];
  p.flags = 0;
  return p;
}

static void check_config(const config *c) {
  tih_ind ind;
  size_t i;
  int first = -1, c2, lookback;
  open_config(&ind, c);
  lookback = ind.vt->lookback(ind.self);
  run_closed(&ind, &batch);

  for (i = 0; i < NB; i++) {
    if (batch.rc[i] < 0)
      fail_msg("%s: bar %zu: error %d", c->id, i, batch.rc[i]);
    if (batch.rc[i] == 1 && first < 0)
      first = (int)i;
    if (batch.rc[i] == 0 && first >= 0 && strcmp(c->id, "vwap") != 0)
      fail_msg("%s: bar %zu: not ready after the first value", c->id, i);
    for (c2 = 0; batch.rc[i] == 1 && c2 < ind.n_out; c2++)
      if (!isfinite(batch.out[i][c2]))
        fail_msg("%s: bar %zu: output %d is %g", c->id, i, c2, batch.out[i][c2]);
  }
  if (first != lookback)
    fail_msg("%s: first value at bar %d, lookback() says %d", c->id, first, lookback);

  /* Streaming with provisional versions, on a fresh instance. */
  tih_close(&ind);
  open_config(&ind, c);
  for (i = 0; i < NB; i++) {
    double out[TIH_MAX_OUTPUTS];
    tack_bar p;
    int k = (int)(next_rand() % 4), rc;
    while (k-- > 0) {
      p = noisy(&bars[i]);
      rc = tih_update(&ind, &p, out);
      if (rc != 0 && rc != 1)
        fail_msg("%s: bar %zu: provisional update returned %d", c->id, i, rc);
      for (c2 = 0; rc == 1 && c2 < ind.n_out; c2++)
        if (!isfinite(out[c2]))
          fail_msg("%s: bar %zu: provisional output %d is %g", c->id, i, c2, out[c2]);
    }
    p = bars[i];
    p.flags = 0;
    rc = tih_update(&ind, &p, out);
    same("provisional copy", c->id, i, rc, out, batch.rc[i], batch.out[i], ind.n_out);
    rc = tih_update(&ind, &bars[i], out);
    same("streaming", c->id, i, rc, out, batch.rc[i], batch.out[i], ind.n_out);
  }

  /* Reset, then the whole series again as on a fresh instance. */
  ind.vt->reset(ind.self);
  run_closed(&ind, &other);
  for (i = 0; i < NB; i++)
    same("after reset", c->id, i, other.rc[i], other.out[i], batch.rc[i], batch.out[i], ind.n_out);
  tih_close(&ind);
  assert_int_equal(tih_live_allocs(), 0);
}

static void test_defaults(void **state) {
  uint32_t p;
  (void)state;
  tih_synthetic(bars, NB);
  for (p = 0; p < tack_plugin_entry.count; p++) {
    config c;
    memset(&c, 0, sizeof(c));
    c.id = tack_plugin_entry.plugins[p]->id;
    check_config(&c);
  }
}

static void test_variants(void **state) {
  size_t i;
  (void)state;
  tih_synthetic(bars, NB);
  for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
    check_config(&variants[i]);
}

/* Every indicator over a real file: no error, only finite values, and some. */
static void check_file(const char *name, uint32_t timeframe_s) {
  const char *data = tih_data_dir();
  char path[1024];
  tack_bar *v;
  size_t n, i;
  uint32_t p;
  if (!data) {
    print_message("TACK_SHARED_DIR/data is absent: skipping %s\n", name);
    skip();
  }
  snprintf(path, sizeof(path), "%s/%s", data, name);
  assert_int_equal(tih_load_csv(path, timeframe_s, &v, &n), 0);
  for (p = 0; p < tack_plugin_entry.count; p++) {
    tih_ind ind;
    size_t ready = 0;
    int c;
    assert_int_equal(tih_open(&ind, tack_plugin_entry.plugins[p]->id, NULL, 0), 0);
    for (i = 0; i < n; i++) {
      double out[TIH_MAX_OUTPUTS];
      int rc = tih_update(&ind, &v[i], out);
      if (rc != 0 && rc != 1)
        fail_msg("%s: %s bar %zu: error %d", ind.desc->id, name, i, rc);
      ready += (size_t)rc;
      for (c = 0; rc == 1 && c < ind.n_out; c++)
        if (!isfinite(out[c]))
          fail_msg("%s: %s bar %zu: output %d is %g", ind.desc->id, name, i, c, out[c]);
    }
    assert_true(ready > n / 2);
    tih_close(&ind);
  }
  free(v);
}

static void test_real_hourly(void **state) {
  (void)state;
  check_file("btcusd_bitstamp_1h.csv", 3600);
}

static void test_real_minutes(void **state) {
  (void)state;
  check_file("btcperp_ftx_1m.csv", 60);
}

/* indicators.so, opened as the host opens plugins, carries the same
 * indicators and computes the same values, bit for bit. */
static void test_shared_object(void **state) {
  const char *build = getenv("TACK_BUILD_DIR");
  const tack_plugin_list *list;
  char path[1024];
  void *so;
  uint32_t p;
  (void)state;
  assert_non_null(build);
  snprintf(path, sizeof(path), "%s/plugins/indicators.so", build);
  so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!so)
    fail_msg("dlopen %s: %s", path, dlerror());
  list = dlsym(so, TACK_ENTRY_SYMBOL);
  assert_non_null(list);
  assert_int_equal(list->magic, TACK_MAGIC);
  assert_int_equal(list->layout, TACK_LAYOUT_FINGERPRINT);
  assert_int_equal(list->count, tack_plugin_entry.count);
  tih_synthetic(bars, NB);
  for (p = 0; p < list->count; p++) {
    tih_ind ind;
    size_t i;
    assert_string_equal(list->plugins[p]->id, tack_plugin_entry.plugins[p]->id);
    assert_int_equal(tih_open(&ind, list->plugins[p]->id, NULL, 0), 0);
    run_closed(&ind, &batch);
    tih_close(&ind);
    assert_int_equal(tih_open_desc(&ind, list->plugins[p], NULL, 0), 0);
    run_closed(&ind, &other);
    for (i = 0; i < NB; i++)
      same("indicators.so", list->plugins[p]->id, i, other.rc[i], other.out[i], batch.rc[i],
           batch.out[i], ind.n_out);
    tih_close(&ind);
  }
  dlclose(so);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),      cmocka_unit_test(test_variants),
      cmocka_unit_test(test_real_hourly),   cmocka_unit_test(test_real_minutes),
      cmocka_unit_test(test_shared_object),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
