/*
 * orders.h: the order manager of one account (one exchange instance of one
 * bot). It owns every order the bot sends there, drives each through the
 * SDK's state machine and never loses one:
 *
 *   PENDING -> OPEN -> PARTIAL -> FILLED | CANCELLED | REJECTED | EXPIRED
 *
 * - A venue update may skip states (PENDING -> FILLED) but never goes back:
 *   an update that would (OPEN after PARTIAL, anything after a final state)
 *   is stale, counted and ignored. Cumulative quantities never decrease.
 * - Client ids are "<prefix><seq>" with a per-account prefix and a sequence
 *   that never repeats (the caller persists next_seq with each new order).
 *   A retry re-sends the same id, so the venue never makes a second order.
 * - Write-ahead: every new order and every state change goes to io.persist
 *   BEFORE it is sent or acknowledged; if persisting fails, nothing is sent
 *   (the order is not created) and the error is returned.
 * - Fills are deduplicated by trade id (tack_orders_seed_fill() at restart
 *   seeds the set). A new fill is handed to io.fill, which books it (the
 *   journal, then the ledger) before the order's filled quantity moves.
 * - An update or a fill for an unknown order is never dropped: it is kept,
 *   io.reconcile is asked for, and once tack_orders_reconcile_end() has run
 *   a fill still unknown is handed to io.fill with order NULL (the caller
 *   books it as an external fill of the account).
 * - Emulation where the venue lacks it (caps at creation): stop and
 *   stop-limit orders are held by the host and sent as market / limit when
 *   a traded price crosses the stop (tack_orders_on_price); OCO pairs cancel
 *   the other leg when one leg fills (also partly); a bracket sends its
 *   entry, then an OCO of take profit (limit) and stop (stop order, held or
 *   native) for the quantity the entry filled, once the entry is final.
 *   The SDK has no OCO request field, so OCO is always emulated (both legs
 *   are sent; a fill of one cancels the other), even with TACK_CAP_OCO.
 *   A held stop is OPEN (accepted, resting in the host) with held 1. Once
 *   triggered it keeps its id with held 2 and mirrors the order it sent (its
 *   child, linked TACK_LINK_TRIGGERED): status (never backwards), filled,
 *   avg_price and fees follow the child's. Fills are booked once, on the
 *   child; cancelling the held order cancels the child.
 * - Timeouts: an order with timeout_ns still open after that long is
 *   cancelled; with TACK_ORDERS_REPLACE_MARKET the unfilled rest is then
 *   sent again as a market order (a new client id, linked to the old one).
 *   The rest is sent once the venue confirms the cancel, and not when the
 *   owner or an OCO asked for a cancel too. A held stop that times out is
 *   cancelled at once; the child of a triggered one inherits its timeout.
 * - Bracket exits (origin PROTECT) are sized to the entry's deduplicated
 *   fills, sent once the entry is final and those fills have caught up with
 *   what the venue reported filled. A replacement of a timed-out bracket
 *   entry is a bracket entry for its own fills.
 *
 * Everything runs on the loop thread; no locks.
 */
#ifndef TACK_ORDERS_H
#define TACK_ORDERS_H

#include <stddef.h>
#include <stdint.h>

#include "tack.h"

/* Who asked for an order. */
#define TACK_ORIGIN_TRADER 1u   /* sizing: the signal's target position */
#define TACK_ORIGIN_STRATEGY 2u /* a plugin's host->submit_order */
#define TACK_ORIGIN_PROTECT 3u  /* take profit / stop loss / trailing stop */
#define TACK_ORIGIN_FLATTEN 4u  /* shutdown, daily lock, kill switch */
#define TACK_ORIGIN_OPERATOR 5u /* the control interface */
#define TACK_ORIGIN_EMULATED 6u /* sent by the host for an emulated order */

/* How orders are linked. */
#define TACK_LINK_NONE 0u
#define TACK_LINK_OCO 1u           /* link = the other leg */
#define TACK_LINK_BRACKET_ENTRY 2u /* its exits follow once it is final */
#define TACK_LINK_BRACKET_TP 3u    /* link = the entry */
#define TACK_LINK_BRACKET_SL 4u    /* link = the entry */
#define TACK_LINK_REPLACES 5u      /* link = the order it replaces */
#define TACK_LINK_TRIGGERED 6u     /* link = the held stop that sent it */

