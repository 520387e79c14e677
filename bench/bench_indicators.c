/*
 * bench_indicators.c: nanoseconds per update of every indicator plugin,
 * called through its vtable as the host calls it, over a long synthetic
 * series of closed bars, and again with every bar provisional. For SMA, EMA,
 * RSI, MACD and ATR two baselines of the same arithmetic over the same bars
 * (each first checked to give the plugin's values bit for bit):
 *   loop    a plain C loop keeping its state in registers;
 *   direct  the kernel called directly once per bar, state in a struct:
 *           what any streaming API pays, without tack's interface.
 * The gap between loop and direct is the state's round trip through memory
 * between bars; the gap between direct and the plugin is the interface.
 *
 * Usage: bench_indicators [bars] [repetitions]   (default 1000000 and 5)
 * Every figure is the median over the repetitions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ta.h"
#include "test_indicators_host.h"

#define MAX_REPS 51

extern const tack_plugin_list tack_plugin_entry;

static volatile double sink;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  return v[n / 2];
}

/* One timed pass of the plugin over the bars; ns per update. */
static double plugin_pass(tih_ind *ind, const tack_bar *bars, size_t n) {
  double out[TIH_MAX_OUTPUTS] = {0}, acc = 0.0, t0;
  size_t i;
  ind->vt->reset(ind->self);
  t0 = now_ns();
  for (i = 0; i < n; i++)
    if (ind->vt->update(ind->self, &bars[i], out) == 1)
      acc += out[0];
  t0 = now_ns() - t0;
  sink = acc;
  return t0 / (double)n;
}

/* Provisional updates on a warmed instance: state never changes. */
static double provisional_pass(tih_ind *ind, const tack_bar *bars, size_t n) {
  double out[TIH_MAX_OUTPUTS] = {0}, acc = 0.0, t0;
  size_t i;
  t0 = now_ns();
  for (i = 0; i < n; i++)
    if (ind->vt->update(ind->self, &bars[i], out) == 1)
      acc += out[0];
  t0 = now_ns() - t0;
  sink = acc;
  return t0 / (double)n;
}

/* ---- plain C baselines: the kernels' arithmetic over the bar array ---------- */

static double base_sma(const tack_bar *b, size_t n, double *last) {
  const int p = 30;
  double sum = 0.0, acc = 0.0, v = 0.0;
  size_t i;
  for (i = 0; i < n; i++) {
    double total = sum + b[i].close;
    if (i >= (size_t)p - 1) {
      v = total / p;
      acc += v;
      total -= b[i + 1 - (size_t)p].close;
    }
    sum = total;
  }
  *last = v;
  return acc;
}

static double base_ema(const tack_bar *b, size_t n, double *last) {
  const int p = 30;
  const double k = 2.0 / (double)(p + 1);
  double prev = 0.0, acc = 0.0;
  size_t i;
  for (i = 0; i < (size_t)p; i++)
    prev += b[i].close;
  prev /= p;
  acc += prev;
  for (; i < n; i++) {
    prev = ((b[i].close - prev) * k) + prev;
    acc += prev;
  }
  *last = prev;
  return acc;
}

static double base_rsi(const tack_bar *b, size_t n, double *last) {
  const int p = 14;
  const double inv = 1.0 / p;
  double gain = 0.0, loss = 0.0, acc = 0.0, v = 0.0;
  size_t i;
  for (i = 1; i <= (size_t)p; i++) {
    double d = b[i].close - b[i - 1].close;
    if (d < 0)
      loss -= d;
    else
      gain += d;
  }
  loss /= p;
  gain /= p;
  for (;; i++) {
    double sum = gain + loss, d;
    v = !(-1e-14 < sum && sum < 1e-14) ? 100.0 * (gain / sum) : 0.0;
    acc += v;
    if (i >= n)
      break;
    d = b[i].close - b[i - 1].close;
    loss *= p - 1;
    gain *= p - 1;
    loss -= ta_keep_if(d < 0, d);
    gain += ta_keep_if(d >= 0, d);
    loss *= inv;
    gain *= inv;
  }
  *last = v;
  return acc;
}

