/*
 * test_params.c: plugin parameters checked against a tack_param_spec
 * (host/params.c): every type, defaults, ranges, choices, required and
 * unknown keys, ints where doubles are declared, strings where numbers are,
 * secrets kept out of messages and printing; and the setting helpers
 * (paths, edit distance) that config.c shares.
 *
 * Each test writes a small libconfig file to a temporary folder, so that
 * messages carry a real file name and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "params.h"

/* ---- the plugin under test ---- */

static const tack_param_spec spec[] = {
    {"lookback", TACK_PARAM_INT, 0, 2, 500, 20, NULL, NULL, "bars in the window"},
    {"ratio", TACK_PARAM_DOUBLE, 0, 0, 1, 0.5, NULL, NULL, "share of equity"},
    {"live", TACK_PARAM_BOOL, 0, 0, 0, 0, NULL, NULL, "trade for real"},
    {"mode", TACK_PARAM_STRING, 0, 0, 0, 0, "both", "long|short|both", "sides to trade"},
    {"note", TACK_PARAM_STRING, 0, 0, 0, 0, NULL, NULL, "free text, no default"},
    {"big", TACK_PARAM_INT, 0, 1, 0, 7, NULL, NULL, "unbounded (min > max)"},
    {"api_key", TACK_PARAM_STRING, TACK_PARAM_SECRET | TACK_PARAM_REQUIRED, 0, 0, 0, NULL, NULL,
     "the venue's API key"},
    {"pin", TACK_PARAM_INT, TACK_PARAM_SECRET, 1000, 9999, 1234, NULL, NULL, "a secret number"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

static const tack_plugin_desc desc = {sizeof(tack_plugin_desc),
                                      TACK_KIND_STRATEGY,
                                      "example.momentum",
                                      "Momentum",
                                      "1.0.0",
                                      "test",
                                      spec,
                                      NULL};

static const tack_plugin_desc bare = {
    sizeof(tack_plugin_desc), TACK_KIND_FILTER, "bare", "Bare", "1.0.0", "no params", NULL, NULL};

/* ---- fixture: one config file in a temporary folder ---- */

typedef struct fx {
  char dir[64];
  char path[128];
  config_t lc;
  int have_lc;
  tack_diag d;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/tack-params-XXXXXX");
  if (!mkdtemp(f->dir)) {
    free(f);
    return -1;
  }
  snprintf(f->path, sizeof f->path, "%s/p.cfg", f->dir);
  f->d = (tack_diag)TACK_DIAG_INIT;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  if (f->have_lc)
    config_destroy(&f->lc);
  tack_diag_free(&f->d);
  unlink(f->path);
  rmdir(f->dir);
  free(f);
  return 0;
}

/* Write text as the config and parse it; returns the group at path. */
static const config_setting_t *parse(fx *f, const char *text, const char *path) {
  FILE *out = fopen(f->path, "w");
  assert_non_null(out);
  fputs(text, out);
  fclose(out);
  if (f->have_lc)
    config_destroy(&f->lc);
  config_init(&f->lc);
  f->have_lc = 1;
  if (config_read_file(&f->lc, f->path) != CONFIG_TRUE)
    fail_msg("fixture does not parse: %s:%d: %s", f->path, config_error_line(&f->lc),
             config_error_text(&f->lc));
  return path ? config_lookup(&f->lc, path) : NULL;
}

/* The index of the message containing every fragment, or -1. */
static int find_msg(const tack_diag *d, const char *const *frags, size_t n) {
  for (size_t i = 0; i < d->n; i++) {
    size_t k = 0;
    while (k < n && strstr(d->msgs[i], frags[k]))
      k++;
    if (k == n)
      return (int)i;
  }
  return -1;
}

static void dump(const tack_diag *d) {
  for (size_t i = 0; i < d->n; i++)
    print_message("  diag[%zu]: %s\n", i, d->msgs[i]);
}

#define EXPECT_MSG(d, ...)                                                                         \
  do {                                                                                             \
    const char *frags_[] = {__VA_ARGS__};                                                          \
    if (find_msg((d), frags_, sizeof frags_ / sizeof frags_[0]) < 0) {                             \
      dump(d);                                                                                     \
      fail_msg("no message with all of: %s ...", frags_[0]);                                       \
    }                                                                                              \
  } while (0)

static void no_msg_contains(const tack_diag *d, const char *frag) {
  for (size_t i = 0; i < d->n; i++)
    if (strstr(d->msgs[i], frag)) {
      dump(d);
      fail_msg("message leaks '%s'", frag);
    }
}

/* ---- tests ---- */

static void test_every_type_accepted(void **state) {
  fx *f = *state;
  const config_setting_t *p = parse(f,
                                    "params = {\n"
                                    "  lookback = 30;\n"
                                    "  ratio = 0.25;\n"
                                    "  live = true;\n"
                                    "  mode = \"long\";\n"
                                    "  note = \"hello\";\n"
                                    "  big = 6000000000L;\n"
                                    "  api_key = \"k-123\";\n"
                                    "};\n",
                                    "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), 0);
  assert_int_equal(f->d.n, 0);

  int64_t i;
  double v;
  int b;
  const char *s;
  assert_int_equal(tack_params_int(&desc, p, "lookback", &i), 0);
  assert_int_equal(i, 30);
  assert_int_equal(tack_params_int(&desc, p, "big", &i), 0);
  assert_true(i == INT64_C(6000000000));
  assert_int_equal(tack_params_double(&desc, p, "ratio", &v), 0);
  assert_true(v == 0.25);
  assert_int_equal(tack_params_bool(&desc, p, "live", &b), 0);
  assert_int_equal(b, 1);
  assert_int_equal(tack_params_string(&desc, p, "mode", &s), 0);
  assert_string_equal(s, "long");
  assert_int_equal(tack_params_string(&desc, p, "note", &s), 0);
  assert_string_equal(s, "hello");
}

static void test_defaults(void **state) {
  fx *f = *state;
  const config_setting_t *p = parse(f, "params = { api_key = \"k\"; };\n", "params");
  int64_t i;
  double v;
  int b;
  const char *s;
  assert_int_equal(tack_params_check(&desc, p, &f->d), 0);
  for (int pass = 0; pass < 2; pass++) {
    /* The same defaults with a group that lacks the keys and with none. */
    const config_setting_t *g = pass ? NULL : p;
    assert_int_equal(tack_params_int(&desc, g, "lookback", &i), 0);
    assert_int_equal(i, 20);
    assert_int_equal(tack_params_double(&desc, g, "ratio", &v), 0);
    assert_true(v == 0.5);
    assert_int_equal(tack_params_bool(&desc, g, "live", &b), 0);
    assert_int_equal(b, 0);
    assert_int_equal(tack_params_string(&desc, g, "mode", &s), 0);
    assert_string_equal(s, "both");
    assert_int_equal(tack_params_string(&desc, g, "note", &s), 0);
    assert_null(s);
  }
}

static void test_reader_errors(void **state) {
  fx *f = *state;
  const config_setting_t *p = parse(f, "params = { lookback = \"x\"; };\n", "params");
  int64_t i;
  double v;
  assert_int_equal(tack_params_int(&desc, p, "nope", &i), TACK_ENOENT);
  assert_int_equal(tack_params_double(&desc, p, "lookback", &v), TACK_ETYPE);
  /* A setting the check would refuse is never read as something else. */
  assert_int_equal(tack_params_int(&desc, p, "lookback", &i), TACK_ETYPE);
  assert_null(tack_params_find(&desc, "nope"));
  assert_ptr_equal(tack_params_find(&desc, "ratio"), &spec[1]);
  assert_null(tack_params_find(&bare, "x"));
}

static void test_int_range(void **state) {
  fx *f = *state;
  const config_setting_t *p = parse(f,
                                    "strategies = {\n"
                                    "  trend = {\n"
                                    "    params = {\n"
                                    "      api_key = \"k\";\n"
                                    "      lookback = 1;\n"
                                    "    };\n"
                                    "  };\n"
                                    "};\n",
                                    "strategies.trend.params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), TACK_ECONFIG);
  assert_int_equal(f->d.n, 1);
  EXPECT_MSG(&f->d, "p.cfg:5: strategies.trend.params.lookback: must be an integer in [2, 500], "
                    "got 1");
}

static void test_double_range_and_int_literal(void **state) {
  fx *f = *state;
  const config_setting_t *p = parse(f,
                                    "params = {\n"
                                    "  api_key = \"k\";\n"
                                    "  ratio = 1.5;\n"
                                    "};\n",
                                    "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), TACK_ECONFIG);
  EXPECT_MSG(&f->d, "p.cfg:3: params.ratio: must be a number in [0, 1], got 1.5");

  /* An int literal, with or without L, is fine where a double is declared. */
  tack_diag_free(&f->d);
  double v;
  p = parse(f, "params = { api_key = \"k\"; ratio = 1; };\n", "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), 0);
  assert_int_equal(tack_params_double(&desc, p, "ratio", &v), 0);
  assert_true(v == 1.0);
  p = parse(f, "params = { api_key = \"k\"; ratio = 0L; };\n", "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), 0);
  assert_int_equal(tack_params_double(&desc, p, "ratio", &v), 0);
  assert_true(v == 0.0);
}

static void test_unbounded(void **state) {
  fx *f = *state;
  const config_setting_t *p =
      parse(f, "params = { api_key = \"k\"; big = -9000000000000L; };\n", "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), 0);
}

static void test_wrong_types(void **state) {
  fx *f = *state;
  const config_setting_t *p = parse(f,
                                    "params = {\n"
                                    "  api_key = \"k\";\n"
                                    "  lookback = \"20\";\n"
                                    "  ratio = \"half\";\n"
                                    "  live = 1;\n"
                                    "  mode = 3;\n"
                                    "  big = 2.5;\n"
                                    "  note = ( 1, 2 );\n"
                                    "};\n",
                                    "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), TACK_ECONFIG);
  assert_int_equal(f->d.n, 6);
  EXPECT_MSG(&f->d,
             "p.cfg:3: params.lookback: must be an integer in [2, 500], got a string \"20\"");
  EXPECT_MSG(&f->d, "p.cfg:4: params.ratio: must be a number in [0, 1], got a string \"half\"");
  EXPECT_MSG(&f->d, "p.cfg:5: params.live: must be true or false, got an integer 1");
  EXPECT_MSG(&f->d, "p.cfg:6: params.mode: must be one of long|short|both, got an integer 3");
  EXPECT_MSG(&f->d, "p.cfg:7: params.big: must be an integer, got a decimal number 2.5");
  EXPECT_MSG(&f->d, "p.cfg:8: params.note: must be a string, got a list");
}

static void test_double_for_int(void **state) {
  fx *f = *state;
  const config_setting_t *p =
      parse(f, "params = { api_key = \"k\"; lookback = 20.0; };\n", "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), TACK_ECONFIG);
  EXPECT_MSG(&f->d, "params.lookback: must be an integer in [2, 500], got a decimal number 20.0");
}

static void test_choices(void **state) {
  fx *f = *state;
  const config_setting_t *p =
      parse(f, "params = {\n  api_key = \"k\";\n  mode = \"sideways\";\n};\n", "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), TACK_ECONFIG);
  EXPECT_MSG(&f->d, "p.cfg:3: params.mode: must be one of long|short|both, got \"sideways\"");
  /* A choice is a whole word, not a prefix of one. */
  tack_diag_free(&f->d);
  p = parse(f, "params = { api_key = \"k\"; mode = \"lon\"; };\n", "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), TACK_ECONFIG);
  p = parse(f, "params = { api_key = \"k\"; mode = \"short\"; };\n", "params");
  tack_diag_free(&f->d);
  assert_int_equal(tack_params_check(&desc, p, &f->d), 0);
}

static void test_required(void **state) {
  fx *f = *state;
  const config_setting_t *p = parse(f,
                                    "exchanges = {\n"
                                    "  cb = {\n"
                                    "    params = {\n"
                                    "      lookback = 3;\n"
                                    "    };\n"
                                    "  };\n"
                                    "  other = {\n"
                                    "    plugin = \"x\";\n"
                                    "  };\n"
                                    "};\n",
                                    "exchanges.cb.params");
  /* Missing from a params group: placed at the group. */
  assert_int_equal(tack_params_check(&desc, p, &f->d), TACK_ECONFIG);
  assert_int_equal(f->d.n, 1);
  EXPECT_MSG(&f->d, "p.cfg:3: exchanges.cb.params.api_key: required by plugin example.momentum",
             "the venue's API key");

  /* No params group at all: placed at the instance. */
  tack_diag_free(&f->d);
  const config_setting_t *owner = config_lookup(&f->lc, "exchanges.other");
  assert_int_equal(tack_params_check_at(&desc, NULL, owner, &f->d), TACK_ECONFIG);
  EXPECT_MSG(&f->d, "p.cfg:7: exchanges.other.params.api_key: required by plugin");

  /* Nowhere to place it: still named, with the plugin. */
  tack_diag_free(&f->d);
  assert_int_equal(tack_params_check(&desc, NULL, &f->d), TACK_ECONFIG);
  EXPECT_MSG(&f->d, "plugin example.momentum: parameter 'api_key' is required");
}

static void test_unknown(void **state) {
  fx *f = *state;
  const config_setting_t *p = parse(f,
                                    "params = {\n"
                                    "  api_key = \"k\";\n"
                                    "  lookbakc = 20;\n"
                                    "  colour = \"red\";\n"
                                    "};\n",
                                    "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), TACK_ECONFIG);
  assert_int_equal(f->d.n, 2);
  EXPECT_MSG(&f->d, "p.cfg:3: params.lookbakc: unknown parameter of plugin example.momentum "
                    "(did you mean 'lookback'?)");
  EXPECT_MSG(&f->d, "p.cfg:4: params.colour: unknown parameter of plugin example.momentum (it "
                    "takes: lookback, ratio, live, mode, note, big, api_key, pin)");

  tack_diag_free(&f->d);
  p = parse(f, "params = { x = 1; };\n", "params");
  assert_int_equal(tack_params_check(&bare, p, &f->d), TACK_ECONFIG);
  EXPECT_MSG(&f->d, "params.x: unknown parameter: plugin bare takes no parameters");
}

static void test_not_a_group(void **state) {
  fx *f = *state;
  const config_setting_t *p = parse(f, "params = 5;\n", "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), TACK_ECONFIG);
  EXPECT_MSG(&f->d, "p.cfg:1: params: must be a group of parameters", "got an integer");
}

static void test_secrets_stay_secret(void **state) {
  fx *f = *state;
  const config_setting_t *p = parse(f,
                                    "params = {\n"
                                    "  api_key = 987654;\n"
                                    "  pin = 31337;\n"
                                    "};\n",
                                    "params");
  assert_int_equal(tack_params_check(&desc, p, &f->d), TACK_ECONFIG);
  assert_int_equal(f->d.n, 2);
  EXPECT_MSG(&f->d, "p.cfg:2: params.api_key: must be a string, got an integer");
  EXPECT_MSG(&f->d, "p.cfg:3: params.pin: must be an integer in [1000, 9999]");
  no_msg_contains(&f->d, "987654");
  no_msg_contains(&f->d, "31337");
}

static char *print_to_string(const tack_plugin_desc *dsc, const config_setting_t *p) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  assert_non_null(out);
  tack_params_print_values(dsc, p, out);
  fclose(out);
  return buf;
}

static void test_print_values(void **state) {
  fx *f = *state;
  const config_setting_t *p = parse(f,
                                    "params = {\n"
                                    "  api_key = \"sk-live-SECRET\";\n"
                                    "  lookback = 12;\n"
                                    "  ratio = 1;\n"
                                    "  live = true;\n"
                                    "  big = 6000000000L;\n"
                                    "};\n",
                                    "params");
  char *text = print_to_string(&desc, p);
  assert_string_equal(text, "lookback=12, ratio=1, live=true, mode=\"both\", note=(unset), "
                            "big=6000000000, api_key=***, pin=***");
  assert_null(strstr(text, "SECRET"));
  free(text);

  text = print_to_string(&bare, NULL);
  assert_string_equal(text, "");
  free(text);
}

static void test_setting_path(void **state) {
  fx *f = *state;
  char path[128];
  parse(f,
        "symbols = ( { symbol = \"A\"; }, { symbol = \"B\"; exchange = \"x\"; } );\n"
        "dirs = [ \"a\", \"b\" ];\n",
        NULL);
  tack_setting_path(config_lookup(&f->lc, "symbols.[1].exchange"), path, sizeof path);
  assert_string_equal(path, "symbols[1].exchange");
  tack_setting_path(config_lookup(&f->lc, "dirs.[1]"), path, sizeof path);
  assert_string_equal(path, "dirs[1]");
  tack_setting_path(config_root_setting(&f->lc), path, sizeof path);
  assert_string_equal(path, "");
  /* Truncation keeps the buffer terminated. */
  tack_setting_path(config_lookup(&f->lc, "symbols.[1].exchange"), path, 8);
  assert_string_equal(path, "symbols");
}

static void test_edit_distance(void **state) {
  (void)state;
  static const struct {
    const char *a, *b;
    int want;
  } rows[] = {
      {"lookback", "lookback", 0},
      {"lookbakc", "lookback", 1},
      {"lookbak", "lookback", 1},
      {"lokback", "lookback", 1},
      {"timefrme", "timeframe", 1},
      {"nmae", "name", 1},
      {"enable", "enabled", 1},
      {"abc", "xyz", 3},
      {"", "ab", 2},
      {"strategy", "strategies", 3},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int got = tack_edit_distance(rows[i].a, rows[i].b, 2);
    int want = rows[i].want > 2 ? 3 : rows[i].want;
    if (got != want)
      fail_msg("distance(%s, %s) = %d, want %d", rows[i].a, rows[i].b, got, want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_every_type_accepted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reader_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_int_range, setup, teardown),
      cmocka_unit_test_setup_teardown(test_double_range_and_int_literal, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unbounded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
      cmocka_unit_test_setup_teardown(test_double_for_int, setup, teardown),
      cmocka_unit_test_setup_teardown(test_choices, setup, teardown),
      cmocka_unit_test_setup_teardown(test_required, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_a_group, setup, teardown),
      cmocka_unit_test_setup_teardown(test_secrets_stay_secret, setup, teardown),
      cmocka_unit_test_setup_teardown(test_print_values, setup, teardown),
      cmocka_unit_test_setup_teardown(test_setting_path, setup, teardown),
      cmocka_unit_test_setup_teardown(test_edit_distance, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
