/*
 * test_metrics.c: the backtest figures (host/metrics.c) against values
 * worked out by hand for tiny series (returns, Sharpe, Sortino, drawdown and
 * its times, VaR and CVaR, the trade figures), interval alignment to UTC,
 * per-bar returns, the thinned equity curve over a million bars, price
 * thinning, NAN and INFINITY where a figure is undefined, Monte Carlo
 * determinism and sanity, out-of-memory paths and freeing a result.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "alloc.h"
#include "metrics.h"
#include "utc.h"

#define NS TACK_NS_PER_SEC
#define DAY (INT64_C(86400) * NS)
#define HOUR (INT64_C(3600) * NS)

/* 2024-01-01T00:00:00Z */
#define D0 (INT64_C(1704067200) * NS)

#define assert_near(got, want, tol)                                                                \
  do {                                                                                             \
    double g_ = (got), w_ = (want);                                                                \
    if (!(fabs(g_ - w_) <= (tol)))                                                                 \
      fail_msg("%s = %.17g, want %.17g", #got, g_, w_);                                            \
  } while (0)

#define assert_nan(x)                                                                              \
  do {                                                                                             \
    if (!isnan(x))                                                                                 \
      fail_msg("%s = %.17g, want NAN", #x, (double)(x));                                           \
  } while (0)

static tack_bt_settings settings(uint32_t interval_s, double risk_free) {
  tack_bt_settings s = TACK_BT_SETTINGS_DEFAULT;
  s.return_interval_s = interval_s;
  s.risk_free = risk_free;
  return s;
}

static tack_bt_trade trade(double pnl, double equity_at_entry) {
  tack_bt_trade t;
  memset(&t, 0, sizeof t);
  t.pnl = pnl;
  t.equity_at_entry = equity_at_entry;
  return t;
}

/*
 * Start 100; daily bars opening 2024-01-01 .. 01-05, equity at their closes
 * (01-02 .. 01-06) 100, 110, 99, 108.9, 120; 1d returns, 365-day year.
 *
 *   returns (from the start, 100):  0, 0.1, -0.1, 0.1, 120/108.9 - 1 = 0.10192837465564741
 *   mean = 0.20192837465564741 / 5 = 0.04038567493112948
 *   squared deviations sum to 0.032234379861727724; / (n - 1) = 0.008058594965431931
 *   sd = 0.08976967731607334
 *   Sharpe = mean / sd * sqrt(365) = 8.594965017846674
 *   volatility = sd * sqrt(365) = 1.7150472770109444
 *   downside deviation = sqrt(0.1^2 / 5) = 0.0447213595499958
 *   Sortino = mean / 0.0447213595499958 * sqrt(365) = 17.252767893437326
 *   max drawdown 1 - 99/110 = 0.1, peak at the close of 01-02 (01-03T00:00),
 *   trough 01-04T00:00, back above 110 at 01-06T00:00: 3 days under water,
 *   recovery (trough to end) 2 days
 *   years = 5/365; total return 0.2; CAGR = 1.2^(365/5) - 1 = 602879.1175788565
 *   Calmar = CAGR / 0.1
 *   VaR95: sorted returns, element floor(0.05 * 4) = 0 = -0.1 -> 0.1;
 *   CVaR95: mean of returns <= -0.1 = -0.1 -> 0.1
 *   exposure: positions open in bars 1, 2 and 4 of 5 -> 0.6
 */
static const double hand_equity[5] = {100, 110, 99, 108.9, 120};
static const int hand_exposed[5] = {1, 1, 0, 1, 0};

static void feed_hand(tack_metrics_acc *a, double risk_free) {
  tack_bt_settings s = settings(86400, risk_free);
  assert_int_equal(tack_metrics_acc_init(a, &s, 86400, 100.0), 0);
  for (int i = 0; i < 5; i++)
    assert_int_equal(tack_metrics_acc_bar(a, D0 + i * DAY, hand_equity[i], hand_exposed[i]), 0);
}

static void test_hand_series(void **state) {
  (void)state;
  tack_metrics_acc a;
  tack_bt_metrics m;
  tack_bt_point *curve = NULL;
  size_t n_curve = 0;
  feed_hand(&a, 0.0);
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 1.5, &m, &curve, &n_curve), 0);

  assert_true(m.start == D0);
  assert_true(m.end == D0 + 5 * DAY);
  assert_near(m.years, 5.0 / 365.0, 1e-15);
  assert_near(m.start_equity, 100, 0);
  assert_near(m.end_equity, 120, 0);
  assert_near(m.total_return, 0.2, 1e-15);
  assert_near(m.cagr, 602879.1175788565, 1e-6);
  assert_int_equal(m.intervals, 5);
  assert_int_equal(m.return_interval_s, 86400);
  assert_near(m.intervals_per_year, 365, 0);
  assert_near(m.volatility, 1.7150472770109444, 1e-12);
  assert_near(m.sharpe, 8.594965017846674, 1e-12);
  assert_near(m.sortino, 17.252767893437326, 1e-12);
  assert_near(m.max_drawdown, 0.1, 1e-15);
  assert_true(m.max_drawdown_start == D0 + 2 * DAY);
  assert_true(m.max_drawdown_trough == D0 + 3 * DAY);
  assert_true(m.max_drawdown_end == D0 + 5 * DAY);
  assert_true(m.max_drawdown_end - m.max_drawdown_trough == 2 * DAY); /* recovery */
  assert_int_equal(m.max_drawdown_duration_s, 3 * 86400);
  assert_near(m.calmar, 602879.1175788565 / 0.1, 1e-4);
  assert_near(m.var95, 0.1, 1e-15);
  assert_near(m.cvar95, 0.1, 1e-15);
  assert_near(m.exposure, 0.6, 1e-15);
  assert_near(m.fees, 1.5, 0);
  assert_int_equal(m.trades, 0);

  /* Every bar is kept; the drawdowns from the running peak. */
  static const double dd[5] = {0, 0, 99.0 / 110 - 1, 108.9 / 110 - 1, 0};
  assert_non_null(curve);
  assert_int_equal(n_curve, 5);
  for (int i = 0; i < 5; i++) {
    assert_true(curve[i].ts == D0 + (i + 1) * DAY);
    assert_near(curve[i].equity, hand_equity[i], 0);
    assert_near(curve[i].drawdown, dd[i], 1e-15);
  }
  /* The curve was handed over: a second hand-over is refused. */
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, &curve, &n_curve), TACK_ESTATE);
  tack_free(NULL, curve);
  tack_metrics_acc_free(&a);
}

