/*
 * test_indicators_unit.c: the indicator plugins on series small enough to
 * compute by hand (the arithmetic is in the comments), their descriptors,
 * lookbacks and parameters, and the edge cases: flat bars, zero volume,
 * non-finite input, failed allocation, reconfiguration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_indicators_host.h"

extern const tack_plugin_list tack_plugin_entry;

/* "Not ready" in an expected table. */
#define NR (-1e300)
#define MAXB 64

typedef struct hbar {
  double o, h, l, c, v;
} hbar;

static void make_bars(const hbar *hb, size_t n, tack_bar *out) {
  size_t i;
  memset(out, 0, n * sizeof(*out));
  for (i = 0; i < n; i++) {
    out[i].ts = (int64_t)i * 3600 * TACK_NS_PER_SEC;
    out[i].open = hb[i].o;
    out[i].high = hb[i].h;
    out[i].low = hb[i].l;
    out[i].close = hb[i].c;
    out[i].volume = hb[i].v;
    out[i].timeframe_s = 3600;
    out[i].flags = TACK_BAR_CLOSED;
  }
}

/* Bars whose open, high, low and close all equal closes[i], volume 1. */
static void close_bars(const double *closes, size_t n, tack_bar *out) {
  hbar hb[MAXB];
  size_t i;
  for (i = 0; i < n; i++) {
    hb[i].o = hb[i].h = hb[i].l = hb[i].c = closes[i];
    hb[i].v = 1.0;
  }
  make_bars(hb, n, out);
}

/* Run id over bars; want holds n rows of n_out values, NR where the plugin
 * must not be ready. Values must agree to 1e-12 relative. */
static void expect(const char *id, const tih_param *p, size_t np, const tack_bar *bars, size_t n,
                   const double *want, int n_out) {
  tih_ind ind;
  size_t i;
  int c;
  assert_int_equal(tih_open(&ind, id, p, np), 0);
  assert_int_equal(ind.n_out, n_out);
  for (i = 0; i < n; i++) {
    double out[TIH_MAX_OUTPUTS];
    int rc = tih_update(&ind, &bars[i], out);
    if (want[i * (size_t)n_out] == NR) {
      if (rc != 0)
        fail_msg("%s: bar %zu: ready (%.17g), expected warming up", id, i, out[0]);
      continue;
    }
    if (rc != 1)
      fail_msg("%s: bar %zu: returned %d, expected a value", id, i, rc);
    for (c = 0; c < n_out; c++) {
      double w = want[i * (size_t)n_out + (size_t)c];
      if (!(fabs(out[c] - w) <= 1e-12 * fmax(1.0, fabs(w))))
        fail_msg("%s: bar %zu output %d: %.17g, expected %.17g", id, i, c, out[c], w);
    }
  }
  tih_close(&ind);
  assert_int_equal(tih_live_allocs(), 0);
}

static void expect_closes(const char *id, const tih_param *p, size_t np, const double *closes,
                          size_t n, const double *want, int n_out) {
  tack_bar bars[MAXB];
  close_bars(closes, n, bars);
  expect(id, p, np, bars, n, want, n_out);
}

#define P(k, v)                                                                                    \
  { k, v }
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- descriptors ------------------------------------------------------- */

static void test_registry(void **state) {
  static const char *required[] = {
      "sma",      "ema",      "wma",        "dema",  "tema",    "kama",   "rsi",
      "stochrsi", "macd",     "bbands",     "atr",   "natr",    "trange", "stoch",
      "adx",      "plus_di",  "minus_di",   "cci",   "mfi",     "obv",    "roc",
      "rocp",     "mom",      "willr",      "sar",   "stddev",  "vwap",   "donchian",
      "keltner",  "ichimoku", "supertrend", "aroon", "aroonosc"};
  uint32_t i, j;
  (void)state;
  assert_int_equal(tack_plugin_entry.magic, TACK_MAGIC);
  assert_int_equal(tack_plugin_entry.abi_major, TACK_ABI_MAJOR);
  assert_true(tack_plugin_entry.count >= 33);
  for (i = 0; i < N(required); i++)
    if (!tih_find(required[i]))
      fail_msg("no indicator \"%s\"", required[i]);
  for (i = 0; i < tack_plugin_entry.count; i++) {
    const tack_plugin_desc *d = tack_plugin_entry.plugins[i];
    const tack_indicator_vtable *vt = d->vtable;
    const tack_param_spec *ps;
    const char *c;
    int np = 0;
    assert_int_equal(d->size, sizeof(tack_plugin_desc));
    assert_int_equal(d->kind, TACK_KIND_INDICATOR);
    for (c = d->id; *c; c++)
      assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
    for (j = 0; j < i; j++)
      assert_string_not_equal(d->id, tack_plugin_entry.plugins[j]->id);
    assert_int_equal(vt->size, sizeof(tack_indicator_vtable));
    assert_non_null(vt->life.create);
    assert_non_null(vt->life.destroy);
    assert_non_null(vt->update);
    assert_non_null(vt->lookback);
    assert_non_null(vt->reset);
    assert_non_null(vt->outputs[0].name);
    for (ps = d->params; ps && ps->name; ps++, np++) {
      if (ps->type == TACK_PARAM_INT || ps->type == TACK_PARAM_DOUBLE)
        assert_true(ps->def >= ps->min && ps->def <= ps->max);
      if (ps->type == TACK_PARAM_STRING)
        assert_non_null(strstr(ps->choices, ps->def_str));
    }
    assert_true(np <= 8);
  }
}

