/*
 * paper.c: the exchange plugin "paper", a simulated venue for paper trading
 * and backtests (docs/paper.md). This file is the plugin's face: its
 * parameters, its lifecycle, the requests the host makes, the outbox of
 * answers and the step timer that drives the data.
 *
 * Like every adapter it is asynchronous: a request returns at once and the
 * venue's answer is queued, then sent from a zero-delay host timer, never
 * from inside the request. Each data step takes the next data event in time
 * across all symbols, first sends the answers queued so far, then matches
 * the resting orders of its symbol against it (the venue trades through the
 * bar while it forms), then publishes what is due to the host. A tick of
 * the step timer makes one step, or with interval_ms = 0 up to
 * PAPER_STEP_BATCH of them before it re-arms a zero-delay timer (so that
 * the loop still turns for the host's signals and control): the timer is
 * what a step used to cost most. The venue's clock is the data's time, so
 * a run is the same whatever the pacing and the batching.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper.h"

static const tack_param_spec paper_params[] = {
    {.name = "symbols",
     .type = TACK_PARAM_STRING,
     .flags = TACK_PARAM_REQUIRED,
     .help = "instruments listed, comma-separated BASE-QUOTE (\"BTC-USD,ETH-USD\")"},
    {.name = "source",
     .type = TACK_PARAM_STRING,
     .def_str = "auto",
     .choices = "auto|files|walk|store",
     .help = "where the data comes from: files (data), walk (a random walk), store (the host's "
             "candles of timeframe); auto: files when data is set, else walk"},
    {.name = "data",
     .type = TACK_PARAM_STRING,
     .flags = TACK_PARAM_PATH,
     .def_str = "",
     .help = "CSV file (one symbol) or folder of <SYMBOL>.csv, bars or trades; \"store\": "
             "the host's stored candles (source = store); empty: random walk"},
    {.name = "from",
     .type = TACK_PARAM_STRING,
     .def_str = "",
     .help = "first time replayed, UTC (\"2024-01-01\", \"2024-01-01T12:00:00Z\" or seconds "
             "since 1970); empty: from the start of the data"},
    {.name = "to",
     .type = TACK_PARAM_STRING,
     .def_str = "",
     .help = "end of the replay, excluded, written as from; empty: to the end of the data"},
    {.name = "seed",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 9007199254740991.0,
     .def = 1,
     .help = "random walk: generator seed; equal seeds give equal bars"},
    {.name = "bars",
     .type = TACK_PARAM_INT,
     .min = 1,
     .max = 10000000,
     .def = 1000,
     .help = "random walk: bars per symbol"},
    {.name = "start_price",
     .type = TACK_PARAM_DOUBLE,
     .min = 1e-9,
     .max = 1e12,
     .def = 100.0,
     .help = "random walk: the first open"},
    {.name = "volatility",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.0,
     .max = 0.5,
     .def = 0.002,
     .help = "random walk: largest relative move of one bar"},
    {.name = "timeframe",
     .type = TACK_PARAM_INT,
     .min = 1,
     .max = 604800,
     .def = 60,
     .help = "bar length in seconds of the random walk and of the store's candles (files: "
             "their own spacing)"},
    {.name = "interval_ms",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 3600000,
     .def = 0,
     .help = "host time between two data steps; 0: as fast as the loop allows, in batches"},
    {.name = "quote",
     .type = TACK_PARAM_STRING,
     .def_str = "USD",
     .help = "the account's currency: every symbol is quoted and settled in it"},
    {.name = "cash",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.0,
     .max = 1e15,
     .def = 100000.0,
     .help = "starting balance in the quote currency"},
    {.name = "tick",
     .type = TACK_PARAM_DOUBLE,
     .min = 1e-18,
     .max = 1e9,
     .def = 0.01,
     .help = "price increment of every symbol"},
    {.name = "lot",
     .type = TACK_PARAM_DOUBLE,
     .min = 1e-18,
     .max = 1e9,
     .def = 0.00001,
     .help = "size increment of every symbol"},
    {.name = "min_size",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.0,
     .max = 1e12,
     .def = 0.0,
     .help = "smallest order size; 0: one lot"},
    {.name = "min_notional",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.0,
     .max = 1e12,
     .def = 0.0,
     .help = "smallest order value in the quote currency; 0: none"},
    {.name = "shorts",
     .type = TACK_PARAM_BOOL,
     .def = 0,
     .help = "false: spot instruments; true: linear perpetuals that may go short"},
    {.name = "maker_bps",
     .type = TACK_PARAM_DOUBLE,
     .min = -100.0,
     .max = 1000.0,
     .def = 2.0,
     .help = "fee of a fill that rested on the book, in basis points (negative: a rebate)"},
    {.name = "taker_bps",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.0,
     .max = 1000.0,
     .def = 5.0,
     .help = "fee of a fill that took liquidity, in basis points"},
    {.name = "slippage",
     .type = TACK_PARAM_STRING,
     .def_str = "fixed",
     .choices = "none|fixed|volume|sqrt",
     .help = "slippage model of taker fills"},
    {.name = "slippage_bps",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.0,
     .max = 10000.0,
     .def = 1.0,
     .help = "fixed slippage in basis points"},
    {.name = "impact",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.0,
     .max = 100.0,
     .def = 0.1,
     .help = "volume and sqrt slippage: the impact coefficient"},
    {.name = "latency_ms",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 86400000,
     .def = 0,
     .help = "venue time from an order's arrival to the first data it may fill against"},
    {.name = "feed_latency_ms",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 86400000,
     .def = 0,
     .help = "venue time by which bars and trades reach the host late"},
    {.name = "participation",
     .type = TACK_PARAM_DOUBLE,
     .min = 1e-9,
     .max = 1.0,
     .def = 1.0,
     .help = "the most of one bar's volume (one trade's size) our orders may take"},
    {.name = "reject_nth",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 9007199254740991.0,
     .def = 0,
     .help = "fault injection for tests: reject the n-th submitted order; 0: none"},
    {.name = "reject_symbol",
     .type = TACK_PARAM_STRING,
     .def_str = "",
     .help = "fault injection for tests: reject every order on this symbol"},
    {.name = "persist",
     .type = TACK_PARAM_BOOL,
     .def = 1,
     .help = "keep the venue's state in the host's store, so that a restart continues it"},
    {.name = NULL},
};

/* ------------------------------------------------------------------------ */
/* Venue state                                                               */
/* ------------------------------------------------------------------------ */

