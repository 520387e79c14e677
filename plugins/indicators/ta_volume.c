/*
 * ta_volume.c: volume indicators: OBV and VWAP (per session or rolling).
 */
#include "ta.h"

void ta_obv_init(ta_obv *s) {
  s->obv = 0.0;
  s->prev = 0.0;
  s->count = 0;
}

/* TA-Lib adds the volume on a rise and subtracts it on a fall; written
 * without branches (the side that does not apply adds or subtracts 0.0),
 * since rises and falls alternate at random. */
int ta_obv_update(ta_obv *s, double x, double v, int commit, double *out) {
  double obv;
  if (s->count == 0)
    obv = v;
  else
    obv = (s->obv + ta_keep_if(x > s->prev, v)) - ta_keep_if(x < s->prev, v);
  *out = obv;
  if (commit) {
    s->obv = obv;
    s->prev = x;
    s->count = 1;
  }
  return 1;
}

void ta_vwap_init_session(ta_vwap *s, int64_t session_ns, int64_t offset_ns) {
  s->pv = NULL;
  s->vol = NULL;
  s->sum_pv = 0.0;
  s->sum_v = 0.0;
  s->session = session_ns;
  s->offset = offset_ns;
  s->id = INT64_MIN;
  s->n = 0;
  s->pos = 0;
  s->count = 0;
  s->nonzero = 0;
}

void ta_vwap_init_rolling(ta_vwap *s, int n, ta_arena *a) {
  ta_vwap_init_session(s, 0, 0);
  s->pv = ta_arena_take(a, sizeof(double) * (size_t)n);
  s->vol = ta_arena_take(a, sizeof(double) * (size_t)n);
  s->n = n;
}

/* The session a bar opening at ts belongs to: floor((ts − offset)/session). */
static int64_t vwap_session_id(const ta_vwap *s, int64_t ts) {
  int64_t d = ts - s->offset;
  int64_t q = d / s->session;
  return (d % s->session < 0) ? q - 1 : q;
}

/*
 * Sessions add up until a bar of the next session resets the sums. The
 * rolling window subtracts what leaves it; it also counts the bars in it
 * with volume, so that a window of zero-volume bars is "not ready" even when
 * the subtractions leave a rounding residue in the volume sum.
 */
int ta_vwap_update(ta_vwap *s, int64_t ts, double price, double v, int commit, double *out) {
  double sum_pv, sum_v;
  int nonzero = s->nonzero, ready;
  if (s->n == 0) {
    int64_t id = vwap_session_id(s, ts);
    sum_pv = s->sum_pv;
    sum_v = s->sum_v;
    if (id != s->id) {
      sum_pv = 0.0;
      sum_v = 0.0;
    }
    sum_pv += price * v;
    sum_v += v;
    ready = sum_v > 0.0;
    if (ready)
      *out = sum_pv / sum_v;
    if (commit) {
      s->id = id;
      s->sum_pv = sum_pv;
      s->sum_v = sum_v;
    }
    return ready;
  }
  sum_pv = s->sum_pv + price * v;
  sum_v = s->sum_v + v;
  nonzero += v != 0.0;
  if (s->count >= s->n) {
    sum_pv -= s->pv[s->pos];
    sum_v -= s->vol[s->pos];
    nonzero -= s->vol[s->pos] != 0.0;
  }
  ready = s->count >= s->n - 1 && nonzero > 0 && sum_v > 0.0;
  if (ready)
    *out = sum_pv / sum_v;
  if (commit) {
    s->pv[s->pos] = price * v;
    s->vol[s->pos] = v;
    s->pos = s->pos + 1 == s->n ? 0 : s->pos + 1;
    s->sum_pv = sum_pv;
    s->sum_v = sum_v;
    s->nonzero = nonzero;
    if (s->count < s->n)
      s->count++;
  }
  return ready;
}
