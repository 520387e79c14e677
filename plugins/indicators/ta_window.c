/*
 * ta_window.c: the building blocks other kernels share: the buffer arena and
 * the two sliding-window maxima (by value, and with the bar where it was).
 * Their O(1) parts are inline in ta.h; here is the once-per-block work.
 */
#include <float.h>

#include "ta.h"

void *ta_arena_take(ta_arena *a, size_t bytes) {
  void *p = a->base ? a->base + a->used : NULL;
  a->used += (bytes + 7u) & ~(size_t)7u;
  return p;
}

void ta_winmax_init(ta_winmax *q, uint32_t window, ta_arena *a) {
  uint32_t i;
  q->buf = ta_arena_take(a, sizeof(double) * window);
  q->suf = ta_arena_take(a, sizeof(double) * window);
  q->pre = -DBL_MAX;
  q->window = window;
  q->pos = 0;
  /* No previous block yet: its suffixes must not win (finite, so that early
   * midpoints nobody reads stay finite too). */
  for (i = 0; q->suf && i < window; i++)
    q->suf[i] = -DBL_MAX;
}

void ta_winmax_next_block(ta_winmax *q) {
  double s = -DBL_MAX;
  uint32_t i = q->window;
  while (i-- > 0) {
    s = ta_max2(s, q->buf[i]);
    q->suf[i] = s;
  }
  q->pre = -DBL_MAX;
  q->pos = 0;
}

void ta_winarg_init(ta_winarg *q, uint32_t window, ta_arena *a) {
  uint32_t i;
  q->buf = ta_arena_take(a, sizeof(double) * window);
  q->suf = ta_arena_take(a, sizeof(double) * window);
  q->suf_at = ta_arena_take(a, sizeof(int64_t) * window);
  q->pre = -DBL_MAX;
  q->pre_at = -1;
  q->t = 0;
  q->window = window;
  q->pos = 0;
  for (i = 0; q->suf && i < window; i++) {
    q->suf[i] = -DBL_MAX;
    q->suf_at[i] = -1;
  }
}

void ta_winarg_next_block(ta_winarg *q) {
  double s = -DBL_MAX;
  int64_t s_at = -1, start = q->t - (int64_t)q->window;
  uint32_t i = q->window;
  while (i-- > 0) {
    if (q->buf[i] > s) {
      s = q->buf[i];
      s_at = start + (int64_t)i;
    }
    q->suf[i] = s;
    q->suf_at[i] = s_at;
  }
  q->pre = -DBL_MAX;
  q->pre_at = -1;
  q->pos = 0;
}