/* A fresh venue: starting cash, nothing held, every cursor at the start.
 * The clock starts just before the first event, so an order sent before
 * any data may fill at the first one. */
static void venue_reset(paper *p) {
  paper_data *d = &p->data;
  paper_book_clear(p);
  p->clock = INT64_MAX;
  for (uint32_t i = 0; i < d->n_symbols; i++) {
    paper_symbol *s = &d->symbols[i];
    s->cursor = s->published = 0;
    s->pub_ts = INT64_MIN;
    s->lots = 0;
    s->cost = s->realized = 0;
    s->last = 0.0;
    if (s->first_ts != INT64_MAX && s->first_ts - 1 < p->clock)
      p->clock = s->first_ts - 1;
  }
  if (p->clock == INT64_MAX)
    p->clock = 0;
  p->steps = p->submitted = p->last_order_no = p->last_trade_no = 0;
  p->cash = d->cfg.cash;
  p->eof = 0;
  p->dirty = 0;
  p->unpublished = 0;
}

/* ------------------------------------------------------------------------ */
/* The outbox                                                                */
/* ------------------------------------------------------------------------ */

static void send_reconcile(paper *p, const paper_out *out) {
  const paper_data *d = &p->data;
  tack_order_update u;
  tack_fill f;
  tack_balance b;
  tack_position pos;
  for (uint32_t i = 0; i < p->n_open && p->started; i++) {
    paper_report_update(p, &p->orders[p->open[i]], &u);
    p->host->ex_order_update(p->ctx, &u);
  }
  for (uint64_t i = 0; i < p->n_fills && p->started; i++) {
    if (p->fills[i].ts < out->since)
      continue;
    paper_report_fill(p, &p->fills[i], &f);
    p->host->ex_fill(p->ctx, &f);
  }
  paper_report_balance(p, UINT32_MAX, &b);
  if (p->started)
    p->host->ex_balance(p->ctx, &b);
  for (uint32_t i = 0; i < d->n_symbols && p->started; i++) {
    paper_report_balance(p, i, &b);
    p->host->ex_balance(p->ctx, &b);
  }
  for (uint32_t i = 0; i < d->n_symbols && p->started; i++) {
    paper_report_position(p, i, &pos);
    p->host->ex_position(p->ctx, &pos);
  }
  if (p->started)
    p->host->ex_done(p->ctx, out->req, 0, NULL);
}

