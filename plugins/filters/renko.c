/*
 * renko.c: the Renko candle filter. Turns each input bar into zero or more
 * bricks of one brick size, ignoring time. docs/filters.md states the rules
 * with examples; in short:
 *
 *  - Base: the close of the first bar (mode fixed) or of the bar at which the
 *    ATR brick size becomes known (mode atr) is the base price. That bar
 *    makes no brick.
 *  - Continuation: a brick in the trend's direction for every brick size the
 *    price travels beyond the last brick's close (the first brick, in either
 *    direction, the same from the base).
 *  - Reversal (parameter `reversal` = r): the price must travel r brick sizes
 *    beyond the last brick's close against the trend. With r >= 2 the bricks
 *    then start at the last brick's open, so they never overlap it (r = 2 is
 *    the classic rule); with r = 1 they start at its close.
 *  - source close: only the bar's close moves the price. source highlow: the
 *    price moves along o -> l -> h -> c when c >= o, else o -> h -> l -> c.
 *  - A brick's open and close are its edges, high/low the larger/smaller
 *    edge. Its volume: the first brick a bar makes carries every input volume
 *    since the previous brick (this bar's included); further bricks of that
 *    bar carry 0. The i-th brick of a bar (from 0) has ts = bar ts + i ns,
 *    moved later if needed to stay after the previous committed brick.
 *  - ATR mode: Wilder's ATR with TA-Lib's seed (the mean true range of bars
 *    1..N, at bar N). atr_refresh once: the size is ATR x multiplier at the
 *    first bar with a positive ATR, then fixed. atr_refresh brick: each time
 *    a brick forms, the next brick's size becomes ATR x multiplier with the
 *    ATR of the bars before the current one.
 *
 * Only a closed input changes the state. A provisional one works on a copy;
 * a closed one works in place but first takes a backup, restored when the
 * update fails (TACK_ENOSPC, TACK_ERANGE), so a failed update leaves the
 * filter as it was.
 */
#include <math.h>
#include <string.h>

#include "filters.h"

typedef struct renko_params {
  int atr_mode;           /* 0: fixed brick_size; 1: from the ATR */
  int refresh_each_brick; /* ATR mode: re-evaluate the size at each brick */
  int highlow;            /* move through the bar's extremes, not only its close */
  double brick_size;
  int64_t atr_period;
  double atr_multiplier;
  int64_t reversal;
} renko_params;

typedef struct renko_state {
  int based;             /* the base price is set: bricks may form */
  int dir;               /* 0 before the first brick, +1 last brick up, -1 down */
  double hi;             /* the last brick's upper and lower edges; both the base */
  double lo;             /* price before the first brick */
  double size;           /* brick size in force; 0 until known */
  double pending_volume; /* input volume not yet carried by a brick */
  int have_last_ts;
  tack_time last_ts; /* ts of the last brick made */
  /* ATR, Wilder smoothing with TA-Lib's seed. */
  int64_t n_bars; /* closed bars seen */
  double prev_close;
  double tr_sum;
  double atr;
  int atr_ready;
} renko_state;

typedef struct renko {
  tack_ctx *ctx;
  const tack_host *host;
  renko_params p;
  renko_state st; /* committed: changed by closed inputs only */
} renko;

/* Where the bricks of one update go. */
typedef struct brick_out {
  const tack_bar *in;
  tack_bar *out;
  uint32_t cap;
  uint32_t n;
  uint32_t flags;
} brick_out;

