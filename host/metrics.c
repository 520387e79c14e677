/*
 * metrics.c: the figures of a backtest (metrics.h, docs/metrics.md): the
 * per-bar accumulator (drawdown, exposure, interval equities, the thinned
 * equity curve), the metrics computed from it and the trades, the thinned
 * price series, the Monte Carlo resampling of the trades, and freeing a
 * tack_bt_result.
 *
 * The bar path is the hot one (called once per bar time in backtests of
 * millions of bars): a few compares and multiplies, no division, no libm,
 * no allocation but the amortized growth of the interval equities. The
 * deepest drawdown is kept as a (peak, low) pair compared by cross
 * multiplication, the curve's drawdown is divided out only for the points
 * kept, and the interval returns are divided out by tack_metrics_finish().
 */
#include "metrics.h"
#include "prng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "utc.h"

#define NS TACK_NS_PER_SEC
#define SECONDS_PER_DAY 86400.0

/* The curve keeps grid points evenly spaced in bars, plus the newest bar
 * when it is not on the grid: one slot is left for it. */
#define CURVE_GRID_MAX (TACK_BT_MAX_POINTS - 1u)
_Static_assert(TACK_BT_MAX_POINTS % 2u == 0 && TACK_BT_MAX_POINTS >= 4u,
               "curve compaction keeps every second point of an odd-sized grid");
_Static_assert(TACK_BT_MAX_CANDLES % 2u == 0 && TACK_BT_MAX_CANDLES >= 2u,
               "candles merge in pairs");

#define MC_BINS 20u
_Static_assert(sizeof(((tack_bt_mc *)0)->return_hist) / sizeof(uint32_t) == MC_BINS,
               "Monte Carlo histogram size");

static const double mc_pcts[TACK_BT_PCTS] = {5, 25, 50, 75, 95};

/* ------------------------------------------------------------------------ */
/* The accumulator                                                          */
/* ------------------------------------------------------------------------ */

int tack_metrics_acc_init(tack_metrics_acc *a, const tack_bt_settings *s, uint32_t bar_s,
                          double start_equity) {
  memset(a, 0, sizeof *a);
  if (!s || bar_s == 0 || !(start_equity > 0) || !isfinite(start_equity) || !(s->year_days > 0) ||
      !isfinite(s->year_days) || !(s->risk_free > -1) || !isfinite(s->risk_free))
    return TACK_EINVAL;
  a->curve = tack_alloc(NULL, TACK_BT_MAX_POINTS * sizeof *a->curve);
  if (!a->curve)
    return TACK_ENOMEM;
  a->settings = *s;
  a->bar_s = bar_s;
  /* Returns cannot be measured over less than a bar. */
  a->interval_s = s->return_interval_s < bar_s ? bar_s : s->return_interval_s;
  a->start_equity = start_equity;
  a->last_equity = start_equity;
  a->peak = start_equity;
  a->interval_start_equity = start_equity;
  a->max_dd_peak = 1.0; /* low / peak = 1: no drawdown yet */
  a->max_dd_low = 1.0;
  a->curve_per = 1;
  return 0;
}

void tack_metrics_acc_free(tack_metrics_acc *a) {
  if (!a)
    return;
  tack_free(NULL, a->returns);
  tack_free(NULL, a->curve);
  memset(a, 0, sizeof *a);
}

static int grow_returns(tack_metrics_acc *a) {
  size_t cap = a->cap_returns ? a->cap_returns * 2 : 256;
  if (cap > SIZE_MAX / sizeof *a->returns)
    return TACK_ENOMEM;
  double *r = tack_realloc(NULL, a->returns, cap * sizeof *r);
  if (!r)
    return TACK_ENOMEM;
  a->returns = r;
  a->cap_returns = cap;
  return 0;
}

/* Keeps every second grid point (the first among them) and doubles the
 * spacing: memory stays flat while the curve still spans the whole run. */
