/*
 * test_risk.c: the risk gate (each rule refusing with its name and
 * numbers, reducing orders passing, the 60 s rate window sliding),
 * position protection (take profit, stop loss and trailing stop for longs
 * and shorts, on prices and on bars by the conservative rule), and the
 * trading day (fixed offsets and IANA zones across DST changes, the loss
 * limit, the fraction limit, the profit target, operator lock and unlock).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "risk.h"
#include "utc.h"

#define NS TACK_NS_PER_SEC

/* Fails naming the text when needle is not in haystack. */
#define assert_contains(haystack, needle)                                                          \
  do {                                                                                             \
    if (strstr((haystack), (needle)) == NULL)                                                      \
      fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));                            \
  } while (0)

static tack_time at(const char *iso) {
  tack_time t = 0;
  if (tack_utc_parse(iso, &t) != 0)
    fail_msg("bad time %s", iso);
  return t;
}

static void assert_time(tack_time got, const char *want) {
  char g[64];
  tack_utc_format(got, g, sizeof g);
  if (got != at(want))
    fail_msg("time %s, want %s", g, want);
}

/* ------------------------------------------------------------------------ */
/* Gate                                                                      */
/* ------------------------------------------------------------------------ */

static const tack_risk_limits limits = {25000, 50000, 5};

static tack_risk_order order(double q, double price, double pos, tack_time now) {
  tack_risk_order o = {"BTC-USD", q, price, pos, now};
  return o;
}

static int check(const tack_risk_limits *l, const tack_risk_switches *sw, tack_risk_rate *rate,
                 tack_risk_order o, tack_risk_refusal *out) {
  return tack_risk_check_order(l, sw, rate, &o, out);
}

static void test_gate_rules(void **state) {
  (void)state;
  tack_risk_switches sw = {0, 0};
  tack_risk_rate rate;
  tack_risk_refusal out;
  memset(&rate, 0, sizeof rate);

  /* max_order_notional: the header's example, word for word. */
  assert_int_equal(check(&limits, &sw, &rate, order(0.5, 64000, 0, 0), &out), TACK_EPERM);
  assert_string_equal(out.rule, "max_order_notional");
  assert_string_equal(out.why, "order 0.5 BTC-USD x 64000 = 32000 > 25000");
  assert_int_equal(rate.count, 0); /* a refused order is not counted */
  assert_int_equal(check(&limits, &sw, &rate, order(-0.5, 64000, 0, 0), &out), TACK_EPERM);
  assert_string_equal(out.rule, "max_order_notional");

  /* max_position_notional: 0.5 + 0.3 = 0.8 x 64000 = 51200. */
  assert_int_equal(check(&limits, &sw, &rate, order(0.3, 64000, 0.5, 0), &out), TACK_EPERM);
  assert_string_equal(out.rule, "max_position_notional");
  assert_contains(out.why, "BTC-USD");
  assert_contains(out.why, "0.8");
  assert_contains(out.why, "51200 > 50000");
  /* Short side too. */
  assert_int_equal(check(&limits, &sw, &rate, order(-0.3, 64000, -0.5, 0), &out), TACK_EPERM);
  assert_string_equal(out.rule, "max_position_notional");
  assert_contains(out.why, "-0.8");

  /* Within both: passes, counted. */
  assert_int_equal(check(&limits, &sw, &rate, order(0.3, 64000, 0.4, 0), &out), 0);
  assert_int_equal(rate.count, 1);
  assert_string_equal(out.rule, "");

  /* Kill switch comes first, then the lock. */
  sw.kill = 1;
  sw.locked = 1;
  assert_int_equal(check(&limits, &sw, &rate, order(0.5, 64000, 0, 0), &out), TACK_EPERM);
  assert_string_equal(out.rule, "kill_switch");
  assert_contains(out.why, "0.5 BTC-USD");
  sw.kill = 0;
  assert_int_equal(check(&limits, &sw, &rate, order(0.1, 64000, 0, 0), &out), TACK_EPERM);
  assert_string_equal(out.rule, "daily_lock");
  assert_contains(out.why, "0.1 BTC-USD");
  assert_int_equal(rate.count, 1);

  /* 0 disables each limit. */
  tack_risk_limits none = {0, 0, 0};
  sw.locked = 0;
  assert_int_equal(check(&none, &sw, &rate, order(1000, 64000, 5000, 0), &out), 0);
}

static void test_gate_reducing(void **state) {
  (void)state;
  tack_risk_switches sw = {1, 1};
  tack_risk_rate rate;
  tack_risk_refusal out;
  memset(&rate, 0, sizeof rate);

  /* A position of 64000 (over both caps) can always be flattened, with the
   * kill switch on and the day locked, in one order over the order cap. */
  assert_int_equal(check(&limits, &sw, &rate, order(-1, 64000, 1, 0), &out), 0);
  assert_int_equal(check(&limits, &sw, &rate, order(-0.25, 64000, 1, 0), &out), 0);
  assert_int_equal(check(&limits, &sw, &rate, order(2, 64000, -2, 0), &out), 0);
  assert_int_equal(rate.count, 3);
  /* Through zero is not reducing. */
  assert_int_equal(check(&limits, &sw, &rate, order(-1.5, 64000, 1, 0), &out), TACK_EPERM);
  assert_string_equal(out.rule, "kill_switch");
  sw.kill = 0;
  sw.locked = 0;
  assert_int_equal(check(&limits, &sw, &rate, order(-1.5, 64000, 1, 0), &out), TACK_EPERM);
  assert_string_equal(out.rule, "max_order_notional");

  assert_true(tack_risk_is_reducing(1, -1));
  assert_true(tack_risk_is_reducing(1, -0.5));
  assert_true(tack_risk_is_reducing(-1, 0.5));
  assert_false(tack_risk_is_reducing(1, -1.0001));
  assert_false(tack_risk_is_reducing(1, 0.5));
  assert_false(tack_risk_is_reducing(0, -1));
  assert_false(tack_risk_is_reducing(1, 0));
  assert_false(tack_risk_is_reducing(NAN, -1));
}

