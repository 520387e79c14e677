/*
 * rounding.h: the one place where prices and quantities become exact. A
 * double from a plugin is turned into a whole number of the instrument's
 * increments (price ticks, size lots) with a rounding direction the caller
 * chooses, and counts of increments are printed back as exact decimal text.
 *
 * Decimals
 * --------
 * Increments are decimal numbers (0.01, 0.00000001, 0.5, 10). A double cannot
 * hold most of them exactly, so every double is read as the shortest decimal
 * that converts back to the same double (what "%.17g" would print if it knew
 * when to stop): 0.01 is read as 1 x 10^-2, not as 0.01000000000000000020816.
 * All arithmetic after that is on integers. Putting a double on a grid
 * usually needs no decimal at all: its quotient by the increment, in
 * doubles, decides unless it lies within a few ulps of a boundary, and only
 * then is the decimal read (rounding.c says why that is exact).
 *
 * Grid snapping
 * -------------
 * A value that is within TACK_ROUNDING_SNAP_ULPS units in the last place of a
 * grid point is that grid point, whatever the direction: 0.1 + 0.2 is
 * 0.30000000000000004 and must not round up to 0.31 on a 0.01 grid. Values
 * are limited to TACK_ROUNDING_MAX_COUNT increments so that the snap window
 * is always narrower than a quarter of an increment.
 *
 * Which direction
 * ---------------
 * An order quantity rounds toward zero, so the host never sends more than a
 * plugin asked for. A buy limit price rounds down and a sell limit price up,
 * so the order is never more aggressive than asked. Marks and fills use
 * nearest (ties away from zero). tack_rounding_order() applies these rules.
 *
 * Threads: every function is pure and may be called from any thread.
 */
#ifndef TACK_ROUNDING_H
#define TACK_ROUNDING_H

#include <stddef.h>
#include <stdint.h>

#include "tack.h"

/* Rounding directions. */
#define TACK_ROUND_NEAREST 0u     /* nearest grid point; ties away from zero */
#define TACK_ROUND_TOWARD_ZERO 1u /* truncate: |result| <= |value| */
#define TACK_ROUND_DOWN 2u        /* toward -infinity */
#define TACK_ROUND_UP 3u          /* toward +infinity */

/* The most decimals an increment (or a value printed on it) may have. */
#define TACK_DECIMAL_MAX_SCALE 18

/* Largest count of increments a price or size may round to (2^48, about
 * 2.8e14): beyond it a double no longer separates neighbouring grid points
 * safely. 2.8 million BTC in 1e-8 lots; 2.8e12 USD in 0.01 ticks. */
#define TACK_ROUNDING_MAX_COUNT (INT64_C(1) << 48)

/* How close (in units in the last place) a double must be to a grid point
 * to be taken as that grid point. */
#define TACK_ROUNDING_SNAP_ULPS 4

/* An exact decimal: units x 10^-scale, 0 <= scale <= TACK_DECIMAL_MAX_SCALE,
 * with no trailing zero in units when scale > 0 (0.50 is {5, 1}). */
typedef struct tack_decimal {
  int64_t units;
  int32_t scale;
} tack_decimal;

/* The shortest decimal that reads back as x. TACK_EINVAL when x is not
 * finite; TACK_ERANGE when it needs more than TACK_DECIMAL_MAX_SCALE decimals
 * or does not fit in int64 units (|x| >= about 9.2e18). */
int tack_decimal_from_double(double x, tack_decimal *out);

/* Exact text of units x 10^-scale with exactly `scale` decimals ("-0.50" for
 * {-50, 2}). Returns the length, or TACK_ENOSPC when cap was too small (buf
 * then holds a truncated, terminated prefix), TACK_EINVAL for a scale outside
 * [0, 38]. */
int tack_decimal_format(int64_t units, int32_t scale, char *buf, size_t cap);

/* A 128-bit integer for sums of products of counts (the ledger's money).
 * GCC and Clang provide it on every 64-bit target tack supports. */
__extension__ typedef __int128 tack_wide;

/* tack_decimal_format() for a tack_wide. */
int tack_decimal_format_wide(tack_wide units, int32_t scale, char *buf, size_t cap);

/* An instrument's increments, read exactly. Filled by tack_rounding_init()
 * and then read-only; the caller owns it (no allocation). */
typedef struct tack_rounding {
  tack_decimal tick;          /* price_increment, > 0 */
  tack_decimal lot;           /* size_increment, > 0 */
  tack_decimal min_size;      /* >= 0 */
  tack_decimal min_notional;  /* >= 0, quote currency */
  tack_decimal contract_size; /* > 0; an instrument's 0 reads as 1 */
  uint32_t inverse;           /* TACK_INSTR_INVERSE: sizes are quote amounts */
} tack_rounding;

/* Reads instr's increments. TACK_EINVAL when an increment is not a positive
 * finite number or a minimum is negative; TACK_ERANGE when one has more than
 * TACK_DECIMAL_MAX_SCALE decimals. */
int tack_rounding_init(tack_rounding *r, const tack_instrument *instr);

/* price as a whole number of ticks, rounded in direction dir. TACK_EINVAL for
 * a non-finite price or an unknown dir, TACK_ERANGE beyond
 * TACK_ROUNDING_MAX_COUNT ticks. Negative prices are allowed (spreads). */
int tack_rounding_price(const tack_rounding *r, double price, unsigned dir, int64_t *ticks);

/* quantity as a whole number of lots, like tack_rounding_price(). */
int tack_rounding_size(const tack_rounding *r, double quantity, unsigned dir, int64_t *lots);

/* Refuses (TACK_ERANGE) lots (> 0) below min_size, or a notional at ticks
 * below min_notional. The notional is lots x lot x price x contract_size, or
 * for an inverse instrument the size itself (it is already in quote). */
int tack_rounding_check_minimums(const tack_rounding *r, int64_t lots, int64_t ticks);

/* An order as the venue will see it: quantity (> 0) toward zero, price down
 * for a buy and up for a sell (side TACK_SIDE_*), then the minimums checked.
 * TACK_ERANGE when the quantity rounds to zero or below a minimum,
 * TACK_EINVAL for a bad side or a quantity <= 0. */
int tack_rounding_order(const tack_rounding *r, uint32_t side, double quantity, double price,
                        int64_t *lots, int64_t *ticks);

/* Exact text of ticks x tick ("64123.45") and lots x lot ("0.00012300"),
 * with as many decimals as the increment has. Return as tack_decimal_format,
 * plus TACK_ERANGE when the product overflows int64. */
int tack_rounding_format_price(const tack_rounding *r, int64_t ticks, char *buf, size_t cap);
int tack_rounding_format_size(const tack_rounding *r, int64_t lots, char *buf, size_t cap);

/* The double nearest to units x 10^-scale (ties to even, as strtod of its
 * exact text), for 0 <= scale <= TACK_DECIMAL_MAX_SCALE; NaN for another
 * scale. Computed without text: cheap enough for every bar. */
double tack_decimal_double(tack_wide units, int32_t scale);

/* The double nearest to ticks x tick (lots x lot): correctly rounded, so that
 * 3 ticks of 0.1 give exactly the double 0.3. */
double tack_rounding_price_double(const tack_rounding *r, int64_t ticks);
double tack_rounding_size_double(const tack_rounding *r, int64_t lots);

#endif