/*
 * The same series with a 5% risk-free rate: per interval
 * rf_i = 1.05^(1/365) - 1 = 0.00013368061711349633;
 * Sharpe = (mean - rf_i) / sd * sqrt(365) = 8.56651482530652;
 * the downside deviation counts r - rf_i < 0: 0 - rf_i and -0.1 - rf_i,
 * sqrt(((rf_i)^2 + (0.1 + rf_i)^2) / 5); Sortino = 17.172687630233202.
 */
static void test_risk_free(void **state) {
  (void)state;
  tack_metrics_acc a;
  tack_bt_metrics m;
  feed_hand(&a, 0.05);
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, NULL, NULL), 0);
  assert_near(m.sharpe, 8.56651482530652, 1e-12);
  assert_near(m.sortino, 17.172687630233202, 1e-12);
  assert_near(m.volatility, 1.7150472770109444, 1e-12); /* no rf in it */
  tack_metrics_acc_free(&a);
}

/*
 * Trades 30, 10, -20: 2 wins, 1 loss; win rate 2/3; profit factor 40 / 20
 * = 2; expectancy 20 / 3; average win 20, average loss -20. A fourth trade
 * at exactly 0 counts as a trade, neither won nor lost: win rate 2/4,
 * expectancy 20 / 4, the rest unchanged.
 */
static void test_trades(void **state) {
  (void)state;
  tack_bt_trade t[4] = {trade(30, 1000), trade(10, 1000), trade(-20, 1000), trade(0, 1000)};
  tack_metrics_acc a;
  tack_bt_metrics m;
  feed_hand(&a, 0.0);
  assert_int_equal(tack_metrics_finish(&a, t, 3, 0, &m, NULL, NULL), 0);
  assert_int_equal(m.trades, 3);
  assert_int_equal(m.wins, 2);
  assert_int_equal(m.losses, 1);
  assert_near(m.win_rate, 2.0 / 3.0, 1e-15);
  assert_near(m.profit_factor, 2.0, 1e-15);
  assert_near(m.expectancy, 20.0 / 3.0, 1e-14);
  assert_near(m.avg_win, 20, 1e-15);
  assert_near(m.avg_loss, -20, 1e-15);

  assert_int_equal(tack_metrics_finish(&a, t, 4, 0, &m, NULL, NULL), 0);
  assert_int_equal(m.trades, 4);
  assert_int_equal(m.wins, 2);
  assert_int_equal(m.losses, 1);
  assert_near(m.win_rate, 0.5, 1e-15);
  assert_near(m.profit_factor, 2.0, 1e-15);
  assert_near(m.expectancy, 5.0, 1e-15);
  tack_metrics_acc_free(&a);
}

/* NAN where a figure is undefined, INFINITY for a profit factor without
 * losses, and the figures that stay defined. */