static void test_gate_rate(void **state) {
  (void)state;
  tack_risk_switches sw = {0, 0};
  tack_risk_rate rate;
  tack_risk_refusal out;
  memset(&rate, 0, sizeof rate);
  tack_time t0 = at("2024-05-01T12:00:00Z");

  for (int i = 0; i < 5; i++)
    assert_int_equal(check(&limits, &sw, &rate, order(0.01, 64000, 0, t0 + i * NS), &out), 0);
  /* The sixth within the minute is refused, naming the numbers. */
  assert_int_equal(check(&limits, &sw, &rate, order(0.01, 64000, 0, t0 + 30 * NS), &out),
                   TACK_EPERM);
  assert_string_equal(out.rule, "orders_per_minute");
  assert_contains(out.why, "BTC-USD");
  assert_contains(out.why, "order 6 in the last 60 s > 5 per minute");
  /* A reducing order is not refused by the rate, but is counted. */
  assert_int_equal(check(&limits, &sw, &rate, order(-0.01, 64000, 0.05, t0 + 31 * NS), &out), 0);
  assert_int_equal(rate.count, 6);
  /* Until 60 s after the first, all five (and the reducing one) count. */
  assert_int_equal(check(&limits, &sw, &rate, order(0.01, 64000, 0, t0 + 60 * NS - 1), &out),
                   TACK_EPERM);
  /* At t0 + 61 s the first two have left the window: 4 remain. */
  assert_int_equal(check(&limits, &sw, &rate, order(0.01, 64000, 0, t0 + 61 * NS), &out), 0);
  assert_int_equal(check(&limits, &sw, &rate, order(0.01, 64000, 0, t0 + 61 * NS), &out),
                   TACK_EPERM);
  assert_contains(out.why, "order 6 in");
  /* Much later, the window is empty again. */
  assert_int_equal(check(&limits, &sw, &rate, order(0.01, 64000, 0, t0 + 3600 * NS), &out), 0);
  assert_int_equal(rate.count, 1);
}

/* More orders than the ring holds: the newest slots still decide. */
static void test_gate_rate_ring(void **state) {
  (void)state;
  tack_risk_limits lim = {0, 0, TACK_RISK_RATE_SLOTS};
  tack_risk_switches sw = {0, 0};
  tack_risk_rate rate;
  tack_risk_refusal out;
  memset(&rate, 0, sizeof rate);
  tack_time t0 = 1000 * NS;
  for (int i = 0; i < TACK_RISK_RATE_SLOTS; i++)
    assert_int_equal(check(&lim, &sw, &rate, order(1, 10, 0, t0 + i * (NS / 100)), &out), 0);
  assert_int_equal(check(&lim, &sw, &rate, order(1, 10, 0, t0 + 3 * NS), &out), TACK_EPERM);
  /* 100 more reducing orders wrap the ring; all still pass. */
  for (int i = 0; i < 100; i++)
    assert_int_equal(check(&lim, &sw, &rate, order(-1, 10, 5, t0 + 4 * NS), &out), 0);
  assert_int_equal(rate.count, TACK_RISK_RATE_SLOTS);
  assert_int_equal(check(&lim, &sw, &rate, order(1, 10, 0, t0 + 30 * NS), &out), TACK_EPERM);
  /* At t0 + 63 s only the 100 reducing orders of t0 + 4 s are recent. */
  assert_int_equal(check(&lim, &sw, &rate, order(1, 10, 0, t0 + 63 * NS), &out), 0);
  assert_int_equal(rate.count, 101);
}

static void test_gate_invalid(void **state) {
  (void)state;
  tack_risk_switches sw = {0, 0};
  tack_risk_rate rate;
  tack_risk_refusal out;
  memset(&rate, 0, sizeof rate);
  assert_int_equal(check(&limits, &sw, &rate, order(0, 64000, 0, 0), &out), TACK_EINVAL);
  assert_int_equal(check(&limits, &sw, &rate, order(NAN, 64000, 0, 0), &out), TACK_EINVAL);
  assert_int_equal(check(&limits, &sw, &rate, order(1, 0, 0, 0), &out), TACK_EINVAL);
  assert_int_equal(check(&limits, &sw, &rate, order(1, -1, 0, 0), &out), TACK_EINVAL);
  assert_int_equal(check(&limits, &sw, &rate, order(1, INFINITY, 0, 0), &out), TACK_EINVAL);
  assert_int_equal(check(&limits, &sw, &rate, order(1, 10, NAN, 0), &out), TACK_EINVAL);
  tack_risk_order o = order(1, 10, 0, 0);
  o.symbol = NULL;
  assert_int_equal(tack_risk_check_order(&limits, &sw, &rate, &o, &out), TACK_EINVAL);
  tack_risk_limits bad = {NAN, 0, 0};
  assert_int_equal(check(&bad, &sw, &rate, order(1, 10, 0, 0), &out), TACK_EINVAL);
  assert_int_equal(rate.count, 0);
}

