/*
 * paper.h: the inside of the simulated venue "paper" (exchanges/paper). One
 * instance replays market data (bars or trades from CSV files, a seeded
 * random walk, or the candles of the host's store) and fills orders against
 * it, deterministically. This header
 * holds the types every file of the plugin shares and the functions one file
 * offers the others:
 *
 *   paper.c        the plugin: parameters, lifecycle, requests, the outbox
 *                  of answers and the step timer that drives the data
 *   paper_data.c   the symbol list, the data sources (CSV files, the random
 *                  walk, the store's candles read through a window)
 *   paper_book.c   orders and fills: the order table, client id lookup,
 *                  the checks of a new order, and the reports built from them
 *   paper_match.c  matching resting orders against one data event, fees,
 *                  slippage, and the exact accounting of cash and positions
 *   paper_state.c  the venue's state in the host's key-value storage
 *
 * Numbers: prices are whole ticks and quantities whole lots (int64), read
 * and printed by host/rounding.h. Money (cash, fees, realized P&L) is a
 * tack_wide count of 10^-18 of the quote currency, like the host's ledger.
 * A position's cost is kept in lot x tick units (lots x ticks summed), so the
 * average entry price is exact. Doubles appear only where data comes in
 * (market data, the slippage models) and where reports go out (the nearest
 * double of an exact decimal).
 *
 * Threads: everything runs on the host's loop thread.
 */
#ifndef PAPER_H
#define PAPER_H

#include <stddef.h>
#include <stdint.h>

#include "rounding.h"
#include "tack.h"

#define PAPER_MAX_SYMBOLS 64u
/* Money scale: 10^-18 quote, as host/ledger.h. */
#define PAPER_MONEY_SCALE 18
/* Fees are rounded up to 10^-8 quote: 10^10 money units. */
#define PAPER_FEE_QUANTUM ((tack_wide)10000000000LL)
/* The state is saved at least every this many data steps. */
#define PAPER_SAVE_EVERY 256u
/* Store source: events a symbol's window holds (it grows only while more
 * than this many matched events wait for the feed latency). */
#define PAPER_WINDOW 4096u
/* Store source: candles asked of the host per candles_next. */
#define PAPER_PAGE 1024u
/* interval_ms 0: data steps per step timer callback. */
#define PAPER_STEP_BATCH 1024u

/* What the data is. */
#define PAPER_DATA_BARS 1u
#define PAPER_DATA_TRADES 2u

/* Where it comes from (the source parameter). */
#define PAPER_SOURCE_FILES 1u
#define PAPER_SOURCE_WALK 2u
#define PAPER_SOURCE_STORE 3u

/* Slippage models. */
#define PAPER_SLIP_NONE 0u
#define PAPER_SLIP_FIXED 1u
#define PAPER_SLIP_VOLUME 2u
#define PAPER_SLIP_SQRT 3u

/* One market data event: a bar (ts is its open) or a trade (open = high =
 * low = close = price, volume = size, side = aggressor side). */
typedef struct paper_event {
  tack_time ts;
  double open;
  double high;
  double low;
  double close;
  double volume;
  uint32_t side;
  uint32_t reserved;
} paper_event;

/*
 * One instrument: its data, and the venue's holding in it. Events are
 * numbered from 0 in time order; events[k - base] is event k, for base <= k
 * < n_events. Files and the walk hold every event (base 0). The store source
 * holds a window: events from `published` on, read from the host as the
 * cursor advances, so that memory does not grow with the number of bars;
 * while `more` is set, event `cursor` is always in the window.
 */
