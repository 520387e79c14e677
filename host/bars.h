/*
 * bars.h: the host's bar builder and bar resampler. Pure logic: no I/O, no
 * event loop, no clock of its own (the caller says what time it is), so the
 * same inputs give the same bars live, in paper trading and in a backtest.
 *
 * tack_bar_builder turns public trades (tack_trade) into time bars of any
 * timeframe; tack_bar_resampler turns bars of one timeframe into bars of a
 * multiple of it (Coinbase's 5-minute candles into 4-hour bars). Both align
 * buckets on the UNIX epoch in UTC: a bar of timeframe tf seconds covers
 * [floor(ts / tf) * tf, that + tf), so 1d bars start at 00:00 UTC and 1w bars
 * on Thursdays (1970-01-01 was one). Both deliver through a callback: a
 * forming bar as provisional (flags without TACK_BAR_CLOSED) as often as
 * configured, and every bar exactly once as closed.
 *
 * Ownership and threads: a builder or resampler is owned by whoever called
 * init and is freed with the matching free. It is not thread-safe; the host
 * uses each one from the loop thread only. Pointers passed to callbacks are
 * borrowed for the duration of the callback. A callback must not call back
 * into the object that called it (push, close_until, reset or free).
 *
 * docs/bars.md explains the rules with examples.
 */
#ifndef TACK_BARS_H
#define TACK_BARS_H

#include <stdint.h>

#include "tack.h"

/* Gap policy: what happens to an interval in which nothing traded. */
#define TACK_BARS_GAP_SKIP 0u /* no bar at all */
#define TACK_BARS_GAP_FILL 1u /* o=h=l=c=previous close, volume 0, CLOSED|FILLER */

/* When the builder delivers the forming bar as provisional. */
#define TACK_BARS_PROV_NONE 0u  /* never: closed bars only */
#define TACK_BARS_PROV_EVERY 1u /* after every trade applied */
#define TACK_BARS_PROV_THROTTLE                                                                    \
  2u /* first trade of a bar, then at most one per                                                 \
        provisional_ns of trade time */

/* Positive results of push(): the input was valid but not applied. They are
 * also the reason passed to the on_drop callbacks. */
#define TACK_BARS_APPLIED 0
#define TACK_BARS_LATE 1      /* for a bucket already closed */
#define TACK_BARS_DUPLICATE 2 /* seen before (same trade id; same input bar closed twice) */

/* Default number of recent trade ids remembered to drop duplicates. */
#define TACK_BARS_DEDUP_DEFAULT 1024u

/* Largest ratio output timeframe / input timeframe a resampler accepts (it
 * keeps one bit per input slot of the forming output bar). 1s -> 30d fits. */
#define TACK_BARS_MAX_RATIO (UINT32_C(1) << 22)

/* A closed or provisional bar, borrowed for the call. */
typedef void (*tack_bars_bar_cb)(void *data, const tack_bar *bar);

/* ------------------------------------------------------------------------ */
/* Trades -> bars                                                            */
/* ------------------------------------------------------------------------ */

typedef struct tack_bar_builder tack_bar_builder;

/* A trade that was dropped; reason is TACK_BARS_LATE or TACK_BARS_DUPLICATE. */
typedef void (*tack_bar_builder_drop_cb)(void *data, const tack_trade *trade, int reason);

typedef struct tack_bar_builder_config {
  uint32_t timeframe_s;             /* > 0: 60 for 1m, 14400 for 4h, 86400 for 1d */
  uint32_t gap_policy;              /* TACK_BARS_GAP_* */
  uint32_t provisional;             /* TACK_BARS_PROV_* */
  uint32_t dedup_window;            /* recent trade ids remembered; 0 turns deduplication off */
  int64_t provisional_ns;           /* TACK_BARS_PROV_THROTTLE: > 0, in trade time */
  tack_bars_bar_cb on_bar;          /* required: closed, filler and provisional bars */
  tack_bar_builder_drop_cb on_drop; /* optional: late and duplicate trades */
  void *data;                       /* the user's, passed to the callbacks */
} tack_bar_builder_config;