static void test_limits_check(void **state) {
  (void)state;
  const char *field = "untouched";
  tack_risk_limits l = limits;
  assert_int_equal(tack_risk_limits_check(&l, &field), 0);
  assert_null(field);
  l.max_orders_per_minute = TACK_RISK_RATE_SLOTS;
  assert_int_equal(tack_risk_limits_check(&l, NULL), 0);
  l.max_orders_per_minute = TACK_RISK_RATE_SLOTS + 1;
  assert_int_equal(tack_risk_limits_check(&l, &field), TACK_EINVAL);
  assert_string_equal(field, "max_orders_per_minute");
  l = limits;
  l.max_order_notional = -1;
  assert_int_equal(tack_risk_limits_check(&l, &field), TACK_EINVAL);
  assert_string_equal(field, "max_order_notional");
  l = limits;
  l.max_position_notional = INFINITY;
  assert_int_equal(tack_risk_limits_check(&l, &field), TACK_EINVAL);
  assert_string_equal(field, "max_position_notional");

  static const struct {
    tack_risk_exits e;
    const char *field;
  } bad[] = {
      {{-0.1, 0, 0, 0}, "take_profit"},
      {{NAN, 0, 0, 0}, "take_profit"},
      {{0, 1, 0, 0}, "stop_loss"},
      {{0, -0.1, 0, 0}, "stop_loss"},
      {{0, 0, 1, 0}, "trailing_stop"},
      {{0, 0, INFINITY, 0}, "trailing_stop"},
      {{0, 0, 0, -1}, "trailing_activation"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    field = NULL;
    assert_int_equal(tack_risk_exits_check(&bad[i].e, &field), TACK_EINVAL);
    assert_string_equal(field, bad[i].field);
  }
  tack_risk_exits ok = {2, 0.99, 0.5, 3};
  assert_int_equal(tack_risk_exits_check(&ok, &field), 0);
}

/* ------------------------------------------------------------------------ */
/* Protection                                                                */
/* ------------------------------------------------------------------------ */

static tack_bar bar(double o, double h, double l, double c) {
  tack_bar b;
  memset(&b, 0, sizeof b);
  b.open = o;
  b.high = h;
  b.low = l;
  b.close = c;
  b.timeframe_s = 60;
  b.flags = TACK_BAR_CLOSED;
  return b;
}

static void assert_exit(const tack_risk_exit *x, uint32_t kind, double level, double price) {
  if (x->kind != kind || fabs(x->level - level) > 1e-9 || fabs(x->price - price) > 1e-9)
    fail_msg("exit %u at %.12g price %.12g (%s), want %u at %.12g price %.12g", x->kind, x->level,
             x->price, x->why, kind, level, price);
}

static void test_protect_long_prices(void **state) {
  (void)state;
  tack_risk_exits e = {0.05, 0.02, 0, 0};
  tack_risk_protect p;
  tack_risk_exit x;
  memset(&p, 0, sizeof p);

  tack_risk_protect_set(&p, 2, 100);
  assert_int_equal(tack_risk_protect_price(&p, &e, 104.9, &x), 0);
  assert_int_equal(tack_risk_protect_price(&p, &e, 98.1, &x), 0);
  assert_int_equal(tack_risk_protect_price(&p, &e, 105.5, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TAKE_PROFIT, 105, 105.5);
  assert_contains(x.why, "take profit at 105");

  tack_risk_protect_set(&p, 0, 0);
  tack_risk_protect_set(&p, 2, 100);
  assert_int_equal(tack_risk_protect_price(&p, &e, 97.5, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_STOP_LOSS, 98, 97.5);
  assert_contains(x.why, "stop loss at 98");

  /* Flat: nothing to protect. */
  tack_risk_protect_set(&p, 0, 0);
  assert_int_equal(tack_risk_protect_price(&p, &e, 1, &x), 0);
  /* Invalid price or exits. */
  tack_risk_protect_set(&p, 1, 100);
  assert_int_equal(tack_risk_protect_price(&p, &e, 0, &x), TACK_EINVAL);
  assert_int_equal(tack_risk_protect_price(&p, &e, NAN, &x), TACK_EINVAL);
  tack_risk_exits bad = {0, 1.5, 0, 0};
  assert_int_equal(tack_risk_protect_price(&p, &bad, 100, &x), TACK_EINVAL);
}

static void test_protect_trailing(void **state) {
  (void)state;
  tack_risk_protect p;
  tack_risk_exit x;
  memset(&p, 0, sizeof p);

  /* Activation 0: armed at once, 3% below the peak. */
  tack_risk_exits e = {0, 0, 0.03, 0};
  tack_risk_protect_set(&p, 1, 100);
  assert_int_equal(tack_risk_protect_price(&p, &e, 97.5, &x), 0); /* stop at 97 */
  assert_int_equal(tack_risk_protect_price(&p, &e, 110, &x), 0);
  assert_true(p.peak == 110);
  assert_int_equal(tack_risk_protect_price(&p, &e, 106.8, &x), 0);
  assert_int_equal(tack_risk_protect_price(&p, &e, 106.6, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TRAILING, 110 * 0.97, 106.6);
  assert_contains(x.why, "trailing stop");
  assert_contains(x.why, "peak 110");

  /* Activation 5%: not armed until the peak reaches 105. */
  tack_risk_exits act = {0, 0, 0.03, 0.05};
  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, 1, 100);
  assert_int_equal(tack_risk_protect_price(&p, &act, 104, &x), 0);
  assert_int_equal(p.armed, 0);
  assert_int_equal(tack_risk_protect_price(&p, &act, 95, &x), 0); /* not armed: no exit */
  assert_int_equal(tack_risk_protect_price(&p, &act, 106, &x), 0);
  assert_int_equal(p.armed, 1);
  assert_int_equal(tack_risk_protect_price(&p, &act, 103, &x), 0); /* stop at 102.82 */
  assert_int_equal(tack_risk_protect_price(&p, &act, 102.8, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TRAILING, 106 * 0.97, 102.8);

  /* Stop loss and trailing stop both set: the nearer (higher) one fires. */
  tack_risk_exits both = {0, 0.02, 0.03, 0};
  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, 1, 100);
  assert_int_equal(tack_risk_protect_price(&p, &both, 97.9, &x), 1); /* SL 98 > TR 97 */
  assert_exit(&x, TACK_RISK_EXIT_STOP_LOSS, 98, 97.9);
  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, 1, 100);
  assert_int_equal(tack_risk_protect_price(&p, &both, 105, &x), 0);
  assert_int_equal(tack_risk_protect_price(&p, &both, 101.8, &x), 1); /* TR 101.85 */
  assert_exit(&x, TACK_RISK_EXIT_TRAILING, 105 * 0.97, 101.8);
}

static void test_protect_short_prices(void **state) {
  (void)state;
  tack_risk_exits e = {0.05, 0.02, 0.03, 0};
  tack_risk_protect p;
  tack_risk_exit x;
  memset(&p, 0, sizeof p);

  tack_risk_protect_set(&p, -1, 100);
  assert_int_equal(tack_risk_protect_price(&p, &e, 94.5, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TAKE_PROFIT, 95, 94.5);

  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, -1, 100);
  assert_int_equal(tack_risk_protect_price(&p, &e, 102.5, &x), 1); /* SL 102 < TR 103 */
  assert_exit(&x, TACK_RISK_EXIT_STOP_LOSS, 102, 102.5);
  assert_contains(x.why, "stop loss at 102");

  tack_risk_exits trail = {0, 0, 0.03, 0};
  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, -1, 100);
  assert_int_equal(tack_risk_protect_price(&p, &trail, 90, &x), 0);
  assert_true(p.peak == 90);
  assert_int_equal(tack_risk_protect_price(&p, &trail, 92.6, &x), 0); /* stop at 92.7 */
  assert_int_equal(tack_risk_protect_price(&p, &trail, 92.8, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TRAILING, 90 * 1.03, 92.8);
  assert_contains(x.why, "trough 90");
}

static void test_protect_set(void **state) {
  (void)state;
  tack_risk_exits e = {0, 0, 0.03, 0.05};
  tack_risk_protect p;
  tack_risk_exit x;
  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, 1, 100);
  assert_int_equal(tack_risk_protect_price(&p, &e, 110, &x), 0);
  assert_int_equal(p.armed, 1);
  /* Adding in the same direction keeps the peak and the trail. */
  tack_risk_protect_set(&p, 2, 105);
  assert_true(p.peak == 110 && p.armed == 1 && p.avg_price == 105);
  /* A reverse restarts both. */
  tack_risk_protect_set(&p, -1, 108);
  assert_true(p.peak == 108 && p.armed == 0);
  /* Flat, and invalid numbers, leave it flat. */
  tack_risk_protect_set(&p, 0, 108);
  assert_true(p.quantity == 0);
  tack_risk_protect_set(&p, NAN, 100);
  assert_true(p.quantity == 0);
  tack_risk_protect_set(&p, 1, 0);
  assert_true(p.quantity == 0);
}

static void test_protect_bars(void **state) {
  (void)state;
  tack_risk_exits e = {0.05, 0.02, 0, 0}; /* long: TP 105, SL 98 */
  tack_risk_protect p;
  tack_risk_exit x;
  tack_bar b;

  /* Inside the levels: nothing. */
  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, 1, 100);
  b = bar(100, 104, 98.5, 101);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 0);
  /* Low through the stop: at the level. */
  b = bar(100, 101, 97, 97.5);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_STOP_LOSS, 98, 98);
  assert_contains(x.why, "bar low 97");
  /* High through the take profit: at the level. */
  b = bar(101, 106, 100, 105.5);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TAKE_PROFIT, 105, 105);
  /* Gap down through the stop: at the open. */
  b = bar(96, 97, 95, 96.5);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_STOP_LOSS, 98, 96);
  assert_contains(x.why, "opened at 96");
  /* Gap up through the take profit: at the open. */
  b = bar(107, 108, 106, 107);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TAKE_PROFIT, 105, 107);
  /* Both touched in one bar: the stop is taken to have come first. */
  b = bar(100, 106, 97, 104);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_STOP_LOSS, 98, 98);
  /* ... unless the bar opened past the take profit: that came first. */
  b = bar(106, 106, 97, 97);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TAKE_PROFIT, 105, 106);

  /* Short: TP 95, SL 102, mirrored. */
  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, -3, 100);
  b = bar(100, 103, 94, 96);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_STOP_LOSS, 102, 102);
  assert_contains(x.why, "bar high 103");
  b = bar(103.5, 104, 101, 102);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_STOP_LOSS, 102, 103.5);
  b = bar(99, 100, 94, 94.5);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TAKE_PROFIT, 95, 95);
  b = bar(93, 94, 92, 93);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TAKE_PROFIT, 95, 93);

  /* Invalid bars. */
  b = bar(100, 99, 98, 99); /* open above high */
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), TACK_EINVAL);
  b = bar(100, 101, 102, 100); /* low above high */
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), TACK_EINVAL);
  b = bar(100, 101, 0, 100);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), TACK_EINVAL);
  b = bar(100, NAN, 99, 100);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), TACK_EINVAL);
}