static void test_undefined(void **state) {
  (void)state;
  tack_bt_settings s = settings(86400, 0);
  tack_metrics_acc a;
  tack_bt_metrics m;

  /* No bars, no trades. */
  assert_int_equal(tack_metrics_acc_init(&a, &s, 86400, 100), 0);
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, NULL, NULL), 0);
  assert_int_equal(m.intervals, 0);
  assert_near(m.total_return, 0, 0);
  assert_nan(m.cagr);
  assert_nan(m.volatility);
  assert_nan(m.sharpe);
  assert_nan(m.sortino);
  assert_nan(m.calmar);
  assert_nan(m.var95);
  assert_nan(m.cvar95);
  assert_nan(m.exposure);
  assert_nan(m.win_rate);
  assert_nan(m.profit_factor);
  assert_nan(m.expectancy);
  assert_nan(m.avg_win);
  assert_nan(m.avg_loss);
  assert_near(m.max_drawdown, 0, 0);
  assert_true(m.max_drawdown_start == 0 && m.max_drawdown_trough == 0);
  tack_metrics_acc_free(&a);

  /* One bar: one return, no standard deviation; VaR from the one return. */
  assert_int_equal(tack_metrics_acc_init(&a, &s, 86400, 100), 0);
  assert_int_equal(tack_metrics_acc_bar(&a, D0, 95, 1), 0);
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, NULL, NULL), 0);
  assert_int_equal(m.intervals, 1);
  assert_nan(m.volatility);
  assert_nan(m.sharpe);
  assert_nan(m.sortino);
  assert_near(m.var95, 0.05, 1e-15);
  assert_near(m.cvar95, 0.05, 1e-15);
  assert_near(m.max_drawdown, 0.05, 1e-15);
  assert_true(m.max_drawdown_start == D0); /* the start equity is the first peak */
  assert_true(m.max_drawdown_end == 0);
  assert_int_equal(m.max_drawdown_duration_s, 86400);
  tack_metrics_acc_free(&a);

  /* Flat equity: volatility 0, Sharpe and Sortino undefined, no drawdown,
   * no loss at risk, Calmar undefined. Only winning trades: profit factor
   * INFINITY, average loss NAN; only flat trades: profit factor NAN. */
  tack_bt_trade wins[2] = {trade(5, 100), trade(7, 100)};
  tack_bt_trade flat[2] = {trade(0, 100), trade(0, 100)};
  assert_int_equal(tack_metrics_acc_init(&a, &s, 86400, 100), 0);
  for (int i = 0; i < 4; i++)
    assert_int_equal(tack_metrics_acc_bar(&a, D0 + i * DAY, 100, 0), 0);
  assert_int_equal(tack_metrics_finish(&a, wins, 2, 0, &m, NULL, NULL), 0);
  assert_near(m.volatility, 0, 0);
  assert_nan(m.sharpe);
  assert_nan(m.sortino);
  assert_near(m.max_drawdown, 0, 0);
  assert_nan(m.calmar);
  assert_near(m.cagr, 0, 1e-15);
  assert_near(m.var95, 0, 0);
  assert_near(m.cvar95, 0, 0);
  assert_near(m.exposure, 0, 0);
  assert_true(isinf(m.profit_factor) && m.profit_factor > 0);
  assert_near(m.win_rate, 1, 0);
  assert_nan(m.avg_loss);
  assert_int_equal(tack_metrics_finish(&a, flat, 2, 0, &m, NULL, NULL), 0);
  assert_nan(m.profit_factor);
  assert_near(m.win_rate, 0, 0);
  assert_near(m.expectancy, 0, 0);
  assert_nan(m.avg_win);
  tack_metrics_acc_free(&a);

  /* Ruin: an interval from a non-positive equity returns 0, CAGR is -1. */
  assert_int_equal(tack_metrics_acc_init(&a, &s, 86400, 100), 0);
  assert_int_equal(tack_metrics_acc_bar(&a, D0, -10, 1), 0);
  assert_int_equal(tack_metrics_acc_bar(&a, D0 + DAY, -5, 1), 0);
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, NULL, NULL), 0);
  assert_near(m.cagr, -1, 0);
  assert_near(m.max_drawdown, 1.1, 1e-15);
  assert_near(m.var95, 1.1, 1e-15); /* returns -1.1 and 0 */
  assert_near(m.total_return, -1.05, 1e-15);
  tack_metrics_acc_free(&a);
}

/*
 * Drawdown bookkeeping: start 100, daily equities 90 (under water from the
 * first open), 100 (recovered after 2 days), 120, 60 (the deepest, 50%,
 * from 120 at 01-04T00:00 to 01-05T00:00), 110, 130 (recovered on
 * 01-07T00:00 after 3 days under water), 125 (1 day under water, not
 * recovered): the longest is 3 days, the deepest recovered.
 * Then 50 (1 - 50/130 = 0.615, deeper than 0.5) and 52: the deepest is now
 * open, with no end, 3 days under water by the last close.
 */
