/*
 * paper_book.c: the paper venue's orders and fills. It owns the order table
 * (every order ever sent, rejected ones included, found by client id through
 * a small hash so that a resent client id creates nothing), the list of open
 * orders in acceptance order (the queue priority of matching), the fill log
 * that reconcile reads, the checks a new order must pass, and the reports
 * (order updates, fills, balances, positions) built from the exact state.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper.h"

/* ------------------------------------------------------------------------ */
/* The order table                                                           */
/* ------------------------------------------------------------------------ */

static uint64_t id_hash(const char *s) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
  return h;
}

paper_order *paper_book_find(paper *p, const char *client_id) {
  if (p->cap_index == 0)
    return NULL;
  uint32_t mask = p->cap_index - 1;
  for (uint32_t at = (uint32_t)id_hash(client_id) & mask;; at = (at + 1) & mask) {
    uint32_t v = p->index[at];
    if (v == 0)
      return NULL;
    if (strcmp(p->orders[v - 1].client_id, client_id) == 0)
      return &p->orders[v - 1];
  }
}

paper_order *paper_book_find_venue(paper *p, const char *venue_id) {
  char *end;
  if (venue_id == NULL || venue_id[0] != 'P' || venue_id[1] < '0' || venue_id[1] > '9')
    return NULL;
  unsigned long long n = strtoull(venue_id + 1, &end, 10);
  if (*end != '\0' || n == 0)
    return NULL;
  /* Cancels name the client id; this is the rare path of a venue id only. */
  for (uint32_t i = p->n_orders; i > 0; i--)
    if (p->orders[i - 1].venue_no == n)
      return &p->orders[i - 1];
  return NULL;
}

static void index_put(uint32_t *index, uint32_t cap, const char *client_id, uint32_t value) {
  uint32_t mask = cap - 1;
  uint32_t at = (uint32_t)id_hash(client_id) & mask;
  while (index[at] != 0)
    at = (at + 1) & mask;
  index[at] = value;
}

static int index_grow(paper *p) {
  uint32_t cap = p->cap_index ? p->cap_index * 2 : 64;
  if (cap > UINT32_MAX / 4 || cap < p->cap_index)
    return TACK_ENOMEM;
  uint32_t *index = p->host->alloc(p->ctx, (size_t)cap * sizeof *index);
  if (index == NULL)
    return TACK_ENOMEM;
  memset(index, 0, (size_t)cap * sizeof *index);
  for (uint32_t i = 0; i < p->n_orders; i++)
    index_put(index, cap, p->orders[i].client_id, i + 1);
  p->host->free(p->ctx, p->index);
  p->index = index;
  p->cap_index = cap;
  return 0;
}

int paper_book_add(paper *p, const paper_order *o, paper_order **out) {
  if (p->n_orders == UINT32_MAX - 1)
    return TACK_ENOMEM;
  if (p->n_orders == p->cap_orders) {
    uint32_t grown = p->cap_orders ? p->cap_orders * 2 : 64;
    if (grown < p->cap_orders)
      return TACK_ENOMEM;
    paper_order *orders = p->host->realloc(p->ctx, p->orders, (size_t)grown * sizeof *orders);
    if (orders == NULL)
      return TACK_ENOMEM;
    p->orders = orders;
    p->cap_orders = grown;
  }
  if ((uint64_t)(p->n_orders + 1) * 2 > p->cap_index && index_grow(p) < 0)
    return TACK_ENOMEM;
  p->orders[p->n_orders] = *o;
  index_put(p->index, p->cap_index, o->client_id, p->n_orders + 1);
  if (out)
    *out = &p->orders[p->n_orders];
  p->n_orders++;
  return 0;
}

int paper_book_open(paper *p, uint32_t i) {
  if (p->n_open == p->cap_open) {
    uint32_t grown = p->cap_open ? p->cap_open * 2 : 64;
    uint32_t *open = p->host->realloc(p->ctx, p->open, (size_t)grown * sizeof *open);
    if (open == NULL)
      return TACK_ENOMEM;
    p->open = open;
    p->cap_open = grown;
  }
  p->open[p->n_open++] = i;
  return 0;
}

int paper_status_final(uint32_t status) {
  return status == TACK_STATUS_FILLED || status == TACK_STATUS_CANCELLED ||
         status == TACK_STATUS_REJECTED || status == TACK_STATUS_EXPIRED;
}

void paper_book_compact(paper *p) {
  uint32_t kept = 0;
  for (uint32_t i = 0; i < p->n_open; i++)
    if (!paper_status_final(p->orders[p->open[i]].status))
      p->open[kept++] = p->open[i];
  p->n_open = kept;
}

