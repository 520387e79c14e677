/*
 * bench_compose.c: what composing strategies costs per bar (host/compose.c),
 * against the sum of its parts measured in the same process on the same
 * bars, so that figures from this noisy shared machine compare.
 *
 * The input is a seeded random walk of 5m bars, passed once through the
 * heikin_ashi filter plugin. Then, per bar, in rounds that interleave:
 *
 *   parts      each of three stock strategies (ema_cross, macd_trend,
 *              rsi_reversion, from strategies.so) alone on the Heikin-Ashi
 *              bars, called through its vtable; their sum is the baseline
 *   composite  a weighted composite of the same three (fresh instances) on
 *              the same bars, the way the runtime drives it: each leaf
 *              through tack_instance_strategy_on_bar(), its signals checked
 *              and handed to the tree, the tree evaluated after every bar
 *   whole      the composite with a heikin_ashi filter instance per member
 *              fed the raw bars, as `tack run` composes it, reading every
 *              new signal of the composite as the runtime records it (that
 *              is when its reason text is made; the log line the runtime
 *              then writes for any signal, composed or not, is left out)
 *
 * and, as a second measurement, the same with a fourth member: the xgboost
 * scorer, on features the host computes (host/ml_features.h) with a model
 * trained here on synthetic rows; its part is the feature update and
 * score() alone.
 *
 * Each figure is the median of the rounds, in nanoseconds per bar.
 *
 *   bench_compose [BARS [ROUNDS [PLUGIN_DIR]]]   defaults 200000, 7, the build's
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compose.h"
#include "config.h"
#include "diag.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "ml_features.h"
#include "runtime.h"

#define MAX_ROUNDS 31
#define N_STRATEGIES 3
#define TF 300u
#define HA_CAP 4

/* Keeps the compiler from dropping results nothing reads. */
static volatile double sink;

static const char config_text[] =
    "version = 1;\n"
    "name = \"bench\";\n"
    "exchanges = { replay = { plugin = \"example.replay\"; }; };\n"
    "strategies = {\n"
    "  trend = { plugin = \"ema_cross\"; timeframe = \"5m\"; filter = \"heikin_ashi\";\n"
    "            params = { fast = 12; slow = 26; mode = \"state\"; }; };\n"
    "  macd = { plugin = \"macd_trend\"; timeframe = \"5m\"; filter = \"heikin_ashi\"; };\n"
    "  rsi = { plugin = \"rsi_reversion\"; timeframe = \"5m\"; filter = \"heikin_ashi\"; };\n"
    "  ml = { type = \"scorer\"; plugin = \"xgboost\"; timeframe = \"5m\"; filter = "
    "\"heikin_ashi\";\n"
    "         features = \"rsi:14; ret:1; ret:1~1; range\";\n"
    "         params = { model = \"model.json\"; rounds = 20; max_depth = 3; }; };\n"
    "  blend = { type = \"composite\"; method = \"weighted\"; threshold = 0.1;\n"
    "            members = ( { strategy = \"trend\"; weight = 2.0; }, \"macd\", \"rsi\" ); };\n"
    "  blend_ml = { type = \"composite\"; method = \"weighted\"; threshold = 0.1;\n"
    "               members = ( { strategy = \"trend\"; weight = 2.0; }, \"macd\", \"rsi\", "
    "\"ml\" ); };\n"
    "};\n"
    "symbols = ( { symbol = \"BTC-USD\"; exchange = \"replay\"; strategy = \"blend\"; } );\n";

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
  return v[n / 2];
}

