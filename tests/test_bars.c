/*
 * test_bars.c: the bar builder and the bar resampler (host/bars.c), on
 * hand-made sequences and on the real trades and candles of ../shared/data,
 * each checked against a plain group-by-bucket computation written here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "alloc.h"
#include "bars.h"
#include "bars_csv.h"

#define NS TACK_NS_PER_SEC

static const char *const trade_files[] = {"trades_kraken_xbtusdt.csv", "trades_binance_ethusdt.csv",
                                          "trades_xrpeth.csv"};
static const uint32_t trade_timeframes[] = {1, 60, 300, 3600};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

/* Everything a builder or resampler delivered. */
typedef struct sink {
  tack_bar *closed;
  size_t n_closed, cap_closed;
  size_t *closed_at; /* value of `step` when each closed bar arrived */
  tack_bar *prov;
  size_t n_prov, cap_prov;
  size_t drops[3]; /* by reason */
  size_t step;     /* set by the test before each push */
} sink;

static void *grow(void *p, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return p;
  *cap = *cap ? 2 * *cap : 256;
  p = realloc(p, *cap * size);
  assert_non_null(p);
  return p;
}

static void sink_bar(void *data, const tack_bar *bar) {
  sink *s = data;
  if (bar->flags & TACK_BAR_CLOSED) {
    size_t cap = s->cap_closed;
    s->closed = grow(s->closed, &s->cap_closed, s->n_closed, sizeof *s->closed);
    s->closed_at = grow(s->closed_at, &cap, s->n_closed, sizeof *s->closed_at);
    s->closed_at[s->n_closed] = s->step;
    s->closed[s->n_closed++] = *bar;
  } else {
    s->prov = grow(s->prov, &s->cap_prov, s->n_prov, sizeof *s->prov);
    s->prov[s->n_prov++] = *bar;
  }
}

static void sink_trade_drop(void *data, const tack_trade *t, int reason) {
  (void)t;
  ((sink *)data)->drops[reason]++;
}

static void sink_bar_drop(void *data, const tack_bar *b, int reason) {
  (void)b;
  ((sink *)data)->drops[reason]++;
}