static void test_drawdown(void **state) {
  (void)state;
  static const double eq[] = {90, 100, 120, 60, 110, 130, 125, 50, 52};
  tack_bt_settings s = settings(86400, 0);
  tack_metrics_acc a;
  tack_bt_metrics m;
  assert_int_equal(tack_metrics_acc_init(&a, &s, 86400, 100), 0);
  for (int i = 0; i < 7; i++)
    assert_int_equal(tack_metrics_acc_bar(&a, D0 + i * DAY, eq[i], 1), 0);
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, NULL, NULL), 0);
  assert_near(m.max_drawdown, 0.5, 1e-15);
  assert_true(m.max_drawdown_start == D0 + 3 * DAY); /* 120 at the close of bar 2 */
  assert_true(m.max_drawdown_trough == D0 + 4 * DAY);
  assert_true(m.max_drawdown_end == D0 + 6 * DAY);
  assert_int_equal(m.max_drawdown_duration_s, 3 * 86400);

  for (int i = 7; i < 9; i++)
    assert_int_equal(tack_metrics_acc_bar(&a, D0 + i * DAY, eq[i], 1), 0);
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, NULL, NULL), 0);
  assert_near(m.max_drawdown, 1 - 50.0 / 130.0, 1e-15);
  assert_true(m.max_drawdown_start == D0 + 6 * DAY);
  assert_true(m.max_drawdown_trough == D0 + 8 * DAY);
  assert_true(m.max_drawdown_end == 0);
  assert_int_equal(m.max_drawdown_duration_s, 3 * 86400); /* 130 -> now is 3 days too */
  tack_metrics_acc_free(&a);
}

/*
 * 1h bars from 2024-01-01T13:00Z, 1d returns: the first interval runs from
 * 13:00 to midnight (11 bars; bar 10 closes at 01-02T00:00), then 24 bars a
 * day (bars 34 and 58 end days), then bar 59 alone in a partial day. Equity
 * 100 + i at the close of bar i: interval ends at 110, 134, 158 and the
 * partial one at 159.
 */
static void test_interval_alignment(void **state) {
  (void)state;
  tack_bt_settings s = settings(86400, 0);
  tack_metrics_acc a;
  tack_bt_metrics m;
  assert_int_equal(tack_metrics_acc_init(&a, &s, 3600, 100), 0);
  for (int i = 0; i < 60; i++)
    assert_int_equal(tack_metrics_acc_bar(&a, D0 + 13 * HOUR + i * HOUR, 100 + i, 0), 0);
  assert_int_equal(a.n_returns, 3);
  assert_near(a.returns[0], 110, 0);
  assert_near(a.returns[1], 134, 0);
  assert_near(a.returns[2], 158, 0);
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, NULL, NULL), 0);
  assert_int_equal(m.intervals, 4);
  assert_near(m.intervals_per_year, 365, 0);
  /* All four returns are gains; the smallest is 159/158 - 1. */
  const double r[4] = {0.1, 134.0 / 110 - 1, 158.0 / 134 - 1, 159.0 / 158 - 1};
  double mean = (r[0] + r[1] + r[2] + r[3]) / 4, ss = 0;
  for (int i = 0; i < 4; i++)
    ss += (r[i] - mean) * (r[i] - mean);
  assert_near(m.volatility, sqrt(ss / 3) * sqrt(365), 1e-12);
  assert_near(m.var95, 0, 0);
  tack_metrics_acc_free(&a);

  /* Starting at midnight with whole days: no partial interval. */
  assert_int_equal(tack_metrics_acc_init(&a, &s, 3600, 100), 0);
  for (int i = 0; i < 48; i++)
    assert_int_equal(tack_metrics_acc_bar(&a, D0 + i * HOUR, 100 + i, 0), 0);
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, NULL, NULL), 0);
  assert_int_equal(m.intervals, 2);
  tack_metrics_acc_free(&a);

  /* A gap over a weekend: the bar whose close passes three midnights ends
   * one interval, and the next boundary is the midnight after it. */
  assert_int_equal(tack_metrics_acc_init(&a, &s, 3600, 100), 0);
  assert_int_equal(tack_metrics_acc_bar(&a, D0 + 22 * HOUR, 101, 0), 0);
  assert_int_equal(tack_metrics_acc_bar(&a, D0 + 3 * DAY + 5 * HOUR, 102, 0), 0);
  assert_int_equal(a.n_returns, 1);
  assert_true(a.next_boundary == D0 + 4 * DAY);
  assert_int_equal(tack_metrics_acc_bar(&a, D0 + 3 * DAY + 23 * HOUR, 103, 0), 0);
  assert_int_equal(a.n_returns, 2);
  assert_near(a.returns[1], 103, 0);
  tack_metrics_acc_free(&a);
}

/* return_interval_s 0: a return per bar, annualized by bars per year; an
 * interval shorter than the bar is measured per bar too. */
static void test_per_bar(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) {
    tack_bt_settings s = settings(k == 0 ? 0 : 1800, 0);
    tack_metrics_acc a;
    tack_bt_metrics m;
    assert_int_equal(tack_metrics_acc_init(&a, &s, 3600, 100), 0);
    for (int i = 0; i < 10; i++)
      assert_int_equal(tack_metrics_acc_bar(&a, D0 + 30 * 60 * NS + i * HOUR, 100 + i, 0), 0);
    assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, NULL, NULL), 0);
    /* Bars are not on the hour: each close still passes one boundary. */
    assert_int_equal(m.intervals, 10);
    assert_int_equal(m.return_interval_s, 3600);
    assert_near(m.intervals_per_year, 8760, 0);
    tack_metrics_acc_free(&a);
  }
}