/* A random walk of closed 5m bars (splitmix64, so the same everywhere). */
static void make_bars(tack_bar *bars, size_t n) {
  uint64_t state = 7;
  double price = 100.0;
  for (size_t i = 0; i < n; i++) {
    uint64_t z = (state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    double u = (double)(z >> 11) / 9007199254740992.0;
    double open = price;
    price *= 1.0 + (u - 0.5) * 0.02;
    bars[i].ts = (tack_time)(1704067200 + (int64_t)i * TF) * TACK_NS_PER_SEC;
    bars[i].open = open;
    bars[i].close = price;
    bars[i].high = fmax(open, price) * (1.0 + u * 0.003);
    bars[i].low = fmin(open, price) * (1.0 - (1.0 - u) * 0.003);
    bars[i].volume = 1.0 + u;
    bars[i].timeframe_s = TF;
    bars[i].flags = TACK_BAR_CLOSED;
  }
}

/* The next round's bars come after this round's: the feature builder
 * refuses a bar that is not later than the previous one. */
static void next_round(tack_bar *raw, tack_bar *ha, size_t n) {
  tack_time shift = (tack_time)n * TF * TACK_NS_PER_SEC;
  for (size_t i = 0; i < n; i++) {
    raw[i].ts += shift;
    ha[i].ts += shift;
  }
}

static tack_cfg_strategy *entry(tack_config *cfg, const char *name) {
  for (size_t i = 0; i < cfg->n_strategies; i++)
    if (strcmp(cfg->strategies[i].inst.name, name) == 0)
      return &cfg->strategies[i];
  return NULL;
}

/* A started instance of entry st's plugin; NULL (reported) on failure. */
static tack_ctx *start_instance(const tack_cfg_instance *ci, tack_diag *d) {
  tack_ctx *ctx = NULL;
  if (tack_instance_new(ci, NULL, d, &ctx) != 0)
    return NULL;
  if (tack_instance_start(ctx) != 0) {
    tack_instance_free(ctx);
    return NULL;
  }
  return ctx;
}

/* One member of the composite, as the runtime holds it. */
typedef struct leaf {
  tack_ctx *ctx;
  tack_ctx *filter; /* its own heikin_ashi, for the whole */
  size_t node;
  tack_features *features; /* the scorer's */
  double vector[8];
} leaf;

typedef struct composite {
  tack_compose *tree;
  leaf leaves[N_STRATEGIES + 1];
  size_t n;
} composite;

static void composite_free(composite *c) {
  for (size_t i = 0; i < c->n; i++) {
    if (c->leaves[i].ctx)
      tack_instance_free(c->leaves[i].ctx);
    if (c->leaves[i].filter)
      tack_instance_free(c->leaves[i].filter);
    tack_features_free(c->leaves[i].features);
  }
  tack_compose_free(c->tree);
  memset(c, 0, sizeof *c);
}

static int composite_make(composite *c, const tack_cfg_strategy *root, const tack_loader *ld,
                          tack_diag *d) {
  memset(c, 0, sizeof *c);
  if (tack_compose_new(root, "BTC-USD", &c->tree) != 0)
    return -1;
  for (size_t i = 0; i < tack_compose_node_count(c->tree); i++) {
    const tack_cfg_strategy *st = tack_compose_node_config(c->tree, i);
    if (tack_config_children(st) != 0)
      continue;
    leaf *l = &c->leaves[c->n++];
    l->node = i;
    l->ctx = start_instance(&st->inst, d);
    l->filter = start_instance(st->filters[0], d);
    if (!l->ctx || !l->filter)
      return -1;
    if (st->type == TACK_STRATEGY_SCORER &&
        tack_features_new(st->features, st->timeframes, st->n_timeframes, ld, "bench", d,
                          &l->features) != 0)
      return -1;
  }
  return 0;
}

/* A leaf's bar, as runtime.c's to_leaf() handles it. */
static void leaf_bar(composite *c, leaf *l, const tack_bar *bar) {
  tack_signal sig;
  sig.ts = 0;
  sig.strength = 0;
  sig.confidence = 0;
  sig.reason[0] = '\0';
  int rc;
  if (!l->features) {
    rc = tack_instance_strategy_on_bar(l->ctx, bar, &sig);
  } else {
    rc = tack_features_update(l->features, bar, l->vector);
    if (rc == 1) {
      const tack_scorer_vtable *vt = tack_instance_desc(l->ctx)->vtable;
      rc = vt->score(tack_instance_self(l->ctx), l->vector, tack_features_count(l->features), &sig)
               ? 0
               : 1;
    }
  }
  if (rc == 1 && tack_signal_normalize(&sig) == 0) {
    if (sig.ts == 0)
      sig.ts = bar->ts;
    tack_compose_leaf_signal(c->tree, l->node, &sig);
  }
}

/* ns per bar of the composite on bars (already filtered; or raw, with each
 * leaf's own filter and each new signal read). */
static double run_composite(composite *c, const tack_bar *bars, size_t n, int raw) {
  tack_compose_env env = {0, 0, NULL, NULL};
  tack_signal root;
  tack_bar out[HA_CAP];
  double acc = 0;
  double t0 = now_s();
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < c->n; k++) {
      leaf *l = &c->leaves[k];
      uint32_t got = 1;
      const tack_bar *in = &bars[i];
      if (raw) {
        tack_instance_filter_update(l->filter, &bars[i], out, HA_CAP, &got);
        in = out;
      }
      for (uint32_t j = 0; j < got; j++)
        leaf_bar(c, l, &in[j]);
    }
    /* The whole also reads each new signal, as the runtime records it
     * (the reason is made then); the composite only counts them. */
    if (tack_compose_evaluate(c->tree, TF, bars[i].ts + TF * TACK_NS_PER_SEC, &env))
      acc += raw && tack_compose_root_signal(c->tree, &root) ? root.strength : 1.0;
  }
  double t1 = now_s();
  sink += acc;
  return (t1 - t0) * 1e9 / (double)n;
}

