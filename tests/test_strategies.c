/*
 * test_strategies.c: the stock strategies of strategies.so, run through the
 * real host (loader, instances, the indicator service):
 *   - known signals on hand-built bar sequences (crosses, thresholds,
 *     breakouts), values worked out by hand in the comments;
 *   - signals that must match indicators run directly (EMA, MACD,
 *     SuperTrend), on hand-built and real data;
 *   - warm-up abstention, parameter errors with their config file and line;
 *   - every signal finite and in range on the real data of ../shared;
 *   - provisional bars never change the closed bars' signals;
 *   - Heikin-Ashi and Renko input; position hand-over and restatement.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "bars_csv.h"
#include "params.h"
#include "strat_test_util.h"

static st_env env;

/* Each strategy with its defaults, and with another set of parameters. */
typedef struct strat_case {
  const char *id;
  const char *params; /* rt_ci_make syntax; NULL for none */
} strat_case;

static const strat_case defaults[] = {
    {"ema_cross", NULL}, {"rsi_reversion", NULL},     {"macd_trend", NULL},
    {"bollinger", NULL}, {"donchian_breakout", NULL}, {"supertrend_follow", NULL},
};

static const strat_case variants[] = {
    {"ema_cross", "fast = 5; slow = 20; mode = \"state\"; source = \"hlc3\";"},
    {"rsi_reversion", "period = 7; oversold = 25.0; overbought = 75.0; exit = 55.0;"},
    {"macd_trend", "mode = \"cross\";"},
    {"macd_trend", "fast = 5; slow = 35; signal = 5; scale = 0.2; step = 0.0;"},
    {"bollinger", "mode = \"breakout\"; nbdev = 1.5;"},
    {"donchian_breakout", "entry = 55; exit = 20;"},
    {"supertrend_follow", "period = 7; multiplier = 2.0;"},
};

#define N_DEFAULTS (sizeof defaults / sizeof defaults[0])
#define N_VARIANTS (sizeof variants / sizeof variants[0])

/* Params of c plus more statements. */
static void with_params(char *buf, size_t cap, const char *params, const char *more) {
  snprintf(buf, cap, "%s%s%s", params ? params : "", params && more ? " " : "", more ? more : "");
}

/* ------------------------------------------------------------------------ */
/* Hand-built sequences                                                      */
/* ------------------------------------------------------------------------ */

/* An expected signal: strength and confidence NAN when only the sign of the
 * strength is checked; reason a substring, or NULL. */
typedef struct expect {
  size_t bar;
  int sign;
  double strength;
  double confidence;
  const char *reason;
} expect;

#define ANY NAN

static void check_run(const st_run *run, const expect *exp, size_t n_exp) {
  for (size_t i = 0; i < run->n; i++)
    fprintf(stderr, "  bar %zu: %+.4f conf %.4f %s\n", run->sigs[i].bar, run->sigs[i].sig.strength,
            run->sigs[i].sig.confidence, run->sigs[i].sig.reason);
  assert_int_equal(run->n, n_exp);
  for (size_t i = 0; i < n_exp; i++) {
    const tack_signal *s = &run->sigs[i].sig;
    assert_int_equal(run->sigs[i].bar, exp[i].bar);
    assert_int_equal((s->strength > 0) - (s->strength < 0), exp[i].sign);
    if (!isnan(exp[i].strength))
      assert_true(fabs(s->strength - exp[i].strength) < 1e-4);
    if (!isnan(exp[i].confidence))
      assert_true(fabs(s->confidence - exp[i].confidence) < 1e-4);
    if (exp[i].reason && !strstr(s->reason, exp[i].reason))
      fail_msg("signal %zu: reason \"%s\" lacks \"%s\"", i, s->reason, exp[i].reason);
  }
}

/* Run id on closes; position: the quantity told before the first bar, or
 * NAN for none. */
static void run_closes(const char *id, const char *params, const double *closes, size_t n,
                       double spread, double position, st_run *run) {
  st_inst in;
  tack_bar *bars = malloc(n * sizeof *bars);
  assert_non_null(bars);
  st_bars_from_closes(closes, n, spread, bars);
  assert_int_equal(st_new(&env, &in, id, params, NULL), 0);
  if (!isnan(position))
    st_position(&in, position, 1);
  st_feed(&in, bars, n, run);
  st_free(&in);
  free(bars);
}

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* EMA(3) and EMA(5) of 100 x 10 are 100, and ATR(5) of those bars (high
 * and low 0.5 beyond open and close) is 1. Then
 *   110: ema3 105,    ema5 103.33, TR 11, ATR 3:     fast above,
 *        gap 1.667 / 3 = 0.5556 ATR, confidence 0.7778
 *    90: ema3  97.5,  ema5  98.89, TR 21, ATR 6.6:   crossed below,
 *        gap 1.389 / 6.6 = 0.2104 ATR, confidence 0.6052
 *   120: ema3 108.75, ema5 105.93, TR 31, ATR 11.48: crossed above,
 *        gap 2.824 / 11.48 = 0.2460 ATR, confidence 0.6230 */
static const double ema_seq[] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 110, 90, 120};

static double ema_gap_conf(double f, double s, double atr) {
  return 0.5 + 0.5 * fmin(1.0, fabs(f - s) / atr);
}

