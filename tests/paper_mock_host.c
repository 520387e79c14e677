/*
 * paper_mock_host.c: the mock host of paper_mock_host.h.
 */
#include "paper_mock_host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Parameters                                                                */
/* ------------------------------------------------------------------------ */

static const tack_param_spec *find_spec(const tack_ctx *ctx, const char *key) {
  for (const tack_param_spec *s = ctx->desc->params; s && s->name; s++)
    if (strcmp(s->name, key) == 0)
      return s;
  return NULL;
}

static const char *find_value(const tack_ctx *ctx, const char *key) {
  for (const char *const *p = ctx->params; p && p[0] && p[1]; p += 2)
    if (strcmp(p[0], key) == 0)
      return p[1];
  return NULL;
}

static int mh_param_int(tack_ctx *ctx, const char *key, int64_t *out) {
  const tack_param_spec *s = find_spec(ctx, key);
  if (!s)
    return TACK_ENOENT;
  if (s->type != TACK_PARAM_INT)
    return TACK_ETYPE;
  const char *v = find_value(ctx, key);
  if (!v) {
    *out = (int64_t)s->def;
    return 0;
  }
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || end == v || *end)
    return TACK_ETYPE;
  *out = x;
  return 0;
}

static int mh_param_double(tack_ctx *ctx, const char *key, double *out) {
  const tack_param_spec *s = find_spec(ctx, key);
  if (!s)
    return TACK_ENOENT;
  if (s->type != TACK_PARAM_DOUBLE)
    return TACK_ETYPE;
  const char *v = find_value(ctx, key);
  if (!v) {
    *out = s->def;
    return 0;
  }
  char *end;
  double x = strtod(v, &end);
  if (end == v || *end)
    return TACK_ETYPE;
  *out = x;
  return 0;
}

static int mh_param_bool(tack_ctx *ctx, const char *key, int *out) {
  const tack_param_spec *s = find_spec(ctx, key);
  if (!s)
    return TACK_ENOENT;
  if (s->type != TACK_PARAM_BOOL)
    return TACK_ETYPE;
  const char *v = find_value(ctx, key);
  *out = v ? strcmp(v, "true") == 0 : s->def != 0;
  return 0;
}

static int mh_param_string(tack_ctx *ctx, const char *key, const char **out) {
  const tack_param_spec *s = find_spec(ctx, key);
  if (!s)
    return TACK_ENOENT;
  if (s->type != TACK_PARAM_STRING)
    return TACK_ETYPE;
  const char *v = find_value(ctx, key);
  *out = v ? v : s->def_str;
  return 0;
}

static int mh_param_error(tack_ctx *ctx, const char *key, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(ctx->param_error, sizeof ctx->param_error, "%s: ", key ? key : "(none)");
  if (n < 0 || (size_t)n >= sizeof ctx->param_error)
    n = 0;
  va_start(ap, fmt);
  vsnprintf(ctx->param_error + n, sizeof ctx->param_error - (size_t)n, fmt, ap);
  va_end(ap);
  ctx->param_errors++;
  if (ctx->verbose)
    fprintf(stderr, "[paper] param error %s\n", ctx->param_error);
  return TACK_ECONFIG;
}

/* ------------------------------------------------------------------------ */
/* Log, clock, memory                                                        */
/* ------------------------------------------------------------------------ */

static void mh_log(tack_ctx *ctx, int32_t level, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (level <= TACK_LOG_WARN) {
    snprintf(ctx->log_error, sizeof ctx->log_error, "%s", line);
    if (level == TACK_LOG_ERROR)
      ctx->log_errors++;
    else
      ctx->log_warns++;
  }
  if (ctx->verbose)
    fprintf(stderr, "[paper] %d %s\n", (int)level, line);
}

static tack_time mh_now(tack_ctx *ctx) { return ctx->now; }

static void *mh_alloc(tack_ctx *ctx, size_t size) { return tack_alloc(&ctx->acct, size); }

static void *mh_realloc(tack_ctx *ctx, void *ptr, size_t size) {
  return tack_realloc(&ctx->acct, ptr, size);
}

