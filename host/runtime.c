/*
 * runtime.c: the running host; see runtime.h for the model.
 *
 * Work that must not run inside a plugin's own call (subscribing when an
 * exchange reports TACK_CONN_UP, stopping when the data ends) is deferred to
 * the next loop iteration through one zero-delay timer, so that a plugin is
 * never re-entered from a service it called, nor destroyed under its own
 * stack. The bar path (ex_bar -> filters -> strategy) runs straight through
 * within the exchange's call, with preallocated buffers.
 */
#include "runtime.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "instance.h"
#include "log.h"

/* Bars one filter may produce from one input (Renko bricks of a big move). */
#define RT_FILTER_CAP 64

enum { PHASE_IDLE, PHASE_RUNNING, PHASE_STOP_REQUESTED, PHASE_STOPPED, PHASE_CLOSED };

typedef struct rt_symbol rt_symbol;

typedef struct rt_exchange {
  tack_ctx *ctx;
  char *name; /* the instance's, kept for the summary */
  tack_exchange_caps caps;
  uint32_t conn;     /* last TACK_CONN_* reported */
  int subscribe_due; /* first TACK_CONN_UP seen, subscriptions not yet made */
  int subscribed;
  rt_symbol **syms; /* sorted by symbol name once running */
  size_t n_syms;
  uint64_t events[TACK_RT_EV_COUNT];
  uint64_t unrouted; /* bars for symbols nobody subscribed */
} rt_exchange;

struct rt_symbol {
  char *symbol;
  rt_exchange *ex;
  uint32_t timeframe_s;
  tack_ctx **filters;
  size_t n_filters;
  tack_ctx *strategy;
  tack_bar *buf; /* n_filters * RT_FILTER_CAP output bars */
  uint64_t bars;
  uint64_t signals;
  uint64_t errors;
  int has_signal;
  tack_signal last;
};

/* What an instance used, kept for the summary after it is gone. */
typedef struct rt_memory {
  char *name;
  const char *plugin_id; /* static in the plugin, valid while it is loaded */
  tack_alloc_acct acct;
} rt_memory;

struct tack_runtime {
  uv_loop_t loop;
  int loop_ready;
  tack_store *store;
  char *bot;
  tack_time last_now;
  uint64_t run_for_ms;
  int handle_signals;

  rt_exchange **ex;
  size_t n_ex;
  rt_symbol **sym;
  size_t n_sym;
  rt_memory *mem;
  size_t n_mem, cap_mem;

  int phase;
  int handles_open;
  int error; /* the first error of the run */
  char stop_reason[160];
  uv_timer_t work;
  uv_timer_t for_timer;
  uv_signal_t sigint;
  uv_signal_t sigterm;
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

/* arr resized to hold n + 1 elements, or NULL (arr is then untouched). */
static void *grow(void *arr, size_t n, size_t elem) {
  return tack_realloc(NULL, arr, (n + 1) * elem);
}

static const char *tf_text(uint32_t s, char *buf, size_t cap) {
  tack_timeframe_format(s, buf, cap);
  return buf;
}

static rt_exchange *find_exchange(const tack_runtime *rt, const tack_ctx *ctx) {
  rt_exchange *ex = tack_instance_route(ctx);
  for (size_t i = 0; i < rt->n_ex; i++)
    if (rt->ex[i] == ex)
      return ex;
  return NULL;
}

int tack_signal_normalize(tack_signal *sig) {
  if (!isfinite(sig->strength) || !isfinite(sig->confidence))
    return TACK_EINVAL;
  if (sig->strength > 1.0)
    sig->strength = 1.0;
  else if (sig->strength < -1.0)
    sig->strength = -1.0;
  if (sig->confidence > 1.0)
    sig->confidence = 1.0;
  else if (sig->confidence < 0.0)
    sig->confidence = 0.0;
  sig->reason[TACK_REASON_MAX - 1] = '\0';
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Creation                                                                  */
/* ------------------------------------------------------------------------ */

int tack_runtime_new(const tack_runtime_opts *opts, tack_runtime **out) {
  int rc;
  tack_runtime *rt = tack_calloc(NULL, 1, sizeof *rt);
  *out = NULL;
  if (!rt)
    return TACK_ENOMEM;
  rt->bot = tack_strdup(NULL, opts && opts->bot ? opts->bot : "tack");
  if (!rt->bot) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  rt->run_for_ms = opts ? opts->run_for_ms : 0;
  rt->handle_signals = opts ? opts->handle_signals : 0;
  rc = uv_loop_init(&rt->loop);
  if (rc != 0) {
    tack_log_error("cannot make the event loop: %s", uv_strerror(rc));
    rc = TACK_EIO;
    goto fail;
  }
  rt->loop_ready = 1;
  if (opts && opts->store_path) {
    rc = tack_store_open(opts->store_path, opts->store_map_size, &rt->store);
    if (rc != 0)
      goto fail;
    tack_log_info("store %s open (bot %s)", opts->store_path, rt->bot);
  }
  *out = rt;
  return 0;

fail:
  tack_runtime_free(rt);
  return rc;
}

int tack_runtime_add_exchange(tack_runtime *rt, tack_ctx *exchange) {
  rt_exchange *ex = NULL;
  int rc;
  if (tack_instance_desc(exchange)->kind != TACK_KIND_EXCHANGE) {
    tack_log_error("%s is not an exchange adapter", tack_instance_name(exchange));
    rc = TACK_EINVAL;
    goto fail;
  }
  if (rt->phase != PHASE_IDLE) {
    rc = TACK_ESTATE;
    goto fail;
  }
  ex = tack_calloc(NULL, 1, sizeof *ex);
  rt_exchange **exs = ex ? grow(rt->ex, rt->n_ex, sizeof *rt->ex) : NULL;
  if (!exs) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  rt->ex = exs;
  ex->ctx = exchange;
  ex->name = tack_strdup(NULL, tack_instance_name(exchange));
  if (!ex->name) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  rc = tack_instance_exchange_caps(exchange, &ex->caps);
  if (rc != 0) {
    tack_log_error("%s: caps failed: %s (%s)", tack_instance_name(exchange), tack_strerror(rc),
                   tack_err_name(rc));
    goto fail;
  }
  tack_instance_set_route(exchange, ex);
  rt->ex[rt->n_ex++] = ex;
  return 0;

fail:
  if (ex)
    tack_free(NULL, ex->name);
  tack_free(NULL, ex);
  tack_instance_free(exchange);
  return rc;
}

static int streams_timeframe(const rt_exchange *ex, uint32_t tf) {
  for (size_t i = 0; i < sizeof ex->caps.bar_timeframes / sizeof ex->caps.bar_timeframes[0]; i++) {
    if (ex->caps.bar_timeframes[i] == 0)
      break;
    if (ex->caps.bar_timeframes[i] == tf)
      return 1;
  }
  return 0;
}

static void list_timeframes(const rt_exchange *ex, char *buf, size_t cap) {
  size_t at = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof ex->caps.bar_timeframes / sizeof ex->caps.bar_timeframes[0]; i++) {
    char one[16];
    if (ex->caps.bar_timeframes[i] == 0)
      break;
    tack_timeframe_format(ex->caps.bar_timeframes[i], one, sizeof one);
    int n = snprintf(buf + at, cap - at, "%s%s", at ? ", " : "", one);
    if (n < 0 || (size_t)n >= cap - at)
      break;
    at += (size_t)n;
  }
  if (at == 0)
    tack_copy_text(buf, cap, "none");
}

static void symbol_free(rt_symbol *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n_filters; i++)
    if (s->filters[i])
      tack_instance_free(s->filters[i]);
  if (s->strategy)
    tack_instance_free(s->strategy);
  tack_free(NULL, s->filters);
  tack_free(NULL, s->buf);
  tack_free(NULL, s->symbol);
  tack_free(NULL, s);
}

