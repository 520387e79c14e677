/*
 * test_train.c: `tack train` (host/train.c, host/cmd_train.c) with the real
 * xgboost scorer and indicators of the build, on candles written into
 * temporary stores through host/candles.h:
 *   - a planted pattern (the next return's sign follows RSI(5) < 50) is
 *     learnt and scored well above chance on a held-out series, and two
 *     trainings write byte-identical models;
 *   - a model trained on one feature spec is refused by a config with another;
 *   - rows: the time split and its gap, both label kinds, bars of a higher
 *     timeframe resampled without look-ahead, a candle filter;
 *   - errors: no store, no candles, an unknown scorer, a bad train group (file,
 *     line and path), a label that does not fit the objective, too few rows;
 *   - the real binary ($TACK_BUILD_DIR/host/tack) end to end, --help and usage.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bars.h"
#include "candles.h"
#include "config.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "ml_features.h"
#include "plugin_spec.h"
#include "rt_test_util.h"
#include "store.h"
#include "train.h"

#define M5 300u
#define M15 900u
#define NS TACK_NS_PER_SEC
#define START_S INT64_C(1609459200) /* 2021-01-01T00:00:00Z */

static char tmp[256];
static char tack_exe[PATH_MAX];
static char plugin_dir[PATH_MAX];
static tack_loader *ld; /* for the held-out evaluation and the builder tests */

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

/* The whole file, malloc'd; NULL when it cannot be read. */
static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) {
    buf[n] = '\0';
    if (len)
      *len = (size_t)n;
  }
  return buf;
}

static tack_bar candle(int64_t i, uint32_t tf, double open, double close) {
  tack_bar b;
  memset(&b, 0, sizeof b);
  b.ts = (START_S + i * (int64_t)tf) * NS;
  b.open = open;
  b.close = close;
  b.high = fmax(open, close) * 1.0005;
  b.low = fmin(open, close) * 0.9995;
  b.volume = 1;
  b.timeframe_s = tf;
  b.flags = TACK_BAR_CLOSED;
  return b;
}

static double gauss(uint64_t *seed) {
  double u[2];
  for (int k = 0; k < 2; k++) {
    *seed = *seed * 6364136223846793005u + 1442695040888963407u;
    u[k] = ((double)(*seed >> 11) + 0.5) / 9007199254740992.0;
  }
  return sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

/*
 * n 5m candles whose next return follows RSI(5): +0.1% when it is below
 * 50, -0.1% otherwise, plus noise of sd 0.1%, so that the sign of the next
 * return agrees with the rule 84% of the time. RSI comes from the real
 * indicator plugin, the same code the features use.
 */
static tack_bar *planted(uint64_t seed, size_t n) {
  tack_bar *b = calloc(n, sizeof *b);
  tack_plugin_set set;
  tack_plugin_spec *rsi = NULL;
  tack_diag d = TACK_DIAG_INIT;
  assert_non_null(b);
  assert_int_equal(tack_plugin_spec_set_init(&set, ld), 0);
  assert_int_equal(tack_plugin_spec_new("rsi:5", TACK_KIND_INDICATOR, &set, &d, &rsi), 0);
  assert_int_equal(tack_plugin_spec_start(rsi, &d), 0);
  double close = 100, drift = 0;
  for (size_t i = 0; i < n; i++) {
    double open = close;
    close = open * exp(drift + 0.001 * gauss(&seed));
    b[i] = candle((int64_t)i, M5, open, close);
    double v;
    int rc = tack_instance_indicator_update(tack_plugin_spec_instance(rsi), &b[i], &v);
    assert_true(rc == 0 || rc == 1);
    drift = rc == 1 ? (v < 50 ? 0.001 : -0.001) : 0;
  }
  tack_plugin_spec_free(rsi);
  tack_plugin_spec_set_free(&set);
  tack_diag_free(&d);
  return b;
}

static void put_candles(const char *store, const char *symbol, uint32_t tf, const tack_bar *b,
                        size_t n) {
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  assert_int_equal(tack_store_open(store, 0, &st), 0);
  assert_int_equal(tack_candles_open(st, &cs), 0);
  if (n)
    assert_int_equal(tack_candles_put(cs, symbol, tf, b, n, NULL, NULL), 0);
  tack_candles_close(cs);
  tack_store_close(st);
}

/* A config in dir/name: the scorer "ml" (xgboost) with features, extra
 * keys in its entry, and the train group's body (NULL: no train group).
 * The train group is on line 20, its body from line 21 on. */
static void write_config(const char *dir, const char *name, const char *features,
                         const char *entry_extra, const char *params_extra, const char *train) {
  char path[PATH_MAX], text[8192];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(text, sizeof text,
           "version = 1;\n"
           "name = \"traintest\";\n"
           "plugin_dirs = [ \"%s\" ];\n"
           "store = { path = \"store\"; };\n"
           "log = { level = \"warn\"; };\n"
           "exchanges = { sim = { plugin = \"example.replay\"; }; };\n"
           "strategies = {\n"
           "  mom = { plugin = \"example.momentum\"; timeframe = \"5m\"; };\n"
           "  ml = {\n"
           "    type = \"scorer\";\n"
           "    plugin = \"xgboost\";\n"
           "    timeframes = [ \"5m\", \"15m\" ];\n"
           "    features = \"%s\";\n"
           "    %s\n"
           "    params = { model = \"model.json\"; rounds = 40; max_depth = 3; eta = 0.3;\n"
           "               subsample = 0.8; seed = 3; %s };\n"
           "  };\n"
           "};\n"
           "symbols = ( { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"mom\"; } );\n"
           "%s%s%s",
           plugin_dir, features, entry_extra ? entry_extra : "", params_extra ? params_extra : "",
           train ? "train = {\n" : "", train ? train : "", train ? "\n};\n" : "");
  write_file(path, text);
}

static const char *const default_features = "rsi:5; ret:1; ret:1~1; ret:1@15m";
static const char *const default_train = "  scorer = \"ml\";\n"
                                         "  symbol = \"BTC-USD\";\n"
                                         "  label = { kind = \"sign\"; horizon = 1; };\n"
                                         "  validation = 0.2;";

/* A fresh folder below tmp with a store of the planted candles. */
static void make_case(const char *name, size_t n_candles, char *dir, size_t cap) {
  char store[PATH_MAX];
  snprintf(dir, cap, "%s/%s", tmp, name);
  assert_int_equal(mkdir(dir, 0700), 0);
  snprintf(store, sizeof store, "%s/store", dir);
  tack_bar *b = planted(17, n_candles);
  put_candles(store, "BTC-USD", M5, b, n_candles);
  free(b);
}

/* tack_train_run on dir/name; the report into *report (malloc'd, may be
 * NULL), the problems into d. */
static int train_in(const char *dir, const char *name, const tack_train_overrides *ov,
                    char **report, tack_diag *d) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *out = tmpfile();
  assert_non_null(out);
  int rc = tack_train_run(path, ov, out, d);
  long n = ftell(out);
  if (report) {
    *report = calloc(1, (size_t)n + 1);
    assert_non_null(*report);
    rewind(out);
    assert_int_equal(fread(*report, 1, (size_t)n, out), (size_t)n);
  }
  fclose(out);
  /* The command leaves the log level where it set it. */
  tack_log_set_level(TACK_LOG_WARN);
  return rc;
}