static void mh_free(tack_ctx *ctx, void *ptr) { tack_free(&ctx->acct, ptr); }

/* ------------------------------------------------------------------------ */
/* Key-value store                                                           */
/* ------------------------------------------------------------------------ */

static mock_entry *store_find(mock_store *st, const void *key, size_t klen) {
  for (size_t i = 0; i < st->n; i++)
    if (st->entries[i].klen == klen && memcmp(st->entries[i].key, key, klen) == 0)
      return &st->entries[i];
  return NULL;
}

mock_entry *mock_store_find(mock_store *st, const char *key) {
  return store_find(st, key, strlen(key));
}

void mock_store_free(mock_store *st) {
  for (size_t i = 0; i < st->n; i++) {
    free(st->entries[i].key);
    free(st->entries[i].val);
  }
  free(st->entries);
  memset(st, 0, sizeof *st);
}

static int mh_kv_get(tack_ctx *ctx, const void *key, size_t klen, void *buf, size_t cap,
                     size_t *len) {
  if (!ctx->store || ctx->store->disabled)
    return TACK_ESTATE;
  mock_entry *e = store_find(ctx->store, key, klen);
  if (!e)
    return TACK_ENOENT;
  *len = e->vlen;
  if (cap < e->vlen)
    return TACK_ENOSPC;
  if (e->vlen)
    memcpy(buf, e->val, e->vlen);
  return 0;
}

static int mh_kv_put(tack_ctx *ctx, const void *key, size_t klen, const void *val, size_t vlen) {
  mock_store *st = ctx->store;
  if (!st || st->disabled)
    return TACK_ESTATE;
  if (st->fail_puts)
    return TACK_EIO;
  mock_entry *e = store_find(st, key, klen);
  void *copy = malloc(vlen ? vlen : 1);
  if (!copy)
    return TACK_ENOMEM;
  memcpy(copy, val, vlen);
  if (!e) {
    mock_entry *grown = realloc(st->entries, (st->n + 1) * sizeof *grown);
    void *k = malloc(klen);
    if (!grown || !k) {
      free(copy);
      free(k);
      if (grown)
        st->entries = grown;
      return TACK_ENOMEM;
    }
    st->entries = grown;
    memcpy(k, key, klen);
    e = &st->entries[st->n++];
    e->key = k;
    e->klen = klen;
    e->val = NULL;
  }
  free(e->val);
  e->val = copy;
  e->vlen = vlen;
  return 0;
}

static int mh_kv_del(tack_ctx *ctx, const void *key, size_t klen) {
  mock_store *st = ctx->store;
  if (!st || st->disabled)
    return TACK_ESTATE;
  mock_entry *e = store_find(st, key, klen);
  if (!e)
    return TACK_ENOENT;
  free(e->key);
  free(e->val);
  *e = st->entries[--st->n];
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Candles                                                                   */
/* ------------------------------------------------------------------------ */

tack_candles *mock_candles;
size_t mock_page_max;

static int mh_candles_info(tack_ctx *ctx, const char *symbol, uint32_t timeframe_s, uint64_t *count,
                           tack_time *first, tack_time *last) {
  if (!ctx->candles)
    return TACK_ESTATE;
  return tack_candles_info(ctx->candles, symbol, timeframe_s, count, first, last);
}

static int mh_candles_open(tack_ctx *ctx, const char *symbol, uint32_t timeframe_s, tack_time from,
                           tack_time to, uint64_t *read_id) {
  *read_id = 0;
  if (!ctx->candles)
    return TACK_ESTATE;
  int rc = tack_candles_info(ctx->candles, symbol, timeframe_s, NULL, NULL, NULL);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < MOCK_MAX_READS; i++) {
    mock_read *r = &ctx->reads[i];
    if (r->id)
      continue;
    r->id = ++ctx->next_read_id;
    tack_copy_text(r->symbol, sizeof r->symbol, symbol);
    r->timeframe_s = timeframe_s;
    r->from = from;
    r->to = to;
    ctx->open_reads++;
    *read_id = r->id;
    return 0;
  }
  return TACK_ENOMEM;
}

