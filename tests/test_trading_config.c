/*
 * test_trading_config.c: the trading settings of a config
 * (host/trading_config.c), read through tack_config_load() as `tack run`
 * and `tack check` read them.
 *
 * Defaults; every key read; precedence key by key (symbol, then the
 * symbol's strategies entry for exits, then the global group, then the
 * defaults); a table of bad configs, one row per kind of problem, each
 * asserting the file, the line and the setting's path of its message, that
 * no other problem is reported and that nothing is loaded; several problems
 * at once; tack check's partial load; printing; allocation failures; the
 * documented example (tests/fixtures/trading/example.cfg).
 */
#include <errno.h>
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
#include "diag.h"
#include "orders.h"
#include "trading_config.h"

/* ------------------------------------------------------------------------ */
/* Temporary files, messages                                                 */
/* ------------------------------------------------------------------------ */

typedef struct fx {
  char dir[64];
  char path[160];
  tack_diag d;
  tack_config *cfg;
} fx;

/* Per test (cmocka 1.1.5 passes a run whose group setup failed). */
static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/tack-tcfg-XXXXXX");
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
  if (f->path[0])
    unlink(f->path);
  rmdir(f->dir);
  free(f);
  return 0;
}

/* Write text to <dir>/bad.cfg; returns the path. */
static const char *write_config(fx *f, const char *text) {
  char joined[sizeof f->path];
  snprintf(joined, sizeof joined, "%s/bad.cfg", f->dir);
  memcpy(f->path, joined, sizeof joined);
  FILE *out = fopen(f->path, "w");
  assert_non_null(out);
  fputs(text, out);
  fclose(out);
  return f->path;
}

static void dump(const tack_diag *d) {
  for (size_t i = 0; i < d->n; i++)
    print_message("  diag[%zu]: %s\n", i, d->msgs[i]);
}

/* Fail unless one message contains both fragments (either may be NULL). */
static void expect_msg(const tack_diag *d, const char *a, const char *b) {
  for (size_t i = 0; i < d->n; i++)
    if ((!a || strstr(d->msgs[i], a)) && (!b || strstr(d->msgs[i], b)))
      return;
  dump(d);
  fail_msg("no message contains all of: '%s' '%s'", a ? a : "", b ? b : "");
}

static void expect_count(const tack_diag *d, size_t n) {
  if (d->n != n) {
    dump(d);
    fail_msg("%zu problems reported, want %zu", d->n, n);
  }
}

/* ------------------------------------------------------------------------ */
/* The base config and the error table                                       */
/* ------------------------------------------------------------------------ */

#define BASE_LINES 52
static const char *const base[BASE_LINES] = {
    /*  1 */ "version = 1;",
    /*  2 */ "name = \"demo\";",
    /*  3 */ "exchanges = { sim = { plugin = \"example.replay\"; }; };",
    /*  4 */ "strategies = {",
    /*  5 */ "  trend = { plugin = \"example.momentum\"; timeframe = \"5m\"; };",
    /*  6 */
    "  fade = { plugin = \"example.momentum\"; timeframe = \"5m\"; exits = { take_profit = 0.08; "
    "}; };",
    /*  7 */ "};",
    /*  8 */ "symbols = (",
    /*  9 */ "  { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"trend\"; },",
    /* 10 */ "  { symbol = \"ETH-USD\"; exchange = \"sim\"; strategy = \"fade\"; enabled = false;",
    /* 11 */ "    trading = { sizing = { allocation = 500.0; }; }; }",
    /* 12 */ ");",
    /* 13 */ "trading = {",
    /* 14 */ "  sizing = {",
    /* 15 */ "    allocation = 10000.0;",
    /* 16 */ "    initial_fraction = 0.4;",
    /* 17 */ "    continuation_fraction = 0.2;",
    /* 18 */ "    max_fraction = 0.9;",
    /* 19 */ "    min_strength = 0.1;",
    /* 20 */ "    tolerance = 0.03;",
    /* 21 */ "    on_opposite = \"reverse\";",
    /* 22 */ "    on_neutral = \"hold\";",
    /* 23 */ "    scale_by_strength = false;",
    /* 24 */ "  };",
    /* 25 */ "  exits = {",
    /* 26 */ "    take_profit = 0.05;",
    /* 27 */ "    stop_loss = 0.02;",
    /* 28 */ "    trailing_stop = 0.03;",
    /* 29 */ "    trailing_activation = 0.01;",
    /* 30 */ "  };",
    /* 31 */ "  limits = {",
    /* 32 */ "    max_order_notional = 5000;",
    /* 33 */ "    max_position_notional = 20000.0;",
    /* 34 */ "    max_orders_per_minute = 30;",
    /* 35 */ "  };",
    /* 36 */ "  orders = {",
    /* 37 */ "    type = \"limit\";",
    /* 38 */ "    limit_offset_bps = 5.0;",
    /* 39 */ "    timeout = \"45s\";",
    /* 40 */ "    on_timeout = \"cancel\";",
    /* 41 */ "    max_attempts = 4;",
    /* 42 */ "  };",
    /* 43 */ "  day = {",
    /* 44 */ "    zone = \"+05:30\";",
    /* 45 */ "    start = \"17:00\";",
    /* 46 */ "    loss_limit = 500.0;",
    /* 47 */ "    loss_fraction = 0.1;",
    /* 48 */ "    profit_target = 800;",
    /* 49 */ "  };",
    /* 50 */ "  shutdown = { flatten = false; timeout = 90; retries = 5; };",
    /* 51 */ "  recovery = { on_mismatch = \"refuse\"; };",
    /* 52 */ "};",
};

