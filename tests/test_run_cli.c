/*
 * test_run_cli.c: `tack run` end to end. Runs the real binary
 * ($TACK_BUILD_DIR/host/tack) on small configs that use the fixture plugins
 * (a replay exchange, a filter, a momentum strategy) and checks what a person
 * would see: the signals in the log, the summary, the orderly stop at the end
 * of the data, after --for and on SIGTERM, the store kept across runs,
 * refusals of bad configs before anything starts, a strategy of several
 * timeframes (the order of its bars in the log), a timeframe the exchange
 * cannot provide, configs/demo.cfg with the example plugins, and the
 * composition examples configs/composite.cfg, mtf.cfg and regime.cfg
 * through `tack check` (the tree it prints) and `tack run` (their signals,
 * contributions and regime switches).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rt_test_util.h"

static char tmp[256];
static char exe[512];
static char fixture_dir[512];

static int prepare(void) {
  const char *build = getenv("TACK_BUILD_DIR");
  const char *fixtures = getenv("TACK_FIXTURE_DIR");
  if (!build || !fixtures) {
    fprintf(stderr, "TACK_BUILD_DIR and TACK_FIXTURE_DIR must be set: run through ctest\n");
    return -1;
  }
  snprintf(exe, sizeof exe, "%s/host/tack", build);
  snprintf(fixture_dir, sizeof fixture_dir, "%s/runtime", fixtures);
  return rt_tmpdir(tmp, sizeof tmp);
}

static void cleanup(void) { rt_rmtree(tmp); }

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Write a config; ex_params and st_params go inside the instances' params,
 * tf_setting (`timeframe = "1m";`) on line 15, in the strategy's group. */
static void write_config(const char *path, const char *name, const char *ex_params,
                         const char *tf_setting, const char *st_params) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(
      f,
      "version = 1;\n"
      "name = \"%s\";\n"
      "plugin_dirs = [ \"%s\" ];\n"
      "store = { path = \"%s/store-%s\"; };\n"
      "log = { level = \"info\"; };\n"
      "exchanges = {\n"
      "  replay = { plugin = \"rt.exchange\"; params = { %s }; };\n"
      "};\n"
      "filters = {\n"
      "  dup = { plugin = \"rt.filter\"; };\n"
      "};\n"
      "strategies = {\n"
      "  trend = {\n"
      "    plugin = \"rt.strategy\";\n"
      "    %s\n"
      "    filter = \"dup\";\n"
      "    params = {\n"
      "      %s\n"
      "    };\n"
      "  };\n"
      "};\n"
      "symbols = (\n"
      "  { symbol = \"BTC-USD\"; exchange = \"replay\"; strategy = \"trend\"; },\n"
      "  { symbol = \"ETH-USD\"; exchange = \"replay\"; strategy = \"trend\"; enabled = true; },\n"
      "  { symbol = \"SOL-USD\"; exchange = \"replay\"; strategy = \"trend\"; enabled = false; }\n"
      ");\n",
      name, fixture_dir, tmp, name, ex_params, tf_setting, st_params);
  fclose(f);
}

/* Start tack with args; stdout and stderr go to files named after tag. */
typedef struct child {
  pid_t pid;
  char out[400];
  char err[400];
} child;

static void spawn(child *c, const char *tag, const char *const *args) {
  snprintf(c->out, sizeof c->out, "%s/%s.out", tmp, tag);
  snprintf(c->err, sizeof c->err, "%s/%s.err", tmp, tag);
  const char *argv[16];
  int n = 0;
  argv[n++] = exe;
  for (; args[n - 1] && n < 15; n++)
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
}

/* Exit status, or -1 when it did not exit within limit_ms (then killed). */
static int wait_exit(child *c, long limit_ms) {
  int status = 0;
  for (long waited = 0; waited <= limit_ms; waited += 10) {
    pid_t r = waitpid(c->pid, &status, WNOHANG);
    if (r == c->pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    sleep_ms(10);
  }
  kill(c->pid, SIGKILL);
  waitpid(c->pid, &status, 0);
  return -1;
}

static int run_tack(const char *tag, const char *const *args, child *c) {
  spawn(c, tag, args);
  int rc = wait_exit(c, 60000);
  if (rc != 0) {
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "cat %s %s >&2", c->out, c->err);
    if (system(cmd) != 0)
      fprintf(stderr, "(could not show the output)\n");
  }
  return rc;
}

