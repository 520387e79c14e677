/*
 * trading.h: the trading engine of a run. Per exchange instance an account
 * (order manager, exact ledger, risk switches, trading day); per traded
 * symbol a trader (sizing state, protection, rate limit). The runtime feeds
 * it venue events, closed bars, trades and each symbol's signal; it sends
 * orders through the exchange and keeps everything in the journal first.
 *
 *   signal -> trader: sizing (sizing.h) -> target -> delta rounded to the
 *             instrument (rounding.h) -> risk gate (risk.h) -> order manager
 *             (orders.h) -> journal (journal.h) -> exchange submit
 *   ex_fill -> order manager (dedup) -> journal -> ledger (ledger.h) ->
 *             protection, sizing sync, strategies told (position, fill)
 *
 * Busy traders: a trader with a live order of its own does not send
 * another; a signal that arrives meanwhile is kept (the newest wins, each
 * one replaced is counted as dropped) and acted on when the order is final.
 *
 * Start and recovery: the account replays its journal (every fill, in
 * order, rebuilds the ledger exactly; orders come back with their state),
 * then on the first TACK_CONN_UP asks the venue for its instruments and
 * its truth (reconcile): open orders, fills since the last one booked,
 * balances, positions. Missing fills are booked; orders are settled; the
 * ledger's positions are compared with the venue's. A difference is
 * adopted (TACK_RECOVERY_ADOPT: booked as an adjustment at the venue's
 * average price) or the symbol is not traded (TACK_RECOVERY_REFUSE). The
 * first start books the venue's quote balance as the starting deposit.
 * What was found is logged. No order goes out before this is done.
 *
 * Stops: tack_trading_begin_stop() cancels live orders and flattens every
 * position with reduce-only market orders, retrying a refused or partly
 * filled close up to the retry budget, within the timeout; the runtime
 * keeps the exchanges running until tack_trading_stop_done(). The daily
 * loss limit does the same but keeps running, locked; the kill switch does
 * it and then stops the run.
 *
 * Everything runs on the loop thread.
 */
#ifndef TACK_TRADING_H
#define TACK_TRADING_H

#include <stdint.h>
#include <stdio.h>

#include "store.h"
#include "tack.h"
#include "trading_config.h"

struct tack_runtime;
typedef struct tack_trading tack_trading;

/* What the engine tells the runtime. */
typedef struct tack_trading_hooks {
  void *user;
  /* The symbol's position changed (a fill, an adoption, the start). */
  void (*position)(void *user, tack_ctx *exchange, const tack_position *pos);
  /* A booked fill of one of the symbol's orders, for on_fill. */
  void (*fill)(void *user, tack_ctx *exchange, const tack_fill *fill);
  /* Stop the run (the kill switch, or a state the engine cannot trade in). */
  void (*stop)(void *user, const char *why, int error);
  /* The account of exchange has recovered and may trade: subscribe. */
  void (*ready)(void *user, tack_ctx *exchange);
  /* The host clock. */
  tack_time (*now)(void *user);
} tack_trading_hooks;

/* store may be NULL: nothing is persisted and nothing recovered (a warning
 * says so). cfg must outlive the engine. */
int tack_trading_new(const tack_trading_cfg *cfg, tack_store *store, const char *bot,
                     const tack_trading_hooks *hooks, tack_trading **out);
void tack_trading_free(tack_trading *t);

/* Before tack_trading_start(). */
int tack_trading_add_account(tack_trading *t, tack_ctx *exchange);
int tack_trading_add_symbol(tack_trading *t, tack_ctx *exchange, const char *symbol,
                            const tack_trading_policy *policy, int enabled);

/* Replay the journal of every account. TACK_EPARSE / store errors stop the
 * run: a journal that cannot be read is never traded over. */
int tack_trading_start(tack_trading *t);

/* Venue events, routed by the runtime (exchange = the reporting instance).
 * Each returns 0, or a TACK_E* code after logging why. */
