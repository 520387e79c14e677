/*
 * bench_candles.c: what candles in the store cost (host/candles.c), next to
 * baselines run in the same process on the same rows, so that figures from
 * this noisy shared machine compare:
 *
 *   ingest  rows/s through tack_candles_put() in batches of 1000, 10000 and
 *           100000 rows, each batch one durable (fsync'd) commit, into a
 *           fresh store; baseline: memcpy of the same rows in the same
 *           batches. The alternative layout, one LMDB key per candle
 *           (key = symbol, 0, timeframe, time; value = five doubles; written
 *           with MDB_APPEND), is measured the same way straight on LMDB.
 *   scan    rows/s of a full-series tack_candles_read() whose callback sums
 *           the closes; baseline: the same sum over the tack_bar array. The
 *           one-key layout is scanned with MDB_NEXT into the same callback.
 *   commit  the latency of one durable commit of one candle: the floor that
 *           batching amortizes.
 *
 * Each figure is the median of REPS repetitions.
 *
 *   bench_candles [ROWS [REPS [DIR]]]   defaults 2000000, 5, $TMPDIR or /tmp
 */
#include <errno.h>
#include <ftw.h>
#include <stddef.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "candles.h"
#include "store.h"

#define NS TACK_NS_PER_SEC
#define TF 60u
#define SYMBOL "BTC-USD"
#define MAX_REPS 31
#define RAW_BATCH 256 /* candles per callback, as tack_candles_read() */

/* The open..volume doubles are one 40-byte run, the one-key value. */
_Static_assert(offsetof(tack_bar, volume) - offsetof(tack_bar, open) == 32,
               "tack_bar's five values are not contiguous");

/* Keeps the compiler from dropping copies that nothing reads. */
static volatile double sink;

static const size_t batch_sizes[] = {1000, 10000, 100000};
#define N_BATCHES (sizeof batch_sizes / sizeof batch_sizes[0])

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t rng_state = 42;

