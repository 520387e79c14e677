/*
 * bench_trading.c: what trading costs inside the host (host/trading.c and
 * what it drives: sizing, rounding, risk, order manager, ledger, journal),
 * measured through whole runs built from a config as `tack run` builds them
 * (tack_runtime_new / build / run), each against a baseline taken in the
 * same process.
 *
 * Two venues, each run without a trading group (signals only: the
 * baseline), trading without a store (nothing persisted: the host's own
 * path), trading with the host log at "info" written to a file (every
 * signal and order logs lines), trading with a durable store (every
 * journal write an fsync'd LMDB commit; STORE_BARS bars), and holding: the
 * strategy bench.hold signals +1 on every bar, so that the trader builds a
 * position on the first bars and then holds it without an order, marking
 * it and checking its exits (stop loss, take profit, trailing stop) and
 * the day's loss limit on every bar, none of which fires (what most bars
 * of a backtest cost):
 *
 *   venue  bench.venue and bench.flip (bench/trading_plugin.c): a bar every
 *          loop step and a signal of alternating sign on every bar, so that
 *          the trader sends an order on every bar; the venue fills it at
 *          the next step, before the next bar. It costs next to nothing,
 *          so what is measured is the host.
 *   paper  the paper venue (exchanges/paper: a seeded random walk,
 *          interval_ms 0, persist false, no fees or slippage) and the same
 *          strategy: a venue that does a venue's work.
 *
 * For every run: bars + orders + fills per second of tack_runtime_run(),
 * and its time per bar against the baseline's. For the venue's trading
 * runs also, per bar, as p50 and p99 over the bars of a run:
 *
 *   signal -> order  from just before the strategy's on_bar() returns its
 *                    signal to the entry of the venue's submit() with the
 *                    order it led to (runtime, trader, sizing, rounding,
 *                    risk gate, order manager, journal, the exchange call)
 *   bar -> signal    the baseline: from just before the venue's ex_bar() to
 *                    the same signal (routing, the trader's marks, bars,
 *                    the strategy call)
 *
 * Each figure is the median over the repetitions; the variants interleave
 * within each repetition. The host log is at "warn" except where said.
 *
 *   bench_trading [REPS [BARS [STORE_BARS [DIR [ONLY]]]]]
 *     defaults 5, 40000, 300, $TMPDIR or /tmp (where the stores go);
 *     ONLY: run the variants whose name holds it (and their baselines)
 */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "runtime.h"
#include "trading.h"
#include "trading_record.h"

#define MAX_REPS 15

enum { VENUE_BENCH, VENUE_PAPER };

typedef struct variant {
  const char *name;
  int venue;    /* VENUE_* */
  int trading;  /* the config has a trading group */
  int store;    /* a durable store (else none) */
  int info_log; /* the host log at info, into a file */
  int few_bars; /* STORE_BARS bars instead of BARS */
  int hold;     /* the strategy bench.hold instead of bench.flip */
  int baseline; /* index of the variant it compares with, -1 none */
} variant;

static const variant variants[] = {
    {"venue: signals only (baseline)", VENUE_BENCH, 0, 0, 0, 0, 0, -1},
    {"venue: trading, no store", VENUE_BENCH, 1, 0, 0, 0, 0, 0},
    {"venue: trading, log at info to a file, no store", VENUE_BENCH, 1, 0, 1, 0, 0, 0},
    {"venue: trading, durable store", VENUE_BENCH, 1, 1, 0, 1, 0, 0},
    {"venue: trading, holding, no store", VENUE_BENCH, 1, 0, 0, 0, 1, 0},
    {"paper: signals only (baseline)", VENUE_PAPER, 0, 0, 0, 0, 0, -1},
    {"paper: trading, no store", VENUE_PAPER, 1, 0, 0, 0, 0, 5},
    {"paper: trading, log at info to a file, no store", VENUE_PAPER, 1, 0, 1, 0, 0, 5},
    {"paper: trading, durable store", VENUE_PAPER, 1, 1, 0, 1, 0, 5},
    {"paper: trading, holding, no store", VENUE_PAPER, 1, 0, 0, 0, 1, 5},
};
#define N_VARIANTS (sizeof variants / sizeof variants[0])

typedef struct result {
  double seconds;
  uint64_t bars, signals, orders, fills;
  size_t pairs;
  double lat_p50, lat_p99, base_p50, base_p99; /* ns */
} result;

typedef struct bench {
  const char *tmp;
  tack_loader *ld;
  bench_trading_record *rec;
  size_t bars, store_bars;
  unsigned serial;
} bench;

