/*
 * stock.c: the machinery the stock strategies share (see stock.h) and the
 * entry symbol of strategies.so, which lists them all. Each strategy lives
 * in its own file.
 */
#include "stock.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

TACK_PLUGINS(&stock_ema_cross_desc, &stock_rsi_reversion_desc, &stock_macd_trend_desc,
             &stock_bollinger_desc, &stock_donchian_breakout_desc, &stock_supertrend_desc);

static const char *const source_names[] = {"close", "open", "high", "low", "hl2", "hlc3", "ohlc4"};

int stock_source_parse(const char *name) {
  for (int i = 0; name && i < (int)(sizeof source_names / sizeof source_names[0]); i++)
    if (strcmp(name, source_names[i]) == 0)
      return i;
  return STOCK_SRC_CLOSE;
}

/* The same formulas, in the same order of operations, as the indicators'
 * `source`, so a rule compares the very price its bands were built from. */
double stock_price(const tack_bar *bar, int source) {
  switch (source) {
  case STOCK_SRC_OPEN:
    return bar->open;
  case STOCK_SRC_HIGH:
    return bar->high;
  case STOCK_SRC_LOW:
    return bar->low;
  case STOCK_SRC_HL2:
    return (bar->high + bar->low) / 2.0;
  case STOCK_SRC_HLC3:
    return (bar->high + bar->low + bar->close) / 3.0;
  case STOCK_SRC_OHLC4:
    return (bar->high + bar->low + bar->close + bar->open) / 4.0;
  default:
    return bar->close;
  }
}

void stock_base_init(stock_base *b, tack_ctx *ctx, const tack_host *host) {
  memset(b, 0, sizeof *b);
  b->ctx = ctx;
  b->host = host;
}

int stock_create(tack_ctx *ctx, const tack_host *host, size_t size, void **self) {
  stock_base *b = host->alloc(ctx, size);
  if (!b)
    return TACK_ENOMEM;
  memset(b, 0, size);
  stock_base_init(b, ctx, host);
  *self = b;
  return 0;
}

int stock_base_configure(stock_base *b) {
  int intrabar = 0;
  int rc = b->host->param_bool(b->ctx, "intrabar", &intrabar);
  if (rc < 0)
    return rc;
  b->intrabar = intrabar;
  b->timeframe_s = 0;
  return 0;
}

int stock_accept(stock_base *b, const tack_bar *bar) {
  int closed = stock_closed(bar);
  if (!closed && !b->intrabar)
    return 0;
  if (!isfinite(bar->open) || !isfinite(bar->high) || !isfinite(bar->low) ||
      !isfinite(bar->close) || !isfinite(bar->volume))
    return TACK_EINVAL;
  if (b->timeframe_s == 0) {
    /* Only a closed bar may fix the timeframe: a provisional one changes
     * nothing. */
    if (closed)
      b->timeframe_s = bar->timeframe_s;
    return 1;
  }
  return bar->timeframe_s == b->timeframe_s;
}

int stock_ready(const int *rcs, size_t n) {
  int all = 1;
  for (size_t i = 0; i < n; i++) {
    if (rcs[i] < 0)
      return rcs[i];
    all &= rcs[i] == 1;
  }
  return all;
}

int stock_ind_open(stock_base *b, const tack_ind **ind, const char *fmt, ...) {
  char spec[STOCK_SPEC_MAX];
  va_list ap;
  *ind = NULL;
  va_start(ap, fmt);
  int n = vsnprintf(spec, sizeof spec, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof spec) {
    b->host->log(b->ctx, TACK_LOG_ERROR, "indicator spec longer than %d bytes: %s...",
                 STOCK_SPEC_MAX - 1, spec);
    return TACK_ERANGE;
  }
  if (!TACK_HOST_HAS(b->host, ind_open)) {
    b->host->log(b->ctx, TACK_LOG_ERROR,
                 "this host (%s) has no indicator service (ind_open), which this strategy needs "
                 "for %s: run it on a newer tack",
                 b->host->host_version, spec);
    return TACK_ENOTSUP;
  }
  return b->host->ind_open(b->ctx, spec, ind);
}

void stock_ind_close(stock_base *b, const tack_ind **ind) {
  if (*ind && TACK_HOST_HAS(b->host, ind_close))
    b->host->ind_close(b->ctx, *ind);
  *ind = NULL;
}

/* Ask for a restatement exactly while the position's side and the view's
 * differ; agreeing again (the fills caught up) cancels it. */
static void check_position(const stock_base *b, stock_view *v) {
  v->restate = b->pos_known && v->known && stock_held(b) != v->side;
}

void stock_on_position(stock_base *b, stock_view *v, const tack_position *pos) {
  if (!isfinite(pos->quantity))
    return;
  b->pos_known = 1;
  b->pos_qty = pos->quantity;
  b->pos_ts = pos->ts;
  check_position(b, v);
}

/*
 * A fill moves the position before the host's next on_position says so. A
 * position of time T includes every fill up to T, so only a fill later than
 * the last position is applied: whichever of the two callbacks comes first,
 * a fill is never counted twice. Before any on_position the base quantity is
 * unknown and a fill alone says nothing about the side.
 */
void stock_on_fill(stock_base *b, stock_view *v, const tack_fill *fill) {
  if (!b->pos_known || fill->ts <= b->pos_ts || !isfinite(fill->quantity))
    return;
  if (fill->side == TACK_SIDE_BUY)
    b->pos_qty += fill->quantity;
  else if (fill->side == TACK_SIDE_SELL)
    b->pos_qty -= fill->quantity;
  check_position(b, v);
}

int stock_emit(stock_base *b, stock_view *v, tack_signal *out, double strength, double confidence,
               const char *fmt, ...) {
  va_list ap;
  if (!isfinite(strength) || !isfinite(confidence))
    return 0;
  strength = stock_clamp(strength, -1.0, 1.0);
  confidence = stock_clamp(confidence, 0.0, 1.0);
  memset(out, 0, sizeof *out);
  out->ts = b->host->now(b->ctx);
  out->strength = strength;
  out->confidence = confidence;
  va_start(ap, fmt);
  vsnprintf(out->reason, sizeof out->reason, fmt, ap);
  va_end(ap);
  v->known = 1;
  v->side = stock_sign(strength);
  v->strength = strength;
  v->confidence = confidence;
  memcpy(v->reason, out->reason, sizeof v->reason);
  /* A new opinion is no disagreement yet: the trader has not had the
   * chance to act on it. */
  v->restate = 0;
  return 1;
}

int stock_restate(stock_base *b, stock_view *v, tack_signal *out) {
  char reason[TACK_REASON_MAX];
  memcpy(reason, v->reason, sizeof reason);
  int rc = stock_emit(b, v, out, v->strength, v->confidence, "again: %s", reason);
  /* Keep the original reason, so a second restatement does not nest. */
  memcpy(v->reason, reason, sizeof v->reason);
  return rc;
}

void stock_adopt(const stock_base *b, stock_view *v) {
  int held = stock_held(b);
  v->known = 1;
  v->side = held;
  v->strength = held;
  v->confidence = 1.0;
  v->restate = 0;
  snprintf(v->reason, sizeof v->reason, "%s",
           held > 0 ? "hold the long position found at start"
                    : (held < 0 ? "hold the short position found at start"
                                : "stay flat as found at start"));
}
