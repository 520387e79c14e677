/*
 * synth.h: realistic synthetic candles, deterministic by seed, for the demo,
 * tests and benchmarks (`tack data synth`, docs/data.md "Synthetic data").
 * No network is needed to try tack; real data comes in with `tack data
 * import`.
 *
 * The model, per bar of timeframe_s:
 *   - regimes: a Markov chain over trend up, trend down and range (the
 *     next trend leans toward the opposite of the last one), each regime
 *     lasting a geometric number of bars (mean regime_bars); a trend
 *     regime adds a drift of +-trend per bar (scaled by the volatility), a
 *     range regime pulls the price back toward its mean level;
 *   - volatility clustering: GARCH(1,1) on the bar's log return, scaled so
 *     that the long-run volatility is `volatility` a year;
 *   - the bar: open at the previous close (plus an occasional small gap),
 *     a path of sub-steps gives close, high and low (so high >= max(open,
 *     close), low <= min(open, close) always);
 *   - volume: lognormal around `volume`, larger on large moves and in high
 *     volatility, with a daily seasonality.
 * Every number comes from a generator seeded by (seed, symbol): the same
 * seed and symbol give the same bars, bit for bit, on every run and every
 * machine with the same libm (the numbers go through its exp and log), and
 * two symbols of one seed differ. Prices stay positive and finite: far from
 * the start price (a factor of 1000) trends turn back toward it.
 */
#ifndef TACK_SYNTH_H
#define TACK_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "tack.h"

typedef struct tack_synth_opts {
  uint64_t seed;
  const char *symbol;   /* mixed into the seed; may be NULL ("") */
  uint32_t timeframe_s; /* > 0 */
  tack_time start;      /* the first bar's open; aligned down to timeframe_s */
  double start_price;   /* > 0 */
  double volatility;    /* long-run annualized volatility, e.g. 0.6 */
  double trend;         /* drift of a trend regime, in per-bar volatilities, e.g. 0.08 */
  double regime_bars;   /* mean regime length in bars, e.g. 500 */
  double volume;        /* typical volume per bar, > 0 */
  double tick;          /* prices on multiples of it, as a venue's are; 0: unrounded */
} tack_synth_opts;

/* Defaults: seed 1, 300 s, start 2024-01-01, price 30000, volatility 0.6,
 * trend 0.08, regime_bars 600, volume 50. */
void tack_synth_defaults(tack_synth_opts *o);

/* The ranges tack_synth_check() accepts. */
#define TACK_SYNTH_TIMEFRAME_MAX 604800u /* 7 days, as tack_timeframe_parse() */
#define TACK_SYNTH_PRICE_MIN 1e-6
#define TACK_SYNTH_PRICE_MAX 1e12
#define TACK_SYNTH_VOLATILITY_MIN 1e-6 /* below, a bar's variance underflows */
#define TACK_SYNTH_VOLATILITY_MAX 5.0  /* 500% a year */
#define TACK_SYNTH_TREND_MAX 1.0
#define TACK_SYNTH_REGIME_BARS_MAX 1e9
#define TACK_SYNTH_VOLUME_MIN 1e-6
#define TACK_SYNTH_VOLUME_MAX 1e15
#define TACK_SYNTH_TICK_MAX 1e6

/*
 * Every option in range: 0, or TACK_EINVAL with why (cap bytes, may be 0)
 * saying what is wrong, starting with the option's name as `tack data
 * synth` spells it without its dashes ("start-price 0: ..." for
 * start_price), so that the command can print "--" before it. symbol is not
 * checked: any text (or NULL) seeds a series.
 */
int tack_synth_check(const tack_synth_opts *o, char *why, size_t cap);

/* Standard normal deviates made at a time (even). */
#define TACK_SYNTH_NORMALS 64

/* The generator's state: opaque in spirit, on the stack in practice. */
typedef struct tack_synth {
  tack_synth_opts o;
  uint64_t rng[4];
  uint64_t n; /* bars made */
  double price, var, mean_level;
  uint32_t regime; /* TACK_SYNTH_* */
  uint64_t regime_left;
  double per_bar_var; /* long-run variance of one bar's log return */
  double garch_omega, garch_alpha, garch_beta;
  double last_ret;
  /* Added with synth.c. */
  double log_price; /* log of price, carried along so exp/log round trips never drift */
  double home;      /* log of start_price: the soft walls of the price are around it */
  double sigma_bar; /* the GARCH's long-run sd of one bar: the unit of the trend drift */
  double log_stay;  /* log(1 - 1 / regime_bars): geometric regime lengths */
  double var_cap, inv_garch_var, inv_mean_move; /* constants of the volume and GARCH */
  uint32_t day_s;        /* seconds into the UTC day of the next bar's open */
  uint32_t last_trend;   /* TACK_SYNTH_UP or _DOWN: the latest trend regime's */
  uint32_t normals_left; /* deviates of normals not used yet (the last ones) */
  double normals[TACK_SYNTH_NORMALS];
} tack_synth;

#define TACK_SYNTH_RANGE 0u
#define TACK_SYNTH_UP 1u
#define TACK_SYNTH_DOWN 2u

/* Start a generator (o is copied; symbol is hashed, not kept: g->o.symbol
 * is NULL afterwards). Returns 0, or TACK_EINVAL when tack_synth_check()
 * refuses o (g is then not usable). */
int tack_synth_init(tack_synth *g, const tack_synth_opts *o);

/* The next bar: closed, timeframe_s set, ts = start + n * timeframe_s. */
void tack_synth_next(tack_synth *g, tack_bar *out);

/* The regime of the bar last made (for tests and the demo's notes). */
static inline uint32_t tack_synth_regime(const tack_synth *g) { return g->regime; }

#endif
