/*
 * test_backtest.c: `tack backtest` end to end through the real binary, the
 * real plugins (paper venue, Heikin-Ashi, stock strategies) and candles in a
 * real LMDB store: the same config and data give byte-identical JSON; a
 * paper-trading replay (`tack run --json`) of the same data gives the same
 * fills and trades; a live venue is replaced by a paper venue over the
 * store; the ledger identity holds; bad inputs are refused with the place
 * named; the real hourly and minute data of ../shared replay to the end.
 */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "candles.h"
#include "store.h"
#include "synth.h"
#include "tr_util.h"

#define BARS 3000u
#define START_S 1704067200LL /* 2024-01-01 */

static tr_env env;
static int have_env;
static char skip_why[256];

/* BARS 5m candles of BTC-USD and ETH-USD (seed 11) into <tmp>/<name>. */
static void make_store(const char *name) {
  char path[600];
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  snprintf(path, sizeof path, "%s/%s", env.tmp, name);
  assert_int_equal(tack_store_open(path, 0, &st), 0);
  assert_int_equal(tack_candles_open(st, &cs), 0);
  const char *syms[] = {"BTC-USD", "ETH-USD"};
  for (int k = 0; k < 2; k++) {
    tack_synth_opts o;
    tack_synth g;
    tack_synth_defaults(&o);
    o.seed = 11;
    o.symbol = syms[k];
    o.timeframe_s = 300;
    o.start = START_S * TACK_NS_PER_SEC;
    o.start_price = k ? 2000.0 : 40000.0;
    assert_int_equal(tack_synth_init(&g, &o), 0);
    tack_bar *bars = calloc(BARS, sizeof *bars);
    assert_non_null(bars);
    for (size_t i = 0; i < BARS; i++)
      tack_synth_next(&g, &bars[i]);
    assert_int_equal(tack_candles_put(cs, syms[k], 300, bars, BARS, NULL, NULL), 0);
    free(bars);
  }
  tack_candles_close(cs);
  tack_store_close(st);
}

/* A config: exchange `ex_body` (the text inside `live = { ... };`), a
 * weighted composite of three strategies on Heikin-Ashi 5m bars per symbol,
 * trading, and `extra` at the end. */
static void write_cfg(const char *file, const char *store, const char *ex_body, const char *extra) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s", env.tmp, file);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f,
          "version = 1;\nname = \"bt\";\nplugin_dirs = [ \"%s/plugins\" ];\n"
          "store = { path = \"%s/%s\"; };\nlog = { level = \"warn\"; };\n"
          "exchanges = { live = { %s }; };\n"
          "filters = { ha = { plugin = \"heikin_ashi\"; }; };\n"
          "strategies = {\n"
          "  cross = { plugin = \"ema_cross\"; timeframe = \"5m\"; filter = \"ha\";\n"
          "            params = { fast = 12; slow = 26; mode = \"state\"; }; };\n"
          "  macd = { plugin = \"macd_trend\"; timeframe = \"5m\"; filter = \"ha\"; };\n"
          "  rsi = { plugin = \"rsi_reversion\"; timeframe = \"5m\"; filter = \"ha\"; };\n"
          "  combo = { type = \"composite\"; method = \"weighted\"; threshold = 0.2;\n"
          "    members = ( { strategy = \"cross\"; weight = 2.0; },\n"
          "                { strategy = \"macd\"; weight = 1.0; },\n"
          "                { strategy = \"rsi\"; weight = 1.0; } ); };\n"
          "};\n"
          "symbols = ( { symbol = \"BTC-USD\"; exchange = \"live\"; strategy = \"combo\"; },\n"
          "            { symbol = \"ETH-USD\"; exchange = \"live\"; strategy = \"combo\"; } );\n"
          "trading = { sizing = { allocation = 30000.0; }; exits = { stop_loss = 0.03; }; };\n"
          "%s\n",
          getenv("TACK_BUILD_DIR"), env.tmp, store, ex_body, extra ? extra : "");
  assert_int_equal(fclose(f), 0);
}

static const char *PAPER_STORE =
    "plugin = \"paper\"; params = { symbols = \"BTC-USD,ETH-USD\"; source = \"store\"; "
    "timeframe = 300; persist = false; cash = 100000.0; taker_bps = 5.0; maker_bps = 2.0; "
    "slippage = \"fixed\"; slippage_bps = 1.0; };";