static void test_ema_cross_modes(void **state) {
  (void)state;
  st_run run = {0};
  double ema5_10 = 100.0 + 10.0 / 3.0;
  double ema5_11 = ema5_10 + (90.0 - ema5_10) / 3.0;
  double ema5_12 = ema5_11 + (120.0 - ema5_11) / 3.0;
  double c10 = ema_gap_conf(105.0, ema5_10, 3.0);
  double c11 = ema_gap_conf(97.5, ema5_11, 6.6);
  double c12 = ema_gap_conf(108.75, ema5_12, 11.48);
  run_closes("ema_cross", "fast = 3; slow = 5;", ema_seq, LEN(ema_seq), 0.5, NAN, &run);
  const expect cross[] = {{11, -1, -1.0, c11, "ema 3 crossed below 5"},
                          {12, +1, 1.0, c12, "ema 3 crossed above 5"}};
  check_run(&run, cross, LEN(cross));
  st_run_free(&run);

  run_closes("ema_cross", "fast = 3; slow = 5; mode = \"state\";", ema_seq, LEN(ema_seq), 0.5, NAN,
             &run);
  const expect state_mode[] = {{10, +1, 1.0, c10, "ema 3 above 5"},
                               {11, -1, -1.0, c11, "crossed below"},
                               {12, +1, 1.0, c12, "crossed above"}};
  check_run(&run, state_mode, LEN(state_mode));
  st_run_free(&run);
}

/* A marginal cross: 100 x 10, 80, 95, 96, 97. ema3 90, 92.5, 94.25,
 * 95.625; ema5 93.33, 93.89, 94.59, 95.395: crossed above at bar 13 by
 * 0.2298. TRs 21, 16, 2, 2 make ATR(5) 5, 7.2, 6.16, 5.328: a gap of
 * 0.0431 ATR, confidence 0.5216. */
static void test_ema_cross_confidence(void **state) {
  (void)state;
  const double seq[] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 80, 95, 96, 97};
  double e5 = 100.0;
  for (int i = 10; i < 14; i++)
    e5 += (seq[i] - e5) / 3.0;
  st_run run = {0};
  run_closes("ema_cross", "fast = 3; slow = 5;", seq, LEN(seq), 0.5, NAN, &run);
  const expect exp[] = {{13, +1, 1.0, ema_gap_conf(95.625, e5, 5.328), "crossed above"}};
  check_run(&run, exp, LEN(exp));
  st_run_free(&run);
}

/* RSI(3), Wilder: changes -1, -1, -1 give 0 at bar 3 (long, d = 1:
 * strength 1, confidence 1). +1: gain 1/3, loss 2/3, RSI 33.3 (hold). +2:
 * gain 0.889, loss 0.444, RSI 66.7 (exit: confidence 1 - 16.7/50). +3: gain
 * 1.593, loss 0.296, RSI 84.31: short, d = 14.31/30, strength -0.7386. */
static void test_rsi_reversion(void **state) {
  (void)state;
  const double seq[] = {100, 99, 98, 97, 98, 100, 103};
  st_run run = {0};
  run_closes("rsi_reversion", "period = 3;", seq, LEN(seq), 0.5, NAN, &run);
  const expect exp[] = {
      {3, +1, 1.0, 1.0, "rsi 3 at 0.0 <= 30: long"},
      {5, 0, 0.0, 1.0 - (200.0 / 3.0 - 50.0) / 50.0, "exit long"},
      {6, -1, -(0.5 + 0.5 * (84.313725 - 70.0) / 30.0), (84.313725 - 50) / 50, ">= 70: short"}};
  check_run(&run, exp, LEN(exp));
  st_run_free(&run);

  /* A jump from oversold to overbought in one bar: +20 gives gain 6.667,
   * loss 0.667, RSI 90.91: the long exits and the short enters at once. */
  const double jump[] = {100, 99, 98, 97, 117};
  run_closes("rsi_reversion", "period = 3;", jump, LEN(jump), 0.5, NAN, &run);
  const expect exp2[] = {{3, +1, 1.0, 1.0, "long"},
                         {4, -1, -(0.5 + 0.5 * (1000.0 / 11.0 - 70.0) / 30.0), ANY, "short"}};
  check_run(&run, exp2, LEN(exp2));
  st_run_free(&run);

  /* A long held at start is this strategy's trade: no second entry at RSI
   * 0, and the exit comes at RSI 66.7. */
  run_closes("rsi_reversion", "period = 3;", seq, 6, 0.5, 1.0, &run);
  const expect exp3[] = {{5, 0, 0.0, ANY, "exit long"}};
  check_run(&run, exp3, LEN(exp3));
  st_run_free(&run);
}

/* Bollinger(5, 1.5), population deviation. 100 x 9 give bands of no width
 * (no signal). Then 90: mean 98, sd 4, band width 6, z = -1.333: long
 * (reversion), strength 0.6667, confidence 0.6667. Then 100: mean 98, z =
 * +0.333: back over the middle, exit. */
