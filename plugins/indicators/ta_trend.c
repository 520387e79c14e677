/*
 * ta_trend.c: trend indicators: Wilder's directional movement (PLUS_DI,
 * MINUS_DI, DX, ADX), the parabolic SAR and Ichimoku.
 */
#include <math.h>

#include "ta.h"

void ta_dmi_init(ta_dmi *s, int kind, int n) {
  s->prev_high = 0.0;
  s->prev_low = 0.0;
  s->prev_close = 0.0;
  s->plus_dm = 0.0;
  s->minus_dm = 0.0;
  s->tr = 0.0;
  s->adx = 0.0;
  s->dn = (double)n;
  s->dn1 = (double)(n - 1);
  s->inv = 1.0 / (double)n;
  s->kind = kind;
  s->n = n;
  s->count = 0;
}

int ta_dmi_lookback(int kind, int n) {
  if (kind == TA_DMI_ADX)
    return 2 * n - 1;
  return n;
}

/* DX from the smoothed sums; 0 (not counted by ADX) when undefined. */
static int dmi_dx(double plus_dm, double minus_dm, double tr, double *dx) {
  double minus_di, plus_di, sum;
  if (TA_IS_ZERO(tr))
    return 0;
  minus_di = 100.0 * (minus_dm / tr);
  plus_di = 100.0 * (plus_dm / tr);
  sum = minus_di + plus_di;
  if (TA_IS_ZERO(sum))
    return 0;
  *dx = 100.0 * (fabs(minus_di - plus_di) / sum);
  return 1;
}

/*
 * Bars 1..n-1 add up +DM, −DM and TR; from bar n each is smoothed as
 * s − s/n + x. A move counts as +DM only when the up-move is positive and
 * larger than the down-move (and the reverse for −DM): equal moves count for
 * neither. The two conditions exclude each other, so TA-Lib's if/else-if
 * becomes two branch-free additions (the one that does not count adds 0.0). ADX sums the DX of bars
 * n..2n-1, divides by n at bar 2n-1, then smooths as (adx·(n−1) + dx)/n, keeping its value on bars
 * without a DX. The smoothing multiplies by 1/n where TA-Lib divides by n: a few ulps, and no
 * division latency on the loop-carried chains.
 */
int ta_dmi_update(ta_dmi *s, double h, double l, double c, int commit, double *out) {
  double diff_p, diff_m, plus_dm, minus_dm, tr, adx = s->adx, dx = 0.0;
  int count = s->count, ready = 0, have_dx;
  if (count == 0) {
    if (commit) {
      s->prev_high = h;
      s->prev_low = l;
      s->prev_close = c;
      s->count = 1;
    }
    return 0;
  }
  diff_p = h - s->prev_high;
  diff_m = s->prev_low - l;
  plus_dm = s->plus_dm;
  minus_dm = s->minus_dm;
  tr = s->tr;
  if (count < s->n) {
    minus_dm += ta_keep_if((diff_m > 0) & (diff_p < diff_m), diff_m);
    plus_dm += ta_keep_if((diff_p > 0) & (diff_p > diff_m), diff_p);
    tr += ta_true_range(h, l, s->prev_close);
  } else {
    minus_dm -= minus_dm * s->inv;
    plus_dm -= plus_dm * s->inv;
    minus_dm += ta_keep_if((diff_m > 0) & (diff_p < diff_m), diff_m);
    plus_dm += ta_keep_if((diff_p > 0) & (diff_p > diff_m), diff_p);
    tr = tr - (tr * s->inv) + ta_true_range(h, l, s->prev_close);
    switch (s->kind) {
    case TA_DMI_PLUS_DI:
      *out = !TA_IS_ZERO(tr) ? 100.0 * (plus_dm / tr) : 0.0;
      ready = 1;
      break;
    case TA_DMI_MINUS_DI:
      *out = !TA_IS_ZERO(tr) ? 100.0 * (minus_dm / tr) : 0.0;
      ready = 1;
      break;
    case TA_DMI_DX:
      /* TA-Lib repeats the previous DX where it is undefined (0 at first). */
      if (dmi_dx(plus_dm, minus_dm, tr, &dx))
        adx = dx;
      else if (count == s->n)
        adx = 0.0;
      *out = adx;
      ready = 1;
      break;
    default:
      have_dx = dmi_dx(plus_dm, minus_dm, tr, &dx);
      if (count < 2 * s->n - 1) {
        if (have_dx)
          adx += dx;
      } else if (count == 2 * s->n - 1) {
        if (have_dx)
          adx += dx;
        adx = adx / s->dn;
        ready = 1;
      } else {
        if (have_dx)
          adx = ((adx * s->dn1) + dx) * s->inv;
        ready = 1;
      }
      if (ready)
        *out = adx;
      break;
    }
  }
  if (commit) {
    s->prev_high = h;
    s->prev_low = l;
    s->prev_close = c;
    s->plus_dm = plus_dm;
    s->minus_dm = minus_dm;
    s->tr = tr;
    s->adx = adx;
    if (count < 2 * s->n)
      s->count++;
  }
  return ready;
}

