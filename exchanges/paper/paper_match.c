/*
 * paper_match.c: how the paper venue fills orders, and what a fill does to
 * its accounts. For one data event of one symbol it walks the open orders
 * of that symbol in acceptance order and decides, by the rules of
 * docs/paper.md, whether each triggers and fills, at what price (rounded to
 * the tick against the taker) and how much (the participation cap, spot
 * funds, reduce-only). A fill then moves cash, the position and its cost in
 * integers, exactly as the host's ledger would book it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper.h"

/* ------------------------------------------------------------------------ */
/* Money                                                                     */
/* ------------------------------------------------------------------------ */

int paper_money(const paper *p, uint32_t sym, int64_t lots, int64_t ticks, tack_wide *out) {
  tack_wide v;
  if (__builtin_mul_overflow((tack_wide)lots, (tack_wide)ticks, &v) ||
      __builtin_mul_overflow(v, p->data.symbols[sym].unit, out))
    return TACK_ERANGE;
  return 0;
}

/* ceil(num / den) for den > 0. */
static tack_wide div_up(tack_wide num, tack_wide den) {
  tack_wide q = num / den;
  return (num % den != 0 && num > 0) ? q + 1 : q;
}

static tack_wide pow10_wide(int k) {
  tack_wide v = 1;
  while (k-- > 0)
    v *= 10;
  return v;
}

int paper_fee(tack_wide notional, tack_decimal bps, tack_wide *out) {
  tack_wide num;
  if (bps.units == 0) {
    *out = 0;
    return 0;
  }
  /* notional x bps / 10^4, in whole 10^-8: divide by 10^(4 + scale + 10). */
  if (__builtin_mul_overflow(notional, (tack_wide)bps.units, &num))
    return TACK_ERANGE;
  tack_wide quanta = div_up(num, pow10_wide(14 + bps.scale));
  if (__builtin_mul_overflow(quanta, PAPER_FEE_QUANTUM, out))
    return TACK_ERANGE;
  return 0;
}

tack_decimal paper_bps_max(tack_decimal a, tack_decimal b) {
  int scale = a.scale > b.scale ? a.scale : b.scale;
  tack_wide va = (tack_wide)a.units * pow10_wide(scale - a.scale);
  tack_wide vb = (tack_wide)b.units * pow10_wide(scale - b.scale);
  return va >= vb ? a : b;
}

/* The nearest double, as strtod of the exact decimal would give, without
 * the text (host/rounding.h). */
double paper_money_double(tack_wide m) { return tack_decimal_double(m, PAPER_MONEY_SCALE); }

void paper_money_text(tack_wide m, char *buf, size_t cap) {
  int len = tack_decimal_format_wide(m, PAPER_MONEY_SCALE, buf, cap);
  if (len < 0) {
    tack_copy_text(buf, cap, "?");
    return;
  }
  while (len > 1 && buf[len - 1] == '0')
    buf[--len] = '\0';
  if (len > 1 && buf[len - 1] == '.')
    buf[--len] = '\0';
}

/* Nearest quotient for den > 0, ties away from zero. */
static tack_wide div_nearest(tack_wide num, tack_wide den) {
  tack_wide q = num / den, rem = num % den;
  tack_wide mag = rem < 0 ? -rem : rem;
  if (rem != 0 && mag >= den - mag)
    q += num < 0 ? -1 : 1;
  return q;
}

double paper_ratio_price(const paper *p, uint32_t sym, tack_wide num, tack_wide den) {
  const tack_decimal tick = p->data.symbols[sym].grid.tick;
  char buf[96];
  tack_wide v;
  if (den < 0) {
    num = -num;
    den = -den;
  }
  if (den == 0 || __builtin_mul_overflow(num, (tack_wide)tick.units, &v))
    return 0.0;
  /* Twelve decimals past the tick are plenty for a double. */
  for (int extra = 12; extra >= 0; extra--) {
    tack_wide scaled;
    if (__builtin_mul_overflow(v, pow10_wide(extra), &scaled))
      continue;
    if (tack_decimal_format_wide(div_nearest(scaled, den), tick.scale + extra, buf, sizeof buf) < 0)
      return 0.0;
    return strtod(buf, NULL);
  }
  return 0.0;
}

/* ------------------------------------------------------------------------ */
/* Holds and estimates                                                       */
/* ------------------------------------------------------------------------ */

int64_t paper_last_ticks(const paper *p, uint32_t sym) {
  const paper_symbol *s = &p->data.symbols[sym];
  double price = s->last;
  int64_t ticks = 1;
  if (!(price > 0) && s->cursor < s->n_events)
    price = paper_event_at(s, s->cursor)->open;
  if (!(price > 0) || tack_rounding_price(&s->grid, price, TACK_ROUND_UP, &ticks) < 0 || ticks < 1)
    return 1;
  return ticks;
}