/* Replace lines [line, through] (through 0: just line) with text. */
typedef struct edit {
  int line; /* 0 ends the list */
  const char *text;
  int through;
} edit;

typedef struct error_case {
  const char *name;
  edit edits[4];
  size_t count;      /* problems expected in all */
  const char *where; /* "bad.cfg:15: trading.sizing.allocation: " */
  const char *what;  /* the message, or a part of it */
} error_case;

static const error_case cases[] = {
    /* Sizing: each range, at its own setting. */
    {"allocation_zero",
     {{15, "    allocation = 0;", 0}},
     1,
     "bad.cfg:15: trading.sizing.allocation: ",
     "must be a number above 0 (quote currency per symbol), got 0"},
    {"allocation_string",
     {{15, "    allocation = \"lots\";", 0}},
     1,
     "bad.cfg:15: trading.sizing.allocation: ",
     "must be a number, got a string \"lots\""},
    {"initial_fraction_above_one",
     {{16, "    initial_fraction = 1.5;", 0}},
     1,
     "bad.cfg:16: trading.sizing.initial_fraction: ",
     "must be a number in (0, 1], got 1.5"},
    {"continuation_fraction_negative",
     {{17, "    continuation_fraction = -0.1;", 0}},
     1,
     "bad.cfg:17: trading.sizing.continuation_fraction: ",
     "must be a number in [0, 1], got -0.1"},
    {"max_fraction_above_one",
     {{18, "    max_fraction = 1.2;", 0}},
     1,
     "bad.cfg:18: trading.sizing.max_fraction: ",
     "must be a number in [initial_fraction, 1], got 1.2"},
    {"max_fraction_below_initial",
     {{18, "    max_fraction = 0.3;", 0}},
     1,
     "bad.cfg:18: trading.sizing.max_fraction: ",
     "max_fraction (0.3) is below initial_fraction (0.4; the initial_fraction is "
     "trading.sizing.initial_fraction at "},
    {"min_strength_one",
     {{19, "    min_strength = 1;", 0}},
     1,
     "bad.cfg:19: trading.sizing.min_strength: ",
     "must be a number in [0, 1), got 1"},
    {"tolerance_negative",
     {{20, "    tolerance = -1;", 0}},
     1,
     "bad.cfg:20: trading.sizing.tolerance: ",
     "must be a number in [0, 1), got -1"},
    {"on_opposite_unknown",
     {{21, "    on_opposite = \"close\";", 0}},
     1,
     "bad.cfg:21: trading.sizing.on_opposite: ",
     "must be one of flat|reverse, got \"close\""},
    {"on_neutral_not_a_string",
     {{22, "    on_neutral = 1;", 0}},
     1,
     "bad.cfg:22: trading.sizing.on_neutral: ",
     "must be one of flat|hold, got an integer 1"},
    {"scale_by_strength_not_bool",
     {{23, "    scale_by_strength = \"yes\";", 0}},
     1,
     "bad.cfg:23: trading.sizing.scale_by_strength: ",
     "must be true or false, got a string \"yes\""},
    {"unknown_sizing_key",
     {{15, "    alocation = 10000.0;", 0}},
     1,
     "bad.cfg:15: trading.sizing.alocation: ",
     "unknown setting (did you mean 'allocation'?)"},

    /* Exits and limits. */
    {"take_profit_negative",
     {{26, "    take_profit = -0.05;", 0}},
     1,
     "bad.cfg:26: trading.exits.take_profit: ",
     "must be a number of 0 or more (0 turns it off), got -0.05"},
    {"stop_loss_one",
     {{27, "    stop_loss = 1.0;", 0}},
     1,
     "bad.cfg:27: trading.exits.stop_loss: ",
     "must be a number in [0, 1) (0 turns it off), got 1"},
    {"trailing_stop_above_one",
     {{28, "    trailing_stop = 1.5;", 0}},
     1,
     "bad.cfg:28: trading.exits.trailing_stop: ",
     "must be a number in [0, 1) (0 turns it off), got 1.5"},
    {"trailing_activation_negative",
     {{29, "    trailing_activation = -1;", 0}},
     1,
     "bad.cfg:29: trading.exits.trailing_activation: ",
     "must be a number of 0 or more (0 arms the trail at once), got -1"},
    {"max_order_notional_negative",
     {{32, "    max_order_notional = -5;", 0}},
     1,
     "bad.cfg:32: trading.limits.max_order_notional: ",
     "must be a number of 0 or more (0: no limit), got -5"},
    {"max_orders_per_minute_too_many",
     {{34, "    max_orders_per_minute = 300;", 0}},
     1,
     "bad.cfg:34: trading.limits.max_orders_per_minute: ",
     "must be an integer in [0, 256] (0: no limit), got 300"},
    {"max_orders_per_minute_negative",
     {{34, "    max_orders_per_minute = -1;", 0}},
     1,
     "bad.cfg:34: trading.limits.max_orders_per_minute: ",
     "must be an integer in [0, 256] (0: no limit), got -1"},
    {"max_orders_per_minute_float",
     {{34, "    max_orders_per_minute = 30.0;", 0}},
     1,
     "bad.cfg:34: trading.limits.max_orders_per_minute: ",
     "must be an integer, got"},

    /* Orders. */
    {"order_type_unknown",
     {{37, "    type = \"stop\";", 0}},
     1,
     "bad.cfg:37: trading.orders.type: ",
     "must be one of market|limit, got \"stop\""},
    {"limit_offset_too_far",
     {{38, "    limit_offset_bps = 10000;", 0}},
     1,
     "bad.cfg:38: trading.orders.limit_offset_bps: ",
     "must be a number in [0, 10000) (basis points from the last price), got 10000"},
    {"timeout_bad_unit",
     {{39, "    timeout = \"30x\";", 0}},
     1,
     "bad.cfg:39: trading.orders.timeout: ",
     "must be a duration such as \"30s\", \"5m\" or \"1h\", or whole seconds (at most 7 days), 0 "
     "for none, got a string \"30x\""},
    {"timeout_negative",
     {{39, "    timeout = -5;", 0}},
     1,
     "bad.cfg:39: trading.orders.timeout: ",
     "got an integer -5"},
    {"on_timeout_unknown",
     {{40, "    on_timeout = \"retry\";", 0}},
     1,
     "bad.cfg:40: trading.orders.on_timeout: ",
     "must be one of market|cancel, got \"retry\""},
    {"max_attempts_zero",
     {{41, "    max_attempts = 0;", 0}},
     1,
     "bad.cfg:41: trading.orders.max_attempts: ",
     "must be an integer of 1 or more, got 0"},

    /* Day, shutdown, recovery. */
    {"zone_unknown",
     {{44, "    zone = \"Mars/Olympus_Mons\";", 0}},
     1,
     "bad.cfg:44: trading.day.zone: ",
     "time zone \"Mars/Olympus_Mons\" is not in the zone database"},
    {"zone_offset_too_far",
     {{44, "    zone = \"+15:00\";", 0}},
     1,
     "bad.cfg:44: trading.day.zone: ",
     "time zone offset \"+15:00\" is not +HH:MM or -HH:MM"},
    {"start_bad",
     {{45, "    start = \"25:00\";", 0}},
     1,
     "bad.cfg:45: trading.day.start: ",
     "day start \"25:00\" is not HH:MM from 00:00 to 23:59"},
    {"loss_limit_negative",
     {{46, "    loss_limit = -1;", 0}},
     1,
     "bad.cfg:46: trading.day.loss_limit: ",
     "must be a number of 0 or more (quote currency; 0 turns it off), got -1"},
    {"loss_fraction_above_one",
     {{47, "    loss_fraction = 1.5;", 0}},
     1,
     "bad.cfg:47: trading.day.loss_fraction: ",
     "must be a number in [0, 1] (of the equity at the day's start; 0 turns it off), got 1.5"},
    {"shutdown_timeout_zero",
     {{50, "  shutdown = { flatten = false; timeout = 0; retries = 5; };", 0}},
     1,
     "bad.cfg:50: trading.shutdown.timeout: ",
     "more than 0, got an integer 0"},
    {"shutdown_retries_negative",
     {{50, "  shutdown = { flatten = false; timeout = 90; retries = -1; };", 0}},
     1,
     "bad.cfg:50: trading.shutdown.retries: ",
     "must be an integer of 0 or more, got -1"},
    {"on_mismatch_unknown",
     {{51, "  recovery = { on_mismatch = \"ignore\"; };", 0}},
     1,
     "bad.cfg:51: trading.recovery.on_mismatch: ",
     "must be one of adopt|refuse, got \"ignore\""},
    {"unknown_group",
     {{50, "  shutdwn = { flatten = false; };", 0}},
     1,
     "bad.cfg:50: trading.shutdwn: ",
     "unknown setting (did you mean 'shutdown'?)"},
    {"group_not_a_group",
     {{43, "  day = \"UTC\";", 49}},
     1,
     "bad.cfg:43: trading.day: ",
     "must be a group { zone = \"UTC\"; ... }, got a string \"UTC\""},

    /* The top-level group. */
    {"trading_misspelt",
     {{13, "tradng = {", 0}},
     1,
     "bad.cfg:13: tradng: ",
     "unknown setting (did you mean 'trading'?)"},
    {"trading_not_a_group",
     {{13, "trading = 5;", 52}},
     1,
     "bad.cfg:13: trading: ",
     "must be a group { sizing = { ... }; exits = { ... }; ... }, got an integer 5"},
    {"symbol_trading_without_trading",
     {{6, "  fade = { plugin = \"example.momentum\"; timeframe = \"5m\"; };", 0}, {13, "", 52}},
     1,
     "bad.cfg:11: symbols[1].trading: ",
     "has no effect: the config has no top-level trading group, so nothing is traded"},
    {"exits_without_trading",
     {{11, "  }", 0}, {13, "", 52}},
     1,
     "bad.cfg:6: strategies.fade.exits: ",
     "has no effect: the config has no top-level trading group"},

    /* A symbol's own group and a strategies entry's exits. */
    {"symbol_value_bad",
     {{11, "    trading = { sizing = { allocation = -5.0; }; }; }", 0}},
     1,
     "bad.cfg:11: symbols[1].trading.sizing.allocation: ",
     "must be a number above 0"},
    {"symbol_unknown_key",
     {{11, "    trading = { sizing = { alocation = 5.0; }; }; }", 0}},
     1,
     "bad.cfg:11: symbols[1].trading.sizing.alocation: ",
     "did you mean 'allocation'?"},
    {"symbol_account_group",
     {{11, "    trading = { day = { zone = \"UTC\"; }; }; }", 0}},
     1,
     "bad.cfg:11: symbols[1].trading.day: ",
     "day applies to the whole account, not to one symbol: set it in the top-level trading group"},
    {"symbol_max_below_global_initial",
     {{11, "    trading = { sizing = { max_fraction = 0.2; }; }; }", 0}},
     1,
     "bad.cfg:11: symbols[1].trading.sizing.max_fraction: ",
     "max_fraction (0.2) is below initial_fraction (0.4; the initial_fraction is "
     "trading.sizing.initial_fraction at "},
    {"symbol_initial_above_global_max",
     {{11, "    trading = { sizing = { initial_fraction = 0.95; }; }; }", 0}},
     1,
     "bad.cfg:11: symbols[1].trading.sizing.initial_fraction: ",
     "max_fraction (0.9) is below initial_fraction (0.95; the max_fraction is "
     "trading.sizing.max_fraction at "},
    {"entry_exits_bad",
     {{6,
       "  fade = { plugin = \"example.momentum\"; timeframe = \"5m\"; exits = { stop_loss = 2.0; "
       "}; };",
       0}},
     1,
     "bad.cfg:6: strategies.fade.exits.stop_loss: ",
     "must be a number in [0, 1) (0 turns it off), got 2"},
    {"entry_exits_unknown_key",
     {{6,
       "  fade = { plugin = \"example.momentum\"; timeframe = \"5m\"; exits = { stop_los = 0.1; }; "
       "};",
       0}},
     1,
     "bad.cfg:6: strategies.fade.exits.stop_los: ",
     "unknown setting (did you mean 'stop_loss'?)"},
    {"entry_exits_not_exits",
     {{6,
       "  fade = { plugin = \"example.momentum\"; timeframe = \"5m\"; exits = { allocation = 1.0; "
       "}; };",
       0}},
     1,
     "bad.cfg:6: strategies.fade.exits.allocation: ",
     "unknown setting; allowed here: take_profit, stop_loss, trailing_stop, trailing_activation"},
    {"entry_exits_of_a_member",
     {{5,
       "  trend = { plugin = \"example.momentum\"; timeframe = \"5m\"; exits = { stop_loss = "
       "0.01; }; }; both = { type = \"composite\"; method = \"weighted\"; members = ( "
       "\"trend\" ); };",
       0},
      {9, "  { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"both\"; },", 0}},
     1,
     "bad.cfg:5: strategies.trend.exits: ",
     "has no effect: exits apply to the symbols that name this entry, and no symbol names "
     "'trend'; it is part of composite 'both', whose exits apply: set them there"},

    /* Keys that would do nothing. */
    {"limit_offset_with_market_orders",
     {{37, "    type = \"market\";", 0}},
     1,
     "bad.cfg:38: trading.orders.limit_offset_bps: ",
     "has no effect: it applies to limit orders, and every symbol it applies to sends market "
     "orders"},
    {"on_timeout_without_timeout",
     {{39, "    timeout = 0;", 0}},
     1,
     "bad.cfg:40: trading.orders.on_timeout: ",
     "has no effect: it says what happens when an order times out"},
    {"activation_without_trailing_stop",
     {{28, "    trailing_stop = 0;", 0}},
     1,
     "bad.cfg:29: trading.exits.trailing_activation: ",
     "has no effect: it arms the trailing stop"},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* The base config with edits, into buf. */
static const char *compose(const edit *edits, char *buf, size_t cap) {
  size_t len = 0;
  for (int line = 1; line <= BASE_LINES; line++) {
    const char *text = base[line - 1];
    for (const edit *e = edits; e->line; e++)
      if (e->line == line)
        text = e->text;
      else if (e->line < line && line <= e->through)
        text = NULL;
    if (!text)
      continue;
    int n = snprintf(buf + len, cap - len, "%s\n", text);
    assert_true(n > 0 && (size_t)n < cap - len);
    len += (size_t)n;
  }
  return buf;
}

static const char *base_text(char *buf, size_t cap) {
  static const edit none[] = {{0, NULL, 0}};
  return compose(none, buf, cap);
}

static void test_error_case(void **state) {
  const error_case *c = *state;
  char text[8192];
  void *fs;
  assert_int_equal(setup(&fs), 0);
  fx *f = fs;
  const char *path = write_config(f, compose(c->edits, text, sizeof text));
  int rc = tack_config_load(path, &f->cfg, &f->d);
  if (rc != TACK_ECONFIG)
    dump(&f->d);
  assert_int_equal(rc, TACK_ECONFIG);
  assert_null(f->cfg);
  expect_msg(&f->d, c->where, c->what);
  expect_count(&f->d, c->count);
  teardown(&fs);
}

/* ------------------------------------------------------------------------ */
/* Good configs                                                              */
/* ------------------------------------------------------------------------ */

static void load_ok(fx *f, const char *text) {
  const char *path = write_config(f, text);
  int rc = tack_config_load(path, &f->cfg, &f->d);
  if (rc != 0)
    dump(&f->d);
  assert_int_equal(rc, 0);
  assert_non_null(f->cfg);
}

static void expect_defaults(const tack_trading_policy *p) {
  tack_trading_policy want;
  tack_trading_policy_default(&want);
  assert_memory_equal(p, &want, sizeof want);
}

static void test_policy_defaults(void **state) {
  (void)state;
  tack_trading_policy p;
  tack_sizing_policy sizing;
  const char *field = NULL;
  tack_trading_policy_default(&p);
  tack_sizing_policy_default(&sizing);
  assert_memory_equal(&p.sizing, &sizing, sizeof sizing);
  assert_int_equal(tack_sizing_policy_check(&p.sizing, &field), 0);
  assert_int_equal(tack_risk_exits_check(&p.exits, &field), 0);
  assert_int_equal(tack_risk_limits_check(&p.limits, &field), 0);
  assert_true(p.exits.take_profit == 0 && p.exits.stop_loss == 0 && p.exits.trailing_stop == 0);
  assert_true(p.limits.max_order_notional == 0 && p.limits.max_orders_per_minute == 0);
  assert_int_equal(p.order_type, TACK_ORDER_MARKET);
  assert_true(p.limit_offset_bps == 0);
  assert_int_equal(p.order_timeout_ns, UINT64_C(30000000000));
  assert_int_equal(p.on_timeout, TACK_ORDERS_REPLACE_MARKET);
  assert_int_equal(p.max_attempts, 3);
}

/* An empty trading group trades every symbol by the defaults. */
static void test_empty_group_gives_defaults(void **state) {
  fx *f = *state;
  char text[8192];
  static const edit edits[] = {
      {6, "  fade = { plugin = \"example.momentum\"; timeframe = \"5m\"; };", 0},
      {11, "  }", 0},
      {13, "trading = { };", 52},
      {0, NULL, 0}};
  load_ok(f, compose(edits, text, sizeof text));
  const tack_trading_cfg *t = &f->cfg->trading;
  assert_int_equal(t->enabled, 1);
  expect_defaults(&t->global);
  assert_int_equal(t->n_symbols, 2);
  expect_defaults(&t->symbols[0]);
  expect_defaults(&t->symbols[1]);
  assert_string_equal(t->day.zone, "");
  assert_int_equal(t->day.utc_offset_minutes, 0);
  assert_int_equal(t->day.day_start_minutes, 0);
  assert_true(t->day.daily_loss_limit == 0 && t->day.daily_loss_fraction == 0 &&
              t->day.daily_profit_target == 0);
  assert_int_equal(t->flatten_on_stop, 1);
  assert_int_equal(t->shutdown_timeout_ns, UINT64_C(30000000000));
  assert_int_equal(t->shutdown_retries, 3);
  assert_int_equal(t->on_mismatch, TACK_RECOVERY_ADOPT);
}

/* No trading group: signals only. */
static void test_absent_group(void **state) {
  fx *f = *state;
  char text[8192];
  static const edit edits[] = {
      {6, "  fade = { plugin = \"example.momentum\"; timeframe = \"5m\"; };", 0},
      {11, "  }", 0},
      {13, "", 52},
      {0, NULL, 0}};
  load_ok(f, compose(edits, text, sizeof text));
  assert_null(f->cfg->trading_setting);
  assert_int_equal(f->cfg->trading.enabled, 0);
  assert_null(f->cfg->trading.symbols);
  assert_int_equal(f->cfg->trading.n_symbols, 0);
  assert_null(f->cfg->symbols[1].trading);
  assert_null(f->cfg->strategies[1].exits);
}

static void test_every_key_read(void **state) {
  fx *f = *state;
  char text[8192];
  load_ok(f, base_text(text, sizeof text));
  const tack_config *cfg = f->cfg;
  const tack_trading_cfg *t = &cfg->trading;
  assert_non_null(cfg->trading_setting);
  assert_non_null(cfg->symbols[1].trading);
  assert_null(cfg->symbols[0].trading);
  assert_non_null(cfg->strategies[1].exits);
  assert_int_equal(t->enabled, 1);

  const tack_trading_policy *g = &t->global;
  assert_true(g->sizing.allocation == 10000.0);
  assert_true(g->sizing.initial_fraction == 0.4);
  assert_true(g->sizing.continuation_fraction == 0.2);
  assert_true(g->sizing.max_fraction == 0.9);
  assert_true(g->sizing.min_strength == 0.1);
  assert_true(g->sizing.tolerance == 0.03);
  assert_int_equal(g->sizing.opposite, TACK_SIZING_OPPOSITE_REVERSE);
  assert_int_equal(g->sizing.neutral, TACK_SIZING_NEUTRAL_HOLD);
  assert_int_equal(g->sizing.scale_by_strength, 0);
  assert_true(g->exits.take_profit == 0.05);
  assert_true(g->exits.stop_loss == 0.02);
  assert_true(g->exits.trailing_stop == 0.03);
  assert_true(g->exits.trailing_activation == 0.01);
  assert_true(g->limits.max_order_notional == 5000.0); /* an integer is a number */
  assert_true(g->limits.max_position_notional == 20000.0);
  assert_int_equal(g->limits.max_orders_per_minute, 30);
  assert_int_equal(g->order_type, TACK_ORDER_LIMIT);
  assert_true(g->limit_offset_bps == 5.0);
  assert_int_equal(g->order_timeout_ns, UINT64_C(45000000000));
  assert_int_equal(g->on_timeout, TACK_ORDERS_TIMEOUT_CANCEL);
  assert_int_equal(g->max_attempts, 4);

  assert_string_equal(t->day.zone, "");
  assert_int_equal(t->day.utc_offset_minutes, 330);
  assert_int_equal(t->day.day_start_minutes, 17 * 60);
  assert_true(t->day.daily_loss_limit == 500.0);
  assert_true(t->day.daily_loss_fraction == 0.1);
  assert_true(t->day.daily_profit_target == 800.0);
  assert_int_equal(t->flatten_on_stop, 0);
  assert_int_equal(t->shutdown_timeout_ns, UINT64_C(90000000000));
  assert_int_equal(t->shutdown_retries, 5);
  assert_int_equal(t->on_mismatch, TACK_RECOVERY_REFUSE);

  /* BTC-USD overrides nothing; ETH-USD (disabled, still computed) its
   * allocation, and its entry fade the take profit. */
  assert_int_equal(t->n_symbols, 2);
  assert_memory_equal(&t->symbols[0], g, sizeof *g);
  tack_trading_policy want = *g;
  want.sizing.allocation = 500.0;
  want.exits.take_profit = 0.08;
  assert_memory_equal(&t->symbols[1], &want, sizeof want);
}

/* Key by key: symbol, then the symbol's entry (exits), then global, then
 * the defaults. */
static void test_precedence(void **state) {
  fx *f = *state;
  static const char text[] =
      "version = 1; name = \"p\";\n"
      "exchanges = { sim = { plugin = \"example.replay\"; }; };\n"
      "strategies = {\n"
      "  trend = { plugin = \"example.momentum\"; timeframe = \"5m\";\n"
      "            exits = { take_profit = 0.07; stop_loss = 0.03; }; };\n"
      "  fade = { plugin = \"example.momentum\"; timeframe = \"5m\"; };\n"
      "};\n"
      "symbols = (\n"
      "  { symbol = \"A\"; exchange = \"sim\"; strategy = \"trend\";\n"
      "    trading = { exits = { take_profit = 0.09; };\n"
      "                sizing = { allocation = 250.0; };\n"
      "                limits = { max_orders_per_minute = 5; };\n"
      "                orders = { type = \"limit\"; }; }; },\n"
      "  { symbol = \"B\"; exchange = \"sim\"; strategy = \"trend\"; },\n"
      "  { symbol = \"C\"; exchange = \"sim\"; strategy = \"fade\"; }\n"
      ");\n"
      "trading = {\n"
      "  sizing = { allocation = 2000.0; initial_fraction = 0.3; };\n"
      "  exits = { take_profit = 0.05; stop_loss = 0.02; trailing_stop = 0.04; };\n"
      "  limits = { max_order_notional = 100.0; };\n"
      "  orders = { limit_offset_bps = 2.5; };\n"
      "};\n";
  load_ok(f, text);
  const tack_trading_cfg *t = &f->cfg->trading;
  tack_trading_policy def;
  tack_trading_policy_default(&def);
  const tack_trading_policy *a = &t->symbols[0], *b = &t->symbols[1], *c = &t->symbols[2];

  assert_true(a->exits.take_profit == 0.09);   /* symbol */
  assert_true(a->exits.stop_loss == 0.03);     /* its entry */
  assert_true(a->exits.trailing_stop == 0.04); /* global */
  assert_true(a->exits.trailing_activation == 0);
  assert_true(a->sizing.allocation == 250.0);
  assert_true(a->sizing.initial_fraction == 0.3);
  assert_true(a->sizing.max_fraction == def.sizing.max_fraction);
  assert_true(a->limits.max_order_notional == 100.0);
  assert_int_equal(a->limits.max_orders_per_minute, 5);
  assert_int_equal(a->order_type, TACK_ORDER_LIMIT);
  assert_true(a->limit_offset_bps == 2.5);

  assert_true(b->exits.take_profit == 0.07);
  assert_true(b->exits.stop_loss == 0.03);
  assert_true(b->exits.trailing_stop == 0.04);
  assert_true(b->sizing.allocation == 2000.0);
  assert_int_equal(b->limits.max_orders_per_minute, 0);
  assert_int_equal(b->order_type, TACK_ORDER_MARKET);

  assert_true(c->exits.take_profit == 0.05);
  assert_true(c->exits.stop_loss == 0.02);
  assert_memory_equal(c, &t->global, sizeof *c);
}

/* A bad global value is reported once, however many symbols inherit it;
 * several problems of one group are all reported. */
static void test_several_at_once(void **state) {
  fx *f = *state;
  char text[8192];
  static const edit edits[] = {{15, "    allocation = 0;", 0},
                               {16, "    initial_fraction = 2;", 0},
                               {20, "    tolerance = 5;", 0},
                               {0, NULL, 0}};
  const char *path = write_config(f, compose(edits, text, sizeof text));
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), TACK_ECONFIG);
  assert_null(f->cfg);
  expect_msg(&f->d, "bad.cfg:15: trading.sizing.allocation: ", "got 0");
  expect_msg(&f->d, "bad.cfg:16: trading.sizing.initial_fraction: ", "got 2");
  expect_msg(&f->d, "bad.cfg:20: trading.sizing.tolerance: ", "got 5");
  expect_count(&f->d, 3);
}

