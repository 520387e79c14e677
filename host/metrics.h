/*
 * metrics.h: the figures of a backtest (bt_result.h), computed the same way
 * for every run and defined in docs/metrics.md:
 *
 *   tack_metrics_acc   fed the account's equity once per bar time (cheap: a
 *                      few comparisons per bar, a push per return
 *                      interval); keeps the drawdown, the exposure, the
 *                      interval returns and a thinned equity curve
 *   tack_bt_candles_*  a price series thinned to TACK_BT_MAX_CANDLES
 *   tack_metrics_finish  every metric from the accumulator and the trades
 *   tack_metrics_monte_carlo  resampling of the trade sequence
 *
 * No I/O, no global state; deterministic (the Monte Carlo draws from its
 * own seeded generator). Errors are TACK_E* codes.
 */
#ifndef TACK_METRICS_H
#define TACK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "bt_result.h"
#include "tack.h"

typedef struct tack_metrics_acc {
  tack_bt_settings settings;
  uint32_t bar_s;         /* the base timeframe */
  uint32_t interval_s;    /* settings.return_interval_s, or bar_s when that is 0 or shorter */
  uint64_t bars, exposed; /* bar times seen, and those with a position open */
  tack_time first_ts;     /* the first bar's open */
  tack_time last_ts;      /* the last bar's close */
  double start_equity, last_equity;
  /* Drawdown, streaming. */
  double peak;
  tack_time peak_ts;
  double max_dd; /* 1 - max_dd_low / max_dd_peak, written by tack_metrics_finish() */
  tack_time max_dd_start, max_dd_trough, max_dd_end;
  int in_max_dd;           /* the deepest drawdown has not recovered yet */
  int64_t longest_under_s; /* of the recovered drawdowns; finish adds the open one */
  /* Interval returns. */
  tack_time next_boundary; /* the next interval end */
  double interval_start_equity;
  /* The equity at each interval end, in order (not yet returns: finish
   * divides, so that a bar costs no division even when every bar ends an
   * interval). */
  double *returns;
  size_t n_returns, cap_returns;
  /* The thinned curve. */
  tack_bt_point *curve;   /* TACK_BT_MAX_POINTS */
  size_t n_curve;         /* points on the even grid; finish appends the last bar */
  uint64_t curve_per;     /* bars between grid points (a power of two) */
  uint64_t curve_pending; /* bars since the last grid point */
  /* Added for the streaming code (no division per bar): the deepest
   * drawdown as its peak and low equity, and where the current interval
   * began (the first bar's open or the last interval end). */
  double max_dd_peak, max_dd_low;
  tack_time interval_start_ts;
} tack_metrics_acc;

/* bar_s: the base timeframe in seconds (> 0). start_equity > 0, s->year_days
 * > 0, s->risk_free > -1, else TACK_EINVAL. Allocates the curve (TACK_ENOMEM);
 * free with tack_metrics_acc_free(), which is safe on a zeroed struct. */
int tack_metrics_acc_init(tack_metrics_acc *a, const tack_bt_settings *s, uint32_t bar_s,
                          double start_equity);
void tack_metrics_acc_free(tack_metrics_acc *a);

/* The equity at the close of the bar that opened at ts (bars come in
 * increasing ts; equal ts is refused with TACK_EINVAL), and whether any
 * position was open during it. Returns 0 or TACK_ENOMEM / TACK_EINVAL (a
 * non-finite equity too); a refused bar is not counted. */
int tack_metrics_acc_bar(tack_metrics_acc *a, tack_time ts, double equity, int exposed);

/* Every metric into m, from the accumulator and the trades (open trades
 * count as trades, marked at their exit price). fees is the run's total.
 * Also hands the curve over (*curve, *n_curve, to be freed with
 * tack_free(NULL, ...), as tack_bt_result_free() does; the accumulator keeps
 * no reference), so call it once; curve and n_curve may be NULL when the
 * curve is not wanted (tack_metrics_acc_free() frees it then). Returns 0,
 * TACK_ENOMEM (nothing handed over), or TACK_ESTATE when the curve was
 * already handed over. */
int tack_metrics_finish(tack_metrics_acc *a, const tack_bt_trade *trades, size_t n_trades,
                        double fees, tack_bt_metrics *m, tack_bt_point **curve, size_t *n_curve);

/* Price thinning: init allocates TACK_BT_MAX_CANDLES; push one bar at a
 * time, in time order. */
int tack_bt_candles_init(tack_bt_candles *c);
void tack_bt_candles_push(tack_bt_candles *c, const tack_bar *bar);
void tack_bt_candles_free(tack_bt_candles *c);

/* Monte Carlo on the trades (s->mc_runs runs, s->mc_seed): each run draws
 * n_trades trade returns pnl / equity_at_entry with replacement and
 * compounds them from start_equity. n_trades 0 gives a
 * distribution of zeros. Returns 0 or TACK_ENOMEM. */
int tack_metrics_monte_carlo(const tack_bt_trade *trades, size_t n_trades, double start_equity,
                             const tack_bt_settings *s, tack_bt_mc *out);

#endif
