/*
 * runtime.h: the running host. One libuv loop, the host clock, the store, the
 * plugin instances of a config and the straight-through pipeline that routes
 * exchange events to them, per enabled symbol:
 *
 *   exchange ex_bar / ex_trade(symbol)
 *     -> bars of every timeframe the symbol's leaves consume (passed
 *        through, resampled from a timeframe the venue streams, or built
 *        from trades)
 *     -> per leaf (a plugin strategy or a scorer) and per timeframe of it:
 *        filter 1 -> ... -> filter n
 *     -> strategy on_bar, or features and scorer score(); closed bars only,
 *        in close-time order
 *     -> the composition (compose.h): composites and regime switches,
 *        evaluated when a bar of their smallest timeframe closes
 *     -> the symbol's latest signal
 *
 * docs/runtime.md describes how bars flow and the order in which a strategy
 * of several timeframes sees them (the rule that rules out look-ahead);
 * docs/composition.md how composed strategies run. Every enabled symbol has
 * its own instances of every leaf and filter, and every timeframe of a leaf
 * its own filter chain (filters keep state per series); exchanges are shared
 * by the symbols that name them.
 *
 * Lifecycle of a run:
 *   tack_runtime_new()      loop and store
 *   tack_runtime_build()    create + configure every instance of a config (or
 *                           tack_runtime_add_exchange/add_symbol by hand)
 *   tack_runtime_run()      start, connect, subscribe on TACK_CONN_UP, run the
 *                           loop until stopped, then stop in order
 *   tack_runtime_print_summary()
 *   tack_runtime_free()
 * A stop is requested by SIGINT/SIGTERM, the --for timer, every exchange
 * reporting TACK_CONN_EOF (or FAILED), an exchange that can provide neither
 * bars nor trades for a symbol, or tack_runtime_request_stop(). It runs on
 * the loop in two steps, so that handles plugins close in stop() finish
 * closing before their memory is destroyed: (1) stop strategies, filters,
 * exchanges; (2) destroy every instance, close the store, close the host's own
 * handles. Then uv_loop_close() must succeed.
 *
 * Everything here runs on the loop thread.
 */
#ifndef TACK_RUNTIME_H
#define TACK_RUNTIME_H

#include <stdio.h>
#include <uv.h>

#include "alloc.h"
#include "compose.h"
#include "config.h"
#include "diag.h"
#include "store.h"
#include "tack.h"

typedef struct tack_runtime tack_runtime;

typedef struct tack_runtime_opts {
  const char *bot;        /* namespaces the store; "tack" when NULL */
  const char *store_path; /* NULL: no store (kv services return TACK_ESTATE) */
  size_t store_map_size;  /* 0: TACK_STORE_MAP_SIZE_DEFAULT */
  uint64_t run_for_ms;    /* 0: until a signal or the end of the data */
  int handle_signals;     /* watch SIGINT and SIGTERM during tack_runtime_run() */
  /* A backtest (backtest.h): the host clock is the replay clock (the
   * latest time any exchange reported: bars, trades, fills, order updates,
   * positions, balances; once a stop is asked for it also moves with the
   * wall clock, so that stop timeouts expire after the data has ended), the
   * trading engine keeps nothing in the store (the store serves candles
   * only), and there is no control socket. */
  int backtest;
} tack_runtime_opts;

/* Make the loop and open the store. Returns 0, TACK_ENOMEM, TACK_EIO, or the
 * store's code (logged). */
int tack_runtime_new(const tack_runtime_opts *opts, tack_runtime **out);

/* Destroy every instance still held, close the store, run the loop until
 * every handle has closed and close it. rt may be NULL. */
void tack_runtime_free(tack_runtime *rt);

/*
 * Create and configure the instances the enabled symbols of a resolved cfg
 * use: each exchange once; per symbol, for every leaf of its strategy's
 * composition (the entry itself when it is a plugin or scorer), one
 * instance of the leaf and one of each of its filters per timeframe of the
 * leaf, and for a scorer its feature builder (with the indicators of the
 * registry of instance.h). Every problem goes into d with its config file
 * and line; returns 0 or the first error (TACK_ECONFIG when a plugin
 * refused its parameters). cfg must outlive rt.
 */
int tack_runtime_build(tack_runtime *rt, const tack_config *cfg, tack_diag *d);

/* Add a configured exchange instance; the runtime owns it from now on, also
 * when this fails (TACK_EINVAL for another kind, TACK_ESTATE once running). */
int tack_runtime_add_exchange(tack_runtime *rt, tack_ctx *exchange);

/* One enabled symbol's pipeline with one plugin strategy, built by hand
 * (tack_runtime_build() makes composed ones from a config). */
