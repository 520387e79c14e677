/*
 * bench_bars.c: what bars cost. Trades per second through the bar builder,
 * bars per second through the resampler, and nanoseconds per bar of the
 * Heikin-Ashi and Renko filters called through their vtables, each next to
 * a plain loop that does the same arithmetic inline (the floor any
 * implementation pays). Inputs are synthetic and seeded, so runs compare.
 *
 *   bench_bars [trades_millions]     default 1 (one million trades, as many
 *                                    1m bars for the resampler and filters)
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bars.h"
#include "filters_test_host.h"

#define NS TACK_NS_PER_SEC
#define REPEAT 5 /* best of: the machine is shared */

static uint64_t rng_state = 42;

static uint64_t rng(void) {
  uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static double unit(void) { return (double)(rng() >> 11) / 9007199254740992.0; }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keeps the compiler from dropping work whose result nobody reads. */
static volatile double sink_sum;
static uint64_t sink_bars;

static void count_bar(void *data, const tack_bar *bar) {
  (void)data;
  sink_bars++;
  sink_sum += bar->close;
}

static void report(const char *what, const char *unit_name, size_t n, double secs,
                   double base_secs) {
  printf("%-44s %12.0f %s/s %8.1f ns/%s", what, (double)n / secs, unit_name, secs * 1e9 / (double)n,
         unit_name);
  if (base_secs > 0)
    printf("   %5.2fx baseline", secs / base_secs);
  printf("\n");
}

/* ------------------------------------------------------------------------ */
/* Inputs                                                                    */
/* ------------------------------------------------------------------------ */

/* A random walk traded every 0..200 ms, with venue ids. */
static tack_trade *make_trades(size_t n) {
  tack_trade *t = calloc(n, sizeof *t);
  if (!t)
    return NULL;
  tack_time ts = INT64_C(1700000000) * NS;
  double price = 30000;
  for (size_t i = 0; i < n; i++) {
    ts += (tack_time)(unit() * 0.2 * 1e9);
    price *= 1 + (unit() - 0.5) * 4e-4;
    t[i].ts = ts;
    t[i].price = price;
    t[i].size = unit() * 2;
    t[i].side = (rng() & 1) ? TACK_SIDE_BUY : TACK_SIDE_SELL;
    snprintf(t[i].id, sizeof t[i].id, "%zu", 1000000000u + i);
  }
  return t;
}

/* 1m bars of a random walk. */
static tack_bar *make_bars(size_t n) {
  tack_bar *b = calloc(n, sizeof *b);
  if (!b)
    return NULL;
  double price = 30000;
  for (size_t i = 0; i < n; i++) {
    double o = price;
    price *= 1 + (unit() - 0.5) * 4e-3;
    double hi = fmax(o, price) * (1 + unit() * 1e-3);
    double lo = fmin(o, price) * (1 - unit() * 1e-3);
    b[i] = (tack_bar){INT64_C(1700000040) * NS + (tack_time)i * 60 * NS,
                      o,
                      hi,
                      lo,
                      price,
                      unit() * 100,
                      60,
                      TACK_BAR_CLOSED};
  }
  return b;
}

/* ------------------------------------------------------------------------ */
/* Builder                                                                   */
/* ------------------------------------------------------------------------ */

/* The floor: bucket and fold each trade into an array of bars. */
static double baseline_trades(const tack_trade *t, size_t n, tack_bar *out) {
  double t0 = now_s();
  int64_t tf = 60 * NS;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    tack_time start = t[i].ts - t[i].ts % tf;
    if (m == 0 || out[m - 1].ts != start) {
      out[m++] = (tack_bar){start,      t[i].price, t[i].price, t[i].price,
                            t[i].price, t[i].size,  60,         TACK_BAR_CLOSED};
      continue;
    }
    tack_bar *b = &out[m - 1];
    if (t[i].price > b->high)
      b->high = t[i].price;
    if (t[i].price < b->low)
      b->low = t[i].price;
    b->close = t[i].price;
    b->volume += t[i].size;
  }
  double secs = now_s() - t0;
  sink_sum += out[m - 1].close;
  return secs;
}

static double run_builder(const tack_trade *t, size_t n, uint32_t dedup, uint32_t prov) {
  tack_bar_builder_config cfg;
  tack_bar_builder_config_init(&cfg, 60);
  cfg.dedup_window = dedup;
  cfg.provisional = prov;
  cfg.on_bar = count_bar;
  tack_bar_builder *b;
  if (tack_bar_builder_init(&b, &cfg) != 0)
    return -1;
  double t0 = now_s();
  for (size_t i = 0; i < n; i++)
    tack_bar_builder_push(b, &t[i]);
  double secs = now_s() - t0;
  tack_bar_builder_free(b);
  return secs;
}

/* ------------------------------------------------------------------------ */
/* Resampler                                                                 */
/* ------------------------------------------------------------------------ */