int tack_runtime_add_symbol(tack_runtime *rt, const tack_runtime_symbol_spec *spec, tack_diag *d) {
  int rc = 0;
  char tf[16], have[160];
  rt_exchange *ex = spec->exchange ? find_exchange(rt, spec->exchange) : NULL;
  rt_symbol *s = tack_calloc(NULL, 1, sizeof *s);
  if (s) {
    /* Owned from here on, whatever happens next. */
    s->strategy = spec->strategy;
    s->filters = tack_calloc(NULL, spec->n_filters ? spec->n_filters : 1, sizeof *s->filters);
    if (s->filters) {
      s->n_filters = spec->n_filters;
      for (size_t i = 0; i < spec->n_filters; i++)
        s->filters[i] = spec->filters[i];
    }
  }
  if (!s || !s->filters) {
    if (s)
      s->strategy = NULL;
    symbol_free(s);
    if (spec->strategy)
      tack_instance_free(spec->strategy);
    for (size_t i = 0; i < spec->n_filters; i++)
      if (spec->filters[i])
        tack_instance_free(spec->filters[i]);
    tack_diag_add(d, spec->file, spec->line, NULL, "%s: out of memory", spec->symbol);
    return TACK_ENOMEM;
  }

  s->ex = ex;
  s->timeframe_s = spec->timeframe_s;
  s->symbol = tack_strdup(NULL, spec->symbol ? spec->symbol : "");
  if (spec->n_filters)
    s->buf = tack_calloc(NULL, spec->n_filters * RT_FILTER_CAP, sizeof *s->buf);
  if (!s->symbol || (spec->n_filters && !s->buf)) {
    tack_diag_add(d, spec->file, spec->line, NULL, "%s: out of memory", spec->symbol);
    rc = TACK_ENOMEM;
    goto fail;
  }
  if (!spec->symbol || !*spec->symbol || strlen(spec->symbol) >= TACK_SYMBOL_MAX) {
    tack_diag_add(d, spec->file, spec->line, NULL, "symbol '%s' must be 1 to %d characters",
                  s->symbol, TACK_SYMBOL_MAX - 1);
    rc = TACK_EINVAL;
    goto fail;
  }
  if (rt->phase != PHASE_IDLE) {
    rc = TACK_ESTATE;
    goto fail;
  }
  if (!ex || !s->strategy || tack_instance_desc(s->strategy)->kind != TACK_KIND_STRATEGY) {
    tack_diag_add(d, spec->file, spec->line, NULL,
                  "%s: needs an exchange added to the runtime and a strategy instance", s->symbol);
    rc = TACK_EINVAL;
    goto fail;
  }
  for (size_t i = 0; i < s->n_filters; i++) {
    if (!s->filters[i] || tack_instance_desc(s->filters[i])->kind != TACK_KIND_FILTER) {
      tack_diag_add(d, spec->file, spec->line, NULL, "%s: filter %zu is not a filter instance",
                    s->symbol, i + 1);
      rc = TACK_EINVAL;
      goto fail;
    }
  }
  for (size_t i = 0; i < ex->n_syms; i++) {
    if (strcmp(ex->syms[i]->symbol, s->symbol) == 0) {
      tack_diag_add(d, spec->file, spec->line, NULL, "%s appears twice on %s", s->symbol,
                    tack_instance_name(ex->ctx));
      rc = TACK_EEXIST;
      goto fail;
    }
  }
  if (!streams_timeframe(ex, s->timeframe_s)) {
    list_timeframes(ex, have, sizeof have);
    tack_diag_add(d, spec->file, spec->line, NULL,
                  "%s: strategy %s needs %s bars, but %s (plugin %s) streams only %s; building "
                  "bars of another timeframe is not available in this version: give the "
                  "strategy one of those timeframes",
                  s->symbol, tack_instance_name(s->strategy),
                  tf_text(s->timeframe_s, tf, sizeof tf), tack_instance_name(ex->ctx),
                  tack_instance_desc(ex->ctx)->id, have);
    rc = TACK_ENOTSUP;
    goto fail;
  }
  rt_symbol **all = grow(rt->sym, rt->n_sym, sizeof *rt->sym);
  if (all)
    rt->sym = all;
  rt_symbol **mine = all ? grow(ex->syms, ex->n_syms, sizeof *ex->syms) : NULL;
  if (mine)
    ex->syms = mine;
  if (!mine) {
    tack_diag_add(d, spec->file, spec->line, NULL, "%s: out of memory", s->symbol);
    rc = TACK_ENOMEM;
    goto fail;
  }
  tack_instance_set_route(s->strategy, s);
  for (size_t i = 0; i < s->n_filters; i++)
    tack_instance_set_route(s->filters[i], s);
  rt->sym[rt->n_sym++] = s;
  ex->syms[ex->n_syms++] = s;
  return 0;

fail:
  symbol_free(s);
  return rc;
}

