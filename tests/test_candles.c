/*
 * test_candles.c: candles in the store (host/candles.c): key order across
 * symbols, timeframes and negative times, range reads, page reads (what the
 * host's candle services page through) and series info, idempotent puts and
 * replacement counting, atomicity, the layout version record, persistence,
 * the CSV reader's checks and messages, and the real Bitstamp hourly file
 * imported and exported again ($TACK_SHARED_DIR/data, skipped when absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "candles.h"
#include "diag.h"
#include "store.h"

#define NS TACK_NS_PER_SEC
#define HOUR (3600 * NS)

typedef struct fixture {
  char dir[256];
  char path[300];
  tack_store *st;
  tack_candles *cs;
} fixture;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  const char *base = getenv("TMPDIR");
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "%s/tack-candles-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->path, sizeof f->path, "%s/store", f->dir);
  if (tack_store_open(f->path, 0, &f->st) != 0 || tack_candles_open(f->st, &f->cs) != 0)
    return -1;
  *state = f;
  return 0;
}

static void close_store(fixture *f) {
  tack_candles_close(f->cs);
  tack_store_close(f->st);
  f->cs = NULL;
  f->st = NULL;
}

static void reopen_store(fixture *f) {
  close_store(f);
  assert_int_equal(tack_store_open(f->path, 0, &f->st), 0);
  assert_int_equal(tack_candles_open(f->st, &f->cs), 0);
}

static int teardown(void **state) {
  fixture *f = *state;
  close_store(f);
  nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* A valid candle at ts whose values depend on seed. */
static tack_bar candle(tack_time ts, uint32_t tf, double seed) {
  tack_bar b = {ts,           100 + seed,          101 + seed, 99 + seed,
                100.5 + seed, seed < 0 ? 0 : seed, tf,         TACK_BAR_CLOSED};
  return b;
}

/* n candles every step_s seconds from start_s, values from seed0. */
static tack_bar *series(size_t n, int64_t start_s, int64_t step_s, uint32_t tf, double seed0) {
  tack_bar *b = calloc(n ? n : 1, sizeof *b);
  assert_non_null(b);
  for (size_t i = 0; i < n; i++)
    b[i] = candle((start_s + (int64_t)i * step_s) * NS, tf, seed0 + (double)i * 0.25);
  return b;
}

static int same_candle(const tack_bar *a, const tack_bar *b) {
  return a->ts == b->ts && memcmp(&a->open, &b->open, sizeof a->open) == 0 &&
         memcmp(&a->high, &b->high, sizeof a->high) == 0 &&
         memcmp(&a->low, &b->low, sizeof a->low) == 0 &&
         memcmp(&a->close, &b->close, sizeof a->close) == 0 &&
         memcmp(&a->volume, &b->volume, sizeof a->volume) == 0;
}

/* Collects what a read delivers. */
typedef struct collected {
  tack_bar *bars;
  size_t n, cap;
  size_t calls;
  size_t max_batch;
  uint32_t tf;
  int bad_flags;
} collected;

static int collect(void *data, const tack_bar *bars, size_t n) {
  collected *c = data;
  c->calls++;
  if (n > c->max_batch)
    c->max_batch = n;
  if (c->n + n > c->cap) {
    c->cap = (c->n + n) * 2;
    c->bars = realloc(c->bars, c->cap * sizeof *c->bars);
    assert_non_null(c->bars);
  }
  for (size_t i = 0; i < n; i++)
    if (bars[i].timeframe_s != c->tf || bars[i].flags != TACK_BAR_CLOSED)
      c->bad_flags = 1;
  memcpy(c->bars + c->n, bars, n * sizeof *bars);
  c->n += n;
  return 0;
}

static void read_all(tack_candles *cs, const char *sym, uint32_t tf, tack_time from, tack_time to,
                     collected *c) {
  memset(c, 0, sizeof *c);
  c->tf = tf;
  assert_int_equal(tack_candles_read(cs, sym, tf, from, to, collect, c), 0);
  assert_false(c->bad_flags);
}

static void assert_series(tack_candles *cs, const char *sym, uint32_t tf, const tack_bar *want,
                          size_t n) {
  collected c;
  read_all(cs, sym, tf, INT64_MIN, INT64_MAX, &c);
  assert_int_equal(c.n, n);
  for (size_t i = 0; i < n; i++)
    if (!same_candle(&c.bars[i], &want[i]))
      fail_msg("%s/%u: candle %zu differs", sym, (unsigned)tf, i);
  free(c.bars);
}

/* ------------------------------------------------------------------------ */

static void test_key_order(void **state) {
  fixture *f = *state;
  /* Bytewise order, chosen so that prefixes and the separator matter: "BTC"
   * must end before "BTC-PERP" starts, and "A" before "A-B" and "AB". */
  static const char *const syms[] = {"A", "A-B", "AB", "BTC", "BTC-PERP", "BTC/USD", "Z", "a"};
  static const uint32_t tfs[] = {1, 60, 3600, 86400, 604800};
  const size_t nsym = sizeof syms / sizeof syms[0], ntf = sizeof tfs / sizeof tfs[0];

  /* Put in an order unlike the sorted one; each series straddles the epoch. */
  for (size_t j = ntf; j-- > 0;) {
    for (size_t i = 0; i < nsym; i++) {
      size_t n = 50 + i;
      tack_bar *b = series(n, -25 * (int64_t)tfs[j], tfs[j], tfs[j], (double)i);
      tack_candles_stats st;
      assert_int_equal(tack_candles_put(f->cs, syms[i], tfs[j], b, n, NULL, &st), 0);
      assert_int_equal(st.added, n);
      free(b);
    }
  }

  tack_candles_series *list = NULL;
  size_t n = 0;
  assert_int_equal(tack_candles_list(f->cs, &list, &n), 0);
  assert_int_equal(n, nsym * ntf);
  for (size_t i = 0; i < nsym; i++) {
    for (size_t j = 0; j < ntf; j++) {
      const tack_candles_series *s = &list[i * ntf + j];
      assert_string_equal(s->symbol, syms[i]);
      assert_int_equal(s->timeframe_s, tfs[j]);
      assert_int_equal(s->count, 50 + i);
      assert_true(s->first == -25 * (int64_t)tfs[j] * NS);
      assert_true(s->last == (int64_t)(24 + i) * tfs[j] * NS);
    }
  }
  tack_free(NULL, list);

  /* The raw database, in LMDB's order: each series one contiguous run (never
   * two timeframes or symbols interleaved), each run in increasing time. */
  MDB_env *env = tack_store_env(f->st);
  MDB_txn *txn;
  MDB_dbi dbi;
  MDB_cursor *cur;
  MDB_val k, v;
  assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
  assert_int_equal(mdb_dbi_open(txn, "candles", MDB_DUPSORT | MDB_DUPFIXED, &dbi), 0);
  assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
  unsigned char prev_key[80] = {0}, prev_val[TACK_CANDLES_VALUE_SIZE] = {0};
  size_t prev_klen = 0, runs = 0, total = 0;
  while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
    assert_int_equal(v.mv_size, TACK_CANDLES_VALUE_SIZE);
    int same = k.mv_size == prev_klen && memcmp(k.mv_data, prev_key, prev_klen) == 0;
    if (same) {
      assert_true(memcmp(v.mv_data, prev_val, 8) > 0); /* time order is byte order */
    } else {
      if (runs)
        assert_true(memcmp(k.mv_data, prev_key, k.mv_size < prev_klen ? k.mv_size : prev_klen) >=
                    0);
      runs++;
      memcpy(prev_key, k.mv_data, k.mv_size);
      prev_klen = k.mv_size;
    }
    memcpy(prev_val, v.mv_data, sizeof prev_val);
    total++;
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  assert_int_equal(runs, nsym * ntf);
  size_t want = 0;
  for (size_t i = 0; i < nsym; i++)
    want += (50 + i) * ntf;
  assert_int_equal(total, want);

  /* Each series reads back as exactly what was put, negative times first. */
  for (size_t i = 0; i < nsym; i++) {
    for (size_t j = 0; j < ntf; j++) {
      tack_bar *b = series(50 + i, -25 * (int64_t)tfs[j], tfs[j], tfs[j], (double)i);
      assert_series(f->cs, syms[i], tfs[j], b, 50 + i);
      free(b);
    }
  }
}

