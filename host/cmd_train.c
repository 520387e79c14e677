/*
 * cmd_train.c: `tack train CONFIG`: the command line of training an ML
 * scorer. The work (config, candles, rows, the worker thread) is train.c's;
 * this file owns the options, the help and the exit status.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "diag.h"
#include "train.h"

#define MAX_PLUGIN_DIRS 64

static const char *const cmd = "train";

static void print_help(void) {
  printf("usage: tack train CONFIG [--scorer NAME] [--store DIR] [--from T] [--to T]\n"
         "                  [--plugin-dir DIR]...\n"
         "\n"
         "Train an ML scorer of CONFIG on candles from the store, as its train group\n"
         "says, and save the model where the scorer's params say (its `model`).\n"
         "\n"
         "The config is checked first, as 'tack check' does. Then the candles of\n"
         "train.symbol and train.timeframe (default: the scorer's smallest timeframe)\n"
         "are read in time order and resampled into every timeframe of the scorer, the\n"
         "scorer's features are computed on them as 'tack run' would, and each row is\n"
         "labelled from the bars that follow it (train.label): with kind \"sign\", 1 when\n"
         "the log return over the next `horizon` bars is above `threshold`, else 0;\n"
         "with kind \"return\", that log return. The rows are split in time, never\n"
         "shuffled: the last `validation` share validates, after a gap of `horizon`\n"
         "bars so that no training label reads a validation bar. The scorer's train()\n"
         "runs on a worker thread. docs/training.md has the details.\n"
         "\n"
         "A report goes to stdout: the candles and bars, the features by name, the\n"
         "rows, the label balance, the split with its dates and the training time.\n"
         "The scorer logs its own validation metrics (stderr).\n"
         "\n"
         "options:\n"
         "  --scorer NAME     train this strategies entry (type = \"scorer\") instead of\n"
         "                    train.scorer\n"
         "  --store DIR       read candles from this store; without it the config's\n"
         "                    store, else the TACK_STORE environment variable, else\n"
         "                    ./var/store\n"
         "  --from T          only candles at or after T (replaces train.from)\n"
         "  --to T            only candles before T (replaces train.to)\n"
         "  --plugin-dir DIR  load plugins from DIR first (repeatable)\n"
         "  -h, --help        show this help\n"
         "\n"
         "T is UNIX seconds (1609459200) or a UTC date and time in ISO-8601:\n"
         "2021-01-01, 2021-01-01T06:00, 2021-01-01T06:00:00Z.\n"
         "\n"
         "exit status: 0 trained and saved; 1 the config, the data or the training\n"
         "failed (every problem is printed); 2 bad usage.\n"
         "\n"
         "example:\n"
         "  tack data import btc_5m.csv --symbol BTC-USD --timeframe 5m --store var/store\n"
         "  tack train configs/ml.cfg --store var/store --from 2021-01-01\n");
}

typedef struct train_args {
  const char *config;
  tack_train_overrides ov;
  const char *dirs[MAX_PLUGIN_DIRS];
} train_args;

/* One option with a value into *slot; 0 when argv[*i] is not it, 1 when
 * taken, TACK_EXIT_USAGE (printed) when wrong. */
static int take(int argc, char **argv, int *i, const char *name, const char **slot) {
  const char *v;
  int got = tack_cli_option(argc, argv, i, name, &v);
  if (got == 0)
    return 0;
  if (got < 0)
    return tack_cli_usage_error(cmd, "%s needs a value", name);
  if (*slot)
    return tack_cli_usage_error(cmd, "%s given twice ('%s' and '%s')", name, *slot, v);
  *slot = v;
  return 1;
}

static int parse_args(int argc, char **argv, train_args *a) {
  memset(a, 0, sizeof *a);
  a->ov.plugin_dirs = a->dirs;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int got;
    if ((got = take(argc, argv, &i, "--scorer", &a->ov.scorer)) != 0 ||
        (got = take(argc, argv, &i, "--store", &a->ov.store)) != 0 ||
        (got = take(argc, argv, &i, "--from", &a->ov.from)) != 0 ||
        (got = take(argc, argv, &i, "--to", &a->ov.to)) != 0) {
      if (got != 1)
        return got;
    } else if ((got = tack_cli_option(argc, argv, &i, "--plugin-dir", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(cmd, "--plugin-dir needs a folder");
      if (a->ov.n_plugin_dirs == MAX_PLUGIN_DIRS)
        return tack_cli_usage_error(cmd, "at most %d --plugin-dir options", MAX_PLUGIN_DIRS);
      a->dirs[a->ov.n_plugin_dirs++] = v;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return tack_cli_usage_error(cmd, "unknown option '%s'", argv[i]);
    } else if (a->config) {
      return tack_cli_usage_error(cmd, "one CONFIG only (got '%s' and '%s')", a->config, argv[i]);
    } else {
      a->config = argv[i];
    }
  }
  if (!a->config)
    return tack_cli_usage_error(cmd, "missing CONFIG");
  const char *times[2] = {a->ov.from, a->ov.to};
  const char *names[2] = {"--from", "--to"};
  for (int k = 0; k < 2; k++) {
    tack_time t;
    if (times[k] && tack_train_parse_time(times[k], &t) != 0)
      return tack_cli_usage_error(cmd,
                                  "%s '%s': expected UNIX seconds or a UTC date and time such as "
                                  "2021-01-01 or 2021-01-01T06:00:00Z",
                                  names[k], times[k]);
  }
  return 0;
}

int tack_cmd_train(int argc, char **argv) {
  train_args a;
  tack_diag d = TACK_DIAG_INIT;
  if (tack_cli_wants_help(argc, argv)) {
    print_help();
    return TACK_EXIT_OK;
  }
  int rc = parse_args(argc, argv, &a);
  if (rc != 0)
    return rc;
  rc = tack_train_run(a.config, &a.ov, stdout, &d);
  fflush(stdout);
  tack_diag_print(&d, stderr);
  tack_diag_free(&d);
  if (rc != 0) {
    fprintf(stderr, "tack: train: nothing was trained from %s\n", a.config);
    return TACK_EXIT_FAIL;
  }
  return TACK_EXIT_OK;
}