static int diag_has(const tack_diag *d, const char *needle) {
  for (size_t i = 0; i < d->n; i++)
    if (strstr(d->msgs[i], needle))
      return 1;
  return 0;
}

static void print_diag(const tack_diag *d) {
  for (size_t i = 0; i < d->n; i++)
    fprintf(stderr, "  diag: %s\n", d->msgs[i]);
}

/* Rows of bars through a builder: features of spec on 5m and 15m bars made
 * from candles of source_tf. */
static void build_rows(const char *spec, const uint32_t *tfs, size_t n_tfs, uint32_t source_tf,
                       const tack_bar *bars, size_t n, const tack_train_opts *o,
                       tack_ctx *const *filters, size_t n_filters, tack_train_rows *rows) {
  tack_diag d = TACK_DIAG_INIT;
  tack_features *f = NULL;
  tack_train_builder *b = NULL;
  assert_int_equal(tack_features_new(spec, tfs, n_tfs, ld, NULL, &d, &f), 0);
  assert_int_equal(
      tack_train_builder_new(f, tfs, n_tfs, source_tf, TACK_BARS_GAP_SKIP, filters, n_filters, &b),
      0);
  assert_int_equal(tack_train_builder_push(b, bars, n), 0);
  assert_int_equal(tack_train_builder_finish(b, o, rows), 0);
  tack_train_builder_free(b);
  tack_features_free(f);
  tack_diag_free(&d);
}

static tack_train_opts opts(uint32_t kind, uint32_t horizon, double threshold, double validation) {
  tack_train_opts o;
  memset(&o, 0, sizeof o);
  o.from = INT64_MIN;
  o.to = INT64_MAX;
  o.label_kind = kind;
  o.horizon = horizon;
  o.threshold = threshold;
  o.validation = validation;
  return o;
}

/* ------------------------------------------------------------------------ */
/* Learning a planted pattern                                                */
/* ------------------------------------------------------------------------ */

/* The share of held-out rows whose label the trained scorer's sign gets
 * right, scoring through the instance the config makes (the model file). */
