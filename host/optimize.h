/*
 * optimize.h: `tack optimize` (docs/optimization.md): a search over strategy
 * parameters, each parameter set judged by a backtest, optionally walked
 * forward (searched in-sample, judged out-of-sample, window by window).
 *
 * The steps, each usable alone (tests drive them with a fake evaluator):
 *   tack_optimize_check_schema()  the `optimize` group, at config load
 *   tack_opt_spec_read()          that group into a tack_opt_spec
 *   tack_opt_spec_bind()          its params against the resolved plugins
 *   tack_opt_sets()               the parameter sets (grid or random)
 *   tack_opt_windows()            the walk-forward windows
 *   tack_optimize_run()           every job on worker processes, ranked
 *   tack_opt_report_print() / _write_json()
 *
 * Determinism: the sets, the windows, the jobs and their numbering depend
 * only on the spec and the range; results are kept by job index and ties
 * in the objective go to the lower job index, so the report (and its JSON,
 * byte for byte) is the same whatever the number of workers, provided the
 * evaluator is deterministic (a backtest is).
 */
#ifndef TACK_OPTIMIZE_H
#define TACK_OPTIMIZE_H

#include <libconfig.h>
#include <stdint.h>
#include <stdio.h>

#include "bt_result.h"
#include "config.h"
#include "diag.h"
#include "tack.h"

/* The `optimize` config group, checked by tack_config_load() (every error at
 * its file and line). Params are checked against their plugins later, by
 * tack_opt_spec_bind(). */
int tack_optimize_check_schema(const config_setting_t *group, const char *file, tack_diag *d);

/* ------------------------------------------------------------------------ */
/* Metrics as objectives                                                     */
/* ------------------------------------------------------------------------ */

#define TACK_OPT_MAXIMIZE 1
#define TACK_OPT_MINIMIZE (-1)

/* A field of tack_bt_metrics by name: how to read it and, for those that
 * can be an objective, which way is better. */
typedef struct tack_opt_metric {
  const char *name;    /* as in the JSON of a backtest: "sharpe", "max_drawdown" */
  size_t offset;       /* in tack_bt_metrics */
  int kind;            /* 0 double, 1 uint64_t, 2 int64_t (times, durations), 3 uint32_t */
  int direction;       /* TACK_OPT_MAXIMIZE, TACK_OPT_MINIMIZE, 0: not an objective */
  int grows_with_time; /* a count or a sum over the window (per day for efficiency) */
} tack_opt_metric;

/* Every field, in tack_bt_metrics order; NULL past the end. */
const tack_opt_metric *tack_opt_metric_at(size_t i);
/* By name; NULL when unknown. */
const tack_opt_metric *tack_opt_metric_find(const char *name);
/* The field's value as a double (NaN stays NaN). */
double tack_opt_metric_value(const tack_opt_metric *mt, const tack_bt_metrics *m);

/* ------------------------------------------------------------------------ */
/* The spec                                                                  */
/* ------------------------------------------------------------------------ */

#define TACK_OPT_NAME_MAX 64
/* Most searched parameters. */
#define TACK_OPT_MAX_PARAMS 16
/* Most parameter sets a search may have (a grid larger than this is refused:
 * use random search). */
#define TACK_OPT_MAX_SETS 100000u

/* One searched parameter: an entry of `params`. */
typedef struct tack_opt_param {
  char strategy[TACK_OPT_NAME_MAX]; /* the strategies entry */
  char param[TACK_OPT_NAME_MAX];    /* its plugin's parameter */
  int is_int;                       /* declared TACK_PARAM_INT (set by bind) */
  int has_range;                    /* from and to hold a range (given, or declared after bind) */
  double from, to;
  double step;    /* > 0 when given; 0: none */
  double *values; /* explicit values in the order written, owned; NULL: none */
  size_t n_values;
  /* The entry, for bind's messages; valid while the config lives. */
  const config_setting_t *setting;
} tack_opt_param;

/* Walk-forward: windows of train then test, the next one step later. */
typedef struct tack_opt_wf {
  int enabled;
  int64_t train_s, test_s, step_s; /* seconds; step defaults to test */
  int anchored;                    /* 1: every train window starts at the range's start */
} tack_opt_wf;

#define TACK_OPT_GRID 0
#define TACK_OPT_RANDOM 1