/* ns per bar of one strategy alone, straight through its vtable. */
static double run_part(tack_ctx *ctx, const tack_bar *bars, size_t n) {
  const tack_strategy_vtable *vt = tack_instance_desc(ctx)->vtable;
  void *self = tack_instance_self(ctx);
  tack_signal sig;
  double acc = 0;
  double t0 = now_s();
  for (size_t i = 0; i < n; i++)
    if (vt->on_bar(self, &bars[i], &sig) == 1)
      acc += sig.strength;
  double t1 = now_s();
  sink += acc;
  return (t1 - t0) * 1e9 / (double)n;
}

/* ns per bar of the scorer alone: its features, then score(). */
static double run_scorer(tack_ctx *ctx, tack_features *f, const tack_bar *bars, size_t n) {
  const tack_scorer_vtable *vt = tack_instance_desc(ctx)->vtable;
  void *self = tack_instance_self(ctx);
  double x[8], acc = 0;
  tack_signal sig;
  double t0 = now_s();
  for (size_t i = 0; i < n; i++)
    if (tack_features_update(f, &bars[i], x) == 1 &&
        vt->score(self, x, tack_features_count(f), &sig) == 0)
      acc += sig.strength;
  double t1 = now_s();
  sink += acc;
  return (t1 - t0) * 1e9 / (double)n;
}

static double run_filter(tack_ctx *ha, const tack_bar *bars, size_t n, tack_bar *out) {
  uint32_t got = 0;
  double t0 = now_s();
  for (size_t i = 0; i < n; i++)
    tack_instance_filter_update(ha, &bars[i], &out[i], 1, &got);
  double t1 = now_s();
  return (t1 - t0) * 1e9 / (double)n;
}

/* Train the scorer's model on synthetic rows of the right width. */
static int train_model(const tack_cfg_strategy *ml, tack_diag *d) {
  enum { ROWS = 2000 };
  static double x[ROWS * 4], y[ROWS];
  tack_ctx *ctx = NULL;
  if (tack_instance_new(&ml->inst, NULL, d, &ctx) != 0)
    return -1;
  for (int i = 0; i < ROWS; i++) {
    x[i * 4] = 30 + 40 * fabs(sin(i * 0.37));
    x[i * 4 + 1] = sin(i * 0.7) * 0.01;
    x[i * 4 + 2] = cos(i * 1.3) * 0.01;
    x[i * 4 + 3] = 0.004 + 0.001 * (i % 5);
    y[i] = x[i * 4 + 1] + 0.3 * x[i * 4 + 2] > 0;
  }
  tack_dataset train = {x, y, 1500, 4, 0}, valid = {x + 1500 * 4, y + 1500, 500, 4, 0};
  const tack_scorer_vtable *vt = tack_instance_desc(ctx)->vtable;
  int rc = vt->train(tack_instance_self(ctx), &train, &valid);
  tack_instance_free(ctx);
  return rc;
}

