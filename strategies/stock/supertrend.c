/*
 * supertrend.c: the stock strategy "supertrend_follow", trend following on the
 * SuperTrend line (ATR bands of `multiplier` ATR(`period`) around the bar's
 * midpoint, docs/indicators.md).
 *
 * The side is the SuperTrend direction, +1 or -1. Once the indicator is
 * ready the strategy states that side (unless the position held already
 * agrees with it, a hand-over), then emits on each change of direction.
 * Strength is ±1: the line is a trailing stop, and the strategy is either
 * with the trend or against it.
 *
 * confidence = 0.5 + 0.5 min(1, |close - line| / ATR), the line being the
 * one that stood at the previous bar (this bar's on the first): a close one
 * average true range through the old stop is a decisive turn, one that
 * barely crossed it is not. Reasons: "supertrend 10x3 turned up at 99.5",
 * "supertrend 10x3 down, line 101".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stock.h"

typedef struct supertrend_state {
  stock_view view;
  int dir;     /* direction at the last closed bar, 0 before the first */
  double line; /* the line at the last closed bar */
} supertrend_state;

typedef struct supertrend {
  stock_base base;
  int64_t period;
  double multiplier;
  const tack_ind *st_ind; /* value, direction */
  const tack_ind *atr;
  supertrend_state st; /* committed: changed by closed bars only */
} supertrend;

static const tack_param_spec supertrend_params[] = {
    {.name = "period",
     .type = TACK_PARAM_INT,
     .min = 1,
     .max = 10000,
     .def = 10,
     .help = "ATR period of the bands"},
    {.name = "multiplier",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.1,
     .max = 100,
     .def = 3.0,
     .help = "band distance from the bar's midpoint, in ATRs"},
    STOCK_PARAM_INTRABAR,
    {.name = NULL},
};

static int supertrend_create(tack_ctx *ctx, const tack_host *host, void **self) {
  return stock_create(ctx, host, sizeof(supertrend), self);
}

static int supertrend_configure(void *self) {
  supertrend *x = self;
  stock_base *b = &x->base;
  int rc = stock_base_configure(b);
  if (rc == 0)
    rc = b->host->param_int(b->ctx, "period", &x->period);
  if (rc == 0)
    rc = b->host->param_double(b->ctx, "multiplier", &x->multiplier);
  if (rc != 0)
    return rc;

  stock_ind_close(b, &x->st_ind);
  stock_ind_close(b, &x->atr);
  memset(&x->st, 0, sizeof x->st);
  /* %.17g: the indicator gets exactly the multiplier configured. */
  rc = stock_ind_open(b, &x->st_ind, "supertrend:period=%lld,multiplier=%.17g",
                      (long long)x->period, x->multiplier);
  if (rc == 0)
    rc = stock_ind_open(b, &x->atr, "atr:period=%lld", (long long)x->period);
  return rc;
}

static void supertrend_destroy(void *self) {
  supertrend *x = self;
  stock_base *b = &x->base;
  stock_ind_close(b, &x->st_ind);
  stock_ind_close(b, &x->atr);
  b->host->free(b->ctx, x);
}

static int judge(supertrend *x, supertrend_state *st, double close, const double *v, double atr,
                 tack_signal *out) {
  stock_base *b = &x->base;
  int dir = stock_sign(v[1]);
  double line = v[0];
  double old = st->dir ? st->line : line;
  double conf = atr > 0 ? 0.5 + 0.5 * fmin(1.0, fabs(close - old) / atr) : 1.0;
  int rc = 0;
  if (dir != 0 && st->dir == 0) {
    if (b->pos_known && stock_held(b) == dir)
      stock_adopt(b, &st->view);
    else
      rc = stock_emit(b, &st->view, out, dir, conf, "supertrend %lldx%g %s, line %.6g",
                      (long long)x->period, x->multiplier, dir > 0 ? "up" : "down", line);
  } else if (dir != 0 && dir != st->dir) {
    rc = stock_emit(b, &st->view, out, dir, conf, "supertrend %lldx%g turned %s at %.6g",
                    (long long)x->period, x->multiplier, dir > 0 ? "up" : "down", close);
  }
  if (rc == 0 && st->view.restate)
    rc = stock_restate(b, &st->view, out);
  if (dir != 0)
    st->dir = dir;
  st->line = line;
  return rc;
}

static int supertrend_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  supertrend *x = self;
  double v[2] = {0, 0}, atr = 0;
  int rc = stock_accept(&x->base, bar);
  if (rc <= 0)
    return rc;
  int rcs[2] = {tack_ind_update(x->st_ind, bar, v), tack_ind_update(x->atr, bar, &atr)};
  rc = stock_ready(rcs, 2);
  if (rc <= 0)
    return rc;
  supertrend_state st = x->st;
  rc = judge(x, &st, bar->close, v, atr, out);
  if (stock_closed(bar))
    x->st = st;
  return rc;
}

static void supertrend_on_position(void *self, const tack_position *pos) {
  supertrend *x = self;
  stock_on_position(&x->base, &x->st.view, pos);
}

static void supertrend_on_fill(void *self, const tack_fill *fill) {
  supertrend *x = self;
  stock_on_fill(&x->base, &x->st.view, fill);
}

static const tack_strategy_vtable supertrend_vtable = {
    .size = sizeof(tack_strategy_vtable),
    .life = {.create = supertrend_create,
             .configure = supertrend_configure,
             .destroy = supertrend_destroy},
    .on_bar = supertrend_on_bar,
    .on_position = supertrend_on_position,
    .on_fill = supertrend_on_fill,
};

const tack_plugin_desc stock_supertrend_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_STRATEGY,
    .id = "supertrend_follow",
    .name = "SuperTrend",
    .version = STOCK_VERSION,
    .description = "Long while the SuperTrend direction is up, short while it is down; signals "
                   "on each turn.",
    .params = supertrend_params,
    .vtable = &supertrend_vtable,
};