int paper_book_log_fill(paper *p, const paper_fill *f) {
  if (p->n_fills == p->cap_fills) {
    uint64_t grown = p->cap_fills ? p->cap_fills * 2 : 64;
    if (grown > SIZE_MAX / sizeof(paper_fill))
      return TACK_ENOMEM;
    paper_fill *fills = p->host->realloc(p->ctx, p->fills, (size_t)grown * sizeof *fills);
    if (fills == NULL)
      return TACK_ENOMEM;
    p->fills = fills;
    p->cap_fills = grown;
  }
  p->fills[p->n_fills++] = *f;
  return 0;
}

void paper_book_clear(paper *p) {
  p->host->free(p->ctx, p->orders);
  p->host->free(p->ctx, p->open);
  p->host->free(p->ctx, p->index);
  p->host->free(p->ctx, p->fills);
  p->orders = NULL;
  p->open = NULL;
  p->index = NULL;
  p->fills = NULL;
  p->n_orders = p->cap_orders = p->n_open = p->cap_open = p->cap_index = 0;
  p->n_fills = p->cap_fills = 0;
}

/* ------------------------------------------------------------------------ */
/* Checking a new order                                                      */
/* ------------------------------------------------------------------------ */

static int text_ok(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL && s[0]; }

/* The request's own faults (TACK_EINVAL up front): what is wrong, or NULL. */
static const char *malformed(const tack_order_request *req) {
  int needs_limit = req->type == TACK_ORDER_LIMIT || req->type == TACK_ORDER_STOP_LIMIT;
  int needs_stop = req->type == TACK_ORDER_STOP || req->type == TACK_ORDER_STOP_LIMIT;
  if (!text_ok(req->client_id, sizeof req->client_id))
    return "the client id is empty or not terminated";
  if (!text_ok(req->symbol, sizeof req->symbol))
    return "the symbol is empty or not terminated";
  if (req->side != TACK_SIDE_BUY && req->side != TACK_SIDE_SELL)
    return "the side is neither buy nor sell";
  if (req->type < TACK_ORDER_MARKET || req->type > TACK_ORDER_STOP_LIMIT)
    return "unknown order type";
  if (req->tif > TACK_TIF_DAY)
    return "unknown time in force";
  if (req->flags & ~(TACK_ORDER_POST_ONLY | TACK_ORDER_REDUCE_ONLY))
    return "unknown order flags";
  if (!isfinite(req->quantity) || !(req->quantity > 0))
    return "the quantity is not a positive number";
  if (!isfinite(req->limit_price) || !isfinite(req->stop_price))
    return "a price is not a finite number";
  if (needs_limit && !(req->limit_price > 0))
    return "a limit order needs a positive limit price";
  if (needs_stop && !(req->stop_price > 0))
    return "a stop order needs a positive stop price";
  if (req->tif == TACK_TIF_GTD && req->expire_at <= 0)
    return "a GTD order needs expire_at";
  return NULL;
}

static int refuse(paper_order *o, int error, const char *reason) {
  o->status = TACK_STATUS_REJECTED;
  o->error = error;
  tack_copy_text(o->reason, sizeof o->reason, reason);
  return 0;
}

/* x as an exact count of the increment, or -1 when it is off the grid. */
static int exact_count(int (*round)(const tack_rounding *, double, unsigned, int64_t *),
                       const tack_rounding *g, double x, int64_t *count) {
  int64_t down = 0, up = 0;
  if (round(g, x, TACK_ROUND_DOWN, &down) < 0 || round(g, x, TACK_ROUND_UP, &up) < 0 || down != up)
    return -1;
  *count = down;
  return 0;
}

/* The start of the UTC day after t. */
static tack_time next_utc_day(tack_time t) {
  const tack_time day = 86400 * TACK_NS_PER_SEC;
  tack_time start = t - ((t % day) + day) % day;
  return start + day;
}