static double held_out_accuracy(const char *dir, const char *name) {
  char path[PATH_MAX];
  tack_diag d = TACK_DIAG_INIT;
  tack_config *cfg = NULL;
  tack_loader *cl = NULL;
  tack_ctx *ctx = NULL;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  assert_int_equal(tack_config_load(path, &cfg, &d), 0);
  assert_int_equal(tack_loader_new(&cl), 0);
  assert_int_equal(tack_config_load_plugins(cfg, NULL, 0, cl, &d), 0);
  tack_instance_set_registry(cl);
  int rc = tack_config_resolve(cfg, cl, &d);
  if (rc != 0)
    print_diag(&d);
  assert_int_equal(rc, 0);
  const tack_cfg_strategy *st = NULL;
  for (size_t i = 0; i < cfg->n_strategies; i++)
    if (strcmp(cfg->strategies[i].inst.name, "ml") == 0)
      st = &cfg->strategies[i];
  assert_non_null(st);
  assert_int_equal(tack_instance_new(&st->inst, NULL, &d, &ctx), 0);
  assert_int_equal(tack_instance_start(ctx), 0);

  enum { N = 3000 };
  tack_bar *b = planted(99, N);
  tack_train_opts o = opts(TACK_TRAIN_LABEL_SIGN, 1, 0, 0);
  tack_train_rows rows;
  build_rows(st->features, st->timeframes, st->n_timeframes, M5, b, N, &o, NULL, 0, &rows);
  const tack_scorer_vtable *vt = st->inst.plugin->desc->vtable;
  uint64_t right = 0;
  for (uint64_t r = 0; r < rows.rows; r++) {
    tack_signal sig;
    memset(&sig, 0, sizeof sig);
    assert_int_equal(vt->score(tack_instance_self(ctx), rows.x + r * rows.cols, rows.cols, &sig),
                     0);
    right += (sig.strength > 0) == (rows.y[r] > 0.5);
  }
  double acc = (double)right / (double)rows.rows;
  tack_train_rows_free(&rows);
  free(b);
  tack_instance_free(ctx);
  tack_instance_set_registry(ld);
  tack_config_free(cfg);
  tack_loader_free(cl);
  tack_diag_free(&d);
  return acc;
}

static void test_planted_pattern(void **state) {
  (void)state;
  char dir[512], model[PATH_MAX + 16];
  tack_diag d = TACK_DIAG_INIT;
  char *report = NULL;
  make_case("planted", 8000, dir, sizeof dir);
  write_config(dir, "a.cfg", default_features, NULL, NULL, default_train);
  int rc = train_in(dir, "a.cfg", NULL, &report, &d);
  if (rc != 0)
    print_diag(&d);
  assert_int_equal(rc, 0);
  assert_int_equal(d.n, 0);
  printf("%s", report);
  assert_non_null(strstr(report, "features (4): rsi:5,close.value@5m~0;ret:1@5m~0;"
                                 "ret:1@5m~1;ret:1@15m~0\n"));
  assert_non_null(strstr(report, "candles: 8000 of 5m"));
  assert_non_null(strstr(report, "bars: 8000 of 5m, 2021-01-01T00:00:00Z .. "));
  char gap[64];
  snprintf(gap, sizeof gap, "  %-10s %8d rows", "gap", 1);
  assert_non_null(strstr(report, gap));
  free(report);

  snprintf(model, sizeof model, "%s/model.json", dir);
  size_t len1 = 0, len2 = 0;
  char *first = read_file(model, &len1);
  assert_non_null(first);
  double acc = held_out_accuracy(dir, "a.cfg");
  printf("held-out accuracy: %.3f (the rule is right 84%% of the time)\n", acc);
  assert_true(acc > 0.75);

  /* Deterministic: the same data and params give the same bytes. */
  assert_int_equal(unlink(model), 0);
  assert_int_equal(train_in(dir, "a.cfg", NULL, NULL, &d), 0);
  char *second = read_file(model, &len2);
  assert_non_null(second);
  assert_int_equal(len1, len2);
  assert_memory_equal(first, second, len1);
  free(first);
  free(second);

  /* A model trained on one spec is refused by a config with another. */
  write_config(dir, "b.cfg", "rsi:5; ret:1; ret:1~2; ret:1@15m", NULL, NULL, default_train);
  char path[PATH_MAX];
  tack_config *cfg = NULL;
  tack_loader *cl = NULL;
  tack_ctx *ctx = NULL;
  snprintf(path, sizeof path, "%s/b.cfg", dir);
  assert_int_equal(tack_config_load(path, &cfg, &d), 0);
  assert_int_equal(tack_loader_new(&cl), 0);
  assert_int_equal(tack_config_load_plugins(cfg, NULL, 0, cl, &d), 0);
  tack_instance_set_registry(cl);
  assert_int_equal(tack_config_resolve(cfg, cl, &d), 0);
  for (size_t i = 0; i < cfg->n_strategies; i++)
    if (strcmp(cfg->strategies[i].inst.name, "ml") == 0)
      rc = tack_instance_new(&cfg->strategies[i].inst, NULL, &d, &ctx);
  assert_int_equal(rc, TACK_ECONFIG);
  assert_null(ctx);
  assert_true(diag_has(&d, "was trained on features 'rsi:5,close.value@5m~0;ret:1@5m~"
                           "0;ret:1@5m~1;ret:1@15m~0' (4), this config computes "
                           "'rsi:5,close.value@5m~0;ret:1@5m~0;ret:1@5m~2;ret:1@15m~"
                           "0' (4)"));
  tack_diag_free(&d);
  /* `tack train` on that config trains from scratch: it writes a scratch
   * file beside the old model and replaces the model with it, which the
   * config's scorer then loads. */
  rc = train_in(dir, "b.cfg", NULL, NULL, &d);
  tack_diag_print(&d, stderr);
  assert_int_equal(rc, 0);
  tack_diag_free(&d);
  for (size_t i = 0; i < cfg->n_strategies; i++)
    if (strcmp(cfg->strategies[i].inst.name, "ml") == 0)
      rc = tack_instance_new(&cfg->strategies[i].inst, NULL, &d, &ctx);
  assert_int_equal(rc, 0);
  tack_instance_free(ctx);
  DIR *folder = opendir(dir);
  assert_non_null(folder);
  for (struct dirent *e = readdir(folder); e; e = readdir(folder))
    assert_null(strstr(e->d_name, ".training-")); /* no scratch file left */
  closedir(folder);
  tack_instance_set_registry(ld);
  tack_config_free(cfg);
  tack_loader_free(cl);
  tack_diag_free(&d);
}

