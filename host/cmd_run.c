/*
 * cmd_run.c: `tack run CONFIG`. Checks the config exactly as `tack check`
 * does (nothing starts from a config with any error), then hands it to the
 * runtime and prints a summary when the run has stopped.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtest.h"
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "report.h"
#include "runtime.h"

#define MAX_PLUGIN_DIRS 64
#define MAX_RUN_SECONDS 31622400.0 /* a year: longer is surely a typo */

static void print_help(FILE *out) {
  fprintf(out, "usage: tack run CONFIG [--plugin-dir DIR]... [--for SECONDS] [--status]\n"
               "                [--report FILE.html] [--json FILE]\n"
               "\n"
               "Run the bot a config describes until it is stopped.\n"
               "\n"
               "The config is checked first, exactly as 'tack check' does: plugins are\n"
               "loaded from each --plugin-dir, then the config's plugin_dirs, then the\n"
               "folders of TACK_PLUGIN_PATH and the default plugin folder; every plugin\n"
               "id, parameter and reference is checked. On any problem every one is\n"
               "printed and nothing starts (exit status 1).\n"
               "\n"
               "Then, on one event loop, every instance the enabled symbols use is\n"
               "created and configured (one exchange instance per exchange; per symbol\n"
               "its strategies and filters), the store is opened and the instances are\n"
               "started and the exchanges connected. Bars go through each symbol's\n"
               "filters and strategies to one signal per symbol, which is logged.\n"
               "\n"
               "With a trading group in the config, each enabled symbol is also traded:\n"
               "when an exchange is up, its account is recovered first (the journal in\n"
               "the store is replayed and reconciled with the venue's open orders,\n"
               "fills, balances and positions; what was found is printed), then the\n"
               "symbols are subscribed. Each signal becomes a target position, and the\n"
               "difference an order that passes the risk gate, is written to the store\n"
               "and sent. See docs/trading.md and docs/recovery.md.\n"
               "\n"
               "The run stops in order on SIGINT or SIGTERM, after --for SECONDS, when\n"
               "every exchange has reached the end of its data, or by the kill switch:\n"
               "strategies stop first; a trading bot then cancels its orders and closes\n"
               "every position (within trading.shutdown's timeout and retries); then\n"
               "the exchanges stop, every instance is destroyed and the store closed.\n"
               "A second SIGINT while stopping exits at once. At exit a summary is\n"
               "printed: per symbol the bars, signals and last signal; for a trading\n"
               "bot each account's equity, P&L, fees, the ledger check, orders and\n"
               "fills; per instance the peak memory and any leak.\n"
               "\n"
               "options:\n"
               "  --plugin-dir DIR  load plugins from DIR first (repeatable)\n"
               "  --for SECONDS     stop after SECONDS (a positive number, e.g. 2.5)\n"
               "  --status          print a compact status every second while bars come:\n"
               "                    per symbol price, signal, position and P&L (redrawn in\n"
               "                    place on a terminal)\n"
               "  --report FILE     when the run has stopped, write its HTML report (as\n"
               "                    'tack backtest --report': metrics, equity, trades)\n"
               "  --json FILE       likewise, the result as JSON\n"
               "  -h, --help        show this help\n"
               "\n"
               "exit status: 0 after an orderly stop, 1 on an error (invalid config, a\n"
               "plugin that failed to start, an exchange that gave up, an interrupted\n"
               "stop), 2 on bad usage, 3 when the stop left positions or orders open.\n");
}

typedef struct run_args {
  const char *config;
  const char *plugin_dirs[MAX_PLUGIN_DIRS];
  size_t n_plugin_dirs;
  uint64_t run_for_ms;
  const char *report;
  const char *json;
  int status;
} run_args;

static int parse_seconds(const char *text, uint64_t *ms) {
  char *end;
  double s = strtod(text, &end);
  if (end == text || *end != '\0' || !isfinite(s) || s <= 0 || s > MAX_RUN_SECONDS)
    return TACK_EINVAL;
  *ms = (uint64_t)ceil(s * 1000.0);
  return 0;
}

