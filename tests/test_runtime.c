/*
 * test_runtime.c: the running host in process, with the fixture plugins: the
 * bar pipeline (exchange -> filters -> strategy -> signal), subscriptions on
 * TACK_CONN_UP, the orderly stop at the end of the data, on request and
 * after --for, failures at start, the choice of where bars come from and
 * the refusal when nothing can provide them, signals emitted from a timer,
 * state kept in the store across runs, and the tree of a one-strategy
 * symbol. Composed strategies are tested in test_compose.c; how bars of
 * other timeframes are made and ordered in test_mtf.c.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bars.h"
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

/* A runtime with one fixture exchange and per symbol a strategy behind
 * n_filters fixture filters. Config instances live in the harness. */
#define MAX_SYMS 4
typedef struct harness {
  tack_runtime *rt;
  rt_ci ex_ci, st_ci, f_ci;
  tack_ctx *ex;
  tack_ctx *strategy[MAX_SYMS];
} harness;

static int build(harness *h, const tack_runtime_opts *o, const char *ex_params,
                 const char *st_params, const char *f_params, size_t n_filters,
                 const char *const *symbols, size_t n_symbols, uint32_t timeframe) {
  tack_diag d = TACK_DIAG_INIT;
  int rc;
  memset(h, 0, sizeof *h);
  assert_int_equal(tack_runtime_new(o, &h->rt), 0);
  assert_int_equal(rt_ci_make(&h->ex_ci, tmp, &fx.exchange, "exchanges", "replay", ex_params), 0);
  assert_int_equal(rt_ci_make(&h->st_ci, tmp, &fx.strategy, "strategies", "trend", st_params), 0);
  assert_int_equal(rt_ci_make(&h->f_ci, tmp, &fx.filter, "filters", "dup", f_params), 0);
  assert_int_equal(tack_instance_new(&h->ex_ci.ci, h->rt, &d, &h->ex), 0);
  assert_int_equal(tack_runtime_add_exchange(h->rt, h->ex), 0);
  for (size_t i = 0; i < n_symbols; i++) {
    tack_ctx *filters[2] = {NULL, NULL};
    assert_true(n_filters <= 2);
    assert_int_equal(tack_instance_new_scoped(&h->st_ci.ci, symbols[i], h->rt, &d, &h->strategy[i]),
                     0);
    for (size_t f = 0; f < n_filters; f++)
      assert_int_equal(tack_instance_new_scoped(&h->f_ci.ci, symbols[i], h->rt, &d, &filters[f]),
                       0);
    tack_runtime_symbol_spec spec = {symbols[i], h->ex,       &timeframe,     1,
                                     filters,    n_filters,   h->strategy[i], TACK_BARS_GAP_SKIP,
                                     "test.cfg", 10 + (int)i, "test.cfg",     5};
    rc = tack_runtime_add_symbol(h->rt, &spec, &d);
    if (rc != 0) {
      tack_diag_print(&d, stderr);
      tack_diag_free(&d);
      return rc;
    }
  }
  tack_diag_free(&d);
  return 0;
}

static void finish(harness *h) {
  tack_runtime_free(h->rt);
  rt_ci_free(&h->ex_ci);
  rt_ci_free(&h->st_ci);
  rt_ci_free(&h->f_ci);
}

static tack_runtime_symbol_stats stats(harness *h, size_t i) {
  tack_runtime_symbol_stats s;
  assert_int_equal(tack_runtime_symbol_stats_at(h->rt, i, &s), 0);
  return s;
}

