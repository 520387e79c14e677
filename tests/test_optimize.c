/*
 * test_optimize.c: `tack optimize`'s engine (host/optimize.c) with a fake
 * evaluator, fast and deterministic: the optimize group's schema errors
 * (file:line, path, did-you-mean), binding params to the plugins' declared
 * specs, grid enumeration (order and count), random sampling (reproducible
 * by seed, within ranges, distinct, int params whole), walk-forward window
 * math (rolling, anchored, the last partial window), the objective's
 * direction and ties, refused sets and min_trades, identical reports and
 * byte-identical JSON with 1, 2 and 3 workers, a worker that dies and a
 * job that fails (reported, every worker reaped), and walk-forward runs.
 *
 * With the argument "cli" (ctest's test_optimize_cli): the real `tack
 * optimize` on a tiny config of stored synthetic candles, --workers 1
 * against --workers 2 (the same table, the same JSON bytes).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc.h"
#include "candles.h"
#include "config.h"
#include "diag.h"
#include "optimize.h"
#include "store.h"
#include "synth.h"
#include "tr_util.h"

/* ------------------------------------------------------------------------ */
/* Plugins                                                                   */
/* ------------------------------------------------------------------------ */

static const tack_param_spec cross_params[] = {
    {"fast", TACK_PARAM_INT, 0, 2, 100, 12, NULL, NULL, "fast period"},
    {"slow", TACK_PARAM_INT, 0, 2, 200, 26, NULL, NULL, "slow period"},
    {"mode", TACK_PARAM_STRING, 0, 0, 0, 0, "state", "state|cross", "when to signal"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};
static const tack_param_spec fade_params[] = {
    {"nbdev", TACK_PARAM_DOUBLE, 0, 0.5, 4, 2, NULL, NULL, "band width"},
    {"lookback", TACK_PARAM_INT, 0, 0, 0, 20, NULL, NULL, "unbounded"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

#define DESC(kind, id, params)                                                                     \
  { sizeof(tack_plugin_desc), kind, id, id, "1.0.0", "test plugin", params, NULL }

static const tack_plugin_desc descs[] = {
    DESC(TACK_KIND_EXCHANGE, "example.replay", NULL),
    DESC(TACK_KIND_STRATEGY, "example.cross", cross_params),
    DESC(TACK_KIND_STRATEGY, "example.fade", fade_params),
};
#define N_DESCS (sizeof descs / sizeof descs[0])

static tack_plugin plugins[N_DESCS];
static const tack_plugin *plugin_ptrs[N_DESCS];

static tack_plugin_set plugin_set(void) {
  for (size_t i = 0; i < N_DESCS; i++) {
    plugins[i].desc = &descs[i];
    plugins[i].path = "/fake/plugins/example.so";
    plugins[i].abi_major = TACK_ABI_MAJOR;
    plugins[i].abi_minor = TACK_ABI_MINOR;
    plugins[i].index = (uint32_t)i;
    plugin_ptrs[i] = &plugins[i];
  }
  tack_plugin_set set = {plugin_ptrs, N_DESCS, NULL, 0};
  return set;
}

/* ------------------------------------------------------------------------ */
/* Fixture                                                                   */
/* ------------------------------------------------------------------------ */

/* The optimize group starts on line 11. */
#define BASE                                                                                       \
  "version = 1;\n"                                                   /* 1 */                       \
  "name = \"opt\";\n"                                                /* 2 */                       \
  "exchanges = { sim = { plugin = \"example.replay\"; }; };\n"       /* 3 */                       \
  "strategies = {\n"                                                 /* 4 */                       \
  "  cross = { plugin = \"example.cross\"; timeframe = \"5m\"; };\n" /* 5 */                       \
  "  fade = { plugin = \"example.fade\"; timeframe = \"5m\"; };\n"   /* 6 */                       \
  "  combo = { type = \"composite\"; method = \"weighted\"; members = ( \"cross\", "               \
  "\"fade\" ); };\n"                                                                     /* 7 */   \
  "};\n"                                                                                 /* 8 */   \
  "symbols = ( { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"combo\"; } );\n" /* 9 */   \
  "\n"                                                                                   /* 10 */

typedef struct fx {
  char dir[64];
  char path[128];
  tack_diag d;
  tack_config *cfg;
  tack_opt_spec spec;
  int have_spec;
  tack_opt_report report;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/tack-optimize-XXXXXX");
  if (!mkdtemp(f->dir)) {
    free(f);
    return -1;
  }
  f->d = (tack_diag)TACK_DIAG_INIT;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  tack_opt_report_free(&f->report);
  if (f->have_spec)
    tack_opt_spec_free(&f->spec);
  tack_config_free(f->cfg);
  tack_diag_free(&f->d);
  if (f->path[0])
    unlink(f->path);
  rmdir(f->dir);
  free(f);
  return 0;
}

static void dump(const tack_diag *d) {
  for (size_t i = 0; i < d->n; i++)
    print_message("  diag[%zu]: %s\n", i, d->msgs[i]);
}

static void expect_msg(const tack_diag *d, const char *a, const char *b) {
  for (size_t i = 0; i < d->n; i++)
    if (strstr(d->msgs[i], a) && (!b || strstr(d->msgs[i], b)))
      return;
  dump(d);
  fail_msg("no message contains '%s' and '%s'", a, b ? b : "");
}

static void expect_count(const tack_diag *d, size_t n) {
  if (d->n != n) {
    dump(d);
    fail_msg("%zu problems reported, want %zu", d->n, n);
  }
}

/* Load BASE + optimize text; returns tack_config_load()'s code. */
static int load(fx *f, const char *optimize) {
  snprintf(f->path, sizeof f->path, "%s/opt.cfg", f->dir);
  FILE *out = fopen(f->path, "w");
  assert_non_null(out);
  fprintf(out, "%s%s", BASE, optimize);
  fclose(out);
  tack_config_free(f->cfg);
  f->cfg = NULL;
  tack_diag_free(&f->d);
  return tack_config_load(f->path, &f->cfg, &f->d);
}

/* Load, resolve, read and bind; returns bind's code. */
static int load_spec(fx *f, const char *optimize) {
  assert_int_equal(load(f, optimize), 0);
  tack_plugin_set set = plugin_set();
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), 0);
  const config_setting_t *g = config_lookup(&f->cfg->lc, "optimize");
  assert_non_null(g);
  if (f->have_spec)
    tack_opt_spec_free(&f->spec);
  assert_int_equal(tack_opt_spec_read(g, &f->spec), 0);
  f->have_spec = 1;
  return tack_opt_spec_bind(&f->spec, f->cfg, &f->d);
}

/* ------------------------------------------------------------------------ */
/* Schema and binding                                                        */
/* ------------------------------------------------------------------------ */

typedef struct schema_case {
  const char *name;
  const char *text; /* the optimize group, from line 11 */
  const char *where;
  const char *what;
} schema_case;

#define P1 "params = ( { strategy = \"cross\"; param = \"fast\"; values = [ 5 ]; } );"

static const schema_case schema_cases[] = {
    {"unknown_key", "optimize = {\n objectve = \"sharpe\"; " P1 " };\n",
     "opt.cfg:12: optimize.objectve: ", "did you mean 'objective'?"},
    {"unknown_metric", "optimize = {\n objective = \"sharp\"; " P1 " };\n",
     "opt.cfg:12: optimize.objective: ", "unknown metric \"sharp\" (did you mean 'sharpe'?)"},
    {"not_an_objective", "optimize = {\n objective = \"years\"; " P1 " };\n",
     "opt.cfg:12: optimize.objective: ", "\"years\" cannot be an objective"},
    {"bad_method", "optimize = {\n method = \"grd\"; " P1 " };\n",
     "opt.cfg:12: optimize.method: ", "must be \"grid\" or \"random\""},
    {"samples_with_grid", "optimize = {\n samples = 10; " P1 " };\n",
     "opt.cfg:12: optimize.samples: ", "applies to method = \"random\" only"},
    {"samples_zero", "optimize = { method = \"random\";\n samples = 0; " P1 " };\n",
     "opt.cfg:12: optimize.samples: ", "must be a number of parameter sets from 1"},
    {"workers", "optimize = {\n workers = -1; " P1 " };\n",
     "opt.cfg:12: optimize.workers: ", "from 0 to 1024"},
    {"no_params", "optimize = { objective = \"sharpe\"; };\n",
     "opt.cfg:11: optimize.params: ", NULL},
    {"empty_params", "optimize = {\n params = ( ); };\n",
     "opt.cfg:12: optimize.params: ", "at least one parameter"},
    {"param_not_group", "optimize = { params = (\n 5 ); };\n",
     "opt.cfg:12: optimize.params[0]: ", "must be a group"},
    {"param_unknown_key",
     "optimize = { params = (\n { strategy = \"cross\"; parm = \"fast\"; values = [ 5 ]; } ); };\n",
     "opt.cfg:12: optimize.params[0].parm: ", "did you mean 'param'?"},
    {"from_without_to",
     "optimize = { params = (\n { strategy = \"cross\"; param = \"fast\"; from = 5; step = 1; } "
     "); };\n",
     "opt.cfg:12: optimize.params[0].to: ", "a range needs both from and to"},
    {"from_above_to",
     "optimize = { params = ( { strategy = \"cross\"; param = \"fast\"; from = 9;\n to = 5; step "
     "= 1; } ); };\n",
     "opt.cfg:12: optimize.params[0].to: ", "must not be less than from (9), got 5"},
    {"zero_step",
     "optimize = { params = ( { strategy = \"cross\"; param = \"fast\"; from = 1; to = 5;\n step "
     "= 0; } ); };\n",
     "opt.cfg:12: optimize.params[0].step: ", "must be more than 0"},
    {"values_and_range",
     "optimize = { params = ( { strategy = \"cross\"; param = \"fast\"; values = [ 5 ];\n from = "
     "1; to = 3; } ); };\n",
     "opt.cfg:12: optimize.params[0].from: ", "either values or a range"},
    {"empty_values",
     "optimize = { params = ( { strategy = \"cross\"; param = \"fast\";\n values = [ ]; } ); };\n",
     "opt.cfg:12: optimize.params[0].values: ", "at least one value"},
    {"string_value",
     "optimize = { params = ( { strategy = \"cross\"; param = \"fast\";\n values = ( 5, \"x\" ); "
     "} ); };\n",
     "opt.cfg:12: optimize.params[0].values[1]: ", "must be a number, got a string"},
    {"grid_needs_points",
     "optimize = { params = (\n { strategy = \"cross\"; param = \"fast\"; from = 1; to = 5; } ); "
     "};\n",
     "opt.cfg:12: optimize.params[0].step: ", "method = \"grid\" needs the points"},
    {"duplicate",
     "optimize = { params = ( { strategy = \"cross\"; param = \"fast\"; values = [ 5 ]; },\n { "
     "strategy = \"cross\"; param = \"fast\"; values = [ 6 ]; } ); };\n",
     "opt.cfg:12: optimize.params[1]: ", "cross.fast is already searched (line 11)"},
    {"bad_duration",
     "optimize = { " P1 " walk_forward = { train = \"60d\";\n test = \"20x\"; }; };\n",
     "opt.cfg:12: optimize.walk_forward.test: ", "must be a duration such as \"60d\""},
    {"wf_missing_test", "optimize = { " P1 "\n walk_forward = { train = \"60d\"; }; };\n",
     "opt.cfg:12: optimize.walk_forward.test: ", NULL},
    {"not_a_group", "optimize = 5;\n", "opt.cfg:11: optimize: ", "must be a group"},
};
#define N_SCHEMA_CASES (sizeof schema_cases / sizeof schema_cases[0])

static void test_schema_case(void **state) {
  const schema_case *c = *state;
  fx f0;
  memset(&f0, 0, sizeof f0);
  fx *f = &f0;
  snprintf(f->dir, sizeof f->dir, "/tmp/tack-optimize-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  assert_int_equal(load(f, c->text), TACK_ECONFIG);
  assert_null(f->cfg);
  expect_msg(&f->d, c->where, c->what);
  expect_count(&f->d, 1);
  tack_diag_free(&f->d);
  unlink(f->path);
  rmdir(f->dir);
}

static void test_good_group_loads(void **state) {
  fx *f = *state;
  assert_int_equal(
      load_spec(f, "optimize = {\n"
                   "  objective = \"max_drawdown\"; method = \"random\";\n"
                   "  samples = 7; seed = 42; min_trades = 5; workers = 3;\n"
                   "  params = (\n"
                   "    { strategy = \"cross\"; param = \"fast\"; from = 5; to = 20; },\n"
                   "    { strategy = \"cross\"; param = \"slow\"; values = [ 20, 30, 50 ]; },\n"
                   "    { strategy = \"fade\"; param = \"nbdev\"; }\n"
                   "  );\n"
                   "  walk_forward = { train = \"60d\"; test = 86400; anchored = true; };\n"
                   "};\n"),
      0);
  expect_count(&f->d, 0);
  const tack_opt_spec *s = &f->spec;
  assert_string_equal(s->objective->name, "max_drawdown");
  assert_int_equal(s->direction, TACK_OPT_MINIMIZE);
  assert_int_equal(s->method, TACK_OPT_RANDOM);
  assert_int_equal(s->samples, 7);
  assert_int_equal(s->seed, 42);
  assert_int_equal(s->min_trades, 5);
  assert_int_equal(s->workers, 3);
  assert_int_equal(s->n_params, 3);
  assert_true(s->params[0].is_int);
  assert_true(s->params[0].from == 5 && s->params[0].to == 20);
  assert_int_equal(s->params[1].n_values, 3);
  /* No range: the plugin's declared one. */
  assert_false(s->params[2].is_int);
  assert_true(s->params[2].has_range && s->params[2].from == 0.5 && s->params[2].to == 4);
  assert_true(s->wf.enabled);
  assert_int_equal(s->wf.train_s, 60 * 86400);
  assert_int_equal(s->wf.test_s, 86400);
  assert_int_equal(s->wf.step_s, 86400); /* defaults to test */
  assert_true(s->wf.anchored);

  /* Defaults. */
  assert_int_equal(load_spec(f, "optimize = { " P1 " };\n"), 0);
  assert_string_equal(f->spec.objective->name, "sharpe");
  assert_int_equal(f->spec.direction, TACK_OPT_MAXIMIZE);
  assert_int_equal(f->spec.method, TACK_OPT_GRID);
  assert_int_equal(f->spec.min_trades, 1);
  assert_int_equal(f->spec.workers, 0);
  assert_false(f->spec.wf.enabled);
}

typedef struct bind_case {
  const char *name;
  const char *param; /* one entry of params, on line 12 */
  const char *where;
  const char *what;
} bind_case;

static const bind_case bind_cases[] = {
    {"no_such_strategy", "{ strategy = \"crss\"; param = \"fast\"; values = [ 5 ]; }",
     "opt.cfg:12: optimize.params[0].strategy: ",
     "no strategies entry \"crss\" (did you mean 'cross'?)"},
    {"composite", "{ strategy = \"combo\"; param = \"fast\"; values = [ 5 ]; }",
     "opt.cfg:12: optimize.params[0].strategy: ", "is a composite entry"},
    {"no_such_param", "{ strategy = \"cross\"; param = \"fsat\"; values = [ 5 ]; }",
     "opt.cfg:12: optimize.params[0].param: ",
     "plugin example.cross has no parameter \"fsat\" (did you mean 'fast'?)"},
    {"string_param", "{ strategy = \"cross\"; param = \"mode\"; values = [ 5 ]; }",
     "opt.cfg:12: optimize.params[0].param: ", "only int and double parameters"},
    {"below_range", "{ strategy = \"cross\"; param = \"fast\"; from = 1; to = 5; step = 1; }",
     "opt.cfg:12: optimize.params[0].from: ",
     "1 is below the range plugin example.cross declares for fast, [2, 100]"},
    {"above_range", "{ strategy = \"cross\"; param = \"slow\"; from = 20; to = 500; step = 10; }",
     "opt.cfg:12: optimize.params[0].to: ", "500 is above the range"},
    {"value_outside", "{ strategy = \"fade\"; param = \"nbdev\"; values = [ 1.0, 9.5 ]; }",
     "opt.cfg:12: optimize.params[0].values[1]: ",
     "9.5 is outside the range plugin example.fade declares for nbdev, [0.5, 4]"},
    {"not_whole", "{ strategy = \"cross\"; param = \"fast\"; from = 2; to = 10; step = 2.5; }",
     "opt.cfg:12: optimize.params[0].step: ",
     "fast is an int parameter of plugin example.cross: use a whole number, got 2.5"},
    {"not_whole_value", "{ strategy = \"cross\"; param = \"fast\"; values = [ 5.0, 7.5 ]; }",
     "opt.cfg:12: optimize.params[0].values[1]: ", "use a whole number, got 7.5"},
    {"no_declared_range", "{ strategy = \"fade\"; param = \"lookback\"; step = 5; }",
     "opt.cfg:12: optimize.params[0].from: ", "plugin example.fade declares no range for lookback"},
};
#define N_BIND_CASES (sizeof bind_cases / sizeof bind_cases[0])

static void test_bind_case(void **state) {
  const bind_case *c = *state;
  fx f0;
  memset(&f0, 0, sizeof f0);
  fx *f = &f0;
  snprintf(f->dir, sizeof f->dir, "/tmp/tack-optimize-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  char text[512];
  snprintf(text, sizeof text, "optimize = { params = (\n%s ); };\n", c->param);
  assert_int_equal(load_spec(f, text), TACK_ECONFIG);
  expect_msg(&f->d, c->where, c->what);
  expect_count(&f->d, 1);
  tack_opt_spec_free(&f->spec);
  tack_config_free(f->cfg);
  tack_diag_free(&f->d);
  unlink(f->path);
  rmdir(f->dir);
}

/* ------------------------------------------------------------------------ */
/* Sets and windows                                                          */
/* ------------------------------------------------------------------------ */

static void test_grid_order_and_count(void **state) {
  fx *f = *state;
  assert_int_equal(
      load_spec(f,
                "optimize = { params = (\n"
                "  { strategy = \"cross\"; param = \"fast\"; from = 5; to = 20; step = 5; },\n"
                "  { strategy = \"cross\"; param = \"slow\"; values = [ 50, 20, 30 ]; },\n"
                "  { strategy = \"fade\"; param = \"nbdev\"; from = 0.5; to = 0.8; step = 0.1; }\n"
                "); };\n"),
      0);
  double *v = NULL;
  size_t n = 0;
  assert_int_equal(tack_opt_sets(&f->spec, &v, &n, &f->d), 0);
  assert_int_equal(n, 4 * 3 * 4);
  /* The first parameter varies slowest, values in the order written. */
  static const double first[][3] = {
      {5, 50, 0.5}, {5, 50, 0.6}, {5, 50, 0.7}, {5, 50, 0.8}, {5, 20, 0.5}};
  for (size_t r = 0; r < 5; r++)
    for (size_t i = 0; i < 3; i++)
      assert_true(v[r * 3 + i] == first[r][i]);
  assert_true(v[47 * 3] == 20 && v[47 * 3 + 1] == 30 && v[47 * 3 + 2] == 0.8);
  /* Grid points of a double are the decimals, not sums of steps. */
  assert_true(v[2 * 3 + 2] == 0.7);
  tack_free(NULL, v);

  /* One value per parameter: one set. Too many: refused with the count. */
  assert_int_equal(load_spec(f, "optimize = { " P1 " };\n"), 0);
  assert_int_equal(tack_opt_sets(&f->spec, &v, &n, &f->d), 0);
  assert_int_equal(n, 1);
  tack_free(NULL, v);
  assert_int_equal(
      load_spec(f, "optimize = { params = (\n"
                   "  { strategy = \"cross\"; param = \"fast\"; from = 2; to = 100; step = 1; },\n"
                   "  { strategy = \"cross\"; param = \"slow\"; from = 2; to = 200; step = 1; },\n"
                   "  { strategy = \"fade\"; param = \"nbdev\"; from = 0.5; to = 4; step = 0.5; }\n"
                   "); };\n"),
      0);
  assert_int_equal(tack_opt_sets(&f->spec, &v, &n, &f->d), TACK_ECONFIG);
  expect_msg(&f->d, "optimize.params: the grid has more than", "(99 x 199 x 8 points)");
  assert_null(v);
}

static void test_random_sampling(void **state) {
  fx *f = *state;
  const char *text = "optimize = { method = \"random\"; samples = 200; seed = %d; params = (\n"
                     "  { strategy = \"cross\"; param = \"fast\"; from = 5; to = 20; },\n"
                     "  { strategy = \"cross\"; param = \"slow\"; values = [ 20, 30, 50 ]; },\n"
                     "  { strategy = \"fade\"; param = \"nbdev\"; }\n"
                     "); };\n";
  char buf[512];
  double *a = NULL, *b = NULL, *c = NULL;
  size_t na, nb, nc;
  snprintf(buf, sizeof buf, text, 7);
  assert_int_equal(load_spec(f, buf), 0);
  assert_int_equal(tack_opt_sets(&f->spec, &a, &na, &f->d), 0);
  assert_int_equal(tack_opt_sets(&f->spec, &b, &nb, &f->d), 0);
  assert_int_equal(na, 200);
  assert_int_equal(nb, 200);
  assert_memory_equal(a, b, na * 3 * sizeof *a); /* the same seed, the same sets */
  snprintf(buf, sizeof buf, text, 8);
  assert_int_equal(load_spec(f, buf), 0);
  assert_int_equal(tack_opt_sets(&f->spec, &c, &nc, &f->d), 0);
  assert_int_equal(nc, 200);
  assert_true(memcmp(a, c, nc * 3 * sizeof *a) != 0);
  int fasts[21] = {0};
  for (size_t r = 0; r < na; r++) {
    double fast = a[r * 3], slow = a[r * 3 + 1], nbdev = a[r * 3 + 2];
    assert_true(fast >= 5 && fast <= 20 && fast == floor(fast));
    fasts[(int)fast]++;
    assert_true(slow == 20 || slow == 30 || slow == 50);
    assert_true(nbdev >= 0.5 && nbdev <= 4);
    for (size_t q = 0; q < r; q++)
      assert_true(memcmp(&a[q * 3], &a[r * 3], 3 * sizeof *a) != 0);
  }
  /* Both ends of an int range are drawn. */
  assert_true(fasts[5] > 0 && fasts[20] > 0);
  /* Override texts: an int as an integer, a double always as a double. */
  char t[128];
  tack_opt_override_text(&f->spec.params[0], 12, t, sizeof t);
  assert_string_equal(t, "strategies.cross.params.fast=12");
  tack_opt_override_text(&f->spec.params[2], 2, t, sizeof t);
  assert_string_equal(t, "strategies.fade.params.nbdev=2.0");
  tack_opt_override_text(&f->spec.params[2], 0.1 + 0.2, t, sizeof t);
  assert_string_equal(t, "strategies.fade.params.nbdev=0.30000000000000004");
  tack_free(NULL, a);
  tack_free(NULL, b);
  tack_free(NULL, c);

  /* A space smaller than samples: every distinct set once. */
  assert_int_equal(load_spec(f,
                             "optimize = { method = \"random\"; samples = 50; params = (\n"
                             "  { strategy = \"cross\"; param = \"fast\"; values = [ 5, 6 ]; },\n"
                             "  { strategy = \"cross\"; param = \"slow\"; from = 20; to = 22; "
                             "step = 1; }\n"
                             "); };\n"),
                   0);
  assert_int_equal(tack_opt_sets(&f->spec, &a, &na, &f->d), 0);
  assert_int_equal(na, 6);
  tack_free(NULL, a);
}

#define DAY (INT64_C(86400) * 1000000000)

static void test_windows(void **state) {
  fx *f = *state;
  tack_opt_window *w = NULL;
  size_t n = 0;
  tack_time from = 100 * DAY;
  tack_opt_wf wf = {1, 60 * 86400, 20 * 86400, 20 * 86400, 0};

  /* Rolling over 140 days: 60 + 20 x 4 fits exactly. */
  assert_int_equal(tack_opt_windows(&wf, from, from + 140 * DAY, &w, &n, &f->d), 0);
  assert_int_equal(n, 4);
  for (size_t k = 0; k < n; k++) {
    assert_true(w[k].train_from == from + (tack_time)k * 20 * DAY);
    assert_true(w[k].train_to == w[k].train_from + 60 * DAY);
    assert_true(w[k].test_from == w[k].train_to);
    assert_true(w[k].test_to == w[k].test_from + 20 * DAY);
  }
  tack_free(NULL, w);

  /* 12 more days: the last test (12 of 20 days) is kept, cut at `to`. */
  assert_int_equal(tack_opt_windows(&wf, from, from + 152 * DAY, &w, &n, &f->d), 0);
  assert_int_equal(n, 5);
  assert_true(w[4].test_from == from + 140 * DAY && w[4].test_to == from + 152 * DAY);
  tack_free(NULL, w);
  /* 9 more days: less than half a test window, dropped. */
  assert_int_equal(tack_opt_windows(&wf, from, from + 149 * DAY, &w, &n, &f->d), 0);
  assert_int_equal(n, 4);
  tack_free(NULL, w);
  /* Exactly half: kept. */
  assert_int_equal(tack_opt_windows(&wf, from, from + 150 * DAY, &w, &n, &f->d), 0);
  assert_int_equal(n, 5);
  tack_free(NULL, w);

  /* Anchored: every train window starts at `from` and grows by step. */
  wf.anchored = 1;
  assert_int_equal(tack_opt_windows(&wf, from, from + 140 * DAY, &w, &n, &f->d), 0);
  assert_int_equal(n, 4);
  for (size_t k = 0; k < n; k++) {
    assert_true(w[k].train_from == from);
    assert_true(w[k].train_to == from + (60 + (tack_time)k * 20) * DAY);
    assert_true(w[k].test_to == w[k].train_to + 20 * DAY);
  }
  tack_free(NULL, w);

  /* A step shorter than test: overlapping tests, stopping at the first
   * that reaches `to`. */
  wf.anchored = 0;
  wf.step_s = 10 * 86400;
  assert_int_equal(tack_opt_windows(&wf, from, from + 100 * DAY, &w, &n, &f->d), 0);
  assert_int_equal(n, 3);
  assert_true(w[2].test_to == from + 100 * DAY);
  tack_free(NULL, w);

  /* Too short, and no range. */
  assert_int_equal(tack_opt_windows(&wf, from, from + 69 * DAY, &w, &n, &f->d), TACK_EINVAL);
  expect_msg(&f->d, "too short for walk-forward", "it has 5961600 s");
  assert_int_equal(tack_opt_windows(&wf, INT64_MIN, INT64_MAX, &w, &n, &f->d), TACK_EINVAL);
  expect_msg(&f->d, "give --from and --to", NULL);
  assert_null(w);
}

/* ------------------------------------------------------------------------ */
/* Running with a fake evaluator                                             */
/* ------------------------------------------------------------------------ */

typedef struct fake {
  int refuse_fast_ge_slow; /* refuse sets with fast >= slow */
  long kill_set;           /* this set's search job kills its worker (-1: none) */
  long fail_set;           /* this set's search job fails with TACK_EIO (-1: none) */
  int tie;                 /* every set scores the same */
} fake;

/* Scores peak at fast = 10 + 5 x window, slow = 30; the test window scores
 * less. Trades: fast. Returns and drawdown follow the score. */
static int fake_eval(void *data, const tack_opt_job *job, tack_bt_metrics *out, char *msg,
                     size_t cap) {
  const fake *fk = data;
  double fast = job->values[0], slow = job->values[1];
  memset(out, 0, sizeof *out);
  if (fk->refuse_fast_ge_slow && fast >= slow) {
    snprintf(msg, cap, "slow must be greater than fast (%g), got %g", fast, slow);
    return TACK_ECONFIG;
  }
  if (!job->out_of_sample && (long)job->set == fk->kill_set)
    kill(getpid(), SIGKILL);
  if (!job->out_of_sample && (long)job->set == fk->fail_set) {
    snprintf(msg, cap, "the store is gone");
    return TACK_EIO;
  }
  double target = 10 + 5 * (double)job->window;
  double score =
      fk->tie ? 1.0
              : 2.0 - ((fast - target) * (fast - target) + (slow - 30) * (slow - 30) / 10) / 100;
  if (job->out_of_sample)
    score *= 0.5;
  out->sharpe = score;
  out->total_return = score / 10;
  out->max_drawdown = 0.3 - score / 10;
  out->trades = (uint64_t)fast;
  out->win_rate = 0.5;
  out->start = job->from;
  out->end = job->to;
  return 0;
}

static char *json_of(const tack_opt_report *r) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  assert_non_null(out);
  assert_int_equal(tack_opt_report_write_json(r, "opt.cfg", out), 0);
  fclose(out);
  return buf;
}

static char *text_of(const tack_opt_report *r, size_t top) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  assert_non_null(out);
  tack_opt_report_print(r, "opt.cfg", top, out);
  fclose(out);
  return buf;
}

static void no_children_left(void) {
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

static const char *GRID =
    "optimize = { min_trades = 6; params = (\n"
    "  { strategy = \"cross\"; param = \"fast\"; from = 5; to = 20; step = 5; },\n"
    "  { strategy = \"cross\"; param = \"slow\"; values = [ 20, 30, 50 ]; }\n"
    "); };\n";

static void run(fx *f, fake *fk, uint32_t workers, int want) {
  tack_opt_run_opts o = {workers, INT64_MIN, INT64_MAX, fake_eval, fk, NULL};
  tack_opt_report_free(&f->report);
  int rc = tack_optimize_run(&f->spec, &o, &f->report, &f->d);
  if (rc != want)
    dump(&f->d);
  assert_int_equal(rc, want);
}

static void test_ranking(void **state) {
  fx *f = *state;
  fake fk = {0, -1, -1, 0};
  assert_int_equal(load_spec(f, GRID), 0);
  run(f, &fk, 2, 0);
  const tack_opt_report *r = &f->report;
  assert_int_equal(r->n_sets, 12);
  assert_int_equal(r->n_jobs, 12);
  /* fast = 5 makes 5 trades: below min_trades, not ranked. */
  assert_int_equal(r->n_ineligible, 3);
  assert_int_equal(r->n_refused, 0);
  assert_int_equal(r->n_ranked, 9);
  /* Set 4 is (10, 30): the peak. */
  assert_int_equal(r->ranked[0], 4);
  for (size_t k = 1; k < r->n_ranked; k++)
    assert_true(r->results[r->ranked[k - 1]].objective >= r->results[r->ranked[k]].objective);
  char *text = text_of(r, 3);
  assert_non_null(strstr(text, "grid of 12 parameter sets; objective sharpe (higher is better), "
                               "min_trades 6"));
  assert_non_null(strstr(text, "12 parameter sets: 9 ranked (top 3 shown), 3 not eligible"));
  assert_non_null(strstr(text, "best: job 4, sharpe 2\n"));
  assert_non_null(strstr(text, "  tack backtest opt.cfg --set strategies.cross.params.fast=10 "
                               "--set strategies.cross.params.slow=30\n"));
  assert_non_null(
      strstr(text, "  in the config: strategies.cross.params: fast = 10; slow = 30;\n"));
  free(text);

  /* Minimizing max_drawdown ranks the same way here (it falls as the score
   * rises). */
  f->spec.objective = tack_opt_metric_find("max_drawdown");
  f->spec.direction = f->spec.objective->direction;
  assert_int_equal(f->spec.direction, TACK_OPT_MINIMIZE);
  run(f, &fk, 1, 0);
  assert_int_equal(r->ranked[0], 4);
  assert_true(r->results[r->ranked[0]].objective < r->results[r->ranked[1]].objective);

  /* Ties go to the lower job index. */
  fk.tie = 1;
  f->spec.objective = tack_opt_metric_find("sharpe");
  f->spec.direction = TACK_OPT_MAXIMIZE;
  run(f, &fk, 3, 0);
  for (size_t k = 0; k < r->n_ranked; k++)
    assert_int_equal(r->ranked[k], k + 3);
  no_children_left();
}

static void test_refused_sets(void **state) {
  fx *f = *state;
  fake fk = {1, -1, -1, 0};
  assert_int_equal(load_spec(f, GRID), 0);
  run(f, &fk, 2, 0);
  /* (20, 20) is refused; 5-trade sets are not eligible. */
  assert_int_equal(f->report.n_refused, 1);
  assert_int_equal(f->report.results[9].status, TACK_OPT_REFUSED);
  assert_string_equal(f->report.results[9].msg, "slow must be greater than fast (20), got 20");
  char *text = text_of(&f->report, 10);
  assert_non_null(
      strstr(text, "1 refused (the first: slow must be greater than fast (20), got 20)"));
  free(text);
  char *json = json_of(&f->report);
  assert_non_null(strstr(json, "\"status\": \"refused\""));
  free(json);

  /* Every set refused: an error with the first reason. */
  assert_int_equal(load_spec(f,
                             "optimize = { params = (\n"
                             "  { strategy = \"cross\"; param = \"fast\"; values = [ 50, 60 ]; },\n"
                             "  { strategy = \"cross\"; param = \"slow\"; values = [ 20 ]; }\n"
                             "); };\n"),
                   0);
  run(f, &fk, 2, TACK_ECONFIG);
  expect_msg(&f->d,
             "every parameter set was refused; the first: slow must be greater than fast (50)",
             NULL);
  no_children_left();
}

static void test_workers_identical(void **state) {
  fx *f = *state;
  fake fk = {1, -1, -1, 0};
  assert_int_equal(load_spec(f, GRID), 0);
  char *json[3], *text[3];
  for (uint32_t w = 1; w <= 3; w++) {
    run(f, &fk, w, 0);
    json[w - 1] = json_of(&f->report);
    text[w - 1] = text_of(&f->report, 10);
  }
  assert_string_equal(json[0], json[1]);
  assert_string_equal(json[0], json[2]);
  assert_string_equal(text[0], text[1]);
  assert_string_equal(text[0], text[2]);
  /* Keys in a fixed order, every job, no time of the run. */
  assert_non_null(strstr(json[0], "{\n  \"config\": \"opt.cfg\",\n  \"objective\": \"sharpe\",\n"
                                  "  \"direction\": \"maximize\",\n  \"method\": \"grid\",\n"));
  assert_non_null(strstr(json[0], "\"job\": 11,"));
  assert_non_null(strstr(json[0], "\"cross.fast\": 10,"));
  assert_non_null(strstr(json[0], "\"best\": {\n    \"job\": 4,"));
  for (int i = 0; i < 3; i++) {
    free(json[i]);
    free(text[i]);
  }

  /* Random search too, with more workers than jobs. */
  assert_int_equal(load_spec(f,
                             "optimize = { method = \"random\"; samples = 5; seed = 3; params = (\n"
                             "  { strategy = \"cross\"; param = \"fast\"; from = 5; to = 25; },\n"
                             "  { strategy = \"cross\"; param = \"slow\"; from = 20; to = 60; }\n"
                             "); };\n"),
                   0);
  run(f, &fk, 1, 0);
  char *a = json_of(&f->report);
  run(f, &fk, 8, 0);
  char *b = json_of(&f->report);
  assert_string_equal(a, b);
  free(a);
  free(b);
  no_children_left();
}

static void test_dead_worker(void **state) {
  fx *f = *state;
  fake fk = {0, 7, -1, 0};
  assert_int_equal(load_spec(f, GRID), 0);
  for (uint32_t w = 1; w <= 3; w++) {
    tack_diag_free(&f->d);
    run(f, &fk, w, TACK_EPLUGIN);
    /* Set 7 is (15, 30). */
    expect_msg(&f->d, "was killed by signal 9",
               "while running job 7 (strategies.cross.params.fast=15 "
               "strategies.cross.params.slow=30)");
    expect_count(&f->d, 1);
    no_children_left();
  }

  /* A job that fails: fatal, with its message. */
  fk.kill_set = -1;
  fk.fail_set = 2;
  tack_diag_free(&f->d);
  run(f, &fk, 2, TACK_EPLUGIN);
  expect_msg(&f->d,
             "job 2 (strategies.cross.params.fast=5 strategies.cross.params.slow=50) failed: "
             "the store is gone",
             NULL);
  no_children_left();
}

/* SIGINT while the workers run stops them all. */
static int slow_eval(void *data, const tack_opt_job *job, tack_bt_metrics *out, char *msg,
                     size_t cap) {
  (void)data;
  (void)job;
  (void)msg;
  (void)cap;
  memset(out, 0, sizeof *out);
  struct timespec ts = {0, 200 * 1000 * 1000};
  nanosleep(&ts, NULL);
  out->trades = 10;
  return 0;
}

static void test_interrupt(void **state) {
  fx *f = *state;
  assert_int_equal(load_spec(f, GRID), 0);
  pid_t parent = getpid();
  pid_t killer = fork();
  assert_true(killer >= 0);
  if (killer == 0) {
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(parent, SIGINT);
    _exit(0);
  }
  tack_opt_run_opts o = {2, INT64_MIN, INT64_MAX, slow_eval, NULL, NULL};
  int rc = tack_optimize_run(&f->spec, &o, &f->report, &f->d);
  assert_int_equal(rc, TACK_ECLOSED);
  expect_msg(&f->d, "interrupted: ", "of 12 jobs done; workers stopped");
  assert_int_equal(waitpid(killer, NULL, 0), killer);
  no_children_left();
}

static void test_walk_forward_run(void **state) {
  fx *f = *state;
  fake fk = {1, -1, -1, 0};
  assert_int_equal(
      load_spec(f, "optimize = { params = (\n"
                   "  { strategy = \"cross\"; param = \"fast\"; from = 5; to = 25; step = 5; },\n"
                   "  { strategy = \"cross\"; param = \"slow\"; values = [ 20, 30 ]; }\n"
                   "); walk_forward = { train = \"30d\"; test = \"10d\"; }; };\n"),
      0);
  tack_time from = 19723 * DAY; /* 2024-01-01 */
  tack_opt_run_opts o = {2, from, from + 60 * DAY, fake_eval, &fk, NULL};
  assert_int_equal(tack_optimize_run(&f->spec, &o, &f->report, &f->d), 0);
  const tack_opt_report *r = &f->report;
  assert_int_equal(r->n_windows, 3);
  assert_int_equal(r->n_sets, 10);
  assert_int_equal(r->n_jobs, 3 * 10 + 3);
  for (size_t w = 0; w < 3; w++) {
    const tack_opt_wf_row *row = &r->rows[w];
    assert_true(row->has_choice);
    /* The peak moves: fast 10, 15, 20 with slow 30. */
    const double *v = r->jobs[row->chosen_job].values;
    assert_true(v[0] == 10 + 5 * (double)w && v[1] == 30);
    assert_int_equal(row->refused, 2); /* (20, 20), (25, 20) */
    assert_int_equal(row->test_job, 30 + w);
    const tack_opt_job *t = &r->jobs[row->test_job];
    assert_true(t->out_of_sample && t->from == row->window.test_from &&
                t->to == row->window.test_to);
    assert_true(row->is_objective == 2.0 && row->oos_objective == 1.0);
  }
  assert_int_equal(r->n_tested, 3);
  assert_true(r->is_mean == 2.0 && r->oos_mean == 1.0);
  assert_true(r->efficiency == 0.5 && r->degradation == -1.0);
  assert_true(fabs(r->oos_return_sum - 0.3) < 1e-12);
  assert_true(fabs(r->oos_return_compound - (1.1 * 1.1 * 1.1 - 1)) < 1e-12);
  assert_true(fabs(r->oos_return_mean - 0.1) < 1e-12);
  assert_int_equal(r->oos_trades, 10 + 15 + 20);
  char *text = text_of(r, 10);
  assert_non_null(strstr(text, "walk-forward over 3 windows (train 30d, test 10d, step 10d, "
                               "rolling), grid of 10 parameter sets"));
  assert_non_null(strstr(text, "  1  2024-01-01 .. 2024-01-31    2024-01-31 .. 2024-02-10"));
  assert_non_null(strstr(text, "out-of-sample, 3 windows tested: return sum 30.00%, compounded "
                               "33.10%, mean 10.00% per window; 45 trades\n"));
  assert_non_null(strstr(text, "sharpe: in-sample mean 2, out-of-sample mean 1; walk-forward "
                               "efficiency 0.5 (out-of-sample / in-sample), difference -1\n"));
  assert_non_null(strstr(text, "latest choice (window 3, the one to trade next):\n"
                               "  tack backtest opt.cfg --set strategies.cross.params.fast=20"));
  free(text);
  char *a = json_of(r);
  assert_non_null(strstr(a, "\"train_from\": \"2024-01-01T00:00:00Z\""));
  assert_non_null(strstr(a, "\"phase\": \"test\""));
  assert_non_null(strstr(a, "\"efficiency\": 0.5"));

  /* The same with 1 and 3 workers. */
  for (uint32_t w = 1; w <= 3; w += 2) {
    o.workers = w;
    tack_opt_report_free(&f->report);
    assert_int_equal(tack_optimize_run(&f->spec, &o, &f->report, &f->d), 0);
    char *b = json_of(&f->report);
    assert_string_equal(a, b);
    free(b);
  }
  free(a);

  /* Per day for an objective that grows with the window. */
  f->spec.objective = tack_opt_metric_find("trades");
  tack_opt_report_free(&f->report);
  assert_int_equal(tack_optimize_run(&f->spec, &o, &f->report, &f->d), 0);
  /* In-sample the most trades is fast = 25 (30 days); tested on 10 days. */
  assert_true(fabs(f->report.is_mean - 25.0 / 30) < 1e-12);
  assert_true(fabs(f->report.oos_mean - 25.0 / 10) < 1e-12);

  /* Walk-forward needs the range. */
  o.from = INT64_MIN;
  tack_opt_report_free(&f->report);
  assert_int_equal(tack_optimize_run(&f->spec, &o, &f->report, &f->d), TACK_ECONFIG);
  expect_msg(&f->d, "give --from and --to", NULL);
  no_children_left();
}

static void test_metric_table(void **state) {
  (void)state;
  const tack_opt_metric *m = tack_opt_metric_find("sharpe");
  assert_non_null(m);
  assert_int_equal(m->offset, offsetof(tack_bt_metrics, sharpe));
  assert_int_equal(m->direction, TACK_OPT_MAXIMIZE);
  static const char *const minimized[] = {"max_drawdown", "volatility", "var95", "cvar95"};
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(tack_opt_metric_find(minimized[i])->direction, TACK_OPT_MINIMIZE);
  assert_null(tack_opt_metric_find("nope"));
  /* Every field once, in struct order, none past the end. */
  size_t n = 0;
  for (const tack_opt_metric *x; (x = tack_opt_metric_at(n)) != NULL; n++)
    if (n)
      assert_true(x->offset > tack_opt_metric_at(n - 1)->offset);
  assert_int_equal(tack_opt_metric_at(n - 1)->offset,
                   offsetof(tack_bt_metrics, intervals_per_year));
  tack_bt_metrics bm;
  memset(&bm, 0, sizeof bm);
  bm.trades = 42;
  bm.max_drawdown_duration_s = -7;
  bm.return_interval_s = 86400;
  assert_true(tack_opt_metric_value(tack_opt_metric_find("trades"), &bm) == 42);
  assert_true(tack_opt_metric_value(tack_opt_metric_find("max_drawdown_duration_s"), &bm) == -7);
  assert_true(tack_opt_metric_value(tack_opt_metric_find("return_interval_s"), &bm) == 86400);
}

/* ------------------------------------------------------------------------ */
/* The real command                                                          */
/* ------------------------------------------------------------------------ */

static tr_env env;
static int have_env;
static char skip_why[256];

#define CLI_BARS 3000u         /* 5m candles: 10.4 days */
#define CLI_START 1704067200LL /* 2024-01-01 */

static void cli_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", env.tmp, name);
}

/* CLI_BARS 5m candles of BTC-USD into <tmp>/store. */
static void make_store(void) {
  char path[600];
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  cli_path(path, sizeof path, "store");
  assert_int_equal(tack_store_open(path, 0, &st), 0);
  assert_int_equal(tack_candles_open(st, &cs), 0);
  tack_synth_opts o;
  tack_synth g;
  tack_synth_defaults(&o);
  o.seed = 5;
  o.symbol = "BTC-USD";
  o.timeframe_s = 300;
  o.start = CLI_START * TACK_NS_PER_SEC;
  assert_int_equal(tack_synth_init(&g, &o), 0);
  tack_bar *bars = calloc(CLI_BARS, sizeof *bars);
  assert_non_null(bars);
  for (size_t i = 0; i < CLI_BARS; i++)
    tack_synth_next(&g, &bars[i]);
  assert_int_equal(tack_candles_put(cs, "BTC-USD", 300, bars, CLI_BARS, NULL, NULL), 0);
  free(bars);
  tack_candles_close(cs);
  tack_store_close(st);
}

/* A config trading BTC-USD with an EMA crossover on a live venue (the
 * backtest makes it a paper venue over the store), and `optimize`. */
static void write_cli_cfg(const char *name, const char *optimize) {
  char path[600];
  cli_path(path, sizeof path, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f,
          "version = 1;\nname = \"opt\";\nplugin_dirs = [ \"%s/plugins\" ];\n"
          "store = { path = \"%s/store\"; };\nlog = { level = \"warn\"; };\n"
          "exchanges = { live = { plugin = \"example.replay\"; }; };\n"
          "strategies = {\n"
          "  cross = { plugin = \"ema_cross\"; timeframe = \"5m\";\n"
          "            params = { fast = 12; slow = 26; mode = \"state\"; }; };\n"
          "};\n"
          "symbols = ( { symbol = \"BTC-USD\"; exchange = \"live\"; strategy = \"cross\"; } );\n"
          "trading = { sizing = { allocation = 30000.0; }; };\n"
          "backtest = { venue = { cash = 100000.0; taker_bps = 5.0; }; monte_carlo = { runs = 0; "
          "}; };\n"
          "%s\n",
          getenv("TACK_BUILD_DIR"), env.tmp, optimize);
  assert_int_equal(fclose(f), 0);
}

/* `tack optimize <cfg> --workers N --json <tag>.json [more]`: 0 expected. */
static void optimize_cli(const char *cfg, unsigned workers, const char *tag, const char *more,
                         const char *more2, tr_child *c) {
  char cpath[600], jpath[600], w[16], j[620];
  cli_path(cpath, sizeof cpath, cfg);
  cli_path(jpath, sizeof jpath, tag);
  snprintf(w, sizeof w, "%u", workers);
  snprintf(j, sizeof j, "%s.json", jpath);
  const char *args[] = {"optimize", cpath, "--workers", w, "--json", j, more, more2, NULL};
  assert_int_equal(tr_run(&env, c, tag, args, 600000, 0), 0);
}

static void expect_same_files(const char *a, const char *b) {
  char *x = tr_slurp(a), *y = tr_slurp(b);
  assert_non_null(x);
  assert_non_null(y);
  assert_string_equal(x, y);
  free(x);
  free(y);
}

static void same_outputs(const char *tag1, const char *tag2, const tr_child *c1,
                         const tr_child *c2) {
  char a[700], b[700];
  expect_same_files(c1->out, c2->out);
  snprintf(a, sizeof a, "%s/%s.json", env.tmp, tag1);
  snprintf(b, sizeof b, "%s/%s.json", env.tmp, tag2);
  expect_same_files(a, b);
}

static void test_cli_search(void **state) {
  (void)state;
  if (!have_env) {
    fprintf(stderr, "skipped: %s\n", skip_why);
    skip();
  }
  tr_child c1, c2;
  make_store();
  write_cli_cfg("grid.cfg", "optimize = { objective = \"total_return\"; min_trades = 1;\n"
                            "  params = ( { strategy = \"cross\"; param = \"fast\"; from = 5; "
                            "to = 15; step = 5; },\n"
                            "             { strategy = \"cross\"; param = \"slow\"; values = [ "
                            "10, 30, 60 ]; } ); };");
  optimize_cli("grid.cfg", 1, "g1", "--from=2024-01-02", NULL, &c1);
  optimize_cli("grid.cfg", 2, "g2", "--from=2024-01-02", NULL, &c2);
  same_outputs("g1", "g2", &c1, &c2);
  assert_true(tr_contains(c1.out, "grid of 9 parameter sets; objective total_return"));
  assert_true(tr_contains(c1.out, "range: 2024-01-02 .. the end of the data"));
  /* (10, 10) and (15, 10) are refused by ema_cross: slow must exceed fast. */
  assert_true(tr_contains(c1.out, "2 refused (the first: "));
  assert_true(tr_contains(c1.out, "must be greater than fast"));
  assert_true(tr_contains(c1.out, "--set strategies.cross.params.fast="));
  assert_true(tr_contains(c1.err, "optimize: 9/9 jobs"));

  /* The best set, backtested on its own, gives the reported return. */
  char path[700];
  snprintf(path, sizeof path, "%s/g1.json", env.tmp);
  json_error_t err;
  json_t *j = json_load_file(path, 0, &err);
  assert_non_null(j);
  json_t *best = json_object_get(j, "best");
  json_t *ov = json_object_get(best, "overrides");
  assert_int_equal(json_array_size(ov), 2);
  char cpath[600], bjson[600];
  cli_path(cpath, sizeof cpath, "grid.cfg");
  cli_path(bjson, sizeof bjson, "best-bt.json");
  const char *args[] = {"backtest", cpath,
                        "--quiet",  "--from=2024-01-02",
                        "--json",   bjson,
                        "--set",    json_string_value(json_array_get(ov, 0)),
                        "--set",    json_string_value(json_array_get(ov, 1)),
                        NULL};
  tr_child c3;
  assert_int_equal(tr_run(&env, &c3, "best-bt", args, 300000, 0), 0);
  json_t *bt = json_load_file(bjson, 0, &err);
  assert_non_null(bt);
  double want = json_real_value(json_object_get(best, "objective"));
  double got = json_real_value(json_object_get(json_object_get(bt, "metrics"), "total_return"));
  assert_true(want == got);
  json_decref(bt);
  json_decref(j);
}

static void test_cli_walk_forward(void **state) {
  (void)state;
  if (!have_env) {
    fprintf(stderr, "skipped: %s\n", skip_why);
    skip();
  }
  tr_child c1, c2;
  write_cli_cfg("wf.cfg", "optimize = { objective = \"sharpe\"; min_trades = 1;\n"
                          "  params = ( { strategy = \"cross\"; param = \"fast\"; values = [ 5, "
                          "10 ]; },\n"
                          "             { strategy = \"cross\"; param = \"slow\"; values = [ "
                          "20, 40 ]; } );\n"
                          "  walk_forward = { train = \"4d\"; test = \"2d\"; }; };");
  optimize_cli("wf.cfg", 1, "w1", "--from=2024-01-01", "--to=2024-01-11", &c1);
  optimize_cli("wf.cfg", 2, "w2", "--from=2024-01-01", "--to=2024-01-11", &c2);
  same_outputs("w1", "w2", &c1, &c2);
  assert_true(tr_contains(c1.out, "walk-forward over 3 windows (train 4d, test 2d, step 2d, "
                                  "rolling)"));
  assert_true(tr_contains(c1.out, "walk-forward efficiency"));
  assert_true(tr_contains(c1.out, "latest choice (window 3"));

  /* Without the range, walk-forward is refused. */
  char cpath[600];
  cli_path(cpath, sizeof cpath, "wf.cfg");
  const char *args[] = {"optimize", cpath, NULL};
  tr_child c3;
  assert_int_equal(tr_run(&env, &c3, "w3", args, 60000, 1), 1);
  assert_true(tr_contains(c3.err, "give --from and --to"));
}

static int run_cli_tests(void) {
  have_env = tr_env_open(&env, skip_why, sizeof skip_why) == 0;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cli_search),
      cmocka_unit_test(test_cli_walk_forward),
  };
  int rc = cmocka_run_group_tests_name("optimize_cli", tests, NULL, NULL);
  if (have_env)
    tr_env_close(&env);
  return rc;
}

