/*
 * example_median.c: the template candle filter "example.median". Each bar
 * comes out with its close replaced by the median price (high + low) / 2,
 * TA-Lib's MEDPRICE: the middle of the interval's range, which ignores where
 * the last trade of the interval happened to print. Open, high, low, volume
 * and time pass through unchanged.
 *
 * A filter sits between the exchange and a strategy: bars in, bars out. It
 * may emit one bar per input (Heikin-Ashi, this one), none or several
 * (Renko bricks). This one keeps no history, so it is the shortest plugin
 * there is; example_sma.c explains the parts every plugin has in more words.
 */
#include <math.h>
#include <stdint.h>

#include <tack.h>

/* A stateless filter still gets an instance: the host calls create for each
 * use in the config and passes the pointer back to every callback. */
typedef struct median {
  tack_ctx *ctx;
  const tack_host *host;
} median;

static int median_create(tack_ctx *ctx, const tack_host *host, void **self) {
  median *m = host->alloc(ctx, sizeof *m);
  if (m == NULL)
    return TACK_ENOMEM;
  m->ctx = ctx;
  m->host = host;
  *self = m;
  return 0;
}

static void median_destroy(void *self) {
  median *m = self;
  m->host->free(m->ctx, m);
}

/*
 * update: writes at most cap bars to out and says how many in *n_out. The
 * input bar is borrowed for the call; out is the host's buffer of cap bars.
 * A filter that would produce more than cap bars returns TACK_ENOSPC
 * rather than write past the end.
 *
 * A provisional bar (no TACK_BAR_CLOSED) must not change a filter's state.
 * This filter has none, so it transforms provisional bars like closed ones
 * and keeps the flags: the strategy still sees which bars are final.
 */
static int median_update(void *self, const tack_bar *in, tack_bar *out, uint32_t cap,
                         uint32_t *n_out) {
  (void)self;
  *n_out = 0;
  if (!isfinite(in->high) || !isfinite(in->low) || in->low > in->high)
    return TACK_EINVAL;
  if (cap < 1)
    return TACK_ENOSPC;
  out[0] = *in;
  out[0].close = (in->high + in->low) / 2.0;
  *n_out = 1;
  return 0;
}

static const tack_filter_vtable median_vtable = {
    .size = sizeof(tack_filter_vtable),
    .life =
        {
            .create = median_create,
            .destroy = median_destroy,
        },
    .update = median_update,
};

/* No parameters: .params stays NULL. */
static const tack_plugin_desc median_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_FILTER,
    .id = "example.median",
    .name = "Median price (example)",
    .version = "1.0.0",
    .description = "Replaces each bar's close with (high + low) / 2.",
    .vtable = &median_vtable,
};

TACK_PLUGINS(&median_desc);