static void test_extreme_times(void **state) {
  fixture *f = *state;
  /* The most negative and most positive whole seconds int64 ns hold, and
   * times around zero: the sign-flipped encoding must keep their order. */
  const tack_time ts[] = {-INT64_C(9223372036) * NS, -HOUR, -NS, 0, NS, HOUR,
                          INT64_C(9223372036) * NS};
  const size_t n = sizeof ts / sizeof ts[0];
  tack_bar b[sizeof ts / sizeof ts[0]];
  for (size_t i = 0; i < n; i++)
    b[i] = candle(ts[i], 1, (double)i);
  /* One at a time, in a shuffled order, so each goes through the lookup. */
  const size_t order[] = {3, 6, 0, 4, 2, 5, 1};
  for (size_t i = 0; i < n; i++)
    assert_int_equal(tack_candles_put(f->cs, "X", 1, &b[order[i]], 1, NULL, NULL), 0);
  assert_series(f->cs, "X", 1, b, n);

  collected c;
  read_all(f->cs, "X", 1, -NS, NS + 1, &c);
  assert_int_equal(c.n, 3);
  assert_true(c.bars[0].ts == -NS && c.bars[2].ts == NS);
  free(c.bars);
  read_all(f->cs, "X", 1, INT64_MIN, -HOUR, &c);
  assert_int_equal(c.n, 1);
  assert_true(c.bars[0].ts == ts[0]);
  free(c.bars);
}

static void test_range_reads(void **state) {
  fixture *f = *state;
  /* Enough candles for many pages of duplicates (85 to a page). */
  const size_t n = 20000;
  tack_bar *b = series(n, 1599999960, 120, 60, 1.0); /* every other minute */
  assert_int_equal(tack_candles_put(f->cs, "ETH-USD", 60, b, n, NULL, NULL), 0);
  const tack_time t0 = b[0].ts, step = 120 * NS;

  struct {
    tack_time from, to;
    size_t first, count;
  } cases[] = {
      {INT64_MIN, INT64_MAX, 0, n},
      {t0, t0 + 1, 0, 1},
      {t0 - 1, t0, 0, 0},
      {t0 + 1, t0 + step, 0, 0},               /* between two candles */
      {t0 + 1, t0 + step + 1, 1, 1},           /* from between: the next one */
      {t0 + 5 * step, t0 + 9 * step, 5, 4},    /* to is exclusive */
      {t0 + 84 * step, t0 + 86 * step, 84, 2}, /* across a page boundary */
      {t0 + 1000 * step, t0 + 19999 * step + 1, 1000, 19000},
      {t0 + (tack_time)n * step, INT64_MAX, 0, 0}, /* after the end */
      {INT64_MIN, t0, 0, 0},                       /* before the start */
      {t0 + 10 * step, t0 + 10 * step, 0, 0},      /* empty */
      {t0 + 10 * step, t0 + 5 * step, 0, 0},       /* reversed */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    collected c;
    read_all(f->cs, "ETH-USD", 60, cases[i].from, cases[i].to, &c);
    if (c.n != cases[i].count)
      fail_msg("case %zu: %zu candles, want %zu", i, c.n, cases[i].count);
    for (size_t j = 0; j < c.n; j++)
      assert_true(same_candle(&c.bars[j], &b[cases[i].first + j]));
    assert_true(c.max_batch <= 256);
    free(c.bars);
  }

  /* Random ranges against the array. */
  srand(7);
  for (int r = 0; r < 200; r++) {
    tack_time from = t0 + (tack_time)(rand() % (int)(n + 10)) * 60 * NS - 5 * step;
    tack_time to = from + (tack_time)(rand() % 3000) * 60 * NS;
    size_t want = 0, first = SIZE_MAX;
    for (size_t j = 0; j < n; j++) {
      if (b[j].ts >= from && b[j].ts < to) {
        if (first == SIZE_MAX)
          first = j;
        want++;
      }
    }
    collected c;
    read_all(f->cs, "ETH-USD", 60, from, to, &c);
    assert_int_equal(c.n, want);
    for (size_t j = 0; j < c.n; j++)
      assert_true(same_candle(&c.bars[j], &b[first + j]));
    free(c.bars);
  }

  /* Absent series and bad arguments. */
  collected c = {0};
  assert_int_equal(tack_candles_read(f->cs, "ETH-USD", 3600, INT64_MIN, INT64_MAX, collect, &c),
                   TACK_ENOENT);
  assert_int_equal(tack_candles_read(f->cs, "ETH-US", 60, INT64_MIN, INT64_MAX, collect, &c),
                   TACK_ENOENT);
  assert_int_equal(tack_candles_read(f->cs, "", 60, INT64_MIN, INT64_MAX, collect, &c),
                   TACK_EINVAL);
  assert_int_equal(c.n, 0);
  free(b);
}

static int stop_after_first(void *data, const tack_bar *bars, size_t n) {
  (void)bars;
  *(size_t *)data += n;
  return 42;
}

static void test_read_stops_when_asked(void **state) {
  fixture *f = *state;
  tack_bar *b = series(1000, 0, 60, 60, 0);
  assert_int_equal(tack_candles_put(f->cs, "S", 60, b, 1000, NULL, NULL), 0);
  size_t seen = 0;
  assert_int_equal(tack_candles_read(f->cs, "S", 60, INT64_MIN, INT64_MAX, stop_after_first, &seen),
                   42);
  assert_true(seen > 0 && seen <= 256);
  /* The handle's read transaction is usable again afterwards. */
  assert_series(f->cs, "S", 60, b, 1000);
  free(b);
}

