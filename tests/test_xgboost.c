/*
 * test_xgboost.c: tests of the "xgboost" scorer (plugins/xgboost), loaded
 * from the built xgboost.so with dlopen and driven through a small test
 * host: parameters from an in-test key/value list, counted allocations
 * (with failure injection), and a log kept per instance so that tests can
 * read what the plugin said. train() runs on a thread of its own, as the
 * host runs it.
 *
 * Covered: a planted pattern learnt and scored (accuracy, separation, the
 * trained model adopted by the training instance and read back by a new
 * one, bit for bit), determinism of the model file across runs and thread
 * counts, .ubj, regression and its scale, early stopping, threshold; the
 * refusals: a model trained on other features, another count, another
 * objective, a corrupt or foreign file, a missing file (TACK_ESTATE), bad
 * feature vectors and bad training data; allocation failures; and
 * `tack plugin-info` on the real binary.
 *
 * XGB_TEST_LOG=1 echoes the plugin's log to stderr. XGB_BENCH_ROWS=N adds
 * a training run of N rows x 16 features (XGB_BENCH_NTHREAD threads, 1 by
 * default) and reports its time and the cost of score() on its model
 * (bench/RESULTS.md, section Scorer).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <xgboost/c_api.h>

#include "tack.h"

/* ------------------------------------------------------------------------ */
/* Test host                                                                 */
/* ------------------------------------------------------------------------ */

#define LOG_CAP 65536

struct tack_ctx {
  const tack_plugin_desc *desc;
  const char *const *kv; /* "key", "value", ..., NULL: config text */
  long live;             /* blocks allocated, not yet freed */
  long n_allocs;
  long fail_at; /* the fail_at-th allocation fails; 0: none */
  int n_param_errors;
  char param_error[1024]; /* the last: "key: message" */
  pthread_mutex_t log_lock;
  size_t log_len;
  char log[LOG_CAP]; /* every line logged, "L message\n" */
};

static const tack_plugin_desc *desc;
static const tack_scorer_vtable *vt;
static char tmp_dir[256];

static const tack_param_spec *th_spec(tack_ctx *ctx, const char *key) {
  for (const tack_param_spec *p = ctx->desc->params; p->name != NULL; p++)
    if (strcmp(p->name, key) == 0)
      return p;
  return NULL;
}

static const char *th_value(tack_ctx *ctx, const char *key) {
  for (const char *const *p = ctx->kv; p != NULL && p[0] != NULL; p += 2)
    if (strcmp(p[0], key) == 0)
      return p[1];
  return NULL;
}

static void th_log(tack_ctx *ctx, int32_t level, const char *fmt, ...) {
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (getenv("XGB_TEST_LOG") != NULL)
    fprintf(stderr, "[xgboost] %d: %s\n", (int)level, line);
  pthread_mutex_lock(&ctx->log_lock);
  int n = snprintf(ctx->log + ctx->log_len, LOG_CAP - ctx->log_len, "%d %s\n", (int)level, line);
  if (n > 0)
    ctx->log_len += (size_t)n < LOG_CAP - ctx->log_len ? (size_t)n : LOG_CAP - ctx->log_len - 1;
  pthread_mutex_unlock(&ctx->log_lock);
}

static tack_time th_now(tack_ctx *ctx) {
  (void)ctx;
  return 1700000000 * TACK_NS_PER_SEC;
}

static int th_param_int(tack_ctx *ctx, const char *key, int64_t *out) {
  const tack_param_spec *s = th_spec(ctx, key);
  if (s == NULL)
    return TACK_ENOENT;
  if (s->type != TACK_PARAM_INT)
    return TACK_ETYPE;
  const char *v = th_value(ctx, key);
  if (v == NULL) {
    *out = (int64_t)s->def;
    return 0;
  }
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0')
    return TACK_ETYPE;
  *out = n;
  return 0;
}

static int th_param_double(tack_ctx *ctx, const char *key, double *out) {
  const tack_param_spec *s = th_spec(ctx, key);
  if (s == NULL)
    return TACK_ENOENT;
  if (s->type != TACK_PARAM_DOUBLE)
    return TACK_ETYPE;
  const char *v = th_value(ctx, key);
  if (v == NULL) {
    *out = s->def;
    return 0;
  }
  char *end;
  double d = strtod(v, &end);
  if (end == v || *end != '\0')
    return TACK_ETYPE;
  *out = d;
  return 0;
}

static int th_param_bool(tack_ctx *ctx, const char *key, int *out) {
  const tack_param_spec *s = th_spec(ctx, key);
  if (s == NULL)
    return TACK_ENOENT;
  const char *v = th_value(ctx, key);
  *out = v != NULL ? strcmp(v, "true") == 0 : s->def != 0.0;
  return 0;
}

static int th_param_string(tack_ctx *ctx, const char *key, const char **out) {
  const tack_param_spec *s = th_spec(ctx, key);
  if (s == NULL)
    return TACK_ENOENT;
  if (s->type != TACK_PARAM_STRING)
    return TACK_ETYPE;
  const char *v = th_value(ctx, key);
  *out = v != NULL ? v : s->def_str;
  return 0;
}

