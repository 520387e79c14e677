/*
 * test_config_override.c: "PATH=VALUE" overrides (host/config_override.c)
 * applied to a parsed tree and through tack_config_load_with(): setting,
 * replacing and removing settings, creating groups on the way, how VALUE
 * is typed (integers, floats, booleans, strings bare and quoted with
 * escapes), malformed overrides and bad paths, problems an override causes
 * reported with its text, every malformed override reported at once,
 * allocation failures, and a config with overrides checking exactly like
 * the file that says the same. Plugins are descriptors defined here.
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

#include "alloc.h"
#include "config.h"
#include "config_override.h"
#include "diag.h"
#include "params.h"

/* ------------------------------------------------------------------------ */
/* Plugins                                                                   */
/* ------------------------------------------------------------------------ */

static const tack_param_spec replay_params[] = {
    {"bars", TACK_PARAM_INT, 0, 1, 100000, 500, NULL, NULL, "bars to replay"},
    {"mode", TACK_PARAM_STRING, 0, 0, 0, 0, "fast", NULL, "a string"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};
static const tack_param_spec momentum_params[] = {
    {"lookback", TACK_PARAM_INT, 0, 2, 500, 20, NULL, NULL, "bars in the window"},
    {"threshold", TACK_PARAM_DOUBLE, 0, 0, 1, 0.5, NULL, NULL, "signal threshold"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

#define DESC(kind, id, params)                                                                     \
  { sizeof(tack_plugin_desc), kind, id, id, "1.0.0", "test plugin", params, NULL }

static const tack_plugin_desc descs[] = {
    DESC(TACK_KIND_EXCHANGE, "example.replay", replay_params),
    DESC(TACK_KIND_STRATEGY, "example.momentum", momentum_params),
};
#define N_DESCS (sizeof descs / sizeof descs[0])

static tack_plugin plugins[N_DESCS];
static const tack_plugin *plugin_ptrs[N_DESCS];

static tack_plugin_set plugin_set(void) {
  for (size_t i = 0; i < N_DESCS; i++) {
    plugins[i].desc = &descs[i];
    plugins[i].path = "/fake/plugins/example.so";
    plugins[i].abi_major = TACK_ABI_MAJOR;
    plugins[i].abi_minor = TACK_ABI_MINOR;
    plugins[i].index = (uint32_t)i;
    plugin_ptrs[i] = &plugins[i];
  }
  tack_plugin_set set = {plugin_ptrs, N_DESCS, NULL, 0};
  return set;
}

/* ------------------------------------------------------------------------ */
/* Fixture                                                                   */
/* ------------------------------------------------------------------------ */

#define BASE                                                                                       \
  "version = 1;\n"                                                          /* 1 */                \
  "name = \"demo\";\n"                                                      /* 2 */                \
  "exchanges = {\n"                                                         /* 3 */                \
  "  sim = { plugin = \"example.replay\"; params = { bars = 500; }; };\n"   /* 4 */                \
  "};\n"                                                                    /* 5 */                \
  "strategies = {\n"                                                        /* 6 */                \
  "  trend = {\n"                                                           /* 7 */                \
  "    plugin = \"example.momentum\";\n"                                    /* 8 */                \
  "    timeframe = \"5m\";\n"                                               /* 9 */                \
  "    params = { lookback = 20; threshold = 0.25; };\n"                    /* 10 */               \
  "  };\n"                                                                  /* 11 */               \
  "};\n"                                                                    /* 12 */               \
  "symbols = (\n"                                                           /* 13 */               \
  "  { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"trend\"; }\n" /* 14 */               \
  ");\n"                                                                    /* 15 */

typedef struct fx {
  char dir[64];
  char path[128];
  char path2[128];
  tack_diag d;
  tack_config *cfg;
  tack_config *cfg2;
  config_t lc;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/tack-override-XXXXXX");
  if (!mkdtemp(f->dir)) {
    free(f);
    return -1;
  }
  f->d = (tack_diag)TACK_DIAG_INIT;
  config_init(&f->lc);
  config_set_auto_convert(&f->lc, 1);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  tack_config_free(f->cfg);
  tack_config_free(f->cfg2);
  config_destroy(&f->lc);
  tack_diag_free(&f->d);
  if (f->path[0])
    unlink(f->path);
  if (f->path2[0])
    unlink(f->path2);
  rmdir(f->dir);
  free(f);
  return 0;
}

static const char *write_cfg(fx *f, char *path, const char *name, const char *text) {
  snprintf(path, 128, "%s/%s", f->dir, name);
  FILE *out = fopen(path, "w");
  assert_non_null(out);
  fputs(text, out);
  fclose(out);
  return path;
}

static void dump(const tack_diag *d) {
  for (size_t i = 0; i < d->n; i++)
    print_message("  diag[%zu]: %s\n", i, d->msgs[i]);
}

static void expect_msg(const tack_diag *d, const char *a, const char *b) {
  for (size_t i = 0; i < d->n; i++)
    if (strstr(d->msgs[i], a) && (!b || strstr(d->msgs[i], b)))
      return;
  dump(d);
  fail_msg("no message contains '%s' and '%s'", a, b ? b : "");
}

static void expect_count(const tack_diag *d, size_t n) {
  if (d->n != n) {
    dump(d);
    fail_msg("%zu problems reported, want %zu", d->n, n);
  }
}

/* Apply one override to f->lc (read from text first when text is set). */
static int apply(fx *f, const char *text, const char *override) {
  if (text)
    assert_int_equal(config_read_string(&f->lc, text), CONFIG_TRUE);
  return tack_config_override(&f->lc, override, &f->d);
}

static const config_setting_t *at(fx *f, const char *path) { return config_lookup(&f->lc, path); }

/* ------------------------------------------------------------------------ */
/* The tree                                                                  */
/* ------------------------------------------------------------------------ */

static void test_set_replace_remove(void **state) {
  fx *f = *state;
  assert_int_equal(apply(f, "a = { b = 1; c = \"x\"; d = 2.5; };\n", "a.b=7"), 0);
  assert_int_equal(config_setting_get_int(at(f, "a.b")), 7);
  /* A new setting in an existing group. */
  assert_int_equal(apply(f, NULL, "a.e=true"), 0);
  assert_int_equal(config_setting_type(at(f, "a.e")), CONFIG_TYPE_BOOL);
  assert_int_equal(config_setting_get_bool(at(f, "a.e")), 1);
  /* Replaced again: the last override wins. */
  assert_int_equal(apply(f, NULL, "a.e=false"), 0);
  assert_int_equal(config_setting_get_bool(at(f, "a.e")), 0);
  /* Removed (a scalar, then a whole group). */
  assert_int_equal(apply(f, NULL, "a.c="), 0);
  assert_null(at(f, "a.c"));
  assert_non_null(at(f, "a.d"));
  assert_int_equal(apply(f, NULL, "a="), 0);
  assert_null(at(f, "a"));
  /* Removing what is not there changes nothing. */
  assert_int_equal(apply(f, NULL, "a.b="), 0);
  assert_int_equal(apply(f, NULL, "x.y.z="), 0);
  assert_null(at(f, "a"));
  assert_null(at(f, "x"));
  expect_count(&f->d, 0);
}

static void test_creates_groups(void **state) {
  fx *f = *state;
  assert_int_equal(apply(f, "x = 1;\n", "p.q.r.s=\"deep\""), 0);
  const config_setting_t *q = at(f, "p.q");
  assert_non_null(q);
  assert_true(config_setting_is_group(q));
  assert_string_equal(config_setting_get_string(at(f, "p.q.r.s")), "deep");
  /* Created settings are placed at the override. */
  assert_string_equal(config_setting_source_file(at(f, "p.q.r.s")), "(override p.q.r.s=\"deep\")");
  assert_int_equal(config_setting_source_line(at(f, "p.q.r.s")), 0);
  expect_count(&f->d, 0);
}

typedef struct typing_case {
  const char *value;
  int type;
  int64_t i;
  double f;
  const char *s;
} typing_case;

static void test_value_types(void **state) {
  fx *f = *state;
  static const typing_case cases[] = {
      {"12", CONFIG_TYPE_INT, 12, 0, NULL},
      {"-3", CONFIG_TYPE_INT, -3, 0, NULL},
      {"+4", CONFIG_TYPE_INT, 4, 0, NULL},
      {"0x1f", CONFIG_TYPE_INT, 31, 0, NULL},
      {"012", CONFIG_TYPE_INT, 12, 0, NULL}, /* decimal, as libconfig reads it */
      {"12L", CONFIG_TYPE_INT, 12, 0, NULL},
      {"2147483647", CONFIG_TYPE_INT, 2147483647, 0, NULL},
      {"2147483648", CONFIG_TYPE_INT64, 2147483648LL, 0, NULL},
      {"-9223372036854775808", CONFIG_TYPE_INT64, INT64_MIN, 0, NULL},
      {"2.5", CONFIG_TYPE_FLOAT, 0, 2.5, NULL},
      {"1e-3", CONFIG_TYPE_FLOAT, 0, 1e-3, NULL},
      {"-.5", CONFIG_TYPE_FLOAT, 0, -0.5, NULL},
      {"3.", CONFIG_TYPE_FLOAT, 0, 3.0, NULL},
      {"true", CONFIG_TYPE_BOOL, 1, 0, NULL},
      {"FALSE", CONFIG_TYPE_BOOL, 0, 0, NULL},
      {"fixed", CONFIG_TYPE_STRING, 0, 0, "fixed"},
      {"inf", CONFIG_TYPE_STRING, 0, 0, "inf"},
      {"12abc", CONFIG_TYPE_STRING, 0, 0, "12abc"},
      {"1.2.3", CONFIG_TYPE_STRING, 0, 0, "1.2.3"},
      {"/var/data x", CONFIG_TYPE_STRING, 0, 0, "/var/data x"},
      {"  5m  ", CONFIG_TYPE_STRING, 0, 0, "5m"},
      {"\"12\"", CONFIG_TYPE_STRING, 0, 0, "12"},
      {"\"true\"", CONFIG_TYPE_STRING, 0, 0, "true"},
      {"\"\"", CONFIG_TYPE_STRING, 0, 0, ""},
      {"\"a\\\"b\\\\c\\n\\t\\x41=\"", CONFIG_TYPE_STRING, 0, 0, "a\"b\\c\n\tA="},
  };
  assert_int_equal(config_read_string(&f->lc, "g = { };\n"), CONFIG_TRUE);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char override[128];
    snprintf(override, sizeof override, "g.v%zu=%s", i, cases[i].value);
    assert_int_equal(tack_config_override(&f->lc, override, &f->d), 0);
    char path[32];
    snprintf(path, sizeof path, "g.v%zu", i);
    const config_setting_t *s = at(f, path);
    assert_non_null(s);
    if (config_setting_type(s) != cases[i].type)
      fail_msg("%s: type %d, want %d", override, config_setting_type(s), cases[i].type);
    switch (cases[i].type) {
    case CONFIG_TYPE_INT:
      assert_int_equal(config_setting_get_int(s), cases[i].i);
      break;
    case CONFIG_TYPE_INT64:
      assert_true(config_setting_get_int64(s) == cases[i].i);
      break;
    case CONFIG_TYPE_FLOAT:
      assert_true(config_setting_get_float(s) == cases[i].f);
      break;
    case CONFIG_TYPE_BOOL:
      assert_int_equal(config_setting_get_bool(s), (int)cases[i].i);
      break;
    default:
      assert_string_equal(config_setting_get_string(s), cases[i].s);
    }
  }
  expect_count(&f->d, 0);
}

/* A replaced setting keeps a type its place may take. */
static void test_replacement_types(void **state) {
  fx *f = *state;
  assert_int_equal(apply(f, "g = { f = 2.5; s = \"x\"; l = 5L; i = 1; b = true; };\n", "g.f=3"), 0);
  assert_int_equal(config_setting_type(at(f, "g.f")), CONFIG_TYPE_FLOAT);
  assert_true(config_setting_get_float(at(f, "g.f")) == 3.0);
  /* An unquoted value where a string was stays the string as written. */
  assert_int_equal(apply(f, NULL, "g.s=12"), 0);
  assert_int_equal(config_setting_type(at(f, "g.s")), CONFIG_TYPE_STRING);
  assert_string_equal(config_setting_get_string(at(f, "g.s")), "12");
  /* A 64-bit integer stays one. */
  assert_int_equal(apply(f, NULL, "g.l=6"), 0);
  assert_int_equal(config_setting_type(at(f, "g.l")), CONFIG_TYPE_INT64);
  assert_true(config_setting_get_int64(at(f, "g.l")) == 6);
  /* Other types are written as they are: the schema judges them. */
  assert_int_equal(apply(f, NULL, "g.i=1.5"), 0);
  assert_int_equal(config_setting_type(at(f, "g.i")), CONFIG_TYPE_FLOAT);
  assert_int_equal(apply(f, NULL, "g.b=\"yes\""), 0);
  assert_int_equal(config_setting_type(at(f, "g.b")), CONFIG_TYPE_STRING);
  expect_count(&f->d, 0);
}

typedef struct bad_case {
  const char *override;
  const char *what;
  const char *more; /* a second part of the message, or NULL */
} bad_case;

static void test_malformed(void **state) {
  fx *f = *state;
  static const bad_case cases[] = {
      {"a.b", "write PATH=VALUE", NULL},
      {"=1", "no setting path before '='", NULL},
      {"a..b=1", "'' is not a setting name", NULL},
      {".a=1", "'' is not a setting name", NULL},
      {"a.=1", "'' is not a setting name", NULL},
      {"a.9b=1", "'9b' is not a setting name", NULL},
      {"a b=1", "'a b' is not a setting name", NULL},
      {"l[0].x=1", "list elements cannot be overridden", NULL},
      {"l.x=1", "l is a list (", "config:1), not a group: list elements cannot be overridden"},
      {"s.x=1", "s is a string (", "config:1), not a group"},
      {"g=1", "the setting is a group (", "config:1): override the settings inside it"},
      {"g.v=\"abc", "malformed value: a string without its closing '\"'", NULL},
      {"g.v=\"a\"b", "malformed value: text after the closing '\"'", NULL},
      {"g.v=\"a\\q\"", "malformed value: an unknown escape", NULL},
      {"g.v=\"a\\x4\"", "malformed value: \\x needs two hex digits", NULL},
      {"g.v=99999999999999999999", "malformed value: an integer that does not fit in 64 bits",
       NULL},
  };
  /* Read from a file so that settings have a place. */
  write_cfg(f, f->path, "config", "l = ( 1 ); s = \"x\"; g = { note = 1; };\n");
  assert_int_equal(config_read_file(&f->lc, f->path), CONFIG_TRUE);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tack_diag_free(&f->d);
    assert_int_equal(tack_config_override(&f->lc, cases[i].override, &f->d), TACK_EINVAL);
    expect_count(&f->d, 1);
    char want[160];
    snprintf(want, sizeof want, "override '%s': %s", cases[i].override, cases[i].what);
    expect_msg(&f->d, want, cases[i].more);
  }
  /* Nothing was changed by any of them. */
  assert_int_equal(config_setting_length(config_root_setting(&f->lc)), 3);
  assert_int_equal(config_setting_length(at(f, "g")), 1);
  assert_null(at(f, "a"));
}

static void test_allocation_failures(void **state) {
  fx *f = *state;
  assert_int_equal(config_read_string(&f->lc, "g = { v = 1; s = \"x\"; };\n"), CONFIG_TRUE);
  int succeeded = 0;
  for (uint64_t n = 1; n < 20 && !succeeded; n++) {
    tack_diag_free(&f->d);
    tack_alloc_fail_after(n);
    int rc = tack_config_override(&f->lc, "p.q.r=\"a\\tb\"", &f->d);
    tack_alloc_fail_after(0);
    if (rc == 0) {
      succeeded = 1;
    } else {
      assert_int_equal(rc, TACK_ENOMEM);
      expect_msg(&f->d, "override 'p.q.r=\"a\\tb\"': out of memory", NULL);
    }
  }
  assert_true(succeeded);
  assert_string_equal(config_setting_get_string(at(f, "p.q.r")), "a\tb");
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

static void test_load_with(void **state) {
  fx *f = *state;
  const char *path = write_cfg(f, f->path, "demo.cfg", BASE);
  const char *const overrides[] = {
      "strategies.trend.params.lookback=12",
      "strategies.trend.params.threshold=1", /* an int where a float was */
      "exchanges.sim.params.mode=slow",
      "exchanges.sim.params.bars=",
      "log.level=debug", /* a new group */
  };
  assert_int_equal(tack_config_load_with(path, overrides, 5, &f->cfg, &f->d), 0);
  expect_count(&f->d, 0);
  assert_int_equal(f->cfg->log_level, TACK_LOG_DEBUG);
  tack_plugin_set set = plugin_set();
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), 0);
  int64_t lookback = 0;
  double threshold = 0;
  const char *mode = NULL;
  const tack_cfg_instance *st = &f->cfg->strategies[0].inst;
  assert_int_equal(tack_params_int(st->plugin->desc, st->params, "lookback", &lookback), 0);
  assert_int_equal(tack_params_double(st->plugin->desc, st->params, "threshold", &threshold), 0);
  assert_int_equal(lookback, 12);
  assert_true(threshold == 1.0);
  const tack_cfg_instance *ex = &f->cfg->exchanges[0];
  assert_int_equal(tack_params_string(ex->plugin->desc, ex->params, "mode", &mode), 0);
  assert_string_equal(mode, "slow");
  assert_null(config_setting_get_member(ex->params, "bars"));

  /* No overrides: exactly tack_config_load(). */
  tack_config_free(f->cfg);
  f->cfg = NULL;
  assert_int_equal(tack_config_load_with(path, NULL, 0, &f->cfg, &f->d), 0);
  assert_int_equal(f->cfg->strategies[0].inst.line, 7);
}

