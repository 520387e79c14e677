/*
 * test_cli_plugins.c: `tack plugins` and `tack plugin-info`, run as the real
 * tack binary (TACK_EXE, set by tests/loader.cmake) against the loader's
 * fixture plugins: the table and the refusals, --strict, the default folders
 * (TACK_PLUGIN_PATH, and <exe>/../plugins), plugin-info on good and refused
 * files, --help, and usage errors.
 */
/* glibc declares realpath() only for X/Open (or default) builds. */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tack.h"

#ifndef TACK_EXE
#error "TACK_EXE must name the tack binary (tests/loader.cmake sets it)"
#endif

extern char **environ;

/* What one run of tack printed and how it ended. */
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

static const char *fixture_dir(char *buf, size_t cap, const char *folder) {
  const char *root = getenv("TACK_FIXTURE_DIR");
  if (!root)
    fail_msg("TACK_FIXTURE_DIR is not set: run this test through ctest");
  snprintf(buf, cap, "%s/loader/%s", root, folder);
  return buf;
}

static const char *fixture_file(char *buf, size_t cap, const char *folder, const char *name) {
  const char *root = getenv("TACK_FIXTURE_DIR");
  if (!root)
    fail_msg("TACK_FIXTURE_DIR is not set: run this test through ctest");
  snprintf(buf, cap, "%s/loader/%s/%s.so", root, folder, name);
  return buf;
}

