/*
 * tack.h: the one public header of the tack SDK.
 *
 * Everything that trades in tack is a plugin: a shared object built against
 * this header and loaded by the host at run time. This header is the whole
 * contract between the two. It includes only standard headers, never exposes
 * a type of the libraries the host is built on, and compiles as C11 and C++.
 *
 * ABI rules
 * ---------
 * TACK_ABI_MAJOR changes when anything already published changes; a host
 * refuses every plugin of another major. TACK_ABI_MINOR grows when something
 * is appended: a field at the end of a size-prefixed struct, a new kind, a new
 * constant. A plugin built for 1.N runs on every host 1.M with M >= N; a host
 * refuses a plugin that needs a newer minor than it provides.
 *
 * Every vtable and table starts with its size in bytes as the writer saw it.
 * A reader checks that size before touching a field, so an old plugin runs on
 * a newer host (the host never reads past what the plugin declared) and a
 * plugin can test whether the host provides a service (TACK_HOST_HAS()).
 *
 * The value types that cross the boundary (bars, trades, orders, ...) are
 * fixed for a major version. The layout fingerprint (TACK_LAYOUT_FINGERPRINT)
 * summarises their sizes; a plugin whose compiler saw a different layout (a
 * foreign packing pragma, another architecture, an edited header) is refused.
 *
 * Numbers
 * -------
 * Prices, quantities and money cross the boundary as IEEE-754 doubles.
 * Anything that reaches an exchange or the ledger is first rounded by the host
 * to the instrument's increments (tack_instrument.price_increment and
 * size_increment) in one place; the ledger keeps positions and cash as whole
 * multiples of those increments, so it reconciles exactly. Plugins therefore
 * never need to round: they may ask for 0.123456789 BTC and the host sends the
 * nearest valid size (or nothing, when that rounds to zero or below the
 * instrument's minimum). Indicator values and signals are plain doubles.
 * Times are int64 nanoseconds since the UNIX epoch, UTC (tack_time).
 *
 * Threads
 * -------
 * The host runs one event loop thread. Every plugin callback is called on it,
 * and every host service may be called only from it, unless a comment says
 * otherwise. A plugin that starts threads of its own must bring their results
 * back to the loop (an exchange adapter does this through the event loop
 * extension) before calling any host service.
 *
 * Re-entrancy: a plugin may call any host service from inside any of its
 * callbacks (an adapter may report ex_* from inside a request). The host
 * never calls back into an instance from inside a service call that
 * instance is making (such work runs on a later turn of the loop), and
 * never stops or destroys an instance from inside one of its calls.
 *
 * Ownership
 * ---------
 * Data passed to a callback is borrowed for the duration of that call. Data a
 * plugin passes to a host service is copied by the host before the service
 * returns. Strings in descriptors and specs are static: they must stay valid
 * for as long as the shared object is loaded.
 */
#ifndef TACK_H
#define TACK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

#define TACK_ABI_MAJOR 1
#define TACK_ABI_MINOR 1

/* First four bytes of the entry symbol: "TACK" read as a little-endian u32. */
#define TACK_MAGIC 0x4b434154u

/* Name of the one symbol every plugin shared object exports. */
#define TACK_ENTRY_SYMBOL "tack_plugin_entry"

#if defined(_WIN32)
#define TACK_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define TACK_EXPORT __attribute__((visibility("default")))
#else
#define TACK_EXPORT
#endif

#if defined(__GNUC__)
#define TACK_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TACK_PRINTF(fmt, args)
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Every function of the SDK returns an int: 0 (or a documented positive
 * value) on success and one of these negative codes on failure. They live in
 * their own band, -20000 and below, clear of libuv's (negated errno values)
 * and LMDB's (-30799 .. -30780).
 *
 * XX(NAME, value, "message")
 */
#define TACK_ERRNO_MAP(XX)                                                                         \
  XX(EINVAL, -20001, "invalid argument")                                                           \
  XX(ENOMEM, -20002, "out of memory")                                                              \
  XX(ENOENT, -20003, "not found")                                                                  \
  XX(EEXIST, -20004, "already exists")                                                             \
  XX(ESTATE, -20005, "not allowed in the current state")                                           \
  XX(ENOTSUP, -20006, "not supported")                                                             \
  XX(ERANGE, -20007, "value out of range")                                                         \
  XX(ETYPE, -20008, "wrong type")                                                                  \
  XX(EIO, -20009, "input/output error")                                                            \
  XX(ECONFIG, -20010, "invalid configuration")                                                     \
  XX(ETIMEDOUT, -20011, "timed out")                                                               \
  XX(EBUSY, -20012, "busy")                                                                        \
  XX(ENOSPC, -20013, "no space left in buffer")                                                    \
  XX(EPERM, -20014, "not permitted")                                                               \
  XX(EPARSE, -20015, "malformed input")                                                            \
  XX(ECLOSED, -20016, "closed")                                                                    \
  XX(EAUTH, -20017, "authentication failed")                                                       \
  XX(ERATELIMIT, -20018, "rate limited")                                                           \
  XX(ENOTCONN, -20019, "not connected")                                                            \
  XX(EREJECTED, -20020, "rejected by the venue")                                                   \
  XX(ENOFUNDS, -20021, "insufficient funds")                                                       \
  XX(EPLUGIN, -20022, "plugin failed")                                                             \
  XX(ELOAD_OPEN, -20100, "not a loadable shared object")                                           \
  XX(ELOAD_NOENTRY, -20101, "no tack_plugin_entry symbol")                                         \
  XX(ELOAD_MAGIC, -20102, "entry symbol is not a tack plugin list")                                \
  XX(ELOAD_ABI_MAJOR, -20103, "built for another ABI major version")                               \
  XX(ELOAD_ABI_MINOR, -20104, "needs a newer ABI minor version than this host")                    \
  XX(ELOAD_LAYOUT, -20105, "value type layout differs from this host")                             \
  XX(ELOAD_DESCRIPTOR, -20106, "malformed plugin descriptor")                                      \
  XX(ELOAD_KIND, -20107, "unknown plugin kind")                                                    \
  XX(ELOAD_VTABLE, -20108, "vtable too small or a required callback is missing")                   \
  XX(ELOAD_DUPLICATE, -20109, "duplicate plugin id")                                               \
  XX(ELOAD_PERM, -20110, "plugin file or folder is writable by others")

