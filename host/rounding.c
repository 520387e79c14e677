/*
 * rounding.c: doubles to whole numbers of an instrument's increments and
 * back to exact decimal text. A double is read as its shortest decimal
 * (digits x 10^exp, found by printing it with 15, 16 and at most 17 digits
 * until strtod gives the same double back); from there on all work is on
 * 128-bit integers with explicit overflow checks.
 *
 * Two paths avoid text where it would cost most (marks on every bar, every
 * order and fill): a value is put on a grid from its quotient by the
 * increment in doubles whenever that quotient is far enough from the
 * boundary that decides the result to be certain, and exact decimals
 * become doubles by a correctly rounded division checked in integers.
 * Both give exactly what the text path gives (tests/test_rounding.c
 * compares them with it).
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

/* Powers of ten that doubles hold exactly (10^22 is the last one). */
static const double pow10_double[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int read_shortest(double x, shortest *out) {
  char buf[40];
  int prec;
  if (!isfinite(x))
    return TACK_EINVAL;
  out->digits = 0;
  out->exp10 = 0;
  if (x == 0.0)
    return 0;
  /* A decimal of at most 15 significant digits survives the trip to a
   * double and back to 15 digits (DBL_DIG), so if any such decimal reads
   * back as x, the 15-digit print is that decimal padded with zeros; if
   * none does, 16 digits may, and 17 always do. */
  for (prec = 15; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
    if (prec == 17 || strtod(buf, NULL) == x)
      break;
  }
  /* "%.*e" prints [-]d[.ddd]e(+|-)XX. */
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

__extension__ typedef unsigned __int128 uwide;

#define FRACTION_BITS 52
#define HIDDEN_BIT (UINT64_C(1) << FRACTION_BITS)

/* Sign of u - k x 2^shift, for k > 0. */
static int compare_pow2(uwide u, uwide k, int shift) {
  if (shift >= 0) {
    if (shift >= 128 || k > (~(uwide)0 >> shift))
      return -1; /* k x 2^shift is beyond any u */
    k <<= shift;
  } else {
    if (shift <= -128 || u > (~(uwide)0 >> -shift))
      return u != 0;
    u <<= -shift;
  }
  return u < k ? -1 : u > k;
}

double tack_decimal_double(tack_wide units, int32_t scale) {
  uwide u, ten;
  uint64_t bits, m;
  double c;
  if (scale < 0 || scale > TACK_DECIMAL_MAX_SCALE)
    return NAN;
  if (units == 0)
    return 0.0;
  u = units < 0 ? -(uwide)units : (uwide)units;
  /* Both operands exact: one correctly rounded division. */
  c = (double)u / pow10_double[scale];
  if (u > (uwide)1 << 53) {
    /* c is within two units in the last place of u / 10^scale: move it
     * until that value lies between the midpoints to its neighbours
     * (ties to even), compared exactly in integers. The value is at least
     * 10^-18 and below 2^128, so c and its neighbours are normal. */
    ten = (uint64_t)pow10_double[scale]; /* exact: 10^18 < 2^63 */
    for (;;) {
      memcpy(&bits, &c, sizeof bits);
      m = (bits & (HIDDEN_BIT - 1)) | HIDDEN_BIT;
      int e = (int)(bits >> FRACTION_BITS) - 1075; /* c = m x 2^e */
      int r = compare_pow2(u, (uwide)(2 * m + 1) * ten, e - 1);
      if (r > 0 || (r == 0 && (m & 1))) {
        bits++;
      } else {
        /* Below a power of two the neighbour is half as far. */
        r = m == HIDDEN_BIT ? compare_pow2(u, (uwide)(4 * m - 1) * ten, e - 2)
                            : compare_pow2(u, (uwide)(2 * m - 1) * ten, e - 1);
        if (!(r < 0 || (r == 0 && (m & 1))))
          break;
        bits--;
      }
      memcpy(&c, &bits, sizeof c);
    }
  }
  return units < 0 ? -c : c;
}

/* The double nearest to count x inc. The product is below 2^126, so it
 * fits. */
static double count_double(tack_decimal inc, int64_t count) {
  return tack_decimal_double((tack_wide)count * inc.units, inc.scale);
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

/* to_grid() decided from q = x / inc in doubles, without reading x's
 * shortest decimal; 1 when decided, 0 when the exact path must decide.
 *
 * Let t be the exact quotient of x's shortest decimal by inc. That decimal
 * is within half an ulp of x, inc's double two roundings from inc and the
 * division rounds once: four relative errors of at most 2^-53, so q is
 * within about |q| x 2^-51 of t; eps is twice that.
 * Counts stay far below TACK_ROUNDING_MAX_COUNT, so no range check is due.
 * - q is further than eps from its nearest integer n and from a half:
 *   floor(t) and the nearest integer to t follow from q, and the snap is
 *   checked as in the exact path.
 * - q is within eps of n: t is within 2 eps of n, so n is the nearest grid
 *   point, g its double. If x is within the snap of g the result is n.
 *   Otherwise x's decimal is not n x inc (that would read as g) and lies
 *   on the side of n x inc that x lies of g, since rounding to a double
 *   never reverses an order; the direction then picks n or its neighbour. */
static int to_grid_fast(tack_decimal inc, double x, unsigned dir, int64_t *count) {
  double q = x / ((double)inc.units / pow10_double[inc.scale]);
  if (!(fabs(x) >= 0x1p-900 && fabs(q) >= 0x1p-900 && fabs(q) < 0x1p47))
    return 0; /* also NaN and infinities */
  double eps = fabs(q) * 0x1p-50;
  double r = rint(q);
  double d = q - r; /* exact: |d| <= 0.5 */
  int64_t n = (int64_t)r, result = n;
  if (fabs(d) <= eps) {
    double g = count_double(inc, n);
    if (ulp_distance(x, g) > TACK_ROUNDING_SNAP_ULPS) {
      int above = x > g;
      switch (dir) {
      case TACK_ROUND_DOWN:
        result = above ? n : n - 1;
        break;
      case TACK_ROUND_UP:
        result = above ? n + 1 : n;
        break;
      case TACK_ROUND_TOWARD_ZERO:
        result = n > 0 ? (above ? n : n - 1) : n < 0 ? (above ? n + 1 : n) : 0;
        break;
      default:
        break;
      }
    }
  } else {
    if (fabs(d) >= 0.5 - eps)
      return 0;                        /* too close to a half */
    int64_t below = d > 0 ? n : n - 1; /* floor(t) */
    switch (dir) {
    case TACK_ROUND_DOWN:
      result = below;
      break;
    case TACK_ROUND_UP:
      result = below + 1;
      break;
    case TACK_ROUND_TOWARD_ZERO:
      result = x > 0 ? below : below + 1;
      break;
    default:
      break;
    }
    if (result != n && ulp_distance(x, count_double(inc, n)) <= TACK_ROUNDING_SNAP_ULPS)
      result = n;
  }
  *count = result;
  return 1;
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
  if (x == 0.0) {
    *count = 0;
    return 0;
  }
  if (to_grid_fast(inc, x, dir, count))
    return 0;
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