/* TA-Lib's lookback (its first output bar) at TA-Lib's default parameters. */
static void test_default_lookbacks(void **state) {
  static const struct {
    const char *id;
    int lookback;
  } want[] = {
      {"sma", 29},        {"ema", 29},      {"wma", 29},      {"dema", 58},     {"tema", 87},
      {"kama", 30},       {"rsi", 14},      {"stochrsi", 20}, {"macd", 33},     {"stoch", 8},
      {"willr", 13},      {"cci", 13},      {"mfi", 14},      {"roc", 10},      {"rocp", 10},
      {"mom", 10},        {"aroon", 14},    {"aroonosc", 14}, {"trange", 1},    {"atr", 14},
      {"natr", 14},       {"stddev", 4},    {"bbands", 4},    {"donchian", 19}, {"keltner", 19},
      {"supertrend", 10}, {"adx", 27},      {"dx", 14},       {"plus_di", 14},  {"minus_di", 14},
      {"sar", 1},         {"ichimoku", 77}, {"obv", 0},       {"vwap", 0}};
  size_t i;
  (void)state;
  assert_int_equal(N(want), tack_plugin_entry.count);
  for (i = 0; i < N(want); i++) {
    tih_ind ind;
    assert_int_equal(tih_open(&ind, want[i].id, NULL, 0), 0);
    if (ind.vt->lookback(ind.self) != want[i].lookback)
      fail_msg("%s: lookback %d, TA-Lib %d", want[i].id, ind.vt->lookback(ind.self),
               want[i].lookback);
    tih_close(&ind);
  }
}

static void test_talib_defaults(void **state) {
  static const struct {
    const char *id, *param;
    double def;
  } want[] = {
      {"rsi", "period", 14},        {"macd", "fast", 12},          {"macd", "slow", 26},
      {"macd", "signal", 9},        {"bbands", "period", 5},       {"bbands", "nbdevup", 2},
      {"bbands", "nbdevdn", 2},     {"sar", "acceleration", 0.02}, {"sar", "maximum", 0.2},
      {"stoch", "fastk_period", 5}, {"stoch", "slowk_period", 3},  {"stoch", "slowd_period", 3},
      {"atr", "period", 14},        {"sma", "period", 30}};
  size_t i;
  (void)state;
  for (i = 0; i < N(want); i++) {
    const tack_param_spec *ps = tih_find(want[i].id)->params;
    while (ps->name && strcmp(ps->name, want[i].param) != 0)
      ps++;
    assert_non_null(ps->name);
    assert_true(ps->def == want[i].def);
  }
}

/* ---- averages ---------------------------------------------------------- */

static void test_sma_ema_wma(void **state) {
  static const double x[] = {1, 2, 3, 4, 8};
  const tih_param p3[] = {P("period", "3")};
  /* SMA(3): (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+8)/3 = 5. */
  static const double sma[] = {NR, NR, 2, 3, 5};
  /* EMA(3), k = 0.5, seed mean(1,2,3) = 2: (4−2)/2+2 = 3, (8−3)/2+3 = 5.5. */
  static const double ema[] = {NR, NR, 2, 3, 5.5};
  /* WMA(3), weights 1,2,3 over 6: (1+4+9)/6, (2+6+12)/6, (3+8+24)/6. */
  static const double wma[] = {NR, NR, 14.0 / 6, 20.0 / 6, 35.0 / 6};
  (void)state;
  expect_closes("sma", p3, 1, x, N(x), sma, 1);
  expect_closes("ema", p3, 1, x, N(x), ema, 1);
  expect_closes("wma", p3, 1, x, N(x), wma, 1);
}

