/*
 * macd_trend.c: the stock strategy "macd_trend", trend following on the MACD
 * histogram (MACD line minus its signal line).
 *
 * The side is the histogram's sign (a zero histogram keeps the side it had);
 * a change of side is a cross of the MACD line over its signal line.
 *
 *   mode scaled  strength = clamp(hist / (scale * ATR(slow)), -1, +1): the
 *                histogram measured in average true ranges, so the same
 *                setting means the same on any price level and volatility.
 *                Emitted on every cross, and between crosses whenever the
 *                strength has moved by `step` or more since last emitted.
 *                A hand-over keeps a held position whose side agrees.
 *   mode cross   strength ±1 on each cross only; a held position found at
 *                start is adopted (no second entry in its direction).
 *
 * confidence: 1 when the MACD line itself is on the signal's side of zero
 * (the cross confirms the trend), 0.5 when not (a counter-trend cross).
 * Reasons: "macd hist +0.42 atr", "macd crossed above signal".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stock.h"

typedef struct macd_state {
  stock_view view;
  int side; /* sign of the histogram, 0 until it is first non-zero */
} macd_state;

typedef struct macd_trend {
  stock_base base;
  int64_t fast;
  int64_t slow;
  int64_t signal;
  int cross_mode;
  double scale;
  double step;
  const char *source;
  const tack_ind *macd; /* macd, signal, hist */
  const tack_ind *atr;
  macd_state st; /* committed: changed by closed bars only */
} macd_trend;

static const tack_param_spec macd_trend_params[] = {
    {.name = "fast",
     .type = TACK_PARAM_INT,
     .min = 2,
     .max = 10000,
     .def = 12,
     .help = "fast EMA period; less than slow"},
    {.name = "slow",
     .type = TACK_PARAM_INT,
     .min = 3,
     .max = 10000,
     .def = 26,
     .help = "slow EMA period, also the ATR period of the scaling"},
    {.name = "signal",
     .type = TACK_PARAM_INT,
     .min = 1,
     .max = 10000,
     .def = 9,
     .help = "signal line EMA period"},
    {.name = "mode",
     .type = TACK_PARAM_STRING,
     .def_str = "scaled",
     .choices = "scaled|cross",
     .help = "scaled: strength from the histogram in ATRs; cross: ±1 on each cross"},
    {.name = "scale",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.001,
     .max = 100,
     .def = 0.5,
     .help = "scaled: histogram, in ATRs, that gives full strength"},
    {.name = "step",
     .type = TACK_PARAM_DOUBLE,
     .min = 0,
     .max = 2,
     .def = 0.25,
     .help = "scaled: least change of strength emitted between crosses (2: crosses only)"},
    STOCK_PARAM_SOURCE,
    STOCK_PARAM_INTRABAR,
    {.name = NULL},
};

static int macd_create(tack_ctx *ctx, const tack_host *host, void **self) {
  return stock_create(ctx, host, sizeof(macd_trend), self);
}

static int macd_configure(void *self) {
  macd_trend *x = self;
  stock_base *b = &x->base;
  const char *mode = NULL;
  int rc = stock_base_configure(b);
  if (rc == 0)
    rc = b->host->param_int(b->ctx, "fast", &x->fast);
  if (rc == 0)
    rc = b->host->param_int(b->ctx, "slow", &x->slow);
  if (rc == 0)
    rc = b->host->param_int(b->ctx, "signal", &x->signal);
  if (rc == 0)
    rc = b->host->param_string(b->ctx, "mode", &mode);
  if (rc == 0)
    rc = b->host->param_double(b->ctx, "scale", &x->scale);
  if (rc == 0)
    rc = b->host->param_double(b->ctx, "step", &x->step);
  if (rc == 0)
    rc = b->host->param_string(b->ctx, "source", &x->source);
  if (rc != 0)
    return rc;
  /* The indicator would swap them silently; a config that says the
   * opposite of what it means is better refused. */
  if (x->fast >= x->slow)
    return b->host->param_error(b->ctx, "slow", "must be greater than fast (%lld), got %lld",
                                (long long)x->fast, (long long)x->slow);
  x->cross_mode = mode && strcmp(mode, "cross") == 0;

  stock_ind_close(b, &x->macd);
  stock_ind_close(b, &x->atr);
  memset(&x->st, 0, sizeof x->st);
  rc = stock_ind_open(b, &x->macd, "macd:fast=%lld,slow=%lld,signal=%lld,source=%s",
                      (long long)x->fast, (long long)x->slow, (long long)x->signal, x->source);
  if (rc == 0)
    rc = stock_ind_open(b, &x->atr, "atr:period=%lld", (long long)x->slow);
  return rc;
}

