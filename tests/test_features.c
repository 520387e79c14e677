/*
 * test_features.c: the feature builder (host/ml_features.c) with the real
 * indicator plugins of the build and the fixture indicator probe.count (no
 * reset of its own): hand-computed vectors of the built-ins, lags and a
 * 5m/15m pair of timeframes; agreement, bit for bit, with the indicators
 * run directly; canonical forms; every parse error with its message;
 * warm-up lengths; provisional bars; refused bars; reset; plugin ids with
 * dots; secret parameters refused; allocation failures. Also prints the
 * rate of vector building.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "instance.h"
#include "loader.h"
#include "ml_features.h"
#include "plugin_spec.h"

#define M5 300u
#define M15 900u
#define NS TACK_NS_PER_SEC
#define WHERE "t.cfg:3: strategies.ml.features"

static tack_loader *ld;

static const uint32_t tf5[] = {M5};
static const uint32_t tf5_15[] = {M15, M5}; /* any order */

static tack_bar bar_at(int64_t i, uint32_t tf, double close) {
  tack_bar b;
  memset(&b, 0, sizeof b);
  b.ts = i * (int64_t)tf * NS;
  b.open = close;
  b.high = close + 1;
  b.low = close - 1;
  b.close = close;
  b.volume = (double)(i + 1);
  b.timeframe_s = tf;
  b.flags = TACK_BAR_CLOSED;
  return b;
}

/* A seeded random walk of closed bars of tf around 100. */
static void walk(uint64_t seed, uint32_t tf, tack_bar *out, size_t n) {
  double c = 100;
  for (size_t i = 0; i < n; i++) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    double u = (double)(seed >> 11) / 9007199254740992.0;
    double o = c;
    c *= exp((u - 0.5) * 0.02);
    out[i] = bar_at((int64_t)i, tf, c);
    out[i].open = o;
    out[i].high = fmax(o, c) * 1.001;
    out[i].low = fmin(o, c) * 0.999;
    out[i].volume = 1 + u * 10;
  }
}

static tack_features *make(const char *spec, const uint32_t *tfs, size_t n) {
  tack_diag d = TACK_DIAG_INIT;
  tack_features *f = NULL;
  int rc = tack_features_new(spec, tfs, n, ld, WHERE, &d, &f);
  if (rc != 0)
    tack_diag_print(&d, stderr);
  assert_int_equal(rc, 0);
  assert_non_null(f);
  assert_int_equal(d.n, 0);
  tack_diag_free(&d);
  return f;
}

static void assert_canonical(const char *spec, const uint32_t *tfs, size_t n, const char *want) {
  tack_features *f = make(spec, tfs, n);
  assert_string_equal(tack_features_canonical(f), want);
  /* The canonical form reads back as itself. */
  tack_features *g = make(tack_features_canonical(f), tfs, n);
  assert_string_equal(tack_features_canonical(g), want);
  tack_features_free(g);
  tack_features_free(f);
}

/* ------------------------------------------------------------------------ */

static void test_builtins_by_hand(void **state) {
  (void)state;
  static const double c[] = {100, 110, 121, 99, 100};
  tack_features *f = make("ret:1; ret:1~1; ret:2; close; volume; range; close~2", tf5, 1);
  double v[7];
  assert_int_equal(tack_features_count(f), 7);
  assert_string_equal(tack_features_canonical(f), "ret:1@5m~0;ret:1@5m~1;ret:2@5m~0;close@5m~0;"
                                                  "volume@5m~0;range@5m~0;close@5m~2");
  assert_string_equal(tack_features_name(f, 1), "ret:1@5m~1");
  assert_null(tack_features_name(f, 7));

  for (int64_t i = 0; i < 2; i++) {
    tack_bar b = bar_at(i, M5, c[i]);
    assert_int_equal(tack_features_update(f, &b, v), 0);
  }
  for (int64_t i = 2; i < 5; i++) {
    tack_bar b = bar_at(i, M5, c[i]);
    assert_int_equal(tack_features_update(f, &b, v), 1);
    assert_true(v[0] == log(c[i] / c[i - 1]));
    assert_true(v[1] == log(c[i - 1] / c[i - 2]));
    assert_true(v[2] == log(c[i] / c[i - 2]));
    assert_true(v[3] == c[i]);
    assert_true(v[4] == (double)(i + 1));
    assert_true(v[5] == 2.0 / c[i]);
    assert_true(v[6] == c[i - 2]);
  }
  tack_features_free(f);
}

