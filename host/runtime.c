/*
 * runtime.c: the running host; see runtime.h for the model and
 * docs/runtime.md for how bars flow.
 *
 * Work that must not run inside a plugin's own call (subscribing when an
 * exchange reports TACK_CONN_UP, stopping when the data ends) is deferred to
 * the next loop iteration through one zero-delay timer, so that a plugin is
 * never re-entered from a service it called, nor destroyed under its own
 * stack. The bar path (ex_bar or ex_trade -> resamplers or bar builder ->
 * delivery queue -> per leaf: filters -> strategy or scorer -> the
 * composition) runs straight through within the exchange's call, with
 * preallocated buffers (the delivery queue grows only for a burst, such as
 * the fillers of a long gap).
 *
 * A symbol runs one composed strategy (compose.h): its leaves are plugin
 * strategies and scorers, each with its own instances and a filter chain
 * per timeframe it takes; the symbol makes one series of bars per distinct
 * timeframe of its leaves. What the leaves say goes into the tree, which is
 * evaluated after each bar; the symbol's signal is the root's.
 */
#include "runtime.h"

#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bars.h"
#include "cli.h"
#include "control.h"
#include "instance.h"
#include "log.h"
#include "ml_features.h"
#include "trading.h"

/* Bars one filter may produce from one input (Renko bricks of a big move). */
#define RT_FILTER_CAP 64

enum {
  PHASE_IDLE,
  PHASE_RUNNING,
  PHASE_STOP_REQUESTED,
  PHASE_FLATTENING, /* strategies stopped; the trader closes positions */
  PHASE_STOPPED,
  PHASE_CLOSED
};

/* Where a symbol's bars come from. */
enum {
  SRC_BARS,  /* bars of source_tf the venue streams */
  SRC_TRADES /* the venue's trades, built into bars of the smallest timeframe */
};

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
  uint64_t unrouted; /* bars and trades for symbols nobody subscribed */
} rt_exchange;

/* One leaf of a symbol's composition: a plugin strategy or a scorer, with
 * a filter chain of its own for each timeframe it takes. */
typedef struct rt_leaf {
  rt_symbol *sym;
  size_t node;   /* in sym->tree */
  tack_ctx *ctx; /* the strategy or scorer instance */
  int scorer;
  uint32_t tfs[TACK_MAX_TIMEFRAMES]; /* ascending */
  size_t n_tfs;
  size_t n_filters;        /* per chain */
  tack_ctx **filters;      /* chain k (of tfs[k]) at k * n_filters */
  tack_bar *buf;           /* n_filters * RT_FILTER_CAP filter outputs (one bar at a time) */
  tack_features *features; /* a scorer's */
  double *vector;
  int last_error; /* the code of its previous failure: repeats are logged at debug */
} rt_leaf;

/* A leaf's chain that takes a series' bars. */
typedef struct rt_consumer {
  rt_leaf *leaf;
  size_t chain;
} rt_consumer;

/* One timeframe of a symbol: the bars of it, made from the source. */
typedef struct rt_series {
  rt_symbol *sym;
  uint32_t tf; /* seconds */
  /* Makes this timeframe from the source bars; NULL when it is the source
   * timeframe itself, whose closed bars pass through. */
  tack_bar_resampler *rs;
  int has_last;
  tack_time last_ts; /* pass-through: the last closed bar queued */
  rt_consumer *consumers;
  size_t n_consumers;
} rt_series;

/* A closed bar waiting to be delivered. */
typedef struct rt_pending {
  tack_bar bar;
  rt_series *series;
} rt_pending;

struct rt_symbol {
  size_t index; /* in tack_runtime.sym */
  tack_runtime *rt;
  char *symbol;
  char *name;    /* the root entry's instance name, "strategies.combo@BTC-USD", for messages */
  char *tf_file; /* where the strategy's timeframes are set, may be NULL */
  int tf_line;
  rt_exchange *ex;
  tack_compose *tree;
  const tack_cfg_strategy *root_cfg; /* NULL for a pipeline built by hand */
  rt_leaf *leaves;
  size_t n_leaves;
  rt_leaf *root_leaf; /* the leaf that is the root, or NULL for a composed root */
  rt_series series[TACK_MAX_SYMBOL_TIMEFRAMES]; /* ascending */
  size_t n_series;
  uint32_t gap_policy;
  int source;                /* SRC_* */
  uint32_t source_tf;        /* the timeframe every series is made from */
  tack_bar_builder *builder; /* SRC_TRADES */
  /* SRC_TRADES: the venue's clock, estimated as the time of a trade plus the
   * host time since it arrived, and the timer that closes bars by it. */
  int has_feed;
  tack_time feed_ts, feed_host;
  uv_timer_t close_timer;
  int timer_open;
  /* Closed bars of one exchange event, in delivery order (docs/runtime.md). */
  rt_pending *queue;
  size_t n_queue, cap_queue;
  int input_dropped; /* the current input was late or a duplicate somewhere */
  /* Where the data begins: the first trade, and the start of the first
   * complete source bar. A bar made from an interval that began before it
   * would hold only part of that interval, so it is never delivered. */
  int has_first_trade, has_start;
  tack_time first_trade, start;
  uint64_t partial; /* bars not delivered for that reason */
  /* The position the exchange last reported (ex_position), and whether
   * the strategies were told the position before the first bar. */
  int has_position;
  tack_position position;
  int handed_over;
  uint64_t bars;
  uint64_t trades;
  uint64_t signals;
  uint64_t errors;
  uint64_t dropped;
  uint64_t delivered;
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
  int backtest;        /* the replay clock, no journal, no control socket */
  tack_time stop_wall; /* backtest: the wall clock when the stop was asked for */
  tack_time stop_data; /* backtest: the replay clock then */
  tack_runtime_observer obs;

  rt_exchange **ex;
  size_t n_ex;
  rt_symbol **sym;
  size_t n_sym;
  rt_memory *mem;
  size_t n_mem, cap_mem;

  tack_trading *trading; /* NULL when the config does not trade */
  tack_control *control; /* the control socket, when there is a store */
  int left_open;         /* positions or orders the stop could not close */

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

/* "5m, 1h, 4h": the timeframes of s's series. */
static const char *series_text(const rt_symbol *s, char *buf, size_t cap) {
  size_t at = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < s->n_series; i++) {
    char one[16];
    int n = snprintf(buf + at, cap - at, "%s%s", at ? ", " : "",
                     tf_text(s->series[i].tf, one, sizeof one));
    if (n < 0 || (size_t)n >= cap - at)
      break;
    at += (size_t)n;
  }
  return buf;
}

static tack_time tf_ns(uint32_t tf) { return (tack_time)tf * TACK_NS_PER_SEC; }

/* A bar's or trade's time for people: "2023-11-14T00:00:01.250Z". */
static const char *ts_text(tack_time t, char *buf, size_t cap) {
  struct tm tm;
  time_t secs = (time_t)(t / TACK_NS_PER_SEC);
  long ms = (long)(t % TACK_NS_PER_SEC / 1000000);
  if (t < 0 || !gmtime_r(&secs, &tm)) {
    snprintf(buf, cap, "%lld ns", (long long)t);
    return buf;
  }
  int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  if (n < 0 || (size_t)n >= cap) /* a buffer too small for a date: the plain count */
    snprintf(buf, cap, "%lld ns", (long long)t);
  return buf;
}

/* The instant a bar closes: the end of its interval. */
static tack_time bar_end(const tack_bar *b) { return b->ts + tf_ns(b->timeframe_s); }

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
  rt->backtest = opts ? opts->backtest : 0;
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

/* The largest timeframe ex streams that divides tf, 0 when none does. Every
 * timeframe of a strategy is a multiple of its smallest, so a divisor of the
 * smallest divides them all. */
static uint32_t best_native(const rt_exchange *ex, uint32_t tf) {
  uint32_t best = 0;
  for (size_t i = 0; i < sizeof ex->caps.bar_timeframes / sizeof ex->caps.bar_timeframes[0]; i++) {
    uint32_t v = ex->caps.bar_timeframes[i];
    if (v == 0)
      break;
    if (tf % v == 0 && v > best)
      best = v;
  }
  return best;
}

/* "1m, 5m": the bar timeframes ex streams. */
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
}

/* The pipeline's callbacks from the bar builder and the resamplers. */
static void on_built(void *data, const tack_bar *bar);
static void on_trade_dropped(void *data, const tack_trade *trade, int reason);
static void on_resampled(void *data, const tack_bar *bar);
static void on_bar_dropped(void *data, const tack_bar *in, int reason);

static void leaf_clear(rt_leaf *l) {
  for (size_t i = 0; l->filters && i < l->n_tfs * l->n_filters; i++)
    if (l->filters[i])
      tack_instance_free(l->filters[i]);
  tack_free(NULL, l->filters);
  if (l->ctx)
    tack_instance_free(l->ctx);
  tack_features_free(l->features);
  tack_free(NULL, l->vector);
  tack_free(NULL, l->buf);
}

static void symbol_free(rt_symbol *s) {
  if (!s)
    return;
  for (size_t k = 0; k < s->n_series; k++) {
    tack_free(NULL, s->series[k].consumers);
    tack_bar_resampler_free(s->series[k].rs);
  }
  for (size_t i = 0; s->leaves && i < s->n_leaves; i++)
    leaf_clear(&s->leaves[i]);
  tack_free(NULL, s->leaves);
  tack_compose_free(s->tree);
  tack_bar_builder_free(s->builder);
  tack_free(NULL, s->queue);
  tack_free(NULL, s->tf_file);
  tack_free(NULL, s->name);
  tack_free(NULL, s->symbol);
  tack_free(NULL, s);
}

/* A symbol with room for n_leaves leaves, or NULL. */
static rt_symbol *symbol_new(tack_runtime *rt, const char *name, size_t n_leaves,
                             const char *tf_file, int tf_line) {
  rt_symbol *s = tack_calloc(NULL, 1, sizeof *s);
  if (!s)
    return NULL;
  s->rt = rt;
  s->tf_line = tf_line;
  s->symbol = tack_strdup(NULL, name);
  s->leaves = tack_calloc(NULL, n_leaves ? n_leaves : 1, sizeof *s->leaves);
  s->n_leaves = n_leaves;
  if (tf_file)
    s->tf_file = tack_strdup(NULL, tf_file);
  if (!s->symbol || !s->leaves || (tf_file && !s->tf_file)) {
    s->n_leaves = 0;
    symbol_free(s);
    return NULL;
  }
  for (size_t i = 0; i < n_leaves; i++)
    s->leaves[i].sym = s;
  return s;
}