/* The exchange made from config instance ci, or NULL. */
static rt_exchange *exchange_for(tack_runtime *rt, const tack_cfg_instance *ci) {
  for (size_t i = 0; i < rt->n_ex; i++)
    if (tack_instance_config(rt->ex[i]->ctx) == ci)
      return rt->ex[i];
  return NULL;
}

/* Config instances that already failed, so that a strategy or exchange
 * shared by several symbols is reported once, not once per symbol. */
typedef struct failed_set {
  const tack_cfg_instance **items;
  size_t n;
} failed_set;

static int failed_has(const failed_set *fs, const tack_cfg_instance *ci) {
  for (size_t i = 0; i < fs->n; i++)
    if (fs->items[i] == ci)
      return 1;
  return 0;
}

static void failed_add(failed_set *fs, const tack_cfg_instance *ci) {
  const tack_cfg_instance **items = grow(fs->items, fs->n, sizeof *fs->items);
  if (!items)
    return; /* the instance may then be reported twice */
  fs->items = items;
  fs->items[fs->n++] = ci;
}

static int make_instance(tack_runtime *rt, const tack_cfg_instance *ci, const char *scope,
                         failed_set *fs, tack_diag *d, tack_ctx **out) {
  *out = NULL;
  if (failed_has(fs, ci))
    return TACK_ECONFIG;
  int rc = tack_instance_new_scoped(ci, scope, rt, d, out);
  if (rc != 0)
    failed_add(fs, ci);
  return rc;
}

/* The exchange, strategy and filters of one enabled symbol. */
static int build_symbol(tack_runtime *rt, const tack_cfg_symbol *cs, failed_set *fs, tack_diag *d) {
  const tack_cfg_strategy *st = cs->strategy;
  tack_ctx *strategy = NULL;
  tack_ctx **filters = NULL;
  size_t made = 0;
  int rc = 0;

  rt_exchange *ex = exchange_for(rt, cs->exchange);
  if (!ex) {
    tack_ctx *ctx;
    rc = make_instance(rt, cs->exchange, NULL, fs, d, &ctx);
    if (rc == 0) {
      rc = tack_runtime_add_exchange(rt, ctx);
      if (rc != 0) {
        failed_add(fs, cs->exchange);
        tack_diag_add(d, cs->exchange->file, cs->exchange->line, NULL,
                      "exchange %s cannot be used: %s (%s)", cs->exchange->name, tack_strerror(rc),
                      tack_err_name(rc));
      }
    }
    ex = exchange_for(rt, cs->exchange);
  }

  filters = tack_calloc(NULL, st->n_filters ? st->n_filters : 1, sizeof *filters);
  if (!filters) {
    tack_diag_add(d, cs->file, cs->line, NULL, "%s: out of memory", cs->symbol);
    rc = TACK_ENOMEM;
    goto fail;
  }
  /* Every instance is tried, so that one run reports every problem. */
  int src = make_instance(rt, &st->inst, cs->symbol, fs, d, &strategy);
  for (; made < st->n_filters; made++) {
    int frc = make_instance(rt, st->filters[made], cs->symbol, fs, d, &filters[made]);
    if (frc != 0) {
      src = src ? src : frc;
      break;
    }
  }
  rc = rc ? rc : src;
  if (rc != 0 || !ex) {
    rc = rc ? rc : TACK_ECONFIG;
    goto fail;
  }
  tack_runtime_symbol_spec spec = {cs->symbol,    ex->ctx,  st->timeframe_s, filters,
                                   st->n_filters, strategy, cs->file,        cs->line};
  rc = tack_runtime_add_symbol(rt, &spec, d); /* owns the instances now */
  tack_free(NULL, filters);
  return rc;

fail:
  if (strategy)
    tack_instance_free(strategy);
  for (size_t f = 0; f < made; f++)
    tack_instance_free(filters[f]);
  tack_free(NULL, filters);
  return rc;
}