static void expect(const char *file, const char *needle) {
  if (!rt_file_contains(file, needle)) {
    char cmd[600];
    fprintf(stderr, "%s lacks: %s\n---\n", file, needle);
    snprintf(cmd, sizeof cmd, "cat %s >&2", file);
    if (system(cmd) != 0)
      fprintf(stderr, "(could not show it)\n");
  }
  assert_true(rt_file_contains(file, needle));
}

static void test_runs_to_end_of_data(void **state) {
  (void)state;
  char cfg[400], line[200];
  snprintf(cfg, sizeof cfg, "%s/eod.cfg", tmp);
  write_config(cfg, "eod", "bars = 30; interval_ms = 1;", "timeframe = \"1m\";", "kv = true;");
  const char *args[] = {"run", cfg, NULL};
  child c;
  assert_int_equal(run_tack("eod1", args, &c), 0);
  /* Bar 29 closes at 103 after 100: up. */
  expect(c.err, "BTC-USD signal +0.42 (conf 0.80) momentum up");
  expect(c.err, "ETH-USD signal -0.42 (conf 0.80) momentum down");
  expect(c.err, "[exchanges.replay] subscribed BTC-USD 1m bars");
  expect(c.err, "[exchanges.replay] finished: the replay reached its last bar");
  expect(c.err, "stopping: every exchange reached the end of its data");
  expect(c.err, "store closed");
  expect(c.err, "stopped (every exchange reached the end of its data)");
  expect(c.out, "summary: every exchange reached the end of its data");
  snprintf(line, sizeof line, "  %-20s %10d %8d %7d  +0.42 (conf 0.80) momentum up", "BTC-USD", 30,
           29, 0);
  expect(c.out, line);
  expect(c.out, "strategies.trend@ETH-USD (rt.strategy)");
  expect(c.out, "filters.dup@BTC-USD (rt.filter)");
  assert_false(rt_file_contains(c.out, "SOL-USD")); /* disabled */
  assert_false(rt_file_contains(c.err, "leaked"));

  /* The strategies kept their counts in the store. */
  assert_int_equal(run_tack("eod2", args, &c), 0);
  expect(c.err, "[strategies.trend@BTC-USD] previous runs saw 30 bars");
  expect(c.err, "[strategies.trend@ETH-USD] previous runs saw 30 bars");
}

static void test_sigterm_stops_in_order(void **state) {
  (void)state;
  char cfg[400];
  snprintf(cfg, sizeof cfg, "%s/term.cfg", tmp);
  write_config(cfg, "term", "bars = 0; interval_ms = 5;", "timeframe = \"5m\";", "kv = true;");
  const char *args[] = {"run", cfg, NULL};
  child c;
  spawn(&c, "term", args);
  int seen = 0;
  for (int i = 0; i < 1000 && !seen; i++) {
    seen = rt_file_contains(c.err, "BTC-USD signal");
    if (!seen)
      sleep_ms(10);
  }
  assert_true(seen);
  assert_int_equal(kill(c.pid, SIGTERM), 0);
  int rc = wait_exit(&c, 20000);
  if (rc != 0)
    expect(c.err, "(a clean exit)");
  assert_int_equal(rc, 0);
  expect(c.err, "stopping: terminated (SIGTERM)");
  expect(c.err, "[exchanges.replay] connection closed: stopped");
  expect(c.err, "store closed");
  expect(c.err, "stopped (terminated (SIGTERM))");
  expect(c.out, "summary: terminated (SIGTERM)");
  assert_false(rt_file_contains(c.out, "leaked in"));
}

static void test_second_sigint_exits_at_once(void **state) {
  (void)state;
  char cfg[400];
  snprintf(cfg, sizeof cfg, "%s/int.cfg", tmp);
  write_config(cfg, "int", "bars = 0; interval_ms = 5; slow_stop_ms = 3000;", "timeframe = \"1m\";",
               "");
  const char *args[] = {"run", cfg, NULL};
  child c;
  spawn(&c, "int", args);
  int seen = 0;
  for (int i = 0; i < 1000 && !seen; i++) {
    seen = rt_file_contains(c.err, "BTC-USD signal");
    if (!seen)
      sleep_ms(10);
  }
  assert_true(seen);
  assert_int_equal(kill(c.pid, SIGINT), 0);
  seen = 0;
  for (int i = 0; i < 1000 && !seen; i++) {
    seen = rt_file_contains(c.err, "stopping: interrupted (SIGINT)");
    if (!seen)
      sleep_ms(10);
  }
  assert_true(seen);
  /* The exchange's stop() now blocks for 3 s; a second ^C must not wait. */
  sleep_ms(100);
  assert_int_equal(kill(c.pid, SIGINT), 0);
  assert_int_equal(wait_exit(&c, 2500), 1);
  expect(c.err, "tack: interrupt while stopping: exiting at once");
  assert_false(rt_file_contains(c.err, "store closed"));
}

