/*
 * test_config.c: the config schema (host/config.c) checked as a whole.
 *
 * Unit tests (no argument): one table-driven test per kind of error, each
 * asserting the file, the line and the setting's path of its message and
 * that no other problem is reported; loading and resolving good configs,
 * implicit filters, printing (of composed strategies too), scorer entries,
 * paths, @include, timeframes, allocation failures, and several
 * independent errors reported at once. Composition errors are tested in
 * test_compose.c. Plugins are
 * descriptors defined here: resolving needs no shared object.
 *
 * With the argument "cli" (ctest's test_config_cli): the real `tack check`
 * run on configs of tests/fixtures/config/ against the fixture plugins.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "config.h"
#include "diag.h"

extern char **environ;

/* ------------------------------------------------------------------------ */
/* Plugins the configs are resolved against                                  */
/* ------------------------------------------------------------------------ */

static const tack_param_spec replay_params[] = {
    {"bars", TACK_PARAM_INT, 0, 1, 100000, 500, NULL, NULL, "bars to replay"},
    {"interval_ms", TACK_PARAM_INT, 0, 0, 60000, 1, NULL, NULL, "pause between bars"},
    {"token", TACK_PARAM_STRING, TACK_PARAM_SECRET, 0, 0, 0, "t0k3n-SECRET", NULL, "a secret"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};
static const tack_param_spec renko_params[] = {
    {"brick", TACK_PARAM_DOUBLE, TACK_PARAM_REQUIRED, 0.0001, 1e9, 0, NULL, NULL, "brick size"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};
static const tack_param_spec ema_params[] = {
    {"period", TACK_PARAM_INT, 0, 1, 1000, 10, NULL, NULL, "bars"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};
static const tack_param_spec momentum_params[] = {
    {"lookback", TACK_PARAM_INT, 0, 2, 500, 20, NULL, NULL, "bars in the window"},
    {"threshold", TACK_PARAM_DOUBLE, 0, 0, 1, 0.5, NULL, NULL, "signal threshold"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};

#define DESC(kind, id, params)                                                                     \
  { sizeof(tack_plugin_desc), kind, id, id, "1.0.0", "test plugin", params, NULL }

static const tack_plugin_desc descs[] = {
    DESC(TACK_KIND_EXCHANGE, "example.replay", replay_params),
    DESC(TACK_KIND_FILTER, "heikin_ashi", NULL),
    DESC(TACK_KIND_FILTER, "renko", renko_params),
    DESC(TACK_KIND_INDICATOR, "ema", ema_params),
    DESC(TACK_KIND_STRATEGY, "example.momentum", momentum_params),
};
#define N_DESCS (sizeof descs / sizeof descs[0])

static tack_plugin plugins[N_DESCS];
static const tack_plugin *plugin_ptrs[N_DESCS];
static const tack_refusal refusal = {
    "/fake/plugins/broken.so", TACK_ELOAD_ABI_MAJOR,
    "/fake/plugins/broken.so: built for tack ABI 2.0, this host provides 1.0; rebuild it"};
static const tack_refusal *const refusal_ptrs[] = {&refusal};

static tack_plugin_set plugin_set(void) {
  for (size_t i = 0; i < N_DESCS; i++) {
    plugins[i].desc = &descs[i];
    plugins[i].path = "/fake/plugins/example.so";
    plugins[i].abi_major = TACK_ABI_MAJOR;
    plugins[i].abi_minor = TACK_ABI_MINOR;
    plugins[i].index = (uint32_t)i;
    plugin_ptrs[i] = &plugins[i];
  }
  tack_plugin_set set = {plugin_ptrs, N_DESCS, refusal_ptrs, 1};
  return set;
}

/* ------------------------------------------------------------------------ */
/* Temporary folder, messages                                                */
/* ------------------------------------------------------------------------ */

typedef struct fx {
  char dir[64];
  char files[8][160];
  size_t n_files;
  tack_diag d;
  tack_config *cfg;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/tack-config-XXXXXX");
  if (!mkdtemp(f->dir)) {
    free(f);
    return -1;
  }
  f->d = (tack_diag)TACK_DIAG_INIT;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  tack_config_free(f->cfg);
  tack_diag_free(&f->d);
  for (size_t i = 0; i < f->n_files; i++)
    unlink(f->files[i]);
  rmdir(f->dir);
  free(f);
  return 0;
}

/* Write text to <dir>/name; returns the path. */
static const char *write_file(fx *f, const char *name, const char *text) {
  assert_true(f->n_files < 8);
  char *path = f->files[f->n_files];
  char joined[sizeof f->files[0]];
  /* Formatted apart: f->dir and path live in the same struct. */
  snprintf(joined, sizeof joined, "%s/%s", f->dir, name);
  memcpy(path, joined, sizeof joined);
  FILE *out = fopen(path, "w");
  assert_non_null(out);
  fputs(text, out);
  fclose(out);
  for (size_t i = 0; i < f->n_files; i++)
    if (strcmp(f->files[i], path) == 0)
      return f->files[i];
  return f->files[f->n_files++];
}

static void dump(const tack_diag *d) {
  for (size_t i = 0; i < d->n; i++)
    print_message("  diag[%zu]: %s\n", i, d->msgs[i]);
}

/* Fail unless one message contains every non-NULL fragment. */
static void expect_msg_v(const tack_diag *d, const char *const *frags, size_t n) {
  for (size_t i = 0; i < d->n; i++) {
    size_t k = 0;
    while (k < n && (!frags[k] || strstr(d->msgs[i], frags[k])))
      k++;
    if (k == n)
      return;
  }
  dump(d);
  fail_msg("no message contains all of: '%s' '%s'", frags[0], n > 1 && frags[1] ? frags[1] : "");
}

#define EXPECT_MSG(d, ...)                                                                         \
  do {                                                                                             \
    const char *frags_[] = {__VA_ARGS__};                                                          \
    expect_msg_v((d), frags_, sizeof frags_ / sizeof frags_[0]);                                   \
  } while (0)

static void expect_count(const tack_diag *d, size_t n) {
  if (d->n != n) {
    dump(d);
    fail_msg("%zu problems reported, want %zu", d->n, n);
  }
}

static void expect_unbound(const tack_config *cfg) {
  for (size_t i = 0; i < cfg->n_exchanges; i++)
    assert_null(cfg->exchanges[i].plugin);
  for (size_t i = 0; i < cfg->n_filters; i++)
    assert_null(cfg->filters[i].plugin);
  for (size_t i = 0; i < cfg->n_strategies; i++)
    assert_null(cfg->strategies[i].inst.plugin);
}

/* ------------------------------------------------------------------------ */
/* The base config and the error table                                       */
/* ------------------------------------------------------------------------ */

#define BASE_LINES 20
static const char *const base[BASE_LINES] = {
    /*  1 */ "version = 1;",
    /*  2 */ "name = \"demo\";",
    /*  3 */ "exchanges = {",
    /*  4 */ "  sim = { plugin = \"example.replay\"; params = { bars = 500; }; };",
    /*  5 */ "};",
    /*  6 */ "filters = {",
    /*  7 */ "  ha = { plugin = \"heikin_ashi\"; };",
    /*  8 */ "};",
    /*  9 */ "strategies = {",
    /* 10 */ "  trend = {",
    /* 11 */ "    plugin = \"example.momentum\";",
    /* 12 */ "    timeframe = \"5m\";",
    /* 13 */ "    filter = \"ha\";",
    /* 14 */ "    params = { lookback = 20; };",
    /* 15 */ "  };",
    /* 16 */ "};",
    /* 17 */ "symbols = (",
    /* 18 */ "  { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"trend\"; },",
    /* 19 */
    "  { symbol = \"ETH-USD\"; exchange = \"sim\"; strategy = \"trend\"; enabled = false; }",
    /* 20 */ ");",
};

typedef struct edit {
  int line; /* 1-based line of base to replace; 0 ends the list */
  const char *text;
} edit;

enum { AT_LOAD = 1, AT_RESOLVE = 2 };

typedef struct error_case {
  const char *name;
  edit edits[5];     /* ends with a zero line */
  int stage;         /* where the problem must be found */
  size_t count;      /* problems expected in all */
  const char *where; /* "bad.cfg:14: strategies.trend.params.lookback: " */
  const char *what;  /* the message, or a part of it */
} error_case;

static const error_case cases[] = {
    {"syntax_error", {{12, "    timeframe = ;"}}, AT_LOAD, 1, "bad.cfg:12: ", "syntax error"},
    {"unknown_root_key",
     {{2, "nmae = \"demo\";"}},
     AT_LOAD,
     1,
     "bad.cfg:2: nmae: ",
     "unknown setting (did you mean 'name'?)"},
    {"unknown_nested_key",
     {{12, "    timefrme = \"5m\";"}},
     AT_LOAD,
     1,
     "bad.cfg:12: strategies.trend.timefrme: ",
     "unknown setting (did you mean 'timeframe'?)"},
    {"unknown_symbol_key",
     {{18,
       "  { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"trend\"; enable = true; },"}},
     AT_LOAD,
     1,
     "bad.cfg:18: symbols[0].enable: ",
     "did you mean 'enabled'?"},
    {"unknown_key_no_suggestion",
     {{7, "  ha = { plugin = \"heikin_ashi\"; colour = \"red\"; };"}},
     AT_LOAD,
     1,
     "bad.cfg:7: filters.ha.colour: ",
     "unknown setting; allowed here: plugin, params"},
    {"wrong_type_root",
     {{1, "version = \"1\";"}},
     AT_LOAD,
     1,
     "bad.cfg:1: version: ",
     "must be the integer 1, got a string \"1\""},
    {"wrong_type_nested",
     {{19,
       "  { symbol = \"ETH-USD\"; exchange = \"sim\"; strategy = \"trend\"; enabled = \"no\"; }"}},
     AT_LOAD,
     1,
     "bad.cfg:19: symbols[1].enabled: ",
     "must be true or false, got a string \"no\""},
    {"wrong_type_section",
     {{6, "filters = ( 1 );"}, {7, ""}, {8, ""}, {13, ""}},
     AT_LOAD,
     1,
     "bad.cfg:6: filters: ",
     "must be a group of named filters"},
    {"missing_required_nested",
     {{11, ""}},
     AT_LOAD,
     1,
     "bad.cfg:10: strategies.trend.plugin: ",
     "required setting is missing (for example: plugin = \"<id>\";)"},
    {"missing_required_root",
     {{2, ""}},
     AT_LOAD,
     1,
     "bad.cfg: name: ",
     "required setting is missing (for example: name = \"demo\";)"},
    {"missing_timeframe",
     {{12, ""}},
     AT_LOAD,
     1,
     "bad.cfg:10: strategies.trend.timeframe: ",
     "required setting is missing"},
    {"bad_timeframe",
     {{12, "    timeframe = \"5x\";"}},
     AT_LOAD,
     1,
     "bad.cfg:12: strategies.trend.timeframe: ",
     "must be a timeframe such as \"45s\", \"5m\", \"4h\" or \"1d\""},
    {"zero_timeframe",
     {{12, "    timeframe = 0;"}},
     AT_LOAD,
     1,
     "bad.cfg:12: strategies.trend.timeframe: ",
     "got an integer 0"},
    {"bad_version",
     {{1, "version = 2;"}, {2, "title = \"a key of schema 2\";"}},
     AT_LOAD,
     1,
     "bad.cfg:1: version: ",
     "schema version 2 is not supported: this tack reads version 1"},
    {"bad_bot_name",
     {{2, "name = \"Demo Bot\";"}},
     AT_LOAD,
     1,
     "bad.cfg:2: name: ",
     "\"Demo Bot\" is not a bot name"},
    {"bad_instance_name",
     {{5, "  Paper = { plugin = \"example.replay\"; }; };"}},
     AT_LOAD,
     1,
     "bad.cfg:5: exchanges.Paper: ",
     "instance names are 1 to 64 lowercase letters"},
    {"bad_plugin_id",
     {{11, "    plugin = \"Example Momentum\";"}},
     AT_LOAD,
     1,
     "bad.cfg:11: strategies.trend.plugin: ",
     "\"Example Momentum\" is not a plugin id"},
    {"bad_symbol",
     {{18, "  { symbol = \"BTC USD\"; exchange = \"sim\"; strategy = \"trend\"; },"}},
     AT_LOAD,
     1,
     "bad.cfg:18: symbols[0].symbol: ",
     "\"BTC USD\" is not a symbol"},
    {"duplicate_symbol",
     {{19, "  { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"trend\"; }"}},
     AT_LOAD,
     1,
     "bad.cfg:19: symbols[1].symbol: ",
     "duplicate: BTC-USD on exchange sim is already listed at "},
    {"no_symbols",
     {{17, "symbols = ( );"}, {18, ""}, {19, ""}, {20, ""}},
     AT_LOAD,
     1,
     "bad.cfg:17: symbols: ",
     "lists no symbol"},
    {"unknown_exchange_ref",
     {{18, "  { symbol = \"BTC-USD\"; exchange = \"simm\"; strategy = \"trend\"; },"}},
     AT_LOAD,
     1,
     "bad.cfg:18: symbols[0].exchange: ",
     "unknown exchange 'simm' (did you mean 'sim'?)"},
    {"unknown_strategy_ref",
     {{19, "  { symbol = \"ETH-USD\"; exchange = \"sim\"; strategy = \"meanrev\"; }"}},
     AT_LOAD,
     1,
     "bad.cfg:19: symbols[1].strategy: ",
     "unknown strategy 'meanrev'; strategies defines: trend"},
    {"filter_not_a_string",
     {{13, "    filter = ( \"ha\", 5 );"}},
     AT_LOAD,
     1,
     "bad.cfg:13: strategies.trend.filter[1]: ",
     "must be a filter name (a string), got an integer 5"},
    {"int_truncated_by_libconfig",
     {{4, "  sim = { plugin = \"example.replay\"; params = { bars = 5000000000; }; };"}},
     AT_LOAD,
     1,
     "bad.cfg:4: exchanges.sim.params.bars: ",
     "5000000000 does not fit in 32 bits"},
    {"plugin_dir_not_a_string",
     {{2, "name = \"demo\"; plugin_dirs = ( \"a\", 1 );"}},
     AT_LOAD,
     1,
     "bad.cfg:2: plugin_dirs[1]: ",
     "must be a folder (a string), got an integer 1"},
    {"bad_log_level",
     {{2, "name = \"demo\"; log = { level = \"loud\"; };"}},
     AT_LOAD,
     1,
     "bad.cfg:2: log.level: ",
     "must be one of error|warn|info|debug, got \"loud\""},
    {"store_without_path",
     {{2, "name = \"demo\"; store = { };"}},
     AT_LOAD,
     1,
     "bad.cfg:2: store.path: ",
     "required setting is missing"},

    {"plugin_not_loaded",
     {{11, "    plugin = \"example.momentm\";"}},
     AT_RESOLVE,
     1,
     "bad.cfg:11: strategies.trend.plugin: ",
     "plugin 'example.momentm' is not loaded; similar loaded plugins: example.momentum (strategy)"},
    {"plugin_not_loaded_short_id",
     {{11, "    plugin = \"momentum\";"}},
     AT_RESOLVE,
     1,
     "bad.cfg:11: strategies.trend.plugin: ",
     "similar loaded plugins: example.momentum"},
    {"plugin_refused",
     {{4, "  sim = { plugin = \"broken.feed\"; };"}},
     AT_RESOLVE,
     1,
     "bad.cfg:4: exchanges.sim.plugin: ",
     "plugin 'broken.feed' is not loaded; a refused file may carry it: /fake/plugins/broken.so: "
     "built for tack ABI 2.0"},
    {"plugin_wrong_kind",
     {{4, "  sim = { plugin = \"ema\"; };"}},
     AT_RESOLVE,
     1,
     "bad.cfg:4: exchanges.sim.plugin: ",
     "plugin 'ema' is an indicator; exchanges need an exchange plugin"},
    {"strategy_wrong_kind",
     {{11, "    plugin = \"heikin_ashi\";"}, {14, ""}},
     AT_RESOLVE,
     1,
     "bad.cfg:11: strategies.trend.plugin: ",
     "plugin 'heikin_ashi' is a filter; strategies need a strategy plugin"},
    {"param_out_of_range",
     {{14, "    params = { lookback = 1; };"}},
     AT_RESOLVE,
     1,
     "bad.cfg:14: strategies.trend.params.lookback: ",
     "must be an integer in [2, 500], got 1"},
    {"param_unknown",
     {{14, "    params = { lookbak = 20; };"}},
     AT_RESOLVE,
     1,
     "bad.cfg:14: strategies.trend.params.lookbak: ",
     "unknown parameter of plugin example.momentum (did you mean 'lookback'?)"},
    {"param_string_for_int",
     {{4, "  sim = { plugin = \"example.replay\"; params = { bars = \"500\"; }; };"}},
     AT_RESOLVE,
     1,
     "bad.cfg:4: exchanges.sim.params.bars: ",
     "must be an integer in [1, 100000], got a string \"500\""},
    {"param_required",
     {{7, "  ha = { plugin = \"renko\"; };"}},
     AT_RESOLVE,
     1,
     "bad.cfg:7: filters.ha.params.brick: ",
     "required by plugin renko but not set"},
    {"implicit_filter_unknown",
     {{13, "    filter = \"heikin_ashy\";"}},
     AT_RESOLVE,
     1,
     "bad.cfg:13: strategies.trend.filter: ",
     "unknown filter 'heikin_ashy': filters has no instance of that name and no plugin with that "
     "id is loaded; similar loaded plugins: heikin_ashi (filter)"},
    {"implicit_filter_wrong_kind",
     {{13, "    filter = [ \"ha\", \"ema\" ];"}},
     AT_RESOLVE,
     1,
     "bad.cfg:13: strategies.trend.filter[1]: ",
     "'ema' is not an instance of filters, and plugin 'ema' is an indicator, not a filter"},
    {"implicit_filter_required_param",
     {{13, "    filter = \"renko\";"}},
     AT_RESOLVE,
     1,
     "bad.cfg:13: strategies.trend.filter: ",
     "filter plugin renko requires the parameter 'brick'"},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* The base config with a case's edits, one line per base line. */
static void compose(const edit *edits, char *buf, size_t cap) {
  size_t len = 0;
  for (int line = 1; line <= BASE_LINES; line++) {
    const char *text = base[line - 1];
    for (const edit *e = edits; e->line; e++)
      if (e->line == line)
        text = e->text;
    int n = snprintf(buf + len, cap - len, "%s\n", text);
    assert_true(n > 0 && (size_t)n < cap - len);
    len += (size_t)n;
  }
}

static void test_error_case(void **state) {
  const error_case *c = *state;
  fx *f = NULL;
  char text[4096];
  void *fs;
  assert_int_equal(setup(&fs), 0);
  f = fs;

  compose(c->edits, text, sizeof text);
  const char *path = write_file(f, "bad.cfg", text);
  int rc = tack_config_load(path, &f->cfg, &f->d);
  if (c->stage == AT_LOAD) {
    if (rc != TACK_ECONFIG)
      dump(&f->d);
    assert_int_equal(rc, TACK_ECONFIG);
    assert_null(f->cfg);
  } else {
    if (rc != 0)
      dump(&f->d);
    assert_int_equal(rc, 0);
    tack_plugin_set set = plugin_set();
    assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), TACK_ECONFIG);
    expect_unbound(f->cfg);
  }
  EXPECT_MSG(&f->d, c->where, c->what);
  expect_count(&f->d, c->count);
  teardown(&fs);
}

/* ------------------------------------------------------------------------ */
/* Good configs                                                              */
/* ------------------------------------------------------------------------ */

static const char *base_text(char *buf, size_t cap) {
  static const edit none[] = {{0, NULL}};
  compose(none, buf, cap);
  return buf;
}

static void test_base_loads(void **state) {
  fx *f = *state;
  char text[4096];
  const char *path = write_file(f, "demo.cfg", base_text(text, sizeof text));
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), 0);
  expect_count(&f->d, 0);
  tack_config *cfg = f->cfg;
  assert_int_equal(cfg->version, 1);
  assert_string_equal(cfg->name, "demo");
  assert_string_equal(cfg->path, path);
  assert_string_equal(cfg->dir, f->dir);
  assert_int_equal(cfg->n_plugin_dirs, 0);
  assert_null(cfg->store_path);
  assert_int_equal(cfg->log_level, TACK_LOG_INFO);
  assert_int_equal(cfg->n_exchanges, 1);
  assert_string_equal(cfg->exchanges[0].name, "sim");
  assert_string_equal(cfg->exchanges[0].section, "exchanges");
  assert_int_equal(cfg->exchanges[0].kind, TACK_KIND_EXCHANGE);
  assert_string_equal(cfg->exchanges[0].plugin_id, "example.replay");
  assert_non_null(cfg->exchanges[0].params);
  assert_int_equal(cfg->exchanges[0].line, 4);
  assert_null(cfg->exchanges[0].plugin);
  assert_int_equal(cfg->n_filters, 1);
  assert_null(cfg->filters[0].params);
  assert_int_equal(cfg->n_strategies, 1);
  const tack_cfg_strategy *st = &cfg->strategies[0];
  assert_int_equal(st->timeframe_s, 300);
  assert_int_equal(st->n_filters, 1);
  assert_ptr_equal(st->filters[0], &cfg->filters[0]);
  assert_int_equal(cfg->n_symbols, 2);
  assert_string_equal(cfg->symbols[0].symbol, "BTC-USD");
  assert_ptr_equal(cfg->symbols[0].exchange, &cfg->exchanges[0]);
  assert_ptr_equal(cfg->symbols[0].strategy, st);
  assert_int_equal(cfg->symbols[0].enabled, 1);
  assert_int_equal(cfg->symbols[0].line, 18);
  assert_int_equal(cfg->symbols[1].enabled, 0);
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

static void test_resolve_and_print(void **state) {
  fx *f = *state;
  char text[4096];
  const char *path = write_file(f, "demo.cfg", base_text(text, sizeof text));
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), 0);
  tack_plugin_set set = plugin_set();
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), 0);
  expect_count(&f->d, 0);
  assert_ptr_equal(f->cfg->exchanges[0].plugin, &plugins[0]);
  assert_ptr_equal(f->cfg->filters[0].plugin, &plugins[1]);
  assert_ptr_equal(f->cfg->strategies[0].inst.plugin, &plugins[4]);

  char *out = print_to_string(f->cfg);
  assert_string_equal(out,
                      "exchange sim: example.replay 1.0.0 {bars=500, interval_ms=1, token=***}\n"
                      "symbol BTC-USD on sim (enabled)\n"
                      "  bars 5m -> filter ha (heikin_ashi 1.0.0) -> strategy trend "
                      "(example.momentum 1.0.0) {lookback=20, threshold=0.5}\n"
                      "symbol ETH-USD on sim (disabled)\n"
                      "  bars 5m -> filter ha (heikin_ashi 1.0.0) -> strategy trend "
                      "(example.momentum 1.0.0) {lookback=20, threshold=0.5}\n");
  assert_null(strstr(out, "SECRET"));
  free(out);

  /* Resolving again rebinds the same plugins. */
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), 0);
  assert_ptr_equal(f->cfg->exchanges[0].plugin, &plugins[0]);
}

