/*
 * test_instance.c: plugin instances and the host services table, with the
 * fixture plugins of tests/fixtures/runtime: the lifecycle and its state
 * errors, failures in create and configure, param_error placement, timers,
 * storage, signals, order and exchange services, the candle services (ABI
 * 1.1) over the runtime's store, memory accounting, leaks and allocation
 * failure injection.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "candles.h"
#include "instance.h"
#include "rt_test_util.h"
#include "runtime.h"

static rt_fx fx;
static char tmp[256];

static int prepare(void) {
  if (rt_fx_open(&fx) != 0 || rt_tmpdir(tmp, sizeof tmp) != 0)
    return -1;
  return 0;
}

static void cleanup(void) {
  rt_rmtree(tmp);
  rt_fx_close(&fx);
}

static int reset(void **state) {
  (void)state;
  memset(fx.rec, 0, sizeof *fx.rec);
  return 0;
}

static const tack_host *H = &tack_host_services;

static void on_timer(void *user, uint64_t id);

/* An instance of plugin p without a runtime; asserts success. */
static tack_ctx *make(rt_ci *c, const tack_plugin *p, const char *section, const char *name,
                      const char *params, tack_runtime *rt) {
  tack_diag d = TACK_DIAG_INIT;
  tack_ctx *ctx = NULL;
  assert_int_equal(rt_ci_make(c, tmp, p, section, name, params), 0);
  int rc = tack_instance_new(&c->ci, rt, &d, &ctx);
  if (rc != 0)
    tack_diag_print(&d, stderr);
  assert_int_equal(rc, 0);
  assert_non_null(ctx);
  tack_diag_free(&d);
  return ctx;
}

static int diag_has(const tack_diag *d, const char *needle) {
  for (size_t i = 0; i < d->n; i++)
    if (strstr(d->msgs[i], needle))
      return 1;
  return 0;
}

static void test_lifecycle_and_state_errors(void **state) {
  (void)state;
  rt_ci c;
  tack_ctx *ctx = make(&c, &fx.strategy, "strategies", "trend", "fast = 2; slow = 4;", NULL);
  assert_int_equal(fx.rec->creates, 1);
  assert_int_equal(fx.rec->configures, 1);
  assert_ptr_equal(fx.rec->last_ctx, ctx);
  assert_ptr_equal(fx.rec->host, &tack_host_services);
  assert_string_equal(tack_instance_name(ctx), "strategies.trend");
  assert_ptr_equal(tack_instance_config(ctx), &c.ci);
  assert_ptr_equal(tack_instance_desc(ctx), fx.strategy.desc);
  assert_non_null(tack_instance_self(ctx));
  assert_int_equal(tack_instance_started(ctx), 0);

  /* Callbacks only between start and stop. */
  tack_bar bar = {1, 1, 1, 1, 1, 1, 60, TACK_BAR_CLOSED};
  tack_signal sig;
  assert_int_equal(tack_instance_strategy_on_bar(ctx, &bar, &sig), TACK_ESTATE);
  assert_int_equal(fx.rec->on_bars, 0);
  tack_exchange_caps caps;
  assert_int_equal(tack_instance_exchange_caps(ctx, &caps), TACK_EINVAL);

  assert_int_equal(tack_instance_start(ctx), 0);
  assert_int_equal(tack_instance_started(ctx), 1);
  assert_int_equal(tack_instance_start(ctx), TACK_ESTATE);
  assert_int_equal(fx.rec->starts, 1);
  assert_int_equal(tack_instance_strategy_on_bar(ctx, &bar, &sig), 0);
  bar.close = 2;
  assert_int_equal(tack_instance_strategy_on_bar(ctx, &bar, &sig), 1);
  assert_string_equal(sig.reason, "momentum up");
  assert_int_equal(fx.rec->on_bars, 2);

  tack_instance_stop(ctx);
  assert_int_equal(fx.rec->stops, 1);
  tack_instance_stop(ctx); /* refused and logged, not repeated */
  assert_int_equal(fx.rec->stops, 1);
  assert_int_equal(tack_instance_strategy_on_bar(ctx, &bar, &sig), TACK_ESTATE);
  assert_int_equal(fx.rec->on_bars, 2);

  /* A stopped instance may start again. */
  assert_int_equal(tack_instance_start(ctx), 0);
  tack_instance_free(ctx); /* stops first */
  assert_int_equal(fx.rec->stops, 2);
  assert_int_equal(fx.rec->destroys, 1);
  rt_ci_free(&c);
}