/* On timeout. */
#define TACK_ORDERS_TIMEOUT_CANCEL 0u
#define TACK_ORDERS_REPLACE_MARKET 1u

/* tack_order.flags: what was done to an order, persisted so that a restart
 * neither repeats nor forgets it. */
#define TACK_ORDERS_TIMED_OUT 0x1u    /* its timeout fired and a cancel was asked */
#define TACK_ORDERS_CANCEL_ASKED 0x2u /* a cancel was asked (owner, OCO): no replacement */
#define TACK_ORDERS_FOLLOWED 0x4u     /* its bracket exits or its replacement were created */

/* One order as the manager knows it. Plain data: it is what the journal
 * stores. */
typedef struct tack_order {
  tack_order_request req; /* as sent: rounded, client_id and ts set */
  char venue_id[TACK_ORDER_ID_MAX];
  char link[TACK_ORDER_ID_MAX]; /* see link_kind */
  char reason[TACK_REASON_MAX]; /* the venue's or the host's reason */
  uint32_t status;              /* TACK_STATUS_* */
  int32_t error;                /* TACK_E* for REJECTED */
  uint32_t origin;              /* TACK_ORIGIN_* */
  uint32_t link_kind;           /* TACK_LINK_* */
  uint32_t held;                /* 0 no; 1 an emulated stop waiting in the host; 2 one that
                                   triggered and mirrors its child */
  uint32_t attempts;            /* times sent with this id */
  uint32_t on_timeout;          /* TACK_ORDERS_TIMEOUT_CANCEL / REPLACE_MARKET */
  uint32_t flags;               /* TACK_ORDERS_TIMED_OUT, _CANCEL_ASKED, _FOLLOWED */
  double filled;                /* size units, from deduplicated fills */
  double avg_price;             /* of those fills, 0 when none */
  double fees;                  /* quote, of those fills */
  double venue_filled;          /* the venue's cumulative filled, from updates */
  double tp_price;              /* bracket entry: take profit level, 0 none */
  double sl_price;              /* bracket entry: stop level, 0 none */
  tack_time created;            /* host clock */
  tack_time updated;
  uint64_t timeout_ns; /* 0: none */
  uint64_t seq;        /* from the client id */
} tack_order;

/* True for FILLED, CANCELLED, REJECTED, EXPIRED. */
int tack_order_status_final(uint32_t status);
/* "pending", "open", ... "expired"; "unknown" otherwise. */
const char *tack_order_status_name(uint32_t status);
/* True when the move from -> to is allowed (to may equal from for a
 * PARTIAL with more filled). */
int tack_order_transition_ok(uint32_t from, uint32_t to);

/* The record of order `before` once fill f is counted in it, written to
 * *after: filled, avg_price (weighted by quantity), fees (the fills' fee
 * values summed) and the status a fill implies (PENDING or OPEN become
 * PARTIAL, and FILLED once the fills cover the quantity; a final status
 * stays). The manager counts fills exactly so; io.fill uses it to journal
 * a fill together with the order as it will be (tack_journal_put_fill). */
void tack_order_after_fill(const tack_order *before, const tack_fill *f, tack_order *after);

typedef struct tack_orders tack_orders;

/* What the manager needs from its owner. Every callback is required
 * except changed. Callbacks may call back into the manager, with any call
 * but tack_orders_free and tack_orders_reconcile_*: an adapter may report
 * updates and fills from inside send (on_update and on_fill then come in
 * from inside io.send), and a strategy may submit or cancel from inside
 * its on_fill (from inside io.fill or io.changed). The order a callback is
 * given is a copy, valid for the call. */