/* Pages through [from, to) with tack_candles_read_page(), cap candles at a
 * time, as the candle services do; returns the candles read (malloc'd). */
static tack_bar *read_pages(tack_candles *cs, const char *sym, uint32_t tf, tack_time from,
                            tack_time to, size_t cap, size_t *total, size_t *pages) {
  tack_bar *page = calloc(cap, sizeof *page);
  tack_bar *all = NULL;
  size_t n = 0, got;
  assert_non_null(page);
  *pages = 0;
  for (;;) {
    assert_int_equal(tack_candles_read_page(cs, sym, tf, from, to, page, cap, &got), 0);
    (*pages)++;
    assert_true(got <= cap);
    if (got == 0)
      break;
    all = realloc(all, (n + got) * sizeof *all);
    assert_non_null(all);
    for (size_t i = 0; i < got; i++) {
      assert_int_equal(page[i].timeframe_s, tf);
      assert_int_equal(page[i].flags, TACK_BAR_CLOSED);
    }
    memcpy(all + n, page, got * sizeof *page);
    n += got;
    from = page[got - 1].ts + 1;
  }
  free(page);
  *total = n;
  return all;
}

static void test_page_reads(void **state) {
  fixture *f = *state;
  const size_t n = 20000;
  tack_bar *b = series(n, 1599999960, 120, 60, 1.0);
  assert_int_equal(tack_candles_put(f->cs, "ETH-USD", 60, b, n, NULL, NULL), 0);
  const tack_time t0 = b[0].ts, step = 120 * NS;

  /* Every page size, including ones that end on and across the 85 values
   * of a page of duplicates: the pages join up to the whole series. */
  const size_t caps[] = {1, 2, 84, 85, 86, 170, 1000, 4096, 19999, 20000, 25000};
  for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
    size_t total, pages;
    tack_bar *got = read_pages(f->cs, "ETH-USD", 60, INT64_MIN, INT64_MAX, caps[k], &total, &pages);
    if (total != n)
      fail_msg("cap %zu: %zu candles, want %zu", caps[k], total, n);
    for (size_t j = 0; j < n; j++)
      if (!same_candle(&got[j], &b[j]))
        fail_msg("cap %zu: candle %zu differs", caps[k], j);
    assert_int_equal(pages, (n + caps[k] - 1) / caps[k] + 1); /* the last one is empty */
    free(got);
  }

  /* Random ranges and page sizes against the array. */
  srand(11);
  for (int r = 0; r < 200; r++) {
    tack_time from = t0 + (tack_time)(rand() % (int)(n + 10)) * 60 * NS - 5 * step;
    tack_time to = from + (tack_time)(rand() % 3000) * 60 * NS;
    size_t cap = 1 + (size_t)(rand() % 300), want = 0, first = SIZE_MAX, total, pages;
    for (size_t j = 0; j < n; j++) {
      if (b[j].ts >= from && b[j].ts < to) {
        if (first == SIZE_MAX)
          first = j;
        want++;
      }
    }
    tack_bar *got = read_pages(f->cs, "ETH-USD", 60, from, to, cap, &total, &pages);
    assert_int_equal(total, want);
    for (size_t j = 0; j < total; j++)
      assert_true(same_candle(&got[j], &b[first + j]));
    free(got);
  }

  /* A series of one candle (kept in the key's node) and of two. */
  tack_bar one[2];
  size_t got = 9;
  assert_int_equal(tack_candles_put(f->cs, "ONE", 60, b, 1, NULL, NULL), 0);
  assert_int_equal(tack_candles_read_page(f->cs, "ONE", 60, INT64_MIN, INT64_MAX, one, 2, &got), 0);
  assert_int_equal(got, 1);
  assert_true(same_candle(&one[0], &b[0]));
  assert_int_equal(tack_candles_read_page(f->cs, "ONE", 60, t0 + 1, INT64_MAX, one, 2, &got), 0);
  assert_int_equal(got, 0);
  assert_int_equal(tack_candles_put(f->cs, "TWO", 60, b, 2, NULL, NULL), 0);
  assert_int_equal(tack_candles_read_page(f->cs, "TWO", 60, t0 + 1, INT64_MAX, one, 2, &got), 0);
  assert_int_equal(got, 1);
  assert_true(same_candle(&one[0], &b[1]));

  /* cap 0 reads nothing but still tells an absent series; bad arguments. */
  got = 9;
  assert_int_equal(
      tack_candles_read_page(f->cs, "ETH-USD", 60, INT64_MIN, INT64_MAX, NULL, 0, &got), 0);
  assert_int_equal(got, 0);
  got = 9;
  assert_int_equal(
      tack_candles_read_page(f->cs, "ETH-USD", 3600, INT64_MIN, INT64_MAX, one, 2, &got),
      TACK_ENOENT);
  assert_int_equal(got, 0);
  assert_int_equal(tack_candles_read_page(f->cs, "", 60, INT64_MIN, INT64_MAX, one, 2, &got),
                   TACK_EINVAL);
  assert_int_equal(tack_candles_read_page(f->cs, "ETH-USD", 0, INT64_MIN, INT64_MAX, one, 2, &got),
                   TACK_EINVAL);
  assert_int_equal(
      tack_candles_read_page(f->cs, "ETH-USD", 60, INT64_MIN, INT64_MAX, NULL, 2, &got),
      TACK_EINVAL);
  assert_int_equal(tack_candles_read_page(f->cs, "ETH-USD", 60, INT64_MIN, INT64_MAX, one, 2, NULL),
                   TACK_EINVAL);
  /* A page read and a callback read share the handle's transaction. */
  assert_series(f->cs, "ETH-USD", 60, b, n);
  free(b);
}

static void test_info(void **state) {
  fixture *f = *state;
  tack_bar *b = series(500, -3000, 60, 60, 2.0);
  assert_int_equal(tack_candles_put(f->cs, "SOL-USD", 60, b, 500, NULL, NULL), 0);
  uint64_t count = 0;
  tack_time first = 0, last = 0;
  assert_int_equal(tack_candles_info(f->cs, "SOL-USD", 60, &count, &first, &last), 0);
  assert_int_equal(count, 500);
  assert_true(first == b[0].ts && last == b[499].ts);
  assert_int_equal(tack_candles_info(f->cs, "SOL-USD", 60, NULL, NULL, NULL), 0);
  assert_int_equal(tack_candles_put(f->cs, "SOL", 60, b, 1, NULL, NULL), 0);
  assert_int_equal(tack_candles_info(f->cs, "SOL", 60, &count, &first, &last), 0);
  assert_int_equal(count, 1);
  assert_true(first == b[0].ts && last == b[0].ts);
  assert_int_equal(tack_candles_info(f->cs, "SOL-USD", 300, &count, NULL, NULL), TACK_ENOENT);
  assert_int_equal(tack_candles_info(f->cs, "SOL-US", 60, &count, NULL, NULL), TACK_ENOENT);
  assert_int_equal(tack_candles_info(f->cs, "SOL USD", 60, &count, NULL, NULL), TACK_EINVAL);
  assert_int_equal(tack_candles_info(f->cs, "SOL-USD", 0, &count, NULL, NULL), TACK_EINVAL);
  uint64_t deleted = 0;
  assert_int_equal(tack_candles_delete(f->cs, "SOL-USD", 60, &deleted), 0);
  assert_int_equal(tack_candles_info(f->cs, "SOL-USD", 60, &count, NULL, NULL), TACK_ENOENT);
  free(b);
}

