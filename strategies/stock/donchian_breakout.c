/*
 * donchian_breakout.c: the stock strategy "donchian_breakout", the turtle
 * breakout on Donchian channels.
 *
 * Channels are those of the bars before this one (the highest high and the
 * lowest low of the previous `entry` or `exit` bars), so a bar is compared
 * with a level it did not make itself. On each bar's close:
 *   flat   close above the entry channel's high goes long, below its low
 *          short;
 *   long   close below the exit channel's low goes flat;
 *   short  close above the exit channel's high goes flat.
 * An exit is judged before an entry, so one bar may exit and enter the other
 * way. The close, not the high or low, decides: that is what Heikin-Ashi and
 * Renko bars make meaningful.
 *
 * Entries have strength ±1, exits 0. Entry confidence = 0.5 + 0.5 min(1,
 * beyond / ATR(entry)), beyond being how far the close went past the level:
 * a close one average true range through the channel is as sure as it gets.
 * Exits have confidence 1. Hand-over: a held position found at start is
 * adopted and closed by the exit rule. Reasons: "close 105.2 above 20-bar
 * high 104.9", "close 98 below 10-bar low 98.1: exit long".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stock.h"

typedef struct donchian_state {
  stock_view view;
  int have_prev;             /* the channels of the previous closed bar are known */
  double entry_hi, entry_lo; /* entry channel of the previous closed bar */
  double exit_hi, exit_lo;   /* exit channel of the previous closed bar */
} donchian_state;

typedef struct donchian_breakout {
  stock_base base;
  int64_t entry;
  int64_t exit;
  const tack_ind *entry_ch; /* upper, middle, lower */
  const tack_ind *exit_ch;
  const tack_ind *atr;
  donchian_state st; /* committed: changed by closed bars only */
} donchian_breakout;

static const tack_param_spec donchian_params[] = {
    {.name = "entry",
     .type = TACK_PARAM_INT,
     .min = 2,
     .max = 10000,
     .def = 20,
     .help = "bars of the channel a close must break to enter"},
    {.name = "exit",
     .type = TACK_PARAM_INT,
     .min = 1,
     .max = 10000,
     .def = 10,
     .help = "bars of the channel a close must break against the position to exit; less "
             "than entry"},
    STOCK_PARAM_INTRABAR,
    {.name = NULL},
};

static int donchian_create(tack_ctx *ctx, const tack_host *host, void **self) {
  return stock_create(ctx, host, sizeof(donchian_breakout), self);
}

static void close_all(donchian_breakout *x) {
  stock_ind_close(&x->base, &x->entry_ch);
  stock_ind_close(&x->base, &x->exit_ch);
  stock_ind_close(&x->base, &x->atr);
}

static int donchian_configure(void *self) {
  donchian_breakout *x = self;
  stock_base *b = &x->base;
  int rc = stock_base_configure(b);
  if (rc == 0)
    rc = b->host->param_int(b->ctx, "entry", &x->entry);
  if (rc == 0)
    rc = b->host->param_int(b->ctx, "exit", &x->exit);
  if (rc != 0)
    return rc;
  /* An exit channel as wide as the entry one would only close a position
   * where the opposite entry opens one: that is a reversal system, not
   * this. */
  if (x->exit >= x->entry)
    return b->host->param_error(b->ctx, "exit", "must be less than entry (%lld), got %lld",
                                (long long)x->entry, (long long)x->exit);

  close_all(x);
  memset(&x->st, 0, sizeof x->st);
  rc = stock_ind_open(b, &x->entry_ch, "donchian:period=%lld", (long long)x->entry);
  if (rc == 0)
    rc = stock_ind_open(b, &x->exit_ch, "donchian:period=%lld", (long long)x->exit);
  if (rc == 0)
    rc = stock_ind_open(b, &x->atr, "atr:period=%lld", (long long)x->entry);
  return rc;
}

static void donchian_destroy(void *self) {
  donchian_breakout *x = self;
  close_all(x);
  x->base.host->free(x->base.ctx, x);
}