/* ret and range are not ready while a price they divide by is not
 * positive; the vectors resume once it is. */
static void test_nonpositive_prices(void **state) {
  (void)state;
  static const double c[] = {100, 50, 0, 25, 50, -5, 10, 20};
  static const int want[] = {0, 1, 0, 0, 1, 0, 0, 1};
  tack_features *f = make("ret; range", tf5, 1);
  double v[2];
  for (int64_t i = 0; i < 8; i++) {
    tack_bar b = bar_at(i, M5, c[i]);
    assert_int_equal(tack_features_update(f, &b, v), want[i]);
    if (want[i]) {
      assert_true(v[0] == log(c[i] / c[i - 1]));
      assert_true(v[1] == 2.0 / c[i]);
    }
  }
  tack_features_free(f);
}

/* 5m bars drive; the 15m items read the latest closed 15m bar, which the
 * caller feeds before the 5m bar that ends with it. */
static void test_multi_timeframe(void **state) {
  (void)state;
  enum { N = 12 };
  double c[N], c15[N / 3];
  for (int i = 0; i < N; i++)
    c[i] = 100 + i * i;
  for (int j = 0; j < N / 3; j++)
    c15[j] = c[3 * j + 2];
  tack_features *f = make("ret:1; ret:1@15m; close@15m~1", tf5_15, 2);
  assert_string_equal(tack_features_canonical(f), "ret:1@5m~0;ret:1@15m~0;close@15m~1");
  double v[3];
  for (int i = 0; i < N; i++) {
    if (i % 3 == 2) {
      tack_bar h = bar_at(i / 3, M15, c15[i / 3]);
      assert_int_equal(tack_features_update(f, &h, v), 0);
    }
    /* A forming 15m bar is never read. */
    tack_bar forming = bar_at((i + 1) / 3, M15, 1e6);
    forming.flags = 0;
    assert_int_equal(tack_features_update(f, &forming, v), 0);

    tack_bar b = bar_at(i, M5, c[i]);
    int j = (i + 1) / 3 - 1; /* the latest 15m bar closed by the end of bar i */
    int rc = tack_features_update(f, &b, v);
    if (j < 1) {
      assert_int_equal(rc, 0);
      continue;
    }
    assert_int_equal(rc, 1);
    assert_true(v[0] == log(c[i] / c[i - 1]));
    assert_true(v[1] == log(c15[j] / c15[j - 1]));
    assert_true(v[2] == c15[j - 1]);
  }
  tack_features_free(f);
}

/* Features of indicators equal the indicators run directly, lags
 * included, bit for bit. */
static void test_indicators_match_direct(void **state) {
  (void)state;
  enum { N = 600 };
  static const char *const specs[] = {"rsi:14", "macd:12,26,9", "macd:12,26,9",
                                      "bbands:period=20,nbdevup=2.5", "example.sma:5"};
  static const uint32_t cols[] = {0, 2, 1, 0, 0};
  static const uint32_t lags[] = {0, 0, 2, 1, 3};
  tack_bar *bars = calloc(N, sizeof *bars);
  double *direct = calloc((size_t)N * 5 * 3, sizeof *direct);
  int *ready = calloc((size_t)N * 5, sizeof *ready);
  tack_plugin_set set;
  assert_non_null(bars);
  assert_non_null(direct);
  assert_non_null(ready);
  walk(11, M5, bars, N);
  assert_int_equal(tack_plugin_spec_set_init(&set, ld), 0);
  for (size_t k = 0; k < 5; k++) {
    tack_diag d = TACK_DIAG_INIT;
    tack_plugin_spec *s = NULL;
    assert_int_equal(tack_plugin_spec_new(specs[k], TACK_KIND_INDICATOR, &set, &d, &s), 0);
    assert_int_equal(tack_plugin_spec_start(s, &d), 0);
    for (size_t i = 0; i < N; i++) {
      int rc = tack_instance_indicator_update(tack_plugin_spec_instance(s), &bars[i],
                                              &direct[(i * 5 + k) * 3]);
      assert_true(rc == 0 || rc == 1);
      ready[i * 5 + k] = rc;
    }
    tack_plugin_spec_free(s);
    tack_diag_free(&d);
  }
  tack_plugin_spec_set_free(&set);

  tack_features *f = make("rsi:14; macd:12,26,9.hist; macd:12,26,9.signal~2; "
                          "bbands:period=20,nbdevup=2.5.upper~1; example.sma:5.sma~3",
                          tf5, 1);
  size_t vectors = 0;
  for (size_t i = 0; i < N; i++) {
    double v[5];
    int want = 1;
    for (size_t k = 0; k < 5; k++)
      want &= i >= lags[k] && ready[(i - lags[k]) * 5 + k];
    int rc = tack_features_update(f, &bars[i], v);
    assert_int_equal(rc, want);
    for (size_t k = 0; rc == 1 && k < 5; k++)
      assert_memory_equal(&v[k], &direct[((i - lags[k]) * 5 + k) * 3 + cols[k]], sizeof v[k]);
    vectors += (size_t)rc;
  }
  assert_int_equal(vectors, N - 33 - 2); /* macd's lookback is 33; its signal lags 2 */
  tack_features_free(f);
  free(bars);
  free(direct);
  free(ready);
}

