/*
 * test_ledger.c: the exact ledger. Hand-computed scenarios (buy, add,
 * partial close, reversal through zero, shorts, fees, several symbols,
 * marks), every refusal leaving the ledger untouched, and the identity
 *   starting + realized + unrealized - fees == cash + positions at mark
 * checked in integers after every event of 100k random fills; the doubles
 * the ledger keeps for every bar equal to the nearest of the exact values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger.h"

static tack_instrument instrument(const char *symbol, double tick, double lot, double cs,
                                  uint32_t flags) {
  tack_instrument in;
  memset(&in, 0, sizeof in);
  snprintf(in.symbol, sizeof in.symbol, "%s", symbol);
  snprintf(in.quote, sizeof in.quote, "USD");
  in.type = TACK_INSTR_SPOT;
  in.flags = flags;
  in.price_increment = tick;
  in.size_increment = lot;
  in.contract_size = cs;
  return in;
}

static tack_fill fill(const char *symbol, uint32_t side, double qty, double price, double fee) {
  tack_fill f;
  memset(&f, 0, sizeof f);
  snprintf(f.symbol, sizeof f.symbol, "%s", symbol);
  snprintf(f.trade_id, sizeof f.trade_id, "t1");
  snprintf(f.fee_currency, sizeof f.fee_currency, "USD");
  f.side = side;
  f.quantity = qty;
  f.price = price;
  f.fee = fee;
  return f;
}

#define BUY TACK_SIDE_BUY
#define SELL TACK_SIDE_SELL

/* Asserts that money m prints as want, naming the expression on failure. */
#define assert_money(m, want)                                                                      \
  do {                                                                                             \
    char buf_[96];                                                                                 \
    tack_money_format((m), buf_, sizeof buf_);                                                     \
    if (strcmp(buf_, (want)) != 0)                                                                 \
      fail_msg("%s is %s, want %s", #m, buf_, (want));                                             \
  } while (0)

#define assert_balanced(l)                                                                         \
  do {                                                                                             \
    char why_[512];                                                                                \
    if (tack_ledger_check((l), why_, sizeof why_) != 0)                                            \
      fail_msg("unbalanced: %s", why_);                                                            \
  } while (0)

static void apply(tack_ledger *l, const tack_instrument *in, tack_fill f) {
  int rc = tack_ledger_apply_fill(l, in, &f);
  if (rc != 0)
    fail_msg("fill refused: %s: %s", tack_err_name(rc), tack_ledger_error(l));
  assert_balanced(l);
}

static void test_spot_long(void **state) {
  (void)state;
  tack_instrument btc = instrument("BTC-USD", 0.01, 0.00000001, 1, 0);
  tack_ledger *l = NULL;
  tack_ledger_symbol s;
  tack_ledger_totals t;
  assert_int_equal(tack_ledger_new("USD", 100000, &l), 0);
  assert_balanced(l);

  apply(l, &btc, fill("BTC-USD", BUY, 0.1, 50000, 2.5));
  assert_int_equal(tack_ledger_get_symbol(l, "BTC-USD", &s), 0);
  assert_int_equal(s.lots, 10000000);
  assert_int_equal(s.mark_ticks, 5000000); /* a fill marks */
  assert_money(s.cost, "5000");
  assert_money(s.fees, "2.5");
  assert_money(s.unrealized, "0");
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  assert_money(t.cash, "94997.5");

  /* add: average 50500, exactly cost / size */
  apply(l, &btc, fill("BTC-USD", BUY, 0.1, 51000, 0));
  assert_int_equal(tack_ledger_get_symbol(l, "BTC-USD", &s), 0);
  assert_int_equal(s.lots, 20000000);
  assert_money(s.cost, "10100");

  assert_int_equal(tack_ledger_mark(l, "BTC-USD", 52000), 0);
  assert_balanced(l);
  assert_int_equal(tack_ledger_get_symbol(l, "BTC-USD", &s), 0);
  assert_money(s.unrealized, "300");

  /* partial close: a quarter of the cost leaves with a quarter of the lots */
  apply(l, &btc, fill("BTC-USD", SELL, 0.05, 53000, 1));
  assert_int_equal(tack_ledger_get_symbol(l, "BTC-USD", &s), 0);
  assert_int_equal(s.lots, 15000000);
  assert_money(s.cost, "7575");
  assert_money(s.realized, "125");
  assert_money(s.unrealized, "375"); /* marked at 53000 by the fill */
  assert_money(s.fees, "3.5");
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  assert_money(t.cash, "92546.5");
  assert_money(t.equity, "100496.5");

  tack_position p;
  assert_int_equal(tack_ledger_position(l, "BTC-USD", &p), 0);
  assert_true(p.quantity == 0.15);
  assert_true(p.avg_price == 50500);
  assert_true(p.mark_price == 53000);
  assert_true(p.unrealized_pnl == 375);
  assert_true(p.realized_pnl == 125);

  /* close at a loss */
  apply(l, &btc, fill("BTC-USD", SELL, 0.15, 49000, 0));
  assert_int_equal(tack_ledger_get_symbol(l, "BTC-USD", &s), 0);
  assert_int_equal(s.lots, 0);
  assert_money(s.cost, "0");
  assert_money(s.realized, "-100");
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  assert_money(t.cash, "99896.5");
  assert_money(t.equity, "99896.5");

  /* spot cannot go short: refused, nothing changed */
  tack_fill f = fill("BTC-USD", SELL, 0.01, 49000, 0);
  assert_int_equal(tack_ledger_apply_fill(l, &btc, &f), TACK_EPERM);
  assert_non_null(strstr(tack_ledger_error(l), "short"));
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  assert_money(t.cash, "99896.5");
  tack_ledger_free(l);
}

static void test_reversal_and_shorts(void **state) {
  (void)state;
  tack_instrument perp = instrument("ETH-PERP", 0.5, 1, 1, TACK_INSTR_CAN_SHORT);
  tack_ledger *l = NULL;
  tack_ledger_symbol s;
  tack_ledger_totals t;
  assert_int_equal(tack_ledger_new("USD", 1000, &l), 0);

  /* long 2, sell 5: close 2 (+20), open 3 short at 110 */
  apply(l, &perp, fill("ETH-PERP", BUY, 2, 100, 0));
  apply(l, &perp, fill("ETH-PERP", SELL, 5, 110, 0));
  assert_int_equal(tack_ledger_get_symbol(l, "ETH-PERP", &s), 0);
  assert_int_equal(s.lots, -3);
  assert_money(s.cost, "-330");
  assert_money(s.realized, "20");
  assert_money(s.unrealized, "0");

  /* short profits when the price falls */
  assert_int_equal(tack_ledger_mark(l, "ETH-PERP", 100.5), 0);
  assert_balanced(l);
  assert_int_equal(tack_ledger_get_symbol(l, "ETH-PERP", &s), 0);
  assert_money(s.unrealized, "28.5");

  /* cover 1 of 3 at 105: a third of the proceeds leaves */
  apply(l, &perp, fill("ETH-PERP", BUY, 1, 105, 0));
  assert_int_equal(tack_ledger_get_symbol(l, "ETH-PERP", &s), 0);
  assert_int_equal(s.lots, -2);
  assert_money(s.cost, "-220");
  assert_money(s.realized, "25");

  /* buy 4 through zero: cover 2 at 104.5 (+11), then long 2 */
  apply(l, &perp, fill("ETH-PERP", BUY, 4, 104.5, 0.5));
  assert_int_equal(tack_ledger_get_symbol(l, "ETH-PERP", &s), 0);
  assert_int_equal(s.lots, 2);
  assert_money(s.cost, "209");
  assert_money(s.realized, "36");
  assert_money(s.fees, "0.5");
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  /* 1000 - 200 + 550 - 105 - 418 - 0.5 */
  assert_money(t.cash, "826.5");
  tack_ledger_free(l);
}

/* A close of 1 of 3 lots bought at different prices: the cost share is a
 * third, rounded to 1e-18, and the remainder stays with the open lots; after
 * the final close realized is exactly proceeds - cost. */
static void test_average_is_exact(void **state) {
  (void)state;
  tack_instrument in = instrument("SOL-USD", 0.01, 1, 1, 0);
  tack_ledger *l = NULL;
  tack_ledger_symbol s;
  assert_int_equal(tack_ledger_new("USD", 0, &l), 0);
  apply(l, &in, fill("SOL-USD", BUY, 1, 100, 0));
  apply(l, &in, fill("SOL-USD", BUY, 2, 101, 0));
  assert_int_equal(tack_ledger_get_symbol(l, "SOL-USD", &s), 0);
  assert_money(s.cost, "302"); /* average 302/3, exactly */
  apply(l, &in, fill("SOL-USD", SELL, 1, 102, 0));
  assert_int_equal(tack_ledger_get_symbol(l, "SOL-USD", &s), 0);
  assert_money(s.realized, "1.333333333333333333");
  assert_money(s.cost, "201.333333333333333333");
  apply(l, &in, fill("SOL-USD", SELL, 2, 102, 0));
  assert_int_equal(tack_ledger_get_symbol(l, "SOL-USD", &s), 0);
  assert_money(s.realized, "4");
  assert_money(s.cost, "0");
  tack_ledger_free(l);
}

static void test_several_symbols_and_contract_size(void **state) {
  (void)state;
  tack_instrument btc = instrument("BTC-USD", 0.01, 0.00000001, 1, 0);
  /* a linear future: 1 contract is 0.001 BTC */
  tack_instrument fut = instrument("BTC-FUT", 0.5, 1, 0.001, TACK_INSTR_CAN_SHORT);
  tack_ledger *l = NULL;
  tack_ledger_symbol s;
  tack_ledger_totals t;
  assert_int_equal(tack_ledger_new("USD", 10000, &l), 0);
  apply(l, &btc, fill("BTC-USD", BUY, 0.01, 60000, 0.6));
  apply(l, &fut, fill("BTC-FUT", SELL, 3, 60100.5, 0.09));
  assert_int_equal(tack_ledger_get_symbol(l, "BTC-FUT", &s), 0);
  assert_money(s.cost, "-180.3015");
  assert_int_equal(tack_ledger_mark(l, "BTC-USD", 61000), 0);
  assert_int_equal(tack_ledger_mark(l, "BTC-FUT", 61000), 0);
  assert_balanced(l);
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  /* 610 - 600 + (180.3015 - 183) */
  assert_money(t.unrealized, "7.3015");
  assert_money(t.fees, "0.69");
  assert_money(t.cash, "9579.6115"); /* 10000 - 600 - 0.6 + 180.3015 - 0.09 */
  assert_money(t.positions, "427");
  assert_money(t.equity, "10006.6115");
  tack_position p;
  assert_int_equal(tack_ledger_position(l, "BTC-FUT", &p), 0);
  assert_true(p.quantity == -3);
  assert_true(p.avg_price == 60100.5);
  tack_ledger_free(l);
}

static void test_refusals_change_nothing(void **state) {
  (void)state;
  tack_instrument btc = instrument("BTC-USD", 0.01, 0.00000001, 1, 0);
  tack_ledger *l = NULL;
  tack_ledger_totals before, after;
  tack_fill f;
  assert_int_equal(tack_ledger_new("USD", 1000, &l), 0);
  apply(l, &btc, fill("BTC-USD", BUY, 0.01, 50000, 0.5));
  assert_int_equal(tack_ledger_get_totals(l, &before), 0);

  f = fill("BTC-USD", BUY, 0.01, 50000, 0.0001);
  snprintf(f.fee_currency, sizeof f.fee_currency, "BNB");
  assert_int_equal(tack_ledger_apply_fill(l, &btc, &f), TACK_ENOTSUP);
  assert_non_null(strstr(tack_ledger_error(l), "BNB"));

  f = fill("BTC-USD", BUY, 0.01, 50000.005, 0);
  assert_int_equal(tack_ledger_apply_fill(l, &btc, &f), TACK_EINVAL);
  assert_non_null(strstr(tack_ledger_error(l), "tick"));

  f = fill("BTC-USD", BUY, 0.000000015, 50000, 0);
  assert_int_equal(tack_ledger_apply_fill(l, &btc, &f), TACK_EINVAL);
  assert_non_null(strstr(tack_ledger_error(l), "lot"));

  f = fill("BTC-USD", 0, 0.01, 50000, 0);
  assert_int_equal(tack_ledger_apply_fill(l, &btc, &f), TACK_EINVAL);

  f = fill("BTC-USD", BUY, 0.01, 50000, 1e-19);
  assert_int_equal(tack_ledger_apply_fill(l, &btc, &f), TACK_ERANGE);

  tack_instrument changed = btc;
  changed.price_increment = 0.1;
  f = fill("BTC-USD", BUY, 0.01, 50000, 0);
  assert_int_equal(tack_ledger_apply_fill(l, &changed, &f), TACK_EINVAL);
  assert_non_null(strstr(tack_ledger_error(l), "increments changed"));
  /* Only the grid must stay; a minimum that cannot be read is refused too. */
  changed = btc;
  changed.min_size = -1;
  assert_int_equal(tack_ledger_apply_fill(l, &changed, &f), TACK_EINVAL);
  assert_non_null(strstr(tack_ledger_error(l), "increments changed"));

  tack_instrument eur = instrument("BTC-EUR", 0.01, 0.00000001, 1, 0);
  snprintf(eur.quote, sizeof eur.quote, "EUR");
  f = fill("BTC-EUR", BUY, 0.01, 50000, 0);
  assert_int_equal(tack_ledger_apply_fill(l, &eur, &f), TACK_EINVAL);

  tack_instrument inv = instrument("BTC-PERPETUAL", 0.5, 10, 10, TACK_INSTR_INVERSE);
  f = fill("BTC-PERPETUAL", BUY, 10, 50000, 0);
  assert_int_equal(tack_ledger_apply_fill(l, &inv, &f), TACK_ENOTSUP);

  f = fill("ETH-USD", BUY, 0.01, 50000, 0);
  assert_int_equal(tack_ledger_apply_fill(l, &btc, &f), TACK_EINVAL);

  /* 1e-20 x 1e-20 needs 40 decimals */
  tack_instrument fine = instrument("DUST-USD", 1e-10, 1e-10, 1, 0);
  f = fill("DUST-USD", BUY, 1e-10, 1e-10, 0);
  assert_int_equal(tack_ledger_apply_fill(l, &fine, &f), TACK_ERANGE);

  assert_int_equal(tack_ledger_mark(l, "ETH-USD", 1), TACK_ENOENT);
  assert_int_equal(tack_ledger_mark(l, "BTC-USD", 1e300), TACK_ERANGE);
  tack_ledger_symbol s;
  assert_int_equal(tack_ledger_get_symbol(l, "ETH-USD", &s), TACK_ENOENT);

  assert_int_equal(tack_ledger_get_totals(l, &after), 0);
  assert_memory_equal(&before, &after, sizeof before);
  assert_balanced(l);
  apply(l, &btc, fill("BTC-USD", SELL, 0.01, 50000, 0));
  assert_string_equal(tack_ledger_error(l), "");

  tack_ledger *bad = NULL;
  assert_int_equal(tack_ledger_new("", 0, &bad), TACK_EINVAL);
  assert_int_equal(tack_ledger_new("USD", 1e-19, &bad), TACK_ERANGE);
  assert_null(bad);
  tack_ledger_free(l);
}

static uint64_t rng = 0x2545f4914f6cdd1du;

static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* 100k fills and marks at random over three instruments, prices and sizes on
 * the grid, fees and rebates; the identity after every event, cash against
 * an independent sum, and after closing everything, realized - fees equals
 * the change in cash exactly. */
static void test_random_identity(void **state) {
  (void)state;
  static const struct {
    const char *symbol;
    double tick, lot, cs;
    uint32_t flags;
    int64_t start_ticks;
  } spec[] = {
      {"BTC-USD", 0.01, 0.00000001, 1, 0, 6000000},
      {"ETH-PERP", 0.05, 0.001, 1, TACK_INSTR_CAN_SHORT, 60000},
      {"BTC-FUT", 0.5, 1, 0.001, TACK_INSTR_CAN_SHORT, 120000},
  };
  enum { NSYM = sizeof spec / sizeof spec[0] };
  tack_instrument in[NSYM];
  tack_rounding grid[NSYM];
  int64_t price[NSYM], held[NSYM] = {0};
  tack_money unit[NSYM];
  tack_ledger *l = NULL;
  tack_ledger_totals t;
  tack_money cash = (tack_money)1000000 * 1000000000 * 1000000000;
  assert_int_equal(tack_ledger_new("USD", 1000000, &l), 0);
  for (int i = 0; i < NSYM; i++) {
    in[i] = instrument(spec[i].symbol, spec[i].tick, spec[i].lot, spec[i].cs, spec[i].flags);
    assert_int_equal(tack_rounding_init(&grid[i], &in[i]), 0);
    price[i] = spec[i].start_ticks;
  }
  for (int n = 0; n < 100000; n++) {
    int i = (int)(next() % NSYM);
    price[i] += (int64_t)(next() % 41) - 20;
    if (price[i] < 1)
      price[i] = 1;
    double px = tack_rounding_price_double(&grid[i], price[i]);
    if (next() % 4 == 0) {
      assert_int_equal(tack_ledger_mark(l, spec[i].symbol, px), 0);
      assert_balanced(l);
      continue;
    }
    uint32_t side = (next() & 1) ? BUY : SELL;
    int64_t lots = 1 + (int64_t)(next() % 5000);
    if (side == SELL && !(spec[i].flags & TACK_INSTR_CAN_SHORT) && lots > held[i]) {
      if (held[i] == 0)
        side = BUY;
      else
        lots = held[i];
    }
    /* fees in millionths, a fifth of them rebates */
    double fee = (double)(int64_t)(next() % 100000) / 1e6;
    if (next() % 5 == 0)
      fee = -fee;
    tack_fill f = fill(spec[i].symbol, side, tack_rounding_size_double(&grid[i], lots), px, fee);
    apply(l, &in[i], f);
    tack_ledger_symbol s;
    assert_int_equal(tack_ledger_get_symbol(l, spec[i].symbol, &s), 0);
    unit[i] = s.unit;
    held[i] += side == BUY ? lots : -lots;
    assert_true(s.lots == held[i]);
    cash -= (tack_money)(side == BUY ? lots : -lots) * price[i] * s.unit;
    cash -= (tack_money)(int64_t)(fee * 1e6 + (fee < 0 ? -0.5 : 0.5)) * 1000000000000;
    assert_int_equal(tack_ledger_get_totals(l, &t), 0);
    assert_true(t.cash == cash);
  }
  /* close everything at the current prices */
  for (int i = 0; i < NSYM; i++) {
    if (held[i] == 0)
      continue;
    double px = tack_rounding_price_double(&grid[i], price[i]);
    uint32_t side = held[i] > 0 ? SELL : BUY;
    int64_t lots = held[i] > 0 ? held[i] : -held[i];
    apply(l, &in[i], fill(spec[i].symbol, side, tack_rounding_size_double(&grid[i], lots), px, 0));
    cash += (tack_money)held[i] * price[i] * unit[i];
  }
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  assert_true(t.cash == cash);
  assert_true(t.unrealized == 0);
  assert_true(t.positions == 0);
  assert_true(t.realized - t.fees == t.cash - t.starting);
  tack_ledger_free(l);
}

/* Deposits and adopted positions move the starting equity, never P&L. */
static void test_deposit_and_adopt(void **state) {
  (void)state;
  tack_instrument btc = instrument("BTC-USD", 0.01, 0.00000001, 1, 0);
  tack_ledger *l = NULL;
  tack_ledger_totals t;
  tack_ledger_symbol s;
  assert_int_equal(tack_ledger_new("USD", 0, &l), 0);
  assert_int_equal(tack_ledger_deposit(l, 2500.25), 0);
  assert_balanced(l);
  tack_fill a = fill("BTC-USD", BUY, 0.5, 40000.01, 0);
  assert_int_equal(tack_ledger_adopt(l, &btc, &a), 0);
  assert_balanced(l);
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  assert_money(t.cash, "2500.25");
  assert_money(t.starting, "22500.255");
  assert_money(t.realized, "0");
  assert_int_equal(tack_ledger_get_symbol(l, "BTC-USD", &s), 0);
  assert_true(s.lots == 50000000);
  /* Selling the adopted coins realizes against the adoption price. */
  apply(l, &btc, fill("BTC-USD", SELL, 0.5, 41000, 1.5));
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  assert_money(t.realized, "499.995");
  assert_money(t.cash, "22998.75");
  /* A fee on an adoption, and a deposit with too many decimals, change nothing. */
  tack_fill bad = fill("BTC-USD", BUY, 0.1, 40000, 0.5);
  assert_int_equal(tack_ledger_adopt(l, &btc, &bad), TACK_EINVAL);
  assert_int_equal(tack_ledger_deposit(l, 1e-19), TACK_ERANGE);
  assert_int_equal(tack_ledger_deposit(l, -500), 0);
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  assert_money(t.cash, "22498.75");
  assert_balanced(l);
  tack_ledger_free(l);
}

/* Text of money, read back by strtod: how the doubles were made before. */
static double money_by_text(tack_money m) {
  char buf[96];
  tack_decimal_format_wide(m, TACK_LEDGER_SCALE, buf, sizeof buf);
  return strtod(buf, NULL);
}

static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Every double the ledger keeps or computes without text (position, entry,
 * mark, P&L, the money of the totals) is the nearest double of its exact
 * value, as strtod of its text gives it, and the equity it keeps is the one
 * the totals sum afresh: after every event of 20k random fills and marks
 * with fees, and once the running sum of the positions has overflowed. */
static void test_doubles_are_nearest(void **state) {
  (void)state;
  static const struct {
    const char *symbol;
    double tick, lot, cs;
    uint32_t flags;
    int64_t start_ticks;
  } spec[] = {
      {"BTC-USD", 0.01, 0.00000001, 1, 0, 6000000},
      {"ETH-PERP", 0.05, 0.001, 1, TACK_INSTR_CAN_SHORT, 60000},
      {"BTC-FUT", 0.5, 1, 0.001, TACK_INSTR_CAN_SHORT, 120000},
      {"XAU-CFD", 0.001, 0.03, 0.1, TACK_INSTR_CAN_SHORT, 2000000},
  };
  enum { NSYM = sizeof spec / sizeof spec[0] };
  tack_instrument in[NSYM];
  tack_rounding grid[NSYM];
  int64_t price[NSYM], held[NSYM] = {0};
  tack_ledger *l = NULL;
  assert_int_equal(tack_ledger_new("USD", 1234567.89, &l), 0);
  for (int i = 0; i < NSYM; i++) {
    in[i] = instrument(spec[i].symbol, spec[i].tick, spec[i].lot, spec[i].cs, spec[i].flags);
    assert_int_equal(tack_rounding_init(&grid[i], &in[i]), 0);
    price[i] = spec[i].start_ticks;
  }
  for (int n = 0; n < 20000; n++) {
    int i = (int)(next() % NSYM);
    price[i] += (int64_t)(next() % 401) - 200;
    if (price[i] < 1)
      price[i] = 1;
    double px = tack_rounding_price_double(&grid[i], price[i]);
    if (next() % 3 == 0) {
      if (tack_ledger_mark(l, spec[i].symbol, px) == TACK_ENOENT)
        continue;
    } else {
      uint32_t side = (next() & 1) ? BUY : SELL;
      int64_t lots = 1 + (int64_t)(next() % 50000);
      if (side == SELL && !(spec[i].flags & TACK_INSTR_CAN_SHORT) && lots > held[i]) {
        if (held[i] == 0)
          side = BUY;
        else
          lots = held[i];
      }
      double fee = (double)(int64_t)(next() % 10000000) / 1e8;
      apply(l, &in[i],
            fill(spec[i].symbol, side, tack_rounding_size_double(&grid[i], lots), px, fee));
      held[i] += side == BUY ? lots : -lots;
    }
    tack_ledger_symbol s;
    tack_position p;
    double q = -1, avg = -1;
    char cs[64];
    assert_int_equal(tack_ledger_get_symbol(l, spec[i].symbol, &s), 0);
    assert_int_equal(tack_ledger_position(l, spec[i].symbol, &p), 0);
    assert_int_equal(tack_ledger_quantity(l, spec[i].symbol, &q, &avg), 0);
    tack_decimal_format(s.grid.contract_size.units, s.grid.contract_size.scale, cs, sizeof cs);
    double want_q, want_avg;
    char text[96];
    tack_rounding_format_size(&s.grid, s.lots, text, sizeof text);
    want_q = strtod(text, NULL);
    want_avg = s.lots == 0 ? 0 : money_by_text(s.cost) / (want_q * strtod(cs, NULL));
    tack_rounding_format_price(&s.grid, s.mark_ticks, text, sizeof text);
    if (!same_double(p.quantity, want_q) || !same_double(q, want_q) ||
        !same_double(p.avg_price, want_avg) || !same_double(avg, want_avg) ||
        !same_double(p.mark_price, strtod(text, NULL)) ||
        !same_double(p.unrealized_pnl, money_by_text(s.unrealized)) ||
        !same_double(p.realized_pnl, money_by_text(s.realized)))
      fail_msg("event %d, %s: position %.17g/%.17g at %.17g/%.17g, mark %.17g, unrealized "
               "%.17g, realized %.17g; by text %.17g at %.17g, mark %s, %.17g, %.17g",
               n, spec[i].symbol, p.quantity, q, p.avg_price, avg, p.mark_price, p.unrealized_pnl,
               p.realized_pnl, want_q, want_avg, text, money_by_text(s.unrealized),
               money_by_text(s.realized));
    tack_ledger_totals t;
    tack_money equity = 0;
    assert_int_equal(tack_ledger_get_totals(l, &t), 0);
    assert_int_equal(tack_ledger_equity(l, &equity), 0);
    assert_true(equity == t.equity);
    assert_true(same_double(tack_money_double(t.equity), money_by_text(t.equity)));
    assert_true(same_double(tack_money_double(t.cash), money_by_text(t.cash)));
    assert_true(same_double(tack_money_double(-t.fees), money_by_text(-t.fees)));
  }
  double q = -1;
  assert_int_equal(tack_ledger_quantity(l, "NONE", &q, NULL), TACK_ENOENT);
  assert_true(q == 0);
  tack_ledger_free(l);

  /* Two positions worth 10^20 USD each: their sum overflows 2^127 units of
   * 10^-18, the equity is out of range; once one is marked at 0, the
   * equity is summed afresh and right again. */
  tack_instrument a = instrument("A", 1e9, 1e9, 1, 0), b = instrument("B", 1e9, 1e9, 1, 0);
  tack_money equity = 0;
  tack_ledger_totals t;
  assert_int_equal(tack_ledger_new("USD", 0, &l), 0);
  for (int k = 0; k < 17; k++)
    assert_int_equal(tack_ledger_deposit(l, 9e18), 0);
  apply(l, &a, fill("A", BUY, 1e11, 1e9, 0));
  assert_int_equal(tack_ledger_equity(l, &equity), 0);
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  assert_true(equity == t.equity);
  tack_fill fb = fill("B", BUY, 1e11, 1e9, 0);
  assert_int_equal(tack_ledger_apply_fill(l, &b, &fb), 0);
  assert_int_equal(tack_ledger_equity(l, &equity), TACK_ERANGE);
  assert_int_equal(tack_ledger_get_totals(l, &t), TACK_ERANGE);
  assert_int_equal(tack_ledger_mark(l, "B", 0), 0);
  assert_int_equal(tack_ledger_equity(l, &equity), 0);
  assert_int_equal(tack_ledger_get_totals(l, &t), 0);
  assert_true(equity == t.equity);
  assert_money(equity, "53000000000000000000");
  tack_ledger_free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_spot_long),
      cmocka_unit_test(test_reversal_and_shorts),
      cmocka_unit_test(test_average_is_exact),
      cmocka_unit_test(test_several_symbols_and_contract_size),
      cmocka_unit_test(test_refusals_change_nothing),
      cmocka_unit_test(test_random_identity),
      cmocka_unit_test(test_deposit_and_adopt),
      cmocka_unit_test(test_doubles_are_nearest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