static void test_bollinger(void **state) {
  (void)state;
  const double rev[] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 90, 100};
  st_run run = {0};
  run_closes("bollinger", "period = 5; nbdev = 1.5;", rev, LEN(rev), 0.5, NAN, &run);
  const expect exp[] = {{9, +1, 2.0 / 3.0, 2.0 / 3.0, "close 90 below lower band 92"},
                        {10, 0, 0.0, 1.0, "close 100 at middle 98: exit long"}};
  check_run(&run, exp, LEN(exp));
  st_run_free(&run);

  /* Breakout, mirrored: 110 is z = +1.333 over mean 102: long; 100 is z =
   * -0.333: exit. */
  const double brk[] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 110, 100};
  run_closes("bollinger", "period = 5; nbdev = 1.5; mode = \"breakout\";", brk, LEN(brk), 0.5, NAN,
             &run);
  const expect exp2[] = {{9, +1, 2.0 / 3.0, 2.0 / 3.0, "above upper band 108"},
                         {10, 0, 0.0, 1.0, "exit long"}};
  check_run(&run, exp2, LEN(exp2));
  st_run_free(&run);

  /* Exit and reverse in one bar (reversion): after the long at 90, 112
   * makes mean 100.4, sd 6.974, z = 1.109: the long exits and a short
   * opens, strength -0.5545. */
  const double rev2[] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 90, 112};
  run_closes("bollinger", "period = 5; nbdev = 1.5;", rev2, LEN(rev2), 0.5, NAN, &run);
  double z = 11.6 / (1.5 * sqrt(48.64));
  const expect exp3[] = {{9, +1, 2.0 / 3.0, ANY, "below lower band"},
                         {10, -1, -z / 2.0, 0.5 + 0.5 * (z - 1.0), "above upper band"}};
  check_run(&run, exp3, LEN(exp3));
  st_run_free(&run);
}

/* Donchian entry 3, exit 2, bars with high/low 0.5 beyond open and close.
 * Bar 3 closes 102 above the 3-bar high 100.5 of bars 0..2: long; ATR(3)
 * there is (1 + 1 + 3) / 3, so confidence 0.5 + 0.5 * 1.5 / 1.667 = 0.95.
 * Bar 7 closes 102 below the 2-bar low 102.5 of bars 5..6: exit, but not
 * below the 3-bar low 101.5. Bar 8 closes 99 below the 3-bar low 101.5:
 * short. */
static void test_donchian(void **state) {
  (void)state;
  const double seq[] = {100, 100, 100, 102, 104, 106, 103, 102, 99};
  st_run run = {0};
  run_closes("donchian_breakout", "entry = 3; exit = 2;", seq, LEN(seq), 0.5, NAN, &run);
  const expect exp[] = {{3, +1, 1.0, 0.95, "close 102 above 3-bar high 100.5"},
                        {7, 0, 0.0, 1.0, "close 102 below 2-bar low 102.5: exit long"},
                        {8, -1, -1.0, ANY, "close 99 below 3-bar low 101.5"}};
  check_run(&run, exp, LEN(exp));
  st_run_free(&run);

  /* Exit and reverse at once: 98 is below both the exit low 102.5 and the
   * entry low 101.5. */
  const double rev[] = {100, 100, 100, 102, 104, 106, 103, 98};
  run_closes("donchian_breakout", "entry = 3; exit = 2;", rev, LEN(rev), 0.5, NAN, &run);
  const expect exp2[] = {{3, +1, 1.0, ANY, "above"}, {7, -1, -1.0, ANY, "below 3-bar low"}};
  check_run(&run, exp2, LEN(exp2));
  st_run_free(&run);
}

/* ------------------------------------------------------------------------ */
/* Against indicators run directly                                           */
/* ------------------------------------------------------------------------ */

/* An indicator instance made directly (not through a strategy). */
static void ind_new(st_inst *in, const char *id, const char *params) {
  assert_int_equal(st_new_in(&env, in, "indicators", id, params, NULL), 0);
}

/* A zigzag: up 25 bars, down 30, up 20, down 15, with noise. */
static size_t zigzag(tack_bar *bars, size_t cap) {
  double closes[200];
  size_t n = 0;
  double p = 100;
  const int legs[] = {25, -30, 20, -15, 30};
  for (size_t l = 0; l < LEN(legs); l++)
    for (int k = 0; k < abs(legs[l]) && n < cap; k++) {
      p += (legs[l] > 0 ? 1.0 : -1.0) + ((int)((n * 7) % 5) - 2) * 0.3;
      closes[n++] = p;
    }
  st_bars_from_closes(closes, n, 0.8, bars);
  return n;
}

/* ema_cross (cross mode) signals exactly where two EMAs run directly
 * change sides, after the first side. */
static void check_ema_cross_oracle(const tack_bar *bars, size_t n, int fast, int slow) {
  st_inst f, s, a, strat;
  char p[64];
  snprintf(p, sizeof p, "period = %d;", fast);
  ind_new(&f, "ema", p);
  snprintf(p, sizeof p, "period = %d;", slow);
  ind_new(&s, "ema", p);
  ind_new(&a, "atr", p);
  snprintf(p, sizeof p, "fast = %d; slow = %d;", fast, slow);
  assert_int_equal(st_new(&env, &strat, "ema_cross", p, NULL), 0);
  int side = 0;
  size_t crosses = 0;
  for (size_t i = 0; i < n; i++) {
    double x = 0, y = 0, atr = 0;
    tack_signal sig;
    int rx = tack_instance_indicator_update(f.ctx, &bars[i], &x);
    int ry = tack_instance_indicator_update(s.ctx, &bars[i], &y);
    int ra = tack_instance_indicator_update(a.ctx, &bars[i], &atr);
    int rc = st_bar(&strat, &bars[i], &sig);
    assert_true(rc >= 0);
    int expect = 0;
    if (rx == 1 && ry == 1 && ra == 1) {
      int dir = (x > y) - (x < y);
      if (dir == 0)
        dir = side;
      expect = side != 0 && dir != side ? dir : 0;
      side = dir;
    }
    if (expect != 0) {
      crosses++;
      assert_int_equal(rc, 1);
      assert_true(sig.strength == (double)expect);
      assert_true(sig.confidence == ema_gap_conf(x, y, atr));
    } else if (rc != 0) {
      fail_msg("bar %zu: unexpected signal %+g (%s)", i, sig.strength, sig.reason);
    }
  }
  assert_true(crosses > 0);
  st_free(&f);
  st_free(&s);
  st_free(&a);
  st_free(&strat);
}