static void test_for_seconds(void **state) {
  (void)state;
  char cfg[400];
  snprintf(cfg, sizeof cfg, "%s/for.cfg", tmp);
  write_config(cfg, "for", "bars = 0; interval_ms = 2;", "timeframe = \"1m\";", "");
  const char *args[] = {"run", cfg, "--for", "0.3", NULL};
  child c;
  assert_int_equal(run_tack("for", args, &c), 0);
  expect(c.err, "stopping: --for 0.3 seconds elapsed");
  expect(c.err, "store closed");
  expect(c.out, "summary: --for 0.3 seconds elapsed");
}

static void test_plugin_param_error_starts_nothing(void **state) {
  (void)state;
  char cfg[400], want[600];
  snprintf(cfg, sizeof cfg, "%s/bad.cfg", tmp);
  write_config(cfg, "bad", "bars = 5;", "timeframe = \"1m\";", "fast = 9; slow = 3;");
  const char *args[] = {"run", cfg, NULL};
  child c;
  spawn(&c, "bad", args);
  assert_int_equal(wait_exit(&c, 30000), 1);
  /* Reported once, though two symbols use the strategy; at fast's line. */
  snprintf(want, sizeof want,
           "error: %s:18: strategies.trend.params.fast: must be below slow (3), got 9 (plugin "
           "rt.strategy)",
           cfg);
  expect(c.err, want);
  expect(c.err, "nothing was started");
  assert_false(rt_file_contains(c.err, "subscribed"));
  assert_false(rt_file_contains(c.err, "running"));
}

/* 90s: the replay streams 1m and 5m bars and no trades. The run is refused
 * before anything starts, naming the strategy's timeframe setting. */
static void test_unobtainable_timeframe(void **state) {
  (void)state;
  char cfg[400], want[800];
  snprintf(cfg, sizeof cfg, "%s/tf.cfg", tmp);
  write_config(cfg, "tf", "bars = 5;", "timeframe = \"90s\";", "");
  const char *args[] = {"run", cfg, NULL};
  child c;
  spawn(&c, "tf", args);
  assert_int_equal(wait_exit(&c, 30000), 1);
  snprintf(want, sizeof want,
           "%s:15: BTC-USD: the strategy needs 90s bars, but exchanges.replay (plugin "
           "rt.exchange) streams 1m, 5m bars and no trades to build them from",
           cfg);
  expect(c.err, want);
  expect(c.err, "nothing was started");
  assert_false(rt_file_contains(c.err, "subscribed"));
  assert_false(rt_file_contains(c.err, "BTC-USD signal"));
}

static void test_timeframes_config_error(void **state) {
  (void)state;
  char cfg[400], want[600];
  snprintf(cfg, sizeof cfg, "%s/tfs.cfg", tmp);
  write_config(cfg, "tfs", "bars = 5;", "timeframes = [ \"5m\", \"7m\" ];", "");
  const char *args[] = {"run", cfg, NULL};
  child c;
  spawn(&c, "tfs", args);
  assert_int_equal(wait_exit(&c, 30000), 1);
  snprintf(want, sizeof want,
           "error: %s:15: strategies.trend.timeframes[1]: 7m is not a whole multiple of 5m, the "
           "smallest timeframe",
           cfg);
  expect(c.err, want);
  expect(c.err, "nothing was started");
}

/* One bar as the fixture strategy logs it (log_bars = true). */
typedef struct logged_bar {
  unsigned tf;
  long long ts;
  double o, h, l, c, v;
} logged_bar;