static void test_create_failure_skips_destroy(void **state) {
  (void)state;
  rt_ci c;
  tack_diag d = TACK_DIAG_INIT;
  tack_ctx *ctx = (tack_ctx *)&c; /* must be reset to NULL */
  assert_int_equal(rt_ci_make(&c, tmp, &fx.strategy, "strategies", "broken", "fail_create = true;"),
                   0);
  assert_int_equal(tack_instance_new(&c.ci, NULL, &d, &ctx), TACK_EIO);
  assert_null(ctx);
  assert_int_equal(fx.rec->creates, 1);
  assert_int_equal(fx.rec->configures, 0);
  assert_int_equal(fx.rec->destroys, 0);
  assert_int_equal(d.n, 1);
  char place[PATH_MAX + 200];
  snprintf(place, sizeof place, "%s:2: strategies.broken: plugin rt.strategy", c.file);
  assert_non_null(strstr(d.msgs[0], place));
  assert_non_null(strstr(d.msgs[0], "create failed: input/output error (TACK_EIO)"));
  tack_diag_free(&d);
  rt_ci_free(&c);
}

static void test_param_error_in_configure(void **state) {
  (void)state;
  rt_ci c;
  tack_diag d = TACK_DIAG_INIT;
  tack_ctx *ctx = NULL;
  /* fast is the 2nd statement: line 5 of the file. */
  assert_int_equal(rt_ci_make(&c, tmp, &fx.strategy, "strategies", "trend",
                              "slow = 3; fast = 5; strength = 0.5;"),
                   0);
  assert_int_equal(tack_instance_new(&c.ci, NULL, &d, &ctx), TACK_ECONFIG);
  assert_null(ctx);
  assert_int_equal(fx.rec->configures, 1);
  assert_int_equal(fx.rec->destroys, 1); /* configure failed: destroy ran */
  assert_int_equal(d.n, 1);
  char want[PATH_MAX + 200];
  snprintf(want, sizeof want,
           "%s:5: strategies.trend.params.fast: must be below slow (3), got 5 (plugin "
           "rt.strategy)",
           c.file);
  assert_string_equal(d.msgs[0], want);
  tack_diag_free(&d);
  rt_ci_free(&c);

  /* Not set in the config (the default 2 >= slow 1): the instance's place. */
  assert_int_equal(rt_ci_make(&c, tmp, &fx.strategy, "strategies", "trend", "slow = 1;"), 0);
  assert_int_equal(tack_instance_new(&c.ci, NULL, &d, &ctx), TACK_ECONFIG);
  snprintf(want, sizeof want, "%s:2: strategies.trend.params.fast: must be below slow (1)", c.file);
  assert_true(diag_has(&d, want));
  tack_diag_free(&d);
  rt_ci_free(&c);
}

static void test_param_services(void **state) {
  (void)state;
  rt_ci c;
  tack_ctx *ctx = make(&c, &fx.strategy, "strategies", "trend", "fast = 3; strength = 2.5;", NULL);
  int64_t i = 0;
  double x = 0;
  int b = 1;
  const char *s = NULL;
  assert_int_equal(H->param_int(ctx, "fast", &i), 0);
  assert_int_equal(i, 3);
  assert_int_equal(H->param_int(ctx, "slow", &i), 0);
  assert_int_equal(i, 5); /* the declared default */
  assert_int_equal(H->param_double(ctx, "strength", &x), 0);
  assert_true(x == 2.5);
  assert_int_equal(H->param_bool(ctx, "kv", &b), 0);
  assert_int_equal(b, 0);
  assert_int_equal(H->param_int(ctx, "nope", &i), TACK_ENOENT);
  assert_int_equal(H->param_string(ctx, "fast", &s), TACK_ETYPE);
  /* Outside create/configure param_error is only logged. */
  assert_int_equal(H->param_error(ctx, "fast", "late complaint %d", 1), TACK_ECONFIG);
  tack_instance_free(ctx);
  rt_ci_free(&c);
}