/*
 * VaR and CVaR by the lower empirical quantile: 21 returns -0.10, -0.09,
 * ..., +0.10 (fed in shuffled order); element floor(0.05 * 20) = 1 of the
 * sorted returns, -0.09: VaR 0.09; CVaR the mean of -0.10 and -0.09, 0.095.
 */
static void test_var(void **state) {
  (void)state;
  static const int order[21] = {7, 0, 20, 3,  15, 1, 11, 9,  18, 4, 13,
                                6, 2, 17, 10, 19, 5, 12, 16, 8,  14};
  tack_bt_settings s = settings(0, 0);
  tack_metrics_acc a;
  tack_bt_metrics m;
  double eq = 1000;
  assert_int_equal(tack_metrics_acc_init(&a, &s, 60, eq), 0);
  for (int i = 0; i < 21; i++) {
    eq *= 1 + (order[i] - 10) / 100.0;
    assert_int_equal(tack_metrics_acc_bar(&a, D0 + i * 60 * NS, eq, 1), 0);
  }
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, NULL, NULL), 0);
  assert_int_equal(m.intervals, 21);
  assert_near(m.var95, 0.09, 1e-12);
  assert_near(m.cvar95, 0.095, 1e-12);
  tack_metrics_acc_free(&a);
}

/* Bars out of order, at the same time, or with a non-finite equity are
 * refused and not counted. */
static void test_refused(void **state) {
  (void)state;
  tack_bt_settings s = settings(0, 0);
  tack_metrics_acc a;
  assert_int_equal(tack_metrics_acc_init(&a, &s, 0, 100), TACK_EINVAL);
  assert_int_equal(tack_metrics_acc_init(&a, &s, 60, 0), TACK_EINVAL);
  s.year_days = 0;
  assert_int_equal(tack_metrics_acc_init(&a, &s, 60, 100), TACK_EINVAL);
  s.year_days = 365;
  assert_int_equal(tack_metrics_acc_init(&a, &s, 60, 100), 0);
  assert_int_equal(tack_metrics_acc_bar(&a, D0, 100, 0), 0);
  assert_int_equal(tack_metrics_acc_bar(&a, D0, 101, 0), TACK_EINVAL);
  assert_int_equal(tack_metrics_acc_bar(&a, D0 - 60 * NS, 101, 0), TACK_EINVAL);
  assert_int_equal(tack_metrics_acc_bar(&a, D0 + 60 * NS, NAN, 0), TACK_EINVAL);
  assert_int_equal(tack_metrics_acc_bar(&a, D0 + 60 * NS, INFINITY, 0), TACK_EINVAL);
  assert_int_equal(a.bars, 1);
  assert_int_equal(a.n_returns, 1);
  assert_int_equal(tack_metrics_acc_bar(&a, D0 + 60 * NS, 101, 0), 0);
  assert_int_equal(a.bars, 2);
  tack_metrics_acc_free(&a);
  tack_metrics_acc_free(&a); /* zeroed: safe */
}

/* A million 1-minute bars: the curve holds at most TACK_BT_MAX_POINTS, starts
 * at the first bar and ends at the last, its grid is evenly spaced, and each
 * point's drawdown is from the true running peak, spikes on bars the curve
 * dropped included. */
static double thin_equity(uint64_t i) {
  double e = 1000.0 + (double)(i % 5000) * 0.01 - (double)(i % 7) * 0.3;
  if (i % 99991 == 12345)
    e += 400.0; /* a spike, almost surely on a dropped bar */
  return e;
}