/* macd_trend: cross mode signals ±1 where the histogram of a MACD run
 * directly changes sign; scaled mode emits hist / (scale * ATR) on the
 * first bar, on crosses and on moves of `step`, exactly. */
static void check_macd_oracle(const tack_bar *bars, size_t n, int fast, int slow, int signal) {
  st_inst m, a, cross, scaled;
  char p[128];
  snprintf(p, sizeof p, "fast = %d; slow = %d; signal = %d;", fast, slow, signal);
  ind_new(&m, "macd", p);
  snprintf(p, sizeof p, "period = %d;", slow);
  ind_new(&a, "atr", p);
  snprintf(p, sizeof p, "fast = %d; slow = %d; signal = %d; mode = \"cross\";", fast, slow, signal);
  assert_int_equal(st_new(&env, &cross, "macd_trend", p, NULL), 0);
  snprintf(p, sizeof p, "fast = %d; slow = %d; signal = %d; scale = 0.5; step = 0.1;", fast, slow,
           signal);
  assert_int_equal(st_new(&env, &scaled, "macd_trend", p, NULL), 0);
  int side = 0, have_last = 0;
  double last = 0;
  size_t crosses = 0, emitted = 0;
  for (size_t i = 0; i < n; i++) {
    double v[3] = {0, 0, 0}, atr = 0;
    tack_signal sc, ss;
    int rm = tack_instance_indicator_update(m.ctx, &bars[i], v);
    int ra = tack_instance_indicator_update(a.ctx, &bars[i], &atr);
    int rc = st_bar(&cross, &bars[i], &sc);
    int rs = st_bar(&scaled, &bars[i], &ss);
    assert_true(rc >= 0 && rs >= 0);
    int exp_cross = 0, exp_scaled = 0;
    double strength = 0;
    if (rm == 1 && ra == 1) {
      int dir = (v[2] > 0) - (v[2] < 0);
      if (dir == 0)
        dir = side;
      int first = side == 0 && dir != 0, crossed = side != 0 && dir != side;
      exp_cross = crossed ? dir : 0;
      double unit = 0.5 * atr;
      strength = unit > 0 ? fmax(-1.0, fmin(1.0, v[2] / unit)) : dir;
      exp_scaled = first || crossed || (have_last && fabs(strength - last) >= 0.1);
      side = dir;
    }
    if (exp_cross) {
      crosses++;
      assert_int_equal(rc, 1);
      assert_true(sc.strength == (double)exp_cross);
    } else {
      assert_int_equal(rc, 0);
    }
    if (exp_scaled) {
      emitted++;
      assert_int_equal(rs, 1);
      assert_true(fabs(ss.strength - strength) < 1e-12);
      last = ss.strength;
      have_last = 1;
    } else {
      assert_int_equal(rs, 0);
    }
  }
  assert_true(crosses > 0);
  assert_true(emitted > crosses);
  st_free(&m);
  st_free(&a);
  st_free(&cross);
  st_free(&scaled);
}

/* supertrend: states the direction of a SuperTrend run directly on its
 * first bar, then signals each change of it. */
static void check_supertrend_oracle(const tack_bar *bars, size_t n) {
  st_inst ind, strat;
  ind_new(&ind, "supertrend", "period = 5; multiplier = 2.0;");
  assert_int_equal(st_new(&env, &strat, "supertrend_follow", "period = 5; multiplier = 2.0;", NULL),
                   0);
  int dir = 0;
  size_t flips = 0;
  for (size_t i = 0; i < n; i++) {
    double v[2] = {0, 0};
    tack_signal sig;
    int ri = tack_instance_indicator_update(ind.ctx, &bars[i], v);
    int rc = st_bar(&strat, &bars[i], &sig);
    assert_true(rc >= 0);
    int expect = 0;
    if (ri == 1) {
      int d = v[1] > 0 ? 1 : -1;
      expect = d != dir ? d : 0;
      flips += dir != 0 && d != dir;
      dir = d;
    }
    if (expect) {
      assert_int_equal(rc, 1);
      assert_true(sig.strength == (double)expect);
    } else {
      assert_int_equal(rc, 0);
    }
  }
  assert_true(flips > 0);
  st_free(&ind);
  st_free(&strat);
}

static void test_oracles_hand_built(void **state) {
  (void)state;
  tack_bar bars[200];
  size_t n = zigzag(bars, LEN(bars));
  check_ema_cross_oracle(bars, n, 3, 8);
  check_macd_oracle(bars, n, 3, 8, 4);
  check_supertrend_oracle(bars, n);
}

