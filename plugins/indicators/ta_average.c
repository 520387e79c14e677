/*
 * ta_average.c: moving averages (SMA, EMA, WMA, DEMA, TEMA, KAMA) and the
 * MA-by-type switch that STOCH, STOCHRSI and BBANDS smooth with.
 */
#include <math.h>

#include "ta.h"

void ta_sma_init(ta_sma *s, int n, ta_arena *a) {
  s->ring = ta_arena_take(a, sizeof(double) * (size_t)n);
  s->sum = 0.0;
  s->dn = (double)n;
  s->n = n;
  s->pos = 0;
  s->count = 0;
}

void ta_ema_init(ta_ema *s, int n) {
  s->k = 2.0 / (double)(n + 1);
  s->prev = 0.0;
  s->dn = (double)n;
  s->n = n;
  s->count = 0;
}

void ta_wma_init(ta_wma *s, int n, ta_arena *a) {
  s->ring = ta_arena_take(a, sizeof(double) * (size_t)n);
  s->sum = 0.0;
  s->sub = 0.0;
  s->trailing = 0.0;
  s->divider = (double)((n * (n + 1)) >> 1);
  s->dn = (double)n;
  s->n = n;
  s->pos = 0;
  s->count = 0;
}

/*
 * TA-Lib's WMA keeps the weighted sum and the plain sum of the window; each
 * bar adds n·x, outputs, then subtracts the plain sum (which lowers every
 * weight by one). `trailing` is the input that leaves the plain sum on the
 * next bar. The oldest input of the window sits in the slot after this bar's
 * (n >= 2, so that slot is never this bar's own).
 */
int ta_wma_update(ta_wma *s, double x, int commit, double *out) {
  double sum, sub, trailing;
  int next = s->pos + 1 == s->n ? 0 : s->pos + 1;
  if (s->count < s->n - 1) {
    if (commit) {
      s->sub += x;
      s->sum += x * (double)(s->count + 1);
      s->ring[s->pos] = x;
      s->pos = next;
      s->count++;
    }
    return 0;
  }
  sub = s->sub + x;
  sub -= s->trailing;
  sum = s->sum + x * s->dn;
  trailing = s->ring[next];
  *out = sum / s->divider;
  if (commit) {
    s->sum = sum - sub;
    s->sub = sub;
    s->trailing = trailing;
    s->ring[s->pos] = x;
    s->pos = next;
  }
  return 1;
}

void ta_dema_init(ta_dema *s, int n) {
  ta_ema_init(&s->e1, n);
  ta_ema_init(&s->e2, n);
}

int ta_dema_update(ta_dema *s, double x, int commit, double *out) {
  double a, b;
  if (!ta_ema_update(&s->e1, x, commit, &a))
    return 0;
  if (!ta_ema_update(&s->e2, a, commit, &b))
    return 0;
  *out = (2.0 * a) - b;
  return 1;
}

void ta_tema_init(ta_tema *s, int n) {
  ta_ema_init(&s->e1, n);
  ta_ema_init(&s->e2, n);
  ta_ema_init(&s->e3, n);
}

int ta_tema_update(ta_tema *s, double x, int commit, double *out) {
  double a, b, c;
  if (!ta_ema_update(&s->e1, x, commit, &a))
    return 0;
  if (!ta_ema_update(&s->e2, a, commit, &b))
    return 0;
  if (!ta_ema_update(&s->e3, b, commit, &c))
    return 0;
  *out = c + ((3.0 * a) - (3.0 * b));
  return 1;
}

void ta_kama_init(ta_kama *s, int n, ta_arena *a) {
  s->ring = ta_arena_take(a, sizeof(double) * (size_t)n);
  s->sum_roc = 0.0;
  s->prev_x = 0.0;
  s->trailing = 0.0;
  s->kama = 0.0;
  s->n = n;
  s->pos = 0;
  s->count = 0;
}