static void test_pipeline_to_end_of_data(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"ETH-USD", "BTC-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(build(&h, &o, "bars = 20;", NULL, "copies = 2;", 1, syms, 2, 60), 0);
  assert_ptr_not_equal(h.strategy[0], h.strategy[1]);
  assert_string_equal(tack_instance_name(h.strategy[1]), "strategies.trend@BTC-USD");
  assert_int_equal(tack_runtime_run(h.rt), 0);

  /* Each bar reached the filter once and the strategy twice (two copies);
   * the second copy never moves the close, so one signal per move. */
  for (size_t i = 0; i < 2; i++) {
    tack_runtime_symbol_stats s = stats(&h, i);
    assert_string_equal(s.symbol, syms[i]);
    assert_int_equal(s.bars, 20);
    assert_int_equal(s.signals, 19);
    assert_int_equal(s.errors, 0);
    assert_true(s.has_signal);
    /* Bar 19 closes at 101 after 105. */
    assert_true(s.last.strength == -0.42);
    assert_true(s.last.confidence == 0.8);
    assert_string_equal(s.last.reason, "momentum down");
    assert_int_equal(s.last.ts, (tack_time)(1699920000 + 19 * 60) * TACK_NS_PER_SEC);
    assert_int_equal(s.delivered, 20);
    assert_int_equal(s.trades, 0);
    assert_int_equal(s.dropped, 0);
  }
  /* A symbol of one strategy is a tree of one entry, with its signal. */
  tack_compose_entry e;
  assert_int_equal(tack_runtime_tree_count(h.rt, 1), 1);
  assert_int_equal(tack_runtime_tree_at(h.rt, 1, 0, &e), 0);
  assert_string_equal(e.name, "trend");
  assert_int_equal(e.parent, -1);
  assert_true(e.has_signal && e.last.strength == -0.42);
  assert_int_equal(tack_runtime_tree_at(h.rt, 1, 1, &e), TACK_ERANGE);
  assert_int_equal(tack_runtime_tree_at(h.rt, 2, 0, &e), TACK_ERANGE);
  assert_int_equal(tack_runtime_regime_count(h.rt, 0), 0);
  assert_int_equal(fx.rec->subscribes, 2);
  assert_int_equal(fx.rec->last_sub.channel, TACK_SUB_BARS);
  assert_int_equal(fx.rec->last_sub.timeframe_s, 60);
  assert_int_equal(fx.rec->connects, 1);
  assert_int_equal(fx.rec->has_loop, 1);
  assert_int_equal(fx.rec->updates, 40);
  assert_int_equal(fx.rec->on_bars, 80);
  /* Everything started was stopped, everything created destroyed. */
  assert_int_equal(fx.rec->creates, 5);
  assert_int_equal(fx.rec->starts, 5);
  assert_int_equal(fx.rec->stops, 5);
  assert_int_equal(fx.rec->destroys, 5);
  tack_runtime_print_summary(h.rt, stdout);
  finish(&h);
}

static void test_signals_are_clamped(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"BTC-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(
      build(&h, &o, "bars = 3;", "strength = 7.5; confidence = 3.0;", NULL, 0, syms, 1, 300), 0);
  assert_int_equal(tack_runtime_run(h.rt), 0);
  tack_runtime_symbol_stats s = stats(&h, 0);
  assert_int_equal(s.signals, 2);
  assert_true(s.last.strength == 1.0); /* 106 after 103: up, clamped */
  assert_true(s.last.confidence == 1.0);
  finish(&h);
}

/* Calls services on the strategy from the loop while the run is going. */
typedef struct emit_probe {
  tack_runtime *rt;
  tack_ctx *strategy;
  int rc_clamped, rc_nan, rc_ex;
  uv_timer_t timer;
} emit_probe;

static void emit_now(uv_timer_t *t) {
  emit_probe *p = t->data;
  const tack_host *H = &tack_host_services;
  tack_signal sig = {0, -9.0, -0.5, "from a timer"};
  p->rc_clamped = H->emit_signal(p->strategy, &sig);
  sig.strength = NAN;
  p->rc_nan = H->emit_signal(p->strategy, &sig);
  tack_bar bar = {1, 1, 1, 1, 1, 1, 60, TACK_BAR_CLOSED};
  p->rc_ex = H->ex_bar(p->strategy, "BTC-USD", &bar);
  uv_close((uv_handle_t *)&p->timer, NULL);
  tack_runtime_request_stop(p->rt, "the test is done", 0);
}

static void test_emit_signal_during_run(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"BTC-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  /* Endless bars, one per 50 ms: the probe fires before the second. */
  assert_int_equal(build(&h, &o, "bars = 0; interval_ms = 50;", NULL, NULL, 0, syms, 1, 60), 0);
  emit_probe p = {h.rt, h.strategy[0], 1, 1, 1, {0}};
  uv_timer_init(tack_runtime_loop(h.rt), &p.timer);
  p.timer.data = &p;
  uv_timer_start(&p.timer, emit_now, 5, 0);
  assert_int_equal(tack_runtime_run(h.rt), 0);
  assert_int_equal(p.rc_clamped, 0);
  assert_int_equal(p.rc_nan, TACK_EINVAL);
  assert_int_equal(p.rc_ex, TACK_EPERM);
  tack_runtime_symbol_stats s = stats(&h, 0);
  assert_true(s.signals >= 1);
  assert_true(s.last.strength == -1.0);
  assert_true(s.last.confidence == 0.0);
  assert_string_equal(s.last.reason, "from a timer");
  assert_true(s.last.ts > 0); /* stamped with the host clock */
  assert_int_equal(fx.rec->destroys, fx.rec->creates);
  finish(&h);
}

/* Exchange services called on the exchange's behalf while it runs. */
typedef struct venue_probe {
  tack_runtime *rt;
  tack_ctx *ex;
  int rc_error, rc_trade, rc_unknown, rc_nan, rc_tf, rc_state;
  uv_timer_t timer;
} venue_probe;