enum {
#define TACK_ERR_ENUM_(name, value, msg) TACK_##name = (value),
  TACK_ERRNO_MAP(TACK_ERR_ENUM_)
#undef TACK_ERR_ENUM_
      TACK_OK = 0
};

/* The message for an error code; never NULL. Usable by host and plugins. */
static inline const char *tack_strerror(int err) {
  switch (err) {
  case 0:
    return "ok";
#define TACK_ERR_MSG_(name, value, msg)                                                            \
  case (value):                                                                                    \
    return msg;
    TACK_ERRNO_MAP(TACK_ERR_MSG_)
#undef TACK_ERR_MSG_
  default:
    return "unknown error";
  }
}

/* The symbolic name of an error code ("TACK_EINVAL"); never NULL. */
static inline const char *tack_err_name(int err) {
  switch (err) {
  case 0:
    return "TACK_OK";
#define TACK_ERR_NAME_(name, value, msg)                                                           \
  case (value):                                                                                    \
    return "TACK_" #name;
    TACK_ERRNO_MAP(TACK_ERR_NAME_)
#undef TACK_ERR_NAME_
  default:
    return "TACK_E?";
  }
}

/* ------------------------------------------------------------------------ */
/* Constants (plain integers: no C enums cross the boundary)                 */
/* ------------------------------------------------------------------------ */

/* Nanoseconds since 1970-01-01T00:00:00Z. */
typedef int64_t tack_time;
#define TACK_NS_PER_SEC INT64_C(1000000000)

/* Plugin kinds. */
#define TACK_KIND_EXCHANGE 1u  /* exchange adapter: market data and orders */
#define TACK_KIND_FILTER 2u    /* candle filter: bars in, bars out */
#define TACK_KIND_INDICATOR 3u /* indicator: bars in, numbers out */
#define TACK_KIND_SCORER 4u    /* ML scorer: feature vector in, score out */
#define TACK_KIND_STRATEGY 5u  /* strategy: bars in, signals out */
#define TACK_KIND_COUNT_ 6u    /* one past the last kind of this minor */

/* Log levels. */
#define TACK_LOG_ERROR 0
#define TACK_LOG_WARN 1
#define TACK_LOG_INFO 2
#define TACK_LOG_DEBUG 3

/* tack_bar.flags */
#define TACK_BAR_CLOSED 0x1u /* final: the interval is over */
#define TACK_BAR_FILLER 0x2u /* made by the host for an interval with no trade */

/* Order side. 0 is "unknown" where a venue does not say. */
#define TACK_SIDE_BUY 1u
#define TACK_SIDE_SELL 2u

/* tack_order_request.type */
#define TACK_ORDER_MARKET 1u
#define TACK_ORDER_LIMIT 2u
#define TACK_ORDER_STOP 3u       /* stop-market: market order once stop_price trades */
#define TACK_ORDER_STOP_LIMIT 4u /* limit order at limit_price once stop_price trades */

/* tack_order_request.tif */
#define TACK_TIF_GTC 1u /* good until cancelled */
#define TACK_TIF_IOC 2u /* immediate or cancel */
#define TACK_TIF_FOK 3u /* fill or kill */
#define TACK_TIF_GTD 4u /* good until expire_at */
#define TACK_TIF_DAY 5u /* good for the venue's trading day */

/* tack_order_request.flags */
#define TACK_ORDER_POST_ONLY 0x1u
#define TACK_ORDER_REDUCE_ONLY 0x2u

/* tack_order_update.status: the order state machine.
 * PENDING -> OPEN -> PARTIAL -> FILLED | CANCELLED | REJECTED | EXPIRED.
 * FILLED, CANCELLED, REJECTED and EXPIRED are final. */
#define TACK_STATUS_PENDING 1u   /* sent, not yet acknowledged by the venue */
#define TACK_STATUS_OPEN 2u      /* resting, nothing filled */
#define TACK_STATUS_PARTIAL 3u   /* resting, partly filled */
#define TACK_STATUS_FILLED 4u    /* final, fully filled */
#define TACK_STATUS_CANCELLED 5u /* final, possibly partly filled */
#define TACK_STATUS_REJECTED 6u  /* final, never rested */
#define TACK_STATUS_EXPIRED 7u   /* final, time in force ran out */

/* tack_fill.liquidity */
#define TACK_LIQ_MAKER 1u
#define TACK_LIQ_TAKER 2u

/* tack_instrument.type */
#define TACK_INSTR_SPOT 1u
#define TACK_INSTR_PERPETUAL 2u
#define TACK_INSTR_FUTURE 3u
#define TACK_INSTR_OPTION 4u

/* tack_instrument.flags */
#define TACK_INSTR_CAN_SHORT 0x1u /* a negative position is allowed */
#define TACK_INSTR_INVERSE 0x2u   /* quantity is in quote currency (Deribit inverse) */
#define TACK_INSTR_CALL 0x4u      /* option type; PUT when clear on an option */
#define TACK_INSTR_TRADING 0x8u   /* open for new orders now */

/* tack_book_level.side */
#define TACK_BOOK_BID 1u
#define TACK_BOOK_ASK 2u

/* Flags of host->ex_book() */
#define TACK_BOOK_SNAPSHOT 0x1u /* replaces the whole book for the symbol */