static int th_param_error(tack_ctx *ctx, const char *key, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(ctx->param_error, sizeof ctx->param_error, "%s: ", key ? key : "(none)");
  va_start(ap, fmt);
  vsnprintf(ctx->param_error + n, sizeof ctx->param_error - (size_t)n, fmt, ap);
  va_end(ap);
  ctx->n_param_errors++;
  if (getenv("XGB_TEST_LOG") != NULL)
    fprintf(stderr, "[xgboost] param_error %s\n", ctx->param_error);
  return TACK_ECONFIG;
}

static void *th_alloc(tack_ctx *ctx, size_t size) {
  if (++ctx->n_allocs == ctx->fail_at)
    return NULL;
  void *p = malloc(size);
  if (p != NULL)
    ctx->live++;
  return p;
}

static void *th_realloc(tack_ctx *ctx, void *ptr, size_t size) {
  if (ptr == NULL)
    return th_alloc(ctx, size);
  if (++ctx->n_allocs == ctx->fail_at)
    return NULL;
  return realloc(ptr, size);
}

static void th_free(tack_ctx *ctx, void *ptr) {
  if (ptr != NULL)
    ctx->live--;
  free(ptr);
}

static const tack_host test_host = {
    .size = sizeof(tack_host),
    .abi_major = TACK_ABI_MAJOR,
    .abi_minor = TACK_ABI_MINOR,
    .host_version = "xgboost test host",
    .log = th_log,
    .now = th_now,
    .param_int = th_param_int,
    .param_double = th_param_double,
    .param_bool = th_param_bool,
    .param_string = th_param_string,
    .param_error = th_param_error,
    .alloc = th_alloc,
    .realloc = th_realloc,
    .free = th_free,
    .strerror = tack_strerror,
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

/* A fresh context; tests keep it on the heap (the log is large). */
static tack_ctx *ctx_new(const char *const *kv) {
  tack_ctx *ctx = calloc(1, sizeof *ctx);
  assert_non_null(ctx);
  ctx->desc = desc;
  ctx->kv = kv;
  pthread_mutex_init(&ctx->log_lock, NULL);
  return ctx;
}

static void ctx_free(tack_ctx *ctx) {
  pthread_mutex_destroy(&ctx->log_lock);
  free(ctx);
}

/* create + configure; returns configure's code (create must succeed). */
static int inst_open(tack_ctx *ctx, void **self) {
  assert_int_equal(vt->life.create(ctx, &test_host, self), 0);
  return vt->life.configure(*self);
}

/* destroy, and check that every host allocation was returned. */
static void inst_close(tack_ctx *ctx, void *self) {
  vt->life.destroy(self);
  assert_int_equal(ctx->live, 0);
}

static int count_in(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
    n++;
  return n;
}

static void tmp_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", tmp_dir, name);
}

static uint64_t rng;

static double urand(void) {
  rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(rng >> 11) / 9007199254740992.0;
}

/* Rows in time order; the split is by position, never shuffled. */
typedef struct table {
  double *x;
  double *y;
  size_t rows;
  uint32_t cols;
  tack_dataset train;
  tack_dataset valid;
} table;

/*
 * The planted pattern: features uniform in [-1, 1]; for binary the label is
 * 1 when f0 + 0.5 f1 beats uniform noise in [-0.3, 0.3], for regression the
 * target is 0.01 (f0 + 0.5 f1) plus noise of 0.001. Features past f1 are
 * noise. The first 70% of rows train, the rest validate.
 */
static void table_make(table *t, size_t rows, uint32_t cols, uint64_t seed, int regression) {
  rng = seed;
  t->rows = rows;
  t->cols = cols;
  t->x = malloc(rows * cols * sizeof *t->x);
  t->y = malloc(rows * sizeof *t->y);
  assert_non_null(t->x);
  assert_non_null(t->y);
  for (size_t i = 0; i < rows; i++) {
    double *f = t->x + i * cols;
    for (uint32_t j = 0; j < cols; j++)
      f[j] = 2.0 * urand() - 1.0;
    double signal = f[0] + 0.5 * f[1];
    if (regression)
      t->y[i] = 0.01 * signal + 0.002 * (urand() - 0.5);
    else
      t->y[i] = signal > 0.6 * (urand() - 0.5) ? 1.0 : 0.0;
  }
  size_t n_train = rows * 7 / 10;
  t->train = (tack_dataset){.x = t->x, .y = t->y, .rows = n_train, .cols = cols};
  t->valid = (tack_dataset){
      .x = t->x + n_train * cols, .y = t->y + n_train, .rows = rows - n_train, .cols = cols};
}

static void table_free(table *t) {
  free(t->x);
  free(t->y);
}

typedef struct train_job {
  void *self;
  const tack_dataset *train;
  const tack_dataset *valid;
  int rc;
} train_job;

static void *train_main(void *arg) {
  train_job *job = arg;
  job->rc = vt->train(job->self, job->train, job->valid);
  return NULL;
}

/* Run train() on a worker thread, as the host does, and wait for it. */
static int train_on_worker(void *self, const tack_dataset *train, const tack_dataset *valid) {
  train_job job = {.self = self, .train = train, .valid = valid, .rc = 0};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, train_main, &job), 0);
  assert_int_equal(pthread_join(thread, NULL), 0);
  return job.rc;
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  long n = ftell(f);
  assert_true(n >= 0);
  rewind(f);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