static int usage(void) {
  fprintf(stderr,
          "usage: bench_compose [BARS [ROUNDS [PLUGIN_DIR]]]  (BARS >= 1000, ROUNDS 1..%d)\n",
          MAX_ROUNDS);
  return 2;
}

static void print_line(const char *what, double ns) { printf("%-34s %8.1f ns/bar\n", what, ns); }

static void print_overhead(const char *what, double ns, double parts) {
  printf("%-34s %8.1f ns/bar  overhead %+.1f ns (%+.1f%%)\n", what, ns, ns - parts,
         100.0 * (ns - parts) / parts);
}

int main(int argc, char **argv) {
  size_t n = 200000;
  long rounds = 7;
  const char *dir = BENCH_PLUGIN_DIR;
  char *end = NULL;
  char tmp[256], path[320];
  tack_loader *ld = NULL;
  tack_config *cfg = NULL;
  tack_diag d = TACK_DIAG_INIT;
  tack_bar *raw = NULL, *ha = NULL;
  tack_ctx *filter = NULL, *parts[N_STRATEGIES] = {NULL}, *scorer = NULL;
  tack_features *features = NULL;
  composite comp, whole, comp_ml, whole_ml;
  int status = 1;
  memset(&comp, 0, sizeof comp);
  memset(&whole, 0, sizeof whole);
  memset(&comp_ml, 0, sizeof comp_ml);
  memset(&whole_ml, 0, sizeof whole_ml);
  tmp[0] = '\0';

  if (argc > 1 && ((n = (size_t)strtoul(argv[1], &end, 10)) < 1000 || *end))
    return usage();
  if (argc > 2 && ((rounds = strtol(argv[2], &end, 10)) < 1 || rounds > MAX_ROUNDS || *end))
    return usage();
  if (argc > 3)
    dir = argv[3];
  tack_log_set_level(TACK_LOG_WARN);

  snprintf(tmp, sizeof tmp, "%s/tack-bench-compose-XXXXXX",
           getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmp)) {
    perror("bench_compose: mkdtemp");
    tmp[0] = '\0';
    goto done;
  }
  snprintf(path, sizeof path, "%s/bench.cfg", tmp);
  FILE *f = fopen(path, "w");
  if (!f || fputs(config_text, f) < 0 || fclose(f) != 0) {
    perror("bench_compose: writing the config");
    goto done;
  }
  if (tack_loader_new(&ld) != 0 || tack_loader_scan_dir(ld, dir) != 0)
    goto done;
  tack_instance_set_registry(ld);
  if (tack_config_load(path, &cfg, &d) != 0 || tack_config_resolve(cfg, ld, &d) != 0) {
    tack_diag_print(&d, stderr);
    fprintf(stderr, "bench_compose: plugins from %s\n", dir);
    goto done;
  }

  raw = calloc(n, sizeof *raw);
  ha = calloc(n, sizeof *ha);
  if (!raw || !ha)
    goto done;
  make_bars(raw, n);
  filter = start_instance(entry(cfg, "trend")->filters[0], &d);
  const char *names[N_STRATEGIES] = {"trend", "macd", "rsi"};
  for (size_t k = 0; k < N_STRATEGIES; k++)
    parts[k] = start_instance(&entry(cfg, names[k])->inst, &d);
  if (!filter || !parts[0] || !parts[1] || !parts[2] ||
      composite_make(&comp, entry(cfg, "blend"), ld, &d) != 0 ||
      composite_make(&whole, entry(cfg, "blend"), ld, &d) != 0) {
    tack_diag_print(&d, stderr);
    goto done;
  }

  double t_ha[MAX_ROUNDS], t_part[N_STRATEGIES][MAX_ROUNDS], t_sum[MAX_ROUNDS];
  double t_comp[MAX_ROUNDS], t_whole[MAX_ROUNDS];
  run_filter(filter, raw, n, ha); /* warm up, and the filtered bars */
  for (long r = 0; r < rounds; r++) {
    t_ha[r] = run_filter(filter, raw, n, ha);
    t_sum[r] = 0;
    for (size_t k = 0; k < N_STRATEGIES; k++) {
      t_part[k][r] = run_part(parts[k], ha, n);
      t_sum[r] += t_part[k][r];
    }
    t_comp[r] = run_composite(&comp, ha, n, 0);
    t_whole[r] = run_composite(&whole, raw, n, 1);
    next_round(raw, ha, n);
  }
  printf("bars per round %zu, %ld rounds, medians\n", n, rounds);
  print_line("heikin_ashi alone", median(t_ha, (int)rounds));
  for (size_t k = 0; k < N_STRATEGIES; k++)
    print_line(tack_instance_desc(parts[k])->id, median(t_part[k], (int)rounds));
  double sum = median(t_sum, (int)rounds);
  print_line("sum of the parts", sum);
  print_overhead("composite (weighted, 3 members)", median(t_comp, (int)rounds), sum);
  print_line("whole: 3 filters + composite", median(t_whole, (int)rounds));

  const tack_cfg_strategy *ml = entry(cfg, "ml");
  if (train_model(ml, &d) != 0) {
    tack_diag_print(&d, stderr);
    fprintf(stderr, "bench_compose: no xgboost model, no scorer measurement\n");
    status = 0;
    goto done;
  }
  scorer = start_instance(&ml->inst, &d);
  if (!scorer ||
      tack_features_new(ml->features, ml->timeframes, ml->n_timeframes, ld, "bench", &d,
                        &features) != 0 ||
      composite_make(&comp_ml, entry(cfg, "blend_ml"), ld, &d) != 0 ||
      composite_make(&whole_ml, entry(cfg, "blend_ml"), ld, &d) != 0) {
    tack_diag_print(&d, stderr);
    goto done;
  }
  double t_scorer[MAX_ROUNDS], t_sum_ml[MAX_ROUNDS], t_comp_ml[MAX_ROUNDS], t_whole_ml[MAX_ROUNDS];
  for (long r = 0; r < rounds; r++) {
    t_scorer[r] = run_scorer(scorer, features, ha, n);
    t_sum_ml[r] = t_scorer[r];
    for (size_t k = 0; k < N_STRATEGIES; k++)
      t_sum_ml[r] += run_part(parts[k], ha, n);
    t_comp_ml[r] = run_composite(&comp_ml, ha, n, 0);
    t_whole_ml[r] = run_composite(&whole_ml, raw, n, 1);
    next_round(raw, ha, n);
  }
  printf("with the xgboost scorer as a fourth member\n");
  print_line("xgboost alone (features + score)", median(t_scorer, (int)rounds));
  double sum_ml = median(t_sum_ml, (int)rounds);
  print_line("sum of the parts", sum_ml);
  print_overhead("composite (weighted, 4 members)", median(t_comp_ml, (int)rounds), sum_ml);
  print_line("whole: 4 filters + composite", median(t_whole_ml, (int)rounds));
  status = 0;

done:
  composite_free(&comp);
  composite_free(&whole);
  composite_free(&comp_ml);
  composite_free(&whole_ml);
  tack_features_free(features);
  if (scorer)
    tack_instance_free(scorer);
  for (size_t k = 0; k < N_STRATEGIES; k++)
    if (parts[k])
      tack_instance_free(parts[k]);
  if (filter)
    tack_instance_free(filter);
  free(raw);
  free(ha);
  tack_config_free(cfg);
  tack_instance_set_registry(NULL);
  tack_loader_free(ld);
  tack_diag_free(&d);
  if (tmp[0]) {
    char file[400];
    snprintf(file, sizeof file, "%s/model.json", tmp);
    unlink(file);
    unlink(path);
    rmdir(tmp);
  }
  return status;
}
