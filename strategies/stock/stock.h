/*
 * stock.h: what the stock strategies of strategies.so share: the common
 * parameters, the instance base (host, timeframe followed, position held),
 * the strategy's current opinion ("view") with its hand-over rules, signal
 * output, and opening indicators through the host's indicator service.
 * docs/strategies.md describes the strategies; this file the machinery.
 *
 * Provisional bars. Every strategy keeps all that a bar may change in one
 * state struct. on_bar works on a copy of it and stores the copy back only
 * for a closed bar, so that a forming bar (judged only with the parameter
 * intrabar) can never change what a later bar sees; the indicators behave
 * the same way on their side.
 *
 * Position awareness. The host tells a strategy the position it holds once
 * before the first bar and after every fill (on_position), and each
 * execution (on_fill). The view records what the strategy last said it
 * wants held (the sign of its last signal). When the position's side differs
 * from that, the strategy says it again ("restates") at the next bar it
 * judges, so it never acts on a stale idea of the position. A strategy that
 * has no view yet when its indicators become ready either adopts the held
 * position as its own (event strategies: they then manage that position by
 * their exit rules and do not enter it a second time) or states its view
 * only when the position disagrees with it (state strategies).
 */
#ifndef STOCK_H
#define STOCK_H

#include <stddef.h>
#include <stdint.h>

#include <tack.h>

#define STOCK_VERSION "1.0.0"

/* Longest indicator spec a strategy builds ("bbands:period=20,..."). */
#define STOCK_SPEC_MAX 128

/* The parameters every stock strategy has. */
#define STOCK_PARAM_INTRABAR                                                                       \
  {                                                                                                \
    .name = "intrabar", .type = TACK_PARAM_BOOL, .def = 0,                                         \
    .help = "also judge forming bars, as if they closed now; state moves on closed bars only"      \
  }

#define STOCK_SOURCES "close|open|high|low|hl2|hlc3|ohlc4"
#define STOCK_PARAM_SOURCE                                                                         \
  {                                                                                                \
    .name = "source", .type = TACK_PARAM_STRING, .def_str = "close", .choices = STOCK_SOURCES,     \
    .help = "price the indicators read and the rules compare"                                      \
  }

/* A price of a bar, as the indicators' `source` parameter names it. */
enum {
  STOCK_SRC_CLOSE,
  STOCK_SRC_OPEN,
  STOCK_SRC_HIGH,
  STOCK_SRC_LOW,
  STOCK_SRC_HL2,
  STOCK_SRC_HLC3,
  STOCK_SRC_OHLC4
};

/* STOCK_SRC_* for a name of STOCK_SOURCES; close for anything else (the
 * host checked the choice already). */
int stock_source_parse(const char *name);
double stock_price(const tack_bar *bar, int source);

/* The instance part every stock strategy shares. */
typedef struct stock_base {
  tack_ctx *ctx;
  const tack_host *host;
  int intrabar;         /* judge provisional bars too */
  uint32_t timeframe_s; /* the timeframe followed; 0 until the first closed bar */
  int pos_known;        /* on_position has been called */
  double pos_qty;       /* signed quantity held, as far as the host has told */
  tack_time pos_ts;     /* time of the last on_position */
} stock_base;

/* What the strategy last said it wants held. Part of each strategy's
 * per-bar state, so a provisional bar never changes it. */
typedef struct stock_view {
  int known;         /* the strategy has an opinion */
  int side;          /* -1, 0, +1: the sign of strength */
  int restate;       /* the position disagrees with side: say it again */
  double strength;   /* as last emitted (or adopted) */
  double confidence; /* as last emitted */
  char reason[TACK_REASON_MAX];
} stock_view;

static inline int stock_sign(double x) { return (x > 0) - (x < 0); }

static inline double stock_clamp(double x, double lo, double hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

void stock_base_init(stock_base *b, tack_ctx *ctx, const tack_host *host);

/* create() of every stock strategy: a zeroed instance of size bytes, whose
 * first member is its stock_base, with that base set up. */
int stock_create(tack_ctx *ctx, const tack_host *host, size_t size, void **self);

/* Read the common parameters and forget the timeframe followed. */
int stock_base_configure(stock_base *b);

/*
 * Whether on_bar should judge bar: 1 yes, 0 abstain (a provisional bar
 * without intrabar, a bar of another timeframe than the one followed), or
 * TACK_EINVAL for a bar with a non-finite price or volume (refused before
 * any indicator sees it, so none of them is left half-updated). The first
 * closed bar fixes the timeframe followed: a composite may feed several.
 */
int stock_accept(stock_base *b, const tack_bar *bar);

static inline int stock_closed(const tack_bar *bar) { return (bar->flags & TACK_BAR_CLOSED) != 0; }

/* Combine the results of n indicator updates: the first error, else 1 when
 * every one has values, else 0 (warming up). */
int stock_ready(const int *rcs, size_t n);

/*
 * Open an indicator through the host from a printf-style spec
 * ("ema:period=%d,source=%s"). On failure the host has logged (or reported
 * with the config's place) why; the code is returned. TACK_ENOTSUP when the
 * host has no indicator service.
 */
int stock_ind_open(stock_base *b, const tack_ind **ind, const char *fmt, ...) TACK_PRINTF(3, 4);
/* Close *ind if open and set it to NULL. */
void stock_ind_close(stock_base *b, const tack_ind **ind);

/* -1, 0 or +1 for the position held; only meaningful when pos_known. */
static inline int stock_held(const stock_base *b) { return stock_sign(b->pos_qty); }

/* The position callbacks, given the view of the committed state. */
void stock_on_position(stock_base *b, stock_view *v, const tack_position *pos);
void stock_on_fill(stock_base *b, stock_view *v, const tack_fill *fill);

/*
 * Emit a new opinion: write *out (ts from the host clock, strength clamped
 * to [-1, +1], confidence to [0, 1], the reason) and record it in v.
 * Returns 1, or 0 (abstain, v unchanged) when a value is not finite: a
 * strategy never emits NaN.
 */
int stock_emit(stock_base *b, stock_view *v, tack_signal *out, double strength, double confidence,
               const char *fmt, ...) TACK_PRINTF(6, 7);

/* Emit v's opinion again ("again: <reason>"); see restate above. */
int stock_restate(stock_base *b, stock_view *v, tack_signal *out);

/* Take the held position as v's opinion without emitting (hand-over of an
 * event strategy). Only when the position is known. */
void stock_adopt(const stock_base *b, stock_view *v);

/* A strategy's own descriptors, listed by stock.c. */
extern const tack_plugin_desc stock_ema_cross_desc;
extern const tack_plugin_desc stock_rsi_reversion_desc;
extern const tack_plugin_desc stock_macd_trend_desc;
extern const tack_plugin_desc stock_bollinger_desc;
extern const tack_plugin_desc stock_donchian_breakout_desc;
extern const tack_plugin_desc stock_supertrend_desc;

#endif