static mock_read *find_read(tack_ctx *ctx, uint64_t id) {
  for (size_t i = 0; id && i < MOCK_MAX_READS; i++)
    if (ctx->reads[i].id == id)
      return &ctx->reads[i];
  return NULL;
}

static int mh_candles_next(tack_ctx *ctx, uint64_t read_id, tack_bar *bars, size_t cap, size_t *n) {
  mock_read *r = find_read(ctx, read_id);
  *n = 0;
  ctx->candle_calls++;
  if (!r)
    return TACK_EINVAL;
  if (!ctx->candles)
    return TACK_ESTATE;
  if (ctx->page_max && cap > ctx->page_max)
    cap = ctx->page_max;
  int rc =
      tack_candles_read_page(ctx->candles, r->symbol, r->timeframe_s, r->from, r->to, bars, cap, n);
  if (rc == 0 && *n > 0)
    r->from = bars[*n - 1].ts + 1;
  return rc;
}

static void mh_candles_close(tack_ctx *ctx, uint64_t read_id) {
  mock_read *r = find_read(ctx, read_id);
  if (!r)
    return;
  r->id = 0;
  ctx->open_reads--;
}

/* ------------------------------------------------------------------------ */
/* Timers                                                                    */
/* ------------------------------------------------------------------------ */

static int mh_timer_start(tack_ctx *ctx, uint64_t after_ns, uint64_t repeat_ns, tack_timer_cb cb,
                          void *user, uint64_t *timer_id) {
  if (repeat_ns != 0 || !cb)
    return TACK_EINVAL; /* the paper venue uses one-shot timers only */
  for (size_t i = 0; i < MOCK_MAX_TIMERS; i++) {
    mock_timer *t = &ctx->timers[i];
    if (t->active)
      continue;
    t->id = ++ctx->next_timer_id;
    t->due = ctx->now + (tack_time)after_ns;
    t->cb = cb;
    t->user = user;
    t->active = 1;
    if (timer_id)
      *timer_id = t->id;
    return 0;
  }
  return TACK_ENOSPC;
}

static int mh_timer_stop(tack_ctx *ctx, uint64_t timer_id) {
  for (size_t i = 0; i < MOCK_MAX_TIMERS; i++)
    if (ctx->timers[i].active && ctx->timers[i].id == timer_id) {
      ctx->timers[i].active = 0;
      return 0;
    }
  return TACK_ENOENT;
}

int mock_pump_one(tack_ctx *ctx) {
  mock_timer *best = NULL;
  for (size_t i = 0; i < MOCK_MAX_TIMERS; i++) {
    mock_timer *t = &ctx->timers[i];
    if (t->active && (!best || t->due < best->due || (t->due == best->due && t->id < best->id)))
      best = t;
  }
  if (!best)
    return 0;
  mock_timer fire = *best;
  best->active = 0;
  if (fire.due > ctx->now)
    ctx->now = fire.due;
  fire.cb(fire.user, fire.id);
  return 1;
}

size_t mock_pump(tack_ctx *ctx, size_t limit) {
  size_t n = 0;
  while (n < limit && mock_pump_one(ctx))
    n++;
  return n;
}

int mock_pump_until(tack_ctx *ctx, int kind, size_t count) {
  while (mock_count(ctx, kind) < count)
    if (!mock_pump_one(ctx))
      return -1;
  return 0;
}

size_t mock_timers_pending(const tack_ctx *ctx) {
  size_t n = 0;
  for (size_t i = 0; i < MOCK_MAX_TIMERS; i++)
    n += ctx->timers[i].active != 0;
  return n;
}

/* ------------------------------------------------------------------------ */
/* Recorders                                                                 */
/* ------------------------------------------------------------------------ */

static mock_event *record(tack_ctx *ctx, int kind, const char *symbol) {
  if (ctx->n_events == ctx->cap_events) {
    size_t cap = ctx->cap_events ? ctx->cap_events * 2 : 256;
    mock_event *ev = realloc(ctx->events, cap * sizeof *ev);
    if (!ev) {
      fprintf(stderr, "mock host: out of memory recording an event\n");
      abort();
    }
    ctx->events = ev;
    ctx->cap_events = cap;
  }
  mock_event *e = &ctx->events[ctx->n_events++];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  tack_copy_text(e->symbol, sizeof e->symbol, symbol);
  return e;
}