static uint64_t last_txn_id(fixture *f) {
  MDB_envinfo info;
  assert_int_equal(mdb_env_info(tack_store_env(f->st), &info), 0);
  return (uint64_t)info.me_last_txnid;
}

static void test_idempotent_put(void **state) {
  fixture *f = *state;
  const size_t n = 3000;
  tack_bar *b = series(n, 1526364000, 3600, 3600, 5.0);
  tack_candles_stats st;
  uint8_t *status = malloc(n);
  assert_non_null(status);
  assert_int_equal(tack_candles_put(f->cs, "BTC-USD", 3600, b, n, status, &st), 0);
  assert_int_equal(st.added, n);
  assert_int_equal(st.replaced + st.unchanged, 0);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(status[i], TACK_CANDLE_ADDED);

  /* The same candles again: nothing changes, not even the transaction id. */
  uint64_t txn = last_txn_id(f);
  assert_int_equal(tack_candles_put(f->cs, "BTC-USD", 3600, b, n, status, &st), 0);
  assert_int_equal(st.unchanged, n);
  assert_int_equal(st.added + st.replaced, 0);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(status[i], TACK_CANDLE_UNCHANGED);
  assert_int_equal(last_txn_id(f), txn);

  /* An overlapping part of it: still nothing. */
  assert_int_equal(tack_candles_put(f->cs, "BTC-USD", 3600, b + 1000, 500, NULL, &st), 0);
  assert_int_equal(st.unchanged, 500);
  assert_int_equal(last_txn_id(f), txn);
  assert_series(f->cs, "BTC-USD", 3600, b, n);
  free(status);
  free(b);
}

static void test_replace_counting(void **state) {
  fixture *f = *state;
  /* Stored: every other hour, 0..1998 h. Then a batch that overlaps it,
   * fills holes, changes three candles and runs past the end. */
  const size_t n = 1000;
  tack_bar *old = series(n, 0, 7200, 3600, 1.0);
  assert_int_equal(tack_candles_put(f->cs, "S", 3600, old, n, NULL, NULL), 0);

  const size_t m = 3000; /* hours 0..2999 */
  tack_bar *b = calloc(m, sizeof *b);
  uint8_t *status = malloc(m);
  assert_non_null(b);
  assert_non_null(status);
  for (size_t h = 0; h < m; h++)
    b[h] = (h % 2 == 0 && h / 2 < n) ? old[h / 2] : candle((tack_time)h * HOUR, 3600, 50.0 + h);
  const size_t changed[] = {0, 500, 1998}; /* hours: first, middle and last stored */
  for (size_t i = 0; i < 3; i++) {
    b[changed[i]].close = b[changed[i]].low; /* still a valid candle */
    b[changed[i]].volume += 1;
  }
  tack_candles_stats st;
  assert_int_equal(tack_candles_put(f->cs, "S", 3600, b, m, status, &st), 0);
  assert_int_equal(st.replaced, 3);
  assert_int_equal(st.unchanged, n - 3);
  assert_int_equal(st.added, m - n);
  for (size_t h = 0; h < m; h++) {
    uint8_t want = TACK_CANDLE_ADDED;
    if (h % 2 == 0 && h / 2 < n)
      want = (h == 0 || h == 500 || h == 1998) ? TACK_CANDLE_REPLACED : TACK_CANDLE_UNCHANGED;
    if (status[h] != want)
      fail_msg("hour %zu: status %u, want %u", h, status[h], want);
  }
  assert_series(f->cs, "S", 3600, b, m);

  tack_candles_series *list = NULL;
  size_t ns = 0;
  assert_int_equal(tack_candles_list(f->cs, &list, &ns), 0);
  assert_int_equal(ns, 1);
  assert_int_equal(list[0].count, m);
  tack_free(NULL, list);
  free(status);
  free(b);
  free(old);
}

static void test_append_shapes(void **state) {
  fixture *f = *state;
  /* LMDB keeps 1 duplicate in the node, a few in a sub-page, many in a
   * sub-database: grow one series through all three, by appends and by
   * inserts before the start, and read it back each time. */
  const size_t n = 5000;
  tack_bar *b = series(n, 0, 60, 60, 2.0);
  const size_t steps[][2] = {{2500, 1},    {2501, 2}, {2503, 5}, {2508, 1000},
                             {3508, 1492}, {2499, 1}, {0, 2499}}; /* {first index, count} */
  size_t lo = 2500, hi = 2500;
  for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
    tack_candles_stats st;
    assert_int_equal(tack_candles_put(f->cs, "S", 60, b + steps[s][0], steps[s][1], NULL, &st), 0);
    assert_int_equal(st.added, steps[s][1]);
    lo = steps[s][0] < lo ? steps[s][0] : lo;
    hi = steps[s][0] + steps[s][1] > hi ? steps[s][0] + steps[s][1] : hi;
    assert_series(f->cs, "S", 60, b + lo, hi - lo);
  }
  assert_int_equal(hi - lo, n);

  /* A candle replaced inside a sub-page of a few duplicates. */
  tack_bar few[3] = {candle(0, 60, 1.0), candle(60 * NS, 60, 2.0), candle(120 * NS, 60, 3.0)};
  assert_int_equal(tack_candles_put(f->cs, "FEW", 60, few, 3, NULL, NULL), 0);
  few[1].high += 1;
  tack_candles_stats st;
  assert_int_equal(tack_candles_put(f->cs, "FEW", 60, few, 3, NULL, &st), 0);
  assert_int_equal(st.replaced, 1);
  assert_int_equal(st.unchanged, 2);
  assert_series(f->cs, "FEW", 60, few, 3);

  /* A single candle replaced in place, then read as the lone value. */
  tack_bar one = candle(0, 60, 1.0);
  assert_int_equal(tack_candles_put(f->cs, "ONE", 60, &one, 1, NULL, NULL), 0);
  one.volume = 9;
  assert_int_equal(tack_candles_put(f->cs, "ONE", 60, &one, 1, NULL, &st), 0);
  assert_int_equal(st.replaced, 1);
  assert_series(f->cs, "ONE", 60, &one, 1);
  free(b);
}

