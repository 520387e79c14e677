/*
 * instance.c: plugin instances (the host side of a tack_ctx), their state
 * machine, their timers, and tack_host_services, the table through which
 * every plugin reaches the host.
 *
 * The services are the dispatch path of everything a plugin does, so they
 * check what they must (kind, state, arguments) and allocate nothing: the
 * names, the storage namespace and the loop extension of an instance are
 * built once, at creation. The exceptions are the handles a plugin asks
 * for (timers, indicators, candle reads), which belong to the instance and
 * are released with it.
 */
#include "instance.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "candles.h"
#include "indicator_service.h"
#include "log.h"
#include "params.h"
#include "runtime.h"
#include "store.h"
#include "utc.h"
#include "version.h"

/* The states of tack.h's lifecycle, and the calls in progress between them. */
enum {
  ST_CREATING,
  ST_CONFIGURING,
  ST_READY, /* configured */
  ST_STARTING,
  ST_STARTED,
  ST_STOPPING,
  ST_STOPPED,
  ST_DESTROYING
};

static const char *const state_names[] = {"being created", "being configured", "configured",
                                          "starting",      "started",          "stopping",
                                          "stopped",       "being destroyed"};

/* Keys a plugin may use, as tack.h promises; the namespace adds to it. */
#define KV_KEY_MAX 255

/* A read of candles opened with candles_open: the series and what is left of
 * its range. No transaction stays open between two candles_next. */
typedef struct candle_read {
  uint64_t id;
  char symbol[TACK_CANDLES_SYMBOL_MAX + 1];
  uint32_t timeframe_s;
  tack_time from, to; /* the part of the range not read yet */
  struct candle_read *next;
} candle_read;

typedef struct instance_timer {
  uv_timer_t handle; /* first: the handle pointer is the timer pointer */
  tack_ctx *ctx;     /* NULL once the timer is closing */
  uint64_t id;
  tack_timer_cb cb;
  void *user;
  int repeat;
  struct instance_timer *next;
} instance_timer;

struct tack_ctx {
  const tack_cfg_instance *ci;
  const tack_plugin_desc *desc;
  const tack_lifecycle *life;
  const void *vtable;
  struct tack_runtime *rt;
  void *self;
  void *route;
  int state;
  int orders_refused; /* order services were refused at least once */
  tack_diag *diag;    /* problems go here during create and configure */
  size_t diag_errors; /* param_error calls while diag was set */
  tack_alloc_acct mem;
  instance_timer *timers;
  uint64_t next_timer_id;
  tack_ext_loop ext_loop;
  tack_store_ns ns;
  char *name;    /* "<section>.<name>[@<scope>]" */
  char *kv_name; /* "<name>[@<scope>]" */
  char **paths;  /* TACK_PARAM_PATH values resolved against the config's folder */
  size_t n_paths;
  struct tack_ind_child *inds; /* indicators it opened (indicator_service.c) */
  tack_candles *candles;       /* the store's candles, opened at the first candles_* call */
  candle_read *reads;          /* reads it opened, newest first */
  uint64_t next_read_id;
};