static void test_oracles_real_data(void **state) {
  (void)state;
  tack_bar *bars;
  size_t n;
  int real;
  st_load_bars("btcusd_bitstamp_1h.csv", 3600, 5000, &bars, &n, &real);
  if (n > 8000)
    n = 8000;
  check_ema_cross_oracle(bars, n, 12, 26);
  check_macd_oracle(bars, n, 12, 26, 9);
  check_supertrend_oracle(bars, n);
  free(bars);
}

/* ------------------------------------------------------------------------ */
/* Warm-up                                                                   */
/* ------------------------------------------------------------------------ */

/* State strategies speak on the first bar their indicators have values
 * (the bar index is the largest lookback); event strategies never before
 * it. */
static void test_warm_up(void **state) {
  (void)state;
  static const struct {
    const char *id;
    const char *params;
    size_t first;   /* the first bar with every indicator ready */
    int speaks_now; /* a state strategy: its first signal is on that bar */
  } cases[] = {
      {"ema_cross", "mode = \"state\";", 26, 1}, /* EMA(26): 25; ATR(26): 26 */
      {"ema_cross", NULL, 26, 0},                /* no first opinion in cross mode */
      {"macd_trend", NULL, 33, 1},               /* MACD 12/26/9: 33; ATR(26): 26 */
      {"supertrend_follow", NULL, 10, 1},        /* SuperTrend(10), ATR(10): 10 */
      {"rsi_reversion", NULL, 14, 0},            /* RSI(14): 14 */
      {"bollinger", NULL, 19, 0},                /* BBANDS(20): 19 */
      {"donchian_breakout", NULL, 20, 0},        /* the 20-bar channel of bar 19, ATR(20) */
      {"rsi_reversion", "period = 2;", 2, 0},    /* the smallest periods */
      {"donchian_breakout", "entry = 2; exit = 1;", 2, 0},
  };
  tack_bar bars[400];
  st_random_walk(11, bars, LEN(bars));
  for (size_t c = 0; c < LEN(cases); c++) {
    st_inst in;
    st_run run = {0};
    assert_int_equal(st_new(&env, &in, cases[c].id, cases[c].params, NULL), 0);
    st_feed(&in, bars, LEN(bars), &run);
    if (run.n == 0)
      fail_msg("%s %s: no signal in %zu bars", cases[c].id, cases[c].params ? cases[c].params : "",
               LEN(bars));
    if (run.sigs[0].bar < cases[c].first ||
        (cases[c].speaks_now && run.sigs[0].bar != cases[c].first))
      fail_msg("%s %s: first signal at bar %zu, expected %s %zu", cases[c].id,
               cases[c].params ? cases[c].params : "", run.sigs[0].bar,
               cases[c].speaks_now ? "exactly at" : "not before", cases[c].first);
    st_run_free(&run);
    st_free(&in);
  }
}

/* ------------------------------------------------------------------------ */
/* Parameter errors                                                          */
/* ------------------------------------------------------------------------ */

/* Params checked as `tack check` does: the spec first (as config resolve
 * does), then the plugin's own configure through tack_instance_new(). The
 * message must carry the config file, the line of the offending setting
 * (statement n of the params is on line 3 + n) and the text. */
static void test_param_errors(void **state) {
  (void)state;
  static const struct {
    const char *id;
    const char *params;
    int line;
    const char *text;
  } cases[] = {
      {"ema_cross", "fast = 30; slow = 20;", 5, "slow: must be greater than fast (30), got 20"},
      {"ema_cross", "fast = 26;", 2, "slow: must be greater than fast (26), got 26"},
      {"ema_cross", "fast = 1;", 4, "fast"},
      {"ema_cross", "mode = \"always\";", 4, "mode"},
      {"rsi_reversion", "oversold = 40.0; overbought = 35.0;", 5,
       "overbought: must be greater than oversold (40)"},
      {"rsi_reversion", "exit = 80.0;", 4, "exit: 80 and its mirror 20 must both lie strictly"},
      {"rsi_reversion", "oversold = 0.0;", 4, "oversold"},
      {"macd_trend", "fast = 26; slow = 12;", 5, "slow: must be greater than fast (26)"},
      {"macd_trend", "scale = 0.0;", 4, "scale"},
      {"bollinger", "mode = \"trend\";", 4, "mode"},
      {"bollinger", "nbdev = 0.0;", 4, "nbdev"},
      {"donchian_breakout", "entry = 10; exit = 10;", 5, "exit: must be less than entry (10)"},
      {"donchian_breakout", "exit = 30;", 4, "exit: must be less than entry (20), got 30"},
      {"supertrend_follow", "multiplier = 0.0;", 4, "multiplier"},
      {"supertrend_follow", "period = \"ten\";", 4, "period"},
  };
  for (size_t c = 0; c < LEN(cases); c++) {
    tack_diag d = TACK_DIAG_INIT;
    st_inst in;
    memset(&in, 0, sizeof in);
    const tack_plugin *p = tack_loader_find(env.ld, cases[c].id);
    assert_non_null(p);
    assert_int_equal(rt_ci_make(&in.c, env.tmp, p, "strategies", "s", cases[c].params), 0);
    int rc = tack_params_check_at(p->desc, in.c.ci.params, in.c.ci.setting, &d);
    if (rc == 0)
      rc = tack_instance_new(&in.c.ci, NULL, &d, &in.ctx);
    assert_int_equal(rc, TACK_ECONFIG);
    assert_null(in.ctx);
    char place[PATH_MAX + 128];
    snprintf(place, sizeof place, "%s:%d:", in.c.file, cases[c].line);
    int found = 0;
    for (size_t i = 0; i < d.n; i++)
      found |= strstr(d.msgs[i], place) != NULL && strstr(d.msgs[i], cases[c].text) != NULL;
    if (!found) {
      tack_diag_print(&d, stderr);
      fail_msg("%s {%s}: no message at %s with \"%s\"", cases[c].id, cases[c].params, place,
               cases[c].text);
    }
    tack_diag_free(&d);
    rt_ci_free(&in.c);
  }
}