static void test_put_refuses_bad_batches(void **state) {
  fixture *f = *state;
  tack_bar *b = series(100, 0, 60, 60, 1.0);
  uint64_t txn = last_txn_id(f);
  char long_sym[TACK_CANDLES_SYMBOL_MAX + 2];
  memset(long_sym, 'A', sizeof long_sym - 1);
  long_sym[sizeof long_sym - 1] = '\0';

  assert_int_equal(tack_candles_put(f->cs, "", 60, b, 100, NULL, NULL), TACK_EINVAL);
  assert_int_equal(tack_candles_put(f->cs, "BTC USD", 60, b, 100, NULL, NULL), TACK_EINVAL);
  assert_int_equal(tack_candles_put(f->cs, "BTC\tUSD", 60, b, 100, NULL, NULL), TACK_EINVAL);
  assert_int_equal(tack_candles_put(f->cs, long_sym, 60, b, 100, NULL, NULL), TACK_EINVAL);
  long_sym[TACK_CANDLES_SYMBOL_MAX] = '\0'; /* exactly the longest */
  assert_int_equal(tack_candles_symbol_check(long_sym), 0);
  assert_int_equal(tack_candles_put(f->cs, "S", 0, b, 100, NULL, NULL), TACK_EINVAL);

  /* A bad candle at the very end: nothing of the batch is stored. */
  b[99].high = b[99].low - 1;
  assert_int_equal(tack_candles_put(f->cs, "S", 60, b, 100, NULL, NULL), TACK_EINVAL);
  b[99] = candle(99 * 60 * NS, 60, 1.0);
  b[99].volume = NAN;
  assert_int_equal(tack_candles_put(f->cs, "S", 60, b, 100, NULL, NULL), TACK_EINVAL);
  b[99] = candle(98 * 60 * NS, 60, 1.0); /* not after the one before */
  assert_int_equal(tack_candles_put(f->cs, "S", 60, b, 100, NULL, NULL), TACK_EINVAL);
  b[99] = candle(99 * 60 * NS + NS, 60, 1.0); /* off the minute grid */
  assert_int_equal(tack_candles_put(f->cs, "S", 60, b, 100, NULL, NULL), TACK_EINVAL);
  assert_int_equal(last_txn_id(f), txn);

  collected c = {0};
  assert_int_equal(tack_candles_read(f->cs, "S", 60, INT64_MIN, INT64_MAX, collect, &c),
                   TACK_ENOENT);
  tack_candles_stats st = {1, 1, 1};
  assert_int_equal(tack_candles_put(f->cs, "S", 60, NULL, 0, NULL, &st), 0);
  assert_int_equal(st.added + st.replaced + st.unchanged, 0);
  free(b);
}

static void test_candle_check_messages(void **state) {
  (void)state;
  char why[256];
  tack_bar b = candle(3600 * NS, 3600, 0);
  assert_int_equal(tack_candle_check(&b, 3600, why, sizeof why), 0);
  b.high = 99.5;
  assert_int_equal(tack_candle_check(&b, 3600, why, sizeof why), TACK_EINVAL);
  assert_non_null(strstr(why, "high 99.5 is below open 100"));
  b = candle(3600 * NS, 3600, 0);
  b.low = 100.25;
  assert_int_equal(tack_candle_check(&b, 3600, why, sizeof why), TACK_EINVAL);
  assert_non_null(strstr(why, "low 100.25 is above open 100"));
  b = candle(3600 * NS, 3600, 0);
  b.volume = -1;
  assert_int_equal(tack_candle_check(&b, 3600, why, sizeof why), TACK_EINVAL);
  assert_non_null(strstr(why, "volume -1 is negative"));
  b = candle(3601 * NS, 3600, 0);
  assert_int_equal(tack_candle_check(&b, 3600, why, sizeof why), TACK_EINVAL);
  assert_non_null(strstr(why, "ts 3601 is not on the timeframe's grid"));
  b = candle(-3600 * NS, 3600, 0); /* negative times are on the grid too */
  assert_int_equal(tack_candle_check(&b, 3600, why, sizeof why), 0);
  b.open = INFINITY;
  assert_int_equal(tack_candle_check(&b, 3600, NULL, 0), TACK_EINVAL);
}

static void test_persists_across_reopen(void **state) {
  fixture *f = *state;
  tack_bar *b = series(2000, 999993600, 300, 300, 3.0);
  tack_bar *e = series(10, 999993600, 86400, 86400, 4.0);
  assert_int_equal(tack_candles_put(f->cs, "SOL-USD", 300, b, 2000, NULL, NULL), 0);
  assert_int_equal(tack_candles_put(f->cs, "SOL-USD", 86400, e, 10, NULL, NULL), 0);
  reopen_store(f);
  assert_series(f->cs, "SOL-USD", 300, b, 2000);
  assert_series(f->cs, "SOL-USD", 86400, e, 10);

  uint64_t deleted = 0;
  assert_int_equal(tack_candles_delete(f->cs, "SOL-USD", 300, &deleted), 0);
  assert_int_equal(deleted, 2000);
  assert_int_equal(tack_candles_delete(f->cs, "SOL-USD", 300, NULL), TACK_ENOENT);
  reopen_store(f);
  collected c = {0};
  assert_int_equal(tack_candles_read(f->cs, "SOL-USD", 300, INT64_MIN, INT64_MAX, collect, &c),
                   TACK_ENOENT);
  assert_series(f->cs, "SOL-USD", 86400, e, 10);
  free(b);
  free(e);
}

/* Writes candles_layout straight through LMDB: size bytes of ver (LE), or
 * deletes the record when size is 0. */