static double base_macd(const tack_bar *b, size_t n, double *last) {
  const int f = 12, s = 26, g = 9;
  const double kf = 2.0 / (f + 1), ks = 2.0 / (s + 1), kg = 2.0 / (g + 1);
  double fast = 0.0, slow = 0.0, sig = 0.0, acc = 0.0, m = 0.0;
  size_t i;
  for (i = 0; i < (size_t)s; i++) {
    slow += b[i].close;
    if (i >= (size_t)(s - f))
      fast += b[i].close;
  }
  slow /= s;
  fast /= f;
  sig = fast - slow;
  for (; i < (size_t)(s + g - 1); i++) {
    slow = ((b[i].close - slow) * ks) + slow;
    fast = ((b[i].close - fast) * kf) + fast;
    sig += fast - slow;
  }
  sig /= g;
  m = fast - slow;
  acc += m - sig;
  for (; i < n; i++) {
    slow = ((b[i].close - slow) * ks) + slow;
    fast = ((b[i].close - fast) * kf) + fast;
    m = fast - slow;
    sig = ((m - sig) * kg) + sig;
    acc += m - sig;
  }
  *last = m;
  return acc;
}

static double base_atr(const tack_bar *b, size_t n, double *last) {
  const int p = 14;
  const double inv = 1.0 / p;
  double atr = 0.0, acc = 0.0;
  size_t i;
  for (i = 1; i < n; i++) {
    double pc = b[i - 1].close, tr = b[i].high - b[i].low, v;
    v = fabs(pc - b[i].high);
    if (v > tr)
      tr = v;
    v = fabs(pc - b[i].low);
    if (v > tr)
      tr = v;
    if (i <= (size_t)p) {
      atr += tr;
      if (i < (size_t)p)
        continue;
      atr /= p;
    } else {
      atr *= p - 1;
      atr += tr;
      atr *= inv;
    }
    acc += atr;
  }
  *last = atr;
  return acc;
}

/* The kernels, one call per bar; noinline so that each bar is a real call
 * with the state in memory, as in a streaming API. */
#if defined(__GNUC__)
#define BENCH_NOINLINE __attribute__((noinline))
#else
#define BENCH_NOINLINE
#endif

BENCH_NOINLINE static int direct_sma(ta_sma *s, const tack_bar *b, double *out) {
  return ta_sma_update(s, b->close, 1, out);
}
BENCH_NOINLINE static int direct_ema(ta_ema *s, const tack_bar *b, double *out) {
  return ta_ema_update(s, b->close, 1, out);
}
BENCH_NOINLINE static int direct_rsi(ta_rsi *s, const tack_bar *b, double *out) {
  return ta_rsi_update(s, b->close, 1, out);
}
BENCH_NOINLINE static int direct_macd(ta_macd *s, const tack_bar *b, double *out) {
  return ta_macd_update(s, b->close, 1, out);
}
BENCH_NOINLINE static int direct_atr(ta_atr *s, const tack_bar *b, double *out) {
  return ta_atr_update(s, b->high, b->low, b->close, 1, out);
}

/* One pass of the kernel named id, called per bar; NAN for another id. */
static double direct_run(const char *id, const tack_bar *b, size_t n, double *last) {
  double ring[30], out[3] = {0}, acc = 0.0;
  ta_arena a = {(unsigned char *)ring, 0};
  size_t i;
  if (strcmp(id, "sma") == 0) {
    ta_sma s;
    ta_sma_init(&s, 30, &a);
    for (i = 0; i < n; i++)
      if (direct_sma(&s, &b[i], out) == 1)
        acc += out[0];
  } else if (strcmp(id, "ema") == 0) {
    ta_ema s;
    ta_ema_init(&s, 30);
    for (i = 0; i < n; i++)
      if (direct_ema(&s, &b[i], out) == 1)
        acc += out[0];
  } else if (strcmp(id, "rsi") == 0) {
    ta_rsi s;
    ta_rsi_init(&s, 14);
    for (i = 0; i < n; i++)
      if (direct_rsi(&s, &b[i], out) == 1)
        acc += out[0];
  } else if (strcmp(id, "macd") == 0) {
    ta_macd s;
    ta_macd_init(&s, 12, 26, 9);
    for (i = 0; i < n; i++)
      if (direct_macd(&s, &b[i], out) == 1)
        acc += out[0];
  } else if (strcmp(id, "atr") == 0) {
    ta_atr s;
    ta_atr_init(&s, 14);
    for (i = 0; i < n; i++)
      if (direct_atr(&s, &b[i], out) == 1)
        acc += out[0];
  } else {
    return NAN;
  }
  *last = out[0];
  return acc;
}