int64_t paper_estimate_ticks(const paper *p, const paper_order *o) {
  int64_t last = paper_last_ticks(p, o->sym);
  switch (o->type) {
  case TACK_ORDER_LIMIT:
  case TACK_ORDER_STOP_LIMIT:
    return o->limit_ticks;
  case TACK_ORDER_STOP:
    return o->stop_ticks > last ? o->stop_ticks : last;
  default:
    return last;
  }
}

tack_wide paper_hold_quote(const paper *p) {
  const paper_config *c = &p->data.cfg;
  tack_decimal bps = paper_bps_max(c->maker_bps, c->taker_bps);
  tack_wide hold = 0;
  if (c->shorts)
    return 0;
  for (uint32_t i = 0; i < p->n_open; i++) {
    const paper_order *o = &p->orders[p->open[i]];
    tack_wide cost, fee;
    if (o->side != TACK_SIDE_BUY || paper_status_final(o->status))
      continue;
    if (paper_money(p, o->sym, o->lots - o->filled, paper_estimate_ticks(p, o), &cost) < 0 ||
        paper_fee(cost, bps, &fee) < 0)
      continue; /* refused at submit: cannot happen for an open order */
    hold += cost + (fee > 0 ? fee : 0);
  }
  return hold;
}

int64_t paper_hold_base(const paper *p, uint32_t sym) {
  int64_t hold = 0;
  if (p->data.cfg.shorts)
    return 0;
  for (uint32_t i = 0; i < p->n_open; i++) {
    const paper_order *o = &p->orders[p->open[i]];
    if (o->sym == sym && o->side == TACK_SIDE_SELL && !paper_status_final(o->status))
      hold += o->lots - o->filled;
  }
  return hold;
}

/* ------------------------------------------------------------------------ */
/* Ending orders                                                             */
/* ------------------------------------------------------------------------ */

int paper_finish(paper *p, paper_order *o, uint32_t status, int32_t error, const char *reason) {
  o->status = status;
  o->error = error;
  o->updated_at = p->clock;
  tack_copy_text(o->reason, sizeof o->reason, reason ? reason : "");
  p->dirty = 1;
  if (p->persist)
    paper_state_save_order(p, o); /* logged there; the state key stays the truth */
  return paper_queue_update(p, o);
}