static void sink_free(sink *s) {
  free(s->closed);
  free(s->closed_at);
  free(s->prov);
  memset(s, 0, sizeof *s);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* splitmix64: deterministic, so a failure reproduces. */
static uint64_t rng(void) {
  uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static size_t rng_below(size_t n) { return (size_t)(rng() % n); }

static void assert_bar_equal(const tack_bar *a, const tack_bar *b) {
  assert_int_equal(a->ts, b->ts);
  assert_true(a->open == b->open);
  assert_true(a->high == b->high);
  assert_true(a->low == b->low);
  assert_true(a->close == b->close);
  assert_true(a->volume == b->volume);
  assert_int_equal(a->timeframe_s, b->timeframe_s);
  assert_int_equal(a->flags, b->flags);
}

/* Same, but volume within a relative 1e-12: a float sum in another order. */
static void assert_bar_equal_reordered(const tack_bar *a, const tack_bar *b) {
  assert_int_equal(a->ts, b->ts);
  assert_true(a->open == b->open);
  assert_true(a->high == b->high);
  assert_true(a->low == b->low);
  assert_true(a->close == b->close);
  assert_true(fabs(a->volume - b->volume) <= 1e-12 * fabs(b->volume));
  assert_int_equal(a->timeframe_s, b->timeframe_s);
  assert_int_equal(a->flags, b->flags);
}

/* The reference: trades in time order grouped by floor(ts / tf), one loop. */
static tack_bar *ref_trade_bars(const tack_trade *t, size_t n, uint32_t tf, size_t *m_out) {
  tack_bar *out = calloc(n ? n : 1, sizeof *out);
  assert_non_null(out);
  size_t m = 0;
  int64_t tf_ns = (int64_t)tf * NS;
  for (size_t i = 0; i < n; i++) {
    tack_time start = t[i].ts / tf_ns * tf_ns;
    if (m == 0 || out[m - 1].ts != start) {
      out[m].ts = start;
      out[m].open = out[m].high = out[m].low = out[m].close = t[i].price;
      out[m].volume = t[i].size;
      out[m].timeframe_s = tf;
      out[m].flags = TACK_BAR_CLOSED;
      m++;
      continue;
    }
    tack_bar *b = &out[m - 1];
    if (t[i].price > b->high)
      b->high = t[i].price;
    if (t[i].price < b->low)
      b->low = t[i].price;
    b->close = t[i].price;
    b->volume += t[i].size;
  }
  *m_out = m;
  return out;
}

/* The reference for resampling: bars in time order grouped by floor(ts / tf). */
static tack_bar *ref_resample(const tack_bar *in, size_t n, uint32_t tf, size_t *m_out) {
  tack_bar *out = calloc(n ? n : 1, sizeof *out);
  assert_non_null(out);
  size_t m = 0;
  int64_t tf_ns = (int64_t)tf * NS;
  for (size_t i = 0; i < n; i++) {
    tack_time start = in[i].ts / tf_ns * tf_ns;
    if (m == 0 || out[m - 1].ts != start) {
      out[m] = in[i];
      out[m].ts = start;
      out[m].timeframe_s = tf;
      out[m].flags = TACK_BAR_CLOSED;
      m++;
      continue;
    }
    tack_bar *b = &out[m - 1];
    if (in[i].high > b->high)
      b->high = in[i].high;
    if (in[i].low < b->low)
      b->low = in[i].low;
    b->close = in[i].close;
    b->volume += in[i].volume;
  }
  *m_out = m;
  return out;
}

static int load_trades(const char *name, tack_trade **t, size_t *n) {
  if (!bars_csv_shared_dir()) {
    print_message("TACK_SHARED_DIR is not set or not a folder: skipping the real-data test\n");
    return -1;
  }
  assert_int_equal(bars_csv_trades(name, t, n), 0);
  assert_true(*n > 0);
  for (size_t i = 0; i < *n; i++)
    snprintf((*t)[i].id, sizeof(*t)[i].id, "T%zu", i);
  return 0;
}

static int load_bars(const char *name, uint32_t tf, tack_bar **b, size_t *n) {
  if (!bars_csv_shared_dir()) {
    print_message("TACK_SHARED_DIR is not set or not a folder: skipping the real-data test\n");
    return -1;
  }
  assert_int_equal(bars_csv_bars(name, tf, b, n), 0);
  assert_true(*n > 0);
  return 0;
}

static tack_bar_builder *builder_new(sink *s, uint32_t tf, uint32_t gap, uint32_t prov) {
  tack_bar_builder_config cfg;
  tack_bar_builder_config_init(&cfg, tf);
  cfg.gap_policy = gap;
  cfg.provisional = prov;
  cfg.provisional_ns = 10 * NS;
  cfg.on_bar = sink_bar;
  cfg.on_drop = sink_trade_drop;
  cfg.data = s;
  tack_bar_builder *b = NULL;
  assert_int_equal(tack_bar_builder_init(&b, &cfg), 0);
  return b;
}

static tack_bar_resampler *resampler_new(sink *s, uint32_t a, uint32_t bt, uint32_t gap,
                                         uint32_t prov) {
  tack_bar_resampler_config cfg = {0};
  cfg.in_timeframe_s = a;
  cfg.out_timeframe_s = bt;
  cfg.gap_policy = gap;
  cfg.provisional = prov;
  cfg.on_bar = sink_bar;
  cfg.on_drop = sink_bar_drop;
  cfg.data = s;
  tack_bar_resampler *r = NULL;
  assert_int_equal(tack_bar_resampler_init(&r, &cfg), 0);
  return r;
}

static tack_time end_of_bucket(tack_time ts, uint32_t tf) {
  int64_t tf_ns = (int64_t)tf * NS;
  return ts / tf_ns * tf_ns + tf_ns;
}

static tack_trade trade(double sec, double price, double size, const char *id) {
  tack_trade t = {0};
  t.ts = (tack_time)llround(sec * 1e9);
  t.price = price;
  t.size = size;
  tack_copy_text(t.id, sizeof t.id, id);
  return t;
}

/* ------------------------------------------------------------------------ */
/* Builder: hand-made                                                        */
/* ------------------------------------------------------------------------ */

static void builder_refuses_bad_config(void **state) {
  (void)state;
  tack_bar_builder_config cfg;
  tack_bar_builder *b = (tack_bar_builder *)&cfg;
  tack_bar_builder_config_init(&cfg, 0);
  cfg.on_bar = sink_bar;
  assert_int_equal(tack_bar_builder_init(&b, &cfg), TACK_EINVAL);
  assert_null(b);
  tack_bar_builder_config_init(&cfg, 60);
  assert_int_equal(tack_bar_builder_init(&b, &cfg), TACK_EINVAL); /* no on_bar */
  cfg.on_bar = sink_bar;
  cfg.gap_policy = 7;
  assert_int_equal(tack_bar_builder_init(&b, &cfg), TACK_EINVAL);
  cfg.gap_policy = TACK_BARS_GAP_FILL;
  cfg.provisional = TACK_BARS_PROV_THROTTLE;
  assert_int_equal(tack_bar_builder_init(&b, &cfg), TACK_EINVAL); /* no interval */
  cfg.provisional = 9;
  assert_int_equal(tack_bar_builder_init(&b, &cfg), TACK_EINVAL);
  cfg.provisional = TACK_BARS_PROV_NONE;
  cfg.dedup_window = (1u << 24) + 1;
  assert_int_equal(tack_bar_builder_init(&b, &cfg), TACK_EINVAL);
  assert_null(b);
  cfg.dedup_window = TACK_BARS_DEDUP_DEFAULT;
  assert_int_equal(tack_bar_builder_init(&b, &cfg), 0);
  tack_bar_builder_free(b);
  tack_bar_builder_free(NULL);
}

static void builder_alloc_failure(void **state) {
  (void)state;
  sink s = {0};
  tack_bar_builder_config cfg;
  tack_bar_builder_config_init(&cfg, 60);
  cfg.on_bar = sink_bar;
  cfg.data = &s;
  /* The builder makes four allocations: each failing one is reported and
   * nothing leaks (ASan's leak check runs on this test too). */
  for (uint64_t k = 1; k <= 4; k++) {
    tack_bar_builder *b = NULL;
    tack_alloc_fail_after(k);
    assert_int_equal(tack_bar_builder_init(&b, &cfg), TACK_ENOMEM);
    assert_null(b);
  }
  tack_alloc_fail_after(0);
  tack_bar_resampler_config rc = {60, 3600, 0, 0, sink_bar, NULL, &s};
  for (uint64_t k = 1; k <= 2; k++) {
    tack_bar_resampler *r = NULL;
    tack_alloc_fail_after(k);
    assert_int_equal(tack_bar_resampler_init(&r, &rc), TACK_ENOMEM);
    assert_null(r);
  }
  tack_alloc_fail_after(0);
}

static void builder_hand_sequence(void **state) {
  (void)state;
  sink s = {0};
  tack_bar_builder *b = builder_new(&s, 60, TACK_BARS_GAP_SKIP, TACK_BARS_PROV_EVERY);
  tack_bar f;
  assert_int_equal(tack_bar_builder_forming(b, &f), 0);

  /* Bucket [60, 120): arrivals out of time order. */
  tack_trade t1 = trade(70, 100, 1, "a");
  tack_trade t2 = trade(65, 99, 2, "b");   /* earlier: becomes the open */
  tack_trade t3 = trade(110, 103, 1, "c"); /* latest: the close */
  tack_trade t4 = trade(90, 98, 0.5, "d"); /* between: only low and volume */
  assert_int_equal(tack_bar_builder_push(b, &t1), TACK_BARS_APPLIED);
  assert_int_equal(tack_bar_builder_push(b, &t2), TACK_BARS_APPLIED);
  assert_int_equal(tack_bar_builder_push(b, &t3), TACK_BARS_APPLIED);
  assert_int_equal(tack_bar_builder_push(b, &t4), TACK_BARS_APPLIED);
  assert_int_equal(s.n_prov, 4);
  assert_int_equal(s.n_closed, 0);
  assert_int_equal(tack_bar_builder_forming(b, &f), 1);
  tack_bar want = {60 * NS, 99, 103, 98, 103, 4.5, 60, 0};
  assert_bar_equal(&f, &want);
  assert_bar_equal(&s.prov[3], &want);
  /* The first provisional showed the first trade alone. */
  tack_bar first = {60 * NS, 100, 100, 100, 100, 1, 60, 0};
  assert_bar_equal(&s.prov[0], &first);

  /* Duplicate id: dropped, bar unchanged. */
  assert_int_equal(tack_bar_builder_push(b, &t1), TACK_BARS_DUPLICATE);
  assert_int_equal(s.drops[TACK_BARS_DUPLICATE], 1);

  /* A trade of bucket [180, 240) closes [60, 120); [120, 180) is skipped. */
  tack_trade t5 = trade(200, 101, 1, "e");
  assert_int_equal(tack_bar_builder_push(b, &t5), TACK_BARS_APPLIED);
  assert_int_equal(s.n_closed, 1);
  want.flags = TACK_BAR_CLOSED;
  assert_bar_equal(&s.closed[0], &want);

  /* Late: [60, 120) is closed, and so is the empty [120, 180). */
  tack_trade t6 = trade(119, 1000, 1, "f");
  tack_trade t7 = trade(150, 1000, 1, "g");
  assert_int_equal(tack_bar_builder_push(b, &t6), TACK_BARS_LATE);
  assert_int_equal(tack_bar_builder_push(b, &t7), TACK_BARS_LATE);
  assert_int_equal(s.drops[TACK_BARS_LATE], 2);

  /* close_until: not yet at 239.9 s, at 240 s the bar closes. */
  assert_int_equal(tack_bar_builder_close_until(b, 239 * NS + 900000000), 0);
  assert_int_equal(s.n_closed, 1);
  assert_int_equal(tack_bar_builder_close_until(b, 240 * NS), 0);
  assert_int_equal(s.n_closed, 2);
  tack_bar want2 = {180 * NS, 101, 101, 101, 101, 1, 60, TACK_BAR_CLOSED};
  assert_bar_equal(&s.closed[1], &want2);
  assert_int_equal(tack_bar_builder_forming(b, &f), 0);
  /* Once closed it is never delivered again, and later trades of it are late. */
  assert_int_equal(tack_bar_builder_close_until(b, 400 * NS), 0);
  assert_int_equal(s.n_closed, 2);
  tack_trade t8 = trade(239, 1, 1, "h");
  tack_trade t9 = trade(299, 1, 1, "i"); /* [240, 300) ended at 300 <= 400 */
  assert_int_equal(tack_bar_builder_push(b, &t8), TACK_BARS_LATE);
  assert_int_equal(tack_bar_builder_push(b, &t9), TACK_BARS_LATE);
  tack_trade t10 = trade(360, 7, 1, "j"); /* now's bucket [360, 420) is open */
  assert_int_equal(tack_bar_builder_push(b, &t10), TACK_BARS_APPLIED);

  /* Equal timestamps keep arrival order: the first is the open, the last
   * the close. */
  tack_trade t11 = trade(360, 8, 1, "k");
  tack_trade t12 = trade(360, 6, 1, "l");
  assert_int_equal(tack_bar_builder_push(b, &t11), TACK_BARS_APPLIED);
  assert_int_equal(tack_bar_builder_push(b, &t12), TACK_BARS_APPLIED);
  assert_int_equal(tack_bar_builder_forming(b, &f), 1);
  tack_bar want3 = {360 * NS, 7, 8, 6, 6, 3, 60, 0};
  assert_bar_equal(&f, &want3);

  const tack_bar_builder_stats *st = tack_bar_builder_stats_get(b);
  assert_int_equal(st->applied, 8);
  assert_int_equal(st->out_of_order, 2); /* t2 and t4 */
  assert_int_equal(st->late, 4);
  assert_int_equal(st->duplicates, 1);
  assert_int_equal(st->closed, 2);
  assert_int_equal(st->provisional, 8);

  /* Invalid trades are refused and counted, nothing else changes. */
  tack_trade bad = trade(361, NAN, 1, "m");
  assert_int_equal(tack_bar_builder_push(b, &bad), TACK_EINVAL);
  bad = trade(361, 1, -1, "n");
  assert_int_equal(tack_bar_builder_push(b, &bad), TACK_EINVAL);
  bad = trade(361, 1, INFINITY, "o");
  assert_int_equal(tack_bar_builder_push(b, &bad), TACK_EINVAL);
  bad = trade(1, 1, 1, "p");
  bad.ts = -1;
  assert_int_equal(tack_bar_builder_push(b, &bad), TACK_EINVAL);
  bad.ts = INT64_MAX - 10;
  assert_int_equal(tack_bar_builder_push(b, &bad), TACK_EINVAL);
  assert_int_equal(tack_bar_builder_close_until(b, -5), TACK_EINVAL);
  assert_int_equal(st->invalid, 5);
  assert_int_equal(tack_bar_builder_forming(b, &f), 1);
  assert_bar_equal(&f, &want3);

  /* Reset forgets everything: ids, watermark, counters. */
  tack_bar_builder_reset(b);
  assert_int_equal(st->applied, 0);
  assert_int_equal(tack_bar_builder_forming(b, &f), 0);
  assert_int_equal(tack_bar_builder_push(b, &t1), TACK_BARS_APPLIED);

  tack_bar_builder_free(b);
  sink_free(&s);
}

static void builder_gap_fill_hand(void **state) {
  (void)state;
  sink s = {0};
  tack_bar_builder *b = builder_new(&s, 60, TACK_BARS_GAP_FILL, TACK_BARS_PROV_NONE);
  /* No filler before the first bar: there is no close to fill with. */
  assert_int_equal(tack_bar_builder_close_until(b, 600 * NS), 0);
  assert_int_equal(s.n_closed, 0);
  tack_trade t1 = trade(610, 10, 1, "a");
  tack_trade t2 = trade(650, 12, 1, "b");
  tack_trade t3 = trade(850, 11, 2, "c");
  assert_int_equal(tack_bar_builder_push(b, &t1), 0);
  assert_int_equal(tack_bar_builder_push(b, &t2), 0);
  assert_int_equal(tack_bar_builder_push(b, &t3), 0);
  /* [600,660) closed, then fillers [660,720) [720,780) [780,840) */
  assert_int_equal(s.n_closed, 4);
  for (size_t i = 1; i < 4; i++) {
    tack_bar want = {(600 + 60 * (tack_time)i) * NS,   12, 12, 12, 12, 0, 60,
                     TACK_BAR_CLOSED | TACK_BAR_FILLER};
    assert_bar_equal(&s.closed[i], &want);
  }
  /* Time passes: [840,900) closes, fillers up to now's bucket. */
  assert_int_equal(tack_bar_builder_close_until(b, 1030 * NS), 0);
  assert_int_equal(s.n_closed, 7); /* 840's bar, fillers 900 and 960; 1020 is now's */
  tack_bar last = {960 * NS, 11, 11, 11, 11, 0, 60, TACK_BAR_CLOSED | TACK_BAR_FILLER};
  assert_bar_equal(&s.closed[6], &last);
  const tack_bar_builder_stats *st = tack_bar_builder_stats_get(b);
  assert_int_equal(st->fillers, 5);
  assert_int_equal(st->closed, 7);
  /* A trade in the bucket of `now` starts it without a filler for it. */
  tack_trade t4 = trade(1031, 13, 1, "d");
  assert_int_equal(tack_bar_builder_push(b, &t4), 0);
  assert_int_equal(s.n_closed, 7);
  tack_bar_builder_free(b);
  sink_free(&s);
}

static void builder_throttle_hand(void **state) {
  (void)state;
  sink s = {0};
  /* builder_new sets a 10 s throttle. */
  tack_bar_builder *b = builder_new(&s, 3600, TACK_BARS_GAP_SKIP, TACK_BARS_PROV_THROTTLE);
  double secs[] = {0, 1, 9.999, 10, 15, 19.99, 20, 3600, 3601, 3611};
  size_t want[] = {1, 1, 1, 2, 2, 2, 3, 4, 4, 5};
  for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
    char id[8];
    snprintf(id, sizeof id, "%zu", i);
    tack_trade t = trade(secs[i], 100 + (double)i, 1, id);
    assert_int_equal(tack_bar_builder_push(b, &t), 0);
    assert_int_equal(s.n_prov, want[i]);
  }
  /* The first trade of a bar is always shown. */
  assert_int_equal(s.prov[3].ts, 3600 * NS);
  assert_true(s.prov[3].close == 107);
  tack_bar_builder_free(b);
  sink_free(&s);
}

/* The dedup set against a naive model: an id is a duplicate exactly when it
 * is among the last `window` ids accepted. A tiny window and a small id
 * universe make evictions and hash-table deletions constant. */
static void builder_dedup_window(void **state) {
  (void)state;
  enum { WINDOW = 37, UNIVERSE = 120, PUSHES = 200000 };
  sink s = {0};
  tack_bar_builder_config cfg;
  tack_bar_builder_config_init(&cfg, 86400);
  cfg.dedup_window = WINDOW;
  cfg.on_bar = sink_bar;
  cfg.data = &s;
  tack_bar_builder *b = NULL;
  assert_int_equal(tack_bar_builder_init(&b, &cfg), 0);
  int recent[WINDOW];
  size_t n_recent = 0, next = 0, dups = 0;
  for (size_t i = 0; i < PUSHES; i++) {
    int id = (int)rng_below(UNIVERSE);
    char text[16];
    snprintf(text, sizeof text, "id-%d", id);
    tack_trade t = trade(1, 1, 1, text);
    int seen = 0;
    for (size_t k = 0; k < n_recent; k++)
      seen |= recent[k] == id;
    int rc = tack_bar_builder_push(b, &t);
    assert_int_equal(rc, seen ? TACK_BARS_DUPLICATE : TACK_BARS_APPLIED);
    if (seen) {
      dups++;
      continue;
    }
    recent[next] = id;
    next = (next + 1) % WINDOW;
    if (n_recent < WINDOW)
      n_recent++;
  }
  assert_int_equal(tack_bar_builder_stats_get(b)->duplicates, dups);
  /* Bytes after the NUL are not part of the id; an empty id is never
   * deduplicated. */
  tack_trade x = trade(1, 1, 1, "zz");
  assert_int_equal(tack_bar_builder_push(b, &x), TACK_BARS_APPLIED);
  x.id[5] = 'q';
  assert_int_equal(tack_bar_builder_push(b, &x), TACK_BARS_DUPLICATE);
  tack_trade e = trade(1, 1, 1, "");
  assert_int_equal(tack_bar_builder_push(b, &e), TACK_BARS_APPLIED);
  assert_int_equal(tack_bar_builder_push(b, &e), TACK_BARS_APPLIED);
  tack_bar_builder_free(b);

  /* dedup_window 0: deduplication off. */
  cfg.dedup_window = 0;
  assert_int_equal(tack_bar_builder_init(&b, &cfg), 0);
  assert_int_equal(tack_bar_builder_push(b, &x), TACK_BARS_APPLIED);
  assert_int_equal(tack_bar_builder_push(b, &x), TACK_BARS_APPLIED);
  tack_bar_builder_free(b);
  sink_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Builder: real trades                                                      */
/* ------------------------------------------------------------------------ */

/* Feed trades in order, close the last bar, compare with the reference. */
static void builder_real_in_order(void **state) {
  (void)state;
  for (size_t f = 0; f < sizeof trade_files / sizeof trade_files[0]; f++) {
    tack_trade *t;
    size_t n;
    if (load_trades(trade_files[f], &t, &n) != 0)
      skip();
    for (size_t k = 0; k < sizeof trade_timeframes / sizeof trade_timeframes[0]; k++) {
      uint32_t tf = trade_timeframes[k];
      size_t m;
      tack_bar *ref = ref_trade_bars(t, n, tf, &m);
      sink s = {0};
      tack_bar_builder *b = builder_new(&s, tf, TACK_BARS_GAP_SKIP, TACK_BARS_PROV_NONE);
      for (size_t i = 0; i < n; i++)
        assert_int_equal(tack_bar_builder_push(b, &t[i]), TACK_BARS_APPLIED);
      assert_int_equal(s.n_closed, m - 1); /* the last bar is still forming */
      assert_int_equal(tack_bar_builder_close_until(b, end_of_bucket(t[n - 1].ts, tf)), 0);
      assert_int_equal(s.n_closed, m);
      for (size_t i = 0; i < m; i++)
        assert_bar_equal(&s.closed[i], &ref[i]);
      const tack_bar_builder_stats *st = tack_bar_builder_stats_get(b);
      assert_int_equal(st->applied, n);
      assert_int_equal(st->out_of_order + st->late + st->duplicates + st->invalid, 0);
      assert_int_equal(s.n_prov, 0);
      print_message("%s tf=%us: %zu trades -> %zu bars, exact\n", trade_files[f], tf, n, m);
      tack_bar_builder_free(b);
      sink_free(&s);
      free(ref);
    }
    free(t);
  }
}

/* Within each bucket, shuffle the trades (keeping trades of equal ts in
 * their order, which is what orders them) and redeliver recent ones: the
 * closed bars are the same. */
static void builder_real_shuffled_duplicated(void **state) {
  (void)state;
  for (size_t f = 0; f < sizeof trade_files / sizeof trade_files[0]; f++) {
    tack_trade *t;
    size_t n;
    if (load_trades(trade_files[f], &t, &n) != 0)
      skip();
    for (size_t k = 0; k < sizeof trade_timeframes / sizeof trade_timeframes[0]; k++) {
      uint32_t tf = trade_timeframes[k];
      int64_t tf_ns = (int64_t)tf * NS;
      size_t m;
      tack_bar *ref = ref_trade_bars(t, n, tf, &m);
      tack_trade *shuf = malloc(n * sizeof *shuf);
      size_t *used = calloc(n, sizeof *used);
      assert_non_null(shuf);
      assert_non_null(used);
      memcpy(shuf, t, n * sizeof *shuf);
      for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && t[j].ts / tf_ns == t[i].ts / tf_ns)
          j++;
        for (size_t a = j - 1; a > i; a--) {
          size_t c = i + rng_below(a - i + 1);
          tack_trade tmp = shuf[a];
          shuf[a] = shuf[c];
          shuf[c] = tmp;
        }
        /* Put equal-ts trades back in file order over the places they took. */
        for (size_t p = i; p < j; p++) {
          size_t first = i;
          while (t[first].ts != shuf[p].ts)
            first++;
          shuf[p] = t[first + used[first]++];
        }
        i = j;
      }
      for (int dup_only = 0; dup_only < 2; dup_only++) {
        const tack_trade *feed = dup_only ? t : shuf;
        sink s = {0};
        tack_bar_builder *b = builder_new(&s, tf, TACK_BARS_GAP_SKIP, TACK_BARS_PROV_NONE);
        size_t injected = 0;
        for (size_t i = 0; i < n; i++) {
          assert_int_equal(tack_bar_builder_push(b, &feed[i]), TACK_BARS_APPLIED);
          if (rng_below(4) == 0) {
            size_t back = rng_below(i < 50 ? i + 1 : 50);
            assert_int_equal(tack_bar_builder_push(b, &feed[i - back]), TACK_BARS_DUPLICATE);
            injected++;
          }
        }
        tack_bar_builder_close_until(b, end_of_bucket(t[n - 1].ts, tf));
        assert_int_equal(s.n_closed, m);
        for (size_t i = 0; i < m; i++) {
          if (dup_only)
            assert_bar_equal(&s.closed[i], &ref[i]);
          else
            assert_bar_equal_reordered(&s.closed[i], &ref[i]);
        }
        const tack_bar_builder_stats *st = tack_bar_builder_stats_get(b);
        assert_int_equal(st->duplicates, injected);
        assert_int_equal(s.drops[TACK_BARS_DUPLICATE], injected);
        assert_int_equal(st->applied, n);
        assert_int_equal(st->late, 0);
        if (!dup_only && tf >= 60)
          assert_true(st->out_of_order > 0);
        tack_bar_builder_free(b);
        sink_free(&s);
      }
      free(used);
      free(shuf);
      free(ref);
    }
    free(t);
  }
}

