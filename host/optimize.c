/*
 * optimize.c: `tack optimize`'s engine (optimize.h, docs/optimization.md):
 * the `optimize` group's schema, the parameter sets (grid and random), the
 * walk-forward windows, the worker processes that run the jobs, ranking,
 * the walk-forward summary, and the report as text and JSON.
 *
 * Workers are forked processes, one job at a time each: the parent writes
 * a job's index on the worker's job pipe, the worker evaluates it and
 * writes back one fixed-size record (the index, the status and the
 * metrics) on its result pipe. The parent hands out the next job to
 * whichever worker answers, and stores each result at its job's index, so
 * the outcome does not depend on which worker ran what. A worker whose
 * result pipe closes before it answers died: the parent names the job it
 * was running, kills and reaps the others and fails. SIGINT (caught while
 * the workers run) does the same, without blaming a job.
 */
#include "optimize.h"
#include "prng.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "backtest.h"
#include "log.h"
#include "params.h"
#include "utc.h"

/* Longest walk-forward length: a century. */
#define DURATION_MAX_S ((int64_t)100 * 366 * 86400)
/* Most walk-forward windows. */
#define MAX_WINDOWS 10000u
/* Most workers. */
#define MAX_WORKERS 1024
/* Random search: tries per requested sample before giving up on finding
 * more distinct sets. */
#define DRAWS_PER_SAMPLE 20u
/* Significant digits kept of a randomly drawn double, and of grid points. */
#define RANDOM_DIGITS 6
#define GRID_DIGITS 12

#define NS_PER_S INT64_C(1000000000)

/* ------------------------------------------------------------------------ */
/* Metrics                                                                   */
/* ------------------------------------------------------------------------ */

enum { K_DOUBLE, K_U64, K_I64, K_U32 };

