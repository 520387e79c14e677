/*
 * fake_host.c: the fake tack_host of fake_host.h. Parameters follow the
 * real host's rules for reading (declared keys only, the spec's default when
 * absent, the declared type) but trust their values: range checks are the
 * host's job and are tested with the host.
 */
#include "fake_host.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Allocations carry their owner's count in front, aligned for any type. */
typedef union fake_block {
  tack_ctx *owner;
  max_align_t align;
} fake_block;

const tack_plugin_list *fake_load(const char *path, void **handle) {
  *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (*handle == NULL) {
    fprintf(stderr, "fake_load: %s\n", dlerror());
    return NULL;
  }
  const tack_plugin_list *list = dlsym(*handle, TACK_ENTRY_SYMBOL);
  if (list == NULL)
    fprintf(stderr, "fake_load: %s: no %s\n", path, TACK_ENTRY_SYMBOL);
  return list;
}

void fake_unload(void *handle) {
  if (handle != NULL)
    dlclose(handle);
}

const tack_lifecycle *fake_lifecycle(const tack_plugin_desc *desc) {
  switch (desc->kind) {
  case TACK_KIND_EXCHANGE:
    return &((const tack_exchange_vtable *)desc->vtable)->life;
  case TACK_KIND_FILTER:
    return &((const tack_filter_vtable *)desc->vtable)->life;
  case TACK_KIND_INDICATOR:
    return &((const tack_indicator_vtable *)desc->vtable)->life;
  case TACK_KIND_SCORER:
    return &((const tack_scorer_vtable *)desc->vtable)->life;
  case TACK_KIND_STRATEGY:
    return &((const tack_strategy_vtable *)desc->vtable)->life;
  default:
    return NULL;
  }
}

/* ------------------------------------------------------------------------ */
/* Services                                                                  */
/* ------------------------------------------------------------------------ */