/* ------------------------------------------------------------------------ */
/* Rows                                                                      */
/* ------------------------------------------------------------------------ */

static const uint32_t tf5[] = {M5};
static const uint32_t tf5_15[] = {M5, M15};

static tack_bar *closes_to_bars(const double *c, size_t n, uint32_t tf) {
  tack_bar *b = calloc(n, sizeof *b);
  assert_non_null(b);
  for (size_t i = 0; i < n; i++)
    b[i] = candle((int64_t)i, tf, i ? c[i - 1] : c[i], c[i]);
  return b;
}

static void test_split_and_gap(void **state) {
  (void)state;
  enum { N = 100 };
  double c[N];
  for (int i = 0; i < N; i++)
    c[i] = 100 + i;
  tack_bar *b = closes_to_bars(c, N, M5);
  tack_train_rows rows;

  tack_train_opts o = opts(TACK_TRAIN_LABEL_SIGN, 3, 0, 0.25);
  build_rows("close", tf5, 1, M5, b, N, &o, NULL, 0, &rows);
  /* 100 vectors; the last 3 have no bar 3 ahead. 97 rows: round(24.25) =
   * 24 held out, of which the first 3 are the gap. */
  assert_int_equal(rows.base_bars, N);
  assert_int_equal(rows.warmup, 0);
  assert_int_equal(rows.unlabeled, 3);
  assert_int_equal(rows.rows, 97);
  assert_int_equal(rows.n_train, 73);
  assert_int_equal(rows.n_gap, 3);
  assert_int_equal(rows.n_valid, 21);
  /* The last training row is bar 72: its label reads bar 75, the last gap
   * row's; validation starts at bar 76. */
  assert_true(rows.x[72] == c[72]);
  assert_true(rows.x[76] == c[76]);
  assert_int_equal(rows.ts[72], (START_S + 72 * M5) * NS);
  assert_int_equal(rows.ts[rows.n_train + rows.n_gap], (START_S + 76 * M5) * NS);
  assert_int_equal(rows.first_bar, START_S * NS);
  assert_int_equal(rows.last_bar, (START_S + 99 * M5) * NS);
  tack_train_rows_free(&rows);

  /* No validation: every row trains, no gap. */
  o = opts(TACK_TRAIN_LABEL_SIGN, 3, 0, 0);
  build_rows("close", tf5, 1, M5, b, N, &o, NULL, 0, &rows);
  assert_int_equal(rows.n_train, 97);
  assert_int_equal(rows.n_gap, 0);
  assert_int_equal(rows.n_valid, 0);
  tack_train_rows_free(&rows);

  /* The gap counts bars, not rows: bars 70 to 79 have a close of 0, so
   * ret:1 gives vectors at bars 1..69 and 81..99, and labels over 3 bars at
   * 1..66 and 81..96: 82 rows. round(82 * 0.195) = 16 validate: bars 81 to
   * 96, more than 3 bars after the last training row (bar 66), so none of
   * them is in the gap. */
  for (int i = 70; i < 80; i++)
    b[i].close = b[i].low = b[i].open = b[i].high = 0;
  for (int i = 70; i < 81; i++)
    b[i].open = b[i - 1].close;
  o = opts(TACK_TRAIN_LABEL_RETURN, 3, 0, 0.195);
  build_rows("ret:1", tf5, 1, M5, b, N, &o, NULL, 0, &rows);
  assert_int_equal(rows.warmup, 12);
  assert_int_equal(rows.unlabeled, 6);
  assert_int_equal(rows.rows, 82);
  assert_int_equal(rows.n_train, 66);
  assert_int_equal(rows.n_gap, 0);
  assert_int_equal(rows.n_valid, 16);
  assert_int_equal(rows.ts[rows.n_train - 1], (START_S + 66 * M5) * NS);
  assert_int_equal(rows.ts[rows.n_train], (START_S + 81 * M5) * NS);
  tack_train_rows_free(&rows);

  /* With 0.25, round(20.5) = 21 validate: bars 62..66 and 81..96; the
   * first 3 (bars 62..64, within 3 bars of bar 61) are the gap. */
  o.validation = 0.25;
  build_rows("ret:1", tf5, 1, M5, b, N, &o, NULL, 0, &rows);
  assert_int_equal(rows.n_train, 61);
  assert_int_equal(rows.n_gap, 3);
  assert_int_equal(rows.n_valid, 18);
  assert_int_equal(rows.ts[rows.n_train + rows.n_gap], (START_S + 65 * M5) * NS);
  tack_train_rows_free(&rows);
  free(b);
}