/* Exchange connection states (host->ex_connection). */
#define TACK_CONN_DOWN 0u       /* not connected; the adapter will retry */
#define TACK_CONN_CONNECTING 1u /* connecting or authenticating */
#define TACK_CONN_UP 2u         /* connected, subscribed, trading allowed */
#define TACK_CONN_DEGRADED 3u   /* connected, but data may be missing (a gap) */
#define TACK_CONN_FAILED 4u     /* gave up (e.g. bad credentials); needs an operator */
#define TACK_CONN_EOF 5u        /* a replay venue reached the end of its data */

/* tack_subscription.channel */
#define TACK_SUB_BARS 1u   /* candles of timeframe_s */
#define TACK_SUB_TRADES 2u /* public trades */
#define TACK_SUB_QUOTES 3u /* best bid and ask */
#define TACK_SUB_BOOK 4u   /* order book to depth levels */

/* tack_exchange_caps.flags */
#define TACK_CAP_SHORTS 0x1u                /* negative positions on some instruments */
#define TACK_CAP_STOP_ORDERS 0x2u           /* native stop and stop-limit orders */
#define TACK_CAP_OCO 0x4u                   /* native one-cancels-other */
#define TACK_CAP_BRACKET 0x8u               /* native take-profit + stop bracket */
#define TACK_CAP_CANCEL_ON_DISCONNECT 0x10u /* venue cancels orders when we drop */
#define TACK_CAP_HISTORY 0x20u              /* history() backfills bars */
#define TACK_CAP_SIMULATED 0x40u            /* not a real venue (paper/backtest) */
#define TACK_CAP_TRADES 0x80u               /* streams public trades (TACK_SUB_TRADES) */

/* tack_param_spec.type */
#define TACK_PARAM_INT 1u
#define TACK_PARAM_DOUBLE 2u
#define TACK_PARAM_BOOL 3u
#define TACK_PARAM_STRING 4u

/* tack_param_spec.flags */
#define TACK_PARAM_REQUIRED 0x1u /* no default: the config must set it */
#define TACK_PARAM_SECRET 0x2u   /* never logged or printed (API keys, paths to keys) */
/* STRING: a file path; a relative one is read relative to the folder of the
 * config file that sets it, whatever the working directory. */
#define TACK_PARAM_PATH 0x4u

/* ------------------------------------------------------------------------ */
/* Value types that cross the boundary                                       */
/* ------------------------------------------------------------------------ */

/* Fixed-size text fields are NUL-terminated and NUL-padded. */
#define TACK_SYMBOL_MAX 64   /* "BTC-USD", "BTC-27DEC24-100000-C" */
#define TACK_ORDER_ID_MAX 64 /* client and venue order ids */
#define TACK_CURRENCY_MAX 16
#define TACK_REASON_MAX 64

/* One OHLCV candle. ts is the start of the interval (UTC aligned). */
typedef struct tack_bar {
  tack_time ts;
  double open;
  double high;
  double low;
  double close;
  double volume;        /* base units traded in the interval; may be 0 */
  uint32_t timeframe_s; /* interval length in seconds */
  uint32_t flags;       /* TACK_BAR_*; a bar without CLOSED is provisional */
} tack_bar;

/* One public trade. */
typedef struct tack_trade {
  tack_time ts;
  double price;
  double size;
  uint32_t side; /* aggressor side, TACK_SIDE_*, 0 when the venue does not say */
  uint32_t reserved;
  char id[TACK_ORDER_ID_MAX]; /* venue trade id, used to drop duplicates */
} tack_trade;

/* Best bid and ask. */
typedef struct tack_quote {
  tack_time ts;
  double bid;
  double bid_size;
  double ask;
  double ask_size;
  double last; /* last trade price, 0 when unknown */
} tack_quote;

/* One price level of an order book update; size 0 removes the level. */
typedef struct tack_book_level {
  double price;
  double size;
  uint32_t side; /* TACK_BOOK_BID or TACK_BOOK_ASK */
  uint32_t reserved;
} tack_book_level;

/* What a plugin asks the host to send to the venue. */
typedef struct tack_order_request {
  char client_id[TACK_ORDER_ID_MAX]; /* empty: the host assigns a unique one */
  char symbol[TACK_SYMBOL_MAX];
  uint32_t side;       /* TACK_SIDE_* */
  uint32_t type;       /* TACK_ORDER_* */
  uint32_t tif;        /* TACK_TIF_*; 0 means GTC (MARKET: IOC) */
  uint32_t flags;      /* TACK_ORDER_* flags */
  double quantity;     /* > 0, in the instrument's size units */
  double limit_price;  /* LIMIT and STOP_LIMIT, else 0 */
  double stop_price;   /* STOP and STOP_LIMIT, else 0 */
  tack_time expire_at; /* TACK_TIF_GTD, else 0 */
  tack_time ts;        /* when it was created (host clock); set by the host */
  uint8_t reserved[16];
} tack_order_request;

/* The venue's view of one order after a change. Quantities are cumulative. */
typedef struct tack_order_update {
  char client_id[TACK_ORDER_ID_MAX];
  char venue_id[TACK_ORDER_ID_MAX];
  char symbol[TACK_SYMBOL_MAX];
  tack_time ts;
  uint32_t status; /* TACK_STATUS_* */
  uint32_t side;
  uint32_t type;
  int32_t error;    /* a TACK_E* code for REJECTED, else 0 */
  double quantity;  /* ordered */
  double filled;    /* cumulative filled */
  double avg_price; /* average fill price, 0 when nothing filled */
  double limit_price;
  double stop_price;
  double fees;                  /* cumulative, in the quote currency */
  char reason[TACK_REASON_MAX]; /* venue's reject or cancel reason, may be empty */
} tack_order_update;