static int same_file(const char *a, const char *b) {
  size_t la, lb;
  char *da = read_all(a, &la);
  char *db = read_all(b, &lb);
  int same = la == lb && memcmp(da, db, la) == 0;
  free(da);
  free(db);
  return same;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* No temporary file of an atomic save is left in the test folder. */
static void assert_no_temporaries(void) {
  DIR *d = opendir(tmp_dir);
  assert_non_null(d);
  for (struct dirent *e = readdir(d); e != NULL; e = readdir(d))
    if (strstr(e->d_name, ".tmp-") != NULL)
      fail_msg("temporary file left behind: %s", e->d_name);
  closedir(d);
}

/* Train a model of features "a,b" (2 columns) at path, quickly. */
static void train_small(const char *path, const char *objective) {
  const char *kv[] = {"model",     path,      "features", "a,b", "n_features", "2",
                      "objective", objective, "rounds",   "5",   NULL};
  table t;
  table_make(&t, 200, 2, 11, strcmp(objective, "reg:squarederror") == 0);
  tack_ctx *ctx = ctx_new(kv);
  void *self;
  assert_int_equal(inst_open(ctx, &self), 0);
  assert_int_equal(train_on_worker(self, &t.train, &t.valid), 0);
  inst_close(ctx, self);
  ctx_free(ctx);
  table_free(&t);
}

static double ms_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static double ns_of(const struct timespec *t) {
  return (double)t->tv_sec * 1e9 + (double)t->tv_nsec;
}

/* score() cost per call over `calls` calls cycling through `rows` rows of
 * x: wall time, and CPU time of this thread (steadier on a loaded machine:
 * it leaves out the time other processes hold the core). */
static void score_cost(void *self, const double *x, uint32_t cols, size_t rows, int calls,
                       double *wall_ns, double *cpu_ns) {
  struct timespec w0, w1, c0, c1;
  tack_signal sig;
  clock_gettime(CLOCK_MONOTONIC, &w0);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
  for (int i = 0; i < calls; i++)
    assert_int_equal(vt->score(self, x + (size_t)i % rows * cols, cols, &sig), 0);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  clock_gettime(CLOCK_MONOTONIC, &w1);
  *wall_ns = (ns_of(&w1) - ns_of(&w0)) / calls;
  *cpu_ns = (ns_of(&c1) - ns_of(&c0)) / calls;
}

/* ------------------------------------------------------------------------ */
/* Learning                                                                  */
/* ------------------------------------------------------------------------ */

/* Score every validation row; strengths into s (rows of t->valid). */
static void score_rows(void *self, const table *t, double *s) {
  for (uint64_t i = 0; i < t->valid.rows; i++) {
    tack_signal sig;
    memset(&sig, 0, sizeof sig);
    assert_int_equal(vt->score(self, t->valid.x + i * t->cols, t->cols, &sig), 0);
    assert_true(sig.strength >= -1.0 && sig.strength <= 1.0);
    assert_true(sig.confidence == fabs(sig.strength));
    assert_true(strncmp(sig.reason, "xgb p=", 6) == 0);
    assert_true(sig.ts == th_now(NULL));
    s[i] = sig.strength;
  }
}

static void test_planted_pattern(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "planted.json");
  const char *kv[] = {"model",      path, "features", "f0:1@5m,f1:1@5m,noise:1@5m,noise:2@5m",
                      "n_features", "4",  "rounds",   "60",
                      "max_depth",  "3",  "eta",      "0.2",
                      NULL};
  table t;
  table_make(&t, 3000, 4, 1, 0);

  tack_ctx *ctx = ctx_new(kv);
  void *self;
  assert_int_equal(inst_open(ctx, &self), 0);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(train_on_worker(self, &t.train, &t.valid), 0);
  double train_ms = ms_since(&t0);
  assert_true(strstr(ctx->log, "validation (900 rows): logloss=") != NULL);
  assert_true(strstr(ctx->log, "saved model ") != NULL);
  assert_no_temporaries();

  /* The training instance scores with what it saved ... */
  double *s1 = malloc(t.valid.rows * sizeof *s1);
  double *s2 = malloc(t.valid.rows * sizeof *s2);
  assert_non_null(s1);
  assert_non_null(s2);
  score_rows(self, &t, s1);
  assert_int_equal(count_in(ctx->log, "scoring with the model train() just saved"), 1);

  /* ... and a new instance reads the same model from the file. */
  tack_ctx *ctx2 = ctx_new(kv);
  void *self2;
  assert_int_equal(inst_open(ctx2, &self2), 0);
  score_rows(self2, &t, s2);
  assert_memory_equal(s1, s2, t.valid.rows * sizeof *s1);

  /* Learnt: accuracy well above chance, classes well apart. */
  double hits = 0, sum_pos = 0, sum_neg = 0, n_pos = 0;
  for (uint64_t i = 0; i < t.valid.rows; i++) {
    int y = t.valid.y[i] == 1.0;
    hits += (s2[i] >= 0.0) == y;
    if (y) {
      sum_pos += s2[i];
      n_pos++;
    } else {
      sum_neg += s2[i];
    }
  }
  double accuracy = hits / (double)t.valid.rows;
  double mean_pos = sum_pos / n_pos;
  double mean_neg = sum_neg / ((double)t.valid.rows - n_pos);
  print_message("planted pattern: accuracy %.3f, mean strength %+.3f (y=1) vs %+.3f (y=0); "
                "trained 2100 rows x 4 in %.1f ms\n",
                accuracy, mean_pos, mean_neg, train_ms);
  assert_true(accuracy > 0.85);
  assert_true(mean_pos > 0.5);
  assert_true(mean_neg < -0.5);

  /* score() cost, one row at a time as the host calls it. */
  double wall, cpu;
  score_cost(self2, t.valid.x, 4, t.valid.rows, 20000, &wall, &cpu);
  print_message("score: %.0f ns/call wall, %.0f ns/call CPU (60 trees of depth 3, 4 features)\n",
                wall, cpu);

  inst_close(ctx2, self2);
  ctx_free(ctx2);
  inst_close(ctx, self);
  ctx_free(ctx);
  free(s1);
  free(s2);
  table_free(&t);
}

