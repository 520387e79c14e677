/*
 * rsi_reversion.c: the stock strategy "rsi_reversion", RSI mean reversion.
 *
 * Flat: RSI at or below `oversold` goes long, at or above `overbought`
 * short. Long: RSI at or above `exit` goes flat. Short: RSI at or below
 * 100 - `exit` goes flat (the exit mirrored around 50). Exits are judged
 * before entries, so one bar may exit a long and go short at once (a jump
 * from oversold to overbought). A signal is emitted only when the wanted
 * position changes.
 *
 * Strength of an entry grows with how far RSI went past its threshold,
 * relative to the room left to the extreme: long d = (oversold - rsi) /
 * oversold, short d = (rsi - overbought) / (100 - overbought), d clamped to
 * [0, 1], strength ±(0.5 + 0.5 d). An exit has strength 0. Confidence is
 * |rsi - 50| / 50 for an entry (the more extreme, the surer) and
 * 1 - |rsi - 50| / 50 for an exit (the closer to neutral, the surer).
 *
 * Hand-over: a position the host reports before the RSI is ready is taken
 * as the strategy's own, and closed by the exit rule.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stock.h"

typedef struct rsi_state {
  stock_view view;
  int ready; /* the RSI has had a value on a closed bar */
} rsi_state;

typedef struct rsi_reversion {
  stock_base base;
  int64_t period;
  double oversold;
  double overbought;
  double exit_long;  /* `exit` */
  double exit_short; /* 100 - `exit` */
  const char *source;
  const tack_ind *rsi;
  rsi_state st; /* committed: changed by closed bars only */
} rsi_reversion;

static const tack_param_spec rsi_reversion_params[] = {
    {.name = "period",
     .type = TACK_PARAM_INT,
     .min = 2,
     .max = 10000,
     .def = 14,
     .help = "RSI period"},
    {.name = "oversold",
     .type = TACK_PARAM_DOUBLE,
     .min = 1,
     .max = 99,
     .def = 30,
     .help = "RSI at or below this goes long"},
    {.name = "overbought",
     .type = TACK_PARAM_DOUBLE,
     .min = 1,
     .max = 99,
     .def = 70,
     .help = "RSI at or above this goes short"},
    {.name = "exit",
     .type = TACK_PARAM_DOUBLE,
     .min = 1,
     .max = 99,
     .def = 50,
     .help = "a long exits at RSI >= exit, a short at RSI <= 100 - exit"},
    STOCK_PARAM_SOURCE,
    STOCK_PARAM_INTRABAR,
    {.name = NULL},
};

static int rsi_create(tack_ctx *ctx, const tack_host *host, void **self) {
  return stock_create(ctx, host, sizeof(rsi_reversion), self);
}

static int rsi_configure(void *self) {
  rsi_reversion *x = self;
  stock_base *b = &x->base;
  double exit = 0;
  int rc = stock_base_configure(b);
  if (rc == 0)
    rc = b->host->param_int(b->ctx, "period", &x->period);
  if (rc == 0)
    rc = b->host->param_double(b->ctx, "oversold", &x->oversold);
  if (rc == 0)
    rc = b->host->param_double(b->ctx, "overbought", &x->overbought);
  if (rc == 0)
    rc = b->host->param_double(b->ctx, "exit", &exit);
  if (rc == 0)
    rc = b->host->param_string(b->ctx, "source", &x->source);
  if (rc != 0)
    return rc;
  if (!(x->oversold < x->overbought))
    return b->host->param_error(b->ctx, "overbought", "must be greater than oversold (%g), got %g",
                                x->oversold, x->overbought);
  /* Both exits must lie strictly between the entries, or a position would
   * be closed on the bar that opened it. */
  double lo = fmin(exit, 100.0 - exit), hi = fmax(exit, 100.0 - exit);
  if (!(lo > x->oversold && hi < x->overbought))
    return b->host->param_error(b->ctx, "exit",
                                "%g and its mirror %g must both lie strictly between oversold "
                                "(%g) and overbought (%g)",
                                exit, 100.0 - exit, x->oversold, x->overbought);
  x->exit_long = exit;
  x->exit_short = 100.0 - exit;

  stock_ind_close(b, &x->rsi);
  memset(&x->st, 0, sizeof x->st);
  return stock_ind_open(b, &x->rsi, "rsi:period=%lld,source=%s", (long long)x->period, x->source);
}

