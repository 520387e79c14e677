/*
 * rounding.c: doubles to whole numbers of an instrument's increments and
 * back to exact decimal text. Every double is first read as its shortest
 * decimal (digits x 10^exp, found by printing with growing precision until
 * strtod gives the same double back); from there on all work is on 128-bit
 * integers with explicit overflow checks.
 */
#include "rounding.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Digits of a double's shortest decimal: value = digits x 10^exp10, digits
 * without trailing zeros (17 significant digits at most, so it fits). */
typedef struct shortest {
  int64_t digits;
  int exp10;
} shortest;

static int read_shortest(double x, shortest *out) {
  char buf[40];
  int prec;
  if (!isfinite(x))
    return TACK_EINVAL;
  out->digits = 0;
  out->exp10 = 0;
  if (x == 0.0)
    return 0;
  for (prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
    if (strtod(buf, NULL) == x)
      break;
  }
  /* "%.*e" prints [-]d[.ddd]e(+|-)XX; 17 digits always read back. */
  const char *p = buf;
  int neg = 0;
  int64_t digits = 0;
  int ndec = 0;
  if (*p == '-') {
    neg = 1;
    p++;
  }
  digits = *p++ - '0';
  if (*p == '.') {
    for (p++; *p >= '0' && *p <= '9'; p++, ndec++)
      digits = digits * 10 + (*p - '0');
  }
  if (*p != 'e')
    return TACK_EINVAL;
  int exp10 = (int)strtol(p + 1, NULL, 10) - ndec;
  while (digits % 10 == 0) {
    digits /= 10;
    exp10++;
  }
  out->digits = neg ? -digits : digits;
  out->exp10 = exp10;
  return 0;
}

/* *v *= 10^k, refusing overflow. */
static int mul_pow10(tack_wide *v, int k) {
  for (; k > 0; k--) {
    if (__builtin_mul_overflow(*v, 10, v))
      return TACK_ERANGE;
  }
  return 0;
}

int tack_decimal_from_double(double x, tack_decimal *out) {
  shortest s;
  tack_wide units;
  int rc = read_shortest(x, &s);
  if (rc < 0)
    goto fail;
  units = s.digits;
  if (s.exp10 >= 0) {
    rc = mul_pow10(&units, s.exp10);
    if (rc < 0 || units > INT64_MAX || units < -INT64_MAX) {
      rc = TACK_ERANGE;
      goto fail;
    }
    out->units = (int64_t)units;
    out->scale = 0;
    return 0;
  }
  if (-s.exp10 > TACK_DECIMAL_MAX_SCALE) {
    rc = TACK_ERANGE;
    goto fail;
  }
  out->units = s.digits;
  out->scale = -s.exp10;
  return 0;
fail:
  return rc;
}

int tack_decimal_format_wide(tack_wide units, int32_t scale, char *buf, size_t cap) {
  /* 39 digits, a sign, a point and leading zeros up to scale 38. */
  char tmp[96];
  char *end = tmp + sizeof tmp;
  char *p = end;
  unsigned __int128 mag;
  int ndigits = 0;
  int rc;
  if (scale < 0 || scale > 38 || (cap > 0 && buf == NULL)) {
    rc = TACK_EINVAL;
    goto fail;
  }
  mag = units < 0 ? -(unsigned __int128)units : (unsigned __int128)units;
  do {
    *--p = (char)('0' + (int)(mag % 10));
    mag /= 10;
    ndigits++;
    if (ndigits == scale)
      *--p = '.';
  } while (mag != 0 || ndigits <= scale);
  if (units < 0)
    *--p = '-';
  rc = (int)(end - p);
  if (cap > 0) {
    size_t n = (size_t)rc < cap ? (size_t)rc : cap - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
  }
  if ((size_t)rc >= cap) {
    rc = TACK_ENOSPC;
    goto fail;
  }
  return rc;
fail:
  return rc;
}

int tack_decimal_format(int64_t units, int32_t scale, char *buf, size_t cap) {
  return tack_decimal_format_wide(units, scale, buf, cap);
}