typedef struct tack_orders_io {
  void *user;
  /* Durable write of o (and next_seq, the sequence of the next new id)
   * before the change is acted upon. Non-zero refuses the change. */
  int (*persist)(void *user, const tack_order *o, uint64_t next_seq);
  /* To the venue. A negative return is a refusal up front: the order
   * becomes REJECTED with that error (persisted). */
  int (*send)(void *user, const tack_order_request *req);
  int (*cancel)(void *user, const char *client_id, const char *venue_id);
  /* A new, deduplicated fill. order is the manager's record before the
   * fill is counted in it, or NULL for a fill of no known order (only
   * after reconciliation); journal it with tack_order_after_fill(order, f).
   * Returns 0 once booked durably; non-zero keeps the fill unbooked (it is
   * offered again by the next reconciliation). The manager then persists
   * the order as counted (the same record, when io.fill journaled it with
   * tack_order_after_fill; without that, the journal's record of the
   * order would lag behind its fills if the process died in between). */
  int (*fill)(void *user, const tack_order *order, const tack_fill *fill);
  /* An order changed (status or quantities). old_status as before, 0 for
   * an order just created. */
  void (*changed)(void *user, const tack_order *o, uint32_t old_status);
  /* The manager needs the venue's truth (why: "fill for unknown order X").
   * Asked once until the next tack_orders_reconcile_end(). */
  void (*reconcile)(void *user, const char *why);
  /* A message worth a log line (level TACK_LOG_*). Messages of a level the
   * host log drops (log.h) are neither formatted nor passed. */
  void (*log)(void *user, int level, const char *msg);
} tack_orders_io;

typedef struct tack_orders_opts {
  const char *prefix;    /* client id prefix, [A-Za-z0-9-], <= 24 bytes */
  uint64_t next_seq;     /* first sequence number to use (from the journal) */
  uint32_t caps;         /* TACK_CAP_* of the venue */
  uint32_t max_attempts; /* sends of one id before giving up, >= 1 */
} tack_orders_opts;

int tack_orders_new(const tack_orders_opts *opts, const tack_orders_io *io, tack_orders **out);
void tack_orders_free(tack_orders *m);

/* Restart: add an order read from the journal (any status), and a trade id
 * already booked. Before anything is sent. load: 0, TACK_EEXIST for an id
 * already there, TACK_EINVAL for a malformed record; seed_fill: 0 (also
 * for a trade id already seeded). Links between loaded orders (held stop
 * and child, bracket entry and exits) are restored whatever the order of
 * loading; a bracket entry or a timed-out order whose follow-up is missing
 * gets it at the next tack_orders_reconcile_end(). */
int tack_orders_load(tack_orders *m, const tack_order *o);
int tack_orders_seed_fill(tack_orders *m, const char *trade_id);

/* What to submit. req must be rounded already (the trader rounds); an empty
 * client_id gets a new one. */
typedef struct tack_orders_submit_opts {
  uint32_t origin;     /* TACK_ORIGIN_* */
  uint64_t timeout_ns; /* 0: none */
  uint32_t on_timeout; /* TACK_ORDERS_* */
  double tp_price;     /* bracket: both or either > 0 makes it a bracket */
  double sl_price;
} tack_orders_submit_opts;

/* Create, persist PENDING, then send (or hold an emulated stop). The new
 * id goes to client_id_out (TACK_ORDER_ID_MAX bytes, may be NULL). Returns
 * 0 (also when the send was refused: the order is then REJECTED, see
 * tack_orders_get), TACK_EEXIST for a client id already used,
 * TACK_EINVAL for a malformed request, or persist's error (nothing sent). */
int tack_orders_submit(tack_orders *m, const tack_order_request *req,
                       const tack_orders_submit_opts *opts, tack_time now, char *client_id_out);

/* Two orders where a fill of one cancels the other. */
int tack_orders_submit_oco(tack_orders *m, const tack_order_request *a, const tack_order_request *b,
                           const tack_orders_submit_opts *opts, tack_time now, char *id_a,
                           char *id_b);

/* Re-send a PENDING order with the same id (after a reconnect). 0, or
 * TACK_ESTATE when it is not PENDING, TACK_ERANGE when max_attempts is used
 * up (the order becomes REJECTED). */
int tack_orders_retry(tack_orders *m, const char *client_id, tack_time now);

/* Ask the venue to cancel (a held order is cancelled at once). 0, or
 * TACK_ENOENT, or TACK_ESTATE for a final order. */
int tack_orders_cancel(tack_orders *m, const char *client_id, tack_time now);