static const tack_param_spec renko_params_spec[] = {
    {"mode", TACK_PARAM_STRING, 0, 0, 0, 0, "fixed", "fixed|atr",
     "brick size: fixed (brick_size) or ATR x atr_multiplier"},
    {"brick_size", TACK_PARAM_DOUBLE, 0, 0, 1e300, 0, NULL, NULL,
     "brick height in price units; required (> 0) with mode fixed"},
    {"atr_period", TACK_PARAM_INT, 0, 1, 100000, 14, NULL, NULL,
     "ATR period N (mode atr); the size is known from bar N on"},
    {"atr_multiplier", TACK_PARAM_DOUBLE, 0, 0, 1e6, 1, NULL, NULL,
     "brick size = ATR x this (mode atr; > 0)"},
    {"atr_refresh", TACK_PARAM_STRING, 0, 0, 0, 0, "once", "once|brick",
     "mode atr: fix the size once the ATR is ready, or re-evaluate it at each brick"},
    {"source", TACK_PARAM_STRING, 0, 0, 0, 0, "close", "close|highlow",
     "price that moves the bricks: the close, or the bar's path through its high and low"},
    {"reversal", TACK_PARAM_INT, 0, 1, 100, 2, NULL, NULL,
     "brick sizes the price must travel against the trend to reverse (2: classic)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static void renko_clear(renko_state *st) { memset(st, 0, sizeof *st); }

static int renko_read_params(renko *r) {
  const tack_host *h = r->host;
  renko_params p = {0};
  const char *mode = NULL, *refresh = NULL, *source = NULL;
  int rc;
  if ((rc = h->param_string(r->ctx, "mode", &mode)) != 0 ||
      (rc = h->param_double(r->ctx, "brick_size", &p.brick_size)) != 0 ||
      (rc = h->param_int(r->ctx, "atr_period", &p.atr_period)) != 0 ||
      (rc = h->param_double(r->ctx, "atr_multiplier", &p.atr_multiplier)) != 0 ||
      (rc = h->param_string(r->ctx, "atr_refresh", &refresh)) != 0 ||
      (rc = h->param_string(r->ctx, "source", &source)) != 0 ||
      (rc = h->param_int(r->ctx, "reversal", &p.reversal)) != 0)
    return rc;
  p.atr_mode = strcmp(mode, "atr") == 0;
  p.refresh_each_brick = strcmp(refresh, "brick") == 0;
  p.highlow = strcmp(source, "highlow") == 0;
  /* What the spec's inclusive bounds cannot say. */
  if (!p.atr_mode && !(p.brick_size > 0))
    return h->param_error(r->ctx, "brick_size",
                          "mode fixed needs brick_size > 0 (got %g); set it, or use mode atr",
                          p.brick_size);
  if (p.atr_mode && !(p.atr_multiplier > 0))
    return h->param_error(r->ctx, "atr_multiplier", "must be > 0 (got %g)", p.atr_multiplier);
  if (p.atr_period < 1 || p.reversal < 1)
    return h->param_error(r->ctx, p.reversal < 1 ? "reversal" : "atr_period", "must be >= 1");
  r->p = p;
  return 0;
}

/* Parameters may change between configure calls: history made with the old
 * ones is meaningless, so configure starts afresh. */
static int renko_configure(void *self) {
  renko *r = self;
  int rc = renko_read_params(r);
  if (rc != 0)
    return rc;
  renko_clear(&r->st);
  return 0;
}

static int renko_create(tack_ctx *ctx, const tack_host *host, void **self) {
  renko *r = host->alloc(ctx, sizeof *r);
  if (!r)
    return TACK_ENOMEM;
  memset(r, 0, sizeof *r);
  r->ctx = ctx;
  r->host = host;
  int rc = renko_configure(r);
  if (rc != 0)
    goto fail;
  *self = r;
  return 0;
fail:
  host->free(ctx, r);
  return rc;
}

static void renko_destroy(void *self) {
  renko *r = self;
  r->host->free(r->ctx, r);
}

static void renko_reset(void *self) {
  renko *r = self;
  renko_clear(&r->st);
}

/* Append one brick; TACK_ENOSPC when out is full, TACK_ERANGE when the size
 * is below the price's resolution (the brick would have no height and the
 * price would never leave it). */
static int brick(renko_state *st, brick_out *o, double open, double close) {
  if (open == close)
    return TACK_ERANGE;
  if (o->n == o->cap)
    return TACK_ENOSPC;
  tack_bar *b = &o->out[o->n];
  tack_time ts = o->in->ts + (tack_time)o->n;
  if (st->have_last_ts && ts <= st->last_ts)
    ts = st->last_ts + 1;
  b->ts = ts;
  b->open = open;
  b->close = close;
  b->high = filters_max(open, close);
  b->low = filters_min(open, close);
  b->volume = st->pending_volume;
  b->timeframe_s = o->in->timeframe_s;
  b->flags = o->flags;
  st->pending_volume = 0;
  st->have_last_ts = 1;
  st->last_ts = ts;
  st->dir = close > open ? 1 : -1;
  st->hi = b->high;
  st->lo = b->low;
  o->n++;
  return 0;
}

/* atr_refresh brick: the next brick's size from the ATR of the closed bars
 * before the one being processed (the ATR is updated after the moves). */
static void refresh_size(const renko_params *p, renko_state *st) {
  if (!p->refresh_each_brick || !st->atr_ready)
    return;
  double s = st->atr * p->atr_multiplier;
  if (s > 0 && isfinite(s))
    st->size = s;
}

/* The price moves to `price`: make every brick that completes. */
static int move_to(const renko_params *p, renko_state *st, brick_out *o, double price) {
  int rc = 0;
  for (;;) {
    double s = st->size;
    if (st->dir >= 0 && price >= st->hi + s) {
      rc = brick(st, o, st->hi, st->hi + s);
    } else if (st->dir <= 0 && price <= st->lo - s) {
      rc = brick(st, o, st->lo, st->lo - s);
    } else if (st->dir != 0) {
      /* Reversal: r brick sizes from the last close, the new bricks starting
       * at the last brick's open (r >= 2) or close (r = 1). */
      double need = p->reversal == 1 ? 1 : (double)(p->reversal - 1);
      int up = st->dir < 0;
      double start =
          up ? (p->reversal == 1 ? st->lo : st->hi) : (p->reversal == 1 ? st->hi : st->lo);
      if (up && price >= start + need * s)
        rc = brick(st, o, start, start + s);
      else if (!up && price <= start - need * s)
        rc = brick(st, o, start, start - s);
      else
        return 0;
    } else {
      return 0;
    }
    if (rc != 0)
      return rc;
    refresh_size(p, st);
  }
}

static void atr_update(const renko_params *p, renko_state *st, const tack_bar *in) {
  if (st->n_bars > 0) {
    double tr = filters_max(in->high - in->low, filters_max(fabs(in->high - st->prev_close),
                                                            fabs(in->low - st->prev_close)));
    if (st->n_bars <= p->atr_period) {
      st->tr_sum += tr;
      if (st->n_bars == p->atr_period) {
        st->atr = st->tr_sum / (double)p->atr_period;
        st->atr_ready = 1;
      }
    } else {
      st->atr = (st->atr * (double)(p->atr_period - 1) + tr) / (double)p->atr_period;
    }
  }
  st->prev_close = in->close;
  st->n_bars++;
}

/* Set the base price once the brick size is known (end of a bar). */
static void try_base(const renko_params *p, renko_state *st, const tack_bar *in) {
  if (st->based)
    return;
  double s = p->brick_size;
  if (p->atr_mode) {
    if (!st->atr_ready)
      return;
    s = st->atr * p->atr_multiplier;
    /* A flat market has ATR 0: wait for a bar with a range. */
    if (!(s > 0) || !isfinite(s))
      return;
  }
  st->size = s;
  st->based = 1;
  st->hi = in->close;
  st->lo = in->close;
}

static int renko_update(void *self, const tack_bar *in, tack_bar *out, uint32_t cap,
                        uint32_t *n_out) {
  renko *r = self;
  *n_out = 0;
  if (!isfinite(in->open) || !isfinite(in->high) || !isfinite(in->low) || !isfinite(in->close) ||
      !isfinite(in->volume))
    return TACK_EINVAL;
  int closed = (in->flags & TACK_BAR_CLOSED) != 0;
  renko_state saved = r->st;
  renko_state *st = closed ? &r->st : &saved;
  brick_out o = {in, out, cap, 0, closed ? TACK_BAR_CLOSED : 0u};
  int rc = 0;
  st->pending_volume += in->volume;
  if (st->based) {
    if (r->p.highlow) {
      int bull = in->close >= in->open;
      double path[4] = {in->open, bull ? in->low : in->high, bull ? in->high : in->low, in->close};
      for (int i = 0; i < 4 && rc == 0; i++)
        rc = move_to(&r->p, st, &o, path[i]);
    } else {
      rc = move_to(&r->p, st, &o, in->close);
    }
  }
  if (rc != 0) {
    if (closed)
      r->st = saved;
    return rc;
  }
  if (r->p.atr_mode)
    atr_update(&r->p, st, in);
  try_base(&r->p, st, in);
  *n_out = o.n;
  return 0;
}

static const tack_filter_vtable renko_vtable = {
    .size = sizeof(tack_filter_vtable),
    .life = {.create = renko_create, .configure = renko_configure, .destroy = renko_destroy},
    .update = renko_update,
    .reset = renko_reset,
};

const tack_plugin_desc filters_renko_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_FILTER,
    .id = "renko",
    .name = "Renko bricks",
    .version = "1.0.0",
    .description = "Bricks of a fixed or ATR-derived size that form only when the price "
                   "travels a whole brick; reversals need `reversal` bricks.",
    .params = renko_params_spec,
    .vtable = &renko_vtable,
};
