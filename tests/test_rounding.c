/*
 * test_rounding.c: doubles to ticks and lots in every direction, the snap
 * that absorbs floating-point noise, minimums, exact decimal text, and
 * overflow refused, on real instruments (Coinbase BTC-USD, Deribit
 * BTC-PERPETUAL). The paths that avoid text (shortest decimal in three
 * tries, grid rounding from a quotient in doubles, exact decimals to
 * doubles) against the methods they replaced, on large seeded samples.
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

/* ------------------------------------------------------------------------ */
/* The fast paths against the methods they replaced                          */
/* ------------------------------------------------------------------------ */

/* A xorshift generator: the same sample on every run. */
static uint64_t next_random(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* The old reading of a double's shortest decimal: print with 1, 2, ... 17
 * digits until strtod gives x back. digits x 10^exp10, no trailing zero. */
static void old_shortest(double x, int64_t *digits, int *exp10) {
  char buf[40];
  *digits = 0;
  *exp10 = 0;
  if (x == 0)
    return;
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
    if (strtod(buf, NULL) == x)
      break;
  }
  char *p = buf;
  int neg = *p == '-', ndec = 0;
  int64_t d;
  p += neg;
  d = *p++ - '0';
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++, ndec++)
      d = d * 10 + (*p - '0');
  *exp10 = (int)strtol(p + 1, NULL, 10) - ndec;
  while (d % 10 == 0) {
    d /= 10;
    (*exp10)++;
  }
  *digits = neg ? -d : d;
}

/* The old conversion of an exact decimal to a double: its text, strtod. */
static double old_decimal_double(tack_wide units, int scale) {
  char buf[96];
  tack_decimal_format_wide(units, scale, buf, sizeof buf);
  return strtod(buf, NULL);
}

static tack_wide old_divide(tack_wide num, tack_wide den, unsigned dir) {
  tack_wide q = num / den, rem = num % den, mag = rem < 0 ? -rem : rem;
  if (dir == TACK_ROUND_DOWN)
    return rem < 0 ? q - 1 : q;
  if (dir == TACK_ROUND_UP)
    return rem > 0 ? q + 1 : q;
  if (dir == TACK_ROUND_NEAREST && rem != 0 && mag >= den - mag)
    return num < 0 ? q - 1 : q + 1;
  return q;
}

static int64_t old_ulps(double a, double b) {
  uint64_t ua, ub;
  if (a == b)
    return 0;
  if (signbit(a) != signbit(b))
    return INT64_MAX;
  memcpy(&ua, &a, sizeof ua);
  memcpy(&ub, &b, sizeof ub);
  ua &= ~(UINT64_C(1) << 63);
  ub &= ~(UINT64_C(1) << 63);
  return ua > ub ? (int64_t)(ua - ub) : (int64_t)(ub - ua);
}

/* The old grid rounding, all through the shortest decimal and text. */
static int old_to_grid(tack_decimal inc, double x, unsigned dir, int64_t *count) {
  int64_t digits;
  int exp10, overflow = 0;
  if (!isfinite(x))
    return TACK_EINVAL;
  old_shortest(x, &digits, &exp10);
  int k = exp10 + inc.scale;
  tack_wide num = digits, den = inc.units;
  for (int i = 0; i < k && !overflow; i++)
    overflow = __builtin_mul_overflow(num, 10, &num);
  if (overflow)
    return TACK_ERANGE;
  for (int i = 0; i < -k && !overflow; i++)
    overflow = __builtin_mul_overflow(den, 10, &den);
  if (overflow) {
    num = digits < 0 ? -1 : (digits > 0 ? 1 : 0);
    den = (tack_wide)1 << 100;
  }
  tack_wide nearest = old_divide(num, den, TACK_ROUND_NEAREST);
  tack_wide result = old_divide(num, den, dir);
  if (nearest > TACK_ROUNDING_MAX_COUNT || nearest < -TACK_ROUNDING_MAX_COUNT ||
      result > TACK_ROUNDING_MAX_COUNT || result < -TACK_ROUNDING_MAX_COUNT)
    return TACK_ERANGE;
  if (result != nearest && old_ulps(x, old_decimal_double((tack_wide)nearest * inc.units,
                                                          inc.scale)) <= TACK_ROUNDING_SNAP_ULPS)
    result = nearest;
  *count = (int64_t)result;
  return 0;
}