/* A composite and a regime entry: loaded, resolved (only their leaves have
 * plugins) and printed as a tree with everything that defines it. */
static void test_composed_print(void **state) {
  fx *f = *state;
  const char *path =
      write_file(f, "composed.cfg",
                 "version = 1;\n"
                 "name = \"composed\";\n"
                 "exchanges = { sim = { plugin = \"example.replay\"; }; };\n"
                 "strategies = {\n"
                 "  fast = { plugin = \"example.momentum\"; timeframe = \"5m\"; filter = "
                 "\"heikin_ashi\"; };\n"
                 "  slow = { plugin = \"example.momentum\"; timeframe = \"1h\"; params = { "
                 "lookback = 12; }; };\n"
                 "  blend = { type = \"composite\"; method = \"weighted\"; threshold = 0.25;\n"
                 "            members = ( { strategy = \"slow\"; weight = 0; gate = true; }, "
                 "\"fast\" ); };\n"
                 "  vote = { type = \"composite\"; method = \"majority\"; members = [ "
                 "\"fast\", \"slow\" ]; };\n"
                 "  sw = { type = \"regime\"; detector = \"slow\"; hold = 2;\n"
                 "         regimes = ( { name = \"up\"; above = 0.5; strategy = \"blend\"; "
                 "on_switch = \"flatten\"; },\n"
                 "                     { name = \"rest\"; strategy = \"vote\"; on_switch = "
                 "\"reduce\"; reduce_to = 0.25; } ); };\n"
                 "};\n"
                 "symbols = ( { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"sw\"; "
                 "} );\n");
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), 0);
  tack_plugin_set set = plugin_set();
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), 0);
  expect_count(&f->d, 0);
  const tack_cfg_strategy *sw = &f->cfg->strategies[4];
  assert_int_equal(sw->type, TACK_STRATEGY_REGIME);
  assert_null(sw->inst.plugin);
  assert_int_equal(sw->depth, 3);
  assert_int_equal(sw->n_all_timeframes, 2);
  assert_int_equal(tack_config_children(sw), 3);
  assert_ptr_equal(tack_config_child(sw, 0, NULL), &f->cfg->strategies[1]);
  assert_int_equal(f->cfg->strategies[3].quorum, 2);

  char *out = print_to_string(f->cfg);
  const char *want =
      "symbol BTC-USD on sim (enabled)\n"
      "  regime sw: hold 2 bars of 5m (bars 5m, 1h)\n"
      "    detector: bars 1h -> strategy slow (example.momentum 1.0.0) {lookback=12, "
      "threshold=0.5}\n"
      "    regime up (strength above 0.5; on switch flatten): composite blend: weighted, "
      "threshold 0.25 (bars 5m, 1h; evaluated on 5m bars)\n"
      "      member slow (weight 0, gate): bars 1h -> strategy slow (example.momentum 1.0.0) "
      "{lookback=12, threshold=0.5}\n"
      "      member fast (weight 1): bars 5m -> filter heikin_ashi 1.0.0 -> strategy fast "
      "(example.momentum 1.0.0) {lookback=20, threshold=0.5}\n"
      "    regime rest (default; on switch reduce to 0.25): composite vote: majority, quorum 2 "
      "of 2, vote_threshold 0 (bars 5m, 1h; evaluated on 5m bars)\n"
      "      member fast: bars 5m -> filter heikin_ashi 1.0.0 -> strategy fast "
      "(example.momentum 1.0.0) {lookback=20, threshold=0.5}\n"
      "      member slow: bars 1h -> strategy slow (example.momentum 1.0.0) {lookback=12, "
      "threshold=0.5}\n";
  if (!strstr(out, want))
    fprintf(stderr, "got:\n%s", out);
  assert_non_null(strstr(out, want));
  free(out);
}

