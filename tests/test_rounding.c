/*
 * test_rounding.c: doubles to ticks and lots in every direction, the snap
 * that absorbs floating-point noise, minimums, exact decimal text, and
 * overflow refused, on real instruments (Coinbase BTC-USD, Deribit
 * BTC-PERPETUAL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rounding.h"

static tack_instrument btc_usd(void) {
  tack_instrument in;
  memset(&in, 0, sizeof in);
  snprintf(in.symbol, sizeof in.symbol, "BTC-USD");
  in.type = TACK_INSTR_SPOT;
  in.price_increment = 0.01;
  in.size_increment = 0.00000001;
  in.min_size = 0.00001;
  in.min_notional = 1;
  in.contract_size = 1;
  return in;
}

static tack_instrument deribit_perp(void) {
  tack_instrument in;
  memset(&in, 0, sizeof in);
  snprintf(in.symbol, sizeof in.symbol, "BTC-PERPETUAL");
  in.type = TACK_INSTR_PERPETUAL;
  in.flags = TACK_INSTR_INVERSE | TACK_INSTR_CAN_SHORT;
  in.price_increment = 0.5;
  in.size_increment = 10;
  in.min_size = 10;
  in.contract_size = 10;
  return in;
}

static void test_decimal_from_double(void **state) {
  (void)state;
  static const struct {
    double x;
    int64_t units;
    int32_t scale;
  } cases[] = {
      {0.01, 1, 2},
      {0.00000001, 1, 8},
      {0.5, 5, 1},
      {10, 10, 0},
      {123.456, 123456, 3},
      {-0.25, -25, 2},
      {0, 0, 0},
      {1e-18, 1, 18},
      {0.1 + 0.2, 30000000000000004, 17},
      {1e18, INT64_C(1000000000000000000), 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tack_decimal d;
    assert_int_equal(tack_decimal_from_double(cases[i].x, &d), 0);
    assert_true(d.units == cases[i].units);
    assert_int_equal(d.scale, cases[i].scale);
  }
  tack_decimal d;
  assert_int_equal(tack_decimal_from_double(1e-19, &d), TACK_ERANGE);
  assert_int_equal(tack_decimal_from_double(1e19, &d), TACK_ERANGE);
  assert_int_equal(tack_decimal_from_double(0.0 / 0.0, &d), TACK_EINVAL);
  assert_int_equal(tack_decimal_from_double(1.0 / 0.0, &d), TACK_EINVAL);
}

static void test_decimal_format(void **state) {
  (void)state;
  char buf[64];
  assert_int_equal(tack_decimal_format(-50, 2, buf, sizeof buf), 5);
  assert_string_equal(buf, "-0.50");
  tack_decimal_format(5, 0, buf, sizeof buf);
  assert_string_equal(buf, "5");
  tack_decimal_format(1, 8, buf, sizeof buf);
  assert_string_equal(buf, "0.00000001");
  tack_decimal_format(0, 3, buf, sizeof buf);
  assert_string_equal(buf, "0.000");
  tack_decimal_format(INT64_MIN, 0, buf, sizeof buf);
  assert_string_equal(buf, "-9223372036854775808");
  tack_decimal_format_wide(-((tack_wide)1 << 126), 18, buf, sizeof buf);
  assert_string_equal(buf, "-85070591730234615865.843651857942052864");
  assert_int_equal(tack_decimal_format(123456, 2, buf, 5), TACK_ENOSPC);
  assert_string_equal(buf, "1234");
  assert_int_equal(tack_decimal_format(1, 39, buf, sizeof buf), TACK_EINVAL);
}

/* One row: value, direction, expected count of increments. */
typedef struct row {
  double x;
  unsigned dir;
  int64_t count;
} row;

#define N TACK_ROUND_NEAREST
#define Z TACK_ROUND_TOWARD_ZERO
#define D TACK_ROUND_DOWN
#define U TACK_ROUND_UP