/* `tack check` reports trading problems together with the rest. */
static void test_partial_load(void **state) {
  fx *f = *state;
  char text[8192];
  static const edit edits[] = {
      {9, "  { symbol = \"BTC-USD\"; exchange = \"simm\"; strategy = \"trend\"; },", 0},
      {27, "    stop_loss = 1.0;", 0},
      {0, NULL, 0}};
  const char *path = write_config(f, compose(edits, text, sizeof text));
  assert_int_equal(tack_config_load_partial(path, &f->cfg, &f->d), TACK_ECONFIG);
  assert_non_null(f->cfg);
  assert_int_equal(f->cfg->invalid, 1);
  expect_msg(&f->d, "bad.cfg:9: symbols[0].exchange: ", "unknown exchange 'simm'");
  expect_msg(&f->d, "bad.cfg:27: trading.exits.stop_loss: ", "got 1");
  expect_count(&f->d, 2);
}

/* A trading group in an @include'd file is reported in that file. */
static void test_included_group(void **state) {
  fx *f = *state;
  char inc[200], text[512];
  snprintf(inc, sizeof inc, "%s/trading.inc", f->dir);
  FILE *out = fopen(inc, "w");
  assert_non_null(out);
  fputs("trading = {\n  sizing = {\n    allocation = -1.0;\n  };\n};\n", out);
  fclose(out);
  snprintf(text, sizeof text,
           "version = 1; name = \"p\";\n"
           "exchanges = { sim = { plugin = \"example.replay\"; }; };\n"
           "strategies = { trend = { plugin = \"example.momentum\"; timeframe = \"5m\"; }; };\n"
           "symbols = ( { symbol = \"A\"; exchange = \"sim\"; strategy = \"trend\"; } );\n"
           "@include \"trading.inc\"\n");
  const char *path = write_config(f, text);
  assert_int_equal(tack_config_load(path, &f->cfg, &f->d), TACK_ECONFIG);
  expect_msg(&f->d, "trading.inc:3: trading.sizing.allocation: ", "must be a number above 0");
  expect_count(&f->d, 1);
  unlink(inc);
}