/*
 * TA-Lib's KAMA: the efficiency ratio is |x − x[n bars ago]| over the sum of
 * the n absolute one-bar changes, taken as 1 when the sum is zero or not
 * above the (signed) change. The first value, at bar n, starts from x[n-1].
 * The ring holds the last n inputs; before this bar is written its slot holds
 * the input n bars back.
 */
int ta_kama_update(ta_kama *s, double x, int commit, double *out) {
  static const double fastest = 2.0 / (2.0 + 1.0);
  static const double slowest = 2.0 / (30.0 + 1.0);
  double sum_roc, oldest, roc, er, sc, prev_kama, kama;
  if (s->count < s->n) {
    if (commit) {
      if (s->count > 0)
        s->sum_roc += fabs(s->prev_x - x);
      s->prev_x = x;
      s->ring[s->pos] = x;
      s->pos = s->pos + 1 == s->n ? 0 : s->pos + 1;
      s->count++;
    }
    return 0;
  }
  oldest = s->ring[s->pos];
  roc = x - oldest;
  if (s->count == s->n) {
    sum_roc = s->sum_roc + fabs(s->prev_x - x);
    prev_kama = s->prev_x;
  } else {
    sum_roc = s->sum_roc - fabs(s->trailing - oldest);
    sum_roc += fabs(x - s->prev_x);
    prev_kama = s->kama;
  }
  if ((sum_roc <= roc) || TA_IS_ZERO(sum_roc))
    er = 1.0;
  else
    er = fabs(roc / sum_roc);
  sc = (er * (fastest - slowest)) + slowest;
  sc *= sc;
  kama = ((x - prev_kama) * sc) + prev_kama;
  *out = kama;
  if (commit) {
    s->sum_roc = sum_roc;
    s->trailing = oldest;
    s->prev_x = x;
    s->kama = kama;
    s->ring[s->pos] = x;
    s->pos = s->pos + 1 == s->n ? 0 : s->pos + 1;
    if (s->count == s->n)
      s->count++;
  }
  return 1;
}

void ta_ma_init(ta_ma *m, int type, int n, ta_arena *a) {
  m->type = type;
  m->n = n;
  if (n == 1)
    return;
  switch (type) {
  case TA_MA_EMA:
    ta_ema_init(&m->u.ema, n);
    break;
  case TA_MA_WMA:
    ta_wma_init(&m->u.wma, n, a);
    break;
  case TA_MA_DEMA:
    ta_dema_init(&m->u.dema, n);
    break;
  case TA_MA_TEMA:
    ta_tema_init(&m->u.tema, n);
    break;
  case TA_MA_KAMA:
    ta_kama_init(&m->u.kama, n, a);
    break;
  default:
    ta_sma_init(&m->u.sma, n, a);
    break;
  }
}

int ta_ma_update(ta_ma *m, double x, int commit, double *out) {
  if (m->n == 1) {
    *out = x;
    return 1;
  }
  switch (m->type) {
  case TA_MA_EMA:
    return ta_ema_update(&m->u.ema, x, commit, out);
  case TA_MA_WMA:
    return ta_wma_update(&m->u.wma, x, commit, out);
  case TA_MA_DEMA:
    return ta_dema_update(&m->u.dema, x, commit, out);
  case TA_MA_TEMA:
    return ta_tema_update(&m->u.tema, x, commit, out);
  case TA_MA_KAMA:
    return ta_kama_update(&m->u.kama, x, commit, out);
  default:
    return ta_sma_update(&m->u.sma, x, commit, out);
  }
}

int ta_ma_lookback(int type, int n) {
  if (n == 1)
    return 0;
  switch (type) {
  case TA_MA_DEMA:
    return 2 * (n - 1);
  case TA_MA_TEMA:
    return 3 * (n - 1);
  case TA_MA_KAMA:
    return n;
  default:
    return n - 1;
  }
}
