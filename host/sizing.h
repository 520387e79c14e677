/*
 * sizing.h: how a signal becomes a target position. A trader holds one
 * tack_sizing_state per symbol and asks tack_sizing_decide() what position it
 * should hold after each signal; the answer is in the instrument's size units
 * (a double the trader then rounds with rounding.h, toward zero).
 *
 * The policy (docs/trading.md, "Sizing"):
 *
 *   allocation   quote currency set aside for the symbol (budget). The
 *                target notional is allocation x fraction x |strength|,
 *                where strength is scaled only when scale_by_strength.
 *   fraction     initial_fraction for the first entry from flat; each
 *                further signal in the same direction as the position adds
 *                continuation_fraction, up to max_fraction:
 *                  fraction(n) = min(max_fraction,
 *                                    initial + (n - 1) x continuation)
 *                n counts the signals in the position's direction since it
 *                was opened (n = 1 at the entry).
 *   neutral      |strength| < min_strength is "no position": the target is
 *                flat (TACK_SIZING_NEUTRAL_FLAT, the SDK's meaning of 0) or
 *                the current position is kept (TACK_SIZING_NEUTRAL_HOLD).
 *   opposite     a signal against the position closes 100% of it; with
 *                TACK_SIZING_OPPOSITE_REVERSE the same signal then opens
 *                the new direction at initial_fraction (n = 1), with
 *                TACK_SIZING_OPPOSITE_FLAT it stops flat.
 *   tolerance    no order when |target - current| x price is below
 *                tolerance x allocation (tiny rebalances cost fees and
 *                nothing else). Closing to flat is never suppressed.
 *   shorts       a negative target on an instrument that cannot be shorted
 *                is clamped to 0 (the decision says so, once per state, so
 *                the trader logs it once).
 *
 * The edges, as decide() settles them:
 *
 *   - The state is first aligned with current exactly as
 *     tack_sizing_sync(st, current) would: a position the sizer did not
 *     open (adopted at start, or entries == 0 for any other reason) counts
 *     as one entry in its direction, a flat current resets the count, and
 *     a current against st->direction counts as one entry the new way. So a
 *     trader that forgot to sync still gets the answer it would have got.
 *   - Strength exactly 0 is always neutral, even with min_strength 0: the
 *     SDK defines 0 as "flat".
 *   - A signal in the position's direction counts (n + 1) whether or not it
 *     leads to an order. Its target is allocation x fraction(n + 1) x
 *     |strength| / price, which may lie below the position (a weaker
 *     signal, or the same notional at a higher price): action REDUCE. It
 *     is a signal for the position, so it never closes it; only neutral and
 *     opposite signals do.
 *   - A tolerance-suppressed entry from flat leaves the state flat (n stays
 *     0: nothing was opened); a suppressed ADD or REDUCE keeps n + 1.
 *   - A reverse is never suppressed as a whole: its close is a close to
 *     flat. When only its new leg (|target| x price) is below the tolerance
 *     it becomes a CLOSE with within_tolerance set, like an ENTER from flat
 *     would have been suppressed.
 *   - Any target below 0 on an instrument that cannot be shorted (a
 *     reverse from long, a short entry, a short position adopted there) is
 *     clamped to 0: from a position that is a CLOSE (so a reverse on spot
 *     only closes), from flat a HOLD; clamped_short is set and the state
 *     is flat. tell_clamp is set on the first clamp of a state only
 *     (short_clamp_told survives sync; zero the state to hear it again).
 *   - A decision whose target equals current is HOLD (no order).
 *
 * Pure functions on caller-owned structs; no allocation, no I/O.
 * Threads: any; a state belongs to one caller.
 */
#ifndef TACK_SIZING_H
#define TACK_SIZING_H

#include <stdint.h>

#define TACK_SIZING_OPPOSITE_FLAT 0u    /* close 100% and stay flat */
#define TACK_SIZING_OPPOSITE_REVERSE 1u /* close 100% and open the other way */