/* ------------------------------------------------------------------------ */
/* Real data: always finite and in range                                     */
/* ------------------------------------------------------------------------ */

static void check_real_file(const char *name, uint32_t tf) {
  tack_bar *bars;
  size_t n;
  int real;
  if (!bars_csv_shared_dir()) {
    fprintf(stderr, "skipped: TACK_SHARED_DIR/data is absent, no %s\n", name);
    skip();
  }
  st_load_bars(name, tf, 1000, &bars, &n, &real);
  if (!real) {
    free(bars);
    fprintf(stderr, "skipped: %s is absent from TACK_SHARED_DIR/data\n", name);
    skip();
  }
  for (size_t c = 0; c < N_DEFAULTS + N_VARIANTS; c++) {
    const strat_case *sc = c < N_DEFAULTS ? &defaults[c] : &variants[c - N_DEFAULTS];
    st_inst in;
    st_run run = {0};
    assert_int_equal(st_new(&env, &in, sc->id, sc->params, NULL), 0);
    st_feed(&in, bars, n, &run); /* checks every signal's range */
    if (run.n == 0)
      fail_msg("%s {%s}: no signal on %s", sc->id, sc->params ? sc->params : "", name);
    fprintf(stderr, "  %s {%s}: %zu signals in %zu bars\n", sc->id, sc->params ? sc->params : "",
            run.n, n);
    st_run_free(&run);
    st_free(&in);
  }
  free(bars);
}

static void test_real_btcusd_1h(void **state) {
  (void)state;
  check_real_file("btcusd_bitstamp_1h.csv", 3600);
}

static void test_real_btcperp_1m(void **state) {
  (void)state;
  check_real_file("btcperp_ftx_1m.csv", 60);
}

/* ------------------------------------------------------------------------ */
/* Provisional bars                                                          */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 42;