static const char *BACKTEST_GROUP =
    "backtest = { returns = \"1d\"; monte_carlo = { runs = 200; seed = 3; }; };";

static void tmp_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", env.tmp, name);
}

/* `tack backtest <cfg> --json <json> [more]`, expecting status want. */
static void backtest(const char *cfg, const char *json, const char *more, int want, tr_child *c) {
  char cpath[600], jpath[600];
  tmp_path(cpath, sizeof cpath, cfg);
  tmp_path(jpath, sizeof jpath, json);
  const char *args[] = {"backtest", cpath, "--json", jpath, more, NULL};
  assert_int_equal(tr_run(&env, c, json, args, 300000, want), want);
}

static json_t *load_json(const char *name) {
  char path[600];
  json_error_t err;
  tmp_path(path, sizeof path, name);
  json_t *j = json_load_file(path, 0, &err);
  if (!j)
    fprintf(stderr, "%s: %s (line %d)\n", path, err.text, err.line);
  assert_non_null(j);
  return j;
}

static void skip_unless_env(void) {
  if (!have_env) {
    fprintf(stderr, "skipped: %s\n", skip_why);
    skip();
  }
}

/* ------------------------------------------------------------------------ */

static void test_deterministic(void **state) {
  (void)state;
  skip_unless_env();
  tr_child c;
  char report[600];
  make_store("s1");
  write_cfg("det.cfg", "s1", PAPER_STORE, BACKTEST_GROUP);
  tmp_path(report, sizeof report, "det.html");
  char opt[700];
  snprintf(opt, sizeof opt, "--report=%s", report);
  backtest("det.cfg", "a.json", opt, 0, &c);
  assert_true(tr_contains(c.out, "ledger exact"));
  assert_true(tr_contains(c.out, "Sharpe"));
  /* Not a terminal: progress as lines, the last one when done. */
  assert_true(tr_contains(c.err, "backtest: 100%"));
  assert_true(tr_contains(c.err, "M bars/s  took"));
  backtest("det.cfg", "b.json", NULL, 0, &c);
  char pa[600], pb[600];
  tmp_path(pa, sizeof pa, "a.json");
  tmp_path(pb, sizeof pb, "b.json");
  char *a = tr_slurp(pa), *b = tr_slurp(pb);
  assert_non_null(a);
  assert_non_null(b);
  assert_string_equal(a, b); /* byte for byte */
  free(a);
  free(b);

  json_t *j = load_json("a.json");
  json_t *m = json_object_get(j, "metrics");
  assert_true(json_is_true(json_object_get(j, "ledger_exact")));
  assert_true(json_integer_value(json_object_get(m, "trades")) > 5);
  json_t *syms = json_object_get(j, "symbols");
  assert_int_equal(json_array_size(syms), 2);
  for (size_t i = 0; i < 2; i++) {
    json_t *s = json_array_get(syms, i);
    assert_int_equal(json_integer_value(json_object_get(s, "bars")), BARS);
    assert_true(json_array_size(json_object_get(s, "fills")) > 0);
    /* Attribution: the members that led trades are members of combo. */
    json_t *members = json_object_get(s, "members");
    assert_true(json_array_size(members) >= 1);
    for (size_t k = 0; k < json_array_size(members); k++) {
      const char *n = json_string_value(json_object_get(json_array_get(members, k), "name"));
      assert_true(strcmp(n, "cross") == 0 || strcmp(n, "macd") == 0 || strcmp(n, "rsi") == 0);
    }
  }
  /* Equity: starts at the cash, the curve's last point is the end equity. */
  assert_true(json_real_value(json_object_get(m, "start_equity")) == 100000.0);
  json_t *curve = json_object_get(j, "equity");
  json_t *lastp = json_array_get(curve, json_array_size(curve) - 1);
  assert_true(json_real_value(json_array_get(lastp, 1)) ==
              json_real_value(json_object_get(m, "end_equity")));
  assert_non_null(json_object_get(j, "monte_carlo"));
  /* The trades account for every change of equity: sum of their P&L (net
   * of fees) = end equity - start equity; every fee is some trade's. */
  json_t *trades = json_object_get(j, "trades");
  double sum = 0, fees = 0;
  for (size_t k = 0; k < json_array_size(trades); k++) {
    sum += json_real_value(json_object_get(json_array_get(trades, k), "pnl"));
    fees += json_real_value(json_object_get(json_array_get(trades, k), "fees"));
  }
  double change = json_real_value(json_object_get(m, "end_equity")) -
                  json_real_value(json_object_get(m, "start_equity"));
  assert_true(fabs(sum - change) < 1e-6 * 100000.0);
  assert_true(fabs(fees - json_real_value(json_object_get(m, "fees"))) < 1e-6);
  assert_true(fees > 0);
  json_decref(j);
  struct stat sb;
  assert_int_equal(stat(report, &sb), 0);
  assert_true(sb.st_size > 10000);
}