static void send(paper *p, const paper_out *out) {
  const paper_data *d = &p->data;
  char detail[256];
  switch (out->what) {
  case PAPER_OUT_CONNECTION:
    if (out->state == TACK_CONN_UP && d->cfg.source == PAPER_SOURCE_STORE) {
      snprintf(detail, sizeof detail, "paper venue: %u symbol%s from %s", (unsigned)d->n_symbols,
               d->n_symbols == 1 ? "" : "s", d->source);
    } else if (out->state == TACK_CONN_UP) {
      uint64_t events = 0;
      for (uint32_t i = 0; i < d->n_symbols; i++)
        events += d->symbols[i].n_events;
      snprintf(detail, sizeof detail, "paper venue: %" PRIu64 " events of %u symbol%s from %s",
               events, (unsigned)d->n_symbols, d->n_symbols == 1 ? "" : "s", d->source);
    } else
      snprintf(detail, sizeof detail, "opening the paper venue");
    p->host->ex_connection(p->ctx, out->state, detail);
    break;
  case PAPER_OUT_INSTRUMENTS:
    for (uint32_t i = 0; i < d->n_symbols && p->started; i++)
      p->host->ex_instrument(p->ctx, &d->symbols[i].instr);
    if (p->started)
      p->host->ex_done(p->ctx, out->req, 0, NULL);
    break;
  case PAPER_OUT_RECONCILE:
    send_reconcile(p, out);
    break;
  case PAPER_OUT_UPDATE:
    p->host->ex_order_update(p->ctx, &out->u.update);
    break;
  case PAPER_OUT_FILL:
    p->host->ex_fill(p->ctx, &out->u.fill);
    break;
  case PAPER_OUT_BALANCE:
    p->host->ex_balance(p->ctx, &out->u.balance);
    break;
  case PAPER_OUT_POSITION:
    p->host->ex_position(p->ctx, &out->u.position);
    break;
  }
}

/* Sends everything queued, oldest first. Each entry is copied out before
 * it is sent, since the queue may move if the host makes us queue more. */
static void flush(paper *p) {
  for (uint32_t i = 0; i < p->n_out && p->started; i++) {
    paper_out out = p->outbox[i];
    send(p, &out);
  }
  p->n_out = 0;
}

static void flush_cb(void *user, uint64_t timer_id) {
  paper *p = user;
  (void)timer_id;
  p->flush_armed = 0;
  flush(p);
}

int paper_queue(paper *p, const paper_out *out) {
  if (p->n_out == p->cap_out) {
    uint32_t grown = p->cap_out ? p->cap_out * 2 : 16;
    paper_out *q = p->host->realloc(p->ctx, p->outbox, (size_t)grown * sizeof *q);
    if (q == NULL)
      return TACK_ENOMEM;
    p->outbox = q;
    p->cap_out = grown;
  }
  if (!p->flush_armed) {
    int rc = p->host->timer_start(p->ctx, 0, 0, flush_cb, p, &p->flush_timer);
    if (rc < 0)
      return rc;
    p->flush_armed = 1;
  }
  p->outbox[p->n_out++] = *out;
  return 0;
}