int tack_runtime_build(tack_runtime *rt, const tack_config *cfg, tack_diag *d) {
  failed_set fs = {NULL, 0};
  int first = 0;
  size_t enabled = 0;
  for (size_t i = 0; i < cfg->n_symbols; i++) {
    if (!cfg->symbols[i].enabled)
      continue;
    enabled++;
    int rc = build_symbol(rt, &cfg->symbols[i], &fs, d);
    if (rc != 0 && first == 0)
      first = rc;
  }
  tack_free(NULL, fs.items);
  if (enabled == 0 && first == 0) {
    tack_diag_add(d, cfg->path, 0, NULL,
                  "no symbol is enabled: nothing to run (set enabled = true on a symbol)");
    first = TACK_ECONFIG;
  }
  return first;
}

/* ------------------------------------------------------------------------ */
/* The pipeline                                                              */
/* ------------------------------------------------------------------------ */

static void record_signal(tack_runtime *rt, rt_symbol *s, tack_signal *sig, tack_time ts,
                          const char *from) {
  if (tack_signal_normalize(sig) != 0) {
    s->errors++;
    tack_log(TACK_LOG_ERROR, from, "%s: signal refused: strength %g, confidence %g must be finite",
             s->symbol, sig->strength, sig->confidence);
    return;
  }
  if (sig->ts == 0)
    sig->ts = ts ? ts : tack_runtime_now(rt);
  s->last = *sig;
  s->has_signal = 1;
  s->signals++;
  tack_log(TACK_LOG_INFO, NULL, "%s signal %+.2f (conf %.2f)%s%s", s->symbol, sig->strength,
           sig->confidence, sig->reason[0] ? " " : "", sig->reason);
}

static void to_strategy(tack_runtime *rt, rt_symbol *s, const tack_bar *bar) {
  tack_signal sig;
  memset(&sig, 0, sizeof sig);
  int rc = tack_instance_strategy_on_bar(s->strategy, bar, &sig);
  if (rc == 1) {
    record_signal(rt, s, &sig, bar->ts, tack_instance_name(s->strategy));
  } else if (rc != 0) {
    s->errors++;
    tack_log(TACK_LOG_ERROR, tack_instance_name(s->strategy), "%s: on_bar failed: %s (%s)",
             s->symbol, tack_strerror(rc), tack_err_name(rc));
  }
}

/* Filters run in order; a filter may turn one bar into several, each of
 * which goes through the rest of the chain. Stage k writes only its own
 * slice of the buffer, so deeper stages never overwrite what it iterates. */
static void feed(tack_runtime *rt, rt_symbol *s, size_t stage, const tack_bar *bar) {
  if (stage == s->n_filters) {
    to_strategy(rt, s, bar);
    return;
  }
  tack_bar *out = s->buf + stage * RT_FILTER_CAP;
  uint32_t n = 0;
  int rc = tack_instance_filter_update(s->filters[stage], bar, out, RT_FILTER_CAP, &n);
  if (rc != 0) {
    s->errors++;
    if (rc == TACK_ENOSPC)
      tack_log(TACK_LOG_ERROR, tack_instance_name(s->filters[stage]),
               "%s: update would make more than %d bars from one; the bar was dropped", s->symbol,
               RT_FILTER_CAP);
    else
      tack_log(TACK_LOG_ERROR, tack_instance_name(s->filters[stage]), "%s: update failed: %s (%s)",
               s->symbol, tack_strerror(rc), tack_err_name(rc));
    return;
  }
  if (n > RT_FILTER_CAP)
    n = RT_FILTER_CAP;
  for (uint32_t i = 0; i < n; i++)
    feed(rt, s, stage + 1, &out[i]);
}

static int cmp_symbol(const void *a, const void *b) {
  const rt_symbol *x = *(rt_symbol *const *)a, *y = *(rt_symbol *const *)b;
  return strcmp(x->symbol, y->symbol);
}

static int cmp_symbol_key(const void *key, const void *elem) {
  return strcmp(key, (*(rt_symbol *const *)elem)->symbol);
}

int tack_runtime_ex_bar(tack_runtime *rt, tack_ctx *exc, const char *symbol, const tack_bar *bar) {
  rt_exchange *ex = tack_instance_route(exc);
  if (!ex)
    return TACK_ESTATE; /* an exchange outside the pipeline */
  if (rt->phase != PHASE_RUNNING) {
    if (rt->phase == PHASE_IDLE)
      return TACK_ESTATE;
    /* Stopping: the consumers are already stopped. */
    tack_log(TACK_LOG_DEBUG, tack_instance_name(exc), "%s bar after the stop began: not passed on",
             symbol);
    return TACK_ECLOSED;
  }
  rt_symbol **hit =
      ex->n_syms ? bsearch(symbol, ex->syms, ex->n_syms, sizeof *ex->syms, cmp_symbol_key) : NULL;
  if (!hit) {
    if (ex->unrouted++ == 0)
      tack_log(TACK_LOG_WARN, tack_instance_name(exc),
               "bar for %s, which no enabled symbol subscribed: ignored (counted in the "
               "summary)",
               symbol);
    return TACK_ENOENT;
  }
  rt_symbol *s = *hit;
  if (!isfinite(bar->open) || !isfinite(bar->high) || !isfinite(bar->low) ||
      !isfinite(bar->close) || !isfinite(bar->volume)) {
    s->errors++;
    tack_log(TACK_LOG_ERROR, tack_instance_name(exc),
             "%s: bar at %lld has a non-finite value: refused", symbol, (long long)bar->ts);
    return TACK_EINVAL;
  }
  if (bar->timeframe_s != s->timeframe_s) {
    char got[16], want[16];
    s->errors++;
    tack_log(TACK_LOG_ERROR, tack_instance_name(exc), "%s: %s bar where %s was subscribed: refused",
             symbol, tf_text(bar->timeframe_s, got, sizeof got),
             tf_text(s->timeframe_s, want, sizeof want));
    return TACK_EINVAL;
  }
  s->bars++;
  feed(rt, s, 0, bar);
  return 0;
}