/* Trades for closed buckets are counted as late and change nothing. */
static void builder_real_late(void **state) {
  (void)state;
  tack_trade *t;
  size_t n;
  if (load_trades("trades_xrpeth.csv", &t, &n) != 0)
    skip();
  uint32_t tf = 300;
  size_t m;
  tack_bar *ref = ref_trade_bars(t, n, tf, &m);
  sink s = {0};
  tack_bar_builder *b = builder_new(&s, tf, TACK_BARS_GAP_SKIP, TACK_BARS_PROV_NONE);
  size_t late = 0;
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(tack_bar_builder_push(b, &t[i]), TACK_BARS_APPLIED);
    /* Replay an old trade under a new id, from a bucket already closed. */
    if (i > 100 && i % 7 == 0) {
      tack_trade old = t[rng_below(i)];
      if (old.ts / ((int64_t)tf * NS) < t[i].ts / ((int64_t)tf * NS)) {
        snprintf(old.id, sizeof old.id, "late-%zu", i);
        old.price *= 2;
        assert_int_equal(tack_bar_builder_push(b, &old), TACK_BARS_LATE);
        late++;
      }
    }
  }
  tack_bar_builder_close_until(b, end_of_bucket(t[n - 1].ts, tf));
  assert_true(late > 100);
  assert_int_equal(tack_bar_builder_stats_get(b)->late, late);
  assert_int_equal(s.drops[TACK_BARS_LATE], late);
  assert_int_equal(s.n_closed, m);
  for (size_t i = 0; i < m; i++)
    assert_bar_equal(&s.closed[i], &ref[i]);
  tack_bar_builder_free(b);
  sink_free(&s);
  free(ref);
  free(t);
}