int paper_queue_update(paper *p, const paper_order *o) {
  paper_out out;
  memset(&out, 0, sizeof out);
  out.what = PAPER_OUT_UPDATE;
  paper_report_update(p, o, &out.u.update);
  return paper_queue(p, &out);
}

/* ------------------------------------------------------------------------ */
/* The data steps                                                            */
/* ------------------------------------------------------------------------ */

/* The symbol whose next event (at *cursor of each) comes first; ties go
 * to the symbol listed first. UINT32_MAX when none is left. */
static uint32_t next_symbol(const paper *p, int published) {
  const paper_data *d = &p->data;
  uint32_t best = UINT32_MAX;
  tack_time best_t = 0;
  for (uint32_t i = 0; i < d->n_symbols; i++) {
    const paper_symbol *s = &d->symbols[i];
    uint64_t at = published ? s->published : s->cursor;
    uint64_t end = published ? s->cursor : s->n_events;
    if (at >= end)
      continue;
    tack_time t = paper_event_time(d, paper_event_at(s, at));
    if (best == UINT32_MAX || t < best_t) {
      best = i;
      best_t = t;
    }
  }
  return best;
}

static void publish(paper *p, paper_symbol *s) {
  const paper_event *e = paper_event_at(s, s->published);
  uint64_t index = s->published++;
  s->pub_ts = e->ts;
  p->unpublished--;
  if (p->data.kind == PAPER_DATA_BARS && s->sub_bars) {
    tack_bar bar = {
        .ts = e->ts,
        .open = e->open,
        .high = e->high,
        .low = e->low,
        .close = e->close,
        .volume = e->volume,
        .timeframe_s = p->data.timeframe_s,
        .flags = TACK_BAR_CLOSED,
    };
    p->host->ex_bar(p->ctx, s->instr.symbol, &bar);
  } else if (p->data.kind == PAPER_DATA_TRADES && s->sub_trades) {
    tack_trade t = {.ts = e->ts, .price = e->close, .size = e->volume, .side = e->side};
    snprintf(t.id, sizeof t.id, "%" PRIu64, index + 1);
    p->host->ex_trade(p->ctx, s->instr.symbol, &t);
  }
}

/* Publishes every matched event whose time plus the feed latency has come
 * on the venue clock; all of them when everything is matched. */
static void publish_due(paper *p, int all) {
  tack_time delay = p->data.cfg.feed_latency_ms * (TACK_NS_PER_SEC / 1000);
  while (p->started && p->unpublished > 0) {
    uint32_t i = next_symbol(p, 1);
    if (i == UINT32_MAX)
      return;
    paper_symbol *s = &p->data.symbols[i];
    if (!all && paper_event_time(&p->data, paper_event_at(s, s->published)) + delay > p->clock)
      return;
    publish(p, s);
  }
}

static void update_subscribed(paper *p) {
  p->subscribed = 0;
  for (uint32_t i = 0; i < p->data.n_symbols; i++)
    if (p->data.symbols[i].sub_bars || p->data.symbols[i].sub_trades)
      p->subscribed = 1;
}

static void step_cb(void *user, uint64_t timer_id);

static int arm_step(paper *p, uint64_t after_ns) {
  int rc = p->host->timer_start(p->ctx, after_ns, 0, step_cb, p, &p->step_timer);
  if (rc == 0)
    p->step_armed = 1;
  return rc;
}

/* The end of the data: what waits for an event that will never come is
 * cancelled; GTC orders stay open (and are reported by reconcile). */
static void reach_eof(paper *p) {
  char detail[256];
  for (uint32_t i = 0; i < p->n_open; i++) {
    paper_order *o = &p->orders[p->open[i]];
    if (!paper_status_final(o->status) && (o->tif == TACK_TIF_IOC || o->tif == TACK_TIF_FOK))
      paper_finish(p, o, TACK_STATUS_CANCELLED, 0, "no more market data");
  }
  paper_book_compact(p);
  if (!p->eof)
    p->dirty = 1;
  p->eof = 1;
  if (p->persist && p->dirty)
    paper_state_save(p);
  flush(p);
  if (!p->started)
    return;
  snprintf(detail, sizeof detail, "replayed %" PRIu64 " events from %s", p->steps, p->data.source);
  p->host->ex_connection(p->ctx, TACK_CONN_EOF, detail);
}