static void test_services_without_runtime(void **state) {
  (void)state;
  rt_ci c;
  tack_ctx *ctx = make(&c, &fx.strategy, "strategies", "trend", NULL, NULL);
  assert_int_equal(tack_instance_start(ctx), 0);
  size_t len;
  char buf[8];
  assert_int_equal(H->kv_put(ctx, "k", 1, "v", 1), TACK_ESTATE);
  assert_int_equal(H->kv_get(ctx, "k", 1, buf, sizeof buf, &len), TACK_ESTATE);
  assert_int_equal(H->kv_del(ctx, "k", 1), TACK_ESTATE);
  uint64_t id;
  assert_int_equal(H->timer_start(ctx, 1000, 0, on_timer, NULL, &id), TACK_ESTATE);
  assert_null(H->get_extension(ctx, TACK_EXT_LOOP));
  assert_null(H->get_extension(ctx, "tack.nothing/1"));
  tack_signal sig = {0, 0.5, 0.5, "x"};
  assert_int_equal(H->emit_signal(ctx, &sig), TACK_ESTATE);

  tack_time t1 = H->now(ctx), t2 = H->now(ctx);
  assert_true(t1 > 1600000000 * TACK_NS_PER_SEC);
  assert_true(t2 >= t1);
  assert_string_equal(H->strerror(TACK_ENOSPC), tack_strerror(TACK_ENOSPC));
  H->log(ctx, TACK_LOG_INFO, "a line from test_services_without_runtime (%d)", 42);
  assert_int_equal(H->size, sizeof(tack_host));
  assert_int_equal(H->abi_major, TACK_ABI_MAJOR);
  assert_non_null(strstr(H->host_version, "tack "));
  tack_instance_free(ctx);
  rt_ci_free(&c);
}

static void test_orders_are_not_supported(void **state) {
  (void)state;
  rt_ci c;
  tack_ctx *ctx = make(&c, &fx.strategy, "strategies", "trend", NULL, NULL);
  tack_order_request req;
  memset(&req, 0, sizeof req);
  char id[TACK_ORDER_ID_MAX] = "stale";
  assert_int_equal(H->submit_order(ctx, &req, id), TACK_ENOTSUP);
  assert_string_equal(id, "");
  assert_int_equal(H->submit_order(ctx, &req, NULL), TACK_ENOTSUP);
  assert_int_equal(H->cancel_order(ctx, "abc"), TACK_ENOTSUP);
  tack_instance_free(ctx);
  rt_ci_free(&c);
}

static void test_exchange_services_need_an_exchange(void **state) {
  (void)state;
  tack_runtime *rt = NULL;
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(tack_runtime_new(&o, &rt), 0);
  rt_ci cs, cf;
  tack_ctx *strat = make(&cs, &fx.strategy, "strategies", "trend", NULL, rt);
  tack_ctx *filt = make(&cf, &fx.filter, "filters", "f", NULL, rt);
  assert_int_equal(tack_instance_start(strat), 0);
  tack_bar bar = {1, 1, 1, 1, 1, 1, 60, TACK_BAR_CLOSED};
  tack_fill fill;
  memset(&fill, 0, sizeof fill);
  assert_int_equal(H->ex_bar(strat, "BTC-USD", &bar), TACK_EPERM);
  assert_int_equal(H->ex_connection(strat, TACK_CONN_UP, NULL), TACK_EPERM);
  assert_int_equal(H->ex_fill(filt, &fill), TACK_EPERM);
  assert_int_equal(H->ex_error(filt, "ticker", TACK_EPARSE, "bad"), TACK_EPERM);
  assert_int_equal(H->ex_done(strat, 1, 0, NULL), TACK_EPERM);
  /* Only strategies and scorers emit signals. */
  tack_signal sig = {0, 0.5, 0.5, "x"};
  assert_int_equal(tack_instance_start(filt), 0);
  assert_int_equal(H->emit_signal(filt, &sig), TACK_EPERM);
  /* A strategy outside any symbol's pipeline has nowhere to send it. */
  assert_int_equal(H->emit_signal(strat, &sig), TACK_ENOTSUP);
  sig.strength = NAN;
  assert_int_equal(H->emit_signal(strat, &sig), TACK_EINVAL);
  sig.strength = 0.1;
  sig.confidence = INFINITY;
  assert_int_equal(H->emit_signal(strat, &sig), TACK_EINVAL);

  /* An exchange may, but only while it runs. */
  rt_ci ce;
  tack_ctx *ex = make(&ce, &fx.exchange, "exchanges", "replay", NULL, rt);
  assert_int_equal(H->ex_connection(ex, TACK_CONN_UP, NULL), TACK_ESTATE);
  tack_instance_free(ex);
  tack_instance_free(filt);
  tack_instance_free(strat);
  tack_runtime_free(rt);
  rt_ci_free(&ce);
  rt_ci_free(&cf);
  rt_ci_free(&cs);
}