/* The trailing stop of a bar is the one that stood before it: the peak
 * moves by the bar's extreme only after the check. */
static void test_protect_bar_peak_after(void **state) {
  (void)state;
  tack_risk_exits e = {0, 0, 0.03, 0};
  tack_risk_protect p;
  tack_risk_exit x;
  tack_bar b;

  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, 1, 100);
  /* Up to 110 and down to 98: against a peak of 110 the stop (106.7) would
   * have been hit; against the stop before the bar (97) it was not. */
  b = bar(100, 110, 98, 109);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 0);
  assert_true(p.peak == 110);
  b = bar(109, 109.5, 106, 106.5);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TRAILING, 110 * 0.97, 110 * 0.97);

  /* Short: the trough moves after the check. */
  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, -1, 100);
  b = bar(100, 102, 90, 91);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 0);
  assert_true(p.peak == 90);
  b = bar(91, 93, 90.5, 92);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TRAILING, 90 * 1.03, 90 * 1.03);

  /* Activation by a bar's high arms the trail for the next bar only. */
  tack_risk_exits act = {0, 0, 0.03, 0.05};
  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, 1, 100);
  b = bar(100, 108, 99, 100);
  assert_int_equal(tack_risk_protect_bar(&p, &e, &b, &x), 0);
  memset(&p, 0, sizeof p);
  tack_risk_protect_set(&p, 1, 100);
  assert_int_equal(tack_risk_protect_bar(&p, &act, &b, &x), 0);
  assert_int_equal(p.armed, 1);
  b = bar(100, 101, 99, 100);
  assert_int_equal(tack_risk_protect_bar(&p, &act, &b, &x), 1);
  assert_exit(&x, TACK_RISK_EXIT_TRAILING, 108 * 0.97, 100); /* opened below 104.76 */
}