/* A scorer's features need indicator plugins to be built: without a
 * registry the config is refused at `features`. */
static void test_scorer_without_plugins(void **state) {
  fx *f = *state;
  static const tack_param_spec scorer_params[] = {
      {"features", TACK_PARAM_STRING, 0, 0, 0, 0, "", NULL, "set by the host"},
      {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL}};
  static const tack_plugin_desc scorer_desc =
      DESC(TACK_KIND_SCORER, "example.scorer", scorer_params);
  tack_plugin scorer = {&scorer_desc, "/fake/plugins/scorer.so", TACK_ABI_MAJOR, TACK_ABI_MINOR, 0};
  const char *path = write_file(f, "scorer.cfg",
                                "version = 1;\n"
                                "name = \"scorer\";\n"
                                "exchanges = { sim = { plugin = \"example.replay\"; }; };\n"
                                "strategies = {\n"
                                "  ml = { type = \"scorer\"; plugin = \"example.scorer\"; "
                                "timeframe = \"5m\";\n"
                                "         features = \"ret:1\"; };\n"
                                "};\n"
                                "symbols = ( { symbol = \"X\"; exchange = \"sim\"; strategy = "
                                "\"ml\"; } );\n");
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), 0);
  assert_int_equal(f->cfg->strategies[0].inst.kind, TACK_KIND_SCORER);
  tack_plugin_set set = plugin_set();
  const tack_plugin *with[N_DESCS + 1];
  for (size_t i = 0; i < N_DESCS; i++)
    with[i] = set.plugins[i];
  with[N_DESCS] = &scorer;
  set.plugins = with;
  set.n_plugins = N_DESCS + 1;
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), TACK_ECONFIG);
  EXPECT_MSG(&f->d, "scorer.cfg:6: strategies.ml.features: ",
             "cannot check the features: no plugins are loaded");
  expect_count(&f->d, 1);

  /* A strategy plugin where a scorer is wanted, and the other way round. */
  tack_config_free(f->cfg);
  f->cfg = NULL;
  tack_diag_free(&f->d);
  path = write_file(f, "kinds.cfg",
                    "version = 1;\n"
                    "name = \"kinds\";\n"
                    "exchanges = { sim = { plugin = \"example.replay\"; }; };\n"
                    "strategies = {\n"
                    "  ml = { type = \"scorer\"; plugin = \"example.momentum\"; timeframe = "
                    "\"5m\"; features = \"ret:1\"; };\n"
                    "  st = { plugin = \"example.scorer\"; timeframe = \"5m\"; };\n"
                    "};\n"
                    "symbols = ( { symbol = \"X\"; exchange = \"sim\"; strategy = \"ml\"; } "
                    ");\n");
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), 0);
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), TACK_ECONFIG);
  EXPECT_MSG(&f->d, "kinds.cfg:5: strategies.ml.plugin: ",
             "plugin 'example.momentum' is a strategy; an entry of type scorer needs an ML scorer "
             "plugin (drop type = \"scorer\" to use it as a strategy)");
  EXPECT_MSG(&f->d, "kinds.cfg:6: strategies.st.plugin: ",
             "plugin 'example.scorer' is an ML scorer; strategies need a strategy plugin (or set "
             "type = \"scorer\" and features to use this scorer)");
  expect_count(&f->d, 2);
}

