/*
 * dispatch_work.h: the work both sides of bench_dispatch do per call, so the
 * direct call and the plugin call differ only in how they are reached.
 */
#ifndef TACK_BENCH_DISPATCH_WORK_H
#define TACK_BENCH_DISPATCH_WORK_H

#include "tack.h"

static inline int tack_bench_work(const tack_bar *bar, double *out) {
  out[0] = bar->close;
  return 1;
}

#endif