/* The shutdown timeout and the order timeout take both forms. */
static void test_durations(void **state) {
  fx *f = *state;
  char text[8192];
  static const edit edits[] = {{39, "    timeout = \"0s\";", 0},
                               {40, "", 0},
                               {50, "  shutdown = { timeout = \"2m\"; };", 0},
                               {0, NULL, 0}};
  load_ok(f, compose(edits, text, sizeof text));
  assert_int_equal(f->cfg->trading.global.order_timeout_ns, 0);
  assert_int_equal(f->cfg->trading.shutdown_timeout_ns, UINT64_C(120000000000));
  assert_int_equal(f->cfg->trading.flatten_on_stop, 1);
  assert_int_equal(f->cfg->trading.shutdown_retries, 3);
}

static void test_zone_names(void **state) {
  fx *f = *state;
  char text[8192];
  if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0) {
    print_message("no zone database here: skipping the IANA name\n");
    skip();
  }
  static const edit edits[] = {{44, "    zone = \"Europe/Berlin\";", 0}, {0, NULL, 0}};
  load_ok(f, compose(edits, text, sizeof text));
  assert_string_equal(f->cfg->trading.day.zone, "Europe/Berlin");
}

/* Entries a symbol names directly may carry exits, also composites. */
static void test_composite_exits(void **state) {
  fx *f = *state;
  char text[8192];
  static const edit edits[] = {
      {5,
       "  trend = { plugin = \"example.momentum\"; timeframe = \"5m\"; }; both = { type = "
       "\"composite\"; method = \"weighted\"; members = ( \"trend\" ); exits = { stop_loss = "
       "0.01; }; };",
       0},
      {9, "  { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"both\"; },", 0},
      {0, NULL, 0}};
  load_ok(f, compose(edits, text, sizeof text));
  assert_true(f->cfg->trading.symbols[0].exits.stop_loss == 0.01);
  assert_true(f->cfg->trading.global.exits.stop_loss == 0.02);
}