static void test_canonical_forms(void **state) {
  (void)state;
  static const char *const same[] = {"rsi",           "rsi:14",
                                     "rsi:period=14", " rsi : period = 14 , source = close ",
                                     "rsi:14,close",  "rsi:14.value@5m~0",
                                     "rsi@5m",        "rsi:14;"};
  for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
    assert_canonical(same[i], tf5, 1, "rsi:14,close.value@5m~0");
  assert_canonical("ret; close~0", tf5, 1, "ret:1@5m~0;close@5m~0");
  assert_canonical("bbands:5,0.1.lower@15m~1000", tf5_15, 2,
                   "bbands:5,0.1,2,sma,close.lower@15m~1000");
  assert_canonical("example.sma", tf5, 1, "example.sma:20.sma@5m~0");
  assert_canonical("probe.count~1", tf5, 1, "probe.count.count@5m~1");

  /* Different computations, different forms. */
  static const char *const differ[] = {"rsi:15", "rsi:14@15m", "rsi:14~1", "rsi:14,hlc3",
                                       "ret:1; rsi:14"};
  tack_features *base = make("rsi:14", tf5_15, 2);
  for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
    tack_features *g = make(differ[i], tf5_15, 2);
    assert_string_not_equal(tack_features_canonical(g), tack_features_canonical(base));
    tack_features_free(g);
  }
  tack_features_free(base);
  /* Order is part of the form: the columns differ. */
  tack_features *a = make("ret:1; rsi:14", tf5, 1);
  tack_features *b = make("rsi:14; ret:1", tf5, 1);
  assert_string_not_equal(tack_features_canonical(a), tack_features_canonical(b));
  tack_features_free(a);
  tack_features_free(b);
}

typedef struct parse_case {
  const char *spec;
  const char *message;
} parse_case;