static void fail_step(paper *p, int rc, const char *what) {
  char detail[160];
  p->host->log(p->ctx, TACK_LOG_ERROR, "%s: %s (%s); the paper venue stops", what,
               tack_strerror(rc), tack_err_name(rc));
  snprintf(detail, sizeof detail, "%s: %s", what, tack_strerror(rc));
  p->host->ex_connection(p->ctx, TACK_CONN_FAILED, detail);
}

/* One data step. Returns 1 when another may follow at once, 0 when the
 * steps end here: the end of the data, a stop, an error, no subscription.
 * Most steps of a backtest meet no order and send nothing: those cost a few
 * comparisons besides the publish (the checks of n_out and n_open below
 * spare the calls). */
static int step_once(paper *p) {
  /* Answers to requests made before this step go out first: an order's
   * OPEN comes before its fills. */
  if (p->n_out)
    flush(p);
  if (!p->started || !p->subscribed)
    return 0;
  uint32_t i = p->data.n_symbols == 1
                   ? (p->data.symbols[0].cursor < p->data.symbols[0].n_events ? 0 : UINT32_MAX)
                   : next_symbol(p, 0);
  if (i == UINT32_MAX) {
    publish_due(p, 1);
    if (p->started)
      reach_eof(p);
    return 0;
  }
  paper_symbol *s = &p->data.symbols[i];
  const paper_event *e = paper_event_at(s, s->cursor);
  tack_time t = paper_event_time(&p->data, e);
  int rc;
  if (t > p->clock)
    p->clock = t;
  if (p->n_open == 0)
    s->last = e->close; /* all that matching does without orders */
  else if ((rc = paper_match_expire(p, e->ts)) < 0 || (rc = paper_match_event(p, i, e)) < 0) {
    fail_step(p, rc, "matching");
    return 0;
  }
  s->cursor++;
  p->unpublished++;
  p->steps++;
  if (p->n_open && (rc = paper_match_expire(p, t)) < 0) {
    fail_step(p, rc, "expiring orders");
    return 0;
  }
  if (s->more && s->cursor == s->n_events && (rc = paper_data_fill(p, s)) < 0) {
    fail_step(p, rc, "reading candles from the store");
    return 0;
  }
  if (p->persist && (p->dirty || p->steps % PAPER_SAVE_EVERY == 0))
    paper_state_save(p);
  if (p->n_out)
    flush(p);
  if (!p->started)
    return 0;
  int more = s->cursor < s->n_events || (p->data.n_symbols > 1 && next_symbol(p, 0) != UINT32_MAX);
  /* Without feed latency the event just matched is the one due, unless
   * earlier ones wait (a stop in the middle of a publish). */
  if (p->unpublished == 1 && s->published + 1 == s->cursor && p->data.cfg.feed_latency_ms == 0)
    publish(p, s);
  else
    publish_due(p, !more);
  if (!p->started)
    return 0;
  if (!more) {
    reach_eof(p);
    return 0;
  }
  return 1;
}