static double now_s(void) { return (double)bench_trading_now() / 1e9; }

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(const double *v, int n) {
  double s[MAX_REPS];
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* The q-quantile of n sorted values (nearest rank). */
static double quantile(const int64_t *sorted, size_t n, double q) {
  size_t k = (size_t)(q * (double)(n - 1) + 0.5);
  return (double)sorted[k];
}

static int write_config(const variant *v, size_t bars, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fprintf(f, "version = 1;\nname = \"bench\";\n");
  if (v->venue == VENUE_BENCH)
    fprintf(f,
            "exchanges = { venue = { plugin = \"bench.venue\"; params = { bars = %zu; }; }; };\n",
            bars);
  else
    fprintf(f,
            "exchanges = { venue = { plugin = \"paper\"; params = {\n"
            "  symbols = \"BTC-USD\"; bars = %zu; seed = 7; interval_ms = 0; persist = false;\n"
            "  cash = 10000000.0; maker_bps = 0.0; taker_bps = 0.0; slippage = \"none\"; }; }; "
            "};\n",
            bars);
  fprintf(f,
          "strategies = { flip = { plugin = \"%s\"; timeframe = \"1m\"; }; };\n"
          "symbols = ( { symbol = \"BTC-USD\"; exchange = \"venue\"; strategy = \"flip\"; } );\n",
          v->hold ? "bench.hold" : "bench.flip");
  /* An allocation that one bar's volume of the random walk (at least 1)
   * always covers, so that every order fills whole; when holding, exits and
   * a daily loss limit that never fire, checked on every bar. */
  if (v->trading)
    fprintf(f, "trading = { sizing = { allocation = 20.0; };%s };\n",
            v->hold ? "\n  exits = { stop_loss = 0.9; take_profit = 10.0; trailing_stop = 0.9; };\n"
                      "  day = { loss_limit = 1000000.0; };"
                    : "");
  return fclose(f) == 0 ? 0 : -1;
}

/* Remove the store folder (LMDB's files, no subfolders). */
static void remove_store(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  char file[sizeof e->d_name + 512];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
    unlink(file);
  }
  closedir(d);
  rmdir(dir);
}

/* From the record: signal -> submit over the bars that had both, and
 * sent -> signal over the bars that had both. */
static int latencies(const bench_trading_record *r, size_t n, result *out) {
  int64_t *lat = malloc(n * sizeof *lat), *base = malloc(n * sizeof *base);
  size_t k = 0, m = 0;
  if (!lat || !base) {
    free(lat);
    free(base);
    return -1;
  }
  for (size_t i = 0; i < n && i < r->cap; i++) {
    if (r->signal[i] && r->submit[i])
      lat[k++] = r->submit[i] - r->signal[i];
    if (r->sent[i] && r->signal[i])
      base[m++] = r->signal[i] - r->sent[i];
  }
  out->pairs = k;
  if (k) {
    qsort(lat, k, sizeof *lat, cmp_i64);
    out->lat_p50 = quantile(lat, k, 0.50);
    out->lat_p99 = quantile(lat, k, 0.99);
  }
  if (m) {
    qsort(base, m, sizeof *base, cmp_i64);
    out->base_p50 = quantile(base, m, 0.50);
    out->base_p99 = quantile(base, m, 0.99);
  }
  free(lat);
  free(base);
  return 0;
}