static void test_parse_errors(void **state) {
  (void)state;
  static const parse_case cases[] = {
      {"", WHERE ": the feature spec is empty: list items separated by ';', e.g. \"rsi:14; "
                 "ret:1; ret:1~1\""},
      {"  ", WHERE ": the feature spec is empty: list items separated by ';', e.g. \"rsi:14; "
                   "ret:1; ret:1~1\""},
      {"ret;;close", WHERE ": item 2: empty item (two ';' in a row, or one at the start?)"},
      {";ret", WHERE ": item 1: empty item (two ';' in a row, or one at the start?)"},
      {"ret; rsx:14", WHERE ": item 2: rsx:14: no plugin 'rsx' is loaded; did you mean: rsi "
                            "(indicator), roc (indicator), adx (indicator), dx (indicator)? (the "
                            "built-in sources are ret:N, close, volume and range)"},
      {"heikin_ashi", WHERE ": item 1: heikin_ashi: plugin 'heikin_ashi' is a filter, not an "
                            "indicator"},
      {"rsi:1", WHERE ": item 1: rsi:1: parameter 1 ('period'): must be an integer in [2, "
                      "100000], got 1"},
      {"rsi:x", WHERE ": item 1: rsi:x: parameter 1 ('period'): must be an integer, got 'x'"},
      {"macd:12,26,9.hst", WHERE ": item 1: macd:12,26,9.hst: indicator macd has no output 'hst' "
                                 "(its outputs: macd, signal, hist)"},
      {"macd", WHERE ": item 1: macd: indicator macd has 3 outputs (macd, signal, hist): pick "
                     "one with .OUTPUT, e.g. macd.hist"},
      {"rsi@1h", WHERE ": item 1: rsi@1h: timeframe 1h is not one this scorer receives (it "
                       "receives 5m): add it to the scorer's timeframes or use one of those"},
      {"rsi@5x", WHERE ": item 1: rsi@5x: @5x is not a timeframe: write one such as @5m, @4h or "
                       "@1d (whole seconds, at most 7 days)"},
      {"rsi~1001", WHERE ": item 1: rsi~1001: ~1001: a lag is a whole number of closed bars "
                         "from 0 to 1000"},
      {"rsi~-1", WHERE ": item 1: rsi~-1: ~-1: a lag is a whole number of closed bars from 0 "
                       "to 1000"},
      {"rsi~", WHERE ": item 1: rsi~: ~: a lag is a whole number of closed bars from 0 to 1000"},
      {"rsi~1@5m", WHERE ": item 1: rsi~1@5m: ~LAG must come after @TIMEFRAME "
                         "(SOURCE[.OUTPUT][@TIMEFRAME][~LAG])"},
      {"rsi@5m@5m", WHERE ": item 1: rsi@5m@5m: more than one '@': an item has one timeframe"},
      {"rsi~1~2", WHERE ": item 1: rsi~1~2: more than one '~': an item has one lag"},
      {"@5m", WHERE ": item 1: @5m: no source before the suffixes: name an indicator (rsi:14) "
                    "or a built-in (ret:1, close, volume, range)"},
      {"close.value", WHERE ": item 1: close.value: the built-in close has one value: it takes "
                            "no .OUTPUT"},
      {"close:1", WHERE ": item 1: close:1: the built-in close takes no parameters"},
      {"ret:0", WHERE ": item 1: ret:0: ret:N takes N, a whole number of bars from 1 to 100000, "
                      "got 0"},
      {"ret:1.5", WHERE ": item 1: ret:1.5: ret:N takes N, a whole number of bars from 1 to "
                        "100000, got '1.5'"},
      {"ret:1; ret", WHERE ": item 2: ret: computes the same value as item 1 (both are "
                           "ret:1@5m~0): remove one of them"},
      {"good_indicator.mid", WHERE ": item 1: good_indicator.mid: indicator good_indicator has a "
                                   "secret parameter (model_path): a feature spec is written into "
                                   "models and reports, so it cannot use this indicator"},
      {"rsi:14; rsi:period=14.value@5m", WHERE ": item 2: rsi:period=14.value@5m: computes the "
                                               "same value as item 1 (both are "
                                               "rsi:14,close.value@5m~0): remove one of "
                                               "them"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tack_diag d = TACK_DIAG_INIT;
    tack_features *f = NULL;
    int rc = tack_features_new(cases[i].spec, tf5, 1, ld, WHERE, &d, &f);
    if (d.n != 1 || strcmp(d.msgs[0], cases[i].message) != 0) {
      fprintf(stderr, "spec \"%s\":\n  want: %s\n", cases[i].spec, cases[i].message);
      for (size_t k = 0; k < d.n; k++)
        fprintf(stderr, "  got:  %s\n", d.msgs[k]);
    }
    assert_int_equal(rc, TACK_ECONFIG);
    assert_null(f);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0], cases[i].message);
    tack_diag_free(&d);
  }
}

/* Every problem of a spec is reported in one go, in item order. */
static void test_every_problem_reported(void **state) {
  (void)state;
  tack_diag d = TACK_DIAG_INIT;
  tack_features *f = NULL;
  int rc = tack_features_new("rsi:1; ret; close.x; macd; ret:1", tf5, 1, ld, NULL, &d, &f);
  assert_int_equal(rc, TACK_ECONFIG);
  assert_null(f);
  assert_int_equal(d.n, 4);
  assert_non_null(strstr(d.msgs[0], "features: item 1: rsi:1: "));
  assert_non_null(strstr(d.msgs[1], "features: item 3: close.x: "));
  assert_non_null(strstr(d.msgs[2], "features: item 4: macd: "));
  assert_non_null(strstr(d.msgs[3], "features: item 5: ret:1: computes the same value"));
  tack_diag_free(&d);

  /* Bad arguments. */
  assert_int_equal(tack_features_new("ret", tf5, 1, ld, NULL, &d, NULL), TACK_EINVAL);
  assert_int_equal(tack_features_new("ret", tf5, 0, ld, NULL, &d, &f), TACK_ECONFIG);
  assert_int_equal(d.n, 1);
  assert_string_equal(d.msgs[0], "features: no timeframes given");
  tack_diag_free(&d);
}