typedef struct paper_symbol {
  tack_instrument instr;
  tack_rounding grid;
  tack_wide unit; /* money of one lot moving one tick */
  paper_event *events;
  uint64_t n_events;   /* one past the last event held */
  uint64_t base;       /* the number of events[0] */
  uint64_t cap_window; /* store: events the window holds */
  uint64_t read_id;    /* store: the host's read (0: none) */
  int more;            /* store: the read may hold events past n_events */
  tack_time first_ts;  /* the first event's ts; INT64_MAX when unknown */
  int sub_bars;        /* subscribed to bars */
  int sub_trades;      /* subscribed to trades */
  /* Venue state (persisted). */
  uint64_t cursor;    /* events matched */
  uint64_t published; /* events published to the host (<= cursor) */
  tack_time pub_ts;   /* the last published event's ts; INT64_MIN before any */
  int64_t lots;       /* the position: spot holding, or signed */
  tack_wide cost;     /* signed sum of lots x ticks of the open position */
  tack_wide realized; /* money, before fees */
  double last;        /* the last event's close; 0 before any */
} paper_symbol;

/* The parameters, read and checked by configure(). */
typedef struct paper_config {
  int64_t seed;
  int64_t bars;
  int64_t timeframe;
  int64_t interval_ms;
  int64_t latency_ms;
  int64_t feed_latency_ms;
  int64_t reject_nth;
  tack_time from, to; /* the replayed range [from, to); INT64_MIN / INT64_MAX: all */
  double start_price;
  double volatility;
  double participation;
  double slippage_bps;
  double impact;
  int shorts;
  int persist;
  uint32_t slippage; /* PAPER_SLIP_* */
  uint32_t source;   /* PAPER_SOURCE_* */
  tack_decimal maker_bps;
  tack_decimal taker_bps;
  tack_wide cash; /* starting cash, money */
  char quote[TACK_CURRENCY_MAX];
  char reject_symbol[TACK_SYMBOL_MAX];
} paper_config;

/* What configure() builds; replaced whole when a new configuration is good. */
typedef struct paper_data {
  paper_config cfg;
  paper_symbol *symbols;
  uint32_t n_symbols;
  uint32_t kind;        /* PAPER_DATA_* */
  uint32_t timeframe_s; /* bars only */
  int reads_open;       /* store: every symbol's read is open and its first events held */
  tack_bar *page;       /* store: what candles_next fills, PAPER_PAGE of them */
  char source[200];     /* for log lines: the file, folder, "random walk, seed 1", the store */
} paper_data;

/* An order the venue was sent. Rejected ones are kept too, so that a resent
 * client id is recognised. */
typedef struct paper_order {
  char client_id[TACK_ORDER_ID_MAX];
  char symbol[TACK_SYMBOL_MAX]; /* as requested */
  uint64_t venue_no;            /* "P<n>"; 0 for a rejected order */
  uint32_t sym;                 /* index into the symbols; UINT32_MAX when unknown */
  uint32_t side;
  uint32_t type;
  uint32_t tif; /* effective: never 0 */
  uint32_t flags;
  uint32_t status;
  int32_t error;
  uint32_t triggered; /* stop orders: the stop has traded */
  uint32_t arrived;   /* it has seen its first event */
  uint32_t reserved;
  int64_t lots;
  int64_t limit_ticks;
  int64_t stop_ticks;
  tack_time expire_at; /* GTD and DAY; 0 for none */
  tack_time accepted_at;
  tack_time eligible_from; /* accepted_at + latency */
  tack_time updated_at;
  int64_t filled;      /* lots */
  tack_wide notional;  /* sum of lots x ticks filled */
  tack_wide fees;      /* money */
  double req_quantity; /* as requested, for the report of a rejection */
  double req_limit;
  double req_stop;
  char reason[TACK_REASON_MAX];
} paper_order;

/* One execution, as kept in the fill log. */
typedef struct paper_fill {
  uint64_t trade_no; /* "PT<n>" */
  uint64_t venue_no;
  char client_id[TACK_ORDER_ID_MAX];
  uint32_t sym;
  uint32_t side;
  uint32_t liquidity;
  uint32_t reserved;
  tack_time ts;
  int64_t lots;
  int64_t ticks;
  tack_wide fee;
} paper_fill;

/* Answers and reports waiting to be sent from a timer. */
#define PAPER_OUT_CONNECTION 1u
#define PAPER_OUT_INSTRUMENTS 2u
#define PAPER_OUT_RECONCILE 3u
#define PAPER_OUT_UPDATE 4u
#define PAPER_OUT_FILL 5u
#define PAPER_OUT_BALANCE 6u
#define PAPER_OUT_POSITION 7u