static void test_problems_name_the_override(void **state) {
  fx *f = *state;
  const char *path = write_cfg(f, f->path, "demo.cfg", BASE);
  /* A schema problem in a replaced setting: its old place and the text. */
  const char *const tf[] = {"strategies.trend.timeframe=7x"};
  assert_int_equal(tack_config_load_with(path, tf, 1, &f->cfg, &f->d), TACK_ECONFIG);
  assert_null(f->cfg);
  expect_msg(&f->d,
             "demo.cfg:9 (override strategies.trend.timeframe=7x): strategies.trend.timeframe: ",
             "\"7x\"");
  expect_count(&f->d, 1);

  /* An unknown key added by an override: the place of its group. */
  tack_diag_free(&f->d);
  const char *const added[] = {"strategies.trend.timefrme=\"1m\""};
  assert_int_equal(tack_config_load_with(path, added, 1, &f->cfg, &f->d), TACK_ECONFIG);
  expect_msg(&f->d,
             "demo.cfg:7 (override strategies.trend.timefrme=\"1m\"): strategies.trend.timefrme: ",
             "did you mean 'timeframe'?");

  /* A parameter out of range, found when resolving. */
  tack_diag_free(&f->d);
  const char *const range[] = {"strategies.trend.params.lookback=1"};
  assert_int_equal(tack_config_load_with(path, range, 1, &f->cfg, &f->d), 0);
  tack_plugin_set set = plugin_set();
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), TACK_ECONFIG);
  expect_msg(&f->d,
             "(override strategies.trend.params.lookback=1): strategies.trend.params.lookback",
             "[2, 500]");
  expect_count(&f->d, 1);
}