/* A paper-trading replay (tack run, one candle per 1 ms step) and the
 * backtest (batched, as fast as it goes) fill the same orders at the same
 * prices. */
static void test_parity_with_paper_run(void **state) {
  (void)state;
  skip_unless_env();
  tr_child c;
  char cfg[600], json[600];
  make_store("s2");
  write_cfg("par.cfg", "s2", PAPER_STORE, BACKTEST_GROUP);
  backtest("par.cfg", "bt.json", NULL, 0, &c);

  char paced[1024];
  snprintf(paced, sizeof paced,
           "plugin = \"paper\"; params = { symbols = \"BTC-USD,ETH-USD\"; source = \"store\"; "
           "timeframe = 300; persist = false; cash = 100000.0; taker_bps = 5.0; maker_bps = "
           "2.0; slippage = \"fixed\"; slippage_bps = 1.0; interval_ms = 1; };");
  write_cfg("run.cfg", "s2", paced, BACKTEST_GROUP);
  tmp_path(cfg, sizeof cfg, "run.cfg");
  tmp_path(json, sizeof json, "run.json");
  const char *args[] = {"run", cfg, "--json", json, NULL};
  assert_int_equal(tr_run(&env, &c, "run", args, 300000, 0), 0);

  json_t *a = load_json("bt.json"), *b = load_json("run.json");
  json_t *sa = json_object_get(a, "symbols"), *sb = json_object_get(b, "symbols");
  for (size_t i = 0; i < 2; i++) {
    json_t *fa = json_object_get(json_array_get(sa, i), "fills");
    json_t *fb = json_object_get(json_array_get(sb, i), "fills");
    assert_true(json_array_size(fa) > 0);
    assert_int_equal(json_array_size(fa), json_array_size(fb));
    assert_true(json_equal(fa, fb));
  }
  assert_true(json_equal(json_object_get(a, "trades"), json_object_get(b, "trades")));
  assert_true(json_equal(json_object_get(json_object_get(a, "metrics"), "end_equity"),
                         json_object_get(json_object_get(b, "metrics"), "end_equity")));
  assert_string_equal(json_string_value(json_object_get(b, "mode")), "paper");
  json_decref(a);
  json_decref(b);
}

/* Parity with a regime entry whose trend composite is gated by a 4h member
 * resampled from the 5m candles: the paper venue reports fills stamped with
 * the candle it matches before it publishes that candle, and the replay
 * clock must not lag them, or a strategy counts a fill twice (its position,
 * stamped with the host clock, would predate the fill it includes), adopts
 * a position it does not hold and abstains where the paper run speaks. From
 * 2024-01-03T12:00 the 4h member first speaks (down) just after BTC-USD
 * sold out of a long, which is when the fill counted twice mattered. */