/* What the builder has seen since init or the last reset. */
typedef struct tack_bar_builder_stats {
  uint64_t applied;      /* trades folded into a bar */
  uint64_t out_of_order; /* applied, but older than a trade applied before them */
  uint64_t late;         /* for a bucket already closed: not applied */
  uint64_t duplicates;   /* a trade id seen before: not applied */
  uint64_t invalid;      /* refused with TACK_EINVAL */
  uint64_t closed;       /* closed bars delivered, fillers included */
  uint64_t fillers;      /* filler bars delivered */
  uint64_t provisional;  /* provisional bars delivered */
} tack_bar_builder_stats;

/* Defaults for timeframe_s: skip gaps, no provisional bars, deduplication
 * over TACK_BARS_DEDUP_DEFAULT ids, no callbacks (on_bar must then be set). */
void tack_bar_builder_config_init(tack_bar_builder_config *cfg, uint32_t timeframe_s);

/*
 * Make a builder; *out receives it. The config is copied. TACK_EINVAL for
 * a zero timeframe, an unknown policy, a missing on_bar, a throttle without
 * a positive interval or a dedup_window above 2^24; TACK_ENOMEM when
 * allocation fails. On error *out is left NULL.
 */
int tack_bar_builder_init(tack_bar_builder **out, const tack_bar_builder_config *cfg);

/* Free the builder and everything it holds. NULL is a no-op. The forming bar
 * is not delivered: call close_until first if it should be. */
void tack_bar_builder_free(tack_bar_builder *b);

/* Forget every bar, trade id and counter, as if just made. */
void tack_bar_builder_reset(tack_bar_builder *b);

/*
 * Apply one trade. A trade of a later bucket than the forming bar first
 * closes it (and, with GAP_FILL, delivers a filler for each empty bucket in
 * between). A trade for the forming bar's bucket is applied in time order
 * whatever its arrival: open stays the earliest trade's price and close the
 * latest's (ties keep arrival order). A trade for a bucket already closed is
 * late; a trade whose non-empty id was seen among the last dedup_window ids is
 * a duplicate. Neither changes any bar: both are counted and reported to
 * on_drop.
 *
 * Returns TACK_BARS_APPLIED (0), TACK_BARS_LATE or TACK_BARS_DUPLICATE, or
 * TACK_EINVAL (counted as invalid, nothing changed) when ts is negative or
 * too close to INT64_MAX for its bucket's end, price is not finite, or size
 * is negative or not finite.
 */
int tack_bar_builder_push(tack_bar_builder *b, const tack_trade *trade);

/*
 * Time has reached now with no trade: close the forming bar if its bucket
 * ended at or before now and, with GAP_FILL, deliver a filler for every empty
 * bucket that ended at or before now (after the first bar; there is no close
 * to fill with before it). From then on a trade earlier than the start of
 * now's bucket is late, even for a bucket that got no bar. Calling it with a
 * time earlier than a previous call is harmless. TACK_EINVAL when now < 0.
 */
int tack_bar_builder_close_until(tack_bar_builder *b, tack_time now);

/* Copy the forming bar (provisional) to *out: 1 when there is one, else 0 and
 * *out untouched. Lets the host publish on its own timer. */
int tack_bar_builder_forming(const tack_bar_builder *b, tack_bar *out);

const tack_bar_builder_stats *tack_bar_builder_stats_get(const tack_bar_builder *b);

/* ------------------------------------------------------------------------ */
/* Bars -> bars of a multiple timeframe                                      */
/* ------------------------------------------------------------------------ */

typedef struct tack_bar_resampler tack_bar_resampler;