static void venue_now(uv_timer_t *t) {
  venue_probe *p = t->data;
  const tack_host *H = &tack_host_services;
  tack_trade trade;
  memset(&trade, 0, sizeof trade);
  p->rc_error = H->ex_error(p->ex, "ticker", TACK_EPARSE, "missing field price");
  p->rc_trade = H->ex_trade(p->ex, "BTC-USD", &trade);
  tack_bar bar = {1, 1, 2, 0.5, 1.5, 3, 60, TACK_BAR_CLOSED};
  p->rc_unknown = H->ex_bar(p->ex, "DOGE-USD", &bar);
  bar.high = NAN;
  p->rc_nan = H->ex_bar(p->ex, "BTC-USD", &bar);
  bar.high = 2;
  bar.timeframe_s = 300;
  p->rc_tf = H->ex_bar(p->ex, "BTC-USD", &bar);
  p->rc_state = H->ex_connection(p->ex, 99, NULL);
  uv_close((uv_handle_t *)&p->timer, NULL);
  tack_runtime_request_stop(p->rt, "the test is done", 0);
}

static void test_venue_problems_are_counted(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"BTC-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(build(&h, &o, "bars = 0; interval_ms = 50;", NULL, NULL, 0, syms, 1, 60), 0);
  venue_probe p = {h.rt, h.ex, 1, 1, 1, 1, 1, 1, {0}};
  uv_timer_init(tack_runtime_loop(h.rt), &p.timer);
  p.timer.data = &p;
  uv_timer_start(&p.timer, venue_now, 5, 0);
  assert_int_equal(tack_runtime_run(h.rt), 0);
  assert_int_equal(p.rc_error, 0);
  assert_int_equal(p.rc_trade, 0);
  assert_int_equal(p.rc_unknown, TACK_ENOENT);
  assert_int_equal(p.rc_nan, TACK_EINVAL);
  assert_int_equal(p.rc_tf, TACK_EINVAL);
  assert_int_equal(p.rc_state, TACK_EINVAL);
  tack_runtime_symbol_stats s = stats(&h, 0);
  assert_int_equal(s.errors, 2);

  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  assert_non_null(out);
  tack_runtime_print_summary(h.rt, out);
  fclose(out);
  assert_non_null(strstr(text, "summary: the test is done"));
  assert_non_null(strstr(text, "exchanges.replay: 1 venue messages not used, 1 bars or trades for "
                               "unsubscribed symbols"));
  assert_non_null(strstr(text, "exchanges.replay (rt.exchange)"));
  free(text);
  finish(&h);
}

static void test_filter_overflow_is_reported(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"BTC-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  /* 100 copies do not fit the 64 output bars a filter gets. */
  assert_int_equal(build(&h, &o, "bars = 3;", NULL, "copies = 100;", 1, syms, 1, 60), 0);
  assert_int_equal(tack_runtime_run(h.rt), 0);
  tack_runtime_symbol_stats s = stats(&h, 0);
  assert_int_equal(s.bars, 3);
  assert_int_equal(s.errors, 3);
  assert_int_equal(s.signals, 0);
  assert_int_equal(fx.rec->on_bars, 0);
  finish(&h);
}

static void test_run_for_stops_an_endless_run(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"BTC-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 150, 1, 0};
  assert_int_equal(build(&h, &o, "bars = 0; interval_ms = 2;", NULL, NULL, 0, syms, 1, 60), 0);
  assert_int_equal(tack_runtime_run(h.rt), 0);
  tack_runtime_symbol_stats s = stats(&h, 0);
  assert_true(s.bars >= 5);
  assert_int_equal(fx.rec->stops, 2);
  assert_int_equal(fx.rec->destroys, 2);
  finish(&h);
}

/* 1h is not streamed, but 5m (the largest timeframe offered that divides
 * it) is: the runtime subscribes 5m bars and resamples them. */
static void test_other_timeframe_is_resampled(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"BTC-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(build(&h, &o, "bars = 36;", NULL, NULL, 1, syms, 1, 3600), 0);
  assert_int_equal(tack_runtime_run(h.rt), 0);
  assert_int_equal(fx.rec->subscribes, 1);
  assert_int_equal(fx.rec->last_sub.channel, TACK_SUB_BARS);
  assert_int_equal(fx.rec->last_sub.timeframe_s, 300);
  tack_runtime_symbol_stats s = stats(&h, 0);
  assert_int_equal(s.bars, 36);
  assert_int_equal(s.delivered, 3); /* three whole hours of 5m bars */
  assert_int_equal(s.errors, 0);
  finish(&h);
}

/* 90s: neither 1m nor 5m divides it, and the fixture venue has no
 * TACK_CAP_TRADES. The symbol is refused before anything starts. */