typedef struct timer_probe {
  int fired;
  uint64_t last_id;
} timer_probe;

static void on_timer(void *user, uint64_t id) {
  timer_probe *p = user;
  p->fired++;
  p->last_id = id;
}

static void wake(uv_timer_t *t) { *(int *)t->data = 1; }

static void run_until(uv_loop_t *loop, const int *counter, int at_least) {
  for (int i = 0; i < 2000 && *counter < at_least; i++)
    uv_run(loop, UV_RUN_ONCE);
}

static void test_timers(void **state) {
  (void)state;
  tack_runtime *rt = NULL;
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(tack_runtime_new(&o, &rt), 0);
  uv_loop_t *loop = tack_runtime_loop(rt);
  rt_ci c;
  tack_ctx *ctx = make(&c, &fx.strategy, "strategies", "trend", NULL, rt);
  timer_probe once = {0, 0}, rep = {0, 0}, stopped = {0, 0};
  uint64_t id_once = 0, id_rep = 0, id_stop = 0;

  /* Timers exist only while the instance runs. */
  assert_int_equal(H->timer_start(ctx, 1000000, 0, on_timer, &once, &id_once), TACK_ESTATE);
  assert_int_equal(tack_instance_start(ctx), 0);
  assert_int_equal(H->timer_start(ctx, 1000000, 0, on_timer, &once, &id_once), 0);
  assert_int_equal(H->timer_start(ctx, 1000000, 1000000, on_timer, &rep, &id_rep), 0);
  assert_int_equal(H->timer_start(ctx, 1000000, 0, on_timer, &stopped, &id_stop), 0);
  assert_int_equal(H->timer_start(ctx, 1, 0, NULL, NULL, NULL), TACK_EINVAL);
  assert_true(id_once != id_rep && id_rep != id_stop);
  assert_int_equal(H->timer_stop(ctx, id_stop), 0);
  assert_int_equal(H->timer_stop(ctx, id_stop), TACK_ENOENT);

  run_until(loop, &rep.fired, 3);
  assert_int_equal(once.fired, 1);
  assert_int_equal(once.last_id, id_once);
  assert_true(rep.fired >= 3);
  assert_int_equal(rep.last_id, id_rep);
  assert_int_equal(stopped.fired, 0);
  /* A fired one-shot timer is gone. */
  assert_int_equal(H->timer_stop(ctx, id_once), TACK_ENOENT);

  /* Timers die with the instance: nothing fires after stop. */
  tack_instance_stop(ctx);
  int seen = rep.fired;
  uv_timer_t guard;
  int woke = 0;
  uv_timer_init(loop, &guard);
  guard.data = &woke;
  uv_timer_start(&guard, wake, 20, 0);
  run_until(loop, &woke, 1);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  assert_int_equal(rep.fired, seen);
  assert_int_equal(H->timer_stop(ctx, id_rep), TACK_ENOENT);
  tack_instance_free(ctx);
  tack_runtime_free(rt); /* closes the loop: fails if a timer handle lingered */
  rt_ci_free(&c);
}