static void test_dema_tema(void **state) {
  static const double x[] = {1, 2, 3, 4, 5, 6};
  const tih_param p2[] = {P("period", "2")};
  /* EMA(2) (k = 2/3) of a line lags it by 0.5: 1.5, 2.5, ... from bar 1;
   * its EMA, seeded with mean(1.5, 2.5) = 2 at bar 2, lags by 1; the third,
   * seeded with mean(2, 3) = 2.5 at bar 3, lags by 1.5.
   * DEMA = 2·(x−0.5) − (x−1) = x from bar 2(n−1) = 2;
   * TEMA = 3(x−0.5) − 3(x−1) + (x−1.5) = x from bar 3(n−1) = 3. */
  static const double dema[] = {NR, NR, 3, 4, 5, 6};
  static const double tema[] = {NR, NR, NR, 4, 5, 6};
  (void)state;
  expect_closes("dema", p2, 1, x, N(x), dema, 1);
  expect_closes("tema", p2, 1, x, N(x), tema, 1);
}

static void test_kama(void **state) {
  static const double x[] = {1, 2, 3, 5, 4};
  const tih_param p2[] = {P("period", "2")};
  /* fast = 2/3, slow = 2/31.
   * bar 2: change 3−1 = 2, volatility |1−2|+|2−3| = 2 → ER 1, sc = (2/3)² =
   *   4/9; starts from x[1] = 2: 2 + (3−2)·4/9 = 22/9.
   * bar 3: change 5−2 = 3, volatility 2 − 1 + 2 = 3 → ER 1:
   *   22/9 + (5 − 22/9)·4/9 = 290/81.
   * bar 4: change 4−3 = 1, volatility 3 − 1 + 1 = 3 → ER 1/3,
   *   sc = (1/3·(2/3 − 2/31) + 2/31)²: 290/81 + (4 − 290/81)·sc. */
  double sc = (1.0 / 3 * (2.0 / 3 - 2.0 / 31) + 2.0 / 31);
  double want[] = {NR, NR, 22.0 / 9, 290.0 / 81, 0};
  (void)state;
  sc *= sc;
  want[4] = 290.0 / 81 + (4 - 290.0 / 81) * sc;
  expect_closes("kama", p2, 1, x, N(x), want, 1);
}

/* ---- momentum ---------------------------------------------------------- */

static void test_rsi(void **state) {
  static const double x[] = {10, 11, 10, 12, 11};
  static const double flat[] = {5, 5, 5, 5};
  const tih_param p2[] = {P("period", "2")};
  /* bar 2: gains 1, losses 1 over 2 bars → 0.5 and 0.5 → 50.
   * bar 3: +2: gain (0.5+2)/2 = 1.25, loss 0.5/2 = 0.25 → 100·1.25/1.5.
   * bar 4: −1: gain 0.625, loss (0.25+1)/2 = 0.625 → 50.
   * Flat: no gain and no loss → 0, as TA-Lib. */
  static const double want[] = {NR, NR, 50, 250.0 / 3, 50};
  static const double want_flat[] = {NR, NR, 0, 0};
  (void)state;
  expect_closes("rsi", p2, 1, x, N(x), want, 1);
  expect_closes("rsi", p2, 1, flat, N(flat), want_flat, 1);
}

static void test_stochrsi(void **state) {
  static const double x[] = {10, 11, 10, 12, 11};
  const tih_param p[] = {P("period", "2"), P("fastk_period", "2"), P("fastd_period", "1")};
  /* RSI(2) = 50, 83.33, 50 on bars 2..4 (see test_rsi). %K over 2 RSI values:
   * bar 3: (83.33−50)/((83.33−50)/100) = 100; bar 4: (50−50)/.. = 0. %D over
   * one value is %K. First output: 2 + (2−1) + 0 = bar 3. */
  static const double want[] = {NR, NR, NR, NR, NR, NR, 100, 100, 0, 0};
  (void)state;
  expect_closes("stochrsi", p, N(p), x, N(x), want, 2);
}

static void test_macd(void **state) {
  static const double x[] = {1, 2, 4, 8, 16};
  const tih_param p[] = {P("fast", "2"), P("slow", "3"), P("signal", "2")};
  /* slow EMA(3), k 1/2, seed (1+2+4)/3 = 7/3 at bar 2; 31/6; 127/12.
   * fast EMA(2), k 2/3, seeded over bars 1..2 (its window ends with the slow
   * one's): 3 at bar 2; 19/3; 115/9.
   * MACD: 2/3, 7/6, 79/36. Signal EMA(2) seeded with mean(2/3, 7/6) = 11/12
   * at bar 3 = slow+signal−2; then (79/36 − 11/12)·2/3 + 11/12 = 191/108. */
  static const double want[] = {NR, NR,      NR,        NR,   NR,        NR,          NR,        NR,
                                NR, 7.0 / 6, 11.0 / 12, 0.25, 79.0 / 36, 191.0 / 108, 46.0 / 108};
  const tih_param swapped[] = {P("fast", "3"), P("slow", "2"), P("signal", "2")};
  (void)state;
  expect_closes("macd", p, N(p), x, N(x), want, 3);
  /* fast > slow: TA-Lib swaps them. */
  expect_closes("macd", swapped, N(swapped), x, N(x), want, 3);
}