static double entry_confidence(double beyond, double atr) {
  return atr > 0 ? 0.5 + 0.5 * fmin(1.0, beyond / atr) : 1.0;
}

static int judge(donchian_breakout *x, donchian_state *st, double c, double atr, tack_signal *out) {
  stock_base *b = &x->base;
  int from = st->view.side;
  int side = from;
  if (side > 0 && c < st->exit_lo)
    side = 0;
  else if (side < 0 && c > st->exit_hi)
    side = 0;
  if (side == 0 && c > st->entry_hi)
    side = 1;
  else if (side == 0 && c < st->entry_lo)
    side = -1;

  if (side == from)
    return st->view.restate ? stock_restate(b, &st->view, out) : 0;
  if (side > 0)
    return stock_emit(b, &st->view, out, 1.0, entry_confidence(c - st->entry_hi, atr),
                      "close %.6g above %lld-bar high %.6g", c, (long long)x->entry, st->entry_hi);
  if (side < 0)
    return stock_emit(b, &st->view, out, -1.0, entry_confidence(st->entry_lo - c, atr),
                      "close %.6g below %lld-bar low %.6g", c, (long long)x->entry, st->entry_lo);
  if (from > 0)
    return stock_emit(b, &st->view, out, 0.0, 1.0, "close %.6g below %lld-bar low %.6g: exit long",
                      c, (long long)x->exit, st->exit_lo);
  return stock_emit(b, &st->view, out, 0.0, 1.0, "close %.6g above %lld-bar high %.6g: exit short",
                    c, (long long)x->exit, st->exit_hi);
}

static int donchian_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  donchian_breakout *x = self;
  double en[3] = {0, 0, 0}, ex[3] = {0, 0, 0}, atr = 0;
  int rc = stock_accept(&x->base, bar);
  if (rc <= 0)
    return rc;
  int rcs[3] = {tack_ind_update(x->entry_ch, bar, en), tack_ind_update(x->exit_ch, bar, ex),
                tack_ind_update(x->atr, bar, &atr)};
  rc = stock_ready(rcs, 3);
  if (rc < 0)
    return rc;
  donchian_state st = x->st;
  rc = 0;
  if (st.have_prev && rcs[2] == 1) {
    if (!st.view.known) {
      if (x->base.pos_known)
        stock_adopt(&x->base, &st.view);
      else
        st.view.known = 1;
    }
    rc = judge(x, &st, bar->close, atr, out);
  }
  /* The channels of this bar are those the next bar is compared with. */
  if (rcs[0] == 1 && rcs[1] == 1) {
    st.have_prev = 1;
    st.entry_hi = en[0];
    st.entry_lo = en[2];
    st.exit_hi = ex[0];
    st.exit_lo = ex[2];
  }
  if (stock_closed(bar))
    x->st = st;
  return rc;
}

static void donchian_on_position(void *self, const tack_position *pos) {
  donchian_breakout *x = self;
  stock_on_position(&x->base, &x->st.view, pos);
}

static void donchian_on_fill(void *self, const tack_fill *fill) {
  donchian_breakout *x = self;
  stock_on_fill(&x->base, &x->st.view, fill);
}

static const tack_strategy_vtable donchian_vtable = {
    .size = sizeof(tack_strategy_vtable),
    .life = {.create = donchian_create,
             .configure = donchian_configure,
             .destroy = donchian_destroy},
    .on_bar = donchian_on_bar,
    .on_position = donchian_on_position,
    .on_fill = donchian_on_fill,
};

const tack_plugin_desc stock_donchian_breakout_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_STRATEGY,
    .id = "donchian_breakout",
    .name = "Donchian breakout",
    .version = STOCK_VERSION,
    .description = "Turtle breakout: long above the entry channel's high, short below its low, "
                   "out when the close breaks the shorter exit channel against the position.",
    .params = donchian_params,
    .vtable = &donchian_vtable,
};