static void test_curve_thinning(void **state) {
  (void)state;
  const uint64_t n = 1000000;
  const tack_time step = 60 * NS;
  tack_bt_settings s = settings(86400, 0);
  tack_metrics_acc a;
  tack_bt_metrics m;
  tack_bt_point *c = NULL;
  size_t nc = 0;
  assert_int_equal(tack_metrics_acc_init(&a, &s, 60, 1000), 0);
  for (uint64_t i = 0; i < n; i++)
    assert_int_equal(tack_metrics_acc_bar(&a, D0 + (tack_time)i * step, thin_equity(i), 1), 0);
  uint64_t per = a.curve_per;
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, &c, &nc), 0);
  assert_true(nc <= TACK_BT_MAX_POINTS);
  assert_true(nc >= TACK_BT_MAX_POINTS / 2);
  assert_true((per & (per - 1)) == 0 && per > 1);
  assert_true(c[0].ts == D0 + step);
  assert_true(c[nc - 1].ts == D0 + (tack_time)n * step);
  for (size_t k = 1; k + 1 < nc; k++)
    assert_true(c[k].ts - c[k - 1].ts == (tack_time)per * step);
  assert_true(c[nc - 1].ts - c[nc - 2].ts <= (tack_time)per * step);
  assert_true(c[nc - 1].ts > c[nc - 2].ts);

  /* Walk the bars again, checking each kept point against the true peak. */
  double peak = 1000;
  size_t k = 0;
  int spike_dropped = 0;
  for (uint64_t i = 0; i < n && k < nc; i++) {
    double e = thin_equity(i);
    if (e > peak)
      peak = e;
    tack_time close = D0 + (tack_time)(i + 1) * step;
    if (c[k].ts == close) {
      assert_near(c[k].equity, e, 0);
      assert_near(c[k].drawdown, e / peak - 1, 1e-15);
      k++;
    } else if (i % 99991 == 12345) {
      spike_dropped = 1;
    }
  }
  assert_int_equal(k, nc);
  assert_true(spike_dropped);
  tack_free(NULL, c);
  tack_metrics_acc_free(&a);

  /* Around the first compaction: always the first and the last bar. */
  for (uint64_t len = TACK_BT_MAX_POINTS - 2; len <= TACK_BT_MAX_POINTS + 2; len++) {
    assert_int_equal(tack_metrics_acc_init(&a, &s, 60, 1000), 0);
    for (uint64_t i = 0; i < len; i++)
      assert_int_equal(tack_metrics_acc_bar(&a, D0 + (tack_time)i * step, 1000 + (double)i, 1), 0);
    assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, &c, &nc), 0);
    assert_true(nc <= TACK_BT_MAX_POINTS);
    assert_true(c[0].ts == D0 + step);
    assert_true(c[nc - 1].ts == D0 + (tack_time)len * step);
    assert_near(c[nc - 1].equity, 1000 + (double)(len - 1), 0);
    tack_free(NULL, c);
    tack_metrics_acc_free(&a);
  }
}

/* Price thinning: 5000 bars merge into at most TACK_BT_MAX_CANDLES candles
 * of `per` bars each (the last one may hold fewer), each with the first
 * bar's time and open, the last bar's close, the highest high and the
 * lowest low of its bars. */
static tack_bar price_bar(uint64_t i) {
  tack_bar b;
  memset(&b, 0, sizeof b);
  b.ts = D0 + (tack_time)i * 60 * NS;
  b.open = 100 + (double)(i % 37);
  b.close = 100 + (double)(i % 41);
  b.high = 150 + (double)((i * 7919) % 101);
  b.low = 50 - (double)((i * 104729) % 43);
  b.timeframe_s = 60;
  return b;
}

static void test_candles(void **state) {
  (void)state;
  const uint64_t n = 5000;
  tack_bt_candles c;
  assert_int_equal(tack_bt_candles_init(&c), 0);
  for (uint64_t i = 0; i < n; i++) {
    tack_bar b = price_bar(i);
    tack_bt_candles_push(&c, &b);
  }
  assert_true(c.n <= TACK_BT_MAX_CANDLES);
  assert_int_equal(c.per, 8); /* 5000 bars: 1024 candles of 4 is too few */
  assert_true(c.pending >= 1 && c.pending <= c.per);
  assert_int_equal((c.n - 1) * c.per + c.pending, n);
  for (size_t k = 0; k < c.n; k++) {
    uint64_t first = k * c.per, last = k + 1 == c.n ? n - 1 : first + c.per - 1;
    tack_bar fb = price_bar(first), lb = price_bar(last);
    double hi = -INFINITY, lo = INFINITY;
    for (uint64_t i = first; i <= last; i++) {
      tack_bar b = price_bar(i);
      hi = b.high > hi ? b.high : hi;
      lo = b.low < lo ? b.low : lo;
    }
    assert_true(c.items[k].ts == fb.ts);
    assert_near(c.items[k].open, fb.open, 0);
    assert_near(c.items[k].close, lb.close, 0);
    assert_near(c.items[k].high, hi, 0);
    assert_near(c.items[k].low, lo, 0);
  }
  tack_bt_candles_free(&c);
  assert_null(c.items);
  tack_bt_candles_free(&c);

  /* Up to the limit, a candle per bar. */
  assert_int_equal(tack_bt_candles_init(&c), 0);
  for (uint64_t i = 0; i < TACK_BT_MAX_CANDLES; i++) {
    tack_bar b = price_bar(i);
    tack_bt_candles_push(&c, &b);
  }
  assert_int_equal(c.n, TACK_BT_MAX_CANDLES);
  assert_int_equal(c.per, 1);
  tack_bt_candles_free(&c);
}

static void mixed_trades(tack_bt_trade *t, size_t n) {
  for (size_t i = 0; i < n; i++)
    t[i] = trade((double)((i * 37) % 23) - 10.0, 1000.0);
}