/* ------------------------------------------------------------------------ */
/* Zones and day starts                                                      */
/* ------------------------------------------------------------------------ */

static tack_risk_day_policy day_policy(const char *zone, const char *start) {
  tack_risk_day_policy p;
  char why[256];
  memset(&p, 0, sizeof p);
  if (tack_risk_day_parse_zone(&p, zone, why, sizeof why) != 0)
    fail_msg("zone %s: %s", zone, why);
  if (tack_risk_day_parse_start(&p, start, why, sizeof why) != 0)
    fail_msg("start %s: %s", start, why);
  return p;
}

static void test_parse_zone(void **state) {
  (void)state;
  tack_risk_day_policy p;
  char why[256];
  memset(&p, 0, sizeof p);
  assert_int_equal(tack_risk_day_parse_zone(&p, "+05:30", why, sizeof why), 0);
  assert_int_equal(p.utc_offset_minutes, 330);
  assert_string_equal(p.zone, "");
  assert_int_equal(tack_risk_day_parse_zone(&p, "-04:00", why, sizeof why), 0);
  assert_int_equal(p.utc_offset_minutes, -240);
  assert_int_equal(tack_risk_day_parse_zone(&p, "+14:00", why, sizeof why), 0);
  assert_int_equal(p.utc_offset_minutes, 840);
  assert_int_equal(tack_risk_day_parse_zone(&p, "Europe/Berlin", why, sizeof why), 0);
  assert_string_equal(p.zone, "Europe/Berlin");
  assert_int_equal(tack_risk_day_parse_zone(&p, "UTC", why, sizeof why), 0);
  assert_string_equal(p.zone, "");
  assert_int_equal(p.utc_offset_minutes, 0);

  static const char *const bad[] = {
      "",
      "+5:30",
      "+05:60",
      "+14:01",
      "-15:00",
      "05:30",
      "utc",
      "Mars/Olympus_Mons",
      "../etc/passwd",
      "/etc/localtime",
      "Europe",
      "Europe/Berlin/",
      "Europe/Berlin.",
      "America/New York",
      "Europe/Berlin_and_a_name_far_too_long_for_the_zone_field_of_the_policy",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tack_risk_day_policy before;
    memset(&p, 0, sizeof p);
    p.utc_offset_minutes = 60;
    before = p;
    if (tack_risk_day_parse_zone(&p, bad[i], why, sizeof why) != TACK_EINVAL)
      fail_msg("zone \"%s\" accepted", bad[i]);
    assert_memory_equal(&p, &before, sizeof p);
    assert_true(strlen(why) > 0);
    if (strlen(bad[i]) < 40)
      assert_contains(why, bad[i]);
  }
  assert_int_equal(tack_risk_day_parse_zone(&p, "Mars/Olympus_Mons", why, sizeof why), TACK_EINVAL);
  assert_contains(why, "not in the zone database");
  assert_int_equal(tack_risk_day_parse_zone(&p, NULL, why, sizeof why), TACK_EINVAL);
}

static void test_parse_start(void **state) {
  (void)state;
  tack_risk_day_policy p;
  char why[256];
  memset(&p, 0, sizeof p);
  assert_int_equal(tack_risk_day_parse_start(&p, "17:00", why, sizeof why), 0);
  assert_int_equal(p.day_start_minutes, 1020);
  assert_int_equal(tack_risk_day_parse_start(&p, "00:00", why, sizeof why), 0);
  assert_int_equal(p.day_start_minutes, 0);
  assert_int_equal(tack_risk_day_parse_start(&p, "23:59", why, sizeof why), 0);
  assert_int_equal(p.day_start_minutes, 1439);
  static const char *const bad[] = {"24:00", "7:00", "17:60", "17:00x", "", "17-00", " 17:00"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    p.day_start_minutes = 5;
    assert_int_equal(tack_risk_day_parse_start(&p, bad[i], why, sizeof why), TACK_EINVAL);
    assert_int_equal(p.day_start_minutes, 5);
    assert_contains(why, "HH:MM");
  }
}

static void test_day_check(void **state) {
  (void)state;
  tack_risk_day_policy p = day_policy("UTC", "00:00");
  const char *field = "untouched";
  assert_int_equal(tack_risk_day_check(&p, &field), 0);
  assert_null(field);
  p.daily_loss_limit = -1;
  assert_int_equal(tack_risk_day_check(&p, &field), TACK_EINVAL);
  assert_string_equal(field, "daily_loss_limit");
  p = day_policy("UTC", "00:00");
  p.daily_loss_fraction = 1.5;
  assert_int_equal(tack_risk_day_check(&p, &field), TACK_EINVAL);
  assert_string_equal(field, "daily_loss_fraction");
  p = day_policy("UTC", "00:00");
  p.daily_profit_target = NAN;
  assert_int_equal(tack_risk_day_check(&p, &field), TACK_EINVAL);
  assert_string_equal(field, "daily_profit_target");
  p = day_policy("UTC", "00:00");
  p.utc_offset_minutes = 15 * 60;
  assert_int_equal(tack_risk_day_check(&p, &field), TACK_EINVAL);
  assert_string_equal(field, "utc_offset_minutes");
  p = day_policy("UTC", "00:00");
  p.day_start_minutes = 1440;
  assert_int_equal(tack_risk_day_check(&p, &field), TACK_EINVAL);
  assert_string_equal(field, "day_start_minutes");
  p = day_policy("UTC", "00:00");
  snprintf(p.zone, sizeof p.zone, "../../etc/passwd");
  assert_int_equal(tack_risk_day_check(&p, &field), TACK_EINVAL);
  assert_string_equal(field, "zone");
  /* day_start of a bad policy is t itself. */
  assert_true(tack_risk_day_start(&p, 12345) == 12345);
}