static void test_btc_usd_prices(void **state) {
  (void)state;
  tack_instrument in = btc_usd();
  tack_rounding r;
  static const row rows[] = {
      {64123.456, N, 6412346},
      {64123.456, Z, 6412345},
      {64123.456, D, 6412345},
      {64123.456, U, 6412346},
      {64123.455, N, 6412346},
      {64123.445, N, 6412345},
      {-1.005, N, -101},
      {-1.005, D, -101},
      {-1.005, U, -100},
      {-1.005, Z, -100},
      {0.1 + 0.2, U, 30},
      {0.1 + 0.2, D, 30},
      {100.0 + 3 * 0.1, U, 10030},
      {0.301, U, 31},
      {0.301, D, 30},
      {1e-300, N, 0},
      {1e-300, U, 1},
      {1e-300, D, 0},
      {-1e-300, D, -1},
      {-1e-300, Z, 0},
      {0, U, 0},
      {2814749767106.56, N, INT64_C(1) << 48},
  };
  assert_int_equal(tack_rounding_init(&r, &in), 0);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int64_t t = -7;
    assert_int_equal(tack_rounding_price(&r, rows[i].x, rows[i].dir, &t), 0);
    if (t != rows[i].count)
      fail_msg("row %zu: %.17g dir %u gave %lld, want %lld", i, rows[i].x, rows[i].dir,
               (long long)t, (long long)rows[i].count);
  }
  int64_t t;
  assert_int_equal(tack_rounding_price(&r, 2814749767106.57, N, &t), TACK_ERANGE);
  assert_int_equal(tack_rounding_price(&r, 1e20, N, &t), TACK_ERANGE);
  assert_int_equal(tack_rounding_price(&r, -1e300, N, &t), TACK_ERANGE);
  assert_int_equal(tack_rounding_price(&r, 0.0 / 0.0, N, &t), TACK_EINVAL);
  assert_int_equal(tack_rounding_price(&r, 1, 4, &t), TACK_EINVAL);
}

static void test_btc_usd_sizes_and_text(void **state) {
  (void)state;
  tack_instrument in = btc_usd();
  tack_rounding r;
  char buf[64];
  int64_t l = 0;
  assert_int_equal(tack_rounding_init(&r, &in), 0);
  assert_int_equal(tack_rounding_size(&r, 0.123456789, Z, &l), 0);
  assert_int_equal(l, 12345678);
  assert_int_equal(tack_rounding_size(&r, 0.123456789, N, &l), 0);
  assert_int_equal(l, 12345679);
  assert_int_equal(tack_rounding_size(&r, 0.00012300, Z, &l), 0);
  assert_int_equal(l, 12300);
  assert_int_equal(tack_rounding_format_size(&r, l, buf, sizeof buf), 10);
  assert_string_equal(buf, "0.00012300");
  assert_int_equal(tack_rounding_format_price(&r, 6412346, buf, sizeof buf), 8);
  assert_string_equal(buf, "64123.46");
  tack_rounding_format_price(&r, -5, buf, sizeof buf);
  assert_string_equal(buf, "-0.05");
  assert_true(tack_rounding_price_double(&r, 6412346) == 64123.46);
  assert_true(tack_rounding_size_double(&r, 12300) == 0.000123);
  /* 2.8 million BTC is the most a size may be in 1e-8 lots. */
  assert_int_equal(tack_rounding_size(&r, 2814749.76710656, N, &l), 0);
  assert_true(l == INT64_C(1) << 48);
  assert_int_equal(tack_rounding_size(&r, 3e6, N, &l), TACK_ERANGE);
}

static void test_deribit_perpetual(void **state) {
  (void)state;
  tack_instrument in = deribit_perp();
  tack_rounding r;
  char buf[64];
  int64_t t = 0, l = 0;
  assert_int_equal(tack_rounding_init(&r, &in), 0);
  assert_int_equal(r.tick.units, 5);
  assert_int_equal(r.tick.scale, 1);
  assert_int_equal(r.lot.units, 10);
  assert_int_equal(r.lot.scale, 0);
  assert_int_equal(tack_rounding_price(&r, 64123.3, D, &t), 0);
  assert_int_equal(t, 128246);
  assert_int_equal(tack_rounding_price(&r, 64123.3, U, &t), 0);
  assert_int_equal(t, 128247);
  assert_int_equal(tack_rounding_price(&r, 64123.25, N, &t), 0);
  assert_int_equal(t, 128247);
  tack_rounding_format_price(&r, t, buf, sizeof buf);
  assert_string_equal(buf, "64123.5");
  assert_int_equal(tack_rounding_size(&r, 25, Z, &l), 0);
  assert_int_equal(l, 2);
  tack_rounding_format_size(&r, l, buf, sizeof buf);
  assert_string_equal(buf, "20");
  /* Sizes are USD on an inverse instrument: the notional is the size. */
  assert_int_equal(tack_rounding_order(&r, TACK_SIDE_SELL, 25, 64123.3, &l, &t), 0);
  assert_int_equal(l, 2);
  assert_int_equal(t, 128247);
  assert_int_equal(tack_rounding_order(&r, TACK_SIDE_BUY, 9.99, 64123.3, &l, &t), TACK_ERANGE);
  assert_int_equal(tack_rounding_format_size(&r, INT64_MAX, buf, sizeof buf), TACK_ERANGE);
}