static void test_parity_regime_gate(void **state) {
  (void)state;
  skip_unless_env();
  tr_child c;
  char cfg[600], json[600];
  make_store("s5");
  for (int paced = 0; paced < 2; paced++) {
    snprintf(cfg, sizeof cfg, "%s/%s", env.tmp, paced ? "gate_run.cfg" : "gate_bt.cfg");
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f,
            "version = 1;\nname = \"gate\";\nplugin_dirs = [ \"%s/plugins\" ];\n"
            "store = { path = \"%s/s5\"; };\nlog = { level = \"warn\"; };\n"
            "exchanges = { sim = { plugin = \"paper\"; params = { symbols = "
            "\"BTC-USD,ETH-USD\"; source = \"store\"; timeframe = 300; persist = false; "
            "cash = 100000.0; taker_bps = 5.0; slippage = \"fixed\"; slippage_bps = 1.0; "
            "from = \"2024-01-03T12:00:00Z\"; interval_ms = %d; }; }; };\n"
            "filters = { ha = { plugin = \"heikin_ashi\"; }; };\n"
            "strategies = {\n"
            "  trendiness = { plugin = \"macd_trend\"; timeframe = \"1h\";\n"
            "                 params = { mode = \"scaled\"; scale = 0.5; step = 0.1; }; };\n"
            "  cross = { plugin = \"ema_cross\"; timeframe = \"5m\"; filter = \"ha\";\n"
            "            params = { fast = 12; slow = 26; mode = \"state\"; }; };\n"
            "  line = { plugin = \"supertrend_follow\"; timeframe = \"5m\"; filter = \"ha\"; };\n"
            "  higher = { plugin = \"supertrend_follow\"; timeframe = \"4h\"; };\n"
            "  trend = { type = \"composite\"; method = \"weighted\"; threshold = 0.3;\n"
            "    members = ( { strategy = \"cross\"; weight = 1.0; },\n"
            "                { strategy = \"line\"; weight = 1.0; },\n"
            "                { strategy = \"higher\"; weight = 0.0; gate = true; } ); };\n"
            "  fade = { plugin = \"bollinger\"; timeframe = \"5m\";\n"
            "           params = { mode = \"reversion\"; }; };\n"
            "  switch = { type = \"regime\"; detector = \"trendiness\"; hold = 3;\n"
            "    regimes = ( { name = \"up\"; above = 0.4; strategy = \"trend\"; },\n"
            "                { name = \"down\"; below = -0.4; strategy = \"trend\"; },\n"
            "                { name = \"range\"; strategy = \"fade\"; on_switch = \"flatten\"; } "
            "); };\n"
            "};\n"
            "symbols = ( { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"switch\"; },\n"
            "            { symbol = \"ETH-USD\"; exchange = \"sim\"; strategy = \"switch\"; } );\n"
            "trading = { sizing = { allocation = 40000.0; initial_fraction = 0.5;\n"
            "                       continuation_fraction = 0.25; on_opposite = \"flat\"; };\n"
            "            exits = { stop_loss = 0.03; trailing_stop = 0.04; }; };\n"
            "%s\n",
            getenv("TACK_BUILD_DIR"), env.tmp, paced, BACKTEST_GROUP);
    assert_int_equal(fclose(f), 0);
  }
  backtest("gate_bt.cfg", "gate_bt.json", NULL, 0, &c);
  tmp_path(cfg, sizeof cfg, "gate_run.cfg");
  tmp_path(json, sizeof json, "gate_run.json");
  const char *args[] = {"run", cfg, "--json", json, NULL};
  assert_int_equal(tr_run(&env, &c, "gate_run", args, 300000, 0), 0);

  json_t *a = load_json("gate_bt.json"), *b = load_json("gate_run.json");
  json_t *sa = json_object_get(a, "symbols"), *sb = json_object_get(b, "symbols");
  for (size_t i = 0; i < 2; i++) {
    json_t *fa = json_object_get(json_array_get(sa, i), "fills");
    json_t *fb = json_object_get(json_array_get(sb, i), "fills");
    assert_true(json_array_size(fa) > 0);
    assert_int_equal(json_array_size(fa), json_array_size(fb));
    assert_true(json_equal(fa, fb));
  }
  assert_true(json_equal(json_object_get(a, "trades"), json_object_get(b, "trades")));
  json_decref(a);
  json_decref(b);
}

/* A live venue (here the example replay adapter) becomes a paper venue over
 * the store, with backtest.venue's params; --from/--to bound the replay. */