void ta_sar_init(ta_sar *s, double accel, double max) {
  if (accel > max)
    accel = max;
  s->accel = accel;
  s->max = max;
  s->af = accel;
  s->ep = 0.0;
  s->sar = 0.0;
  s->prev_high = 0.0;
  s->prev_low = 0.0;
  s->is_long = 1;
  s->count = 0;
}

/*
 * TA-Lib's SAR. Bar 1 picks the direction (short when bar 1's −DM is
 * positive, i.e. its down-move beats a smaller up-move) and seeds SAR with bar
 * 0's extreme; on bar 1 the "previous bar" is bar 1 itself. A position
 * reverses when the bar touches the SAR; the new SAR starts at the old
 * extreme point, clamped by the last two bars' range.
 */
int ta_sar_update(ta_sar *s, double h, double l, int commit, double *out) {
  double af = s->af, ep = s->ep, sar = s->sar, prev_high = s->prev_high, prev_low = s->prev_low;
  int is_long = s->is_long;
  if (s->count == 0) {
    if (commit) {
      s->prev_high = h;
      s->prev_low = l;
      s->count = 1;
    }
    return 0;
  }
  if (s->count == 1) {
    double diff_p = h - prev_high, diff_m = prev_low - l;
    is_long = !((diff_m > 0) && (diff_p < diff_m));
    if (is_long) {
      ep = h;
      sar = prev_low;
    } else {
      ep = l;
      sar = prev_high;
    }
    prev_high = h;
    prev_low = l;
  }
  if (is_long) {
    if (l <= sar) {
      is_long = 0;
      sar = ep;
      if (sar < prev_high)
        sar = prev_high;
      if (sar < h)
        sar = h;
      *out = sar;
      af = s->accel;
      ep = l;
      sar = sar + af * (ep - sar);
      if (sar < prev_high)
        sar = prev_high;
      if (sar < h)
        sar = h;
    } else {
      *out = sar;
      if (h > ep) {
        ep = h;
        af += s->accel;
        if (af > s->max)
          af = s->max;
      }
      sar = sar + af * (ep - sar);
      if (sar > prev_low)
        sar = prev_low;
      if (sar > l)
        sar = l;
    }
  } else {
    if (h >= sar) {
      is_long = 1;
      sar = ep;
      if (sar > prev_low)
        sar = prev_low;
      if (sar > l)
        sar = l;
      *out = sar;
      af = s->accel;
      ep = h;
      sar = sar + af * (ep - sar);
      if (sar > prev_low)
        sar = prev_low;
      if (sar > l)
        sar = l;
    } else {
      *out = sar;
      if (l < ep) {
        ep = l;
        af += s->accel;
        if (af > s->max)
          af = s->max;
      }
      sar = sar + af * (ep - sar);
      if (sar < prev_high)
        sar = prev_high;
      if (sar < h)
        sar = h;
    }
  }
  if (commit) {
    s->af = af;
    s->ep = ep;
    s->sar = sar;
    s->is_long = is_long;
    s->prev_high = h;
    s->prev_low = l;
    s->count = 2;
  }
  return 1;
}

void ta_ichimoku_init(ta_ichimoku *s, int tenkan, int kijun, int senkou, int disp, ta_arena *a) {
  int i, longest;
  s->len[0] = tenkan;
  s->len[1] = kijun;
  s->len[2] = senkou;
  for (i = 0; i < 3; i++) {
    ta_winmax_init(&s->hi[i], (uint32_t)s->len[i], a);
    ta_winmax_init(&s->lo[i], (uint32_t)s->len[i], a);
  }
  s->span_a = ta_arena_take(a, sizeof(double) * (size_t)disp);
  s->span_b = ta_arena_take(a, sizeof(double) * (size_t)disp);
  s->t = 0;
  s->disp = disp;
  s->pos = 0;
  longest = tenkan > kijun ? tenkan : kijun;
  longest = longest > senkou ? longest : senkou;
  s->lookback = longest - 1 + disp;
}

/*
 * Each line is the midpoint (highest high + lowest low)/2 of its window.
 * The spans computed at this bar are stored for `disp` bars; the values
 * output are those stored `disp` bars ago, i.e. the cloud at this bar. Before
 * a window is full its midpoint is meaningless, but nothing reads it: output
 * starts once the oldest stored span was computed on full windows.
 */
int ta_ichimoku_update(ta_ichimoku *s, double h, double l, double c, int commit, double out[5]) {
  double mid[3];
  int64_t t = s->t;
  int i;
  for (i = 0; i < 3; i++) {
    double hh, ll;
    ta_hilo(&s->hi[i], &s->lo[i], h, l, commit, &hh, &ll);
    mid[i] = (hh + ll) / 2.0;
  }
  if (t >= s->lookback) {
    out[0] = mid[0];
    out[1] = mid[1];
    out[2] = s->span_a[s->pos];
    out[3] = s->span_b[s->pos];
    out[4] = c;
  }
  if (commit) {
    s->span_a[s->pos] = (mid[0] + mid[1]) / 2.0;
    s->span_b[s->pos] = mid[2];
    s->pos = s->pos + 1 == s->disp ? 0 : s->pos + 1;
    s->t++;
  }
  return t >= s->lookback;
}