static int mh_ex_connection(tack_ctx *ctx, uint32_t state, const char *detail) {
  mock_event *e = record(ctx, MOCK_CONNECTION, NULL);
  e->state = state;
  tack_copy_text(e->detail, sizeof e->detail, detail);
  if (ctx->verbose)
    fprintf(stderr, "[paper] connection %u %s\n", (unsigned)state, detail ? detail : "");
  return 0;
}

static int mh_ex_instrument(tack_ctx *ctx, const tack_instrument *instr) {
  record(ctx, MOCK_INSTRUMENT, instr->symbol)->u.instr = *instr;
  return 0;
}

static int mh_ex_bar(tack_ctx *ctx, const char *symbol, const tack_bar *bar) {
  record(ctx, MOCK_BAR, symbol)->u.bar = *bar;
  if (ctx->on_bar)
    ctx->on_bar(ctx->on_bar_user, ctx, symbol, bar);
  return 0;
}

static int mh_ex_trade(tack_ctx *ctx, const char *symbol, const tack_trade *trade) {
  record(ctx, MOCK_TRADE, symbol)->u.trade = *trade;
  return 0;
}

static int mh_ex_quote(tack_ctx *ctx, const char *symbol, const tack_quote *quote) {
  (void)quote;
  record(ctx, MOCK_ERROR, symbol);
  return TACK_ENOTSUP;
}

static int mh_ex_book(tack_ctx *ctx, const char *symbol, const tack_book_level *levels, uint32_t n,
                      uint32_t flags, tack_time ts) {
  (void)levels;
  (void)n;
  (void)flags;
  (void)ts;
  record(ctx, MOCK_ERROR, symbol);
  return TACK_ENOTSUP;
}

static int mh_ex_order_update(tack_ctx *ctx, const tack_order_update *u) {
  record(ctx, MOCK_UPDATE, u->symbol)->u.update = *u;
  if (ctx->verbose)
    fprintf(stderr, "[paper] update %s %s status %u filled %.10g avg %.10g fees %.10g %s\n",
            u->client_id, u->venue_id, (unsigned)u->status, u->filled, u->avg_price, u->fees,
            u->reason);
  return 0;
}

static int mh_ex_fill(tack_ctx *ctx, const tack_fill *f) {
  record(ctx, MOCK_FILL, f->symbol)->u.fill = *f;
  if (ctx->verbose)
    fprintf(stderr, "[paper] fill %s %s %s side %u liq %u %.10g @ %.10g fee %.10g\n", f->trade_id,
            f->client_id, f->symbol, (unsigned)f->side, (unsigned)f->liquidity, f->quantity,
            f->price, f->fee);
  return 0;
}

static int mh_ex_balance(tack_ctx *ctx, const tack_balance *b) {
  record(ctx, MOCK_BALANCE, NULL)->u.balance = *b;
  return 0;
}

static int mh_ex_position(tack_ctx *ctx, const tack_position *p) {
  record(ctx, MOCK_POSITION, p->symbol)->u.position = *p;
  return 0;
}

static int mh_ex_done(tack_ctx *ctx, uint64_t req, int status, const char *detail) {
  mock_event *e = record(ctx, MOCK_DONE, NULL);
  e->req = req;
  e->status = status;
  tack_copy_text(e->detail, sizeof e->detail, detail);
  return 0;
}

static int mh_ex_error(tack_ctx *ctx, const char *type, int err, const char *detail) {
  mock_event *e = record(ctx, MOCK_ERROR, type);
  e->status = err;
  tack_copy_text(e->detail, sizeof e->detail, detail);
  return 0;
}

size_t mock_count(const tack_ctx *ctx, int kind) {
  size_t n = 0;
  for (size_t i = 0; i < ctx->n_events; i++)
    n += ctx->events[i].kind == kind;
  return n;
}