int tack_runtime_emit_signal(tack_runtime *rt, tack_ctx *ctx, const tack_signal *sig) {
  rt_symbol *s = tack_instance_route(ctx);
  if (!s || s->strategy != ctx) {
    tack_log(TACK_LOG_WARN, tack_instance_name(ctx),
             "emit_signal: this instance feeds no symbol; signal %+.2f dropped (TACK_ENOTSUP)",
             sig->strength);
    return TACK_ENOTSUP;
  }
  if (rt->phase != PHASE_RUNNING)
    return TACK_ESTATE;
  tack_signal copy = *sig;
  record_signal(rt, s, &copy, 0, tack_instance_name(ctx));
  return 0;
}

int tack_runtime_ex_event(tack_runtime *rt, tack_ctx *exc, int ev) {
  (void)rt;
  rt_exchange *ex = tack_instance_route(exc);
  if (!ex || ev < 0 || ev >= TACK_RT_EV_COUNT)
    return TACK_EINVAL;
  ex->events[ev]++;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Running and stopping                                                      */
/* ------------------------------------------------------------------------ */

/* Runs in signal context (only async-signal-safe calls): during a stop the
 * loop may be blocked in a plugin's stop(), so a libuv signal callback
 * could come too late for "at once". */
static void interrupt_while_stopping(int signum) {
  static const char msg[] = "tack: interrupt while stopping: exiting at once, without finishing "
                            "the orderly stop\n";
  (void)signum;
  ssize_t written = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)written; /* exiting either way */
  _exit(TACK_EXIT_FAIL);
}

static void set_sigint(void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
}

static void work_cb(uv_timer_t *h);

static void schedule_work(tack_runtime *rt) {
  if (rt->handles_open)
    uv_timer_start(&rt->work, work_cb, 0, 0);
}

void tack_runtime_request_stop(tack_runtime *rt, const char *why, int error) {
  if (rt->phase != PHASE_RUNNING && rt->phase != PHASE_IDLE)
    return;
  rt->phase = PHASE_STOP_REQUESTED;
  if (error && rt->error == 0)
    rt->error = TACK_EPLUGIN;
  tack_copy_text(rt->stop_reason, sizeof rt->stop_reason, why);
  tack_log(error ? TACK_LOG_ERROR : TACK_LOG_INFO, NULL, "stopping: %s", why);
  if (rt->handle_signals && rt->handles_open) {
    /* libuv gives SIGINT back (SIG_DFL) when its watcher stops. */
    uv_signal_stop(&rt->sigint);
    set_sigint(interrupt_while_stopping);
  }
  schedule_work(rt);
}

static void subscribe_all(rt_exchange *ex) {
  ex->subscribe_due = 0;
  ex->subscribed = 1;
  for (size_t i = 0; i < ex->n_syms; i++) {
    rt_symbol *s = ex->syms[i];
    tack_subscription sub;
    char tf[16];
    memset(&sub, 0, sizeof sub);
    tack_copy_text(sub.symbol, sizeof sub.symbol, s->symbol);
    sub.channel = TACK_SUB_BARS;
    sub.timeframe_s = s->timeframe_s;
    int rc = tack_instance_exchange_subscribe(ex->ctx, &sub);
    if (rc != 0) {
      s->errors++;
      tack_log(TACK_LOG_ERROR, tack_instance_name(ex->ctx),
               "subscribing %s %s bars failed: %s (%s); the symbol gets no data", s->symbol,
               tf_text(s->timeframe_s, tf, sizeof tf), tack_strerror(rc), tack_err_name(rc));
    } else {
      tack_log(TACK_LOG_INFO, tack_instance_name(ex->ctx), "subscribed %s %s bars", s->symbol,
               tf_text(s->timeframe_s, tf, sizeof tf));
    }
  }
}

/* Step 1 of a stop: strategies and their filters first, so that no new
 * signal arises, while the exchanges are still connected to act on what
 * the strategies leave behind (the trader of a later version flattens
 * through them); bars that arrive meanwhile are not passed on. Then the
 * exchanges. */
static void stop_instances(tack_runtime *rt) {
  for (size_t i = 0; i < rt->n_sym; i++) {
    rt_symbol *s = rt->sym[i];
    if (tack_instance_started(s->strategy))
      tack_instance_stop(s->strategy);
    for (size_t f = 0; f < s->n_filters; f++)
      if (tack_instance_started(s->filters[f]))
        tack_instance_stop(s->filters[f]);
  }
  for (size_t i = 0; i < rt->n_ex; i++)
    if (tack_instance_started(rt->ex[i]->ctx))
      tack_instance_stop(rt->ex[i]->ctx);
}

