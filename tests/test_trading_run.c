/*
 * test_trading_run.c: the trading engine end to end. Runs the real binary
 * ($TACK_BUILD_DIR/host/tack) with the paper venue replaying small bar files
 * whose prices are known exactly (no fees unless a case says so, no
 * slippage), the rt.script strategy saying what each case needs, a real
 * LMDB store, and checks the orders, fills and summary a person would read:
 * continuation sizing, the tolerance, reversal (flat and reverse), partial
 * fills (participation) and their rest on later signals, a venue reject,
 * take profit, stop loss and trailing stop, a risk refusal, the daily loss
 * lock, its operator unlock (tack ctl) and its survival of a restart, a
 * limit order's timeout and its rest at market, the kill switch (tack ctl),
 * and the flatten at a stop when the venue refuses one close or all of
 * them.
 * Every summary must say "ledger exact", with equity = cash when flat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tr_util.h"

static tr_env env;
static char skip_why[600];

/* 2024-01-01T00:00:00Z, the first bar of every file. */
#define START 1704067200LL
/* Generous: the ASan build runs tack several times slower. */
#define RUN_MS 120000L

/* Each case skips when setup_all found something missing. */
#define NEED_ENV()                                                                                 \
  do {                                                                                             \
    if (!env.tmp[0])                                                                               \
      skip();                                                                                      \
  } while (0)

/* Flat bars at p with plenty of volume. */
static tr_bar flat(double p) { return (tr_bar){p, p, p, p, 1000}; }

static void fill_flat(tr_bar *bars, size_t from, size_t n, double p) {
  for (size_t i = from; i < n; i++)
    bars[i] = flat(p);
}

/* The files of one case, named after its tag. */
typedef struct scenario {
  char cfg[400];
  char data[400];
  tr_child c;
} scenario;

/* Exchange parameters of every case; extra adds or overrides. */
static void ex_params(char *buf, size_t cap, const char *data, const char *symbols,
                      const char *extra) {
  snprintf(buf, cap,
           "symbols = \"%s\"; data = \"%s\"; cash = 10000.0; lot = 0.001; maker_bps = 0.0; "
           "slippage = \"none\"; %s%s",
           symbols, data, strstr(extra, "taker_bps") ? "" : "taker_bps = 0.0; ", extra);
}

/* Write bars and a config trading BTC-USD for tag (store store-<tag>). */
static void setup(scenario *s, const char *tag, const tr_bar *bars, size_t n, const char *ex_extra,
                  const char *st_params, const char *trading) {
  char ex[1000];
  snprintf(s->data, sizeof s->data, "%s/%s.csv", env.tmp, tag);
  snprintf(s->cfg, sizeof s->cfg, "%s/%s.cfg", env.tmp, tag);
  assert_int_equal(tr_write_bars(s->data, START, 60, bars, n), 0);
  ex_params(ex, sizeof ex, s->data, "BTC-USD", ex_extra);
  assert_int_equal(
      tr_write_config(&env, s->cfg, tag, tag, ex, st_params,
                      "{ symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"s\"; }", trading),
      0);
}

static void run_case(scenario *s, const char *tag, int want) {
  const char *args[] = {"run", s->cfg, NULL};
  assert_int_equal(tr_run(&env, &s->c, tag, args, RUN_MS, want), want);
}

static void expect_in(const char *file, const char *needle) {
  if (!tr_contains(file, needle)) {
    fprintf(stderr, "%s lacks: %s\n", file, needle);
    tr_show("it holds", file);
  }
  assert_true(tr_contains(file, needle));
}

static void expect_not(const char *file, const char *needle) {
  if (tr_contains(file, needle)) {
    fprintf(stderr, "%s holds what it must not: %s\n", file, needle);
    tr_show("it holds", file);
  }
  assert_false(tr_contains(file, needle));
}

static void expect_count(const char *file, const char *needle, size_t n) {
  size_t got = tr_count(file, needle);
  if (got != n) {
    fprintf(stderr, "%s holds %zu times, expected %zu: %s\n", file, got, n, needle);
    tr_show("it holds", file);
  }
  assert_int_equal(got, n);
}