/* Same seed, same distribution; another seed, another one. */
static void test_mc_determinism(void **state) {
  (void)state;
  tack_bt_trade t[50];
  mixed_trades(t, 50);
  tack_bt_settings s = settings(86400, 0);
  s.mc_runs = 2000;
  s.mc_seed = 42;
  tack_bt_mc x, y, z;
  assert_int_equal(tack_metrics_monte_carlo(t, 50, 1000, &s, &x), 0);
  assert_int_equal(tack_metrics_monte_carlo(t, 50, 1000, &s, &y), 0);
  assert_memory_equal(&x, &y, sizeof x);
  s.mc_seed = 43;
  assert_int_equal(tack_metrics_monte_carlo(t, 50, 1000, &s, &z), 0);
  assert_memory_not_equal(x.total_return, z.total_return, sizeof x.total_return);
  assert_true(z.seed == 43 && z.runs == 2000);

  /* Ordered percentiles inside the histogram range, histograms that count
   * every run, and a probability of loss. */
  uint32_t sr = 0, sd = 0;
  for (unsigned i = 0; i < 20; i++) {
    sr += x.return_hist[i];
    sd += x.dd_hist[i];
  }
  assert_int_equal(sr, 2000);
  assert_int_equal(sd, 2000);
  assert_near(x.pct[0], 5, 0);
  assert_near(x.pct[4], 95, 0);
  for (unsigned p = 0; p < TACK_BT_PCTS; p++) {
    if (p > 0) {
      assert_true(x.total_return[p] >= x.total_return[p - 1]);
      assert_true(x.max_drawdown[p] >= x.max_drawdown[p - 1]);
    }
    assert_true(x.total_return[p] >= x.return_lo && x.total_return[p] <= x.return_hi);
    assert_true(x.max_drawdown[p] >= x.dd_lo && x.max_drawdown[p] <= x.dd_hi);
  }
  assert_true(x.return_lo < x.return_hi);
  assert_true(x.prob_loss > 0 && x.prob_loss < 1);
}

/*
 * Sanity: only winning trades never lose nor draw down. Two trades +10%
 * and -10% of the equity at entry: each run compounds two draws, so every
 * total return is 1.1^2 - 1 = 0.21, 1.1 * 0.9 - 1 = -0.01 or
 * 0.9^2 - 1 = -0.19, every drawdown 0, 0.1 or 1 - 0.81 = 0.19. No trades: a
 * distribution of zeros. No runs: nothing measured (NAN).
 */
static void test_mc_sanity(void **state) {
  (void)state;
  tack_bt_settings s = settings(86400, 0);
  s.mc_runs = 1000;
  tack_bt_mc mc;

  tack_bt_trade up[3] = {trade(5, 1000), trade(20, 1010), trade(1, 900)};
  assert_int_equal(tack_metrics_monte_carlo(up, 3, 1000, &s, &mc), 0);
  assert_near(mc.prob_loss, 0, 0);
  for (unsigned p = 0; p < TACK_BT_PCTS; p++) {
    assert_near(mc.max_drawdown[p], 0, 0);
    assert_true(mc.total_return[p] > 0);
  }
  assert_near(mc.dd_hi, 0, 0);

  tack_bt_trade two[2] = {trade(100, 1000), trade(-100, 1000)};
  assert_int_equal(tack_metrics_monte_carlo(two, 2, 1000, &s, &mc), 0);
  for (unsigned p = 0; p < TACK_BT_PCTS; p++) {
    double r = mc.total_return[p], d = mc.max_drawdown[p];
    assert_true(fabs(r - 0.21) < 1e-12 || fabs(r + 0.01) < 1e-12 || fabs(r + 0.19) < 1e-12);
    assert_true(fabs(d) < 1e-12 || fabs(d - 0.1) < 1e-12 || fabs(d - 0.19) < 1e-12);
  }
  assert_near(mc.return_lo, -0.19, 1e-12);
  assert_near(mc.return_hi, 0.21, 1e-12);
  assert_near(mc.total_return[2], -0.01, 1e-12); /* the median: half the runs */
  assert_near(mc.max_drawdown[0], 0, 1e-12);     /* a quarter of the runs */
  assert_near(mc.max_drawdown[2], 0.1, 1e-12);   /* half */
  assert_near(mc.max_drawdown[4], 0.19, 1e-12);  /* a quarter */
  assert_near(mc.dd_hi, 0.19, 1e-12);
  assert_true(mc.prob_loss > 0.70 && mc.prob_loss < 0.80); /* 3 in 4 */
  unsigned used = 0;
  for (unsigned i = 0; i < 20; i++)
    used += mc.return_hist[i] > 0;
  assert_int_equal(used, 3); /* three outcomes */
  assert_true(mc.return_hist[0] > 0 && mc.return_hist[19] > 0);

  assert_int_equal(tack_metrics_monte_carlo(NULL, 0, 1000, &s, &mc), 0);
  assert_near(mc.prob_loss, 0, 0);
  assert_near(mc.return_lo, 0, 0);
  assert_near(mc.return_hi, 0, 0);
  assert_int_equal(mc.return_hist[0], 1000);
  for (unsigned p = 0; p < TACK_BT_PCTS; p++)
    assert_near(mc.total_return[p], 0, 0);

  s.mc_runs = 0;
  assert_int_equal(tack_metrics_monte_carlo(two, 2, 1000, &s, &mc), 0);
  assert_int_equal(mc.runs, 0);
  assert_nan(mc.prob_loss);
  assert_nan(mc.total_return[2]);

  /* A trade losing more than the equity ruins the run: -100%, drawdown 1. */
  tack_bt_trade ruin[1] = {trade(-1500, 1000)};
  s.mc_runs = 10;
  assert_int_equal(tack_metrics_monte_carlo(ruin, 1, 1000, &s, &mc), 0);
  assert_near(mc.total_return[0], -1, 0);
  assert_near(mc.max_drawdown[4], 1, 0);
  assert_near(mc.prob_loss, 1, 0);
}

