/*
 * test_strategies_run.c: the stock strategies in the real `tack` binary.
 * `tack run` on the example replay exchange's random walk, every stock
 * strategy on a symbol of its own (one behind Heikin-Ashi, one behind
 * Renko), must log signals ("SYMBOL signal +1.00 (conf ...) reason") and
 * stop cleanly at the end of the data; `tack check` accepts the config and
 * reports a strategy's own parameter check (fast >= slow) with the file and
 * line of the setting.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rt_test_util.h"

static char tmp[256];
static char exe[512];
static char plugins[512];

typedef struct child {
  pid_t pid;
  char out[400];
  char err[400];
} child;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Run tack with args (NULL-terminated); stdout and stderr go to files
 * named after tag. The exit status, or -1 after a minute (then killed). */
static int run_tack(const char *tag, const char *const *args, child *c) {
  const char *argv[8];
  int n = 0, status = 0;
  snprintf(c->out, sizeof c->out, "%s/%s.out", tmp, tag);
  snprintf(c->err, sizeof c->err, "%s/%s.err", tmp, tag);
  argv[n++] = exe;
  for (; args[n - 1] && n < 7; n++)
    argv[n] = args[n - 1];
  argv[n] = NULL;
  fflush(NULL);
  c->pid = fork();
  assert_true(c->pid >= 0);
  if (c->pid == 0) {
    int o = open(c->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(c->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0)
      _exit(127);
    dup2(o, STDOUT_FILENO);
    dup2(e, STDERR_FILENO);
    execv(exe, (char *const *)argv);
    _exit(127);
  }
  for (long waited = 0; waited <= 60000; waited += 10) {
    if (waitpid(c->pid, &status, WNOHANG) == c->pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    sleep_ms(10);
  }
  kill(c->pid, SIGKILL);
  waitpid(c->pid, &status, 0);
  return -1;
}

static void show(const child *c) {
  char cmd[1000];
  snprintf(cmd, sizeof cmd, "cat %s %s >&2", c->out, c->err);
  if (system(cmd) != 0)
    fprintf(stderr, "(could not show the output)\n");
}

static void expect(const child *c, const char *file, const char *needle) {
  if (!rt_file_contains(file, needle)) {
    fprintf(stderr, "%s lacks: %s\n---\n", file, needle);
    show(c);
  }
  assert_true(rt_file_contains(file, needle));
}

/* The symbols, the strategy each one runs and the filter before it. */
static const struct {
  const char *symbol;
  const char *strategy;
  const char *plugin;
  const char *params;
  const char *filter;
  const char *reason; /* a part of the reason its signals give */
} runs[] = {
    {"EMA-USD", "ema", "ema_cross", "fast = 5; slow = 20; mode = \"state\";", NULL, "ema 5 "},
    {"RSI-USD", "rsi", "rsi_reversion", "period = 7;", NULL, "rsi 7 at "},
    {"MACD-USD", "macd", "macd_trend", "", "heikin_ashi", "macd hist "},
    {"BB-USD", "bb", "bollinger", "period = 10; nbdev = 1.5;", NULL, "band"},
    {"DC-USD", "dc", "donchian_breakout", "entry = 10; exit = 5;", NULL, "-bar "},
    {"ST-USD", "st", "supertrend_follow", "period = 7; multiplier = 2.0;", "bricks",
     "supertrend 7x2"},
};

#define N_RUNS (sizeof runs / sizeof runs[0])

static void write_config(const char *path, const char *ema_params) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f,
          "version = 1;\n"
          "name = \"stock\";\n"
          "plugin_dirs = [ \"%s\" ];\n"
          "log = { level = \"info\"; };\n"
          "exchanges = {\n"
          "  replay = {\n"
          "    plugin = \"example.replay\";\n"
          "    params = { symbols = \"",
          plugins);
  for (size_t i = 0; i < N_RUNS; i++)
    fprintf(f, "%s%s", i ? "," : "", runs[i].symbol);
  fprintf(
      f, "\"; seed = 5; bars = 600; timeframe = 60; interval_ms = 0; };\n"
         "  };\n"
         "};\n"
         "filters = {\n"
         "  bricks = { plugin = \"renko\"; params = { mode = \"atr\"; atr_multiplier = 0.5; }; };\n"
         "};\n"
         "strategies = {\n");
  for (size_t i = 0; i < N_RUNS; i++) {
    /* The ema strategy's params may be the test's. */
    const char *params = i == 0 && ema_params ? ema_params : runs[i].params;
    fprintf(f, "  %s = {\n    plugin = \"%s\";\n    timeframe = \"1m\";\n", runs[i].strategy,
            runs[i].plugin);
    if (runs[i].filter)
      fprintf(f, "    filter = \"%s\";\n", runs[i].filter);
    fprintf(f, "    params = { %s };\n  };\n", params);
  }
  fprintf(f, "};\nsymbols = (\n");
  for (size_t i = 0; i < N_RUNS; i++)
    fprintf(f,
            "  { symbol = \"%s\"; exchange = \"replay\"; strategy = \"%s\"; enabled = true; }%s\n",
            runs[i].symbol, runs[i].strategy, i + 1 < N_RUNS ? "," : "");
  fprintf(f, ");\n");
  fclose(f);
}

