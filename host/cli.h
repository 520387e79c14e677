/*
 * cli.h: the tack subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit status:
 *   0 success, 1 the command ran and found problems (refused plugins with
 *   --strict, an invalid config, positions left open), 2 bad usage.
 * Every subcommand answers --help.
 */
#ifndef TACK_CLI_H
#define TACK_CLI_H

#include <stdio.h>

#define TACK_EXIT_OK 0
#define TACK_EXIT_FAIL 1
#define TACK_EXIT_USAGE 2
/* tack run: the stop could not close every position or order (the log and
 * the summary say which). */
#define TACK_EXIT_LEFT_OPEN 3

typedef struct tack_command {
  const char *name;
  const char *summary; /* one line for `tack --help` */
  int (*run)(int argc, char **argv);
} tack_command;

int tack_cmd_plugins(int argc, char **argv);
int tack_cmd_plugin_info(int argc, char **argv);
int tack_cmd_check(int argc, char **argv);
int tack_cmd_run(int argc, char **argv);
int tack_cmd_ctl(int argc, char **argv);
int tack_cmd_calc(int argc, char **argv);
int tack_cmd_filter(int argc, char **argv);
int tack_cmd_bars(int argc, char **argv);
int tack_cmd_data(int argc, char **argv);
int tack_cmd_train(int argc, char **argv);
int tack_cmd_backtest(int argc, char **argv);
int tack_cmd_optimize(int argc, char **argv);

/*
 * Whether argv[*i] is option `name`, as "--name VALUE" or "--name=VALUE":
 * 1 with *value set (and *i moved past the value), 0 when argv[*i] is
 * another argument, -1 when the value is missing or empty.
 */
int tack_cli_option(int argc, char **argv, int *i, const char *name, const char **value);

/* True when argv[1..] contains -h or --help. */
int tack_cli_wants_help(int argc, char **argv);

/* Print "tack: <cmd>: message" and a hint to use --help; returns
 * TACK_EXIT_USAGE. */
int tack_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