/* Orders the order manager created for symbol, as it logs them. */
static void expect_order(const char *file, const char *side, const char *symbol, const char *qty,
                         size_t times) {
  char line[160];
  snprintf(line, sizeof line, "%s %s %s market limit 0 stop 0: created", side, symbol, qty);
  expect_count(file, line, times);
}

/* The summary's ledger: exact, and when every symbol is flat, equity =
 * cash (nothing is held at a mark). */
static void expect_ledger(const char *out, int flat_at_end) {
  expect_in(out, "ledger exact: starting + realized + unrealized - fees = cash + positions at "
                 "mark");
  if (!flat_at_end)
    return;
  char *text = tr_slurp(out);
  assert_non_null(text);
  const char *at = strstr(text, "  equity ");
  assert_non_null(at);
  char equity[64] = "", cash[64] = "";
  const char *c = strstr(at, ", cash ");
  assert_non_null(c);
  assert_int_equal(sscanf(at, "  equity %63s", equity), 1);
  assert_int_equal(sscanf(c, ", cash %63[^)]", cash), 1);
  if (strcmp(equity, cash) != 0)
    tr_show("summary: equity is not cash although flat", out);
  assert_string_equal(equity, cash);
  free(text);
}

/* ------------------------------------------------------------------------ */
/* Sizing                                                                    */
/* ------------------------------------------------------------------------ */

/* initial 0.5, continuation 0.25: 0.5, 0.75 and 1.0 of the allocation at
 * the price of each signal; a fourth signal is at the cap and sends
 * nothing. With a 10 bps fee on every fill. */
static void test_continuation_sizing(void **state) {
  (void)state;
  NEED_ENV();
  scenario s;
  tr_bar bars[7];
  bars[0] = flat(100);
  bars[1] = (tr_bar){100, 125, 100, 125, 1000};
  fill_flat(bars, 2, 7, 125);
  setup(&s, "cont", bars, 7, "taker_bps = 10.0;", "script = \"1,1,1,1\";",
        "sizing = { allocation = 1000.0; initial_fraction = 0.5; continuation_fraction = 0.25; "
        "max_fraction = 1.0; };");
  run_case(&s, "cont", 0);
  /* 500 / 100 = 5, then 750 / 125 = 6, then 1000 / 125 = 8. */
  expect_order(s.c.err, "buy", "BTC-USD", "5", 1);
  expect_in(s.c.err, ": buy 5 BTC-USD @ 100 fee 0.5 USD: filled 5 of 5");
  expect_order(s.c.err, "buy", "BTC-USD", "1", 1);
  expect_in(s.c.err, ": buy 1 BTC-USD @ 125 fee 0.125 USD: filled 1 of 1");
  expect_order(s.c.err, "buy", "BTC-USD", "2", 1);
  expect_in(s.c.err, ": buy 2 BTC-USD @ 125 fee 0.25 USD: filled 2 of 2");
  /* The flatten at the end of the data closes all 8. */
  expect_order(s.c.err, "sell", "BTC-USD", "8", 1);
  expect_count(s.c.err, ": created", 4);
  expect_in(s.c.out, "BTC-USD: position 0 at 0; 4 signals (0 replaced while busy), 4 orders, 0 "
                     "refused by risk, 4 fills, 0 exits");
  /* 8 x 125 - (500 + 125 + 250) = 125; fees 0.5 + 0.125 + 0.25 + 1. */
  expect_in(s.c.out, "realized 125, unrealized 0, fees 1.875");
  expect_in(s.c.out, "equity 10123.125 USD (starting 10000, cash 10123.125)");
  expect_ledger(s.c.out, 1);
}

/* A change smaller than tolerance x allocation sends nothing; a larger one
 * does. */