/* One run of variant v: config, runtime, timed tack_runtime_run(), figures. */
static int run_once(bench *b, const variant *v, result *out) {
  char cfg_path[400], store[400], log_path[400];
  size_t bars = v->few_bars ? b->store_bars : b->bars;
  tack_config *cfg = NULL;
  tack_runtime *rt = NULL;
  tack_diag d = TACK_DIAG_INIT;
  int saved_err = -1, status = -1;
  unsigned serial = b->serial++;
  memset(out, 0, sizeof *out);

  snprintf(cfg_path, sizeof cfg_path, "%s/run%u.cfg", b->tmp, serial);
  snprintf(store, sizeof store, "%s/store%u", b->tmp, serial);
  snprintf(log_path, sizeof log_path, "%s/run%u.log", b->tmp, serial);
  bench_trading_record *r = b->rec;
  size_t cap = v->venue == VENUE_BENCH ? bars : 0;
  memset(r->sent, 0, cap * sizeof *r->sent);
  memset(r->signal, 0, cap * sizeof *r->signal);
  memset(r->submit, 0, cap * sizeof *r->submit);
  r->cap = cap;
  r->signals = r->submits = r->fills = 0;

  if (write_config(v, bars, cfg_path) != 0) {
    perror("bench_trading: writing the config");
    goto done;
  }
  tack_runtime_opts o = {"bench", v->store ? store : NULL, 0, 0, 0, 0};
  if (tack_config_load(cfg_path, &cfg, &d) != 0 || tack_config_resolve(cfg, b->ld, &d) != 0 ||
      tack_runtime_new(&o, &rt) != 0 || tack_runtime_build(rt, cfg, &d) != 0) {
    tack_diag_print(&d, stderr);
    fprintf(stderr, "bench_trading: %s: cannot build the run\n", v->name);
    goto done;
  }
  if (v->info_log) {
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    fflush(stderr);
    saved_err = fd >= 0 ? dup(2) : -1;
    if (saved_err < 0 || dup2(fd, 2) < 0) {
      perror("bench_trading: the log file");
      if (fd >= 0)
        close(fd);
      goto done;
    }
    close(fd);
    tack_log_set_level(TACK_LOG_INFO);
  }
  double t0 = now_s();
  int rc = tack_runtime_run(rt);
  out->seconds = now_s() - t0;
  if (v->info_log) {
    tack_log_set_level(TACK_LOG_WARN);
    fflush(stderr);
    dup2(saved_err, 2);
    close(saved_err);
    saved_err = -1;
  }
  if (rc != 0) {
    fprintf(stderr, "bench_trading: %s: the run failed: %s\n", v->name, tack_strerror(rc));
    goto done;
  }
  tack_runtime_symbol_stats rs;
  if (tack_runtime_symbol_stats_at(rt, 0, &rs) != 0)
    goto done;
  out->bars = rs.bars;
  out->signals = rs.signals;
  tack_trading *t = tack_runtime_trading(rt);
  if (t) {
    tack_trading_symbol_stats ts;
    char why[256];
    if (tack_trading_symbol_stats_at(t, 0, &ts) != 0)
      goto done;
    out->orders = ts.orders;
    out->fills = ts.fills;
    if (tack_trading_check(t, why, sizeof why) != 0) {
      fprintf(stderr, "bench_trading: %s: the ledger does not add up: %s\n", v->name, why);
      goto done;
    }
  }
  if (out->bars != bars) {
    fprintf(stderr, "bench_trading: %s: %llu bars of %zu arrived\n", v->name,
            (unsigned long long)out->bars, bars);
    goto done;
  }
  if (cap && latencies(r, bars, out) != 0)
    goto done;
  status = 0;

done:
  if (saved_err >= 0) {
    tack_log_set_level(TACK_LOG_WARN);
    dup2(saved_err, 2);
    close(saved_err);
  }
  tack_runtime_free(rt);
  tack_config_free(cfg);
  tack_diag_free(&d);
  unlink(cfg_path);
  unlink(log_path);
  if (v->store)
    remove_store(store);
  return status;
}

static void print_latency(const variant *v, const result *res, int reps) {
  double p50[MAX_REPS], p99[MAX_REPS], b50[MAX_REPS], b99[MAX_REPS], pairs[MAX_REPS];
  double bars[MAX_REPS];
  for (int k = 0; k < reps; k++) {
    p50[k] = res[k].lat_p50 / 1e3;
    p99[k] = res[k].lat_p99 / 1e3;
    b50[k] = res[k].base_p50 / 1e3;
    b99[k] = res[k].base_p99 / 1e3;
    pairs[k] = (double)res[k].pairs;
    bars[k] = (double)res[k].bars;
  }
  double m50 = median(p50, reps), mb50 = median(b50, reps), mpairs = median(pairs, reps);
  printf("%-48s %9.0f %9.0f | ", v->name, median(bars, reps), mpairs);
  if (mpairs > 0)
    printf("%8.2f %9.2f | ", m50, median(p99, reps));
  else
    printf("%8s %9s | ", "-", "-");
  printf("%8.2f %9.2f | ", mb50, median(b99, reps));
  if (mpairs > 0 && mb50 > 0)
    printf("%7.1fx\n", m50 / mb50);
  else
    printf("%8s\n", "-");
}

static void print_throughput(const variant *v, const result *res, const result *base, int reps) {
  double rate[MAX_REPS], per_bar[MAX_REPS], ratio[MAX_REPS];
  double orders[MAX_REPS], fills[MAX_REPS], bars[MAX_REPS];
  for (int k = 0; k < reps; k++) {
    const result *x = &res[k];
    double events = (double)(x->bars + x->orders + x->fills);
    rate[k] = events / x->seconds;
    per_bar[k] = x->seconds / (double)x->bars * 1e9;
    ratio[k] = base ? per_bar[k] / (base[k].seconds / (double)base[k].bars * 1e9) : 1;
    orders[k] = (double)x->orders;
    fills[k] = (double)x->fills;
    bars[k] = (double)x->bars;
  }
  printf("%-48s %9.0f %9.0f %9.0f | %10.0f | %9.0f | %6.2fx\n", v->name, median(bars, reps),
         median(orders, reps), median(fills, reps), median(rate, reps), median(per_bar, reps),
         median(ratio, reps));
}