typedef struct start_case {
  const char *zone, *start, *t, *want;
} start_case;

static void check_starts(const start_case *c, size_t n) {
  for (size_t i = 0; i < n; i++) {
    tack_risk_day_policy p = day_policy(c[i].zone, c[i].start);
    tack_time got = tack_risk_day_start(&p, at(c[i].t));
    if (got != at(c[i].want)) {
      char g[64];
      tack_utc_format(got, g, sizeof g);
      fail_msg("%s %s at %s: day start %s, want %s", c[i].zone, c[i].start, c[i].t, g, c[i].want);
    }
  }
}

static void test_day_start_fixed(void **state) {
  (void)state;
  static const start_case cases[] = {
      {"UTC", "00:00", "2024-03-15T12:00:00Z", "2024-03-15T00:00:00Z"},
      {"UTC", "00:00", "2024-03-15T00:00:00Z", "2024-03-15T00:00:00Z"},
      {"UTC", "00:00", "2024-03-14T23:59:59.999999999Z", "2024-03-14T00:00:00Z"},
      /* 20:00Z is 01:30 on the 16th at +05:30: the day began 18:30Z. */
      {"+05:30", "00:00", "2024-03-15T20:00:00Z", "2024-03-15T18:30:00Z"},
      {"+05:30", "00:00", "2024-03-15T18:29:59Z", "2024-03-14T18:30:00Z"},
      /* FX style: 17:00 at -04:00 is 21:00Z. */
      {"-04:00", "17:00", "2024-03-15T20:59:59Z", "2024-03-14T21:00:00Z"},
      {"-04:00", "17:00", "2024-03-15T21:00:00Z", "2024-03-15T21:00:00Z"},
      {"UTC", "17:00", "2024-01-01T03:00:00Z", "2023-12-31T17:00:00Z"},
      {"+14:00", "23:59", "1970-01-01T00:00:00Z", "1969-12-31T09:59:00Z"},
  };
  check_starts(cases, sizeof cases / sizeof cases[0]);
}

static void test_day_start_zones(void **state) {
  (void)state;
  static const start_case cases[] = {
      /* Europe/Berlin: CET (+1) until 2024-03-31 01:00Z, then CEST (+2). */
      {"Europe/Berlin", "00:00", "2024-03-30T12:00:00Z", "2024-03-29T23:00:00Z"},
      {"Europe/Berlin", "00:00", "2024-03-31T12:00:00Z", "2024-03-30T23:00:00Z"},
      {"Europe/Berlin", "00:00", "2024-03-31T22:00:00Z", "2024-03-31T22:00:00Z"},
      {"Europe/Berlin", "00:00", "2024-03-31T21:59:59Z", "2024-03-30T23:00:00Z"},
      {"Europe/Berlin", "00:00", "2024-04-01T12:00:00Z", "2024-03-31T22:00:00Z"},
      /* 02:30 does not exist on 2024-03-31: that day starts at the change. */
      {"Europe/Berlin", "02:30", "2024-03-31T12:00:00Z", "2024-03-31T01:00:00Z"},
      {"Europe/Berlin", "02:30", "2024-03-31T00:59:59Z", "2024-03-30T01:30:00Z"},
      {"Europe/Berlin", "02:30", "2024-04-01T12:00:00Z", "2024-04-01T00:30:00Z"},
      /* 02:30 shows twice on 2024-10-27: the first showing (CEST). */
      {"Europe/Berlin", "02:30", "2024-10-27T12:00:00Z", "2024-10-27T00:30:00Z"},
      {"Europe/Berlin", "02:30", "2024-10-27T01:30:00Z", "2024-10-27T00:30:00Z"},
      {"Europe/Berlin", "00:00", "2024-10-27T12:00:00Z", "2024-10-26T22:00:00Z"},
      {"Europe/Berlin", "00:00", "2024-10-28T12:00:00Z", "2024-10-27T23:00:00Z"},
      /* America/New_York, 17:00: EST (-5) is 22:00Z, EDT (-4) 21:00Z; DST
       * began 2024-03-10 at 07:00Z. */
      {"America/New_York", "17:00", "2024-03-10T12:00:00Z", "2024-03-09T22:00:00Z"},
      {"America/New_York", "17:00", "2024-03-10T20:59:59Z", "2024-03-09T22:00:00Z"},
      {"America/New_York", "17:00", "2024-03-10T21:00:00Z", "2024-03-10T21:00:00Z"},
      {"America/New_York", "17:00", "2024-11-03T12:00:00Z", "2024-11-02T21:00:00Z"},
      {"America/New_York", "17:00", "2024-11-03T22:00:00Z", "2024-11-03T22:00:00Z"},
      {"America/New_York", "00:00", "2024-07-04T03:59:59Z", "2024-07-03T04:00:00Z"},
  };
  check_starts(cases, sizeof cases / sizeof cases[0]);
}