static double unit(void) {
  uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

/* A random walk of 1m candles from 2020-01-01. */
static tack_bar *make_rows(size_t n) {
  tack_bar *b = malloc(n * sizeof *b);
  double px = 7200;
  if (!b)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    double open = px, close = px * (1 + (unit() - 0.5) * 0.004);
    double hi = (open > close ? open : close) * (1 + unit() * 0.001);
    double lo = (open < close ? open : close) * (1 - unit() * 0.001);
    b[i] = (tack_bar){(INT64_C(1577836800) + (int64_t)i * TF) * NS,
                      open,
                      hi,
                      lo,
                      close,
                      unit() * 50,
                      TF,
                      TACK_BAR_CLOSED};
    px = close;
  }
  return b;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

static void rmtree(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static off_t file_size(const char *dir) {
  char path[500];
  struct stat sb;
  snprintf(path, sizeof path, "%s/data.mdb", dir);
  return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* What a scan's consumer does with each candle. */
typedef struct scan_sum {
  double sum;
  size_t n;
} scan_sum;

static int sum_closes(void *data, const tack_bar *bars, size_t n) {
  scan_sum *s = data;
  for (size_t i = 0; i < n; i++)
    s->sum += bars[i].close;
  s->n += n;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The one-key-per-candle layout, straight on LMDB                           */
/* ------------------------------------------------------------------------ */

#define RAW_KEY (sizeof SYMBOL + 4 + 8) /* symbol, 0, timeframe, time */

static void raw_key(tack_time t, unsigned char *k) {
  uint64_t u = (uint64_t)t ^ (UINT64_C(1) << 63);
  memcpy(k, SYMBOL, sizeof SYMBOL); /* with its 0 */
  for (int i = 0; i < 4; i++)
    k[sizeof SYMBOL + (size_t)i] = (unsigned char)(TF >> (24 - 8 * i));
  for (int i = 0; i < 8; i++)
    k[sizeof SYMBOL + 4 + (size_t)i] = (unsigned char)(u >> (56 - 8 * i));
}

static int raw_open(const char *dir, MDB_env **env, MDB_dbi *dbi) {
  MDB_txn *txn;
  int rc = mkdir(dir, 0700);
  if (rc != 0 && errno != EEXIST)
    return -1;
  rc = mdb_env_create(env);
  if (rc == 0)
    rc = mdb_env_set_mapsize(*env, (size_t)1 << 34);
  if (rc == 0)
    rc = mdb_env_open(*env, dir, 0, 0600);
  if (rc == 0)
    rc = mdb_txn_begin(*env, NULL, 0, &txn);
  if (rc == 0) {
    rc = mdb_dbi_open(txn, NULL, 0, dbi);
    if (rc == 0)
      rc = mdb_txn_commit(txn);
    else
      mdb_txn_abort(txn);
  }
  if (rc != 0)
    fprintf(stderr, "bench_candles: %s: %s\n", dir, mdb_strerror(rc));
  return rc ? -1 : 0;
}

static int raw_put(MDB_env *env, MDB_dbi dbi, const tack_bar *b, size_t n) {
  MDB_txn *txn;
  MDB_cursor *cur;
  unsigned char k[RAW_KEY];
  int rc = mdb_txn_begin(env, NULL, 0, &txn);
  if (rc)
    return rc;
  rc = mdb_cursor_open(txn, dbi, &cur);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    raw_key(b[i].ts, k);
    MDB_val kv = {sizeof k, k}, vv = {40, (unsigned char *)&b[i] + offsetof(tack_bar, open)};
    rc = mdb_cursor_put(cur, &kv, &vv, MDB_APPEND);
  }
  if (rc) {
    mdb_txn_abort(txn);
    return rc;
  }
  mdb_cursor_close(cur);
  return mdb_txn_commit(txn);
}

static int raw_scan(MDB_env *env, MDB_dbi dbi, scan_sum *s) {
  MDB_txn *txn;
  MDB_cursor *cur;
  unsigned char k[RAW_KEY];
  tack_bar batch[RAW_BATCH];
  size_t nb = 0;
  int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
  if (rc)
    return rc;
  rc = mdb_cursor_open(txn, dbi, &cur);
  raw_key(INT64_MIN, k);
  MDB_val kv = {sizeof k, k}, vv;
  MDB_cursor_op op = MDB_SET_RANGE;
  while (rc == 0 && (rc = mdb_cursor_get(cur, &kv, &vv, op)) == 0) {
    const unsigned char *p = kv.mv_data;
    if (kv.mv_size != RAW_KEY || memcmp(p, SYMBOL, sizeof SYMBOL) != 0)
      break;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
      u = u << 8 | p[sizeof SYMBOL + 4 + (size_t)i];
    u ^= UINT64_C(1) << 63;
    tack_bar *b = &batch[nb];
    memcpy(&b->ts, &u, 8);
    memcpy((unsigned char *)b + offsetof(tack_bar, open), vv.mv_data, 40);
    b->timeframe_s = TF;
    b->flags = TACK_BAR_CLOSED;
    if (++nb == RAW_BATCH) {
      sum_closes(s, batch, nb);
      nb = 0;
    }
    op = MDB_NEXT;
  }
  sum_closes(s, batch, nb);
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ------------------------------------------------------------------------ */

typedef struct results {
  double memcpy_s[N_BATCHES], put_s[N_BATCHES], raw_s[N_BATCHES];
  off_t put_bytes, raw_bytes;
  double array_s, scan_s, raw_scan_s, commit_s;
} results;

/* One repetition of everything, in fresh stores below base. */
static int run_once(const char *base, const tack_bar *rows, size_t n, tack_bar *dst, results *r) {
  char dir[400], raw_dir[400];
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  MDB_env *env = NULL;
  MDB_dbi dbi;
  int rc = -1;

  for (size_t bi = 0; bi < N_BATCHES; bi++) {
    size_t bs = batch_sizes[bi];
    double t0 = now_s();
    for (size_t i = 0; i < n; i += bs)
      memcpy(dst + i, rows + i, (n - i < bs ? n - i : bs) * sizeof *rows);
    r->memcpy_s[bi] = now_s() - t0;
    sink += dst[n - 1].close;

    snprintf(dir, sizeof dir, "%s/api-%zu", base, bs);
    if (tack_store_open(dir, (size_t)1 << 34, &st) != 0 || tack_candles_open(st, &cs) != 0)
      goto fail;
    t0 = now_s();
    for (size_t i = 0; i < n; i += bs)
      if (tack_candles_put(cs, SYMBOL, TF, rows + i, n - i < bs ? n - i : bs, NULL, NULL) != 0)
        goto fail;
    r->put_s[bi] = now_s() - t0;
    r->put_bytes = file_size(dir);

    snprintf(raw_dir, sizeof raw_dir, "%s/raw-%zu", base, bs);
    if (raw_open(raw_dir, &env, &dbi) != 0)
      goto fail;
    t0 = now_s();
    for (size_t i = 0; i < n; i += bs)
      if (raw_put(env, dbi, rows + i, n - i < bs ? n - i : bs) != 0)
        goto fail;
    r->raw_s[bi] = now_s() - t0;
    r->raw_bytes = file_size(raw_dir);

    if (bi + 1 < N_BATCHES) {
      tack_candles_close(cs);
      tack_store_close(st);
      mdb_env_close(env);
      cs = NULL;
      st = NULL;
      env = NULL;
      rmtree(dir);
      rmtree(raw_dir);
    }
  }

  /* Scans of the last stores, after one untimed pass that maps the pages. */
  scan_sum want = {0, 0}, got = {0, 0}, raw = {0, 0};
  double t0 = now_s();
  sum_closes(&want, rows, n);
  r->array_s = now_s() - t0;
  if (tack_candles_read(cs, SYMBOL, TF, INT64_MIN, INT64_MAX, sum_closes, &got) != 0 ||
      raw_scan(env, dbi, &raw) != 0)
    goto fail;
  got = raw = (scan_sum){0, 0};
  t0 = now_s();
  if (tack_candles_read(cs, SYMBOL, TF, INT64_MIN, INT64_MAX, sum_closes, &got) != 0)
    goto fail;
  r->scan_s = now_s() - t0;
  t0 = now_s();
  if (raw_scan(env, dbi, &raw) != 0)
    goto fail;
  r->raw_scan_s = now_s() - t0;
  if (got.n != n || raw.n != n || got.sum != want.sum || raw.sum != want.sum) {
    fprintf(stderr, "bench_candles: a scan read something else than was written\n");
    goto fail;
  }

  /* One candle per durable commit, appended to the series. */
  double c[64];
  tack_bar extra = rows[n - 1];
  for (int i = 0; i < 64; i++) {
    extra.ts += TF * NS;
    t0 = now_s();
    if (tack_candles_put(cs, SYMBOL, TF, &extra, 1, NULL, NULL) != 0)
      goto fail;
    c[i] = now_s() - t0;
  }
  r->commit_s = median(c, 64);
  rc = 0;

fail:
  if (rc)
    fprintf(stderr, "bench_candles: a store operation failed (see the log above)\n");
  tack_candles_close(cs);
  tack_store_close(st);
  if (env)
    mdb_env_close(env);
  return rc;
}

static void line(const char *what, const char *batch, size_t n, double secs, double base) {
  printf("  %-40s %7s %9.2f M rows/s %9.1f ns/row", what, batch, (double)n / secs / 1e6,
         secs * 1e9 / (double)n);
  if (base > 0)
    printf(" %8.1fx baseline", secs / base);
  printf("\n");
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
  int reps = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
  const char *tmp = getenv("TMPDIR");
  const char *parent = argc > 3 ? argv[3] : tmp && *tmp ? tmp : "/tmp";
  char base[256];
  results r[MAX_REPS];
  double v[MAX_REPS];
  int status = 1;

  if (n < 1000 || reps < 1 || reps > MAX_REPS) {
    fprintf(stderr, "usage: bench_candles [ROWS (>= 1000) [REPS (1..%d) [DIR]]]\n", MAX_REPS);
    return 2;
  }
  tack_bar *rows = make_rows(n);
  tack_bar *dst = malloc(n * sizeof *dst);
  if (!rows || !dst) {
    fprintf(stderr, "bench_candles: out of memory\n");
    goto done;
  }
  memset(dst, 0, n * sizeof *dst); /* the baseline should not time page faults */
  snprintf(base, sizeof base, "%s/bench-candles-XXXXXX", parent);
  if (!mkdtemp(base)) {
    fprintf(stderr, "bench_candles: cannot make a folder in %s: %s\n", parent, strerror(errno));
    goto done;
  }
  for (int i = 0; i < reps; i++) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s/%d", base, i);
    if (mkdir(dir, 0700) != 0 || run_once(dir, rows, n, dst, &r[i]) != 0) {
      rmtree(base);
      goto done;
    }
    rmtree(dir);
  }
  rmtree(base);

  printf("bench_candles: %zu 1m candles of one series, median of %d, stores in %s\n", n, reps,
         parent);
  printf("ingest, every batch one durable commit      rows/commit\n");
  for (size_t bi = 0; bi < N_BATCHES; bi++) {
    char bs[16];
    snprintf(bs, sizeof bs, "%zu", batch_sizes[bi]);
    for (int i = 0; i < reps; i++)
      v[i] = r[i].memcpy_s[bi];
    double base_s = median(v, reps);
    line("memcpy of the rows (baseline)", bs, n, base_s, 0);
    for (int i = 0; i < reps; i++)
      v[i] = r[i].put_s[bi];
    line("tack_candles_put (dupsort, dupfixed)", bs, n, median(v, reps), base_s);
    for (int i = 0; i < reps; i++)
      v[i] = r[i].raw_s[bi];
    line("one key per candle (raw LMDB, append)", bs, n, median(v, reps), base_s);
  }
  printf("scan of the whole series\n");
  for (int i = 0; i < reps; i++)
    v[i] = r[i].array_s;
  double array_s = median(v, reps);
  line("loop over the tack_bar array (baseline)", "", n, array_s, 0);
  for (int i = 0; i < reps; i++)
    v[i] = r[i].scan_s;
  line("tack_candles_read (MDB_GET_MULTIPLE)", "", n, median(v, reps), array_s);
  for (int i = 0; i < reps; i++)
    v[i] = r[i].raw_scan_s;
  line("one key per candle (MDB_NEXT)", "", n, median(v, reps), array_s);
  for (int i = 0; i < reps; i++)
    v[i] = r[i].commit_s;
  printf("one candle, one durable commit: %.2f ms (median of 64, per repetition median)\n",
         median(v, reps) * 1e3);
  printf("store size: dupfixed %.1f bytes/candle, one key per candle %.1f bytes/candle\n",
         (double)r[reps - 1].put_bytes / (double)n, (double)r[reps - 1].raw_bytes / (double)n);
  status = 0;

done:
  free(rows);
  free(dst);
  return status;
}