static void remember_memory(tack_runtime *rt, tack_ctx *ctx) {
  tack_alloc_acct acct;
  const char *id = tack_instance_desc(ctx)->id;
  char *name = tack_strdup(NULL, tack_instance_name(ctx));
  tack_instance_free_acct(ctx, &acct);
  if (!name)
    return;
  if (rt->n_mem == rt->cap_mem) {
    size_t cap = rt->cap_mem ? rt->cap_mem * 2 : 8;
    rt_memory *m = tack_realloc(NULL, rt->mem, cap * sizeof *m);
    if (!m) {
      tack_free(NULL, name);
      return;
    }
    rt->mem = m;
    rt->cap_mem = cap;
  }
  rt->mem[rt->n_mem].name = name;
  rt->mem[rt->n_mem].plugin_id = id;
  rt->mem[rt->n_mem].acct = acct;
  rt->n_mem++;
}

/* Step 2 (and what tack_runtime_free() does for a runtime that never ran):
 * destroy every instance, strategies first, keeping their memory figures. */
static void free_instances(tack_runtime *rt) {
  for (size_t i = 0; i < rt->n_sym; i++) {
    rt_symbol *s = rt->sym[i];
    if (s->strategy)
      remember_memory(rt, s->strategy);
    s->strategy = NULL;
    for (size_t f = 0; f < s->n_filters; f++) {
      if (s->filters[f])
        remember_memory(rt, s->filters[f]);
      s->filters[f] = NULL;
    }
  }
  for (size_t i = 0; i < rt->n_ex; i++) {
    if (rt->ex[i]->ctx)
      remember_memory(rt, rt->ex[i]->ctx);
    rt->ex[i]->ctx = NULL;
  }
}

static void close_store(tack_runtime *rt) {
  if (!rt->store)
    return;
  tack_store_close(rt->store);
  rt->store = NULL;
  tack_log_info("store closed");
}

static void close_handles(tack_runtime *rt) {
  if (!rt->handles_open)
    return;
  rt->handles_open = 0;
  uv_close((uv_handle_t *)&rt->work, NULL);
  uv_close((uv_handle_t *)&rt->for_timer, NULL);
  uv_close((uv_handle_t *)&rt->sigint, NULL);
  uv_close((uv_handle_t *)&rt->sigterm, NULL);
}

static void work_cb(uv_timer_t *h) {
  tack_runtime *rt = h->data;
  switch (rt->phase) {
  case PHASE_RUNNING:
    for (size_t i = 0; i < rt->n_ex; i++)
      if (rt->ex[i]->subscribe_due)
        subscribe_all(rt->ex[i]);
    break;
  case PHASE_STOP_REQUESTED:
    stop_instances(rt);
    rt->phase = PHASE_STOPPED;
    /* Destroy on the next iteration: handles the plugins closed in stop()
     * finish closing at the end of this one. */
    uv_timer_start(&rt->work, work_cb, 0, 0);
    break;
  case PHASE_STOPPED:
    free_instances(rt);
    close_store(rt);
    close_handles(rt);
    tack_log_info("stopped (%s)", rt->stop_reason);
    rt->phase = PHASE_CLOSED;
    /* Returns even if a plugin left a handle of its own open. */
    uv_stop(&rt->loop);
    break;
  default:
    break;
  }
}

static void for_cb(uv_timer_t *h) {
  tack_runtime *rt = h->data;
  char why[64];
  snprintf(why, sizeof why, "--for %.3g seconds elapsed", (double)rt->run_for_ms / 1000.0);
  tack_runtime_request_stop(rt, why, 0);
}

static void signal_cb(uv_signal_t *h, int signum) {
  tack_runtime *rt = h->data;
  if (rt->phase == PHASE_RUNNING)
    tack_runtime_request_stop(
        rt, signum == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)", 0);
  else
    tack_log_info("SIGTERM while stopping: the stop is already under way");
}

static void check_all_done(tack_runtime *rt) {
  size_t failed = 0;
  if (rt->phase != PHASE_RUNNING)
    return;
  for (size_t i = 0; i < rt->n_ex; i++) {
    if (rt->ex[i]->conn == TACK_CONN_FAILED)
      failed++;
    else if (rt->ex[i]->conn != TACK_CONN_EOF)
      return;
  }
  if (failed)
    tack_runtime_request_stop(rt, "every exchange has ended or given up, and some gave up", 1);
  else
    tack_runtime_request_stop(rt, "every exchange reached the end of its data", 0);
}

