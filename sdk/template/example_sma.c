/*
 * example_sma.c: the template indicator "example.sma", the simple moving
 * average of the close over `period` bars, computed the way TA-Lib's TA_SMA
 * computes it (first value at bar period - 1, the same additions in the same
 * order, so the values match TA-Lib's bit for bit).
 *
 * This file is a complete plugin and the place to start an indicator of your
 * own: copy it, change the id and the names, and build it with the Makefile
 * or CMakeLists.txt beside it (see README.md). Every plugin has the same six
 * parts, in this order:
 *   1. the instance state: one struct per instance the config declares;
 *   2. the parameter spec: what the config may set, checked by the host;
 *   3. the lifecycle: create, configure, (start, stop,) destroy;
 *   4. the callbacks of its kind: for an indicator update, lookback, reset;
 *   5. the vtable and the descriptor: static const data the host reads;
 *   6. TACK_PLUGINS(): the one symbol the shared object exports.
 * Everything but that symbol is `static`: a plugin shares no names with the
 * host or with other plugins, and it never links against the host.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <tack.h>

/* 1. Instance state. The host may create several instances of one plugin
 * (one per strategy that uses it, one per symbol), so every bit of state
 * lives here and never in a global. */
typedef struct sma {
  tack_ctx *ctx;         /* the host's handle for this instance */
  const tack_host *host; /* the host's services, valid until destroy */
  uint32_t period;       /* bars in the average, from the config */
  uint32_t count;        /* closed bars in window, at most period */
  uint32_t next;         /* slot of window the next closed bar goes to */
  double *window;        /* the last `period` closes, a ring */
  double partial;        /* sum of the last period - 1 closes */
} sma;

/* 2. Parameters. The host checks the config against this table before any
 * code of the plugin runs: an unknown key, a value that is not an integer
 * or a period outside [1, 100000] is reported with the config file and
 * line, and the plugin never sees it. A parameter the config leaves out
 * takes its default, .def. The table ends with an entry whose name is NULL. */
static const tack_param_spec sma_params[] = {
    {.name = "period",
     .type = TACK_PARAM_INT,
     .min = 1,
     .max = 100000,
     .def = 20,
     .help = "number of closed bars averaged"},
    {.name = NULL},
};

/* The indicator's output columns: strategies and the ML feature spec refer to
 * them by name ("sma"). One column here; MACD would have three. */
static const tack_output_spec sma_outputs[] = {
    {.name = "sma", .help = "mean close of the last `period` bars"},
    {.name = NULL},
};

/* 3. Lifecycle. */

/* create: allocate the instance and keep ctx and host for later calls.
 * Memory comes from host->alloc rather than malloc so that `tack` can
 * account it to this plugin and report what destroy forgets to free. */
static int sma_create(tack_ctx *ctx, const tack_host *host, void **self) {
  sma *s = host->alloc(ctx, sizeof *s);
  if (s == NULL)
    return TACK_ENOMEM;
  memset(s, 0, sizeof *s);
  s->ctx = ctx;
  s->host = host;
  *self = s;
  return 0;
}

/* reset: forget every bar seen. The host calls it, for example, before it
 * replays history into an indicator that already ran. */
static void sma_reset(void *self) {
  sma *s = self;
  s->count = 0;
  s->next = 0;
  s->partial = 0.0;
}

/* configure: read the parameters and size the state. It runs after create
 * and again when an operator changes parameters of a stopped instance, so
 * it resizes what create left rather than assume a fresh instance, and it
 * starts the average over: a window of the old period means nothing now. */
static int sma_configure(void *self) {
  sma *s = self;
  int64_t period;
  int rc = s->host->param_int(s->ctx, "period", &period);
  if (rc < 0)
    return rc;
  /* The spec already guarantees 1 <= period <= 100000. */
  double *window = s->host->realloc(s->ctx, s->window, (size_t)period * sizeof *window);
  if (window == NULL)
    return TACK_ENOMEM; /* the old window is still ours; destroy frees it */
  s->window = window;
  s->period = (uint32_t)period;
  sma_reset(s);
  return 0;
}

/* destroy: free everything. It runs exactly once after a successful create,
 * also when configure failed. */
static void sma_destroy(void *self) {
  sma *s = self;
  tack_ctx *ctx = s->ctx;
  const tack_host *host = s->host;
  host->free(ctx, s->window);
  host->free(ctx, s);
}

/* 4. The indicator's callbacks. */

/* lookback: the index of the first bar with a value. The host uses it to
 * know how much history to load before a strategy can act. */
static int sma_lookback(void *self) {
  const sma *s = self;
  return (int)s->period - 1;
}

/*
 * update: one bar in, the average out. Returns 1 with out[0] set, or 0
 * while fewer than `period` bars were seen.
 *
 * A bar without TACK_BAR_CLOSED is still forming: the next call brings the
 * same interval again, updated. So a provisional bar is computed from the
 * closed state without changing it, and only a closed bar moves the window.
 */
static int sma_update(void *self, const tack_bar *bar, double *out) {
  sma *s = self;
  if (!isfinite(bar->close))
    return TACK_EINVAL; /* outputs must stay finite: refuse, do not poison */

  int closed = (bar->flags & TACK_BAR_CLOSED) != 0;
  if (s->count + 1 < s->period) {
    /* Warming up: collect the first period - 1 closes. */
    if (closed) {
      s->partial += bar->close;
      s->window[s->next] = bar->close;
      s->next = (s->next + 1) % s->period;
      s->count++;
    }
    return 0;
  }

  /* TA-Lib's order: add the new close, divide, then drop the oldest. */
  double total = s->partial + bar->close;
  out[0] = total / s->period;
  if (closed) {
    s->window[s->next] = bar->close;
    s->next = (s->next + 1) % s->period;
    if (s->count < s->period)
      s->count++;
    /* The window is full: its oldest close is the one written next. */
    s->partial = total - s->window[s->next];
  }
  return 1;
}

/* 5. The vtable and the descriptor. Both start with their size so that a
 * host of a later ABI minor, with longer structs, knows which fields this
 * plugin knows about. Optional callbacks (start, stop here) stay NULL. */
static const tack_indicator_vtable sma_vtable = {
    .size = sizeof(tack_indicator_vtable),
    .life =
        {
            .create = sma_create,
            .configure = sma_configure,
            .destroy = sma_destroy,
        },
    .outputs = sma_outputs,
    .lookback = sma_lookback,
    .update = sma_update,
    .reset = sma_reset,
};

static const tack_plugin_desc sma_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_INDICATOR,
    .id = "example.sma", /* unique among all plugins the host loads */
    .name = "Simple moving average (example)",
    .version = "1.0.0",
    .description = "Mean close of the last `period` bars, as TA-Lib's SMA.",
    .params = sma_params,
    .vtable = &sma_vtable,
};

/* 6. The entry symbol. One TACK_PLUGINS() per shared object; a shared object
 * that carries several plugins lists them all here: TACK_PLUGINS(&a, &b). */
TACK_PLUGINS(&sma_desc);