/* One training run with the given nthread and seed into name. */
static void train_sampled(const char *name, const char *nthread, const char *seed, const table *t) {
  char path[512];
  tmp_path(path, sizeof path, name);
  const char *kv[] = {
      "model",   path,        "features", "a,b,c,d,e,f",      "n_features", "6",    "rounds",
      "40",      "subsample", "0.8",      "colsample_bytree", "0.7",        "seed", seed,
      "nthread", nthread,     NULL};
  tack_ctx *ctx = ctx_new(kv);
  void *self;
  assert_int_equal(inst_open(ctx, &self), 0);
  assert_int_equal(train_on_worker(self, &t->train, &t->valid), 0);
  inst_close(ctx, self);
  ctx_free(ctx);
}

static void test_deterministic(void **state) {
  (void)state;
  table t;
  table_make(&t, 4000, 6, 2, 0);
  train_sampled("det_a.json", "1", "7", &t);
  train_sampled("det_b.json", "1", "7", &t);
  train_sampled("det_c.json", "2", "7", &t);
  train_sampled("det_d.json", "1", "8", &t);
  char a[512], b[512], c[512], d[512];
  tmp_path(a, sizeof a, "det_a.json");
  tmp_path(b, sizeof b, "det_b.json");
  tmp_path(c, sizeof c, "det_c.json");
  tmp_path(d, sizeof d, "det_d.json");
  assert_true(same_file(a, b));  /* run to run */
  assert_true(same_file(a, c));  /* 1 thread or 2 */
  assert_false(same_file(a, d)); /* the seed does draw the samples */
  table_free(&t);
}

/* The same model saved as UBJSON scores exactly as the JSON one. */
static void test_ubj(void **state) {
  (void)state;
  char json[512], ubj[512];
  tmp_path(json, sizeof json, "fmt.json");
  tmp_path(ubj, sizeof ubj, "fmt.ubj");
  table t;
  table_make(&t, 600, 3, 3, 0);
  double s[2][180];
  const char *paths[2] = {json, ubj};
  for (int k = 0; k < 2; k++) {
    const char *kv[] = {"model", paths[k], "features", "a,b,c", "n_features",
                        "3",     "rounds", "20",       NULL};
    tack_ctx *ctx = ctx_new(kv);
    void *self;
    assert_int_equal(inst_open(ctx, &self), 0);
    assert_int_equal(train_on_worker(self, &t.train, &t.valid), 0);
    inst_close(ctx, self);
    /* read back by a new instance */
    assert_int_equal(inst_open(ctx, &self), 0);
    score_rows(self, &t, s[k]);
    inst_close(ctx, self);
    ctx_free(ctx);
  }
  size_t len;
  char *head = read_all(ubj, &len);
  assert_true(len > 0 && head[0] == '{' && strstr(head, "\"learner\"") == NULL);
  free(head);
  assert_memory_equal(s[0], s[1], sizeof s[0]);
  table_free(&t);
}

static void test_regression(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "reg.json");
  const char *kv[] = {"model",  path,        "features",         "a,b,c", "n_features",
                      "3",      "objective", "reg:squarederror", "scale", "0.01",
                      "rounds", "80",        "max_depth",        "3",     NULL};
  table t;
  table_make(&t, 3000, 3, 4, 1);
  tack_ctx *ctx = ctx_new(kv);
  void *self;
  assert_int_equal(inst_open(ctx, &self), 0);
  assert_int_equal(train_on_worker(self, &t.train, &t.valid), 0);
  assert_true(strstr(ctx->log, "validation (900 rows): rmse=") != NULL);

  /* strength = prediction / scale: f0 + 0.5 f1 of 0.5 predicts ~0.005. */
  double f[3] = {0.5, 0.0, 0.3};
  tack_signal sig;
  assert_int_equal(vt->score(self, f, 3, &sig), 0);
  assert_true(strncmp(sig.reason, "xgb y=", 6) == 0);
  assert_true(sig.strength > 0.35 && sig.strength < 0.65);
  f[0] = -0.5;
  assert_int_equal(vt->score(self, f, 3, &sig), 0);
  assert_true(sig.strength < -0.35 && sig.strength > -0.65);
  inst_close(ctx, self);

  /* A small scale saturates: clamped to [-1, +1]. */
  const char *kv_small[] = {"model",      path,     "features",  "a,b,c",
                            "n_features", "3",      "objective", "reg:squarederror",
                            "scale",      "0.0001", NULL};
  ctx->kv = kv_small;
  assert_int_equal(inst_open(ctx, &self), 0);
  f[0] = 0.9;
  f[1] = 0.9;
  assert_int_equal(vt->score(self, f, 3, &sig), 0);
  assert_true(sig.strength == 1.0 && sig.confidence == 1.0);
  f[0] = -0.9;
  f[1] = -0.9;
  assert_int_equal(vt->score(self, f, 3, &sig), 0);
  assert_true(sig.strength == -1.0);
  inst_close(ctx, self);
  ctx_free(ctx);
  table_free(&t);
}

