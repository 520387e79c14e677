/*
 * cmd_optimize.c: `tack optimize CONFIG`: options, help, and the steps from
 * a config to a report: load the config (with --set), resolve its plugins,
 * bind the `optimize` group's params to them, then run the search on
 * worker processes, each job a backtest (optimize.c), and print and write
 * the result. docs/optimization.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cli.h"
#include "config.h"
#include "config_override.h"
#include "diag.h"
#include "instance.h"
#include "loader.h"
#include "optimize.h"
#include "train.h"

#define CMD "optimize"
/* Most ranked rows --top may ask for. */
#define TOP_MAX 100000

static void usage(FILE *out) {
  fprintf(out, "usage: tack optimize CONFIG [--from T] [--to T] [--workers N] [--json FILE]\n"
               "                     [--top N] [--plugin-dir DIR]... [--set PATH=VALUE]...\n"
               "\n"
               "Search strategy parameters by backtests, as the config's optimize group says:\n"
               "the objective (a metric such as sharpe), the method (a grid of every\n"
               "combination, or a seeded random sample), the parameters and their ranges,\n"
               "and optionally walk-forward windows (search on each train window, judge the\n"
               "choice on the test window after it). Each parameter set is a backtest of the\n"
               "config with --set strategies.NAME.params.KEY=VALUE, run on worker processes.\n"
               "A set a plugin refuses (say fast >= slow) is skipped and counted.\n"
               "\n"
               "Printed: progress lines on stderr; the top parameter sets ranked by the\n"
               "objective, or the walk-forward windows and the out-of-sample summary\n"
               "(returns, trades, walk-forward efficiency); then the best parameters as\n"
               "--set options for 'tack backtest' and as config settings. The result is the\n"
               "same whatever the number of workers. docs/optimization.md explains it all.\n"
               "\n"
               "options:\n"
               "  --from T          backtest from T (UTC: 2024-01-01, 2024-01-01T06:00:00Z,\n"
               "                    or UNIX seconds); walk-forward needs --from and --to\n"
               "  --to T            backtest until T (exclusive)\n"
               "  --workers N       worker processes (default: the group's workers; 0 or\n"
               "                    unset: one per core)\n"
               "  --json FILE       write every job, the windows and the best set as JSON\n"
               "  --top N           rows of the ranked table (default 10)\n"
               "  --set PATH=VALUE  change a setting of the config first (repeatable)\n"
               "  --plugin-dir DIR  load plugins from DIR first (repeatable)\n"
               "  -h, --help        show this help\n"
               "\n"
               "exit status: 0 a best parameter set was found, 1 an invalid config or\n"
               "optimize group, a failed backtest or worker, or no eligible set, 2 bad usage\n");
}

typedef struct opt_args {
  const char *config;
  const char **plugin_dirs;
  size_t n_plugin_dirs;
  const char **overrides;
  size_t n_overrides;
  const char *from_text, *to_text, *json;
  tack_time from, to;
  long workers; /* -1: the config's */
  size_t top;
} opt_args;

/* A whole number in [lo, hi], or -1. */
static long count_arg(const char *s, long lo, long hi) {
  char *end;
  long v = strtol(s, &end, 10);
  return (end == s || *end || v < lo || v > hi) ? -1 : v;
}

