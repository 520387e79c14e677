/*
 * bench_dispatch.c: the cost of one host -> plugin callback dispatch.
 *
 * Loads bench_dispatch_plugin.so through the real loader, makes an instance
 * through the real instance module, and calls its update through the vtable
 * (an indirect call into another shared object), against the same work
 * called directly by name (a non-inlined function in this program). Both loops run
 * in this process, interleaved over several rounds; the median of each is
 * reported, with the difference and the ratio.
 *
 *   bench_dispatch [PLUGIN.so] [CALLS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "diag.h"
#include "instance.h"
#include "loader.h"
#include "tack.h"

#include "dispatch_work.h"

#define ROUNDS 9

/* noipa: a normal call, with the full argument list, as a plugin gets. */
__attribute__((noinline, noipa)) static int direct_update(void *self, const tack_bar *bar,
                                                          double *out) {
  (void)self;
  return tack_bench_work(bar, out);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The plugin's pointer is read through a volatile so the compiler cannot
 * turn the indirect call into a direct one. */
typedef int (*update_fn)(void *self, const tack_bar *bar, double *out);

/* An integer sum in both loops: a floating-point chain would hide the call
 * behind the adder's latency. */
static double run_direct(void *self, long calls, double *sink) {
  tack_bar bar = {0, 1.0, 2.0, 0.5, 1.5, 10.0, 60, TACK_BAR_CLOSED};
  double out[1] = {0};
  long ready = 0;
  double t0 = now_s();
  for (long i = 0; i < calls; i++) {
    bar.close = (double)i;
    ready += direct_update(self, &bar, out);
  }
  double t1 = now_s();
  *sink += (double)ready + out[0];
  return (t1 - t0) * 1e9 / (double)calls;
}

static double run_plugin(update_fn volatile *fnp, void *self, long calls, double *sink) {
  tack_bar bar = {0, 1.0, 2.0, 0.5, 1.5, 10.0, 60, TACK_BAR_CLOSED};
  double out[1] = {0};
  long ready = 0;
  update_fn fn = *fnp;
  double t0 = now_s();
  for (long i = 0; i < calls; i++) {
    bar.close = (double)i;
    ready += fn(self, &bar, out);
  }
  double t1 = now_s();
  *sink += (double)ready + out[0];
  return (t1 - t0) * 1e9 / (double)calls;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : BENCH_DISPATCH_PLUGIN;
  long calls = argc > 2 ? strtol(argv[2], NULL, 10) : 50000000L;
  tack_loader *ld = NULL;
  tack_ctx *ctx = NULL;
  tack_diag diag = TACK_DIAG_INIT;
  int status = 1;

  if (calls <= 0) {
    fprintf(stderr, "bench_dispatch: CALLS must be a positive integer\n");
    return 2;
  }
  if (tack_loader_new(&ld) != 0)
    goto done;
  int rc = tack_loader_load_file(ld, path);
  if (rc != 0) {
    const tack_refusal *r = tack_loader_refusal_at(ld, tack_loader_refusal_count(ld) - 1);
    fprintf(stderr, "bench_dispatch: %s: %s\n", path, r ? r->message : tack_strerror(rc));
    goto done;
  }
  const tack_plugin *plugin = tack_loader_find(ld, "bench.dispatch");
  if (!plugin) {
    fprintf(stderr, "bench_dispatch: %s carries no bench.dispatch plugin\n", path);
    goto done;
  }

  tack_cfg_instance ci;
  memset(&ci, 0, sizeof ci);
  ci.name = "bench";
  ci.section = "indicators";
  ci.kind = TACK_KIND_INDICATOR;
  ci.plugin_id = "bench.dispatch";
  ci.plugin = plugin;
  ci.file = "bench";
  if (tack_instance_new(&ci, NULL, &diag, &ctx) != 0) {
    tack_diag_print(&diag, stderr);
    goto done;
  }
  const tack_indicator_vtable *vt = plugin->desc->vtable;
  update_fn volatile plugin_fn = vt->update;
  void *self = tack_instance_self(ctx);

  double direct[ROUNDS], via_plugin[ROUNDS], sink = 0;
  run_direct(self, calls / 10, &sink); /* warm up both paths */
  run_plugin(&plugin_fn, self, calls / 10, &sink);
  for (int r = 0; r < ROUNDS; r++) {
    direct[r] = run_direct(self, calls, &sink);
    via_plugin[r] = run_plugin(&plugin_fn, self, calls, &sink);
  }
  qsort(direct, ROUNDS, sizeof direct[0], cmp_double);
  qsort(via_plugin, ROUNDS, sizeof via_plugin[0], cmp_double);
  double d = direct[ROUNDS / 2], p = via_plugin[ROUNDS / 2];
  printf("calls per round      %ld (%d rounds, median)\n", calls, ROUNDS);
  printf("direct call          %.3f ns/call\n", d);
  printf("plugin vtable call   %.3f ns/call\n", p);
  printf("dispatch overhead    %.3f ns/call (ratio %.2fx)\n", p - d, p / d);
  if (sink == -1.0) /* keeps the loops' results alive */
    printf("%f\n", sink);
  status = 0;

done:
  if (ctx)
    tack_instance_free(ctx);
  tack_diag_free(&diag);
  if (ld)
    tack_loader_free(ld);
  return status;
}