static void test_tolerance(void **state) {
  (void)state;
  NEED_ENV();
  scenario s;
  tr_bar bars[8];
  fill_flat(bars, 0, 8, 100);
  setup(&s, "tol", bars, 8, "", "script = \"1,0.9,0.95,0.5\";",
        "sizing = { allocation = 1000.0; continuation_fraction = 0.0; tolerance = 0.1; };");
  run_case(&s, "tol", 0);
  /* 5, then 4.5 and 4.75 (50 and 25 < 100: nothing), then 2.5 (250). */
  expect_order(s.c.err, "buy", "BTC-USD", "5", 1);
  expect_not(s.c.err, "BTC-USD 0.5 market");
  expect_not(s.c.err, "BTC-USD 0.25 market");
  expect_order(s.c.err, "sell", "BTC-USD", "2.5", 2); /* the signal, then the flatten */
  expect_count(s.c.err, ": created", 3);
  expect_in(s.c.out, "BTC-USD: position 0 at 0; 4 signals (0 replaced while busy), 3 orders");
  expect_ledger(s.c.out, 1);
}

/* A signal against the position closes all of it: and stays flat
 * (on_opposite flat; also when the venue could short), or opens the other
 * way at the initial fraction (reverse, shorts = true). On spot a short
 * signal from flat is held at flat and said once. */
static void test_reversal(void **state) {
  (void)state;
  NEED_ENV();
  scenario s;
  tr_bar bars[8];
  fill_flat(bars, 0, 8, 100);
  const char *trading = "sizing = { allocation = 1000.0; };";

  setup(&s, "rev_spot", bars, 8, "", "script = \"1,_,-1,_,-1\";", trading);
  run_case(&s, "rev_spot", 0);
  expect_order(s.c.err, "buy", "BTC-USD", "5", 1);
  expect_order(s.c.err, "sell", "BTC-USD", "5", 1);
  expect_count(s.c.err, ": created", 2);
  expect_count(s.c.err, "short signals are held at flat: the instrument cannot be shorted", 1);
  expect_in(s.c.out, "BTC-USD: position 0 at 0; 3 signals (0 replaced while busy), 2 orders");
  expect_ledger(s.c.out, 1);

  setup(&s, "rev_flat", bars, 8, "shorts = true;", "script = \"1,_,-1\";",
        "sizing = { allocation = 1000.0; on_opposite = \"flat\"; };");
  run_case(&s, "rev_flat", 0);
  expect_order(s.c.err, "buy", "BTC-USD", "5", 1);
  expect_order(s.c.err, "sell", "BTC-USD", "5", 1);
  expect_not(s.c.err, "sell BTC-USD 10 ");
  expect_count(s.c.err, ": created", 2);
  expect_in(s.c.out, "BTC-USD: position 0 at 0; 2 signals (0 replaced while busy), 2 orders");
  expect_ledger(s.c.out, 1);

  setup(&s, "rev_rev", bars, 8, "shorts = true;", "script = \"1,_,-1\";",
        "sizing = { allocation = 1000.0; on_opposite = \"reverse\"; };");
  run_case(&s, "rev_rev", 0);
  expect_order(s.c.err, "buy", "BTC-USD", "5", 2); /* the entry, and the flatten of the short */
  expect_order(s.c.err, "sell", "BTC-USD", "10", 1);
  expect_in(s.c.err, ": sell 10 BTC-USD @ 100 fee 0 USD: filled 10 of 10");
  expect_count(s.c.err, ": created", 3);
  expect_in(s.c.out, "BTC-USD: position 0 at 0; 2 signals (0 replaced while busy), 3 orders, 0 "
                     "refused by risk, 3 fills");
  expect_ledger(s.c.out, 1);
}

/* participation 0.5 of a volume of 4: a market order fills 2 and its
 * rest is cancelled (IOC); the trader sends what is missing on the next
 * signals until the target is held. */