/* Fill: the same trade bars, and a filler at the previous close for every
 * empty bucket between them. */
static void builder_real_gap_fill(void **state) {
  (void)state;
  for (size_t f = 0; f < sizeof trade_files / sizeof trade_files[0]; f++) {
    tack_trade *t;
    size_t n;
    if (load_trades(trade_files[f], &t, &n) != 0)
      skip();
    for (size_t k = 0; k < sizeof trade_timeframes / sizeof trade_timeframes[0]; k++) {
      uint32_t tf = trade_timeframes[k];
      int64_t tf_ns = (int64_t)tf * NS;
      size_t m;
      tack_bar *ref = ref_trade_bars(t, n, tf, &m);
      sink s = {0};
      tack_bar_builder *b = builder_new(&s, tf, TACK_BARS_GAP_FILL, TACK_BARS_PROV_NONE);
      for (size_t i = 0; i < n; i++)
        tack_bar_builder_push(b, &t[i]);
      tack_time end = end_of_bucket(t[n - 1].ts, tf);
      tack_bar_builder_close_until(b, end + 3 * tf_ns); /* three trailing fillers */
      size_t want = (size_t)((ref[m - 1].ts - ref[0].ts) / tf_ns) + 1 + 3;
      assert_int_equal(s.n_closed, want);
      size_t r = 0, fillers = 0;
      for (size_t i = 0; i < s.n_closed; i++) {
        assert_int_equal(s.closed[i].ts, ref[0].ts + (tack_time)i * tf_ns);
        if (r < m && s.closed[i].ts == ref[r].ts) {
          assert_bar_equal(&s.closed[i], &ref[r++]);
          continue;
        }
        tack_bar fill = {s.closed[i].ts,
                         ref[r - 1].close,
                         ref[r - 1].close,
                         ref[r - 1].close,
                         ref[r - 1].close,
                         0,
                         tf,
                         TACK_BAR_CLOSED | TACK_BAR_FILLER};
        assert_bar_equal(&s.closed[i], &fill);
        fillers++;
      }
      assert_int_equal(r, m);
      assert_int_equal(tack_bar_builder_stats_get(b)->fillers, fillers);
      tack_bar_builder_free(b);
      sink_free(&s);
      free(ref);
    }
    free(t);
  }
}