static int parse_args(int argc, char **argv, opt_args *a) {
  int options = 1;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *v = NULL;
    int got = 0;
    if (options && strcmp(arg, "--") == 0) {
      options = 0;
    } else if (options && (got = tack_cli_option(argc, argv, &i, "--from", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(CMD, "--from needs a time");
      a->from_text = v;
    } else if (options && (got = tack_cli_option(argc, argv, &i, "--to", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(CMD, "--to needs a time");
      a->to_text = v;
    } else if (options && (got = tack_cli_option(argc, argv, &i, "--workers", &v)) != 0) {
      if (got < 0 || (a->workers = count_arg(v, 0, 1024)) < 0)
        return tack_cli_usage_error(CMD, "--workers needs a number from 0 (every core) to 1024");
    } else if (options && (got = tack_cli_option(argc, argv, &i, "--top", &v)) != 0) {
      long top = got < 0 ? -1 : count_arg(v, 1, TOP_MAX);
      if (top < 0)
        return tack_cli_usage_error(CMD, "--top needs a number from 1 to %d", TOP_MAX);
      a->top = (size_t)top;
    } else if (options && (got = tack_cli_option(argc, argv, &i, "--json", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(CMD, "--json needs a file");
      a->json = v;
    } else if (options && (got = tack_cli_option(argc, argv, &i, "--plugin-dir", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(CMD, "--plugin-dir needs a folder");
      a->plugin_dirs[a->n_plugin_dirs++] = v;
    } else if (options && (got = tack_cli_option(argc, argv, &i, "--set", &v)) != 0) {
      if (got < 0 || !strchr(v, '='))
        return tack_cli_usage_error(CMD, "--set needs PATH=VALUE");
      a->overrides[a->n_overrides++] = v;
    } else if (options && arg[0] == '-' && arg[1] != '\0') {
      return tack_cli_usage_error(CMD, "unknown option '%s'", arg);
    } else if (a->config) {
      return tack_cli_usage_error(CMD, "one config at a time ('%s' and '%s' given)", a->config,
                                  arg);
    } else {
      a->config = arg;
    }
  }
  if (!a->config)
    return tack_cli_usage_error(CMD, "no config given");
  a->from = INT64_MIN;
  a->to = INT64_MAX;
  if (a->from_text && tack_train_parse_time(a->from_text, &a->from) != 0)
    return tack_cli_usage_error(CMD,
                                "--from '%s': expected UNIX seconds or a UTC date and time such "
                                "as 2024-01-15 or 2024-01-15T06:00:00Z",
                                a->from_text);
  if (a->to_text && tack_train_parse_time(a->to_text, &a->to) != 0)
    return tack_cli_usage_error(CMD,
                                "--to '%s': expected UNIX seconds or a UTC date and time such as "
                                "2024-01-15 or 2024-01-15T06:00:00Z",
                                a->to_text);
  if (a->from >= a->to)
    return tack_cli_usage_error(CMD, "--from %s is not before --to %s", a->from_text, a->to_text);
  return 0;
}

/* Load, resolve and bind: the spec, with the loader kept open (the
 * workers inherit its plugins). */
static int prepare(const opt_args *a, tack_opt_spec *spec, tack_loader **ld, tack_diag *d) {
  tack_config *cfg = NULL;
  int rc = tack_config_load_with(a->config, a->overrides, a->n_overrides, &cfg, d);
  if (rc)
    return rc;
  const config_setting_t *group = config_lookup(&cfg->lc, "optimize");
  if (!group) {
    tack_diag_add(d, a->config, 0, NULL,
                  "has no optimize group: add optimize = { objective = \"sharpe\"; params = ( "
                  "{ strategy = \"...\"; param = \"...\"; from = ...; to = ...; step = ...; } "
                  "); }; (docs/optimization.md)");
    rc = TACK_ECONFIG;
    goto done;
  }
  if ((rc = tack_loader_new(ld)) != 0) {
    tack_diag_add(d, NULL, 0, NULL, "cannot load plugins: %s", tack_strerror(rc));
    goto done;
  }
  if ((rc = tack_config_load_plugins(cfg, a->plugin_dirs, a->n_plugin_dirs, *ld, d)) != 0)
    goto done;
  tack_instance_set_registry(*ld);
  if ((rc = tack_config_resolve(cfg, *ld, d)) != 0)
    goto done;
  if ((rc = tack_opt_spec_read(group, spec)) != 0) {
    tack_diag_add(d, a->config, 0, "optimize", "cannot read the group: %s", tack_strerror(rc));
    goto done;
  }
  if ((rc = tack_opt_spec_bind(spec, cfg, d)) != 0)
    tack_opt_spec_free(spec);
done:
  tack_config_free(cfg);
  return rc;
}

int tack_cmd_optimize(int argc, char **argv) {
  opt_args a;
  tack_diag d = TACK_DIAG_INIT;
  tack_loader *ld = NULL;
  tack_opt_spec spec;
  tack_opt_report report;
  int status = TACK_EXIT_FAIL, have_spec = 0, rc;

  memset(&a, 0, sizeof a);
  memset(&spec, 0, sizeof spec);
  memset(&report, 0, sizeof report);
  a.workers = -1;
  a.top = 10;
  if (tack_cli_wants_help(argc, argv)) {
    usage(stdout);
    return TACK_EXIT_OK;
  }
  a.plugin_dirs = tack_calloc(NULL, (size_t)argc + 1, sizeof *a.plugin_dirs);
  a.overrides = tack_calloc(NULL, (size_t)argc + 1, sizeof *a.overrides);
  if (!a.plugin_dirs || !a.overrides) {
    fprintf(stderr, "tack: %s: out of memory\n", CMD);
    goto done;
  }
  if (parse_args(argc, argv, &a) != 0) {
    status = TACK_EXIT_USAGE;
    goto done;
  }
  if ((rc = prepare(&a, &spec, &ld, &d)) != 0)
    goto report;
  have_spec = 1;
  if (a.workers >= 0)
    spec.workers = (uint32_t)a.workers;
  if (spec.workers == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    spec.workers = cores > 0 ? (uint32_t)cores : 1;
  }

  tack_opt_bt_eval eval = {a.config, a.plugin_dirs, a.n_plugin_dirs, a.overrides, a.n_overrides};
  tack_opt_run_opts o = {spec.workers, a.from, a.to, tack_opt_backtest_eval, &eval, stderr};
  fprintf(stderr, "optimize: %u worker%s\n", spec.workers, spec.workers == 1 ? "" : "s");
  rc = tack_optimize_run(&spec, &o, &report, &d);
  if (rc)
    goto report;
  tack_opt_report_print(&report, a.config, a.top, stdout);
  fflush(stdout);
  if (a.json) {
    FILE *f = fopen(a.json, "w");
    rc = f ? tack_opt_report_write_json(&report, a.config, f) : TACK_EIO;
    if (f && fclose(f) != 0 && rc == 0)
      rc = TACK_EIO;
    if (rc) {
      tack_diag_add(&d, a.json, 0, NULL, "cannot write the JSON: %s", tack_strerror(rc));
      goto report;
    }
  }
  int found = spec.wf.enabled ? report.n_tested > 0 : report.n_ranked > 0;
  status = found ? TACK_EXIT_OK : TACK_EXIT_FAIL;
  goto done;

report:
  tack_diag_print(&d, stderr);
  fprintf(stderr, "tack: %s: %s: %zu problem%s\n", CMD, a.config, d.n, d.n == 1 ? "" : "s");
done:
  tack_opt_report_free(&report);
  if (have_spec)
    tack_opt_spec_free(&spec);
  tack_loader_free(ld);
  tack_diag_free(&d);
  tack_free(NULL, a.plugin_dirs);
  tack_free(NULL, a.overrides);
  return status;
}