static void test_every_malformed_override_reported(void **state) {
  fx *f = *state;
  const char *path = write_cfg(f, f->path, "demo.cfg", BASE);
  const char *const overrides[] = {"symbols.x=1", "strategies.trend.params.lookback=5", "nothing",
                                   "exchanges.sim.params.nope=\"x"};
  assert_int_equal(tack_config_load_with(path, overrides, 4, &f->cfg, &f->d), TACK_EINVAL);
  assert_null(f->cfg);
  expect_msg(&f->d, "override 'symbols.x=1': symbols is a list (", NULL);
  expect_msg(&f->d, "override 'nothing': write PATH=VALUE", NULL);
  expect_msg(&f->d, "override 'exchanges.sim.params.nope=\"x': malformed value", NULL);
  expect_count(&f->d, 3);
}

/* The messages without their place (what precedes the setting's path). */
static void strip_places(const tack_diag *d, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < d->n; i++) {
    const char *m = strstr(d->msgs[i], ": strategies.");
    m = m ? m + 2 : d->msgs[i];
    len += (size_t)snprintf(buf + len, cap - len, "%s\n", m);
    assert_true(len < cap);
  }
}

static char *print_to_string(const tack_config *cfg) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  assert_non_null(out);
  tack_config_print(cfg, out);
  fclose(out);
  return buf;
}