static void test_label_kinds(void **state) {
  (void)state;
  static const double c[] = {100, 101, 99, 105, 104, 104, 110, 100};
  enum { N = sizeof c / sizeof c[0] };
  tack_bar *b = closes_to_bars(c, N, M5);
  tack_train_rows rows;
  tack_train_opts o = opts(TACK_TRAIN_LABEL_RETURN, 2, 0, 0);
  build_rows("close", tf5, 1, M5, b, N, &o, NULL, 0, &rows);
  assert_int_equal(rows.rows, N - 2);
  for (size_t k = 0; k < N - 2; k++)
    assert_true(rows.y[k] == log(c[k + 2] / c[k]));
  tack_train_rows_free(&rows);

  o = opts(TACK_TRAIN_LABEL_SIGN, 1, 0, 0);
  build_rows("close", tf5, 1, M5, b, N, &o, NULL, 0, &rows);
  static const double up[] = {1, 0, 1, 0, 0, 1, 0};
  assert_int_equal(rows.rows, N - 1);
  assert_memory_equal(rows.y, up, sizeof up);
  tack_train_rows_free(&rows);

  /* A threshold: up by more than 2% only. */
  o = opts(TACK_TRAIN_LABEL_SIGN, 1, 0.02, 0);
  build_rows("close", tf5, 1, M5, b, N, &o, NULL, 0, &rows);
  static const double big[] = {0, 0, 1, 0, 0, 1, 0};
  assert_memory_equal(rows.y, big, sizeof big);
  tack_train_rows_free(&rows);
  free(b);
}

/* The 15m bars are made from the candles and reach the features before
 * the 5m bar that ends with them, never earlier: at 5m bar k the 15m item
 * reads the bucket that ended at or before k's end. Also from 1m candles. */
static void test_resampled_without_lookahead(void **state) {
  (void)state;
  enum { N = 300 };
  double c[N];
  for (int i = 0; i < N; i++)
    c[i] = 100 + sin(i * 0.37) * 5 + i * 0.01;
  tack_bar *b = closes_to_bars(c, N, M5);
  tack_train_rows rows;
  tack_train_opts o = opts(TACK_TRAIN_LABEL_RETURN, 1, 0, 0);
  build_rows("close; close@15m; close@15m~1", tf5_15, 2, M5, b, N, &o, NULL, 0, &rows);
  /* The first vector is at bar 5: the second 15m bar closes with it. */
  assert_int_equal(rows.warmup, 5);
  for (uint64_t r = 0; r < rows.rows; r++) {
    size_t k = (size_t)((rows.ts[r] / NS - START_S) / M5);
    size_t j = (k + 1) / 3 - 1; /* the latest 15m bucket closed by bar k */
    assert_true(rows.x[r * 3] == c[k]);
    assert_true(rows.x[r * 3 + 1] == c[3 * j + 2]);
    assert_true(rows.x[r * 3 + 2] == c[3 * j - 1]);
  }
  tack_train_rows_free(&rows);
  free(b);

  /* 1m candles make the 5m and 15m bars; a 5m close is its last 1m close. */
  enum { M = 900 };
  double m[M];
  for (int i = 0; i < M; i++)
    m[i] = 50 + cos(i * 0.11) + i * 0.001;
  tack_bar *mb = closes_to_bars(m, M, 60);
  build_rows("close; close@15m", tf5_15, 2, 60, mb, M, &o, NULL, 0, &rows);
  assert_int_equal(rows.source_bars, M);
  assert_int_equal(rows.base_bars, M / 5);
  for (uint64_t r = 0; r < rows.rows; r++) {
    size_t k = (size_t)((rows.ts[r] / NS - START_S) / M5);
    assert_true(rows.x[r * 2] == m[5 * k + 4]);
    assert_true(rows.x[r * 2 + 1] == m[15 * ((k + 1) / 3 - 1) + 14]);
  }
  tack_train_rows_free(&rows);
  free(mb);
}

/* A filter of the scorer entry shapes the features; the labels stay the
 * traded closes. */