/* Append what fd has to *buf; 0 at end of file. */
static int drain(int fd, char **buf, size_t *len) {
  char chunk[4096];
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

/* Run exe with args (NULL-terminated, args[0] is the program name), its
 * output captured. */
static void run_exe(run_result *r, const char *exe, const char *const *args) {
  int out_pipe[2], err_pipe[2];
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int wstatus;
  size_t out_len = 0, err_len = 0;
  struct pollfd fds[2];

  r->out = calloc(1, 1);
  r->err = calloc(1, 1);
  assert_non_null(r->out);
  assert_non_null(r->err);
  assert_int_equal(pipe(out_pipe), 0);
  assert_int_equal(pipe(err_pipe), 0);
  assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
  posix_spawn_file_actions_addclose(&fa, err_pipe[0]);
  assert_int_equal(posix_spawn(&pid, exe, &fa, NULL, (char *const *)args, environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);

  fds[0].fd = out_pipe[0];
  fds[1].fd = err_pipe[0];
  fds[0].events = fds[1].events = POLLIN;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (poll(fds, 2, 30000) <= 0) {
      if (errno == EINTR)
        continue;
      fail_msg("tack produced no output for 30 s");
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

static void run_tack(run_result *r, const char *const *args) { run_exe(r, TACK_EXE, args); }

static void assert_contains(const char *text, const char *word) {
  if (!strstr(text, word))
    fail_msg("expected \"%s\" in:\n%s", word, text);
}

static void assert_lacks(const char *text, const char *word) {
  if (strstr(text, word))
    fail_msg("did not expect \"%s\" in:\n%s", word, text);
}

static void assert_status(const run_result *r, int status) {
  if (strstr(r->err, "Sanitizer") || strstr(r->err, "runtime error:"))
    fail_msg("tack reported a sanitizer error:\n%s", r->err);
  if (r->status != status)
    fail_msg("exit status %d, expected %d\nstdout:\n%s\nstderr:\n%s", r->status, status, r->out,
             r->err);
}

/* ---------------------------------------------------------------------- */
/* tack plugins                                                            */
/* ---------------------------------------------------------------------- */

static void test_plugins_table_and_refusals(void **state) {
  char d1[PATH_MAX], d2[PATH_MAX], d3[PATH_MAX], d4[PATH_MAX], d5[PATH_MAX];
  run_result r;
  (void)state;
  const char *args[] = {"tack",  "plugins",
                        "--dir", fixture_dir(d1, sizeof d1, "good_filter"),
                        "--dir", fixture_dir(d2, sizeof d2, "good_indicator"),
                        "--dir", fixture_dir(d3, sizeof d3, "abi_major"),
                        "--dir", fixture_dir(d4, sizeof d4, "duplicate"),
                        "--dir", fixture_dir(d5, sizeof d5, "not_elf"),
                        NULL};
  run_tack(&r, args);
  assert_status(&r, 0);
  assert_contains(r.out, "KIND");
  assert_contains(r.out, "ID");
  assert_contains(r.out, "VERSION");
  assert_contains(r.out, "ABI");
  assert_contains(r.out, "PATH");
  assert_contains(r.out, "filter     good_filter");
  assert_contains(r.out, "indicator  good_indicator  2.1.0");
  assert_contains(r.out, "strategy   dup");
  assert_contains(r.out, "1.0");
  assert_contains(r.out, "good_indicator.so");
  assert_contains(r.out, "refused:");
  assert_contains(r.out, "TACK_ELOAD_ABI_MAJOR: ");
  assert_contains(r.out, "abi_major.so: built for tack ABI 2.0; this host provides 1.1");
  assert_contains(r.out, "TACK_ELOAD_DUPLICATE: ");
  assert_contains(r.out, "dup_b.so: plugin id 'dup' is already provided by");
  assert_contains(r.out, "TACK_ELOAD_OPEN: ");
  assert_contains(r.out, "x.so: cannot load it");
  assert_contains(r.out, "3 plugin(s) loaded, 3 refused");
  assert_contains(r.out, "searched: ");
  assert_contains(r.out, d5);
  /* The refusals are printed once, in the output, not logged again. */
  assert_lacks(r.err, "refused");
  result_free(&r);
}

static void test_plugins_strict(void **state) {
  char d1[PATH_MAX], d2[PATH_MAX];
  run_result r;
  (void)state;
  const char *bad[] = {
      "tack",   "plugins", "--strict", "--dir", fixture_dir(d1, sizeof d1, "good_scorer"),
      "--dir=", NULL};
  const char *refused[] = {"tack",     "plugins",
                           "--dir",    fixture_dir(d1, sizeof d1, "good_scorer"),
                           "--dir",    fixture_dir(d2, sizeof d2, "layout"),
                           "--strict", NULL};
  const char *good[] = {
      "tack", "plugins", "--strict", "--dir", fixture_dir(d1, sizeof d1, "good_scorer"), NULL};

  run_tack(&r, refused);
  assert_status(&r, 1);
  assert_contains(r.out, "good_scorer");
  assert_contains(r.out, "TACK_ELOAD_LAYOUT");
  result_free(&r);

  run_tack(&r, good);
  assert_status(&r, 0);
  assert_contains(r.out, "scorer  good_scorer");
  assert_lacks(r.out, "refused:");
  result_free(&r);

  /* "--dir=" names no folder. */
  run_tack(&r, bad);
  assert_status(&r, 2);
  result_free(&r);
}

static void test_plugins_missing_folder(void **state) {
  run_result r;
  (void)state;
  const char *plain[] = {"tack", "plugins", "--dir", "/nonexistent/tack/plugins", NULL};
  const char *strict[] = {"tack", "plugins", "--dir=/nonexistent/tack/plugins", "--strict", NULL};

  run_tack(&r, plain);
  assert_status(&r, 0);
  assert_contains(r.out, "no plugins found");
  assert_contains(r.out, "TACK_ENOENT: /nonexistent/tack/plugins: cannot read this plugin folder");
  result_free(&r);

  run_tack(&r, strict);
  assert_status(&r, 1);
  result_free(&r);
}

static void test_plugins_plugin_path_env(void **state) {
  char d1[PATH_MAX], d2[PATH_MAX], value[2 * PATH_MAX + 2];
  run_result r;
  (void)state;
  const char *args[] = {"tack", "plugins", NULL};

  snprintf(value, sizeof value, "%s:%s", fixture_dir(d1, sizeof d1, "good_scorer"),
           fixture_dir(d2, sizeof d2, "good_exchange"));
  assert_int_equal(setenv("TACK_PLUGIN_PATH", value, 1), 0);
  run_tack(&r, args);
  unsetenv("TACK_PLUGIN_PATH");
  assert_status(&r, 0);
  assert_contains(r.out, "searched: TACK_PLUGIN_PATH (");
  assert_contains(r.out, value);
  assert_contains(r.out, "scorer");
  assert_contains(r.out, "good_scorer");
  assert_contains(r.out, "good_exchange");
  result_free(&r);
}

static void copy_file(const char *from, const char *to, mode_t mode) {
  char block[8192];
  size_t n;
  FILE *in = fopen(from, "rb");
  FILE *out = fopen(to, "wb");
  assert_non_null(in);
  assert_non_null(out);
  while ((n = fread(block, 1, sizeof block, in)) > 0)
    assert_int_equal(fwrite(block, 1, n, out), n);
  assert_int_equal(fclose(in), 0);
  assert_int_equal(fclose(out), 0);
  assert_int_equal(chmod(to, mode), 0);
}

/* A tack binary finds the plugins folder beside its own folder. */
static void test_plugins_next_to_executable(void **state) {
  char root[] = "/tmp/tack-cli-XXXXXX";
  char bin[64], plugins[64], exe[128], plugin[128], src[PATH_MAX];
  run_result r;
  (void)state;
  const char *args[] = {"tack", "plugins", NULL};

  assert_non_null(mkdtemp(root));
  snprintf(bin, sizeof bin, "%s/bin", root);
  snprintf(plugins, sizeof plugins, "%s/plugins", root);
  snprintf(exe, sizeof exe, "%s/tack", bin);
  snprintf(plugin, sizeof plugin, "%s/local.so", plugins);
  assert_int_equal(mkdir(bin, 0755), 0);
  assert_int_equal(mkdir(plugins, 0755), 0);
  copy_file(TACK_EXE, exe, 0755);
  copy_file(fixture_file(src, sizeof src, "good_filter", "good_filter"), plugin, 0644);

  unsetenv("TACK_PLUGIN_PATH");
  run_exe(&r, exe, args);
  unlink(exe);
  unlink(plugin);
  rmdir(bin);
  rmdir(plugins);
  rmdir(root);
  assert_status(&r, 0);
  assert_contains(r.out, "filter  good_filter");
  assert_contains(r.out, plugin);
  assert_contains(r.out, "1 plugin(s) loaded, 0 refused");
  assert_contains(r.out, "searched: ");
  assert_contains(r.out, plugins);
  result_free(&r);
}

static void test_plugins_help(void **state) {
  run_result r;
  (void)state;
  const char *args[] = {"tack", "plugins", "--help", NULL};
  run_tack(&r, args);
  assert_status(&r, 0);
  assert_contains(r.out, "usage: tack plugins [--dir DIR]... [--strict]");
  assert_contains(r.out, "TACK_PLUGIN_PATH");
  assert_contains(r.out, "colon-separated");
  assert_contains(r.out, "--dir DIR");
  assert_contains(r.out, "--strict");
  assert_contains(r.out, "KIND, ID, VERSION, ABI");
  assert_contains(r.out, "TACK_ELOAD_ABI_MAJOR");
  assert_contains(r.out, "exit status");
  result_free(&r);
}

/* ---------------------------------------------------------------------- */
/* tack plugin-info                                                        */
/* ---------------------------------------------------------------------- */

static void test_plugin_info_indicator(void **state) {
  char file[PATH_MAX], real[PATH_MAX];
  run_result r;
  (void)state;
  const char *args[] = {"tack", "plugin-info",
                        fixture_file(file, sizeof file, "good_indicator", "good_indicator"), NULL};

  assert_non_null(realpath(file, real));
  run_tack(&r, args);
  assert_status(&r, 0);
  assert_contains(r.out, "id:          good_indicator");
  assert_contains(r.out, "kind:        indicator");
  assert_contains(r.out, "name:        Good indicator fixture");
  assert_contains(r.out, "version:     2.1.0");
  assert_contains(r.out, "description: Range and midpoint of each bar.");
  assert_contains(r.out, "abi:         1.1");
  assert_contains(r.out, "path:");
  assert_contains(r.out, real);
  assert_contains(r.out, "parameters:");
  assert_contains(r.out, "NAME");
  assert_contains(r.out, "TYPE");
  assert_contains(r.out, "DEFAULT");
  assert_contains(r.out, "RANGE/CHOICES");
  assert_contains(r.out, "REQUIRED");
  assert_contains(r.out, "HELP");
  assert_contains(r.out, "period      int     14");
  assert_contains(r.out, "[1, 1000]");
  assert_contains(r.out, "bars in the window");
  assert_contains(r.out, "scale       double  1.5");
  assert_contains(r.out, "[0, 10]");
  assert_contains(r.out, "smooth      bool    false");
  assert_contains(r.out, "mode        string  \"abs\"");
  assert_contains(r.out, "abs|pct");
  assert_contains(r.out, "model_path  string  secret");
  assert_lacks(r.out, "/secret/path");
  assert_contains(r.out, "outputs:");
  assert_contains(r.out, "range  high minus low");
  assert_contains(r.out, "mid    halfway between high and low");
  result_free(&r);
}

static void test_plugin_info_exchange_and_golden(void **state) {
  char file[PATH_MAX];
  run_result r;
  (void)state;
  const char *exchange[] = {"tack", "plugin-info",
                            fixture_file(file, sizeof file, "good_exchange", "good_exchange"),
                            NULL};

  run_tack(&r, exchange);
  assert_status(&r, 0);
  assert_contains(r.out, "kind:        exchange");
  assert_contains(r.out, "api_key  string  secret");
  assert_contains(r.out, "yes");
  assert_contains(r.out, "sandbox  bool    true");
  assert_lacks(r.out, "outputs:");
  result_free(&r);

  const char *golden[] = {"tack", "plugin-info", "--",
                          fixture_file(file, sizeof file, "golden", "golden_1_0"), NULL};
  run_tack(&r, golden);
  assert_status(&r, 0);
  assert_contains(r.out, "id:          golden_exchange");
  assert_contains(r.out, "id:          golden_filter");
  assert_contains(r.out, "id:          golden_indicator");
  assert_contains(r.out, "id:          golden_scorer");
  assert_contains(r.out, "id:          golden_strategy");
  assert_contains(r.out, "parameters:   none");
  assert_contains(r.out, "open|high|low|close");
  result_free(&r);
}

static void test_plugin_info_refused(void **state) {
  char file[PATH_MAX];
  run_result r;
  (void)state;
  const char *major[] = {"tack", "plugin-info",
                         fixture_file(file, sizeof file, "abi_major", "abi_major"), NULL};
  const char *missing[] = {"tack", "plugin-info", "/nonexistent/plugin.so", NULL};

  run_tack(&r, major);
  assert_status(&r, 1);
  assert_contains(r.err, "TACK_ELOAD_ABI_MAJOR");
  assert_contains(r.err, "built for tack ABI 2.0; this host provides 1.1");
  assert_contains(r.err, "Rebuild the plugin");
  assert_string_equal(r.out, "");
  result_free(&r);

  run_tack(&r, missing);
  assert_status(&r, 1);
  assert_contains(r.err, "TACK_ELOAD_OPEN");
  assert_contains(r.err, "/nonexistent/plugin.so");
  result_free(&r);
}

static void test_plugin_info_help(void **state) {
  run_result r;
  (void)state;
  const char *args[] = {"tack", "plugin-info", "-h", NULL};
  run_tack(&r, args);
  assert_status(&r, 0);
  assert_contains(r.out, "usage: tack plugin-info FILE.so");
  assert_contains(r.out, "secret");
  assert_contains(r.out, "output columns");
  assert_contains(r.out, "exit status");
  result_free(&r);
}

static void test_usage_errors(void **state) {
  static const char *const cases[][5] = {
      {"tack", "plugins", "--bogus", NULL},
      {"tack", "plugins", "--dir", NULL},
      {"tack", "plugins", "stray", NULL},
      {"tack", "plugin-info", NULL},
      {"tack", "plugin-info", "a.so", "b.so", NULL},
      {"tack", "plugin-info", "--bogus", "a.so", NULL},
  };
  run_result r;
  (void)state;

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    run_tack(&r, cases[i]);
    assert_status(&r, 2);
    assert_contains(r.err, "tack: ");
    assert_contains(r.err, "--help'");
    assert_string_equal(r.out, "");
    result_free(&r);
  }
}

int main(void) {
  /* In a sanitizer build, tack's own errors must not pass for exit status 1
   * (a refusal under --strict): give them a status no test expects. */
  setenv("ASAN_OPTIONS", "exitcode=86", 0);
  setenv("UBSAN_OPTIONS", "exitcode=86:print_stacktrace=1", 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plugins_table_and_refusals),
      cmocka_unit_test(test_plugins_strict),
      cmocka_unit_test(test_plugins_missing_folder),
      cmocka_unit_test(test_plugins_plugin_path_env),
      cmocka_unit_test(test_plugins_next_to_executable),
      cmocka_unit_test(test_plugins_help),
      cmocka_unit_test(test_plugin_info_indicator),
      cmocka_unit_test(test_plugin_info_exchange_and_golden),
      cmocka_unit_test(test_plugin_info_refused),
      cmocka_unit_test(test_plugin_info_help),
      cmocka_unit_test(test_usage_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