static void test_partial_fills(void **state) {
  (void)state;
  NEED_ENV();
  scenario s;
  tr_bar bars[8];
  for (size_t i = 0; i < 8; i++)
    bars[i] = (tr_bar){100, 100, 100, 100, 4};
  setup(&s, "partial", bars, 8, "participation = 0.5;", "script = \"1,1,1\";",
        "sizing = { allocation = 1000.0; continuation_fraction = 0.0; tolerance = 0.0; };");
  run_case(&s, "partial", 0);
  expect_order(s.c.err, "buy", "BTC-USD", "5", 1);
  expect_in(s.c.err, ": buy 2 BTC-USD @ 100 fee 0 USD: filled 2 of 5");
  expect_in(s.c.err, "partial -> cancelled, venue filled 2, filled 2: immediate-or-cancel");
  expect_order(s.c.err, "buy", "BTC-USD", "3", 1);
  expect_in(s.c.err, ": buy 2 BTC-USD @ 100 fee 0 USD: filled 2 of 3");
  expect_order(s.c.err, "buy", "BTC-USD", "1", 1);
  expect_in(s.c.err, ": buy 1 BTC-USD @ 100 fee 0 USD: filled 1 of 1");
  /* After the data, closes fill whole at the last close. */
  expect_order(s.c.err, "sell", "BTC-USD", "5", 1);
  expect_in(s.c.out, "orders 4 submitted, 2 filled, 2 cancelled, 0 rejected; fills 4");
  expect_in(s.c.out, "BTC-USD: position 0 at 0; 3 signals (0 replaced while busy), 4 orders, 0 "
                     "refused by risk, 4 fills");
  expect_ledger(s.c.out, 1);
}

/* ------------------------------------------------------------------------ */
/* Refusals                                                                  */
/* ------------------------------------------------------------------------ */

/* The venue rejects the second order: nothing is booked for it, and the
 * trader goes on with the next signal. */
static void test_venue_reject(void **state) {
  (void)state;
  NEED_ENV();
  scenario s;
  tr_bar bars[8];
  fill_flat(bars, 0, 8, 100);
  setup(&s, "reject", bars, 8, "reject_nth = 2;", "script = \"1,0,_,0\";",
        "sizing = { allocation = 1000.0; };");
  run_case(&s, "reject", 0);
  expect_order(s.c.err, "buy", "BTC-USD", "5", 1);
  expect_order(s.c.err, "sell", "BTC-USD", "5", 2);
  expect_count(s.c.err, "rejected: rejected by the venue: rejected by fault injection", 1);
  expect_count(s.c.err, "fill PT", 2);
  expect_in(s.c.out, "orders 3 submitted, 2 filled, 0 cancelled, 1 rejected; fills 2");
  expect_in(s.c.out, "BTC-USD: position 0 at 0; 3 signals (0 replaced while busy), 3 orders, 0 "
                     "refused by risk, 2 fills");
  expect_in(s.c.out, "equity 10000 USD (starting 10000, cash 10000)");
  expect_ledger(s.c.out, 1);
}

/* An order over max_order_notional never leaves: the log names the rule
 * and the numbers. */
static void test_risk_refusal(void **state) {
  (void)state;
  NEED_ENV();
  scenario s;
  tr_bar bars[5];
  fill_flat(bars, 0, 5, 100);
  setup(&s, "riskgate", bars, 5, "", "script = \"1\";",
        "sizing = { allocation = 1000.0; }; limits = { max_order_notional = 300.0; };");
  run_case(&s, "riskgate", 0);
  expect_in(s.c.err, "BTC-USD: buy 5 refused by the risk gate (max_order_notional): order 5 "
                     "BTC-USD x 100 = 500 > 300");
  expect_count(s.c.err, ": created", 0);
  expect_in(s.c.out, "BTC-USD: position 0 at 0; 1 signals (0 replaced while busy), 0 orders, 1 "
                     "refused by risk, 0 fills");
  expect_in(s.c.out, "equity 10000 USD (starting 10000, cash 10000)");
  expect_ledger(s.c.out, 1);
}

/* ------------------------------------------------------------------------ */
/* Exits                                                                     */
/* ------------------------------------------------------------------------ */

/* Three symbols, each bought at 100 by one signal and protected by one
 * exit of its own: take profit 5% (a bar reaching 106), stop loss 2% (a bar
 * down to 97.5), trailing stop 3% (peak 110, then a bar down to 106). Each
 * exit sells the whole position at the next bar's open. */