/* Every-trade provisional bars show the running bar exactly. */
static void builder_real_provisional(void **state) {
  (void)state;
  tack_trade *t;
  size_t n;
  if (load_trades("trades_binance_ethusdt.csv", &t, &n) != 0)
    skip();
  uint32_t tf = 60;
  int64_t tf_ns = (int64_t)tf * NS;
  sink s = {0};
  tack_bar_builder *b = builder_new(&s, tf, TACK_BARS_GAP_SKIP, TACK_BARS_PROV_EVERY);
  tack_bar run = {0};
  for (size_t i = 0; i < n; i++) {
    tack_time start = t[i].ts / tf_ns * tf_ns;
    if (i == 0 || run.ts != start) {
      run = (tack_bar){start, t[i].price, t[i].price, t[i].price, t[i].price, t[i].size, tf, 0};
    } else {
      run.high = fmax(run.high, t[i].price);
      run.low = fmin(run.low, t[i].price);
      run.close = t[i].price;
      run.volume += t[i].size;
    }
    assert_int_equal(tack_bar_builder_push(b, &t[i]), 0);
    assert_int_equal(s.n_prov, i + 1);
    assert_bar_equal(&s.prov[i], &run);
  }
  tack_bar_builder_free(b);
  sink_free(&s);

  /* Throttled: the first trade of each bar, then one per 10 s of trade time. */
  b = builder_new(&s, tf, TACK_BARS_GAP_SKIP, TACK_BARS_PROV_THROTTLE);
  tack_time last_shown = 0, bar = -1;
  size_t want = 0;
  for (size_t i = 0; i < n; i++) {
    tack_time start = t[i].ts / tf_ns * tf_ns;
    if (start != bar || t[i].ts - last_shown >= 10 * NS) {
      want++;
      last_shown = t[i].ts;
    }
    bar = start;
    tack_bar_builder_push(b, &t[i]);
    assert_int_equal(s.n_prov, want);
  }
  assert_true(want < n);
  tack_bar_builder_free(b);
  sink_free(&s);
  free(t);
}

/* ------------------------------------------------------------------------ */
/* Resampler                                                                 */
/* ------------------------------------------------------------------------ */

static void resampler_refuses_bad_config(void **state) {
  (void)state;
  sink s = {0};
  tack_bar_resampler_config cfg = {60, 90, 0, 0, sink_bar, NULL, &s};
  tack_bar_resampler *r = (tack_bar_resampler *)&cfg;
  assert_int_equal(tack_bar_resampler_init(&r, &cfg), TACK_EINVAL);
  assert_null(r);
  uint32_t bad[][2] = {{3600, 5400}, {0, 60}, {60, 0}, {300, 600 + 1}, {1, (1u << 22) + 1}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cfg.in_timeframe_s = bad[i][0];
    cfg.out_timeframe_s = bad[i][1];
    assert_int_equal(tack_bar_resampler_init(&r, &cfg), TACK_EINVAL);
  }
  cfg.in_timeframe_s = 300;
  cfg.out_timeframe_s = 14400;
  cfg.on_bar = NULL;
  assert_int_equal(tack_bar_resampler_init(&r, &cfg), TACK_EINVAL);
  cfg.on_bar = sink_bar;
  cfg.gap_policy = 3;
  assert_int_equal(tack_bar_resampler_init(&r, &cfg), TACK_EINVAL);
  cfg.gap_policy = 0;
  assert_int_equal(tack_bar_resampler_init(&r, &cfg), 0);

  /* Inputs that do not fit: other timeframe, off the grid, not finite. */
  tack_bar in = {600 * NS, 1, 2, 0.5, 1.5, 3, 300, TACK_BAR_CLOSED};
  tack_bar x = in;
  x.timeframe_s = 60;
  assert_int_equal(tack_bar_resampler_push(r, &x), TACK_EINVAL);
  x = in;
  x.ts += NS;
  assert_int_equal(tack_bar_resampler_push(r, &x), TACK_EINVAL);
  x = in;
  x.high = NAN;
  assert_int_equal(tack_bar_resampler_push(r, &x), TACK_EINVAL);
  x = in;
  x.volume = -1;
  assert_int_equal(tack_bar_resampler_push(r, &x), TACK_EINVAL);
  x = in;
  x.ts = -300 * NS;
  assert_int_equal(tack_bar_resampler_push(r, &x), TACK_EINVAL);
  assert_int_equal(tack_bar_resampler_close_until(r, -1), TACK_EINVAL);
  assert_int_equal(tack_bar_resampler_stats_get(r)->invalid, 5);
  assert_int_equal(tack_bar_resampler_push(r, &in), TACK_BARS_APPLIED);
  tack_bar_resampler_free(r);
  tack_bar_resampler_free(NULL);
}

