/*
 * ema_cross.c: the stock strategy "ema_cross", a fast/slow EMA crossover.
 *
 * The side is where the fast EMA is against the slow one: +1 above, -1
 * below (equal values keep the side they had). A cross is a change of side
 * between two closed bars; it gives strength ±1 in the new direction.
 *
 *   mode cross  signals crosses only. When the averages become ready the
 *               strategy has no opinion yet; if the host told it a position
 *               it adopts that position (and will not enter it again on a
 *               cross in the same direction).
 *   mode state  also states the side as soon as the averages are ready,
 *               unless the position held already agrees with it.
 *
 * confidence = 0.5 + 0.5 min(1, |fast - slow| / ATR(slow)), from the gap
 * between the averages in average true ranges: a cross that opens a gap of
 * a whole bar's range is decisive (1); one where the averages barely part
 * is the kind that whipsaws (near 0.5). Reasons: "ema 12 crossed above 26", "ema 12 below 26".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stock.h"

typedef struct ema_cross_state {
  stock_view view;
  int side; /* +1 fast above slow, -1 below, 0 not apart yet */
} ema_cross_state;

typedef struct ema_cross {
  stock_base base;
  int64_t fast_n;
  int64_t slow_n;
  int state_mode;
  const char *source;
  const tack_ind *fast;
  const tack_ind *slow;
  const tack_ind *atr;
  ema_cross_state st; /* committed: changed by closed bars only */
} ema_cross;

static const tack_param_spec ema_cross_params[] = {
    {.name = "fast",
     .type = TACK_PARAM_INT,
     .min = 2,
     .max = 10000,
     .def = 12,
     .help = "period of the fast EMA; less than slow"},
    {.name = "slow",
     .type = TACK_PARAM_INT,
     .min = 3,
     .max = 10000,
     .def = 26,
     .help = "period of the slow EMA"},
    {.name = "mode",
     .type = TACK_PARAM_STRING,
     .def_str = "cross",
     .choices = "cross|state",
     .help = "cross: signal crosses only; state: also state the side once the EMAs are ready"},
    STOCK_PARAM_SOURCE,
    STOCK_PARAM_INTRABAR,
    {.name = NULL},
};

static int ema_cross_create(tack_ctx *ctx, const tack_host *host, void **self) {
  return stock_create(ctx, host, sizeof(ema_cross), self);
}

static int ema_cross_configure(void *self) {
  ema_cross *x = self;
  stock_base *b = &x->base;
  const char *mode = NULL;
  int rc = stock_base_configure(b);
  if (rc == 0)
    rc = b->host->param_int(b->ctx, "fast", &x->fast_n);
  if (rc == 0)
    rc = b->host->param_int(b->ctx, "slow", &x->slow_n);
  if (rc == 0)
    rc = b->host->param_string(b->ctx, "mode", &mode);
  if (rc == 0)
    rc = b->host->param_string(b->ctx, "source", &x->source);
  if (rc != 0)
    return rc;
  if (x->fast_n >= x->slow_n)
    return b->host->param_error(b->ctx, "slow", "must be greater than fast (%lld), got %lld",
                                (long long)x->fast_n, (long long)x->slow_n);
  x->state_mode = mode && strcmp(mode, "state") == 0;

  /* A reconfigure starts over with indicators of the new periods. */
  stock_ind_close(b, &x->fast);
  stock_ind_close(b, &x->slow);
  stock_ind_close(b, &x->atr);
  memset(&x->st, 0, sizeof x->st);
  rc = stock_ind_open(b, &x->fast, "ema:period=%lld,source=%s", (long long)x->fast_n, x->source);
  if (rc == 0)
    rc = stock_ind_open(b, &x->slow, "ema:period=%lld,source=%s", (long long)x->slow_n, x->source);
  if (rc == 0)
    rc = stock_ind_open(b, &x->atr, "atr:period=%lld", (long long)x->slow_n);
  return rc;
}

static void ema_cross_destroy(void *self) {
  ema_cross *x = self;
  stock_base *b = &x->base;
  stock_ind_close(b, &x->fast);
  stock_ind_close(b, &x->slow);
  stock_ind_close(b, &x->atr);
  b->host->free(b->ctx, x);
}

/* The first bar the averages are apart. */
static int first_side(ema_cross *x, ema_cross_state *st, int dir, double conf, tack_signal *out) {
  stock_base *b = &x->base;
  if (b->pos_known && (!x->state_mode || stock_held(b) == dir)) {
    stock_adopt(b, &st->view);
    return 0;
  }
  if (!x->state_mode)
    return 0;
  return stock_emit(b, &st->view, out, dir, conf, "ema %lld %s %lld", (long long)x->fast_n,
                    dir > 0 ? "above" : "below", (long long)x->slow_n);
}

static int judge(ema_cross *x, ema_cross_state *st, double f, double s, double atr,
                 tack_signal *out) {
  int dir = stock_sign(f - s);
  int rc = 0;
  if (dir == 0)
    dir = st->side;
  double conf = atr > 0 ? 0.5 + 0.5 * fmin(1.0, fabs(f - s) / atr) : 1.0;
  if (dir != 0 && st->side == 0) {
    rc = first_side(x, st, dir, conf, out);
  } else if (dir != st->side) {
    /* Already on this side and holding it: no second entry. */
    if (!(st->view.known && st->view.side == dir && !st->view.restate))
      rc = stock_emit(&x->base, &st->view, out, dir, conf, "ema %lld crossed %s %lld",
                      (long long)x->fast_n, dir > 0 ? "above" : "below", (long long)x->slow_n);
  }
  if (rc == 0 && st->view.restate)
    rc = stock_restate(&x->base, &st->view, out);
  st->side = dir;
  return rc;
}

static int ema_cross_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  ema_cross *x = self;
  double f = 0, s = 0, atr = 0;
  int rc = stock_accept(&x->base, bar);
  if (rc <= 0)
    return rc;
  int rcs[3] = {tack_ind_update(x->fast, bar, &f), tack_ind_update(x->slow, bar, &s),
                tack_ind_update(x->atr, bar, &atr)};
  rc = stock_ready(rcs, 3);
  if (rc <= 0)
    return rc;
  ema_cross_state st = x->st;
  rc = judge(x, &st, f, s, atr, out);
  if (stock_closed(bar))
    x->st = st;
  return rc;
}

static void ema_cross_on_position(void *self, const tack_position *pos) {
  ema_cross *x = self;
  stock_on_position(&x->base, &x->st.view, pos);
}

static void ema_cross_on_fill(void *self, const tack_fill *fill) {
  ema_cross *x = self;
  stock_on_fill(&x->base, &x->st.view, fill);
}

static const tack_strategy_vtable ema_cross_vtable = {
    .size = sizeof(tack_strategy_vtable),
    .life = {.create = ema_cross_create,
             .configure = ema_cross_configure,
             .destroy = ema_cross_destroy},
    .on_bar = ema_cross_on_bar,
    .on_position = ema_cross_on_position,
    .on_fill = ema_cross_on_fill,
};

const tack_plugin_desc stock_ema_cross_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_STRATEGY,
    .id = "ema_cross",
    .name = "EMA crossover",
    .version = STOCK_VERSION,
    .description = "Long when the fast EMA crosses above the slow one, short when it crosses "
                   "below; mode state also holds the side from the start.",
    .params = ema_cross_params,
    .vtable = &ema_cross_vtable,
};