static int usage(void) {
  fprintf(stderr, "usage: bench_trading [REPS [BARS [STORE_BARS [DIR [ONLY]]]]]\n"
                  "  REPS 1..15 (5), BARS >= 1000 (40000), STORE_BARS >= 100 (300),\n"
                  "  DIR where the stores go ($TMPDIR or /tmp), ONLY the variants whose name\n"
                  "  holds it (all)\n");
  return 2;
}

int main(int argc, char **argv) {
  long reps = 5;
  size_t bars = 40000, store_bars = 300;
  const char *root = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  const char *only = NULL;
  int wanted[N_VARIANTS] = {0};
  char *end;
  char tmp[300];
  static result res[N_VARIANTS][MAX_REPS];
  bench b;
  void *so = NULL;
  int status = 1;
  memset(&b, 0, sizeof b);
  tmp[0] = '\0';

  if (argc > 1 && ((reps = strtol(argv[1], &end, 10)) < 1 || reps > MAX_REPS || *end))
    return usage();
  if (argc > 2 && ((bars = (size_t)strtoul(argv[2], &end, 10)) < 1000 || *end))
    return usage();
  if (argc > 3 && ((store_bars = (size_t)strtoul(argv[3], &end, 10)) < 100 || *end))
    return usage();
  if (argc > 4)
    root = argv[4];
  if (argc > 5)
    only = argv[5];
  if (argc > 6)
    return usage();
  for (size_t i = 0; i < N_VARIANTS; i++) {
    if (!only || strstr(variants[i].name, only)) {
      wanted[i] = 1;
      if (variants[i].baseline >= 0)
        wanted[variants[i].baseline] = 1;
    }
  }
  /* An even count: the last signal closes the position, so that no run
   * ends with a flatten. */
  bars &= ~(size_t)1;
  store_bars &= ~(size_t)1;
  tack_log_set_level(TACK_LOG_WARN);

  snprintf(tmp, sizeof tmp, "%s/tack-bench-trading-XXXXXX", root);
  if (!mkdtemp(tmp)) {
    perror("bench_trading: mkdtemp");
    tmp[0] = '\0';
    goto done;
  }
  so = dlopen(BENCH_TRADING_PLUGIN, RTLD_NOW | RTLD_LOCAL);
  b.rec = so ? dlsym(so, BENCH_TRADING_RECORD_SYMBOL) : NULL;
  if (!b.rec) {
    fprintf(stderr, "bench_trading: %s: %s\n", BENCH_TRADING_PLUGIN, dlerror());
    goto done;
  }
  size_t most = bars > store_bars ? bars : store_bars;
  b.rec->sent = calloc(most, sizeof(int64_t));
  b.rec->signal = calloc(most, sizeof(int64_t));
  b.rec->submit = calloc(most, sizeof(int64_t));
  if (!b.rec->sent || !b.rec->signal || !b.rec->submit)
    goto done;
  b.tmp = tmp;
  b.bars = bars;
  b.store_bars = store_bars;
  if (tack_loader_new(&b.ld) != 0 || tack_loader_load_file(b.ld, BENCH_TRADING_PLUGIN) != 0 ||
      tack_loader_load_file(b.ld, BENCH_PAPER_PLUGIN) != 0) {
    tack_loader_print_refusals(b.ld, stderr);
    goto done;
  }
  tack_instance_set_registry(b.ld);

  for (long k = 0; k < reps; k++)
    for (size_t i = 0; i < N_VARIANTS; i++)
      if (wanted[i] && run_once(&b, &variants[i], &res[i][k]) != 0)
        goto done;

  printf("bench_trading: %ld repetitions, medians; BARS %zu, STORE_BARS %zu, stores in %s\n", reps,
         bars, store_bars, root);
  printf("\n%-48s %9s %9s | %8s %9s | %8s %9s | %8s\n", "latency (us)", "bars", "pairs", "sig->ord",
         "p99", "bar->sig", "p99", "p50/p50");
  for (size_t i = 0; i < N_VARIANTS; i++)
    if (wanted[i] && variants[i].venue == VENUE_BENCH)
      print_latency(&variants[i], res[i], (int)reps);
  printf("\n%-48s %9s %9s %9s | %10s | %9s | %7s\n", "throughput", "bars", "orders", "fills",
         "events/s", "ns/bar", "x base");
  for (size_t i = 0; i < N_VARIANTS; i++)
    if (wanted[i])
      print_throughput(&variants[i], res[i],
                       variants[i].baseline >= 0 ? res[variants[i].baseline] : NULL, (int)reps);
  status = 0;

done:
  tack_instance_set_registry(NULL);
  tack_loader_free(b.ld);
  if (b.rec) {
    free(b.rec->sent);
    free(b.rec->signal);
    free(b.rec->submit);
    memset(b.rec, 0, sizeof *b.rec);
  }
  if (so)
    dlclose(so);
  if (tmp[0])
    rmdir(tmp);
  return status;
}