static double baseline_resample(const tack_bar *in, size_t n, tack_bar *out) {
  double t0 = now_s();
  int64_t tf = 3600 * NS;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    tack_time start = in[i].ts - in[i].ts % tf;
    if (m == 0 || out[m - 1].ts != start) {
      out[m] = in[i];
      out[m++].ts = start;
      continue;
    }
    tack_bar *b = &out[m - 1];
    if (in[i].high > b->high)
      b->high = in[i].high;
    if (in[i].low < b->low)
      b->low = in[i].low;
    b->close = in[i].close;
    b->volume += in[i].volume;
  }
  double secs = now_s() - t0;
  sink_sum += out[m - 1].close;
  return secs;
}

static double run_resampler(const tack_bar *in, size_t n, uint32_t out_tf, uint32_t prov) {
  tack_bar_resampler_config cfg = {60, out_tf, TACK_BARS_GAP_SKIP, prov, count_bar, NULL, NULL};
  tack_bar_resampler *r;
  if (tack_bar_resampler_init(&r, &cfg) != 0)
    return -1;
  double t0 = now_s();
  for (size_t i = 0; i < n; i++)
    tack_bar_resampler_push(r, &in[i]);
  double secs = now_s() - t0;
  tack_bar_resampler_free(r);
  return secs;
}

/* ------------------------------------------------------------------------ */
/* Filters                                                                   */
/* ------------------------------------------------------------------------ */

static double baseline_heikin_ashi(const tack_bar *in, size_t n, tack_bar *out) {
  double t0 = now_s();
  double po = 0, pc = 0;
  for (size_t i = 0; i < n; i++) {
    const tack_bar *b = &in[i];
    double c = (b->open + b->high + b->low + b->close) / 4;
    double o = i ? (po + pc) / 2 : (b->open + b->close) / 2;
    /* Into a small ring, as the filter writes into the host's small buffer. */
    tack_bar *x = &out[i & 255];
    *x = *b;
    x->open = o;
    x->close = c;
    /* Compares, not fmax/fmin: those are libm calls (NaN rules). */
    double hi = o > c ? o : c, lo = o < c ? o : c;
    x->high = b->high > hi ? b->high : hi;
    x->low = b->low < lo ? b->low : lo;
    po = o;
    pc = c;
  }
  double secs = now_s() - t0;
  sink_sum += out[0].close;
  return secs;
}

/* Classic Renko inline: fixed size, closes, reversal 2. With r = 2 the
 * rules reduce to: up when the price clears the last brick's top by a size,
 * down when it clears its bottom (a reversal starts from the open). */
static double baseline_renko(const tack_bar *in, size_t n, double size, tack_bar *out,
                             size_t *bricks) {
  double t0 = now_s();
  double hi = in[0].close, lo = in[0].close;
  size_t k = 0;
  for (size_t i = 1; i < n; i++) {
    double p = in[i].close;
    while (p >= hi + size) {
      out[k++ & 255] = (tack_bar){in[i].ts, hi, hi + size, hi, hi + size, 0, 60, TACK_BAR_CLOSED};
      lo = hi;
      hi += size;
    }
    while (p <= lo - size) {
      out[k++ & 255] = (tack_bar){in[i].ts, lo, lo, lo - size, lo - size, 0, 60, TACK_BAR_CLOSED};
      hi = lo;
      lo -= size;
    }
  }
  double secs = now_s() - t0;
  *bricks = k;
  sink_sum += out[0].close;
  return secs;
}

static double run_filter(const tack_plugin_list *list, const char *id, const char *const *kv,
                         const tack_bar *in, size_t n, tack_bar *out, size_t *bricks) {
  const tack_plugin_desc *d = filters_test_find(list, id);
  const tack_filter_vtable *vt = d->vtable;
  tack_ctx ctx;
  filters_test_ctx_init(&ctx, d, kv);
  void *self;
  if (vt->life.create(&ctx, &filters_test_host, &self) != 0)
    return -1;
  if (vt->life.configure && vt->life.configure(self) != 0) {
    vt->life.destroy(self);
    return -1;
  }
  size_t total = 0;
  double t0 = now_s();
  for (size_t i = 0; i < n; i++) {
    uint32_t k;
    vt->update(self, &in[i], out, 256, &k);
    total += k;
  }
  double secs = now_s() - t0;
  vt->life.destroy(self);
  *bricks = total;
  sink_sum += out[0].close;
  return secs;
}

static double best_of(double (*fn)(void), int repeat) {
  double best = INFINITY;
  for (int i = 0; i < repeat; i++) {
    double s = fn();
    if (s >= 0 && s < best)
      best = s;
  }
  return best;
}

/* The runs, as closures over these for best_of(). */
static tack_trade *g_trades;
static tack_bar *g_bars;
static tack_bar *g_out;
static size_t g_n;
static const tack_plugin_list *g_list;
static size_t g_bricks;