static const tack_lifecycle *lifecycle_of(const tack_plugin_desc *desc) {
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

/* A plugin's non-zero return as a TACK_E* code (a positive value from a
 * call that has no positive results is a plugin bug). */
static int plugin_error(int rc) { return rc < 0 ? rc : TACK_EPLUGIN; }

static int wrong_state(const tack_ctx *ctx, const char *call) {
  tack_log(TACK_LOG_ERROR, ctx->name, "%s called while the instance is %s: refused (%s)", call,
           state_names[ctx->state], tack_err_name(TACK_ESTATE));
  return TACK_ESTATE;
}

/* ------------------------------------------------------------------------ */
/* Timers                                                                    */
/* ------------------------------------------------------------------------ */

static void timer_closed(uv_handle_t *h) { tack_free(NULL, h); }

static void timer_unlink(tack_ctx *ctx, instance_timer *t) {
  for (instance_timer **p = &ctx->timers; *p; p = &(*p)->next) {
    if (*p == t) {
      *p = t->next;
      return;
    }
  }
}

static void timer_close(instance_timer *t) {
  t->ctx = NULL;
  uv_close((uv_handle_t *)&t->handle, timer_closed);
}

static void timer_fired(uv_timer_t *h) {
  instance_timer *t = (instance_timer *)h;
  tack_ctx *ctx = t->ctx;
  if (!ctx || ctx->state != ST_STARTED)
    return;
  tack_timer_cb cb = t->cb;
  void *user = t->user;
  uint64_t id = t->id;
  if (!t->repeat) {
    /* A one-shot timer is done once it fires; closing it first lets the
     * callback start a new timer without the old one lingering. */
    timer_unlink(ctx, t);
    timer_close(t);
  }
  cb(user, id);
}

static void timers_close_all(tack_ctx *ctx) {
  while (ctx->timers) {
    instance_timer *t = ctx->timers;
    ctx->timers = t->next;
    timer_close(t);
  }
}

static uint64_t ns_to_ms_ceil(uint64_t ns) { return ns / 1000000u + (ns % 1000000u != 0); }

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                 */
/* ------------------------------------------------------------------------ */

static void report_leak(const tack_ctx *ctx) {
  if (ctx->mem.live_blocks == 0)
    return;
  tack_log(TACK_LOG_WARN, ctx->name,
           "plugin %s leaked %llu bytes in %llu block%s (allocated through host->alloc and not "
           "freed by destroy)",
           ctx->desc->id, (unsigned long long)ctx->mem.live_bytes,
           (unsigned long long)ctx->mem.live_blocks, ctx->mem.live_blocks == 1 ? "" : "s");
}

static void free_ctx(tack_ctx *ctx) {
  /* After the plugin's destroy, which may still have used its indicators
   * and its candle reads. */
  tack_indicator_service_close_all(ctx);
  while (ctx->reads) {
    candle_read *r = ctx->reads;
    ctx->reads = r->next;
    tack_free(NULL, r);
  }
  tack_candles_close(ctx->candles);
  timers_close_all(ctx);
  tack_free(NULL, ctx->name);
  tack_free(NULL, ctx->kv_name);
  for (size_t i = 0; i < ctx->n_paths; i++)
    tack_free(NULL, ctx->paths[i]);
  tack_free(NULL, ctx->paths);
  tack_free(NULL, ctx);
}

static char *join3(const char *a, const char *sep, const char *b) {
  size_t na = strlen(a), ns = strlen(sep), nb = strlen(b);
  char *s = tack_alloc(NULL, na + ns + nb + 1);
  if (!s)
    return NULL;
  memcpy(s, a, na);
  memcpy(s + na, sep, ns);
  memcpy(s + na + ns, b, nb + 1);
  return s;
}

static int make_names(tack_ctx *ctx, const char *scope) {
  const tack_cfg_instance *ci = ctx->ci;
  char *base = join3(ci->section ? ci->section : "?", ".", ci->name ? ci->name : "?");
  if (!base)
    return TACK_ENOMEM;
  if (scope) {
    ctx->name = join3(base, "@", scope);
    ctx->kv_name = join3(ci->name ? ci->name : "?", "@", scope);
    tack_free(NULL, base);
  } else {
    ctx->name = base;
    ctx->kv_name = tack_strdup(NULL, ci->name ? ci->name : "?");
  }
  return ctx->name && ctx->kv_name ? 0 : TACK_ENOMEM;
}

int tack_instance_new_scoped(const tack_cfg_instance *ci, const char *scope,
                             struct tack_runtime *rt, tack_diag *d, tack_ctx **out) {
  tack_diag scratch = TACK_DIAG_INIT;
  tack_ctx *ctx = NULL;
  int created = 0;
  int rc;
  const char *for_ = scope ? " for " : "";
  const char *scope_text = scope ? scope : "";
  char path[256]; /* the instance's setting, "strategies.trend" */
  *out = NULL;
  if (!d)
    d = &scratch;

  if (!ci || !ci->plugin || !ci->plugin->desc) {
    tack_diag_add(d, ci ? ci->file : NULL, ci ? ci->line : 0, NULL,
                  "instance %s has no plugin bound: the config was not resolved",
                  ci && ci->name ? ci->name : "?");
    rc = TACK_EINVAL;
    goto fail;
  }
  snprintf(path, sizeof path, "%s.%s", ci->section ? ci->section : "?", ci->name ? ci->name : "?");
  const tack_plugin_desc *desc = ci->plugin->desc;
  const tack_lifecycle *life = lifecycle_of(desc);
  if (!life || !life->create || !life->destroy) {
    tack_diag_add(d, ci->file, ci->line, NULL,
                  "plugin %s (%s) has no usable lifecycle: create and destroy are required",
                  desc->id, ci->plugin->path);
    rc = TACK_EINVAL;
    goto fail;
  }

  ctx = tack_calloc(NULL, 1, sizeof *ctx);
  if (ctx) {
    ctx->ci = ci;
    ctx->desc = desc;
  }
  if (!ctx || make_names(ctx, scope) != 0) {
    tack_diag_add(d, ci->file, ci->line, NULL, "out of memory creating %s.%s (plugin %s)",
                  ci->section, ci->name, desc->id);
    rc = TACK_ENOMEM;
    goto fail;
  }
  ctx->life = life;
  ctx->vtable = desc->vtable;
  ctx->rt = rt;
  ctx->next_timer_id = 1;
  ctx->next_read_id = 1;
  ctx->ext_loop.size = (uint32_t)sizeof ctx->ext_loop;
  ctx->ext_loop.loop = rt ? tack_runtime_loop(rt) : NULL;
  ctx->ns.bot = rt ? tack_runtime_bot(rt) : NULL;
  ctx->ns.section = ci->section;
  ctx->ns.instance = ctx->kv_name;
  ctx->diag = d;
  ctx->state = ST_CREATING;

  void *self = NULL;
  rc = life->create(ctx, &tack_host_services, &self);
  if (rc != 0) {
    rc = plugin_error(rc);
    /* A create that said why through param_error needs no second line. */
    if (ctx->diag_errors == 0)
      tack_diag_add(d, ci->file, ci->line, path, "plugin %s (%s)%s%s: create failed: %s (%s)",
                    desc->id, ci->plugin->path, for_, scope_text, tack_strerror(rc),
                    tack_err_name(rc));
    goto fail;
  }
  ctx->self = self;
  created = 1;

  ctx->state = ST_CONFIGURING;
  if (ctx->diag_errors == 0 && life->configure) {
    rc = life->configure(self);
    if (rc != 0) {
      rc = plugin_error(rc);
      if (ctx->diag_errors == 0)
        tack_diag_add(d, ci->file, ci->line, path, "plugin %s (%s)%s%s: configure failed: %s (%s)",
                      desc->id, ci->plugin->path, for_, scope_text, tack_strerror(rc),
                      tack_err_name(rc));
      goto fail;
    }
  }
  if (ctx->diag_errors) {
    rc = TACK_ECONFIG;
    goto fail;
  }
  ctx->state = ST_READY;
  ctx->diag = NULL;
  tack_diag_free(&scratch);
  *out = ctx;
  return 0;

fail:
  if (ctx) {
    ctx->diag = NULL;
    if (created) {
      ctx->state = ST_DESTROYING;
      ctx->life->destroy(ctx->self);
    }
    report_leak(ctx);
    free_ctx(ctx);
  }
  if (d == &scratch)
    for (size_t i = 0; i < scratch.n; i++)
      tack_log(TACK_LOG_ERROR, NULL, "%s", scratch.msgs[i]);
  tack_diag_free(&scratch);
  return rc;
}

int tack_instance_new(const tack_cfg_instance *ci, struct tack_runtime *rt, tack_diag *d,
                      tack_ctx **out) {
  return tack_instance_new_scoped(ci, NULL, rt, d, out);
}

int tack_instance_start(tack_ctx *ctx) {
  if (ctx->state != ST_READY && ctx->state != ST_STOPPED)
    return wrong_state(ctx, "start");
  ctx->state = ST_STARTING;
  int rc = ctx->life->start ? ctx->life->start(ctx->self) : 0;
  if (rc != 0) {
    rc = plugin_error(rc);
    tack_log(TACK_LOG_ERROR, ctx->name, "plugin %s: start failed: %s (%s)", ctx->desc->id,
             tack_strerror(rc), tack_err_name(rc));
    /* A failed start is not followed by stop: release its timers here. */
    timers_close_all(ctx);
    ctx->state = ST_READY;
    return rc;
  }
  ctx->state = ST_STARTED;
  return 0;
}

void tack_instance_stop(tack_ctx *ctx) {
  if (ctx->state != ST_STARTED) {
    wrong_state(ctx, "stop");
    return;
  }
  ctx->state = ST_STOPPING;
  if (ctx->life->stop)
    ctx->life->stop(ctx->self);
  timers_close_all(ctx);
  ctx->state = ST_STOPPED;
}

void tack_instance_free_acct(tack_ctx *ctx, tack_alloc_acct *final) {
  if (!ctx)
    return;
  if (ctx->state == ST_STARTED)
    tack_instance_stop(ctx);
  ctx->state = ST_DESTROYING;
  ctx->life->destroy(ctx->self);
  report_leak(ctx);
  if (final)
    *final = ctx->mem;
  free_ctx(ctx);
}

void tack_instance_free(tack_ctx *ctx) { tack_instance_free_acct(ctx, NULL); }

void *tack_instance_self(const tack_ctx *ctx) { return ctx->self; }

const tack_cfg_instance *tack_instance_config(const tack_ctx *ctx) { return ctx->ci; }

const tack_plugin_desc *tack_instance_desc(const tack_ctx *ctx) { return ctx->desc; }

const tack_alloc_acct *tack_instance_memory(const tack_ctx *ctx) { return &ctx->mem; }

const char *tack_instance_name(const tack_ctx *ctx) { return ctx->name; }

/* ------------------------------------------------------------------------ */
/* The plugin registry and the indicator service's needs                    */
/* ------------------------------------------------------------------------ */

static const tack_loader *registry;

void tack_instance_set_registry(const tack_loader *ld) { registry = ld; }

const tack_loader *tack_instance_registry(void) { return registry; }

struct tack_ind_child **tack_instance_ind_children(tack_ctx *ctx) {
  return &ctx->inds;
}

int tack_instance_setting_up(tack_ctx *ctx, const char *call) {
  if (ctx->state == ST_CREATING || ctx->state == ST_CONFIGURING || ctx->state == ST_STARTING)
    return 0;
  tack_log(TACK_LOG_ERROR, ctx->name,
           "%s called while the instance is %s: allowed only in create, configure or start; "
           "refused (%s)",
           call, state_names[ctx->state], tack_err_name(TACK_ESTATE));
  return TACK_ESTATE;
}

void tack_instance_problem(tack_ctx *ctx, const char *fmt, ...) {
  char body[1024];
  char path[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  if (!ctx->diag) {
    tack_log(TACK_LOG_ERROR, ctx->name, "%s", body);
    return;
  }
  snprintf(path, sizeof path, "%s.%s", ctx->ci->section ? ctx->ci->section : "?",
           ctx->ci->name ? ctx->ci->name : "?");
  tack_diag_add(ctx->diag, ctx->ci->file, ctx->ci->line, path, "%s", body);
  ctx->diag_errors++;
}

int tack_instance_started(const tack_ctx *ctx) { return ctx->state == ST_STARTED; }

void tack_instance_set_route(tack_ctx *ctx, void *route) { ctx->route = route; }

void *tack_instance_route(const tack_ctx *ctx) { return ctx->route; }

/* ------------------------------------------------------------------------ */
/* Kind callbacks                                                            */
/* ------------------------------------------------------------------------ */

int tack_instance_filter_update(tack_ctx *ctx, const tack_bar *in, tack_bar *out, uint32_t cap,
                                uint32_t *n_out) {
  if (ctx->desc->kind != TACK_KIND_FILTER)
    return TACK_EINVAL;
  if (ctx->state != ST_STARTED)
    return wrong_state(ctx, "update");
  const tack_filter_vtable *vt = ctx->vtable;
  return vt->update(ctx->self, in, out, cap, n_out);
}

int tack_instance_indicator_update(tack_ctx *ctx, const tack_bar *bar, double *out) {
  if (ctx->desc->kind != TACK_KIND_INDICATOR)
    return TACK_EINVAL;
  if (ctx->state != ST_STARTED)
    return wrong_state(ctx, "update");
  const tack_indicator_vtable *vt = ctx->vtable;
  return vt->update(ctx->self, bar, out);
}

const tack_output_spec *tack_instance_indicator_outputs(const tack_ctx *ctx) {
  if (ctx->desc->kind != TACK_KIND_INDICATOR)
    return NULL;
  const tack_indicator_vtable *vt = ctx->vtable;
  return vt->outputs;
}

int tack_instance_strategy_on_bar(tack_ctx *ctx, const tack_bar *bar, tack_signal *out) {
  if (ctx->desc->kind != TACK_KIND_STRATEGY)
    return TACK_EINVAL;
  if (ctx->state != ST_STARTED)
    return wrong_state(ctx, "on_bar");
  const tack_strategy_vtable *vt = ctx->vtable;
  return vt->on_bar(ctx->self, bar, out);
}

int tack_instance_exchange_caps(tack_ctx *ctx, tack_exchange_caps *out) {
  if (ctx->desc->kind != TACK_KIND_EXCHANGE)
    return TACK_EINVAL;
  if (ctx->state != ST_READY && ctx->state != ST_STARTED && ctx->state != ST_STOPPED)
    return wrong_state(ctx, "caps");
  const tack_exchange_vtable *vt = ctx->vtable;
  memset(out, 0, sizeof *out);
  out->size = (uint32_t)sizeof *out;
  return vt->caps(ctx->self, out);
}

int tack_instance_exchange_connect(tack_ctx *ctx) {
  if (ctx->desc->kind != TACK_KIND_EXCHANGE)
    return TACK_EINVAL;
  if (ctx->state != ST_STARTED)
    return wrong_state(ctx, "connect");
  const tack_exchange_vtable *vt = ctx->vtable;
  return vt->connect(ctx->self);
}

int tack_instance_exchange_subscribe(tack_ctx *ctx, const tack_subscription *sub) {
  if (ctx->desc->kind != TACK_KIND_EXCHANGE)
    return TACK_EINVAL;
  if (ctx->state != ST_STARTED)
    return wrong_state(ctx, "subscribe");
  const tack_exchange_vtable *vt = ctx->vtable;
  return vt->subscribe(ctx->self, sub);
}

/* The venue calls of the trading engine: only on a started exchange. */
static const tack_exchange_vtable *exchange_vt(tack_ctx *ctx, const char *call, int *rc) {
  *rc = 0;
  if (ctx->desc->kind != TACK_KIND_EXCHANGE) {
    *rc = TACK_EINVAL;
    return NULL;
  }
  if (ctx->state != ST_STARTED) {
    *rc = wrong_state(ctx, call);
    return NULL;
  }
  return ctx->vtable;
}

int tack_instance_exchange_instruments(tack_ctx *ctx, uint64_t req) {
  int rc;
  const tack_exchange_vtable *vt = exchange_vt(ctx, "instruments", &rc);
  return vt ? vt->instruments(ctx->self, req) : rc;
}

int tack_instance_exchange_submit(tack_ctx *ctx, const tack_order_request *req) {
  int rc;
  const tack_exchange_vtable *vt = exchange_vt(ctx, "submit", &rc);
  return vt ? vt->submit(ctx->self, req) : rc;
}

int tack_instance_exchange_cancel(tack_ctx *ctx, const char *client_id, const char *venue_id) {
  int rc;
  const tack_exchange_vtable *vt = exchange_vt(ctx, "cancel", &rc);
  return vt ? vt->cancel(ctx->self, client_id, venue_id) : rc;
}

int tack_instance_exchange_reconcile(tack_ctx *ctx, uint64_t req, tack_time since) {
  int rc;
  const tack_exchange_vtable *vt = exchange_vt(ctx, "reconcile", &rc);
  return vt ? vt->reconcile(ctx->self, req, since) : rc;
}

/* ------------------------------------------------------------------------ */
/* Host services                                                             */
/* ------------------------------------------------------------------------ */

static void svc_log(tack_ctx *ctx, int32_t level, const char *fmt, ...) TACK_PRINTF(3, 4);
static void svc_log(tack_ctx *ctx, int32_t level, const char *fmt, ...) {
  if (level > tack_log_level())
    return;
  va_list ap;
  va_start(ap, fmt);
  tack_log_v(level, ctx ? ctx->name : NULL, fmt, ap);
  va_end(ap);
}

static tack_time wall_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (tack_time)ts.tv_sec * TACK_NS_PER_SEC + ts.tv_nsec;
}

static tack_time svc_now(tack_ctx *ctx) {
  return ctx && ctx->rt ? tack_runtime_now(ctx->rt) : wall_clock();
}

static int svc_param_int(tack_ctx *ctx, const char *key, int64_t *out) {
  if (!ctx || !key || !out)
    return TACK_EINVAL;
  return tack_params_int(ctx->desc, ctx->ci->params, key, out);
}

static int svc_param_double(tack_ctx *ctx, const char *key, double *out) {
  if (!ctx || !key || !out)
    return TACK_EINVAL;
  return tack_params_double(ctx->desc, ctx->ci->params, key, out);
}

static int svc_param_bool(tack_ctx *ctx, const char *key, int *out) {
  if (!ctx || !key || !out)
    return TACK_EINVAL;
  return tack_params_bool(ctx->desc, ctx->ci->params, key, out);
}

/* A relative TACK_PARAM_PATH value joined to the folder of the config file
 * that sets it, kept until the instance is freed. The plugin then reads the
 * same file whatever the working directory, as the host does for its own
 * paths. */
static int resolve_path(tack_ctx *ctx, const char *value, const char **out) {
  const char *file = ctx->ci->file;
  const char *slash = file ? strrchr(file, '/') : NULL;
  if (value[0] == '\0' || value[0] == '/' || !slash) {
    *out = value;
    return 0;
  }
  size_t dir_len = (size_t)(slash - file);
  size_t len = dir_len + 1 + strlen(value) + 1;
  char **paths = tack_realloc(NULL, ctx->paths, (ctx->n_paths + 1) * sizeof *paths);
  if (!paths)
    return TACK_ENOMEM;
  ctx->paths = paths;
  char *path = tack_alloc(NULL, len);
  if (!path)
    return TACK_ENOMEM;
  snprintf(path, len, "%.*s/%s", (int)dir_len, file, value);
  ctx->paths[ctx->n_paths++] = path;
  *out = path;
  return 0;
}

static int svc_param_string(tack_ctx *ctx, const char *key, const char **out) {
  if (!ctx || !key || !out)
    return TACK_EINVAL;
  int rc = tack_params_string(ctx->desc, ctx->ci->params, key, out);
  const tack_param_spec *spec = rc == 0 ? tack_params_find(ctx->desc, key) : NULL;
  if (spec && (spec->flags & TACK_PARAM_PATH))
    rc = resolve_path(ctx, *out, out);
  return rc;
}

static int svc_param_error(tack_ctx *ctx, const char *key, const char *fmt, ...) TACK_PRINTF(3, 4);
static int svc_param_error(tack_ctx *ctx, const char *key, const char *fmt, ...) {
  char body[2048];
  char path[256];
  va_list ap;
  if (!ctx)
    return TACK_ECONFIG;
  va_start(ap, fmt);
  if (fmt)
    vsnprintf(body, sizeof body, fmt, ap);
  else
    tack_copy_text(body, sizeof body, "invalid value");
  va_end(ap);

  const tack_cfg_instance *ci = ctx->ci;
  if (!ctx->diag) {
    tack_log(TACK_LOG_ERROR, ctx->name, "parameter %s: %s", key ? key : "(none)", body);
    return TACK_ECONFIG;
  }
  /* Point at the parameter's own setting when the config has one. */
  const char *file = ci->file;
  int line = ci->line;
  const config_setting_t *s = key && ci->params ? config_setting_get_member(ci->params, key) : NULL;
  if (s && config_setting_source_file(s)) {
    file = config_setting_source_file(s);
    line = (int)config_setting_source_line(s);
  }
  if (key)
    snprintf(path, sizeof path, "%s.%s.params.%s", ci->section, ci->name, key);
  else
    snprintf(path, sizeof path, "%s.%s.params", ci->section, ci->name);
  tack_diag_add(ctx->diag, file, line, path, "%s (plugin %s)", body, ctx->desc->id);
  ctx->diag_errors++;
  return TACK_ECONFIG;
}

/* kv services need a running host with a store, and a key plugins may use. */
static int kv_gate(tack_ctx *ctx, const void *key, size_t klen) {
  if (!ctx)
    return TACK_EINVAL;
  if (!ctx->rt || !tack_runtime_store(ctx->rt))
    return TACK_ESTATE;
  if (!key || klen == 0)
    return TACK_EINVAL;
  if (klen > KV_KEY_MAX)
    return TACK_ERANGE;
  return 0;
}

static int svc_kv_get(tack_ctx *ctx, const void *key, size_t klen, void *buf, size_t cap,
                      size_t *len) {
  int rc = kv_gate(ctx, key, klen);
  if (rc != 0)
    return rc;
  return tack_store_kv_get(tack_runtime_store(ctx->rt), &ctx->ns, key, klen, buf, cap, len);
}

static int svc_kv_put(tack_ctx *ctx, const void *key, size_t klen, const void *val, size_t vlen) {
  int rc = kv_gate(ctx, key, klen);
  if (rc != 0)
    return rc;
  return tack_store_kv_put(tack_runtime_store(ctx->rt), &ctx->ns, key, klen, val, vlen);
}

static int svc_kv_del(tack_ctx *ctx, const void *key, size_t klen) {
  int rc = kv_gate(ctx, key, klen);
  if (rc != 0)
    return rc;
  return tack_store_kv_del(tack_runtime_store(ctx->rt), &ctx->ns, key, klen);
}

static int svc_emit_signal(tack_ctx *ctx, const tack_signal *sig) {
  if (!ctx || !sig)
    return TACK_EINVAL;
  if (ctx->desc->kind != TACK_KIND_STRATEGY && ctx->desc->kind != TACK_KIND_SCORER) {
    tack_log(TACK_LOG_ERROR, ctx->name,
             "emit_signal from a %s plugin: only strategies and "
             "scorers emit signals (TACK_EPERM)",
             ctx->desc->kind == TACK_KIND_EXCHANGE ? "exchange" : "filter or indicator");
    return TACK_EPERM;
  }
  if (ctx->state != ST_STARTING && ctx->state != ST_STARTED)
    return wrong_state(ctx, "emit_signal");
  tack_signal s = *sig;
  if (tack_signal_normalize(&s) != 0) {
    tack_log(TACK_LOG_ERROR, ctx->name,
             "emit_signal: strength %g, confidence %g: both must be finite; signal refused",
             sig->strength, sig->confidence);
    return TACK_EINVAL;
  }
  if (!ctx->rt)
    return TACK_ESTATE;
  return tack_runtime_emit_signal(ctx->rt, ctx, &s);
}

/* Orders go through the runtime to the trading engine. When the bot does
 * not trade, that is said loudly once per instance, then quietly: a
 * strategy that submits on every bar must not drown the log. */
static int order_refusal(tack_ctx *ctx, const char *call, int rc) {
  if (rc == TACK_ENOTSUP) {
    tack_log(ctx->orders_refused ? TACK_LOG_DEBUG : TACK_LOG_ERROR, ctx->name,
             "%s: this bot does not trade (its config has no trading group) or this instance "
             "feeds no symbol; nothing was sent (TACK_ENOTSUP)",
             call);
    ctx->orders_refused = 1;
  }
  return rc;
}

static int svc_submit_order(tack_ctx *ctx, const tack_order_request *req, char *client_id_out) {
  if (client_id_out)
    client_id_out[0] = '\0';
  if (!ctx || !req)
    return TACK_EINVAL;
  if (ctx->desc->kind != TACK_KIND_STRATEGY && ctx->desc->kind != TACK_KIND_SCORER)
    return TACK_EPERM;
  if (!ctx->rt)
    return order_refusal(ctx, "submit_order", TACK_ENOTSUP);
  return order_refusal(ctx, "submit_order",
                       tack_runtime_submit_order(ctx->rt, ctx, req, client_id_out));
}

static int svc_cancel_order(tack_ctx *ctx, const char *client_id) {
  if (!ctx || !client_id)
    return TACK_EINVAL;
  if (!ctx->rt)
    return order_refusal(ctx, "cancel_order", TACK_ENOTSUP);
  return order_refusal(ctx, "cancel_order", tack_runtime_cancel_order(ctx->rt, ctx, client_id));
}

static int svc_timer_start(tack_ctx *ctx, uint64_t after_ns, uint64_t repeat_ns, tack_timer_cb cb,
                           void *user, uint64_t *timer_id) {
  if (!ctx || !cb)
    return TACK_EINVAL;
  if (!ctx->rt) {
    tack_log(TACK_LOG_ERROR, ctx->name, "timer_start: no event loop outside a run (TACK_ESTATE)");
    return TACK_ESTATE;
  }
  if (ctx->state != ST_STARTING && ctx->state != ST_STARTED)
    return wrong_state(ctx, "timer_start");
  instance_timer *t = tack_calloc(NULL, 1, sizeof *t);
  if (!t)
    return TACK_ENOMEM;
  int rc = uv_timer_init(tack_runtime_loop(ctx->rt), &t->handle);
  if (rc != 0) {
    tack_log(TACK_LOG_ERROR, ctx->name, "timer_start: %s", uv_strerror(rc));
    tack_free(NULL, t);
    return TACK_EIO;
  }
  t->ctx = ctx;
  t->id = ctx->next_timer_id++;
  t->cb = cb;
  t->user = user;
  t->repeat = repeat_ns != 0;
  uint64_t repeat_ms = repeat_ns ? ns_to_ms_ceil(repeat_ns) : 0;
  uv_timer_start(&t->handle, timer_fired, ns_to_ms_ceil(after_ns), repeat_ms);
  t->next = ctx->timers;
  ctx->timers = t;
  if (timer_id)
    *timer_id = t->id;
  return 0;
}

static int svc_timer_stop(tack_ctx *ctx, uint64_t timer_id) {
  if (!ctx)
    return TACK_EINVAL;
  for (instance_timer *t = ctx->timers; t; t = t->next) {
    if (t->id == timer_id) {
      timer_unlink(ctx, t);
      timer_close(t);
      return 0;
    }
  }
  return TACK_ENOENT;
}

static void *svc_alloc(tack_ctx *ctx, size_t size) {
  return ctx ? tack_alloc(&ctx->mem, size) : NULL;
}

static void *svc_realloc(tack_ctx *ctx, void *ptr, size_t size) {
  return ctx ? tack_realloc(&ctx->mem, ptr, size) : NULL;
}

static void svc_free(tack_ctx *ctx, void *ptr) {
  if (ctx)
    tack_free(&ctx->mem, ptr);
}

static const char *svc_strerror(int err) { return tack_strerror(err); }

static const void *svc_get_extension(tack_ctx *ctx, const char *id) {
  if (!ctx || !id)
    return NULL;
  if (strcmp(id, TACK_EXT_LOOP) == 0)
    return ctx->ext_loop.loop ? &ctx->ext_loop : NULL;
  return NULL;
}

/* Exchange services: only an exchange, only while it runs (stop() may still
 * report the connection going down). */
static int ex_gate(tack_ctx *ctx, const char *call) {
  if (!ctx)
    return TACK_EINVAL;
  if (ctx->desc->kind != TACK_KIND_EXCHANGE) {
    tack_log(TACK_LOG_ERROR, ctx->name,
             "%s: only exchange adapters report venue data; plugin %s is not one (TACK_EPERM)",
             call, ctx->desc->id);
    return TACK_EPERM;
  }
  if (!ctx->rt ||
      (ctx->state != ST_STARTING && ctx->state != ST_STARTED && ctx->state != ST_STOPPING))
    return wrong_state(ctx, call);
  return 0;
}

static int svc_ex_connection(tack_ctx *ctx, uint32_t state, const char *detail) {
  int rc = ex_gate(ctx, "ex_connection");
  if (rc != 0)
    return rc;
  return tack_runtime_ex_connection(ctx->rt, ctx, state, detail);
}

static int ex_event(tack_ctx *ctx, const char *call, const void *arg, int ev) {
  int rc = ex_gate(ctx, call);
  if (rc != 0)
    return rc;
  if (!arg)
    return TACK_EINVAL;
  return tack_runtime_ex_event(ctx->rt, ctx, ev);
}

static int svc_ex_instrument(tack_ctx *ctx, const tack_instrument *instr) {
  int rc = ex_gate(ctx, "ex_instrument");
  if (rc != 0)
    return rc;
  return instr ? tack_runtime_ex_instrument(ctx->rt, ctx, instr) : TACK_EINVAL;
}

static int svc_ex_bar(tack_ctx *ctx, const char *symbol, const tack_bar *bar) {
  int rc = ex_gate(ctx, "ex_bar");
  if (rc != 0)
    return rc;
  if (!symbol || !bar)
    return TACK_EINVAL;
  return tack_runtime_ex_bar(ctx->rt, ctx, symbol, bar);
}

static int svc_ex_trade(tack_ctx *ctx, const char *symbol, const tack_trade *trade) {
  int rc = ex_gate(ctx, "ex_trade");
  if (rc != 0)
    return rc;
  if (!symbol || !trade)
    return TACK_EINVAL;
  return tack_runtime_ex_trade(ctx->rt, ctx, symbol, trade);
}

static int svc_ex_quote(tack_ctx *ctx, const char *symbol, const tack_quote *quote) {
  return ex_event(ctx, "ex_quote", symbol && quote ? quote : NULL, TACK_RT_EV_QUOTE);
}

static int svc_ex_book(tack_ctx *ctx, const char *symbol, const tack_book_level *levels, uint32_t n,
                       uint32_t flags, tack_time ts) {
  (void)flags;
  (void)ts;
  return ex_event(ctx, "ex_book", symbol && (levels || n == 0) ? symbol : NULL, TACK_RT_EV_BOOK);
}

static int svc_ex_order_update(tack_ctx *ctx, const tack_order_update *update) {
  int rc = ex_gate(ctx, "ex_order_update");
  if (rc != 0)
    return rc;
  return update ? tack_runtime_ex_order_update(ctx->rt, ctx, update) : TACK_EINVAL;
}

static int svc_ex_fill(tack_ctx *ctx, const tack_fill *fill) {
  int rc = ex_gate(ctx, "ex_fill");
  if (rc != 0)
    return rc;
  if (!fill)
    return TACK_EINVAL;
  return tack_runtime_ex_fill(ctx->rt, ctx, fill);
}

static int svc_ex_balance(tack_ctx *ctx, const tack_balance *balance) {
  int rc = ex_gate(ctx, "ex_balance");
  if (rc != 0)
    return rc;
  return balance ? tack_runtime_ex_balance(ctx->rt, ctx, balance) : TACK_EINVAL;
}

static int svc_ex_position(tack_ctx *ctx, const tack_position *position) {
  int rc = ex_gate(ctx, "ex_position");
  if (rc != 0)
    return rc;
  if (!position)
    return TACK_EINVAL;
  return tack_runtime_ex_position(ctx->rt, ctx, position);
}

static int svc_ex_done(tack_ctx *ctx, uint64_t req, int status, const char *detail) {
  int rc = ex_gate(ctx, "ex_done");
  if (rc != 0)
    return rc;
  if (status != 0)
    tack_log(TACK_LOG_WARN, ctx->name, "request %llu failed: %s (%s)%s%s", (unsigned long long)req,
             tack_strerror(status), tack_err_name(status), detail ? ": " : "",
             detail ? detail : "");
  return tack_runtime_ex_done(ctx->rt, ctx, req, status);
}

static int svc_ex_error(tack_ctx *ctx, const char *type, int err, const char *detail) {
  int rc = ex_gate(ctx, "ex_error");
  if (rc != 0)
    return rc;
  tack_log(TACK_LOG_WARN, ctx->name, "venue message %s not used: %s (%s)%s%s",
           type ? type : "(unnamed)", tack_strerror(err), tack_err_name(err), detail ? ": " : "",
           detail ? detail : "");
  return tack_runtime_ex_event(ctx->rt, ctx, TACK_RT_EV_ERROR);
}

/* Candle services: any kind, any state, as long as the host runs with a
 * store. The candles handle is opened once per instance, at the first call,
 * and closed with the instance (before the runtime closes its store). */
static int candles_gate(tack_ctx *ctx, const char *symbol) {
  if (!ctx)
    return TACK_EINVAL;
  tack_store *st = ctx->rt ? tack_runtime_store(ctx->rt) : NULL;
  if (!st)
    return TACK_ESTATE;
  if (tack_candles_symbol_check(symbol) != 0)
    return TACK_EINVAL;
  return ctx->candles ? 0 : tack_candles_open(st, &ctx->candles);
}

static int svc_candles_info(tack_ctx *ctx, const char *symbol, uint32_t timeframe_s,
                            uint64_t *count, tack_time *first, tack_time *last) {
  int rc = candles_gate(ctx, symbol);
  if (rc != 0)
    return rc;
  return tack_candles_info(ctx->candles, symbol, timeframe_s, count, first, last);
}

static int svc_candles_open(tack_ctx *ctx, const char *symbol, uint32_t timeframe_s, tack_time from,
                            tack_time to, uint64_t *read_id) {
  char a[48] = "", b[48] = "";
  if (read_id)
    *read_id = 0;
  if (!read_id || timeframe_s == 0)
    return TACK_EINVAL;
  int rc = candles_gate(ctx, symbol);
  if (rc == 0)
    rc = tack_candles_info(ctx->candles, symbol, timeframe_s, NULL, NULL, NULL);
  if (rc != 0)
    return rc;
  candle_read *r = tack_calloc(NULL, 1, sizeof *r);
  if (!r)
    return TACK_ENOMEM;
  r->id = ctx->next_read_id++;
  tack_copy_text(r->symbol, sizeof r->symbol, symbol);
  r->timeframe_s = timeframe_s;
  r->from = from;
  r->to = to;
  r->next = ctx->reads;
  ctx->reads = r;
  *read_id = r->id;
  if (tack_log_level() >= TACK_LOG_DEBUG) {
    if (from != INT64_MIN)
      tack_utc_format(from, a, sizeof a);
    if (to != INT64_MAX)
      tack_utc_format(to, b, sizeof b);
    tack_log(TACK_LOG_DEBUG, ctx->name, "candles of %s at %lu s from %s to %s: read %llu of %s",
             symbol, (unsigned long)timeframe_s, from == INT64_MIN ? "the first" : a,
             to == INT64_MAX ? "the last" : b, (unsigned long long)r->id,
             tack_store_path(tack_runtime_store(ctx->rt)));
  }
  return 0;
}

static candle_read *find_read(tack_ctx *ctx, uint64_t read_id) {
  for (candle_read *r = ctx->reads; r; r = r->next)
    if (r->id == read_id)
      return r;
  return NULL;
}

static int svc_candles_next(tack_ctx *ctx, uint64_t read_id, tack_bar *bars, size_t cap,
                            size_t *n) {
  if (n)
    *n = 0;
  if (!ctx || !n || (cap && !bars))
    return TACK_EINVAL;
  candle_read *r = find_read(ctx, read_id);
  if (!r)
    return TACK_EINVAL;
  if (r->from >= r->to || cap == 0)
    return 0;
  int rc = candles_gate(ctx, r->symbol);
  if (rc == 0)
    rc = tack_candles_read_page(ctx->candles, r->symbol, r->timeframe_s, r->from, r->to, bars, cap,
                                n);
  if (rc != 0 || *n == 0)
    return rc;
  /* The next page starts one past the last candle (a time of INT64_MAX
   * ends the range: nothing comes after it). */
  tack_time last = bars[*n - 1].ts;
  r->from = last == INT64_MAX ? r->to : last + 1;
  return 0;
}

static void svc_candles_close(tack_ctx *ctx, uint64_t read_id) {
  if (!ctx)
    return;
  for (candle_read **p = &ctx->reads; *p; p = &(*p)->next) {
    if ((*p)->id == read_id) {
      candle_read *r = *p;
      *p = r->next;
      tack_free(NULL, r);
      return;
    }
  }
}

const tack_host tack_host_services = {
    .size = (uint32_t)sizeof(tack_host),
    .abi_major = TACK_ABI_MAJOR,
    .abi_minor = TACK_ABI_MINOR,
    .host_version = "tack " TACK_VERSION,
    .log = svc_log,
    .now = svc_now,
    .param_int = svc_param_int,
    .param_double = svc_param_double,
    .param_bool = svc_param_bool,
    .param_string = svc_param_string,
    .param_error = svc_param_error,
    .kv_get = svc_kv_get,
    .kv_put = svc_kv_put,
    .kv_del = svc_kv_del,
    .emit_signal = svc_emit_signal,
    .submit_order = svc_submit_order,
    .cancel_order = svc_cancel_order,
    .timer_start = svc_timer_start,
    .timer_stop = svc_timer_stop,
    .alloc = svc_alloc,
    .realloc = svc_realloc,
    .free = svc_free,
    .strerror = svc_strerror,
    .get_extension = svc_get_extension,
    .ex_connection = svc_ex_connection,
    .ex_instrument = svc_ex_instrument,
    .ex_bar = svc_ex_bar,
    .ex_trade = svc_ex_trade,
    .ex_quote = svc_ex_quote,
    .ex_book = svc_ex_book,
    .ex_order_update = svc_ex_order_update,
    .ex_fill = svc_ex_fill,
    .ex_balance = svc_ex_balance,
    .ex_position = svc_ex_position,
    .ex_done = svc_ex_done,
    .ex_error = svc_ex_error,
    .ind_open = tack_indicator_service_open,
    .ind_reset = tack_indicator_service_reset,
    .ind_close = tack_indicator_service_close,
    .candles_info = svc_candles_info,
    .candles_open = svc_candles_open,
    .candles_next = svc_candles_next,
    .candles_close = svc_candles_close,
};