static void test_stoch_willr(void **state) {
  static const hbar hb[] = {{9, 10, 8, 9, 1},
                            {10, 11, 9, 10, 1},
                            {11, 12, 10, 11, 1},
                            {11, 12, 10, 10, 1},
                            {10, 11, 9, 9, 1}};
  tack_bar bars[5];
  const tih_param ps[] = {P("fastk_period", "3"), P("slowk_period", "2"), P("slowd_period", "2")};
  const tih_param pw[] = {P("period", "3")};
  /* Fast %K over 3 bars: bar 2 (11−8)/(12−8) = 75%, bar 3 (10−9)/(12−9) =
   * 33.3%, bar 4 (9−9)/(12−9) = 0. Slow %K = SMA2: 54.17 (bar 3), 16.67;
   * slow %D = SMA2 of that: 35.42 at bar 4 = (3−1)+(2−1)+(2−1). */
  static const double stoch[] = {NR, NR, NR, NR, NR, NR, NR, NR, 500.0 / 30, 1062.5 / 30};
  /* %R: bar 2 −100·(12−11)/(12−8) = −25; bar 3 −100·2/3; bar 4 −100·3/3. */
  static const double willr[] = {NR, NR, -25, -200.0 / 3, -100};
  (void)state;
  make_bars(hb, N(hb), bars);
  expect("stoch", ps, N(ps), bars, N(hb), stoch, 2);
  expect("willr", pw, N(pw), bars, N(hb), willr, 1);
}

static void test_cci_mfi(void **state) {
  static const hbar hb[] = {
      {9, 10, 8, 9, 1}, {10, 11, 9, 10, 2}, {11, 12, 10, 11, 3}, {11, 11, 9, 10, 4}};
  tack_bar bars[4];
  const tih_param p3[] = {P("period", "3")}, p2[] = {P("period", "2")};
  /* Typical prices 9, 10, 11, 10. CCI(3) at bar 2: mean 10, mean absolute
   * deviation 2/3: (11−10)/(0.015·2/3) = 100; bar 3: mean 31/3, deviations
   * 1/3, 2/3, 1/3 → 4/9: (10 − 31/3)/(0.015·4/9) = −50. */
  static const double cci[] = {NR, NR, 100, -50};
  /* MFI(2): flows bar 1 +10·2, bar 2 +11·3 → 100 at bar 2; bar 3 −10·4:
   * 100·33/(33+40). */
  static const double mfi[] = {NR, NR, 100, 3300.0 / 73};
  (void)state;
  make_bars(hb, N(hb), bars);
  expect("cci", p3, 1, bars, N(hb), cci, 1);
  expect("mfi", p2, 1, bars, N(hb), mfi, 1);
}

static void test_obv_change(void **state) {
  static const hbar hb[] = {{1, 1, 1, 1, 10}, {2, 2, 2, 2, 20}, {2, 2, 2, 2, 30}, {1, 1, 1, 1, 40}};
  static const double x[] = {10, 11, 12.1, 0, 5, 7};
  tack_bar bars[4];
  const tih_param p2[] = {P("period", "2")};
  /* OBV starts at the first volume: 10, +20, unchanged, −40. */
  static const double obv[] = {10, 30, 30, -10};
  /* Against 2 bars back: ROC 100·(12.1/10 − 1) = 21, 100·(0/11 − 1),
   * 100·(5/12.1 − 1), and 0 where the old price is 0 (TA-Lib); ROCP the
   * fraction; MOM the change. */
  static const double roc[] = {NR, NR, 21, -100, (5 / 12.1 - 1) * 100, 0};
  static const double rocp[] = {NR, NR, 0.21, -1, (5 - 12.1) / 12.1, 0};
  static const double mom[] = {NR, NR, 12.1 - 10, -11, 5 - 12.1, 7};
  (void)state;
  make_bars(hb, N(hb), bars);
  expect("obv", NULL, 0, bars, N(hb), obv, 1);
  expect_closes("roc", p2, 1, x, N(x), roc, 1);
  expect_closes("rocp", p2, 1, x, N(x), rocp, 1);
  expect_closes("mom", p2, 1, x, N(x), mom, 1);
}

