/*
 * ledger.c: positions, cost, realized P&L, fees and cash in integers, and
 * the check that they reconcile. Every call validates and computes into
 * locals first and writes the ledger only when nothing can fail any more,
 * so a refused fill or mark leaves the ledger exactly as it was.
 *
 * What a trader reads on every bar is kept ready: each symbol's position
 * and average entry as doubles (recomputed from the exact values on every
 * fill), and the exact sum of the positions at mark (moved by every fill
 * and mark), so that neither a mark nor the equity walks the symbols or
 * goes through text.
 */
#include "ledger.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

/* The increments an instrument came with, as given: the same doubles read
 * as the same grid, so a fill need not read them again. */
typedef struct increments {
  double tick, lot, min_size, min_notional, contract_size;
} increments;

typedef struct entry {
  char symbol[TACK_SYMBOL_MAX];
  tack_rounding grid;
  increments given; /* of the last instrument whose grid matched */
  tack_money unit;
  uint32_t can_short;
  int64_t lots;
  int64_t mark_ticks;
  tack_money cost;
  tack_money realized;
  tack_money fees;
  tack_money value; /* lots x mark x unit, when the ledger's positions_ok */
  uint64_t fills;
  tack_time ts;
  /* The nearest doubles, as of the last fill. */
  double quantity;
  double avg_price;
  double realized_double;
} entry;

struct tack_ledger {
  char quote[TACK_CURRENCY_MAX];
  tack_money starting;
  tack_money cash;
  /* The sum of every entry's value, while no value or sum overflowed;
   * tack_ledger_equity() sums afresh once one has. */
  tack_money positions;
  int positions_ok;
  entry *entries;
  size_t n;
  size_t cap;
  char error[256];
};

static int refuse(tack_ledger *l, int rc, const char *fmt, ...) TACK_PRINTF(3, 4);

static int refuse(tack_ledger *l, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(l->error, sizeof l->error, fmt, ap);
  va_end(ap);
  return rc;
}

/* Checked arithmetic: each returns nonzero on overflow. */
static int add(tack_money a, tack_money b, tack_money *out) {
  return __builtin_add_overflow(a, b, out);
}

static int sub(tack_money a, tack_money b, tack_money *out) {
  return __builtin_sub_overflow(a, b, out);
}

static int mul(tack_money a, tack_money b, tack_money *out) {
  return __builtin_mul_overflow(a, b, out);
}

/* lots x ticks x unit. */
static int notional(int64_t lots, int64_t ticks, tack_money unit, tack_money *out) {
  tack_money v;
  return mul((tack_money)lots, ticks, &v) || mul(v, unit, out);
}

/* A decimal as money; TACK_ERANGE when it has more than 18 decimals. */
static int money_from_decimal(tack_decimal d, tack_money *out) {
  tack_money v = d.units;
  for (int k = d.scale; k < TACK_LEDGER_SCALE; k++) {
    if (mul(v, 10, &v))
      return TACK_ERANGE;
  }
  *out = v;
  return 0;
}

static int money_from_double(double x, tack_money *out) {
  tack_decimal d;
  int rc = tack_decimal_from_double(x, &d);
  if (rc < 0)
    return rc;
  return money_from_decimal(d, out);
}

int tack_money_format(tack_money m, char *buf, size_t cap) {
  char tmp[96];
  int len = tack_decimal_format_wide(m, TACK_LEDGER_SCALE, tmp, sizeof tmp);
  if (len < 0)
    return len;
  while (tmp[len - 1] == '0')
    len--;
  if (tmp[len - 1] == '.')
    len--;
  tmp[len] = '\0';
  if (cap > 0)
    snprintf(buf, cap, "%s", tmp);
  return (size_t)len < cap ? len : TACK_ENOSPC;
}

double tack_money_double(tack_money m) { return tack_decimal_double(m, TACK_LEDGER_SCALE); }

int tack_ledger_new(const char *quote, double starting_equity, tack_ledger **out) {
  tack_ledger *l = NULL;
  tack_money start = 0;
  int rc;
  *out = NULL;
  if (quote == NULL || quote[0] == '\0' || strlen(quote) >= TACK_CURRENCY_MAX) {
    rc = TACK_EINVAL;
    goto fail;
  }
  rc = money_from_double(starting_equity, &start);
  if (rc < 0)
    goto fail;
  l = tack_calloc(NULL, 1, sizeof *l);
  if (l == NULL) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  snprintf(l->quote, sizeof l->quote, "%s", quote);
  l->starting = start;
  l->cash = start;
  l->positions_ok = 1;
  *out = l;
  return 0;
fail:
  return rc;
}