static void test_unobtainable_timeframe_is_refused(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"BTC-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(build(&h, &o, "bars = 0;", NULL, NULL, 1, syms, 1, 90), TACK_ENOTSUP);
  assert_int_equal(fx.rec->starts, 0);
  assert_int_equal(fx.rec->subscribes, 0);
  finish(&h);
  assert_int_equal(fx.rec->destroys, fx.rec->creates);
}

/* A venue that says it streams trades but refuses the subscription: the
 * run stops with an error as soon as the subscription is refused; nothing
 * reaches the strategy. */
static void test_unobtainable_timeframe_stops_the_run(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"BTC-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(build(&h, &o, "bars = 0; claim_trades = true;", NULL, NULL, 1, syms, 1, 90), 0);
  assert_int_equal(tack_runtime_run(h.rt), TACK_EPLUGIN);
  assert_int_equal(fx.rec->subscribes, 1);
  assert_int_equal(fx.rec->last_sub.channel, TACK_SUB_TRADES);
  assert_int_equal(fx.rec->on_bars, 0);
  tack_runtime_symbol_stats s = stats(&h, 0);
  assert_int_equal(s.errors, 1);
  assert_int_equal(fx.rec->stops, fx.rec->starts);
  finish(&h);
  assert_int_equal(fx.rec->destroys, fx.rec->creates);
}

static void test_start_failure_stops_in_order(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"BTC-USD", "ETH-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(build(&h, &o, NULL, "fail_start = true;", NULL, 0, syms, 2, 60), 0);
  assert_int_equal(tack_runtime_run(h.rt), TACK_EPLUGIN);
  assert_int_equal(fx.rec->starts, 1); /* the first strategy; nothing after it */
  assert_int_equal(fx.rec->stops, 0);
  assert_int_equal(fx.rec->connects, 0);
  assert_int_equal(fx.rec->destroys, 3);
  finish(&h);
}

static void test_connect_failure(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"BTC-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(build(&h, &o, "fail_connect = true;", NULL, NULL, 0, syms, 1, 60), 0);
  assert_int_equal(tack_runtime_run(h.rt), TACK_EPLUGIN);
  assert_int_equal(fx.rec->connects, 1);
  assert_int_equal(fx.rec->stops, 2);
  assert_int_equal(fx.rec->destroys, 2);
  finish(&h);
}

static void test_duplicate_symbol_is_refused(void **state) {
  (void)state;
  harness h;
  const char *syms[] = {"BTC-USD", "BTC-USD"};
  tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
  assert_int_equal(build(&h, &o, NULL, NULL, NULL, 0, syms, 2, 60), TACK_EEXIST);
  finish(&h);
  assert_int_equal(fx.rec->destroys, fx.rec->creates);
}

static void test_state_survives_runs(void **state) {
  (void)state;
  char store[300];
  snprintf(store, sizeof store, "%s/runs", tmp);
  const char *syms[] = {"BTC-USD"};
  tack_runtime_opts o = {"bot", store, 0, 0, 0, 0};
  for (int run = 1; run <= 2; run++) {
    harness h;
    assert_int_equal(build(&h, &o, "bars = 7;", "kv = true;", NULL, 0, syms, 1, 60), 0);
    assert_int_equal(tack_runtime_run(h.rt), 0);
    finish(&h);
    /* The strategy saved its count in stop(); read it as the store has it. */
    tack_store *st = NULL;
    assert_int_equal(tack_store_open(store, 0, &st), 0);
    tack_store_ns ns = {"bot", "strategies", "trend@BTC-USD"};
    int64_t bars = 0;
    size_t len = 0;
    assert_int_equal(tack_store_kv_get(st, &ns, "bars", 4, &bars, sizeof bars, &len), 0);
    assert_int_equal(bars, 7 * run);
    tack_store_close(st);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_pipeline_to_end_of_data, reset),
      cmocka_unit_test_setup(test_signals_are_clamped, reset),
      cmocka_unit_test_setup(test_emit_signal_during_run, reset),
      cmocka_unit_test_setup(test_venue_problems_are_counted, reset),
      cmocka_unit_test_setup(test_filter_overflow_is_reported, reset),
      cmocka_unit_test_setup(test_run_for_stops_an_endless_run, reset),
      cmocka_unit_test_setup(test_other_timeframe_is_resampled, reset),
      cmocka_unit_test_setup(test_unobtainable_timeframe_is_refused, reset),
      cmocka_unit_test_setup(test_unobtainable_timeframe_stops_the_run, reset),
      cmocka_unit_test_setup(test_start_failure_stops_in_order, reset),
      cmocka_unit_test_setup(test_connect_failure, reset),
      cmocka_unit_test_setup(test_duplicate_symbol_is_refused, reset),
      cmocka_unit_test_setup(test_state_survives_runs, reset),
  };
  /* Outside cmocka: a failed group setup would otherwise count as no
   * failure at all. */
  if (prepare() != 0)
    return 1;
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  cleanup();
  return failed;
}