static void test_aroon(void **state) {
  static const hbar hb[] = {
      {9, 10, 8, 9, 1}, {10, 11, 9, 10, 1}, {11, 12, 10, 11, 1}, {11, 12, 10, 11, 1}};
  tack_bar bars[4];
  const tih_param p2[] = {P("period", "2")};
  /* Windows of 3 bars, factor 100/2. bar 2: high 12 now, low 8 two bars
   * ago → down 0, up 100. bar 3: the high 12 ties, the latest counts → up
   * 100; low 9 two bars ago → down 0. Oscillator = 50·(high bar − low bar). */
  static const double aroon[] = {NR, NR, NR, NR, 0, 100, 0, 100};
  static const double osc[] = {NR, NR, 100, 100};
  (void)state;
  make_bars(hb, N(hb), bars);
  expect("aroon", p2, 1, bars, N(hb), aroon, 2);
  expect("aroonosc", p2, 1, bars, N(hb), osc, 1);
}

/* ---- volatility -------------------------------------------------------- */

static void test_atr_family(void **state) {
  static const hbar hb[] = {
      {9, 10, 8, 9, 1}, {10, 11, 9, 10, 1}, {11, 12, 10, 11, 1}, {19, 20, 18, 19, 1}};
  tack_bar bars[4];
  const tih_param p2[] = {P("period", "2")};
  /* TR: bar 1 max(2, |9−11|, |9−9|) = 2; bar 2 2; bar 3 (gap) max(2, |11−20|,
   * |11−18|) = 9. ATR(2) = (2+2)/2 = 2 at bar 2, then (2·1 + 9)/2 = 5.5.
   * NATR = 100·ATR/close. */
  static const double tr[] = {NR, 2, 2, 9};
  static const double atr[] = {NR, NR, 2, 5.5};
  static const double natr[] = {NR, NR, 200.0 / 11, 550.0 / 19};
  (void)state;
  make_bars(hb, N(hb), bars);
  expect("trange", NULL, 0, bars, N(hb), tr, 1);
  expect("atr", p2, 1, bars, N(hb), atr, 1);
  expect("natr", p2, 1, bars, N(hb), natr, 1);
}

static void test_bbands_stddev(void **state) {
  static const double x[] = {1, 2, 3, 3, 3, 3};
  const tih_param p3[] = {P("period", "3")};
  const tih_param pb[] = {P("period", "3"), P("nbdevup", "2"), P("nbdevdn", "1")};
  /* Population deviation of 1,2,3: sqrt((1+4+9)/3 − 4) = sqrt(2/3); of 2,3,3:
   * sqrt(22/3 − 64/9) = sqrt(2/9); of 3,3,3: 0. */
  double s1 = sqrt(2.0 / 3), s2 = sqrt(2.0 / 9);
  double sd[] = {NR, NR, s1, s2, 0, 0};
  double bb[] = {NR,      NR,           NR, NR, NR, NR, 2 + 2 * s1, 2, 2 - s1, 8.0 / 3 + 2 * s2,
                 8.0 / 3, 8.0 / 3 - s2, 3,  3,  3,  3,  3,          3};
  (void)state;
  expect_closes("stddev", p3, 1, x, N(x), sd, 1);
  expect_closes("bbands", pb, N(pb), x, N(x), bb, 3);
}

static void test_channels(void **state) {
  static const hbar hb[] = {
      {9, 10, 8, 9, 1}, {10, 11, 9, 10, 1}, {12, 13, 11, 12.5, 1}, {11, 12, 10, 10.5, 1}};
  tack_bar bars[4];
  const tih_param pd[] = {P("period", "2")};
  const tih_param pk[] = {P("period", "2"), P("atr_period", "1"), P("multiplier", "2")};
  const tih_param ps[] = {P("period", "1"), P("multiplier", "1")};
  /* Donchian(2): bar 1 11/10/8; bar 2 13/11/9; bar 3 13/11.5/10. */
  static const double don[] = {NR, NR, NR, 11, 9.5, 8, 13, 11, 9, 13, 11.5, 10};
  /* Keltner(EMA 2, ATR 1 = TR, ×2): EMA 9.5 at bar 1, then (12.5−9.5)·2/3 +
   * 9.5 = 11.5, then (10.5−11.5)·2/3 + 11.5 = 32.5/3; TR 2, 3, 2.5. */
  static const double kel[] = {NR,   NR,   NR,  13.5,         9.5,      5.5,
                               17.5, 11.5, 5.5, 32.5 / 3 + 5, 32.5 / 3, 32.5 / 3 - 5};
  /* SuperTrend(ATR 1 = TR, ×1): bar 1 hl2 10 ± 2 → starts down at 12.
   * bar 2: hl2 12 ± 3 → upper 15 does not tighten 12 (the close 10 stayed
   *   below it): 12; lower 9 > 8: 9. Close 12.5 > 12: up, the line is 9.
   * bar 3: hl2 11 ± 2.5: upper 13.5 replaces 12 (the close 12.5 broke it);
   *   lower 8.5 < 9 and the close stayed above 9: 9. 10.5 > 9: still up. */
  static const double st[] = {NR, NR, 12, -1, 9, 1, 9, 1};
  (void)state;
  make_bars(hb, N(hb), bars);
  expect("donchian", pd, 1, bars, N(hb), don, 3);
  expect("keltner", pk, N(pk), bars, N(hb), kel, 3);
  expect("supertrend", ps, N(ps), bars, N(hb), st, 2);
}