static void resampler_hand_sequence(void **state) {
  (void)state;
  sink s = {0};
  /* 5m -> 15m: three slots per output bar. */
  tack_bar_resampler *r = resampler_new(&s, 300, 900, TACK_BARS_GAP_SKIP, 1);
  tack_bar a = {900 * NS, 10, 12, 9, 11, 1, 300, TACK_BAR_CLOSED};
  tack_bar b = {1200 * NS, 11, 15, 10, 14, 2, 300, TACK_BAR_CLOSED};
  tack_bar c = {1500 * NS, 14, 14, 8, 9, 4, 300, TACK_BAR_CLOSED};
  tack_bar bp = b;
  bp.flags = 0;
  bp.high = 20;
  bp.close = 19;
  tack_bar f;
  assert_int_equal(tack_bar_resampler_forming(r, &f), 0);
  assert_int_equal(tack_bar_resampler_push(r, &a), 0);
  assert_int_equal(tack_bar_resampler_push(r, &bp), 0); /* provisional on top */
  assert_int_equal(s.n_prov, 2);
  tack_bar want = {900 * NS, 10, 20, 9, 19, 3, 900, 0};
  assert_bar_equal(&s.prov[1], &want);
  assert_int_equal(tack_bar_resampler_forming(r, &f), 1);
  assert_bar_equal(&f, &want);
  /* Its closed version replaces it; the provisional never counts twice. */
  assert_int_equal(tack_bar_resampler_push(r, &b), 0);
  tack_bar want2 = {900 * NS, 10, 15, 9, 14, 3, 900, 0};
  assert_bar_equal(&s.prov[2], &want2);
  /* Same slot closed again: dropped, the first wins. */
  tack_bar b2 = b;
  b2.close = 100;
  assert_int_equal(tack_bar_resampler_push(r, &b2), TACK_BARS_DUPLICATE);
  assert_int_equal(tack_bar_resampler_push(r, &bp), TACK_BARS_DUPLICATE);
  assert_int_equal(s.n_closed, 0);
  /* The slot that ends the bucket closes it at once. */
  assert_int_equal(tack_bar_resampler_push(r, &c), 0);
  assert_int_equal(s.n_closed, 1);
  tack_bar want3 = {900 * NS, 10, 15, 8, 9, 7, 900, TACK_BAR_CLOSED};
  assert_bar_equal(&s.closed[0], &want3);
  assert_int_equal(tack_bar_resampler_forming(r, &f), 0);
  /* Anything for it now is late. */
  assert_int_equal(tack_bar_resampler_push(r, &a), TACK_BARS_LATE);
  assert_int_equal(s.drops[TACK_BARS_LATE], 1);
  assert_int_equal(s.drops[TACK_BARS_DUPLICATE], 2);

  /* Out of order within a bucket: open from the earliest, close from the
   * latest. */
  tack_bar d = {2100 * NS, 20, 21, 19, 20.5, 1, 300, TACK_BAR_CLOSED};
  tack_bar e = {1800 * NS, 30, 31, 29, 30.5, 1, 300, TACK_BAR_CLOSED};
  assert_int_equal(tack_bar_resampler_push(r, &d), 0);
  assert_int_equal(tack_bar_resampler_push(r, &e), 0);
  assert_int_equal(tack_bar_resampler_forming(r, &f), 1);
  tack_bar want4 = {1800 * NS, 30, 31, 19, 20.5, 2, 900, 0};
  assert_bar_equal(&f, &want4);
  assert_int_equal(tack_bar_resampler_stats_get(r)->out_of_order, 1);
  /* The end slot is missing: a later bucket's input closes the bar. A
   * provisional of a later bucket is enough. */
  tack_bar g = {2700 * NS, 1, 1, 1, 1, 1, 300, 0};
  assert_int_equal(tack_bar_resampler_push(r, &g), 0);
  assert_int_equal(s.n_closed, 2);
  want4.flags = TACK_BAR_CLOSED;
  assert_bar_equal(&s.closed[1], &want4);
  /* A bucket with only a provisional input makes no closed bar. */
  assert_int_equal(tack_bar_resampler_close_until(r, 3600 * NS), 0);
  assert_int_equal(s.n_closed, 2);
  const tack_bar_resampler_stats *st = tack_bar_resampler_stats_get(r);
  assert_int_equal(st->unconfirmed, 1);
  assert_int_equal(st->applied, 5);
  assert_int_equal(st->provisional_in, 2);
  assert_int_equal(st->closed, 2);

  /* Reset, then all-filler inputs give a filler output. */
  tack_bar_resampler_reset(r);
  assert_int_equal(st->closed, 0);
  tack_bar fa = {0, 5, 5, 5, 5, 0, 300, TACK_BAR_CLOSED | TACK_BAR_FILLER};
  for (int i = 0; i < 3; i++) {
    fa.ts = (tack_time)i * 300 * NS;
    assert_int_equal(tack_bar_resampler_push(r, &fa), 0);
  }
  assert_int_equal(s.n_closed, 3);
  assert_int_equal(s.closed[2].flags, TACK_BAR_CLOSED | TACK_BAR_FILLER);
  assert_int_equal(st->fillers, 1);
  tack_bar_resampler_free(r);
  sink_free(&s);
}

static void resampler_gap_fill_hand(void **state) {
  (void)state;
  sink s = {0};
  tack_bar_resampler *r = resampler_new(&s, 60, 300, TACK_BARS_GAP_FILL, 0);
  tack_bar a = {60 * NS, 10, 12, 9, 11, 1, 60, TACK_BAR_CLOSED};
  tack_bar b = {1260 * NS, 11, 15, 10, 14, 2, 60, TACK_BAR_CLOSED};
  assert_int_equal(tack_bar_resampler_push(r, &a), 0);
  assert_int_equal(tack_bar_resampler_push(r, &b), 0);
  /* [0,300) closed, fillers for 300, 600, 900 */
  assert_int_equal(s.n_closed, 4);
  for (int i = 1; i < 4; i++) {
    tack_bar want = {(tack_time)i * 300 * NS,          11, 11, 11, 11, 0, 300,
                     TACK_BAR_CLOSED | TACK_BAR_FILLER};
    assert_bar_equal(&s.closed[i], &want);
  }
  assert_int_equal(tack_bar_resampler_close_until(r, 1800 * NS), 0);
  assert_int_equal(s.n_closed, 6); /* 1200's bar, 1500 filler */
  tack_bar want = {1500 * NS, 14, 14, 14, 14, 0, 300, TACK_BAR_CLOSED | TACK_BAR_FILLER};
  assert_bar_equal(&s.closed[5], &want);

  /* Filler inputs shape nothing when real ones share the bucket: a filler
   * at 14 before and after a real bar leaves open, high, low and close to
   * the real one. The forming view ignores them too. */
  tack_bar fa = {1800 * NS, 14, 14, 14, 14, 0, 60, TACK_BAR_CLOSED | TACK_BAR_FILLER};
  tack_bar real = {1860 * NS, 20, 22, 19, 21, 5, 60, TACK_BAR_CLOSED};
  tack_bar fb = {1920 * NS, 21, 21, 21, 21, 0, 60, TACK_BAR_CLOSED | TACK_BAR_FILLER};
  assert_int_equal(tack_bar_resampler_push(r, &fa), 0);
  tack_bar f;
  assert_int_equal(tack_bar_resampler_forming(r, &f), 1);
  tack_bar want_f = {1800 * NS, 14, 14, 14, 14, 0, 300, 0};
  assert_bar_equal(&f, &want_f);
  assert_int_equal(tack_bar_resampler_push(r, &real), 0);
  assert_int_equal(tack_bar_resampler_push(r, &fb), 0);
  assert_int_equal(tack_bar_resampler_forming(r, &f), 1);
  tack_bar want_r = {1800 * NS, 20, 22, 19, 21, 5, 300, 0};
  assert_bar_equal(&f, &want_r);
  assert_int_equal(tack_bar_resampler_close_until(r, 2100 * NS), 0);
  assert_int_equal(s.n_closed, 7);
  want_r.flags = TACK_BAR_CLOSED;
  assert_bar_equal(&s.closed[6], &want_r);
  tack_bar_resampler_free(r);
  sink_free(&s);
}