#define METRIC(field, kind, dir, grows)                                                            \
  { #field, offsetof(tack_bt_metrics, field), kind, dir, grows }

static const tack_opt_metric metric_table[] = {
    METRIC(start, K_I64, 0, 0),
    METRIC(end, K_I64, 0, 0),
    METRIC(years, K_DOUBLE, 0, 0),
    METRIC(start_equity, K_DOUBLE, 0, 0),
    METRIC(end_equity, K_DOUBLE, TACK_OPT_MAXIMIZE, 0),
    METRIC(total_return, K_DOUBLE, TACK_OPT_MAXIMIZE, 1),
    METRIC(cagr, K_DOUBLE, TACK_OPT_MAXIMIZE, 0),
    METRIC(volatility, K_DOUBLE, TACK_OPT_MINIMIZE, 0),
    METRIC(sharpe, K_DOUBLE, TACK_OPT_MAXIMIZE, 0),
    METRIC(sortino, K_DOUBLE, TACK_OPT_MAXIMIZE, 0),
    METRIC(calmar, K_DOUBLE, TACK_OPT_MAXIMIZE, 0),
    METRIC(max_drawdown, K_DOUBLE, TACK_OPT_MINIMIZE, 0),
    METRIC(max_drawdown_start, K_I64, 0, 0),
    METRIC(max_drawdown_trough, K_I64, 0, 0),
    METRIC(max_drawdown_end, K_I64, 0, 0),
    METRIC(max_drawdown_duration_s, K_I64, TACK_OPT_MINIMIZE, 0),
    METRIC(exposure, K_DOUBLE, 0, 0),
    METRIC(trades, K_U64, TACK_OPT_MAXIMIZE, 1),
    METRIC(wins, K_U64, TACK_OPT_MAXIMIZE, 1),
    METRIC(losses, K_U64, TACK_OPT_MINIMIZE, 1),
    METRIC(win_rate, K_DOUBLE, TACK_OPT_MAXIMIZE, 0),
    METRIC(profit_factor, K_DOUBLE, TACK_OPT_MAXIMIZE, 0),
    METRIC(expectancy, K_DOUBLE, TACK_OPT_MAXIMIZE, 0),
    METRIC(avg_win, K_DOUBLE, TACK_OPT_MAXIMIZE, 0),
    METRIC(avg_loss, K_DOUBLE, TACK_OPT_MAXIMIZE, 0),
    METRIC(fees, K_DOUBLE, TACK_OPT_MINIMIZE, 1),
    METRIC(var95, K_DOUBLE, TACK_OPT_MINIMIZE, 0),
    METRIC(cvar95, K_DOUBLE, TACK_OPT_MINIMIZE, 0),
    METRIC(intervals, K_U64, 0, 0),
    METRIC(return_interval_s, K_U32, 0, 0),
    METRIC(intervals_per_year, K_DOUBLE, 0, 0),
};
#define N_METRICS (sizeof metric_table / sizeof metric_table[0])

const tack_opt_metric *tack_opt_metric_at(size_t i) {
  return i < N_METRICS ? &metric_table[i] : NULL;
}

const tack_opt_metric *tack_opt_metric_find(const char *name) {
  for (size_t i = 0; i < N_METRICS; i++)
    if (strcmp(metric_table[i].name, name) == 0)
      return &metric_table[i];
  return NULL;
}

double tack_opt_metric_value(const tack_opt_metric *mt, const tack_bt_metrics *m) {
  const char *p = (const char *)m + mt->offset;
  double d;
  uint64_t u;
  int64_t i;
  uint32_t w;
  switch (mt->kind) {
  case K_U64:
    memcpy(&u, p, sizeof u);
    return (double)u;
  case K_I64:
    memcpy(&i, p, sizeof i);
    return (double)i;
  case K_U32:
    memcpy(&w, p, sizeof w);
    return (double)w;
  default:
    memcpy(&d, p, sizeof d);
    return d;
  }
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static int is_number(const config_setting_t *s) {
  return (tack_setting_type_bit(s) & (TACK_SETTING_INT | TACK_SETTING_FLOAT)) != 0;
}

/* v rounded to digits significant digits (exact for what prints short). */
static double round_digits(double v, int digits) {
  char buf[64];
  if (!isfinite(v) || v == 0)
    return v;
  snprintf(buf, sizeof buf, "%.*g", digits, v);
  return strtod(buf, NULL);
}

/* The shortest "%.Ng" text that reads back as v. */
static void shortest(double v, char *buf, size_t cap) {
  for (int p = 1; p <= 17; p++) {
    snprintf(buf, cap, "%.*g", p, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

/* A parameter's value as the config writes it: an int as an integer, a
 * double always with a '.' or an exponent. */
static void value_text(const tack_opt_param *p, double v, char *buf, size_t cap) {
  if (p->is_int) {
    snprintf(buf, cap, "%lld", (long long)v);
    return;
  }
  shortest(v, buf, cap);
  size_t n = strlen(buf);
  if (isfinite(v) && !strpbrk(buf, ".e") && n + 3 <= cap)
    snprintf(buf + n, cap - n, ".0");
}

void tack_opt_override_text(const tack_opt_param *p, double v, char *buf, size_t cap) {
  char text[64];
  value_text(p, v, text, sizeof text);
  snprintf(buf, cap, "strategies.%s.params.%s=%s", p->strategy, p->param, text);
}

/* "60d", "12h", "90m", "3600s", "2w", or seconds as an integer setting. 0
 * with *out > 0, or -1. */
static int parse_duration(const config_setting_t *s, int64_t *out) {
  int64_t v = 0;
  if (tack_setting_type_bit(s) == TACK_SETTING_INT) {
    v = tack_setting_int(s);
  } else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
    const char *t = config_setting_get_string(s);
    size_t i = 0;
    for (; t[i] >= '0' && t[i] <= '9'; i++) {
      if (v > DURATION_MAX_S)
        return -1;
      v = v * 10 + (t[i] - '0');
    }
    if (i == 0)
      return -1;
    static const struct {
      char unit;
      int64_t s;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
    int64_t mult = 0;
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
      if (t[i] == units[k].unit && t[i + 1] == '\0')
        mult = units[k].s;
    if (t[i] == '\0')
      mult = 1;
    if (mult == 0 || v > DURATION_MAX_S / mult)
      return -1;
    v *= mult;
  } else {
    return -1;
  }
  if (v <= 0 || v > DURATION_MAX_S)
    return -1;
  *out = v;
  return 0;
}

/* A name as config.c allows for entries, and parameters as the SDK does. */
static int valid_name(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
          s[n] == '-'))
      return 0;
  return n >= 1 && n < TACK_OPT_NAME_MAX;
}

/* ------------------------------------------------------------------------ */
/* Schema                                                                    */
/* ------------------------------------------------------------------------ */

enum {
  O_OBJECTIVE,
  O_METHOD,
  O_SAMPLES,
  O_SEED,
  O_MIN_TRADES,
  O_WORKERS,
  O_PARAMS,
  O_WALK_FORWARD,
  O_COUNT
};
static const tack_key_spec opt_keys[O_COUNT] = {
    [O_OBJECTIVE] = {"objective", TACK_SETTING_STRING, 0, "a metric's name such as \"sharpe\"",
                     "objective = \"sharpe\";"},
    [O_METHOD] = {"method", TACK_SETTING_STRING, 0, "\"grid\" or \"random\"", "method = \"grid\";"},
    [O_SAMPLES] = {"samples", TACK_SETTING_INT, 0, "an integer", "samples = 100;"},
    [O_SEED] = {"seed", TACK_SETTING_INT, 0, "an integer", "seed = 1;"},
    [O_MIN_TRADES] = {"min_trades", TACK_SETTING_INT, 0, "an integer", "min_trades = 5;"},
    [O_WORKERS] = {"workers", TACK_SETTING_INT, 0, "an integer", "workers = 0;"},
    [O_PARAMS] = {"params", TACK_SETTING_LIST, 1,
                  "a list of groups ( { strategy = \"...\"; param = \"...\"; ... }, ... )",
                  "params = ( { strategy = \"cross\"; param = \"fast\"; from = 5; to = 20; "
                  "step = 5; } );"},
    [O_WALK_FORWARD] = {"walk_forward", TACK_SETTING_GROUP, 0,
                        "a group { train = \"60d\"; test = \"20d\"; ... }",
                        "walk_forward = { train = \"60d\"; test = \"20d\"; };"},
};

enum { P_STRATEGY, P_PARAM, P_FROM, P_TO, P_STEP, P_VALUES, P_COUNT };
static const tack_key_spec param_keys[P_COUNT] = {
    [P_STRATEGY] = {"strategy", TACK_SETTING_STRING, 1, "the name of a strategies entry",
                    "strategy = \"cross\";"},
    [P_PARAM] = {"param", TACK_SETTING_STRING, 1, "the name of one of its plugin's parameters",
                 "param = \"fast\";"},
    [P_FROM] = {"from", TACK_SETTING_INT | TACK_SETTING_FLOAT, 0, "a number", "from = 5;"},
    [P_TO] = {"to", TACK_SETTING_INT | TACK_SETTING_FLOAT, 0, "a number", "to = 20;"},
    [P_STEP] = {"step", TACK_SETTING_INT | TACK_SETTING_FLOAT, 0, "a number", "step = 5;"},
    [P_VALUES] = {"values", TACK_SETTING_ARRAY | TACK_SETTING_LIST, 0, "an array of numbers",
                  "values = [ 20, 30, 50 ];"},
};

enum { W_TRAIN, W_TEST, W_STEP, W_ANCHORED, W_COUNT };
static const tack_key_spec wf_keys[W_COUNT] = {
    [W_TRAIN] = {"train", TACK_SETTING_STRING | TACK_SETTING_INT, 1,
                 "a duration such as \"60d\" (s, m, h, d, w) or seconds", "train = \"60d\";"},
    [W_TEST] = {"test", TACK_SETTING_STRING | TACK_SETTING_INT, 1,
                "a duration such as \"20d\" (s, m, h, d, w) or seconds", "test = \"20d\";"},
    [W_STEP] = {"step", TACK_SETTING_STRING | TACK_SETTING_INT, 0,
                "a duration such as \"20d\" (s, m, h, d, w) or seconds", "step = \"20d\";"},
    [W_ANCHORED] = {"anchored", TACK_SETTING_BOOL, 0, "true or false", "anchored = false;"},
};

static void check_objective(tack_checker *ck, const config_setting_t *s) {
  const char *name = config_setting_get_string(s);
  const tack_opt_metric *mt = tack_opt_metric_find(name);
  if (mt && mt->direction)
    return;
  tack_suggest sg;
  tack_suggest_init(&sg, name);
  for (size_t i = 0; i < N_METRICS; i++)
    if (metric_table[i].direction)
      tack_suggest_add(&sg, metric_table[i].name);
  if (mt)
    tack_check_problem(ck, s, NULL, "\"%s\" cannot be an objective; use one of: %s", name, sg.list);
  else if (sg.best)
    tack_check_problem(ck, s, NULL, "unknown metric \"%s\" (did you mean '%s'?)", name, sg.best);
  else
    tack_check_problem(ck, s, NULL, "unknown metric \"%s\"; the objectives are: %s", name, sg.list);
}

static void check_int_range(tack_checker *ck, const config_setting_t *s, int64_t lo, int64_t hi,
                            const char *what) {
  int64_t v = tack_setting_int(s);
  if (v < lo || v > hi)
    tack_check_problem(ck, s, NULL, "must be %s from %lld to %lld, got %lld", what, (long long)lo,
                       (long long)hi, (long long)v);
}

static void check_values(tack_checker *ck, const config_setting_t *s) {
  int n = config_setting_length(s);
  if (n == 0)
    tack_check_problem(ck, s, NULL, "must hold at least one value");
  for (int i = 0; i < n; i++) {
    const config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
    if (!is_number(el)) {
      char what[128];
      tack_setting_describe(el, what, sizeof what);
      tack_check_problem(ck, el, NULL, "must be a number, got %s", what);
    } else if (!isfinite(tack_setting_number(el))) {
      tack_check_problem(ck, el, NULL, "must be a finite number");
    }
  }
}

static void check_param(tack_checker *ck, const config_setting_t *el, int grid) {
  const config_setting_t *f[P_COUNT];
  if (!config_setting_is_group(el)) {
    char what[128];
    tack_setting_describe(el, what, sizeof what);
    tack_check_problem(
        ck, el, NULL,
        "must be a group { strategy = \"...\"; param = \"...\"; from = ...; to = ...; "
        "step = ...; } or with values = [ ... ], got %s",
        what);
    return;
  }
  ck->problems += tack_check_keys(ck->d, el, param_keys, P_COUNT, f);
  if (f[P_STRATEGY] && !valid_name(config_setting_get_string(f[P_STRATEGY])))
    tack_check_problem(ck, f[P_STRATEGY], NULL, "\"%.64s\" is not the name of a strategies entry",
                       config_setting_get_string(f[P_STRATEGY]));
  if (f[P_PARAM] && !valid_name(config_setting_get_string(f[P_PARAM])))
    tack_check_problem(ck, f[P_PARAM], NULL, "\"%.64s\" is not a parameter name",
                       config_setting_get_string(f[P_PARAM]));
  if (f[P_VALUES]) {
    check_values(ck, f[P_VALUES]);
    for (int k = P_FROM; k <= P_STEP; k++)
      if (f[k]) {
        tack_check_problem(ck, f[k], NULL,
                           "give either values or a range (from, to, step), not both");
        break;
      }
  }
  if ((f[P_FROM] != NULL) != (f[P_TO] != NULL))
    tack_check_problem(
        ck, el, f[P_FROM] ? "to" : "from",
        "a range needs both from and to (leave both out for the plugin's declared range)");
  for (int k = P_FROM; k <= P_STEP; k++)
    if (f[k] && !isfinite(tack_setting_number(f[k])))
      tack_check_problem(ck, f[k], NULL, "must be a finite number");
  if (f[P_FROM] && f[P_TO] && tack_setting_number(f[P_FROM]) > tack_setting_number(f[P_TO]))
    tack_check_problem(ck, f[P_TO], NULL, "must not be less than from (%g), got %g",
                       tack_setting_number(f[P_FROM]), tack_setting_number(f[P_TO]));
  if (f[P_STEP] && !(tack_setting_number(f[P_STEP]) > 0))
    tack_check_problem(ck, f[P_STEP], NULL, "must be more than 0, got %g",
                       tack_setting_number(f[P_STEP]));
  if (grid && !f[P_VALUES] && !f[P_STEP])
    tack_check_problem(
        ck, el, "step",
        "method = \"grid\" needs the points of each parameter: a step (over from..to, or "
        "the plugin's declared range) or values = [ ... ]");
}

/* The same strategy and param twice. */
static void check_duplicates(tack_checker *ck, const config_setting_t *list) {
  int n = config_setting_length(list);
  for (int i = 0; i < n; i++) {
    const config_setting_t *a = config_setting_get_elem(list, (unsigned)i);
    const char *sa = NULL, *pa = NULL;
    if (!config_setting_is_group(a) || !config_setting_lookup_string(a, "strategy", &sa) ||
        !config_setting_lookup_string(a, "param", &pa))
      continue;
    for (int j = 0; j < i; j++) {
      const config_setting_t *b = config_setting_get_elem(list, (unsigned)j);
      const char *sb = NULL, *pb = NULL;
      if (config_setting_is_group(b) && config_setting_lookup_string(b, "strategy", &sb) &&
          config_setting_lookup_string(b, "param", &pb) && strcmp(sa, sb) == 0 &&
          strcmp(pa, pb) == 0) {
        tack_check_problem(ck, a, NULL, "%s.%s is already searched (line %u)", sa, pa,
                           config_setting_source_line(b));
        break;
      }
    }
  }
}

static void check_walk_forward(tack_checker *ck, const config_setting_t *g) {
  const config_setting_t *f[W_COUNT];
  int64_t v;
  ck->problems += tack_check_keys(ck->d, g, wf_keys, W_COUNT, f);
  for (int k = W_TRAIN; k <= W_STEP; k++)
    if (f[k] && parse_duration(f[k], &v) != 0) {
      char what[128];
      tack_setting_describe(f[k], what, sizeof what);
      tack_check_problem(
          ck, f[k], NULL,
          "must be a duration such as \"60d\", \"12h\" or \"90m\" (s, m, h, d, w), or "
          "seconds, more than 0 and at most 100 years, got %s",
          what);
    }
}

int tack_optimize_check_schema(const config_setting_t *group, const char *file, tack_diag *d) {
  tack_checker ck = {d, file, 0};
  const config_setting_t *f[O_COUNT];
  if (!group || !d)
    return TACK_EINVAL;
  if (!config_setting_is_group(group)) {
    char what[128];
    tack_setting_describe(group, what, sizeof what);
    tack_check_problem(
        &ck, group, NULL,
        "must be a group { objective = \"sharpe\"; params = ( ... ); ... }, got %s (see "
        "docs/optimization.md)",
        what);
    return TACK_ECONFIG;
  }
  ck.problems += tack_check_keys(d, group, opt_keys, O_COUNT, f);
  if (f[O_OBJECTIVE])
    check_objective(&ck, f[O_OBJECTIVE]);
  int grid = 1;
  if (f[O_METHOD]) {
    const char *m = config_setting_get_string(f[O_METHOD]);
    if (strcmp(m, "random") == 0)
      grid = 0;
    else if (strcmp(m, "grid") != 0)
      tack_check_problem(&ck, f[O_METHOD], NULL, "must be \"grid\" or \"random\", got \"%.64s\"",
                         m);
  }
  if (f[O_SAMPLES])
    check_int_range(&ck, f[O_SAMPLES], 1, TACK_OPT_MAX_SETS, "a number of parameter sets");
  if (f[O_SEED] && tack_setting_int(f[O_SEED]) < 0)
    tack_check_problem(&ck, f[O_SEED], NULL, "must be 0 or more, got %lld",
                       (long long)tack_setting_int(f[O_SEED]));
  for (int k = O_SAMPLES; k <= O_SEED; k++)
    if (grid && f[k])
      tack_check_problem(&ck, f[k], NULL,
                         "applies to method = \"random\" only (the method is \"grid\")");
  if (f[O_MIN_TRADES])
    check_int_range(&ck, f[O_MIN_TRADES], 0, INT32_MAX, "a number of trades");
  if (f[O_WORKERS])
    check_int_range(&ck, f[O_WORKERS], 0, MAX_WORKERS, "a number of processes (0: every core)");
  if (f[O_PARAMS]) {
    int n = config_setting_length(f[O_PARAMS]);
    if (n == 0)
      tack_check_problem(&ck, f[O_PARAMS], NULL, "must name at least one parameter to search");
    if (n > TACK_OPT_MAX_PARAMS)
      tack_check_problem(&ck, f[O_PARAMS], NULL, "searches at most %d parameters, got %d",
                         TACK_OPT_MAX_PARAMS, n);
    for (int i = 0; i < n; i++)
      check_param(&ck, config_setting_get_elem(f[O_PARAMS], (unsigned)i), grid);
    check_duplicates(&ck, f[O_PARAMS]);
  }
  if (f[O_WALK_FORWARD])
    check_walk_forward(&ck, f[O_WALK_FORWARD]);
  return ck.problems ? TACK_ECONFIG : 0;
}

/* ------------------------------------------------------------------------ */
/* The spec                                                                  */
/* ------------------------------------------------------------------------ */

void tack_opt_spec_free(tack_opt_spec *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n_params; i++) {
    tack_free(NULL, s->params[i].values);
    s->params[i].values = NULL;
  }
  s->n_params = 0;
}

static int read_param(const config_setting_t *el, tack_opt_param *p) {
  const char *strategy = NULL, *param = NULL;
  config_setting_lookup_string(el, "strategy", &strategy);
  config_setting_lookup_string(el, "param", &param);
  snprintf(p->strategy, sizeof p->strategy, "%s", strategy);
  snprintf(p->param, sizeof p->param, "%s", param);
  p->setting = el;
  const config_setting_t *from = config_setting_get_member(el, "from");
  const config_setting_t *to = config_setting_get_member(el, "to");
  const config_setting_t *step = config_setting_get_member(el, "step");
  const config_setting_t *values = config_setting_get_member(el, "values");
  if (from && to) {
    p->has_range = 1;
    p->from = tack_setting_number(from);
    p->to = tack_setting_number(to);
  }
  if (step)
    p->step = tack_setting_number(step);
  if (values) {
    int n = config_setting_length(values);
    p->values = tack_calloc(NULL, (size_t)n, sizeof *p->values);
    if (!p->values)
      return TACK_ENOMEM;
    for (int i = 0; i < n; i++)
      p->values[i] = tack_setting_number(config_setting_get_elem(values, (unsigned)i));
    p->n_values = (size_t)n;
  }
  return 0;
}

int tack_opt_spec_read(const config_setting_t *group, tack_opt_spec *out) {
  tack_diag scratch = TACK_DIAG_INIT;
  memset(out, 0, sizeof *out);
  int rc = tack_optimize_check_schema(group, NULL, &scratch);
  tack_diag_free(&scratch);
  if (rc)
    return TACK_ECONFIG;
  const char *text = "sharpe";
  config_setting_lookup_string(group, "objective", &text);
  out->objective = tack_opt_metric_find(text);
  out->direction = out->objective->direction;
  if (config_setting_lookup_string(group, "method", &text) && strcmp(text, "random") == 0)
    out->method = TACK_OPT_RANDOM;
  const config_setting_t *s;
  out->samples = 100;
  out->seed = 1;
  out->min_trades = 1;
  if ((s = config_setting_get_member(group, "samples")) != NULL)
    out->samples = (uint32_t)tack_setting_int(s);
  if ((s = config_setting_get_member(group, "seed")) != NULL)
    out->seed = (uint64_t)tack_setting_int(s);
  if ((s = config_setting_get_member(group, "min_trades")) != NULL)
    out->min_trades = (uint64_t)tack_setting_int(s);
  if ((s = config_setting_get_member(group, "workers")) != NULL)
    out->workers = (uint32_t)tack_setting_int(s);
  const config_setting_t *list = config_setting_get_member(group, "params");
  for (int i = 0; i < config_setting_length(list); i++) {
    int rc = read_param(config_setting_get_elem(list, (unsigned)i), &out->params[i]);
    out->n_params++;
    if (rc) {
      tack_opt_spec_free(out);
      return rc;
    }
  }
  const config_setting_t *wf = config_setting_get_member(group, "walk_forward");
  if (wf) {
    out->wf.enabled = 1;
    parse_duration(config_setting_get_member(wf, "train"), &out->wf.train_s);
    parse_duration(config_setting_get_member(wf, "test"), &out->wf.test_s);
    out->wf.step_s = out->wf.test_s;
    if ((s = config_setting_get_member(wf, "step")) != NULL)
      parse_duration(s, &out->wf.step_s);
    int anchored = 0;
    if (config_setting_lookup_bool(wf, "anchored", &anchored))
      out->wf.anchored = anchored;
  }
  return 0;
}

/* "[5, 20]" or "any value" for messages. */
static void range_text(const tack_param_spec *spec, char *buf, size_t cap) {
  if (tack_param_bounded(spec))
    snprintf(buf, cap, "[%g, %g]", spec->min, spec->max);
  else
    snprintf(buf, cap, "no range");
}

static void bind_param(tack_checker *ck, tack_opt_param *p, const tack_config *cfg) {
  const config_setting_t *el = p->setting;
  const config_setting_t *at_strategy = config_setting_get_member(el, "strategy");
  const config_setting_t *at_param = config_setting_get_member(el, "param");
  const tack_cfg_strategy *st = NULL;
  tack_suggest sg;
  tack_suggest_init(&sg, p->strategy);
  for (size_t i = 0; i < cfg->n_strategies; i++) {
    if (strcmp(cfg->strategies[i].inst.name, p->strategy) == 0)
      st = &cfg->strategies[i];
    if (cfg->strategies[i].type == TACK_STRATEGY_PLUGIN)
      tack_suggest_add(&sg, cfg->strategies[i].inst.name);
  }
  if (!st) {
    if (sg.best)
      tack_check_problem(ck, at_strategy, NULL, "no strategies entry \"%s\" (did you mean '%s'?)",
                         p->strategy, sg.best);
    else
      tack_check_problem(ck, at_strategy, NULL,
                         "no strategies entry \"%s\"; the plugin strategies are: %s", p->strategy,
                         sg.count ? sg.list : "(none)");
    return;
  }
  if (st->type != TACK_STRATEGY_PLUGIN) {
    tack_check_problem(
        ck, at_strategy, NULL,
        "strategies.%s is a %s entry: only a plugin strategy's params can be searched (name "
        "one of the entries it composes)",
        p->strategy, tack_config_type_name(st->type));
    return;
  }
  const tack_plugin *plugin = st->inst.plugin;
  if (!plugin) {
    tack_check_problem(ck, at_strategy, NULL,
                       "strategies.%s has no plugin bound (resolve the config first)", p->strategy);
    return;
  }
  const tack_plugin_desc *desc = plugin->desc;
  const tack_param_spec *spec = tack_params_find(desc, p->param);
  if (!spec) {
    tack_suggest ps;
    tack_suggest_init(&ps, p->param);
    for (const tack_param_spec *q = desc->params; q && q->name; q++)
      if (q->type == TACK_PARAM_INT || q->type == TACK_PARAM_DOUBLE)
        tack_suggest_add(&ps, q->name);
    if (ps.best)
      tack_check_problem(ck, at_param, NULL,
                         "plugin %s has no parameter \"%s\" (did you mean '%s'?)", desc->id,
                         p->param, ps.best);
    else
      tack_check_problem(ck, at_param, NULL,
                         "plugin %s has no parameter \"%s\"; its numeric ones are: %s", desc->id,
                         p->param, ps.count ? ps.list : "(none)");
    return;
  }
  if (spec->type != TACK_PARAM_INT && spec->type != TACK_PARAM_DOUBLE) {
    tack_check_problem(
        ck, at_param, NULL,
        "%s is a %s parameter of plugin %s: only int and double parameters can be searched",
        p->param, spec->type == TACK_PARAM_BOOL ? "bool" : "string", desc->id);
    return;
  }
  p->is_int = spec->type == TACK_PARAM_INT;
  char declared[64];
  range_text(spec, declared, sizeof declared);
  int bounded = tack_param_bounded(spec);

  /* Whole numbers for an int parameter. */
  const char *const keys[] = {"from", "to", "step"};
  for (size_t k = 0; p->is_int && k < 3; k++) {
    const config_setting_t *s = config_setting_get_member(el, keys[k]);
    if (s && tack_setting_number(s) != floor(tack_setting_number(s)))
      tack_check_problem(ck, s, NULL,
                         "%s is an int parameter of plugin %s: use a whole number, got %g",
                         p->param, desc->id, tack_setting_number(s));
  }
  const config_setting_t *values = config_setting_get_member(el, "values");
  for (size_t i = 0; i < p->n_values; i++) {
    const config_setting_t *s = config_setting_get_elem(values, (unsigned)i);
    double v = p->values[i];
    if (p->is_int && v != floor(v))
      tack_check_problem(ck, s, NULL,
                         "%s is an int parameter of plugin %s: use a whole number, got %g",
                         p->param, desc->id, v);
    else if (bounded && (v < spec->min || v > spec->max))
      tack_check_problem(ck, s, NULL, "%g is outside the range plugin %s declares for %s, %s", v,
                         desc->id, p->param, declared);
  }
  if (p->has_range && bounded) {
    const config_setting_t *from = config_setting_get_member(el, "from");
    const config_setting_t *to = config_setting_get_member(el, "to");
    if (p->from < spec->min)
      tack_check_problem(ck, from, NULL, "%g is below the range plugin %s declares for %s, %s",
                         p->from, desc->id, p->param, declared);
    if (p->to > spec->max)
      tack_check_problem(ck, to, NULL, "%g is above the range plugin %s declares for %s, %s", p->to,
                         desc->id, p->param, declared);
  }
  if (!p->has_range && !p->n_values) {
    if (!bounded) {
      tack_check_problem(
          ck, el, "from",
          "plugin %s declares no range for %s: give from and to (or values = [ ... ])", desc->id,
          p->param);
      return;
    }
    p->has_range = 1;
    p->from = spec->min;
    p->to = spec->max;
    if (p->is_int && (p->from != floor(p->from) || p->to != floor(p->to))) {
      p->from = ceil(p->from);
      p->to = floor(p->to);
    }
  }
}

int tack_opt_spec_bind(tack_opt_spec *s, const tack_config *cfg, tack_diag *d) {
  tack_checker ck = {d, cfg->path, 0};
  for (size_t i = 0; i < s->n_params; i++)
    bind_param(&ck, &s->params[i], cfg);
  return ck.problems ? TACK_ECONFIG : 0;
}

/* ------------------------------------------------------------------------ */
/* Parameter sets                                                            */
/* ------------------------------------------------------------------------ */

/* A parameter's points: its values, or its range by step. NULL *pts with
 * *n 0 for a continuous range (random search without a step). Counts past
 * TACK_OPT_MAX_SETS are reported as TACK_OPT_MAX_SETS + 1 without making
 * the points. */
static int param_points(const tack_opt_param *p, double **pts, size_t *n) {
  *pts = NULL;
  *n = 0;
  if (p->n_values) {
    *pts = tack_calloc(NULL, p->n_values, sizeof **pts);
    if (!*pts)
      return TACK_ENOMEM;
    memcpy(*pts, p->values, p->n_values * sizeof **pts);
    *n = p->n_values;
    return 0;
  }
  if (!(p->step > 0) || !p->has_range)
    return 0;
  /* The tolerance keeps `to` when (to - from) / step is whole but rounds
   * a hair under. */
  double count = floor((p->to - p->from) / p->step + 1e-9) + 1;
  if (count > (double)TACK_OPT_MAX_SETS) {
    *n = (size_t)TACK_OPT_MAX_SETS + 1;
    return 0;
  }
  size_t c = (size_t)count;
  *pts = tack_calloc(NULL, c, sizeof **pts);
  if (!*pts)
    return TACK_ENOMEM;
  for (size_t k = 0; k < c; k++) {
    double v = p->from + (double)k * p->step;
    v = p->is_int ? floor(v + 0.5) : round_digits(v, GRID_DIGITS);
    (*pts)[k] = v > p->to ? p->to : v;
  }
  *n = c;
  return 0;
}

static void free_points(double **pts, size_t n) {
  for (size_t i = 0; i < n; i++)
    tack_free(NULL, pts[i]);
}

static int grid_sets(const tack_opt_spec *s, double **pts, const size_t *np, double **values,
                     size_t *n_sets, tack_diag *d) {
  size_t total = 1;
  char dims[256];
  size_t len = 0;
  dims[0] = '\0';
  for (size_t i = 0; i < s->n_params; i++) {
    len += (size_t)snprintf(dims + len, len < sizeof dims ? sizeof dims - len : 0, "%s%zu",
                            i ? " x " : "", np[i]);
    if (len >= sizeof dims)
      len = sizeof dims - 1;
    total = np[i] > TACK_OPT_MAX_SETS || total > TACK_OPT_MAX_SETS ? TACK_OPT_MAX_SETS + 1
                                                                   : total * np[i];
  }
  if (total > TACK_OPT_MAX_SETS) {
    tack_diag_add(d, NULL, 0, "optimize.params",
                  "the grid has more than %u parameter sets (%s points): use fewer points, or "
                  "method = \"random\"",
                  TACK_OPT_MAX_SETS, dims);
    return TACK_ECONFIG;
  }
  double *v = tack_calloc(NULL, total * s->n_params, sizeof *v);
  if (!v)
    return TACK_ENOMEM;
  /* Row r: its index in mixed radix, the last parameter varying fastest. */
  for (size_t r = 0; r < total; r++) {
    size_t rest = r;
    for (size_t i = s->n_params; i-- > 0;) {
      v[r * s->n_params + i] = pts[i][rest % np[i]];
      rest /= np[i];
    }
  }
  *values = v;
  *n_sets = total;
  return 0;
}

/* splitmix64 (prng.h): small, fast, and the same sequence everywhere. */
static uint64_t next_random(uint64_t *state) { return tack_splitmix64(state); }

/* Uniform in [0, 1). */
static double next_unit(uint64_t *state) { return (double)(next_random(state) >> 11) * 0x1p-53; }

static uint64_t hash_row(const double *row, size_t n) {
  uint64_t h = UINT64_C(1469598103934665603);
  const unsigned char *b = (const unsigned char *)row;
  for (size_t i = 0; i < n * sizeof *row; i++)
    h = (h ^ b[i]) * UINT64_C(1099511628211);
  return h;
}

static int random_sets(const tack_opt_spec *s, double **pts, const size_t *np, double **values,
                       size_t *n_sets) {
  size_t cap = s->samples, n = 0, slots = 1;
  while (slots < 2 * cap)
    slots <<= 1;
  double *v = tack_calloc(NULL, cap * s->n_params, sizeof *v);
  size_t *table = tack_calloc(NULL, slots, sizeof *table); /* row + 1, 0: empty */
  double row[TACK_OPT_MAX_PARAMS];
  uint64_t state = s->seed;
  if (!v || !table) {
    tack_free(NULL, v);
    tack_free(NULL, table);
    return TACK_ENOMEM;
  }
  for (uint64_t tries = 0; n < cap && tries < (uint64_t)DRAWS_PER_SAMPLE * cap; tries++) {
    for (size_t i = 0; i < s->n_params; i++) {
      const tack_opt_param *p = &s->params[i];
      double u = next_unit(&state);
      if (np[i]) {
        size_t k = (size_t)(u * (double)np[i]);
        row[i] = pts[i][k < np[i] ? k : np[i] - 1];
      } else if (p->is_int) {
        double span = p->to - p->from + 1;
        double k = floor(u * span);
        row[i] = p->from + (k < span ? k : span - 1);
      } else {
        row[i] = round_digits(p->from + u * (p->to - p->from), RANDOM_DIGITS);
        if (row[i] > p->to)
          row[i] = p->to;
      }
    }
    size_t h = (size_t)hash_row(row, s->n_params) & (slots - 1);
    int seen = 0;
    for (; table[h]; h = (h + 1) & (slots - 1))
      if (memcmp(&v[(table[h] - 1) * s->n_params], row, s->n_params * sizeof *row) == 0) {
        seen = 1;
        break;
      }
    if (seen)
      continue;
    table[h] = n + 1;
    memcpy(&v[n * s->n_params], row, s->n_params * sizeof *row);
    n++;
  }
  tack_free(NULL, table);
  *values = v;
  *n_sets = n;
  return 0;
}

int tack_opt_sets(const tack_opt_spec *s, double **values, size_t *n_sets, tack_diag *d) {
  double *pts[TACK_OPT_MAX_PARAMS] = {NULL};
  size_t np[TACK_OPT_MAX_PARAMS] = {0};
  int rc = 0;
  *values = NULL;
  *n_sets = 0;
  if (s->n_params == 0 || s->n_params > TACK_OPT_MAX_PARAMS) {
    tack_diag_add(d, NULL, 0, "optimize.params", "names no parameter to search");
    return TACK_ECONFIG;
  }
  for (size_t i = 0; i < s->n_params; i++) {
    const tack_opt_param *p = &s->params[i];
    if ((rc = param_points(p, &pts[i], &np[i])) != 0)
      goto done;
    if (np[i] == 0 && (s->method == TACK_OPT_GRID || !p->has_range)) {
      tack_diag_add(d, NULL, 0, "optimize.params",
                    "%s.%s has no points to search: give values, or from, to and step", p->strategy,
                    p->param);
      rc = TACK_ECONFIG;
      goto done;
    }
  }
  if (s->method == TACK_OPT_GRID)
    rc = grid_sets(s, pts, np, values, n_sets, d);
  else
    rc = random_sets(s, pts, np, values, n_sets);
done:
  free_points(pts, s->n_params);
  if (rc == TACK_ENOMEM)
    tack_diag_add(d, NULL, 0, NULL, "out of memory while making the parameter sets");
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Windows                                                                   */
/* ------------------------------------------------------------------------ */

int tack_opt_windows(const tack_opt_wf *wf, tack_time from, tack_time to, tack_opt_window **out,
                     size_t *n, tack_diag *d) {
  *out = NULL;
  *n = 0;
  int64_t train = wf->train_s * NS_PER_S, test = wf->test_s * NS_PER_S;
  int64_t step = wf->step_s * NS_PER_S;
  if (from == INT64_MIN || to == INT64_MAX || from >= to) {
    tack_diag_add(d, NULL, 0, NULL,
                  "walk-forward needs the range: give --from and --to (the windows are laid out "
                  "over it)");
    return TACK_EINVAL;
  }
  size_t cap = 16, count = 0;
  tack_opt_window *w = tack_calloc(NULL, cap, sizeof *w);
  if (!w)
    goto nomem;
  for (int64_t k = 0; count < MAX_WINDOWS; k++) {
    tack_opt_window x;
    int64_t shift, start;
    /* Rolling: [from + k*step, + train); anchored: [from, from + train + k*step). */
    if (__builtin_mul_overflow(k, step, &shift) ||
        __builtin_add_overflow(from, wf->anchored ? 0 : shift, &start) ||
        __builtin_add_overflow(start, train, &x.train_to) ||
        __builtin_add_overflow(x.train_to, wf->anchored ? shift : 0, &x.train_to))
      break;
    x.train_from = start;
    x.test_from = x.train_to;
    if (x.test_from >= to)
      break;
    if (__builtin_add_overflow(x.test_from, test, &x.test_to) || x.test_to > to) {
      /* The last test window, cut at `to`: kept when half of it is left. */
      x.test_to = to;
      if (to - x.test_from < test - test / 2)
        break;
    }
    if (count == cap) {
      tack_opt_window *grown = tack_realloc(NULL, w, 2 * cap * sizeof *w);
      if (!grown)
        goto nomem;
      w = grown;
      cap *= 2;
    }
    w[count++] = x;
    if (x.test_to == to)
      break;
  }
  if (count == 0) {
    tack_free(NULL, w);
    tack_diag_add(d, NULL, 0, NULL,
                  "the range is too short for walk-forward: it needs at least train + half of test "
                  "(%lld s + %lld s), it has %lld s",
                  (long long)wf->train_s, (long long)(wf->test_s - wf->test_s / 2),
                  (long long)((to - from) / NS_PER_S));
    return TACK_EINVAL;
  }
  *out = w;
  *n = count;
  return 0;
nomem:
  tack_free(NULL, w);
  tack_diag_add(d, NULL, 0, NULL, "out of memory while making the walk-forward windows");
  return TACK_ENOMEM;
}

/* ------------------------------------------------------------------------ */
/* Worker processes                                                          */
/* ------------------------------------------------------------------------ */

/* What a worker writes back for each job: fixed size, one write. */
typedef struct wire {
  uint64_t job;
  tack_opt_result result;
} wire;

typedef struct worker {
  pid_t pid;
  int jobs_fd;    /* parent -> worker: job indices */
  int results_fd; /* worker -> parent: wires */
  int64_t job;    /* the job it runs, -1: idle */
} worker;

typedef struct pool {
  const tack_opt_job *jobs;
  tack_opt_result *results;
  size_t n;
  const tack_opt_run_opts *o;
  worker *w;
  size_t n_workers;
  const char *phase; /* for progress lines: "search ", "test " or "" */
} pool;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

static int write_full(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Bytes read, fewer than n at end of file or on an error. */
static size_t read_full(int fd, void *buf, size_t n) {
  char *p = buf;
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  return got;
}

/* A worker's life: jobs in, results out, until the job pipe closes. */
static void worker_main(const pool *pl, int in, int out) {
  signal(SIGINT, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  for (;;) {
    uint64_t idx;
    wire w;
    if (read_full(in, &idx, sizeof idx) != sizeof idx || idx >= pl->n)
      _exit(0);
    memset(&w, 0, sizeof w);
    w.job = idx;
    int rc = pl->o->eval(pl->o->eval_data, &pl->jobs[idx], &w.result.metrics, w.result.msg,
                         sizeof w.result.msg);
    w.result.msg[sizeof w.result.msg - 1] = '\0';
    w.result.rc = rc;
    w.result.status = rc == 0              ? TACK_OPT_OK
                      : rc == TACK_ECONFIG ? TACK_OPT_REFUSED
                                           : TACK_OPT_FAILED;
    if (write_full(out, &w, sizeof w) != 0)
      _exit(1);
  }
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static void reap(worker *w, int *status) {
  int st = 0;
  if (w->pid > 0) {
    while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
      ;
    w->pid = 0;
  }
  if (status)
    *status = st;
}

/* Kill and reap every worker still there. */
static void stop_all(pool *pl) {
  for (size_t i = 0; i < pl->n_workers; i++) {
    worker *w = &pl->w[i];
    close_fd(&w->jobs_fd);
    close_fd(&w->results_fd);
    if (w->pid > 0)
      kill(w->pid, SIGKILL);
    reap(w, NULL);
  }
}

/* "strategies.a.params.x=1 strategies.a.params.y=2, in-sample window 3". */
static void describe_job(const tack_opt_job *j, int wf, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < j->n_overrides && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "", j->overrides[i]);
  if (wf && len < cap)
    snprintf(buf + len, cap - len, ", %s of window %zu", j->out_of_sample ? "test" : "search",
             j->window + 1);
}

static void report_death(pool *pl, size_t wi, int wf, tack_diag *d) {
  worker *w = &pl->w[wi];
  pid_t pid = w->pid;
  int st = 0;
  char how[96], job[512];
  close_fd(&w->results_fd);
  close_fd(&w->jobs_fd);
  reap(w, &st);
  if (WIFSIGNALED(st))
    snprintf(how, sizeof how, "was killed by signal %d (%s)", WTERMSIG(st),
             strsignal(WTERMSIG(st)));
  else if (WIFEXITED(st))
    snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(st));
  else
    snprintf(how, sizeof how, "stopped answering");
  if (w->job >= 0) {
    describe_job(&pl->jobs[w->job], wf, job, sizeof job);
    tack_diag_add(d, NULL, 0, NULL, "worker %zu (pid %d) %s while running job %zu (%s)", wi + 1,
                  (int)pid, how, pl->jobs[w->job].index, job);
  } else {
    tack_diag_add(d, NULL, 0, NULL, "worker %zu (pid %d) %s between jobs", wi + 1, (int)pid, how);
  }
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_line(const pool *pl, size_t done, double t0, double *last) {
  double now = seconds_now();
  if (!pl->o->progress || (done < pl->n && now - *last < 1.0))
    return;
  *last = now;
  double rate = now > t0 ? (double)done / (now - t0) : 0;
  if (done < pl->n && rate > 0)
    fprintf(pl->o->progress, "optimize: %s%zu/%zu jobs, %.1f jobs/s, about %.0f s left\n",
            pl->phase, done, pl->n, rate, (double)(pl->n - done) / rate);
  else
    fprintf(pl->o->progress, "optimize: %s%zu/%zu jobs, %.1f jobs/s\n", pl->phase, done, pl->n,
            rate);
  fflush(pl->o->progress);
}

static int start_workers(pool *pl, tack_diag *d) {
  for (size_t i = 0; i < pl->n_workers; i++) {
    int jp[2], rp[2];
    if (pipe(jp) != 0) {
      tack_diag_add(d, NULL, 0, NULL, "cannot make a pipe for a worker: %s", strerror(errno));
      return TACK_EIO;
    }
    if (pipe(rp) != 0) {
      int err = errno;
      close(jp[0]);
      close(jp[1]);
      tack_diag_add(d, NULL, 0, NULL, "cannot make a pipe for a worker: %s", strerror(err));
      return TACK_EIO;
    }
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0) {
      int err = errno;
      close(jp[0]);
      close(jp[1]);
      close(rp[0]);
      close(rp[1]);
      tack_diag_add(d, NULL, 0, NULL, "cannot start worker %zu: %s", i + 1, strerror(err));
      return TACK_EIO;
    }
    if (pid == 0) {
      /* The other workers' pipes stay with the parent, or their ends
       * would never close. */
      for (size_t k = 0; k < i; k++) {
        close(pl->w[k].jobs_fd);
        close(pl->w[k].results_fd);
      }
      close(jp[1]);
      close(rp[0]);
      worker_main(pl, jp[0], rp[1]);
      _exit(0);
    }
    close(jp[0]);
    close(rp[1]);
    pl->w[i].pid = pid;
    pl->w[i].jobs_fd = jp[1];
    pl->w[i].results_fd = rp[0];
    pl->w[i].job = -1;
  }
  return 0;
}

/* Run jobs[0..n) into results[0..n). */
static int run_pool(const tack_opt_job *jobs, tack_opt_result *results, size_t n,
                    const tack_opt_run_opts *o, const char *phase, int wf, tack_diag *d) {
  pool pl = {jobs, results, n, o, NULL, 0, phase};
  struct sigaction sa, old_int, old_pipe;
  struct pollfd *fds = NULL;
  size_t *owner = NULL;
  size_t next = 0, done = 0;
  int rc = 0;
  if (n == 0)
    return 0;
  pl.n_workers = o->workers < 1 ? 1 : o->workers;
  if (pl.n_workers > n)
    pl.n_workers = n;
  pl.w = tack_calloc(NULL, pl.n_workers, sizeof *pl.w);
  fds = tack_calloc(NULL, pl.n_workers, sizeof *fds);
  owner = tack_calloc(NULL, pl.n_workers, sizeof *owner);
  if (!pl.w || !fds || !owner) {
    tack_free(NULL, pl.w);
    tack_free(NULL, fds);
    tack_free(NULL, owner);
    tack_diag_add(d, NULL, 0, NULL, "out of memory while starting the workers");
    return TACK_ENOMEM;
  }
  for (size_t i = 0; i < pl.n_workers; i++)
    pl.w[i].jobs_fd = pl.w[i].results_fd = -1;

  interrupted = 0;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint; /* no SA_RESTART: poll() returns to look at the flag */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sa.sa_handler = SIG_IGN; /* a dead worker's job pipe: EPIPE, not death */
  sigaction(SIGPIPE, &sa, &old_pipe);

  double t0 = seconds_now(), last = t0;
  if ((rc = start_workers(&pl, d)) != 0)
    goto stop;
  while (done < n) {
    if (interrupted) {
      tack_diag_add(d, NULL, 0, NULL, "interrupted: %zu of %zu %sjobs done; workers stopped", done,
                    n, phase);
      rc = TACK_ECLOSED;
      goto stop;
    }
    size_t nfds = 0;
    for (size_t i = 0; i < pl.n_workers; i++) {
      worker *w = &pl.w[i];
      if (w->job < 0 && next < n) {
        uint64_t idx = next;
        w->job = (int64_t)next++;
        if (write_full(w->jobs_fd, &idx, sizeof idx) != 0) {
          w->job = -1; /* it died after its last answer */
          report_death(&pl, i, wf, d);
          rc = TACK_EPLUGIN;
          goto stop;
        }
      }
      if (w->job >= 0) {
        fds[nfds].fd = w->results_fd;
        fds[nfds].events = POLLIN;
        fds[nfds].revents = 0;
        owner[nfds++] = i;
      }
    }
    int ready = poll(fds, nfds, 1000);
    if (ready < 0 && errno != EINTR) {
      tack_diag_add(d, NULL, 0, NULL, "waiting for the workers: %s", strerror(errno));
      rc = TACK_EIO;
      goto stop;
    }
    for (size_t k = 0; ready > 0 && k < nfds; k++) {
      if (!fds[k].revents)
        continue;
      worker *w = &pl.w[owner[k]];
      wire msg;
      if (read_full(w->results_fd, &msg, sizeof msg) != sizeof msg || msg.job != (uint64_t)w->job) {
        if (interrupted)
          break; /* killed by the same SIGINT: not the job's fault */
        report_death(&pl, owner[k], wf, d);
        rc = TACK_EPLUGIN;
        goto stop;
      }
      results[w->job] = msg.result;
      if (msg.result.status == TACK_OPT_FAILED) {
        char job[512];
        describe_job(&jobs[w->job], wf, job, sizeof job);
        tack_diag_add(d, NULL, 0, NULL, "job %zu (%s) failed: %s", jobs[w->job].index, job,
                      msg.result.msg[0] ? msg.result.msg : tack_strerror(msg.result.rc));
        rc = TACK_EPLUGIN;
        goto stop;
      }
      w->job = -1;
      done++;
    }
    progress_line(&pl, done, t0, &last);
  }
  /* Done: closing the job pipes ends every worker. */
  for (size_t i = 0; i < pl.n_workers; i++)
    close_fd(&pl.w[i].jobs_fd);
  for (size_t i = 0; i < pl.n_workers; i++) {
    close_fd(&pl.w[i].results_fd);
    reap(&pl.w[i], NULL);
  }
stop:
  stop_all(&pl);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGPIPE, &old_pipe, NULL);
  tack_free(NULL, pl.w);
  tack_free(NULL, fds);
  tack_free(NULL, owner);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Running and ranking                                                       */
/* ------------------------------------------------------------------------ */

/* Whether job a's result beats job b's: the better objective, then the
 * lower job index. Both are eligible. */
static int better(const tack_opt_report *r, size_t a, size_t b) {
  double x = r->results[a].objective, y = r->results[b].objective;
  if (x != y)
    return r->spec->direction == TACK_OPT_MINIMIZE ? x < y : x > y;
  return a < b;
}

static void judge(const tack_opt_spec *s, tack_opt_result *res) {
  res->objective = NAN;
  res->eligible = 0;
  if (res->status != TACK_OPT_OK)
    return;
  res->objective = tack_opt_metric_value(s->objective, &res->metrics);
  res->eligible = res->metrics.trades >= s->min_trades && !isnan(res->objective);
}

/* Ranked plain search: merge sort of the eligible jobs (stable, no
 * qsort context needed). */
static void rank_sort(const tack_opt_report *r, size_t *a, size_t *tmp, size_t n) {
  if (n < 2)
    return;
  size_t h = n / 2;
  rank_sort(r, a, tmp, h);
  rank_sort(r, a + h, tmp, n - h);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n)
    tmp[k++] = better(r, a[j], a[i]) ? a[j++] : a[i++];
  while (i < h)
    tmp[k++] = a[i++];
  while (j < n)
    tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof *a);
}

static int make_overrides(tack_opt_report *r, tack_diag *d) {
  const tack_opt_spec *s = r->spec;
  r->overrides = tack_calloc(NULL, r->n_sets * s->n_params, sizeof *r->overrides);
  if (!r->overrides)
    goto nomem;
  for (size_t k = 0; k < r->n_sets; k++)
    for (size_t i = 0; i < s->n_params; i++) {
      char buf[TACK_OPT_NAME_MAX * 2 + 96];
      tack_opt_override_text(&s->params[i], r->values[k * s->n_params + i], buf, sizeof buf);
      if (!(r->overrides[k * s->n_params + i] = tack_strdup(NULL, buf)))
        goto nomem;
    }
  return 0;
nomem:
  tack_diag_add(d, NULL, 0, NULL, "out of memory while making the parameter sets");
  return TACK_ENOMEM;
}

static void set_job(tack_opt_report *r, size_t idx, size_t set, size_t window, int oos) {
  const tack_opt_spec *s = r->spec;
  tack_opt_job *j = &r->jobs[idx];
  const tack_opt_window *w = &r->windows[window];
  j->index = idx;
  j->set = set;
  j->window = window;
  j->out_of_sample = oos;
  j->from = oos ? w->test_from : w->train_from;
  j->to = oos ? w->test_to : w->train_to;
  j->values = &r->values[set * s->n_params];
  j->overrides = (const char *const *)&r->overrides[set * s->n_params];
  j->n_overrides = s->n_params;
}

/* The objective, per day of the job's range for one that grows with it. */
static double comparable(const tack_opt_report *r, size_t job) {
  double v = r->results[job].objective;
  if (!r->spec->objective->grows_with_time)
    return v;
  const tack_opt_job *j = &r->jobs[job];
  double days = (double)(j->to - j->from) / (86400.0 * 1e9);
  return days > 0 ? v / days : NAN;
}

static void walk_forward_summary(tack_opt_report *r) {
  double is_sum = 0, oos_sum = 0, compound = 1;
  size_t n = 0;
  for (size_t w = 0; w < r->n_windows; w++) {
    tack_opt_wf_row *row = &r->rows[w];
    if (!row->has_choice)
      continue;
    const tack_opt_result *t = &r->results[row->test_job];
    row->oos_objective = t->status == TACK_OPT_OK ? t->objective : NAN;
    if (t->status != TACK_OPT_OK)
      continue;
    double ret = t->metrics.total_return;
    r->oos_trades += t->metrics.trades;
    if (isfinite(ret)) {
      r->oos_return_sum += ret;
      compound *= 1 + ret;
    }
    double a = comparable(r, row->chosen_job), b = comparable(r, row->test_job);
    if (isfinite(a) && isfinite(b)) {
      is_sum += a;
      oos_sum += b;
      n++;
    }
  }
  r->n_tested = n;
  r->oos_return_compound = compound - 1;
  r->is_mean = n ? is_sum / (double)n : NAN;
  r->oos_mean = n ? oos_sum / (double)n : NAN;
  size_t with_return = 0;
  for (size_t w = 0; w < r->n_windows; w++)
    if (r->rows[w].has_choice && r->results[r->rows[w].test_job].status == TACK_OPT_OK &&
        isfinite(r->results[r->rows[w].test_job].metrics.total_return))
      with_return++;
  r->oos_return_mean = with_return ? r->oos_return_sum / (double)with_return : NAN;
  /* A ratio of two negatives would read as success: only against a
   * positive in-sample mean. */
  r->efficiency = n && r->is_mean > 0 ? r->oos_mean / r->is_mean : NAN;
  r->degradation = n ? r->oos_mean - r->is_mean : NAN;
}

/* The first refusal's message, for "every set was refused". */
static const char *first_refusal(const tack_opt_report *r, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (r->results[k].status == TACK_OPT_REFUSED)
      return r->results[k].msg[0] ? r->results[k].msg : tack_strerror(r->results[k].rc);
  return "";
}

int tack_optimize_run(const tack_opt_spec *s, const tack_opt_run_opts *o, tack_opt_report *out,
                      tack_diag *d) {
  tack_opt_report *r = out;
  int rc;
  memset(r, 0, sizeof *r);
  r->spec = s;
  r->from = o->from;
  r->to = o->to;
  if (!o->eval || !s->objective) {
    tack_diag_add(d, NULL, 0, NULL, "optimize: no evaluator or no objective");
    return TACK_EINVAL;
  }
  if ((rc = tack_opt_sets(s, &r->values, &r->n_sets, d)) != 0)
    return rc;
  if ((rc = make_overrides(r, d)) != 0)
    return rc;
  if (s->wf.enabled) {
    if ((rc = tack_opt_windows(&s->wf, o->from, o->to, &r->windows, &r->n_windows, d)) != 0)
      return rc == TACK_EINVAL ? TACK_ECONFIG : rc;
    r->rows = tack_calloc(NULL, r->n_windows, sizeof *r->rows);
  } else {
    r->windows = tack_calloc(NULL, 1, sizeof *r->windows);
    if (r->windows) {
      r->n_windows = 1;
      r->windows[0].train_from = o->from;
      r->windows[0].train_to = o->to;
      r->windows[0].test_from = r->windows[0].test_to = o->to;
    }
  }
  size_t n_search = r->n_windows * r->n_sets;
  size_t n_total = n_search + (s->wf.enabled ? r->n_windows : 0);
  r->jobs = tack_calloc(NULL, n_total, sizeof *r->jobs);
  r->results = tack_calloc(NULL, n_total, sizeof *r->results);
  if (!r->windows || (s->wf.enabled && !r->rows) || !r->jobs || !r->results) {
    tack_diag_add(d, NULL, 0, NULL, "out of memory while making the jobs");
    return TACK_ENOMEM;
  }
  for (size_t w = 0; w < r->n_windows; w++)
    for (size_t k = 0; k < r->n_sets; k++)
      set_job(r, w * r->n_sets + k, k, w, 0);
  r->n_jobs = n_search;

  if ((rc = run_pool(r->jobs, r->results, n_search, o, s->wf.enabled ? "search " : "",
                     s->wf.enabled, d)) != 0)
    return rc;
  size_t refused = 0;
  for (size_t k = 0; k < n_search; k++) {
    judge(s, &r->results[k]);
    refused += r->results[k].status == TACK_OPT_REFUSED;
  }
  if (refused == n_search) {
    tack_diag_add(d, NULL, 0, NULL, "every parameter set was refused; the first: %s",
                  first_refusal(r, n_search));
    return TACK_ECONFIG;
  }

  if (!s->wf.enabled) {
    r->ranked = tack_calloc(NULL, n_search, sizeof *r->ranked);
    size_t *tmp = tack_calloc(NULL, n_search, sizeof *tmp);
    if (!r->ranked || !tmp) {
      tack_free(NULL, tmp);
      tack_diag_add(d, NULL, 0, NULL, "out of memory while ranking");
      return TACK_ENOMEM;
    }
    for (size_t k = 0; k < n_search; k++) {
      if (r->results[k].eligible)
        r->ranked[r->n_ranked++] = k;
      else if (r->results[k].status == TACK_OPT_REFUSED)
        r->n_refused++;
      else
        r->n_ineligible++;
    }
    rank_sort(r, r->ranked, tmp, r->n_ranked);
    tack_free(NULL, tmp);
    return 0;
  }

  /* Walk-forward: each window's best in-sample set, then its test. */
  size_t n_tests = 0;
  for (size_t w = 0; w < r->n_windows; w++) {
    tack_opt_wf_row *row = &r->rows[w];
    row->window = r->windows[w];
    row->is_objective = row->oos_objective = NAN;
    for (size_t k = 0; k < r->n_sets; k++) {
      size_t job = w * r->n_sets + k;
      const tack_opt_result *res = &r->results[job];
      row->refused += res->status == TACK_OPT_REFUSED;
      if (!res->eligible)
        continue;
      row->eligible++;
      if (!row->has_choice || better(r, job, row->chosen_job)) {
        row->has_choice = 1;
        row->chosen_job = job;
      }
    }
    if (row->has_choice) {
      row->is_objective = r->results[row->chosen_job].objective;
      row->test_job = n_search + n_tests++;
      set_job(r, row->test_job, r->jobs[row->chosen_job].set, w, 1);
    }
  }
  r->n_jobs = n_search + n_tests;
  rc = run_pool(r->jobs + n_search, r->results + n_search, n_tests, o, "test ", 1, d);
  if (rc)
    return rc;
  for (size_t k = n_search; k < r->n_jobs; k++)
    judge(s, &r->results[k]);
  walk_forward_summary(r);
  return 0;
}

void tack_opt_report_free(tack_opt_report *r) {
  if (!r)
    return;
  if (r->overrides)
    for (size_t i = 0; i < r->n_sets * r->spec->n_params; i++)
      tack_free(NULL, r->overrides[i]);
  tack_free(NULL, r->overrides);
  tack_free(NULL, r->values);
  tack_free(NULL, r->jobs);
  tack_free(NULL, r->results);
  tack_free(NULL, r->windows);
  tack_free(NULL, r->rows);
  tack_free(NULL, r->ranked);
  memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------------ */
/* The report as text                                                        */
/* ------------------------------------------------------------------------ */

/* A range end as text: a date, or a date and time. */
static void time_text(tack_time t, char *buf, size_t cap) {
  if (t == INT64_MIN || t == INT64_MAX) {
    snprintf(buf, cap, "%s", t == INT64_MIN ? "the start of the data" : "the end of the data");
    return;
  }
  tack_utc_format(t, buf, cap);
  char *midnight = strstr(buf, "T00:00:00Z");
  if (midnight && midnight[10] == '\0')
    *midnight = '\0';
}

static void duration_text(int64_t s, char *buf, size_t cap) {
  static const struct {
    int64_t s;
    const char *unit;
  } units[] = {{7 * 86400, "w"}, {86400, "d"}, {3600, "h"}, {60, "m"}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (s % units[i].s == 0) {
      snprintf(buf, cap, "%lld%s", (long long)(s / units[i].s), units[i].unit);
      return;
    }
  snprintf(buf, cap, "%llds", (long long)s);
}

static int is_fraction(const char *name) {
  static const char *const names[] = {"total_return", "cagr",     "volatility", "max_drawdown",
                                      "exposure",     "win_rate", "var95",      "cvar95"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i]) == 0)
      return 1;
  return 0;
}

static void metric_text(const tack_opt_metric *mt, double v, char *buf, size_t cap) {
  if (isnan(v))
    snprintf(buf, cap, "-");
  else if (isinf(v))
    snprintf(buf, cap, "%sinf", v < 0 ? "-" : "");
  else if (is_fraction(mt->name))
    snprintf(buf, cap, "%.2f%%", v * 100);
  else if (mt->kind != K_DOUBLE)
    snprintf(buf, cap, "%.0f", v);
  else
    snprintf(buf, cap, "%.4g", v);
}

static const char *direction_text(int direction) {
  return direction == TACK_OPT_MINIMIZE ? "lower is better" : "higher is better";
}

/* The columns after the parameters: the objective, then key figures. */
static size_t table_metrics(const tack_opt_spec *s, const tack_opt_metric **out) {
  static const char *const keys[] = {"total_return", "max_drawdown", "sharpe", "trades",
                                     "win_rate"};
  size_t n = 0;
  out[n++] = s->objective;
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strcmp(keys[i], s->objective->name) != 0)
      out[n++] = tack_opt_metric_find(keys[i]);
  return n;
}

static int param_width(const tack_opt_param *p) {
  int w = (int)(strlen(p->strategy) + 1 + strlen(p->param));
  return w < 8 ? 8 : w;
}

static void print_params_header(const tack_opt_spec *s, FILE *out) {
  for (size_t i = 0; i < s->n_params; i++) {
    char h[2 * TACK_OPT_NAME_MAX + 2];
    snprintf(h, sizeof h, "%s.%s", s->params[i].strategy, s->params[i].param);
    fprintf(out, "  %*s", param_width(&s->params[i]), h);
  }
}

static void print_params_row(const tack_opt_spec *s, const double *v, FILE *out) {
  for (size_t i = 0; i < s->n_params; i++) {
    char t[64];
    value_text(&s->params[i], v[i], t, sizeof t);
    fprintf(out, "  %*s", param_width(&s->params[i]), t);
  }
}

/* The chosen set as `tack backtest` options and as config settings. */
static void print_best(const tack_opt_report *r, size_t job, const char *config, FILE *out) {
  const tack_opt_spec *s = r->spec;
  const tack_opt_job *j = &r->jobs[job];
  fprintf(out, "  tack backtest %s", config ? config : "CONFIG");
  for (size_t i = 0; i < s->n_params; i++)
    fprintf(out, " --set %s", j->overrides[i]);
  fputc('\n', out);
  fprintf(out, "  in the config:");
  for (size_t i = 0; i < s->n_params; i++) {
    int first = 1;
    for (size_t k = 0; k < i; k++)
      if (strcmp(s->params[k].strategy, s->params[i].strategy) == 0)
        first = 0;
    if (!first)
      continue;
    fprintf(out, "%s strategies.%s.params:", i ? ";" : "", s->params[i].strategy);
    for (size_t k = i; k < s->n_params; k++) {
      if (strcmp(s->params[k].strategy, s->params[i].strategy) != 0)
        continue;
      char t[64];
      value_text(&s->params[k], j->values[k], t, sizeof t);
      fprintf(out, " %s = %s;", s->params[k].param, t);
    }
  }
  fputc('\n', out);
}

static void print_search(const tack_opt_report *r, const char *config, size_t top, FILE *out) {
  const tack_opt_spec *s = r->spec;
  const tack_opt_metric *cols[8];
  size_t nc = table_metrics(s, cols);
  char a[48], b[48];
  time_text(r->from, a, sizeof a);
  time_text(r->to, b, sizeof b);
  if (r->from == INT64_MIN && r->to == INT64_MAX)
    fprintf(out, "range: all the data\n");
  else
    fprintf(out, "range: %s .. %s\n", a, b);
  fprintf(out, "%5s %6s", "rank", "job");
  print_params_header(s, out);
  for (size_t c = 0; c < nc; c++)
    fprintf(out, "  %12s", cols[c]->name);
  fputc('\n', out);
  size_t shown = top < r->n_ranked ? top : r->n_ranked;
  for (size_t k = 0; k < shown; k++) {
    size_t job = r->ranked[k];
    fprintf(out, "%5zu %6zu", k + 1, job);
    print_params_row(s, r->jobs[job].values, out);
    for (size_t c = 0; c < nc; c++) {
      char t[32];
      metric_text(cols[c], tack_opt_metric_value(cols[c], &r->results[job].metrics), t, sizeof t);
      fprintf(out, "  %12s", t);
    }
    fputc('\n', out);
  }
  fprintf(out, "%zu parameter sets: %zu ranked", r->n_sets, r->n_ranked);
  if (shown < r->n_ranked)
    fprintf(out, " (top %zu shown)", shown);
  if (r->n_ineligible)
    fprintf(out, ", %zu not eligible (fewer than %llu trades, or no %s)", r->n_ineligible,
            (unsigned long long)s->min_trades, s->objective->name);
  if (r->n_refused)
    fprintf(out, ", %zu refused (the first: %s)", r->n_refused, first_refusal(r, r->n_jobs));
  fputc('\n', out);
  if (!r->n_ranked) {
    fprintf(out, "no eligible parameter set\n");
    return;
  }
  char t[32];
  metric_text(s->objective, r->results[r->ranked[0]].objective, t, sizeof t);
  fprintf(out, "best: job %zu, %s %s\n", r->ranked[0], s->objective->name, t);
  print_best(r, r->ranked[0], config, out);
}

static void print_walk_forward(const tack_opt_report *r, const char *config, FILE *out) {
  const tack_opt_spec *s = r->spec;
  const tack_opt_metric *obj = s->objective;
  const tack_opt_metric *ret = tack_opt_metric_find("total_return");
  char is_h[48], oos_h[48];
  snprintf(is_h, sizeof is_h, "search %s", obj->name);
  snprintf(oos_h, sizeof oos_h, "test %s", obj->name);
  fprintf(out, "%3s  %-26s  %-26s", "#", "train", "test");
  print_params_header(s, out);
  fprintf(out, "  %*s  %*s  %11s  %11s\n", (int)strlen(is_h) < 12 ? 12 : (int)strlen(is_h), is_h,
          (int)strlen(oos_h) < 12 ? 12 : (int)strlen(oos_h), oos_h, "test return", "test trades");
  int wi = (int)strlen(is_h) < 12 ? 12 : (int)strlen(is_h);
  int wo = (int)strlen(oos_h) < 12 ? 12 : (int)strlen(oos_h);
  size_t last = SIZE_MAX;
  for (size_t w = 0; w < r->n_windows; w++) {
    const tack_opt_wf_row *row = &r->rows[w];
    char a[32], b[32], c[32], e[32], train[72], test[72];
    time_text(row->window.train_from, a, sizeof a);
    time_text(row->window.train_to, b, sizeof b);
    time_text(row->window.test_from, c, sizeof c);
    time_text(row->window.test_to, e, sizeof e);
    snprintf(train, sizeof train, "%s .. %s", a, b);
    snprintf(test, sizeof test, "%s .. %s", c, e);
    fprintf(out, "%3zu  %-26s  %-26s", w + 1, train, test);
    if (!row->has_choice) {
      fprintf(out, "  no eligible set (%zu refused, %zu not eligible)\n", row->refused,
              r->n_sets - row->refused);
      continue;
    }
    last = w;
    const tack_opt_result *t = &r->results[row->test_job];
    char is[32], oos[32], rt[32], tr[32];
    print_params_row(s, r->jobs[row->chosen_job].values, out);
    metric_text(obj, row->is_objective, is, sizeof is);
    if (t->status == TACK_OPT_OK) {
      metric_text(obj, row->oos_objective, oos, sizeof oos);
      metric_text(ret, t->metrics.total_return, rt, sizeof rt);
      snprintf(tr, sizeof tr, "%llu", (unsigned long long)t->metrics.trades);
    } else {
      snprintf(oos, sizeof oos, "refused");
      snprintf(rt, sizeof rt, "-");
      snprintf(tr, sizeof tr, "-");
    }
    fprintf(out, "  %*s  %*s  %11s  %11s\n", wi, is, wo, oos, rt, tr);
  }
  char sum[32], comp[32], mean[32];
  metric_text(ret, r->oos_return_sum, sum, sizeof sum);
  metric_text(ret, r->oos_return_compound, comp, sizeof comp);
  metric_text(ret, r->oos_return_mean, mean, sizeof mean);
  fprintf(out,
          "out-of-sample, %zu windows tested: return sum %s, compounded %s, mean %s per window; "
          "%llu trades\n",
          r->n_tested, sum, comp, mean, (unsigned long long)r->oos_trades);
  char im[32], om[32];
  char eff[64];
  snprintf(im, sizeof im, "%.4g", r->is_mean);
  snprintf(om, sizeof om, "%.4g", r->oos_mean);
  if (isnan(r->efficiency))
    snprintf(eff, sizeof eff, "n/a (needs a positive in-sample mean)");
  else
    snprintf(eff, sizeof eff, "%.3g (out-of-sample / in-sample)", r->efficiency);
  fprintf(out,
          "%s%s: in-sample mean %s, out-of-sample mean %s; walk-forward efficiency %s, "
          "difference %.4g\n",
          obj->name, obj->grows_with_time ? " per day" : "", im, om, eff, r->degradation);
  if (last == SIZE_MAX) {
    fprintf(out, "no window had an eligible parameter set\n");
    return;
  }
  fprintf(out, "latest choice (window %zu, the one to trade next):\n", last + 1);
  print_best(r, r->rows[last].chosen_job, config, out);
}

void tack_opt_report_print(const tack_opt_report *r, const char *config, size_t top, FILE *out) {
  const tack_opt_spec *s = r->spec;
  fprintf(out, "optimize %s: ", config ? config : "");
  if (s->wf.enabled) {
    char tr[32], te[32], st[32];
    duration_text(s->wf.train_s, tr, sizeof tr);
    duration_text(s->wf.test_s, te, sizeof te);
    duration_text(s->wf.step_s, st, sizeof st);
    fprintf(out, "walk-forward over %zu windows (train %s, test %s, step %s, %s), ", r->n_windows,
            tr, te, st, s->wf.anchored ? "anchored" : "rolling");
  }
  if (s->method == TACK_OPT_GRID)
    fprintf(out, "grid of %zu parameter sets", r->n_sets);
  else
    fprintf(out, "random search of %zu parameter sets (seed %llu)", r->n_sets,
            (unsigned long long)s->seed);
  fprintf(out, "; objective %s (%s), min_trades %llu\n", s->objective->name,
          direction_text(s->direction), (unsigned long long)s->min_trades);
  if (s->wf.enabled)
    print_walk_forward(r, config, out);
  else
    print_search(r, config, top, out);
}

/* ------------------------------------------------------------------------ */
/* The report as JSON                                                        */
/* ------------------------------------------------------------------------ */

/* A number, or null when it is not finite (JSON has no NaN). */
static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *jtime(tack_time t) {
  char buf[48];
  if (t == INT64_MIN || t == INT64_MAX)
    return json_null();
  tack_utc_format(t, buf, sizeof buf);
  return json_string(buf);
}

/* json_object_set_new() that remembers a failure. */
static void put(json_t *obj, const char *key, json_t *v, int *failed) {
  if (!v || json_object_set_new(obj, key, v) != 0)
    *failed = 1;
}

static void append(json_t *arr, json_t *v, int *failed) {
  if (!v || json_array_append_new(arr, v) != 0)
    *failed = 1;
}

static json_t *json_param_value(const tack_opt_param *p, double v) {
  return p->is_int ? json_integer((json_int_t)v) : jnum(v);
}

static json_t *json_set(const tack_opt_spec *s, const double *v, int *failed) {
  json_t *o = json_object();
  for (size_t i = 0; o && i < s->n_params; i++) {
    char key[2 * TACK_OPT_NAME_MAX + 2];
    snprintf(key, sizeof key, "%s.%s", s->params[i].strategy, s->params[i].param);
    put(o, key, json_param_value(&s->params[i], v[i]), failed);
  }
  return o;
}

static json_t *json_metrics(const tack_bt_metrics *m, int *failed) {
  json_t *o = json_object();
  for (size_t i = 0; o && i < N_METRICS; i++) {
    const tack_opt_metric *mt = &metric_table[i];
    double v = tack_opt_metric_value(mt, m);
    json_t *x;
    if (mt->kind == K_DOUBLE) {
      x = jnum(v);
    } else if (mt->kind == K_U64) {
      uint64_t u;
      memcpy(&u, (const char *)m + mt->offset, sizeof u);
      x = json_integer((json_int_t)u);
    } else if (mt->kind == K_I64) {
      int64_t t;
      memcpy(&t, (const char *)m + mt->offset, sizeof t);
      x = json_integer((json_int_t)t);
    } else {
      x = json_integer((json_int_t)v);
    }
    put(o, mt->name, x, failed);
  }
  return o;
}

static const char *status_name(uint32_t status) {
  return status == TACK_OPT_OK ? "ok" : status == TACK_OPT_REFUSED ? "refused" : "failed";
}

static json_t *json_spec(const tack_opt_report *r, const char *config, int *failed) {
  const tack_opt_spec *s = r->spec;
  json_t *o = json_object();
  if (!o)
    return NULL;
  put(o, "config", json_string(config ? config : ""), failed);
  put(o, "objective", json_string(s->objective->name), failed);
  put(o, "direction", json_string(s->direction == TACK_OPT_MINIMIZE ? "minimize" : "maximize"),
      failed);
  put(o, "method", json_string(s->method == TACK_OPT_GRID ? "grid" : "random"), failed);
  if (s->method == TACK_OPT_RANDOM) {
    put(o, "samples", json_integer(s->samples), failed);
    put(o, "seed", json_integer((json_int_t)s->seed), failed);
  }
  put(o, "min_trades", json_integer((json_int_t)s->min_trades), failed);
  put(o, "from", jtime(r->from), failed);
  put(o, "to", jtime(r->to), failed);
  json_t *params = json_array();
  for (size_t i = 0; params && i < s->n_params; i++) {
    const tack_opt_param *p = &s->params[i];
    json_t *x = json_object();
    if (!x) {
      *failed = 1;
      break;
    }
    put(x, "strategy", json_string(p->strategy), failed);
    put(x, "param", json_string(p->param), failed);
    put(x, "type", json_string(p->is_int ? "int" : "double"), failed);
    if (p->n_values) {
      json_t *vals = json_array();
      for (size_t k = 0; vals && k < p->n_values; k++)
        append(vals, json_param_value(p, p->values[k]), failed);
      put(x, "values", vals, failed);
    } else {
      put(x, "from", json_param_value(p, p->from), failed);
      put(x, "to", json_param_value(p, p->to), failed);
      if (p->step > 0)
        put(x, "step", json_param_value(p, p->step), failed);
    }
    append(params, x, failed);
  }
  put(o, "params", params, failed);
  if (s->wf.enabled) {
    json_t *wf = json_object();
    if (wf) {
      put(wf, "train_s", json_integer(s->wf.train_s), failed);
      put(wf, "test_s", json_integer(s->wf.test_s), failed);
      put(wf, "step_s", json_integer(s->wf.step_s), failed);
      put(wf, "anchored", json_boolean(s->wf.anchored), failed);
    }
    put(o, "walk_forward", wf, failed);
  }
  put(o, "sets", json_integer((json_int_t)r->n_sets), failed);
  return o;
}

static json_t *json_job(const tack_opt_report *r, size_t k, int *failed) {
  const tack_opt_job *j = &r->jobs[k];
  const tack_opt_result *res = &r->results[k];
  json_t *o = json_object();
  if (!o)
    return NULL;
  put(o, "job", json_integer((json_int_t)k), failed);
  put(o, "set", json_integer((json_int_t)j->set), failed);
  if (r->spec->wf.enabled) {
    put(o, "window", json_integer((json_int_t)j->window), failed);
    put(o, "phase", json_string(j->out_of_sample ? "test" : "search"), failed);
  }
  put(o, "params", json_set(r->spec, j->values, failed), failed);
  put(o, "status", json_string(status_name(res->status)), failed);
  put(o, "eligible", json_boolean(res->eligible), failed);
  put(o, "objective", jnum(res->objective), failed);
  if (res->status == TACK_OPT_OK)
    put(o, "metrics", json_metrics(&res->metrics, failed), failed);
  else
    put(o, "message", json_string(res->msg), failed);
  return o;
}

static json_t *json_best(const tack_opt_report *r, size_t job, int *failed) {
  json_t *o = json_object();
  json_t *ov = json_array();
  if (!o || !ov) {
    json_decref(o);
    json_decref(ov);
    return NULL;
  }
  put(o, "job", json_integer((json_int_t)job), failed);
  put(o, "objective", jnum(r->results[job].objective), failed);
  put(o, "params", json_set(r->spec, r->jobs[job].values, failed), failed);
  for (size_t i = 0; i < r->jobs[job].n_overrides; i++)
    append(ov, json_string(r->jobs[job].overrides[i]), failed);
  put(o, "overrides", ov, failed);
  return o;
}

static void json_walk_forward(const tack_opt_report *r, json_t *root, int *failed) {
  json_t *windows = json_array();
  size_t last = SIZE_MAX;
  for (size_t w = 0; windows && w < r->n_windows; w++) {
    const tack_opt_wf_row *row = &r->rows[w];
    json_t *o = json_object();
    if (!o) {
      *failed = 1;
      break;
    }
    put(o, "window", json_integer((json_int_t)w), failed);
    put(o, "train_from", jtime(row->window.train_from), failed);
    put(o, "train_to", jtime(row->window.train_to), failed);
    put(o, "test_from", jtime(row->window.test_from), failed);
    put(o, "test_to", jtime(row->window.test_to), failed);
    put(o, "eligible", json_integer((json_int_t)row->eligible), failed);
    put(o, "refused", json_integer((json_int_t)row->refused), failed);
    if (row->has_choice) {
      last = w;
      put(o, "chosen_job", json_integer((json_int_t)row->chosen_job), failed);
      put(o, "test_job", json_integer((json_int_t)row->test_job), failed);
      put(o, "params", json_set(r->spec, r->jobs[row->chosen_job].values, failed), failed);
      put(o, "in_sample", jnum(row->is_objective), failed);
      put(o, "out_of_sample", jnum(row->oos_objective), failed);
      put(o, "test_return", jnum(r->results[row->test_job].metrics.total_return), failed);
      put(o, "test_trades", json_integer((json_int_t)r->results[row->test_job].metrics.trades),
          failed);
    } else {
      put(o, "chosen_job", json_null(), failed);
    }
    append(windows, o, failed);
  }
  put(root, "windows", windows, failed);
  json_t *sum = json_object();
  if (sum) {
    put(sum, "windows_tested", json_integer((json_int_t)r->n_tested), failed);
    put(sum, "per_day", json_boolean(r->spec->objective->grows_with_time), failed);
    put(sum, "in_sample_mean", jnum(r->is_mean), failed);
    put(sum, "out_of_sample_mean", jnum(r->oos_mean), failed);
    put(sum, "efficiency", jnum(r->efficiency), failed);
    put(sum, "difference", jnum(r->degradation), failed);
    put(sum, "test_return_sum", jnum(r->oos_return_sum), failed);
    put(sum, "test_return_compound", jnum(r->oos_return_compound), failed);
    put(sum, "test_return_mean", jnum(r->oos_return_mean), failed);
    put(sum, "test_trades", json_integer((json_int_t)r->oos_trades), failed);
  }
  put(root, "summary", sum, failed);
  put(root, "best", last == SIZE_MAX ? json_null() : json_best(r, r->rows[last].chosen_job, failed),
      failed);
}

int tack_opt_report_write_json(const tack_opt_report *r, const char *config, FILE *out) {
  int failed = 0;
  json_t *root = json_spec(r, config, &failed);
  if (!root)
    return TACK_ENOMEM;
  json_t *jobs = json_array();
  for (size_t k = 0; jobs && k < r->n_jobs; k++)
    append(jobs, json_job(r, k, &failed), &failed);
  put(root, "jobs", jobs, &failed);
  if (r->spec->wf.enabled) {
    json_walk_forward(r, root, &failed);
  } else {
    json_t *ranked = json_array();
    for (size_t k = 0; ranked && k < r->n_ranked; k++)
      append(ranked, json_integer((json_int_t)r->ranked[k]), &failed);
    put(root, "ranking", ranked, &failed);
    put(root, "refused", json_integer((json_int_t)r->n_refused), &failed);
    put(root, "not_eligible", json_integer((json_int_t)r->n_ineligible), &failed);
    put(root, "best", r->n_ranked ? json_best(r, r->ranked[0], &failed) : json_null(), &failed);
  }
  int rc = 0;
  if (failed)
    rc = TACK_ENOMEM;
  else if (json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0 ||
           fputc('\n', out) == EOF)
    rc = TACK_EIO;
  json_decref(root);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* The backtest evaluator                                                    */
/* ------------------------------------------------------------------------ */

int tack_opt_backtest_eval(void *data, const tack_opt_job *job, tack_bt_metrics *out, char *msg,
                           size_t cap) {
  const tack_opt_bt_eval *e = data;
  tack_diag d = TACK_DIAG_INIT;
  tack_bt_result res;
  tack_bt_opts o;
  size_t n = e->n_overrides + job->n_overrides;
  const char **ov = tack_calloc(NULL, n ? n : 1, sizeof *ov);
  if (!ov) {
    snprintf(msg, cap, "out of memory");
    return TACK_ENOMEM;
  }
  for (size_t i = 0; i < e->n_overrides; i++)
    ov[i] = e->overrides[i];
  for (size_t i = 0; i < job->n_overrides; i++)
    ov[e->n_overrides + i] = job->overrides[i];
  tack_bt_opts_init(&o);
  o.config_path = e->config_path;
  o.plugin_dirs = e->plugin_dirs;
  o.n_plugin_dirs = e->n_plugin_dirs;
  o.overrides = ov;
  o.n_overrides = n;
  o.from = job->from;
  o.to = job->to;
  o.progress = 0;
  o.details = 0;
  /* Hundreds of runs: a job's warnings (an order the end of the data
   * cancelled, prices finer than the tick) would bury the table; its errors
   * still show, and `tack backtest` of one set shows everything. */
  o.log_level = TACK_LOG_ERROR;
  memset(&res, 0, sizeof res);
  int rc = tack_backtest_run(&o, &res, &d);
  if (rc == 0) {
    *out = res.metrics;
  } else {
    if (d.n)
      snprintf(msg, cap, "%s%s", d.msgs[0], d.n > 1 ? " (and more)" : "");
    else
      snprintf(msg, cap, "%s", tack_strerror(rc));
    /* A set the plugin or the config refuses is skipped, not fatal. */
    if (rc == TACK_EINVAL || rc == TACK_ERANGE)
      rc = TACK_ECONFIG;
  }
  tack_bt_result_free(&res);
  tack_diag_free(&d);
  tack_free(NULL, ov);
  return rc;
}
