/*
 * test_cli_data.c: `tack data import|ls|export|rm` run as the real binary
 * ($TACK_BUILD_DIR/host/tack) against temporary stores: the round trip of a
 * canonical file, re-imports and replaced candles, ranges, malformed files
 * and their line numbers, where the store is (--store, TACK_STORE,
 * ./var/store), --help and usage errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char tack_exe[1024];

typedef struct fixture {
  char dir[256];
  char store[300];
  char file[300];
} fixture;

/* What one run printed and how it ended. */
typedef struct run_result {
  int status; /* exit status, or -1 when it did not exit normally */
  char *out;
  char *err;
} run_result;

static void result_free(run_result *r) {
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  const char *base = getenv("TMPDIR");
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "%s/tack-cli-data-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->store, sizeof f->store, "%s/store", f->dir);
  snprintf(f->file, sizeof f->file, "%s/in.csv", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* Appends what fd has to *buf; 0 at end of file. */
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

/* Runs tack with args (NULL-terminated, after the program name) in folder
 * cwd (NULL: this one), with TACK_STORE set to store_env, or unset when
 * store_env is NULL, and the file in (NULL: /dev/null) as standard input. */
static void run_in(run_result *r, const char *cwd, const char *store_env, const char *in,
                   const char *const *args) {
  const char *argv[32];
  char *envp[512];
  char env_store[512];
  size_t na = 0, ne = 0;
  int out_pipe[2], err_pipe[2];
  size_t out_len = 0, err_len = 0;

  argv[na++] = tack_exe;
  for (; args[na - 1] && na < 31; na++)
    argv[na] = args[na - 1];
  argv[na] = NULL;
  for (char **e = environ; *e && ne < 510; e++)
    if (strncmp(*e, "TACK_STORE=", 11) != 0)
      envp[ne++] = *e;
  if (store_env) {
    snprintf(env_store, sizeof env_store, "TACK_STORE=%s", store_env);
    envp[ne++] = env_store;
  }
  envp[ne] = NULL;

  r->out = calloc(1, 1);
  r->err = calloc(1, 1);
  assert_non_null(r->out);
  assert_non_null(r->err);
  assert_int_equal(pipe(out_pipe), 0);
  assert_int_equal(pipe(err_pipe), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int in_fd = open(in ? in : "/dev/null", O_RDONLY);
    if ((cwd && chdir(cwd) != 0) || in_fd < 0)
      _exit(126);
    dup2(in_fd, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    close(out_pipe[0]);
    close(err_pipe[0]);
    execve(tack_exe, (char *const *)argv, envp);
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    int pr = poll(fds, 2, 60000);
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr <= 0)
      fail_msg("tack printed nothing for 60 s");
    if (fds[0].revents && !drain(fds[0].fd, &r->out, &out_len)) {
      close(fds[0].fd);
      fds[0].fd = -1;
    }
    if (fds[1].revents && !drain(fds[1].fd, &r->err, &err_len)) {
      close(fds[1].fd);
      fds[1].fd = -1;
    }
  }
  int ws;
  assert_int_equal(waitpid(pid, &ws, 0), pid);
  r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
  /* Under TACK_SANITIZE a report fails the test whatever the exit status. */
  if (strstr(r->err, "runtime error:") || strstr(r->err, "Sanitizer"))
    fail_msg("tack %s: sanitizer report:\n%s", args[0] ? args[0] : "", r->err);
}

static void run(run_result *r, const char *const *args) { run_in(r, NULL, NULL, NULL, args); }

/* Fails with what tack printed when the status is not want. */
static void expect_status(const run_result *r, int want) {
  if (r->status != want)
    fail_msg("exit status %d, want %d\n--- stdout\n%s--- stderr\n%s", r->status, want, r->out,
             r->err);
}

static void expect_has(const char *text, const char *needle) {
  if (!strstr(text, needle))
    fail_msg("\"%s\" not in:\n%s", needle, text);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
}

/* A canonical file (what export writes): n hourly candles from 2018-05-15
 * 06:00 UTC whose values need all 17 digits. Caller frees. */
static char *canonical(size_t n, double shift) {
  size_t cap = 64 + n * 160, len = 0;
  char *s = malloc(cap);
  assert_non_null(s);
  len += (size_t)snprintf(s, cap, "ts,open,high,low,close,volume\n");
  for (size_t i = 0; i < n; i++) {
    double o = 8733.86 + (double)i / 3 + shift, c = o + 0.1;
    len += (size_t)snprintf(s + len, cap - len, "%lld,%.17g,%.17g,%.17g,%.17g,%.17g\n",
                            1526364000LL + 3600LL * (long long)i, o, c + 1.0 / 7, o - 0.2, c,
                            (double)(i % 5) * 0.01);
  }
  return s;
}

/* ------------------------------------------------------------------------ */

static void test_help(void **state) {
  (void)state;
  const char *const cmds[][5] = {{"data", "--help", NULL},
                                 {"data", "import", "--help", NULL},
                                 {"data", "ls", "-h", NULL},
                                 {"data", "export", "--help", NULL},
                                 {"data", "rm", "--symbol", "--help", NULL}};
  const char *const usage[] = {"usage: tack data <command>", "usage: tack data import FILE",
                               "usage: tack data ls", "usage: tack data export",
                               "usage: tack data rm"};
  for (size_t i = 0; i < 5; i++) {
    run_result r;
    run(&r, cmds[i]);
    expect_status(&r, 0);
    expect_has(r.out, usage[i]);
    expect_has(r.out, "TACK_STORE");
    expect_has(r.out, "./var/store");
    assert_string_equal(r.err, "");
    result_free(&r);
  }
  run_result r;
  const char *const top[] = {"--help", NULL};
  run(&r, top);
  expect_has(r.out, "data");
  result_free(&r);
}

static void test_usage_errors(void **state) {
  fixture *f = *state;
  write_file(f->file, "ts,open,high,low,close,volume\n0,1,1,1,1,1\n");
  struct {
    const char *args[12];
    const char *msg;
  } cases[] = {
      {{"data", NULL}, "no command given"},
      {{"data", "frob", NULL}, "unknown command 'frob'"},
      {{"data", "import", "--symbol", "S", "--timeframe", "1h", NULL}, "no file given"},
      {{"data", "import", f->file, "--timeframe", "1h", NULL}, "--symbol is required"},
      {{"data", "import", f->file, "--symbol", "S", NULL}, "--timeframe is required"},
      {{"data", "import", f->file, "--symbol", "S", "--timeframe", "1x", NULL}, "--timeframe '1x'"},
      {{"data", "import", f->file, "--symbol", "B T C", "--timeframe", "1h", NULL},
       "--symbol 'B T C'"},
      {{"data", "import", f->file, f->file, "--symbol", "S", "--timeframe", "1h", NULL},
       "one file at a time"},
      {{"data", "import", f->file, "--symbol", "S", "--timeframe", "1h", "--bogus", NULL},
       "unknown option '--bogus'"},
      {{"data", "import", f->file, "--symbol", "S", "--symbol", "T", "--timeframe", "1h", NULL},
       "--symbol given twice"},
      {{"data", "import", f->file, "--symbol", "S", "--timeframe", NULL}, "--timeframe needs a"},
      {{"data", "ls", "extra", NULL}, "unexpected argument 'extra'"},
      {{"data", "ls", "--symbol", "S", NULL}, "unknown option '--symbol'"},
      {{"data", "export", "--symbol", "S", "--timeframe", "1h", "--from", "yesterday", NULL},
       "--from 'yesterday'"},
      {{"data", "export", "--symbol", "S", "--timeframe", "1h", "--to", "2018-02-30", NULL},
       "--to '2018-02-30'"},
      {{"data", "export", "--symbol", "S", "--timeframe", "1h", "--from", "2019-01-01", "--to",
        "2018-01-01", NULL},
       "--from 2019-01-01 is not before --to 2018-01-01"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    run_result r;
    run(&r, cases[i].args);
    expect_status(&r, 2);
    expect_has(r.err, cases[i].msg);
    expect_has(r.err, "--help'");
    result_free(&r);
  }
}

static void test_round_trip(void **state) {
  fixture *f = *state;
  char *text = canonical(200, 0);
  write_file(f->file, text);
  const char *const import[] = {"data",        "import", f->file,   "--symbol", "BTC-USD",
                                "--timeframe", "1h",     "--store", f->store,   NULL};
  run_result r;
  run(&r, import);
  expect_status(&r, 0);
  expect_has(r.out, "200 rows read, 2018-05-15T06:00:00Z .. 2018-05-23T13:00:00Z");
  expect_has(r.out, "BTC-USD 1h in ");
  expect_has(r.out, "200 new, 0 replaced, 0 unchanged");
  result_free(&r);

  const char *const ls[] = {"data", "ls", "--store", f->store, NULL};
  run(&r, ls);
  expect_status(&r, 0);
  expect_has(r.out, "SYMBOL");
  expect_has(r.out, "GAPS");
  expect_has(r.out, "BTC-USD  1h");
  expect_has(r.out, "200  2018-05-15T06:00:00Z  2018-05-23T13:00:00Z       0\n");
  result_free(&r);

  const char *const exp[] = {"data", "export",  "--symbol", "BTC-USD", "--timeframe",
                             "3600", "--store", f->store,   NULL};
  run(&r, exp);
  expect_status(&r, 0);
  assert_string_equal(r.out, text);
  result_free(&r);

  /* The same file on standard input, with a byte order mark and blank lines
   * at the end, as another series: the same candles. */
  char stdin_file[400];
  snprintf(stdin_file, sizeof stdin_file, "%s/stdin.csv", f->dir);
  size_t tlen = strlen(text);
  char *bom = malloc(tlen + 8);
  assert_non_null(bom);
  memcpy(bom, "\xef\xbb\xbf", 3);
  memcpy(bom + 3, text, tlen);
  memcpy(bom + 3 + tlen, "\r\n\n", 4);
  write_file(stdin_file, bom);
  free(bom);
  const char *const import_in[] = {"data",        "import", "-",       "--symbol", "BTC-USD-2",
                                   "--timeframe", "1h",     "--store", f->store,   NULL};
  run_in(&r, NULL, NULL, stdin_file, import_in);
  expect_status(&r, 0);
  expect_has(r.out, "<stdin>: 200 rows read");
  result_free(&r);
  const char *const exp2[] = {"data", "export",  "--symbol", "BTC-USD-2", "--timeframe",
                              "1h",   "--store", f->store,   NULL};
  run(&r, exp2);
  expect_status(&r, 0);
  assert_string_equal(r.out, text);
  result_free(&r);

  /* Again: nothing new, nothing replaced. */
  run(&r, import);
  expect_status(&r, 0);
  expect_has(r.out, "0 new, 0 replaced, 200 unchanged");
  result_free(&r);

  /* Two rows changed (lines 11 and 101), two rows more at the end. */
  char *changed = canonical(202, 0);
  char *lines[210];
  size_t nl = 0;
  for (char *p = changed; *p && nl < 210; nl++) {
    lines[nl] = p;
    p = strchr(p, '\n') + 1;
  }
  assert_int_equal(nl, 203);
  char *other = canonical(202, 0.5);
  char *olines[210];
  size_t onl = 0;
  for (char *p = other; *p && onl < 210; onl++) {
    olines[onl] = p;
    p = strchr(p, '\n') + 1;
  }
  size_t cap = strlen(changed) + 1000, len = 0;
  char *mixed = malloc(cap);
  assert_non_null(mixed);
  for (size_t i = 0; i < nl; i++) {
    const char *src = (i == 10 || i == 100) ? olines[i] : lines[i];
    size_t l = (size_t)(strchr(src, '\n') + 1 - src);
    memcpy(mixed + len, src, l);
    len += l;
  }
  mixed[len] = '\0';
  write_file(f->file, mixed);
  run(&r, import);
  expect_status(&r, 0);
  expect_has(r.out, "in.csv:11: replaced the stored candle of 2018-05-15T15:00:00Z");
  expect_has(r.out, "in.csv:101: replaced the stored candle of 2018-05-19T09:00:00Z");
  expect_has(r.out, "2 new, 2 replaced, 198 unchanged");
  result_free(&r);
  run(&r, exp);
  expect_status(&r, 0);
  assert_string_equal(r.out, mixed);
  result_free(&r);

  free(mixed);
  free(other);
  free(changed);
  free(text);
}

static void test_export_ranges(void **state) {
  fixture *f = *state;
  char *text = canonical(48, 0); /* 2018-05-15T06:00 .. 2018-05-17T05:00 */
  write_file(f->file, text);
  const char *const import[] = {"data",        "import", f->file,   "--symbol", "X",
                                "--timeframe", "1h",     "--store", f->store,   NULL};
  run_result r;
  run(&r, import);
  expect_status(&r, 0);
  result_free(&r);

  struct {
    const char *from, *to;
    int rows;
    const char *first;
  } cases[] = {
      {"2018-05-16", "2018-05-17", 24, "\n1526428800,"},
      {"2018-05-16T00:00:00Z", "2018-05-16T01:00", 1, "\n1526428800,"},
      {"1526428800", "1526428800.000000001", 1, "\n1526428800,"},
      {"1526428799.5", "2018-05-16 02:00:00.000000000Z", 2, "\n1526428800,"},
      {"2018-05-14", "2018-05-15T06:00", 0, NULL},
      {"2018-05-17T05:00", "2100-01-01", 1, "\n1526533200,"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *const exp[] = {"data",    "export", "--symbol",    "X",    "--timeframe",
                               "1h",      "--from", cases[i].from, "--to", cases[i].to,
                               "--store", f->store, NULL};
    run(&r, exp);
    expect_status(&r, 0);
    int rows = -1;
    for (const char *p = r.out; (p = strchr(p, '\n')) != NULL; p++)
      rows++;
    if (rows != cases[i].rows)
      fail_msg("--from %s --to %s: %d rows, want %d:\n%s", cases[i].from, cases[i].to, rows,
               cases[i].rows, r.out);
    if (cases[i].first)
      expect_has(r.out, cases[i].first);
    result_free(&r);
  }

  const char *const absent[] = {"data", "export",  "--symbol", "X", "--timeframe",
                                "4h",   "--store", f->store,   NULL};
  run(&r, absent);
  expect_status(&r, 1);
  expect_has(r.err, "no series X 4h in");
  result_free(&r);
  free(text);
}

static void test_malformed_file(void **state) {
  fixture *f = *state;
  write_file(f->file, "ts,open,high,low,close,volume\n"
                      "1526364000,1,2,0.5,1,1\n"
                      "1526367600,1,2,0.5,1,1\n"
                      "1526371200,1,2,0.5,1\n" /* line 4 */
                      "1526374800,1,2,0.5,1,1\n"
                      "1526378400,1,2,0.5,1,1\n"
                      "1526382000,1,2,0.5,1,1\n"
                      "1526385600,1,2,0.5,1,1\n"
                      "1526389200,1,2,2.5,1,1\n"    /* line 9 */
                      "1526392800,1,2,0.5,1,-1\n"); /* line 10, the last */
  const char *const import[] = {"data",        "import", f->file,   "--symbol", "BAD",
                                "--timeframe", "1h",     "--store", f->store,   NULL};
  run_result r;
  run(&r, import);
  expect_status(&r, 1);
  char want[400];
  snprintf(want, sizeof want, "%s:4: 5 fields, expected 6", f->file);
  expect_has(r.err, want);
  snprintf(want, sizeof want, "%s:9: low 2.5 is above open 1", f->file);
  expect_has(r.err, want);
  snprintf(want, sizeof want, "%s:10: volume -1 is negative", f->file);
  expect_has(r.err, want);
  expect_has(r.err, "3 bad rows: nothing imported");
  assert_string_equal(r.out, "");
  result_free(&r);

  /* Nothing was stored: not even the store was made. */
  const char *const ls[] = {"data", "ls", "--store", f->store, NULL};
  run(&r, ls);
  expect_status(&r, 1);
  expect_has(r.err, "no store at");
  result_free(&r);

  /* 25 bad rows: 20 listed, then a count. */
  size_t cap = 4096, len = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  len += (size_t)snprintf(text, cap, "ts,open,high,low,close,volume\n");
  for (int i = 0; i < 25; i++)
    len += (size_t)snprintf(text + len, cap - len, "%d,1,1,1,1,x\n", i * 3600);
  write_file(f->file, text);
  run(&r, import);
  expect_status(&r, 1);
  snprintf(want, sizeof want, "%s:21: volume \"x\"", f->file);
  expect_has(r.err, want);
  snprintf(want, sizeof want, "%s:22:", f->file);
  assert_null(strstr(r.err, want));
  expect_has(r.err, "... and 5 more bad rows");
  expect_has(r.err, "25 bad rows: nothing imported");
  result_free(&r);
  free(text);

  const char *const missing[] = {
      "data",   "import", "/nonexistent/none.csv", "--symbol", "S", "--timeframe", "1h", "--store",
      f->store, NULL};
  run(&r, missing);
  expect_status(&r, 1);
  expect_has(r.err, "/nonexistent/none.csv: cannot open");
  result_free(&r);
}

static void test_store_location(void **state) {
  fixture *f = *state;
  write_file(f->file, "ts,open,high,low,close,volume\n0,1,1,1,1,1\n60,1,1,1,1,1\n");
  char env_store[400], default_store[400];
  snprintf(env_store, sizeof env_store, "%s/from-env", f->dir);
  snprintf(default_store, sizeof default_store, "%s/var/store/data.mdb", f->dir);
  run_result r;

  /* TACK_STORE names the store when --store is not given. */
  const char *const import[] = {"data", "import",      f->file, "--symbol",
                                "E",    "--timeframe", "1m",    NULL};
  run_in(&r, f->dir, env_store, NULL, import);
  expect_status(&r, 0);
  expect_has(r.out, "E 1m in ");
  expect_has(r.out, env_store);
  result_free(&r);
  /* --store wins over it. */
  const char *const ls_store[] = {"data", "ls", "--store", f->store, NULL};
  run_in(&r, f->dir, env_store, NULL, ls_store);
  expect_status(&r, 1);
  expect_has(r.err, "no store at");
  expect_has(r.err, "(--store)");
  result_free(&r);
  const char *const ls[] = {"data", "ls", NULL};
  run_in(&r, f->dir, env_store, NULL, ls);
  expect_status(&r, 0);
  expect_has(r.out, "E       1m");
  result_free(&r);

  /* Neither: ./var/store in the current folder. */
  run_in(&r, f->dir, NULL, NULL, ls);
  expect_status(&r, 1);
  expect_has(r.err, "no store at ./var/store (the default)");
  result_free(&r);
  const char *const import_d[] = {"data", "import",      f->file, "--symbol",
                                  "D",    "--timeframe", "60",    NULL};
  run_in(&r, f->dir, NULL, NULL, import_d);
  expect_status(&r, 0);
  expect_has(r.out, "D 1m in ./var/store: 2 new");
  result_free(&r);
  struct stat sb;
  assert_int_equal(stat(default_store, &sb), 0);
  /* An empty TACK_STORE counts as unset. */
  run_in(&r, f->dir, "", NULL, ls);
  expect_status(&r, 0);
  expect_has(r.out, "D       1m");
  result_free(&r);
}

static void test_gaps_and_rm(void **state) {
  fixture *f = *state;
  /* 1m candles with two holes: 3 -> 5 and 5 -> 9 (missing 4, 6, 7, 8). */
  write_file(f->file, "ts,open,high,low,close,volume\n"
                      "0,1,1,1,1,1\n60,1,1,1,1,1\n120,1,1,1,1,1\n180,1,1,1,1,1\n"
                      "300,1,1,1,1,1\n540,1,1,1,1,1\n600,1,1,1,1,1\n");
  const char *const import[] = {"data",        "import", f->file,   "--symbol", "GAPPY",
                                "--timeframe", "1m",     "--store", f->store,   NULL};
  run_result r;
  run(&r, import);
  expect_status(&r, 0);
  result_free(&r);
  const char *const import2[] = {"data",        "import", f->file,   "--symbol", "GAPPY",
                                 "--timeframe", "60s",    "--store", f->store,   NULL};
  run(&r, import2); /* the same series */
  expect_status(&r, 0);
  expect_has(r.out, "0 new, 0 replaced, 7 unchanged");
  result_free(&r);

  const char *const ls[] = {"data", "ls", "--store", f->store, NULL};
  run(&r, ls);
  expect_status(&r, 0);
  expect_has(r.out,
             "GAPPY   1m                  7  1970-01-01T00:00:00Z  1970-01-01T00:10:00Z       2\n");
  result_free(&r);

  const char *const rm[] = {"data", "rm",      "--symbol", "GAPPY", "--timeframe",
                            "1m",   "--store", f->store,   NULL};
  run(&r, rm);
  expect_status(&r, 0);
  expect_has(r.out, "GAPPY 1m in");
  expect_has(r.out, "7 candles deleted");
  result_free(&r);
  run(&r, rm);
  expect_status(&r, 1);
  expect_has(r.err, "no series GAPPY 1m");
  result_free(&r);
  run(&r, ls);
  expect_status(&r, 0);
  expect_has(r.out, "no candles in");
  result_free(&r);
}

int main(void) {
  /* cmocka 1.1.5 reports success when a group setup fails: check here. */
  const char *build = getenv("TACK_BUILD_DIR");
  struct stat sb;
  if (!build) {
    fprintf(stderr, "test_cli_data: TACK_BUILD_DIR is not set: run this test through ctest\n");
    return 1;
  }
  snprintf(tack_exe, sizeof tack_exe, "%s/host/tack", build);
  if (stat(tack_exe, &sb) != 0) {
    fprintf(stderr, "test_cli_data: %s: %s: build the tack target first\n", tack_exe,
            strerror(errno));
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_help),
      cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_export_ranges, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_location, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gaps_and_rm, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