typedef struct resample_case {
  const char *file;
  uint32_t in_tf;
  uint32_t out_tf;
} resample_case;

static const resample_case resample_cases[] = {
    {"btcperp_ftx_1m.csv", 60, 300},         {"btcperp_ftx_1m.csv", 60, 3600},
    {"btcperp_ftx_1m.csv", 60, 14400},       {"btcusd_bitstamp_1h.csv", 3600, 14400},
    {"btcusd_bitstamp_1h.csv", 3600, 86400},
};

/* Each output closes exactly when the input that ends its bucket is pushed
 * (or, at the very end, at close_until, step n). */
static void check_close_steps(const sink *s, const tack_bar *in, size_t n, uint32_t out_tf) {
  int64_t out_ns = (int64_t)out_tf * NS;
  size_t i = 0;
  for (size_t k = 0; k < s->n_closed; k++) {
    tack_time end = s->closed[k].ts + out_ns;
    while (i < n && in[i].ts + (int64_t)in[i].timeframe_s * NS < end)
      i++;
    if (i < n && in[i].ts + (int64_t)in[i].timeframe_s * NS == end)
      assert_int_equal(s->closed_at[k], i);
    else
      assert_int_equal(s->closed_at[k], i < n ? i : n);
  }
}

static void resampler_real(void **state) {
  (void)state;
  for (size_t c = 0; c < sizeof resample_cases / sizeof resample_cases[0]; c++) {
    const resample_case *rc = &resample_cases[c];
    tack_bar *in;
    size_t n;
    if (load_bars(rc->file, rc->in_tf, &in, &n) != 0)
      skip();
    size_t m;
    tack_bar *ref = ref_resample(in, n, rc->out_tf, &m);
    sink s = {0};
    tack_bar_resampler *r = resampler_new(&s, rc->in_tf, rc->out_tf, TACK_BARS_GAP_SKIP, 0);
    for (size_t i = 0; i < n; i++) {
      s.step = i;
      assert_int_equal(tack_bar_resampler_push(r, &in[i]), TACK_BARS_APPLIED);
    }
    s.step = n;
    tack_bar_resampler_close_until(r, end_of_bucket(in[n - 1].ts, rc->out_tf));
    assert_int_equal(s.n_closed, m);
    for (size_t i = 0; i < m; i++)
      assert_bar_equal(&s.closed[i], &ref[i]);
    check_close_steps(&s, in, n, rc->out_tf);
    const tack_bar_resampler_stats *st = tack_bar_resampler_stats_get(r);
    assert_int_equal(st->applied, n);
    assert_int_equal(st->late + st->duplicates + st->out_of_order + st->invalid, 0);
    print_message("%s %us -> %us: %zu bars -> %zu, exact\n", rc->file, rc->in_tf, rc->out_tf, n, m);
    tack_bar_resampler_free(r);
    sink_free(&s);
    free(ref);
    free(in);
  }
}

/* Two provisional versions before each closed input: the closed outputs are
 * those of the plain run, and each provisional output is the closed inputs
 * of its bucket so far with the provisional one on top. */
static void resampler_real_provisional(void **state) {
  (void)state;
  for (size_t c = 0; c < sizeof resample_cases / sizeof resample_cases[0]; c++) {
    const resample_case *rc = &resample_cases[c];
    tack_bar *in;
    size_t n;
    if (load_bars(rc->file, rc->in_tf, &in, &n) != 0)
      skip();
    int64_t out_ns = (int64_t)rc->out_tf * NS;
    size_t m;
    tack_bar *ref = ref_resample(in, n, rc->out_tf, &m);
    sink s = {0};
    tack_bar_resampler *r = resampler_new(&s, rc->in_tf, rc->out_tf, TACK_BARS_GAP_SKIP, 1);
    tack_bar run = {0}; /* closed inputs of the current bucket */
    int have_run = 0;
    for (size_t i = 0; i < n; i++) {
      tack_time bucket = in[i].ts / out_ns * out_ns;
      if (have_run && run.ts != bucket)
        have_run = 0;
      double mid = (in[i].open + in[i].close) / 2;
      tack_bar p1 = {in[i].ts, in[i].open, in[i].open, in[i].open, in[i].open, 0, rc->in_tf, 0};
      tack_bar p2 = {in[i].ts,
                     in[i].open,
                     fmax(in[i].open, mid),
                     fmin(in[i].open, mid),
                     mid,
                     in[i].volume / 2,
                     rc->in_tf,
                     0};
      const tack_bar *pv[2] = {&p1, &p2};
      for (int k = 0; k < 2; k++) {
        size_t before = s.n_prov;
        assert_int_equal(tack_bar_resampler_push(r, pv[k]), TACK_BARS_APPLIED);
        assert_int_equal(s.n_prov, before + 1);
        tack_bar want;
        if (have_run) {
          want = run;
          want.high = fmax(run.high, pv[k]->high);
          want.low = fmin(run.low, pv[k]->low);
          want.close = pv[k]->close;
          want.volume = run.volume + pv[k]->volume;
        } else {
          want = *pv[k];
          want.ts = bucket;
        }
        want.timeframe_s = rc->out_tf;
        want.flags = 0;
        assert_bar_equal(&s.prov[s.n_prov - 1], &want);
      }
      assert_int_equal(tack_bar_resampler_push(r, &in[i]), TACK_BARS_APPLIED);
      if (!have_run) {
        run = in[i];
        run.ts = bucket;
        have_run = 1;
      } else {
        run.high = fmax(run.high, in[i].high);
        run.low = fmin(run.low, in[i].low);
        run.close = in[i].close;
        run.volume += in[i].volume;
      }
    }
    tack_bar_resampler_close_until(r, end_of_bucket(in[n - 1].ts, rc->out_tf));
    assert_int_equal(s.n_closed, m);
    for (size_t i = 0; i < m; i++)
      assert_bar_equal(&s.closed[i], &ref[i]);
    const tack_bar_resampler_stats *st = tack_bar_resampler_stats_get(r);
    assert_int_equal(st->provisional_in, 2 * n);
    assert_int_equal(st->unconfirmed, 0);
    tack_bar_resampler_free(r);
    sink_free(&s);
    free(ref);
    free(in);
  }
}

/* Each closed input twice, and the inputs of each bucket in reverse order
 * but its last: the same closed outputs, the extras counted. */
