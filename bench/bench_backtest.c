/*
 * bench_backtest.c: bars per second through a whole backtest
 * (tack_backtest_run(), host/backtest.c, docs/backtesting.md) of three
 * configs that differ in how often they trade, against a plain loop of the
 * same strategies' math in the same process; the cost per bar and per order
 * solved from them; and the peak memory of a backtest at two lengths.
 *
 * Data: BARS candles of 1m BTC-USD from the synthetic generator (host/synth.h,
 * seed 1, prices rounded to the paper venue's 0.01 tick), written into a
 * fresh LMDB store (tack_candles_put in batches) and into a CSV file in the
 * paper venue's format, in a fresh folder under DIR.
 *
 * The configs: one symbol on the paper venue (no fees or slippage, so that
 * the account neither dies nor grows and the trading load stays the same
 * over the run), a weighted composite (weights 2/1/1) of ema_cross (12/26,
 * state), macd_trend and rsi_reversion (14), each on the heikin_ashi
 * filter, 1m bars, a trading group (stop loss 3%), the default backtest
 * group (Monte Carlo 1000 runs). They differ in three settings:
 *
 *   trades often   threshold 0.2, tolerance 0.02 (the default), allocation
 *                  30000: an order every 8 bars or so (the config of the
 *                  first version of this benchmark)
 *   trades rarely  threshold 0.65, tolerance 0.25, allocation 30000: the
 *                  composite speaks seldom (a tenth of the composite
 *                  signals of "trades often") and changes of less than a
 *                  quarter of the allocation send nothing: an order every
 *                  200-250 bars
 *   signals only   "trades often" with allocation 0.0001: the same bars and
 *                  signals, the trader sizes every signal, and every target
 *                  rounds to zero lots (below the 0.00001 lot), so no order
 *                  is sent and the venue refuses nothing (a config without
 *                  its trading group is refused by tack_backtest_run)
 *
 * Two venues each:
 *
 *   in memory  data = the CSV: the venue parses it whole into memory when
 *              it is configured (inside the timed call), then replays it
 *   from LMDB  data = "store": the venue pages the store's candles in as
 *              the replay advances
 *
 * Each is run with details = 0 (metrics only, as the optimizer runs it) and
 * 1 (everything a report needs), progress off, log at warn. Only the call
 * to tack_backtest_run() is timed (CLOCK_MONOTONIC, and the process's CPU
 * time beside it: on a shared machine the difference is time spent waiting
 * for the core); the runs and the baseline interleave over REPS repetitions
 * and each figure is the median. bars/s = bars replayed / seconds.
 * "startup" is the same call over the first day only (opts.to: 1440 bars;
 * the CSV is still parsed whole, but only that day's rows are kept), so
 * that "replay" = (bars - 1440) / (whole - startup) is the rate once
 * running: for the in-memory venue, without the CSV's parsing, but with
 * keeping its 1M rows in memory (growing the array: page faults, copies).
 *
 * Per bar and per order: with replay time T = bars * a + orders * b for the
 * two trading configs (the same bars and strategies), two equations give
 * a, the time per bar without orders, and b, the time per order's round
 * trip (signal -> order -> venue -> fill -> ledger -> recorder, plus its
 * share of the metrics and Monte Carlo after the replay, which grow with
 * the trades). Also directly: a from "signals only", and b as
 * ("trades often" - "signals only") / its orders. Each is solved per
 * repetition, from the wall and from the CPU time, and the median printed.
 *
 * Baseline: one function, state in locals, over the same bars: the
 * Heikin-Ashi transform, EMA 12/26 and their crossover side, ATR 26 (both
 * strategies scale by it; computed once, as a hand-written loop would),
 * MACD 12/26/9 and its scaled histogram with macd_trend's step rule, RSI 14
 * (Wilder) with rsi_reversion's entries and exits, and the weighted sum of
 * the three votes against the threshold 0.2. ns per bar, and the
 * backtest's time per bar over it.
 *
 * Memory: the LMDB backtests of each config over the first quarter of the
 * bars and over all of them, each in a forked child (so the measurements
 * are independent): the child's peak RSS (getrusage ru_maxrss, which
 * includes the pages of the store's memory map it touched) and its peak
 * anonymous memory (RSS minus file-backed pages,
 * /proc/self/statm sampled every millisecond).
 *
 *   bench_backtest [BARS [REPS [PLUGIN_DIR [DIR]]]]
 *     defaults 1000000, 7, the build's plugins, $TMPDIR or /tmp
 *
 * With BENCH_BACKTEST_KEEP=1 in the environment the folder is kept (data,
 * the six configs, and optimize.cfg: "trades often" from LMDB with an
 * optimize group of 24 sets of cross.fast x cross.slow), for tack backtest,
 * tack optimize and perf.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backtest.h"
#include "candles.h"
#include "diag.h"
#include "log.h"
#include "store.h"
#include "synth.h"

#define MAX_REPS 31
#define TF 60u
#define START_S INT64_C(1704067200) /* 2024-01-01 */
#define PUT_BATCH 100000u
#define STARTUP_BARS 1440u /* one day of 1m bars */
#define SYMBOL "BTC-USD"