/* One execution. */
typedef struct tack_fill {
  char client_id[TACK_ORDER_ID_MAX];
  char venue_order_id[TACK_ORDER_ID_MAX];
  char trade_id[TACK_ORDER_ID_MAX]; /* unique per venue: fills are deduplicated by it */
  char symbol[TACK_SYMBOL_MAX];
  tack_time ts;
  uint32_t side;
  uint32_t liquidity; /* TACK_LIQ_*, 0 when unknown */
  double price;
  double quantity;
  double fee; /* in fee_currency; negative is a rebate */
  char fee_currency[TACK_CURRENCY_MAX];
} tack_fill;

/* Funds in one currency. total = available + hold. */
typedef struct tack_balance {
  char currency[TACK_CURRENCY_MAX];
  tack_time ts;
  double total;
  double available;
  double hold;
} tack_balance;

/* A position as the venue (or the host's ledger) sees it. */
typedef struct tack_position {
  char symbol[TACK_SYMBOL_MAX];
  tack_time ts;
  double quantity; /* signed: negative is short */
  double avg_price;
  double mark_price;
  double unrealized_pnl;
  double realized_pnl;
} tack_position;

/* A strategy's or scorer's opinion. */
typedef struct tack_signal {
  tack_time ts;
  double strength;              /* [-1, +1]: -1 fully short, 0 flat, +1 fully long */
  double confidence;            /* [0, 1] */
  char reason[TACK_REASON_MAX]; /* short text for logs and attribution */
} tack_signal;

/* A tradable instrument and its increments. */
typedef struct tack_instrument {
  char symbol[TACK_SYMBOL_MAX];
  char base[TACK_CURRENCY_MAX];
  char quote[TACK_CURRENCY_MAX];
  char settle[TACK_CURRENCY_MAX];
  uint32_t type;          /* TACK_INSTR_SPOT ... */
  uint32_t flags;         /* TACK_INSTR_* flags */
  double price_increment; /* tick size */
  double size_increment;  /* lot size */
  double min_size;
  double min_notional;  /* in quote currency, 0 when none */
  double contract_size; /* 1 for spot */
  double strike;        /* options, else 0 */
  tack_time expiry;     /* futures and options, else 0 */
} tack_instrument;

/* What an exchange adapter is asked to stream. */
typedef struct tack_subscription {
  char symbol[TACK_SYMBOL_MAX];
  uint32_t channel;     /* TACK_SUB_* */
  uint32_t timeframe_s; /* TACK_SUB_BARS: a timeframe from caps.bar_timeframes */
  uint32_t depth;       /* TACK_SUB_BOOK: levels per side, 0 for the venue's default */
  uint32_t reserved;
} tack_subscription;

/* A table of features and labels handed to an ML scorer for training. */
typedef struct tack_dataset {
  const double *x; /* rows * cols, row-major, oldest row first */
  const double *y; /* rows labels */
  uint64_t rows;
  uint32_t cols;
  uint32_t reserved;
} tack_dataset;

#if defined(__cplusplus) && __cplusplus >= 201103L
#define TACK_STATIC_ASSERT_(cond, msg) static_assert(cond, msg)
#elif !defined(__cplusplus)
#define TACK_STATIC_ASSERT_(cond, msg) _Static_assert(cond, msg)
#else
#define TACK_STATIC_ASSERT_(cond, msg)
#endif

TACK_STATIC_ASSERT_(sizeof(tack_bar) == 56, "tack_bar layout");
TACK_STATIC_ASSERT_(sizeof(tack_trade) == 96, "tack_trade layout");
TACK_STATIC_ASSERT_(sizeof(tack_quote) == 48, "tack_quote layout");
TACK_STATIC_ASSERT_(sizeof(tack_book_level) == 24, "tack_book_level layout");
TACK_STATIC_ASSERT_(sizeof(tack_order_request) == 200, "tack_order_request layout");
TACK_STATIC_ASSERT_(sizeof(tack_order_update) == 328, "tack_order_update layout");
TACK_STATIC_ASSERT_(sizeof(tack_fill) == 312, "tack_fill layout");
TACK_STATIC_ASSERT_(sizeof(tack_balance) == 48, "tack_balance layout");
TACK_STATIC_ASSERT_(sizeof(tack_position) == 112, "tack_position layout");
TACK_STATIC_ASSERT_(sizeof(tack_signal) == 88, "tack_signal layout");
TACK_STATIC_ASSERT_(sizeof(tack_instrument) == 176, "tack_instrument layout");
TACK_STATIC_ASSERT_(sizeof(tack_subscription) == 80, "tack_subscription layout");

/*
 * A summary of the value type layout as this compiler sees it. The host
 * compares a plugin's fingerprint with its own and refuses a mismatch. It is
 * an integer constant expression, usable in static initializers: FNV-1a
 * style steps over the pointer size, the size of every value type and one
 * offset.
 */
#define TACK_LAYOUT_FP_STEP_(h, s) (((h)*UINT64_C(1099511628211)) ^ (uint64_t)(s))
#define TACK_LAYOUT_FP_0_ UINT64_C(14695981039346656037)
#define TACK_LAYOUT_FP_1_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_0_, sizeof(void *))
#define TACK_LAYOUT_FP_2_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_1_, sizeof(tack_bar))
#define TACK_LAYOUT_FP_3_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_2_, sizeof(tack_trade))
#define TACK_LAYOUT_FP_4_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_3_, sizeof(tack_quote))
#define TACK_LAYOUT_FP_5_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_4_, sizeof(tack_book_level))
#define TACK_LAYOUT_FP_6_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_5_, sizeof(tack_order_request))
#define TACK_LAYOUT_FP_7_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_6_, sizeof(tack_order_update))
#define TACK_LAYOUT_FP_8_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_7_, sizeof(tack_fill))
#define TACK_LAYOUT_FP_9_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_8_, sizeof(tack_balance))
#define TACK_LAYOUT_FP_10_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_9_, sizeof(tack_position))
#define TACK_LAYOUT_FP_11_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_10_, sizeof(tack_signal))
#define TACK_LAYOUT_FP_12_ TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_11_, sizeof(tack_instrument))
#define TACK_LAYOUT_FINGERPRINT                                                                    \
  TACK_LAYOUT_FP_STEP_(TACK_LAYOUT_FP_12_,                                                         \
                       sizeof(tack_subscription) + offsetof(tack_order_update, fees))