static void resampler_real_duplicates_out_of_order(void **state) {
  (void)state;
  for (size_t c = 0; c < sizeof resample_cases / sizeof resample_cases[0]; c++) {
    const resample_case *rc = &resample_cases[c];
    tack_bar *in;
    size_t n;
    if (load_bars(rc->file, rc->in_tf, &in, &n) != 0)
      skip();
    int64_t out_ns = (int64_t)rc->out_tf * NS;
    size_t m;
    tack_bar *ref = ref_resample(in, n, rc->out_tf, &m);
    tack_bar *feed = malloc(n * sizeof *feed);
    assert_non_null(feed);
    for (size_t i = 0; i < n;) {
      size_t j = i;
      while (j < n && in[j].ts / out_ns == in[i].ts / out_ns)
        j++;
      /* The input ending the bucket stays last, so it still closes the bar
       * and nothing of the bucket comes after it. */
      int ends = in[j - 1].ts + (int64_t)rc->in_tf * NS == (in[i].ts / out_ns + 1) * out_ns;
      size_t last = ends ? j - 1 : j;
      for (size_t k = i; k < last; k++)
        feed[k] = in[last - 1 - (k - i)];
      if (ends)
        feed[j - 1] = in[j - 1];
      i = j;
    }
    sink s = {0};
    tack_bar_resampler *r = resampler_new(&s, rc->in_tf, rc->out_tf, TACK_BARS_GAP_SKIP, 0);
    size_t dups = 0;
    for (size_t i = 0; i < n; i++) {
      assert_int_equal(tack_bar_resampler_push(r, &feed[i]), TACK_BARS_APPLIED);
      /* A second copy, unless the first closed its output bar: then the
       * copy is late rather than a duplicate. */
      int closes = feed[i].ts + (int64_t)rc->in_tf * NS == (feed[i].ts / out_ns + 1) * out_ns;
      assert_int_equal(tack_bar_resampler_push(r, &feed[i]),
                       closes ? TACK_BARS_LATE : TACK_BARS_DUPLICATE);
      dups += !closes;
    }
    tack_bar_resampler_close_until(r, end_of_bucket(in[n - 1].ts, rc->out_tf));
    assert_int_equal(s.n_closed, m);
    for (size_t i = 0; i < m; i++)
      assert_bar_equal_reordered(&s.closed[i], &ref[i]);
    const tack_bar_resampler_stats *st = tack_bar_resampler_stats_get(r);
    assert_int_equal(st->duplicates, dups);
    assert_int_equal(st->late, n - dups);
    assert_int_equal(s.drops[TACK_BARS_DUPLICATE], dups);
    if (rc->out_tf / rc->in_tf > 2)
      assert_true(st->out_of_order > 0);
    tack_bar_resampler_free(r);
    sink_free(&s);
    free(feed);
    free(ref);
    free(in);
  }
}

/* Inputs missing: a whole output bucket (skip: no bar; fill: a filler) and
 * the last slot of another (it closes at the next bucket's input). */
static void resampler_real_gaps(void **state) {
  (void)state;
  tack_bar *in;
  size_t n;
  if (load_bars("btcperp_ftx_1m.csv", 60, &in, &n) != 0)
    skip();
  const uint32_t out_tf = 3600;
  int64_t out_ns = (int64_t)out_tf * NS;
  tack_time first = in[0].ts / out_ns * out_ns;
  tack_time hole = first + 5 * out_ns;          /* bucket removed entirely */
  tack_time cut = first + 8 * out_ns - 60 * NS; /* last slot of bucket 7 */
  tack_bar *kept = malloc(n * sizeof *kept);
  assert_non_null(kept);
  size_t nk = 0;
  for (size_t i = 0; i < n; i++)
    if (in[i].ts / out_ns * out_ns != hole && in[i].ts != cut)
      kept[nk++] = in[i];
  size_t m;
  tack_bar *ref = ref_resample(kept, nk, out_tf, &m);
  for (uint32_t gap = 0; gap < 2; gap++) {
    sink s = {0};
    tack_bar_resampler *r = resampler_new(&s, 60, out_tf, gap, 0);
    for (size_t i = 0; i < nk; i++) {
      s.step = i;
      tack_bar_resampler_push(r, &kept[i]);
    }
    s.step = nk;
    tack_bar_resampler_close_until(r, end_of_bucket(kept[nk - 1].ts, out_tf));
    assert_int_equal(s.n_closed, m + gap);
    size_t k = 0;
    for (size_t i = 0; i < s.n_closed; i++) {
      if (s.closed[i].ts == hole && gap) {
        tack_bar want = {hole,
                         ref[k - 1].close,
                         ref[k - 1].close,
                         ref[k - 1].close,
                         ref[k - 1].close,
                         0,
                         out_tf,
                         TACK_BAR_CLOSED | TACK_BAR_FILLER};
        assert_bar_equal(&s.closed[i], &want);
        continue;
      }
      assert_bar_equal(&s.closed[i], &ref[k++]);
    }
    check_close_steps(&s, kept, nk, out_tf);
    tack_bar_resampler_free(r);
    sink_free(&s);
  }
  free(ref);
  free(kept);
  free(in);
}

static void push_to_resampler(void *data, const tack_bar *bar) {
  assert_int_equal(tack_bar_resampler_push(data, bar), TACK_BARS_APPLIED);
}

/* trades -> 1m bars -> 1h bars gives the 1h bars built from trades directly
 * (volume up to summation order), with either gap policy. */
static void builder_into_resampler(void **state) {
  (void)state;
  tack_trade *t;
  size_t n;
  if (load_trades("trades_xrpeth.csv", &t, &n) != 0)
    skip();
  for (uint32_t gap = 0; gap < 2; gap++) {
    sink direct = {0}, chained = {0};
    tack_bar_builder *b1h = builder_new(&direct, 3600, gap, TACK_BARS_PROV_NONE);
    tack_bar_resampler *r = resampler_new(&chained, 60, 3600, gap, 0);
    tack_bar_builder_config cfg;
    tack_bar_builder_config_init(&cfg, 60);
    cfg.gap_policy = gap;
    cfg.on_bar = push_to_resampler;
    cfg.data = r;
    tack_bar_builder *b1m = NULL;
    assert_int_equal(tack_bar_builder_init(&b1m, &cfg), 0);
    for (size_t i = 0; i < n; i++) {
      tack_bar_builder_push(b1h, &t[i]);
      tack_bar_builder_push(b1m, &t[i]);
    }
    tack_time end = end_of_bucket(t[n - 1].ts, 3600) + 2 * 3600 * NS;
    tack_bar_builder_close_until(b1h, end);
    tack_bar_builder_close_until(b1m, end);
    tack_bar_resampler_close_until(r, end);
    assert_int_equal(chained.n_closed, direct.n_closed);
    for (size_t i = 0; i < direct.n_closed; i++)
      assert_bar_equal_reordered(&chained.closed[i], &direct.closed[i]);
    tack_bar_builder_free(b1m);
    tack_bar_builder_free(b1h);
    tack_bar_resampler_free(r);
    sink_free(&direct);
    sink_free(&chained);
  }
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(builder_refuses_bad_config),
      cmocka_unit_test(builder_alloc_failure),
      cmocka_unit_test(builder_hand_sequence),
      cmocka_unit_test(builder_gap_fill_hand),
      cmocka_unit_test(builder_throttle_hand),
      cmocka_unit_test(builder_dedup_window),
      cmocka_unit_test(builder_real_in_order),
      cmocka_unit_test(builder_real_shuffled_duplicated),
      cmocka_unit_test(builder_real_late),
      cmocka_unit_test(builder_real_gap_fill),
      cmocka_unit_test(builder_real_provisional),
      cmocka_unit_test(resampler_refuses_bad_config),
      cmocka_unit_test(resampler_hand_sequence),
      cmocka_unit_test(resampler_gap_fill_hand),
      cmocka_unit_test(resampler_real),
      cmocka_unit_test(resampler_real_provisional),
      cmocka_unit_test(resampler_real_duplicates_out_of_order),
      cmocka_unit_test(resampler_real_gaps),
      cmocka_unit_test(builder_into_resampler),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