typedef struct paper_out {
  uint32_t what; /* PAPER_OUT_* */
  uint32_t state;
  uint64_t req;
  tack_time since;
  union {
    tack_order_update update;
    tack_fill fill;
    tack_balance balance;
    tack_position position;
  } u;
} paper_out;

/* One instance. */
typedef struct paper {
  tack_ctx *ctx;
  const tack_host *host;
  paper_data data;

  int started;
  int connected;
  int persist;          /* cfg.persist and the host has a store */
  int eof;              /* every event matched and published, EOF reported */
  int eof_armed;        /* a match at the last prices is due (after_eof_cb) */
  uint64_t eof_timer;   /* its timer */
  int fresh;            /* configured since the last start: load the saved venue */
  int subscribed;       /* some symbol is subscribed */
  uint64_t unpublished; /* matched events not yet published, all symbols */

  /* Venue state (persisted, with the symbols' part). */
  tack_time clock;
  uint64_t steps;
  uint64_t submitted; /* new orders seen, for reject_nth */
  uint64_t last_order_no;
  uint64_t last_trade_no;
  tack_wide cash;
  int dirty; /* state changed since the last save */

  paper_order *orders;
  uint32_t n_orders, cap_orders;
  uint32_t *open; /* indices of open orders, in acceptance order */
  uint32_t n_open, cap_open;
  uint32_t *index; /* hash of client ids -> order index + 1; 0 is empty */
  uint32_t cap_index;
  paper_fill *fills;
  uint64_t n_fills, cap_fills;

  paper_out *outbox;
  uint32_t n_out, cap_out;
  int flush_armed;
  uint64_t flush_timer;
  int step_armed;
  uint64_t step_timer;
} paper;

/* paper_data.c ------------------------------------------------------------ */

/* Reads every parameter into d (symbols, data, grid, fees...) and loads
 * the data, or for the store source opens every symbol's read and fills its
 * window (unless the host has no store yet: `tack check`; start does it).
 * Reports each problem with host->param_error, naming the setting and, for
 * files, the file and line. d is owned by the caller: free with
 * paper_data_free() whatever the result (it closes the reads). */
int paper_data_build(paper *p, paper_data *d);
void paper_data_free(paper *p, paper_data *d);
/* Store source, at start: the reads opened and the first events known
 * (when configure could not); TACK_ESTATE without a store, TACK_ECONFIG
 * when a symbol has no candles in the range (both logged). 0 for the
 * other sources. */
int paper_data_prepare(paper *p);
/* Store source: after the venue state is set (reset or loaded), places
 * each symbol's window on its published and matched events, reading from
 * where its last published candle left off. TACK_ECONFIG (logged) when the
 * data is shorter than the saved cursors. Checks the cursors of the other
 * sources too. */
int paper_data_seek(paper *p);
/* Store source: reads on until event `cursor` of s is held, or the read is
 * at its end; drops what lies before `published`. 0 or the host's error
 * (logged). */
int paper_data_fill(paper *p, paper_symbol *s);

/* The time of an event as the venue's clock sees it: a bar's close, a
 * trade's time. */
static inline tack_time paper_event_time(const paper_data *d, const paper_event *e) {
  if (d->kind == PAPER_DATA_BARS)
    return e->ts + (tack_time)d->timeframe_s * TACK_NS_PER_SEC;
  return e->ts;
}

/* Event k of s; base <= k < n_events. */
static inline paper_event *paper_event_at(const paper_symbol *s, uint64_t k) {
  return &s->events[k - s->base];
}

/* paper_book.c ------------------------------------------------------------ */

