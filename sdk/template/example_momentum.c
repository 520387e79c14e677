/*
 * example_momentum.c: the template strategy "example.momentum". On each
 * closed bar it looks at the return of the close over the last `lookback`
 * bars and turns it into a signal: its sign is the direction, its size
 * (relative to `scale`, the return that counts as a full-strength move) the
 * strength, clamped to [-1, +1].
 *
 *     ret      = close[t] / close[t - lookback] - 1
 *     strength = clamp(ret / scale, -1, +1)
 *
 * A strategy only says what it would like to hold (+1 fully long, -1 fully
 * short, 0 flat); the host's trader turns that into orders, sized and
 * checked by the risk gate. So a strategy never places orders itself.
 * docs/plugin-tutorial.md builds this file step by step.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <tack.h>

typedef struct momentum {
  tack_ctx *ctx;
  const tack_host *host;
  uint32_t lookback;    /* bars between the two closes compared */
  double scale;         /* return that maps to strength 1 */
  uint32_t timeframe_s; /* the timeframe this instance follows, 0 until the first bar */
  uint32_t count;       /* closed bars in closes, at most lookback + 1 */
  uint32_t next;        /* slot of closes the next close goes to */
  double *closes;       /* the last lookback + 1 closes, a ring */
} momentum;

static const tack_param_spec momentum_params[] = {
    {.name = "lookback",
     .type = TACK_PARAM_INT,
     .min = 1,
     .max = 10000,
     .def = 10,
     .help = "bars over which the return is measured"},
    {.name = "scale",
     .type = TACK_PARAM_DOUBLE,
     .min = 1e-6,
     .max = 10.0,
     .def = 0.02,
     .help = "return (0.02 = 2%) that gives a full-strength signal"},
    {.name = NULL},
};

static int momentum_create(tack_ctx *ctx, const tack_host *host, void **self) {
  momentum *m = host->alloc(ctx, sizeof *m);
  if (m == NULL)
    return TACK_ENOMEM;
  memset(m, 0, sizeof *m);
  m->ctx = ctx;
  m->host = host;
  *self = m;
  return 0;
}

static int momentum_configure(void *self) {
  momentum *m = self;
  int64_t lookback;
  double scale;
  int rc = m->host->param_int(m->ctx, "lookback", &lookback);
  if (rc < 0)
    return rc;
  rc = m->host->param_double(m->ctx, "scale", &scale);
  if (rc < 0)
    return rc;
  size_t n = (size_t)lookback + 1;
  double *closes = m->host->realloc(m->ctx, m->closes, n * sizeof *closes);
  if (closes == NULL)
    return TACK_ENOMEM;
  m->closes = closes;
  m->lookback = (uint32_t)lookback;
  m->scale = scale;
  m->timeframe_s = 0;
  m->count = 0;
  m->next = 0;
  return 0;
}

static void momentum_destroy(void *self) {
  momentum *m = self;
  tack_ctx *ctx = m->ctx;
  const tack_host *host = m->host;
  host->free(ctx, m->closes);
  host->free(ctx, m);
}

/*
 * on_bar: returns 1 when *out holds a new signal, 0 to abstain (the last
 * signal stands), or a TACK_E* code. The bar is borrowed for the call.
 *
 * This strategy acts on closed bars only: a forming bar would make the
 * signal flicker within the interval. A composite config may feed one
 * strategy bars of several timeframes (bar->timeframe_s tells them apart);
 * this one follows the first timeframe it sees and ignores the others.
 */
static int momentum_on_bar(void *self, const tack_bar *bar, tack_signal *out) {
  momentum *m = self;
  if (!(bar->flags & TACK_BAR_CLOSED))
    return 0;
  if (!isfinite(bar->close))
    return TACK_EINVAL;
  if (m->timeframe_s == 0)
    m->timeframe_s = bar->timeframe_s;
  else if (bar->timeframe_s != m->timeframe_s)
    return 0;

  uint32_t size = m->lookback + 1;
  m->closes[m->next] = bar->close;
  m->next = (m->next + 1) % size;
  if (m->count < size)
    m->count++;
  if (m->count < size)
    return 0; /* warming up: fewer than lookback + 1 closes */

  /* The ring is full: its oldest close, lookback bars ago, is the one that
   * will be overwritten next. */
  double base = m->closes[m->next];
  if (!(base > 0.0))
    return 0; /* a return from a zero or negative price means nothing */

  double ret = bar->close / base - 1.0;
  double strength = ret / m->scale;
  if (strength > 1.0)
    strength = 1.0;
  else if (strength < -1.0)
    strength = -1.0;

  out->ts = m->host->now(m->ctx);
  out->strength = strength;
  /* A fixed rule has no measure of its own reliability; composites that
   * weight by confidence treat every instance of it alike. */
  out->confidence = 1.0;
  /* snprintf, never sprintf: the reason field is fixed-size. */
  snprintf(out->reason, sizeof out->reason, "return %+.2f%% over %u bars", ret * 100.0,
           (unsigned)m->lookback);
  return 1;
}

/* on_position and on_fill are optional and left NULL: this strategy's
 * opinion does not depend on what is held. A strategy that does (one that
 * takes profit, say) learns the position from on_position once before its
 * first bar, since it may be started while a position is open. */
static const tack_strategy_vtable momentum_vtable = {
    .size = sizeof(tack_strategy_vtable),
    .life =
        {
            .create = momentum_create,
            .configure = momentum_configure,
            .destroy = momentum_destroy,
        },
    .on_bar = momentum_on_bar,
};

static const tack_plugin_desc momentum_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_STRATEGY,
    .id = "example.momentum",
    .name = "Momentum (example)",
    .version = "1.0.0",
    .description = "Signal from the sign and size of the return over `lookback` bars.",
    .params = momentum_params,
    .vtable = &momentum_vtable,
};

TACK_PLUGINS(&momentum_desc);