static void test_implicit_filters(void **state) {
  fx *f = *state;
  const char *path = write_file(f, "chain.cfg",
                                "version = 1;\n"
                                "name = \"chain\";\n"
                                "exchanges = { sim = { plugin = \"example.replay\"; }; };\n"
                                "filters = {\n"
                                "  heikin_ashi = { plugin = \"heikin_ashi\"; };\n"
                                "  bricks = { plugin = \"renko\"; params = { brick = 2.5; }; };\n"
                                "};\n"
                                "strategies = {\n"
                                "  a = { plugin = \"example.momentum\"; timeframe = \"1h\";\n"
                                "        filter = [ \"bricks\", \"heikin_ashi\" ]; };\n"
                                "  b = { plugin = \"example.momentum\"; timeframe = 90;\n"
                                "        filter = ( \"renko_default\" ); };\n"
                                "  c = { plugin = \"example.momentum\"; timeframe = \"1d\";\n"
                                "        filter = \"renko_default\"; };\n"
                                "  d = { plugin = \"example.momentum\"; timeframe = \"45s\"; };\n"
                                "};\n"
                                "symbols = ( { symbol = \"X\"; exchange = \"sim\"; strategy = "
                                "\"a\"; } );\n");
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), 0);
  tack_config *cfg = f->cfg;
  /* The instance named like a plugin id wins; one implicit entry per id. */
  assert_int_equal(cfg->n_filters, 3);
  assert_int_equal(cfg->filters[0].implicit, 0);
  assert_int_equal(cfg->filters[2].implicit, 1);
  assert_string_equal(cfg->filters[2].name, "renko_default");
  assert_string_equal(cfg->filters[2].plugin_id, "renko_default");
  assert_null(cfg->filters[2].params);
  assert_int_equal(cfg->filters[2].line, 12);
  assert_int_equal(cfg->strategies[0].n_filters, 2);
  assert_ptr_equal(cfg->strategies[0].filters[0], &cfg->filters[1]);
  assert_ptr_equal(cfg->strategies[0].filters[1], &cfg->filters[0]);
  assert_ptr_equal(cfg->strategies[1].filters[0], &cfg->filters[2]);
  assert_ptr_equal(cfg->strategies[2].filters[0], &cfg->filters[2]);
  assert_int_equal(cfg->strategies[1].timeframe_s, 90);
  assert_int_equal(cfg->strategies[2].timeframe_s, 86400);
  assert_int_equal(cfg->strategies[3].n_filters, 0);
  assert_null(cfg->strategies[3].filters);

  /* No plugin has the id renko_default. */
  tack_plugin_set set = plugin_set();
  assert_int_equal(tack_config_resolve_set(cfg, &set, &f->d), TACK_ECONFIG);
  expect_count(&f->d, 1);
  EXPECT_MSG(&f->d, "chain.cfg:12: strategies.b.filter[0]: unknown filter 'renko_default'");
  expect_unbound(cfg);
}