typedef struct tack_runtime_symbol_spec {
  const char *symbol; /* copied */
  tack_ctx *exchange; /* added with tack_runtime_add_exchange() */
  /* The timeframes the strategy consumes, in seconds, in any order: 1 to
   * TACK_MAX_TIMEFRAMES, distinct, each a whole multiple of the smallest,
   * which drives the strategy. */
  const uint32_t *timeframes;
  size_t n_timeframes;
  /* n_filters instances per timeframe, each chain in order: the chain of
   * timeframes[0], then that of timeframes[1], ... (n_timeframes * n_filters
   * in all). May be NULL when n_filters is 0. */
  tack_ctx *const *filters;
  size_t n_filters;
  tack_ctx *strategy;
  uint32_t gap_policy; /* TACK_BARS_GAP_* for the bars the runtime makes */
  const char *file;    /* where the symbol is configured, for messages; may be NULL */
  int line;
  const char *tf_file; /* where the strategy's timeframes are set; may be NULL (copied) */
  int tf_line;
} tack_runtime_symbol_spec;

/*
 * Add a symbol. The runtime owns its filter and strategy instances from now
 * on, also when this fails. Refuses (with a message in d) another kind in a
 * slot, a symbol already on that exchange, and timeframes that break the
 * rules above (TACK_EINVAL).
 *
 * It also chooses where the bars come from (docs/runtime.md): the largest
 * timeframe the exchange streams (tack_exchange_caps.bar_timeframes) that
 * divides the smallest timeframe, subscribed and resampled to every other
 * one; when none does, the exchange's trades, built into bars. Whether an
 * exchange streams trades shows only when the subscription is made: if it
 * refuses with TACK_ENOTSUP, the run stops with an error naming the
 * strategy's timeframes setting.
 */
int tack_runtime_add_symbol(tack_runtime *rt, const tack_runtime_symbol_spec *spec, tack_diag *d);

/*
 * Start every instance (filters, strategies, then exchanges), connect the
 * exchanges and run the loop until a stop has completed. Returns 0 after an
 * orderly stop, or the first error (a failed start or connect, an exchange
 * that gave up, a loop that did not close cleanly); it is logged.
 */
int tack_runtime_run(tack_runtime *rt);

/* Ask for an orderly stop; why is logged. error non-zero makes
 * tack_runtime_run() return TACK_EPLUGIN. A second request is ignored. */
void tack_runtime_request_stop(tack_runtime *rt, const char *why, int error);

/* Per symbol: bars, signals and the last signal, and for a composed
 * strategy the contributions of its top-level members and what each regime
 * entry did; per instance: peak memory and leaks. Call after
 * tack_runtime_run(). */
void tack_runtime_print_summary(const tack_runtime *rt, FILE *out);

/*
 * Watching a run (the backtest recorder, backtest.h). Every callback runs on
 * the loop thread; sym is the symbol's index (tack_runtime_symbol_stats_at).
 *   bar     a closed bar of the symbol's source timeframe, after the trader
 *           and the pipeline have seen it
 *   signal  the symbol's new signal (the composed strategy's)
 *   fill    a fill of the symbol booked by the trading engine (the ledger
 *           already holds it)
 * Any of them may be NULL. Set before tack_runtime_run(); NULL removes it.
 */
typedef struct tack_runtime_observer {
  void *user;
  void (*bar)(void *user, size_t sym, const tack_bar *bar);
  void (*signal)(void *user, size_t sym, const tack_signal *sig);
  void (*fill)(void *user, size_t sym, const tack_fill *fill);
} tack_runtime_observer;
void tack_runtime_set_observer(tack_runtime *rt, const tack_runtime_observer *obs);

/* Symbol i's exchange instance (its config name is the instance's name). */
tack_ctx *tack_runtime_symbol_exchange(const tack_runtime *rt, size_t i);

uv_loop_t *tack_runtime_loop(tack_runtime *rt);
/* The host clock: the wall clock, never going backwards; the replay clock
 * in a backtest (tack_runtime_opts.backtest). */
tack_time tack_runtime_now(tack_runtime *rt);
/* NULL when running without a store. */
tack_store *tack_runtime_store(tack_runtime *rt);
const char *tack_runtime_bot(const tack_runtime *rt);

typedef struct tack_runtime_symbol_stats {
  const char *symbol;
  uint64_t bars;    /* bars received from the exchange */
  uint64_t signals; /* signals recorded */
  uint64_t errors;  /* bars refused, plugin errors, invalid signals */
  int has_signal;
  tack_signal last;
  uint64_t trades;    /* trades received to build bars from */
  uint64_t dropped;   /* bars or trades received late or twice: not used */
  uint64_t delivered; /* closed bars passed to the filters, every timeframe */
} tack_runtime_symbol_stats;

size_t tack_runtime_symbol_count(const tack_runtime *rt);
/* TACK_ERANGE when i is out of range. */
int tack_runtime_symbol_stats_at(const tack_runtime *rt, size_t i, tack_runtime_symbol_stats *out);

/*
 * The composition of symbol i as it stands: the tree unfolded, root first
 * (tack_compose_entry: each entry's latest signal, its weight and its
 * contribution to its composite's last evaluation, the regime that holds).
 * A symbol of one plugin strategy has one entry. Valid to call at any time
 * on the loop thread, also after the run. TACK_ERANGE when i or k is out
 * of range.
 */