/* The bars strategies.trend@<symbol> logged, in order; returns how many. */
static int read_logged_bars(const char *path, const char *symbol, logged_bar *out, int cap) {
  char tag[128], line[512];
  int n = 0;
  snprintf(tag, sizeof tag, "[strategies.trend@%s] bar tf=", symbol);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  while (fgets(line, sizeof line, f)) {
    const char *at = strstr(line, tag);
    unsigned flags = 0;
    if (!at || n == cap)
      continue;
    logged_bar *b = &out[n];
    int got = sscanf(at + strlen(tag) - 3, "tf=%u ts=%lld o=%lf h=%lf l=%lf c=%lf v=%lf f=%u",
                     &b->tf, &b->ts, &b->o, &b->h, &b->l, &b->c, &b->v, &flags);
    assert_int_equal(got, 8);
    assert_int_equal(flags, TACK_BAR_CLOSED);
    n++;
  }
  fclose(f);
  return n;
}

/* A strategy of 5m, 15m and 1h on a venue of 1m bars whose prices tell
 * their minute: the log shows every bar closed, ordered by close time and,
 * at the same close time, the longer timeframe first, each the aggregate
 * of exactly the minutes of its interval. */
static void test_multi_timeframe_run(void **state) {
  (void)state;
  char cfg[400];
  static logged_bar bars[256];
  snprintf(cfg, sizeof cfg, "%s/mtf.cfg", tmp);
  write_config(cfg, "mtf", "bars = 180; interval_ms = 1; timeframes = \"60\"; ramp = true;",
               "timeframes = [ \"1h\", \"5m\", \"15m\" ];", "log_bars = true;");
  const char *args[] = {"run", cfg, NULL};
  child c;
  assert_int_equal(run_tack("mtf", args, &c), 0);
  expect(c.err, "[exchanges.replay] subscribed BTC-USD 1m bars (5m, 15m, 1h bars made from them)");
  expect(c.out, "filters.dup@BTC-USD/15m (rt.filter)");
  int n = read_logged_bars(c.err, "BTC-USD", bars, 256);
  int per_tf[3] = {0, 0, 0};
  for (int i = 0; i < n; i++) {
    const logged_bar *b = &bars[i];
    long long end = b->ts + b->tf;
    if (i > 0) {
      long long prev_end = bars[i - 1].ts + bars[i - 1].tf;
      assert_true(prev_end < end || (prev_end == end && bars[i - 1].tf > b->tf));
    }
    /* Minute m (from 1699920000) opens at 1000 + m. */
    long long first = (b->ts - 1699920000LL) / 60, count = b->tf / 60;
    assert_true(b->o == 1000.0 + (double)first);
    assert_true(b->c == 1000.0 + (double)(first + count - 1) + 0.5);
    assert_true(b->v == (double)count);
    per_tf[b->tf == 300 ? 0 : b->tf == 900 ? 1 : 2]++;
  }
  assert_int_equal(per_tf[0], 36);
  assert_int_equal(per_tf[1], 12);
  assert_int_equal(per_tf[2], 3);
  expect(c.out, "summary: every exchange reached the end of its data");
}

/* configs/<name>.cfg as a test runs it: plugins from this build, every
 * "../var/..." path (the store, a model) under the test's folder. */
static void copy_example(const char *name, char *path, size_t cap) {
  char src[600], plugins[600], var[400];
  static char text[16384];
  snprintf(src, sizeof src, "%s/configs/%s.cfg", getenv("TACK_SOURCE_DIR"), name);
  snprintf(path, cap, "%s/%s.cfg", tmp, name);
  snprintf(plugins, sizeof plugins, "\"%s/plugins\"", getenv("TACK_BUILD_DIR"));
  snprintf(var, sizeof var, "\"%s/var-%s/", tmp, name);
  FILE *in = fopen(src, "r");
  assert_non_null(in);
  size_t len = fread(text, 1, sizeof text - 1, in);
  fclose(in);
  text[len] = '\0';
  FILE *out = fopen(path, "w");
  assert_non_null(out);
  const char *p = text;
  const char *dirs = strstr(p, "\"../build/plugins\"");
  assert_non_null(dirs);
  fwrite(p, 1, (size_t)(dirs - p), out);
  fputs(plugins, out);
  p = dirs + strlen("\"../build/plugins\"");
  for (const char *at; (at = strstr(p, "\"../var/")) != NULL; p = at + strlen("\"../var/")) {
    fwrite(p, 1, (size_t)(at - p), out);
    fputs(var, out);
  }
  fputs(p, out);
  fclose(out);
}