/* ------------------------------------------------------------------------ */
/* Parameters                                                                */
/* ------------------------------------------------------------------------ */

/*
 * One typed parameter a plugin accepts in its config group. The host checks
 * every parameter against its spec (type, range, choices, required) and
 * reports unknown keys before any plugin code runs; plugin-info lists them.
 * An array of specs ends with an entry whose name is NULL.
 */
typedef struct tack_param_spec {
  const char *name; /* config key, [a-z0-9_]+ */
  uint32_t type;    /* TACK_PARAM_* */
  uint32_t flags;   /* TACK_PARAM_REQUIRED, _SECRET, _PATH */
  double min;       /* INT and DOUBLE: inclusive bounds; none when min > max or both are 0 */
  double max;
  double def;          /* INT, DOUBLE, BOOL (0 or 1) default */
  const char *def_str; /* STRING default, may be NULL */
  const char *choices; /* STRING: allowed values separated by '|', or NULL for any */
  const char *help;    /* one line for people */
} tack_param_spec;

/* True when the spec's bounds apply. A spec left zeroed by a designated
 * initializer (min = max = 0) is unbounded, not "only 0". */
static inline int tack_param_bounded(const tack_param_spec *spec) {
  return spec->min <= spec->max && !(spec->min == 0 && spec->max == 0);
}

/* Output column of an indicator. An array ends with a NULL name. */
typedef struct tack_output_spec {
  const char *name; /* column name, [a-z0-9_]+ ("macd", "signal", "hist") */
  const char *help;
} tack_output_spec;

/* ------------------------------------------------------------------------ */
/* Host services                                                             */
/* ------------------------------------------------------------------------ */

/* The host's handle for one plugin instance. Opaque; valid from create until
 * destroy returns. Every service takes it first, so the host knows who asks. */
typedef struct tack_ctx tack_ctx;

typedef void (*tack_timer_cb)(void *user, uint64_t timer_id);

/*
 * An indicator a plugin opened with host->ind_open(). The fields are the
 * indicator plugin's own update and instance, so that a strategy feeds it
 * bars with one indirect call (tack_ind_update) and no host in between.
 * Owned by the host: valid until ind_close() or the owner's destroy; read
 * the fields, never write them.
 */
typedef struct tack_ind {
  uint32_t size;      /* sizeof(tack_ind) as the host saw it */
  uint32_t n_outputs; /* columns update() writes */
  int32_t lookback;   /* index of the first bar with output, -1 when unknown */
  uint32_t reserved;
  const tack_output_spec *outputs; /* NULL-name terminated */
  int (*update)(void *self, const tack_bar *bar, double *out);
  void *self;
} tack_ind;

/* Feed one bar; the indicator update contract: 1 with out[0 .. n_outputs)
 * written, 0 while warming up, a TACK_E* code on error. A provisional bar
 * (no TACK_BAR_CLOSED) leaves the indicator's state unchanged. */
static inline int tack_ind_update(const tack_ind *ind, const tack_bar *bar, double *out) {
  return ind->update(ind->self, bar, out);
}

/*
 * The services the host offers. One table, owned by the host, valid for the
 * life of every instance. Fields are only appended; check availability of a
 * field added after 1.0 with TACK_HOST_HAS(host, field) before calling it.
 */