/* ------------------------------------------------------------------------ */
/* Printing                                                                  */
/* ------------------------------------------------------------------------ */

static char *print_to_string(const tack_config *cfg) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  assert_non_null(out);
  tack_config_print(cfg, out);
  fclose(out);
  return buf;
}

static void expect_line(const char *text, const char *line) {
  if (!strstr(text, line))
    fail_msg("the print lacks the line\n%s\nit is:\n%s", line, text);
}

static void test_print(void **state) {
  fx *f = *state;
  char text[8192];
  load_ok(f, base_text(text, sizeof text));
  char *s = print_to_string(f->cfg);
  expect_line(s, "trading sizing: allocation=10000, initial_fraction=0.4, "
                 "continuation_fraction=0.2, max_fraction=0.9, min_strength=0.1, "
                 "tolerance=0.03, on_opposite=reverse, on_neutral=hold, "
                 "scale_by_strength=false\n");
  expect_line(s, "trading exits: take_profit=0.05, stop_loss=0.02, trailing_stop=0.03, "
                 "trailing_activation=0.01\n");
  expect_line(s, "trading limits: max_order_notional=5000, max_position_notional=20000, "
                 "max_orders_per_minute=30\n");
  expect_line(s, "trading orders: type=limit, limit_offset_bps=5, timeout=45s, "
                 "on_timeout=cancel, max_attempts=4\n");
  expect_line(s, "trading day: zone=+05:30, start=17:00, loss_limit=500, loss_fraction=0.1, "
                 "profit_target=800\n");
  expect_line(s, "trading shutdown: flatten=false, timeout=90s, retries=5\n");
  expect_line(s, "trading recovery: on_mismatch=refuse\n");
  expect_line(s, "trading for ETH-USD on sim: allocation=500, take_profit=0.08 (strategy "
                 "fade)\n");
  assert_null(strstr(s, "trading for BTC-USD"));
  free(s);
}