int tack_runtime_ex_connection(tack_runtime *rt, tack_ctx *exc, uint32_t state,
                               const char *detail) {
  rt_exchange *ex = tack_instance_route(exc);
  const char *name = tack_instance_name(exc);
  const char *sep = detail && *detail ? ": " : "";
  if (!detail)
    detail = "";
  if (!ex)
    return TACK_EINVAL;
  switch (state) {
  case TACK_CONN_UP:
    tack_log(TACK_LOG_INFO, name, "connection up%s%s", sep, detail);
    if (!ex->subscribed && rt->phase == PHASE_RUNNING) {
      ex->subscribe_due = 1;
      schedule_work(rt);
    }
    break;
  case TACK_CONN_CONNECTING:
    tack_log(TACK_LOG_INFO, name, "connecting%s%s", sep, detail);
    break;
  case TACK_CONN_DOWN:
    if (rt->phase == PHASE_RUNNING)
      tack_log(TACK_LOG_WARN, name, "connection down%s%s; the adapter reconnects", sep, detail);
    else
      tack_log(TACK_LOG_INFO, name, "connection closed%s%s", sep, detail);
    break;
  case TACK_CONN_DEGRADED:
    tack_log(TACK_LOG_WARN, name, "connection degraded, data may be missing%s%s", sep, detail);
    break;
  case TACK_CONN_FAILED:
    tack_log(TACK_LOG_ERROR, name,
             "connection failed and the adapter gave up%s%s; an operator "
             "must act",
             sep, detail);
    break;
  case TACK_CONN_EOF:
    tack_log(TACK_LOG_INFO, name, "finished%s%s", sep, *detail ? detail : " (end of data)");
    break;
  default:
    tack_log(TACK_LOG_ERROR, name, "ex_connection: unknown state %u: ignored (TACK_EINVAL)",
             (unsigned)state);
    return TACK_EINVAL;
  }
  ex->conn = state;
  if (state == TACK_CONN_FAILED || state == TACK_CONN_EOF)
    check_all_done(rt);
  return 0;
}

static int open_handles(tack_runtime *rt) {
  int rc = uv_timer_init(&rt->loop, &rt->work);
  if (rc == 0)
    rc = uv_timer_init(&rt->loop, &rt->for_timer);
  if (rc == 0)
    rc = uv_signal_init(&rt->loop, &rt->sigint);
  if (rc == 0)
    rc = uv_signal_init(&rt->loop, &rt->sigterm);
  if (rc != 0) {
    /* Only a broken libuv fails these; nothing was registered with it. */
    tack_log_error("cannot set up the event loop: %s", uv_strerror(rc));
    return TACK_EIO;
  }
  rt->work.data = rt->for_timer.data = rt->sigint.data = rt->sigterm.data = rt;
  rt->handles_open = 1;
  if (rt->handle_signals) {
    uv_signal_start(&rt->sigint, signal_cb, SIGINT);
    uv_signal_start(&rt->sigterm, signal_cb, SIGTERM);
  }
  if (rt->run_for_ms)
    uv_timer_start(&rt->for_timer, for_cb, rt->run_for_ms, 0);
  return 0;
}

/* Consumers start first, so that the first bar finds them ready. */
static int start_instances(tack_runtime *rt) {
  char why[160];
  for (size_t i = 0; i < rt->n_sym; i++) {
    rt_symbol *s = rt->sym[i];
    for (size_t f = 0; f < s->n_filters; f++)
      if (tack_instance_start(s->filters[f]) != 0)
        goto fail_at;
    if (tack_instance_start(s->strategy) != 0)
      goto fail_at;
    continue;
  fail_at:
    snprintf(why, sizeof why, "an instance for %s failed to start", s->symbol);
    tack_runtime_request_stop(rt, why, 1);
    return TACK_EPLUGIN;
  }
  for (size_t i = 0; i < rt->n_ex; i++) {
    tack_ctx *ctx = rt->ex[i]->ctx;
    int rc = tack_instance_start(ctx);
    if (rc == 0) {
      rc = tack_instance_exchange_connect(ctx);
      if (rc != 0)
        tack_log(TACK_LOG_ERROR, tack_instance_name(ctx), "connect failed: %s (%s)",
                 tack_strerror(rc), tack_err_name(rc));
    }
    if (rc != 0) {
      snprintf(why, sizeof why, "%s failed to start", tack_instance_name(ctx));
      tack_runtime_request_stop(rt, why, 1);
      return TACK_EPLUGIN;
    }
  }
  return 0;
}

int tack_runtime_run(tack_runtime *rt) {
  if (rt->phase != PHASE_IDLE)
    return TACK_ESTATE;
  if (rt->n_sym == 0) {
    tack_log_error("nothing to run: no symbol was added");
    return TACK_ECONFIG;
  }
  for (size_t i = 0; i < rt->n_ex; i++)
    qsort(rt->ex[i]->syms, rt->ex[i]->n_syms, sizeof *rt->ex[i]->syms, cmp_symbol);
  int rc = open_handles(rt);
  if (rc != 0)
    return rc;
  if (!rt->store)
    tack_log_info("no store configured: plugins' kv_get/kv_put/kv_del return TACK_ESTATE");

  rt->phase = PHASE_RUNNING;
  tack_log_info("running %zu symbol%s on %zu exchange%s", rt->n_sym, rt->n_sym == 1 ? "" : "s",
                rt->n_ex, rt->n_ex == 1 ? "" : "s");
  start_instances(rt);
  while (rt->phase != PHASE_CLOSED) {
    uv_run(&rt->loop, UV_RUN_DEFAULT);
    if (rt->phase == PHASE_RUNNING)
      tack_runtime_request_stop(rt, "nothing left to wait for: no plugin has pending work", 0);
  }

  if (rt->handle_signals)
    set_sigint(SIG_DFL);
  rc = uv_loop_close(&rt->loop);
  if (rc == 0) {
    rt->loop_ready = 0;
  } else {
    tack_log_error("the event loop still has open handles after every instance was destroyed "
                   "(%s): a plugin did not close what it opened in stop()",
                   uv_strerror(rc));
    if (rt->error == 0)
      rt->error = TACK_EBUSY;
  }
  return rt->error;
}