int paper_match_expire(paper *p, tack_time t) {
  int rc = 0;
  if (p->n_open == 0)
    return 0;
  for (uint32_t i = 0; i < p->n_open && rc == 0; i++) {
    paper_order *o = &p->orders[p->open[i]];
    if (paper_status_final(o->status) || o->expire_at == 0 || o->expire_at > t)
      continue;
    rc = paper_finish(p, o, TACK_STATUS_EXPIRED, 0,
                      o->tif == TACK_TIF_DAY ? "day order: the UTC day ended"
                                             : "good-till time reached");
  }
  paper_book_compact(p);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* One execution                                                             */
/* ------------------------------------------------------------------------ */

/* round(v x k / n) for 0 < k / n <= 1 (same signs), ties away from zero,
 * without overflow: v = q x n + r with |r| < |n|. */
static tack_wide share_of(tack_wide v, int64_t k, int64_t n) {
  tack_wide q = v / n, r = v % n;
  tack_wide part = r * k / n, rem = r * k % n;
  tack_wide mag = rem < 0 ? -rem : rem, nn = n < 0 ? -(tack_wide)n : n;
  if (rem != 0 && mag >= nn - mag)
    part += (rem < 0) == (n < 0) ? 1 : -1;
  return q * k + part;
}

/* The position after d lots at ticks: the ledger's rules (a fill that
 * crosses zero closes, then opens the rest). Nothing written on failure. */
static int move_position(paper *p, paper_symbol *s, int64_t d, int64_t ticks) {
  int64_t n = s->lots;
  tack_wide cost = s->cost, realized = s->realized, pnl;
  if (n != 0 && (n > 0) != (d > 0)) {
    int64_t close = (d < 0 ? -d : d) <= (n < 0 ? -n : n) ? d : -n;
    int64_t k = -close; /* the part of n that goes: same sign as n */
    tack_wide share = share_of(cost, k, n);
    if (__builtin_mul_overflow((tack_wide)k * ticks - share, s->unit, &pnl) ||
        __builtin_add_overflow(realized, pnl, &realized))
      return TACK_ERANGE;
    cost -= share;
    n += close;
    d -= close;
  }
  if (d != 0) {
    if (__builtin_add_overflow(n, d, &n))
      return TACK_ERANGE;
    cost += (tack_wide)d * ticks;
  }
  (void)p;
  s->lots = n;
  s->cost = n == 0 ? 0 : cost;
  s->realized = realized;
  return 0;
}

static int execute(paper *p, paper_order *o, int64_t lots, int64_t ticks, uint32_t liquidity) {
  const paper_config *c = &p->data.cfg;
  paper_symbol *s = &p->data.symbols[o->sym];
  tack_wide money, fee, cash;
  paper_symbol before = *s;
  int rc;
  if ((rc = paper_money(p, o->sym, lots, ticks, &money)) < 0 ||
      (rc = paper_fee(money, liquidity == TACK_LIQ_MAKER ? c->maker_bps : c->taker_bps, &fee)) <
          0 ||
      __builtin_sub_overflow(p->cash, o->side == TACK_SIDE_BUY ? money : -money, &cash) ||
      __builtin_sub_overflow(cash, fee, &cash) ||
      (rc = move_position(p, s, o->side == TACK_SIDE_BUY ? lots : -lots, ticks)) < 0) {
    *s = before;
    return TACK_ERANGE;
  }
  p->cash = cash;
  /* The fill's price is the latest known to have traded: the mark, until
   * the event's close. */
  s->last = tack_rounding_price_double(&s->grid, ticks);
  o->filled += lots;
  o->notional += (tack_wide)lots * ticks;
  o->fees += fee;
  o->updated_at = p->clock;
  o->status = o->filled == o->lots ? TACK_STATUS_FILLED : TACK_STATUS_PARTIAL;
  p->dirty = 1;

  paper_fill f;
  memset(&f, 0, sizeof f);
  f.trade_no = ++p->last_trade_no;
  f.venue_no = o->venue_no;
  tack_copy_text(f.client_id, sizeof f.client_id, o->client_id);
  f.sym = o->sym;
  f.side = o->side;
  f.liquidity = liquidity;
  f.ts = p->clock;
  f.lots = lots;
  f.ticks = ticks;
  f.fee = fee;
  if ((rc = paper_book_log_fill(p, &f)) < 0)
    return rc;
  if (p->persist)
    paper_state_save_fill(p, &f);
  if (o->status == TACK_STATUS_FILLED && p->persist)
    paper_state_save_order(p, o);

  paper_out out;
  memset(&out, 0, sizeof out);
  if ((rc = paper_queue_update(p, o)) < 0)
    return rc;
  out.what = PAPER_OUT_FILL;
  paper_report_fill(p, &f, &out.u.fill);
  if ((rc = paper_queue(p, &out)) < 0)
    return rc;
  out.what = PAPER_OUT_BALANCE;
  paper_report_balance(p, UINT32_MAX, &out.u.balance);
  if ((rc = paper_queue(p, &out)) < 0)
    return rc;
  paper_report_balance(p, o->sym, &out.u.balance);
  if ((rc = paper_queue(p, &out)) < 0)
    return rc;
  out.what = PAPER_OUT_POSITION;
  paper_report_position(p, o->sym, &out.u.position);
  return paper_queue(p, &out);
}

/* ------------------------------------------------------------------------ */
/* Matching one event                                                        */
/* ------------------------------------------------------------------------ */

/* The slippage, as a fraction of the price, of taking qty (in base units). */
static double slip_fraction(const paper_config *c, const paper_event *e, double qty) {
  switch (c->slippage) {
  case PAPER_SLIP_FIXED:
    return c->slippage_bps / 10000.0;
  case PAPER_SLIP_VOLUME:
    return e->volume > 0 ? c->impact * qty / e->volume : 0.0;
  case PAPER_SLIP_SQRT:
    return e->volume > 0 && e->close > 0
               ? c->impact * ((e->high - e->low) / e->close) * sqrt(qty / e->volume)
               : 0.0;
  default:
    return 0.0;
  }
}

/* What our orders may take from this event, in lots; INT64_MAX when the
 * event's volume is unknown (0). */
static int64_t capacity(const paper *p, const paper_symbol *s, const paper_event *e) {
  int64_t lots = 0;
  if (!(e->volume > 0))
    return INT64_MAX;
  if (tack_rounding_size(&s->grid, p->data.cfg.participation * e->volume, TACK_ROUND_TOWARD_ZERO,
                         &lots) < 0)
    return INT64_MAX;
  return lots < 0 ? 0 : lots;
}

/* The tick of price, rounded against the taker: up for a buy, down for a
 * sell; at least one tick. */
static int64_t taker_ticks(const paper_symbol *s, uint32_t side, double price) {
  int64_t t = 1;
  if (tack_rounding_price(&s->grid, price, side == TACK_SIDE_BUY ? TACK_ROUND_UP : TACK_ROUND_DOWN,
                          &t) < 0)
    t = side == TACK_SIDE_BUY ? TACK_ROUNDING_MAX_COUNT : 1;
  return t < 1 ? 1 : t;
}

/* How many of want lots a spot account can pay for (buy) or deliver (sell)
 * at ticks, fee included. */
static int64_t affordable(const paper *p, const paper_order *o, int64_t want, int64_t ticks,
                          uint32_t liquidity) {
  const paper_config *c = &p->data.cfg;
  const paper_symbol *s = &p->data.symbols[o->sym];
  if (o->side == TACK_SIDE_SELL)
    return want < s->lots ? want : (s->lots > 0 ? s->lots : 0);
  tack_decimal bps = liquidity == TACK_LIQ_MAKER ? c->maker_bps : c->taker_bps;
  int64_t lo = 0, hi = want;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo + 1) / 2;
    tack_wide cost, fee;
    if (paper_money(p, o->sym, mid, ticks, &cost) == 0 && paper_fee(cost, bps, &fee) == 0 &&
        cost + (fee > 0 ? fee : 0) <= p->cash)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/* What one order does at one event. */
typedef struct decision {
  int fillable;  /* it executes at this event if capacity allows */
  int live;      /* its time in force applies now (IOC, FOK) */
  uint32_t liq;  /* TACK_LIQ_* */
  double base;   /* taker: the price before slippage */
  int64_t limit; /* taker: the worst price allowed, 0 for none */
  int64_t ticks; /* maker: the fill price */
} decision;

static void decide(const paper_symbol *s, paper_order *o, const paper_event *e, decision *d) {
  int buy = o->side == TACK_SIDE_BUY;
  int first = !o->arrived;
  memset(d, 0, sizeof *d);
  o->arrived = 1;
  d->live = first;
  if ((o->type == TACK_ORDER_STOP || o->type == TACK_ORDER_STOP_LIMIT) && !o->triggered) {
    double stop = tack_rounding_price_double(&s->grid, o->stop_ticks);
    d->live = 0; /* IOC and FOK start when the stop triggers */
    if (buy ? !(e->high >= stop) : !(e->low <= stop))
      return;
    o->triggered = 1;
    d->live = 1;
    d->liq = TACK_LIQ_TAKER;
    d->base = buy ? (e->open > stop ? e->open : stop) : (e->open < stop ? e->open : stop);
    if (o->type == TACK_ORDER_STOP) {
      d->fillable = 1;
      return;
    }
    /* A stop-limit becomes a limit: it takes at once only when the price at
     * which it triggered is within its limit; otherwise it rests from the
     * next event on. */
    double limit = tack_rounding_price_double(&s->grid, o->limit_ticks);
    if (buy ? d->base <= limit : d->base >= limit) {
      d->fillable = 1;
      d->limit = o->limit_ticks;
    }
    return;
  }
  if (o->type == TACK_ORDER_MARKET || o->type == TACK_ORDER_STOP) {
    d->fillable = 1;
    d->liq = TACK_LIQ_TAKER;
    d->base = e->open;
    return;
  }
  double limit = tack_rounding_price_double(&s->grid, o->limit_ticks);
  if (first && o->type == TACK_ORDER_LIMIT && (buy ? e->open <= limit : e->open >= limit)) {
    /* Marketable on arrival: it takes at the open, within its limit. */
    d->fillable = 1;
    d->liq = TACK_LIQ_TAKER;
    d->base = e->open;
    d->limit = o->limit_ticks;
    return;
  }
  /* IOC and FOK never rest: not marketable on arrival, they are done. */
  if (first && (o->tif == TACK_TIF_IOC || o->tif == TACK_TIF_FOK))
    return;
  /* Resting: the price must trade through the limit; a touch is not
   * enough, since our place in the queue at that price is unknown. */
  if (buy ? e->low < limit : e->high > limit) {
    int64_t open = taker_ticks(s, o->side, e->open);
    d->fillable = 1;
    d->liq = TACK_LIQ_MAKER;
    d->ticks = buy ? (open < o->limit_ticks ? open : o->limit_ticks)
                   : (open > o->limit_ticks ? open : o->limit_ticks);
  }
}

/* Cancels what is left of o. A cancel with an error (funds, reduce-only)
 * is logged, so that an operator sees why; IOC and FOK ends are routine. */
static int give_up(paper *p, paper_order *o, int32_t error, const char *reason) {
  p->host->log(p->ctx, error ? TACK_LOG_INFO : TACK_LOG_DEBUG, "order %s (%s): %s", o->client_id,
               o->symbol, reason);
  return paper_finish(p, o, TACK_STATUS_CANCELLED, error, reason);
}

static int match_one(paper *p, paper_order *o, const paper_event *e, int64_t *cap_left) {
  const paper_config *c = &p->data.cfg;
  paper_symbol *s = &p->data.symbols[o->sym];
  int buy = o->side == TACK_SIDE_BUY;
  int ioc = o->tif == TACK_TIF_IOC, fok = o->tif == TACK_TIF_FOK;
  int64_t want = o->lots - o->filled;
  decision d;
  uint32_t was_triggered = o->triggered;

  uint32_t had_arrived = o->arrived;
  decide(s, o, e, &d);
  if (o->triggered != was_triggered || o->arrived != had_arrived)
    p->dirty = 1;
  if (d.fillable && d.liq == TACK_LIQ_TAKER && (o->flags & TACK_ORDER_POST_ONLY))
    return give_up(p, o, TACK_EREJECTED, "post-only order would take liquidity");
  if (!d.fillable)
    return d.live && (ioc || fok) ? give_up(p, o, 0, "not fillable at once: cancelled (IOC/FOK)")
                                  : 0;

  int64_t qty = want < *cap_left ? want : *cap_left;
  if (qty == 0 || (fok && qty < want))
    return d.live && (ioc || fok) ? give_up(p, o, 0, "not enough volume at once: cancelled") : 0;

  if (o->flags & TACK_ORDER_REDUCE_ONLY) {
    int64_t reducible = buy ? (s->lots < 0 ? -s->lots : 0) : (s->lots > 0 ? s->lots : 0);
    if (reducible == 0)
      return give_up(p, o, TACK_EREJECTED, "reduce-only: the position is already flat");
    if (fok && reducible < qty)
      return give_up(p, o, TACK_EREJECTED, "reduce-only: would exceed the position");
    qty = qty < reducible ? qty : reducible;
  }

  int64_t ticks = d.ticks;
  if (d.liq == TACK_LIQ_TAKER) {
    double f = slip_fraction(c, e, tack_rounding_size_double(&s->grid, qty));
    ticks = taker_ticks(s, o->side, buy ? d.base * (1.0 + f) : d.base * (1.0 - f));
    if (d.limit && (buy ? ticks > d.limit : ticks < d.limit))
      ticks = d.limit;
  }

  int short_of_funds = 0;
  if (!c->shorts) {
    int64_t can = affordable(p, o, qty, ticks, d.liq);
    if (can < qty) {
      short_of_funds = 1;
      if (can == 0 || fok)
        return give_up(p, o, TACK_ENOFUNDS,
                       buy ? "insufficient funds at execution" : "insufficient base at execution");
      qty = can;
    }
  }

  int rc = execute(p, o, qty, ticks, d.liq);
  if (rc == TACK_ERANGE)
    return give_up(p, o, TACK_ERANGE, "fill value out of range");
  if (rc < 0)
    return rc;
  if (*cap_left != INT64_MAX)
    *cap_left -= qty;
  if (o->status == TACK_STATUS_FILLED)
    return 0;
  if (short_of_funds)
    return give_up(p, o, TACK_ENOFUNDS,
                   buy ? "insufficient funds at execution" : "insufficient base at execution");
  if (d.live && ioc)
    return give_up(p, o, 0, "immediate-or-cancel: the rest is cancelled");
  return 0;
}

/* Most events meet no order: they cost a comparison. The event's capacity
 * (a decimal rounding of its volume) is worked out only for an order that
 * may trade in it. */
int paper_match_event(paper *p, uint32_t sym, const paper_event *e) {
  paper_symbol *s = &p->data.symbols[sym];
  int64_t cap_left = 0;
  int have_cap = 0, rc = 0;
  for (uint32_t i = 0; i < p->n_open && rc == 0; i++) {
    paper_order *o = &p->orders[p->open[i]];
    if (o->sym != sym || paper_status_final(o->status) || e->ts < o->eligible_from)
      continue;
    /* A trade stamped with the time of the one the order reacted to is part
     * of the same instant: the order cannot have reached it. */
    if (p->data.kind == PAPER_DATA_TRADES && e->ts <= o->accepted_at)
      continue;
    if (!have_cap) {
      cap_left = capacity(p, s, e);
      have_cap = 1;
    }
    rc = match_one(p, o, e, &cap_left);
  }
  if (p->n_open > 0)
    paper_book_compact(p);
  s->last = e->close;
  return rc;
}