static void test_venue_substitution_and_range(void **state) {
  (void)state;
  skip_unless_env();
  tr_child c;
  make_store("s3");
  write_cfg("live.cfg", "s3", "plugin = \"example.replay\"; params = { bars = 10; };",
            "backtest = { venue = { cash = 50000.0; taker_bps = 10.0; }; monte_carlo = { runs "
            "= 0; }; };");
  backtest("live.cfg", "live.json", "--from=2024-01-03", 0, &c);
  json_t *j = load_json("live.json");
  json_t *m = json_object_get(j, "metrics");
  assert_true(json_real_value(json_object_get(m, "start_equity")) == 50000.0);
  assert_string_equal(json_string_value(json_object_get(m, "start")), "2024-01-03T00:00:00Z");
  json_t *s = json_array_get(json_object_get(j, "symbols"), 0);
  assert_int_equal(json_integer_value(json_object_get(s, "bars")), BARS - 2 * 288);
  assert_null(json_object_get(j, "monte_carlo"));
  json_decref(j);
}

static void test_refusals(void **state) {
  (void)state;
  skip_unless_env();
  tr_child c;
  make_store("s4");
  /* A store without the symbols' candles. */
  write_cfg("empty.cfg", "nothing-here", "plugin = \"example.replay\";", "");
  backtest("empty.cfg", "e.json", NULL, 1, &c);
  assert_true(tr_contains(c.err, "does not exist"));
  /* Bad backtest settings, each at its line. */
  write_cfg("bad.cfg", "s4", PAPER_STORE,
            "backtest = { returns = \"weekly\"; year_days = 500; risk_free = 2.0;\n"
            "  monte_carlo = { runs = -1; }; colour = 1; };");
  backtest("bad.cfg", "bad.json", NULL, 1, &c);
  assert_true(tr_contains(c.err, "backtest.returns"));
  assert_true(tr_contains(c.err, "backtest.year_days"));
  assert_true(tr_contains(c.err, "backtest.risk_free"));
  assert_true(tr_contains(c.err, "backtest.monte_carlo.runs"));
  assert_true(tr_contains(c.err, "colour"));
  /* A config that does not trade: nothing to backtest (the override removes
   * its trading group). */
  write_cfg("notrade.cfg", "s4", PAPER_STORE, "");
  backtest("notrade.cfg", "nt.json", "--set=trading=", 1, &c);
  assert_true(tr_contains(c.err, "needs a trading group"));
  /* Usage errors. */
  char cfg[600];
  tmp_path(cfg, sizeof cfg, "bad.cfg");
  const char *args[] = {"backtest", cfg, "--from", "yesterday", NULL};
  assert_int_equal(tr_run(&env, &c, "usage", args, 60000, 2), 2);
  assert_true(tr_contains(c.err, "--from"));
}

/* The real data of ../shared: BTC-USD hourly and BTC-PERP minutes. */
static void test_real_data(void **state) {
  (void)state;
  skip_unless_env();
  const char *shared = getenv("TACK_SHARED_DIR");
  char h1[600], m1[600], store[600];
  snprintf(h1, sizeof h1, "%s/data/btcusd_bitstamp_1h.csv", shared ? shared : "");
  snprintf(m1, sizeof m1, "%s/data/btcperp_ftx_1m.csv", shared ? shared : "");
  struct stat sb;
  if (!shared || stat(h1, &sb) != 0 || stat(m1, &sb) != 0) {
    fprintf(stderr, "skipped: ../shared/data is absent\n");
    skip();
  }
  tr_child c;
  tmp_path(store, sizeof store, "real");
  const char *imp1[] = {"data",        "import", h1,        "--symbol", "BTC-USD",
                        "--timeframe", "1h",     "--store", store,      NULL};
  assert_int_equal(tr_run(&env, &c, "imp1", imp1, 120000, 0), 0);
  const char *imp2[] = {"data",        "import", m1,        "--symbol", "BTC-PERP",
                        "--timeframe", "1m",     "--store", store,      NULL};
  assert_int_equal(tr_run(&env, &c, "imp2", imp2, 120000, 0), 0);
  const char *kinds[][3] = {{"BTC-USD", "1h", "real_h"}, {"BTC-PERP", "1m", "real_m"}};
  for (int k = 0; k < 2; k++) {
    char cfg[600], json[64];
    snprintf(cfg, sizeof cfg, "%s/%s.cfg", env.tmp, kinds[k][2]);
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f,
            "version = 1;\nname = \"real\";\nplugin_dirs = [ \"%s/plugins\" ];\n"
            "store = { path = \"%s\"; };\nlog = { level = \"warn\"; };\n"
            "exchanges = { venue = { plugin = \"example.replay\"; }; };\n"
            "strategies = {\n"
            "  cross = { plugin = \"ema_cross\"; timeframe = \"%s\"; filter = \"heikin_ashi\"; };\n"
            "  rsi = { plugin = \"rsi_reversion\"; timeframe = \"%s\"; };\n"
            "  both = { type = \"composite\"; method = \"weighted\"; threshold = 0.2;\n"
            "    members = ( { strategy = \"cross\"; weight = 1.0; }, { strategy = \"rsi\"; weight "
            "= 1.0; } ); };\n"
            "};\n"
            "symbols = ( { symbol = \"%s\"; exchange = \"venue\"; strategy = \"both\"; } );\n"
            "trading = { sizing = { allocation = 20000.0; }; exits = { stop_loss = 0.05; }; };\n"
            "backtest = { venue = { cash = 100000.0; taker_bps = 5.0; }; };\n",
            getenv("TACK_BUILD_DIR"), store, kinds[k][1], kinds[k][1], kinds[k][0]);
    fclose(f);
    snprintf(json, sizeof json, "%s.json", kinds[k][2]);
    backtest(strrchr(cfg, '/') + 1, json, NULL, 0, &c);
    assert_true(tr_contains(c.out, "ledger exact"));
    json_t *j = load_json(json);
    assert_true(json_is_true(json_object_get(j, "ledger_exact")));
    json_t *s = json_array_get(json_object_get(j, "symbols"), 0);
    assert_true(json_integer_value(json_object_get(s, "bars")) > 1000);
    assert_true(json_integer_value(json_object_get(json_object_get(j, "metrics"), "trades")) > 0);
    json_decref(j);
  }
}