static int parse_args(int argc, char **argv, run_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 1; i < argc; i++) {
    const char *v;
    int got;
    if ((got = tack_cli_option(argc, argv, &i, "--plugin-dir", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error("run", "--plugin-dir needs a folder");
      if (a->n_plugin_dirs == MAX_PLUGIN_DIRS)
        return tack_cli_usage_error("run", "at most %d --plugin-dir options", MAX_PLUGIN_DIRS);
      a->plugin_dirs[a->n_plugin_dirs++] = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--report", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error("run", "--report needs a file name");
      a->report = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--json", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error("run", "--json needs a file name");
      a->json = v;
    } else if (strcmp(argv[i], "--status") == 0) {
      a->status = 1;
    } else if ((got = tack_cli_option(argc, argv, &i, "--for", &v)) != 0) {
      if (got < 0 || parse_seconds(v, &a->run_for_ms) != 0)
        return tack_cli_usage_error("run",
                                    "--for needs a positive number of seconds (at most a year), "
                                    "got '%s'",
                                    v);
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return tack_cli_usage_error("run", "unknown option '%s'", argv[i]);
    } else if (a->config) {
      return tack_cli_usage_error("run", "one CONFIG only (got '%s' and '%s')", a->config, argv[i]);
    } else {
      a->config = argv[i];
    }
  }
  if (!a->config)
    return tack_cli_usage_error("run", "missing CONFIG");
  return 0;
}

/* Load and resolve as `tack check` does: --plugin-dir folders, then the
 * config's plugin_dirs, then TACK_PLUGIN_PATH and the default folder.
 * Unreadable folders and refused files are the loader's refusals, printed
 * as warnings (a missing plugin is then an error of resolve); every problem
 * lands in d. */
static int load_config(const run_args *a, tack_loader *ld, tack_config **cfg, tack_diag *d) {
  int rc = tack_config_load(a->config, cfg, d);
  if (rc != 0)
    return rc;
  tack_log_set_level((*cfg)->log_level);
  rc = tack_config_load_plugins(*cfg, a->plugin_dirs, a->n_plugin_dirs, ld, d);
  if (rc != 0)
    return rc;
  tack_loader_print_refusals(ld, stderr);
  tack_instance_set_registry(ld);
  return tack_config_resolve(*cfg, ld, d);
}

/* The run's result (metrics, trades) as a report and/or JSON. */
static int write_result(const run_args *a, const tack_config *cfg, tack_bt_recorder *rec,
                        int status) {
  tack_bt_result res;
  if (tack_bt_recorder_finish(rec, &res) != 0) {
    fprintf(stderr, "tack: run: no result to report (no bar was replayed)\n");
    tack_bt_result_free(&res);
    return TACK_EXIT_FAIL;
  }
  tack_copy_text(res.bot, sizeof res.bot, cfg->name);
  tack_copy_text(res.config, sizeof res.config, a->config);
  tack_copy_text(res.mode, sizeof res.mode, "paper");
  printf("\n");
  tack_bt_print_summary(&res, stdout);
  fflush(stdout);
  if (a->json && tack_bt_result_write_json_file(a->json, &res) != 0)
    status = TACK_EXIT_FAIL;
  if (a->report && tack_report_write_file(a->report, &res, res.bot) != 0)
    status = TACK_EXIT_FAIL;
  if (a->report && status != TACK_EXIT_FAIL)
    printf("report: %s\n", a->report);
  tack_bt_result_free(&res);
  return status;
}

int tack_cmd_run(int argc, char **argv) {
  run_args args;
  tack_diag d = TACK_DIAG_INIT;
  tack_loader *ld = NULL;
  tack_config *cfg = NULL;
  tack_runtime *rt = NULL;
  tack_bt_recorder *rec = NULL;
  int status = TACK_EXIT_FAIL;

  if (tack_cli_wants_help(argc, argv)) {
    print_help(stdout);
    return TACK_EXIT_OK;
  }
  int rc = parse_args(argc, argv, &args);
  if (rc != 0)
    return rc;

  if (tack_loader_new(&ld) != 0) {
    fprintf(stderr, "tack: run: out of memory\n");
    goto done;
  }
  if (load_config(&args, ld, &cfg, &d) != 0) {
    tack_diag_print(&d, stderr);
    fprintf(stderr, "tack: run: %s is not valid; nothing was started\n", args.config);
    goto done;
  }

  tack_runtime_opts opts = {cfg->name, cfg->store_path, 0, args.run_for_ms, 1, 0};
  if (tack_runtime_new(&opts, &rt) != 0) {
    fprintf(stderr, "tack: run: cannot start the host (see the log above)\n");
    goto done;
  }
  if (tack_runtime_build(rt, cfg, &d) != 0) {
    tack_diag_print(&d, stderr);
    fprintf(stderr, "tack: run: %s cannot run; nothing was started\n", args.config);
    goto done;
  }
  if (args.report || args.json || args.status) {
    tack_bt_settings settings;
    tack_backtest_read_settings(config_lookup(&cfg->lc, "backtest"), &settings);
    if (tack_bt_recorder_attach(rt, &settings, 1, &rec) != 0) {
      fprintf(stderr, "tack: run: out of memory\n");
      goto done;
    }
    if (args.status)
      tack_bt_recorder_status(rec, stdout, isatty(STDOUT_FILENO), 1.0);
  }
  rc = tack_runtime_run(rt);
  tack_runtime_print_summary(rt, stdout);
  fflush(stdout);
  if (rc == 0)
    status = TACK_EXIT_OK;
  else if (rc == TACK_EBUSY && tack_runtime_left_open(rt))
    status = TACK_EXIT_LEFT_OPEN;
  else
    status = TACK_EXIT_FAIL;
  if (rec && (args.report || args.json) && status != TACK_EXIT_FAIL)
    status = write_result(&args, cfg, rec, status);

done:
  /* Instances before the config they point into, plugins' code last. */
  tack_bt_recorder_free(rec);
  tack_runtime_free(rt);
  if (cfg)
    tack_config_free(cfg);
  if (ld)
    tack_loader_free(ld);
  tack_diag_free(&d);
  return status;
}