/* An input bar that was dropped; reason is TACK_BARS_LATE or TACK_BARS_DUPLICATE. */
typedef void (*tack_bar_resampler_drop_cb)(void *data, const tack_bar *in, int reason);

typedef struct tack_bar_resampler_config {
  uint32_t in_timeframe_s;            /* A > 0: the timeframe of every input bar */
  uint32_t out_timeframe_s;           /* B: a multiple of A, B / A <= TACK_BARS_MAX_RATIO */
  uint32_t gap_policy;                /* TACK_BARS_GAP_*: for output buckets with no closed input */
  uint32_t provisional;               /* nonzero: deliver the forming output bar after each
                                         input that changes it */
  tack_bars_bar_cb on_bar;            /* required */
  tack_bar_resampler_drop_cb on_drop; /* optional */
  void *data;
} tack_bar_resampler_config;

typedef struct tack_bar_resampler_stats {
  uint64_t applied;        /* closed inputs folded into an output bar */
  uint64_t provisional_in; /* provisional inputs accepted */
  uint64_t out_of_order;   /* closed inputs older than one applied before them */
  uint64_t late;           /* inputs for an output bucket already closed */
  uint64_t duplicates;     /* an input slot already closed, closed or updated again */
  uint64_t invalid;        /* refused with TACK_EINVAL */
  uint64_t unconfirmed;    /* provisional inputs never closed before their output
                              bar closed: left out of it */
  uint64_t closed;         /* closed output bars, fillers included */
  uint64_t fillers;
  uint64_t provisional; /* provisional output bars delivered */
} tack_bar_resampler_stats;

/*
 * Make a resampler; *out receives it, the config is copied. TACK_EINVAL when
 * A or B is zero, B is not a multiple of A, B / A exceeds TACK_BARS_MAX_RATIO,
 * a policy is unknown or on_bar is missing; TACK_ENOMEM. On error *out is
 * left NULL.
 */
int tack_bar_resampler_init(tack_bar_resampler **out, const tack_bar_resampler_config *cfg);
void tack_bar_resampler_free(tack_bar_resampler *r);
void tack_bar_resampler_reset(tack_bar_resampler *r);

/*
 * Apply one input bar. A closed bar is folded into its output bucket in time
 * order (open from the earliest input, close from the latest, high/low
 * extremes, volume summed); the output bar closes as soon as the input bar
 * that ends its bucket closes, or when an input (closed or provisional) of a
 * later bucket arrives. A provisional input is held (the most recent one
 * only) and shown in the provisional output on top of the closed inputs; it
 * never reaches a closed output bar, which is built from closed inputs only.
 * Filler inputs (TACK_BAR_FILLER) carry no trade: they shape an output bar
 * only when its bucket has no other closed input (the output is then a
 * filler too), so resampling a gap-filled series gives the bars of the
 * unfilled one plus fillers for the empty buckets.
 * An input for an output bucket already closed is late; a closed input for a
 * slot already closed, or a provisional one for it, is a duplicate: the first
 * closed version wins. Both are counted and reported to on_drop.
 *
 * Returns TACK_BARS_APPLIED (0), TACK_BARS_LATE or TACK_BARS_DUPLICATE, or
 * TACK_EINVAL (counted, nothing changed) when the bar's timeframe_s is not A,
 * its ts is negative or not a multiple of A, or a price or the volume is not
 * finite (or the volume negative).
 */
int tack_bar_resampler_push(tack_bar_resampler *r, const tack_bar *in);

/* As tack_bar_builder_close_until, for output buckets. */
int tack_bar_resampler_close_until(tack_bar_resampler *r, tack_time now);

/* The forming output bar as it would be delivered provisional: 1 when there
 * is one, else 0. */
int tack_bar_resampler_forming(const tack_bar_resampler *r, tack_bar *out);

const tack_bar_resampler_stats *tack_bar_resampler_stats_get(const tack_bar_resampler *r);

#endif