void tack_ledger_free(tack_ledger *l) {
  if (l == NULL)
    return;
  tack_free(NULL, l->entries);
  tack_free(NULL, l);
}

const char *tack_ledger_error(const tack_ledger *l) { return l->error; }

static entry *find(const tack_ledger *l, const char *symbol) {
  for (size_t i = 0; i < l->n; i++) {
    if (strcmp(l->entries[i].symbol, symbol) == 0)
      return &l->entries[i];
  }
  return NULL;
}

static int same_decimal(tack_decimal a, tack_decimal b) {
  return a.units == b.units && a.scale == b.scale;
}

static int same_grid(const tack_rounding *a, const tack_rounding *b) {
  return same_decimal(a->tick, b->tick) && same_decimal(a->lot, b->lot) &&
         same_decimal(a->contract_size, b->contract_size);
}

static increments increments_of(const tack_instrument *instr) {
  increments g = {instr->price_increment, instr->size_increment, instr->min_size,
                  instr->min_notional, instr->contract_size};
  return g;
}

static int same_increments(const increments *a, const increments *b) {
  return a->tick == b->tick && a->lot == b->lot && a->min_size == b->min_size &&
         a->min_notional == b->min_notional && a->contract_size == b->contract_size;
}

/* The money of one lot moving one tick: lot x tick x contract_size. */
static int unit_money(const tack_rounding *g, tack_money *out) {
  int scale = g->lot.scale + g->tick.scale + g->contract_size.scale;
  tack_money v;
  if (scale > TACK_LEDGER_SCALE || mul(g->lot.units, g->tick.units, &v) ||
      mul(v, g->contract_size.units, &v))
    return TACK_ERANGE;
  for (; scale < TACK_LEDGER_SCALE; scale++) {
    if (mul(v, 10, &v))
      return TACK_ERANGE;
  }
  *out = v;
  return 0;
}

/* x as a count of inc that must be exact (up to the snap of rounding.h). */
static int on_grid(int (*round)(const tack_rounding *, double, unsigned, int64_t *),
                   const tack_rounding *g, double x, int64_t *count) {
  int64_t down = 0, up = 0;
  int rc = round(g, x, TACK_ROUND_DOWN, &down);
  if (rc == 0)
    rc = round(g, x, TACK_ROUND_UP, &up);
  if (rc == 0 && down != up)
    rc = TACK_EINVAL;
  *count = down;
  return rc;
}

/* round(cost x k / n) for 0 < k <= n, ties away from zero, without
 * overflowing: cost = q x n + r with |r| < n. */
static int cost_share(tack_money cost, int64_t k, int64_t n, tack_money *out) {
  tack_money q = cost / n, r = cost % n, whole, part, rem, mag;
  if (mul(q, k, &whole))
    return TACK_ERANGE;
  part = r * k / n; /* |r x k| < n^2 < 2^126 */
  rem = r * k % n;
  mag = rem < 0 ? -rem : rem;
  if (rem != 0 && mag >= n - mag)
    part += rem < 0 ? -1 : 1;
  *out = whole + part;
  return 0;
}

/* The new state of one symbol and of cash after a fill; nothing written. */
static int book(tack_ledger *l, const entry *old, int64_t delta, int64_t ticks, tack_money fee,
                entry *e, tack_money *cash) {
  tack_money flow, closing_flow, share, opening;
  int64_t closed, remaining;
  *e = *old;
  if (__builtin_add_overflow(old->lots, delta, &e->lots) || e->lots > TACK_ROUNDING_MAX_COUNT ||
      e->lots < -TACK_ROUNDING_MAX_COUNT)
    return refuse(l, TACK_ERANGE, "%s: position would exceed %lld lots", old->symbol,
                  (long long)TACK_ROUNDING_MAX_COUNT);
  if (e->lots < 0 && !old->can_short)
    return refuse(l, TACK_EPERM,
                  "%s: the fill would leave a short position of %lld lots and the instrument "
                  "does not allow shorts (TACK_INSTR_CAN_SHORT)",
                  old->symbol, (long long)-e->lots);
  if (notional(delta, ticks, old->unit, &flow) || sub(*cash, fee, cash) || sub(*cash, flow, cash) ||
      add(e->fees, fee, &e->fees))
    goto overflow;
  if (old->lots == 0 || (old->lots > 0) == (delta > 0)) {
    if (add(e->cost, flow, &e->cost))
      goto overflow;
    return 0;
  }
  /* Reducing, maybe through zero: close min(|delta|, |old|) first. */
  closed = delta < 0 ? -delta : delta;
  if (closed > (old->lots < 0 ? -old->lots : old->lots))
    closed = old->lots < 0 ? -old->lots : old->lots;
  remaining = delta + (delta < 0 ? closed : -closed);
  if (cost_share(old->cost, closed, old->lots < 0 ? -old->lots : old->lots, &share) < 0)
    goto overflow;
  if (notional(delta < 0 ? -closed : closed, ticks, old->unit, &closing_flow) ||
      sub(e->realized, closing_flow, &e->realized) || sub(e->realized, share, &e->realized) ||
      sub(e->cost, share, &e->cost))
    goto overflow;
  if (remaining != 0) {
    if (notional(remaining, ticks, old->unit, &opening) || add(e->cost, opening, &e->cost))
      goto overflow;
  }
  return 0;
overflow:
  return refuse(l, TACK_ERANGE, "%s: money would overflow 128 bits", old->symbol);
}