static void test_filtered_features(void **state) {
  (void)state;
  enum { N = 50 };
  double c[N];
  for (int i = 0; i < N; i++)
    c[i] = 100 + (i % 7) - (i % 3);
  tack_bar *b = closes_to_bars(c, N, M5);
  tack_plugin_set set;
  tack_plugin_spec *ha = NULL;
  tack_diag d = TACK_DIAG_INIT;
  assert_int_equal(tack_plugin_spec_set_init(&set, ld), 0);
  assert_int_equal(tack_plugin_spec_new("heikin_ashi", TACK_KIND_FILTER, &set, &d, &ha), 0);
  assert_int_equal(tack_plugin_spec_start(ha, &d), 0);
  tack_ctx *chain[1] = {tack_plugin_spec_instance(ha)};
  tack_train_rows rows;
  tack_train_opts o = opts(TACK_TRAIN_LABEL_RETURN, 1, 0, 0);
  build_rows("close", tf5, 1, M5, b, N, &o, chain, 1, &rows);
  assert_int_equal(rows.rows, N - 1);
  for (size_t k = 0; k < N - 1; k++) {
    double ha_close = (b[k].open + b[k].high + b[k].low + b[k].close) / 4;
    assert_true(fabs(rows.x[k] - ha_close) < 1e-12);
    assert_true(rows.y[k] == log(c[k + 1] / c[k]));
  }
  tack_train_rows_free(&rows);
  tack_plugin_spec_free(ha);
  tack_plugin_spec_set_free(&set);
  tack_diag_free(&d);
  free(b);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

static void expect_failure(const char *dir, const char *name, const tack_train_overrides *ov,
                           int want_rc, const char *needle) {
  tack_diag d = TACK_DIAG_INIT;
  int rc = train_in(dir, name, ov, NULL, &d);
  if (rc != want_rc || !diag_has(&d, needle)) {
    fprintf(stderr, "%s: want %s and a message with: %s\n", name, tack_err_name(want_rc), needle);
    fprintf(stderr, "  got %s\n", tack_err_name(rc));
    print_diag(&d);
  }
  assert_int_equal(rc, want_rc);
  assert_true(diag_has(&d, needle));
  tack_diag_free(&d);
}

static void test_errors(void **state) {
  (void)state;
  char dir[512], store[PATH_MAX + 8];
  snprintf(dir, sizeof dir, "%s/errors", tmp);
  assert_int_equal(mkdir(dir, 0700), 0);
  write_config(dir, "a.cfg", default_features, NULL, NULL, default_train);

  /* No store at all. */
  expect_failure(dir, "a.cfg", NULL, TACK_ECONFIG,
                 "/errors/store (the config's store): import "
                 "candles first with 'tack data import FILE "
                 "--symbol BTC-USD --timeframe TF --store");
  /* A store without the series. */
  snprintf(store, sizeof store, "%s/store", dir);
  tack_bar one = candle(0, M5, 1, 1);
  put_candles(store, "ETH-USD", M5, &one, 1);
  expect_failure(dir, "a.cfg", NULL, TACK_ECONFIG, "no candles of BTC-USD 5m in the store at ");
  /* The series, but not in the period. */
  tack_bar *b = planted(5, 200);
  put_candles(store, "BTC-USD", M5, b, 200);
  tack_train_overrides ov = {NULL, NULL, "2022-01-01", NULL, NULL, 0};
  expect_failure(dir, "a.cfg", &ov, TACK_ECONFIG,
                 "the store holds no candles of BTC-USD 5m in the training period");
  /* Too few rows for a validation set after the gap. */
  tack_train_overrides few = {NULL, NULL, NULL, "2021-01-01T00:40:00Z", NULL, 0};
  expect_failure(dir, "a.cfg", &few, TACK_ECONFIG,
                 "too few rows to train: 8 candles of BTC-USD "
                 "5m gave 2 labeled rows");
  free(b);
  /* --scorer naming what is not a scorer. */
  tack_train_overrides mom = {"mom", NULL, NULL, NULL, NULL, 0};
  expect_failure(dir, "a.cfg", &mom, TACK_ECONFIG,
                 "--scorer mom: that entry is not a scorer; name a strategies entry with type = "
                 "\"scorer\"");
  tack_train_overrides none = {"nope", NULL, NULL, NULL, NULL, 0};
  expect_failure(dir, "a.cfg", &none, TACK_ECONFIG,
                 "--scorer nope: no strategies entry has that "
                 "name");
  /* A label the objective cannot model. */
  write_config(dir, "obj.cfg", default_features, NULL, NULL,
               "  scorer = \"ml\"; symbol = \"BTC-USD\"; label = { kind = \"return\"; };");
  expect_failure(dir, "obj.cfg", NULL, TACK_ECONFIG,
                 "obj.cfg:21: train.label: label kind \"return\" does not fit scorer ml's "
                 "objective \"binary:logistic\": use kind = \"sign\" here, or objective = "
                 "\"reg:squarederror\" in its params");
  /* Candles that cannot make the scorer's bars. */
  write_config(dir, "tf.cfg", default_features, NULL, NULL,
               "  scorer = \"ml\"; symbol = \"BTC-USD\"; timeframe = \"2m\";");
  expect_failure(dir, "tf.cfg", NULL, TACK_ECONFIG,
                 "tf.cfg:21: train.timeframe: candles of 2m cannot make the 5m bars of scorer ml");
  /* No train group. */
  write_config(dir, "none.cfg", default_features, NULL, NULL, NULL);
  expect_failure(dir, "none.cfg", NULL, TACK_ECONFIG,
                 "none.cfg: the config has no train group: add one");
}

/* A bad train group: every problem with its file, line and path. */
static void test_bad_train_group(void **state) {
  (void)state;
  char dir[512], path[PATH_MAX + 16];
  snprintf(dir, sizeof dir, "%s/schema", tmp);
  assert_int_equal(mkdir(dir, 0700), 0);
  write_config(dir, "bad.cfg", default_features, NULL, NULL,
               "  scorer = \"ml2\";\n"                                       /* 21 */
               "  symbl = \"BTC-USD\";\n"                                    /* 22 */
               "  timeframe = \"5x\";\n"                                     /* 23 */
               "  from = \"2021-13-01\";\n"                                  /* 24 */
               "  to = 5;\n"                                                 /* 25 */
               "  label = { kind = \"up\"; horizon = 0; threshold = 1; };\n" /* 26 */
               "  validation = 1.5;\n"                                       /* 27 */
               "  extra = 1;");                                              /* 28 */
  snprintf(path, sizeof path, "%s/bad.cfg", dir);
  tack_diag d = TACK_DIAG_INIT;
  tack_config *cfg = NULL;
  assert_int_equal(tack_config_load(path, &cfg, &d), TACK_ECONFIG);
  assert_null(cfg);
  static const char *const want[] = {
      "bad.cfg:22: train.symbl: unknown setting (did you mean 'symbol'?)",
      "bad.cfg:28: train.extra: unknown setting; allowed here: scorer, symbol, timeframe, from, "
      "to, label, validation",
      "bad.cfg:21: train.scorer: no strategies entry named 'ml2' (did you mean 'ml'?)",
      "bad.cfg:23: train.timeframe: must be a timeframe such as \"1m\", \"5m\" or \"1h\" (whole "
      "seconds, more than 0, at most 7 days), got a string \"5x\"",
      "bad.cfg:24: train.from: must be a UTC date and time such as \"2021-01-01\" or "
      "\"2021-01-01T06:00:00Z\", or UNIX seconds, got a string \"2021-13-01\"",
      "bad.cfg:26: train.label.kind: must be one of sign|return, got \"up\"",
      "bad.cfg:26: train.label.horizon: must be an integer from 1 to 100000 (bars), got 0",
      "bad.cfg:27: train.validation: must be a number from 0 to 0.9 (the share of rows held out), "
      "got 1.5",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    if (!diag_has(&d, want[i])) {
      fprintf(stderr, "missing: %s\n", want[i]);
      print_diag(&d);
    }
    assert_true(diag_has(&d, want[i]));
  }
  assert_int_equal(d.n, sizeof want / sizeof want[0]);
  tack_diag_free(&d);

  /* Other mistakes, one at a time. */
  static const struct {
    const char *train;
    const char *message;
  } cases[] = {
      {"  scorer = \"mom\"; symbol = \"BTC-USD\";",
       "bad.cfg:21: train.scorer: strategies.mom is an entry of type \"plugin\", not a scorer: "
       "train needs an entry with type = \"scorer\""},
      {"  symbol = \"BTC-USD\";", "bad.cfg:20: train.scorer: required setting is missing (for "
                                  "example: scorer = \"ml\";)"},
      {"  scorer = \"ml\"; symbol = \"BTC USD\";",
       "bad.cfg:21: train.symbol: \"BTC USD\" is not a symbol: 1 to 64 printable ASCII "
       "characters without spaces"},
      {"  scorer = \"ml\"; symbol = \"BTC-USD\"; from = \"2021-02-01\"; to = \"2021-01-01\";",
       "bad.cfg:21: train.to: must be later than from (line 21)"},
      {"  scorer = \"ml\"; symbol = \"BTC-USD\"; label = { kind = \"return\"; threshold = 0.1; };",
       "bad.cfg:21: train.label.threshold: applies to kind = \"sign\" only: a \"return\" label is "
       "the return itself"},
      {"  scorer = \"ml\"; symbol = \"BTC-USD\"; validation = \"0.2\";",
       "bad.cfg:21: train.validation: must be a number from 0 to 0.9, got a string \"0.2\""},
      {"  scorer = \"ml\"; symbol = \"BTC-USD\"; horizon = 3;",
       "bad.cfg:21: train.horizon: unknown setting here: horizon goes in the label group, label "
       "= { horizon = ...; }"},
      {"  scorer = \"ml\"; symbol = \"BTC-USD\"; label = 1;",
       "bad.cfg:21: train.label: must be a group { kind = \"sign\"; horizon = 12; }, got an "
       "integer 1"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_config(dir, "bad.cfg", default_features, NULL, NULL, cases[i].train);
    assert_int_equal(tack_config_load(path, &cfg, &d), TACK_ECONFIG);
    if (d.n != 1 || !diag_has(&d, cases[i].message)) {
      fprintf(stderr, "want: %s\n", cases[i].message);
      print_diag(&d);
    }
    assert_int_equal(d.n, 1);
    assert_true(diag_has(&d, cases[i].message));
    tack_diag_free(&d);
  }
}

/* ------------------------------------------------------------------------ */
/* The real binary                                                           */
/* ------------------------------------------------------------------------ */

typedef struct run_result {
  int status;
  char *out;
  char *err;
} run_result;

/* Run tack with args (NULL-terminated) in cwd, output into files. */
static void run_tack(run_result *r, const char *cwd, const char *const *args) {
  char out_path[PATH_MAX], err_path[PATH_MAX];
  const char *argv[32];
  size_t n = 0;
  snprintf(out_path, sizeof out_path, "%s/run.out", tmp);
  snprintf(err_path, sizeof err_path, "%s/run.err", tmp);
  argv[n++] = tack_exe;
  for (; args[n - 1] && n < 31; n++)
    argv[n] = args[n - 1];
  argv[n] = NULL;
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || (cwd && chdir(cwd) != 0))
      _exit(127);
    unsetenv("TACK_STORE");
    execv(tack_exe, (char *const *)argv);
    _exit(127);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r->out = read_file(out_path, NULL);
  r->err = read_file(err_path, NULL);
  assert_non_null(r->out);
  assert_non_null(r->err);
}

static void result_free(run_result *r) {
  free(r->out);
  free(r->err);
}

static void test_cli(void **state) {
  (void)state;
  char dir[512], store[PATH_MAX + 8], moved[PATH_MAX + 16], model[PATH_MAX + 16];
  run_result r;
  make_case("cli", 3000, dir, sizeof dir);
  /* The store named on the command line, not in the config. */
  snprintf(store, sizeof store, "%s/store", dir);
  snprintf(moved, sizeof moved, "%s/elsewhere", dir);
  assert_int_equal(rename(store, moved), 0);
  write_config(dir, "cli.cfg", default_features, NULL, NULL,
               "  scorer = \"ml\"; symbol = \"BTC-USD\"; from = \"2021-01-02\";\n"
               "  label = { kind = \"sign\"; horizon = 2; }; validation = 0.25;");
  {
    const char *const args[] = {"train", "cli.cfg", "--store", "elsewhere", NULL};
    run_tack(&r, dir, args);
  }
  if (r.status != 0)
    fprintf(stderr, "stdout:\n%s\nstderr:\n%s\n", r.out, r.err);
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "train scorer ml (xgboost "));
  assert_non_null(strstr(r.out, "candles: 2712 of 5m from elsewhere (--store)"));
  assert_non_null(strstr(r.out, "bars: 2712 of 5m, 2021-01-02T00:00:00Z .. 2021-01-11T09:55:00Z; "
                                "also 15m (resampled from the candles)"));
  assert_non_null(strstr(r.out, "    3  ret:1@15m~0\n"));
  assert_non_null(strstr(r.out, "label: sign: 1 when the log return over the next 2 5m bars is > "
                                "0, else 0; label 1 in "));
  assert_non_null(strstr(r.out, "split in time (validation 0.25, gap of 2 bars):"));
  char gap[64];
  snprintf(gap, sizeof gap, "  %-10s %8d rows", "gap", 2);
  assert_non_null(strstr(r.out, gap));
  assert_non_null(strstr(r.out, "trained in "));
  assert_non_null(strstr(r.out, ": model model.json\n"));
  /* The scorer's metrics, at info although the config says warn. */
  assert_non_null(strstr(r.err, "validation ("));
  result_free(&r);
  snprintf(model, sizeof model, "%s/model.json", dir);
  struct stat sb;
  assert_int_equal(stat(model, &sb), 0);

  /* A config that does not load: exit 1, the problem on stderr. */
  write_config(dir, "bad.cfg", default_features, NULL, NULL, "  scorer = \"ml\";");
  {
    const char *const args[] = {"train", "bad.cfg", NULL};
    run_tack(&r, dir, args);
  }
  assert_int_equal(r.status, 1);
  assert_non_null(strstr(r.err, "error: bad.cfg:20: train.symbol: required setting is missing"));
  assert_non_null(strstr(r.err, "tack: train: nothing was trained from bad.cfg"));
  result_free(&r);

  /* --help, and usage errors (exit 2). */
  {
    const char *const args[] = {"train", "--help", NULL};
    run_tack(&r, dir, args);
  }
  assert_int_equal(r.status, 0);
  assert_true(strncmp(r.out, "usage: tack train CONFIG", 24) == 0);
  result_free(&r);
  static const char *const usage[][5] = {
      {"train", NULL},
      {"train", "a.cfg", "b.cfg", NULL},
      {"train", "a.cfg", "--from", "yesterday", NULL},
      {"train", "a.cfg", "--bogus", NULL},
      {"train", "a.cfg", "--store", NULL},
  };
  static const char *const why[] = {"missing CONFIG", "one CONFIG only",
                                    "--from 'yesterday': expected UNIX seconds",
                                    "unknown option '--bogus'", "--store needs a value"};
  for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
    run_tack(&r, dir, usage[i]);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, why[i]));
    result_free(&r);
  }
}