typedef struct tack_opt_spec {
  const tack_opt_metric *objective;
  int direction;       /* the objective's */
  int method;          /* TACK_OPT_GRID or TACK_OPT_RANDOM */
  uint32_t samples;    /* random: sets drawn (distinct), default 100 */
  uint64_t seed;       /* random: default 1 */
  uint64_t min_trades; /* fewer trades: not eligible; default 1 */
  uint32_t workers;    /* 0: one per online core */
  tack_opt_param params[TACK_OPT_MAX_PARAMS];
  size_t n_params;
  tack_opt_wf wf;
} tack_opt_spec;

/* Read a group tack_optimize_check_schema() accepted (defaults for what it
 * leaves out) into *out. Returns 0, TACK_ECONFIG for a group it would
 * refuse (nothing reported: check first) or TACK_ENOMEM. Free with
 * tack_opt_spec_free(). */
int tack_opt_spec_read(const config_setting_t *group, tack_opt_spec *out);
void tack_opt_spec_free(tack_opt_spec *s);

/*
 * Check the params against a resolved config: each names a plugin strategy
 * entry (not a composite, regime or scorer) whose plugin declares the
 * parameter as int or double; a range or values must lie within the
 * declared range; an int parameter takes whole numbers only. An entry
 * without range nor values takes the declared range (random search), and
 * is refused when the plugin declares none. Sets is_int. Every problem goes
 * into d at the entry's file and line. Returns 0 or TACK_ECONFIG.
 */
int tack_opt_spec_bind(tack_opt_spec *s, const tack_config *cfg, tack_diag *d);

/*
 * The parameter sets, n_sets rows of n_params values (*values, owned by the
 * caller: tack_free(NULL, ...)). Grid: every combination, the first
 * parameter varying slowest; a parameter's points are its values, or from,
 * from + step, ... up to to (doubles rounded to 12 significant digits, so
 * 0.1 steps give 0.3, not 0.30000000000000004). Random: samples distinct
 * sets drawn with the seed (an int uniformly among the whole numbers of its
 * range, a double uniformly within it, a parameter with values or a step
 * among its points), in the order drawn; fewer when the space has fewer
 * (drawing stops after 20 x samples tries). Returns 0, TACK_ECONFIG (too
 * many sets, with the count in d) or TACK_ENOMEM.
 */
int tack_opt_sets(const tack_opt_spec *s, double **values, size_t *n_sets, tack_diag *d);

/* "strategies.<strategy>.params.<param>=<value>": an int as an integer, a
 * double as the shortest text that reads back as the same double. */
void tack_opt_override_text(const tack_opt_param *p, double v, char *buf, size_t cap);

/* One walk-forward window: search in [train_from, train_to), judge in
 * [test_from, test_to). Without walk-forward there is one, with the whole
 * range as train and an empty test. */
typedef struct tack_opt_window {
  tack_time train_from, train_to;
  tack_time test_from, test_to;
} tack_opt_window;

/*
 * The windows over [from, to): window k trains on [from + k*step,
 * from + k*step + train) (anchored: from the start, [from, from + train +
 * k*step)) and tests on the test length after it. The last test window is
 * cut at `to`, and kept only when at least half of test remains. Returns 0
 * with *out (owned, tack_free) and *n >= 1, TACK_EINVAL when the range holds
 * no window (the message in d says how long it must be), TACK_ENOMEM.
 */
int tack_opt_windows(const tack_opt_wf *wf, tack_time from, tack_time to, tack_opt_window **out,
                     size_t *n, tack_diag *d);

/* ------------------------------------------------------------------------ */
/* Running                                                                   */
/* ------------------------------------------------------------------------ */

/* One backtest to run: a parameter set over a range. */
typedef struct tack_opt_job {
  size_t index;                 /* its number: results are kept by it */
  size_t set;                   /* row of the sets */
  size_t window;                /* walk-forward window (0 without) */
  int out_of_sample;            /* 1: the test run of the set chosen in window */
  tack_time from, to;           /* INT64_MIN / INT64_MAX: everything */
  const double *values;         /* n_params values of the set */
  const char *const *overrides; /* one per parameter, tack_opt_override_text() */
  size_t n_overrides;
} tack_opt_job;

/*
 * Evaluate one job into *out. Runs in a worker process. Returns 0;
 * TACK_ECONFIG when the set was refused (a plugin's configure() said no,
 * the config is invalid with it): the set is skipped and counted, with
 * msg (NUL-terminated, cut to cap) saying why; any other error fails the
 * whole run, with msg.
 */
typedef int (*tack_opt_eval_fn)(void *data, const tack_opt_job *job, tack_bt_metrics *out,
                                char *msg, size_t cap);

#define TACK_OPT_MSG_MAX 256