static void test_threshold(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "thr.json");
  train_small(path, "binary:logistic");
  const char *kv0[] = {"model", path, "features", "a,b", "n_features", "2", NULL};
  const char *kv5[] = {"model", path,        "features", "a,b", "n_features",
                       "2",     "threshold", "0.5",      NULL};
  tack_ctx *c0 = ctx_new(kv0);
  tack_ctx *c5 = ctx_new(kv5);
  void *s0, *s5;
  assert_int_equal(inst_open(c0, &s0), 0);
  assert_int_equal(inst_open(c5, &s5), 0);
  int zeroed = 0;
  rng = 5;
  for (int i = 0; i < 200; i++) {
    double f[2] = {2.0 * urand() - 1.0, 2.0 * urand() - 1.0};
    tack_signal a, b;
    assert_int_equal(vt->score(s0, f, 2, &a), 0);
    assert_int_equal(vt->score(s5, f, 2, &b), 0);
    if (fabs(a.strength) < 0.5) {
      assert_true(b.strength == 0.0 && b.confidence == 0.0);
      zeroed++;
    } else {
      assert_true(b.strength == a.strength);
    }
  }
  assert_true(zeroed > 0);
  inst_close(c0, s0);
  inst_close(c5, s5);
  ctx_free(c0);
  ctx_free(c5);
}

/* Rounds in the model file at path. */
static int model_rounds(const char *path) {
  BoosterHandle b;
  int rounds = 0;
  assert_int_equal(XGBoosterCreate(NULL, 0, &b), 0);
  assert_int_equal(XGBoosterLoadModel(b, path), 0);
  assert_int_equal(XGBoosterBoostedRounds(b, &rounds), 0);
  XGBoosterFree(b);
  return rounds;
}

/* The N of "keeping N rounds" in the log, or -1. */
static int kept_rounds(const tack_ctx *ctx) {
  const char *p = strstr(ctx->log, "; keeping ");
  return p != NULL ? (int)strtol(p + 10, NULL, 10) : -1;
}

static void test_early_stopping(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "early.json");
  const char *kv[] = {"model",
                      path,
                      "features",
                      "a,b,c,d",
                      "n_features",
                      "4",
                      "rounds",
                      "300",
                      "max_depth",
                      "6",
                      "early_stopping_rounds",
                      "10",
                      NULL};
  table t;
  table_make(&t, 3000, 4, 6, 0);
  /* A pattern under heavy label noise: the validation loss improves for a
   * while, then the trees start learning the noise. */
  rng = 99;
  for (size_t i = 0; i < t.rows; i++)
    if (urand() < 0.3)
      t.y[i] = 1.0 - t.y[i];
  tack_ctx *ctx = ctx_new(kv);
  void *self;
  assert_int_equal(inst_open(ctx, &self), 0);
  assert_int_equal(train_on_worker(self, &t.train, &t.valid), 0);
  assert_true(strstr(ctx->log, "early stop after ") != NULL);
  int kept = kept_rounds(ctx);
  print_message("early stopping kept %d of 300 rounds\n", kept);
  assert_true(kept > 1 && kept < 100);
  assert_int_equal(model_rounds(path), kept);

  /* Without validation rows there is nothing to watch. */
  assert_int_equal(train_on_worker(self, &t.train, NULL), TACK_EINVAL);
  assert_true(strstr(ctx->log, "needs validation rows") != NULL);
  inst_close(ctx, self);

  /* Without early stopping, every round stays. */
  const char *kv_all[] = {"model", path,     "features", "a,b,c,d", "n_features",
                          "4",     "rounds", "30",       NULL};
  ctx->kv = kv_all;
  assert_int_equal(inst_open(ctx, &self), 0);
  assert_int_equal(train_on_worker(self, &t.train, NULL), 0);
  assert_int_equal(model_rounds(path), 30);
  inst_close(ctx, self);
  ctx_free(ctx);
  table_free(&t);
}

/* ------------------------------------------------------------------------ */
/* Refusals                                                                  */
/* ------------------------------------------------------------------------ */

static void expect_refused(const char *const *kv, const char *key, const char *message) {
  tack_ctx *ctx = ctx_new(kv);
  void *self;
  assert_int_equal(inst_open(ctx, &self), TACK_ECONFIG);
  assert_int_equal(ctx->n_param_errors, 1);
  if (strncmp(ctx->param_error, key, strlen(key)) != 0 || strstr(ctx->param_error, message) == NULL)
    fail_msg("param_error '%s'\n  expected key %s and '%s'", ctx->param_error, key, message);
  inst_close(ctx, self);
  ctx_free(ctx);
}