static void test_run_signals(void **state) {
  (void)state;
  char cfg[400], needle[200];
  child c;
  snprintf(cfg, sizeof cfg, "%s/stock.cfg", tmp);
  write_config(cfg, NULL);

  const char *check[] = {"check", cfg, NULL};
  if (run_tack("check", check, &c) != 0)
    show(&c);
  expect(&c, c.out, "strategy ema (ema_cross 1.0.0) {fast=5, slow=20, mode=\"state\"");

  const char *run[] = {"run", cfg, NULL};
  int rc = run_tack("run", run, &c);
  if (rc != 0)
    show(&c);
  assert_int_equal(rc, 0);
  for (size_t i = 0; i < N_RUNS; i++) {
    snprintf(needle, sizeof needle, "%s signal ", runs[i].symbol);
    expect(&c, c.err, needle);
  }
  /* One full line: a state strategy's first opinion is strength ±1. */
  expect(&c, c.err, "EMA-USD signal ");
  assert_true(rt_file_contains(c.err, "EMA-USD signal +1.00 (conf ") ||
              rt_file_contains(c.err, "EMA-USD signal -1.00 (conf "));
  for (size_t i = 0; i < N_RUNS; i++)
    expect(&c, c.err, runs[i].reason);
  expect(&c, c.out, "strategies.st@ST-USD (supertrend_follow)");
  assert_false(rt_file_contains(c.err, "on_bar failed"));
  /* The summary's memory table says "none" unless something leaked. */
  assert_false(rt_file_contains(c.err, "leaked"));
  assert_false(rt_file_contains(c.out, " block"));
}

/* fast >= slow: refused by ema_cross's configure, at the setting's line. */
static void test_check_reports_param_error(void **state) {
  (void)state;
  char cfg[400], needle[600];
  child c;
  snprintf(cfg, sizeof cfg, "%s/bad.cfg", tmp);
  write_config(cfg, "fast = 30;\n      slow = 20;");
  const char *check[] = {"check", cfg, NULL};
  int rc = run_tack("bad", check, &c);
  if (rc != 1)
    show(&c);
  assert_int_equal(rc, 1);
  /* The ema strategy's group starts on line 15; its params on line 18,
   * slow on the next one. */
  snprintf(needle, sizeof needle,
           "%s:19: strategies.ema.params.slow: must be greater than fast (30), got 20 (plugin "
           "ema_cross)",
           cfg);
  expect(&c, c.err, needle);

  const char *run[] = {"run", cfg, NULL};
  assert_int_equal(run_tack("badrun", run, &c), 1);
  expect(&c, c.err, "must be greater than fast (30)");
}

int main(void) {
  const char *build = getenv("TACK_BUILD_DIR");
  if (!build) {
    fprintf(stderr, "TACK_BUILD_DIR must be set: run through ctest\n");
    return 1;
  }
  snprintf(exe, sizeof exe, "%s/host/tack", build);
  snprintf(plugins, sizeof plugins, "%s/plugins", build);
  if (rt_tmpdir(tmp, sizeof tmp) != 0) {
    fprintf(stderr, "cannot make a temporary folder\n");
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_run_signals),
      cmocka_unit_test(test_check_reports_param_error),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  rt_rmtree(tmp);
  return failed;
}