int paper_book_check(paper *p, const tack_order_request *req, paper_order *o) {
  const paper_config *c = &p->data.cfg;
  const char *bad = malformed(req);
  memset(o, 0, sizeof *o);
  if (bad != NULL) {
    p->host->log(p->ctx, TACK_LOG_WARN, "order %.*s: refused (TACK_EINVAL): %s",
                 TACK_ORDER_ID_MAX - 1, req->client_id, bad);
    return TACK_EINVAL;
  }
  tack_copy_text(o->client_id, sizeof o->client_id, req->client_id);
  tack_copy_text(o->symbol, sizeof o->symbol, req->symbol);
  o->sym = UINT32_MAX;
  o->side = req->side;
  o->type = req->type;
  o->flags = req->flags;
  o->tif = req->tif ? req->tif : (req->type == TACK_ORDER_MARKET ? TACK_TIF_IOC : TACK_TIF_GTC);
  o->req_quantity = req->quantity;
  o->req_limit = req->limit_price;
  o->req_stop = req->stop_price;
  o->accepted_at = o->updated_at = p->clock;
  o->status = TACK_STATUS_OPEN;
  p->submitted++;

  for (uint32_t i = 0; i < p->data.n_symbols; i++)
    if (strcmp(p->data.symbols[i].instr.symbol, req->symbol) == 0)
      o->sym = i;
  if (o->sym == UINT32_MAX)
    return refuse(o, TACK_ENOENT, "unknown symbol");
  /* After the data the venue stays open at its last prices, for market
   * orders only (closing positions when a run ends): nothing else could
   * ever trigger or rest. */
  if (p->eof && req->type != TACK_ORDER_MARKET)
    return refuse(o, TACK_ECLOSED, "the replay has ended: only market orders fill now");
  if ((c->reject_nth > 0 && p->submitted == (uint64_t)c->reject_nth) ||
      (c->reject_symbol[0] && strcmp(c->reject_symbol, req->symbol) == 0))
    return refuse(o, TACK_EREJECTED, "rejected by fault injection");

  const paper_symbol *s = &p->data.symbols[o->sym];
  const tack_rounding *g = &s->grid;
  int needs_limit = o->type == TACK_ORDER_LIMIT || o->type == TACK_ORDER_STOP_LIMIT;
  int needs_stop = o->type == TACK_ORDER_STOP || o->type == TACK_ORDER_STOP_LIMIT;
  if (exact_count(tack_rounding_size, g, req->quantity, &o->lots) < 0)
    return refuse(o, TACK_EINVAL, "quantity is not a whole number of lots");
  if (needs_limit && (exact_count(tack_rounding_price, g, req->limit_price, &o->limit_ticks) < 0 ||
                      o->limit_ticks <= 0))
    return refuse(o, TACK_EINVAL, "limit price is not a whole number of ticks");
  if (needs_stop && (exact_count(tack_rounding_price, g, req->stop_price, &o->stop_ticks) < 0 ||
                     o->stop_ticks <= 0))
    return refuse(o, TACK_EINVAL, "stop price is not a whole number of ticks");
  if ((o->flags & TACK_ORDER_POST_ONLY) && o->type != TACK_ORDER_LIMIT)
    return refuse(o, TACK_EINVAL, "post-only applies to limit orders only");
  if (o->tif == TACK_TIF_GTD) {
    if (req->expire_at <= p->clock)
      return refuse(o, TACK_EINVAL, "expire_at has already passed on the venue clock");
    o->expire_at = req->expire_at;
  } else if (o->tif == TACK_TIF_DAY) {
    o->expire_at = next_utc_day(p->clock);
  }

  int64_t ref = o->type == TACK_ORDER_MARKET ? paper_last_ticks(p, o->sym)
                : needs_limit                ? o->limit_ticks
                                             : o->stop_ticks;
  if (tack_rounding_check_minimums(g, o->lots, ref) < 0)
    return refuse(o, TACK_ERANGE, "below the minimum size or notional");

  int64_t signed_lots = o->side == TACK_SIDE_BUY ? o->lots : -o->lots;
  if ((o->flags & TACK_ORDER_REDUCE_ONLY) && (s->lots == 0 || (s->lots > 0) == (signed_lots > 0) ||
                                              (s->lots > 0 ? s->lots : -s->lots) < o->lots))
    return refuse(o, TACK_EREJECTED, "reduce-only order would not reduce the position");

  if (!c->shorts && o->side == TACK_SIDE_BUY) {
    tack_decimal bps = paper_bps_max(c->maker_bps, c->taker_bps);
    tack_wide cost, fee, need;
    int64_t est = paper_estimate_ticks(p, o);
    if (paper_money(p, o->sym, o->lots, est, &cost) < 0 || paper_fee(cost, bps, &fee) < 0 ||
        __builtin_add_overflow(cost, fee > 0 ? fee : 0, &need))
      return refuse(o, TACK_ERANGE, "order value out of range");
    tack_wide available = p->cash - paper_hold_quote(p);
    if (need > available) {
      char a[96], b[96];
      paper_money_text(need, a, sizeof a);
      paper_money_text(available, b, sizeof b);
      p->host->log(p->ctx, TACK_LOG_INFO, "order %s (%s): needs %s %s with the fee, %s available",
                   o->client_id, o->symbol, a, c->quote, b);
      return refuse(o, TACK_ENOFUNDS, "insufficient funds");
    }
  }
  if (!c->shorts && o->side == TACK_SIDE_SELL && o->lots > s->lots - paper_hold_base(p, o->sym))
    return refuse(o, TACK_ENOFUNDS, "insufficient balance of the base currency");
  o->eligible_from = p->clock + c->latency_ms * (TACK_NS_PER_SEC / 1000);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Reports                                                                   */
/* ------------------------------------------------------------------------ */

static void venue_id(uint64_t n, char *buf, size_t cap) {
  if (n == 0)
    tack_copy_text(buf, cap, "");
  else
    snprintf(buf, cap, "P%" PRIu64, n);
}

void paper_report_update(const paper *p, const paper_order *o, tack_order_update *out) {
  memset(out, 0, sizeof *out);
  tack_copy_text(out->client_id, sizeof out->client_id, o->client_id);
  venue_id(o->venue_no, out->venue_id, sizeof out->venue_id);
  tack_copy_text(out->symbol, sizeof out->symbol, o->symbol);
  out->ts = o->updated_at;
  out->status = o->status;
  out->side = o->side;
  out->type = o->type;
  out->error = o->error;
  tack_copy_text(out->reason, sizeof out->reason, o->reason);
  if (o->venue_no == 0) {
    out->quantity = o->req_quantity;
    out->limit_price = o->req_limit;
    out->stop_price = o->req_stop;
    return;
  }
  const tack_rounding *g = &p->data.symbols[o->sym].grid;
  out->quantity = tack_rounding_size_double(g, o->lots);
  out->filled = tack_rounding_size_double(g, o->filled);
  out->avg_price = o->filled ? paper_ratio_price(p, o->sym, o->notional, o->filled) : 0.0;
  out->limit_price = o->limit_ticks ? tack_rounding_price_double(g, o->limit_ticks) : 0.0;
  out->stop_price = o->stop_ticks ? tack_rounding_price_double(g, o->stop_ticks) : 0.0;
  out->fees = paper_money_double(o->fees);
}

void paper_report_fill(const paper *p, const paper_fill *f, tack_fill *out) {
  const paper_symbol *s = &p->data.symbols[f->sym];
  memset(out, 0, sizeof *out);
  tack_copy_text(out->client_id, sizeof out->client_id, f->client_id);
  venue_id(f->venue_no, out->venue_order_id, sizeof out->venue_order_id);
  snprintf(out->trade_id, sizeof out->trade_id, "PT%" PRIu64, f->trade_no);
  tack_copy_text(out->symbol, sizeof out->symbol, s->instr.symbol);
  out->ts = f->ts;
  out->side = f->side;
  out->liquidity = f->liquidity;
  out->price = tack_rounding_price_double(&s->grid, f->ticks);
  out->quantity = tack_rounding_size_double(&s->grid, f->lots);
  out->fee = paper_money_double(f->fee);
  tack_copy_text(out->fee_currency, sizeof out->fee_currency, p->data.cfg.quote);
}

void paper_report_position(const paper *p, uint32_t sym, tack_position *out) {
  const paper_symbol *s = &p->data.symbols[sym];
  memset(out, 0, sizeof *out);
  tack_copy_text(out->symbol, sizeof out->symbol, s->instr.symbol);
  out->ts = p->clock;
  out->quantity = tack_rounding_size_double(&s->grid, s->lots);
  out->avg_price = s->lots ? paper_ratio_price(p, sym, s->cost, s->lots) : 0.0;
  out->realized_pnl = paper_money_double(s->realized);
  if (s->last > 0) {
    int64_t mark = 0;
    tack_wide value, cost;
    out->mark_price = s->last;
    if (tack_rounding_price(&s->grid, s->last, TACK_ROUND_NEAREST, &mark) == 0 &&
        paper_money(p, sym, s->lots, mark, &value) == 0 &&
        !__builtin_mul_overflow(s->cost, s->unit, &cost))
      out->unrealized_pnl = paper_money_double(value - cost);
  }
}

void paper_report_balance(const paper *p, uint32_t sym, tack_balance *out) {
  memset(out, 0, sizeof *out);
  out->ts = p->clock;
  if (sym == UINT32_MAX) {
    tack_wide hold = paper_hold_quote(p);
    tack_copy_text(out->currency, sizeof out->currency, p->data.cfg.quote);
    out->total = paper_money_double(p->cash);
    out->hold = paper_money_double(hold);
    out->available = paper_money_double(p->cash - hold);
    return;
  }
  const paper_symbol *s = &p->data.symbols[sym];
  tack_copy_text(out->currency, sizeof out->currency, s->instr.base);
  if (p->data.cfg.shorts)
    return; /* a perpetual holds no base currency: its position is a contract */
  int64_t hold = paper_hold_base(p, sym);
  out->total = tack_rounding_size_double(&s->grid, s->lots);
  out->hold = tack_rounding_size_double(&s->grid, hold);
  out->available = tack_rounding_size_double(&s->grid, s->lots - hold);
}