typedef struct tack_host {
  uint32_t size;      /* sizeof(tack_host) as the host saw it */
  uint16_t abi_major; /* the host's ABI */
  uint16_t abi_minor;
  const char *host_version; /* "tack 0.1.0" */

  /* Log a line tagged with the instance's name. Never pass secrets. */
  void (*log)(tack_ctx *ctx, int32_t level, const char *fmt, ...) TACK_PRINTF(3, 4);

  /* Current time: the wall clock live and in paper trading, the replay
   * clock in a backtest. Never goes backwards. */
  tack_time (*now)(tack_ctx *ctx);

  /*
   * Typed access to the instance's parameters (its "params" config group).
   * key is a declared parameter name; an undeclared key gives TACK_ENOENT.
   * A parameter absent from the config yields its declared default. Values
   * were checked against the spec before create() ran. A string stays valid
   * until the instance is destroyed.
   */
  int (*param_int)(tack_ctx *ctx, const char *key, int64_t *out);
  int (*param_double)(tack_ctx *ctx, const char *key, double *out);
  int (*param_bool)(tack_ctx *ctx, const char *key, int *out);
  int (*param_string)(tack_ctx *ctx, const char *key, const char **out);

  /*
   * Report a parameter the plugin finds wrong beyond its spec (e.g. fast >=
   * slow). The host turns it into an error naming the plugin, the config
   * file and line and the setting, and refuses the config. Returns
   * TACK_ECONFIG so that configure() can `return host->param_error(...)`.
   */
  int (*param_error)(tack_ctx *ctx, const char *key, const char *fmt, ...) TACK_PRINTF(3, 4);

  /*
   * Persistent key-value storage, namespaced to this instance (bot name,
   * config section, instance name; an instance serving one symbol is named
   * "<name>@<symbol>"): two instances never see each other's keys. Keys up
   * to 255 bytes. kv_get copies at most cap bytes into buf and sets *len to
   * the full length (TACK_ENOSPC when cap was too small, TACK_ENOENT when
   * absent). Writes are durable when the call returns.
   */
  int (*kv_get)(tack_ctx *ctx, const void *key, size_t klen, void *buf, size_t cap, size_t *len);
  int (*kv_put)(tack_ctx *ctx, const void *key, size_t klen, const void *val, size_t vlen);
  int (*kv_del)(tack_ctx *ctx, const void *key, size_t klen);

  /* Emit a signal from a strategy or scorer outside of on_bar (e.g. from a
   * timer). strength must be finite; it is clamped to [-1, +1]. */
  int (*emit_signal)(tack_ctx *ctx, const tack_signal *sig);

  /* Ask for an order; it goes through the risk gate before any venue sees
   * it. client_id_out (may be NULL) receives the id, TACK_ORDER_ID_MAX bytes. */
  int (*submit_order)(tack_ctx *ctx, const tack_order_request *req, char *client_id_out);
  int (*cancel_order)(tack_ctx *ctx, const char *client_id);

  /* One-shot (repeat_ns 0) or repeating timer on the host clock. The callback
   * runs on the loop thread; timers die with the instance. */
  int (*timer_start)(tack_ctx *ctx, uint64_t after_ns, uint64_t repeat_ns, tack_timer_cb cb,
                     void *user, uint64_t *timer_id);
  int (*timer_stop)(tack_ctx *ctx, uint64_t timer_id);

  /* Memory accounted to the instance's plugin (`tack` reports it, tests can
   * inject failures). free(NULL) is a no-op. Anything still allocated when
   * the instance is destroyed is reported as a leak. */
  void *(*alloc)(tack_ctx *ctx, size_t size);
  void *(*realloc)(tack_ctx *ctx, void *ptr, size_t size);
  void (*free)(tack_ctx *ctx, void *ptr);

  /* The message for an error code (same as tack_strerror()). */
  const char *(*strerror)(int err);

  /* A versioned extension by id ("tack.loop/1"), or NULL when the host has
   * none by that id. The returned struct starts with its size. */
  const void *(*get_extension)(tack_ctx *ctx, const char *id);

  /*
   * Exchange adapters report what the venue says through these; from any
   * other kind they return TACK_EPERM. Each copies what it is given. A
   * message that an adapter cannot parse is never dropped silently: it is
   * reported with ex_error, naming the message type.
   */
  int (*ex_connection)(tack_ctx *ctx, uint32_t state, const char *detail);
  int (*ex_instrument)(tack_ctx *ctx, const tack_instrument *instr);
  int (*ex_bar)(tack_ctx *ctx, const char *symbol, const tack_bar *bar);
  int (*ex_trade)(tack_ctx *ctx, const char *symbol, const tack_trade *trade);
  int (*ex_quote)(tack_ctx *ctx, const char *symbol, const tack_quote *quote);
  int (*ex_book)(tack_ctx *ctx, const char *symbol, const tack_book_level *levels, uint32_t n,
                 uint32_t flags, tack_time ts);
  int (*ex_order_update)(tack_ctx *ctx, const tack_order_update *update);
  int (*ex_fill)(tack_ctx *ctx, const tack_fill *fill);
  int (*ex_balance)(tack_ctx *ctx, const tack_balance *balance);
  int (*ex_position)(tack_ctx *ctx, const tack_position *position);
  /* Completes an asynchronous request (instruments, history, reconcile)
   * started with request id req; status 0 or a TACK_E* code. */
  int (*ex_done)(tack_ctx *ctx, uint64_t req, int status, const char *detail);
  /* A venue message the adapter could not use: type names it, detail says
   * why. Counted and logged by the host, never silently dropped. */
  int (*ex_error)(tack_ctx *ctx, const char *type, int err, const char *detail);

  /*
   * Open an indicator plugin for this instance's own use, from a spec
   * "ID[:PARAMS]": positional values in the order of the indicator's
   * parameter spec and/or name=value pairs ("ema:12", "macd:12,26,9",
   * "bbands:period=20,nbdevup=2.5"). The parameters are checked against the
   * indicator's spec; an error is logged naming the spec and returned
   * (TACK_ENOENT for an unknown id, TACK_ETYPE for another kind,
   * TACK_ECONFIG for bad parameters). Call from create, configure or start
   * (TACK_ESTATE otherwise); a failure during create or configure is
   * reported at the instance's config file and line and fails the instance,
   * like param_error. Each call makes a new, independent indicator. It lives
   * until ind_close or until this instance is destroyed.
   */
  int (*ind_open)(tack_ctx *ctx, const char *spec, const tack_ind **out);
  /* Forget everything the indicator has seen, as if just opened. Any state. */
  void (*ind_reset)(tack_ctx *ctx, const tack_ind *ind);
  /* Destroy it now rather than with the instance. Any state. */
  void (*ind_close)(tack_ctx *ctx, const tack_ind *ind);

  /* ---- ABI 1.1 ---- */

  /*
   * Candles kept in the host's store (`tack data import`, `tack data synth`),
   * read in time order in pages: what the paper venue replays in a
   * backtest. candles_info gives a series' extent (TACK_ENOENT when the
   * store has no such series, TACK_ESTATE when the host runs without a
   * store). candles_open starts a read of the candles of (symbol,
   * timeframe_s) whose time is in [from, to) (INT64_MIN / INT64_MAX for
   * all; TACK_ENOENT when the series does not exist); candles_next copies
   * up to cap of the next ones into bars (closed,
   * timeframe_s set) and sets *n, 0 at the end. Each page is read from one
   * consistent snapshot; no transaction stays open between calls, so a
   * reader never holds up a writer. A read lives until candles_close or
   * the instance's destroy.
   */
  int (*candles_info)(tack_ctx *ctx, const char *symbol, uint32_t timeframe_s, uint64_t *count,
                      tack_time *first, tack_time *last);
  int (*candles_open)(tack_ctx *ctx, const char *symbol, uint32_t timeframe_s, tack_time from,
                      tack_time to, uint64_t *read_id);
  int (*candles_next)(tack_ctx *ctx, uint64_t read_id, tack_bar *bars, size_t cap, size_t *n);
  void (*candles_close)(tack_ctx *ctx, uint64_t read_id);
} tack_host;