static void force_layout(fixture *f, uint32_t ver, size_t size) {
  MDB_env *env;
  MDB_txn *txn;
  MDB_dbi dbi;
  unsigned char le[8] = {0};
  for (int i = 0; i < 4; i++)
    le[i] = (unsigned char)(ver >> (8 * i));
  close_store(f);
  assert_int_equal(mdb_env_create(&env), 0);
  assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
  assert_int_equal(mdb_env_open(env, f->path, 0, 0600), 0);
  assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
  assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
  MDB_val k = {14, "candles_layout"}, v = {size, le};
  if (size)
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
  else
    assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
  assert_int_equal(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
  assert_int_equal(tack_store_open(f->path, 0, &f->st), 0);
}

static void test_layout_version(void **state) {
  fixture *f = *state;
  tack_bar *b = series(10, 0, 60, 60, 1.0);
  assert_int_equal(tack_candles_put(f->cs, "S", 60, b, 10, NULL, NULL), 0);

  /* A newer layout is refused, and the store is left as it was. */
  force_layout(f, TACK_CANDLES_LAYOUT + 1, 4);
  assert_int_equal(tack_candles_open(f->st, &f->cs), TACK_ENOTSUP);
  assert_null(f->cs);
  force_layout(f, 0, 4);
  assert_int_equal(tack_candles_open(f->st, &f->cs), TACK_EPARSE);
  force_layout(f, TACK_CANDLES_LAYOUT, 8);
  assert_int_equal(tack_candles_open(f->st, &f->cs), TACK_EPARSE);
  /* Candles without a layout record are not adopted either. */
  force_layout(f, 0, 0);
  assert_int_equal(tack_candles_open(f->st, &f->cs), TACK_EPARSE);

  force_layout(f, TACK_CANDLES_LAYOUT, 4);
  assert_int_equal(tack_candles_open(f->st, &f->cs), 0);
  assert_series(f->cs, "S", 60, b, 10);
  free(b);
}

static void test_map_full_writes_nothing(void **state) {
  fixture *f = *state;
  char path[320];
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  snprintf(path, sizeof path, "%s/small", f->dir);
  assert_int_equal(tack_store_open(path, (size_t)1 << 20, &st), 0); /* 1 MiB */
  assert_int_equal(tack_candles_open(st, &cs), 0);
  tack_bar *b = series(100000, 0, 60, 60, 1.0); /* ~4.8 MB of candles */
  assert_int_equal(tack_candles_put(cs, "S", 60, b, 100000, NULL, NULL), TACK_ENOSPC);
  tack_candles_series *list = NULL;
  size_t n = 1;
  assert_int_equal(tack_candles_list(cs, &list, &n), 0);
  assert_int_equal(n, 0);
  assert_null(list);
  /* Still usable for what fits. */
  assert_int_equal(tack_candles_put(cs, "S", 60, b, 1000, NULL, NULL), 0);
  assert_series(cs, "S", 60, b, 1000);
  tack_candles_close(cs);
  tack_store_close(st);
  free(b);
}

/* ------------------------------------------------------------------------ */
/* CSV                                                                       */
/* ------------------------------------------------------------------------ */

static void test_seconds(void **state) {
  (void)state;
  struct {
    const char *text;
    int rc;
    tack_time ns;
  } cases[] = {
      {"0", 0, 0},
      {"1526364000", 0, INT64_C(1526364000) * NS},
      {"1526364000.5", 0, INT64_C(1526364000500000000)},
      {"1526364000.000000001", 0, INT64_C(1526364000000000001)},
      {"-1.5", 0, -INT64_C(1500000000)},
      {"-0.000000001", 0, -1},
      {"9223372036.854775807", 0, INT64_MAX},
      {"-9223372036.854775808", 0, INT64_MIN},
      {"9223372036.854775808", TACK_ERANGE, 0},
      {"-9223372036.854775809", TACK_ERANGE, 0},
      {"99999999999999999999999", TACK_ERANGE, 0},
      {"1.1234567891", TACK_EPARSE, 0},
      {"", TACK_EPARSE, 0},
      {"-", TACK_EPARSE, 0},
      {".5", TACK_EPARSE, 0},
      {"1.", TACK_EPARSE, 0},
      {"+1", TACK_EPARSE, 0},
      {"1e9", TACK_EPARSE, 0},
      {" 1", TACK_EPARSE, 0},
      {"1 ", TACK_EPARSE, 0},
      {"0x10", TACK_EPARSE, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tack_time t = 12345;
    int rc = tack_candles_parse_seconds(cases[i].text, strlen(cases[i].text), &t);
    if (rc != cases[i].rc)
      fail_msg("\"%s\": %s, want %s", cases[i].text, tack_err_name(rc), tack_err_name(cases[i].rc));
    if (rc == 0) {
      assert_true(t == cases[i].ns);
      char buf[32];
      tack_candles_format_seconds(t, buf, sizeof buf);
      tack_time back;
      assert_int_equal(tack_candles_parse_seconds(buf, strlen(buf), &back), 0);
      assert_true(back == t);
    }
  }
  char buf[32];
  tack_candles_format_seconds(-INT64_C(1500000000), buf, sizeof buf);
  assert_string_equal(buf, "-1.5");
  tack_candles_format_seconds(INT64_C(1526364000) * NS, buf, sizeof buf);
  assert_string_equal(buf, "1526364000");
  tack_candles_format_seconds(INT64_MIN, buf, sizeof buf);
  assert_string_equal(buf, "-9223372036.854775808");
}

/* Parses text for timeframe tf; returns the code, fills the rest. */
static int parse_text(const char *text, uint32_t tf, tack_bar **out, size_t *n, size_t *n_bad,
                      tack_diag *d) {
  return tack_candles_csv_parse("f.csv", text, strlen(text), tf, out, n, n_bad, 20, d);
}

static int diag_has(const tack_diag *d, const char *needle) {
  for (size_t i = 0; i < d->n; i++)
    if (strstr(d->msgs[i], needle))
      return 1;
  return 0;
}

static void test_csv_accepts(void **state) {
  (void)state;
  tack_bar *b = NULL;
  size_t n = 0, bad = 9;
  tack_diag d = TACK_DIAG_INIT;
  /* CRLF, no final line end, fractional ts on the grid, exponents, -0. */
  const char *text = "ts,open,high,low,close,volume\r\n"
                     "-60,1,2,0.5,1.5,0\r\n"
                     "0.000,1.5e0,2,1,1,-0\r\n"
                     "60,+1,2E1,1,1.0,3.25e-3";
  assert_int_equal(parse_text(text, 60, &b, &n, &bad, &d), 0);
  assert_int_equal(d.n, 0);
  assert_int_equal(bad, 0);
  assert_int_equal(n, 3);
  assert_true(b[0].ts == -60 * NS && b[1].ts == 0 && b[2].ts == 60 * NS);
  assert_true(b[1].open == 1.5 && b[2].high == 20 && b[2].volume == 3.25e-3);
  assert_true(b[0].timeframe_s == 60 && b[0].flags == TACK_BAR_CLOSED);
  tack_free(NULL, b);

  /* A byte order mark, and blank lines that end the file. */
  const char *bom = "\xef\xbb\xbfts,open,high,low,close,volume\n0,1,1,1,1,1\n\n\r\n\n";
  assert_int_equal(parse_text(bom, 60, &b, &n, &bad, &d), 0);
  assert_int_equal(n, 1);
  tack_free(NULL, b);
  /* A blank line followed by a row is still an error. */
  const char *gap = "ts,open,high,low,close,volume\n0,1,1,1,1,1\n\n60,1,1,1,1,1\n";
  assert_int_equal(parse_text(gap, 60, &b, &n, &bad, &d), TACK_EPARSE);
  assert_true(diag_has(&d, "f.csv:3: empty line"));
  tack_diag_free(&d);
}

static void test_csv_reports_every_bad_line(void **state) {
  (void)state;
  tack_bar *b = NULL;
  size_t n = 7, bad = 0;
  tack_diag d = TACK_DIAG_INIT;
  const char *text = "ts,open,high,low,close,volume\n" /* 1 */
                     "0,1,2,0.5,1.5,10\n"              /* 2 ok */
                     "3600,1,2,0.5,1.5\n"              /* 3 five fields */
                     "7200,1,2,0.5,1.5,10,1\n"         /* 4 seven fields */
                     "10800,1,2,0.5,abc,10\n"          /* 5 close not a number */
                     "14400,1,2,0.5,1.5,-1\n"          /* 6 negative volume */
                     "18000,1,0.9,0.5,1.5,1\n"         /* 7 high below open */
                     "21601,1,2,0.5,1.5,1\n"           /* 8 off the grid */
                     "21600,1,2,0.5,1.5,1\n"           /* 9 not after line 8's time */
                     "\n"                              /* 10 blank */
                     "25200, 1,2,0.5,1.5,1\n"          /* 11 space */
                     "28800,inf,2,0.5,1.5,1\n"         /* 12 inf */
                     "32400,nan,2,0.5,1.5,1\n"         /* 13 nan */
                     "36000,0x1,2,0.5,1.5,1\n"         /* 14 hex */
                     "39600,1,2,0.5,1.5,1e999\n"       /* 15 overflow */
                     "2e4,1,2,0.5,1.5,1\n"             /* 16 ts exponent */
                     "43200,1,2,0.5,1.5,1\n"           /* 17 ok */
                     "43200,1,2,0.5,1.5,1\n";          /* 18 duplicate */
  assert_int_equal(parse_text(text, 3600, &b, &n, &bad, &d), TACK_EPARSE);
  assert_null(b);
  assert_int_equal(n, 0);
  assert_int_equal(bad, 15);
  assert_int_equal(d.n, 15);
  const char *want[] = {
      "f.csv:3: 5 fields, expected 6",
      "f.csv:4: 7 fields, expected 6",
      "f.csv:5: close \"abc\" is not a decimal number",
      "f.csv:6: volume -1 is negative",
      "f.csv:7: high 0.9 is below open 1",
      "f.csv:8: ts 21601 is not on the timeframe's grid",
      "f.csv:9: ts 21600 is not after 21601 (line 8)",
      "f.csv:10: empty line",
      "f.csv:11: open \" 1\" is not a decimal number",
      "f.csv:12: open \"inf\" is not a decimal number",
      "f.csv:13: open \"nan\" is not a decimal number",
      "f.csv:14: open \"0x1\" is not a decimal number",
      "f.csv:15: volume \"1e999\" is out of range",
      "f.csv:16: ts \"2e4\" is not UNIX seconds",
      "f.csv:18: ts 43200 is not after 43200 (line 17)",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    if (!diag_has(&d, want[i]))
      fail_msg("no message \"%s\"", want[i]);
  tack_diag_free(&d);
}

static void test_csv_whole_file_problems(void **state) {
  (void)state;
  tack_bar *b = NULL;
  size_t n = 0, bad = 0;
  tack_diag d = TACK_DIAG_INIT;

  assert_int_equal(parse_text("", 60, &b, &n, &bad, &d), TACK_EPARSE);
  assert_true(diag_has(&d, "f.csv: the file is empty"));
  tack_diag_free(&d);
  assert_int_equal(parse_text("ts,open,high,low,close,volume\n", 60, &b, &n, &bad, &d),
                   TACK_EPARSE);
  assert_true(diag_has(&d, "f.csv: no candles after the header"));
  tack_diag_free(&d);
  assert_int_equal(
      parse_text("time,open,high,low,close,volume\n0,1,1,1,1,1\n", 60, &b, &n, &bad, &d),
      TACK_EPARSE);
  assert_true(diag_has(&d, "f.csv:1: the header is \"time,open,high,low,close,volume\""));
  tack_diag_free(&d);
  assert_int_equal(parse_text("ts,open,high,low,close,volume\n0,1,1,1,1,1\n", 0, &b, &n, &bad, &d),
                   TACK_EINVAL);

  /* Many bad lines: all counted, the first max_msgs reported. */
  size_t cap = 100000;
  char *text = malloc(cap);
  assert_non_null(text);
  size_t len = (size_t)snprintf(text, cap, "%s\n", TACK_CANDLES_CSV_HEADER);
  for (int i = 0; i < 1000; i++)
    len += (size_t)snprintf(text + len, cap - len, "%d,1,1,1,1,%s\n", i * 60, i % 2 ? "x" : "1");
  assert_int_equal(tack_candles_csv_parse("g.csv", text, len, 60, &b, &n, &bad, 20, &d),
                   TACK_EPARSE);
  assert_int_equal(bad, 500);
  assert_int_equal(d.n, 20);
  assert_true(diag_has(&d, "g.csv:3: volume \"x\""));
  tack_diag_free(&d);
  free(text);

  assert_int_equal(tack_candles_csv_load("/nonexistent/x.csv", 60, &b, &n, &bad, 20, &d), TACK_EIO);
  assert_true(diag_has(&d, "/nonexistent/x.csv: cannot open"));
  tack_diag_free(&d);
}

/* An import as `tack data import` does it: load, then put. */
static int import_text(fixture *f, const char *sym, uint32_t tf, const char *text,
                       tack_candles_stats *st) {
  tack_bar *b = NULL;
  size_t n = 0;
  tack_diag d = TACK_DIAG_INIT;
  int rc = tack_candles_csv_parse("t.csv", text, strlen(text), tf, &b, &n, NULL, 20, &d);
  tack_diag_free(&d);
  if (rc == 0)
    rc = tack_candles_put(f->cs, sym, tf, b, n, NULL, st);
  tack_free(NULL, b);
  return rc;
}

static void test_bad_last_row_imports_nothing(void **state) {
  fixture *f = *state;
  const char *good = "ts,open,high,low,close,volume\n0,1,2,0.5,1,1\n60,1,2,0.5,1,1\n";
  const char *bad = "ts,open,high,low,close,volume\n0,1,2,0.5,1.25,1\n60,1,2,0.5,1,1\n"
                    "120,1,2,0.5,1,1\n180,1,2,0.5,1,-5\n";
  tack_candles_stats st;
  assert_int_equal(import_text(f, "S", 60, bad, &st), TACK_EPARSE);
  collected c = {0};
  assert_int_equal(tack_candles_read(f->cs, "S", 60, INT64_MIN, INT64_MAX, collect, &c),
                   TACK_ENOENT);
  assert_int_equal(import_text(f, "S", 60, good, &st), 0);
  assert_int_equal(st.added, 2);
  /* The bad file again, now over stored candles: they stay as they were. */
  assert_int_equal(import_text(f, "S", 60, bad, &st), TACK_EPARSE);
  read_all(f->cs, "S", 60, INT64_MIN, INT64_MAX, &c);
  assert_int_equal(c.n, 2);
  assert_true(c.bars[0].close == 1);
  free(c.bars);
}

/* Export as `tack data export` does it, into a malloc'd string. */
typedef struct text_buf {
  char *s;
  size_t len, cap;
} text_buf;

static void text_add(text_buf *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    t->cap = (t->len + n + 1) * 2;
    t->s = realloc(t->s, t->cap);
    assert_non_null(t->s);
  }
  memcpy(t->s + t->len, s, n);
  t->len += n;
  t->s[t->len] = '\0';
}

static int export_rows(void *data, const tack_bar *bars, size_t n) {
  char row[TACK_CANDLES_CSV_ROW_MAX];
  for (size_t i = 0; i < n; i++) {
    size_t len = tack_candles_csv_row(&bars[i], row);
    assert_true(len > 0 && len < sizeof row);
    text_add(data, row, len);
  }
  return 0;
}

static void export_text(fixture *f, const char *sym, uint32_t tf, text_buf *t) {
  memset(t, 0, sizeof *t);
  text_add(t, TACK_CANDLES_CSV_HEADER "\n", sizeof TACK_CANDLES_CSV_HEADER);
  assert_int_equal(tack_candles_read(f->cs, sym, tf, INT64_MIN, INT64_MAX, export_rows, t), 0);
}

static void test_canonical_round_trip(void **state) {
  fixture *f = *state;
  /* Values that %.17g must carry exactly: thirds, tiny and huge, -0. */
  const char *text = "ts,open,high,low,close,volume\n"
                     "-86400,0.33333333333333331,0.66666666666666663,0.1,0.30000000000000004,0\n"
                     "0,1e-300,1.0000000000000001e+300,1e-300,2.5,-0\n"
                     "86400.5,1,1,1,1,1.7976931348623157e+308\n";
  tack_candles_stats st;
  /* A half second is on no timeframe's grid: the file is refused. */
  assert_int_equal(import_text(f, "R", 86400, text, &st), TACK_EPARSE);
  const char *canon = "ts,open,high,low,close,volume\n"
                      "-86400,0.33333333333333331,0.66666666666666663,0.10000000000000001,"
                      "0.30000000000000004,0\n"
                      "0,1e-300,1.0000000000000001e+300,1e-300,2.5,-0\n"
                      "86400,1,1,1,1,1.7976931348623157e+308\n";
  assert_int_equal(import_text(f, "R", 86400, canon, &st), 0);
  text_buf t;
  export_text(f, "R", 86400, &t);
  assert_string_equal(t.s, canon);
  free(t.s);
}

static void test_bitstamp_hourly_file(void **state) {
  fixture *f = *state;
  const char *shared = getenv("TACK_SHARED_DIR");
  char path[1024];
  struct stat sb;
  snprintf(path, sizeof path, "%s/data/btcusd_bitstamp_1h.csv", shared ? shared : "../shared");
  if (!shared || stat(path, &sb) != 0) {
    print_message("skipped: %s is not there (TACK_SHARED_DIR=%s)\n", path,
                  shared ? shared : "(unset)");
    skip();
  }
  tack_bar *b = NULL;
  size_t n = 0, bad = 0;
  tack_diag d = TACK_DIAG_INIT;
  int rc = tack_candles_csv_load(path, 3600, &b, &n, &bad, 20, &d);
  if (rc != 0) {
    tack_diag_print(&d, stderr);
    fail_msg("%s: %s, %zu bad rows", path, tack_err_name(rc), bad);
  }
  assert_int_equal(n, 37387); /* SOURCES.md */
  assert_true(b[0].ts == INT64_C(1526364000) * NS);
  assert_true(b[0].open == 8733.86 && b[0].high == 8796.68 && b[0].volume == 559.93);

  tack_candles_stats st;
  assert_int_equal(tack_candles_put(f->cs, "BTC-USD", 3600, b, n, NULL, &st), 0);
  assert_int_equal(st.added, n);
  assert_int_equal(tack_candles_put(f->cs, "BTC-USD", 3600, b, n, NULL, &st), 0);
  assert_int_equal(st.unchanged, n);

  tack_candles_series *list = NULL;
  size_t ns = 0;
  assert_int_equal(tack_candles_list(f->cs, &list, &ns), 0);
  assert_int_equal(ns, 1);
  assert_int_equal(list[0].count, n);
  assert_true(list[0].first == b[0].ts && list[0].last == b[n - 1].ts);
  /* No gaps (SOURCES.md): the last is exactly n - 1 hours after the first. */
  assert_true(list[0].last - list[0].first == (tack_time)(n - 1) * HOUR);
  tack_free(NULL, list);

  /* Export equals the file value for value, bit for bit... */
  text_buf t;
  export_text(f, "BTC-USD", 3600, &t);
  tack_bar *back = NULL;
  size_t nback = 0;
  assert_int_equal(tack_candles_csv_parse("export", t.s, t.len, 3600, &back, &nback, &bad, 20, &d),
                   0);
  assert_int_equal(nback, n);
  for (size_t i = 0; i < n; i++)
    if (!same_candle(&back[i], &b[i]))
      fail_msg("row %zu (line %zu) differs after export", i, i + 2);
  /* ...and the export, imported and exported again, is the same bytes. */
  assert_int_equal(tack_candles_put(f->cs, "BTC-USD-2", 3600, back, nback, NULL, &st), 0);
  text_buf t2;
  export_text(f, "BTC-USD-2", 3600, &t2);
  assert_int_equal(t2.len, t.len);
  assert_memory_equal(t2.s, t.s, t.len);
  free(t.s);
  free(t2.s);
  tack_free(NULL, back);
  tack_free(NULL, b);
  tack_diag_free(&d);
}

int main(void) {
  /* cmocka 1.1.5 reports success when a group setup fails, so the one thing
   * every test needs (a writable temporary folder) is checked here. */
  char probe[256];
  const char *base = getenv("TMPDIR");
  snprintf(probe, sizeof probe, "%s/tack-candles-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(probe)) {
    fprintf(stderr, "test_candles: cannot make a temporary folder under %s\n",
            base && *base ? base : "/tmp");
    return 1;
  }
  rmdir(probe);

  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_key_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_extreme_times, setup, teardown),
      cmocka_unit_test_setup_teardown(test_range_reads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_stops_when_asked, setup, teardown),
      cmocka_unit_test_setup_teardown(test_page_reads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_info, setup, teardown),
      cmocka_unit_test_setup_teardown(test_idempotent_put, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replace_counting, setup, teardown),
      cmocka_unit_test_setup_teardown(test_append_shapes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_put_refuses_bad_batches, setup, teardown),
      cmocka_unit_test(test_candle_check_messages),
      cmocka_unit_test_setup_teardown(test_persists_across_reopen, setup, teardown),
      cmocka_unit_test_setup_teardown(test_layout_version, setup, teardown),
      cmocka_unit_test_setup_teardown(test_map_full_writes_nothing, setup, teardown),
      cmocka_unit_test(test_seconds),
      cmocka_unit_test(test_csv_accepts),
      cmocka_unit_test(test_csv_reports_every_bad_line),
      cmocka_unit_test(test_csv_whole_file_problems),
      cmocka_unit_test_setup_teardown(test_bad_last_row_imports_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_canonical_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bitstamp_hourly_file, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