typedef double (*baseline_fn)(const tack_bar *, size_t, double *);

static const struct {
  const char *id;
  baseline_fn fn;
} baselines[] = {{"sma", base_sma},
                 {"ema", base_ema},
                 {"rsi", base_rsi},
                 {"macd", base_macd},
                 {"atr", base_atr}};

static baseline_fn baseline_of(const char *id) {
  size_t i;
  for (i = 0; i < sizeof(baselines) / sizeof(baselines[0]); i++)
    if (strcmp(baselines[i].id, id) == 0)
      return baselines[i].fn;
  return NULL;
}

/* The plugin's last first output after a full pass (for the same-math check). */
static double plugin_last(tih_ind *ind, const tack_bar *bars, size_t n) {
  double out[TIH_MAX_OUTPUTS] = {0};
  size_t i;
  ind->vt->reset(ind->self);
  for (i = 0; i < n; i++)
    ind->vt->update(ind->self, &bars[i], out);
  return out[0];
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000000;
  int reps = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5, r, failed = 0;
  tack_bar *bars;
  uint32_t p;
  if (n < 1000 || reps < 1 || reps > MAX_REPS) {
    fprintf(stderr, "usage: bench_indicators [bars >= 1000] [repetitions 1..%d]\n", MAX_REPS);
    return 2;
  }
  bars = malloc(n * sizeof(*bars));
  if (!bars)
    return 1;
  tih_synthetic(bars, n);
  printf("bench_indicators: %zu closed bars, median of %d runs, ns per update\n", n, reps);
  printf("%-11s %8s %11s %8s %8s %9s %7s\n", "indicator", "plugin", "provisional", "direct", "loop",
         "x direct", "x loop");
  for (p = 0; p < tack_plugin_entry.count; p++) {
    const char *id = tack_plugin_entry.plugins[p]->id;
    baseline_fn base = baseline_of(id);
    double t[MAX_REPS], tp[MAX_REPS], tb[MAX_REPS], td[MAX_REPS], med, medp;
    tih_ind ind;
    if (tih_open(&ind, id, NULL, 0) != 0) {
      fprintf(stderr, "%s: cannot open: %s\n", id, tih_last_error());
      failed = 1;
      continue;
    }
    plugin_pass(&ind, bars, n);
    for (r = 0; r < reps; r++) {
      t[r] = plugin_pass(&ind, bars, n);
      tp[r] = provisional_pass(&ind, bars, n);
    }
    med = median(t, reps);
    medp = median(tp, reps);
    if (base) {
      double want = plugin_last(&ind, bars, n), got, got_direct, medb, medd;
      sink = base(bars, n, &got);
      sink = direct_run(id, bars, n, &got_direct);
      if (memcmp(&want, &got, sizeof(double)) != 0 ||
          memcmp(&want, &got_direct, sizeof(double)) != 0) {
        fprintf(stderr, "%s: plugin %.17g, loop %.17g, direct %.17g\n", id, want, got, got_direct);
        failed = 1;
      }
      for (r = 0; r < reps; r++) {
        double t0 = now_ns();
        sink = base(bars, n, &got);
        tb[r] = (now_ns() - t0) / (double)n;
        t0 = now_ns();
        sink = direct_run(id, bars, n, &got_direct);
        td[r] = (now_ns() - t0) / (double)n;
      }
      medb = median(tb, reps);
      medd = median(td, reps);
      printf("%-11s %8.2f %11.2f %8.2f %8.2f %9.2f %7.2f\n", id, med, medp, medd, medb, med / medd,
             med / medb);
    } else {
      printf("%-11s %8.2f %11.2f\n", id, med, medp);
    }
    tih_close(&ind);
  }
  free(bars);
  return failed;
}
