/*
 * cmd_ctl.c: `tack ctl`, which sends one command to a running bot through
 * the control socket in its store's folder (control.h) and prints the reply.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "control.h"
#include "diag.h"

static void print_help(FILE *out) {
  fprintf(out, "usage: tack ctl CONFIG COMMAND [ARGS...]\n"
               "\n"
               "Send COMMAND to the bot that CONFIG runs, through the control socket\n"
               "control.sock in the folder of the config's store (only the bot's own\n"
               "user can reach it), and print the bot's one-line reply.\n"
               "\n"
               "commands:\n"
               "  status            positions, orders and fills per traded symbol (JSON)\n"
               "  kill [REASON]     kill switch: cancel orders, close every position, stop\n"
               "  unlock            lift the day's lock set by the daily loss limit or\n"
               "                    the daily profit target\n"
               "  disable SYMBOL    stop trading SYMBOL and close its position\n"
               "  enable SYMBOL     trade SYMBOL again\n"
               "  flatten SYMBOL    close SYMBOL's position and keep trading it\n"
               "  stop [REASON]     an orderly stop, as SIGTERM\n"
               "\n"
               "options:\n"
               "  -h, --help        show this help\n"
               "\n"
               "exit status: 0 when the bot answered ok, 1 when it answered with an\n"
               "error or no bot runs with that store, 2 on bad usage.\n");
}

int tack_cmd_ctl(int argc, char **argv) {
  tack_diag d = TACK_DIAG_INIT;
  tack_config *cfg = NULL;
  char line[TACK_CONTROL_LINE_MAX], reply[1024];
  size_t at = 0;
  int status = TACK_EXIT_FAIL;

  if (tack_cli_wants_help(argc, argv)) {
    print_help(stdout);
    return TACK_EXIT_OK;
  }
  if (argc < 3)
    return tack_cli_usage_error("ctl", argc < 2 ? "missing CONFIG" : "missing COMMAND");
  line[0] = '\0';
  for (int i = 2; i < argc; i++) {
    int n = snprintf(line + at, sizeof line - at, "%s%s", i > 2 ? " " : "", argv[i]);
    if (n < 0 || (size_t)n >= sizeof line - at || strchr(argv[i], '\n'))
      return tack_cli_usage_error("ctl", "the command is longer than %d bytes or has a newline",
                                  TACK_CONTROL_LINE_MAX - 1);
    at += (size_t)n;
  }
  if (tack_config_load(argv[1], &cfg, &d) != 0) {
    tack_diag_print(&d, stderr);
    fprintf(stderr, "tack: ctl: %s is not valid\n", argv[1]);
    goto done;
  }
  if (!cfg->store_path) {
    fprintf(stderr, "tack: ctl: %s names no store, so its bot has no control socket\n", argv[1]);
    goto done;
  }
  int rc = tack_control_send(cfg->store_path, line, reply, sizeof reply);
  if (rc == TACK_ENOENT) {
    fprintf(stderr, "tack: ctl: no bot is running with the store %s (nothing listens on %s/%s)\n",
            cfg->store_path, cfg->store_path, TACK_CONTROL_SOCKET);
  } else if (rc != 0) {
    fprintf(stderr, "tack: ctl: talking to the bot failed: %s\n", tack_strerror(rc));
  } else {
    printf("%s\n", reply);
    status = strncmp(reply, "ok", 2) == 0 ? TACK_EXIT_OK : TACK_EXIT_FAIL;
  }

done:
  if (cfg)
    tack_config_free(cfg);
  tack_diag_free(&d);
  return status;
}