static int run_unit_tests(void) {
  static const struct CMUnitTest fixed[] = {
      cmocka_unit_test_setup_teardown(test_good_group_loads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_grid_order_and_count, setup, teardown),
      cmocka_unit_test_setup_teardown(test_random_sampling, setup, teardown),
      cmocka_unit_test_setup_teardown(test_windows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ranking, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refused_sets, setup, teardown),
      cmocka_unit_test_setup_teardown(test_workers_identical, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dead_worker, setup, teardown),
      cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
      cmocka_unit_test_setup_teardown(test_walk_forward_run, setup, teardown),
      cmocka_unit_test(test_metric_table),
  };
  struct CMUnitTest tests[sizeof fixed / sizeof fixed[0] + N_SCHEMA_CASES + N_BIND_CASES];
  size_t n = 0;
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    tests[n++] = fixed[i];
  for (size_t i = 0; i < N_SCHEMA_CASES; i++) {
    struct CMUnitTest t = {schema_cases[i].name, test_schema_case, NULL, NULL,
                           (void *)&schema_cases[i]};
    tests[n++] = t;
  }
  for (size_t i = 0; i < N_BIND_CASES; i++) {
    struct CMUnitTest t = {bind_cases[i].name, test_bind_case, NULL, NULL, (void *)&bind_cases[i]};
    tests[n++] = t;
  }
  return _cmocka_run_group_tests("optimize", tests, n, NULL, NULL);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "cli") == 0)
    return run_cli_tests();
  return run_unit_tests();
}