static void test_mismatch(void **state) {
  (void)state;
  char path[512], expect[1024];
  tmp_path(path, sizeof path, "ab.json");
  train_small(path, "binary:logistic");

  const char *more[] = {"model", path, "features", "a,b,c", "n_features", "3", NULL};
  snprintf(expect, sizeof expect,
           "model %s was trained on features 'a,b' (2), this config computes 'a,b,c' (3); "
           "retrain with tack train",
           path);
  expect_refused(more, "features", expect);

  const char *other[] = {"model", path, "features", "a,c", "n_features", "2", NULL};
  snprintf(expect, sizeof expect,
           "model %s was trained on features 'a,b' (2), this config computes 'a,c' (2)", path);
  expect_refused(other, "features", expect);

  const char *count[] = {"model", path, "features", "a,b", "n_features", "3", NULL};
  snprintf(expect, sizeof expect,
           "model %s was trained on features 'a,b' (2), this config computes 'a,b' (3)", path);
  expect_refused(count, "features", expect);

  const char *objective[] = {"model", path,        "features",         "a,b", "n_features",
                             "2",     "objective", "reg:squarederror", NULL};
  snprintf(expect, sizeof expect,
           "model %s was trained with objective 'binary:logistic', this config says "
           "'reg:squarederror'",
           path);
  expect_refused(objective, "objective", expect);

  const char *same[] = {"model", path, "features", "a,b", "n_features", "2", NULL};
  tack_ctx *ctx = ctx_new(same);
  void *self;
  assert_int_equal(inst_open(ctx, &self), 0);
  inst_close(ctx, self);
  ctx_free(ctx);
}

/* A reconfigure that fails keeps the model that was loaded. */
static void test_reconfigure(void **state) {
  (void)state;
  char path[512], other[512];
  tmp_path(path, sizeof path, "re_ab.json");
  tmp_path(other, sizeof other, "re_reg.json");
  train_small(path, "binary:logistic");
  train_small(other, "reg:squarederror");
  const char *good[] = {"model", path, "features", "a,b", "n_features", "2", NULL};
  const char *bad[] = {"model", path, "features", "a,b,c", "n_features", "3", NULL};
  const char *reg[] = {"model", other,       "features",         "a,b", "n_features",
                       "2",     "objective", "reg:squarederror", NULL};
  double f[2] = {0.3, -0.2};
  tack_signal before, after;
  tack_ctx *ctx = ctx_new(good);
  void *self;
  assert_int_equal(inst_open(ctx, &self), 0);
  assert_int_equal(vt->score(self, f, 2, &before), 0);
  ctx->kv = bad;
  assert_int_equal(vt->life.configure(self), TACK_ECONFIG);
  assert_int_equal(vt->score(self, f, 2, &after), 0);
  assert_true(before.strength == after.strength);
  ctx->kv = reg;
  assert_int_equal(vt->life.configure(self), 0);
  assert_int_equal(vt->score(self, f, 2, &after), 0);
  assert_true(strncmp(after.reason, "xgb y=", 6) == 0);
  inst_close(ctx, self);
  ctx_free(ctx);
}

static void test_missing_model(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "never_trained.json");
  const char *kv[] = {"model", path, "features", "a,b", "n_features", "2", NULL};
  tack_ctx *ctx = ctx_new(kv);
  void *self;
  assert_int_equal(inst_open(ctx, &self), 0);
  assert_true(strstr(ctx->log, "does not exist yet") != NULL);
  double f[2] = {0.1, 0.2};
  tack_signal sig;
  assert_int_equal(vt->score(self, f, 2, &sig), TACK_ESTATE);
  assert_int_equal(vt->score(self, f, 2, &sig), TACK_ESTATE);
  assert_int_equal(count_in(ctx->log, "no model: "), 1);

  /* train() creates it, and the same instance scores from then on. */
  table t;
  table_make(&t, 300, 2, 8, 0);
  assert_int_equal(train_on_worker(self, &t.train, &t.valid), 0);
  assert_int_equal(vt->score(self, f, 2, &sig), 0);
  inst_close(ctx, self);
  ctx_free(ctx);
  table_free(&t);
}

static void test_bad_features(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "bad_in.json");
  train_small(path, "binary:logistic");
  const char *kv[] = {"model", path, "features", "a,b", "n_features", "2", NULL};
  tack_ctx *ctx = ctx_new(kv);
  void *self;
  assert_int_equal(inst_open(ctx, &self), 0);
  tack_signal sig;
  double three[3] = {0.1, 0.2, 0.3};
  assert_int_equal(vt->score(self, three, 3, &sig), TACK_EINVAL);
  assert_true(strstr(ctx->log, "got 3 features, the model takes 2 (a,b)") != NULL);
  assert_int_equal(vt->score(self, three, 1, &sig), TACK_EINVAL);

  double nan_at_1[2] = {0.1, NAN};
  assert_int_equal(vt->score(self, nan_at_1, 2, &sig), TACK_EINVAL);
  assert_true(strstr(ctx->log, "feature 1 of 2 is nan, not finite") != NULL);
  double inf_at_0[2] = {INFINITY, 0.0};
  assert_int_equal(vt->score(self, inf_at_0, 2, &sig), TACK_EINVAL);
  assert_true(strstr(ctx->log, "feature 0 of 2 is inf, not finite") != NULL);
  double huge[2] = {0.0, 1e300};
  assert_int_equal(vt->score(self, huge, 2, &sig), TACK_EINVAL);
  assert_true(strstr(ctx->log, "feature 1 of 2 is 1e+300, beyond float range") != NULL);
  inst_close(ctx, self);
  ctx_free(ctx);
}