static void test_exits(void **state) {
  (void)state;
  NEED_ENV();
  char dir[400], path[500], cfg[400], ex[1200];
  tr_bar tp[8], sl[8], tr[8];
  tp[0] = sl[0] = tr[0] = flat(100);
  tp[1] = sl[1] = (tr_bar){100, 101, 99, 100, 1000};
  tp[2] = (tr_bar){100, 106, 100, 104, 1000};
  fill_flat(tp, 3, 8, 104);
  sl[2] = (tr_bar){100, 100.5, 97.5, 98.5, 1000};
  fill_flat(sl, 3, 8, 98.5);
  tr[1] = (tr_bar){100, 101, 99.5, 100.5, 1000};
  tr[2] = (tr_bar){100.5, 110, 100.5, 109, 1000};
  tr[3] = (tr_bar){109, 109.5, 106, 106.5, 1000};
  fill_flat(tr, 4, 8, 106.5);
  snprintf(dir, sizeof dir, "%s/exits", env.tmp);
  assert_int_equal(mkdir(dir, 0700), 0);
  snprintf(path, sizeof path, "%s/TPX-USD.csv", dir);
  assert_int_equal(tr_write_bars(path, START, 60, tp, 8), 0);
  snprintf(path, sizeof path, "%s/SLX-USD.csv", dir);
  assert_int_equal(tr_write_bars(path, START, 60, sl, 8), 0);
  snprintf(path, sizeof path, "%s/TRX-USD.csv", dir);
  assert_int_equal(tr_write_bars(path, START, 60, tr, 8), 0);
  snprintf(cfg, sizeof cfg, "%s/exits.cfg", env.tmp);
  ex_params(ex, sizeof ex, dir, "TPX-USD,SLX-USD,TRX-USD", "");
  assert_int_equal(
      tr_write_config(&env, cfg, "exits", "exits", ex, "script = \"1\";",
                      "{ symbol = \"TPX-USD\"; exchange = \"sim\"; strategy = \"s\";\n"
                      "    trading = { exits = { take_profit = 0.05; }; }; },\n"
                      "  { symbol = \"SLX-USD\"; exchange = \"sim\"; strategy = \"s\";\n"
                      "    trading = { exits = { stop_loss = 0.02; }; }; },\n"
                      "  { symbol = \"TRX-USD\"; exchange = \"sim\"; strategy = \"s\";\n"
                      "    trading = { exits = { trailing_stop = 0.03; }; }; }",
                      "sizing = { allocation = 1000.0; };"),
      0);
  const char *args[] = {"run", cfg, NULL};
  tr_child c;
  assert_int_equal(tr_run(&env, &c, "exits", args, RUN_MS, 0), 0);

  expect_in(c.err, "TPX-USD: take profit at 105 (avg 100 +5%): bar high 106");
  expect_order(c.err, "sell", "TPX-USD", "5", 1);
  expect_in(c.err, ": sell 5 TPX-USD @ 104 fee 0 USD: filled 5 of 5");
  expect_in(c.out, "TPX-USD: position 0 at 0; 1 signals (0 replaced while busy), 2 orders, 0 "
                   "refused by risk, 2 fills, 1 exits");

  expect_in(c.err, "SLX-USD: stop loss at 98 (avg 100 -2%): bar low 97.5");
  expect_order(c.err, "sell", "SLX-USD", "5", 1);
  expect_in(c.err, ": sell 5 SLX-USD @ 98.5 fee 0 USD: filled 5 of 5");
  expect_in(c.out, "SLX-USD: position 0 at 0; 1 signals (0 replaced while busy), 2 orders, 0 "
                   "refused by risk, 2 fills, 1 exits");

  expect_in(c.err, "TRX-USD: trailing stop at 106.7 (peak 110 -3%): bar low 106");
  expect_order(c.err, "sell", "TRX-USD", "5", 1);
  expect_in(c.err, ": sell 5 TRX-USD @ 106.5 fee 0 USD: filled 5 of 5");
  expect_in(c.out, "TRX-USD: position 0 at 0; 1 signals (0 replaced while busy), 2 orders, 0 "
                   "refused by risk, 2 fills, 1 exits");

  /* +20 - 7.5 + 32.5 */
  expect_in(c.out, "equity 10045 USD (starting 10000, cash 10045)");
  expect_ledger(c.out, 1);
}

/* ------------------------------------------------------------------------ */
/* The day, the kill switch (tack ctl)                                       */
/* ------------------------------------------------------------------------ */

