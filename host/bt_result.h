/*
 * bt_result.h: what a backtest, or a paper run asked for a report, leaves
 * behind: the figures (metrics), the equity curve, the trades, per symbol a
 * price series with every fill marked, per-member attribution, the time
 * spent in each regime, and the Monte Carlo distributions. Plain data:
 *
 *   backtest.c  records a run into it (fills, bars, signals), writes JSON
 *   metrics.c   the accumulators a run feeds bar by bar, the metrics and
 *               the Monte Carlo resampling (docs/metrics.md defines each)
 *   report.c    renders it as one self-contained HTML file
 *
 * Memory is bounded whatever the number of bars: the equity curve and the
 * price series are thinned to at most TACK_BT_MAX_POINTS and
 * TACK_BT_MAX_CANDLES entries; what grows is the trades and the fills (one
 * entry each) and the per-interval returns (one double per return interval,
 * a day by default).
 *
 * Money is in the account's quote currency; returns and drawdowns are
 * fractions (0.05 is 5%); times are tack_time (ns since the epoch, UTC).
 */
#ifndef TACK_BT_RESULT_H
#define TACK_BT_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "tack.h"

#define TACK_BT_MAX_POINTS 2048u  /* equity curve points kept */
#define TACK_BT_MAX_CANDLES 1024u /* price candles kept per symbol */
#define TACK_BT_MAX_MEMBERS 16u   /* attribution rows per symbol */
#define TACK_BT_MAX_REGIMES 16u   /* regime rows per symbol */
#define TACK_BT_NAME_MAX 64u
#define TACK_BT_PCTS 5u /* Monte Carlo percentiles: 5, 25, 50, 75, 95 */

/* How metrics are computed (the `backtest` config group; docs/backtesting.md). */
typedef struct tack_bt_settings {
  /* Returns are taken over this interval (seconds) for volatility, Sharpe,
   * Sortino, VaR and CVaR; 0: every bar of the run's base timeframe. */
  uint32_t return_interval_s;
  double year_days; /* days in a year for annualization (365; 252 for exchange hours) */
  double risk_free; /* annual risk-free rate, a fraction */
  uint32_t mc_runs; /* Monte Carlo resamplings; 0: none */
  uint64_t mc_seed; /* equal seeds give equal distributions */
} tack_bt_settings;

#define TACK_BT_SETTINGS_DEFAULT                                                                   \
  { 86400u, 365.0, 0.0, 1000u, 1u }

/* One point of the equity curve: the equity at ts, the close of a bar (its
 * open + its timeframe, the time the drawdown figures use too), and its
 * drawdown from the highest equity up to then, over every bar (<= 0). */
typedef struct tack_bt_point {
  tack_time ts;
  double equity;
  double drawdown;
} tack_bt_point;

/* One round trip of one symbol: from flat to flat (a reversal closes one
 * trade and opens the next at the same fill). */
typedef struct tack_bt_trade {
  char symbol[TACK_SYMBOL_MAX];
  int side; /* +1 long, -1 short */
  int open; /* 1: still open at the end (marked to the last close) */
  tack_time entry_ts;
  tack_time exit_ts;  /* the last close's time when still open */
  double entry_price; /* average of the fills that grew the position */
  double exit_price;  /* average of the fills that shrank it (last close when open) */
  double quantity;    /* the largest absolute position reached */
  double pnl;         /* net of fees */
  double fees;
  double ret;                    /* pnl / (entry_price * quantity) */
  double equity_at_entry;        /* the account's equity just before the entry fill */
  uint64_t bars;                 /* bars of the symbol's base timeframe from entry to exit */
  char member[TACK_BT_NAME_MAX]; /* the composite member that spoke loudest at entry, or "" */
} tack_bt_trade;

/* A price candle for the chart (a thinned series: each covers one or more
 * bars of the run). */
typedef struct tack_bt_candle {
  tack_time ts;
  double open, high, low, close;
} tack_bt_candle;

/* A fill on the chart. */
typedef struct tack_bt_marker {
  tack_time ts;
  double price;
  double quantity; /* absolute */
  int side;        /* +1 buy, -1 sell */
  int opens;       /* 1: it opened or grew a position, 0: it reduced or closed one */
} tack_bt_marker;

/* Per-member attribution of a composite: the P&L of the trades each member
 * led (the largest share of the entry signal in the trade's direction). */
typedef struct tack_bt_member {
  char name[TACK_BT_NAME_MAX];
  uint64_t trades;
  double pnl;
  uint64_t signals;    /* evaluations at which it had an opinion */
  double contribution; /* mean absolute share of its composite's signal */
} tack_bt_member;

/* Time a regime entry spent in one of its regimes. */
typedef struct tack_bt_regime {
  char entry[TACK_BT_NAME_MAX];
  char name[TACK_BT_NAME_MAX];
  uint64_t bars;
  double share; /* of the entry's bars with a regime */
  uint64_t switches_into;
} tack_bt_regime;