static double rnd(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* A forming version of bar: same interval, prices anywhere near it. */
static tack_bar provisional(const tack_bar *bar) {
  tack_bar p = *bar;
  double span = (bar->high - bar->low) + bar->close * 0.01;
  p.open = bar->open;
  p.close = bar->close + (rnd() - 0.5) * 4 * span;
  p.high = fmax(p.open, p.close) + rnd() * span;
  p.low = fmin(p.open, p.close) - rnd() * span;
  p.volume = bar->volume * rnd();
  p.flags = 0;
  return p;
}

/* Closed bars alone, and the same closed bars each after three random
 * provisional versions of it, give the same signals at the closed bars;
 * signals on provisional bars (intrabar) are in range too. */
static void test_provisional_bars(void **state) {
  (void)state;
  tack_bar *bars;
  size_t n;
  int real;
  st_load_bars("btcusd_bitstamp_1h.csv", 3600, 3000, &bars, &n, &real);
  if (n > 3000)
    n = 3000;
  for (size_t c = 0; c < N_DEFAULTS + N_VARIANTS; c++) {
    const strat_case *sc = c < N_DEFAULTS ? &defaults[c] : &variants[c - N_DEFAULTS];
    for (int intrabar = 0; intrabar <= 1; intrabar++) {
      char params[256];
      st_inst a, b;
      st_run ra = {0}, rb = {0}, rp = {0};
      with_params(params, sizeof params, sc->params, intrabar ? "intrabar = true;" : NULL);
      assert_int_equal(st_new(&env, &a, sc->id, params, NULL), 0);
      assert_int_equal(st_new(&env, &b, sc->id, params, NULL), 0);
      st_feed(&a, bars, n, &ra);
      for (size_t i = 0; i < n; i++) {
        tack_signal sig;
        for (int k = 0; k < 3; k++) {
          tack_bar p = provisional(&bars[i]);
          st_record(&rp, i, st_bar(&b, &p, &sig), &sig);
        }
        st_record(&rb, i, st_bar(&b, &bars[i], &sig), &sig);
      }
      if (!st_run_equal(&ra, &rb))
        fail_msg("%s {%s}: provisional bars changed the signals (%zu vs %zu)", sc->id, params, ra.n,
                 rb.n);
      /* Without intrabar a forming bar is not judged at all. */
      if (!intrabar)
        assert_int_equal(rp.n, 0);
      else
        assert_true(rp.n > 0);
      st_run_free(&ra);
      st_run_free(&rb);
      st_run_free(&rp);
      st_free(&a);
      st_free(&b);
    }
  }
  free(bars);
}

/* ------------------------------------------------------------------------ */
/* Heikin-Ashi and Renko                                                     */
/* ------------------------------------------------------------------------ */

static void check_filtered(const char *filter, const char *params) {
  tack_bar *bars, *out;
  size_t n, n_out;
  int real;
  st_inst f;
  st_load_bars("btcusd_bitstamp_1h.csv", 3600, 3000, &bars, &n, &real);
  if (n > 6000)
    n = 6000;
  assert_int_equal(st_new_in(&env, &f, "filters", filter, params, NULL), 0);
  assert_int_equal(st_filter_run(&f, bars, n, &out, &n_out), 0);
  assert_true(n_out > 100);
  for (size_t c = 0; c < N_DEFAULTS + N_VARIANTS; c++) {
    const strat_case *sc = c < N_DEFAULTS ? &defaults[c] : &variants[c - N_DEFAULTS];
    st_inst in;
    st_run run = {0};
    assert_int_equal(st_new(&env, &in, sc->id, sc->params, NULL), 0);
    st_feed(&in, out, n_out, &run);
    if (run.n == 0)
      fail_msg("%s {%s}: no signal on %zu %s bars", sc->id, sc->params ? sc->params : "", n_out,
               filter);
    st_run_free(&run);
    st_free(&in);
  }
  free(out);
  free(bars);
  st_free(&f);
}

static void test_heikin_ashi(void **state) {
  (void)state;
  check_filtered("heikin_ashi", NULL);
}

/* Bricks of half an ATR: irregular in time, several per bar at times. */
static void test_renko(void **state) {
  (void)state;
  check_filtered("renko", "mode = \"atr\"; atr_period = 14; atr_multiplier = 0.5;");
}

/* ------------------------------------------------------------------------ */
/* Position hand-over                                                        */
/* ------------------------------------------------------------------------ */

/* ema_cross in cross mode started while long: the EMAs first part with
 * the fast one below (bar 10, 90); the cross up at bar 11 (120) is no
 * second entry; the cross down at bar 12 (80) is signalled. Without the
 * position both crosses are. */
static void test_handover_ema_cross(void **state) {
  (void)state;
  const double seq[] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 90, 120, 80};
  st_run run = {0};
  run_closes("ema_cross", "fast = 3; slow = 5;", seq, LEN(seq), 0.5, 2.5, &run);
  const expect held[] = {{12, -1, -1.0, ANY, "crossed below"}};
  check_run(&run, held, LEN(held));
  st_run_free(&run);

  run_closes("ema_cross", "fast = 3; slow = 5;", seq, LEN(seq), 0.5, NAN, &run);
  const expect fresh[] = {{11, +1, 1.0, ANY, "crossed above"}, {12, -1, -1.0, ANY, "below"}};
  check_run(&run, fresh, LEN(fresh));
  st_run_free(&run);

  /* A flat position is a position too: the cross up is an entry. */
  run_closes("ema_cross", "fast = 3; slow = 5;", seq, LEN(seq), 0.5, 0.0, &run);
  check_run(&run, fresh, LEN(fresh));
  st_run_free(&run);

  /* State mode: a long that agrees with the EMAs (bar 10, 110) is kept
   * without a word; a short that disagrees is answered at once. */
  run_closes("ema_cross", "fast = 3; slow = 5; mode = \"state\";", ema_seq, 11, 0.5, 1.0, &run);
  check_run(&run, NULL, 0);
  st_run_free(&run);
  run_closes("ema_cross", "fast = 3; slow = 5; mode = \"state\";", ema_seq, 11, 0.5, -1.0, &run);
  const expect answer[] = {{10, +1, 1.0, ANY, "ema 3 above 5"}};
  check_run(&run, answer, LEN(answer));
  st_run_free(&run);
}

/* A strategy told that the position disagrees with what it said restates
 * it at the next bar; fills count until the next position, never twice. */
static void test_restate(void **state) {
  (void)state;
  const double seq[] = {100, 100, 100, 100, 100, 100, 100, 100, 100,
                        100, 110, 90,  89,  88,  87,  86,  85};
  tack_bar bars[LEN(seq)];
  st_inst in;
  st_run run = {0};
  st_bars_from_closes(seq, LEN(seq), 0.5, bars);
  assert_int_equal(st_new(&env, &in, "ema_cross", "fast = 3; slow = 5;", NULL), 0);
  st_feed(&in, bars, 12, &run); /* bar 11: crossed below, -1 */
  const expect first[] = {{11, -1, -1.0, ANY, "crossed below"}};
  check_run(&run, first, LEN(first));

  tack_signal sig;
  st_position(&in, 1.0, 100); /* long: disagrees */
  assert_int_equal(st_bar(&in, &bars[12], &sig), 1);
  assert_true(sig.strength == -1.0);
  assert_string_equal(sig.reason, "again: ema 3 crossed below 5");

  st_position(&in, -1.0, 200); /* short: agrees */
  assert_int_equal(st_bar(&in, &bars[13], &sig), 0);

  st_fill(&in, TACK_SIDE_BUY, 2.0, 300); /* now +1: disagrees */
  assert_int_equal(st_bar(&in, &bars[14], &sig), 1);
  assert_string_equal(sig.reason, "again: ema 3 crossed below 5");

  /* The position of time 300 includes the fill of time 300: applying that
   * fill again would make it -1 and agree. */
  st_position(&in, 1.0, 300);
  st_fill(&in, TACK_SIDE_SELL, 2.0, 300);
  assert_int_equal(st_bar(&in, &bars[15], &sig), 1);

  st_position(&in, -0.5, 400); /* a partial short is the same side */
  assert_int_equal(st_bar(&in, &bars[16], &sig), 0);
  st_run_free(&run);
  st_free(&in);
}

/* supertrend started on the side it would state keeps quiet until the
 * first turn; donchian and bollinger adopt a held long and exit it. */