static void test_implicit_filter_resolves(void **state) {
  fx *f = *state;
  const char *path = write_file(f, "implicit.cfg",
                                "version = 1;\n"
                                "name = \"implicit\";\n"
                                "exchanges = { sim = { plugin = \"example.replay\"; }; };\n"
                                "filters = { bricks = { plugin = \"renko\"; params = { brick = "
                                "0.5; }; }; };\n"
                                "strategies = { t = { plugin = \"example.momentum\"; timeframe = "
                                "\"4h\"; filter = [ \"heikin_ashi\", \"bricks\" ]; }; };\n"
                                "symbols = ( { symbol = \"X\"; exchange = \"sim\"; strategy = "
                                "\"t\"; } );\n");
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), 0);
  tack_plugin_set set = plugin_set();
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), 0);
  char *out = print_to_string(f->cfg);
  assert_non_null(strstr(out, "  bars 4h -> filter heikin_ashi 1.0.0 -> filter bricks (renko "
                              "1.0.0) {brick=0.5} -> strategy t (example.momentum 1.0.0)"));
  free(out);
}

static void test_documented_example_loads(void **state) {
  fx *f = *state;
  char path[512];
  const char *src = getenv("TACK_SOURCE_DIR");
  if (!src) {
    print_message("TACK_SOURCE_DIR is not set: run this test through ctest\n");
    skip();
  }
  snprintf(path, sizeof path, "%s/tests/fixtures/config/example.cfg", src);
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), 0);
  tack_config *cfg = f->cfg;
  assert_string_equal(cfg->name, "demo");
  assert_int_equal(cfg->n_exchanges, 1);
  assert_int_equal(cfg->n_filters, 3); /* ha, bricks and heikin_ashi by id */
  assert_int_equal(cfg->filters[2].implicit, 1);
  assert_int_equal(cfg->n_strategies, 2);
  assert_int_equal(cfg->strategies[1].timeframe_s, 3600);
  assert_int_equal(cfg->strategies[1].n_filters, 2);
  assert_int_equal(cfg->n_symbols, 3);
  assert_int_equal(cfg->symbols[1].enabled, 1);
  assert_int_equal(cfg->symbols[2].enabled, 0);
}

/* The whole file, NUL-terminated, in a buffer to free(). */
static char *slurp(const char *path) {
  FILE *in = fopen(path, "r");
  if (!in)
    fail_msg("cannot read %s: %s", path, strerror(errno));
  char *buf = malloc(1 << 20);
  assert_non_null(buf);
  size_t n = fread(buf, 1, (1 << 20) - 1, in);
  fclose(in);
  buf[n] = '\0';
  return buf;
}

static void test_documented_example_is_the_fixture(void **state) {
  (void)state;
  char path[512];
  const char *src = getenv("TACK_SOURCE_DIR");
  if (!src) {
    print_message("TACK_SOURCE_DIR is not set: run this test through ctest\n");
    skip();
  }
  snprintf(path, sizeof path, "%s/tests/fixtures/config/example.cfg", src);
  char *fixture = slurp(path);
  snprintf(path, sizeof path, "%s/docs/config.md", src);
  char *doc = slurp(path);
  /* The fixture is the documented example after its own header comment. */
  const char *body = fixture;
  while (*body == '#') {
    body = strchr(body, '\n');
    assert_non_null(body);
    body++;
  }
  if (!strstr(doc, body))
    fail_msg("docs/config.md no longer shows tests/fixtures/config/example.cfg as it is");
  free(fixture);
  free(doc);
}

static void test_paths(void **state) {
  fx *f = *state;
  char sub[128], text[1024], want[256];
  snprintf(sub, sizeof sub, "%s/configs", f->dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  snprintf(text, sizeof text,
           "version = 1; name = \"p\";\n"
           "plugin_dirs = [ \"../build/./plugins\", \"/opt/tack/plugins/\", \"..\" ];\n"
           "store = { path = \"../var/p\"; };\n"
           "log = { level = \"debug\"; };\n"
           "exchanges = { sim = { plugin = \"example.replay\"; }; };\n"
           "strategies = { t = { plugin = \"example.momentum\"; timeframe = \"1m\"; }; };\n"
           "symbols = ( { symbol = \"X\"; exchange = \"sim\"; strategy = \"t\"; } );\n");
  const char *path = write_file(f, "configs/p.cfg", text);
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), 0);
  tack_config *cfg = f->cfg;
  assert_string_equal(cfg->dir, sub);
  assert_int_equal(cfg->n_plugin_dirs, 3);
  snprintf(want, sizeof want, "%s/build/plugins", f->dir);
  assert_string_equal(cfg->plugin_dirs[0], want);
  assert_string_equal(cfg->plugin_dirs[1], "/opt/tack/plugins");
  assert_string_equal(cfg->plugin_dirs[2], f->dir);
  snprintf(want, sizeof want, "%s/var/p", f->dir);
  assert_string_equal(cfg->store_path, want);
  assert_int_equal(cfg->log_level, TACK_LOG_DEBUG);
  char *out = print_to_string(cfg);
  assert_non_null(strstr(out, "store: "));
  free(out);
  tack_config_free(f->cfg);
  f->cfg = NULL;
  unlink(path);
  f->n_files--;
  rmdir(sub);
}

static void test_include(void **state) {
  fx *f = *state;
  char text[4096];
  /* Line 2 of the included file is wrong; the message must name that file. */
  write_file(f, "strategies.inc",
             "strategies = {\n"
             "  trend = { plugin = \"example.momentum\"; timeframe = \"5 m\"; };\n"
             "};\n");
  snprintf(text, sizeof text,
           "version = 1;\n"
           "name = \"inc\";\n"
           "exchanges = { sim = { plugin = \"example.replay\"; }; };\n"
           "@include \"strategies.inc\"\n"
           "symbols = ( { symbol = \"X\"; exchange = \"sim\"; strategy = \"trend\"; } );\n");
  const char *path = write_file(f, "main.cfg", text);
  /* Includes are relative to the config's folder, not the working one. */
  char cwd[512];
  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_int_equal(chdir("/"), 0);
  int rc = tack_config_load(path, &f->cfg, &f->d);
  assert_int_equal(chdir(cwd), 0);
  assert_int_equal(rc, TACK_ECONFIG);
  expect_count(&f->d, 1);
  EXPECT_MSG(&f->d, "strategies.inc:2: strategies.trend.timeframe: ", "got a string \"5 m\"");
}

