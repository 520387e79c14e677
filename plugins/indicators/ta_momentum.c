/*
 * ta_momentum.c: oscillators and momentum: RSI, STOCHRSI, STOCH, MACD,
 * WILLR, CCI, MFI, MOM/ROC/ROCP and AROON/AROONOSC.
 */
#include <math.h>

#include "ta.h"

void ta_rsi_init(ta_rsi *s, int n) {
  s->gain = 0.0;
  s->loss = 0.0;
  s->prev = 0.0;
  s->dn = (double)n;
  s->dn1 = (double)(n - 1);
  s->inv = 1.0 / (double)n;
  s->n = n;
  s->count = 0;
}

void ta_fastk_init(ta_fastk *s, int n, ta_arena *a) {
  ta_winmax_init(&s->hi, (uint32_t)n, a);
  ta_winmax_init(&s->lo, (uint32_t)n, a);
}

/* TA-Lib divides by (highest − lowest)/100 rather than multiplying by 100;
 * the same order keeps the same last bit. */
double ta_fastk_update(ta_fastk *s, double high, double low, double x, int commit) {
  double hh, ll, diff;
  ta_hilo(&s->hi, &s->lo, high, low, commit, &hh, &ll);
  diff = (hh - ll) / 100.0;
  return diff != 0.0 ? (x - ll) / diff : 0.0;
}

void ta_stochrsi_init(ta_stochrsi *s, int n, int fastk, int fastd, int fastd_type, ta_arena *a) {
  ta_rsi_init(&s->rsi, n);
  ta_fastk_init(&s->k, fastk, a);
  ta_ma_init(&s->d, fastd_type, fastd, a);
  s->fastk_n = fastk;
  s->count = 0;
}

int ta_stochrsi_update(ta_stochrsi *s, double x, int commit, double out[2]) {
  double r, k, d;
  if (!ta_rsi_step(&s->rsi, x, commit, 1, &r))
    return 0;
  k = ta_fastk_update(&s->k, r, r, r, commit);
  if (s->count < s->fastk_n - 1) {
    if (commit)
      s->count++;
    return 0;
  }
  if (!ta_ma_update(&s->d, k, commit, &d))
    return 0;
  out[0] = k;
  out[1] = d;
  return 1;
}

void ta_stoch_init(ta_stoch *s, int fastk, int slowk, int slowk_type, int slowd, int slowd_type,
                   ta_arena *a) {
  ta_fastk_init(&s->k, fastk, a);
  ta_ma_init(&s->slowk, slowk_type, slowk, a);
  ta_ma_init(&s->slowd, slowd_type, slowd, a);
  s->fastk_n = fastk;
  s->count = 0;
}

int ta_stoch_update(ta_stoch *s, double h, double l, double c, int commit, double out[2]) {
  double k, sk, sd;
  k = ta_fastk_update(&s->k, h, l, c, commit);
  if (s->count < s->fastk_n - 1) {
    if (commit)
      s->count++;
    return 0;
  }
  if (!ta_ma_update(&s->slowk, k, commit, &sk))
    return 0;
  if (!ta_ma_update(&s->slowd, sk, commit, &sd))
    return 0;
  out[0] = sk;
  out[1] = sd;
  return 1;
}

void ta_macd_init(ta_macd *s, int fast, int slow, int signal) {
  if (slow < fast) {
    int t = slow;
    slow = fast;
    fast = t;
  }
  ta_ema_init(&s->fast, fast);
  ta_ema_init(&s->slow, slow);
  ta_ema_init(&s->signal, signal);
  s->skip = slow - fast;
  s->count = 0;
}

void ta_willr_init(ta_willr *s, int n, ta_arena *a) {
  ta_winmax_init(&s->hi, (uint32_t)n, a);
  ta_winmax_init(&s->lo, (uint32_t)n, a);
  s->count = 0;
  s->n = n;
}

int ta_willr_update(ta_willr *s, double h, double l, double c, int commit, double *out) {
  int ready = s->count >= s->n - 1;
  double hh, ll, diff;
  ta_hilo(&s->hi, &s->lo, h, l, commit, &hh, &ll);
  if (commit && !ready)
    s->count++;
  if (!ready)
    return 0;
  diff = (hh - ll) / (-100.0);
  *out = diff != 0.0 ? (hh - c) / diff : 0.0;
  return 1;
}

void ta_cci_init(ta_cci *s, int n, ta_arena *a) {
  s->ring = ta_arena_take(a, sizeof(double) * (size_t)n);
  s->dn = (double)n;
  s->n = n;
  s->pos = 0;
  s->count = 0;
}

/*
 * Sums run over the ring in slot order, as TA-Lib's circular buffer does:
 * in a flat window the mean differs from the last price by a rounding
 * residue, and TA-Lib's value there depends on that residue. A provisional
 * bar is written into its slot for the sums and the slot is restored.
 */