static void compact_curve(tack_metrics_acc *a) {
  for (size_t k = 1; k < TACK_BT_MAX_POINTS / 2u; k++)
    a->curve[k] = a->curve[2 * k];
  a->n_curve = TACK_BT_MAX_POINTS / 2u;
  a->curve_per *= 2;
}

int tack_metrics_acc_bar(tack_metrics_acc *a, tack_time ts, double equity, int exposed) {
  const tack_time bar_ns = (tack_time)a->bar_s * NS;
  const tack_time close = ts + bar_ns;
  if (!a->curve || !isfinite(equity))
    return TACK_EINVAL;
  if (a->bars == 0) {
    const tack_time iv = (tack_time)a->interval_s * NS;
    a->first_ts = ts;
    a->peak_ts = ts;
    a->interval_start_ts = ts;
    a->next_boundary = (tack_floor_div(ts, iv) + 1) * iv;
  } else if (ts <= a->last_ts - bar_ns) {
    return TACK_EINVAL;
  }

  if (close >= a->next_boundary) {
    if (a->n_returns == a->cap_returns && grow_returns(a) != 0)
      return TACK_ENOMEM;
    const tack_time iv = (tack_time)a->interval_s * NS;
    a->returns[a->n_returns++] = equity;
    a->interval_start_equity = equity;
    a->interval_start_ts = close;
    a->next_boundary += iv;
    if (a->next_boundary <= close) /* a gap in the bars: skip whole intervals */
      a->next_boundary = (tack_floor_div(close, iv) + 1) * iv;
  }

  a->bars++;
  a->exposed += exposed != 0;
  if (equity >= a->peak) {
    if (a->last_equity < a->peak) { /* back at the peak: the time under water ends */
      int64_t under = (close - a->peak_ts) / NS;
      if (under > a->longest_under_s)
        a->longest_under_s = under;
      if (a->in_max_dd) {
        a->max_dd_end = close;
        a->in_max_dd = 0;
      }
    }
    a->peak = equity;
    a->peak_ts = close;
  } else if (equity * a->max_dd_peak < a->max_dd_low * a->peak) {
    /* equity / peak < max_dd_low / max_dd_peak: deeper than any before. */
    a->max_dd_peak = a->peak;
    a->max_dd_low = equity;
    a->max_dd_start = a->peak_ts;
    a->max_dd_trough = close;
    a->max_dd_end = 0;
    a->in_max_dd = 1;
  }
  a->last_equity = equity;
  a->last_ts = close;

  if (++a->curve_pending == a->curve_per) {
    if (a->n_curve == CURVE_GRID_MAX) {
      /* This bar falls between two points of the doubled grid; it stays
       * pending (curve_pending is half the new spacing). */
      compact_curve(a);
    } else {
      tack_bt_point *p = &a->curve[a->n_curve++];
      p->ts = close;
      p->equity = equity;
      p->drawdown = equity / a->peak - 1.0;
      a->curve_pending = 0;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The metrics                                                              */
/* ------------------------------------------------------------------------ */

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* The lower empirical quantile of sorted v[0..n-1] (n > 0) at pct percent:
 * v[floor(pct * (n - 1) / 100)], in integers so that no rounding moves it. */
static size_t quantile_index(size_t n, unsigned pct) {
  return (size_t)(((uint64_t)(n - 1) * pct) / 100u);
}

/* Interval returns from the interval-end equities, plus the last partial
 * interval when a bar came after the last interval end. An interval that
 * starts at an equity of zero or below returns 0 (nothing left to lose). */
static double interval_return(double from, double to) { return from > 0 ? to / from - 1.0 : 0.0; }

static size_t interval_returns(const tack_metrics_acc *a, double *r) {
  size_t n = a->n_returns;
  double prev = a->start_equity;
  for (size_t i = 0; i < n; i++) {
    r[i] = interval_return(prev, a->returns[i]);
    prev = a->returns[i];
  }
  if (a->bars > 0 && a->last_ts > a->interval_start_ts)
    r[n++] = interval_return(prev, a->last_equity);
  return n;
}

static void return_metrics(const tack_metrics_acc *a, double *r, size_t n, tack_bt_metrics *m) {
  const double per_year = a->settings.year_days * SECONDS_PER_DAY / (double)a->interval_s;
  const double rf = pow(1.0 + a->settings.risk_free, 1.0 / per_year) - 1.0;
  const double annual = sqrt(per_year);
  m->intervals = n;
  m->return_interval_s = a->interval_s;
  m->intervals_per_year = per_year;
  m->volatility = m->sharpe = m->sortino = m->var95 = m->cvar95 = NAN;
  if (n == 0)
    return;

  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += r[i];
  const double mean = sum / (double)n;
  double ss = 0, down = 0;
  for (size_t i = 0; i < n; i++) {
    double d = r[i] - mean, below = r[i] - rf;
    ss += d * d;
    if (below < 0)
      down += below * below;
  }
  if (n >= 2) {
    const double sd = sqrt(ss / (double)(n - 1));
    const double dsd = sqrt(down / (double)n);
    m->volatility = sd * annual;
    if (sd > 0)
      m->sharpe = (mean - rf) / sd * annual;
    if (dsd > 0)
      m->sortino = (mean - rf) / dsd * annual;
  }

  qsort(r, n, sizeof *r, cmp_double);
  const double q = r[quantile_index(n, 5)];
  double tail = 0;
  size_t k = 0;
  while (k < n && r[k] <= q)
    tail += r[k++];
  tail /= (double)k;
  m->var95 = q < 0 ? -q : 0.0;
  m->cvar95 = tail < 0 ? -tail : 0.0;
}

static void trade_metrics(const tack_bt_trade *trades, size_t n, tack_bt_metrics *m) {
  double won = 0, lost = 0;
  m->trades = n;
  for (size_t i = 0; i < n; i++) {
    if (trades[i].pnl > 0) {
      m->wins++;
      won += trades[i].pnl;
    } else if (trades[i].pnl < 0) {
      m->losses++;
      lost += trades[i].pnl;
    }
  }
  m->win_rate = n ? (double)m->wins / (double)n : NAN;
  m->expectancy = n ? (won + lost) / (double)n : NAN;
  m->avg_win = m->wins ? won / (double)m->wins : NAN;
  m->avg_loss = m->losses ? lost / (double)m->losses : NAN;
  if (m->losses)
    m->profit_factor = won / -lost;
  else
    m->profit_factor = m->wins ? INFINITY : NAN;
}

int tack_metrics_finish(tack_metrics_acc *a, const tack_bt_trade *trades, size_t n_trades,
                        double fees, tack_bt_metrics *m, tack_bt_point **curve, size_t *n_curve) {
  if (curve && !a->curve)
    return TACK_ESTATE;
  double *r = tack_alloc(NULL, (a->n_returns + 1) * sizeof *r);
  if (!r)
    return TACK_ENOMEM;

  memset(m, 0, sizeof *m);
  if (a->bars > 0) {
    m->start = a->first_ts;
    m->end = a->last_ts;
  }
  const double year_s = a->settings.year_days * SECONDS_PER_DAY;
  m->years = (double)(m->end - m->start) / (double)NS / year_s;
  m->start_equity = a->start_equity;
  m->end_equity = a->last_equity;
  m->total_return = a->last_equity / a->start_equity - 1.0;
  if (m->years > 0)
    m->cagr =
        a->last_equity > 0 ? pow(a->last_equity / a->start_equity, 1.0 / m->years) - 1.0 : -1.0;
  else
    m->cagr = NAN;

  a->max_dd = 1.0 - a->max_dd_low / a->max_dd_peak;
  m->max_drawdown = a->max_dd;
  m->calmar = m->max_drawdown > 0 ? m->cagr / m->max_drawdown : NAN;
  if (m->max_drawdown > 0) {
    m->max_drawdown_start = a->max_dd_start;
    m->max_drawdown_trough = a->max_dd_trough;
    m->max_drawdown_end = a->in_max_dd ? 0 : a->max_dd_end;
  }
  m->max_drawdown_duration_s = a->longest_under_s;
  if (a->bars > 0 && a->last_equity < a->peak) {
    int64_t under = (a->last_ts - a->peak_ts) / NS;
    if (under > m->max_drawdown_duration_s)
      m->max_drawdown_duration_s = under;
  }
  m->exposure = a->bars ? (double)a->exposed / (double)a->bars : NAN;

  trade_metrics(trades, n_trades, m);
  m->fees = fees;
  return_metrics(a, r, interval_returns(a, r), m);
  tack_free(NULL, r);

  if (a->curve) {
    /* The newest bar, when it is not on the grid. */
    if (a->bars > 0 && a->curve_pending > 0) {
      tack_bt_point *p = &a->curve[a->n_curve++];
      p->ts = a->last_ts;
      p->equity = a->last_equity;
      p->drawdown = a->last_equity / a->peak - 1.0;
      a->curve_pending = 0;
    }
  }
  if (curve) {
    *curve = a->curve;
    a->curve = NULL;
  }
  if (n_curve)
    *n_curve = a->n_curve;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Price thinning                                                           */
/* ------------------------------------------------------------------------ */

int tack_bt_candles_init(tack_bt_candles *c) {
  memset(c, 0, sizeof *c);
  c->items = tack_alloc(NULL, TACK_BT_MAX_CANDLES * sizeof *c->items);
  if (!c->items)
    return TACK_ENOMEM;
  c->per = 1;
  return 0;
}

static void merge_candle(tack_bt_candle *into, double high, double low, double close) {
  if (high > into->high)
    into->high = high;
  if (low < into->low)
    into->low = low;
  into->close = close;
}

void tack_bt_candles_push(tack_bt_candles *c, const tack_bar *bar) {
  if (!c->items)
    return;
  if (c->n > 0 && c->pending < c->per) {
    merge_candle(&c->items[c->n - 1], bar->high, bar->low, bar->close);
    c->pending++;
    return;
  }
  if (c->n == TACK_BT_MAX_CANDLES) {
    /* Every candle is complete here: pairs make candles of twice the bars. */
    for (size_t k = 0; k < TACK_BT_MAX_CANDLES / 2u; k++) {
      tack_bt_candle m = c->items[2 * k];
      const tack_bt_candle *b = &c->items[2 * k + 1];
      merge_candle(&m, b->high, b->low, b->close);
      c->items[k] = m;
    }
    c->n = TACK_BT_MAX_CANDLES / 2u;
    c->per *= 2;
  }
  tack_bt_candle *nc = &c->items[c->n++];
  nc->ts = bar->ts;
  nc->open = bar->open;
  nc->high = bar->high;
  nc->low = bar->low;
  nc->close = bar->close;
  c->pending = 1;
}

void tack_bt_candles_free(tack_bt_candles *c) {
  if (!c)
    return;
  tack_free(NULL, c->items);
  memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------------ */
/* Monte Carlo                                                              */
/* ------------------------------------------------------------------------ */

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
typedef struct rng {
  uint64_t s[4];
} rng;

static void rng_seed(rng *g, uint64_t seed) { tack_xoshiro_seed(g->s, seed); }

static uint64_t rng_next(rng *g) { return tack_xoshiro(g->s); }

/* An index below n: the high 32 bits scaled by n (Lemire), no division. */
static size_t rng_below(rng *g, size_t n) {
  uint64_t x = rng_next(g);
  if ((uint64_t)n <= UINT32_MAX)
    return (size_t)(((x >> 32) * (uint64_t)n) >> 32);
  return (size_t)(x % (uint64_t)n);
}

/* lo, hi: the range of v; each value into one of MC_BINS equal bins (all in
 * the first when every value is the same). */
static void histogram(const double *sorted, size_t n, double *lo, double *hi, uint32_t *bins) {
  memset(bins, 0, MC_BINS * sizeof *bins);
  *lo = sorted[0];
  *hi = sorted[n - 1];
  const double width = *hi - *lo;
  for (size_t i = 0; i < n; i++) {
    size_t b = 0;
    if (width > 0) {
      b = (size_t)((sorted[i] - *lo) / width * MC_BINS);
      if (b >= MC_BINS)
        b = MC_BINS - 1;
    }
    bins[b]++;
  }
}

int tack_metrics_monte_carlo(const tack_bt_trade *trades, size_t n_trades, double start_equity,
                             const tack_bt_settings *s, tack_bt_mc *out) {
  int rc = 0;
  double *tr = NULL, *total = NULL, *dd = NULL;
  memset(out, 0, sizeof *out);
  out->runs = s->mc_runs;
  out->seed = s->mc_seed;
  for (unsigned p = 0; p < TACK_BT_PCTS; p++) {
    out->pct[p] = mc_pcts[p];
    out->total_return[p] = out->max_drawdown[p] = NAN;
  }
  out->prob_loss = out->return_lo = out->return_hi = out->dd_lo = out->dd_hi = NAN;
  if (s->mc_runs == 0)
    return 0;

  size_t runs = s->mc_runs;
  tr = tack_alloc(NULL, (n_trades ? n_trades : 1) * sizeof *tr);
  total = tack_alloc(NULL, runs * sizeof *total);
  dd = tack_alloc(NULL, runs * sizeof *dd);
  if (!tr || !total || !dd) {
    rc = TACK_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < n_trades; i++) {
    double base = trades[i].equity_at_entry;
    if (!(base > 0) || !isfinite(base))
      base = start_equity;
    tr[i] = trades[i].pnl / base;
  }

  rng g;
  rng_seed(&g, s->mc_seed);
  size_t losers = 0;
  for (size_t run = 0; run < runs; run++) {
    /* Equity as a multiple of the start; worst is the lowest equity / peak. */
    double eq = 1.0, peak = 1.0, worst = 1.0;
    for (size_t k = 0; k < n_trades; k++) {
      eq *= 1.0 + tr[rng_below(&g, n_trades)];
      if (eq <= 0) { /* ruined: nothing left to compound */
        eq = 0;
        worst = 0;
        break;
      }
      if (eq > peak)
        peak = eq;
      else if (eq < peak * worst)
        worst = eq / peak;
    }
    total[run] = eq - 1.0;
    dd[run] = 1.0 - worst;
    losers += eq < 1.0;
  }
  out->prob_loss = (double)losers / (double)runs;

  qsort(total, runs, sizeof *total, cmp_double);
  qsort(dd, runs, sizeof *dd, cmp_double);
  for (unsigned p = 0; p < TACK_BT_PCTS; p++) {
    size_t i = quantile_index(runs, (unsigned)mc_pcts[p]);
    out->total_return[p] = total[i];
    out->max_drawdown[p] = dd[i];
  }
  histogram(total, runs, &out->return_lo, &out->return_hi, out->return_hist);
  histogram(dd, runs, &out->dd_lo, &out->dd_hi, out->dd_hist);

done:
  tack_free(NULL, tr);
  tack_free(NULL, total);
  tack_free(NULL, dd);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* The result                                                               */
/* ------------------------------------------------------------------------ */

void tack_bt_result_free(tack_bt_result *r) {
  if (!r)
    return;
  tack_free(NULL, r->curve);
  tack_free(NULL, r->trades);
  if (r->symbols) {
    for (size_t i = 0; i < r->n_symbols; i++) {
      tack_free(NULL, r->symbols[i].markers);
      tack_bt_candles_free(&r->symbols[i].prices);
    }
  }
  tack_free(NULL, r->symbols);
  memset(r, 0, sizeof *r);
}