/* Reads one increment or minimum; must_be_positive refuses 0. */
static int read_increment(double x, int must_be_positive, tack_decimal *out) {
  int rc;
  if (!isfinite(x) || x < 0 || (must_be_positive && x == 0)) {
    rc = TACK_EINVAL;
    goto fail;
  }
  rc = tack_decimal_from_double(x, out);
  if (rc < 0)
    goto fail;
  return 0;
fail:
  return rc;
}

int tack_rounding_init(tack_rounding *r, const tack_instrument *instr) {
  int rc;
  memset(r, 0, sizeof *r);
  rc = read_increment(instr->price_increment, 1, &r->tick);
  if (rc < 0)
    goto fail;
  rc = read_increment(instr->size_increment, 1, &r->lot);
  if (rc < 0)
    goto fail;
  rc = read_increment(instr->min_size, 0, &r->min_size);
  if (rc < 0)
    goto fail;
  rc = read_increment(instr->min_notional, 0, &r->min_notional);
  if (rc < 0)
    goto fail;
  rc = read_increment(instr->contract_size == 0 ? 1.0 : instr->contract_size, 1, &r->contract_size);
  if (rc < 0)
    goto fail;
  r->inverse = (instr->flags & TACK_INSTR_INVERSE) ? 1u : 0u;
  return 0;
fail:
  return rc;
}

/* Quotient of num / den (den > 0) rounded in direction dir. */
static tack_wide divide(tack_wide num, tack_wide den, unsigned dir) {
  tack_wide q = num / den;
  tack_wide rem = num % den; /* sign of num */
  tack_wide mag = rem < 0 ? -rem : rem;
  switch (dir) {
  case TACK_ROUND_DOWN:
    return rem < 0 ? q - 1 : q;
  case TACK_ROUND_UP:
    return rem > 0 ? q + 1 : q;
  case TACK_ROUND_NEAREST:
    /* 2|rem| >= den, written so that it cannot overflow. */
    if (rem != 0 && mag >= den - mag)
      return num < 0 ? q - 1 : q + 1;
    return q;
  default:
    return q;
  }
}

/* The double nearest to count x inc, through exact text and strtod. The
 * product is below 2^126, so it fits. */
static double count_double(tack_decimal inc, int64_t count) {
  char buf[96];
  tack_decimal_format_wide((tack_wide)count * inc.units, inc.scale, buf, sizeof buf);
  return strtod(buf, NULL);
}

/* Distance between two doubles of the same sign in units in the last place;
 * INT64_MAX when the signs differ (and they are not equal). */