/* The doubles of e's exact values that change with fills. */
static void keep_doubles(entry *e) {
  e->quantity = tack_rounding_size_double(&e->grid, e->lots);
  /* cost is in quote, and one unit of size is contract_size units of base. */
  e->avg_price = e->lots == 0
                     ? 0
                     : tack_money_double(e->cost) /
                           (e->quantity * tack_decimal_double(e->grid.contract_size.units,
                                                              e->grid.contract_size.scale));
  e->realized_double = tack_money_double(e->realized);
}

int tack_ledger_apply_fill(tack_ledger *l, const tack_instrument *instr, const tack_fill *fill) {
  entry fresh, next, *e;
  tack_money fee = 0, cash = l->cash, value = 0, positions = l->positions;
  int64_t lots = 0, ticks = 0;
  int positions_ok = l->positions_ok;
  increments given = increments_of(instr);
  int rc;
  l->error[0] = '\0';
  if (strcmp(fill->symbol, instr->symbol) != 0)
    return refuse(l, TACK_EINVAL, "fill for %s came with the instrument of %s", fill->symbol,
                  instr->symbol);
  if (instr->flags & TACK_INSTR_INVERSE)
    return refuse(l, TACK_ENOTSUP, "%s: inverse instruments are not supported by the ledger",
                  instr->symbol);
  if (strcmp(instr->quote, l->quote) != 0)
    return refuse(l, TACK_EINVAL, "%s is quoted in %s, the ledger in %s", instr->symbol,
                  instr->quote, l->quote);
  if (fill->fee_currency[0] != '\0' && strcmp(fill->fee_currency, l->quote) != 0)
    return refuse(l, TACK_ENOTSUP,
                  "%s trade %s: fee in %s; only fees in the quote currency %s are supported",
                  fill->symbol, fill->trade_id, fill->fee_currency, l->quote);
  if (fill->side != TACK_SIDE_BUY && fill->side != TACK_SIDE_SELL)
    return refuse(l, TACK_EINVAL, "%s trade %s: side %u is neither buy nor sell", fill->symbol,
                  fill->trade_id, (unsigned)fill->side);
  e = find(l, fill->symbol);
  if (e == NULL) {
    memset(&fresh, 0, sizeof fresh);
    snprintf(fresh.symbol, sizeof fresh.symbol, "%s", instr->symbol);
    rc = tack_rounding_init(&fresh.grid, instr);
    if (rc < 0)
      return refuse(l, rc, "%s: bad increments (%s)", instr->symbol, tack_strerror(rc));
    rc = unit_money(&fresh.grid, &fresh.unit);
    if (rc < 0)
      return refuse(l, rc, "%s: lot x tick x contract size needs more than %d decimals",
                    instr->symbol, TACK_LEDGER_SCALE);
    fresh.can_short = (instr->flags & TACK_INSTR_CAN_SHORT) ? 1u : 0u;
    fresh.given = given;
  } else {
    fresh = *e;
    if (!same_increments(&given, &e->given)) {
      tack_rounding g;
      rc = tack_rounding_init(&g, instr);
      if (rc < 0 || !same_grid(&g, &e->grid))
        return refuse(l, TACK_EINVAL, "%s: increments changed since the first fill", instr->symbol);
      fresh.given = given;
    }
  }
  rc = on_grid(tack_rounding_size, &fresh.grid, fill->quantity, &lots);
  if (rc < 0 || lots <= 0)
    return refuse(l, rc < 0 ? rc : TACK_EINVAL,
                  "%s trade %s: quantity %.17g is not a positive multiple of the lot size",
                  fill->symbol, fill->trade_id, fill->quantity);
  rc = on_grid(tack_rounding_price, &fresh.grid, fill->price, &ticks);
  if (rc < 0)
    return refuse(l, rc, "%s trade %s: price %.17g is not a multiple of the tick", fill->symbol,
                  fill->trade_id, fill->price);
  rc = money_from_double(fill->fee, &fee);
  if (rc < 0)
    return refuse(l, rc, "%s trade %s: fee %.17g has more than %d decimals or is too large",
                  fill->symbol, fill->trade_id, fill->fee, TACK_LEDGER_SCALE);
  rc = book(l, &fresh, fill->side == TACK_SIDE_BUY ? lots : -lots, ticks, fee, &next, &cash);
  if (rc < 0)
    return rc;
  next.mark_ticks = ticks;
  next.fills++;
  next.ts = fill->ts;
  keep_doubles(&next);
  /* An overflow here refuses nothing (the totals report it); the sum is
   * then made afresh when asked for. */
  if (positions_ok &&
      (notional(next.lots, ticks, next.unit, &value) ||
       sub(positions, e ? e->value : 0, &positions) || add(positions, value, &positions)))
    positions_ok = 0;
  next.value = value;
  if (e == NULL) {
    if (l->n == l->cap) {
      size_t cap = l->cap ? 2 * l->cap : 8;
      entry *grown = tack_realloc(NULL, l->entries, cap * sizeof *grown);
      if (grown == NULL)
        return refuse(l, TACK_ENOMEM, "%s: out of memory", fill->symbol);
      l->entries = grown;
      l->cap = cap;
    }
    e = &l->entries[l->n++];
  }
  *e = next;
  l->cash = cash;
  l->positions = positions;
  l->positions_ok = positions_ok;
  return 0;
}

