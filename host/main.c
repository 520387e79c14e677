/*
 * main.c: the tack command line. Dispatches to one subcommand; see cli.h
 * and docs/cli.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tack.h"
#include "version.h"

static const tack_command commands[] = {
    {"plugins", "list every plugin found and every file refused, with the reason",
     tack_cmd_plugins},
    {"plugin-info", "show one plugin file: descriptors, parameters, outputs", tack_cmd_plugin_info},
    {"check", "validate a config and print the composed pipeline", tack_cmd_check},
    {"run", "run a config until stopped (SIGINT/SIGTERM) or the data ends", tack_cmd_run},
    {"ctl", "send a command to a running bot (status, kill, unlock, flatten, ...)", tack_cmd_ctl},
    {"calc", "compute an indicator over a CSV of bars", tack_cmd_calc},
    {"filter", "apply a candle filter to a CSV of bars", tack_cmd_filter},
    {"bars", "build bars from trades, or resample bars, to a timeframe", tack_cmd_bars},
    {"data", "import, list, export and synthesize candles in the store", tack_cmd_data},
    {"train", "train an ML scorer on candles from the store", tack_cmd_train},
    {"backtest", "replay a config over stored candles: metrics, trades, JSON and HTML report",
     tack_cmd_backtest},
    {"optimize", "search strategy parameters by backtests, with walk-forward analysis",
     tack_cmd_optimize},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_version(void) {
  printf("tack %s (SDK ABI %d.%d)\n", TACK_VERSION, TACK_ABI_MAJOR, TACK_ABI_MINOR);
}

static void print_help(FILE *out) {
  fprintf(out, "usage: tack [--version] [--help] <command> [<args>]\n\ncommands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n'tack <command> --help' describes a command.\n");
}

int tack_cli_wants_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0)
      return 0;
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
      return 1;
  }
  return 0;
}

int tack_cli_option(int argc, char **argv, int *i, const char *name, const char **value) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
    return 0;
  if (a[n] == '=')
    *value = a + n + 1;
  else if (*i + 1 < argc)
    *value = argv[++*i];
  else
    return -1;
  return **value ? 1 : -1;
}

int tack_cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "tack: %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'tack %s --help'.\n", cmd);
  return TACK_EXIT_USAGE;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    print_help(stderr);
    return TACK_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
    print_version();
    return TACK_EXIT_OK;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    print_help(stdout);
    return TACK_EXIT_OK;
  }
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "tack: unknown command '%s'\n\n", argv[1]);
  print_help(stderr);
  return TACK_EXIT_USAGE;
}