/* Paced bars so that `tack ctl` can reach the bot while it runs: bars
 * 0-3 at 100, bar 4 falls to 85 and the rest stay there. */
static void paced_drop(scenario *s, const char *tag, size_t n, const char *trading) {
  tr_bar bars[200];
  assert_true(n <= 200);
  fill_flat(bars, 0, 4, 100);
  bars[4] = (tr_bar){100, 100, 85, 85, 1000};
  fill_flat(bars, 5, n, 85);
  setup(s, tag, bars, n, "interval_ms = 40;", "script = \"1\"; repeat = true;", trading);
}

/* A mark that takes the day's P&L past loss_limit locks the day: the
 * position is flattened and signals do nothing more, until an operator
 * unlocks (tack ctl unlock); then the next signal trades again. */
static void test_daily_loss_lock(void **state) {
  (void)state;
  NEED_ENV();
  scenario s;
  char reply[2000];
  paced_drop(&s, "daylock", 120,
             "sizing = { allocation = 1000.0; continuation_fraction = 0.0; }; "
             "day = { loss_limit = 50.0; };");
  const char *args[] = {"run", s.cfg, NULL};
  assert_int_equal(tr_spawn(&env, &s.c, "daylock", args), 0);
  int locked = tr_wait_for(&s.c, s.c.err, "BTC-USD: flat", 1, RUN_MS);
  if (!locked)
    tr_show("stderr", s.c.err);
  assert_true(locked);
  expect_in(s.c.err, "daily limit reached: day P&L -75 reached the daily loss limit -50");
  expect_order(s.c.err, "buy", "BTC-USD", "5", 1);
  expect_order(s.c.err, "sell", "BTC-USD", "5", 1);
  /* Five more signals while locked: no order. */
  size_t signals = tr_count(s.c.err, "BTC-USD signal +1.00");
  assert_true(tr_wait_for(&s.c, s.c.err, "BTC-USD signal +1.00", signals + 5, RUN_MS));
  expect_count(s.c.err, ": created", 2);

  int rc = tr_ctl(&env, s.cfg, "unlock", reply, sizeof reply);
  if (rc != 0)
    fprintf(stderr, "tack ctl unlock: %d: %s\n", rc, reply);
  assert_int_equal(rc, 0);
  /* 500 / 85 = 5.882 lots of 0.001. */
  assert_true(tr_wait_for(&s.c, s.c.err, "buy BTC-USD 5.882 market", 1, RUN_MS));
  rc = tr_wait(&s.c, RUN_MS);
  if (rc != 0)
    tr_show("stderr", s.c.err);
  assert_int_equal(rc, 0);
  expect_in(s.c.err, "the day's lock was lifted by the operator");
  expect_order(s.c.err, "sell", "BTC-USD", "5.882", 1); /* the flatten at the end */
  expect_count(s.c.err, ": created", 4);
  expect_ledger(s.c.out, 1);
}

/* The day's lock outlives a restart: the second run on the same store
 * (the same host day) opens nothing, however often the strategy says buy. */
static void test_daily_lock_survives_restart(void **state) {
  (void)state;
  NEED_ENV();
  scenario s;
  tr_child again;
  char reply[2000];
  paced_drop(&s, "dayrestart", 150,
             "sizing = { allocation = 1000.0; continuation_fraction = 0.0; }; "
             "day = { loss_limit = 50.0; };");
  const char *args[] = {"run", s.cfg, NULL};
  assert_int_equal(tr_spawn(&env, &s.c, "dayrestart1", args), 0);
  int locked = tr_wait_for(&s.c, s.c.err, "BTC-USD: flat", 1, RUN_MS);
  if (!locked)
    tr_show("stderr", s.c.err);
  assert_true(locked);
  assert_int_equal(tr_ctl(&env, s.cfg, "stop", reply, sizeof reply), 0);
  assert_int_equal(tr_wait(&s.c, RUN_MS), 0);
  expect_count(s.c.err, ": created", 2);

  assert_int_equal(tr_spawn(&env, &again, "dayrestart2", args), 0);
  assert_true(tr_wait_for(&again, again.err, "BTC-USD signal +1.00", 5, RUN_MS));
  assert_int_equal(tr_ctl(&env, s.cfg, "stop", reply, sizeof reply), 0);
  int rc = tr_wait(&again, RUN_MS);
  if (rc != 0)
    tr_show("stderr", again.err);
  assert_int_equal(rc, 0);
  expect_in(again.err, "the trading day is locked (daily limit or operator) since before this "
                       "start");
  expect_count(again.err, ": created", 0);
  expect_in(again.out, "equity 9925 USD (starting 10000, cash 9925)");
  expect_ledger(again.out, 1);
}

