/*
 * paper_mock_host.h: a small, deterministic tack_host for the tests of the
 * paper venue (tests/test_paper.c). It gives an exchange plugin what it may
 * call and records everything it reports:
 *
 *   - parameters from an in-test list ("key", "value", ..., NULL) read
 *     against the plugin's spec (absent keys give the spec's default);
 *   - a key-value store in memory (mock_store), which a test may share
 *     between two instances to restart a venue, damage, or switch off
 *     (kv calls then give TACK_ESTATE, like a host without a store);
 *   - the candle services (ABI 1.1) over a real store's candles
 *     (host/candles.h), which a test opens and hands to every new context
 *     through mock_candles; without one they give TACK_ESTATE, like a host
 *     without a store. mock_page_max caps the candles one candles_next
 *     returns, to exercise short pages;
 *   - timers in a queue the test pumps by hand, on a virtual clock;
 *   - every ex_* call, copied into one ordered list of mock_event;
 *   - memory through host/alloc.h, counted per instance, so a test can
 *     assert that nothing leaked.
 */
#ifndef PAPER_MOCK_HOST_H
#define PAPER_MOCK_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "candles.h"
#include "tack.h"

/* What an ex_* call reported. */
#define MOCK_CONNECTION 1
#define MOCK_INSTRUMENT 2
#define MOCK_BAR 3
#define MOCK_TRADE 4
#define MOCK_UPDATE 5
#define MOCK_FILL 6
#define MOCK_BALANCE 7
#define MOCK_POSITION 8
#define MOCK_DONE 9
#define MOCK_ERROR 10

typedef struct mock_event {
  int kind; /* MOCK_* */
  char symbol[TACK_SYMBOL_MAX];
  uint32_t state; /* MOCK_CONNECTION */
  uint64_t req;   /* MOCK_DONE */
  int status;     /* MOCK_DONE */
  char detail[256];
  union {
    tack_instrument instr;
    tack_bar bar;
    tack_trade trade;
    tack_order_update update;
    tack_fill fill;
    tack_balance balance;
    tack_position position;
  } u;
} mock_event;

typedef struct mock_entry {
  void *key;
  size_t klen;
  void *val;
  size_t vlen;
} mock_entry;

/* The key-value store; zero-initialised is empty. */
typedef struct mock_store {
  mock_entry *entries;
  size_t n;
  int disabled;  /* kv calls give TACK_ESTATE */
  int fail_puts; /* kv_put gives TACK_EIO */
} mock_store;

typedef struct mock_timer {
  uint64_t id;
  tack_time due;
  tack_timer_cb cb;
  void *user;
  int active;
} mock_timer;

#define MOCK_MAX_TIMERS 64
#define MOCK_MAX_READS 128

/* A read opened with candles_open. */
typedef struct mock_read {
  uint64_t id; /* 0: free */
  char symbol[TACK_CANDLES_SYMBOL_MAX + 1];
  uint32_t timeframe_s;
  tack_time from, to;
} mock_read;

/* Called from ex_bar after the bar is recorded: a test's strategy, which
 * may make requests of the venue from inside the bar, as the host's
 * trader does. */
typedef void (*mock_bar_fn)(void *user, tack_ctx *ctx, const char *symbol, const tack_bar *bar);

/* One plugin instance's context, owned by the test (heap: it is large). */
struct tack_ctx {
  const tack_plugin_desc *desc;
  const char *const *params;
  mock_store *store;
  tack_alloc_acct acct;
  tack_time now;
  uint64_t next_timer_id;
  mock_timer timers[MOCK_MAX_TIMERS];
  mock_event *events;
  size_t n_events, cap_events;
  int param_errors;
  char param_error[512]; /* the last one, "key: message" */
  int log_errors, log_warns;
  char log_error[512];   /* the last error or warning logged */
  int verbose;           /* print every log line */
  tack_candles *candles; /* what the candle services read; NULL: TACK_ESTATE */
  size_t page_max;       /* candles_next returns at most this many; 0: no cap */
  mock_read reads[MOCK_MAX_READS];
  uint64_t next_read_id;
  size_t open_reads;   /* reads opened and not closed */
  size_t candle_calls; /* candles_next calls */
  mock_bar_fn on_bar;
  void *on_bar_user;
};

/* Handed to every context mock_ctx_new() makes (set them first). */
extern tack_candles *mock_candles;
extern size_t mock_page_max;

extern const tack_host mock_host;

/* A fresh context for desc with params (NULL: all defaults) and store
 * (may be NULL: a private one is not made; kv calls then give ESTATE). */
tack_ctx *mock_ctx_new(const tack_plugin_desc *desc, const char *const *params, mock_store *store);
/* Frees the context and what it recorded (not the store). */
void mock_ctx_free(tack_ctx *ctx);

/* Fires the earliest due timer (ties: the first started), advancing the
 * virtual clock; 0 when no timer is pending. */
int mock_pump_one(tack_ctx *ctx);
/* Pumps until no timer is pending or limit timers fired; returns how many. */
size_t mock_pump(tack_ctx *ctx, size_t limit);
/* Pumps until at least count events of kind were recorded; 0 when reached,
 * -1 when the timers ran out first. */
int mock_pump_until(tack_ctx *ctx, int kind, size_t count);
/* Timers pending. */
size_t mock_timers_pending(const tack_ctx *ctx);

/* How many events of kind were recorded; the n-th (0-based) or last one of
 * kind, or NULL. */
size_t mock_count(const tack_ctx *ctx, int kind);
const mock_event *mock_nth(const tack_ctx *ctx, int kind, size_t n);
const mock_event *mock_last(const tack_ctx *ctx, int kind);
/* The last order update of client_id, or NULL. */
const tack_order_update *mock_last_update(const tack_ctx *ctx, const char *client_id);
/* Forgets every recorded event. */
void mock_clear(tack_ctx *ctx);

/* The store's value of key (NULL when absent). */
mock_entry *mock_store_find(mock_store *st, const char *key);
void mock_store_free(mock_store *st);

#endif
