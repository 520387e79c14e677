/*
 * dispatch_plugin.c: the plugin side of bench_dispatch. Its indicator does
 * the least work an indicator can (copy the close) so that the benchmark
 * measures the call, not the math.
 */
#include "tack.h"

#include "dispatch_work.h"

static int bench_create(tack_ctx *ctx, const tack_host *host, void **self) {
  (void)ctx;
  (void)host;
  static int instance;
  *self = &instance;
  return 0;
}

static void bench_destroy(void *self) { (void)self; }

static int bench_update(void *self, const tack_bar *bar, double *out) {
  (void)self;
  return tack_bench_work(bar, out);
}

static const tack_output_spec bench_outputs[] = {{"value", "the close"}, {NULL, NULL}};

static const tack_indicator_vtable bench_vtable = {
    sizeof(tack_indicator_vtable),
    0,
    {bench_create, NULL, NULL, NULL, bench_destroy},
    bench_outputs,
    NULL,
    bench_update,
    NULL,
};

static const tack_plugin_desc bench_desc = {
    sizeof(tack_plugin_desc),
    TACK_KIND_INDICATOR,
    "bench.dispatch",
    "Dispatch benchmark",
    "1.0.0",
    "Copies the close; measures host to plugin call cost.",
    NULL,
    &bench_vtable,
};

TACK_PLUGINS(&bench_desc);