int ta_cci_update(ta_cci *s, double h, double l, double c, int commit, double *out) {
  double tp = (h + l + c) / 3;
  double saved = s->ring[s->pos];
  double avg = 0.0, dev = 0.0, diff;
  int j, ready = s->count >= s->n - 1;
  s->ring[s->pos] = tp;
  if (ready) {
    for (j = 0; j < s->n; j++)
      avg += s->ring[j];
    avg /= s->dn;
    for (j = 0; j < s->n; j++)
      dev += fabs(s->ring[j] - avg);
    diff = tp - avg;
    if ((diff != 0.0) && (dev != 0.0))
      *out = diff / (0.015 * (dev / s->dn));
    else
      *out = 0.0;
  }
  if (commit) {
    s->pos = s->pos + 1 == s->n ? 0 : s->pos + 1;
    if (!ready)
      s->count++;
  } else {
    s->ring[s->pos] = saved;
  }
  return ready;
}

void ta_mfi_init(ta_mfi *s, int n, ta_arena *a) {
  s->pos_mf = ta_arena_take(a, sizeof(double) * (size_t)n);
  s->neg_mf = ta_arena_take(a, sizeof(double) * (size_t)n);
  s->pos_sum = 0.0;
  s->neg_sum = 0.0;
  s->prev_tp = 0.0;
  s->n = n;
  s->idx = 0;
  s->count = 0;
}

/*
 * Bar t >= 1 writes its positive or negative flow into slot (t-1) mod n.
 * Once the ring is full the slot's old flows leave the sums first. A window
 * whose total flow is below 1 (no volume, or a flat price) gives 0, as in
 * TA-Lib.
 */
int ta_mfi_update(ta_mfi *s, double h, double l, double c, double v, int commit, double *out) {
  double tp = (h + l + c) / 3.0;
  double diff, mf, pos_sum, neg_sum, pos = 0.0, neg = 0.0, total;
  int ready = s->count >= s->n;
  if (s->count == 0) {
    if (commit) {
      s->prev_tp = tp;
      s->count = 1;
    }
    return 0;
  }
  diff = tp - s->prev_tp;
  mf = tp * v;
  pos_sum = s->pos_sum;
  neg_sum = s->neg_sum;
  if (s->count > s->n) {
    pos_sum -= s->pos_mf[s->idx];
    neg_sum -= s->neg_mf[s->idx];
  }
  if (diff < 0) {
    neg = mf;
    neg_sum += mf;
  } else if (diff > 0) {
    pos = mf;
    pos_sum += mf;
  }
  if (ready) {
    total = pos_sum + neg_sum;
    *out = total < 1.0 ? 0.0 : 100.0 * (pos_sum / total);
  }
  if (commit) {
    s->pos_mf[s->idx] = pos;
    s->neg_mf[s->idx] = neg;
    s->idx = s->idx + 1 == s->n ? 0 : s->idx + 1;
    s->pos_sum = pos_sum;
    s->neg_sum = neg_sum;
    s->prev_tp = tp;
    if (s->count <= s->n)
      s->count++;
  }
  return ready;
}

void ta_change_init(ta_change *s, int kind, int n, ta_arena *a) {
  s->ring = ta_arena_take(a, sizeof(double) * (size_t)n);
  s->kind = kind;
  s->n = n;
  s->pos = 0;
  s->count = 0;
}

int ta_change_update(ta_change *s, double x, int commit, double *out) {
  int ready = s->count >= s->n;
  if (ready) {
    double old = s->ring[s->pos];
    switch (s->kind) {
    case TA_CHANGE_ROC:
      *out = old != 0.0 ? ((x / old) - 1.0) * 100.0 : 0.0;
      break;
    case TA_CHANGE_ROCP:
      *out = old != 0.0 ? (x - old) / old : 0.0;
      break;
    default:
      *out = x - old;
      break;
    }
  }
  if (commit) {
    s->ring[s->pos] = x;
    s->pos = s->pos + 1 == s->n ? 0 : s->pos + 1;
    if (!ready)
      s->count++;
  }
  return ready;
}

void ta_aroon_init(ta_aroon *s, int n, ta_arena *a) {
  ta_winarg_init(&s->hi, (uint32_t)n + 1u, a);
  ta_winarg_init(&s->lo, (uint32_t)n + 1u, a);
  s->factor = 100.0 / (double)n;
  s->n = n;
}

/* The bars of the highest high and lowest low of the last n+1 bars; *t is
 * this bar's number. */
static int aroon_extremes(ta_aroon *s, double h, double l, int commit, int64_t *t, int64_t *hi_at,
                          int64_t *lo_at) {
  *t = s->hi.t;
  if (commit) {
    ta_winarg_push(&s->hi, h, hi_at);
    ta_winarg_push(&s->lo, -l, lo_at);
  } else {
    ta_winarg_peek(&s->hi, h, hi_at);
    ta_winarg_peek(&s->lo, -l, lo_at);
  }
  return *t >= s->n;
}

int ta_aroon_update(ta_aroon *s, double h, double l, int commit, double out[2]) {
  int64_t t, hi_at, lo_at;
  if (!aroon_extremes(s, h, l, commit, &t, &hi_at, &lo_at))
    return 0;
  out[0] = s->factor * (double)(s->n - (int)(t - lo_at));
  out[1] = s->factor * (double)(s->n - (int)(t - hi_at));
  return 1;
}

int ta_aroonosc_update(ta_aroon *s, double h, double l, int commit, double *out) {
  int64_t t, hi_at, lo_at;
  if (!aroon_extremes(s, h, l, commit, &t, &hi_at, &lo_at))
    return 0;
  *out = s->factor * (double)(int)(hi_at - lo_at);
  return 1;
}