static void test_kv_through_services(void **state) {
  (void)state;
  char store[300];
  snprintf(store, sizeof store, "%s/kvstore", tmp);
  tack_runtime *rt = NULL;
  tack_runtime_opts o = {"bot", store, 0, 0, 0, 0};
  assert_int_equal(tack_runtime_new(&o, &rt), 0);
  rt_ci ca, cb;
  tack_ctx *a = make(&ca, &fx.strategy, "strategies", "a", NULL, rt);
  tack_ctx *b = make(&cb, &fx.strategy, "strategies", "b", NULL, rt);
  assert_int_equal(H->kv_put(a, "pos", 3, "AAAA", 4), 0);
  assert_int_equal(H->kv_put(b, "pos", 3, "BB", 2), 0);
  char buf[8] = {0};
  size_t len = 0;
  assert_int_equal(H->kv_get(a, "pos", 3, buf, sizeof buf, &len), 0);
  assert_int_equal(len, 4);
  assert_memory_equal(buf, "AAAA", 4);
  assert_int_equal(H->kv_get(b, "pos", 3, buf, 1, &len), TACK_ENOSPC);
  assert_int_equal(len, 2);
  assert_int_equal(H->kv_del(b, "pos", 3), 0);
  assert_int_equal(H->kv_get(b, "pos", 3, buf, sizeof buf, &len), TACK_ENOENT);
  assert_int_equal(H->kv_get(a, "pos", 3, buf, sizeof buf, &len), 0);
  char key[300];
  memset(key, 'k', sizeof key);
  assert_int_equal(H->kv_put(a, key, 256, "v", 1), TACK_ERANGE);
  assert_int_equal(H->kv_put(a, key, 255, "v", 1), 0);
  assert_int_equal(H->kv_put(a, NULL, 0, "v", 1), TACK_EINVAL);
  tack_instance_free(a);
  tack_instance_free(b);
  tack_runtime_free(rt);
  rt_ci_free(&ca);
  rt_ci_free(&cb);

  /* The store is the same after a restart; the namespace is (bot, section,
   * instance name). */
  assert_int_equal(tack_runtime_new(&o, &rt), 0);
  a = make(&ca, &fx.strategy, "strategies", "a", NULL, rt);
  assert_int_equal(H->kv_get(a, "pos", 3, buf, sizeof buf, &len), 0);
  assert_memory_equal(buf, "AAAA", 4);
  tack_instance_free(a);
  tack_runtime_free(rt);
  rt_ci_free(&ca);
  o.bot = "other";
  assert_int_equal(tack_runtime_new(&o, &rt), 0);
  a = make(&ca, &fx.strategy, "strategies", "a", NULL, rt);
  assert_int_equal(H->kv_get(a, "pos", 3, buf, sizeof buf, &len), TACK_ENOENT);
  tack_instance_free(a);
  tack_runtime_free(rt);
  rt_ci_free(&ca);
}