int tack_ledger_deposit(tack_ledger *l, double amount) {
  tack_money m = 0, starting, cash;
  int rc = money_from_double(amount, &m);
  l->error[0] = '\0';
  if (rc < 0)
    return refuse(l, rc, "deposit %.17g: more than %d decimals, too large or not finite", amount,
                  TACK_LEDGER_SCALE);
  if (add(l->starting, m, &starting) || add(l->cash, m, &cash))
    return refuse(l, TACK_ERANGE, "deposit %.17g: money would overflow 128 bits", amount);
  l->starting = starting;
  l->cash = cash;
  return 0;
}

int tack_ledger_adopt(tack_ledger *l, const tack_instrument *instr, const tack_fill *fill) {
  tack_money before = l->cash, starting = l->starting, moved;
  if (fill->fee != 0.0)
    return refuse(l, TACK_EINVAL, "%s adoption %s: an adopted position carries no fee",
                  fill->symbol, fill->trade_id);
  int rc = tack_ledger_apply_fill(l, instr, fill);
  if (rc < 0)
    return rc;
  /* The fill moved cash by -(q x p); the position arrived from outside, so
   * that value is added to what the account started with instead. */
  if (sub(before, l->cash, &moved) || add(starting, moved, &starting))
    return refuse(l, TACK_ERANGE, "%s adoption: money would overflow 128 bits", fill->symbol);
  l->starting = starting;
  l->cash = before;
  return 0;
}

int tack_ledger_mark(tack_ledger *l, const char *symbol, double price) {
  entry *e = find(l, symbol);
  int64_t ticks = 0;
  tack_money v;
  int rc;
  l->error[0] = '\0';
  if (e == NULL)
    return refuse(l, TACK_ENOENT, "%s: no fill yet, nothing to mark", symbol);
  rc = tack_rounding_price(&e->grid, price, TACK_ROUND_NEAREST, &ticks);
  if (rc < 0)
    return refuse(l, rc, "%s: mark %.17g: %s", symbol, price, tack_strerror(rc));
  if (notional(e->lots, ticks, e->unit, &v))
    return refuse(l, TACK_ERANGE, "%s: position at mark %.17g overflows", symbol, price);
  if (l->positions_ok) {
    tack_money positions;
    if (sub(l->positions, e->value, &positions) || add(positions, v, &positions)) {
      l->positions_ok = 0;
    } else {
      l->positions = positions;
      e->value = v;
    }
  }
  e->mark_ticks = ticks;
  return 0;
}

