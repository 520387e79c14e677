/*
 * test_cli_tools.c: `tack calc`, `tack filter` and `tack bars`, run as the
 * real binary ($TACK_BUILD_DIR/host/tack) with the real indicator and filter
 * plugins of the build: hand-computed values, warm-up rows, column names,
 * filter chains and pipes (Heikin-Ashi through `tack filter` then `calc`
 * equals `calc --filter`), Renko bricks, bars from trades and resampled bars
 * equal to the host library's, spec and usage errors with their exit codes,
 * malformed input with its line, standard input, --help; and, end to end,
 * `tack calc` on Bitstamp's daily bars against the TA-Lib reference values
 * of tests/fixtures/talib/btcusd_bitstamp_1d (skipped when the shared data
 * folder is absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bars.h"
#include "csv.h"

extern char **environ;

static char exe[1024];
static char tmp[256];
static char shared[1024]; /* <shared>/data, "" when absent */
static char talib_dir[1024];

/* ------------------------------------------------------------------------ */
/* Running tack                                                              */
/* ------------------------------------------------------------------------ */

typedef struct run_result {
  int status;
  char *out;
  char *err;
} run_result;

static void result_free(run_result *r) {
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

static int drain(int fd, char **buf, size_t *len) {
  char chunk[65536];
  ssize_t n = read(fd, chunk, sizeof chunk);
  if (n < 0 && errno == EINTR)
    return 1;
  if (n <= 0)
    return 0;
  char *grown = realloc(*buf, *len + (size_t)n + 1);
  assert_non_null(grown);
  memcpy(grown + *len, chunk, (size_t)n);
  *len += (size_t)n;
  grown[*len] = '\0';
  *buf = grown;
  return 1;
}

/* Run tack with args (NULL-terminated, without the program), standard input
 * from in_path (NULL: /dev/null), its output captured. */
static void run_in(run_result *r, const char *in_path, const char *const *args) {
  const char *argv[64];
  int out_pipe[2], err_pipe[2], wstatus;
  posix_spawn_file_actions_t fa;
  pid_t pid;
  size_t out_len = 0, err_len = 0, n = 0;
  struct pollfd fds[2];

  argv[n++] = exe;
  for (; args[n - 1]; n++) {
    assert_true(n < 63);
    argv[n] = args[n - 1];
  }
  argv[n] = NULL;
  r->out = calloc(1, 1);
  r->err = calloc(1, 1);
  assert_non_null(r->out);
  assert_non_null(r->err);
  assert_int_equal(pipe(out_pipe), 0);
  assert_int_equal(pipe(err_pipe), 0);
  assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, in_path ? in_path : "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
  posix_spawn_file_actions_addclose(&fa, err_pipe[0]);
  assert_int_equal(posix_spawn(&pid, exe, &fa, NULL, (char *const *)argv, environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);

  fds[0].fd = out_pipe[0];
  fds[1].fd = err_pipe[0];
  fds[0].events = fds[1].events = POLLIN;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (poll(fds, 2, 60000) <= 0) {
      if (errno == EINTR)
        continue;
      fail_msg("tack produced no output for 60 s");
    }
    if (fds[0].revents && !drain(fds[0].fd, &r->out, &out_len)) {
      close(fds[0].fd);
      fds[0].fd = -1;
    }
    if (fds[1].revents && !drain(fds[1].fd, &r->err, &err_len)) {
      close(fds[1].fd);
      fds[1].fd = -1;
    }
  }
  assert_int_equal(waitpid(pid, &wstatus, 0), pid);
  r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

static void run(run_result *r, const char *const *args) { run_in(r, NULL, args); }

static void assert_contains(const char *text, const char *word) {
  if (!strstr(text, word))
    fail_msg("expected \"%s\" in:\n%s", word, text);
}

static void assert_status(const run_result *r, int status) {
  if (strstr(r->err, "Sanitizer") || strstr(r->err, "runtime error:"))
    fail_msg("tack reported a sanitizer error:\n%s", r->err);
  if (r->status != status)
    fail_msg("exit status %d, expected %d\nstdout:\n%.2000s\nstderr:\n%.2000s", r->status, status,
             r->out, r->err);
}

/* ------------------------------------------------------------------------ */
/* Files and CSV text                                                        */
/* ------------------------------------------------------------------------ */

static const char *path_in_tmp(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", tmp, name);
  return buf;
}

static const char *write_file(char *buf, size_t cap, const char *name, const char *text) {
  path_in_tmp(buf, cap, name);
  FILE *f = fopen(buf, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
  return buf;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  char *text = NULL;
  size_t len = 0;
  while (drain(fileno(f), &text, &len))
    ;
  fclose(f);
  return text;
}

/* The lines of text, split in place. *lines is malloc'ed. */
static size_t split_lines(char *text, char ***lines) {
  size_t n = 0, cap = 64;
  *lines = malloc(cap * sizeof **lines);
  assert_non_null(*lines);
  for (char *p = text; *p;) {
    char *nl = strchr(p, '\n');
    if (n == cap) {
      cap *= 2;
      *lines = realloc(*lines, cap * sizeof **lines);
      assert_non_null(*lines);
    }
    (*lines)[n++] = p;
    if (!nl)
      break;
    *nl = '\0';
    p = nl + 1;
  }
  return n;
}

/* Field k (from 0) of a CSV line, as a double; NAN when empty. */
static double field(const char *line, int k) {
  const char *p = line;
  for (int i = 0; i < k; i++) {
    p = strchr(p, ',');
    if (!p)
      fail_msg("line '%s' has no field %d", line, k);
    p++;
  }
  if (*p == ',' || *p == '\0')
    return NAN;
  char *end;
  double v = strtod(p, &end);
  if (end == p || (*end != ',' && *end != '\0'))
    fail_msg("field %d of '%s' is not a number", k, line);
  return v;
}

/* A synthetic bar series: a bounded random walk with flat bars and a trend,
 * ts 1 day apart, OHLC consistent. */
static void write_synthetic(const char *path, int n) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(TACK_CSV_BAR_HEADER "\n", f);
  uint64_t x = 0x9e3779b97f4a7c15u;
  double price = 1000;
  for (int i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double move = (double)(x % 2001) / 100.0 - 10.0 + (i > n / 2 ? 1.5 : 0);
    double open = price, close = i % 17 == 0 ? price : price + move;
    double high = (open > close ? open : close) + (double)(x % 300) / 100.0;
    double low = (open < close ? open : close) - (double)((x >> 9) % 300) / 100.0;
    fprintf(f, "%d,%.17g,%.17g,%.17g,%.17g,%.17g\n", 1500000000 + 86400 * i, open, high, low, close,
            (double)(x % 5000) / 10.0);
    price = close;
  }
  assert_int_equal(fclose(f), 0);
}

static int have_shared(const char *what) {
  if (shared[0])
    return 1;
  fprintf(stderr, "skipped: %s needs the shared data folder (TACK_SHARED_DIR/data)\n", what);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* --help and usage                                                          */
/* ------------------------------------------------------------------------ */

static void test_help(void **state) {
  (void)state;
  static const char *const cmds[] = {"calc", "filter", "bars"};
  run_result r;
  for (size_t i = 0; i < 3; i++) {
    char usage[64];
    snprintf(usage, sizeof usage, "usage: tack %s ", cmds[i]);
    const char *long_args[] = {cmds[i], "--help", NULL};
    const char *short_args[] = {cmds[i], "--csv", "x.csv", "-h", NULL};
    run(&r, long_args);
    assert_status(&r, 0);
    assert_true(strncmp(r.out, usage, strlen(usage)) == 0);
    assert_contains(r.out, "exit status:");
    assert_string_equal(r.err, "");
    result_free(&r);
    run(&r, short_args);
    assert_status(&r, 0);
    assert_true(strncmp(r.out, usage, strlen(usage)) == 0);
    result_free(&r);
  }
}

static void test_usage_errors(void **state) {
  (void)state;
  static const struct {
    const char *args[8];
    const char *msg;
  } cases[] = {
      {{"calc", NULL}, "tack: calc: name an indicator"},
      {{"calc", "rsi", NULL}, "tack: calc: --csv FILE is required"},
      {{"calc", "rsi", "--csv", NULL}, "tack: calc: --csv needs a file"},
      {{"calc", "rsi", "--csv=", NULL}, "tack: calc: --csv needs a file"},
      {{"calc", "rsi", "--csv", "a", "--csv", "b", NULL}, "--csv given twice"},
      {{"calc", "rsi", "ema", "--csv", "a", NULL}, "one indicator only: got 'rsi' and 'ema'"},
      {{"calc", "rsi", "--csv", "a", "--bogus", NULL}, "unknown option '--bogus'"},
      {{"calc", "rsi", "--csv", "a", "--filter", NULL}, "--filter needs a filter spec"},
      {{"filter", "--csv", "a", NULL}, "tack: filter: name a filter"},
      {{"filter", "heikin_ashi", "renko", "--csv", "a", NULL}, "chain more with --filter"},
      {{"bars", "--trades", "a", NULL}, "tack: bars: --timeframe TF is required"},
      {{"bars", "--timeframe", "5m", NULL}, "give the input: --trades FILE or --csv FILE"},
      {{"bars", "--timeframe", "7x", "--trades", "a", NULL}, "--timeframe '7x' is not a timeframe"},
      {{"bars", "--timeframe", "5m", "--trades", "a", "--csv", "b", NULL}, "one input only"},
      {{"bars", "--timeframe", "5m", "--trades", "a", "--from-timeframe", "1m", NULL},
       "--from-timeframe is the timeframe of --csv bars"},
      {{"bars", "--timeframe", "5m", "--csv", "a", "--gaps", "maybe", NULL},
       "--gaps 'maybe': write skip or fill"},
      {{"bars", "--timeframe", "5m", "--csv", "a", "extra", NULL}, "unexpected argument 'extra'"},
  };
  run_result r;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    run(&r, cases[i].args);
    assert_status(&r, 2);
    assert_contains(r.err, cases[i].msg);
    assert_contains(r.err, "--help'.");
    assert_string_equal(r.out, "");
    result_free(&r);
  }
}

/* ------------------------------------------------------------------------ */
/* tack calc                                                                 */
/* ------------------------------------------------------------------------ */

/* Closes 10, 11, 15, 12.5, 20: SMA(3) is empty twice, then 36/3 = 12,
 * 38.5/3 and 47.5/3. ts are printed as the input wrote them. */
static const char tiny_bars[] = TACK_CSV_BAR_HEADER "\n"
                                                    "1675329600.138,10,11,9,10,1\n"
                                                    "1675329660,11,12,10,11,2\n"
                                                    "1675329720.50,15,16,14,15,3\n"
                                                    "1675329780.000000001,12.5,13.5,11.5,12.5,4\n"
                                                    "1675329840,20,21,19,20,5\n";

static void test_calc_sma_by_hand(void **state) {
  (void)state;
  char path[512];
  run_result r;
  const char *args[] = {"calc", "sma:3", "--csv",
                        write_file(path, sizeof path, "tiny.csv", tiny_bars), NULL};
  run(&r, args);
  assert_status(&r, 0);
  assert_string_equal(r.out, "ts,sma\n"
                             "1675329600.138,\n"
                             "1675329660,\n"
                             "1675329720.50,12\n"
                             "1675329780.000000001,12.833333333333334\n"
                             "1675329840,15.833333333333334\n");
  assert_true(strtod("12.833333333333334", NULL) == 38.5 / 3);
  assert_true(strtod("15.833333333333334", NULL) == 47.5 / 3);
  assert_string_equal(r.err, "");
  result_free(&r);

  /* The same from standard input, and named parameters. */
  const char *stdin_args[] = {"calc", "sma:period=3,source=close", "--csv", "-", NULL};
  run_in(&r, path, stdin_args);
  assert_status(&r, 0);
  assert_contains(r.out, "1675329840,15.833333333333334\n");
  result_free(&r);
}

static void test_calc_columns_and_warm_up(void **state) {
  (void)state;
  char path[512];
  char **lines;
  run_result r;
  write_synthetic(path_in_tmp(path, sizeof path, "synth.csv"), 60);

  /* MACD(3, 5, 2): the first value at bar max(3, 5) + 2 - 2 = 5. */
  const char *macd[] = {"calc", "macd:3,5,2", "--csv", path, NULL};
  run(&r, macd);
  assert_status(&r, 0);
  size_t n = split_lines(r.out, &lines);
  assert_int_equal(n, 61);
  assert_string_equal(lines[0], "ts,macd,signal,hist");
  for (size_t i = 1; i <= 5; i++) {
    assert_non_null(strstr(lines[i], ",,,"));
    assert_int_equal(strlen(strstr(lines[i], ",,,")), 3);
  }
  for (size_t i = 6; i < n; i++) {
    double m = field(lines[i], 1), s = field(lines[i], 2), h = field(lines[i], 3);
    assert_false(isnan(m) || isnan(s) || isnan(h));
    assert_true(fabs(m - s - h) <= 1e-9 * fmax(1, fabs(m)));
  }
  free(lines);
  result_free(&r);

  static const struct {
    const char *spec;
    const char *header;
  } heads[] = {
      {"rsi", "ts,rsi\n"},
      {"bbands:period=20,nbdevup=2.5", "ts,upper,middle,lower\n"},
      {"stoch", "ts,slowk,slowd\n"},
      {"ichimoku:tenkan=3,kijun=5,senkou=7,displacement=2",
       "ts,tenkan,kijun,senkou_a,senkou_b,chikou\n"},
  };
  for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
    const char *args[] = {"calc", heads[i].spec, "--csv", path, NULL};
    run(&r, args);
    assert_status(&r, 0);
    assert_true(strncmp(r.out, heads[i].header, strlen(heads[i].header)) == 0);
    result_free(&r);
  }
}

/* RSI of Heikin-Ashi closes: `calc --filter` equals `filter` piped to calc. */
static void test_calc_filter_equals_pipe(void **state) {
  (void)state;
  char path[512], ha_path[512];
  char **lines;
  run_result r, direct, piped;
  write_synthetic(path_in_tmp(path, sizeof path, "synth300.csv"), 300);

  const char *filter[] = {"filter", "heikin_ashi", "--csv", path, NULL};
  run(&r, filter);
  assert_status(&r, 0);
  assert_true(strncmp(r.out, TACK_CSV_BAR_HEADER "\n", 30) == 0);
  write_file(ha_path, sizeof ha_path, "ha.csv", r.out);
  /* The first Heikin-Ashi bar: close (o+h+l+c)/4, open (o+c)/2. */
  char *input = read_file(path);
  assert_non_null(input);
  char **in_lines;
  split_lines(input, &in_lines);
  size_t n = split_lines(r.out, &lines);
  assert_int_equal(n, 301);
  double o = field(in_lines[1], 1), h = field(in_lines[1], 2), l = field(in_lines[1], 3),
         c = field(in_lines[1], 4);
  assert_true(fabs(field(lines[1], 4) - (o + h + l + c) / 4) <= 1e-12 * c);
  assert_true(fabs(field(lines[1], 1) - (o + c) / 2) <= 1e-12 * c);
  assert_true(field(lines[1], 5) == field(in_lines[1], 5));
  free(lines);
  free(in_lines);
  free(input);
  result_free(&r);

  const char *calc_direct[] = {"calc", "rsi:14", "--filter", "heikin_ashi", "--csv", path, NULL};
  const char *calc_piped[] = {"calc", "rsi:14", "--csv", "-", NULL};
  run(&direct, calc_direct);
  run_in(&piped, ha_path, calc_piped);
  assert_status(&direct, 0);
  assert_status(&piped, 0);
  assert_string_equal(direct.out, piped.out);
  assert_int_equal(split_lines(direct.out, &lines), 301);
  assert_string_equal(lines[0], "ts,rsi");
  assert_true(isnan(field(lines[14], 1)));
  assert_false(isnan(field(lines[15], 1)));
  free(lines);
  result_free(&direct);
  result_free(&piped);

  /* Chains apply in order: HA then Renko, in one command or two. */
  const char *chain[] = {"filter", "heikin_ashi", "--filter", "renko:brick_size=20",
                         "--csv",  path,          NULL};
  const char *renko_of_ha[] = {"filter", "renko:brick_size=20", "--csv", ha_path, NULL};
  run(&direct, chain);
  run(&piped, renko_of_ha);
  assert_status(&direct, 0);
  assert_status(&piped, 0);
  assert_string_equal(direct.out, piped.out);
  assert_true(strlen(direct.out) > 200);
  result_free(&direct);
  result_free(&piped);
}

/* ------------------------------------------------------------------------ */
/* tack filter                                                               */
/* ------------------------------------------------------------------------ */

/* docs/filters.md's worked example: brick 10, closes 100 (base), 105, 112,
 * 135, 121, 109, 95, 108, 121, classic reversal. */
static void test_filter_renko(void **state) {
  (void)state;
  static const double closes[] = {100, 105, 112, 135, 121, 109, 95, 108, 121};
  static const struct {
    const char *ts;
    double open, close, volume;
  } want[] = {
      {"1600000120", 100, 110, 3},           {"1600000180", 110, 120, 1},
      {"1600000180.000000001", 120, 130, 0}, {"1600000300", 120, 110, 2},
      {"1600000360", 110, 100, 1},           {"1600000480", 110, 120, 2},
  };
  char text[2048], path[512], **lines;
  size_t len = (size_t)snprintf(text, sizeof text, "%s\n", TACK_CSV_BAR_HEADER);
  for (int i = 0; i < 9; i++)
    len += (size_t)snprintf(text + len, sizeof text - len, "%d,%g,%g,%g,%g,1\n",
                            1600000000 + 60 * i, closes[i], closes[i], closes[i], closes[i]);
  write_file(path, sizeof path, "renko.csv", text);

  run_result r;
  const char *args[] = {"filter", "renko:brick_size=10", "--csv", path, NULL};
  run(&r, args);
  assert_status(&r, 0);
  size_t n = split_lines(r.out, &lines);
  assert_int_equal(n, 7);
  assert_string_equal(lines[0], TACK_CSV_BAR_HEADER);
  for (size_t i = 0; i < 6; i++) {
    const char *l = lines[i + 1];
    assert_true(strncmp(l, want[i].ts, strlen(want[i].ts)) == 0 && l[strlen(want[i].ts)] == ',');
    assert_true(field(l, 1) == want[i].open && field(l, 4) == want[i].close);
    assert_true(field(l, 2) == fmax(want[i].open, want[i].close));
    assert_true(field(l, 3) == fmin(want[i].open, want[i].close));
    assert_true(field(l, 5) == want[i].volume);
  }
  free(lines);
  result_free(&r);

  /* Positional: brick_size is Renko's second parameter. */
  const char *positional[] = {"filter", "renko:fixed,10", "--csv", path, NULL};
  run(&r, positional);
  assert_status(&r, 0);
  assert_contains(r.out, "1600000180.000000001,120,130,120,130,0\n");
  result_free(&r);

  /* A brick size of 0 is refused by the plugin's configure: exit 1. */
  const char *zero[] = {"filter", "renko:brick_size=0", "--csv", path, NULL};
  run(&r, zero);
  assert_status(&r, 1);
  assert_contains(r.err, "error: renko:brick_size=0: parameter 'brick_size': mode fixed needs "
                         "brick_size > 0");
  assert_string_equal(r.out, "");
  result_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Spec errors and malformed input                                           */
/* ------------------------------------------------------------------------ */

static void test_spec_errors(void **state) {
  (void)state;
  static const struct {
    const char *cmd;
    const char *spec;
    int status;
    const char *msg;
  } cases[] = {
      {"calc", "rsii", 2, "error: rsii: no plugin 'rsii' is loaded; did you mean: rsi (indicator)"},
      {"calc", "heikin_ashi", 2,
       "error: heikin_ashi: plugin 'heikin_ashi' is a filter, not an "
       "indicator"},
      {"calc", "rsi:14,close,3", 2,
       "error: rsi:14,close,3: parameter 3 ('3'): too many values: "
       "plugin rsi takes 2 parameters, in this order: period, source"},
      {"calc", "rsi:perod=3", 2,
       "error: rsi:perod=3: parameter 1: plugin rsi has no parameter "
       "'perod' (did you mean 'period'?)"},
      {"calc", "rsi:abc", 2,
       "error: rsi:abc: parameter 1 ('period'): must be an integer, got "
       "'abc'"},
      {"calc", "rsi:", 2, "error: rsi:: nothing after ':'"},
      {"calc", "rsi:1", 1,
       "error: rsi:1: parameter 1 ('period'): must be an integer in [2, "
       "100000], got 1"},
      {"calc", "rsi:14,x", 1,
       "error: rsi:14,x: parameter 2 ('source'): must be one of "
       "close|open|high|low|hl2|hlc3|ohlc4, got \"x\""},
      {"calc", "bbands:nbdevup=200", 1,
       "error: bbands:nbdevup=200: parameter 'nbdevup': must "
       "be a number in [0, 100], got 200.0"},
      {"filter", "rsi", 2, "error: rsi: plugin 'rsi' is an indicator, not a filter"},
      {"filter", "renko:brick_size=-1", 1,
       "error: renko:brick_size=-1: parameter 'brick_size': "
       "must be a number in [0, 1e+300], got -1.0"},
  };
  char path[512];
  write_file(path, sizeof path, "tiny.csv", tiny_bars);
  run_result r;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *args[] = {cases[i].cmd, cases[i].spec, "--csv", path, NULL};
    run(&r, args);
    assert_status(&r, cases[i].status);
    assert_contains(r.err, cases[i].msg);
    assert_string_equal(r.out, "");
    result_free(&r);
  }
  /* Every problem at once: a bad filter and a bad indicator. */
  const char *both[] = {"calc", "rsi:x", "--filter", "renko:brick_sise=3", "--csv", path, NULL};
  run(&r, both);
  assert_status(&r, 2);
  assert_contains(r.err, "renko:brick_sise=3: parameter 1: plugin renko has no parameter "
                         "'brick_sise' (did you mean 'brick_size'?)");
  assert_contains(r.err, "rsi:x: parameter 1 ('period'): must be an integer, got 'x'");
  result_free(&r);
}

static void test_malformed_input(void **state) {
  (void)state;
  char path[512], msg[700];
  run_result r;
  write_file(path, sizeof path, "bad.csv",
             TACK_CSV_BAR_HEADER "\n1,1,1,1,1,1\n2,1,1,1,1,1\n3,1,0.5,1,1,1\n4,1,1,1,1,1\n");
  const char *calc[] = {"calc", "sma:2", "--csv", path, NULL};
  run(&r, calc);
  assert_status(&r, 1);
  snprintf(msg, sizeof msg, "error: %s:4: high 0.5 is below low 1\n", path);
  assert_string_equal(r.err, msg);
  /* What came before the bad row was printed; nothing after it. */
  assert_string_equal(r.out, "ts,sma\n1,\n2,1\n");
  result_free(&r);

  write_file(path, sizeof path, "order.csv",
             TACK_CSV_BAR_HEADER "\n1,1,1,1,1,1\n3,1,1,1,1,1\n2,1,1,1,1,1\n");
  const char *filter[] = {"filter", "heikin_ashi", "--csv", path, NULL};
  run(&r, filter);
  assert_status(&r, 1);
  snprintf(msg, sizeof msg,
           "error: %s:4: ts 2 is earlier than the previous row's (line 3): bar rows must be in "
           "time order, oldest first",
           path);
  assert_contains(r.err, msg);
  result_free(&r);

  write_file(path, sizeof path, "trades_bad.csv",
             TACK_CSV_TRADE_HEADER "\n1,100,1,buy\n2,101,1,sell\n3,nan,1,buy\n");
  const char *bars[] = {"bars", "--timeframe", "1m", "--trades", path, NULL};
  run(&r, bars);
  assert_status(&r, 1);
  snprintf(msg, sizeof msg, "error: %s:4: price 'nan' is not a finite number", path);
  assert_contains(r.err, msg);
  assert_string_equal(r.out, ""); /* no bar had closed yet */
  result_free(&r);

  const char *missing[] = {"calc", "rsi", "--csv", "/nonexistent/x.csv", NULL};
  run(&r, missing);
  assert_status(&r, 1);
  assert_contains(r.err, "error: /nonexistent/x.csv: cannot open: No such file or directory");
  result_free(&r);

  /* A bars file where trades are expected says so. */
  write_file(path, sizeof path, "tiny.csv", tiny_bars);
  const char *wrong[] = {"bars", "--timeframe", "1m", "--trades", path, NULL};
  run(&r, wrong);
  assert_status(&r, 1);
  assert_contains(r.err, ":1: expected the header 'ts,price,size,side', got "
                         "'ts,open,high,low,close,volume' (that is the header of a bars file");
  assert_string_equal(r.out, ""); /* not even a header: the input was never bars */
  result_free(&r);
  const char *calc_stdin[] = {"calc", "rsi", "--csv", "-", NULL};
  write_file(path, sizeof path, "empty.csv", "");
  run_in(&r, path, calc_stdin);
  assert_status(&r, 1);
  assert_string_equal(r.err, "error: <stdin>: the file is empty: expected the header line "
                             "'ts,open,high,low,close,volume'\n");
  assert_string_equal(r.out, "");
  result_free(&r);
  write_file(path, sizeof path, "header_only.csv", TACK_CSV_BAR_HEADER "\r\n");
  run_in(&r, path, calc_stdin);
  assert_status(&r, 0);
  assert_string_equal(r.out, "ts,rsi\n");
  result_free(&r);
}

/* ------------------------------------------------------------------------ */
/* tack bars                                                                 */
/* ------------------------------------------------------------------------ */

/* What the host library makes of a file: the expected output. */
typedef struct lib_out {
  FILE *f;
} lib_out;

static void lib_on_bar(void *data, const tack_bar *bar) {
  if (bar->flags & TACK_BAR_CLOSED)
    tack_csv_write_bar(((lib_out *)data)->f, bar);
}

static char *lib_from_trades(const char *path, uint32_t tf, uint32_t gaps, int close_at_end) {
  char *text = NULL;
  size_t len = 0;
  lib_out o = {open_memstream(&text, &len)};
  tack_bar_builder_config cfg;
  tack_bar_builder *b = NULL;
  tack_diag d = TACK_DIAG_INIT;
  tack_csv *csv = NULL;
  tack_trade t;
  tack_bar forming;
  assert_non_null(o.f);
  fputs(TACK_CSV_BAR_HEADER "\n", o.f);
  tack_bar_builder_config_init(&cfg, tf);
  cfg.gap_policy = gaps;
  cfg.dedup_window = 0;
  cfg.on_bar = lib_on_bar;
  cfg.data = &o;
  assert_int_equal(tack_bar_builder_init(&b, &cfg), 0);
  assert_int_equal(tack_csv_open(path, TACK_CSV_TRADES, &d, &csv), 0);
  while (tack_csv_next_trade(csv, &t, &d) == 1)
    assert_true(tack_bar_builder_push(b, &t) >= 0);
  assert_int_equal(d.n, 0);
  if (close_at_end && tack_bar_builder_forming(b, &forming))
    tack_bar_builder_close_until(b, forming.ts + (tack_time)tf * TACK_NS_PER_SEC);
  tack_csv_close(csv);
  tack_bar_builder_free(b);
  fclose(o.f);
  return text;
}

static char *lib_resample(const char *path, uint32_t in_tf, uint32_t tf) {
  char *text = NULL;
  size_t len = 0;
  lib_out o = {open_memstream(&text, &len)};
  tack_bar_resampler_config cfg = {0};
  tack_bar_resampler *rs = NULL;
  tack_diag d = TACK_DIAG_INIT;
  tack_csv *csv = NULL;
  tack_bar bar;
  assert_non_null(o.f);
  fputs(TACK_CSV_BAR_HEADER "\n", o.f);
  cfg.in_timeframe_s = in_tf;
  cfg.out_timeframe_s = tf;
  cfg.on_bar = lib_on_bar;
  cfg.data = &o;
  assert_int_equal(tack_bar_resampler_init(&rs, &cfg), 0);
  assert_int_equal(tack_csv_open(path, TACK_CSV_BARS, &d, &csv), 0);
  while (tack_csv_next_bar(csv, &bar, &d) == 1) {
    bar.timeframe_s = in_tf;
    assert_int_equal(tack_bar_resampler_push(rs, &bar), 0);
  }
  assert_int_equal(d.n, 0);
  tack_csv_close(csv);
  tack_bar_resampler_free(rs);
  fclose(o.f);
  return text;
}

static void test_bars_from_trades(void **state) {
  (void)state;
  char path[1200], small[512];
  run_result r;

  /* By hand: a trade out of order within its minute (applied: the open is
   * the earliest trade's), a late one (dropped), an empty minute. */
  write_file(small, sizeof small, "trades.csv",
             TACK_CSV_TRADE_HEADER "\n"
                                   "1600000000.5,10,1,buy\n"
                                   "1600000030,12,2,sell\n"
                                   "1600000025,9,0.5,\n"
                                   "1600000081,11,1,buy\n"
                                   "1600000070,99,1,buy\n"
                                   "1600000250.25,13,4,sell\n");
  const char *skip[] = {"bars", "--timeframe", "1m", "--trades", small, NULL};
  run(&r, skip);
  assert_status(&r, 0);
  assert_string_equal(r.out, TACK_CSV_BAR_HEADER "\n"
                                                 "1599999960,10,10,10,10,1\n"
                                                 "1600000020,9,12,9,12,2.5\n"
                                                 "1600000080,11,11,11,11,1\n");
  assert_contains(r.err, "tack: bars: 6 trades in, 3 bars of 1m out (0 fillers); 1 late "
                         "(dropped, the first at line 6), 0 duplicates");
  assert_contains(r.err, "the 1m bar at 1600000200 is still open at the end of the data: not "
                         "printed (--close-at-end prints it)");
  result_free(&r);

  const char *fill[] = {"bars", "--timeframe",    "1m", "--trades", small, "--gaps",
                        "fill", "--close-at-end", NULL};
  run(&r, fill);
  assert_status(&r, 0);
  assert_string_equal(r.out, TACK_CSV_BAR_HEADER "\n"
                                                 "1599999960,10,10,10,10,1\n"
                                                 "1600000020,9,12,9,12,2.5\n"
                                                 "1600000080,11,11,11,11,1\n"
                                                 "1600000140,11,11,11,11,0\n"
                                                 "1600000200,13,13,13,13,4\n");
  result_free(&r);

  if (!have_shared("bars from Kraken trades"))
    return;
  snprintf(path, sizeof path, "%s/trades_kraken_xbtusdt.csv", shared);
  static const struct {
    const char *tf;
    uint32_t s;
    const char *gaps;
    int close_at_end;
  } runs[] = {{"1m", 60, "skip", 0}, {"5m", 300, "fill", 0}, {"1h", 3600, "skip", 1}};
  for (size_t i = 0; i < 3; i++) {
    const char *args[] = {
        "bars", "--timeframe", runs[i].tf,   "--trades",
        path,   "--gaps",      runs[i].gaps, runs[i].close_at_end ? "--close-at-end" : NULL,
        NULL};
    char *want = lib_from_trades(path, runs[i].s,
                                 runs[i].gaps[0] == 'f' ? TACK_BARS_GAP_FILL : TACK_BARS_GAP_SKIP,
                                 runs[i].close_at_end);
    run(&r, args);
    assert_status(&r, 0);
    assert_string_equal(r.out, want);
    assert_contains(r.err, "tack: bars: 1000 trades in");
    assert_true(strlen(want) > 100);
    free(want);
    result_free(&r);
  }
}

static void test_bars_resample(void **state) {
  (void)state;
  char text[4096], path[512], gap_path[512];
  run_result r;
  /* Twelve 1m bars from a 5m boundary: two whole 5m bars and the start of
   * a third; and the same without minutes 5..9. */
  size_t len = (size_t)snprintf(text, sizeof text, "%s\n", TACK_CSV_BAR_HEADER);
  for (int i = 0; i < 12; i++)
    len += (size_t)snprintf(text + len, sizeof text - len, "%d,%d,%d.5,%d,%d.5,%d\n",
                            1600000200 + 60 * i, 100 + i, 101 + i, 99 + i, 100 + i, i + 1);
  write_file(path, sizeof path, "m1.csv", text);
  len = (size_t)snprintf(text, sizeof text, "%s\n", TACK_CSV_BAR_HEADER);
  for (int i = 0; i < 12; i++)
    if (i < 5 || i >= 10)
      len += (size_t)snprintf(text + len, sizeof text - len, "%d,%d,%d.5,%d,%d.5,%d\n",
                              1600000200 + 60 * i, 100 + i, 101 + i, 99 + i, 100 + i, i + 1);
  write_file(gap_path, sizeof gap_path, "m1gap.csv", text);

  const char *inferred[] = {"bars", "--timeframe", "5m", "--csv", path, NULL};
  run(&r, inferred);
  assert_status(&r, 0);
  assert_string_equal(r.out, TACK_CSV_BAR_HEADER "\n"
                                                 "1600000200,100,105.5,99,104.5,15\n"
                                                 "1600000500,105,110.5,104,109.5,40\n");
  assert_contains(r.err, "tack: bars: 12 bars in, 2 bars of 5m out (0 fillers); 0 late, 0 "
                         "duplicates");
  assert_contains(r.err, "the 5m bar at 1600000800 is still open");
  result_free(&r);

  const char *given[] = {"bars", "--timeframe=5m", "--csv", "-", "--from-timeframe",
                         "1m",   "--close-at-end", NULL};
  run_in(&r, path, given);
  assert_status(&r, 0);
  assert_string_equal(r.out, TACK_CSV_BAR_HEADER "\n"
                                                 "1600000200,100,105.5,99,104.5,15\n"
                                                 "1600000500,105,110.5,104,109.5,40\n"
                                                 "1600000800,110,112.5,109,111.5,23\n");
  result_free(&r);

  /* Standard input without --from-timeframe is read twice through a
   * temporary file. */
  const char *from_stdin[] = {"bars", "--timeframe", "5m", "--csv", "-", "--gaps", "fill", NULL};
  run_in(&r, gap_path, from_stdin);
  assert_status(&r, 0);
  assert_string_equal(r.out, TACK_CSV_BAR_HEADER "\n"
                                                 "1600000200,100,105.5,99,104.5,15\n"
                                                 "1600000500,104.5,104.5,104.5,104.5,0\n");
  assert_contains(r.err, "7 bars in, 2 bars of 5m out (1 fillers)");
  result_free(&r);

  /* 1m bars make 7m bars; 5m bars cannot: exit 2 when the command line
   * says the input is 5m, 1 when the data does (inferred). */
  const char *seven[] = {"bars", "--timeframe", "7m", "--csv", path, NULL};
  run(&r, seven);
  assert_status(&r, 0);
  result_free(&r);
  const char *five_to_seven[] = {"bars", "--timeframe",      "7m", "--csv",
                                 path,   "--from-timeframe", "5m", NULL};
  run(&r, five_to_seven);
  assert_status(&r, 2);
  assert_contains(r.err, "cannot resample 5m bars to 7m: 7m is not a whole multiple of 5m");
  result_free(&r);
  const char *to_90s[] = {"bars", "--timeframe", "90", "--csv", path, NULL};
  run(&r, to_90s);
  assert_status(&r, 1);
  assert_contains(r.err, "cannot resample 1m bars (1m: the smallest step between rows, at line "
                         "3; --from-timeframe sets it) to 90s: 90s is not a whole multiple of 1m");
  assert_string_equal(r.out, "");
  result_free(&r);

  /* A bar off the input's grid. */
  const char *off_grid[] = {"bars", "--timeframe",      "10m", "--csv",
                            path,   "--from-timeframe", "2m",  NULL};
  run(&r, off_grid);
  assert_status(&r, 1);
  assert_contains(r.err, ":3: ts 1600000260 is not on the grid of 2m bars (a whole multiple of "
                         "120 s since 1970-01-01)");
  result_free(&r);

  /* One bar only: no step to infer from. */
  write_file(path, sizeof path, "one.csv", TACK_CSV_BAR_HEADER "\n1600000200,1,1,1,1,1\n");
  run(&r, inferred);
  assert_status(&r, 1);
  assert_contains(r.err, "one bar only: its timeframe cannot be inferred");
  result_free(&r);

  if (!have_shared("resampling FTX 1m bars"))
    return;
  char big[1200];
  snprintf(big, sizeof big, "%s/btcperp_ftx_1m.csv", shared);
  const char *ftx[] = {"bars", "--timeframe", "5m", "--csv", big, NULL};
  char *want = lib_resample(big, 60, 300);
  run(&r, ftx);
  assert_status(&r, 0);
  assert_string_equal(r.out, want);
  assert_contains(r.err, "tack: bars: 45031 bars in, 9006 bars of 5m out");
  free(want);
  result_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Real data                                                                 */
/* ------------------------------------------------------------------------ */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 45k rows stream through in well under a second (ASan included). */
static void test_big_file(void **state) {
  (void)state;
  char path[1200], **lines;
  run_result r;
  if (!have_shared("the 45k-row file"))
    return;
  snprintf(path, sizeof path, "%s/btcperp_ftx_1m.csv", shared);
  const char *args[] = {"calc", "ema:20", "--filter", "heikin_ashi", "--csv", path, NULL};
  double t0 = now_s();
  run(&r, args);
  double took = now_s() - t0;
  assert_status(&r, 0);
  assert_int_equal(split_lines(r.out, &lines), 45032);
  free(lines);
  result_free(&r);
  if (took > 5.0)
    fail_msg("calc over 45031 bars took %.2f s", took);
}

/* One TA-Lib reference file: "# plugin: macd fast=12 slow=26 signal=9"
 * becomes the spec "macd:fast=12,slow=26,signal=9". */
typedef struct reference {
  char spec[256];
  int first;
  int n_cols;
  char *text; /* the file, its rows split in place */
  char **lines;
  size_t n_lines;
  size_t header; /* index of the "bar,..." line */
} reference;

static void load_reference(const char *path, reference *ref) {
  memset(ref, 0, sizeof *ref);
  ref->first = -1;
  ref->text = read_file(path);
  assert_non_null(ref->text);
  ref->n_lines = split_lines(ref->text, &ref->lines);
  for (size_t i = 0; i < ref->n_lines; i++) {
    const char *l = ref->lines[i];
    if (strncmp(l, "# plugin: ", 10) == 0) {
      size_t n = 0;
      char sep = ':'; /* after the id, then between the parameters */
      for (const char *p = l + 10; *p && n + 2 < sizeof ref->spec; p++) {
        ref->spec[n++] = *p == ' ' ? sep : *p;
        sep = *p == ' ' ? ',' : sep;
      }
      ref->spec[n] = '\0';
    } else if (strncmp(l, "# first: ", 9) == 0) {
      ref->first = (int)strtol(l + 9, NULL, 10);
    } else if (strncmp(l, "bar,", 4) == 0) {
      ref->header = i;
      for (const char *p = l; *p; p++)
        ref->n_cols += *p == ',';
      break;
    }
  }
  if (!ref->spec[0] || ref->first < 0 || ref->n_cols == 0)
    fail_msg("%s: not a reference file (see its README)", path);
}

static int check_reference(const char *path) {
  reference ref;
  char **out;
  run_result r;
  int compared = 0;
  load_reference(path, &ref);
  char data[1200];
  snprintf(data, sizeof data, "%s/btcusd_bitstamp_1d.csv", shared);
  const char *args[] = {"calc", ref.spec, "--csv", data, NULL};
  run(&r, args);
  assert_status(&r, 0);
  size_t n = split_lines(r.out, &out);
  assert_int_equal(n, 2823);
  /* The last row before the first value is empty, the first is not. */
  if (ref.first > 0)
    assert_true(isnan(field(out[ref.first], 1)));
  assert_false(isnan(field(out[ref.first + 1], 1)));
  for (size_t i = ref.header + 1; i < ref.n_lines; i++) {
    if (!ref.lines[i][0])
      continue;
    long bar = strtol(ref.lines[i], NULL, 10);
    assert_true(bar >= 0 && (size_t)bar + 1 < n);
    for (int k = 1; k <= ref.n_cols; k++) {
      double want = field(ref.lines[i], k), got = field(out[bar + 1], k);
      double err = fabs(want - got) / fmax(1.0, fabs(want));
      if (!(err <= 1e-9))
        fail_msg("%s: `tack calc %s`, bar %ld column %d: %.17g, TA-Lib %.17g", path, ref.spec, bar,
                 k, got, want);
      compared++;
    }
  }
  free(out);
  free(ref.lines);
  free(ref.text);
  result_free(&r);
  return compared;
}

static void test_talib_reference(void **state) {
  (void)state;
  char path[2048];
  if (!have_shared("the TA-Lib reference check"))
    return;
  /* RSI first, by name: the reference the command must match. */
  snprintf(path, sizeof path, "%s/rsi_14.csv", talib_dir);
  assert_true(check_reference(path) > 100);
  snprintf(path, sizeof path, "%s/rsi_5_ohlc4.csv", talib_dir);
  assert_true(check_reference(path) > 100);
  /* Then every other reference of the folder: each indicator's spec. */
  DIR *dir = opendir(talib_dir);
  assert_non_null(dir);
  int files = 0;
  struct dirent *e;
  while ((e = readdir(dir))) {
    size_t n = strlen(e->d_name);
    if (n < 5 || strcmp(e->d_name + n - 4, ".csv") != 0 || strncmp(e->d_name, "rsi_", 4) == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", talib_dir, e->d_name);
    check_reference(path);
    files++;
  }
  closedir(dir);
  assert_true(files >= 40);
}

/* ------------------------------------------------------------------------ */

static int setup_paths(void) {
  const char *build = getenv("TACK_BUILD_DIR");
  const char *source = getenv("TACK_SOURCE_DIR");
  const char *sh = getenv("TACK_SHARED_DIR");
  struct stat st;
  if (!build || !source) {
    fprintf(stderr, "TACK_BUILD_DIR and TACK_SOURCE_DIR must be set: run through ctest\n");
    return -1;
  }
  snprintf(exe, sizeof exe, "%s/host/tack", build);
  if (access(exe, X_OK) != 0) {
    fprintf(stderr, "%s: not built: %s\n", exe, strerror(errno));
    return -1;
  }
  snprintf(talib_dir, sizeof talib_dir, "%s/tests/fixtures/talib/btcusd_bitstamp_1d", source);
  if (sh && *sh) {
    snprintf(shared, sizeof shared, "%s/data", sh);
    if (stat(shared, &st) != 0 || !S_ISDIR(st.st_mode))
      shared[0] = '\0';
  }
  /* Only the build's own plugins. */
  unsetenv("TACK_PLUGIN_PATH");
  const char *base = getenv("TMPDIR");
  snprintf(tmp, sizeof tmp, "%s/tack-cli-tools-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmp)) {
    fprintf(stderr, "mkdtemp %s: %s\n", tmp, strerror(errno));
    return -1;
  }
  return 0;
}

static void remove_tmp(void) {
  DIR *dir = opendir(tmp);
  struct dirent *e;
  char path[512];
  while (dir && (e = readdir(dir))) {
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
    unlink(path);
  }
  if (dir)
    closedir(dir);
  rmdir(tmp);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_help),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_calc_sma_by_hand),
      cmocka_unit_test(test_calc_columns_and_warm_up),
      cmocka_unit_test(test_calc_filter_equals_pipe),
      cmocka_unit_test(test_filter_renko),
      cmocka_unit_test(test_spec_errors),
      cmocka_unit_test(test_malformed_input),
      cmocka_unit_test(test_bars_from_trades),
      cmocka_unit_test(test_bars_resample),
      cmocka_unit_test(test_big_file),
      cmocka_unit_test(test_talib_reference),
  };
  /* cmocka 1.1.5 exits 0 when a group setup fails: set up here instead. */
  if (setup_paths() != 0)
    return 1;
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  remove_tmp();
  return failed;
}