size_t tack_runtime_tree_count(const tack_runtime *rt, size_t i);
int tack_runtime_tree_at(const tack_runtime *rt, size_t i, size_t k, tack_compose_entry *out);

/* The regime entries of symbol i's composition: switches so far, the time
 * and the bars each regime held, and the latest switches. */
size_t tack_runtime_regime_count(const tack_runtime *rt, size_t i);
int tack_runtime_regime_at(const tack_runtime *rt, size_t i, size_t k,
                           tack_compose_regime_stats *out);

/* ------------------------------------------------------------------------ */
/* Signals                                                                   */
/* ------------------------------------------------------------------------ */

/* Check and normalize a signal in place: strength and confidence must be
 * finite (TACK_EINVAL otherwise); strength is clamped to [-1, +1], confidence
 * to [0, 1], reason is NUL-terminated. */
int tack_signal_normalize(tack_signal *sig);

/* ------------------------------------------------------------------------ */
/* Called by the host services (instance.c) on behalf of an instance         */
/* ------------------------------------------------------------------------ */

/* A normalized signal from a strategy's emit_signal. TACK_ENOTSUP when the
 * instance feeds no symbol. */
int tack_runtime_emit_signal(tack_runtime *rt, tack_ctx *ctx, const tack_signal *sig);

/* Exchange events other than bars and connection changes, counted per
 * exchange. Trades feed the symbols whose bars are built from them (and the
 * trader's prices); orders, fills, balances, positions, instruments and
 * request completions go to the trading engine (trading.h) when the bot
 * trades. */
#define TACK_RT_EV_INSTRUMENT 0
#define TACK_RT_EV_TRADE 1
#define TACK_RT_EV_QUOTE 2
#define TACK_RT_EV_BOOK 3
#define TACK_RT_EV_ORDER_UPDATE 4
#define TACK_RT_EV_FILL 5
#define TACK_RT_EV_BALANCE 6
#define TACK_RT_EV_POSITION 7
#define TACK_RT_EV_DONE 8
#define TACK_RT_EV_ERROR 9
#define TACK_RT_EV_COUNT 10

int tack_runtime_ex_connection(tack_runtime *rt, tack_ctx *ex, uint32_t state, const char *detail);
int tack_runtime_ex_bar(tack_runtime *rt, tack_ctx *ex, const char *symbol, const tack_bar *bar);
/* A public trade (counted as TACK_RT_EV_TRADE). Built into bars when the
 * symbol's bars come from trades; 0 without effect for a symbol fed with
 * bars; TACK_ENOENT for a symbol nobody subscribed, TACK_EINVAL (logged,
 * counted) for a trade the bar builder refuses. */
int tack_runtime_ex_trade(tack_runtime *rt, tack_ctx *ex, const char *symbol,
                          const tack_trade *trade);
int tack_runtime_ex_event(tack_runtime *rt, tack_ctx *ex, int ev);

/* Venue events the trading engine consumes (counted like the others). They
 * return 0 without effect when the bot does not trade. */
int tack_runtime_ex_instrument(tack_runtime *rt, tack_ctx *ex, const tack_instrument *in);
int tack_runtime_ex_order_update(tack_runtime *rt, tack_ctx *ex, const tack_order_update *u);
int tack_runtime_ex_balance(tack_runtime *rt, tack_ctx *ex, const tack_balance *b);
int tack_runtime_ex_done(tack_runtime *rt, tack_ctx *ex, uint64_t req, int status);

/* host->submit_order and cancel_order of a strategy or scorer: through the
 * trading engine to the symbol's exchange. TACK_ENOTSUP when the bot does
 * not trade (no `trading` group) or the instance feeds no symbol. */
int tack_runtime_submit_order(tack_runtime *rt, tack_ctx *ctx, const tack_order_request *req,
                              char *client_id_out);
int tack_runtime_cancel_order(tack_runtime *rt, tack_ctx *ctx, const char *client_id);

/* The trading engine, or NULL when the config does not trade. */
struct tack_trading *tack_runtime_trading(tack_runtime *rt);

/* After the run: how many symbols the stop left with open positions or
 * orders (tack_runtime_run() then returned TACK_EBUSY). */
int tack_runtime_left_open(const tack_runtime *rt);

/*
 * A position the exchange reports (counted as TACK_RT_EV_POSITION). For a
 * symbol the bot trades it becomes the symbol's position: the plugin
 * strategies of the symbol are told it (on_position) once before the first
 * bar (flat with quantity 0 when no position was reported by then), again
 * on every later report, and a strategy that a regime switch brings in is
 * told it at the switch. A position of another market is only counted.
 * TACK_EINVAL (logged, counted) for a quantity that is not finite.
 */
int tack_runtime_ex_position(tack_runtime *rt, tack_ctx *ex, const tack_position *pos);
/* An execution (counted as TACK_RT_EV_FILL), passed to on_fill of the
 * plugin strategies of its symbol. */
int tack_runtime_ex_fill(tack_runtime *rt, tack_ctx *ex, const tack_fill *fill);

#endif
