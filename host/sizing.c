/*
 * sizing.c: the sizing policy of sizing.h, turning a signal into the
 * position a trader should hold. Every input is checked before anything is
 * written; the state and the decision are then written once, at the end.
 */
#include "sizing.h"

#include <math.h>
#include <string.h>

#include "tack.h"

void tack_sizing_policy_default(tack_sizing_policy *p) {
  memset(p, 0, sizeof *p);
  p->allocation = 1000.0;
  p->initial_fraction = 0.5;
  p->continuation_fraction = 0.25;
  p->max_fraction = 1.0;
  p->min_strength = 0.05;
  p->tolerance = 0.02;
  p->opposite = TACK_SIZING_OPPOSITE_FLAT;
  p->neutral = TACK_SIZING_NEUTRAL_FLAT;
  p->scale_by_strength = 1;
}

/* lo <= x <= hi (or < hi when open_hi), and finite. */
static int in_range(double x, double lo, double hi, int open_hi) {
  return isfinite(x) && x >= lo && (open_hi ? x < hi : x <= hi);
}

int tack_sizing_policy_check(const tack_sizing_policy *p, const char **field) {
  const char *bad = NULL;
  if (!(isfinite(p->allocation) && p->allocation > 0))
    bad = "allocation";
  else if (!(in_range(p->initial_fraction, 0, 1, 0) && p->initial_fraction > 0))
    bad = "initial_fraction";
  else if (!in_range(p->continuation_fraction, 0, 1, 0))
    bad = "continuation_fraction";
  else if (!in_range(p->max_fraction, p->initial_fraction, 1, 0))
    bad = "max_fraction";
  else if (!in_range(p->min_strength, 0, 1, 1))
    bad = "min_strength";
  else if (!in_range(p->tolerance, 0, 1, 1))
    bad = "tolerance";
  else if (p->opposite != TACK_SIZING_OPPOSITE_FLAT && p->opposite != TACK_SIZING_OPPOSITE_REVERSE)
    bad = "opposite";
  else if (p->neutral != TACK_SIZING_NEUTRAL_FLAT && p->neutral != TACK_SIZING_NEUTRAL_HOLD)
    bad = "neutral";
  else if (p->scale_by_strength != 0 && p->scale_by_strength != 1)
    bad = "scale_by_strength";
  if (field)
    *field = bad;
  return bad ? TACK_EINVAL : 0;
}

static int32_t sign_of(double x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }

void tack_sizing_sync(tack_sizing_state *st, double position) {
  int32_t dir = sign_of(position);
  if (dir == 0) {
    st->direction = 0;
    st->entries = 0;
  } else if (dir != st->direction) {
    st->direction = dir;
    st->entries = 1;
  } else if (st->entries == 0) {
    st->entries = 1;
  }
}

/* fraction(n) of sizing.h; 0 for n == 0 (flat). */
static double fraction_of(const tack_sizing_policy *p, uint32_t n) {
  if (n == 0)
    return 0;
  double f = p->initial_fraction + (double)(n - 1) * p->continuation_fraction;
  return f < p->max_fraction ? f : p->max_fraction;
}

/* |target| in size units for entry n of a signal of strength s. */
static double size_of(const tack_sizing_policy *p, uint32_t n, double s, double price) {
  double notional = p->allocation * fraction_of(p, n);
  if (p->scale_by_strength)
    notional *= fabs(s);
  return notional / price;
}

static uint32_t action_of(double current, double target) {
  if (target == current)
    return TACK_SIZING_HOLD;
  if (target == 0)
    return TACK_SIZING_CLOSE;
  if (current == 0)
    return TACK_SIZING_ENTER;
  if (sign_of(target) != sign_of(current))
    return TACK_SIZING_REVERSE;
  return fabs(target) > fabs(current) ? TACK_SIZING_ADD : TACK_SIZING_REDUCE;
}

int tack_sizing_decide(const tack_sizing_policy *p, tack_sizing_state *st, double s, double current,
                       double price, int can_short, tack_sizing_decision *out) {
  if (tack_sizing_policy_check(p, NULL) < 0 || !isfinite(s) || s < -1 || s > 1 ||
      !isfinite(current) || !isfinite(price) || price <= 0)
    return TACK_EINVAL;

  tack_sizing_state now = *st; /* the state before this signal, aligned */
  tack_sizing_sync(&now, current);
  tack_sizing_state next = now; /* the state of the target */
  tack_sizing_decision d;
  memset(&d, 0, sizeof d);
  int32_t want = sign_of(s);
  double target;

  if (want == 0 || fabs(s) < p->min_strength) {
    if (p->neutral == TACK_SIZING_NEUTRAL_HOLD) {
      target = current;
    } else {
      target = 0;
      next.direction = 0;
      next.entries = 0;
    }
  } else if (now.direction == 0 || want == now.direction) {
    uint32_t n = now.entries < UINT32_MAX ? now.entries + 1 : UINT32_MAX;
    target = want * size_of(p, n, s, price);
    next.direction = want;
    next.entries = n;
  } else if (p->opposite == TACK_SIZING_OPPOSITE_REVERSE) {
    target = want * size_of(p, 1, s, price);
    next.direction = want;
    next.entries = 1;
  } else {
    target = 0;
    next.direction = 0;
    next.entries = 0;
  }

  if (target < 0 && !can_short) {
    target = 0;
    next.direction = 0;
    next.entries = 0;
    d.clamped_short = 1;
    d.tell_clamp = !next.short_clamp_told;
    next.short_clamp_told = 1;
  }

  d.action = action_of(current, target);
  double floor_quote = p->tolerance * p->allocation;
  switch (d.action) {
  case TACK_SIZING_ENTER:
  case TACK_SIZING_ADD:
  case TACK_SIZING_REDUCE:
    if (fabs(target - current) * price < floor_quote) {
      d.within_tolerance = 1;
      d.action = TACK_SIZING_HOLD;
      target = current;
      if (current == 0) {
        next.direction = 0;
        next.entries = 0;
      }
    }
    break;
  case TACK_SIZING_REVERSE:
    if (fabs(target) * price < floor_quote) {
      d.within_tolerance = 1;
      d.action = TACK_SIZING_CLOSE;
      target = 0;
      next.direction = 0;
      next.entries = 0;
    }
    break;
  default:
    break;
  }

  d.target = target;
  d.delta = d.action == TACK_SIZING_HOLD ? 0 : target - current;
  d.fraction = fraction_of(p, next.entries);
  *st = next;
  *out = d;
  return 0;
}
