/*
 * trading_record.h: what the plugins of bench_trading_plugin.so (the venue
 * bench.venue and the strategy bench.flip, bench/trading_plugin.c) record
 * for bench_trading (bench/bench_trading.c), which finds the record in the
 * loaded shared object by name with dlsym().
 *
 * Times are CLOCK_MONOTONIC nanoseconds, indexed by bar: bar i opens at
 * BENCH_TRADING_START_S + i * BENCH_TRADING_TF_S (bench.venue's bars, and
 * also the paper venue's random walk, which starts at the same instant).
 * The benchmark owns the arrays; a bar at or past cap is not timed. 0
 * means "did not happen".
 *
 * Everything runs on the host's loop thread.
 */
#ifndef BENCH_TRADING_RECORD_H
#define BENCH_TRADING_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BENCH_TRADING_RECORD_SYMBOL "bench_trading_times"

/* 2024-01-01T00:00:00Z, one-minute bars. */
#define BENCH_TRADING_START_S INT64_C(1704067200)
#define BENCH_TRADING_TF_S 60u

typedef struct bench_trading_record {
  size_t cap;
  int64_t *sent;   /* bench.venue: just before ex_bar() of bar i */
  int64_t *signal; /* bench.flip: just before on_bar() returns its signal for bar i */
  int64_t *submit; /* bench.venue: on entering submit() while bar i is delivered (the first) */
  uint64_t signals, submits, fills;
} bench_trading_record;

static inline int64_t bench_trading_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