/* The zone is evaluated through TZ, which is put back as it was. */
static void test_tz_restored(void **state) {
  (void)state;
  tack_risk_day_policy p = day_policy("Europe/Berlin", "00:00");
  char *old = getenv("TZ");
  char saved[256] = "";
  int had = old != NULL;
  if (had)
    snprintf(saved, sizeof saved, "%s", old);

  assert_int_equal(setenv("TZ", "Asia/Tokyo", 1), 0);
  (void)tack_risk_day_start(&p, at("2024-03-31T12:00:00Z"));
  assert_non_null(getenv("TZ"));
  assert_string_equal(getenv("TZ"), "Asia/Tokyo");
  assert_int_equal(unsetenv("TZ"), 0);
  (void)tack_risk_day_start(&p, at("2024-03-31T12:00:00Z"));
  assert_null(getenv("TZ"));

  if (had)
    setenv("TZ", saved, 1);
}

/* ------------------------------------------------------------------------ */
/* The trading day                                                           */
/* ------------------------------------------------------------------------ */

static int update(tack_risk_day *d, const tack_risk_day_policy *p, const char *t, double equity,
                  char *why) {
  return tack_risk_day_update(d, p, at(t), equity, why, 256);
}

static void test_day_loss_limit(void **state) {
  (void)state;
  tack_risk_day_policy p = day_policy("UTC", "00:00");
  tack_risk_day d;
  char why[256];
  p.daily_loss_limit = 500;
  memset(&d, 0, sizeof d);

  assert_int_equal(update(&d, &p, "2024-05-01T10:00:00Z", 10000, why), 0);
  assert_time(d.day_start, "2024-05-01T00:00:00Z");
  assert_time(d.next_start, "2024-05-02T00:00:00Z");
  assert_true(d.start_equity == 10000);
  assert_int_equal(update(&d, &p, "2024-05-01T11:00:00Z", 9600, why), 0);
  assert_true(d.pnl == -400);
  assert_string_equal(why, "");
  assert_int_equal(update(&d, &p, "2024-05-01T12:00:00Z", 9500, why), 1);
  assert_int_equal(d.lock, TACK_RISK_DAY_LOSS);
  assert_time(d.locked_at, "2024-05-01T12:00:00Z");
  assert_contains(why, "-500");
  assert_contains(why, "daily_loss_limit");
  /* Locked: further losses do not lock again; recovery does not unlock. */
  assert_int_equal(update(&d, &p, "2024-05-01T13:00:00Z", 9000, why), 0);
  assert_int_equal(update(&d, &p, "2024-05-01T23:59:59Z", 10400, why), 0);
  assert_int_equal(d.lock, TACK_RISK_DAY_LOSS);
  /* The next day unlocks and measures from its own start. */
  assert_int_equal(update(&d, &p, "2024-05-02T00:00:00Z", 10400, why), 0);
  assert_int_equal(d.lock, TACK_RISK_DAY_OPEN);
  assert_true(d.locked_at == 0);
  assert_true(d.start_equity == 10400);
  assert_time(d.day_start, "2024-05-02T00:00:00Z");
  assert_int_equal(update(&d, &p, "2024-05-02T01:00:00Z", 9950, why), 0);
  assert_int_equal(update(&d, &p, "2024-05-02T02:00:00Z", 9899, why), 1);
  /* Days without updates: the day of now. */
  assert_int_equal(update(&d, &p, "2024-05-05T09:00:00Z", 9899, why), 0);
  assert_time(d.day_start, "2024-05-05T00:00:00Z");
  assert_int_equal(d.lock, TACK_RISK_DAY_OPEN);
  /* A clock that goes back stays in the current day. */
  assert_int_equal(update(&d, &p, "2024-05-04T09:00:00Z", 9899, why), 0);
  assert_time(d.day_start, "2024-05-05T00:00:00Z");

  /* Invalid input changes nothing. */
  tack_risk_day before = d;
  assert_int_equal(update(&d, &p, "2024-05-05T10:00:00Z", NAN, why), TACK_EINVAL);
  p.daily_loss_limit = -1;
  assert_int_equal(update(&d, &p, "2024-05-05T10:00:00Z", 1, why), TACK_EINVAL);
  assert_memory_equal(&d, &before, sizeof d);
}

static void test_day_fraction_and_target(void **state) {
  (void)state;
  tack_risk_day_policy p = day_policy("+02:00", "00:00");
  tack_risk_day d;
  char why[256];

  /* 3% of 10000 = 300. */
  p.daily_loss_fraction = 0.03;
  memset(&d, 0, sizeof d);
  assert_int_equal(update(&d, &p, "2024-05-01T10:00:00Z", 10000, why), 0);
  assert_time(d.day_start, "2024-04-30T22:00:00Z");
  assert_int_equal(update(&d, &p, "2024-05-01T11:00:00Z", 9701, why), 0);
  assert_int_equal(update(&d, &p, "2024-05-01T12:00:00Z", 9700, why), 1);
  assert_int_equal(d.lock, TACK_RISK_DAY_LOSS);
  assert_contains(why, "daily_loss_fraction");
  assert_contains(why, "-300");

  /* Both limits: the one reached first locks and is named. */
  p.daily_loss_limit = 500;
  memset(&d, 0, sizeof d);
  assert_int_equal(update(&d, &p, "2024-05-01T10:00:00Z", 10000, why), 0);
  assert_int_equal(update(&d, &p, "2024-05-01T12:00:00Z", 9650, why), 1);
  assert_contains(why, "daily_loss_fraction");
  p.daily_loss_limit = 200;
  memset(&d, 0, sizeof d);
  assert_int_equal(update(&d, &p, "2024-05-01T10:00:00Z", 10000, why), 0);
  assert_int_equal(update(&d, &p, "2024-05-01T12:00:00Z", 9650, why), 1);
  assert_contains(why, "daily_loss_limit;");
  assert_contains(why, "-200");

  /* A day that starts with nothing left has nothing to lose. */
  memset(&d, 0, sizeof d);
  p.daily_loss_limit = 0;
  assert_int_equal(update(&d, &p, "2024-05-01T10:00:00Z", -5, why), 1);

  /* Profit target. */
  tack_risk_day_policy q = day_policy("UTC", "00:00");
  q.daily_profit_target = 250;
  q.daily_loss_limit = 500;
  memset(&d, 0, sizeof d);
  assert_int_equal(update(&d, &q, "2024-05-01T10:00:00Z", 10000, why), 0);
  assert_int_equal(update(&d, &q, "2024-05-01T11:00:00Z", 10249, why), 0);
  assert_int_equal(update(&d, &q, "2024-05-01T12:00:00Z", 10250, why), 1);
  assert_int_equal(d.lock, TACK_RISK_DAY_PROFIT);
  assert_contains(why, "profit target 250");
  assert_int_equal(update(&d, &q, "2024-05-02T00:00:01Z", 10250, why), 0);
  assert_int_equal(d.lock, TACK_RISK_DAY_OPEN);
}