int main(void) {
  const char *build = getenv("TACK_BUILD_DIR");
  if (!build) {
    fprintf(stderr, "TACK_BUILD_DIR must be set: run through ctest\n");
    return 1;
  }
  snprintf(tack_exe, sizeof tack_exe, "%s/host/tack", build);
  snprintf(plugin_dir, sizeof plugin_dir, "%s/plugins", build);
  if (access(tack_exe, X_OK) != 0) {
    fprintf(stderr, "%s is not built\n", tack_exe);
    return 1;
  }
  if (rt_tmpdir(tmp, sizeof tmp) != 0 || tack_loader_new(&ld) != 0 ||
      tack_loader_scan_dir(ld, plugin_dir) != 0) {
    fprintf(stderr, "cannot make a folder or scan %s\n", plugin_dir);
    return 1;
  }
  static const char *const needed[] = {"xgboost", "rsi", "heikin_ashi", "example.replay",
                                       "example.momentum"};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
    if (!tack_loader_find(ld, needed[i])) {
      fprintf(stderr, "plugin %s is not in %s\n", needed[i], plugin_dir);
      return 1;
    }
  }
  tack_instance_set_registry(ld);
  tack_log_set_level(TACK_LOG_WARN);

  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_split_and_gap),
      cmocka_unit_test(test_label_kinds),
      cmocka_unit_test(test_resampled_without_lookahead),
      cmocka_unit_test(test_filtered_features),
      cmocka_unit_test(test_planted_pattern),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_bad_train_group),
      cmocka_unit_test(test_cli),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  tack_instance_set_registry(NULL);
  tack_loader_free(ld);
  rt_rmtree(tmp);
  return failed;
}