static void test_orders_and_minimums(void **state) {
  (void)state;
  tack_instrument in = btc_usd();
  tack_rounding r;
  int64_t l = 0, t = 0;
  assert_int_equal(tack_rounding_init(&r, &in), 0);
  /* A buy never pays more, a sell never asks less, a size never grows. */
  assert_int_equal(tack_rounding_order(&r, TACK_SIDE_BUY, 0.123456789, 100.009, &l, &t), 0);
  assert_int_equal(l, 12345678);
  assert_int_equal(t, 10000);
  assert_int_equal(tack_rounding_order(&r, TACK_SIDE_SELL, 0.123456789, 100.001, &l, &t), 0);
  assert_int_equal(t, 10001);
  /* min_size 0.00001 */
  assert_int_equal(tack_rounding_order(&r, TACK_SIDE_BUY, 0.0000099, 60000, &l, &t), TACK_ERANGE);
  /* 0.00001 x 60000 = 0.6 < min_notional 1 */
  assert_int_equal(tack_rounding_order(&r, TACK_SIDE_BUY, 0.00001, 60000, &l, &t), TACK_ERANGE);
  assert_int_equal(tack_rounding_order(&r, TACK_SIDE_BUY, 0.00002, 60000, &l, &t), 0);
  /* exactly the minimum notional is allowed: 0.00002 x 50000 = 1 */
  assert_int_equal(tack_rounding_order(&r, TACK_SIDE_BUY, 0.00002, 50000, &l, &t), 0);
  /* 0.000019999 rounds toward zero to 0.00001999: 0.99950 < 1 */
  assert_int_equal(tack_rounding_order(&r, TACK_SIDE_BUY, 0.000019999, 50000, &l, &t), TACK_ERANGE);
  assert_int_equal(tack_rounding_check_minimums(&r, 0, 1), TACK_ERANGE);
  assert_int_equal(tack_rounding_check_minimums(&r, -2000, 5000000), 0);
  assert_int_equal(tack_rounding_check_minimums(&r, INT64_MIN, 1), 0);
  assert_int_equal(tack_rounding_check_minimums(&r, INT64_C(1) << 48, INT64_C(1) << 48), 0);
  assert_int_equal(tack_rounding_order(&r, 7, 1, 1, &l, &t), TACK_EINVAL);
  assert_int_equal(tack_rounding_order(&r, TACK_SIDE_BUY, -1, 1, &l, &t), TACK_EINVAL);
}

static void test_init_refusals(void **state) {
  (void)state;
  tack_rounding r;
  tack_instrument in = btc_usd();
  in.price_increment = 0;
  assert_int_equal(tack_rounding_init(&r, &in), TACK_EINVAL);
  in = btc_usd();
  in.size_increment = -0.01;
  assert_int_equal(tack_rounding_init(&r, &in), TACK_EINVAL);
  in = btc_usd();
  in.price_increment = 0.0 / 0.0;
  assert_int_equal(tack_rounding_init(&r, &in), TACK_EINVAL);
  in = btc_usd();
  in.price_increment = 1e-20;
  assert_int_equal(tack_rounding_init(&r, &in), TACK_ERANGE);
  in = btc_usd();
  in.min_notional = -1;
  assert_int_equal(tack_rounding_init(&r, &in), TACK_EINVAL);
  in = btc_usd();
  in.contract_size = 0;
  assert_int_equal(tack_rounding_init(&r, &in), 0);
  assert_int_equal(r.contract_size.units, 1);
}

/* Every grid point, printed as the nearest double, reads back as itself in
 * every direction: the snap and the exact reading agree. */
static void test_grid_round_trip(void **state) {
  (void)state;
  static const double incs[] = {0.01, 0.00000001, 0.5, 0.1, 0.25, 0.00005, 10, 0.001, 1e-12};
  uint64_t s = 0x9e3779b97f4a7c15u;
  for (int i = 0; i < 200000; i++) {
    tack_instrument in = btc_usd();
    tack_rounding r;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    in.price_increment = incs[s % (sizeof incs / sizeof incs[0])];
    assert_int_equal(tack_rounding_init(&r, &in), 0);
    /* counts of every magnitude up to 2^48 */
    int64_t count = (int64_t)((s >> 8) & ((UINT64_C(1) << ((s >> 3) % 49)) - 1));
    if (s & 1)
      count = -count;
    double x = tack_rounding_price_double(&r, count);
    for (unsigned dir = 0; dir <= TACK_ROUND_UP; dir++) {
      int64_t t = 0;
      assert_int_equal(tack_rounding_price(&r, x, dir, &t), 0);
      if (t != count)
        fail_msg("inc %.17g count %lld: %.17g dir %u gave %lld", in.price_increment,
                 (long long)count, x, dir, (long long)t);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decimal_from_double), cmocka_unit_test(test_decimal_format),
      cmocka_unit_test(test_btc_usd_prices),      cmocka_unit_test(test_btc_usd_sizes_and_text),
      cmocka_unit_test(test_deribit_perpetual),   cmocka_unit_test(test_orders_and_minimums),
      cmocka_unit_test(test_init_refusals),       cmocka_unit_test(test_grid_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