static int64_t ulp_distance(double a, double b) {
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

/* x as a count of inc, rounded in direction dir, snapped to a grid point
 * within TACK_ROUNDING_SNAP_ULPS. */
static int to_grid(tack_decimal inc, double x, unsigned dir, int64_t *count) {
  shortest s;
  tack_wide num, den, nearest, result;
  int rc;
  if (dir > TACK_ROUND_UP) {
    rc = TACK_EINVAL;
    goto fail;
  }
  rc = read_shortest(x, &s);
  if (rc < 0)
    goto fail;
  /* count = digits x 10^(exp10 + scale) / units */
  int k = s.exp10 + inc.scale;
  num = s.digits;
  den = inc.units;
  if (k >= 0) {
    rc = mul_pow10(&num, k);
    if (rc < 0)
      goto fail; /* |x| / inc >= 2^127 / 2^63 */
  } else if (mul_pow10(&den, -k) < 0) {
    /* |x| < 10^17 x 10^k and 10^-k x inc overflowed: x is under a
     * billionth of an increment. It rounds as a tiny nonzero value. */
    num = s.digits < 0 ? -1 : (s.digits > 0 ? 1 : 0);
    den = (tack_wide)1 << 100;
  }
  nearest = divide(num, den, TACK_ROUND_NEAREST);
  result = divide(num, den, dir);
  if (nearest > TACK_ROUNDING_MAX_COUNT || nearest < -TACK_ROUNDING_MAX_COUNT ||
      result > TACK_ROUNDING_MAX_COUNT || result < -TACK_ROUNDING_MAX_COUNT) {
    rc = TACK_ERANGE;
    goto fail;
  }
  if (result != nearest &&
      ulp_distance(x, count_double(inc, (int64_t)nearest)) <= TACK_ROUNDING_SNAP_ULPS)
    result = nearest;
  *count = (int64_t)result;
  return 0;
fail:
  return rc;
}

int tack_rounding_price(const tack_rounding *r, double price, unsigned dir, int64_t *ticks) {
  return to_grid(r->tick, price, dir, ticks);
}

int tack_rounding_size(const tack_rounding *r, double quantity, unsigned dir, int64_t *lots) {
  return to_grid(r->lot, quantity, dir, lots);
}

/* Compares a x 10^-sa with b x 10^-sb, both >= 0: -1, 0 or 1. Scaling the
 * value with fewer decimals up may overflow; that value is then the larger,
 * since the other one fits. */
static int compare_scaled(tack_wide a, int sa, tack_wide b, int sb) {
  if (sa < sb) {
    if (mul_pow10(&a, sb - sa) < 0)
      return 1;
  } else if (sb < sa) {
    if (mul_pow10(&b, sa - sb) < 0)
      return -1;
  }
  return a < b ? -1 : (a > b ? 1 : 0);
}

int tack_rounding_check_minimums(const tack_rounding *r, int64_t lots, int64_t ticks) {
  tack_wide size, notional;
  int scale;
  int overflow = 0;
  size = (lots < 0 ? -(tack_wide)lots : (tack_wide)lots) * r->lot.units;
  if (lots == 0 || compare_scaled(size, r->lot.scale, r->min_size.units, r->min_size.scale) < 0)
    return TACK_ERANGE;
  if (r->inverse) {
    notional = size;
    scale = r->lot.scale;
  } else {
    overflow |=
        __builtin_mul_overflow(size, ticks < 0 ? -(tack_wide)ticks : (tack_wide)ticks, &notional);
    overflow |= __builtin_mul_overflow(notional, r->contract_size.units, &notional);
    scale = r->lot.scale + r->tick.scale + r->contract_size.scale;
  }
  /* An overflowing notional is above any int64 minimum. */
  if (!overflow &&
      compare_scaled(notional, scale, r->min_notional.units, r->min_notional.scale) < 0)
    return TACK_ERANGE;
  return 0;
}

int tack_rounding_order(const tack_rounding *r, uint32_t side, double quantity, double price,
                        int64_t *lots, int64_t *ticks) {
  int64_t l = 0, t = 0;
  int rc;
  if ((side != TACK_SIDE_BUY && side != TACK_SIDE_SELL) || !(quantity > 0)) {
    rc = TACK_EINVAL;
    goto fail;
  }
  rc = tack_rounding_size(r, quantity, TACK_ROUND_TOWARD_ZERO, &l);
  if (rc < 0)
    goto fail;
  rc = tack_rounding_price(r, price, side == TACK_SIDE_BUY ? TACK_ROUND_DOWN : TACK_ROUND_UP, &t);
  if (rc < 0)
    goto fail;
  rc = tack_rounding_check_minimums(r, l, t);
  if (rc < 0)
    goto fail;
  *lots = l;
  *ticks = t;
  return 0;
fail:
  return rc;
}

static int format_count(tack_decimal inc, int64_t count, char *buf, size_t cap) {
  tack_wide v;
  if (__builtin_mul_overflow((tack_wide)count, inc.units, &v) || v > INT64_MAX || v < -INT64_MAX) {
    if (cap > 0)
      buf[0] = '\0';
    return TACK_ERANGE;
  }
  return tack_decimal_format_wide(v, inc.scale, buf, cap);
}

int tack_rounding_format_price(const tack_rounding *r, int64_t ticks, char *buf, size_t cap) {
  return format_count(r->tick, ticks, buf, cap);
}

int tack_rounding_format_size(const tack_rounding *r, int64_t lots, char *buf, size_t cap) {
  return format_count(r->lot, lots, buf, cap);
}

double tack_rounding_price_double(const tack_rounding *r, int64_t ticks) {
  return count_double(r->tick, ticks);
}

double tack_rounding_size_double(const tack_rounding *r, int64_t lots) {
  return count_double(r->lot, lots);
}