/* x moved by k units in the last place (toward +infinity for k > 0). */
static double ulps_from(double x, int k) {
  for (; k > 0; k--)
    x = nextafter(x, INFINITY);
  for (; k < 0; k++)
    x = nextafter(x, -INFINITY);
  return x;
}

/* The shortest decimal of 15, 16 or 17 digits, found in three tries at
 * most, is the one the search over every precision found, for a large
 * sample of doubles of every magnitude tack reads (and beyond). */
static void test_shortest_matches_old(void **state) {
  (void)state;
  uint64_t s = 0x2545f4914f6cdd1du;
  for (int i = 0; i < 300000; i++) {
    uint64_t r = next_random(&s);
    double x;
    switch (r % 4) {
    case 0: /* any bit pattern of a normal double */
      r = next_random(&s);
      memcpy(&x, &r, sizeof x);
      if (!isnormal(x))
        continue;
      break;
    case 1: /* a short decimal: up to 12 digits at scale 0..18 */
      x = (double)(int64_t)(next_random(&s) % 1000000000000u) /
          pow(10, (double)(next_random(&s) % 19));
      break;
    case 2: /* next to a short decimal */
      x = ulps_from((double)(int64_t)(next_random(&s) % 100000000u) /
                        pow(10, (double)(next_random(&s) % 12)),
                    (int)(next_random(&s) % 9) - 4);
      break;
    default: /* a random quotient, as sizing makes them */
      x = (double)(next_random(&s) % 100000u + 1) / (double)(next_random(&s) % 100000u + 1);
      break;
    }
    if (r & 0x100)
      x = -x;
    int64_t digits;
    int exp10;
    old_shortest(x, &digits, &exp10);
    tack_decimal d;
    int rc = tack_decimal_from_double(x, &d);
    int want = -exp10 > TACK_DECIMAL_MAX_SCALE ? TACK_ERANGE : 0;
    if (want == 0 && exp10 > 0) {
      tack_wide v = digits;
      for (int k = 0; k < exp10 && want == 0; k++)
        if (__builtin_mul_overflow(v, 10, &v) || v > INT64_MAX || v < -INT64_MAX)
          want = TACK_ERANGE;
    }
    if (rc != want)
      fail_msg("%.17g: rc %d, want %d", x, rc, want);
    if (rc == 0 && exp10 < 0 && (d.units != digits || d.scale != -exp10))
      fail_msg("%.17g: %lld e-%d, want %lld e%d", x, (long long)d.units, d.scale, (long long)digits,
               exp10);
  }
}

/* Exact decimals become the same doubles as through their text: on both
 * sides of 2^53 (where the one-division path ends), at every scale, with
 * ties between two doubles (which go to the even one). */
static void test_decimal_double_matches_strtod(void **state) {
  (void)state;
  uint64_t s = 0x853c49e6748fea9bu;
  assert_true(tack_decimal_double(0, 18) == 0.0);
  assert_true(isnan(tack_decimal_double(1, 19)));
  assert_true(isnan(tack_decimal_double(1, -1)));
  for (int i = 0; i < 400000; i++) {
    uint64_t r = next_random(&s);
    int scale = (int)(next_random(&s) % (TACK_DECIMAL_MAX_SCALE + 1));
    tack_wide u;
    switch (r % 5) {
    case 0: /* around 2^53 */
      u = ((tack_wide)1 << 53) + (tack_wide)(next_random(&s) % 64) - 32;
      break;
    case 1: /* any 127-bit magnitude */
      u = (tack_wide)(((unsigned __int128)next_random(&s) << 64 | next_random(&s)) >> 1);
      break;
    case 2: { /* an exact tie between two doubles above 2^53, times 10^scale */
      double c = ldexp(1.0 + (double)(next_random(&s) % (UINT64_C(1) << 52)) * 0x1p-52,
                       53 + (int)(next_random(&s) % 40));
      tack_wide mid = (tack_wide)c + (tack_wide)(nextafter(c, INFINITY) - c) / 2;
      u = mid;
      for (int k = 0; k < scale && u < ((tack_wide)1 << 122); k++)
        u *= 10;
      if (u >= ((tack_wide)1 << 122))
        continue;
      break;
    }
    case 3: /* money of the ledger: up to about 10^12 in quote at scale 18 */
      u = (tack_wide)(next_random(&s) % 1000000000000u) * 1000000 +
          (tack_wide)(next_random(&s) % 1000000u);
      u *= (tack_wide)(next_random(&s) % 1000000000000u);
      break;
    default: /* short integers */
      u = (tack_wide)(next_random(&s) >> (next_random(&s) % 64));
      break;
    }
    if (r & 0x100)
      u = -u;
    double want = old_decimal_double(u, scale), got = tack_decimal_double(u, scale);
    if (memcmp(&want, &got, sizeof want) != 0) {
      char buf[96];
      tack_decimal_format_wide(u, scale, buf, sizeof buf);
      fail_msg("%s: %.17g, want %.17g", buf, got, want);
    }
  }
}

