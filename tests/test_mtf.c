/*
 * test_mtf.c: bars of any timeframe inside the running host, and strategies
 * of several timeframes. In process, from real config files, with the
 * fixture plugins (rt_fixtures.so), which log every bar the exchange sent
 * and every bar the strategy got:
 *   - bars resampled in the host equal what tack_bar_resampler makes of the
 *     same closed bars, computed here independently; provisional bars never
 *     reach a strategy;
 *   - bars built from trades, closed by the host's timer when their
 *     interval ends with no further trade, filled when asked, and trades
 *     replayed from history not mistaken for late ones;
 *   - multi-timeframe delivery: every bar closed, in the documented order
 *     (close time, then the longer timeframe first), no higher bar shown
 *     before its interval ended, each equal to the aggregate of exactly the
 *     closed source bars of its bucket, and one filter chain per timeframe;
 *   - config errors of `timeframes` and `gap` with file and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bars.h"
#include "config.h"
#include "instance.h"
#include "rt_test_util.h"
#include "runtime.h"

#define NS TACK_NS_PER_SEC
/* Where rt.exchange's bar 0 starts: 2023-11-14T00:00:00Z. */
#define START_S INT64_C(1699920000)

static rt_fx fx;
static char tmp[256];

static int reset(void **state) {
  (void)state;
  memset(fx.rec, 0, sizeof *fx.rec);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* A run from a config                                                       */
/* ------------------------------------------------------------------------ */

typedef struct run {
  char path[400];
  tack_config *cfg;
  tack_runtime *rt;
  tack_diag d;
} run;

/* Write a config for the fixture plugins: ex_params inside the exchange's
 * params, tf_lines inside the strategy's group (timeframe or timeframes,
 * gap), st_params inside its params. */
static void write_config(run *r, const char *tag, const char *ex_params, const char *tf_lines,
                         const char *st_params) {
  snprintf(r->path, sizeof r->path, "%s/%s.cfg", tmp, tag);
  FILE *f = fopen(r->path, "w");
  assert_non_null(f);
  fprintf(f,
          "version = 1;\n"
          "name = \"mtf\";\n"
          "exchanges = {\n"
          "  venue = { plugin = \"rt.exchange\"; params = { %s }; };\n"
          "};\n"
          "filters = {\n"
          "  dup = { plugin = \"rt.filter\"; };\n"
          "};\n"
          "strategies = {\n"
          "  trend = {\n"
          "    plugin = \"rt.strategy\";\n"
          "    %s\n"
          "    filter = \"dup\";\n"
          "    params = { %s };\n"
          "  };\n"
          "};\n"
          "symbols = ( { symbol = \"BTC-USD\"; exchange = \"venue\"; strategy = \"trend\"; } );\n",
          ex_params, tf_lines, st_params ? st_params : "");
  fclose(f);
}

/* Load, resolve against the fixture plugins and build; 0 or the error. */
static int load_and_build(run *r) {
  const tack_plugin *plugins[] = {&fx.exchange, &fx.filter, &fx.strategy};
  tack_plugin_set set = {plugins, 3, NULL, 0};
  tack_runtime_opts o = {"mtf", NULL, 0, 0, 0, 0};
  r->d = (tack_diag)TACK_DIAG_INIT;
  int rc = tack_config_load(r->path, &r->cfg, &r->d);
  if (rc == 0)
    rc = tack_config_resolve_set(r->cfg, &set, &r->d);
  if (rc == 0)
    rc = tack_runtime_new(&o, &r->rt);
  if (rc == 0)
    rc = tack_runtime_build(r->rt, r->cfg, &r->d);
  if (rc != 0)
    tack_diag_print(&r->d, stderr);
  return rc;
}

static void run_free(run *r) {
  tack_runtime_free(r->rt);
  tack_config_free(r->cfg);
  tack_diag_free(&r->d);
  memset(r, 0, sizeof *r);
}

static tack_runtime_symbol_stats stats_of(run *r) {
  tack_runtime_symbol_stats s;
  assert_int_equal(tack_runtime_symbol_stats_at(r->rt, 0, &s), 0);
  return s;
}

static char *summary_of(run *r) {
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  assert_non_null(out);
  tack_runtime_print_summary(r->rt, out);
  fclose(out);
  return text;
}

/* ------------------------------------------------------------------------ */
/* Checks on what the strategy saw                                           */
/* ------------------------------------------------------------------------ */

static tack_time end_of(const tack_bar *b) { return b->ts + (tack_time)b->timeframe_s * NS; }

static int same_bar(const tack_bar *a, const tack_bar *b) {
  return a->ts == b->ts && a->open == b->open && a->high == b->high && a->low == b->low &&
         a->close == b->close && a->volume == b->volume && a->timeframe_s == b->timeframe_s &&
         a->flags == b->flags;
}

static void print_bar(const char *what, const tack_bar *b) {
  fprintf(stderr, "%s: tf %u ts %lld o %g h %g l %g c %g v %g flags %u\n", what,
          (unsigned)b->timeframe_s, (long long)(b->ts / NS), b->open, b->high, b->low, b->close,
          b->volume, (unsigned)b->flags);
}

/*
 * The delivery order the docs promise: by close time, and of bars closing
 * at the same instant the longer timeframe first. Strict, so also: each
 * interval of a timeframe once. Every bar is closed.
 */
static void check_order(void) {
  const rt_fixture_record *rec = fx.rec;
  assert_true(rec->n_seen <= RT_FIXTURE_LOG_MAX);
  for (int i = 0; i < rec->n_seen; i++) {
    const tack_bar *b = &rec->seen[i].bar;
    assert_true(b->flags & TACK_BAR_CLOSED);
    if (i == 0)
      continue;
    const tack_bar *a = &rec->seen[i - 1].bar;
    int ordered =
        end_of(a) < end_of(b) || (end_of(a) == end_of(b) && a->timeframe_s > b->timeframe_s);
    if (!ordered) {
      print_bar("before", a);
      print_bar("after", b);
    }
    assert_true(ordered);
  }
}

/* OHLCV of the closed bars among src[0..n) with ts in [from, to), in time
 * order: what a bar of that interval must be. Returns how many there are. */
static int aggregate(const tack_bar *src, int n, tack_time from, tack_time to, tack_bar *out) {
  int count = 0;
  for (int i = 0; i < n; i++) {
    const tack_bar *b = &src[i];
    if (b->ts < from || b->ts >= to || !(b->flags & TACK_BAR_CLOSED))
      continue;
    if (count == 0) {
      *out = *b;
    } else {
      out->high = b->high > out->high ? b->high : out->high;
      out->low = b->low < out->low ? b->low : out->low;
      out->close = b->close;
      out->volume += b->volume;
    }
    count++;
  }
  return count;
}

/*
 * No look-ahead, bar by bar: every bar the strategy got (driving or
 * higher) equals the aggregate of exactly the closed source bars of its
 * bucket, all of which had been sent before the strategy got it, and the
 * venue had sent a bar (closed or provisional) of the last slot of its
 * bucket or a later one by then: nothing of it was still forming. A bar of a higher timeframe is
 * never followed by a driving bar that ends before it.
 */
static void check_aggregates(uint32_t source_tf, uint32_t driving_tf) {
  const rt_fixture_record *rec = fx.rec;
  assert_true(rec->n_sent <= RT_FIXTURE_LOG_MAX);
  for (int i = 0; i < rec->n_seen; i++) {
    const rt_fixture_seen *seen = &rec->seen[i];
    const tack_bar *b = &seen->bar;
    tack_bar all, before;
    int n_all = aggregate(rec->sent, rec->n_sent, b->ts, end_of(b), &all);
    int n_before = aggregate(rec->sent, seen->sent, b->ts, end_of(b), &before);
    assert_true(n_all > 0);
    assert_int_equal(n_before, n_all);
    all.ts = b->ts;
    all.timeframe_s = b->timeframe_s;
    all.flags = TACK_BAR_CLOSED;
    if (!same_bar(&all, b)) {
      print_bar("seen", b);
      print_bar("expected", &all);
    }
    assert_true(same_bar(&all, b));
    assert_true(seen->newest + (tack_time)source_tf * NS >= end_of(b));
    if (b->timeframe_s == driving_tf)
      continue;
    for (int j = i + 1; j < rec->n_seen; j++) {
      if (rec->seen[j].bar.timeframe_s == driving_tf) {
        assert_true(end_of(b) <= end_of(&rec->seen[j].bar));
        break;
      }
    }
  }
}

static int count_tf(uint32_t tf) {
  int n = 0;
  for (int i = 0; i < fx.rec->n_seen; i++)
    n += fx.rec->seen[i].bar.timeframe_s == tf;
  return n;
}

/* Index of the seen bar of timeframe tf that ends at end, or -1. */
static int seen_at(uint32_t tf, tack_time end) {
  for (int i = 0; i < fx.rec->n_seen; i++)
    if (fx.rec->seen[i].bar.timeframe_s == tf && end_of(&fx.rec->seen[i].bar) == end)
      return i;
  return -1;
}

/* ------------------------------------------------------------------------ */
/* Resampling in the running host                                            */
/* ------------------------------------------------------------------------ */

typedef struct collected {
  tack_bar bars[RT_FIXTURE_LOG_MAX];
  int n;
} collected;

static void collect(void *data, const tack_bar *bar) {
  collected *c = data;
  if (c->n < RT_FIXTURE_LOG_MAX)
    c->bars[c->n] = *bar;
  c->n++;
}

/* A venue streaming 1m bars (each announced first by a provisional bar with
 * outlandish values, and every 7th missing) feeds a 5m strategy: what it
 * gets equals tack_bar_resampler's output over the closed 1m bars sent. */
static void test_resampled_bars_equal_the_resampler(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  write_config(&r, "resample",
               "timeframes = \"60\"; bars = 200; skip = 7; provisional = true; interval_ms = 1;",
               "timeframe = \"5m\";", NULL);
  assert_int_equal(load_and_build(&r), 0);
  assert_int_equal(tack_runtime_run(r.rt), 0);
  assert_int_equal(fx.rec->last_sub.channel, TACK_SUB_BARS);
  assert_int_equal(fx.rec->last_sub.timeframe_s, 60);

  static collected want;
  want.n = 0;
  tack_bar_resampler *rs = NULL;
  tack_bar_resampler_config rc = {60, 300, TACK_BARS_GAP_SKIP, 0, collect, NULL, &want};
  assert_int_equal(tack_bar_resampler_init(&rs, &rc), 0);
  for (int i = 0; i < fx.rec->n_sent; i++)
    assert_int_equal(tack_bar_resampler_push(rs, &fx.rec->sent[i]), TACK_BARS_APPLIED);
  tack_bar_resampler_free(rs);

  assert_int_equal(fx.rec->n_sent, 200 - 200 / 7);
  assert_int_equal(fx.rec->n_seen, want.n);
  assert_int_equal(want.n, 40); /* bar 199, the last slot of the last bucket, closes it */
  for (int i = 0; i < want.n; i++) {
    if (!same_bar(&fx.rec->seen[i].bar, &want.bars[i])) {
      print_bar("seen", &fx.rec->seen[i].bar);
      print_bar("resampler", &want.bars[i]);
    }
    assert_true(same_bar(&fx.rec->seen[i].bar, &want.bars[i]));
  }
  check_order();
  tack_runtime_symbol_stats s = stats_of(&r);
  assert_int_equal(s.bars, 2 * fx.rec->n_sent); /* provisional and closed */
  assert_int_equal(s.delivered, 40);
  assert_int_equal(s.errors, 0);
  assert_int_equal(s.dropped, 0);
  run_free(&r);
}

/* A native timeframe equal to the strategy's passes through, closed bars
 * only: the provisional ones never reach the strategy. */
static void test_provisional_bars_do_not_reach_strategies(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  write_config(&r, "prov", "bars = 30; provisional = true; interval_ms = 1;", "timeframe = \"1m\";",
               NULL);
  assert_int_equal(load_and_build(&r), 0);
  assert_int_equal(tack_runtime_run(r.rt), 0);
  assert_int_equal(fx.rec->n_seen, 30);
  for (int i = 0; i < 30; i++)
    assert_true(same_bar(&fx.rec->seen[i].bar, &fx.rec->sent[i]));
  assert_int_equal(stats_of(&r).bars, 60);
  run_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Several timeframes                                                        */
/* ------------------------------------------------------------------------ */

/* 1m bars whose prices tell their minute feed a strategy of 5m, 1h and 4h
 * (listed out of order). Ten hours of data: 120 bars of 5m, 10 of 1h and
 * the 4h bars of 00:00 and 04:00 (08:00-12:00 is still forming). */
static void test_multi_timeframe_without_look_ahead(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  write_config(&r, "mtf",
               "timeframes = \"60\"; bars = 600; ramp = true; provisional = true; interval_ms = 1;",
               "timeframes = [ \"1h\", \"5m\", \"4h\" ];", NULL);
  assert_int_equal(load_and_build(&r), 0);
  assert_int_equal(tack_runtime_run(r.rt), 0);
  assert_int_equal(count_tf(300), 120);
  assert_int_equal(count_tf(3600), 10);
  assert_int_equal(count_tf(14400), 2);
  check_order();
  check_aggregates(60, 300);

  /* At 04:00: the 4h bar [00:00, 04:00), the 1h bar [03:00, 04:00), then
   * the 5m bar [03:55, 04:00), one after the other. */
  tack_time four = (START_S + 4 * 3600) * NS;
  int i = seen_at(14400, four);
  assert_true(i >= 0);
  assert_int_equal(seen_at(3600, four), i + 1);
  assert_int_equal(seen_at(300, four), i + 2);
  /* The 4h bar holds minutes 0..239 exactly: open 1000, close 1239.5. */
  const tack_bar *h4 = &fx.rec->seen[i].bar;
  assert_true(h4->open == 1000.0 && h4->close == 1239.5 && h4->volume == 240.0);
  assert_true(h4->low == 999.75 && h4->high == 1239.75);
  /* Before it, the last bar was the 5m bar ending 03:55. */
  assert_int_equal(end_of(&fx.rec->seen[i - 1].bar), four - 300 * NS);

  /* One filter chain per timeframe, named after it. */
  assert_int_equal(fx.rec->filter_mixed, 0);
  assert_int_equal(fx.rec->creates, 1 + 1 + 3);
  assert_int_equal(fx.rec->destroys, fx.rec->creates);
  char *text = summary_of(&r);
  assert_non_null(strstr(text, "filters.dup@BTC-USD/5m (rt.filter)"));
  assert_non_null(strstr(text, "filters.dup@BTC-USD/1h (rt.filter)"));
  assert_non_null(strstr(text, "filters.dup@BTC-USD/4h (rt.filter)"));
  assert_non_null(strstr(text, "strategies.trend@BTC-USD (rt.strategy)"));
  free(text);
  run_free(&r);
}

/* A venue that leaves out candles of intervals without trades (every 13th
 * minute missing, so buckets end on a gap now and then): a higher bar then
 * closes on the first bar of a later bucket, still before the driving bar
 * it would otherwise have looked past. */
static void test_multi_timeframe_with_gaps(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  write_config(&r, "gaps",
               "timeframes = \"60\"; bars = 600; ramp = true; skip = 13; provisional = true; "
               "interval_ms = 1;",
               "timeframes = [ \"5m\", \"15m\", \"1h\" ];", NULL);
  assert_int_equal(load_and_build(&r), 0);
  assert_int_equal(tack_runtime_run(r.rt), 0);
  check_order();
  check_aggregates(60, 300);
  assert_int_equal(count_tf(3600), 10);
  assert_int_equal(count_tf(900), 40);
  assert_int_equal(count_tf(300), 120);
  run_free(&r);
}

/* The venue streams 1m and 5m: the strategy's 5m bars pass through as
 * streamed, its 1h bars are resampled from them. */
static void test_multi_timeframe_from_a_native_timeframe(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  write_config(&r, "native", "bars = 30; ramp = true; interval_ms = 1;",
               "timeframes = [ \"5m\", \"1h\" ];", NULL);
  assert_int_equal(load_and_build(&r), 0);
  assert_int_equal(tack_runtime_run(r.rt), 0);
  assert_int_equal(fx.rec->last_sub.timeframe_s, 300);
  assert_int_equal(count_tf(300), 30);
  assert_int_equal(count_tf(3600), 2);
  check_order();
  check_aggregates(300, 300);
  run_free(&r);
}

/* Data that begins at 00:03: the 5m bar [00:00, 00:05) and the 1h bar
 * [00:00, 01:00) would each hold only part of their interval, so neither is
 * delivered; every timeframe starts at its first whole interval, and the
 * first bar a strategy sees is therefore of its smallest timeframe. */
static void test_partial_first_intervals_are_not_delivered(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  char ex[200];
  snprintf(ex, sizeof ex,
           "bars = 120; ramp = true; interval_ms = 1; timeframes = \"60\"; start = %lld;",
           (long long)(START_S + 180));
  write_config(&r, "partial", ex, "timeframes = [ \"5m\", \"1h\" ];", NULL);
  assert_int_equal(load_and_build(&r), 0);
  assert_int_equal(tack_runtime_run(r.rt), 0);
  assert_int_equal(fx.rec->last_sub.timeframe_s, 60);
  assert_true(fx.rec->n_seen > 0);
  assert_int_equal(fx.rec->seen[0].bar.timeframe_s, 300);
  assert_int_equal(fx.rec->seen[0].bar.ts, (START_S + 300) * NS);
  for (int i = 0; i < fx.rec->n_seen; i++)
    assert_true(fx.rec->seen[i].bar.ts >= (START_S + 180) * NS);
  /* 00:05 .. 01:55, and 01:00 only: 02:00 .. 02:03 never closes. */
  assert_int_equal(count_tf(300), 23);
  assert_int_equal(count_tf(3600), 1);
  check_order();
  run_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Bars built from trades                                                    */
/* ------------------------------------------------------------------------ */

#define MAX_TRADES 64

/* Injects trades through the runtime's exchange service from a loop timer,
 * as rt.exchange would (ex_trade of an adapter reaches the runtime there),
 * then stops the run once the host clock reaches stop_at. */
typedef struct injector {
  tack_runtime *rt;
  uv_timer_t timer;
  int replay;      /* trades from history, one per tick; else live, one per 8 ticks */
  int n_planned;   /* trades to send */
  tack_time after; /* how long the run goes on after the last trade */
  tack_trade sent[MAX_TRADES];
  int n_sent;
  int ticks;
  int rc_bad;
  tack_time stop_at;
} injector;

static void inject(injector *in, const tack_trade *t) {
  int rc = tack_host_services.ex_trade(fx.rec->exchange_ctx, "BTC-USD", t);
  assert_int_equal(rc, 0);
  in->sent[in->n_sent++] = *t;
}

static void inject_tick(uv_timer_t *h) {
  injector *in = h->data;
  tack_time now = tack_runtime_now(in->rt);
  if (fx.rec->subscribes == 0)
    return;
  in->ticks++;
  if (in->n_sent < in->n_planned && (in->replay || in->ticks % 8 == 1)) {
    int i = in->n_sent;
    tack_trade t;
    memset(&t, 0, sizeof t);
    /* History: a trade every 250 ms from 2023-11-14T00:00:00Z. */
    t.ts = in->replay ? START_S * NS + (tack_time)i * (NS / 4) : now;
    t.price = 100.0 + (double)((i * 7) % 11);
    t.size = 1.0 + (double)(i % 3);
    snprintf(t.id, sizeof t.id, "t%d", i);
    inject(in, &t);
    if (in->replay && in->n_sent == in->n_planned) {
      /* Resent by the venue, one for an interval already closed, one
       * invalid: none may change a bar, nor set the venue's clock back. */
      tack_trade again = in->sent[5];
      assert_int_equal(tack_host_services.ex_trade(fx.rec->exchange_ctx, "BTC-USD", &again), 0);
      tack_trade late = t;
      late.ts = START_S * NS + NS / 10;
      snprintf(late.id, sizeof late.id, "late");
      assert_int_equal(tack_host_services.ex_trade(fx.rec->exchange_ctx, "BTC-USD", &late), 0);
      tack_trade bad = t;
      bad.size = -1.0;
      snprintf(bad.id, sizeof bad.id, "bad");
      in->rc_bad = tack_host_services.ex_trade(fx.rec->exchange_ctx, "BTC-USD", &bad);
    }
    if (in->n_sent == in->n_planned)
      in->stop_at = now + in->after;
    return;
  }
  if (in->n_sent == in->n_planned && now >= in->stop_at) {
    uv_close((uv_handle_t *)&in->timer, NULL);
    tack_runtime_request_stop(in->rt, "the test is done", 0);
  }
}

static void start_injector(injector *in, run *r, int replay, int n, tack_time after) {
  memset(in, 0, sizeof *in);
  in->rt = r->rt;
  in->replay = replay;
  in->n_planned = n;
  in->after = after;
  uv_timer_init(tack_runtime_loop(r->rt), &in->timer);
  in->timer.data = in;
  uv_timer_start(&in->timer, inject_tick, 5, 5);
}

/* For test_trades_in_flight_at_the_close: a trade at the start of a minute
 * (so the minute's bar is whole) and one 10 ms before its end, then 200 ms
 * later (by then past the end on the venue's clock) one 5 ms before it;
 * stop 1.5 s after. */
static void flight_tick(uv_timer_t *h) {
  injector *in = h->data;
  tack_time now = tack_runtime_now(in->rt);
  tack_trade t;
  if (fx.rec->subscribes == 0)
    return;
  memset(&t, 0, sizeof t);
  t.price = 100.0 + in->n_sent;
  t.size = 1.0 + in->n_sent;
  if (in->n_sent == 0) {
    t.ts = START_S * NS;
    tack_copy_text(t.id, sizeof t.id, "open");
    inject(in, &t);
    t.ts = (START_S + 60) * NS - NS / 100;
    tack_copy_text(t.id, sizeof t.id, "first");
    inject(in, &t);
    in->stop_at = now + 1500 * (NS / 1000);
    in->after = now + 200 * (NS / 1000);
  } else if (in->n_sent == 2 && now >= in->after) {
    t.ts = (START_S + 60) * NS - NS / 200;
    tack_copy_text(t.id, sizeof t.id, "in flight");
    inject(in, &t);
  } else if (in->n_sent == 3 && now >= in->stop_at) {
    uv_close((uv_handle_t *)&in->timer, NULL);
    tack_runtime_request_stop(in->rt, "the test is done", 0);
  }
}

/* The trades of [from, to) as the bar of that interval. */
static int trade_bar(const injector *in, tack_time from, tack_time to, uint32_t tf, tack_bar *out) {
  int n = 0;
  memset(out, 0, sizeof *out);
  for (int i = 0; i < in->n_sent; i++) {
    const tack_trade *t = &in->sent[i];
    if (t->ts < from || t->ts >= to)
      continue;
    if (n == 0) {
      out->open = out->high = out->low = t->price;
    }
    out->high = t->price > out->high ? t->price : out->high;
    out->low = t->price < out->low ? t->price : out->low;
    out->close = t->price;
    out->volume += t->size;
    n++;
  }
  out->ts = from;
  out->timeframe_s = tf;
  out->flags = TACK_BAR_CLOSED;
  return n;
}

/* Every bar seen that holds trades equals their aggregate. */
static void check_trade_bars(const injector *in) {
  for (int i = 0; i < fx.rec->n_seen; i++) {
    const tack_bar *b = &fx.rec->seen[i].bar;
    tack_bar want;
    if (b->flags & TACK_BAR_FILLER)
      continue;
    assert_true(trade_bar(in, b->ts, end_of(b), b->timeframe_s, &want) > 0);
    if (!same_bar(&want, b)) {
      print_bar("seen", b);
      print_bar("expected", &want);
    }
    assert_true(same_bar(&want, b));
  }
}

/* Live trades on a venue with no bars at all, for a strategy of 1s and 2s:
 * every bar is built from them, and the last ones are closed by the host's
 * timer once their interval is over, with no later trade to close them. */
static void test_bars_from_trades_closed_by_the_timer(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  write_config(&r, "trades", "timeframes = \"\"; trades = true;",
               "timeframes = [ \"1s\", \"2s\" ];", NULL);
  assert_int_equal(load_and_build(&r), 0);
  injector in;
  start_injector(&in, &r, 0, 8, 2500 * (NS / 1000));
  assert_int_equal(tack_runtime_run(r.rt), 0);
  assert_int_equal(fx.rec->last_sub.channel, TACK_SUB_TRADES);
  check_order();
  check_trade_bars(&in);

  /* Every interval with a trade became a bar of each timeframe, but for
   * those that began before the first trade (the data): a bar of part of
   * its interval is never delivered. The data begins at the first whole
   * second from the first trade on. */
  const tack_time last = in.sent[in.n_sent - 1].ts;
  const tack_time first = in.sent[0].ts;
  const tack_time begin = first % NS == 0 ? first : first - first % NS + NS;
  for (uint32_t tf = 1; tf <= 2; tf++) {
    int want = 0;
    tack_time prev = -1;
    for (int i = 0; i < in.n_sent; i++) {
      tack_time bucket = in.sent[i].ts - in.sent[i].ts % ((tack_time)tf * NS);
      want += bucket != prev && bucket >= begin;
      prev = bucket;
    }
    assert_int_equal(count_tf(tf), want);
  }
  /* Never shown before its interval ended; the bars of the last trade
   * closed by the timer soon after it (grace 100 ms, loose for slow
   * sanitizer builds). */
  for (int i = 0; i < fx.rec->n_seen; i++) {
    const rt_fixture_seen *seen = &fx.rec->seen[i];
    assert_true(seen->now >= end_of(&seen->bar));
    if (seen->bar.ts <= last && last < end_of(&seen->bar))
      assert_true(seen->now - end_of(&seen->bar) < 600 * (NS / 1000));
  }
  tack_runtime_symbol_stats s = stats_of(&r);
  assert_int_equal(s.trades, 8);
  assert_int_equal(s.bars, 0);
  assert_int_equal(s.dropped, 0);
  run_free(&r);
}

/* gap = "fill": once trading stops, the timer closes a filler for every
 * interval that ends without a trade. */
static void test_gap_fill_from_the_timer(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  write_config(&r, "fill", "timeframes = \"\"; trades = true;",
               "timeframe = \"1s\"; gap = \"fill\";", NULL);
  assert_int_equal(load_and_build(&r), 0);
  injector in;
  /* The last trade's second closes 1.1 s into the next one at the latest,
   * then a filler closes every second: 3.6 s leaves room for two. */
  start_injector(&in, &r, 0, 3, 3600 * (NS / 1000));
  assert_int_equal(tack_runtime_run(r.rt), 0);
  check_order();
  check_trade_bars(&in);
  /* The trades' own second may have begun before the first of them (then
   * it is not delivered); the fillers after it carry the last price. */
  const tack_trade *last_trade = &in.sent[in.n_sent - 1];
  const tack_time last_second = last_trade->ts - last_trade->ts % NS;
  int fillers = 0;
  for (int i = 0; i < fx.rec->n_seen; i++) {
    const tack_bar *b = &fx.rec->seen[i].bar;
    if (!(b->flags & TACK_BAR_FILLER)) {
      assert_int_equal(fillers, 0); /* fillers only after the trades stopped */
      continue;
    }
    fillers++;
    assert_true(b->open == last_trade->price && b->high == last_trade->price &&
                b->low == last_trade->price && b->close == last_trade->price);
    assert_true(b->volume == 0.0);
    assert_int_equal(b->ts, last_second + (tack_time)fillers * NS);
    assert_true(fx.rec->seen[i].now >= end_of(b));
  }
  assert_true(fillers >= 2);
  run_free(&r);
}

/* A venue replaying trades from 2023 faster than real time: the bars follow
 * the venue's clock, not the wall clock, so no trade is taken for a late
 * one; a resent trade and one for a closed interval change nothing. The
 * last 5s bar has no trade in its last second: only the timer closes it. */
static void test_bars_from_replayed_trades(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  write_config(&r, "replay", "timeframes = \"\"; trades = true;",
               "timeframes = [ \"1s\", \"5s\" ];", NULL);
  assert_int_equal(load_and_build(&r), 0);
  injector in;
  start_injector(&in, &r, 1, 36, 1500 * (NS / 1000));
  assert_int_equal(tack_runtime_run(r.rt), 0);
  check_order();
  check_trade_bars(&in);
  /* Nine seconds of history: nine 1s bars of four trades, two 5s bars; the
   * last ones closed by the timer. */
  assert_int_equal(count_tf(1), 9);
  assert_int_equal(count_tf(5), 2);
  assert_int_equal(in.rc_bad, TACK_EINVAL);
  tack_runtime_symbol_stats s = stats_of(&r);
  assert_int_equal(s.trades, 39);
  assert_int_equal(s.dropped, 2);
  assert_int_equal(s.errors, 1);
  char *text = summary_of(&r);
  assert_non_null(strstr(text, "BTC-USD: 39 trades, 2 late or duplicate bars and trades not used"));
  free(text);
  run_free(&r);
}

/* A trade of the last moment of a minute that reaches the host just after
 * the minute ended (by the venue's clock) still counts: the bar closes
 * only once the grace for trades in flight (a second for 1m bars) passed. */
static void test_trades_in_flight_at_the_close(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  write_config(&r, "flight", "timeframes = \"\"; trades = true;", "timeframe = \"1m\";", NULL);
  assert_int_equal(load_and_build(&r), 0);
  injector in;
  memset(&in, 0, sizeof in);
  in.rt = r.rt;
  uv_timer_init(tack_runtime_loop(r.rt), &in.timer);
  in.timer.data = &in;
  uv_timer_start(&in.timer, flight_tick, 5, 5);
  assert_int_equal(tack_runtime_run(r.rt), 0);
  assert_int_equal(in.n_sent, 3);
  assert_int_equal(fx.rec->n_seen, 1);
  check_trade_bars(&in);
  assert_true(fx.rec->seen[0].bar.volume == in.sent[0].size + in.sent[1].size + in.sent[2].size);
  assert_int_equal(stats_of(&r).dropped, 0);
  run_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Config and spec errors                                                    */
/* ------------------------------------------------------------------------ */

static int has_msg(const tack_diag *d, const char *where, const char *what) {
  for (size_t i = 0; i < d->n; i++)
    if (strstr(d->msgs[i], where) && strstr(d->msgs[i], what))
      return 1;
  fprintf(stderr, "no message with '%s' and '%s' among:\n", where, what);
  tack_diag_print(d, stderr);
  return 0;
}

/* The strategy's timeframe lines are line 12 of write_config's file. */
static void expect_config_error(const char *tag, const char *tf_lines, const char *path,
                                const char *what) {
  run r;
  char where[600];
  memset(&r, 0, sizeof r);
  write_config(&r, tag, "", tf_lines, NULL);
  r.d = (tack_diag)TACK_DIAG_INIT;
  assert_int_equal(tack_config_load(r.path, &r.cfg, &r.d), TACK_ECONFIG);
  assert_null(r.cfg);
  assert_int_equal(r.d.n, 1);
  snprintf(where, sizeof where, "%s:12: %s: ", r.path, path);
  assert_true(has_msg(&r.d, where, what));
  run_free(&r);
}

static void test_timeframes_config_errors(void **state) {
  (void)state;
  expect_config_error("not_multiple", "timeframes = [ \"5m\", \"1h\", \"7m\" ];",
                      "strategies.trend.timeframes[2]",
                      "7m is not a whole multiple of 5m, the smallest timeframe");
  expect_config_error("duplicate", "timeframes = [ \"5m\", \"1h\", \"5m\" ];",
                      "strategies.trend.timeframes[2]",
                      "duplicate: 5m is already listed as timeframes[0]");
  expect_config_error("duplicate_seconds", "timeframes = ( 300, \"1h\", \"5m\" );",
                      "strategies.trend.timeframes[2]", "duplicate: 5m");
  expect_config_error("both", "timeframe = \"5m\"; timeframes = [ \"5m\", \"1h\" ];",
                      "strategies.trend.timeframes", "give either timeframe (line 12) or");
  expect_config_error("too_many",
                      "timeframes = [ \"1m\", \"2m\", \"3m\", \"4m\", \"5m\", \"6m\", \"10m\", "
                      "\"15m\", \"30m\" ];",
                      "strategies.trend.timeframes",
                      "lists 9 timeframes; a strategy takes at most 8");
  expect_config_error("empty", "timeframes = [ ];", "strategies.trend.timeframes",
                      "lists no timeframe");
  expect_config_error("bad_element", "timeframes = [ \"5m\", \"5x\" ];",
                      "strategies.trend.timeframes[1]", "must be a timeframe such as");
  expect_config_error("bad_type", "timeframes = \"5m\";", "strategies.trend.timeframes",
                      "must be a list of timeframes");
  expect_config_error("bad_gap", "timeframe = \"5m\"; gap = \"zero\";", "strategies.trend.gap",
                      "must be one of skip|fill, got \"zero\"");
}

static void test_timeframes_config_accepted(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  write_config(&r, "ok", "", "timeframes = ( \"4h\", 300, \"1h\" ); gap = \"fill\";", NULL);
  r.d = (tack_diag)TACK_DIAG_INIT;
  assert_int_equal(tack_config_load(r.path, &r.cfg, &r.d), 0);
  const tack_cfg_strategy *st = &r.cfg->strategies[0];
  assert_int_equal(st->n_timeframes, 3);
  assert_int_equal(st->timeframes[0], 300);
  assert_int_equal(st->timeframes[1], 3600);
  assert_int_equal(st->timeframes[2], 14400);
  assert_int_equal(st->timeframe_s, 300);
  assert_int_equal(st->gap_policy, TACK_BARS_GAP_FILL);
  assert_string_equal(st->tf_file, r.path);
  assert_int_equal(st->tf_line, 12);
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  tack_config_print(r.cfg, out);
  fclose(out);
  assert_non_null(strstr(text, "  bars 5m, 1h, 4h (gaps filled) -> filter dup"));
  free(text);
  run_free(&r);

  /* One timeframe: the default gap policy. */
  write_config(&r, "one", "", "timeframe = 90;", NULL);
  r.d = (tack_diag)TACK_DIAG_INIT;
  assert_int_equal(tack_config_load(r.path, &r.cfg, &r.d), 0);
  assert_int_equal(r.cfg->strategies[0].n_timeframes, 1);
  assert_int_equal(r.cfg->strategies[0].timeframes[0], 90);
  assert_int_equal(r.cfg->strategies[0].gap_policy, TACK_BARS_GAP_SKIP);
  run_free(&r);
}

/* tack_runtime_add_symbol() checks the same rules for callers that build
 * pipelines by hand, with the place they give. */
static void test_spec_errors(void **state) {
  (void)state;
  static const struct {
    uint32_t tfs[3];
    size_t n;
    const char *what;
  } cases[] = {
      {{300, 420, 0}, 2, "test.cfg:7: BTC-USD: timeframe 7m is not a whole multiple of 5m"},
      {{300, 300, 0}, 2, "test.cfg:7: BTC-USD: the strategy's timeframes must be distinct"},
      {{0, 0, 0}, 0, "test.cfg:7: BTC-USD: a strategy takes 1 to 8 timeframes"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    tack_runtime *rt = NULL;
    tack_diag d = TACK_DIAG_INIT;
    tack_runtime_opts o = {"bot", NULL, 0, 0, 0, 0};
    rt_ci ex_ci, st_ci;
    tack_ctx *ex = NULL, *st = NULL;
    assert_int_equal(tack_runtime_new(&o, &rt), 0);
    assert_int_equal(rt_ci_make(&ex_ci, tmp, &fx.exchange, "exchanges", "venue", NULL), 0);
    assert_int_equal(rt_ci_make(&st_ci, tmp, &fx.strategy, "strategies", "trend", NULL), 0);
    assert_int_equal(tack_instance_new(&ex_ci.ci, rt, &d, &ex), 0);
    assert_int_equal(tack_runtime_add_exchange(rt, ex), 0);
    assert_int_equal(tack_instance_new_scoped(&st_ci.ci, "BTC-USD", rt, &d, &st), 0);
    tack_runtime_symbol_spec spec = {"BTC-USD", ex, cases[c].tfs, cases[c].n, NULL,       0,
                                     st,        0,  "test.cfg",   3,          "test.cfg", 7};
    assert_int_equal(tack_runtime_add_symbol(rt, &spec, &d), TACK_EINVAL);
    assert_int_equal(d.n, 1);
    if (!strstr(d.msgs[0], cases[c].what))
      fprintf(stderr, "got: %s\nwant: %s\n", d.msgs[0], cases[c].what);
    assert_non_null(strstr(d.msgs[0], cases[c].what));
    assert_int_equal(tack_runtime_symbol_count(rt), 0);
    tack_runtime_free(rt);
    tack_diag_free(&d);
    rt_ci_free(&ex_ci);
    rt_ci_free(&st_ci);
    assert_int_equal(fx.rec->destroys, fx.rec->creates);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_resampled_bars_equal_the_resampler, reset),
      cmocka_unit_test_setup(test_provisional_bars_do_not_reach_strategies, reset),
      cmocka_unit_test_setup(test_multi_timeframe_without_look_ahead, reset),
      cmocka_unit_test_setup(test_multi_timeframe_with_gaps, reset),
      cmocka_unit_test_setup(test_multi_timeframe_from_a_native_timeframe, reset),
      cmocka_unit_test_setup(test_partial_first_intervals_are_not_delivered, reset),
      cmocka_unit_test_setup(test_bars_from_trades_closed_by_the_timer, reset),
      cmocka_unit_test_setup(test_gap_fill_from_the_timer, reset),
      cmocka_unit_test_setup(test_bars_from_replayed_trades, reset),
      cmocka_unit_test_setup(test_trades_in_flight_at_the_close, reset),
      cmocka_unit_test_setup(test_timeframes_config_errors, reset),
      cmocka_unit_test_setup(test_timeframes_config_accepted, reset),
      cmocka_unit_test_setup(test_spec_errors, reset),
  };
  /* Outside cmocka: a failed group setup would otherwise count as no
   * failure at all. */
  if (rt_fx_open(&fx) != 0 || rt_tmpdir(tmp, sizeof tmp) != 0)
    return 1;
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  rt_rmtree(tmp);
  rt_fx_close(&fx);
  return failed;
}