void tack_trading_on_connection(tack_trading *t, tack_ctx *exchange, uint32_t state);
int tack_trading_on_instrument(tack_trading *t, tack_ctx *exchange, const tack_instrument *in);
int tack_trading_on_done(tack_trading *t, tack_ctx *exchange, uint64_t req, int status);
int tack_trading_on_order_update(tack_trading *t, tack_ctx *exchange, const tack_order_update *u);
int tack_trading_on_fill(tack_trading *t, tack_ctx *exchange, const tack_fill *f);
int tack_trading_on_balance(tack_trading *t, tack_ctx *exchange, const tack_balance *b);
int tack_trading_on_position(tack_trading *t, tack_ctx *exchange, const tack_position *p);

/* Market data of a traded symbol: marks, protection, emulated stops. A bar
 * is a closed bar of the symbol's source timeframe. */
void tack_trading_on_bar(tack_trading *t, tack_ctx *exchange, const char *symbol,
                         const tack_bar *bar);
void tack_trading_on_trade(tack_trading *t, tack_ctx *exchange, const char *symbol,
                           const tack_trade *trade);

/* The symbol's signal (the composed strategy's). */
void tack_trading_on_signal(tack_trading *t, tack_ctx *exchange, const char *symbol,
                            const tack_signal *sig);

/* host->submit_order / cancel_order of a strategy trading symbol. The
 * order is rounded, risk-checked and sent like the trader's own. */
int tack_trading_submit(tack_trading *t, tack_ctx *exchange, const char *symbol,
                        const tack_order_request *req, char *client_id_out);
int tack_trading_cancel(tack_trading *t, tack_ctx *exchange, const char *client_id);

/* The ledger's position of symbol (flat when never traded). */
int tack_trading_position(const tack_trading *t, tack_ctx *exchange, const char *symbol,
                          tack_position *out);

/* Operator controls. */
void tack_trading_set_kill(tack_trading *t, int on, const char *why);
int tack_trading_unlock_day(tack_trading *t);
int tack_trading_enable_symbol(tack_trading *t, const char *symbol, int enabled);
int tack_trading_flatten_symbol(tack_trading *t, const char *symbol, const char *why);

/* Orderly stop: 1 when it must wait for closes to fill (the runtime keeps
 * the exchanges running and polls stop_done), 0 when nothing is open. */
int tack_trading_begin_stop(tack_trading *t, const char *why);
/* 1 when every position is flat and no order is live, or the timeout has
 * passed. Runs retries as needed; call every few milliseconds. */
int tack_trading_stop_done(tack_trading *t);
/* Positions and orders still open (logged one by one); 0 when all closed. */
size_t tack_trading_report_open(tack_trading *t);

/* Close the journal before the store closes; the figures stay readable. */
void tack_trading_close_store(tack_trading *t);

/* Per account: equity, cash, fees, realized and unrealized P&L, the ledger
 * check; per symbol: position, orders, fills, refusals, dropped signals. */
void tack_trading_print_summary(const tack_trading *t, FILE *out);

/* Figures for tests and the summary. */
typedef struct tack_trading_symbol_stats {
  const char *symbol;
  double position;
  double avg_price;
  uint64_t signals, dropped_signals, orders, refused, fills, exits;
  int enabled;
  int refused_by_recovery; /* the venue's position did not match: not traded */
} tack_trading_symbol_stats;
size_t tack_trading_symbol_count(const tack_trading *t);
int tack_trading_symbol_stats_at(const tack_trading *t, size_t i, tack_trading_symbol_stats *out);

/* The sum over the recovered accounts (the nearest doubles of the exact
 * figures; quote is the first account's currency). TACK_ENOENT when no
 * account has recovered yet. */
typedef struct tack_trading_sums {
  size_t accounts;
  char quote[TACK_CURRENCY_MAX];
  double starting, equity, cash, fees, realized;
} tack_trading_sums;
int tack_trading_get_sums(const tack_trading *t, tack_trading_sums *out);

/* The ledger identity of every account: 0 when exact, else TACK_ERANGE with
 * why. */
int tack_trading_check(const tack_trading *t, char *why, size_t cap);

#endif