static void check_and_run_example(const char *name, const char *const *tree, const char *const *log,
                                  const char *const *summary) {
  char cfg[400], tag[64];
  child c;
  copy_example(name, cfg, sizeof cfg);
  snprintf(tag, sizeof tag, "%s-check", name);
  const char *check[] = {"check", cfg, NULL};
  assert_int_equal(run_tack(tag, check, &c), 0);
  expect(c.out, "): ok");
  for (size_t i = 0; tree[i]; i++)
    expect(c.out, tree[i]);
  snprintf(tag, sizeof tag, "%s-run", name);
  const char *run[] = {"run", cfg, NULL};
  assert_int_equal(run_tack(tag, run, &c), 0);
  expect(c.out, "summary: every exchange reached the end of its data");
  for (size_t i = 0; log[i]; i++)
    expect(c.err, log[i]);
  for (size_t i = 0; summary[i]; i++)
    expect(c.out, summary[i]);
}

/* configs/demo.cfg, what `make run` runs (scripts/demo.sh's steps): the
 * candles made by `tack data synth`, the scorer trained by `tack train`, then
 * paper trading of a regime entry switching between a gated multi-timeframe
 * composite (Heikin-Ashi bars and the XGBoost scorer) and reversion, with a
 * live status and a report; it trades, closes everything at the end, and the
 * ledger reconciles. */
static void test_demo_config(void **state) {
  (void)state;
  char cfg[400], store[600], report[600];
  child c;
  copy_example("demo", cfg, sizeof cfg);
  snprintf(store, sizeof store, "%s/var-demo/demo", tmp);
  snprintf(report, sizeof report, "%s/var-demo/report.html", tmp);
  const char *synth[] = {"data",    "synth",      "--store", store,         "--symbol",
                         "BTC-USD", "--symbol",   "ETH-USD", "--timeframe", "5m",
                         "--start", "2024-01-01", "--bars",  "11520",       "--seed",
                         "7",       "--tick",     "0.01",    NULL};
  assert_int_equal(run_tack("demo-synth", synth, &c), 0);
  expect(c.out, "BTC-USD 5m");
  const char *train[] = {"train", cfg, NULL};
  assert_int_equal(run_tack("demo-train", train, &c), 0);
  const char *check[] = {"check", cfg, NULL};
  assert_int_equal(run_tack("demo-check", check, &c), 0);
  expect(c.out, "): ok");
  expect(c.out, "symbol BTC-USD on sim (enabled)\n  regime switch: hold 3 bars of 5m (bars 5m, "
                "1h, 4h)\n");
  expect(c.out, "      member higher (weight 0, gate): bars 4h -> strategy higher "
                "(supertrend_follow 1.0.0)");
  expect(c.out, "member ml (weight 0.5)");
  expect(c.out, "trading sizing: allocation=40000");
  const char *run[] = {"run", cfg, "--status", "--report", report, NULL};
  assert_int_equal(run_tack("demo-run", run, &c), 0);
  expect(c.out, "summary: every exchange reached the end of its data");
  expect(c.out, "  BTC-USD                    4320");
  expect(c.out, "  ETH-USD                    4320");
  expect(c.out, "BTC-USD regime switch: now ");
  expect(c.out, "  ledger exact: starting + realized + unrealized - fees = cash + positions at "
                "mark");
  expect(c.out, "  BTC-USD: position 0 at 0;");
  expect(c.out, "  ETH-USD: position 0 at 0;");
  expect(c.out, "  BTC-USD      price"); /* the live status */
  expect(c.out, "paper demo: 2024-01-26T00:00:00Z");
  expect(c.out, "report: ");
  struct stat sb;
  assert_int_equal(stat(report, &sb), 0);
  assert_true(sb.st_size > 20000);
}