/* No trading group: the print is as before. */
static void test_print_without_trading(void **state) {
  fx *f = *state;
  char text[8192];
  static const edit edits[] = {
      {6, "  fade = { plugin = \"example.momentum\"; timeframe = \"5m\"; };", 0},
      {11, "  }", 0},
      {13, "", 52},
      {0, NULL, 0}};
  load_ok(f, compose(edits, text, sizeof text));
  char *s = print_to_string(f->cfg);
  assert_null(strstr(s, "trading"));
  free(s);
}

/* ------------------------------------------------------------------------ */
/* Allocation failures, the documented example                               */
/* ------------------------------------------------------------------------ */

static void test_allocation_failures(void **state) {
  fx *f = *state;
  char text[8192];
  const char *path = write_config(f, base_text(text, sizeof text));
  /* Fail each allocation in turn: every run ends with the config loaded
   * or with TACK_ENOMEM and nothing (ASan checks for leaks). */
  int last_rc = -1;
  for (uint64_t n = 1; n < 400 && last_rc != 0; n++) {
    tack_config *cfg = NULL;
    tack_diag d = TACK_DIAG_INIT;
    tack_alloc_fail_after(n);
    int rc = tack_config_load(path, &cfg, &d);
    tack_alloc_fail_after(0);
    if (rc != 0) {
      assert_int_equal(rc, TACK_ENOMEM);
      assert_null(cfg);
    } else {
      assert_int_equal(cfg->trading.enabled, 1);
    }
    tack_config_free(cfg);
    tack_diag_free(&d);
    last_rc = rc;
  }
  assert_int_equal(last_rc, 0);
}

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