/* ---- trend ------------------------------------------------------------- */

static void test_dmi(void **state) {
  static const hbar hb[] = {{9, 10, 8, 9, 1},
                            {10, 11, 9, 10, 1},
                            {10, 12, 9, 11, 1},
                            {10, 11, 7, 8, 1},
                            {9, 12, 6, 9, 1}};
  tack_bar bars[5];
  const tih_param p2[] = {P("period", "2")};
  /* bar 1: up 1, down −1 → +DM 1; TR 2. (Bars 1..n−1 are summed.)
   * bar 2: up 1, down 0 → +DM; +DM 1 − 1/2 + 1 = 1.5, TR 2 − 1 + 3 = 4:
   *   +DI 37.5, −DI 0, DX 100.
   * bar 3: up −1, down 2 → −DM: +DM 0.75, −DM 2, TR 4 − 2 + 4 = 6:
   *   +DI 12.5, −DI 100/3, DX 100·(100/3 − 12.5)/(100/3 + 12.5) = 500/11;
   *   ADX = (100 + 500/11)/2 = 800/11 at bar 2n−1 = 3.
   * bar 4: up 1 == down 1 → neither: +DM 0.375, −DM 1, TR 6 − 3 + 6 = 9:
   *   DX = 100·0.625/1.375 = 500/11 again; ADX (800/11 + 500/11)/2 = 650/11. */
  static const double plus_di[] = {NR, NR, 37.5, 12.5, 37.5 / 9};
  static const double minus_di[] = {NR, NR, 0, 100.0 / 3, 100.0 / 9};
  static const double dx[] = {NR, NR, 100, 500.0 / 11, 500.0 / 11};
  static const double adx[] = {NR, NR, NR, 800.0 / 11, 650.0 / 11};
  (void)state;
  make_bars(hb, N(hb), bars);
  expect("plus_di", p2, 1, bars, N(hb), plus_di, 1);
  expect("minus_di", p2, 1, bars, N(hb), minus_di, 1);
  expect("dx", p2, 1, bars, N(hb), dx, 1);
  expect("adx", p2, 1, bars, N(hb), adx, 1);
}

static void test_sar(void **state) {
  static const hbar hb[] = {
      {9, 10, 8, 9, 1}, {10, 11, 9, 10, 1}, {11, 12, 10, 11, 1}, {8, 9, 7, 8, 1}, {9, 10, 8, 9, 1}};
  tack_bar bars[5];
  /* Bar 1 moves up (−DM 0): long, extreme 11, SAR from bar 0's low 8.
   * bar 1: outputs 8; next 8 + 0.02·(11−8) = 8.06.
   * bar 2: outputs 8.06; new high 12: af 0.04, 8.06 + 0.04·(12 − 8.06) = 8.2176.
   * bar 3: low 7 <= 8.2176: reverse to short at the extreme 12 (not below the
   *   last two highs 12 and 9): outputs 12; next 12 + 0.02·(7 − 12) = 11.9,
   *   raised to the previous high 12.
   * bar 4: high 10 < 12: outputs 12. */
  static const double want[] = {NR, 8, 8.06, 12, 12};
  (void)state;
  make_bars(hb, N(hb), bars);
  expect("sar", NULL, 0, bars, N(hb), want, 1);
}

static void test_ichimoku(void **state) {
  static const hbar hb[] = {{9, 10, 8, 9, 1},
                            {10, 11, 9, 10, 1},
                            {12, 13, 11, 12.5, 1},
                            {11, 12, 10, 10.5, 1},
                            {11, 14, 10, 13, 1}};
  tack_bar bars[5];
  const tih_param p[] = {P("tenkan", "1"), P("kijun", "2"), P("senkou", "3"),
                         P("displacement", "1")};
  /* Midpoints: tenkan (1 bar) 9, 10, 12, 11, 12; kijun (2 bars) −, 9.5,
   * 11, 11.5, 12; senkou B (3 bars) −, −, 10.5, 11, 12. Output from bar
   * 3−1+1 = 3: the spans computed one bar earlier: A = (12+11)/2 at bar 3,
   * (11+11.5)/2 at bar 4; B 10.5, 11. Chikou is the close. */
  static const double want[] = {NR, NR, NR, NR,   NR,   NR,   NR,   NR, NR, NR,    NR, NR, NR,
                                NR, NR, 11, 11.5, 11.5, 10.5, 10.5, 12, 12, 11.25, 11, 13};
  (void)state;
  make_bars(hb, N(hb), bars);
  expect("ichimoku", p, N(p), bars, N(hb), want, 5);
}