/* The order with this client id, or NULL. */
paper_order *paper_book_find(paper *p, const char *client_id);
/* The accepted order "P<n>", or NULL. */
paper_order *paper_book_find_venue(paper *p, const char *venue_id);
/* Appends a copy of o (indexed by its client id); TACK_ENOMEM. */
int paper_book_add(paper *p, const paper_order *o, paper_order **out);
/* Adds order index i to the open list; TACK_ENOMEM. */
int paper_book_open(paper *p, uint32_t i);
/* Drops orders that are no longer open from the open list. */
void paper_book_compact(paper *p);
/* Appends a fill to the log; TACK_ENOMEM. */
int paper_book_log_fill(paper *p, const paper_fill *f);
/* Frees every order and fill. */
void paper_book_clear(paper *p);
/* Checks a request the host sent. TACK_EINVAL (returned by submit up front)
 * when it is malformed; otherwise 0 with *o filled: status OPEN when the
 * venue takes it, REJECTED with error and reason when it refuses it. */
int paper_book_check(paper *p, const tack_order_request *req, paper_order *o);
/* True when status is final. */
int paper_status_final(uint32_t status);

/* Reports built from the current state. */
void paper_report_update(const paper *p, const paper_order *o, tack_order_update *out);
void paper_report_fill(const paper *p, const paper_fill *f, tack_fill *out);
void paper_report_position(const paper *p, uint32_t sym, tack_position *out);
/* The quote balance (sym UINT32_MAX) or the base balance of a symbol. */
void paper_report_balance(const paper *p, uint32_t sym, tack_balance *out);

/* paper_match.c ----------------------------------------------------------- */

/* Matches the open orders of symbol sym against event e (its next event),
 * queueing every report. 0, or TACK_ENOMEM when a report could not be
 * queued. */
int paper_match_event(paper *p, uint32_t sym, const paper_event *e);
/* Ends order o with a final status (CANCELLED, EXPIRED, ...): records it,
 * saves its record and queues the update. */
int paper_finish(paper *p, paper_order *o, uint32_t status, int32_t error, const char *reason);
/* Expires GTD and DAY orders whose time has come (expire_at <= t). */
int paper_match_expire(paper *p, tack_time t);
/* Money of lots x ticks on symbol sym (checked); TACK_ERANGE. */
int paper_money(const paper *p, uint32_t sym, int64_t lots, int64_t ticks, tack_wide *out);
/* The fee on a notional (money) at bps, rounded up to 10^-8 quote. */
int paper_fee(tack_wide notional, tack_decimal bps, tack_wide *out);
/* The larger of two fee rates. */
tack_decimal paper_bps_max(tack_decimal a, tack_decimal b);
/* What the spot venue holds back for open orders: quote money for buys, or
 * lots of sym for sells. */
tack_wide paper_hold_quote(const paper *p);
int64_t paper_hold_base(const paper *p, uint32_t sym);
/* The price a buy is expected to pay (ticks), for the funds check. */
int64_t paper_estimate_ticks(const paper *p, const paper_order *o);
/* The last price of sym in ticks (the next event's open before the first),
 * rounded up. */
int64_t paper_last_ticks(const paper *p, uint32_t sym);

/* The nearest double to m x 10^-18. */
double paper_money_double(tack_wide m);
/* m as exact decimal text without trailing zeros ("12.5"), for the log. */
void paper_money_text(tack_wide m, char *buf, size_t cap);
/* The nearest double to num / den ticks of sym (den > 0). */
double paper_ratio_price(const paper *p, uint32_t sym, tack_wide num, tack_wide den);

/* paper_state.c ----------------------------------------------------------- */

/* Loads the saved state, if any, into p (whose data is configured). 0 when
 * there was none or it was loaded; TACK_ECONFIG when it does not match the
 * configuration, TACK_EPARSE when it is corrupt (both logged). Turns
 * persistence off, with a warning, when the host has no store. */
int paper_state_load(paper *p);
/* Writes the state key; logs and returns the error when the store fails. */
int paper_state_save(paper *p);
/* Writes order o's record (when it becomes final) or fill f's. */
int paper_state_save_order(paper *p, const paper_order *o);
int paper_state_save_fill(paper *p, const paper_fill *f);

/* paper.c ----------------------------------------------------------------- */

/* Queues a report or answer for the next flush; TACK_ENOMEM. */
int paper_queue(paper *p, const paper_out *out);
/* Queues an order update for o. */
int paper_queue_update(paper *p, const paper_order *o);

#endif