static void test_int_literals(void **state) {
  fx *f = *state;
  char text[4096];
  /* libconfig truncates only the second literal of line 5 and the one of
   * line 10; everything else is a fine literal or not a literal at all. */
  snprintf(text, sizeof text,
           "version = 1; name = \"lits\";\n" /* 1 */
           "# 9999999999 in a comment\n"     /* 2 */
           "/* 9999999999\n 8888888888 */\n" /* 3, 4 */
           "exchanges = { sim = { plugin = \"x\"; params = { a = 1; b = 4294967296; c = 3; }; "
           "}; };\n" /* 5 */
           "filters = { f = { plugin = \"y\"; params = { s = \"5000000000\"; l = 5000000000L; "
           "d = 5000000000.0; e = 5e9; m = -2147483648; n = 2147483647; }; }; };\n" /* 6 */
           "strategies = { t = { plugin = \"z\"; timeframe = \"5m\";\n"             /* 7 */
           "  params = { x9 = 1; };\n"                                              /* 8 */
           "  }; };\n symbols = ( { symbol = \"X\"; exchange = \"sim\"; strategy = \"t\"; "
           "} ); big = [ 0x1FFFFFFFF ];\n"); /* 9, 10 */
  const char *path = write_file(f, "lits.cfg", text);
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), TACK_ECONFIG);
  EXPECT_MSG(&f->d, "lits.cfg:5: exchanges.sim.params.b: 4294967296 does not fit in 32 bits",
             "write 4294967296L");
  EXPECT_MSG(&f->d, "lits.cfg:10: big[0]: 0x1FFFFFFFF does not fit in 32 bits");
  EXPECT_MSG(&f->d, "lits.cfg:10: big: unknown setting");
  expect_count(&f->d, 3);
}

static void test_missing_file(void **state) {
  fx *f = *state;
  char path[128];
  snprintf(path, sizeof path, "%s/nope.cfg", f->dir);
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), TACK_ENOENT);
  assert_null(f->cfg);
  expect_count(&f->d, 1);
  EXPECT_MSG(&f->d, "nope.cfg: cannot read the config file: No such file or directory");

  tack_diag_free(&f->d);
  assert_int_equal(tack_config_load(f->dir, &f->cfg, &f->d), TACK_EIO);
  EXPECT_MSG(&f->d, "is a folder");
}

static void test_unterminated_string(void **state) {
  fx *f = *state;
  const char *path = write_file(f, "unterm.cfg", "version = 1;\nname = \"demo;\nlog = { };\n");
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), TACK_ECONFIG);
  expect_count(&f->d, 1);
  EXPECT_MSG(&f->d, "unterm.cfg:", "unterminated string is reported at the end of the file");
}

static void test_three_errors_at_load(void **state) {
  fx *f = *state;
  char text[4096];
  static const edit edits[] = {
      {2, "name = \"demo\"; colour = \"red\";"},
      {12, "    timeframe = \"5y\";"},
      {19, "  { symbol = \"ETH-USD\"; exchange = \"paper\"; strategy = \"trend\"; }"},
      {0, NULL}};
  compose(edits, text, sizeof text);
  const char *path = write_file(f, "three.cfg", text);
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), TACK_ECONFIG);
  assert_null(f->cfg);
  expect_count(&f->d, 3);
  EXPECT_MSG(&f->d, "three.cfg:2: colour: unknown setting");
  EXPECT_MSG(&f->d, "three.cfg:12: strategies.trend.timeframe: must be a timeframe");
  EXPECT_MSG(&f->d, "three.cfg:19: symbols[1].exchange: unknown exchange 'paper'");
}

static void test_every_resolve_error_at_once(void **state) {
  fx *f = *state;
  char text[4096];
  static const edit edits[] = {{4, "  sim = { plugin = \"ema\"; };"},
                               {7, "  ha = { plugin = \"heikin_ash\"; };"},
                               {14, "    params = { lookback = 501; threshold = 2; };"},
                               {0, NULL}};
  compose(edits, text, sizeof text);
  const char *path = write_file(f, "three.cfg", text);
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), 0);
  tack_plugin_set set = plugin_set();
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), TACK_ECONFIG);
  expect_count(&f->d, 4);
  EXPECT_MSG(&f->d, "three.cfg:4: exchanges.sim.plugin: plugin 'ema' is an indicator");
  EXPECT_MSG(&f->d, "three.cfg:7: filters.ha.plugin: plugin 'heikin_ash' is not loaded");
  EXPECT_MSG(&f->d, "three.cfg:14: strategies.trend.params.lookback: must be an integer in [2, "
                    "500], got 501");
  EXPECT_MSG(&f->d, "three.cfg:14: strategies.trend.params.threshold: must be a number in [0, 1], "
                    "got 2");
  expect_unbound(f->cfg);
}

static void test_partial_load_reports_plugins_too(void **state) {
  fx *f = *state;
  char text[4096];
  static const edit edits[] = {{4, "  sim = { plugin = \"ema\"; };"},
                               {12, "    timeframe = \"5y\";"},
                               {14, "    params = { lookback = 1; };"},
                               {0, NULL}};
  compose(edits, text, sizeof text);
  const char *path = write_file(f, "mixed.cfg", text);

  /* The plain load hands out nothing. */
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), TACK_ECONFIG);
  assert_null(f->cfg);
  tack_diag_free(&f->d);

  /* The partial one keeps the config for its report, marked invalid. */
  assert_int_equal(tack_config_load_partial(path, &f->cfg, &f->d), TACK_ECONFIG);
  assert_non_null(f->cfg);
  assert_int_equal(f->cfg->invalid, 1);
  expect_count(&f->d, 1);
  tack_plugin_set set = plugin_set();
  assert_int_equal(tack_config_resolve_set(f->cfg, &set, &f->d), TACK_ECONFIG);
  expect_count(&f->d, 3);
  EXPECT_MSG(&f->d, "mixed.cfg:12: strategies.trend.timeframe: must be a timeframe");
  EXPECT_MSG(&f->d, "mixed.cfg:4: exchanges.sim.plugin: plugin 'ema' is an indicator");
  EXPECT_MSG(&f->d, "mixed.cfg:14: strategies.trend.params.lookback: must be an integer");
  expect_unbound(f->cfg);
}

static void test_partial_load_refuses_unsure_configs(void **state) {
  fx *f = *state;
  char text[4096];
  static const struct {
    const char *why;
    edit edits[2];
  } rows[] = {
      /* The folders to scan are unknown: every plugin would look missing. */
      {"misspelt plugin_dirs", {{2, "name = \"demo\"; plugin_dir = [ \"x\" ];"}, {0, NULL}}},
      {"plugin_dirs of the wrong type", {{2, "name = \"demo\"; plugin_dirs = \"x\";"}, {0, NULL}}},
      {"bad plugin_dirs entry", {{2, "name = \"demo\"; plugin_dirs = ( 1 );"}, {0, NULL}}},
      /* Another schema's keys mean something else. */
      {"another version", {{1, "version = 2;"}, {0, NULL}}},
      {"syntax error", {{1, "version = ;"}, {0, NULL}}},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    compose(rows[i].edits, text, sizeof text);
    const char *path = write_file(f, "unsure.cfg", text);
    int rc = tack_config_load_partial(path, &f->cfg, &f->d);
    if (rc != TACK_ECONFIG || f->cfg)
      fail_msg("%s: rc %d, config %s", rows[i].why, rc, f->cfg ? "handed out" : "NULL");
    tack_diag_free(&f->d);
  }
  /* A good config loads the same either way. */
  const char *path = write_file(f, "good.cfg", base_text(text, sizeof text));
  assert_int_equal(tack_config_load_partial(path, &f->cfg, &f->d), 0);
  assert_int_equal(f->cfg->invalid, 0);
}