/* ---- volume ------------------------------------------------------------ */

static void test_vwap(void **state) {
  /* Hourly bars from 22:00 UTC; the session resets at midnight (bar 2). */
  tack_bar bars[5];
  static const hbar hb[] = {{10, 10, 10, 10, 1},
                            {10, 12, 9, 9, 0},
                            {20, 20, 20, 20, 0},
                            {20, 21, 19, 20, 1},
                            {30, 30, 30, 30, 3}};
  const tih_param rolling[] = {P("mode", "rolling"), P("period", "2")};
  const tih_param shifted[] = {P("offset", "3600")};
  int i;
  /* Session: 10; 10 (no volume added); new day, no volume yet: not ready;
   * 20; (20 + 90)/4 = 27.5. */
  static const double session[] = {10, 10, NR, 20, 27.5};
  /* Rolling 2: bar 1 (10·1 + 0)/1; bar 2: both bars without volume: not
   * ready; bar 3 20; bar 4 (20 + 90)/4. */
  static const double roll[] = {NR, 10, NR, 20, 27.5};
  /* Sessions from 01:00: bars 0..2 are one session, bar 3 starts another. */
  static const double shift[] = {10, 10, 10, 20, 27.5};
  (void)state;
  make_bars(hb, N(hb), bars);
  for (i = 0; i < 5; i++)
    bars[i].ts = (INT64_C(22) + i) * 3600 * TACK_NS_PER_SEC;
  expect("vwap", NULL, 0, bars, N(hb), session, 1);
  expect("vwap", rolling, N(rolling), bars, N(hb), roll, 1);
  expect("vwap", shifted, N(shifted), bars, N(hb), shift, 1);
}

static void test_sources(void **state) {
  static const hbar hb[] = {{1, 8, 2, 4, 1}, {3, 9, 0, 6, 1}};
  static const char *sources[] = {"close", "open", "high", "low", "hl2", "hlc3", "ohlc4"};
  /* SMA(2) of each source: close 5, open 2, high 8.5, low 1, hl2 (5+4.5)/2,
   * hlc3 (14/3 + 5)/2, ohlc4 (15/4 + 18/4)/2. */
  static const double want[] = {5, 2, 8.5, 1, 4.75, 29.0 / 6, 33.0 / 8};
  tack_bar bars[2];
  size_t i;
  (void)state;
  make_bars(hb, N(hb), bars);
  for (i = 0; i < N(sources); i++) {
    const tih_param p[] = {P("period", "2"), P("source", sources[i])};
    double w[] = {NR, want[i]};
    expect("sma", p, N(p), bars, 2, w, 1);
  }
}

/* ---- lifecycle and bad input --------------------------------------------- */

static void test_param_errors(void **state) {
  tih_ind ind;
  const tih_param low[] = {P("period", "1")};
  const tih_param high[] = {P("period", "100001")};
  const tih_param source[] = {P("source", "median")};
  const tih_param matype[] = {P("matype", "trima")};
  const tih_param accel[] = {P("acceleration", "-0.1")};
  (void)state;
  assert_int_equal(tih_open(&ind, "sma", low, 1), TACK_ECONFIG);
  assert_non_null(strstr(tih_last_error(), "sma.period"));
  assert_int_equal(tih_open(&ind, "rsi", high, 1), TACK_ECONFIG);
  assert_int_equal(tih_open(&ind, "ema", source, 1), TACK_ECONFIG);
  assert_non_null(strstr(tih_last_error(), "median"));
  assert_int_equal(tih_open(&ind, "bbands", matype, 1), TACK_ECONFIG);
  assert_int_equal(tih_open(&ind, "sar", accel, 1), TACK_ECONFIG);
  assert_int_equal(tih_live_allocs(), 0);
}

static void test_alloc_failure(void **state) {
  tih_ind ind;
  (void)state;
  tih_fail_alloc_after(0);
  assert_int_equal(tih_open(&ind, "ichimoku", NULL, 0), TACK_ENOMEM);
  tih_fail_alloc_after(-1);
  assert_int_equal(tih_live_allocs(), 0);
}

/* A reconfigure that needs more memory gets it; one that fails changes
 * nothing; either way the instance then behaves as a fresh one would. */
