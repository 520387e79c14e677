/*
 * heikin_ashi.c: the Heikin-Ashi candle filter. One output bar per input bar:
 *   ha_close = (o + h + l + c) / 4
 *   ha_open  = (previous ha_open + previous ha_close) / 2, the first (o + c) / 2
 *   ha_high  = max(h, ha_open, ha_close), ha_low = min(l, ha_open, ha_close)
 * ts, volume, timeframe and flags pass through. Only a closed input moves the
 * state forward; a provisional one is computed from the last closed state.
 */
#include <math.h>
#include <string.h>

#include "filters.h"

typedef struct heikin_ashi {
  tack_ctx *ctx;
  const tack_host *host;
  int have_prev; /* a closed bar was seen: prev_open and prev_close are set */
  double prev_open;
  double prev_close;
} heikin_ashi;

static int ha_create(tack_ctx *ctx, const tack_host *host, void **self) {
  heikin_ashi *h = host->alloc(ctx, sizeof *h);
  if (!h)
    return TACK_ENOMEM;
  memset(h, 0, sizeof *h);
  h->ctx = ctx;
  h->host = host;
  *self = h;
  return 0;
}

static void ha_destroy(void *self) {
  heikin_ashi *h = self;
  h->host->free(h->ctx, h);
}

static void ha_reset(void *self) {
  heikin_ashi *h = self;
  h->have_prev = 0;
  h->prev_open = 0;
  h->prev_close = 0;
}

static int ha_update(void *self, const tack_bar *in, tack_bar *out, uint32_t cap, uint32_t *n_out) {
  heikin_ashi *h = self;
  *n_out = 0;
  /* One non-finite price would poison every later bar through ha_open. */
  if (!isfinite(in->open) || !isfinite(in->high) || !isfinite(in->low) || !isfinite(in->close))
    return TACK_EINVAL;
  if (cap < 1)
    return TACK_ENOSPC;
  double close = (in->open + in->high + in->low + in->close) / 4;
  double open = h->have_prev ? (h->prev_open + h->prev_close) / 2 : (in->open + in->close) / 2;
  double high = filters_max(in->high, filters_max(open, close));
  double low = filters_min(in->low, filters_min(open, close));
  *out = *in;
  out->open = open;
  out->high = high;
  out->low = low;
  out->close = close;
  if (in->flags & TACK_BAR_CLOSED) {
    h->have_prev = 1;
    h->prev_open = open;
    h->prev_close = close;
  }
  *n_out = 1;
  return 0;
}

static const tack_filter_vtable ha_vtable = {
    .size = sizeof(tack_filter_vtable),
    .life = {.create = ha_create, .destroy = ha_destroy},
    .update = ha_update,
    .reset = ha_reset,
};

const tack_plugin_desc filters_heikin_ashi_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_FILTER,
    .id = "heikin_ashi",
    .name = "Heikin-Ashi candles",
    .version = "1.0.0",
    .description = "Smoothed candles: each bar's open is the midpoint of the previous "
                   "Heikin-Ashi body, its close the mean of the bar's OHLC.",
    .params = NULL,
    .vtable = &ha_vtable,
};