/* 10,000 runs of 1,000 trades: printed, not asserted (sanitizer builds are
 * slow); docs/metrics.md quotes a release build. */
static void test_mc_speed(void **state) {
  (void)state;
  enum { N = 1000 };
  static tack_bt_trade t[N];
  mixed_trades(t, N);
  tack_bt_settings s = settings(86400, 0);
  s.mc_runs = 10000;
  tack_bt_mc mc;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(tack_metrics_monte_carlo(t, N, 1000, &s, &mc), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  print_message("monte carlo: 10000 runs x 1000 trades in %.1f ms\n", ms);
}

/* Each allocation failing in turn: an error, nothing leaked (ASan), and the
 * state usable after. */
static void test_enomem(void **state) {
  (void)state;
  tack_bt_settings s = settings(0, 0);
  tack_metrics_acc a;
  tack_bt_metrics m;
  tack_bt_point *c = NULL;
  size_t nc = 0;

  tack_alloc_fail_after(1);
  assert_int_equal(tack_metrics_acc_init(&a, &s, 60, 100), TACK_ENOMEM);
  tack_metrics_acc_free(&a);

  assert_int_equal(tack_metrics_acc_init(&a, &s, 60, 100), 0);
  tack_alloc_fail_after(1); /* the first interval end grows the array */
  assert_int_equal(tack_metrics_acc_bar(&a, D0, 101, 1), TACK_ENOMEM);
  assert_int_equal(a.bars, 0);
  assert_int_equal(tack_metrics_acc_bar(&a, D0, 101, 1), 0);
  assert_int_equal(tack_metrics_acc_bar(&a, D0 + 60 * NS, 99, 0), 0);
  tack_alloc_fail_after(1);
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, &c, &nc), TACK_ENOMEM);
  assert_null(c);
  assert_int_equal(tack_metrics_finish(&a, NULL, 0, 0, &m, &c, &nc), 0);
  assert_int_equal(nc, 2);
  tack_free(NULL, c);
  tack_metrics_acc_free(&a);

  tack_bt_trade t[2] = {trade(1, 100), trade(-1, 100)};
  s.mc_runs = 10;
  for (uint64_t k = 1; k <= 3; k++) {
    tack_bt_mc mc;
    tack_alloc_fail_after(k);
    assert_int_equal(tack_metrics_monte_carlo(t, 2, 100, &s, &mc), TACK_ENOMEM);
  }
  tack_alloc_fail_after(0);

  tack_bt_candles cs;
  tack_alloc_fail_after(1);
  assert_int_equal(tack_bt_candles_init(&cs), TACK_ENOMEM);
  tack_bar b = price_bar(0);
  tack_bt_candles_push(&cs, &b); /* a failed series takes nothing */
  assert_int_equal(cs.n, 0);
  tack_bt_candles_free(&cs);
}

/* A result with every owned part freed and zeroed; a zeroed one and NULL
 * are fine. */
static void test_result_free(void **state) {
  (void)state;
  tack_bt_result r;
  memset(&r, 0, sizeof r);
  tack_bt_result_free(&r);
  tack_bt_result_free(NULL);

  r.curve = tack_alloc(NULL, 4 * sizeof *r.curve);
  r.n_curve = 4;
  r.trades = tack_alloc(NULL, 2 * sizeof *r.trades);
  r.n_trades = r.cap_trades = 2;
  r.symbols = tack_calloc(NULL, 2, sizeof *r.symbols);
  r.n_symbols = 2;
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(tack_bt_candles_init(&r.symbols[i].prices), 0);
    r.symbols[i].markers = tack_alloc(NULL, 3 * sizeof *r.symbols[i].markers);
    r.symbols[i].n_markers = r.symbols[i].cap_markers = 3;
  }
  r.has_mc = 1;
  tack_bt_result_free(&r);
  static const tack_bt_result zero;
  assert_memory_equal(&r, &zero, sizeof r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hand_series), cmocka_unit_test(test_risk_free),
      cmocka_unit_test(test_trades),      cmocka_unit_test(test_undefined),
      cmocka_unit_test(test_drawdown),    cmocka_unit_test(test_interval_alignment),
      cmocka_unit_test(test_per_bar),     cmocka_unit_test(test_var),
      cmocka_unit_test(test_refused),     cmocka_unit_test(test_curve_thinning),
      cmocka_unit_test(test_candles),     cmocka_unit_test(test_mc_determinism),
      cmocka_unit_test(test_mc_sanity),   cmocka_unit_test(test_mc_speed),
      cmocka_unit_test(test_enomem),      cmocka_unit_test(test_result_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