/* Trade ticks (the paper venue replaying ../shared's Binance trades): the
 * runtime builds 1m bars from them and the recorder measures on those. */
static void test_trade_ticks(void **state) {
  (void)state;
  skip_unless_env();
  const char *shared = getenv("TACK_SHARED_DIR");
  char ticks[600], cfg[600];
  struct stat sb;
  snprintf(ticks, sizeof ticks, "%s/data/trades_binance_ethusdt.csv", shared ? shared : "");
  if (!shared || stat(ticks, &sb) != 0) {
    fprintf(stderr, "skipped: ../shared/data is absent\n");
    skip();
  }
  tmp_path(cfg, sizeof cfg, "ticks.cfg");
  FILE *f = fopen(cfg, "w");
  assert_non_null(f);
  fprintf(f,
          "version = 1;\nname = \"ticks\";\nplugin_dirs = [ \"%s/plugins\" ];\n"
          "log = { level = \"warn\"; };\n"
          "exchanges = { sim = { plugin = \"paper\"; params = { symbols = \"ETH-USDT\"; data = "
          "\"%s\"; quote = \"USDT\"; cash = 10000.0; }; }; };\n"
          "strategies = { r = { plugin = \"rsi_reversion\"; timeframe = \"1m\"; params = { "
          "period = 5; }; }; };\n"
          "symbols = ( { symbol = \"ETH-USDT\"; exchange = \"sim\"; strategy = \"r\"; } );\n"
          "trading = { sizing = { allocation = 2000.0; }; };\n"
          "backtest = { returns = \"bar\"; };\n",
          getenv("TACK_BUILD_DIR"), ticks);
  fclose(f);
  tr_child c;
  backtest("ticks.cfg", "ticks.json", NULL, 0, &c);
  json_t *j = load_json("ticks.json");
  json_t *s = json_array_get(json_object_get(j, "symbols"), 0);
  assert_true(json_integer_value(json_object_get(s, "bars")) >= 1);
  assert_true(json_is_true(json_object_get(j, "ledger_exact")));
  assert_true(json_real_value(json_object_get(json_object_get(j, "metrics"), "start_equity")) ==
              10000.0);
  json_decref(j);
}

int main(void) {
  have_env = tr_env_open(&env, skip_why, sizeof skip_why) == 0;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_parity_with_paper_run),
      cmocka_unit_test(test_parity_regime_gate),
      cmocka_unit_test(test_venue_substitution_and_range),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_real_data),
      cmocka_unit_test(test_trade_ticks),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  if (have_env)
    tr_env_close(&env);
  return rc;
}