/* The first vector comes at the bar where the slowest item, lag included,
 * has its first value. */
static size_t first_vector(const char *spec, const uint32_t *tfs, size_t n_tfs, size_t n_bars) {
  tack_features *f = make(spec, tfs, n_tfs);
  tack_bar *b = calloc(n_bars, sizeof *b);
  tack_bar *h = calloc(n_bars / 3 + 1, sizeof *h);
  size_t first = SIZE_MAX;
  double v[8];
  assert_non_null(b);
  assert_non_null(h);
  walk(5, M5, b, n_bars);
  for (size_t j = 0; j < n_bars / 3; j++) {
    h[j] = bar_at((int64_t)j, M15, b[3 * j + 2].close);
    h[j].open = b[3 * j].open;
    h[j].high = fmax(fmax(b[3 * j].high, b[3 * j + 1].high), b[3 * j + 2].high);
    h[j].low = fmin(fmin(b[3 * j].low, b[3 * j + 1].low), b[3 * j + 2].low);
  }
  for (size_t i = 0; i < n_bars && first == SIZE_MAX; i++) {
    if (n_tfs > 1 && i % 3 == 2)
      assert_int_equal(tack_features_update(f, &h[i / 3], v), 0);
    int rc = tack_features_update(f, &b[i], v);
    assert_true(rc == 0 || rc == 1);
    if (rc == 1)
      first = i;
  }
  free(b);
  free(h);
  tack_features_free(f);
  return first;
}

static void test_warmup(void **state) {
  (void)state;
  assert_int_equal(first_vector("close", tf5, 1, 10), 0);
  assert_int_equal(first_vector("close~4", tf5, 1, 10), 4);
  assert_int_equal(first_vector("ret:2~5", tf5, 1, 20), 7);
  assert_int_equal(first_vector("rsi:14; ret:1~3", tf5, 1, 100), 14);
  assert_int_equal(first_vector("rsi:14~2; ret:1~3", tf5, 1, 100), 16);
  assert_int_equal(first_vector("macd:12,26,9.hist", tf5, 1, 100), 33);
  /* macd's first 15m value is 15m bar 33, which closes with 5m bar 101. */
  assert_int_equal(first_vector("ret:1; macd:12,26,9.hist@15m", tf5_15, 2, 200), 101);
  assert_int_equal(first_vector("ret:1; close@15m~1", tf5_15, 2, 20), 5);
}

/* Provisional bars, of either timeframe, change nothing. */
static void test_provisional_ignored(void **state) {
  (void)state;
  enum { N = 300 };
  tack_bar *b = calloc(N, sizeof *b);
  assert_non_null(b);
  walk(3, M5, b, N);
  const char *spec = "rsi:14; ret:1~1; macd:12,26,9.hist; probe.count; close@15m";
  tack_features *f = make(spec, tf5_15, 2);
  tack_features *g = make(spec, tf5_15, 2);
  for (size_t i = 0; i < N; i++) {
    double v[5], w[5];
    if (i % 3 == 2) {
      tack_bar h = bar_at((int64_t)i / 3, M15, b[i].close);
      assert_int_equal(tack_features_update(f, &h, v), 0);
      assert_int_equal(tack_features_update(g, &h, w), 0);
    }
    for (int k = 0; k < 3; k++) {
      tack_bar p = b[i];
      p.flags = 0;
      p.close = p.high = 1000 + k;
      tack_bar ph = bar_at((int64_t)(i + 1) / 3, M15, 7);
      ph.flags = 0;
      assert_int_equal(tack_features_update(g, &p, w), 0);
      assert_int_equal(tack_features_update(g, &ph, w), 0);
    }
    int rf = tack_features_update(f, &b[i], v);
    int rg = tack_features_update(g, &b[i], w);
    assert_int_equal(rf, rg);
    if (rf == 1)
      assert_memory_equal(v, w, sizeof v);
  }
  tack_features_free(f);
  tack_features_free(g);
  free(b);
}