static void test_no_plugins_loaded(void **state) {
  fx *f = *state;
  char text[4096];
  const char *path = write_file(f, "demo.cfg", base_text(text, sizeof text));
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), 0);
  tack_plugin_set empty = {NULL, 0, NULL, 0};
  assert_int_equal(tack_config_resolve_set(f->cfg, &empty, &f->d), TACK_ECONFIG);
  expect_count(&f->d, 3);
  EXPECT_MSG(&f->d, "demo.cfg:4: exchanges.sim.plugin: plugin 'example.replay' is not loaded; "
                    "no plugins are loaded at all");
}

static void test_allocation_failures(void **state) {
  fx *f = *state;
  char text[4096];
  const char *path = write_file(f, "demo.cfg", base_text(text, sizeof text));
  tack_plugin_set set = plugin_set();
  /* Fail each allocation in turn: every run ends cleanly, with the config
   * loaded or with TACK_ENOMEM and nothing (ASan checks for leaks). */
  int last_rc = -1;
  for (uint64_t n = 1; n < 200; n++) {
    tack_config *cfg = NULL;
    tack_diag d = TACK_DIAG_INIT;
    tack_alloc_fail_after(n);
    int rc = tack_config_load(path, &cfg, &d);
    tack_alloc_fail_after(0);
    if (rc != 0) {
      assert_int_equal(rc, TACK_ENOMEM);
      assert_null(cfg);
    } else {
      assert_int_equal(tack_config_resolve_set(cfg, &set, &d), 0);
    }
    tack_config_free(cfg);
    tack_diag_free(&d);
    last_rc = rc;
  }
  /* The loop reached past the last allocation a load makes. */
  assert_int_equal(last_rc, 0);
}

static void test_timeframes(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int ok;
    uint32_t seconds;
  } rows[] = {
      {"45s", 1, 45},    {"1m", 1, 60},       {"5m", 1, 300},
      {"4h", 1, 14400},  {"1d", 1, 86400},    {"90", 1, 90},
      {"7d", 1, 604800}, {"168h", 1, 604800}, {"604800", 1, 604800},
      {"05m", 1, 300},   {"0", 0, 0},         {"0m", 0, 0},
      {"-5m", 0, 0},     {"+5m", 0, 0},       {"5x", 0, 0},
      {"5mm", 0, 0},     {"5m ", 0, 0},       {" 5m", 0, 0},
      {"5 m", 0, 0},     {"", 0, 0},          {"m", 0, 0},
      {"8d", 0, 0},      {"604801", 0, 0},    {"1w", 0, 0},
      {"5M", 0, 0},      {"1.5h", 0, 0},      {"99999999999999999999s", 0, 0},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    uint32_t s = 12345;
    int rc = tack_timeframe_parse(rows[i].text, &s);
    if (rows[i].ok && (rc != 0 || s != rows[i].seconds))
      fail_msg("'%s': rc %d, %u seconds; want %u", rows[i].text, rc, s, rows[i].seconds);
    if (!rows[i].ok && rc != TACK_EINVAL)
      fail_msg("'%s' must be refused", rows[i].text);
  }
  assert_int_equal(tack_timeframe_parse(NULL, &(uint32_t){0}), TACK_EINVAL);

  static const struct {
    uint32_t seconds;
    const char *text;
  } fmt[] = {{45, "45s"},   {60, "1m"},    {300, "5m"},    {3600, "1h"}, {5400, "90m"},
             {14400, "4h"}, {86400, "1d"}, {604800, "7d"}, {90, "90s"},  {0, "0s"}};
  char buf[16];
  for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
    tack_timeframe_format(fmt[i].seconds, buf, sizeof buf);
    assert_string_equal(buf, fmt[i].text);
  }
}

/* ------------------------------------------------------------------------ */
/* `tack check`, the program                                                 */
/* ------------------------------------------------------------------------ */

typedef struct run_result {
  int status; /* exit status, or -1 when it did not exit */
  char out[16384];
  char err[16384];
} run_result;

static const char *env_or_skip(const char *name) {
  const char *v = getenv(name);
  if (!v || !*v) {
    print_message("%s is not set: run this test through ctest\n", name);
    skip();
  }
  return v;
}

static void read_all(const char *path, char *buf, size_t cap) {
  FILE *in = fopen(path, "r");
  size_t n = 0;
  if (in) {
    n = fread(buf, 1, cap - 1, in);
    fclose(in);
  }
  buf[n] = '\0';
  unlink(path);
}

/* Run tack with args (NULL-terminated, without argv[0]), without
 * TACK_PLUGIN_PATH so that only the folders given are scanned. */
static void run_tack(fx *f, const char *const *args, run_result *r) {
  char exe[512], out_path[128], err_path[128];
  char *argv[16];
  char *envp[256];
  size_t n_env = 0, n_arg = 0;
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int wstatus = 0;

  snprintf(exe, sizeof exe, "%s/host/tack", env_or_skip("TACK_BUILD_DIR"));
  snprintf(out_path, sizeof out_path, "%s/stdout", f->dir);
  snprintf(err_path, sizeof err_path, "%s/stderr", f->dir);
  argv[n_arg++] = exe;
  for (; args[n_arg - 1] && n_arg < 15; n_arg++)
    argv[n_arg] = (char *)args[n_arg - 1];
  argv[n_arg] = NULL;
  for (char **e = environ; *e && n_env < 255; e++)
    if (strncmp(*e, "TACK_PLUGIN_PATH=", 17) != 0)
      envp[n_env++] = *e;
  envp[n_env] = NULL;

  assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int rc = posix_spawn(&pid, exe, &fa, NULL, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    fail_msg("cannot run %s: %s", exe, strerror(rc));
  assert_int_equal(waitpid(pid, &wstatus, 0), pid);
  r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  read_all(out_path, r->out, sizeof r->out);
  read_all(err_path, r->err, sizeof r->err);
}

static void expect_in(const char *what, const char *text, const char *frag) {
  if (!strstr(text, frag))
    fail_msg("%s lacks '%s'; it is:\n%s", what, frag, text);
}

/* tack check <fixture config> --plugin-dir <fixture plugins> [--plugin-dir <refused>] */
static void check_fixture(fx *f, const char *name, int with_refused, run_result *r, char *cfg_path,
                          size_t cap) {
  char plugins[512], refused[512];
  const char *fixtures = env_or_skip("TACK_FIXTURE_DIR");
  snprintf(cfg_path, cap, "%s/tests/fixtures/config/%s", env_or_skip("TACK_SOURCE_DIR"), name);
  snprintf(plugins, sizeof plugins, "%s/config/plugins", fixtures);
  snprintf(refused, sizeof refused, "%s/config/refused", fixtures);
  const char *args[] = {
      "check", cfg_path, "--plugin-dir", plugins, with_refused ? "--plugin-dir" : NULL,
      refused, NULL};
  run_tack(f, args, r);
}

static void test_cli_good(void **state) {
  fx *f = *state;
  static run_result r;
  char path[512], line[640];
  check_fixture(f, "check_good.cfg", 0, &r, path, sizeof path);
  if (r.status != 0)
    fail_msg("exit %d; stderr:\n%s", r.status, r.err);
  snprintf(line, sizeof line, "config %s (bot clitest, schema 1): ok\n", path);
  expect_in("stdout", r.out, line);
  expect_in("stdout", r.out, "plugins: ");
  expect_in("stdout", r.out,
            "exchange sim: cfgfix.exchange 1.0.0 {bars=250, interval_ms=1, "
            "token=***}\n");
  expect_in("stdout", r.out,
            "symbol BTC-USD on sim (enabled)\n"
            "  bars 5m -> filter pass (cfgfix.pass 1.0.0) -> filter bricks "
            "(cfgfix.brick 1.0.0) {brick=0.5} -> strategy trend (cfgfix.trend "
            "1.0.0) {fast=5, slow=20, mode=\"long\"}\n");
  expect_in("stdout", r.out,
            "symbol ETH-USD on sim (disabled)\n"
            "  bars 1h -> strategy hourly (cfgfix.trend 1.0.0) {fast=12, "
            "slow=26, mode=\"both\"}\n");
  assert_null(strstr(r.out, "fixture-token"));
  assert_null(strstr(r.err, "fixture-token"));
}

static void test_cli_bad_schema(void **state) {
  fx *f = *state;
  static run_result r;
  char path[512];
  check_fixture(f, "check_bad.cfg", 0, &r, path, sizeof path);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.out, "");
  expect_in("stderr", r.err, "check_bad.cfg:8: strategies.trend.timeframe: must be a timeframe");
  expect_in("stderr", r.err, "check_bad.cfg:10: strategies.trend.lookback: unknown setting");
  expect_in("stderr", r.err,
            "check_bad.cfg:15: symbols[1].exchange: unknown exchange 'simm' "
            "(did you mean 'sim'?)");
  expect_in("stderr", r.err, "3 problems");
}