static void test_composite_examples(void **state) {
  (void)state;
  const char *tree1[] = {
      "symbol BTC-USD on replay (enabled)\n"
      "  composite blend: weighted, threshold 0.2 (bars 5m; evaluated on 5m bars)\n"
      "    member trend (weight 2): bars 5m -> filter ha (heikin_ashi 1.0.0) -> strategy trend "
      "(ema_cross 1.0.0) {fast=12, slow=26, mode=\"state\", source=\"close\", intrabar=false}\n",
      "  composite vote: majority, quorum 2 of 3, vote_threshold 0 (bars 5m; evaluated on 5m "
      "bars)\n"
      "    member trend: bars 5m",
      NULL};
  const char *log1[] = {"BTC-USD signal", "ETH-USD signal", "weighted", "majority", NULL};
  const char *sum1[] = {"  BTC-USD blend (composite): trend ", "  ETH-USD vote (composite): trend ",
                        "strategies.reversion@ETH-USD (rsi_reversion)",
                        "filters.ha@BTC-USD/breakout (heikin_ashi)", NULL};
  check_and_run_example("composite", tree1, log1, sum1);

  const char *tree2[] = {
      "  composite entries: weighted, threshold 0.25 (bars 5m, 1h, 4h; evaluated on 5m bars)\n"
      "    member trend_4h (weight 0, gate): bars 4h -> filter ha (heikin_ashi 1.0.0) -> strategy "
      "trend_4h (supertrend_follow 1.0.0)",
      "    member momentum_1h (weight 1): bars 1h -> strategy momentum_1h (macd_trend 1.0.0)",
      NULL};
  const char *log2[] = {
      "[exchanges.replay] subscribed BTC-USD 5m bars (1h, 4h bars made from them)",
      "BTC-USD signal", NULL};
  const char *sum2[] = {"  BTC-USD entries (composite): trend_4h +0.000 (signal ",
                        "gate); "
                        "momentum_1h ",
                        NULL};
  check_and_run_example("mtf", tree2, log2, sum2);

  const char *tree3[] = {
      "  regime switch: hold 3 bars of 5m (bars 5m, 1h)\n"
      "    detector: bars 1h -> strategy trendiness (macd_trend 1.0.0)",
      "    regime up (strength above 0.4; on switch keep): bars 5m -> filter ha",
      "    regime range (default; on switch reduce to 0.5): bars 5m -> strategy fade (bollinger "
      "1.0.0)",
      NULL};
  const char *log3[] = {"BTC-USD regime switch: starts in ", "BTC-USD regime switch: switch ",
                        "matched range for 3 bars; on_switch reduce", "BTC-USD signal", NULL};
  const char *sum3[] = {"  BTC-USD regime switch: now ",
                        "  ETH-USD switch (regime): detector "
                        "trendiness ",
                        NULL};
  check_and_run_example("regime", tree3, log3, sum3);
}

static void test_usage(void **state) {
  (void)state;
  child c;
  const char *help[] = {"run", "--help", NULL};
  assert_int_equal(run_tack("help", help, &c), 0);
  expect(c.out, "usage: tack run CONFIG [--plugin-dir DIR]... [--for SECONDS]");
  expect(c.out, "SIGTERM");

  const char *none[] = {"run", NULL};
  spawn(&c, "none", none);
  assert_int_equal(wait_exit(&c, 10000), 2);
  expect(c.err, "missing CONFIG");

  const char *bad_for[] = {"run", "x.cfg", "--for", "-1", NULL};
  spawn(&c, "badfor", bad_for);
  assert_int_equal(wait_exit(&c, 10000), 2);
  expect(c.err, "--for needs a positive number of seconds");

  char missing[400];
  snprintf(missing, sizeof missing, "%s/does-not-exist.cfg", tmp);
  const char *nofile[] = {"run", missing, NULL};
  spawn(&c, "nofile", nofile);
  assert_int_equal(wait_exit(&c, 10000), 1);
  expect(c.err, "nothing was started");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_runs_to_end_of_data),
      cmocka_unit_test(test_sigterm_stops_in_order),
      cmocka_unit_test(test_second_sigint_exits_at_once),
      cmocka_unit_test(test_for_seconds),
      cmocka_unit_test(test_plugin_param_error_starts_nothing),
      cmocka_unit_test(test_unobtainable_timeframe),
      cmocka_unit_test(test_timeframes_config_error),
      cmocka_unit_test(test_multi_timeframe_run),
      cmocka_unit_test(test_demo_config),
      cmocka_unit_test(test_composite_examples),
      cmocka_unit_test(test_usage),
  };
  /* Outside cmocka: a failed group setup would otherwise count as no
   * failure at all. */
  if (prepare() != 0)
    return 1;
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cleanup();
  return failed;
}