static void test_day_operator(void **state) {
  (void)state;
  tack_risk_day_policy p = day_policy("UTC", "00:00");
  tack_risk_day d;
  char why[256];
  p.daily_loss_limit = 500;

  /* A lock set before the first update holds through it. */
  memset(&d, 0, sizeof d);
  tack_risk_day_lock(&d, at("2024-05-01T09:00:00Z"));
  assert_int_equal(update(&d, &p, "2024-05-01T10:00:00Z", 10000, why), 0);
  assert_int_equal(d.lock, TACK_RISK_DAY_OPERATOR);
  /* A locked day keeps its kind and time when locked again. */
  tack_risk_day_lock(&d, at("2024-05-01T11:00:00Z"));
  assert_time(d.locked_at, "2024-05-01T09:00:00Z");
  /* The next day lifts an operator lock too. */
  assert_int_equal(update(&d, &p, "2024-05-02T10:00:00Z", 10000, why), 0);
  assert_int_equal(d.lock, TACK_RISK_DAY_OPEN);

  /* Unlock after the loss limit: the limit applies afresh from there. */
  memset(&d, 0, sizeof d);
  assert_int_equal(update(&d, &p, "2024-05-01T10:00:00Z", 10000, why), 0);
  assert_int_equal(update(&d, &p, "2024-05-01T11:00:00Z", 9450, why), 1);
  tack_risk_day_unlock(&d, 9450);
  assert_int_equal(d.lock, TACK_RISK_DAY_OPEN);
  assert_int_equal(d.unlocked_by_operator, 1);
  assert_true(d.start_equity == 9450 && d.pnl == 0);
  assert_int_equal(update(&d, &p, "2024-05-01T12:00:00Z", 9000, why), 0);
  assert_true(d.pnl == -450);
  assert_int_equal(update(&d, &p, "2024-05-01T13:00:00Z", 8950, why), 1);
  assert_contains(why, "measured from 9450");
  /* A new day clears the note; unlocking an open day changes nothing. */
  assert_int_equal(update(&d, &p, "2024-05-02T00:00:00Z", 8950, why), 0);
  assert_int_equal(d.unlocked_by_operator, 0);
  tack_risk_day before = d;
  tack_risk_day_unlock(&d, 1);
  assert_memory_equal(&d, &before, sizeof d);
}

/* In an IANA zone the day bounds follow the DST change: 23 hours for the
 * Berlin day of 2024-03-31, 25 for New York's of 2024-11-03 at 17:00. */
static void test_day_update_zones(void **state) {
  (void)state;
  tack_risk_day d;
  char why[256];
  tack_risk_day_policy berlin = day_policy("Europe/Berlin", "00:00");
  berlin.daily_loss_limit = 100;
  memset(&d, 0, sizeof d);
  assert_int_equal(update(&d, &berlin, "2024-03-31T10:00:00Z", 1000, why), 0);
  assert_time(d.day_start, "2024-03-30T23:00:00Z");
  assert_time(d.next_start, "2024-03-31T22:00:00Z");
  assert_int_equal(update(&d, &berlin, "2024-03-31T21:00:00Z", 900, why), 1);
  assert_int_equal(update(&d, &berlin, "2024-03-31T21:59:59Z", 900, why), 0);
  assert_int_equal(d.lock, TACK_RISK_DAY_LOSS);
  assert_int_equal(update(&d, &berlin, "2024-03-31T22:00:00Z", 900, why), 0);
  assert_int_equal(d.lock, TACK_RISK_DAY_OPEN);
  assert_time(d.next_start, "2024-04-01T22:00:00Z");

  tack_risk_day_policy ny = day_policy("America/New_York", "17:00");
  memset(&d, 0, sizeof d);
  assert_int_equal(update(&d, &ny, "2024-11-03T12:00:00Z", 1000, why), 0);
  assert_time(d.day_start, "2024-11-02T21:00:00Z");
  assert_time(d.next_start, "2024-11-03T22:00:00Z");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gate_rules),
      cmocka_unit_test(test_gate_reducing),
      cmocka_unit_test(test_gate_rate),
      cmocka_unit_test(test_gate_rate_ring),
      cmocka_unit_test(test_gate_invalid),
      cmocka_unit_test(test_limits_check),
      cmocka_unit_test(test_protect_long_prices),
      cmocka_unit_test(test_protect_trailing),
      cmocka_unit_test(test_protect_short_prices),
      cmocka_unit_test(test_protect_set),
      cmocka_unit_test(test_protect_bars),
      cmocka_unit_test(test_protect_bar_peak_after),
      cmocka_unit_test(test_parse_zone),
      cmocka_unit_test(test_parse_start),
      cmocka_unit_test(test_day_check),
      cmocka_unit_test(test_day_start_fixed),
      cmocka_unit_test(test_day_start_zones),
      cmocka_unit_test(test_tz_restored),
      cmocka_unit_test(test_day_loss_limit),
      cmocka_unit_test(test_day_fraction_and_target),
      cmocka_unit_test(test_day_operator),
      cmocka_unit_test(test_day_update_zones),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