/* True when the host table provides `field` (for fields appended after 1.0). */
#define TACK_HOST_HAS(host, field)                                                                 \
  ((host)->size >= offsetof(tack_host, field) + sizeof((host)->field) && (host)->field != NULL)

/* Extension "tack.loop/1": the host's event loop, for adapters that do I/O.
 * loop is a uv_loop_t* (libuv), typed void* so this header stays free of it.
 * Handles an adapter opens on it must be closed in stop(). */
#define TACK_EXT_LOOP "tack.loop/1"
typedef struct tack_ext_loop {
  uint32_t size;
  uint32_t reserved;
  void *loop;
} tack_ext_loop;

/* ------------------------------------------------------------------------ */
/* Plugin vtables                                                            */
/* ------------------------------------------------------------------------ */

/*
 * The lifecycle every kind shares. States: created -> configured -> started
 * -> (callbacks) -> stopped -> destroyed. All run on the loop thread.
 *
 * create     required. Allocate the instance, store ctx and host for later
 *            calls, put it in *self. Parameters may be read here already.
 *            On error return a TACK_E* code and leave *self unset; destroy
 *            is then not called.
 * configure  optional. Read parameters and check what the spec cannot
 *            (report with host->param_error). Called after create, and again
 *            when an operator changes parameters while stopped.
 * start      optional. Acquire resources (sockets, timers). Callbacks of the
 *            kind are made only between start and stop.
 * stop       optional. Release what start acquired; no callbacks follow.
 * destroy    required. Free the instance. Called exactly once after a
 *            successful create, after stop if start succeeded.
 */
typedef struct tack_lifecycle {
  int (*create)(tack_ctx *ctx, const tack_host *host, void **self);
  int (*configure)(void *self);
  int (*start)(void *self);
  void (*stop)(void *self);
  void (*destroy)(void *self);
} tack_lifecycle;

/*
 * Candle filter: turns each input bar into zero or more output bars (e.g.
 * Heikin-Ashi: one; Renko: zero or several bricks).
 *
 * update    required. Writes at most cap bars to out and sets *n_out. A
 *           provisional input (no TACK_BAR_CLOSED) must leave the filter's
 *           state unchanged: the next call may replace it. Returns 0, or
 *           TACK_ENOSPC when more than cap bars would be produced.
 * reset     optional. Forget all history.
 */
typedef struct tack_filter_vtable {
  uint32_t size;
  uint32_t reserved;
  tack_lifecycle life;
  int (*update)(void *self, const tack_bar *in, tack_bar *out, uint32_t cap, uint32_t *n_out);
  void (*reset)(void *self);
} tack_filter_vtable;

/*
 * Indicator: turns bars into a fixed number of output columns.
 *
 * outputs   the output columns, NULL-name terminated; at least one.
 * lookback  optional. The index of the first bar with output, given the
 *           configured parameters (EMA(10): 9). NULL when unknown.
 * update    required. Returns 1 when out[0 .. n_outputs) holds values, 0
 *           while warming up (out untouched), or a TACK_E* code. Values are
 *           always finite. A provisional bar is computed without changing
 *           the state: the next update replaces it.
 * reset     optional. Forget all history.
 */
typedef struct tack_indicator_vtable {
  uint32_t size;
  uint32_t reserved;
  tack_lifecycle life;
  const tack_output_spec *outputs;
  int (*lookback)(void *self);
  int (*update)(void *self, const tack_bar *bar, double *out);
  void (*reset)(void *self);
} tack_indicator_vtable;

/*
 * ML scorer: maps a feature vector, computed by the host from indicator
 * plugins as the config's feature spec says, to a score.
 *
 * score     required. Writes out->strength in [-1, +1] and out->confidence.
 *           n is the number of features; TACK_EINVAL when it does not match
 *           the model. Returns 0 or a TACK_E* code.
 * train     optional. Fit the model on train, report metrics on valid (rows
 *           are in time order and never shuffled across the split), and save
 *           it where the instance's parameters say. Runs on a worker thread:
 *           it may call no host service but log.
 */
typedef struct tack_scorer_vtable {
  uint32_t size;
  uint32_t reserved;
  tack_lifecycle life;
  int (*score)(void *self, const double *features, uint32_t n, tack_signal *out);
  int (*train)(void *self, const tack_dataset *train, const tack_dataset *valid);
} tack_scorer_vtable;

/*
 * Strategy: turns bars of one symbol (of one or several timeframes, told
 * apart by bar->timeframe_s) into signals.
 *
 * on_bar      required. Returns 1 when *out holds a new signal, 0 to abstain
 *             (the previous signal stands), or a TACK_E* code. A bar of a
 *             higher timeframe arrives only once closed.
 * on_position optional. The symbol's current position: once before the first
 *             bar (a strategy may be started mid-trade), whenever the venue
 *             or the trader reports a new one, and when a regime switch
 *             brings the strategy in.
 * on_fill     optional. Each execution of an order for the symbol.
 */
typedef struct tack_strategy_vtable {
  uint32_t size;
  uint32_t reserved;
  tack_lifecycle life;
  int (*on_bar)(void *self, const tack_bar *bar, tack_signal *out);
  void (*on_position)(void *self, const tack_position *pos);
  void (*on_fill)(void *self, const tack_fill *fill);
} tack_strategy_vtable;

/* What a venue can do, filled in by exchange.caps(). */
typedef struct tack_exchange_caps {
  uint32_t size;  /* set by the host before the call */
  uint32_t flags; /* TACK_CAP_* */
  /* Bar timeframes the venue streams natively, in seconds, 0-terminated.
   * The host builds every other timeframe from these or from trades. */
  uint32_t bar_timeframes[16];
} tack_exchange_caps;