/* A limit order that does not fill within orders.timeout is cancelled and
 * its rest sent at market (on_timeout = "market"). */
static void test_limit_timeout(void **state) {
  (void)state;
  NEED_ENV();
  scenario s;
  tr_bar bars[150];
  for (size_t i = 0; i < 150; i++)
    bars[i] = (tr_bar){100, 100.5, 99.5, 100, 1000};
  setup(&s, "timeout", bars, 150, "interval_ms = 20;", "script = \"1\";",
        "sizing = { allocation = 1000.0; }; orders = { type = \"limit\"; limit_offset_bps = "
        "500.0; timeout = \"1s\"; on_timeout = \"market\"; };");
  run_case(&s, "timeout", 0);
  /* 5% under 100: never reached by bars down to 99.5. */
  expect_in(s.c.err, "buy BTC-USD 5 limit limit 95 stop 0: created");
  expect_in(s.c.err, "timed out with 0 of 5 filled: rest 5 sent at market");
  expect_in(s.c.err, "buy BTC-USD 5 market limit 0 stop 0: created, linked to");
  expect_in(s.c.err, ": buy 5 BTC-USD @ 100 fee 0 USD: filled 5 of 5");
  expect_order(s.c.err, "sell", "BTC-USD", "5", 1);
  expect_in(s.c.out, "orders 3 submitted, 2 filled, 1 cancelled, 0 rejected; fills 2");
  expect_ledger(s.c.out, 1);
}

/* The kill switch flattens everything and stops the run (exit 0). */
static void test_kill_switch(void **state) {
  (void)state;
  NEED_ENV();
  scenario s;
  char reply[2000];
  tr_bar bars[150];
  fill_flat(bars, 0, 150, 100);
  setup(&s, "kill", bars, 150, "interval_ms = 40;", "script = \"1\"; repeat = true;",
        "sizing = { allocation = 1000.0; continuation_fraction = 0.0; };");
  const char *args[] = {"run", s.cfg, NULL};
  assert_int_equal(tr_spawn(&env, &s.c, "kill", args), 0);
  int filled = tr_wait_for(&s.c, s.c.err, "fill PT1 of order", 1, RUN_MS);
  if (!filled)
    tr_show("stderr", s.c.err);
  assert_true(filled);
  int rc = tr_ctl(&env, s.cfg, "kill operator test", reply, sizeof reply);
  if (rc != 0)
    fprintf(stderr, "tack ctl kill: %d: %s\n", rc, reply);
  assert_int_equal(rc, 0);
  rc = tr_wait(&s.c, RUN_MS);
  if (rc != 0)
    tr_show("stderr", s.c.err);
  assert_int_equal(rc, 0);
  expect_in(s.c.err,
            "kill switch: by the operator: operator test; flattening everything and stopping");
  expect_order(s.c.err, "buy", "BTC-USD", "5", 1);
  expect_order(s.c.err, "sell", "BTC-USD", "5", 1);
  expect_in(s.c.err, "BTC-USD: flat");
  expect_in(s.c.out, "summary: kill switch");
  expect_in(s.c.out, "BTC-USD: position 0 at 0");
  expect_not(s.c.out, "BTC-USD                     150 "); /* it stopped before the end */
  expect_ledger(s.c.out, 1);
}

/* ------------------------------------------------------------------------ */
/* The flatten of a stop                                                     */
/* ------------------------------------------------------------------------ */

/* The venue refuses the first close: the trader sends it again, the
 * position closes and the run exits 0. */