const mock_event *mock_nth(const tack_ctx *ctx, int kind, size_t n) {
  for (size_t i = 0; i < ctx->n_events; i++)
    if (ctx->events[i].kind == kind && n-- == 0)
      return &ctx->events[i];
  return NULL;
}

const mock_event *mock_last(const tack_ctx *ctx, int kind) {
  for (size_t i = ctx->n_events; i > 0; i--)
    if (ctx->events[i - 1].kind == kind)
      return &ctx->events[i - 1];
  return NULL;
}

const tack_order_update *mock_last_update(const tack_ctx *ctx, const char *client_id) {
  for (size_t i = ctx->n_events; i > 0; i--) {
    const mock_event *e = &ctx->events[i - 1];
    if (e->kind == MOCK_UPDATE && strcmp(e->u.update.client_id, client_id) == 0)
      return &e->u.update;
  }
  return NULL;
}

void mock_clear(tack_ctx *ctx) { ctx->n_events = 0; }

/* ------------------------------------------------------------------------ */
/* The table                                                                 */
/* ------------------------------------------------------------------------ */

static int mh_submit_order(tack_ctx *ctx, const tack_order_request *req, char *client_id_out) {
  (void)ctx;
  (void)req;
  (void)client_id_out;
  return TACK_EPERM;
}

static int mh_cancel_order(tack_ctx *ctx, const char *client_id) {
  (void)ctx;
  (void)client_id;
  return TACK_EPERM;
}

static int mh_emit_signal(tack_ctx *ctx, const tack_signal *sig) {
  (void)ctx;
  (void)sig;
  return TACK_EPERM;
}

static const void *mh_get_extension(tack_ctx *ctx, const char *id) {
  (void)ctx;
  (void)id;
  return NULL;
}

const tack_host mock_host = {
    .size = sizeof(tack_host),
    .abi_major = TACK_ABI_MAJOR,
    .abi_minor = TACK_ABI_MINOR,
    .host_version = "paper mock host",
    .log = mh_log,
    .now = mh_now,
    .param_int = mh_param_int,
    .param_double = mh_param_double,
    .param_bool = mh_param_bool,
    .param_string = mh_param_string,
    .param_error = mh_param_error,
    .kv_get = mh_kv_get,
    .kv_put = mh_kv_put,
    .kv_del = mh_kv_del,
    .emit_signal = mh_emit_signal,
    .submit_order = mh_submit_order,
    .cancel_order = mh_cancel_order,
    .timer_start = mh_timer_start,
    .timer_stop = mh_timer_stop,
    .alloc = mh_alloc,
    .realloc = mh_realloc,
    .free = mh_free,
    .strerror = tack_strerror,
    .get_extension = mh_get_extension,
    .ex_connection = mh_ex_connection,
    .ex_instrument = mh_ex_instrument,
    .ex_bar = mh_ex_bar,
    .ex_trade = mh_ex_trade,
    .ex_quote = mh_ex_quote,
    .ex_book = mh_ex_book,
    .ex_order_update = mh_ex_order_update,
    .ex_fill = mh_ex_fill,
    .ex_balance = mh_ex_balance,
    .ex_position = mh_ex_position,
    .ex_done = mh_ex_done,
    .ex_error = mh_ex_error,
    .candles_info = mh_candles_info,
    .candles_open = mh_candles_open,
    .candles_next = mh_candles_next,
    .candles_close = mh_candles_close,
};

tack_ctx *mock_ctx_new(const tack_plugin_desc *desc, const char *const *params, mock_store *store) {
  tack_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx)
    return NULL;
  ctx->desc = desc;
  ctx->params = params;
  ctx->store = store;
  ctx->now = 1000 * TACK_NS_PER_SEC;
  ctx->verbose = getenv("PAPER_TEST_VERBOSE") != NULL;
  ctx->candles = mock_candles;
  ctx->page_max = mock_page_max;
  return ctx;
}

void mock_ctx_free(tack_ctx *ctx) {
  if (!ctx)
    return;
  free(ctx->events);
  free(ctx);
}