/* Keeps the compiler from dropping results nothing reads. */
static volatile double sink;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the process: on a shared machine, wall time minus this is
 * time spent waiting for the core. */
static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(const double *v, int n) {
  double s[MAX_REPS];
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  return s[n / 2];
}

/* ------------------------------------------------------------------------ */
/* The data                                                                  */
/* ------------------------------------------------------------------------ */

static double cents(double x) { return round(x * 100.0) / 100.0; }

/* n synthetic 1m candles, the same on every call; NULL when out of memory.
 * Rounding to the tick is monotonic, so low <= open, close <= high still
 * holds. */
static tack_bar *make_bars(size_t n) {
  tack_synth_opts so;
  tack_synth g;
  tack_bar *bars = calloc(n, sizeof *bars);
  tack_synth_defaults(&so);
  so.seed = 1;
  so.symbol = SYMBOL;
  so.timeframe_s = TF;
  so.start = START_S * TACK_NS_PER_SEC;
  if (!bars || tack_synth_init(&g, &so) != 0) {
    free(bars);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    tack_synth_next(&g, &bars[i]);
    bars[i].open = cents(bars[i].open);
    bars[i].high = cents(bars[i].high);
    bars[i].low = cents(bars[i].low);
    bars[i].close = cents(bars[i].close);
  }
  return bars;
}

/* The bars into the store at store_path and the CSV at csv_path. */
static int write_data(const tack_bar *bars, size_t n, const char *store_path,
                      const char *csv_path) {
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  FILE *csv = NULL;
  char row[TACK_CANDLES_CSV_ROW_MAX];
  int rc = -1;
  if (tack_store_open(store_path, 0, &st) != 0 || tack_candles_open(st, &cs) != 0)
    goto done;
  for (size_t at = 0; at < n; at += PUT_BATCH) {
    size_t k = n - at < PUT_BATCH ? n - at : PUT_BATCH;
    if (tack_candles_put(cs, SYMBOL, TF, bars + at, k, NULL, NULL) != 0)
      goto done;
  }
  if (!(csv = fopen(csv_path, "w")) || fputs(TACK_CANDLES_CSV_HEADER "\n", csv) < 0)
    goto done;
  for (size_t i = 0; i < n; i++) {
    size_t len = tack_candles_csv_row(&bars[i], row);
    if (fwrite(row, 1, len, csv) != len)
      goto done;
  }
  rc = 0;
done:
  if (csv && fclose(csv) != 0)
    rc = -1;
  if (rc != 0)
    fprintf(stderr, "bench_backtest: cannot write the data (%s, %s)\n", store_path, csv_path);
  tack_candles_close(cs);
  tack_store_close(st);
  return rc;
}

/* The three configs (see the top). */
enum { CFG_OFTEN, CFG_RARELY, CFG_SIGNALS, N_CFGS };

typedef struct cfg_kind {
  const char *name, *file;
  double threshold, tolerance, allocation;
} cfg_kind;

static const cfg_kind cfg_kinds[N_CFGS] = {
    {"trades often", "often", 0.2, 0.02, 30000.0},
    {"trades rarely", "rarely", 0.65, 0.25, 30000.0},
    {"signals only", "signals", 0.2, 0.02, 0.0001},
};

/* The optimizer's group for optimize.cfg: 6 x 4 = 24 parameter sets. */
#define OPTIMIZE_GROUP                                                                             \
  "optimize = { objective = \"sharpe\"; method = \"grid\"; min_trades = 1;\n"                      \
  "  params = ( { strategy = \"cross\"; param = \"fast\"; from = 8; to = 18; step = 2; },\n"       \
  "             { strategy = \"cross\"; param = \"slow\"; values = [24, 30, 36, 42]; } ); };\n"

/* The config of kind k; venue is the text of the paper venue's params after
 * symbols, store the store group or "", extra appended at the end. */