/*
 * Exchange adapter: an asynchronous venue. Requests return at once (0 when
 * accepted, a TACK_E* code when refused up front); what the venue answers
 * arrives later through the host's ex_* services on the loop thread.
 *
 * caps          required. What the venue supports (after configure).
 * connect       required. Start connecting and authenticating; report each
 *               state change with ex_connection. Reconnects on its own after
 *               a drop, resubscribing and reporting TACK_CONN_DEGRADED while
 *               data may have been missed.
 * instruments   required. Report every tradable instrument with
 *               ex_instrument, then ex_done(req).
 * subscribe     required. Stream a channel; data arrives through ex_bar,
 *               ex_trade, ex_quote, ex_book. A forming bar is sent
 *               provisional, then once closed.
 * unsubscribe   optional.
 * history       optional (TACK_CAP_HISTORY). Closed bars of [from, to) in time
 *               order through ex_bar, then ex_done(req).
 * submit        required. Send a rounded, risk-checked order. The venue's
 *               answer arrives as ex_order_update (REJECTED carries the
 *               reason), executions as ex_fill. The client id is idempotent:
 *               a second submit with the same id must not create a second
 *               order.
 * cancel        required. Cancel by client id (venue_id when known, else
 *               empty); the result arrives as ex_order_update.
 * reconcile     required. Report the venue's truth: every open order
 *               (ex_order_update), fills since `since` (ex_fill), balances and
 *               positions; then ex_done(req). Used at start and after every
 *               reconnect or unknown update.
 */
typedef struct tack_exchange_vtable {
  uint32_t size;
  uint32_t reserved;
  tack_lifecycle life;
  int (*caps)(void *self, tack_exchange_caps *out);
  int (*connect)(void *self);
  int (*instruments)(void *self, uint64_t req);
  int (*subscribe)(void *self, const tack_subscription *sub);
  int (*unsubscribe)(void *self, const tack_subscription *sub);
  int (*history)(void *self, uint64_t req, const char *symbol, uint32_t timeframe_s, tack_time from,
                 tack_time to);
  int (*submit)(void *self, const tack_order_request *req);
  int (*cancel)(void *self, const char *client_id, const char *venue_id);
  int (*reconcile)(void *self, uint64_t req, tack_time since);
} tack_exchange_vtable;

/* ------------------------------------------------------------------------ */
/* Descriptors and the entry symbol                                          */
/* ------------------------------------------------------------------------ */

/* One plugin. Static data; the host only reads it. */
typedef struct tack_plugin_desc {
  uint32_t size;                 /* sizeof(tack_plugin_desc) */
  uint32_t kind;                 /* TACK_KIND_* */
  const char *id;                /* unique among all plugins: [a-z0-9_.-]+, e.g. "ema" */
  const char *name;              /* for people: "Exponential moving average" */
  const char *version;           /* the plugin's own version, "1.2.0" */
  const char *description;       /* one or two sentences */
  const tack_param_spec *params; /* NULL-name terminated; NULL for none */
  const void *vtable;            /* tack_<kind>_vtable, starts with its size */
} tack_plugin_desc;

/*
 * The one symbol a shared object exports, named TACK_ENTRY_SYMBOL. It is data,
 * not a function: the host checks it before any of the plugin's code runs.
 * The first four fields keep their place in every ABI major.
 */
typedef struct tack_plugin_list {
  uint32_t magic;     /* TACK_MAGIC */
  uint32_t size;      /* sizeof(tack_plugin_list) */
  uint16_t abi_major; /* TACK_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor; /* the lowest TACK_ABI_MINOR it needs */
  uint32_t count;     /* number of entries in plugins */
  uint64_t layout;    /* TACK_LAYOUT_FINGERPRINT */
  /* count descriptors, then NULL: the host reads entries only up to the
   * first NULL and refuses a list whose count disagrees, so it never reads
   * past the array (it cannot see the array's size). */
  const tack_plugin_desc *const *plugins;
} tack_plugin_list;

/* The entry's declaration: extern "C" in C++ (where a namespace-scope const
 * would otherwise have internal linkage), a prior extern declaration in C. */
#ifdef __cplusplus
#define TACK_ENTRY_DEFINITION_ extern "C" TACK_EXPORT const tack_plugin_list tack_plugin_entry
#else
#define TACK_ENTRY_DEFINITION_                                                                     \
  TACK_EXPORT extern const tack_plugin_list tack_plugin_entry;                                     \
  TACK_EXPORT const tack_plugin_list tack_plugin_entry
#endif

/*
 * Declare the plugins a shared object carries, once per shared object:
 *
 *     TACK_PLUGINS(&ema_desc, &sma_desc);
 *
 * Pointers to tack_plugin_desc; one or more.
 */
#define TACK_PLUGINS(...)                                                                          \
  static const tack_plugin_desc *const tack_plugins_list_[] = {__VA_ARGS__, NULL};                 \
  TACK_ENTRY_DEFINITION_ = {                                                                       \
      TACK_MAGIC,                                                                                  \
      (uint32_t)sizeof(tack_plugin_list),                                                          \
      TACK_ABI_MAJOR,                                                                              \
      TACK_ABI_MINOR,                                                                              \
      (uint32_t)(sizeof(tack_plugins_list_) / sizeof(tack_plugins_list_[0]) - 1),                  \
      TACK_LAYOUT_FINGERPRINT,                                                                     \
      tack_plugins_list_}

/* Helpers for plugin code. */

/* Copy a string into a fixed text field, always NUL-terminated. */
static inline void tack_copy_text(char *dst, size_t cap, const char *src) {
  size_t i = 0;
  if (cap == 0)
    return;
  if (src)
    for (; i + 1 < cap && src[i]; i++)
      dst[i] = src[i];
  for (; i < cap; i++)
    dst[i] = '\0';
}

#ifdef __cplusplus
}
#endif

#endif /* TACK_H */