/* Overrides against a file that says the same: the same verdict, the same
 * composed pipeline, the same problems (but for their place). */
static void test_checks_like_a_file(void **state) {
  fx *f = *state;
  tack_plugin_set set = plugin_set();
  const char *path = write_cfg(f, f->path, "demo.cfg", BASE);
  char text[2048];
  snprintf(text, sizeof text, "%s", BASE);
  memcpy(strstr(text, "bars = 500;"), "bars = 9;  ", 11);
  memcpy(strstr(text, "lookback = 20;"), "lookback = 7; ", 14);
  const char *path2 = write_cfg(f, f->path2, "same.cfg", text);

  const char *const good[] = {"exchanges.sim.params.bars=9", "strategies.trend.params.lookback=7"};
  assert_int_equal(tack_config_load_with(path, good, 2, &f->cfg, &f->d), 0);
  assert_int_equal(tack_config_load(path2, &f->cfg2, &f->d), 0);
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), 0);
  assert_int_equal(tack_config_resolve_set(f->cfg2, &set, &f->d), 0);
  char *a = print_to_string(f->cfg);
  char *b = print_to_string(f->cfg2);
  assert_string_equal(a, b);
  assert_non_null(strstr(a, "lookback=7"));
  free(a);
  free(b);
  tack_config_free(f->cfg);
  tack_config_free(f->cfg2);
  f->cfg = f->cfg2 = NULL;

  /* Invalid both ways: the same problems. */
  memcpy(strstr(text, "lookback = 7; "), "lookback = 0; ", 14);
  char *tf = strstr(text, "\"5m\"");
  memcpy(tf, "\"5q\"", 4);
  write_cfg(f, f->path2, "same.cfg", text);
  const char *const bad[] = {"exchanges.sim.params.bars=9", "strategies.trend.params.lookback=0",
                             "strategies.trend.timeframe=\"5q\""};
  tack_diag d2 = TACK_DIAG_INIT;
  assert_int_equal(tack_config_load_with(path, bad, 3, &f->cfg, &f->d), TACK_ECONFIG);
  assert_int_equal(tack_config_load(path2, &f->cfg2, &d2), TACK_ECONFIG);
  char ma[2048], mb[2048];
  strip_places(&f->d, ma, sizeof ma);
  strip_places(&d2, mb, sizeof mb);
  assert_string_equal(ma, mb);
  /* And once the schema is fine, the same resolve problems. */
  tack_diag_free(&f->d);
  tack_diag_free(&d2);
  tf = strstr(text, "\"5q\"");
  memcpy(tf, "\"5m\"", 4);
  write_cfg(f, f->path2, "same.cfg", text);
  assert_int_equal(tack_config_load_with(path, bad, 2, &f->cfg, &f->d), 0);
  assert_int_equal(tack_config_load(path2, &f->cfg2, &d2), 0);
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), TACK_ECONFIG);
  assert_int_equal(tack_config_resolve_set(f->cfg2, &set, &d2), TACK_ECONFIG);
  strip_places(&f->d, ma, sizeof ma);
  strip_places(&d2, mb, sizeof mb);
  assert_string_equal(ma, mb);
  tack_diag_free(&d2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_set_replace_remove, setup, teardown),
      cmocka_unit_test_setup_teardown(test_creates_groups, setup, teardown),
      cmocka_unit_test_setup_teardown(test_value_types, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replacement_types, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
      cmocka_unit_test_setup_teardown(test_load_with, setup, teardown),
      cmocka_unit_test_setup_teardown(test_problems_name_the_override, setup, teardown),
      cmocka_unit_test_setup_teardown(test_every_malformed_override_reported, setup, teardown),
      cmocka_unit_test_setup_teardown(test_checks_like_a_file, setup, teardown),
  };
  return cmocka_run_group_tests_name("config_override", tests, NULL, NULL);
}