static void macd_destroy(void *self) {
  macd_trend *x = self;
  stock_base *b = &x->base;
  stock_ind_close(b, &x->macd);
  stock_ind_close(b, &x->atr);
  b->host->free(b->ctx, x);
}

static int judge(macd_trend *x, macd_state *st, const double *m, double atr, tack_signal *out) {
  stock_base *b = &x->base;
  double hist = m[2];
  int dir = stock_sign(hist);
  if (dir == 0)
    dir = st->side;
  int first = st->side == 0 && dir != 0;
  int crossed = st->side != 0 && dir != st->side;
  double conf = stock_sign(m[0]) == dir ? 1.0 : 0.5;
  /* In ATRs; on a range of exactly zero (a flat market) only the sign. */
  double unit = x->scale * atr;
  double scaled = unit > 0 ? stock_clamp(hist / unit, -1.0, 1.0) : (double)dir;
  int rc = 0;
  st->side = dir;

  if (x->cross_mode) {
    if (first && b->pos_known)
      stock_adopt(b, &st->view);
    else if (crossed && !(st->view.known && st->view.side == dir && !st->view.restate))
      rc = stock_emit(b, &st->view, out, dir, conf, "macd crossed %s signal",
                      dir > 0 ? "above" : "below");
  } else if (first && b->pos_known && stock_held(b) == dir) {
    /* Keep the held side; the step rule then resizes from today's
     * strength, not from the full position adopted. */
    stock_adopt(b, &st->view);
    st->view.strength = scaled;
  } else if (first || crossed || (st->view.known && fabs(scaled - st->view.strength) >= x->step)) {
    rc = stock_emit(b, &st->view, out, scaled, conf, "macd hist %+.2f atr",
                    atr > 0 ? hist / atr : 0);
  }
  if (rc == 0 && st->view.restate)
    rc = stock_restate(b, &st->view, out);
  return rc;
}

static int macd_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  macd_trend *x = self;
  double m[3] = {0, 0, 0}, atr = 0;
  int rc = stock_accept(&x->base, bar);
  if (rc <= 0)
    return rc;
  int rcs[2] = {tack_ind_update(x->macd, bar, m), tack_ind_update(x->atr, bar, &atr)};
  rc = stock_ready(rcs, 2);
  if (rc <= 0)
    return rc;
  macd_state st = x->st;
  rc = judge(x, &st, m, atr, out);
  if (stock_closed(bar))
    x->st = st;
  return rc;
}

static void macd_on_position(void *self, const tack_position *pos) {
  macd_trend *x = self;
  stock_on_position(&x->base, &x->st.view, pos);
}

static void macd_on_fill(void *self, const tack_fill *fill) {
  macd_trend *x = self;
  stock_on_fill(&x->base, &x->st.view, fill);
}

static const tack_strategy_vtable macd_trend_vtable = {
    .size = sizeof(tack_strategy_vtable),
    .life = {.create = macd_create, .configure = macd_configure, .destroy = macd_destroy},
    .on_bar = macd_on_bar,
    .on_position = macd_on_position,
    .on_fill = macd_on_fill,
};

const tack_plugin_desc stock_macd_trend_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_STRATEGY,
    .id = "macd_trend",
    .name = "MACD trend",
    .version = STOCK_VERSION,
    .description = "Follows the sign of the MACD histogram; strength is the histogram in ATRs "
                   "(mode scaled) or ±1 on each cross (mode cross).",
    .params = macd_trend_params,
    .vtable = &macd_trend_vtable,
};