static double b_trades_base(void) { return baseline_trades(g_trades, g_n, g_out); }
static double b_builder_dedup(void) {
  return run_builder(g_trades, g_n, TACK_BARS_DEDUP_DEFAULT, 0);
}
static double b_builder_nodedup(void) { return run_builder(g_trades, g_n, 0, 0); }
static double b_builder_prov(void) {
  return run_builder(g_trades, g_n, TACK_BARS_DEDUP_DEFAULT, TACK_BARS_PROV_EVERY);
}
static double b_resample_base(void) { return baseline_resample(g_bars, g_n, g_out); }
static double b_resample_1h(void) { return run_resampler(g_bars, g_n, 3600, 0); }
static double b_resample_1h_prov(void) { return run_resampler(g_bars, g_n, 3600, 1); }
static double b_resample_1d(void) { return run_resampler(g_bars, g_n, 86400, 0); }
static double b_ha_base(void) { return baseline_heikin_ashi(g_bars, g_n, g_out); }
static double b_renko_base(void) { return baseline_renko(g_bars, g_n, 30, g_out, &g_bricks); }
static double b_ha(void) {
  return run_filter(g_list, "heikin_ashi", NULL, g_bars, g_n, g_out, &g_bricks);
}
static const char *const renko_fixed[] = {"brick_size", "30", NULL};
static const char *const renko_atr[] = {"mode",   "atr",     "atr_refresh", "brick",
                                        "source", "highlow", NULL};
static double b_renko_fixed(void) {
  return run_filter(g_list, "renko", renko_fixed, g_bars, g_n, g_out, &g_bricks);
}
static double b_renko_atr(void) {
  return run_filter(g_list, "renko", renko_atr, g_bars, g_n, g_out, &g_bricks);
}

int main(int argc, char **argv) {
  int rc = 1;
  void *so = NULL;
  size_t millions = 1;
  if (argc > 1) {
    char *end;
    errno = 0;
    long v = strtol(argv[1], &end, 10);
    if (errno || *end || v < 1 || v > 50) {
      fprintf(stderr, "usage: %s [trades_millions 1..50]\n", argv[0]);
      return 2;
    }
    millions = (size_t)v;
  }
  g_n = millions * 1000000u;
  g_trades = make_trades(g_n);
  g_bars = make_bars(g_n);
  g_out = calloc(g_n > 256 ? g_n : 256, sizeof *g_out);
  if (!g_trades || !g_bars || !g_out) {
    fprintf(stderr, "out of memory for %zu inputs\n", g_n);
    goto fail;
  }
  if (filters_test_load(TACK_FILTERS_SO, &so, &g_list) != 0)
    goto fail;

  printf("inputs: %zu trades (1m bars), %zu 1m bars; best of %d runs\n\n", g_n, g_n, REPEAT);
  double base = best_of(b_trades_base, REPEAT);
  report("baseline loop: trades -> 1m bars", "trade", g_n, base, 0);
  report("builder 1m, dedup 1024 ids", "trade", g_n, best_of(b_builder_dedup, REPEAT), base);
  report("builder 1m, no dedup", "trade", g_n, best_of(b_builder_nodedup, REPEAT), base);
  report("builder 1m, dedup, provisional every trade", "trade", g_n,
         best_of(b_builder_prov, REPEAT), base);
  printf("\n");
  base = best_of(b_resample_base, REPEAT);
  report("baseline loop: 1m bars -> 1h", "bar", g_n, base, 0);
  report("resampler 1m -> 1h", "bar", g_n, best_of(b_resample_1h, REPEAT), base);
  report("resampler 1m -> 1h, provisional outputs", "bar", g_n, best_of(b_resample_1h_prov, REPEAT),
         base);
  report("resampler 1m -> 1d", "bar", g_n, best_of(b_resample_1d, REPEAT), base);
  printf("\n");
  base = best_of(b_ha_base, REPEAT);
  report("baseline loop: Heikin-Ashi inline", "bar", g_n, base, 0);
  report("heikin_ashi via vtable", "bar", g_n, best_of(b_ha, REPEAT), base);
  printf("\n");
  base = best_of(b_renko_base, REPEAT);
  report("baseline loop: Renko fixed 30, close, inline", "bar", g_n, base, 0);
  printf("%44s %zu bricks\n", "", g_bricks);
  double s = best_of(b_renko_fixed, REPEAT);
  report("renko fixed 30, close, via vtable", "bar", g_n, s, base);
  printf("%44s %zu bricks\n", "", g_bricks);
  s = best_of(b_renko_atr, REPEAT);
  report("renko ATR(14) per brick, highlow, via vtable", "bar", g_n, s, base);
  printf("%44s %zu bricks\n", "", g_bricks);
  printf("\n(%llu bars delivered to callbacks; checksum %g)\n", (unsigned long long)sink_bars,
         sink_sum);
  rc = 0;
fail:
  if (so)
    dlclose(so);
  free(g_trades);
  free(g_bars);
  free(g_out);
  return rc;
}