/* Bounded thinning of a price series: candles merge pairwise when full. */
typedef struct tack_bt_candles {
  tack_bt_candle *items; /* TACK_BT_MAX_CANDLES, owned */
  size_t n;
  uint64_t per;     /* bars per kept candle (a power of two) */
  uint64_t pending; /* bars merged into items[n - 1] so far, when < per */
} tack_bt_candles;

typedef struct tack_bt_symbol {
  char symbol[TACK_SYMBOL_MAX];
  char exchange[TACK_BT_NAME_MAX];
  char strategy[TACK_BT_NAME_MAX];
  uint32_t timeframe_s; /* the bars it was fed */
  uint64_t bars, signals, orders, fills;
  double fees, pnl; /* pnl net of fees, realized and marked */
  double last_close;
  tack_bt_candles prices;
  tack_bt_marker *markers; /* every fill, in time order; owned */
  size_t n_markers, cap_markers;
  tack_bt_member members[TACK_BT_MAX_MEMBERS];
  size_t n_members;
  tack_bt_regime regimes[TACK_BT_MAX_REGIMES];
  size_t n_regimes;
} tack_bt_symbol;

/* The figures. NAN where undefined (no trades, no variance, one point). */
typedef struct tack_bt_metrics {
  tack_time start, end; /* the first bar's open to the last bar's close */
  double years;         /* (end - start) / year_days days */
  double start_equity, end_equity;
  double total_return;          /* end / start - 1 */
  double cagr;                  /* (end / start)^(1 / years) - 1 */
  double volatility;            /* stdev of interval returns x sqrt(intervals per year) */
  double sharpe;                /* (mean - rf per interval) / stdev x sqrt(intervals per year) */
  double sortino;               /* same over the downside deviation (below rf per interval) */
  double calmar;                /* cagr / max_drawdown */
  double max_drawdown;          /* largest fall from a peak, a positive fraction */
  tack_time max_drawdown_start; /* its peak */
  tack_time max_drawdown_trough;
  tack_time max_drawdown_end;      /* back at the peak; 0 when never recovered */
  int64_t max_drawdown_duration_s; /* longest time below a peak, recovered or not */
  double exposure;                 /* fraction of bars with a position open */
  uint64_t trades, wins, losses;
  double win_rate;          /* wins / trades */
  double profit_factor;     /* sum of wins / |sum of losses|; INFINITY without losses */
  double expectancy;        /* mean pnl per trade */
  double avg_win, avg_loss; /* mean pnl of winning / losing trades (avg_loss <= 0) */
  double fees;
  double var95, cvar95;       /* of interval returns, as positive loss fractions */
  uint64_t intervals;         /* interval returns measured */
  uint32_t return_interval_s; /* as measured (the bar's when the setting is 0) */
  double intervals_per_year;
} tack_bt_metrics;

/* Monte Carlo on the trade sequence: runs resamplings of the trades' pnl
 * with replacement (as many trades as the run had), each compounding from
 * the starting equity. */
typedef struct tack_bt_mc {
  uint32_t runs;
  uint64_t seed;
  double pct[TACK_BT_PCTS];          /* 5, 25, 50, 75, 95 */
  double total_return[TACK_BT_PCTS]; /* at those percentiles */
  double max_drawdown[TACK_BT_PCTS];
  double prob_loss; /* share of runs ending below the start */
  /* Histograms for the report: 20 bins each, from lo to hi. */
  double return_lo, return_hi, dd_lo, dd_hi;
  uint32_t return_hist[20], dd_hist[20];
} tack_bt_mc;

/* Everything. Owned pointers come from tack_alloc(NULL, ...) or
 * tack_realloc(NULL, ...) (alloc.h) and are freed by tack_bt_result_free(). */
typedef struct tack_bt_result {
  char bot[TACK_BT_NAME_MAX];
  char config[256]; /* the config path as given */
  char mode[16];    /* "backtest" or "paper" */
  char currency[TACK_CURRENCY_MAX];
  tack_bt_settings settings;
  tack_bt_metrics metrics;
  tack_bt_point *curve; /* thinned, time order */
  size_t n_curve;
  tack_bt_trade *trades; /* closed first by exit time, then open ones */
  size_t n_trades, cap_trades;
  tack_bt_symbol *symbols;
  size_t n_symbols;
  tack_bt_mc mc;
  int has_mc;
  int ledger_exact; /* the ledger identity held at the end */
  char ledger_note[256];
} tack_bt_result;

/* Frees the curve, the trades, each symbol's markers and prices and the
 * symbols; safe on a zeroed struct (and NULL); leaves r zeroed. */
void tack_bt_result_free(tack_bt_result *r);

#endif