/* Take the strategy and filters of spec into leaf 0 of s, the chains in
 * ascending order of timeframe. From here on s owns them, whatever fails. */
static int adopt_spec(rt_symbol *s, const tack_runtime_symbol_spec *spec) {
  size_t order[TACK_MAX_TIMEFRAMES];
  rt_leaf *l = &s->leaves[0];
  int rc = 0;
  l->ctx = spec->strategy;
  l->n_filters = spec->n_filters;
  l->n_tfs = spec->n_timeframes;
  for (size_t k = 0; k < l->n_tfs; k++) {
    size_t j = k;
    for (; j > 0 && spec->timeframes[order[j - 1]] > spec->timeframes[k]; j--)
      order[j] = order[j - 1];
    order[j] = k;
  }
  l->filters = tack_calloc(NULL, l->n_tfs * l->n_filters + 1, sizeof *l->filters);
  for (size_t k = 0; k < l->n_tfs; k++) {
    l->tfs[k] = spec->timeframes[order[k]];
    for (size_t f = 0; f < l->n_filters; f++) {
      tack_ctx *ctx = spec->filters ? spec->filters[order[k] * l->n_filters + f] : NULL;
      if (l->filters)
        l->filters[k * l->n_filters + f] = ctx;
      else if (ctx)
        tack_instance_free(ctx);
    }
  }
  if (!l->filters) {
    l->n_filters = 0;
    rc = TACK_ENOMEM;
  }
  return rc;
}

static void free_spec_instances(const tack_runtime_symbol_spec *spec) {
  if (spec->strategy)
    tack_instance_free(spec->strategy);
  for (size_t i = 0; spec->filters && i < spec->n_timeframes * spec->n_filters; i++)
    if (spec->filters[i])
      tack_instance_free(spec->filters[i]);
}

/* Each leaf's timeframes distinct, and each a whole multiple of the
 * symbol's smallest; the symbol's series are the union of them. */
static int plan_series(rt_symbol *s, const char *tf_file, int tf_line, tack_diag *d) {
  char a[16], b[16];
  uint32_t min = UINT32_MAX;
  for (size_t i = 0; i < s->n_leaves; i++)
    for (size_t k = 0; k < s->leaves[i].n_tfs; k++)
      min = s->leaves[i].tfs[k] < min ? s->leaves[i].tfs[k] : min;
  for (size_t i = 0; i < s->n_leaves; i++) {
    const rt_leaf *l = &s->leaves[i];
    for (size_t k = 0; k < l->n_tfs; k++) {
      uint32_t tf = l->tfs[k];
      if (tf == 0 || (k > 0 && tf == l->tfs[k - 1])) {
        tack_diag_add(d, tf_file, tf_line, NULL,
                      "%s: the strategy's timeframes must be distinct and more than 0 seconds",
                      s->symbol);
        return TACK_EINVAL;
      }
      if (tf % min != 0) {
        tack_diag_add(d, tf_file, tf_line, NULL,
                      "%s: timeframe %s is not a whole multiple of %s, the smallest one", s->symbol,
                      tf_text(tf, a, sizeof a), tf_text(min, b, sizeof b));
        return TACK_EINVAL;
      }
      size_t j = 0;
      while (j < s->n_series && s->series[j].tf < tf)
        j++;
      if (j < s->n_series && s->series[j].tf == tf)
        continue;
      if (s->n_series == TACK_MAX_SYMBOL_TIMEFRAMES) {
        tack_diag_add(d, tf_file, tf_line, NULL, "%s: more than %d distinct timeframes", s->symbol,
                      TACK_MAX_SYMBOL_TIMEFRAMES);
        return TACK_EINVAL;
      }
      memmove(&s->series[j + 1], &s->series[j], (s->n_series - j) * sizeof s->series[0]);
      memset(&s->series[j], 0, sizeof s->series[j]);
      s->series[j].sym = s;
      s->series[j].tf = tf;
      s->n_series++;
    }
  }
  return 0;
}

/* Every series' consumers: the chains of the leaves that take its
 * timeframe, in leaf order. */
static int plan_consumers(rt_symbol *s) {
  for (size_t k = 0; k < s->n_series; k++) {
    rt_series *se = &s->series[k];
    se->consumers = tack_calloc(NULL, s->n_leaves, sizeof *se->consumers);
    if (!se->consumers)
      return TACK_ENOMEM;
    for (size_t i = 0; i < s->n_leaves; i++)
      for (size_t c = 0; c < s->leaves[i].n_tfs; c++)
        if (s->leaves[i].tfs[c] == se->tf) {
          se->consumers[se->n_consumers].leaf = &s->leaves[i];
          se->consumers[se->n_consumers].chain = c;
          se->n_consumers++;
        }
  }
  return 0;
}

/* Choose where the bars come from and make what turns them into every
 * series: resamplers from the source timeframe, and for trades the builder
 * of the smallest timeframe. */