static void fake_log(tack_ctx *ctx, int32_t level, const char *fmt, ...) {
  if (getenv("FAKE_HOST_LOG") == NULL)
    return;
  va_list ap;
  fprintf(stderr, "[%s] %d: ", ctx->desc->id, (int)level);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static tack_time fake_now(tack_ctx *ctx) { return ctx->now; }

static const tack_param_spec *fake_spec(tack_ctx *ctx, const char *key) {
  for (const tack_param_spec *p = ctx->desc->params; p != NULL && p->name != NULL; p++)
    if (strcmp(p->name, key) == 0)
      return p;
  return NULL;
}

static const char *fake_value(tack_ctx *ctx, const char *key) {
  for (const fake_param *p = ctx->params; p != NULL && p->key != NULL; p++)
    if (strcmp(p->key, key) == 0)
      return p->value;
  return NULL;
}

static int fake_param_int(tack_ctx *ctx, const char *key, int64_t *out) {
  const tack_param_spec *spec = fake_spec(ctx, key);
  if (spec == NULL)
    return TACK_ENOENT;
  if (spec->type != TACK_PARAM_INT)
    return TACK_ETYPE;
  const char *v = fake_value(ctx, key);
  *out = v ? strtoll(v, NULL, 10) : (int64_t)spec->def;
  return 0;
}

static int fake_param_double(tack_ctx *ctx, const char *key, double *out) {
  const tack_param_spec *spec = fake_spec(ctx, key);
  if (spec == NULL)
    return TACK_ENOENT;
  if (spec->type != TACK_PARAM_DOUBLE)
    return TACK_ETYPE;
  const char *v = fake_value(ctx, key);
  *out = v ? strtod(v, NULL) : spec->def;
  return 0;
}

static int fake_param_bool(tack_ctx *ctx, const char *key, int *out) {
  const tack_param_spec *spec = fake_spec(ctx, key);
  if (spec == NULL)
    return TACK_ENOENT;
  if (spec->type != TACK_PARAM_BOOL)
    return TACK_ETYPE;
  const char *v = fake_value(ctx, key);
  *out = v ? strcmp(v, "true") == 0 : spec->def != 0.0;
  return 0;
}

static int fake_param_string(tack_ctx *ctx, const char *key, const char **out) {
  const tack_param_spec *spec = fake_spec(ctx, key);
  if (spec == NULL)
    return TACK_ENOENT;
  if (spec->type != TACK_PARAM_STRING)
    return TACK_ETYPE;
  const char *v = fake_value(ctx, key);
  *out = v ? v : spec->def_str;
  return 0;
}

static int fake_param_error(tack_ctx *ctx, const char *key, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(ctx->param_error, sizeof ctx->param_error, "%s: ", key);
  va_start(ap, fmt);
  vsnprintf(ctx->param_error + n, sizeof ctx->param_error - (size_t)n, fmt, ap);
  va_end(ap);
  ctx->n_param_errors++;
  return TACK_ECONFIG;
}

static int fake_kv_get(tack_ctx *ctx, const void *key, size_t klen, void *buf, size_t cap,
                       size_t *len) {
  (void)ctx, (void)key, (void)klen, (void)buf, (void)cap, (void)len;
  return TACK_ENOTSUP;
}

static int fake_kv_put(tack_ctx *ctx, const void *key, size_t klen, const void *val, size_t vlen) {
  (void)ctx, (void)key, (void)klen, (void)val, (void)vlen;
  return TACK_ENOTSUP;
}

static int fake_kv_del(tack_ctx *ctx, const void *key, size_t klen) {
  (void)ctx, (void)key, (void)klen;
  return TACK_ENOTSUP;
}

static int fake_emit_signal(tack_ctx *ctx, const tack_signal *sig) {
  (void)ctx, (void)sig;
  return TACK_ENOTSUP;
}

static int fake_submit_order(tack_ctx *ctx, const tack_order_request *req, char *client_id_out) {
  (void)ctx, (void)req, (void)client_id_out;
  return TACK_ENOTSUP;
}

static int fake_cancel_order(tack_ctx *ctx, const char *client_id) {
  (void)ctx, (void)client_id;
  return TACK_ENOTSUP;
}

static int fake_timer_start(tack_ctx *ctx, uint64_t after_ns, uint64_t repeat_ns, tack_timer_cb cb,
                            void *user, uint64_t *timer_id) {
  for (int i = 0; i < FAKE_MAX_TIMERS; i++) {
    fake_timer *t = &ctx->timers[i];
    if (t->active)
      continue;
    t->active = 1;
    t->id = ++ctx->last_timer_id;
    t->due = ctx->now + (tack_time)after_ns;
    t->repeat_ns = repeat_ns;
    t->cb = cb;
    t->user = user;
    if (timer_id != NULL)
      *timer_id = t->id;
    return 0;
  }
  return TACK_EBUSY;
}

static int fake_timer_stop(tack_ctx *ctx, uint64_t timer_id) {
  for (int i = 0; i < FAKE_MAX_TIMERS; i++)
    if (ctx->timers[i].active && ctx->timers[i].id == timer_id) {
      ctx->timers[i].active = 0;
      return 0;
    }
  return TACK_ENOENT;
}

static void *fake_alloc(tack_ctx *ctx, size_t size) {
  ctx->n_allocs++;
  if (ctx->fail_at != 0 && ctx->n_allocs == ctx->fail_at)
    return NULL;
  fake_block *b = malloc(sizeof *b + size);
  if (b == NULL)
    return NULL;
  b->owner = ctx;
  ctx->live_blocks++;
  return b + 1;
}

static void fake_free(tack_ctx *ctx, void *ptr) {
  if (ptr == NULL)
    return;
  fake_block *b = (fake_block *)ptr - 1;
  if (b->owner != ctx) {
    fprintf(stderr, "fake_free: block freed through another instance\n");
    abort();
  }
  ctx->live_blocks--;
  free(b);
}

static void *fake_realloc(tack_ctx *ctx, void *ptr, size_t size) {
  if (ptr == NULL)
    return fake_alloc(ctx, size);
  ctx->n_allocs++;
  if (ctx->fail_at != 0 && ctx->n_allocs == ctx->fail_at)
    return NULL;
  fake_block *b = realloc((fake_block *)ptr - 1, sizeof *b + size);
  return b ? b + 1 : NULL;
}

static const void *fake_get_extension(tack_ctx *ctx, const char *id) {
  (void)ctx, (void)id;
  return NULL;
}

static int fake_ex_connection(tack_ctx *ctx, uint32_t state, const char *detail) {
  if (ctx->n_conn < FAKE_MAX_RECORDS)
    ctx->conn[ctx->n_conn++] = state;
  snprintf(ctx->conn_detail, sizeof ctx->conn_detail, "%s", detail ? detail : "");
  return 0;
}

static int fake_ex_instrument(tack_ctx *ctx, const tack_instrument *instr) {
  if (ctx->n_instruments < FAKE_MAX_RECORDS)
    ctx->instruments[ctx->n_instruments++] = *instr;
  return 0;
}

static int fake_ex_bar(tack_ctx *ctx, const char *symbol, const tack_bar *bar) {
  if (ctx->n_bars == ctx->cap_bars) {
    size_t cap = ctx->cap_bars ? ctx->cap_bars * 2 : 64;
    fake_bar *bars = realloc(ctx->bars, cap * sizeof *bars);
    if (bars == NULL)
      return TACK_ENOMEM;
    ctx->bars = bars;
    ctx->cap_bars = cap;
  }
  fake_bar *fb = &ctx->bars[ctx->n_bars++];
  tack_copy_text(fb->symbol, sizeof fb->symbol, symbol);
  fb->bar = *bar;
  fb->at = ctx->now;
  return 0;
}

static int fake_ex_trade(tack_ctx *ctx, const char *symbol, const tack_trade *trade) {
  (void)ctx, (void)symbol, (void)trade;
  return 0;
}

static int fake_ex_quote(tack_ctx *ctx, const char *symbol, const tack_quote *quote) {
  (void)ctx, (void)symbol, (void)quote;
  return 0;
}

static int fake_ex_book(tack_ctx *ctx, const char *symbol, const tack_book_level *levels,
                        uint32_t n, uint32_t flags, tack_time ts) {
  (void)ctx, (void)symbol, (void)levels, (void)n, (void)flags, (void)ts;
  return 0;
}

static int fake_ex_order_update(tack_ctx *ctx, const tack_order_update *update) {
  if (ctx->n_updates < FAKE_MAX_RECORDS)
    ctx->updates[ctx->n_updates++] = *update;
  return 0;
}

static int fake_ex_fill(tack_ctx *ctx, const tack_fill *fill) {
  (void)ctx, (void)fill;
  return 0;
}

static int fake_ex_balance(tack_ctx *ctx, const tack_balance *balance) {
  if (ctx->n_balances < FAKE_MAX_RECORDS)
    ctx->balances[ctx->n_balances++] = *balance;
  return 0;
}

static int fake_ex_position(tack_ctx *ctx, const tack_position *position) {
  if (ctx->n_positions < FAKE_MAX_RECORDS)
    ctx->positions[ctx->n_positions++] = *position;
  return 0;
}

static int fake_ex_done(tack_ctx *ctx, uint64_t req, int status, const char *detail) {
  (void)detail;
  if (ctx->n_done < FAKE_MAX_RECORDS) {
    ctx->done_req[ctx->n_done] = req;
    ctx->done_status[ctx->n_done++] = status;
  }
  return 0;
}

static int fake_ex_error(tack_ctx *ctx, const char *type, int err, const char *detail) {
  (void)ctx;
  fprintf(stderr, "ex_error %s %s: %s\n", type, tack_err_name(err), detail);
  return 0;
}

const tack_host fake_host = {
    .size = sizeof(tack_host),
    .abi_major = TACK_ABI_MAJOR,
    .abi_minor = TACK_ABI_MINOR,
    .host_version = "fake host",
    .log = fake_log,
    .now = fake_now,
    .param_int = fake_param_int,
    .param_double = fake_param_double,
    .param_bool = fake_param_bool,
    .param_string = fake_param_string,
    .param_error = fake_param_error,
    .kv_get = fake_kv_get,
    .kv_put = fake_kv_put,
    .kv_del = fake_kv_del,
    .emit_signal = fake_emit_signal,
    .submit_order = fake_submit_order,
    .cancel_order = fake_cancel_order,
    .timer_start = fake_timer_start,
    .timer_stop = fake_timer_stop,
    .alloc = fake_alloc,
    .realloc = fake_realloc,
    .free = fake_free,
    .strerror = tack_strerror,
    .get_extension = fake_get_extension,
    .ex_connection = fake_ex_connection,
    .ex_instrument = fake_ex_instrument,
    .ex_bar = fake_ex_bar,
    .ex_trade = fake_ex_trade,
    .ex_quote = fake_ex_quote,
    .ex_book = fake_ex_book,
    .ex_order_update = fake_ex_order_update,
    .ex_fill = fake_ex_fill,
    .ex_balance = fake_ex_balance,
    .ex_position = fake_ex_position,
    .ex_done = fake_ex_done,
    .ex_error = fake_ex_error,
};

/* ------------------------------------------------------------------------ */
/* Instances and timers                                                      */
/* ------------------------------------------------------------------------ */

int fake_instance_new(tack_ctx *ctx, const tack_plugin_desc *desc, const fake_param *params) {
  const tack_lifecycle *life = fake_lifecycle(desc);
  long fail_at = ctx->fail_at; /* the one setting a caller may make first */
  memset(ctx, 0, sizeof *ctx);
  ctx->fail_at = fail_at;
  ctx->desc = desc;
  ctx->params = params;
  ctx->now = INT64_C(1700000000) * TACK_NS_PER_SEC;
  int rc = life->create(ctx, &fake_host, &ctx->self);
  if (rc < 0)
    return rc;
  if (life->configure != NULL && (rc = life->configure(ctx->self)) < 0) {
    life->destroy(ctx->self);
    ctx->self = NULL;
  }
  return rc;
}

void fake_instance_free(tack_ctx *ctx) {
  if (ctx->self != NULL)
    fake_lifecycle(ctx->desc)->destroy(ctx->self);
  ctx->self = NULL;
  free(ctx->bars);
  ctx->bars = NULL;
  ctx->n_bars = ctx->cap_bars = 0;
}

int fake_run_timers(tack_ctx *ctx, int max) {
  int fired = 0;
  while (fired < max) {
    fake_timer *next = NULL;
    for (int i = 0; i < FAKE_MAX_TIMERS; i++) {
      fake_timer *t = &ctx->timers[i];
      if (t->active &&
          (next == NULL || t->due < next->due || (t->due == next->due && t->id < next->id)))
        next = t;
    }
    if (next == NULL)
      break;
    if (next->due > ctx->now)
      ctx->now = next->due;
    tack_timer_cb cb = next->cb;
    void *user = next->user;
    uint64_t id = next->id;
    if (next->repeat_ns != 0)
      next->due += (tack_time)next->repeat_ns;
    else
      next->active = 0;
    cb(user, id);
    fired++;
  }
  return fired;
}