/* Refused bars return TACK_EINVAL and change nothing. */
static void test_refused_bars(void **state) {
  (void)state;
  tack_features *f = make("ret:1; close@15m", tf5_15, 2);
  tack_features *g = make("ret:1; close@15m", tf5_15, 2);
  double v[2], w[2];
  for (int64_t i = 0; i < 9; i++) {
    tack_bar b = bar_at(i, M5, 100 + (double)i);
    if (i % 3 == 2) {
      tack_bar h = bar_at(i / 3, M15, 50 + (double)i);
      assert_int_equal(tack_features_update(f, &h, v), 0);
      assert_int_equal(tack_features_update(g, &h, w), 0);
    }
    tack_bar other = bar_at(i, 60, 1);
    tack_bar nan = b;
    nan.close = NAN;
    tack_bar inf = b;
    inf.volume = INFINITY;
    assert_int_equal(tack_features_update(f, &other, v), TACK_EINVAL);
    assert_int_equal(tack_features_update(f, &nan, v), TACK_EINVAL);
    assert_int_equal(tack_features_update(f, &inf, v), TACK_EINVAL);
    int rf = tack_features_update(f, &b, v);
    int rg = tack_features_update(g, &b, w);
    assert_int_equal(rf, rg);
    assert_int_equal(rf, i >= 2);
    if (rf == 1)
      assert_memory_equal(v, w, sizeof v);
    /* The same bar again, or an older one. */
    assert_int_equal(tack_features_update(f, &b, v), TACK_EINVAL);
    tack_bar old = bar_at(i - 1, M5, 1);
    assert_int_equal(tack_features_update(f, &old, v), TACK_EINVAL);
  }
  tack_features_free(f);
  tack_features_free(g);

  /* Look-ahead: a 5m bar that ends before a 15m bar already fed. */
  f = make("ret:1; close@15m", tf5_15, 2);
  tack_bar h = bar_at(0, M15, 50);
  assert_int_equal(tack_features_update(f, &h, v), 0);
  for (int64_t i = 0; i < 2; i++) {
    tack_bar b = bar_at(i, M5, 100);
    assert_int_equal(tack_features_update(f, &b, v), TACK_EINVAL);
  }
  tack_bar b2 = bar_at(2, M5, 100);
  assert_int_equal(tack_features_update(f, &b2, v), 0);
  tack_bar b3 = bar_at(3, M5, 110);
  assert_int_equal(tack_features_update(f, &b3, v), 1);
  assert_true(v[0] == log(110.0 / 100.0));
  assert_true(v[1] == 50);
  tack_features_free(f);
}

/* Reset gives the same vectors as a new builder, for indicators with and
 * without a reset of their own. */
static void test_reset(void **state) {
  (void)state;
  enum { N = 200 };
  tack_bar *b = calloc(N, sizeof *b);
  double *first = calloc(N * 4, sizeof *first);
  assert_non_null(b);
  assert_non_null(first);
  walk(9, M5, b, N);
  tack_features *f = make("rsi:5; probe.count~2; ret:1~1; example.sma:3.sma", tf5, 1);
  for (int round = 0; round < 3; round++) {
    for (size_t i = 0; i < N; i++) {
      double v[4];
      int rc = tack_features_update(f, &b[i], v);
      assert_int_equal(rc, i >= 5 ? 1 : 0);
      if (rc != 1)
        continue;
      if (round == 0)
        memcpy(&first[i * 4], v, sizeof v);
      else
        assert_memory_equal(&first[i * 4], v, sizeof v);
      assert_true(v[1] == (double)(i - 1)); /* probe.count of bar i - 2 */
    }
    tack_features_reset(f);
  }
  tack_features_free(f);
  free(b);
  free(first);
}

/* Plugin ids may hold dots: a head that is a plugin id has no output. */
static void test_dotted_ids(void **state) {
  (void)state;
  assert_canonical("example.sma.sma", tf5, 1, "example.sma:20.sma@5m~0");
  assert_canonical("example.sma:4.sma~1", tf5, 1, "example.sma:4.sma@5m~1");
  tack_diag d = TACK_DIAG_INIT;
  tack_features *f = NULL;
  assert_int_equal(tack_features_new("example.sma.avg", tf5, 1, ld, NULL, &d, &f), TACK_ECONFIG);
  assert_int_equal(d.n, 1);
  assert_string_equal(d.msgs[0], "features: item 1: example.sma.avg: indicator example.sma has no "
                                 "output 'avg' (its outputs: sma)");
  tack_diag_free(&d);
}