static int write_cfg(const char *path, const char *plugin_dir, const cfg_kind *k, const char *venue,
                     const char *store, const char *extra) {
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fprintf(f,
          "version = 1;\nname = \"bbt\";\nplugin_dirs = [ \"%s\" ];\n%s"
          "log = { level = \"warn\"; };\n"
          "exchanges = { paper = { plugin = \"paper\"; params = { symbols = \"" SYMBOL "\"; %s\n"
          "  persist = false; cash = 100000.0; taker_bps = 0.0; maker_bps = 0.0;\n"
          "  slippage = \"none\"; }; }; };\n"
          "filters = { ha = { plugin = \"heikin_ashi\"; }; };\n"
          "strategies = {\n"
          "  cross = { plugin = \"ema_cross\"; timeframe = \"1m\"; filter = \"ha\";\n"
          "            params = { fast = 12; slow = 26; mode = \"state\"; }; };\n"
          "  macd = { plugin = \"macd_trend\"; timeframe = \"1m\"; filter = \"ha\"; };\n"
          "  rsi = { plugin = \"rsi_reversion\"; timeframe = \"1m\"; filter = \"ha\";\n"
          "          params = { period = 14; }; };\n"
          "  combo = { type = \"composite\"; method = \"weighted\"; threshold = %.17g;\n"
          "    members = ( { strategy = \"cross\"; weight = 2.0; },\n"
          "                { strategy = \"macd\"; weight = 1.0; },\n"
          "                { strategy = \"rsi\"; weight = 1.0; } ); };\n"
          "};\n"
          "symbols = ( { symbol = \"" SYMBOL
          "\"; exchange = \"paper\"; strategy = \"combo\"; } );\n"
          "trading = { sizing = { allocation = %.17g; tolerance = %.17g; };\n"
          "  exits = { stop_loss = 0.03; }; };\n%s",
          plugin_dir, store, venue, k->threshold, k->allocation, k->tolerance, extra);
  return fclose(f) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* The backtest                                                              */
/* ------------------------------------------------------------------------ */

typedef struct bt_run {
  double seconds, cpu;
  uint64_t bars, orders, fills, trades;
  double end_equity;
} bt_run;

/* One tack_backtest_run() of cfg over [start, to); only the call is timed. */
static int run_backtest(const char *cfg, int details, tack_time to, bt_run *r) {
  tack_bt_opts o;
  tack_bt_result res;
  tack_diag d = TACK_DIAG_INIT;
  tack_bt_opts_init(&o);
  o.config_path = cfg;
  o.details = details;
  o.progress = 0;
  o.log_level = TACK_LOG_WARN;
  o.to = to;
  double c0 = cpu_s(), t0 = now_s();
  int rc = tack_backtest_run(&o, &res, &d);
  double t1 = now_s(), c1 = cpu_s();
  if (rc != 0) {
    tack_diag_print(&d, stderr);
    fprintf(stderr, "bench_backtest: %s: %s (%s)\n", cfg, tack_strerror(rc), tack_err_name(rc));
    tack_diag_free(&d);
    return rc;
  }
  memset(r, 0, sizeof *r);
  r->seconds = t1 - t0;
  r->cpu = c1 - c0;
  for (size_t i = 0; i < res.n_symbols; i++) {
    r->bars += res.symbols[i].bars;
    r->orders += res.symbols[i].orders;
    r->fills += res.symbols[i].fills;
  }
  r->trades = res.metrics.trades;
  r->end_equity = res.metrics.end_equity;
  tack_bt_result_free(&res);
  tack_diag_free(&d);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The baseline: the strategies' math in one loop                            */
/* ------------------------------------------------------------------------ */

/* An EMA seeded with the mean of its first n inputs (as ta.h's). */
typedef struct ema {
  double k, v, dn;
  int n, count;
} ema;

static void ema_init(ema *e, int n) {
  e->k = 2.0 / (n + 1);
  e->v = 0;
  e->dn = n;
  e->n = n;
  e->count = 0;
}

static inline int ema_step(ema *e, double x, double *out) {
  if (e->count >= e->n) {
    e->v = (x - e->v) * e->k + e->v;
  } else {
    e->v += x;
    if (++e->count < e->n)
      return 0;
    e->v /= e->dn;
  }
  *out = e->v;
  return 1;
}

static inline int sign_of(double x) { return (x > 0) - (x < 0); }

/* Not fmax/fmin: without -ffinite-math-only they are calls into libm. */
static inline double max2(double a, double b) { return a > b ? a : b; }

static inline double min2(double a, double b) { return a < b ? a : b; }

static inline double clamp1(double x) { return x > 1.0 ? 1.0 : x < -1.0 ? -1.0 : x; }

/* Runs over n bars; returns a checksum, *changes the composite's changes of
 * direction. Not inlined, so that the bars are not known to the loop. */
__attribute__((noinline)) static double baseline_loop(const tack_bar *bars, size_t n,
                                                      uint64_t *changes) {
  const int slow = 26, rsi_n = 14;
  const double atr_inv = 1.0 / slow, rsi_inv = 1.0 / rsi_n;
  ema fast_e, slow_e, macd_fast, macd_sig;
  ema_init(&fast_e, 12);
  ema_init(&slow_e, slow);
  ema_init(&macd_fast, 12);
  ema_init(&macd_sig, 9);
  double ha_po = 0, ha_pc = 0, prev_c = 0, atr = 0, gain = 0, loss = 0, prev_x = 0;
  int have_prev = 0, atr_count = 0, rsi_count = 0;
  int cross_side = 0, macd_side = 0, rsi_side = 0, rsi_has = 0, macd_has = 0;
  double cross_vote = 0, macd_vote = 0, rsi_vote = 0, acc = 0;
  int comp_dir = 0;
  uint64_t flips = 0;
  for (size_t i = 0; i < n; i++) {
    const tack_bar *b = &bars[i];
    /* Heikin-Ashi. */
    double c = (b->open + b->high + b->low + b->close) / 4;
    double o = have_prev ? (ha_po + ha_pc) / 2 : (b->open + b->close) / 2;
    double h = max2(b->high, max2(o, c));
    double l = min2(b->low, min2(o, c));
    have_prev = 1;
    ha_po = o;
    ha_pc = c;
    /* ATR 26 (Wilder). */
    int atr_ready = 0;
    if (i > 0) {
      double tr = max2(h, prev_c) - min2(l, prev_c);
      if (atr_count >= slow) {
        atr = (atr * (slow - 1) + tr) * atr_inv;
        atr_ready = 1;
      } else {
        atr += tr;
        if (++atr_count == slow) {
          atr /= slow;
          atr_ready = 1;
        }
      }
    }
    prev_c = c;
    /* EMA 12/26 crossover, state mode: the side, confidence from the gap. */
    double f = 0, s = 0;
    int f_ok = ema_step(&fast_e, c, &f);
    int s_ok = ema_step(&slow_e, c, &s);
    if (f_ok && s_ok && atr_ready) {
      int dir = sign_of(f - s);
      if (dir == 0)
        dir = cross_side;
      acc += 0.5 + 0.5 * min2(1.0, fabs(f - s) / atr);
      cross_side = dir;
      cross_vote = dir;
    }
    /* MACD 12/26/9: the fast EMA's seed window ends where the slow one's
     * does (the slow EMA is the one above); scaled histogram, step 0.25. */
    double mf = 0, sig = 0;
    if (i >= (size_t)(slow - 12))
      ema_step(&macd_fast, c, &mf);
    if (s_ok && ema_step(&macd_sig, mf - s, &sig) && atr_ready) {
      double hist = (mf - s) - sig;
      int dir = sign_of(hist);
      if (dir == 0)
        dir = macd_side;
      int first = macd_side == 0 && dir != 0, crossed = macd_side != 0 && dir != macd_side;
      double unit = 0.5 * atr;
      double scaled = unit > 0 ? clamp1(hist / unit) : (double)dir;
      acc += sign_of(mf - s) == dir ? 1.0 : 0.5;
      macd_side = dir;
      if (first || crossed || (macd_has && fabs(scaled - macd_vote) >= 0.25)) {
        macd_vote = scaled;
        macd_has = 1;
      }
    }
    /* RSI 14 (Wilder), mean reversion 30/70, exit at 50. */
    if (rsi_count == 0) {
      rsi_count = 1;
    } else {
      double diff = c - prev_x;
      if (rsi_count > rsi_n) {
        gain *= rsi_n - 1;
        loss *= rsi_n - 1;
      }
      gain += diff >= 0 ? diff : 0.0;
      loss -= diff < 0 ? diff : 0.0;
      if (rsi_count < rsi_n) {
        rsi_count++;
      } else {
        gain *= rsi_inv;
        loss *= rsi_inv;
        rsi_count = rsi_n + 1;
        double sum = gain + loss;
        double r = sum != 0 ? 100.0 * (gain / sum) : 0.0;
        int side = rsi_side;
        if ((side > 0 && r >= 50.0) || (side < 0 && r <= 50.0))
          side = 0;
        if (side == 0 && r <= 30.0)
          side = 1;
        else if (side == 0 && r >= 70.0)
          side = -1;
        if (side != rsi_side) {
          if (side > 0)
            rsi_vote = 0.5 + 0.5 * min2(1.0, max2(0.0, (30.0 - r) / 30.0));
          else if (side < 0)
            rsi_vote = -(0.5 + 0.5 * min2(1.0, max2(0.0, (r - 70.0) / 30.0)));
          else
            rsi_vote = 0.0;
          acc += fabs(r - 50.0) / 50.0;
          rsi_has = 1;
          rsi_side = side;
        }
      }
    }
    prev_x = c;
    /* The weighted composite over the members with an opinion. */
    double wsum = (cross_side != 0) * 2.0 + macd_has * 1.0 + rsi_has * 1.0;
    if (wsum > 0) {
      double strength = (2.0 * cross_vote + macd_vote + rsi_vote) / wsum;
      int dir = fabs(strength) < 0.2 ? 0 : sign_of(strength);
      flips += dir != comp_dir;
      comp_dir = dir;
      acc += strength;
    }
  }
  *changes = flips;
  return acc;
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct mem_report {
  int rc;
  long start_rss_kb;  /* RSS when the child starts (what it shares with the parent) */
  long peak_rss_kb;   /* ru_maxrss */
  long start_anon_kb; /* RSS minus file-backed pages, at the start */
  long peak_anon_kb;  /* the same, sampled every millisecond */
  uint64_t bars, orders, fills;
} mem_report;

typedef struct sampler {
  int fd;
  long page_kb;
  atomic_int stop;
  long peak_anon_kb;
} sampler;

/* Anonymous resident memory: statm's resident minus shared (file-backed
 * and shmem) pages. */
static long anon_kb(int fd, long page_kb, long *rss_kb) {
  char buf[128];
  long size, resident, shared;
  ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
  if (got <= 0)
    return -1;
  buf[got] = '\0';
  if (sscanf(buf, "%ld %ld %ld", &size, &resident, &shared) != 3)
    return -1;
  if (rss_kb)
    *rss_kb = resident * page_kb;
  return (resident - shared) * page_kb;
}

static void *sample(void *arg) {
  sampler *s = arg;
  struct timespec ms = {0, 1000000};
  while (!atomic_load(&s->stop)) {
    long a = anon_kb(s->fd, s->page_kb, NULL);
    if (a > s->peak_anon_kb)
      s->peak_anon_kb = a;
    nanosleep(&ms, NULL);
  }
  return NULL;
}

/* The backtest of cfg over [start, to) in a forked child. */
static int measure_memory(const char *cfg, int details, tack_time to, mem_report *out) {
  int pipefd[2];
  memset(out, 0, sizeof *out);
  if (pipe(pipefd) != 0)
    return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return -1;
  }
  if (pid == 0) {
    mem_report m;
    sampler s;
    pthread_t th;
    bt_run r;
    memset(&m, 0, sizeof m);
    memset(&r, 0, sizeof r);
    memset(&th, 0, sizeof th);
    memset(&s, 0, sizeof s);
    close(pipefd[0]);
    s.page_kb = sysconf(_SC_PAGESIZE) / 1024;
    s.fd = open("/proc/self/statm", O_RDONLY);
    m.start_anon_kb = s.fd >= 0 ? anon_kb(s.fd, s.page_kb, &m.start_rss_kb) : -1;
    s.peak_anon_kb = m.start_anon_kb;
    int sampling = s.fd >= 0 && pthread_create(&th, NULL, sample, &s) == 0;
    m.rc = run_backtest(cfg, details, to, &r);
    if (sampling) {
      atomic_store(&s.stop, 1);
      pthread_join(th, NULL);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    m.peak_rss_kb = ru.ru_maxrss;
    m.peak_anon_kb = s.peak_anon_kb;
    m.bars = r.bars;
    m.orders = r.orders;
    m.fills = r.fills;
    ssize_t w = write(pipefd[1], &m, sizeof m);
    _exit(w == (ssize_t)sizeof m ? 0 : 1);
  }
  close(pipefd[1]);
  ssize_t got = read(pipefd[0], out, sizeof *out);
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (got != (ssize_t)sizeof *out || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return -1;
  return out->rc;
}

/* ------------------------------------------------------------------------ */

static int usage(void) {
  fprintf(stderr,
          "usage: bench_backtest [BARS [REPS [PLUGIN_DIR [DIR]]]]  (BARS >= %u, REPS 1..%d)\n",
          4 * STARTUP_BARS, MAX_REPS);
  return 2;
}

/* The timed runs: config kind x venue x details, k = (kind * 2 + venue) * 2
 * + details. */
enum { VENUE_MEM, VENUE_LMDB, N_VENUES };
#define N_RUNS (N_CFGS * N_VENUES * 2)

static const char *const venue_names[N_VENUES] = {"in memory", "from LMDB"};

static int run_index(int kind, int venue, int details) { return (kind * 2 + venue) * 2 + details; }

/* Per bar and per order from one repetition's replay times (whole minus
 * startup) of the three kinds at one venue and details. */
typedef struct split {
  double a_ns, b_us;         /* the two trading configs' equations */
  double a_sig_ns, b_dir_us; /* signals only; often minus signals only */
} split;

static split solve(const double dt[N_CFGS], const double dbars[N_CFGS],
                   const double dorders[N_CFGS]) {
  split s;
  double b = (dt[CFG_OFTEN] - dt[CFG_RARELY]) / (dorders[CFG_OFTEN] - dorders[CFG_RARELY]);
  s.b_us = b * 1e6;
  s.a_ns = (dt[CFG_RARELY] - dorders[CFG_RARELY] * b) / dbars[CFG_RARELY] * 1e9;
  s.a_sig_ns = dt[CFG_SIGNALS] / dbars[CFG_SIGNALS] * 1e9;
  s.b_dir_us = (dt[CFG_OFTEN] - dt[CFG_SIGNALS] * dbars[CFG_OFTEN] / dbars[CFG_SIGNALS]) /
               dorders[CFG_OFTEN] * 1e6;
  return s;
}

int main(int argc, char **argv) {
  size_t n = 1000000;
  long reps = 7;
  const char *plugin_dir = BENCH_PLUGIN_DIR;
  const char *base = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  int keep = getenv("BENCH_BACKTEST_KEEP") && strcmp(getenv("BENCH_BACKTEST_KEEP"), "1") == 0;
  char *end = NULL;
  char tmp[256], store[320], csv[320], text[700], mem_venue[400], lmdb_store[400];
  char cfg_path[N_CFGS][N_VENUES][320], opt_path[320];
  tack_bar *bars = NULL;
  int status = 1;
  tmp[0] = '\0';

  if (argc > 1 && ((n = (size_t)strtoul(argv[1], &end, 10)) < 4 * STARTUP_BARS || *end))
    return usage();
  if (argc > 2 && ((reps = strtol(argv[2], &end, 10)) < 1 || reps > MAX_REPS || *end))
    return usage();
  if (argc > 3)
    plugin_dir = argv[3];
  if (argc > 4)
    base = argv[4];
  tack_log_set_level(TACK_LOG_WARN);

  snprintf(tmp, sizeof tmp, "%s/tack-bench-backtest-XXXXXX", base);
  if (!mkdtemp(tmp)) {
    perror("bench_backtest: mkdtemp");
    tmp[0] = '\0';
    goto done;
  }
  snprintf(store, sizeof store, "%s/lmdb", tmp);
  snprintf(csv, sizeof csv, "%s/" SYMBOL ".csv", tmp);
  snprintf(opt_path, sizeof opt_path, "%s/optimize.cfg", tmp);
  for (int c = 0; c < N_CFGS; c++) {
    snprintf(cfg_path[c][VENUE_MEM], sizeof cfg_path[c][VENUE_MEM], "%s/%s-mem.cfg", tmp,
             cfg_kinds[c].file);
    snprintf(cfg_path[c][VENUE_LMDB], sizeof cfg_path[c][VENUE_LMDB], "%s/%s-lmdb.cfg", tmp,
             cfg_kinds[c].file);
  }

  double t0 = now_s();
  if (!(bars = make_bars(n)) || write_data(bars, n, store, csv) != 0)
    goto done;
  free(bars);
  bars = NULL;
  malloc_trim(0);
  printf("data: %zu bars of 1m %s (synth seed 1) into LMDB and CSV in %.1f s (%s%s)\n", n, SYMBOL,
         now_s() - t0, tmp, keep ? ", kept" : "");
  snprintf(mem_venue, sizeof mem_venue, "data = \"%s\";", csv);
  snprintf(lmdb_store, sizeof lmdb_store, "store = { path = \"%s\"; };\n", store);
  for (int c = 0; c < N_CFGS; c++)
    if (write_cfg(cfg_path[c][VENUE_MEM], plugin_dir, &cfg_kinds[c], mem_venue, "", "") != 0 ||
        write_cfg(cfg_path[c][VENUE_LMDB], plugin_dir, &cfg_kinds[c],
                  "data = \"store\"; timeframe = 60;", lmdb_store, "") != 0)
      goto done;
  if (write_cfg(opt_path, plugin_dir, &cfg_kinds[CFG_OFTEN], "data = \"store\"; timeframe = 60;",
                lmdb_store, OPTIMIZE_GROUP) != 0)
    goto done;

  /* Memory first, while this process holds little: each config from LMDB,
   * each details, at a quarter and all of the bars. */
  tack_time all = INT64_MAX;
  tack_time quarter = (START_S + (int64_t)(n / 4) * TF) * TACK_NS_PER_SEC;
  mem_report mem[N_CFGS][2][2];
  for (int c = 0; c < N_CFGS; c++)
    for (int details = 0; details < 2; details++)
      if (measure_memory(cfg_path[c][VENUE_LMDB], details, quarter, &mem[c][details][0]) != 0 ||
          measure_memory(cfg_path[c][VENUE_LMDB], details, all, &mem[c][details][1]) != 0) {
        fprintf(stderr, "bench_backtest: the memory measurement failed\n");
        goto done;
      }

  /* The timed runs and the baseline, interleaved. */
  if (!(bars = make_bars(n)))
    goto done;
  tack_time day = (START_S + (int64_t)STARTUP_BARS * TF) * TACK_NS_PER_SEC;
  static double t_whole[N_RUNS][MAX_REPS], t_start[N_RUNS][MAX_REPS], c_whole[N_RUNS][MAX_REPS],
      c_start[N_RUNS][MAX_REPS];
  double t_loop[MAX_REPS];
  uint64_t flips = 0;
  bt_run whole[N_RUNS], start[N_RUNS];
  sink += baseline_loop(bars, n, &flips); /* warm up */
  for (long r = 0; r < reps; r++) {
    double a = now_s();
    sink += baseline_loop(bars, n, &flips);
    t_loop[r] = (now_s() - a) * 1e9 / (double)n;
    for (int k = 0; k < N_RUNS; k++) {
      const char *cfg = cfg_path[k / 4][(k / 2) % 2];
      if (run_backtest(cfg, k % 2, all, &whole[k]) != 0 ||
          run_backtest(cfg, k % 2, day, &start[k]) != 0)
        goto done;
      t_whole[k][r] = whole[k].seconds;
      t_start[k][r] = start[k].seconds;
      c_whole[k][r] = whole[k].cpu;
      c_start[k][r] = start[k].cpu;
    }
  }

  double loop_ns = median(t_loop, (int)reps);
  printf("\n%zu bars, %ld repetitions, medians; pinning: run under taskset -c 0\n", n, reps);
  printf("baseline loop (HA, EMA 12/26, ATR 26, MACD 12/26/9, RSI 14, weighted vote): "
         "%.2f ns/bar, %.1f M bars/s, %llu composite changes\n\n",
         loop_ns, 1e3 / loop_ns, (unsigned long long)flips);
  printf("%-36s %8s %7s %6s %8s %8s %8s %8s %7s %8s %10s %9s\n", "run", "orders", "fills", "trades",
         "whole s", "cpu s", "M bars/s", "ns/bar", "x loop", "start s", "replay M/s", "replay ns");
  for (int k = 0; k < N_RUNS; k++) {
    double w = median(t_whole[k], (int)reps), s = median(t_start[k], (int)reps);
    double ns = w * 1e9 / (double)whole[k].bars;
    double replay_ns = (w - s) * 1e9 / (double)(whole[k].bars - start[k].bars);
    snprintf(text, sizeof text, "%s, %s, details %d", cfg_kinds[k / 4].name,
             venue_names[(k / 2) % 2], k % 2);
    printf("%-36s %8llu %7llu %6llu %8.3f %8.3f %8.3f %8.1f %7.1f %8.3f %10.3f %9.1f\n", text,
           (unsigned long long)whole[k].orders, (unsigned long long)whole[k].fills,
           (unsigned long long)whole[k].trades, w, median(c_whole[k], (int)reps),
           whole[k].bars / w / 1e6, ns, ns / loop_ns, s, 1e3 / replay_ns, replay_ns);
  }
  printf("bars per run: %llu; end equity, details 1, in memory / from LMDB:",
         (unsigned long long)whole[0].bars);
  for (int c = 0; c < N_CFGS; c++)
    printf(" %s %.2f / %.2f;", cfg_kinds[c].file, whole[run_index(c, VENUE_MEM, 1)].end_equity,
           whole[run_index(c, VENUE_LMDB, 1)].end_equity);
  printf("\n");

  printf("\nper bar without orders (a, ns) and per order (b, us), solved per repetition from the "
         "replay times, medians\n");
  printf("%-24s %10s %10s %10s %10s %10s %10s %10s %10s\n", "", "a wall", "b wall", "a cpu",
         "b cpu", "sig wall", "often-sig", "sig cpu", "often-sig");
  for (int v = 0; v < N_VENUES; v++)
    for (int details = 0; details < 2; details++) {
      double va[4][MAX_REPS], vb[4][MAX_REPS];
      for (long r = 0; r < reps; r++) {
        double dtw[N_CFGS], dtc[N_CFGS], db[N_CFGS], dor[N_CFGS];
        for (int c = 0; c < N_CFGS; c++) {
          int k = run_index(c, v, details);
          dtw[c] = t_whole[k][r] - t_start[k][r];
          dtc[c] = c_whole[k][r] - c_start[k][r];
          db[c] = (double)(whole[k].bars - start[k].bars);
          dor[c] = (double)(whole[k].orders - start[k].orders);
        }
        split w = solve(dtw, db, dor), c = solve(dtc, db, dor);
        va[0][r] = w.a_ns;
        vb[0][r] = w.b_us;
        va[1][r] = c.a_ns;
        vb[1][r] = c.b_us;
        va[2][r] = w.a_sig_ns;
        vb[2][r] = w.b_dir_us;
        va[3][r] = c.a_sig_ns;
        vb[3][r] = c.b_dir_us;
      }
      snprintf(text, sizeof text, "%s, details %d", venue_names[v], details);
      printf("%-24s %10.1f %10.3f %10.1f %10.3f %10.1f %10.3f %10.1f %10.3f\n", text,
             median(va[0], (int)reps), median(vb[0], (int)reps), median(va[1], (int)reps),
             median(vb[1], (int)reps), median(va[2], (int)reps), median(vb[2], (int)reps),
             median(va[3], (int)reps), median(vb[3], (int)reps));
    }

  printf("\nmemory, from LMDB, one forked child per run (KB)\n");
  printf("%-24s %9s %7s %7s %10s %10s %10s %10s\n", "config", "bars", "orders", "fills",
         "start RSS", "peak RSS", "start anon", "peak anon");
  for (int c = 0; c < N_CFGS; c++)
    for (int details = 0; details < 2; details++)
      for (int q = 0; q < 2; q++) {
        const mem_report *m = &mem[c][details][q];
        snprintf(text, sizeof text, "%s, details %d", cfg_kinds[c].name, details);
        printf("%-24s %9llu %7llu %7llu %10ld %10ld %10ld %10ld\n", text,
               (unsigned long long)m->bars, (unsigned long long)m->orders,
               (unsigned long long)m->fills, m->start_rss_kb, m->peak_rss_kb, m->start_anon_kb,
               m->peak_anon_kb);
      }
  for (int c = 0; c < N_CFGS; c++)
    for (int details = 0; details < 2; details++) {
      const mem_report *a = &mem[c][details][0], *b = &mem[c][details][1];
      double bars_d = (double)(b->bars - a->bars);
      double orders_d = (double)(b->orders - a->orders);
      printf("%s, details %d: per extra bar %+.1f B peak RSS, %+.1f B peak anon; per extra order "
             "%+.0f B peak anon\n",
             cfg_kinds[c].name, details,
             (double)(b->peak_rss_kb - a->peak_rss_kb) * 1024.0 / bars_d,
             (double)(b->peak_anon_kb - a->peak_anon_kb) * 1024.0 / bars_d,
             orders_d > 0 ? (double)(b->peak_anon_kb - a->peak_anon_kb) * 1024.0 / orders_d : 0.0);
    }
  status = 0;

done:
  free(bars);
  if (tmp[0] && !keep) {
    const char *files[] = {"lmdb/data.mdb", "lmdb/lock.mdb", SYMBOL ".csv"};
    char file[400];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
      snprintf(file, sizeof file, "%s/%s", tmp, files[i]);
      unlink(file);
    }
    for (int c = 0; c < N_CFGS; c++)
      for (int v = 0; v < N_VENUES; v++)
        unlink(cfg_path[c][v]);
    unlink(opt_path);
    rmdir(store);
    rmdir(tmp);
  }
  return status;
}
