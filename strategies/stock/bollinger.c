/*
 * bollinger.c: the stock strategy "bollinger", Bollinger bands (an SMA of
 * `period` bars ± `nbdev` standard deviations) traded two ways.
 *
 * The price p (the bar's `source` price, which the bands are built from) is
 * measured in band widths from the middle: z = (p - middle) / (upper -
 * middle), so z = +1 on the upper band and -1 on the lower one (z = 0 when
 * the bands have no width, a flat window).
 *
 *   mode reversion  flat: z <= -1 (at or below the lower band) goes long,
 *                   z >= +1 short; a long exits once z >= 0, a short once
 *                   z <= 0 (back to the middle band).
 *   mode breakout   flat: z >= +1 (a close at or above the upper band) goes
 *                   long, z <= -1 short; a long exits once z <= 0, a short
 *                   once z >= 0.
 *
 * Exits are judged before entries, so one bar may exit and enter the other
 * way. Entry strength = ±min(1, |z| / 2): 0.5 on the band, 1 two band widths
 * out; confidence 0.5 + 0.5 min(1, |z| - 1): 0.5 on the band, 1 one band
 * width beyond it. An exit has strength 0 and confidence 1. Hand-over: a
 * held position found at start is adopted and closed by the exit rule.
 * Reasons: "close 95.2 below lower band 96.1", "close 100 at middle 100:
 * exit long".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stock.h"

typedef struct bollinger_state {
  stock_view view;
  int ready; /* the bands have had a value on a closed bar */
} bollinger_state;

typedef struct bollinger {
  stock_base base;
  int64_t period;
  double nbdev;
  int breakout;
  const char *source;
  int src;
  const tack_ind *bands; /* upper, middle, lower */
  bollinger_state st;    /* committed: changed by closed bars only */
} bollinger;

static const tack_param_spec bollinger_params[] = {
    {.name = "period",
     .type = TACK_PARAM_INT,
     .min = 2,
     .max = 10000,
     .def = 20,
     .help = "bars in the moving average and deviation"},
    {.name = "nbdev",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.1,
     .max = 10,
     .def = 2.0,
     .help = "band distance from the middle, in standard deviations"},
    {.name = "mode",
     .type = TACK_PARAM_STRING,
     .def_str = "reversion",
     .choices = "reversion|breakout",
     .help = "reversion: fade the bands; breakout: follow a close through them"},
    STOCK_PARAM_SOURCE,
    STOCK_PARAM_INTRABAR,
    {.name = NULL},
};

static int bollinger_create(tack_ctx *ctx, const tack_host *host, void **self) {
  return stock_create(ctx, host, sizeof(bollinger), self);
}

static int bollinger_configure(void *self) {
  bollinger *x = self;
  stock_base *b = &x->base;
  const char *mode = NULL;
  int rc = stock_base_configure(b);
  if (rc == 0)
    rc = b->host->param_int(b->ctx, "period", &x->period);
  if (rc == 0)
    rc = b->host->param_double(b->ctx, "nbdev", &x->nbdev);
  if (rc == 0)
    rc = b->host->param_string(b->ctx, "mode", &mode);
  if (rc == 0)
    rc = b->host->param_string(b->ctx, "source", &x->source);
  if (rc != 0)
    return rc;
  x->breakout = mode && strcmp(mode, "breakout") == 0;
  x->src = stock_source_parse(x->source);

  stock_ind_close(b, &x->bands);
  memset(&x->st, 0, sizeof x->st);
  /* %.17g: the indicator gets exactly the deviation configured. */
  return stock_ind_open(b, &x->bands, "bbands:period=%lld,nbdevup=%.17g,nbdevdn=%.17g,source=%s",
                        (long long)x->period, x->nbdev, x->nbdev, x->source);
}

static void bollinger_destroy(void *self) {
  bollinger *x = self;
  stock_base *b = &x->base;
  stock_ind_close(b, &x->bands);
  b->host->free(b->ctx, x);
}

/* The position wanted at z, starting from side. */
static int wanted(const bollinger *x, int side, double z) {
  if (side > 0 && (x->breakout ? z <= 0 : z >= 0))
    side = 0;
  else if (side < 0 && (x->breakout ? z >= 0 : z <= 0))
    side = 0;
  if (side == 0 && z >= 1.0)
    side = x->breakout ? 1 : -1;
  else if (side == 0 && z <= -1.0)
    side = x->breakout ? -1 : 1;
  return side;
}

static int judge(bollinger *x, bollinger_state *st, double p, const double *bb, tack_signal *out) {
  stock_base *b = &x->base;
  if (!st->ready) {
    st->ready = 1;
    if (b->pos_known)
      stock_adopt(b, &st->view);
    else
      st->view.known = 1;
  }
  double width = bb[0] - bb[1];
  double z = width > 0 ? (p - bb[1]) / width : 0.0;
  int from = st->view.side;
  int side = wanted(x, from, z);
  if (side == from)
    return st->view.restate ? stock_restate(b, &st->view, out) : 0;
  if (side == 0)
    return stock_emit(b, &st->view, out, 0.0, 1.0, "%s %.6g at middle %.6g: exit %s", x->source, p,
                      bb[1], from > 0 ? "long" : "short");
  double strength = side * fmin(1.0, fabs(z) / 2.0);
  double conf = 0.5 + 0.5 * stock_clamp(fabs(z) - 1.0, 0.0, 1.0);
  if (z > 0)
    return stock_emit(b, &st->view, out, strength, conf, "%s %.6g above upper band %.6g", x->source,
                      p, bb[0]);
  return stock_emit(b, &st->view, out, strength, conf, "%s %.6g below lower band %.6g", x->source,
                    p, bb[2]);
}

static int bollinger_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  bollinger *x = self;
  double bb[3] = {0, 0, 0};
  int rc = stock_accept(&x->base, bar);
  if (rc <= 0)
    return rc;
  rc = tack_ind_update(x->bands, bar, bb);
  if (rc <= 0)
    return rc;
  bollinger_state st = x->st;
  rc = judge(x, &st, stock_price(bar, x->src), bb, out);
  if (stock_closed(bar))
    x->st = st;
  return rc;
}

static void bollinger_on_position(void *self, const tack_position *pos) {
  bollinger *x = self;
  stock_on_position(&x->base, &x->st.view, pos);
}

static void bollinger_on_fill(void *self, const tack_fill *fill) {
  bollinger *x = self;
  stock_on_fill(&x->base, &x->st.view, fill);
}

static const tack_strategy_vtable bollinger_vtable = {
    .size = sizeof(tack_strategy_vtable),
    .life = {.create = bollinger_create,
             .configure = bollinger_configure,
             .destroy = bollinger_destroy},
    .on_bar = bollinger_on_bar,
    .on_position = bollinger_on_position,
    .on_fill = bollinger_on_fill,
};

const tack_plugin_desc stock_bollinger_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_STRATEGY,
    .id = "bollinger",
    .name = "Bollinger bands",
    .version = STOCK_VERSION,
    .description = "Fades moves outside the bands back to the middle (mode reversion) or "
                   "follows them (mode breakout).",
    .params = bollinger_params,
    .vtable = &bollinger_vtable,
};