static void test_handover_others(void **state) {
  (void)state;
  tack_bar bars[200];
  size_t n = zigzag(bars, LEN(bars));
  st_inst in;
  st_run fresh = {0}, held = {0};
  assert_int_equal(st_new(&env, &in, "supertrend_follow", "period = 5; multiplier = 2.0;", NULL),
                   0);
  st_feed(&in, bars, n, &fresh);
  st_free(&in);
  assert_true(fresh.n >= 2);
  assert_int_equal(st_new(&env, &in, "supertrend_follow", "period = 5; multiplier = 2.0;", NULL),
                   0);
  st_position(&in, fresh.sigs[0].sig.strength > 0 ? 3.0 : -3.0, 1);
  st_feed(&in, bars, n, &held);
  st_free(&in);
  /* The same turns, without the first statement. */
  assert_int_equal(held.n, fresh.n - 1);
  for (size_t i = 0; i < held.n; i++) {
    assert_int_equal(held.sigs[i].bar, fresh.sigs[i + 1].bar);
    assert_true(held.sigs[i].sig.strength == fresh.sigs[i + 1].sig.strength);
  }
  st_run_free(&fresh);
  st_run_free(&held);

  /* Donchian: a long found at start is exited by the exit channel (bar 7
   * of the hand-built breakout), with no entry at bar 3. */
  const double seq[] = {100, 100, 100, 102, 104, 106, 103, 102, 99};
  st_run run = {0};
  run_closes("donchian_breakout", "entry = 3; exit = 2;", seq, 8, 0.5, 1.0, &run);
  const expect dexp[] = {{7, 0, 0.0, 1.0, "exit long"}};
  check_run(&run, dexp, LEN(dexp));
  st_run_free(&run);

  /* Bollinger reversion: a short found at start exits once the price is
   * back at the middle; a flat window (z = 0) counts as the middle. */
  const double bseq[] = {100, 100, 100, 100, 100, 100};
  run_closes("bollinger", "period = 5;", bseq, LEN(bseq), 0.5, -1.0, &run);
  const expect bexp[] = {{4, 0, 0.0, 1.0, "exit short"}};
  check_run(&run, bexp, LEN(bexp));
  st_run_free(&run);
}

/* Bars of another timeframe than the first closed one are not judged, and
 * a bar with a non-finite price is refused before any indicator sees it. */
static void test_timeframes_and_bad_bars(void **state) {
  (void)state;
  st_inst in;
  tack_bar bars[20];
  tack_signal sig;
  st_random_walk(3, bars, LEN(bars));
  assert_int_equal(st_new(&env, &in, "rsi_reversion", "period = 2; intrabar = true;", NULL), 0);
  tack_bar other = bars[0];
  other.timeframe_s = 14400;
  assert_int_equal(st_bar(&in, &bars[0], &sig), 0);
  for (int i = 0; i < 5; i++)
    assert_int_equal(st_bar(&in, &other, &sig), 0);
  tack_bar bad = bars[1];
  bad.close = NAN;
  assert_int_equal(st_bar(&in, &bad, &sig), TACK_EINVAL);
  bad = bars[1];
  bad.volume = INFINITY;
  bad.flags = 0;
  assert_int_equal(st_bar(&in, &bad, &sig), TACK_EINVAL);
  st_free(&in);
}

/* Every allocation of making each strategy (its state, its indicators
 * through the host) fails in turn: an error each time, never a crash or a
 * leak, until one try gets through and works. */
static void test_allocation_failures(void **state) {
  (void)state;
  tack_bar bars[60];
  st_random_walk(4, bars, LEN(bars));
  for (size_t c = 0; c < N_DEFAULTS; c++) {
    int made = 0;
    for (uint64_t k = 1; k < 500 && !made; k++) {
      st_inst in;
      tack_alloc_fail_after(k);
      int rc = st_new(&env, &in, defaults[c].id, defaults[c].params, NULL);
      tack_alloc_fail_after(0);
      if (rc != 0) {
        assert_true(rc == TACK_ENOMEM || rc == TACK_ECONFIG);
        rt_ci_free(&in.c);
        continue;
      }
      st_run run = {0};
      st_feed(&in, bars, LEN(bars), &run);
      st_run_free(&run);
      st_free(&in);
      made = 1;
    }
    assert_true(made);
  }
}

int main(void) {
  if (st_env_open(&env) != 0)
    return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ema_cross_modes),
      cmocka_unit_test(test_ema_cross_confidence),
      cmocka_unit_test(test_rsi_reversion),
      cmocka_unit_test(test_bollinger),
      cmocka_unit_test(test_donchian),
      cmocka_unit_test(test_oracles_hand_built),
      cmocka_unit_test(test_oracles_real_data),
      cmocka_unit_test(test_warm_up),
      cmocka_unit_test(test_param_errors),
      cmocka_unit_test(test_real_btcusd_1h),
      cmocka_unit_test(test_real_btcperp_1m),
      cmocka_unit_test(test_provisional_bars),
      cmocka_unit_test(test_heikin_ashi),
      cmocka_unit_test(test_renko),
      cmocka_unit_test(test_handover_ema_cross),
      cmocka_unit_test(test_restate),
      cmocka_unit_test(test_handover_others),
      cmocka_unit_test(test_timeframes_and_bad_bars),
      cmocka_unit_test(test_allocation_failures),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  st_env_close(&env);
  return failed;
}