/* ------------------------------------------------------------------------ */
/* Summary, accessors, cleanup                                               */
/* ------------------------------------------------------------------------ */

static const char *bytes_text(uint64_t n, char *buf, size_t cap) {
  if (n < 1024)
    snprintf(buf, cap, "%llu B", (unsigned long long)n);
  else if (n < 1024 * 1024)
    snprintf(buf, cap, "%.1f KiB", (double)n / 1024.0);
  else
    snprintf(buf, cap, "%.1f MiB", (double)n / (1024.0 * 1024.0));
  return buf;
}

void tack_runtime_print_summary(const tack_runtime *rt, FILE *out) {
  char a[32], b[32];
  fprintf(out, "summary: %s\n", rt->stop_reason[0] ? rt->stop_reason : "not run");
  fprintf(out, "  %-20s %10s %8s %7s  %s\n", "symbol", "bars", "signals", "errors", "last signal");
  for (size_t i = 0; i < rt->n_sym; i++) {
    const rt_symbol *s = rt->sym[i];
    fprintf(out, "  %-20s %10llu %8llu %7llu  ", s->symbol, (unsigned long long)s->bars,
            (unsigned long long)s->signals, (unsigned long long)s->errors);
    if (s->has_signal)
      fprintf(out, "%+.2f (conf %.2f)%s%s\n", s->last.strength, s->last.confidence,
              s->last.reason[0] ? " " : "", s->last.reason);
    else
      fprintf(out, "none\n");
  }
  for (size_t i = 0; i < rt->n_ex; i++) {
    const rt_exchange *ex = rt->ex[i];
    if (ex->events[TACK_RT_EV_ERROR] || ex->unrouted)
      fprintf(out, "  %s: %llu venue messages not used, %llu bars for unsubscribed symbols\n",
              ex->name, (unsigned long long)ex->events[TACK_RT_EV_ERROR],
              (unsigned long long)ex->unrouted);
  }
  int width = 6; /* "memory" */
  for (size_t i = 0; i < rt->n_mem; i++) {
    int n = (int)(strlen(rt->mem[i].name) + strlen(rt->mem[i].plugin_id) + 3);
    width = n > width ? (n < 100 ? n : 100) : width;
  }
  fprintf(out, "  %-*s %10s  %s\n", width, "memory", "peak", "leaked");
  for (size_t i = 0; i < rt->n_mem; i++) {
    const rt_memory *m = &rt->mem[i];
    char who[128];
    snprintf(who, sizeof who, "%s (%s)", m->name, m->plugin_id);
    if (m->acct.live_blocks)
      fprintf(out, "  %-*s %10s  %s in %llu block%s\n", width, who,
              bytes_text(m->acct.peak_bytes, a, sizeof a),
              bytes_text(m->acct.live_bytes, b, sizeof b), (unsigned long long)m->acct.live_blocks,
              m->acct.live_blocks == 1 ? "" : "s");
    else
      fprintf(out, "  %-*s %10s  none\n", width, who, bytes_text(m->acct.peak_bytes, a, sizeof a));
  }
}

uv_loop_t *tack_runtime_loop(tack_runtime *rt) { return &rt->loop; }

tack_time tack_runtime_now(tack_runtime *rt) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tack_time t = (tack_time)ts.tv_sec * TACK_NS_PER_SEC + ts.tv_nsec;
  /* The wall clock can be stepped back; the host clock never is. */
  if (t < rt->last_now)
    t = rt->last_now;
  rt->last_now = t;
  return t;
}

tack_store *tack_runtime_store(tack_runtime *rt) { return rt->store; }

const char *tack_runtime_bot(const tack_runtime *rt) { return rt->bot; }

size_t tack_runtime_symbol_count(const tack_runtime *rt) { return rt->n_sym; }

int tack_runtime_symbol_stats_at(const tack_runtime *rt, size_t i, tack_runtime_symbol_stats *out) {
  if (i >= rt->n_sym)
    return TACK_ERANGE;
  const rt_symbol *s = rt->sym[i];
  out->symbol = s->symbol;
  out->bars = s->bars;
  out->signals = s->signals;
  out->errors = s->errors;
  out->has_signal = s->has_signal;
  out->last = s->last;
  return 0;
}

void tack_runtime_free(tack_runtime *rt) {
  if (!rt)
    return;
  free_instances(rt);
  close_store(rt);
  close_handles(rt);
  if (rt->loop_ready) {
    /* Let the closes of instance timers and our handles complete. */
    uv_run(&rt->loop, UV_RUN_NOWAIT);
    int rc = uv_loop_close(&rt->loop);
    if (rc != 0)
      tack_log_error("the event loop still has open handles (%s): an instance did not close "
                     "what it opened",
                     uv_strerror(rc));
  }
  for (size_t i = 0; i < rt->n_sym; i++)
    symbol_free(rt->sym[i]);
  for (size_t i = 0; i < rt->n_ex; i++) {
    tack_free(NULL, rt->ex[i]->syms);
    tack_free(NULL, rt->ex[i]->name);
    tack_free(NULL, rt->ex[i]);
  }
  for (size_t i = 0; i < rt->n_mem; i++)
    tack_free(NULL, rt->mem[i].name);
  tack_free(NULL, rt->mem);
  tack_free(NULL, rt->sym);
  tack_free(NULL, rt->ex);
  tack_free(NULL, rt->bot);
  tack_free(NULL, rt);
}