static void test_cli_bad_plugins(void **state) {
  fx *f = *state;
  static run_result r;
  char path[512];
  check_fixture(f, "check_plugins.cfg", 0, &r, path, sizeof path);
  assert_int_equal(r.status, 1);
  expect_in("stderr", r.err,
            "check_plugins.cfg:5: exchanges.sim.plugin: plugin 'cfgfix.ema' is "
            "an indicator; exchanges need an exchange plugin");
  expect_in("stderr", r.err,
            "check_plugins.cfg:11: strategies.trend.params.slow: must be an "
            "integer in [2, 1000], got 5000");
  expect_in("stderr", r.err,
            "check_plugins.cfg:12: strategies.trend.params.mode: must be one of "
            "long|short|both, got \"up\"");
}

static void test_cli_all_at_once(void **state) {
  fx *f = *state;
  static run_result r;
  char path[512];
  check_fixture(f, "check_mixed.cfg", 0, &r, path, sizeof path);
  assert_int_equal(r.status, 1);
  expect_in("stderr", r.err,
            "check_mixed.cfg:6: exchanges.sim.params.bars: must be an integer "
            "in [1, 100000], got 0");
  expect_in("stderr", r.err,
            "check_mixed.cfg:11: strategies.trend.timeframe: must be a "
            "timeframe");
  expect_in("stderr", r.err,
            "check_mixed.cfg:12: strategies.trend.filter: unknown filter "
            "'cfgfix.pas'");
  expect_in("stderr", r.err, "3 problems");
}

static void test_cli_plugin_own_error(void **state) {
  fx *f = *state;
  static run_result r;
  char path[512];
  check_fixture(f, "check_configure.cfg", 0, &r, path, sizeof path);
  assert_int_equal(r.status, 1);
  expect_in("stderr", r.err,
            "check_configure.cfg:10: strategies.trend.params.fast: must be less "
            "than slow (30 >= 10)");
}

static void test_cli_refused(void **state) {
  fx *f = *state;
  static run_result r;
  char path[512];
  check_fixture(f, "check_refused.cfg", 1, &r, path, sizeof path);
  assert_int_equal(r.status, 1);
  expect_in("stderr", r.err, "warning: ");
  expect_in("stderr", r.err, "cfgfix_broken.so");
  expect_in("stderr", r.err,
            "check_refused.cfg:5: exchanges.sim.plugin: plugin "
            "'cfgfix_broken.feed' is not loaded; a refused file may carry it: ");

  /* The same refused file is only a warning when nothing needs it. */
  check_fixture(f, "check_good.cfg", 1, &r, path, sizeof path);
  assert_int_equal(r.status, 0);
  expect_in("stderr", r.err, "warning: ");
}

static void test_cli_documented_example(void **state) {
  fx *f = *state;
  static run_result r;
  char path[512], plugin[512];
  static const char *const needed[] = {"example_replay", "example_momentum", "filters"};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
    snprintf(plugin, sizeof plugin, "%s/plugins/%s.so", env_or_skip("TACK_BUILD_DIR"), needed[i]);
    if (access(plugin, R_OK) != 0) {
      print_message("%s is not built: the documented example cannot be checked\n", plugin);
      skip();
    }
  }
  snprintf(path, sizeof path, "%s/tests/fixtures/config/example.cfg",
           env_or_skip("TACK_SOURCE_DIR"));
  const char *args[] = {"check", path, NULL};
  run_tack(f, args, &r);
  if (r.status != 0)
    fail_msg("exit %d; stderr:\n%s", r.status, r.err);
  expect_in("stdout", r.out, "(bot demo, schema 1): ok\n");
  expect_in("stdout", r.out,
            "symbol ETH-USD on sim (enabled)\n"
            "  bars 1h -> filter heikin_ashi 1.0.0 -> filter bricks (renko "
            "1.0.0) {");
  expect_in("stdout", r.out, "symbol SOL-USD on sim (disabled)\n");
}

static void test_cli_usage(void **state) {
  fx *f = *state;
  static run_result r;
  const char *none[] = {"check", NULL};
  run_tack(f, none, &r);
  assert_int_equal(r.status, 2);
  expect_in("stderr", r.err, "no config given");
  const char *bad[] = {"check", "a.cfg", "--plugin-dirs", "x", NULL};
  run_tack(f, bad, &r);
  assert_int_equal(r.status, 2);
  expect_in("stderr", r.err, "unknown option '--plugin-dirs'");
  const char *help[] = {"check", "--help", NULL};
  run_tack(f, help, &r);
  assert_int_equal(r.status, 0);
  expect_in("stdout", r.out, "usage: tack check CONFIG");
  const char *missing[] = {"check", "/nonexistent/x.cfg", NULL};
  run_tack(f, missing, &r);
  assert_int_equal(r.status, 1);
  expect_in("stderr", r.err, "/nonexistent/x.cfg: cannot read the config file");
}

/* ------------------------------------------------------------------------ */

static int run_cli_tests(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cli_good, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cli_bad_schema, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cli_bad_plugins, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cli_all_at_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cli_plugin_own_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cli_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cli_documented_example, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cli_usage, setup, teardown),
  };
  return cmocka_run_group_tests_name("tack check", tests, NULL, NULL);
}

static int run_unit_tests(void) {
  static const struct CMUnitTest fixed[] = {
      cmocka_unit_test_setup_teardown(test_base_loads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_composed_print, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scorer_without_plugins, setup, teardown),
      cmocka_unit_test_setup_teardown(test_resolve_and_print, setup, teardown),
      cmocka_unit_test_setup_teardown(test_implicit_filters, setup, teardown),
      cmocka_unit_test_setup_teardown(test_implicit_filter_resolves, setup, teardown),
      cmocka_unit_test_setup_teardown(test_documented_example_loads, setup, teardown),
      cmocka_unit_test(test_documented_example_is_the_fixture),
      cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
      cmocka_unit_test_setup_teardown(test_include, setup, teardown),
      cmocka_unit_test_setup_teardown(test_int_literals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unterminated_string, setup, teardown),
      cmocka_unit_test_setup_teardown(test_three_errors_at_load, setup, teardown),
      cmocka_unit_test_setup_teardown(test_every_resolve_error_at_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_partial_load_reports_plugins_too, setup, teardown),
      cmocka_unit_test_setup_teardown(test_partial_load_refuses_unsure_configs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_plugins_loaded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
      cmocka_unit_test(test_timeframes),
  };
  /* One test per row of the error table, named after it. */
  struct CMUnitTest tests[sizeof fixed / sizeof fixed[0] + N_CASES];
  size_t n = 0;
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    tests[n++] = fixed[i];
  for (size_t i = 0; i < N_CASES; i++) {
    struct CMUnitTest t = {cases[i].name, test_error_case, NULL, NULL, (void *)&cases[i]};
    tests[n++] = t;
  }
  return _cmocka_run_group_tests("config", tests, n, NULL, NULL);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "cli") == 0)
    return run_cli_tests();
  return run_unit_tests();
}