static void test_candle_services(void **state) {
  (void)state;
  char path[300];
  snprintf(path, sizeof path, "%s/candlestore", tmp);
  tack_runtime *rt = NULL;
  tack_runtime_opts o = {.bot = "bot", .store_path = path};
  assert_int_equal(tack_runtime_new(&o, &rt), 0);
  assert_true(TACK_HOST_HAS(H, candles_close));

  /* 1000 candles of a minute from 2024-01-01, written as `tack data
   * import` does. */
  enum { N = 1000 };
  const tack_time t0 = INT64_C(1704067200) * TACK_NS_PER_SEC, minute = 60 * TACK_NS_PER_SEC;
  tack_bar *want = calloc(N, sizeof *want);
  assert_non_null(want);
  for (size_t i = 0; i < N; i++)
    want[i] = (tack_bar){t0 + (tack_time)i * minute, 100, 102, 99, 101, (double)i, 60, 0};
  tack_candles *cs;
  assert_int_equal(tack_candles_open(tack_runtime_store(rt), &cs), 0);
  assert_int_equal(tack_candles_put(cs, "BTC-USD", 60, want, N, NULL, NULL), 0);
  tack_candles_close(cs);

  rt_ci c;
  tack_ctx *ctx = make(&c, &fx.strategy, "strategies", "reader", NULL, rt);
  uint64_t count = 0;
  tack_time first = 0, last = 0;
  assert_int_equal(H->candles_info(ctx, "BTC-USD", 60, &count, &first, &last), 0);
  assert_int_equal(count, N);
  assert_true(first == t0 && last == t0 + (N - 1) * minute);
  assert_int_equal(H->candles_info(ctx, "BTC-USD", 300, &count, NULL, NULL), TACK_ENOENT);
  assert_int_equal(H->candles_info(ctx, "BTC USD", 60, &count, NULL, NULL), TACK_EINVAL);

  /* Pages of 7 over [t0 + 10 min, t0 + 500 min): 490 candles in order, and
   * then 0, again and again. */
  uint64_t id = 0, other = 0;
  assert_int_equal(H->candles_open(ctx, "BTC-USD", 60, t0 + 10 * minute, t0 + 500 * minute, &id),
                   0);
  assert_true(id != 0);
  assert_int_equal(H->candles_open(ctx, "BTC-USD", 60, INT64_MIN, INT64_MAX, &other), 0);
  assert_true(other != id);
  tack_bar page[7];
  size_t n, total = 0;
  do {
    assert_int_equal(H->candles_next(ctx, id, page, 7, &n), 0);
    assert_true(n <= 7);
    for (size_t i = 0; i < n; i++) {
      const tack_bar *w = &want[10 + total + i];
      assert_true(page[i].ts == w->ts && page[i].volume == w->volume);
      assert_int_equal(page[i].timeframe_s, 60);
      assert_int_equal(page[i].flags, TACK_BAR_CLOSED);
    }
    total += n;
  } while (n > 0);
  assert_int_equal(total, 490);
  assert_int_equal(H->candles_next(ctx, id, page, 7, &n), 0);
  assert_int_equal(n, 0);
  /* Reads are independent; a big page takes what there is. */
  tack_bar *all = calloc(N + 10, sizeof *all);
  assert_non_null(all);
  assert_int_equal(H->candles_next(ctx, other, all, N + 10, &n), 0);
  assert_int_equal(n, N);
  assert_true(all[N - 1].ts == want[N - 1].ts);
  free(all);
  /* A closed or unknown read, a missing series, bad arguments. */
  H->candles_close(ctx, id);
  H->candles_close(ctx, id); /* a second close does nothing */
  n = 5;
  assert_int_equal(H->candles_next(ctx, id, page, 7, &n), TACK_EINVAL);
  assert_int_equal(n, 0);
  assert_int_equal(H->candles_next(ctx, 999, page, 7, &n), TACK_EINVAL);
  assert_int_equal(H->candles_next(ctx, other, NULL, 7, &n), TACK_EINVAL);
  assert_int_equal(H->candles_open(ctx, "ETH-USD", 60, INT64_MIN, INT64_MAX, &id), TACK_ENOENT);
  assert_int_equal(id, 0);
  assert_int_equal(H->candles_open(ctx, "BTC-USD", 0, INT64_MIN, INT64_MAX, &id), TACK_EINVAL);
  assert_int_equal(H->candles_open(ctx, "BTC-USD", 60, INT64_MIN, INT64_MAX, NULL), TACK_EINVAL);
  /* Reads left open belong to the instance: freed with it (ASan would
   * tell a leak). */
  assert_int_equal(H->candles_open(ctx, "BTC-USD", 60, INT64_MIN, INT64_MAX, &id), 0);
  tack_instance_free(ctx);
  rt_ci_free(&c);
  tack_runtime_free(rt);

  /* Without a store, or outside a run: TACK_ESTATE. */
  tack_runtime_opts none = {.bot = "bot"};
  assert_int_equal(tack_runtime_new(&none, &rt), 0);
  ctx = make(&c, &fx.strategy, "strategies", "reader", NULL, rt);
  assert_int_equal(H->candles_info(ctx, "BTC-USD", 60, &count, NULL, NULL), TACK_ESTATE);
  assert_int_equal(H->candles_open(ctx, "BTC-USD", 60, INT64_MIN, INT64_MAX, &id), TACK_ESTATE);
  tack_instance_free(ctx);
  rt_ci_free(&c);
  tack_runtime_free(rt);
  ctx = make(&c, &fx.strategy, "strategies", "reader", NULL, NULL);
  assert_int_equal(H->candles_info(ctx, "BTC-USD", 60, &count, NULL, NULL), TACK_ESTATE);
  tack_instance_free(ctx);
  rt_ci_free(&c);
  free(want);
}