static void test_flatten_retries(void **state) {
  (void)state;
  NEED_ENV();
  scenario s;
  tr_bar bars[5];
  fill_flat(bars, 0, 5, 100);
  setup(&s, "retry", bars, 5, "reject_nth = 2;", "script = \"1\";",
        "sizing = { allocation = 1000.0; }; shutdown = { retries = 2; };");
  run_case(&s, "retry", 0);
  expect_order(s.c.err, "buy", "BTC-USD", "5", 1);
  expect_order(s.c.err, "sell", "BTC-USD", "5", 2);
  expect_count(s.c.err, "rejected: rejected by the venue: rejected by fault injection", 1);
  expect_in(s.c.err, "BTC-USD: flat");
  expect_not(s.c.err, "left open");
  expect_in(s.c.out, "orders 3 submitted, 2 filled, 0 cancelled, 1 rejected; fills 2");
  expect_in(s.c.out, "BTC-USD: position 0 at 0");
  expect_ledger(s.c.out, 1);
}

/* A position left open by a run without the flatten (exit 3); a second
 * run on the same store recovers it, and at its stop the venue refuses
 * every close: after 1 + retries closes it gives up, says what is left
 * open and exits 3. */
static void test_flatten_refused(void **state) {
  (void)state;
  NEED_ENV();
  scenario a, b;
  tr_bar bars[5];
  fill_flat(bars, 0, 5, 100);
  setup(&a, "refused", bars, 5, "", "script = \"1\";",
        "sizing = { allocation = 1000.0; }; shutdown = { flatten = false; };");
  run_case(&a, "refused_a", 3);
  expect_in(a.c.err, "stop: positions are left open (trading.shutdown.flatten = false)");
  expect_in(a.c.err, "BTC-USD: left open: position 5 at 100, 0 live orders");
  expect_ledger(a.c.out, 0);

  /* The same bot and store; the venue's data has ended already. */
  char ex[1000];
  snprintf(b.cfg, sizeof b.cfg, "%s/refused_b.cfg", env.tmp);
  ex_params(ex, sizeof ex, a.data, "BTC-USD", "reject_symbol = \"BTC-USD\";");
  assert_int_equal(
      tr_write_config(&env, b.cfg, "refused", "refused", ex, "script = \"1\";",
                      "{ symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = \"s\"; }",
                      "sizing = { allocation = 1000.0; }; shutdown = { retries = 2; };"),
      0);
  run_case(&b, "refused_b", 3);
  expect_in(b.c.err, "BTC-USD: position 5 at 100");
  expect_order(b.c.err, "sell", "BTC-USD", "5", 3);
  expect_count(b.c.err, "rejected: rejected by the venue: rejected by fault injection", 3);
  expect_in(b.c.err, "BTC-USD: still 5 open after 3 close orders: giving up");
  expect_in(b.c.err, "BTC-USD: left open: position 5 at 100, 0 live orders");
  expect_in(b.c.err, "1 symbol left with open positions or orders");
  expect_in(b.c.out, "orders 3 submitted, 0 filled, 0 cancelled, 3 rejected");
  expect_in(b.c.out, "BTC-USD: position 5 at 100");
  expect_ledger(b.c.out, 0);
}

static int setup_all(void **state) {
  (void)state;
  if (tr_env_open(&env, skip_why, sizeof skip_why) != 0)
    fprintf(stderr, "skipping the trading scenarios: %s\n", skip_why);
  return 0;
}

static int teardown_all(void **state) {
  (void)state;
  tr_env_close(&env);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_continuation_sizing),
      cmocka_unit_test(test_tolerance),
      cmocka_unit_test(test_reversal),
      cmocka_unit_test(test_partial_fills),
      cmocka_unit_test(test_venue_reject),
      cmocka_unit_test(test_risk_refusal),
      cmocka_unit_test(test_exits),
      cmocka_unit_test(test_daily_loss_lock),
      cmocka_unit_test(test_daily_lock_survives_restart),
      cmocka_unit_test(test_limit_timeout),
      cmocka_unit_test(test_kill_switch),
      cmocka_unit_test(test_flatten_retries),
      cmocka_unit_test(test_flatten_refused),
  };
  return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