static void test_documented_example(void **state) {
  fx *f = *state;
  char path[512];
  const char *src = getenv("TACK_SOURCE_DIR");
  if (!src) {
    print_message("TACK_SOURCE_DIR is not set: run this test through ctest\n");
    skip();
  }
  snprintf(path, sizeof path, "%s/tests/fixtures/trading/example.cfg", src);
  int rc = tack_config_load(path, &f->cfg, &f->d);
  if (rc != 0)
    dump(&f->d);
  assert_int_equal(rc, 0);
  const tack_trading_cfg *t = &f->cfg->trading;
  assert_int_equal(t->enabled, 1);
  assert_true(t->symbols[0].exits.take_profit == 0.08);
  assert_true(t->symbols[1].exits.take_profit == 0.08);
  assert_true(t->symbols[1].exits.stop_loss == 0.03);
  assert_true(t->symbols[1].sizing.allocation == 5000.0);
  assert_true(t->symbols[0].sizing.allocation == 10000.0);

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
    fail_msg("docs/config.md no longer shows tests/fixtures/trading/example.cfg as it is");
  free(fixture);
  free(doc);
}

int main(void) {
  const struct CMUnitTest fixed[] = {
      cmocka_unit_test(test_policy_defaults),
      cmocka_unit_test_setup_teardown(test_empty_group_gives_defaults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_absent_group, setup, teardown),
      cmocka_unit_test_setup_teardown(test_every_key_read, setup, teardown),
      cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
      cmocka_unit_test_setup_teardown(test_several_at_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_partial_load, setup, teardown),
      cmocka_unit_test_setup_teardown(test_included_group, setup, teardown),
      cmocka_unit_test_setup_teardown(test_durations, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zone_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_composite_exits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_print, setup, teardown),
      cmocka_unit_test_setup_teardown(test_print_without_trading, setup, teardown),
      cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
      cmocka_unit_test_setup_teardown(test_documented_example, setup, teardown),
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
  return _cmocka_run_group_tests("trading_config", tests, n, NULL, NULL);
}