/* A one-round model over 3 columns written with XGBoost directly; with
 * stamp, carrying the attributes of a 2-feature "a,b" model. */
static void write_foreign(const char *path, int stamp) {
  float x[12] = {0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1}, y[4] = {0, 1, 1, 0};
  DMatrixHandle d;
  BoosterHandle b;
  assert_int_equal(XGDMatrixCreateFromMat(x, 4, 3, NAN, &d), 0);
  assert_int_equal(XGDMatrixSetFloatInfo(d, "label", y, 4), 0);
  assert_int_equal(XGBoosterCreate(&d, 1, &b), 0);
  assert_int_equal(XGBoosterSetParam(b, "objective", "binary:logistic"), 0);
  assert_int_equal(XGBoosterUpdateOneIter(b, 0, d), 0);
  if (stamp) {
    assert_int_equal(XGBoosterSetAttr(b, "tack_features", "a,b"), 0);
    assert_int_equal(XGBoosterSetAttr(b, "tack_n_features", "2"), 0);
    assert_int_equal(XGBoosterSetAttr(b, "tack_objective", "binary:logistic"), 0);
  }
  assert_int_equal(XGBoosterSaveModel(b, path), 0);
  XGBoosterFree(b);
  XGDMatrixFree(d);
}

static void test_corrupt_model(void **state) {
  (void)state;
  char path[512], expect[600];

  tmp_path(path, sizeof path, "corrupt.json");
  write_text(path, "{\"learner\": this is not a model");
  const char *kv[] = {"model", path, "features", "a,b", "n_features", "2", NULL};
  snprintf(expect, sizeof expect, "cannot load model %s: ", path);
  expect_refused(kv, "model", expect);

  tmp_path(path, sizeof path, "empty.ubj");
  write_text(path, "");
  snprintf(expect, sizeof expect, "cannot load model %s: ", path);
  expect_refused(kv, "model", expect);

  /* An XGBoost model tack did not write: nothing says what it expects. */
  tmp_path(path, sizeof path, "foreign.json");
  write_foreign(path, 0);
  snprintf(expect, sizeof expect, "model %s has no tack_features attribute", path);
  expect_refused(kv, "model", expect);

  /* Attributes that claim 2 features on trees over 3. */
  tmp_path(path, sizeof path, "altered.json");
  write_foreign(path, 1);
  snprintf(expect, sizeof expect,
           "model %s has trees over 3 features but says it was trained on 2 ('a,b')", path);
  expect_refused(kv, "model", expect);

  tmp_path(path, sizeof path, "folder.json");
  assert_int_equal(mkdir(path, 0755), 0);
  snprintf(expect, sizeof expect, "model %s is not a regular file", path);
  expect_refused(kv, "model", expect);

  const char *bin[] = {"model", "/tmp/model.bin", "features", "a,b", "n_features", "2", NULL};
  expect_refused(bin, "model", "must end in .json or .ubj");
  const char *empty[] = {"model", "/tmp/m.json", "features", "", "n_features", "2", NULL};
  expect_refused(empty, "features", "is empty");
}

static void test_bad_training_data(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "bad_train.json");
  const char *kv[] = {"model", path, "features", "a,b", "n_features", "2", "rounds", "3", NULL};
  table t;
  table_make(&t, 100, 2, 9, 0);
  tack_ctx *ctx = ctx_new(kv);
  void *self;
  assert_int_equal(inst_open(ctx, &self), 0);

  tack_dataset wide = t.train;
  wide.cols = 3;
  wide.rows = 40;
  assert_int_equal(train_on_worker(self, &wide, &t.valid), TACK_EINVAL);
  assert_true(strstr(ctx->log, "training rows have 3 features, the config computes 2") != NULL);

  tack_dataset none = t.train;
  none.rows = 0;
  assert_int_equal(train_on_worker(self, &none, &t.valid), TACK_EINVAL);

  t.y[5] = 2.0;
  assert_int_equal(train_on_worker(self, &t.train, &t.valid), TACK_EINVAL);
  assert_true(strstr(ctx->log, "training label 5 is 2; binary:logistic takes 0 or 1") != NULL);
  t.y[5] = 1.0;

  t.x[2 * 80 + 1] = NAN; /* row 80 is in the validation set (row 10 of it) */
  assert_int_equal(train_on_worker(self, &t.train, &t.valid), TACK_EINVAL);
  assert_true(strstr(ctx->log, "validation row 10 feature 1 is nan, not finite") != NULL);
  t.x[2 * 80 + 1] = 0.0;

  /* Nothing was written by any of these. */
  struct stat st;
  assert_int_equal(stat(path, &st), -1);
  inst_close(ctx, self);

  /* A folder that does not exist: TACK_EIO, naming the file. */
  char nowhere[512];
  tmp_path(nowhere, sizeof nowhere, "no/such/folder/m.json");
  const char *kv2[] = {"model", nowhere, "features", "a,b", "n_features", "2", "rounds", "3", NULL};
  ctx->kv = kv2;
  ctx->log_len = 0;
  assert_int_equal(inst_open(ctx, &self), 0);
  assert_int_equal(train_on_worker(self, &t.train, &t.valid), TACK_EIO);
  assert_true(strstr(ctx->log, "cannot save model ") != NULL);
  assert_true(strstr(ctx->log, nowhere) != NULL);
  inst_close(ctx, self);
  assert_no_temporaries();
  ctx_free(ctx);
  table_free(&t);
}