/* Fills out from e; nonzero on overflow. */
static int snapshot(const entry *e, tack_ledger_symbol *out) {
  tack_money value;
  memset(out, 0, sizeof *out);
  out->lots = e->lots;
  out->mark_ticks = e->mark_ticks;
  out->unit = e->unit;
  out->cost = e->cost;
  out->realized = e->realized;
  out->fees = e->fees;
  out->fills = e->fills;
  out->grid = e->grid;
  return notional(e->lots, e->mark_ticks, e->unit, &value) || sub(value, e->cost, &out->unrealized);
}

int tack_ledger_get_symbol(const tack_ledger *l, const char *symbol, tack_ledger_symbol *out) {
  const entry *e = find(l, symbol);
  if (e == NULL)
    return TACK_ENOENT;
  return snapshot(e, out) ? TACK_ERANGE : 0;
}

int tack_ledger_position(const tack_ledger *l, const char *symbol, tack_position *out) {
  const entry *e = find(l, symbol);
  tack_money value, unrealized;
  if (e == NULL)
    return TACK_ENOENT;
  if (notional(e->lots, e->mark_ticks, e->unit, &value) || sub(value, e->cost, &unrealized))
    return TACK_ERANGE;
  memset(out, 0, sizeof *out);
  tack_copy_text(out->symbol, sizeof out->symbol, e->symbol);
  out->ts = e->ts;
  out->quantity = e->quantity;
  out->avg_price = e->avg_price;
  out->mark_price = tack_rounding_price_double(&e->grid, e->mark_ticks);
  out->unrealized_pnl = tack_money_double(unrealized);
  out->realized_pnl = e->realized_double;
  return 0;
}

int tack_ledger_quantity(const tack_ledger *l, const char *symbol, double *quantity,
                         double *avg_price) {
  const entry *e = find(l, symbol);
  *quantity = e ? e->quantity : 0;
  if (avg_price)
    *avg_price = e ? e->avg_price : 0;
  return e ? 0 : TACK_ENOENT;
}

int tack_ledger_equity(const tack_ledger *l, tack_money *out) {
  tack_ledger_totals t;
  if (l->positions_ok)
    return add(l->cash, l->positions, out) ? TACK_ERANGE : 0;
  if (tack_ledger_get_totals(l, &t) < 0)
    return TACK_ERANGE;
  *out = t.equity;
  return 0;
}

int tack_ledger_get_totals(const tack_ledger *l, tack_ledger_totals *out) {
  memset(out, 0, sizeof *out);
  out->starting = l->starting;
  out->cash = l->cash;
  for (size_t i = 0; i < l->n; i++) {
    tack_ledger_symbol s;
    tack_money value;
    if (snapshot(&l->entries[i], &s) || add(out->realized, s.realized, &out->realized) ||
        add(out->unrealized, s.unrealized, &out->unrealized) ||
        add(out->fees, s.fees, &out->fees) || notional(s.lots, s.mark_ticks, s.unit, &value) ||
        add(out->positions, value, &out->positions))
      return TACK_ERANGE;
  }
  if (add(out->cash, out->positions, &out->equity))
    return TACK_ERANGE;
  return 0;
}

int tack_ledger_check(const tack_ledger *l, char *why, size_t cap) {
  tack_ledger_totals t;
  tack_money left, diff;
  char a[96], b[96], d[96];
  if (cap > 0)
    why[0] = '\0';
  for (size_t i = 0; i < l->n; i++) {
    if (l->entries[i].lots == 0 && l->entries[i].cost != 0) {
      tack_money_format(l->entries[i].cost, a, sizeof a);
      if (cap > 0)
        snprintf(why, cap, "%s is flat but its cost is %s, not 0", l->entries[i].symbol, a);
      return TACK_ERANGE;
    }
  }
  if (tack_ledger_get_totals(l, &t) < 0 || add(t.starting, t.realized, &left) ||
      add(left, t.unrealized, &left) || sub(left, t.fees, &left) || sub(left, t.equity, &diff)) {
    if (cap > 0)
      snprintf(why, cap, "a total overflows 128 bits");
    return TACK_ERANGE;
  }
  if (diff == 0)
    return 0;
  tack_money_format(left, a, sizeof a);
  tack_money_format(t.equity, b, sizeof b);
  tack_money_format(diff, d, sizeof d);
  if (cap > 0)
    snprintf(why, cap,
             "starting + realized - fees + unrealized = %s but cash + positions at mark = %s "
             "(%s %s apart)",
             a, b, d, l->quote);
  return TACK_ERANGE;
}