#define TACK_SIZING_NEUTRAL_FLAT 0u /* a weak or zero signal closes */
#define TACK_SIZING_NEUTRAL_HOLD 1u /* a weak or zero signal keeps the position */

typedef struct tack_sizing_policy {
  double allocation;            /* quote currency per symbol, > 0 */
  double initial_fraction;      /* (0, 1]: first entry, of the allocation */
  double continuation_fraction; /* [0, 1]: added per further signal */
  double max_fraction;          /* [initial_fraction, 1]: the cap */
  double min_strength;          /* [0, 1): below it a signal is neutral */
  double tolerance;             /* [0, 1): of the allocation */
  uint32_t opposite;            /* TACK_SIZING_OPPOSITE_* */
  uint32_t neutral;             /* TACK_SIZING_NEUTRAL_* */
  int scale_by_strength;        /* 1: target x |strength|; 0: full fraction */
} tack_sizing_policy;

/* Defaults: allocation 1000, initial 0.5, continuation 0.25, max 1, min
 * strength 0.05, tolerance 0.02, opposite FLAT, neutral FLAT, scaled. */
void tack_sizing_policy_default(tack_sizing_policy *p);

/* Checks every field against the ranges above (doubles finite;
 * scale_by_strength 0 or 1). Returns 0, or TACK_EINVAL with the offending
 * field's name in *field (static text, the field's name in the struct). */
int tack_sizing_policy_check(const tack_sizing_policy *p, const char **field);

/* What the sizer remembers per symbol between signals. Zero it to start;
 * tack_sizing_sync() after the position changes outside of decide()
 * (fills, adoption at start, a strategy switch). */
typedef struct tack_sizing_state {
  int32_t direction;    /* +1 long, -1 short, 0 flat: of the entries counted */
  uint32_t entries;     /* n above; 0 when flat */
  int short_clamp_told; /* the clamp was reported once already */
} tack_sizing_state;

/* Why decide() answered as it did. */
#define TACK_SIZING_HOLD 0u    /* no order: within tolerance, or neutral-hold */
#define TACK_SIZING_ENTER 1u   /* from flat into a position */
#define TACK_SIZING_ADD 2u     /* further in the same direction */
#define TACK_SIZING_REDUCE 3u  /* same direction, smaller */
#define TACK_SIZING_CLOSE 4u   /* to flat */
#define TACK_SIZING_REVERSE 5u /* through zero into the other direction */

typedef struct tack_sizing_decision {
  double target;        /* position to hold, signed, size units */
  double delta;         /* target - current; 0 for HOLD */
  uint32_t action;      /* TACK_SIZING_* above */
  double fraction;      /* fraction(n) of the state after the decision, 0 when flat */
  int clamped_short;    /* a short target was clamped to 0 */
  int tell_clamp;       /* first clamp for this state: log it */
  int within_tolerance; /* an order was suppressed by the tolerance */
} tack_sizing_decision;

/*
 * Decide the target after a signal of strength s (finite, [-1, +1]) with the
 * position at current (signed size units) and the price at price (> 0, the
 * quote value of one size unit). can_short: the instrument allows a negative
 * position. Updates *st to the state of the target (the trader calls it
 * exactly once per signal and acts on the answer). Returns 0, or TACK_EINVAL
 * for an invalid policy, an s outside [-1, +1] or not finite, a non-finite
 * current, or a price that is not finite and > 0; then *st and *out are
 * left untouched.
 */
int tack_sizing_decide(const tack_sizing_policy *p, tack_sizing_state *st, double s, double current,
                       double price, int can_short, tack_sizing_decision *out);

/* Align the state with a position that changed outside decide(): flat
 * (or NaN) resets entries; a position in a new direction counts as one
 * entry; the same direction keeps the count (at least 1). The clamp note
 * (short_clamp_told) is kept. */
void tack_sizing_sync(tack_sizing_state *st, double position);

#endif