/* Every host allocation may fail; nothing leaks when one does. */
static void test_alloc_failure(void **state) {
  (void)state;
  char path[512];
  tmp_path(path, sizeof path, "alloc.json");
  train_small(path, "binary:logistic");
  const char *kv[] = {"model", path, "features", "a,b", "n_features", "2", NULL};
  tack_ctx *ctx = ctx_new(kv);
  void *self;
  ctx->fail_at = 1;
  assert_int_equal(vt->life.create(ctx, &test_host, &self), TACK_ENOMEM);
  assert_int_equal(ctx->live, 0);
  for (long n = 2; n <= 3; n++) {
    ctx->n_allocs = 0;
    ctx->fail_at = n;
    int rc = inst_open(ctx, &self);
    vt->life.destroy(self);
    assert_int_equal(ctx->live, 0);
    if (rc == 0)
      break;
    assert_int_equal(rc, TACK_ENOMEM);
  }
  ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* The real binary                                                           */
/* ------------------------------------------------------------------------ */

static void test_plugin_info(void **state) {
  (void)state;
  char cmd[1024], out[16384];
  snprintf(cmd, sizeof cmd, "'%s' plugin-info '%s' 2>&1", TACK_EXE, XGB_SO);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  int status = pclose(p);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail_msg("%s exited with %d:\n%s", cmd, status, out);
  assert_non_null(strstr(out, "xgboost"));
  assert_non_null(strstr(out, "scorer"));
  assert_non_null(strstr(out, "early_stopping_rounds"));
}

/* XGB_BENCH_ROWS=N: train N rows x 16 features, 100 rounds of depth 6. */
static void test_bench_train(void **state) {
  (void)state;
  const char *rows_env = getenv("XGB_BENCH_ROWS");
  if (rows_env == NULL) {
    skip();
    return;
  }
  char *end;
  long rows = strtol(rows_env, &end, 10);
  assert_true(end != rows_env && rows >= 100);
  const char *threads = getenv("XGB_BENCH_NTHREAD") ? getenv("XGB_BENCH_NTHREAD") : "1";
  char path[512];
  tmp_path(path, sizeof path, "bench.json");
  const char *kv[] = {"model",  path,  "features", "bench16", "n_features", "16",
                      "rounds", "100", "nthread",  threads,   NULL};
  table t;
  table_make(&t, (size_t)rows, 16, 12, 0);
  tack_ctx *ctx = ctx_new(kv);
  void *self;
  assert_int_equal(inst_open(ctx, &self), 0);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(train_on_worker(self, &t.train, &t.valid), 0);
  double ms = ms_since(&t0);
  double wall, cpu;
  score_cost(self, t.valid.x, 16, t.valid.rows, 20000, &wall, &cpu);
  print_message("bench: train %ld rows (70%% train) x 16, 100 rounds depth 6, nthread %s: %.0f ms; "
                "score %.0f ns/call wall, %.0f ns/call CPU\n",
                rows, threads, ms, wall, cpu);
  inst_close(ctx, self);
  ctx_free(ctx);
  table_free(&t);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int main(void) {
  /* Required setup here, not in a group setup: cmocka 1.1.5 exits 0 when
   * a group setup fails. */
  void *so = dlopen(XGB_SO, RTLD_NOW | RTLD_LOCAL);
  if (so == NULL) {
    fprintf(stderr, "test_xgboost: %s\n", dlerror());
    return 1;
  }
  const tack_plugin_list *list = dlsym(so, TACK_ENTRY_SYMBOL);
  if (list == NULL || list->count != 1 || strcmp(list->plugins[0]->id, "xgboost") != 0 ||
      list->plugins[0]->kind != TACK_KIND_SCORER) {
    fprintf(stderr, "test_xgboost: %s does not carry the xgboost scorer\n", XGB_SO);
    return 1;
  }
  desc = list->plugins[0];
  vt = desc->vtable;
  snprintf(tmp_dir, sizeof tmp_dir, "%s/tack-xgb-XXXXXX",
           getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
  if (mkdtemp(tmp_dir) == NULL) {
    perror("test_xgboost: mkdtemp");
    return 1;
  }

  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_planted_pattern),
      cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_ubj),
      cmocka_unit_test(test_regression),
      cmocka_unit_test(test_threshold),
      cmocka_unit_test(test_early_stopping),
      cmocka_unit_test(test_mismatch),
      cmocka_unit_test(test_reconfigure),
      cmocka_unit_test(test_missing_model),
      cmocka_unit_test(test_bad_features),
      cmocka_unit_test(test_corrupt_model),
      cmocka_unit_test(test_bad_training_data),
      cmocka_unit_test(test_alloc_failure),
      cmocka_unit_test(test_plugin_info),
      cmocka_unit_test(test_bench_train),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  dlclose(so);
  return failed;
}