/* Every allocation of tack_features_new may fail: it then returns
 * TACK_ENOMEM (or a plugin's refusal to be made) and leaks nothing. */
static void test_allocation_failures(void **state) {
  (void)state;
  const char *spec = "rsi:14; macd:12,26,9.hist@15m~2; ret:3; example.sma:5.sma; close@15m";
  int successes = 0;
  for (uint64_t n = 1; n < 600 && successes < 5; n++) {
    tack_diag d = TACK_DIAG_INIT;
    tack_features *f = NULL;
    tack_alloc_fail_after(n);
    int rc = tack_features_new(spec, tf5_15, 2, ld, NULL, &d, &f);
    tack_alloc_fail_after(0);
    assert_true(rc == 0 || rc == TACK_ENOMEM || rc == TACK_ECONFIG);
    if (rc == 0) {
      assert_int_equal(tack_features_count(f), 5);
      successes++;
    } else {
      assert_null(f);
    }
    tack_features_free(f);
    tack_diag_free(&d);
  }
  assert_int_equal(successes, 5);
}

/* How fast vectors are built (printed, not asserted: machines differ). */
static void test_rate(void **state) {
  (void)state;
  enum { N = 200000 };
  tack_bar *b = calloc(N, sizeof *b);
  assert_non_null(b);
  walk(21, M5, b, N);
  tack_features *f = make("rsi:14; rsi:14~1; macd:12,26,9.hist; macd:12,26,9.signal; "
                          "bbands:20.upper; bbands:20.lower; atr:14; natr:14; adx:14; cci:20; "
                          "ret:1; ret:1~1; ret:1~2; ret:5; range; volume",
                          tf5, 1);
  double v[16];
  struct timespec t0, t1;
  size_t vectors = 0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (size_t i = 0; i < N; i++)
    vectors += (size_t)tack_features_update(f, &b[i], v);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  assert_true(vectors > N - 100);
  printf("features: %d bars x 16 features in %.3f s: %.0f rows/s\n", N, s, N / s);
  tack_features_free(f);
  free(b);
}

int main(void) {
  const char *build = getenv("TACK_BUILD_DIR");
  const char *fixtures = getenv("TACK_FIXTURE_DIR");
  char dir[4096];
  if (!build || !fixtures) {
    fprintf(stderr, "TACK_BUILD_DIR and TACK_FIXTURE_DIR must be set: run through ctest\n");
    return 1;
  }
  if (tack_loader_new(&ld) != 0)
    return 1;
  snprintf(dir, sizeof dir, "%s/plugins", build);
  tack_loader_scan_dir(ld, dir);
  snprintf(dir, sizeof dir, "%s/strategies", fixtures);
  tack_loader_scan_dir(ld, dir);
  snprintf(dir, sizeof dir, "%s/loader/good_indicator/good_indicator.so", fixtures);
  tack_loader_load_file(ld, dir);
  static const char *const needed[] = {"rsi",         "macd",        "bbands",
                                       "example.sma", "probe.count", "heikin_ashi"};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
    if (!tack_loader_find(ld, needed[i])) {
      fprintf(stderr, "plugin %s was not loaded:\n", needed[i]);
      tack_loader_print_refusals(ld, stderr);
      return 1;
    }
  }
  tack_instance_set_registry(ld);

  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_builtins_by_hand),
      cmocka_unit_test(test_nonpositive_prices),
      cmocka_unit_test(test_multi_timeframe),
      cmocka_unit_test(test_indicators_match_direct),
      cmocka_unit_test(test_canonical_forms),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_every_problem_reported),
      cmocka_unit_test(test_warmup),
      cmocka_unit_test(test_provisional_ignored),
      cmocka_unit_test(test_refused_bars),
      cmocka_unit_test(test_reset),
      cmocka_unit_test(test_dotted_ids),
      cmocka_unit_test(test_allocation_failures),
      cmocka_unit_test(test_rate),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  tack_instance_set_registry(NULL);
  tack_loader_free(ld);
  return failed;
}