static int plan_source(rt_symbol *s, const rt_exchange *ex, uint32_t gap_policy) {
  uint32_t native = best_native(ex, s->series[0].tf);
  s->gap_policy = gap_policy;
  s->source = native ? SRC_BARS : SRC_TRADES;
  s->source_tf = native ? native : s->series[0].tf;
  if (s->source == SRC_TRADES) {
    tack_bar_builder_config bc;
    tack_bar_builder_config_init(&bc, s->source_tf);
    bc.gap_policy = gap_policy;
    bc.on_bar = on_built;
    bc.on_drop = on_trade_dropped;
    bc.data = s;
    int rc = tack_bar_builder_init(&s->builder, &bc);
    if (rc != 0)
      return rc;
  }
  for (size_t k = 0; k < s->n_series; k++) {
    rt_series *se = &s->series[k];
    if (se->tf == s->source_tf)
      continue;
    tack_bar_resampler_config rc_cfg = {s->source_tf, se->tf,         gap_policy, 0,
                                        on_resampled, on_bar_dropped, se};
    int rc = tack_bar_resampler_init(&se->rs, &rc_cfg);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Where a symbol is configured, and how its bars are made. */
typedef struct symbol_place {
  const char *file;
  int line;
  const char *tf_file;
  int tf_line;
  uint32_t gap_policy;
} symbol_place;

/* The checks and plans every symbol goes through, then it joins the
 * runtime. s holds its leaves and tree; on failure it is freed with them. */
static int finish_symbol(tack_runtime *rt, rt_symbol *s, rt_exchange *ex, const symbol_place *at,
                         tack_diag *d) {
  const char *name = s->symbol;
  int rc;
  if (!*name || strlen(name) >= TACK_SYMBOL_MAX) {
    tack_diag_add(d, at->file, at->line, NULL, "symbol '%s' must be 1 to %d characters", name,
                  TACK_SYMBOL_MAX - 1);
    rc = TACK_EINVAL;
    goto fail;
  }
  if (rt->phase != PHASE_IDLE) {
    rc = TACK_ESTATE;
    goto fail;
  }
  for (size_t i = 0; i < s->n_leaves; i++) {
    const rt_leaf *l = &s->leaves[i];
    uint32_t want = l->scorer ? TACK_KIND_SCORER : TACK_KIND_STRATEGY;
    if (!ex || !l->ctx || tack_instance_desc(l->ctx)->kind != want) {
      tack_diag_add(d, at->file, at->line, NULL,
                    "%s: needs an exchange added to the runtime and a strategy instance", name);
      rc = TACK_EINVAL;
      goto fail;
    }
    for (size_t f = 0; f < l->n_tfs * l->n_filters; f++) {
      if (!l->filters[f] || tack_instance_desc(l->filters[f])->kind != TACK_KIND_FILTER) {
        tack_diag_add(d, at->file, at->line, NULL, "%s: filter %zu is not a filter instance", name,
                      f % l->n_filters + 1);
        rc = TACK_EINVAL;
        goto fail;
      }
    }
  }
  rc = plan_series(s, at->tf_file, at->tf_line, d);
  if (rc != 0)
    goto fail;
  for (size_t i = 0; i < ex->n_syms; i++) {
    if (strcmp(ex->syms[i]->symbol, name) == 0) {
      tack_diag_add(d, at->file, at->line, NULL, "%s appears twice on %s", name,
                    tack_instance_name(ex->ctx));
      rc = TACK_EEXIST;
      goto fail;
    }
  }
  if (!best_native(ex, s->series[0].tf) && !(ex->caps.flags & TACK_CAP_TRADES)) {
    char have[160], need[160];
    list_timeframes(ex, have, sizeof have);
    tack_diag_add(d, at->tf_file, at->tf_line, NULL,
                  "%s: the strategy needs %s bars, but %s (plugin %s) streams %s bars and no "
                  "trades to build them from; give the strategy timeframes that are multiples "
                  "of one the exchange streams",
                  name, series_text(s, need, sizeof need), tack_instance_name(ex->ctx),
                  tack_instance_desc(ex->ctx)->id, ex->caps.bar_timeframes[0] ? have : "no");
    rc = TACK_ENOTSUP;
    goto fail;
  }
  rc = plan_source(s, ex, at->gap_policy);
  if (rc == 0)
    rc = plan_consumers(s);
  for (size_t i = 0; rc == 0 && i < s->n_leaves; i++) {
    rt_leaf *l = &s->leaves[i];
    if (l->n_filters && !(l->buf = tack_calloc(NULL, l->n_filters * RT_FILTER_CAP, sizeof *l->buf)))
      rc = TACK_ENOMEM;
  }
  if (rc == 0) {
    /* Room for what one input usually closes: a bar of every series. */
    s->cap_queue = 2 * s->n_series + 2;
    s->queue = tack_calloc(NULL, s->cap_queue, sizeof *s->queue);
    if (!s->queue)
      rc = TACK_ENOMEM;
  }
  if (rc != 0) {
    tack_diag_add(d, at->file, at->line, NULL, "%s: cannot make its bars: %s (%s)", name,
                  tack_strerror(rc), tack_err_name(rc));
    goto fail;
  }
  rt_symbol **all = grow(rt->sym, rt->n_sym, sizeof *rt->sym);
  if (all)
    rt->sym = all;
  rt_symbol **mine = all ? grow(ex->syms, ex->n_syms, sizeof *ex->syms) : NULL;
  if (mine)
    ex->syms = mine;
  if (!mine) {
    tack_diag_add(d, at->file, at->line, NULL, "%s: out of memory", name);
    rc = TACK_ENOMEM;
    goto fail;
  }
  s->ex = ex;
  for (size_t i = 0; i < s->n_leaves; i++) {
    rt_leaf *l = &s->leaves[i];
    tack_instance_set_route(l->ctx, l);
    for (size_t f = 0; f < l->n_tfs * l->n_filters; f++)
      tack_instance_set_route(l->filters[f], l);
  }
  s->index = rt->n_sym;
  rt->sym[rt->n_sym++] = s;
  ex->syms[ex->n_syms++] = s;
  return 0;

fail:
  symbol_free(s);
  return rc;
}

int tack_runtime_add_symbol(tack_runtime *rt, const tack_runtime_symbol_spec *spec, tack_diag *d) {
  int rc = 0;
  rt_exchange *ex = spec->exchange ? find_exchange(rt, spec->exchange) : NULL;
  rt_symbol *s = NULL;
  const char *name = spec->symbol ? spec->symbol : "";
  symbol_place at = {spec->file, spec->line, spec->tf_file, spec->tf_line, spec->gap_policy};

  if (!spec->timeframes || spec->n_timeframes == 0 || spec->n_timeframes > TACK_MAX_TIMEFRAMES) {
    free_spec_instances(spec);
    tack_diag_add(d, spec->tf_file, spec->tf_line, NULL, "%s: a strategy takes 1 to %d timeframes",
                  name, TACK_MAX_TIMEFRAMES);
    return TACK_EINVAL;
  }
  s = symbol_new(rt, name, 1, spec->tf_file, spec->tf_line);
  if (!s) {
    free_spec_instances(spec);
    tack_diag_add(d, spec->file, spec->line, NULL, "%s: out of memory", name);
    return TACK_ENOMEM;
  }
  rc = adopt_spec(s, spec); /* s owns them now, whatever happens next */
  if (rc == 0 && spec->strategy) {
    s->name = tack_strdup(NULL, tack_instance_name(spec->strategy));
    rc = s->name ? tack_compose_new_leaf(tack_instance_config(spec->strategy)->name,
                                         TACK_STRATEGY_PLUGIN, name, &s->tree)
                 : TACK_ENOMEM;
  }
  if (rc != 0) {
    tack_diag_add(d, spec->file, spec->line, NULL, "%s: out of memory", name);
    symbol_free(s);
    return rc;
  }
  s->root_leaf = &s->leaves[0];
  return finish_symbol(rt, s, ex, &at, d);
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

/* The feature builder of a scorer leaf, from its entry's spec, with the
 * indicators of the plugin registry (the loader `tack run` scanned). */
static int make_features(rt_leaf *l, const tack_cfg_strategy *st, tack_diag *d) {
  const tack_loader *ld = tack_instance_registry();
  char where[512];
  snprintf(
      where, sizeof where, "%s:%d: strategies.%s.features", st->inst.file ? st->inst.file : "?",
      st->features_setting ? (int)config_setting_source_line(st->features_setting) : st->inst.line,
      st->inst.name);
  if (!ld || !st->features) {
    tack_diag_add(d, st->inst.file, st->inst.line, NULL,
                  "strategies.%s: no plugins are registered to compute its features from",
                  st->inst.name);
    return TACK_ECONFIG;
  }
  int rc =
      tack_features_new(st->features, st->timeframes, st->n_timeframes, ld, where, d, &l->features);
  if (rc != 0)
    return rc;
  l->vector = tack_calloc(NULL, tack_features_count(l->features) + 1, sizeof *l->vector);
  return l->vector ? 0 : TACK_ENOMEM;
}

/* Leaf l of a symbol's composition: the entry's strategy or scorer
 * instance, named after the symbol, and its filters, one chain per
 * timeframe. A lone leaf keeps the names pipelines always had
 * ("filters.ha@BTC-USD", "filters.ha@BTC-USD/4h"); in a composition each
 * leaf's filters are its own, so the leaf is named too
 * ("filters.ha@BTC-USD/trend", "filters.ha@BTC-USD/trend/4h"). */
static int make_leaf(tack_runtime *rt, rt_leaf *l, const tack_cfg_strategy *st,
                     const tack_cfg_symbol *cs, int alone, failed_set *fs, tack_diag *d) {
  int rc = make_instance(rt, &st->inst, cs->symbol, fs, d, &l->ctx);
  l->scorer = st->type == TACK_STRATEGY_SCORER;
  l->n_tfs = st->n_timeframes;
  memcpy(l->tfs, st->timeframes, st->n_timeframes * sizeof *st->timeframes);
  l->filters = tack_calloc(NULL, st->n_timeframes * st->n_filters + 1, sizeof *l->filters);
  if (!l->filters)
    return TACK_ENOMEM;
  l->n_filters = st->n_filters;
  for (size_t k = 0; k < st->n_timeframes; k++) {
    char scope[TACK_SYMBOL_MAX + 96], tf[16];
    int n = snprintf(scope, sizeof scope, "%s", cs->symbol);
    if (!alone)
      n += snprintf(scope + n, sizeof scope - (size_t)n, "/%s", st->inst.name);
    if (st->n_timeframes > 1)
      snprintf(scope + n, sizeof scope - (size_t)n, "/%s",
               tf_text(st->timeframes[k], tf, sizeof tf));
    for (size_t f = 0; f < st->n_filters; f++) {
      int frc = make_instance(rt, st->filters[f], scope, fs, d, &l->filters[k * st->n_filters + f]);
      if (frc != 0)
        return rc ? rc : frc;
    }
  }
  if (rc == 0 && l->scorer)
    rc = make_features(l, st, d);
  return rc;
}

/* The exchange, and every leaf of the symbol's composition with its
 * filters. Every instance is tried, so that one run reports every
 * problem. */
static int build_symbol(tack_runtime *rt, const tack_cfg_symbol *cs, failed_set *fs, tack_diag *d) {
  const tack_cfg_strategy *root = cs->strategy;
  tack_compose *tree = NULL;
  rt_symbol *s = NULL;
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

  if (tack_compose_new(root, cs->symbol, &tree) != 0) {
    tack_diag_add(d, cs->file, cs->line, NULL, "%s: out of memory", cs->symbol);
    return TACK_ENOMEM;
  }
  size_t n_leaves = 0;
  for (size_t i = 0; i < tack_compose_node_count(tree); i++)
    n_leaves += tack_config_children(tack_compose_node_config(tree, i)) == 0;
  int leaf_root = tack_config_children(root) == 0;
  s = symbol_new(rt, cs->symbol, n_leaves, leaf_root ? root->tf_file : root->inst.file,
                 leaf_root ? root->tf_line : root->inst.line);
  if (!s) {
    tack_compose_free(tree);
    tack_diag_add(d, cs->file, cs->line, NULL, "%s: out of memory", cs->symbol);
    return TACK_ENOMEM;
  }
  s->tree = tree;
  s->root_cfg = root;
  size_t len = strlen(root->inst.name) + strlen(cs->symbol) + 16;
  s->name = tack_alloc(NULL, len);
  if (!s->name) {
    symbol_free(s);
    tack_diag_add(d, cs->file, cs->line, NULL, "%s: out of memory", cs->symbol);
    return TACK_ENOMEM;
  }
  snprintf(s->name, len, "strategies.%s@%s", root->inst.name, cs->symbol);
  for (size_t i = 0, leaf = 0; i < tack_compose_node_count(tree); i++) {
    const tack_cfg_strategy *st = tack_compose_node_config(tree, i);
    if (tack_config_children(st) != 0)
      continue;
    rt_leaf *l = &s->leaves[leaf++];
    l->node = i;
    int lrc = make_leaf(rt, l, st, cs, leaf_root, fs, d);
    rc = rc ? rc : lrc;
  }
  if (leaf_root)
    s->root_leaf = &s->leaves[0];
  if (rc != 0 || !ex) {
    symbol_free(s);
    return rc ? rc : TACK_ECONFIG;
  }
  /* The leaves of one composition agree on gap (config.c checks it): the
   * series are shared. */
  const tack_cfg_strategy *first = tack_compose_node_config(tree, s->leaves[0].node);
  symbol_place at = {cs->file, cs->line, s->tf_file, s->tf_line, first->gap_policy};
  return finish_symbol(rt, s, ex, &at, d);
}

/* ------------------------------------------------------------------------ */
/* The trading engine's hooks                                                */
/* ------------------------------------------------------------------------ */

static rt_symbol *symbol_named(const rt_exchange *ex, const char *field);
static void tell_position(rt_leaf *l, const tack_position *pos);
static void tell_fill(rt_leaf *l, const tack_fill *fill);
static void schedule_work(tack_runtime *rt);

/* The ledger's position is the symbol's position: strategies are told it
 * (before the first bar by the hand-over, after it on every change). */
static void trading_position(void *user, tack_ctx *exc, const tack_position *pos) {
  tack_runtime *rt = user;
  rt_exchange *ex = tack_instance_route(exc);
  rt_symbol *s = ex ? symbol_named(ex, pos->symbol) : NULL;
  (void)rt;
  if (!s)
    return;
  s->position = *pos;
  s->has_position = 1;
  for (size_t i = 0; s->handed_over && i < s->n_leaves; i++)
    tell_position(&s->leaves[i], &s->position);
}

static void trading_fill(void *user, tack_ctx *exc, const tack_fill *fill) {
  tack_runtime *rt = user;
  rt_exchange *ex = tack_instance_route(exc);
  rt_symbol *s = ex ? symbol_named(ex, fill->symbol) : NULL;
  if (s && rt->obs.fill)
    rt->obs.fill(rt->obs.user, s->index, fill);
  for (size_t i = 0; s && i < s->n_leaves; i++)
    tell_fill(&s->leaves[i], fill);
}

static void trading_stop(void *user, const char *why, int error) {
  tack_runtime_request_stop(user, why, error);
}

/* Recovered: now the symbols of the exchange may get data. */
static void trading_ready(void *user, tack_ctx *exc) {
  tack_runtime *rt = user;
  rt_exchange *ex = tack_instance_route(exc);
  if (!ex || ex->subscribed || rt->phase != PHASE_RUNNING)
    return;
  ex->subscribe_due = 1;
  schedule_work(rt);
}

static tack_time trading_now(void *user) { return tack_runtime_now(user); }

static int build_trading(tack_runtime *rt, const tack_config *cfg, tack_diag *d) {
  tack_trading_hooks hooks = {rt,           trading_position, trading_fill,
                              trading_stop, trading_ready,    trading_now};
  if (!rt->store && !rt->backtest)
    tack_log_warn("trading without a store: orders and fills are not persisted, and a restart "
                  "cannot recover them");
  /* A backtest keeps no journal: the store only serves its candles. */
  int rc = tack_trading_new(&cfg->trading, rt->backtest ? NULL : rt->store, rt->bot, &hooks,
                            &rt->trading);
  if (rc != 0) {
    tack_diag_add(d, cfg->path, 0, NULL, "the trading engine cannot start: %s (%s)",
                  tack_strerror(rc), tack_err_name(rc));
    return rc;
  }
  for (size_t i = 0; i < cfg->n_symbols && rc == 0; i++) {
    const tack_cfg_symbol *cs = &cfg->symbols[i];
    rt_exchange *ex = cs->enabled ? exchange_for(rt, cs->exchange) : NULL;
    if (!ex)
      continue;
    rc = tack_trading_add_account(rt->trading, ex->ctx);
    if (rc == 0)
      rc = tack_trading_add_symbol(rt->trading, ex->ctx, cs->symbol, &cfg->trading.symbols[i], 1);
    if (rc != 0)
      tack_diag_add(d, cs->file, cs->line, NULL, "%s cannot be traded: %s (%s)", cs->symbol,
                    tack_strerror(rc), tack_err_name(rc));
  }
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
  if (first == 0 && cfg->trading.enabled)
    first = build_trading(rt, cfg, d);
  return first;
}

/* ------------------------------------------------------------------------ */
/* The pipeline                                                              */
/* ------------------------------------------------------------------------ */

/* The symbol's signal: the root's new opinion. */
static void record_signal(rt_symbol *s, const tack_signal *sig) {
  s->last = *sig;
  s->has_signal = 1;
  s->signals++;
  if (s->rt->obs.signal)
    s->rt->obs.signal(s->rt->obs.user, s->index, sig);
  tack_log(TACK_LOG_INFO, NULL, "%s signal %+.2f (conf %.2f)%s%s", s->symbol, sig->strength,
           sig->confidence, sig->reason[0] ? " " : "", sig->reason);
  if (s->rt->trading && s->rt->phase == PHASE_RUNNING)
    tack_trading_on_signal(s->rt->trading, s->ex->ctx, s->symbol, sig);
}

/* A leaf spoke: check and stamp its signal and hand it to the tree. A
 * leaf that is the root is the symbol's signal itself, each time it
 * speaks; a composed root is evaluated when its bars close. */
static void leaf_spoke(tack_runtime *rt, rt_leaf *l, tack_signal *sig, tack_time ts) {
  rt_symbol *s = l->sym;
  if (tack_signal_normalize(sig) != 0) {
    s->errors++;
    tack_log(TACK_LOG_ERROR, tack_instance_name(l->ctx),
             "%s: signal refused: strength %g, confidence %g must be finite", s->symbol,
             sig->strength, sig->confidence);
    return;
  }
  if (sig->ts == 0)
    sig->ts = ts ? ts : tack_runtime_now(rt);
  tack_compose_leaf_signal(s->tree, l->node, sig);
  if (l == s->root_leaf)
    record_signal(s, sig);
}

/* A leaf's call failed: counted, and logged as an error unless it is the
 * same failure as its previous one (a scorer without a model fails on
 * every bar; one line says so, the rest go to the debug level). */
static void leaf_failed(rt_leaf *l, const char *call, int rc) {
  l->sym->errors++;
  tack_log(rc == l->last_error ? TACK_LOG_DEBUG : TACK_LOG_ERROR, tack_instance_name(l->ctx),
           "%s: %s failed: %s (%s)", l->sym->symbol, call, tack_strerror(rc), tack_err_name(rc));
  l->last_error = rc;
}

/* The scorer's score() on the leaf's feature vector. */
static int score_leaf(rt_leaf *l, tack_signal *sig) {
  if (!tack_instance_started(l->ctx))
    return TACK_ESTATE;
  const tack_scorer_vtable *vt = tack_instance_desc(l->ctx)->vtable;
  return vt->score(tack_instance_self(l->ctx), l->vector, tack_features_count(l->features), sig);
}

static void to_leaf(tack_runtime *rt, rt_leaf *l, const tack_bar *bar) {
  tack_signal sig;
  /* What a plugin may leave unset: no time (the bar's is used) and no
   * reason. Not a memset: this runs for every leaf on every bar. */
  sig.ts = 0;
  sig.strength = 0;
  sig.confidence = 0;
  sig.reason[0] = '\0';
  if (!l->scorer) {
    int rc = tack_instance_strategy_on_bar(l->ctx, bar, &sig);
    if (rc == 1)
      leaf_spoke(rt, l, &sig, bar->ts);
    else if (rc != 0)
      leaf_failed(l, "on_bar", rc);
    return;
  }
  int rc = tack_features_update(l->features, bar, l->vector);
  if (rc < 0) {
    /* An indicator refused the bar: its series may be out of step with
     * the others now, so the features start over. */
    if (rc != TACK_EINVAL)
      tack_features_reset(l->features);
    leaf_failed(l, "features", rc);
    return;
  }
  if (rc == 0)
    return;
  rc = score_leaf(l, &sig);
  if (rc == 0)
    leaf_spoke(rt, l, &sig, bar->ts);
  else
    leaf_failed(l, "score", rc);
}

/* A leaf's filters run in order; a filter may turn one bar into several,
 * each of which goes through the rest of the chain. Stage k writes only
 * its own slice of the leaf's buffer, so deeper stages never overwrite
 * what it iterates. */
static void feed(tack_runtime *rt, rt_leaf *l, size_t chain, size_t stage, const tack_bar *bar) {
  if (stage == l->n_filters) {
    to_leaf(rt, l, bar);
    return;
  }
  tack_ctx *filter = l->filters[chain * l->n_filters + stage];
  tack_bar *out = l->buf + stage * RT_FILTER_CAP;
  uint32_t n = 0;
  int rc = tack_instance_filter_update(filter, bar, out, RT_FILTER_CAP, &n);
  if (rc != 0) {
    l->sym->errors++;
    if (rc == TACK_ENOSPC)
      tack_log(TACK_LOG_ERROR, tack_instance_name(filter),
               "%s: update would make more than %d bars from one; the bar was dropped",
               l->sym->symbol, RT_FILTER_CAP);
    else
      tack_log(TACK_LOG_ERROR, tack_instance_name(filter), "%s: update failed: %s (%s)",
               l->sym->symbol, tack_strerror(rc), tack_err_name(rc));
    return;
  }
  if (n > RT_FILTER_CAP)
    n = RT_FILTER_CAP;
  for (uint32_t i = 0; i < n; i++)
    feed(rt, l, chain, stage + 1, &out[i]);
}

/* ------------------------------------------------------------------------ */
/* Positions and regime switches                                             */
/* ------------------------------------------------------------------------ */

/* The position the exchange last reported for s, else flat. */
static tack_position current_position(tack_runtime *rt, const rt_symbol *s) {
  tack_position pos;
  if (s->has_position)
    return s->position;
  memset(&pos, 0, sizeof pos);
  tack_copy_text(pos.symbol, sizeof pos.symbol, s->symbol);
  pos.ts = tack_runtime_now(rt);
  return pos;
}

static int has_strategy_call(const tack_strategy_vtable *vt, size_t offset, size_t size,
                             const void *fn) {
  return vt->size >= offset + size && fn != NULL;
}

static void tell_position(rt_leaf *l, const tack_position *pos) {
  if (l->scorer || !tack_instance_started(l->ctx))
    return;
  const tack_strategy_vtable *vt = tack_instance_desc(l->ctx)->vtable;
  if (has_strategy_call(vt, offsetof(tack_strategy_vtable, on_position), sizeof vt->on_position,
                        (const void *)vt->on_position))
    vt->on_position(tack_instance_self(l->ctx), pos);
}

static void tell_fill(rt_leaf *l, const tack_fill *fill) {
  if (l->scorer || !tack_instance_started(l->ctx))
    return;
  const tack_strategy_vtable *vt = tack_instance_desc(l->ctx)->vtable;
  if (has_strategy_call(vt, offsetof(tack_strategy_vtable, on_fill), sizeof vt->on_fill,
                        (const void *)vt->on_fill))
    vt->on_fill(tack_instance_self(l->ctx), fill);
}

/* Once, before the symbol's first bar: a strategy may start mid-trade. */
static void hand_over(tack_runtime *rt, rt_symbol *s) {
  tack_position pos = current_position(rt, s);
  s->handed_over = 1;
  for (size_t i = 0; i < s->n_leaves; i++)
    tell_position(&s->leaves[i], &pos);
}

/* A switch goes to the store under the regime entry's own namespace
 * (strategies, "<entry>@<symbol>"): "regime" holds the regime now,
 * "switches" their count, "switch/<number>" each one. */
static void store_switch(tack_runtime *rt, rt_symbol *s, const tack_compose_switch *sw) {
  char inst[TACK_SYMBOL_MAX + 80], key[48], value[256], at[40], count[24];
  int rc;
  if (!rt->store)
    return;
  snprintf(inst, sizeof inst, "%s@%s", sw->entry, s->symbol);
  tack_store_ns ns = {rt->bot, "strategies", inst};
  rc = tack_store_kv_put(rt->store, &ns, "regime", 6, sw->to, strlen(sw->to));
  if (rc == 0 && sw->from) {
    snprintf(key, sizeof key, "switch/%012llu", (unsigned long long)sw->number);
    snprintf(value, sizeof value, "%s %s -> %s detector %+.6g held %u on_switch %s",
             ts_text(sw->at, at, sizeof at), sw->from, sw->to, sw->detector, sw->held,
             tack_config_switch_name(sw->on_switch));
    snprintf(count, sizeof count, "%llu", (unsigned long long)sw->number);
    rc = tack_store_kv_put(rt->store, &ns, key, strlen(key), value, strlen(value));
    if (rc == 0)
      rc = tack_store_kv_put(rt->store, &ns, "switches", 8, count, strlen(count));
  }
  if (rc != 0) {
    s->errors++;
    tack_log(TACK_LOG_ERROR, NULL, "%s: regime %s: cannot record the switch in the store: %s (%s)",
             s->symbol, sw->entry, tack_strerror(rc), tack_err_name(rc));
  }
}

/* compose.c tells of a regime switch: log it, store it, and tell the
 * strategies switched in the position they take over. */
static void on_switch(void *data, const tack_compose_switch *sw) {
  rt_symbol *s = data;
  tack_runtime *rt = s->rt;
  char at[40], policy[64];
  if (!sw->from) {
    tack_log(TACK_LOG_INFO, NULL, "%s regime %s: starts in %s (detector %+.3f at %s)", s->symbol,
             sw->entry, sw->to, sw->detector, ts_text(sw->at, at, sizeof at));
    store_switch(rt, s, sw);
    return;
  }
  if (sw->on_switch == TACK_SWITCH_REDUCE)
    snprintf(policy, sizeof policy, "reduce: %+.2f until %s speaks", sw->emitted,
             tack_compose_node_name(s->tree, sw->to_node));
  else if (sw->on_switch == TACK_SWITCH_FLATTEN)
    snprintf(policy, sizeof policy, "flatten: 0 until %s speaks",
             tack_compose_node_name(s->tree, sw->to_node));
  else
    snprintf(policy, sizeof policy, "keep");
  tack_log(TACK_LOG_INFO, NULL,
           "%s regime %s: switch %s -> %s at %s: detector %+.3f matched %s for %u bar%s; on_switch "
           "%s",
           s->symbol, sw->entry, sw->from, sw->to, ts_text(sw->at, at, sizeof at), sw->detector,
           sw->to, sw->held, sw->held == 1 ? "" : "s", policy);
  store_switch(rt, s, sw);
  tack_position pos = current_position(rt, s);
  for (size_t i = 0; i < s->n_leaves; i++)
    if (tack_compose_contains(s->tree, sw->to_node, s->leaves[i].node))
      tell_position(&s->leaves[i], &pos);
}

/* The composed nodes of s that are evaluated on bars of tf, at the end of
 * such a bar; the root's new signal is the symbol's. */
static void evaluate(rt_symbol *s, uint32_t tf, tack_time at) {
  tack_compose_env env = {s->has_position, s->position.quantity, on_switch, s};
  tack_signal sig;
  if (tack_compose_evaluate(s->tree, tf, at, &env) == 1 && tack_compose_root_signal(s->tree, &sig))
    record_signal(s, &sig);
}

/*
 * The delivery order (docs/runtime.md): by the instant a bar closes, and of
 * bars that close at the same instant the longer timeframe first. At 04:00
 * the strategy gets the 4h bar [00:00, 04:00), then the 1h bar [03:00,
 * 04:00), then the 5m bar [03:55, 04:00): when a bar of the driving
 * timeframe arrives, every higher bar that closed by its end is already
 * known, and no higher bar still forming ever is.
 */
static int delivered_after(const rt_pending *p, tack_time end, uint32_t tf) {
  tack_time e = bar_end(&p->bar);
  return e > end || (e == end && p->bar.timeframe_s < tf);
}

/* Queue a closed bar of series se for delivery once the current input is
 * done. Inputs arrive in time order, so a bar lands at or near the end. */
static void enqueue(rt_series *se, const tack_bar *bar) {
  rt_symbol *s = se->sym;
  if (s->n_queue == s->cap_queue) {
    size_t cap = s->cap_queue * 2;
    rt_pending *q = tack_realloc(NULL, s->queue, cap * sizeof *q);
    if (!q) {
      char tf[16], at[40];
      s->errors++;
      tack_log(TACK_LOG_ERROR, NULL, "%s: out of memory: the %s bar of %s was not delivered",
               s->symbol, tf_text(se->tf, tf, sizeof tf), ts_text(bar->ts, at, sizeof at));
      return;
    }
    s->queue = q;
    s->cap_queue = cap;
  }
  tack_time end = bar_end(bar);
  size_t i = s->n_queue;
  for (; i > 0 && delivered_after(&s->queue[i - 1], end, bar->timeframe_s); i--)
    s->queue[i] = s->queue[i - 1];
  s->queue[i].bar = *bar;
  s->queue[i].series = se;
  s->n_queue++;
}

/* Deliver the queued bars, in order: each to every leaf chain of its
 * timeframe, then the composition is evaluated. */
static void flush(tack_runtime *rt, rt_symbol *s) {
  for (size_t i = 0; i < s->n_queue; i++) {
    const rt_series *se = s->queue[i].series;
    const tack_bar *bar = &s->queue[i].bar;
    s->delivered++;
    if (!s->handed_over)
      hand_over(rt, s);
    for (size_t c = 0; c < se->n_consumers; c++)
      feed(rt, se->consumers[c].leaf, se->consumers[c].chain, 0, bar);
    if (!s->root_leaf)
      evaluate(s, se->tf, bar_end(bar));
    /* Built from trades: the observer sees the bars of the smallest
     * timeframe (a venue's own bars are shown to it as they come). */
    if (rt->obs.bar && s->source == SRC_TRADES && se->tf == s->series[0].tf)
      rt->obs.bar(rt->obs.user, s->index, bar);
  }
  s->n_queue = 0;
}

/* A bar of the source timeframe that is itself one of the strategy's: only
 * closed bars, each interval once and in time order. */
static void pass_through(rt_series *se, const tack_bar *bar) {
  if (!(bar->flags & TACK_BAR_CLOSED))
    return; /* a provisional bar never reaches a strategy */
  if (se->has_last && bar->ts <= se->last_ts) {
    se->sym->input_dropped = 1;
    return;
  }
  se->has_last = 1;
  se->last_ts = bar->ts;
  enqueue(se, bar);
}

/* A bar whose interval began before the data did: counted, logged once per
 * symbol, never delivered (a 4h bar of three minutes would mislead every
 * indicator fed with it). */
static void drop_partial(rt_symbol *s, const tack_bar *bar) {
  char tf[16], at[40];
  if (s->partial++ == 0)
    tack_log(TACK_LOG_INFO, NULL,
             "%s: the %s bar of %s began before the data did and is not delivered; every "
             "timeframe starts at its first whole interval",
             s->symbol, tf_text(bar->timeframe_s, tf, sizeof tf), ts_text(bar->ts, at, sizeof at));
}

/* A source bar (streamed, or built from trades) into every series. */
static void from_source(rt_symbol *s, const tack_bar *bar) {
  if ((bar->flags & TACK_BAR_CLOSED) && !s->has_start) {
    s->start = bar->ts;
    s->has_start = 1;
  }
  for (size_t k = 0; k < s->n_series; k++) {
    rt_series *se = &s->series[k];
    if (!se->rs) {
      pass_through(se, bar);
      continue;
    }
    int rc = tack_bar_resampler_push(se->rs, bar);
    if (rc < 0) {
      char tf[16], at[40];
      s->errors++;
      tack_log(TACK_LOG_ERROR, NULL, "%s: making %s bars, the bar of %s was refused: %s (%s)",
               s->symbol, tf_text(se->tf, tf, sizeof tf), ts_text(bar->ts, at, sizeof at),
               tack_strerror(rc), tack_err_name(rc));
    }
  }
}

static void on_built(void *data, const tack_bar *bar) {
  rt_symbol *s = data;
  if (!(bar->flags & TACK_BAR_CLOSED))
    return;
  if (!s->has_start && s->has_first_trade && bar->ts < s->first_trade) {
    drop_partial(s, bar); /* the first trade came after its interval began */
    return;
  }
  from_source(s, bar);
}

static void on_resampled(void *data, const tack_bar *bar) {
  rt_series *se = data;
  if (!(bar->flags & TACK_BAR_CLOSED))
    return;
  if (!se->sym->has_start || bar->ts < se->sym->start) {
    drop_partial(se->sym, bar);
    return;
  }
  enqueue(se, bar);
}

static void on_bar_dropped(void *data, const tack_bar *in, int reason) {
  rt_series *se = data;
  (void)in;
  (void)reason;
  se->sym->input_dropped = 1;
}

static void on_trade_dropped(void *data, const tack_trade *trade, int reason) {
  rt_symbol *s = data;
  (void)trade;
  (void)reason;
  s->input_dropped = 1;
}

/* Count an input that came too late or twice (its interval was already
 * closed): the first one is logged as a warning, the rest at debug level
 * and in the summary. */
static void note_dropped(rt_symbol *s, const char *what, tack_time ts) {
  char at[40];
  if (!s->input_dropped)
    return;
  s->input_dropped = 0;
  tack_log(s->dropped++ == 0 ? TACK_LOG_WARN : TACK_LOG_DEBUG, tack_instance_name(s->ex->ctx),
           "%s: %s of %s arrived after its interval was closed, or twice: not used (counted in "
           "the summary)",
           s->symbol, what, ts_text(ts, at, sizeof at));
}

/* ------------------------------------------------------------------------ */
/* Bars built from trades: closing them on time                              */
/* ------------------------------------------------------------------------ */

/* How long after its end an interval stays open for trades still on their
 * way from the venue: a tenth of the bar, at most a second. */
static tack_time close_grace(const rt_symbol *s) {
  tack_time g = tf_ns(s->source_tf) / 10;
  return g < TACK_NS_PER_SEC ? g : TACK_NS_PER_SEC;
}

/* The venue's clock: the time of the trade that set it, plus the host time
 * since. Live it trails the host clock by the feed's latency; for a venue
 * replaying history it runs with the replay, so no interval of it is closed
 * by the wall clock before its trades arrive. */
static tack_time feed_now(const rt_symbol *s, tack_time host_now) {
  return s->feed_ts + (host_now - s->feed_host);
}

/* The venue time by which the next bar must close: the end of the earliest
 * forming bar, and with gap filling at least the end of the current
 * interval of the smallest timeframe (a filler is due then). INT64_MAX
 * when nothing is due. */
static tack_time next_due(const rt_symbol *s, tack_time closing) {
  tack_time due = INT64_MAX;
  tack_bar b;
  if (tack_bar_builder_forming(s->builder, &b))
    due = bar_end(&b);
  for (size_t k = 0; k < s->n_series; k++) {
    if (s->series[k].rs && tack_bar_resampler_forming(s->series[k].rs, &b) && bar_end(&b) < due)
      due = bar_end(&b);
  }
  if (s->gap_policy == TACK_BARS_GAP_FILL && closing >= 0) {
    tack_time tf = tf_ns(s->source_tf);
    tack_time next = closing - closing % tf + tf;
    if (next < due)
      due = next;
  }
  return due;
}

static void close_cb(uv_timer_t *h);

/* (Re)arm the timer that closes s's bars when the venue's clock passes the
 * end of their interval, with no further trade needed. */
static void arm_close_timer(tack_runtime *rt, rt_symbol *s) {
  if (!s->has_feed || !s->timer_open || rt->phase != PHASE_RUNNING)
    return;
  tack_time grace = close_grace(s);
  tack_time now = feed_now(s, tack_runtime_now(rt));
  tack_time due = next_due(s, now - grace);
  if (due == INT64_MAX) {
    uv_timer_stop(&s->close_timer);
    return;
  }
  /* At least 1 ms: a timer due at once would run again within the same
   * loop iteration, starving everything else if the bar did not close. */
  tack_time wait = due + grace - now;
  uint64_t ms = wait <= 1000000 ? 1 : (uint64_t)((wait + 999999) / 1000000);
  uv_timer_start(&s->close_timer, close_cb, ms, 0);
}

static void close_cb(uv_timer_t *h) {
  rt_symbol *s = h->data;
  tack_runtime *rt = s->rt;
  if (rt->phase != PHASE_RUNNING)
    return;
  tack_time closing = feed_now(s, tack_runtime_now(rt)) - close_grace(s);
  if (closing >= 0) {
    /* The builder first: what it closes feeds the resamplers, which then
     * close whatever ended by the same instant. */
    tack_bar_builder_close_until(s->builder, closing);
    for (size_t k = 0; k < s->n_series; k++)
      if (s->series[k].rs)
        tack_bar_resampler_close_until(s->series[k].rs, closing);
    flush(rt, s);
  }
  arm_close_timer(rt, s);
}

/* ------------------------------------------------------------------------ */
/* Exchange events                                                           */
/* ------------------------------------------------------------------------ */

/* A backtest's clock is the venue's: the latest time any exchange reported.
 * The paper venue stamps a fill, an order update, a position with its own
 * clock, the time of the candle it matches, before it publishes that
 * candle. A host clock behind it would stamp what answers the fill (the
 * ledger's position after it, the next order) earlier than the fill itself,
 * as no wall clock ever does: a strategy that applies only fills newer than
 * its position (a position of time T includes every fill up to T) would
 * count that fill twice, and a replay would no longer equal `tack run`. */
static void replay_reached(tack_runtime *rt, tack_time t) {
  if (rt->backtest && t > rt->last_now)
    rt->last_now = t;
}

static int cmp_symbol(const void *a, const void *b) {
  const rt_symbol *x = *(rt_symbol *const *)a, *y = *(rt_symbol *const *)b;
  return strcmp(x->symbol, y->symbol);
}

static int cmp_symbol_key(const void *key, const void *elem) {
  return strcmp(key, (*(rt_symbol *const *)elem)->symbol);
}

/* The symbol an event of exc is for, or NULL with *rc set: TACK_ESTATE
 * before the run, TACK_ECLOSED once stopping, TACK_ENOENT for a symbol
 * nobody subscribed. */
static rt_symbol *route_event(tack_runtime *rt, rt_exchange *ex, const char *symbol,
                              const char *what, int *rc) {
  /* While the trader flattens, prices still reach it (not the strategies). */
  if (rt->phase != PHASE_RUNNING && !(rt->phase == PHASE_FLATTENING && rt->trading)) {
    if (rt->phase == PHASE_IDLE) {
      *rc = TACK_ESTATE;
      return NULL;
    }
    /* Stopping: the consumers are already stopped. */
    tack_log(TACK_LOG_DEBUG, tack_instance_name(ex->ctx),
             "%s %s after the stop began: not passed on", symbol, what);
    *rc = TACK_ECLOSED;
    return NULL;
  }
  rt_symbol **hit =
      ex->n_syms ? bsearch(symbol, ex->syms, ex->n_syms, sizeof *ex->syms, cmp_symbol_key) : NULL;
  if (!hit) {
    if (ex->unrouted++ == 0)
      tack_log(TACK_LOG_WARN, tack_instance_name(ex->ctx),
               "%s for %s, which no enabled symbol subscribed: ignored (counted in the summary)",
               what, symbol);
    *rc = TACK_ENOENT;
    return NULL;
  }
  return *hit;
}

int tack_runtime_ex_bar(tack_runtime *rt, tack_ctx *exc, const char *symbol, const tack_bar *bar) {
  rt_exchange *ex = tack_instance_route(exc);
  int rc = 0;
  if (!ex)
    return TACK_ESTATE; /* an exchange outside the pipeline */
  rt_symbol *s = route_event(rt, ex, symbol, "bar", &rc);
  if (!s)
    return rc;
  const char *why = NULL;
  char got[16], want[16], at[40];
  if (!isfinite(bar->open) || !isfinite(bar->high) || !isfinite(bar->low) ||
      !isfinite(bar->close) || !isfinite(bar->volume))
    why = "has a non-finite value";
  else if (bar->volume < 0)
    why = "has a negative volume";
  else if (s->source != SRC_BARS)
    why = "arrived, but trades were subscribed for it";
  if (why) {
    s->errors++;
    tack_log(TACK_LOG_ERROR, tack_instance_name(exc), "%s: bar of %s %s: refused", symbol,
             ts_text(bar->ts, at, sizeof at), why);
    return TACK_EINVAL;
  }
  if (bar->timeframe_s != s->source_tf) {
    s->errors++;
    tack_log(TACK_LOG_ERROR, tack_instance_name(exc), "%s: %s bar where %s was subscribed: refused",
             symbol, tf_text(bar->timeframe_s, got, sizeof got),
             tf_text(s->source_tf, want, sizeof want));
    return TACK_EINVAL;
  }
  /* Bars of every timeframe share one grid, from the epoch in UTC (tack.h):
   * resampling and the delivery order rely on it. */
  if (bar->ts < 0 || bar->ts % tf_ns(bar->timeframe_s) != 0 ||
      bar->ts > INT64_MAX - tf_ns(s->series[s->n_series - 1].tf)) {
    s->errors++;
    tack_log(TACK_LOG_ERROR, tack_instance_name(exc),
             "%s: %s bar of %s does not start on its interval (a multiple of %s since "
             "1970-01-01T00:00:00Z): refused",
             symbol, tf_text(bar->timeframe_s, got, sizeof got), ts_text(bar->ts, at, sizeof at),
             got);
    return TACK_EINVAL;
  }
  s->bars++;
  if (bar->flags & TACK_BAR_CLOSED)
    replay_reached(rt, bar_end(bar));
  if (rt->trading && (bar->flags & TACK_BAR_CLOSED))
    tack_trading_on_bar(rt->trading, exc, s->symbol, bar);
  /* Stopping: the trader still needs prices, the strategies are done. */
  if (rt->phase == PHASE_RUNNING) {
    from_source(s, bar);
    note_dropped(s, "bar", bar->ts);
    flush(rt, s);
  }
  if (rt->obs.bar && (bar->flags & TACK_BAR_CLOSED))
    rt->obs.bar(rt->obs.user, s->index, bar);
  return 0;
}

int tack_runtime_ex_trade(tack_runtime *rt, tack_ctx *exc, const char *symbol,
                          const tack_trade *trade) {
  rt_exchange *ex = tack_instance_route(exc);
  int rc = 0;
  if (!ex)
    return TACK_ESTATE;
  ex->events[TACK_RT_EV_TRADE]++;
  rt_symbol *s = route_event(rt, ex, symbol, "trade", &rc);
  if (!s)
    return rc;
  replay_reached(rt, trade->ts);
  if (rt->trading && isfinite(trade->price))
    tack_trading_on_trade(rt->trading, exc, s->symbol, trade);
  if (rt->phase != PHASE_RUNNING)
    return 0;
  if (s->source != SRC_TRADES)
    return 0; /* bars feed this symbol; nothing else consumes trades yet */
  s->trades++;
  if (!s->has_first_trade || trade->ts < s->first_trade) {
    s->first_trade = trade->ts;
    s->has_first_trade = 1;
  }
  rc = tack_bar_builder_push(s->builder, trade);
  if (rc < 0) {
    char at[40];
    s->errors++;
    tack_log(TACK_LOG_ERROR, tack_instance_name(exc),
             "%s: trade of %s (price %g, size %g) refused: a trade needs a time from 1970 on, a "
             "finite price and a finite size of 0 or more",
             symbol, ts_text(trade->ts, at, sizeof at), trade->price, trade->size);
    return rc;
  }
  if (rc == TACK_BARS_APPLIED) {
    /* The venue's clock only moves forward: an older trade leaves it. */
    tack_time host = tack_runtime_now(rt);
    if (!s->has_feed || trade->ts > feed_now(s, host)) {
      s->feed_ts = trade->ts;
      s->feed_host = host;
      s->has_feed = 1;
    }
  }
  note_dropped(s, "trade", trade->ts);
  flush(rt, s);
  arm_close_timer(rt, s);
  return 0;
}

/* The leaf ctx is, or NULL when it feeds no symbol. */
static rt_leaf *find_leaf(const tack_runtime *rt, const tack_ctx *ctx) {
  const rt_leaf *route = tack_instance_route(ctx);
  for (size_t i = 0; route && i < rt->n_sym; i++)
    for (size_t k = 0; k < rt->sym[i]->n_leaves; k++)
      if (&rt->sym[i]->leaves[k] == route && route->ctx == ctx)
        return &rt->sym[i]->leaves[k];
  return NULL;
}

int tack_runtime_emit_signal(tack_runtime *rt, tack_ctx *ctx, const tack_signal *sig) {
  rt_leaf *l = find_leaf(rt, ctx);
  if (!l) {
    tack_log(TACK_LOG_WARN, tack_instance_name(ctx),
             "emit_signal: this instance feeds no symbol; signal %+.2f dropped (TACK_ENOTSUP)",
             sig->strength);
    return TACK_ENOTSUP;
  }
  if (rt->phase != PHASE_RUNNING)
    return TACK_ESTATE;
  tack_signal copy = *sig;
  leaf_spoke(rt, l, &copy, 0);
  return 0;
}

/* The symbol of ex named by a fixed-size text field, or NULL. */
static rt_symbol *symbol_named(const rt_exchange *ex, const char *field) {
  char name[TACK_SYMBOL_MAX];
  tack_copy_text(name, sizeof name, field);
  rt_symbol **hit =
      ex->n_syms ? bsearch(name, ex->syms, ex->n_syms, sizeof *ex->syms, cmp_symbol_key) : NULL;
  return hit ? *hit : NULL;
}

int tack_runtime_ex_position(tack_runtime *rt, tack_ctx *exc, const tack_position *pos) {
  rt_exchange *ex = tack_instance_route(exc);
  if (!ex)
    return TACK_ESTATE;
  ex->events[TACK_RT_EV_POSITION]++;
  if (rt->phase == PHASE_IDLE)
    return TACK_ESTATE;
  replay_reached(rt, pos->ts);
  /* A trading bot's position is its ledger's; the venue's is compared with
   * it when reconciling. */
  if (rt->trading)
    return tack_trading_on_position(rt->trading, exc, pos);
  if (rt->phase != PHASE_RUNNING)
    return TACK_ECLOSED;
  rt_symbol *s = symbol_named(ex, pos->symbol);
  if (!s)
    return 0; /* a position in a market this bot does not trade */
  if (!isfinite(pos->quantity)) {
    s->errors++;
    tack_log(TACK_LOG_ERROR, tack_instance_name(exc),
             "%s: position with quantity %g: refused, a quantity must be finite", s->symbol,
             pos->quantity);
    return TACK_EINVAL;
  }
  s->position = *pos;
  s->position.symbol[TACK_SYMBOL_MAX - 1] = '\0';
  s->has_position = 1;
  /* Before the first bar the hand-over tells it; after, every change. */
  for (size_t i = 0; s->handed_over && i < s->n_leaves; i++)
    tell_position(&s->leaves[i], &s->position);
  return 0;
}

int tack_runtime_ex_fill(tack_runtime *rt, tack_ctx *exc, const tack_fill *fill) {
  rt_exchange *ex = tack_instance_route(exc);
  if (!ex)
    return TACK_ESTATE;
  ex->events[TACK_RT_EV_FILL]++;
  if (rt->phase == PHASE_IDLE)
    return TACK_ESTATE;
  replay_reached(rt, fill->ts);
  /* Booked first; the strategies hear of it once it is in the ledger. */
  if (rt->trading)
    return tack_trading_on_fill(rt->trading, exc, fill);
  if (rt->phase != PHASE_RUNNING)
    return TACK_ECLOSED;
  rt_symbol *s = symbol_named(ex, fill->symbol);
  for (size_t i = 0; s && i < s->n_leaves; i++)
    tell_fill(&s->leaves[i], fill);
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

/* Counted, then handed to the trading engine when the bot trades. */
static int trading_event(tack_runtime *rt, tack_ctx *exc, int ev) {
  int rc = tack_runtime_ex_event(rt, exc, ev);
  if (rc != 0)
    return rc;
  if (rt->phase == PHASE_IDLE)
    return TACK_ESTATE;
  return rt->trading ? 1 : 0;
}

int tack_runtime_ex_instrument(tack_runtime *rt, tack_ctx *exc, const tack_instrument *in) {
  int rc = trading_event(rt, exc, TACK_RT_EV_INSTRUMENT);
  return rc == 1 ? tack_trading_on_instrument(rt->trading, exc, in) : rc;
}

int tack_runtime_ex_order_update(tack_runtime *rt, tack_ctx *exc, const tack_order_update *u) {
  int rc = trading_event(rt, exc, TACK_RT_EV_ORDER_UPDATE);
  if (rc >= 0 && rt->phase != PHASE_IDLE)
    replay_reached(rt, u->ts);
  return rc == 1 ? tack_trading_on_order_update(rt->trading, exc, u) : rc;
}

int tack_runtime_ex_balance(tack_runtime *rt, tack_ctx *exc, const tack_balance *b) {
  int rc = trading_event(rt, exc, TACK_RT_EV_BALANCE);
  if (rc >= 0 && rt->phase != PHASE_IDLE)
    replay_reached(rt, b->ts);
  return rc == 1 ? tack_trading_on_balance(rt->trading, exc, b) : rc;
}

int tack_runtime_ex_done(tack_runtime *rt, tack_ctx *exc, uint64_t req, int status) {
  int rc = trading_event(rt, exc, TACK_RT_EV_DONE);
  return rc == 1 ? tack_trading_on_done(rt->trading, exc, req, status) : rc;
}

int tack_runtime_submit_order(tack_runtime *rt, tack_ctx *ctx, const tack_order_request *req,
                              char *client_id_out) {
  rt_leaf *l = find_leaf(rt, ctx);
  if (!rt->trading || !l)
    return TACK_ENOTSUP;
  if (rt->phase != PHASE_RUNNING)
    return TACK_ESTATE;
  return tack_trading_submit(rt->trading, l->sym->ex->ctx, l->sym->symbol, req, client_id_out);
}

int tack_runtime_cancel_order(tack_runtime *rt, tack_ctx *ctx, const char *client_id) {
  rt_leaf *l = find_leaf(rt, ctx);
  if (!rt->trading || !l)
    return TACK_ENOTSUP;
  return tack_trading_cancel(rt->trading, l->sym->ex->ctx, client_id);
}

struct tack_trading *tack_runtime_trading(tack_runtime *rt) {
  return rt->trading;
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
  if (rt->backtest) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    rt->stop_wall = (tack_time)ts.tv_sec * TACK_NS_PER_SEC + ts.tv_nsec;
    rt->stop_data = rt->last_now;
  }
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

/* What a symbol's subscription is for, for the log: " (5m, 4h made from
 * them)", or "" when the bars pass through as they come. */
static const char *plan_text(const rt_symbol *s, char *buf, size_t cap) {
  char tfs[160];
  size_t at = 0;
  tfs[0] = '\0';
  for (size_t k = 0; k < s->n_series; k++) {
    char one[16];
    if (s->source == SRC_BARS && s->series[k].tf == s->source_tf)
      continue;
    int n = snprintf(tfs + at, sizeof tfs - at, "%s%s", at ? ", " : "",
                     tf_text(s->series[k].tf, one, sizeof one));
    if (n < 0 || (size_t)n >= sizeof tfs - at)
      break;
    at += (size_t)n;
  }
  if (at == 0)
    buf[0] = '\0';
  else
    snprintf(buf, cap, " (%s bars made from them)", tfs);
  return buf;
}

/* The exchange streams no bars that divide the strategy's timeframes and
 * refused trades: nothing can feed the symbol, so the run stops. The
 * message points at the strategy's timeframes, the setting to change. */
static void refuse_source(tack_runtime *rt, rt_exchange *ex, rt_symbol *s, int rc) {
  char place[512], have[160], bars[256], need[160], tf[16], why[160];
  place[0] = '\0';
  if (s->tf_file && s->tf_line > 0)
    snprintf(place, sizeof place, "%s:%d: ", s->tf_file, s->tf_line);
  else if (s->tf_file)
    snprintf(place, sizeof place, "%s: ", s->tf_file);
  list_timeframes(ex, have, sizeof have);
  if (ex->caps.bar_timeframes[0])
    snprintf(bars, sizeof bars, "streams %s bars, none of which divides %s,", have,
             tf_text(s->series[0].tf, tf, sizeof tf));
  else
    tack_copy_text(bars, sizeof bars, "streams no bars");
  tack_log(TACK_LOG_ERROR, NULL,
           "%s%s: strategy %s needs %s bars, but %s (plugin %s) %s and refused to stream "
           "trades to build them from (%s); give the strategy timeframes that are multiples of "
           "one the exchange streams",
           place, s->symbol, s->name, series_text(s, need, sizeof need),
           tack_instance_name(ex->ctx), tack_instance_desc(ex->ctx)->id, bars, tack_err_name(rc));
  snprintf(why, sizeof why, "%s cannot get its bars from %s", s->symbol,
           tack_instance_name(ex->ctx));
  tack_runtime_request_stop(rt, why, 1);
}

static void subscribe_all(tack_runtime *rt, rt_exchange *ex) {
  ex->subscribe_due = 0;
  ex->subscribed = 1;
  for (size_t i = 0; i < ex->n_syms && rt->phase == PHASE_RUNNING; i++) {
    rt_symbol *s = ex->syms[i];
    tack_subscription sub;
    char what[232], plan[200]; /* what holds plan and a word */
    memset(&sub, 0, sizeof sub);
    tack_copy_text(sub.symbol, sizeof sub.symbol, s->symbol);
    if (s->source == SRC_BARS) {
      sub.channel = TACK_SUB_BARS;
      sub.timeframe_s = s->source_tf;
      snprintf(what, sizeof what, "%s bars", tf_text(s->source_tf, plan, sizeof plan));
    } else {
      sub.channel = TACK_SUB_TRADES;
      tack_copy_text(what, sizeof what, "trades");
    }
    int rc = tack_instance_exchange_subscribe(ex->ctx, &sub);
    if (rc == TACK_ENOTSUP && s->source == SRC_TRADES) {
      s->errors++;
      refuse_source(rt, ex, s, rc);
    } else if (rc != 0) {
      s->errors++;
      tack_log(TACK_LOG_ERROR, tack_instance_name(ex->ctx),
               "subscribing %s %s failed: %s (%s); the symbol gets no data", s->symbol, what,
               tack_strerror(rc), tack_err_name(rc));
    } else {
      tack_log(TACK_LOG_INFO, tack_instance_name(ex->ctx), "subscribed %s %s%s", s->symbol, what,
               plan_text(s, plan, sizeof plan));
    }
  }
}

/* Step 1 of a stop: strategies and their filters first, so that no new
 * signal arises, while the exchanges are still connected to act on what
 * the strategies leave behind: the trader flattens through them (prices
 * still reach it; bars are no longer passed to strategies). Then the
 * exchanges. */
static void stop_strategies(tack_runtime *rt) {
  for (size_t i = 0; i < rt->n_sym; i++) {
    rt_symbol *s = rt->sym[i];
    if (s->timer_open)
      uv_timer_stop(&s->close_timer);
    for (size_t k = 0; k < s->n_leaves; k++) {
      rt_leaf *l = &s->leaves[k];
      if (tack_instance_started(l->ctx))
        tack_instance_stop(l->ctx);
      for (size_t f = 0; f < l->n_tfs * l->n_filters; f++)
        if (tack_instance_started(l->filters[f]))
          tack_instance_stop(l->filters[f]);
    }
  }
}

static void stop_exchanges(tack_runtime *rt) {
  for (size_t i = 0; i < rt->n_ex; i++)
    if (tack_instance_started(rt->ex[i]->ctx))
      tack_instance_stop(rt->ex[i]->ctx);
}

/* How often the flatten of a stop is checked on. */
#define RT_FLATTEN_POLL_MS 10

/* After the flatten (or without one): report what is left, stop the
 * exchanges, and destroy everything on the next iteration. */
static void finish_stop(tack_runtime *rt) {
  if (rt->trading) {
    size_t left = tack_trading_report_open(rt->trading);
    if (left) {
      rt->left_open = (int)left;
      tack_log_error("%zu symbol%s left with open positions or orders", left, left == 1 ? "" : "s");
      if (rt->error == 0)
        rt->error = TACK_EBUSY;
    }
    tack_trading_close_store(rt->trading);
  }
  stop_exchanges(rt);
  rt->phase = PHASE_STOPPED;
  /* Destroy on the next iteration: handles the plugins closed in stop()
   * finish closing at the end of this one. */
  uv_timer_start(&rt->work, work_cb, 0, 0);
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
    for (size_t k = 0; k < s->n_leaves; k++) {
      rt_leaf *l = &s->leaves[k];
      if (l->ctx)
        remember_memory(rt, l->ctx);
      l->ctx = NULL;
    }
    for (size_t k = 0; k < s->n_leaves; k++) {
      rt_leaf *l = &s->leaves[k];
      for (size_t f = 0; f < l->n_tfs * l->n_filters; f++) {
        if (l->filters[f])
          remember_memory(rt, l->filters[f]);
        l->filters[f] = NULL;
      }
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
  tack_control_close(rt->control);
  rt->control = NULL;
  uv_close((uv_handle_t *)&rt->work, NULL);
  uv_close((uv_handle_t *)&rt->for_timer, NULL);
  uv_close((uv_handle_t *)&rt->sigint, NULL);
  uv_close((uv_handle_t *)&rt->sigterm, NULL);
  for (size_t i = 0; i < rt->n_sym; i++) {
    if (rt->sym[i]->timer_open)
      uv_close((uv_handle_t *)&rt->sym[i]->close_timer, NULL);
    rt->sym[i]->timer_open = 0;
  }
}

static void work_cb(uv_timer_t *h) {
  tack_runtime *rt = h->data;
  switch (rt->phase) {
  case PHASE_RUNNING:
    for (size_t i = 0; i < rt->n_ex; i++)
      if (rt->ex[i]->subscribe_due && rt->phase == PHASE_RUNNING)
        subscribe_all(rt, rt->ex[i]);
    break;
  case PHASE_STOP_REQUESTED:
    stop_strategies(rt);
    if (rt->trading && tack_trading_begin_stop(rt->trading, rt->stop_reason)) {
      rt->phase = PHASE_FLATTENING;
      uv_timer_start(&rt->work, work_cb, RT_FLATTEN_POLL_MS, 0);
      break;
    }
    finish_stop(rt);
    break;
  case PHASE_FLATTENING:
    if (tack_trading_stop_done(rt->trading))
      finish_stop(rt);
    else
      uv_timer_start(&rt->work, work_cb, RT_FLATTEN_POLL_MS, 0);
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
    if (rt->trading) {
      /* Subscribed once the account has recovered (trading_ready). */
      if (rt->phase == PHASE_RUNNING || rt->phase == PHASE_FLATTENING)
        tack_trading_on_connection(rt->trading, exc, state);
    } else if (!ex->subscribed && rt->phase == PHASE_RUNNING) {
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
  /* Bars built from trades close on time, not only on the next trade. */
  for (size_t i = 0; i < rt->n_sym; i++) {
    rt_symbol *s = rt->sym[i];
    if (s->source == SRC_TRADES && uv_timer_init(&rt->loop, &s->close_timer) == 0) {
      s->close_timer.data = s;
      s->timer_open = 1;
    }
  }
  if (rt->handle_signals) {
    uv_signal_start(&rt->sigint, signal_cb, SIGINT);
    uv_signal_start(&rt->sigterm, signal_cb, SIGTERM);
  }
  if (rt->run_for_ms)
    uv_timer_start(&rt->for_timer, for_cb, rt->run_for_ms, 0);
  /* Operators reach a running bot through its store's folder (control.h).
   * A bot that cannot open it still runs; the log says why. */
  if (rt->store && !rt->backtest &&
      tack_control_open(&rt->loop, tack_store_path(rt->store), rt, &rt->control) != 0)
    rt->control = NULL;
  return 0;
}

/* Consumers start first, so that the first bar finds them ready. */
static int start_instances(tack_runtime *rt) {
  char why[160];
  for (size_t i = 0; i < rt->n_sym; i++) {
    rt_symbol *s = rt->sym[i];
    for (size_t k = 0; k < s->n_leaves; k++) {
      rt_leaf *l = &s->leaves[k];
      for (size_t f = 0; f < l->n_tfs * l->n_filters; f++)
        if (tack_instance_start(l->filters[f]) != 0)
          goto fail_at;
      if (tack_instance_start(l->ctx) != 0)
        goto fail_at;
    }
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
  tack_log_info("running %zu symbol%s on %zu exchange%s%s", rt->n_sym, rt->n_sym == 1 ? "" : "s",
                rt->n_ex, rt->n_ex == 1 ? "" : "s", rt->trading ? ", trading" : "");
  if (rt->trading && (rc = tack_trading_start(rt->trading)) != 0)
    tack_runtime_request_stop(rt, "the trading journal cannot be read", 1);
  else
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

/* "2d 3h", "3h 20m", "45s": a span of bar time for people. */
static const char *span_text(tack_time ns, char *buf, size_t cap) {
  uint64_t secs = ns > 0 ? (uint64_t)(ns / TACK_NS_PER_SEC) : 0;
  if (secs >= 86400)
    snprintf(buf, cap, "%llud %lluh", (unsigned long long)(secs / 86400),
             (unsigned long long)(secs % 86400 / 3600));
  else if (secs >= 3600)
    snprintf(buf, cap, "%lluh %llum", (unsigned long long)(secs / 3600),
             (unsigned long long)(secs % 3600 / 60));
  else if (secs >= 60)
    snprintf(buf, cap, "%llum %llus", (unsigned long long)(secs / 60),
             (unsigned long long)(secs % 60));
  else
    snprintf(buf, cap, "%llus", (unsigned long long)secs);
  return buf;
}

/* A composed symbol's top-level members with their contributions to the
 * root's last evaluation, and what each regime entry did. */
static void print_composition(const rt_symbol *s, FILE *out) {
  tack_compose_entry root, e;
  char span[32];
  if (s->root_leaf || tack_compose_entry_at(s->tree, 0, &root) != 0)
    return;
  int weighted =
      s->root_cfg->type == TACK_STRATEGY_COMPOSITE && s->root_cfg->method == TACK_METHOD_WEIGHTED;
  fprintf(out, "  %s %s (%s):", s->symbol, root.name, tack_config_type_name(root.type));
  const char *sep = " ";
  for (size_t k = 1; tack_compose_entry_at(s->tree, k, &e) == 0; k++) {
    if (e.parent != 0)
      continue;
    fputs(sep, out);
    sep = "; ";
    if (!strcmp(e.role, "member") && !e.has_signal)
      fprintf(out, "%s abstains", e.name);
    else if (!strcmp(e.role, "member") && weighted)
      fprintf(out, "%s %+.3f (signal %+.2f, weight %g%s)", e.name, e.contribution, e.last.strength,
              e.weight, e.gate ? ", gate" : "");
    else if (!strcmp(e.role, "member"))
      fprintf(out, "%s %+.3f (signal %+.2f)", e.name, e.contribution, e.last.strength);
    else if (!strcmp(e.role, "detector"))
      fprintf(out, "detector %s %+.2f", e.name, e.has_signal ? e.last.strength : 0.0);
    else
      fprintf(out, "%s%s: %s %+.2f", e.active ? "*" : "", e.regime, e.name,
              e.has_signal ? e.last.strength : 0.0);
  }
  fputc('\n', out);
  for (size_t r = 0; r < tack_compose_regime_count(s->tree); r++) {
    tack_compose_regime_stats st;
    tack_compose_regime_at(s->tree, r, &st);
    fprintf(out, "  %s regime %s: now %s, %llu switch%s;", s->symbol, st.entry,
            st.active ? st.active : "(none yet)", (unsigned long long)st.switches,
            st.switches == 1 ? "" : "es");
    for (size_t k = 0; k < st.n_regimes; k++)
      fprintf(out, " %s %llu bars (%s)%s", st.names[k], (unsigned long long)st.bars[k],
              span_text(st.time_ns[k], span, sizeof span), k + 1 < st.n_regimes ? "," : "\n");
  }
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
  for (size_t i = 0; i < rt->n_sym; i++)
    print_composition(rt->sym[i], out);
  if (rt->trading)
    tack_trading_print_summary(rt->trading, out);
  for (size_t i = 0; i < rt->n_sym; i++) {
    const rt_symbol *s = rt->sym[i];
    if (s->trades || s->dropped)
      fprintf(out, "  %s: %llu trades, %llu late or duplicate bars and trades not used\n",
              s->symbol, (unsigned long long)s->trades, (unsigned long long)s->dropped);
  }
  for (size_t i = 0; i < rt->n_ex; i++) {
    const rt_exchange *ex = rt->ex[i];
    if (ex->events[TACK_RT_EV_ERROR] || ex->unrouted)
      fprintf(out,
              "  %s: %llu venue messages not used, %llu bars or trades for unsubscribed "
              "symbols\n",
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

int tack_runtime_left_open(const tack_runtime *rt) { return rt->left_open; }

uv_loop_t *tack_runtime_loop(tack_runtime *rt) { return &rt->loop; }

void tack_runtime_set_observer(tack_runtime *rt, const tack_runtime_observer *obs) {
  if (obs)
    rt->obs = *obs;
  else
    memset(&rt->obs, 0, sizeof rt->obs);
}

tack_ctx *tack_runtime_symbol_exchange(const tack_runtime *rt, size_t i) {
  return i < rt->n_sym ? rt->sym[i]->ex->ctx : NULL;
}

tack_time tack_runtime_now(tack_runtime *rt) {
  struct timespec ts;
  if (rt->backtest) {
    /* The replay clock: moved by what the venues report (replay_reached);
     * after a stop request also by the wall clock, so that stop timeouts
     * expire once the data has ended. */
    if (rt->stop_wall) {
      clock_gettime(CLOCK_MONOTONIC, &ts);
      tack_time t =
          rt->stop_data + ((tack_time)ts.tv_sec * TACK_NS_PER_SEC + ts.tv_nsec) - rt->stop_wall;
      if (t > rt->last_now)
        rt->last_now = t;
    }
    return rt->last_now;
  }
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
  out->trades = s->trades;
  out->dropped = s->dropped;
  out->delivered = s->delivered;
  return 0;
}

size_t tack_runtime_tree_count(const tack_runtime *rt, size_t i) {
  return i < rt->n_sym ? tack_compose_entry_count(rt->sym[i]->tree) : 0;
}

int tack_runtime_tree_at(const tack_runtime *rt, size_t i, size_t k, tack_compose_entry *out) {
  if (i >= rt->n_sym)
    return TACK_ERANGE;
  return tack_compose_entry_at(rt->sym[i]->tree, k, out);
}

size_t tack_runtime_regime_count(const tack_runtime *rt, size_t i) {
  return i < rt->n_sym ? tack_compose_regime_count(rt->sym[i]->tree) : 0;
}

int tack_runtime_regime_at(const tack_runtime *rt, size_t i, size_t k,
                           tack_compose_regime_stats *out) {
  if (i >= rt->n_sym)
    return TACK_ERANGE;
  return tack_compose_regime_at(rt->sym[i]->tree, k, out);
}

void tack_runtime_free(tack_runtime *rt) {
  if (!rt)
    return;
  /* The journal lives in the store: it goes first. */
  tack_trading_free(rt->trading);
  rt->trading = NULL;
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