/* A job's outcome. */
#define TACK_OPT_OK 0u
#define TACK_OPT_REFUSED 1u /* skipped: the evaluator returned TACK_ECONFIG */
#define TACK_OPT_FAILED 2u  /* fatal: any other error */

typedef struct tack_opt_result {
  uint32_t status;
  int32_t rc;
  int eligible;     /* ok, at least min_trades trades, objective not NaN */
  double objective; /* the objective's value (NaN unless ok) */
  tack_bt_metrics metrics;
  char msg[TACK_OPT_MSG_MAX];
} tack_opt_result;

typedef struct tack_opt_run_opts {
  uint32_t workers;   /* processes forked, >= 1 */
  tack_time from, to; /* INT64_MIN / INT64_MAX: everything (plain search only) */
  tack_opt_eval_fn eval;
  void *eval_data;
  FILE *progress; /* progress lines ("jobs done / total, rate"); NULL: none */
} tack_opt_run_opts;

/* A walk-forward window's outcome. */
typedef struct tack_opt_wf_row {
  tack_opt_window window;
  size_t eligible, refused; /* in-sample sets */
  int has_choice;           /* some set was eligible in-sample */
  size_t chosen_job;        /* the best in-sample job */
  size_t test_job;          /* its out-of-sample job (valid with has_choice) */
  double is_objective, oos_objective;
} tack_opt_wf_row;

typedef struct tack_opt_report {
  const tack_opt_spec *spec; /* borrowed */
  tack_time from, to;
  double *values; /* n_sets x n_params */
  size_t n_sets;
  char **overrides; /* n_sets x n_params texts */
  tack_opt_job *jobs;
  tack_opt_result *results; /* by job index */
  size_t n_jobs;
  tack_opt_window *windows;
  tack_opt_wf_row *rows; /* walk-forward only */
  size_t n_windows;
  size_t *ranked; /* plain search: eligible jobs, best first */
  size_t n_ranked;
  /* Plain search: sets not ranked, refused by the plugin or the config, or
   * run but not eligible (fewer than min_trades trades, objective NaN). */
  size_t n_refused, n_ineligible;
  /* Walk-forward summary, over the windows with a choice whose test ran. */
  size_t n_tested;
  double is_mean, oos_mean;       /* objective (per day for grows_with_time ones) */
  double efficiency, degradation; /* oos_mean / is_mean, oos_mean - is_mean */
  double oos_return_sum, oos_return_compound, oos_return_mean;
  uint64_t oos_trades;
} tack_opt_report;

/*
 * Make the sets and the windows of s over [o->from, o->to) (walk-forward
 * needs both), run every job on o->workers forked processes (the caller
 * holds no LMDB environment open: each job opens what it needs), then rank.
 * Returns 0; TACK_ECONFIG (no set, no window, every set refused: why in d);
 * TACK_EPLUGIN when a job failed or a worker died (which job, and how, in
 * d; every worker is reaped); TACK_ECLOSED when SIGINT stopped the run
 * (workers are killed and reaped); TACK_EIO, TACK_ENOMEM. *out is zeroed
 * first and may hold partial results on error: free it either way.
 */
int tack_optimize_run(const tack_opt_spec *s, const tack_opt_run_opts *o, tack_opt_report *out,
                      tack_diag *d);

/* The ranked table (top rows; plain search) or the windows and the
 * walk-forward summary, then the best parameters as --set options for
 * `tack backtest CONFIG` and as config settings. */
void tack_opt_report_print(const tack_opt_report *r, const char *config, size_t top, FILE *out);

/* Every job, the windows, the summary and the best parameters as JSON
 * (jansson, keys in a fixed order, numbers with 17 significant digits,
 * nothing about the run's own time or workers): the same search gives the
 * same bytes. Returns 0, TACK_EIO or TACK_ENOMEM. */
int tack_opt_report_write_json(const tack_opt_report *r, const char *config, FILE *out);

void tack_opt_report_free(tack_opt_report *r);

/* The evaluator of `tack optimize`: tack_backtest_run() on the config with
 * the user's overrides then the job's, over the job's range, metrics only,
 * no progress, log level warn. data is a tack_opt_bt_eval. */
typedef struct tack_opt_bt_eval {
  const char *config_path;
  const char *const *plugin_dirs;
  size_t n_plugin_dirs;
  const char *const *overrides; /* --set, before the job's own */
  size_t n_overrides;
} tack_opt_bt_eval;
int tack_opt_backtest_eval(void *data, const tack_opt_job *job, tack_bt_metrics *out, char *msg,
                           size_t cap);

#endif