/* Cancel every live order of symbol (NULL: all symbols). Returns how many
 * cancels were asked for. */
size_t tack_orders_cancel_all(tack_orders *m, const char *symbol, tack_time now);

/* From the venue. Return 0 when applied, 1 when stale (ignored, counted;
 * for a fill: a duplicate trade id), TACK_ENOENT when the order is unknown
 * (kept; reconciliation asked for), TACK_EINVAL for a malformed message
 * (negative or non-finite numbers, filled > quantity, an unknown status, a
 * text field without its NUL, a symbol or side that is not the order's;
 * logged, counted in bad_updates), or the error of io.persist (an update
 * that moves the status is not applied) or io.fill (the fill stays
 * unbooked). A fill is matched by client id, else by venue order id. */
int tack_orders_on_update(tack_orders *m, const tack_order_update *u, tack_time now);
int tack_orders_on_fill(tack_orders *m, const tack_fill *f, tack_time now);

/* A traded price of symbol (trade tick, or a bar's high and low: call it
 * with the bar's extreme in the stop's direction via tack_orders_on_bar).
 * Triggers held stops. */
void tack_orders_on_price(tack_orders *m, const char *symbol, double price, tack_time now);
void tack_orders_on_bar(tack_orders *m, const char *symbol, const tack_bar *bar, tack_time now);

/* Timeouts; call every second or so. */
void tack_orders_tick(tack_orders *m, tack_time now);

/* Whether tick, on_price and on_bar have anything to look at (a live
 * order, or orders loaded from the journal whose links are still to be
 * made): when not, a caller on market data may skip them, and reading its
 * clock for them. */
int tack_orders_watching(const tack_orders *m);

/* Reconciliation: begin before asking the venue, feed what it reports
 * through on_update and on_fill, end when it is done. At the end, a live
 * order the venue did not report (and that was created before begin) is
 * settled: FILLED when its fills cover it, else CANCELLED with reason "not
 * open at the venue" (REJECTED "never reached the venue" when it was still
 * PENDING with nothing filled); each is logged. Held stops are not at the
 * venue and are never settled. Kept updates of orders still unknown are
 * logged (an order this manager did not send) and dropped; unknown fills
 * kept so far go to io.fill with order NULL. Returns how many orders were
 * settled; end without begin does nothing and returns 0. */
void tack_orders_reconcile_begin(tack_orders *m, tack_time now);
size_t tack_orders_reconcile_end(tack_orders *m, tack_time now);

/* Queries. get returns NULL when unknown; the pointer is valid until the
 * next non-const call. */
const tack_order *tack_orders_get(const tack_orders *m, const char *client_id);
size_t tack_orders_count(const tack_orders *m);
const tack_order *tack_orders_at(const tack_orders *m, size_t i);
/* Live (not final) orders of symbol, NULL for all; a triggered held stop
 * is not counted beside its child. */
size_t tack_orders_live(const tack_orders *m, const char *symbol);
/* Live quantity of symbol still to fill, signed (+ buys, - sells): the
 * rest (quantity less the larger of filled and venue_filled) of each live
 * order that works unconditionally at the venue. Stops not yet triggered
 * (held, or native STOP / STOP_LIMIT still PENDING or OPEN) and orders of
 * origin PROTECT are left out, and an OCO pair counts once (its larger
 * rest). */
double tack_orders_pending_quantity(const tack_orders *m, const char *symbol);
uint64_t tack_orders_next_seq(const tack_orders *m);

/* Counts since tack_orders_new. submitted counts every order created
 * (also triggered children, bracket exits, replacements); rejected,
 * filled, cancelled and expired count orders reaching that status;
 * bad_updates counts malformed updates and fills. */
typedef struct tack_orders_stats {
  uint64_t submitted, rejected, filled, cancelled, expired;
  uint64_t updates, stale_updates, unknown_updates, bad_updates;
  uint64_t fills, duplicate_fills, unknown_fills, external_fills;
  uint64_t retries, timeouts, emulated_triggers, oco_cancels, reconciled;
} tack_orders_stats;
void tack_orders_get_stats(const tack_orders *m, tack_orders_stats *out);

#endif