/* Values on, next to and between grid points, halfway between them, far
 * beyond the grid's range and far below one increment round as the exact
 * reading through text rounded them, in every direction. */
static void test_grid_matches_old(void **state) {
  (void)state;
  static const double incs[] = {0.01,  0.00000001, 0.5,   0.1,   0.25, 0.00005, 10,
                                0.001, 1e-12,      1e-18, 0.003, 1e6,  7,       0.0125};
  uint64_t s = 0xda942042e4dd58b5u;
  for (int i = 0; i < 300000; i++) {
    tack_instrument in = btc_usd();
    tack_rounding g;
    in.price_increment = incs[next_random(&s) % (sizeof incs / sizeof incs[0])];
    assert_int_equal(tack_rounding_init(&g, &in), 0);
    int64_t count =
        (int64_t)(next_random(&s) & ((UINT64_C(1) << (next_random(&s) % 50)) - 1)); /* up to 2^49 */
    double x = old_decimal_double((tack_wide)count * g.tick.units, g.tick.scale);
    uint64_t r = next_random(&s);
    switch (r % 6) {
    case 0: /* a grid point */
      break;
    case 1: /* a few ulps off it: the snap's edge */
      x = ulps_from(x, (int)(next_random(&s) % 21) - 10);
      break;
    case 2: { /* halfway, and next to halfway */
      double half =
          old_decimal_double(((tack_wide)count * 2 + 1) * g.tick.units * 5, g.tick.scale + 1);
      x = ulps_from(half, (int)(next_random(&s) % 9) - 4);
      break;
    }
    case 3: /* anywhere between grid points */
      x = x + (double)(next_random(&s) % 1000000u) / 1e6 * in.price_increment;
      break;
    case 4: /* far below one increment, or beyond the range */
      x = r & 0x200 ? in.price_increment * pow(10, -(double)(next_random(&s) % 300))
                    : in.price_increment * pow(2, 47 + (double)(next_random(&s) % 30));
      break;
    default: /* a sizing quotient */
      x = (double)(next_random(&s) % 100000u) / (double)(next_random(&s) % 999u + 1);
      break;
    }
    if (r & 0x100)
      x = -x;
    for (unsigned dir = 0; dir <= TACK_ROUND_UP; dir++) {
      int64_t want = -7, got = -7;
      int want_rc = old_to_grid(g.tick, x, dir, &want);
      int rc = tack_rounding_price(&g, x, dir, &got);
      if (rc != want_rc || got != want)
        fail_msg("inc %.17g x %.17g dir %u: %d %lld, want %d %lld", in.price_increment, x, dir, rc,
                 (long long)got, want_rc, (long long)want);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decimal_from_double),
      cmocka_unit_test(test_decimal_format),
      cmocka_unit_test(test_btc_usd_prices),
      cmocka_unit_test(test_btc_usd_sizes_and_text),
      cmocka_unit_test(test_deribit_perpetual),
      cmocka_unit_test(test_orders_and_minimums),
      cmocka_unit_test(test_init_refusals),
      cmocka_unit_test(test_grid_round_trip),
      cmocka_unit_test(test_shortest_matches_old),
      cmocka_unit_test(test_decimal_double_matches_strtod),
      cmocka_unit_test(test_grid_matches_old),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