static void step_cb(void *user, uint64_t timer_id) {
  paper *p = user;
  (void)timer_id;
  p->step_armed = 0;
  uint32_t steps = p->data.cfg.interval_ms == 0 ? PAPER_STEP_BATCH : 1;
  for (uint32_t k = 0; k < steps; k++)
    if (!step_once(p))
      return;
  /* A subscription made while the steps ran may have armed it already. */
  if (p->step_armed)
    return;
  int rc = arm_step(p, (uint64_t)p->data.cfg.interval_ms * 1000000u);
  if (rc < 0)
    fail_step(p, rc, "starting the step timer");
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                 */
/* ------------------------------------------------------------------------ */

static int paper_create(tack_ctx *ctx, const tack_host *host, void **self) {
  paper *p = host->alloc(ctx, sizeof *p);
  if (p == NULL)
    return TACK_ENOMEM;
  memset(p, 0, sizeof *p);
  p->ctx = ctx;
  p->host = host;
  *self = p;
  return 0;
}

/* Builds the new data aside and swaps it in only when all of it is good: a
 * refused change leaves the instance as it was. */
static int paper_configure(void *self) {
  paper *p = self;
  paper_data d;
  memset(&d, 0, sizeof d);
  int rc = paper_data_build(p, &d);
  if (rc < 0) {
    paper_data_free(p, &d);
    return rc;
  }
  paper_data_free(p, &p->data);
  p->data = d;
  venue_reset(p);
  p->fresh = 1;
  p->host->log(p->ctx, TACK_LOG_DEBUG, "%u symbols, %s from %s", (unsigned)d.n_symbols,
               d.kind == PAPER_DATA_BARS ? "bars" : "trades", d.source);
  return 0;
}

/* The first start after configure loads the saved venue, and so does every
 * start while the store is in use (stop saved it). Without a store, a stop
 * and start of the same instance keeps the venue it had in memory. */
static int paper_start(void *self) {
  paper *p = self;
  int rc;
  if (p->data.n_symbols == 0)
    return TACK_ESTATE; /* never configured */
  if ((rc = paper_data_prepare(p)) < 0)
    return rc;
  if (p->fresh || p->persist) {
    venue_reset(p);
    rc = paper_state_load(p);
    if (rc < 0) {
      venue_reset(p);
      return rc;
    }
  }
  /* The store's windows follow the cursors just set. */
  if ((rc = paper_data_seek(p)) < 0) {
    venue_reset(p);
    return rc;
  }
  p->fresh = 0;
  p->started = 1;
  return 0;
}

/* No callback of ours may run after stop returns: both timers stop and
 * queued answers are dropped (the host reconciles after a restart). */
static void paper_stop(void *self) {
  paper *p = self;
  if (p->persist)
    paper_state_save(p);
  if (p->step_armed)
    p->host->timer_stop(p->ctx, p->step_timer);
  if (p->flush_armed)
    p->host->timer_stop(p->ctx, p->flush_timer);
  if (p->eof_armed)
    p->host->timer_stop(p->ctx, p->eof_timer);
  p->step_armed = p->flush_armed = p->eof_armed = 0;
  p->n_out = 0;
  p->started = p->connected = 0;
  for (uint32_t i = 0; i < p->data.n_symbols; i++)
    p->data.symbols[i].sub_bars = p->data.symbols[i].sub_trades = 0;
  p->subscribed = 0;
}

static void paper_destroy(void *self) {
  paper *p = self;
  tack_ctx *ctx = p->ctx;
  const tack_host *host = p->host;
  paper_book_clear(p);
  paper_data_free(p, &p->data);
  host->free(ctx, p->outbox);
  host->free(ctx, p);
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                  */
/* ------------------------------------------------------------------------ */

static int paper_caps(void *self, tack_exchange_caps *out) {
  paper *p = self;
  if (out->size < sizeof *out)
    return TACK_EINVAL;
  out->flags = TACK_CAP_SIMULATED | TACK_CAP_STOP_ORDERS;
  if (p->data.cfg.shorts)
    out->flags |= TACK_CAP_SHORTS;
  if (p->data.kind == PAPER_DATA_TRADES)
    out->flags |= TACK_CAP_TRADES;
  memset(out->bar_timeframes, 0, sizeof out->bar_timeframes);
  if (p->data.kind == PAPER_DATA_BARS)
    out->bar_timeframes[0] = p->data.timeframe_s;
  return 0;
}

static int paper_connect(void *self) {
  paper *p = self;
  paper_out out;
  int rc;
  if (!p->started)
    return TACK_ESTATE;
  if (p->connected)
    return 0;
  memset(&out, 0, sizeof out);
  out.what = PAPER_OUT_CONNECTION;
  out.state = TACK_CONN_CONNECTING;
  if ((rc = paper_queue(p, &out)) < 0)
    return rc;
  out.state = TACK_CONN_UP;
  if ((rc = paper_queue(p, &out)) < 0)
    return rc;
  p->connected = 1;
  return 0;
}

static int paper_instruments(void *self, uint64_t req) {
  paper *p = self;
  paper_out out;
  if (!p->connected)
    return TACK_ENOTCONN;
  memset(&out, 0, sizeof out);
  out.what = PAPER_OUT_INSTRUMENTS;
  out.req = req;
  return paper_queue(p, &out);
}

static paper_symbol *find_symbol(paper *p, const char *symbol) {
  for (uint32_t i = 0; i < p->data.n_symbols; i++)
    if (strncmp(p->data.symbols[i].instr.symbol, symbol, TACK_SYMBOL_MAX) == 0)
      return &p->data.symbols[i];
  return NULL;
}

static int paper_subscribe(void *self, const tack_subscription *sub) {
  paper *p = self;
  if (!p->connected)
    return TACK_ENOTCONN;
  paper_symbol *s = find_symbol(p, sub->symbol);
  if (s == NULL)
    return TACK_ENOENT;
  if (sub->channel == TACK_SUB_BARS && p->data.kind == PAPER_DATA_BARS &&
      sub->timeframe_s == p->data.timeframe_s)
    s->sub_bars = 1;
  else if (sub->channel == TACK_SUB_TRADES && p->data.kind == PAPER_DATA_TRADES)
    s->sub_trades = 1;
  else
    return TACK_ENOTSUP;
  p->subscribed = 1;
  return p->step_armed ? 0 : arm_step(p, 0);
}

static int paper_unsubscribe(void *self, const tack_subscription *sub) {
  paper *p = self;
  paper_symbol *s = find_symbol(p, sub->symbol);
  if (s == NULL)
    return TACK_ENOENT;
  if (sub->channel == TACK_SUB_BARS)
    s->sub_bars = 0;
  else if (sub->channel == TACK_SUB_TRADES)
    s->sub_trades = 0;
  else
    return TACK_ENOTSUP;
  update_subscribed(p);
  if (p->step_armed && !p->subscribed) {
    p->host->timer_stop(p->ctx, p->step_timer);
    p->step_armed = 0;
  }
  return 0;
}

static void after_eof_cb(void *user, uint64_t timer_id);

static int paper_submit(void *self, const tack_order_request *req) {
  paper *p = self;
  paper_order o, *known, *added;
  int rc;
  if (req == NULL || memchr(req->client_id, '\0', sizeof req->client_id) == NULL)
    return TACK_EINVAL;
  if (!p->started)
    return TACK_ESTATE;
  if (!p->connected)
    return TACK_ENOTCONN;
  /* The client id is idempotent: a resend creates nothing and learns the
   * order's current state. */
  known = paper_book_find(p, req->client_id);
  if (known != NULL)
    return paper_queue_update(p, known);
  if ((rc = paper_book_check(p, req, &o)) < 0)
    return rc;
  if (o.status == TACK_STATUS_OPEN)
    o.venue_no = ++p->last_order_no;
  if ((rc = paper_book_add(p, &o, &added)) < 0) {
    if (o.venue_no)
      p->last_order_no--;
    return rc;
  }
  if (added->status == TACK_STATUS_OPEN) {
    rc = paper_book_open(p, p->n_orders - 1);
    p->dirty = 1;
    /* Never report OPEN for an order a restart would not know. */
    if (rc == 0 && p->persist)
      rc = paper_state_save(p);
    if (rc < 0) {
      added->status = TACK_STATUS_REJECTED;
      added->error = rc == TACK_ENOMEM ? TACK_ENOMEM : TACK_EIO;
      added->venue_no = 0;
      p->last_order_no--;
      tack_copy_text(added->reason, sizeof added->reason, "the venue could not record the order");
      paper_book_compact(p);
    }
  }
  if (added->status == TACK_STATUS_REJECTED)
    p->host->log(p->ctx, TACK_LOG_INFO, "order %s (%s): rejected: %s (%s)", added->client_id,
                 added->symbol, added->reason, tack_err_name(added->error));
  rc = paper_queue_update(p, added);
  if (rc == 0 && p->eof && added->status == TACK_STATUS_OPEN && !p->eof_armed &&
      p->host->timer_start(p->ctx, 0, 0, after_eof_cb, p, &p->eof_timer) == 0)
    p->eof_armed = 1;
  return rc;
}

/* After the end of the data: open market orders fill at each symbol's last
 * close (with slippage, without a volume cap), as if one more instant
 * passed at that price. */
static void after_eof_cb(void *user, uint64_t timer_id) {
  paper *p = user;
  (void)timer_id;
  p->eof_armed = 0;
  flush(p);
  if (!p->started)
    return;
  for (uint32_t i = 0; i < p->data.n_symbols; i++) {
    paper_symbol *s = &p->data.symbols[i];
    if (!(s->last > 0))
      continue;
    paper_event e;
    memset(&e, 0, sizeof e);
    e.ts = p->clock + (tack_time)p->data.cfg.latency_ms * (TACK_NS_PER_SEC / 1000);
    e.open = e.high = e.low = e.close = s->last;
    int rc = paper_match_event(p, i, &e);
    if (rc < 0) {
      fail_step(p, rc, "matching after the end of the data");
      return;
    }
  }
  if (p->persist && p->dirty)
    paper_state_save(p);
  flush(p);
}

static int paper_cancel(void *self, const char *client_id, const char *venue_id) {
  paper *p = self;
  paper_order *o = NULL;
  int rc;
  if (!p->started)
    return TACK_ESTATE;
  if (!p->connected)
    return TACK_ENOTCONN;
  if (client_id != NULL && client_id[0] != '\0')
    o = paper_book_find(p, client_id);
  if (o == NULL && venue_id != NULL && venue_id[0] != '\0')
    o = paper_book_find_venue(p, venue_id);
  if (o == NULL)
    return TACK_ENOENT;
  if (paper_status_final(o->status))
    return paper_queue_update(p, o); /* nothing to cancel: say how it ended */
  rc = paper_finish(p, o, TACK_STATUS_CANCELLED, 0, "cancelled on request");
  paper_book_compact(p);
  if (p->persist)
    paper_state_save(p);
  return rc;
}

static int paper_reconcile(void *self, uint64_t req, tack_time since) {
  paper *p = self;
  paper_out out;
  if (!p->connected)
    return TACK_ENOTCONN;
  memset(&out, 0, sizeof out);
  out.what = PAPER_OUT_RECONCILE;
  out.req = req;
  out.since = since;
  return paper_queue(p, &out);
}

/* history stays NULL (and TACK_CAP_HISTORY unset): the venue has no past
 * beyond what it replays. */
static const tack_exchange_vtable paper_vtable = {
    .size = sizeof(tack_exchange_vtable),
    .life =
        {
            .create = paper_create,
            .configure = paper_configure,
            .start = paper_start,
            .stop = paper_stop,
            .destroy = paper_destroy,
        },
    .caps = paper_caps,
    .connect = paper_connect,
    .instruments = paper_instruments,
    .subscribe = paper_subscribe,
    .unsubscribe = paper_unsubscribe,
    .submit = paper_submit,
    .cancel = paper_cancel,
    .reconcile = paper_reconcile,
};

static const tack_plugin_desc paper_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_EXCHANGE,
    .id = "paper",
    .name = "Paper venue (simulated exchange)",
    .version = "1.1.0",
    .description = "Replays bars or trades (CSV files, a seeded random walk or the host's stored "
                   "candles) and fills orders against them deterministically, with fees, "
                   "slippage, latency and exact balances kept across restarts.",
    .params = paper_params,
    .vtable = &paper_vtable,
};

TACK_PLUGINS(&paper_desc);