static void test_reconfigure(void **state) {
  tack_bar bars[TIH_SYNTH_BARS];
  const tih_param small[] = {P("period", "5")};
  const tih_param big[] = {P("period", "500")};
  const tih_param bad[] = {P("period", "0")};
  tih_ind a, b;
  size_t i;
  (void)state;
  tih_synthetic(bars, TIH_SYNTH_BARS);
  assert_int_equal(tih_open(&a, "sma", small, 1), 0);
  for (i = 0; i < 100; i++) {
    double out[1];
    tih_update(&a, &bars[i], out);
  }
  assert_int_equal(tih_reconfigure(&a, big, 1), 0);
  assert_int_equal(a.vt->lookback(a.self), 499);
  tih_fail_alloc_after(0);
  assert_int_equal(tih_reconfigure(&a, bad, 1), TACK_ECONFIG);
  tih_fail_alloc_after(-1);
  assert_int_equal(a.vt->lookback(a.self), 499);
  assert_int_equal(tih_open(&b, "sma", big, 1), 0);
  for (i = 0; i < TIH_SYNTH_BARS; i++) {
    double oa[1] = {0}, ob[1] = {0};
    int ra = tih_update(&a, &bars[i], oa), rb = tih_update(&b, &bars[i], ob);
    assert_int_equal(ra, rb);
    assert_memory_equal(oa, ob, sizeof(oa));
  }
  tih_close(&a);
  tih_close(&b);
  assert_int_equal(tih_live_allocs(), 0);
}

/* Non-finite input is refused and leaves the state as it was. */
static void test_bad_input(void **state) {
  tack_bar bars[40], bad;
  uint32_t p;
  (void)state;
  tih_synthetic(bars, 40);
  for (p = 0; p < tack_plugin_entry.count; p++) {
    const char *id = tack_plugin_entry.plugins[p]->id;
    tih_ind a, b;
    size_t i;
    assert_int_equal(tih_open(&a, id, NULL, 0), 0);
    assert_int_equal(tih_open(&b, id, NULL, 0), 0);
    for (i = 0; i < 40; i++) {
      double oa[TIH_MAX_OUTPUTS] = {0}, ob[TIH_MAX_OUTPUTS] = {0};
      bad = bars[i];
      bad.high = (i % 2) ? NAN : INFINITY;
      bad.low = bad.high;
      bad.close = bad.high;
      bad.open = bad.high;
      bad.volume = NAN;
      if (tih_update(&a, &bad, oa) != TACK_EINVAL)
        fail_msg("%s: bar %zu: non-finite input accepted", id, i);
      assert_int_equal(tih_update(&a, &bars[i], oa), tih_update(&b, &bars[i], ob));
      assert_memory_equal(oa, ob, sizeof(oa));
    }
    tih_close(&a);
    tih_close(&b);
  }
}

/* Flat bars without volume: every indicator gives finite values or none. */
static void test_flat_zero_volume(void **state) {
  uint32_t p;
  (void)state;
  for (p = 0; p < tack_plugin_entry.count; p++) {
    const char *id = tack_plugin_entry.plugins[p]->id;
    tih_ind ind;
    tack_bar bar;
    int i, c;
    memset(&bar, 0, sizeof(bar));
    bar.open = bar.high = bar.low = bar.close = 100.0;
    bar.flags = TACK_BAR_CLOSED;
    bar.timeframe_s = 60;
    assert_int_equal(tih_open(&ind, id, NULL, 0), 0);
    for (i = 0; i < 300; i++) {
      double out[TIH_MAX_OUTPUTS];
      int rc;
      bar.ts = (int64_t)i * 60 * TACK_NS_PER_SEC;
      rc = tih_update(&ind, &bar, out);
      assert_true(rc == 0 || rc == 1);
      for (c = 0; rc == 1 && c < ind.n_out; c++)
        if (!isfinite(out[c]))
          fail_msg("%s: bar %d output %d is %g", id, i, c, out[c]);
    }
    tih_close(&ind);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry),
      cmocka_unit_test(test_default_lookbacks),
      cmocka_unit_test(test_talib_defaults),
      cmocka_unit_test(test_sma_ema_wma),
      cmocka_unit_test(test_dema_tema),
      cmocka_unit_test(test_kama),
      cmocka_unit_test(test_rsi),
      cmocka_unit_test(test_stochrsi),
      cmocka_unit_test(test_macd),
      cmocka_unit_test(test_stoch_willr),
      cmocka_unit_test(test_cci_mfi),
      cmocka_unit_test(test_obv_change),
      cmocka_unit_test(test_aroon),
      cmocka_unit_test(test_atr_family),
      cmocka_unit_test(test_bbands_stddev),
      cmocka_unit_test(test_channels),
      cmocka_unit_test(test_dmi),
      cmocka_unit_test(test_sar),
      cmocka_unit_test(test_ichimoku),
      cmocka_unit_test(test_vwap),
      cmocka_unit_test(test_sources),
      cmocka_unit_test(test_param_errors),
      cmocka_unit_test(test_alloc_failure),
      cmocka_unit_test(test_reconfigure),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_flat_zero_volume),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