static void test_loop_extension(void **state) {
  (void)state;
  tack_runtime *rt = NULL;
  tack_runtime_opts o = {NULL, NULL, 0, 0, 0, 0};
  assert_int_equal(tack_runtime_new(&o, &rt), 0);
  rt_ci c;
  tack_ctx *ctx = make(&c, &fx.exchange, "exchanges", "replay", NULL, rt);
  const tack_ext_loop *ext = H->get_extension(ctx, TACK_EXT_LOOP);
  assert_non_null(ext);
  assert_int_equal(ext->size, sizeof *ext);
  assert_ptr_equal(ext->loop, tack_runtime_loop(rt));
  assert_null(H->get_extension(ctx, "tack.loop/2"));
  tack_instance_free(ctx);
  tack_runtime_free(rt);
  rt_ci_free(&c);
}

static void test_memory_accounting_and_leaks(void **state) {
  (void)state;
  rt_ci c;
  tack_ctx *ctx = make(&c, &fx.strategy, "strategies", "leaky", "leak = 64;", NULL);
  const tack_alloc_acct *m = tack_instance_memory(ctx);
  uint64_t base = m->live_bytes;
  assert_true(base >= 64);
  void *p = H->alloc(ctx, 1000);
  assert_non_null(p);
  assert_int_equal(m->live_bytes, base + 1000);
  p = H->realloc(ctx, p, 3000);
  assert_non_null(p);
  assert_int_equal(m->live_bytes, base + 3000);
  assert_true(m->peak_bytes >= base + 3000);
  H->free(ctx, p);
  H->free(ctx, NULL);
  assert_int_equal(m->live_bytes, base);

  tack_alloc_acct final;
  tack_instance_free_acct(ctx, &final);
  assert_int_equal(final.live_bytes, 64);
  assert_int_equal(final.live_blocks, 1);
  assert_true(final.peak_bytes >= base + 3000);
  tack_free(NULL, fx.rec->leaked); /* the test owns the leak now */
  rt_ci_free(&c);
}

static void test_allocation_failures(void **state) {
  (void)state;
  tack_runtime *rt = NULL;
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(tack_runtime_new(&o, &rt), 0);
  rt_ci c;
  assert_int_equal(rt_ci_make(&c, tmp, &fx.strategy, "strategies", "trend", NULL), 0);
  int failures = 0, success = 0;
  for (uint64_t n = 1; n < 64 && !success; n++) {
    tack_diag d = TACK_DIAG_INIT;
    tack_ctx *ctx = NULL;
    memset(fx.rec, 0, sizeof *fx.rec);
    tack_alloc_fail_after(n);
    int rc = tack_instance_new(&c.ci, rt, &d, &ctx);
    tack_alloc_fail_after(0);
    if (rc == 0) {
      assert_non_null(ctx);
      tack_instance_free(ctx);
      success = 1;
    } else {
      failures++;
      assert_int_equal(rc, TACK_ENOMEM);
      assert_null(ctx);
      /* The plugin's create saw the failure: no destroy for it. */
      assert_int_equal(fx.rec->destroys, 0);
    }
    tack_diag_free(&d);
  }
  assert_true(success);
  assert_true(failures >= 2); /* the host's own allocations, then the plugin's */
  tack_runtime_free(rt);
  rt_ci_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_lifecycle_and_state_errors, reset),
      cmocka_unit_test_setup(test_create_failure_skips_destroy, reset),
      cmocka_unit_test_setup(test_param_error_in_configure, reset),
      cmocka_unit_test_setup(test_param_services, reset),
      cmocka_unit_test_setup(test_services_without_runtime, reset),
      cmocka_unit_test_setup(test_orders_are_not_supported, reset),
      cmocka_unit_test_setup(test_exchange_services_need_an_exchange, reset),
      cmocka_unit_test_setup(test_timers, reset),
      cmocka_unit_test_setup(test_kv_through_services, reset),
      cmocka_unit_test_setup(test_candle_services, reset),
      cmocka_unit_test_setup(test_loop_extension, reset),
      cmocka_unit_test_setup(test_memory_accounting_and_leaks, reset),
      cmocka_unit_test_setup(test_allocation_failures, reset),
  };
  /* Outside cmocka: a failed group setup would otherwise count as no
   * failure at all. */
  if (prepare() != 0)
    return 1;
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cleanup();
  return failed;
}
