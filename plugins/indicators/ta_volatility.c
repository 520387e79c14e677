/*
 * ta_volatility.c: ranges and dispersion: TRANGE, ATR, NATR, VAR/STDDEV,
 * BBANDS, and the channels TA-Lib lacks (Donchian, Keltner, SuperTrend).
 */
#include <math.h>

#include "ta.h"

void ta_trange_init(ta_trange *s) {
  s->prev_close = 0.0;
  s->count = 0;
}

int ta_trange_update(ta_trange *s, double h, double l, double c, int commit, double *out) {
  int ready = s->count > 0;
  if (ready)
    *out = ta_true_range(h, l, s->prev_close);
  if (commit) {
    s->prev_close = c;
    s->count = 1;
  }
  return ready;
}

void ta_atr_init(ta_atr *s, int n) {
  s->prev_close = 0.0;
  s->atr = 0.0;
  s->dn = (double)n;
  s->dn1 = (double)(n - 1);
  s->inv = 1.0 / (double)n;
  s->n = n;
  s->count = 0;
}

int ta_natr_update(ta_atr *s, double h, double l, double c, int commit, double *out) {
  double atr;
  if (!ta_atr_update(s, h, l, c, commit, &atr))
    return 0;
  *out = !TA_IS_ZERO(c) ? (atr / c) * 100.0 : 0.0;
  return 1;
}

void ta_var_init(ta_var *s, int n, ta_arena *a) {
  s->ring = ta_arena_take(a, sizeof(double) * (size_t)n);
  s->s1 = 0.0;
  s->s2 = 0.0;
  s->dn = (double)n;
  s->n = n;
  s->pos = 0;
  s->count = 0;
}

/* E[x²] − E[x]² from running sums, in TA-Lib's order: the same sums make the
 * same cancellation, so flat windows give TA-Lib's tiny residues. */
int ta_var_update(ta_var *s, double x, int commit, double *out) {
  double t1 = s->s1 + x;
  double t2 = s->s2 + x * x;
  int ready = s->count >= s->n - 1;
  if (ready) {
    double m1 = t1 / s->dn;
    double m2 = t2 / s->dn;
    *out = m2 - m1 * m1;
  }
  if (commit) {
    s->ring[s->pos] = x;
    s->pos = s->pos + 1 == s->n ? 0 : s->pos + 1;
    if (ready) {
      double old = s->ring[s->pos];
      t1 -= old;
      t2 -= old * old;
    } else {
      s->count++;
    }
    s->s1 = t1;
    s->s2 = t2;
  }
  return ready;
}

static double var_to_stddev(double var) { return !TA_IS_ZERO_OR_NEG(var) ? sqrt(var) : 0.0; }

void ta_stddev_init(ta_stddev *s, int n, double nbdev, ta_arena *a) {
  ta_var_init(&s->var, n, a);
  s->nbdev = nbdev;
}

int ta_stddev_update(ta_stddev *s, double x, int commit, double *out) {
  double var;
  if (!ta_var_update(&s->var, x, commit, &var))
    return 0;
  *out = var_to_stddev(var) * s->nbdev;
  return 1;
}

void ta_bbands_init(ta_bbands *s, int n, double up, double dn, int ma_type, ta_arena *a) {
  ta_ma_init(&s->ma, ma_type, n, a);
  ta_var_init(&s->var, n, a);
  s->up = up;
  s->dn = dn;
}

/*
 * With an SMA middle TA-Lib takes the deviation around the SMA it just
 * computed; that SMA is the same sum over n as VAR's mean, so one variance
 * kernel serves every MA type. Multiplying by a deviation of exactly 1.0
 * changes nothing, which covers TA-Lib's special cases for it.
 */
int ta_bbands_update(ta_bbands *s, double x, int commit, double out[3]) {
  double var = 0.0, mid, sd;
  int have_var = ta_var_update(&s->var, x, commit, &var);
  if (!ta_ma_update(&s->ma, x, commit, &mid) || !have_var)
    return 0;
  sd = var_to_stddev(var);
  out[0] = mid + sd * s->up;
  out[1] = mid;
  out[2] = mid - sd * s->dn;
  return 1;
}

void ta_donchian_init(ta_donchian *s, int n, ta_arena *a) {
  ta_winmax_init(&s->hi, (uint32_t)n, a);
  ta_winmax_init(&s->lo, (uint32_t)n, a);
  s->count = 0;
  s->n = n;
}

int ta_donchian_update(ta_donchian *s, double h, double l, int commit, double out[3]) {
  int ready = s->count >= s->n - 1;
  double hh, ll;
  ta_hilo(&s->hi, &s->lo, h, l, commit, &hh, &ll);
  if (commit && !ready)
    s->count++;
  if (!ready)
    return 0;
  out[0] = hh;
  out[1] = (hh + ll) / 2.0;
  out[2] = ll;
  return 1;
}

void ta_keltner_init(ta_keltner *s, int n, int atr_n, double mult) {
  ta_ema_init(&s->ema, n);
  ta_atr_init(&s->atr, atr_n);
  s->mult = mult;
}

int ta_keltner_update(ta_keltner *s, double h, double l, double c, double x, int commit,
                      double out[3]) {
  double mid = 0.0, atr, band;
  int have_mid = ta_ema_update(&s->ema, x, commit, &mid);
  if (!ta_atr_update(&s->atr, h, l, c, commit, &atr) || !have_mid)
    return 0;
  band = s->mult * atr;
  out[0] = mid + band;
  out[1] = mid;
  out[2] = mid - band;
  return 1;
}

void ta_supertrend_init(ta_supertrend *s, int n, double mult) {
  ta_atr_init(&s->atr, n);
  s->mult = mult;
  s->upper = 0.0;
  s->lower = 0.0;
  s->prev_close = 0.0;
  s->dir = -1;
  s->started = 0;
}

/*
 * Bands at hl2 ± mult·ATR. A final band only tightens while the previous
 * close stayed inside it (the usual carry rule); the trend flips up when the
 * close rises above the upper band and down when it falls below the lower.
 * The first bar with an ATR starts in a downtrend, as TradingView does.
 */
int ta_supertrend_update(ta_supertrend *s, double h, double l, double c, int commit,
                         double out[2]) {
  double atr, hl2, band, upper, lower;
  int dir;
  if (!ta_atr_update(&s->atr, h, l, c, commit, &atr)) {
    if (commit)
      s->prev_close = c;
    return 0;
  }
  hl2 = (h + l) / 2.0;
  band = s->mult * atr;
  upper = hl2 + band;
  lower = hl2 - band;
  if (!s->started) {
    dir = -1;
  } else {
    if (!(upper < s->upper || s->prev_close > s->upper))
      upper = s->upper;
    if (!(lower > s->lower || s->prev_close < s->lower))
      lower = s->lower;
    if (s->dir < 0)
      dir = c > upper ? 1 : -1;
    else
      dir = c < lower ? -1 : 1;
  }
  out[0] = dir > 0 ? lower : upper;
  out[1] = (double)dir;
  if (commit) {
    s->upper = upper;
    s->lower = lower;
    s->prev_close = c;
    s->dir = dir;
    s->started = 1;
  }
  return 1;
}