static void rsi_destroy(void *self) {
  rsi_reversion *x = self;
  stock_base *b = &x->base;
  stock_ind_close(b, &x->rsi);
  b->host->free(b->ctx, x);
}

/* The position wanted after this RSI value, starting from side. */
static int wanted(const rsi_reversion *x, int side, double r) {
  if (side > 0 && r >= x->exit_long)
    side = 0;
  else if (side < 0 && r <= x->exit_short)
    side = 0;
  if (side == 0 && r <= x->oversold)
    side = 1;
  else if (side == 0 && r >= x->overbought)
    side = -1;
  return side;
}

static int judge(rsi_reversion *x, rsi_state *st, double r, tack_signal *out) {
  stock_base *b = &x->base;
  if (!st->ready) {
    st->ready = 1;
    /* Hand-over: the held position is this strategy's trade from now on;
     * without one it starts flat, without saying so. */
    if (b->pos_known)
      stock_adopt(b, &st->view);
    else
      st->view.known = 1;
  }
  int from = st->view.side;
  int side = wanted(x, from, r);
  double extremity = fabs(r - 50.0) / 50.0;
  int rc = 0;
  if (side > 0 && side != from) {
    double d = stock_clamp((x->oversold - r) / x->oversold, 0.0, 1.0);
    rc = stock_emit(b, &st->view, out, 0.5 + 0.5 * d, extremity, "rsi %lld at %.1f <= %g: long",
                    (long long)x->period, r, x->oversold);
  } else if (side < 0 && side != from) {
    double d = stock_clamp((r - x->overbought) / (100.0 - x->overbought), 0.0, 1.0);
    rc = stock_emit(b, &st->view, out, -(0.5 + 0.5 * d), extremity, "rsi %lld at %.1f >= %g: short",
                    (long long)x->period, r, x->overbought);
  } else if (side == 0 && side != from) {
    rc = stock_emit(b, &st->view, out, 0.0, 1.0 - extremity, "rsi %lld at %.1f: exit %s",
                    (long long)x->period, r, from > 0 ? "long" : "short");
  } else if (st->view.restate) {
    rc = stock_restate(b, &st->view, out);
  }
  return rc;
}

static int rsi_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  rsi_reversion *x = self;
  double r = 0;
  int rc = stock_accept(&x->base, bar);
  if (rc <= 0)
    return rc;
  rc = tack_ind_update(x->rsi, bar, &r);
  if (rc <= 0)
    return rc;
  rsi_state st = x->st;
  rc = judge(x, &st, r, out);
  if (stock_closed(bar))
    x->st = st;
  return rc;
}

static void rsi_on_position(void *self, const tack_position *pos) {
  rsi_reversion *x = self;
  stock_on_position(&x->base, &x->st.view, pos);
}

static void rsi_on_fill(void *self, const tack_fill *fill) {
  rsi_reversion *x = self;
  stock_on_fill(&x->base, &x->st.view, fill);
}

static const tack_strategy_vtable rsi_reversion_vtable = {
    .size = sizeof(tack_strategy_vtable),
    .life = {.create = rsi_create, .configure = rsi_configure, .destroy = rsi_destroy},
    .on_bar = rsi_on_bar,
    .on_position = rsi_on_position,
    .on_fill = rsi_on_fill,
};

const tack_plugin_desc stock_rsi_reversion_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_STRATEGY,
    .id = "rsi_reversion",
    .name = "RSI mean reversion",
    .version = STOCK_VERSION,
    .description = "Long when RSI is oversold, short when overbought, flat again when RSI "
                   "returns to the exit level.",
    .params = rsi_reversion_params,
    .vtable = &rsi_reversion_vtable,
};
