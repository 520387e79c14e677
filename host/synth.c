/*
 * synth.c: the synthetic candle generator of synth.h: its random numbers
 * (xoshiro256** seeded through splitmix64, normal deviates by the polar
 * method), the regime chain, the GARCH(1,1) variance, the bar's path and its
 * volume. The model and its constants are explained in docs/data.md,
 * "Synthetic data".
 *
 * Determinism: only +, -, *, /, sqrt, floor (exact or correctly rounded
 * everywhere) and libm's exp and log touch the numbers, the build does not
 * contract a*b+c into FMA (GCC in ISO C mode does not), and every draw
 * happens in a fixed order. So a (seed, symbol) gives the same bars bit for
 * bit on every run with the same libm; tests/test_synth.c pins a checksum of
 * them.
 */
#include "prng.h"
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "utc.h"

/* GARCH(1,1): h' = omega + ALPHA * eps^2 + BETA * h. Persistence 0.98 gives
 * volatility bursts of tens to hundreds of bars; (ALPHA + BETA)^2 + 2 ALPHA^2
 * < 1 keeps the fourth moment finite (kurtosis about 5.5). */
#define GARCH_ALPHA 0.10
#define GARCH_BETA 0.88
#define VAR_CAP 100.0 /* h never exceeds 100x its long-run value (10x the sd) */

/* Regimes: a trend ends in a range with this probability, else in the
 * opposite trend; a range ends in a trend opposite to the last one with
 * probability P_REVERSE, else in the same direction again. With equal mean
 * lengths the shares of bars are range 4/9, up 5/18, down 5/18. Trends that
 * lean toward alternating (a rally, then a correction) keep the yearly
 * moves near what the volatility says; independent directions would
 * compound them into a random walk of whole trends, twice as wide. */
#define P_TREND_TO_RANGE 0.8
#define P_REVERSE 0.75

/* A range pulls the log price toward its level by this fraction a bar (a
 * half-life of about 23 bars); the level follows the price 20 times slower. */
#define RANGE_PULL 0.03
#define LEVEL_RATE 0.0015

/* Soft walls: beyond WALL (log units, a factor of 1000) from the start
 * price, trends stop pushing outward, the next trend points back, and a
 * pull of WALL_PULL a bar brings the price back. The hard clamp at CLAMP is
 * only a guarantee that exp() stays finite and positive (never reached with
 * sane settings: it is e^300 from the start price). */
#define WALL 6.907755278982137 /* log(1000) */
#define WALL_PULL 0.05
#define CLAMP 300.0

/* The bar: two inner points of a Brownian bridge from open to close (three
 * sub-steps), plus a wick of up to WICK sds beyond the extremes; an opening
 * gap on GAP_P of the bars, of GAP_SD sds (part of the bar's return, so the
 * close-to-close variance is unchanged). */
#define WICK 0.8
#define GAP_P 0.02
#define GAP_SD 0.3

/* Volume: lognormal noise of VOL_NOISE (log sd), a weight on the move size
 * (|r| against its mean), the fourth root of h against its mean, and a
 * daily cycle of +-SEASON peaking at SEASON_PEAK_S (15:00 UTC). */
#define VOL_NOISE 0.4
#define VOL_MOVE 0.7
#define SEASON 0.35
#define SEASON_PEAK_S 54000u
#define MEAN_ABS_NORMAL 0.7978845608028654 /* sqrt(2 / pi) */

#define DAY_S 86400u
#define SECONDS_PER_YEAR (365.25 * 86400.0)

/* ------------------------------------------------------------------------ */
/* Random numbers                                                            */
/* ------------------------------------------------------------------------ */

static uint64_t fnv1a64(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; s && *s; s++)
    h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
  return h;
}

static inline uint64_t xoshiro(uint64_t *s) { return tack_xoshiro(s); }

/* Uniform in [0, 1), 53 bits. */
static inline double uniform(tack_synth *g) {
  return (double)(int64_t)(xoshiro(g->rng) >> 11) * 0x1.0p-53;
}

/* Uniform in [-1, 1), on a grid of 2^-52 (every step exact). */
static inline double uniform_signed(tack_synth *g) {
  return (double)(int64_t)(xoshiro(g->rng) >> 11) * 0x1.0p-52 - 1.0;
}

/* Refill the buffer of standard normal deviates, Marsaglia's polar method
 * (log and sqrt only, no cos). A whole buffer at a time: the pairs are
 * independent, so the CPU overlaps their log, sqrt and division, which one
 * pair at a time would wait for in turn. */
static void refill_normals(tack_synth *g) {
  for (size_t i = 0; i < TACK_SYNTH_NORMALS; i += 2) {
    double u, v, s;
    do {
      u = uniform_signed(g);
      v = uniform_signed(g);
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double m = sqrt(-2.0 * log(s) / s);
    g->normals[i] = u * m;
    g->normals[i + 1] = v * m;
  }
  g->normals_left = TACK_SYNTH_NORMALS;
}

static inline double normal(tack_synth *g) {
  if (g->normals_left == 0)
    refill_normals(g);
  return g->normals[TACK_SYNTH_NORMALS - g->normals_left--];
}

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

void tack_synth_defaults(tack_synth_opts *o) {
  memset(o, 0, sizeof *o);
  o->seed = 1;
  o->symbol = NULL;
  o->timeframe_s = 300;
  o->start = (tack_time)1704067200 * TACK_NS_PER_SEC; /* 2024-01-01T00:00:00Z */
  o->start_price = 30000;
  o->volatility = 0.6;
  o->trend = 0.08;
  o->regime_bars = 600;
  o->volume = 50;
}

/* 0 when lo <= v <= hi (and so not NaN), else the message. */
static int check_range(double v, double lo, double hi, const char *name, const char *unit,
                       char *why, size_t cap) {
  if (v >= lo && v <= hi)
    return 0;
  if (cap)
    snprintf(why, cap, "%s %g: expected %g to %g%s", name, v, lo, hi, unit);
  return TACK_EINVAL;
}

int tack_synth_check(const tack_synth_opts *o, char *why, size_t cap) {
  if (cap)
    why[0] = '\0';
  if (o->timeframe_s == 0 || o->timeframe_s > TACK_SYNTH_TIMEFRAME_MAX) {
    if (cap)
      snprintf(why, cap, "timeframe %us: expected 1 s to 7 days", (unsigned)o->timeframe_s);
    return TACK_EINVAL;
  }
  int64_t tf_ns = (int64_t)o->timeframe_s * TACK_NS_PER_SEC;
  if (o->start < INT64_MIN + tf_ns) {
    if (cap)
      snprintf(why, cap, "start: before 1677, the earliest time tack holds");
    return TACK_EINVAL;
  }
  if (check_range(o->start_price, TACK_SYNTH_PRICE_MIN, TACK_SYNTH_PRICE_MAX, "start-price", "",
                  why, cap) ||
      check_range(o->volatility, TACK_SYNTH_VOLATILITY_MIN, TACK_SYNTH_VOLATILITY_MAX, "volatility",
                  " (a year's volatility: 0.6 is 60%)", why, cap) ||
      check_range(o->trend, 0, TACK_SYNTH_TREND_MAX, "trend",
                  " (the drift a bar, in the bar's standard deviations)", why, cap) ||
      check_range(o->regime_bars, 1, TACK_SYNTH_REGIME_BARS_MAX, "regime-bars", " bars", why,
                  cap) ||
      check_range(o->volume, TACK_SYNTH_VOLUME_MIN, TACK_SYNTH_VOLUME_MAX, "volume", "", why,
                  cap) ||
      check_range(o->tick, 0, TACK_SYNTH_TICK_MAX, "tick", " (0: prices unrounded)", why, cap))
    return TACK_EINVAL;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The generator                                                             */
/* ------------------------------------------------------------------------ */

/* v on the grid of tick, at least one tick: the nearest multiple, divided
 * by 1/tick when that is whole (so 0.01 gives 30000.01, the double that
 * prints as the decimal), else multiplied. */
static double on_tick(double v, double tick) {
  double inv = 1.0 / tick, whole = floor(inv + 0.5);
  double n = fabs(inv - whole) < 1e-9 * whole ? floor(v * whole + 0.5) : floor(v / tick + 0.5);
  if (n < 1)
    n = 1;
  return fabs(inv - whole) < 1e-9 * whole ? n / whole : n * tick;
}

/* A geometric number of bars >= 1 with mean regime_bars. */
static uint64_t regime_length(tack_synth *g) {
  if (g->log_stay == 0.0)
    return 1;
  double u = 1.0 - uniform(g); /* (0, 1] */
  double extra = floor(log(u) / g->log_stay);
  return 1 + (uint64_t)extra; /* at most 37 * regime_bars: u >= 2^-53 */
}

/* Leave the current regime for the next one. Near a wall the next trend
 * points back toward the start price. */
static void next_regime(tack_synth *g) {
  double u = uniform(g);
  double away = g->log_price - g->home;
  uint32_t reverse = g->last_trend == TACK_SYNTH_UP ? TACK_SYNTH_DOWN : TACK_SYNTH_UP;
  uint32_t next;
  if (g->regime == TACK_SYNTH_RANGE)
    next = u < P_REVERSE ? reverse : g->last_trend;
  else
    next = u < P_TREND_TO_RANGE ? TACK_SYNTH_RANGE : reverse;
  if (next != TACK_SYNTH_RANGE && away > WALL)
    next = TACK_SYNTH_DOWN;
  else if (next != TACK_SYNTH_RANGE && away < -WALL)
    next = TACK_SYNTH_UP;
  if (next == TACK_SYNTH_RANGE)
    g->mean_level = g->log_price;
  else
    g->last_trend = next;
  g->regime = next;
  g->regime_left = regime_length(g);
}

int tack_synth_init(tack_synth *g, const tack_synth_opts *o) {
  memset(g, 0, sizeof *g);
  if (tack_synth_check(o, NULL, 0) != 0)
    return TACK_EINVAL;
  g->o = *o;
  g->o.symbol = NULL;
  int64_t tf_ns = (int64_t)o->timeframe_s * TACK_NS_PER_SEC;
  g->o.start = tack_floor_div(o->start, tf_ns) * tf_ns;

  /* The seed's bits and the symbol's hash both pass through splitmix64, so
   * nearby seeds and similar symbols give unrelated streams. */
  uint64_t sm = o->seed;
  uint64_t mixed = tack_splitmix64(&sm) ^ fnv1a64(o->symbol);
  for (int i = 0; i < 4; i++)
    g->rng[i] = tack_splitmix64(&mixed);
  if ((g->rng[0] | g->rng[1] | g->rng[2] | g->rng[3]) == 0)
    g->rng[0] = 1; /* xoshiro's one forbidden state */

  /* The trend drift adds trend^2 of the GARCH's variance on the trend
   * bars' share (5/9): take it out so the total is the target. */
  double bars_per_year = SECONDS_PER_YEAR / (double)o->timeframe_s;
  g->per_bar_var = o->volatility * o->volatility / bars_per_year;
  double garch_var = g->per_bar_var / (1.0 + (5.0 / 9.0) * o->trend * o->trend);
  g->sigma_bar = sqrt(garch_var);
  g->garch_alpha = GARCH_ALPHA;
  g->garch_beta = GARCH_BETA;
  g->garch_omega = garch_var * (1.0 - GARCH_ALPHA - GARCH_BETA);
  g->var = garch_var;
  g->var_cap = VAR_CAP * garch_var;
  g->inv_garch_var = 1.0 / garch_var;
  g->inv_mean_move = 1.0 / (MEAN_ABS_NORMAL * g->sigma_bar);
  g->log_stay = o->regime_bars > 1.0 ? log(1.0 - 1.0 / o->regime_bars) : 0.0;

  g->price = o->start_price;
  g->log_price = log(o->start_price);
  g->home = g->log_price;
  g->mean_level = g->log_price;
  int64_t start_s = tack_floor_div(g->o.start, TACK_NS_PER_SEC);
  g->day_s = (uint32_t)(start_s - tack_floor_div(start_s, DAY_S) * DAY_S);

  /* The first regime from the chain's stationary shares (4/9, 5/18, 5/18). */
  double u = uniform(g);
  g->regime = u < 4.0 / 9.0 ? TACK_SYNTH_RANGE : u < 13.0 / 18.0 ? TACK_SYNTH_UP : TACK_SYNTH_DOWN;
  g->last_trend = g->regime != TACK_SYNTH_RANGE ? g->regime
                  : uniform(g) < 0.5            ? TACK_SYNTH_UP
                                                : TACK_SYNTH_DOWN;
  g->regime_left = regime_length(g);
  return 0;
}

static inline double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* The daily cycle: 1 +- SEASON, a piecewise parabola close to a cosine
 * (only + and *, so exact everywhere), peaking at SEASON_PEAK_S. */
static inline double season(uint32_t day_s) {
  uint32_t d = day_s >= SEASON_PEAK_S ? day_s - SEASON_PEAK_S : SEASON_PEAK_S - day_s;
  if (d > DAY_S / 2)
    d = DAY_S - d;
  double f = (double)d * (1.0 / DAY_S); /* 0 .. 0.5 */
  double c = f <= 0.25 ? 1.0 - 32.0 * f * f : 32.0 * (0.5 - f) * (0.5 - f) - 1.0;
  return 1.0 + SEASON * c;
}

void tack_synth_next(tack_synth *g, tack_bar *out) {
  if (g->regime_left == 0)
    next_regime(g);
  g->regime_left--;

  double x = g->log_price, h = g->var, sd = sqrt(h);
  double mu;
  if (g->regime == TACK_SYNTH_UP) {
    mu = g->o.trend * g->sigma_bar;
  } else if (g->regime == TACK_SYNTH_DOWN) {
    mu = -g->o.trend * g->sigma_bar;
  } else {
    mu = RANGE_PULL * (g->mean_level - x);
    g->mean_level += LEVEL_RATE * (x - g->mean_level);
  }
  double away = x - g->home;
  if (away > WALL)
    mu = (mu < 0 ? mu : 0) - WALL_PULL * (away - WALL);
  else if (away < -WALL)
    mu = (mu > 0 ? mu : 0) + WALL_PULL * (-WALL - away);

  double eps = sd * normal(g);
  double r = mu + eps;
  double gap = uniform(g) < GAP_P ? GAP_SD * sd * normal(g) : 0.0;
  double lo_x = g->home - CLAMP, hi_x = g->home + CLAMP;
  double xo = clamp(x + gap, lo_x, hi_x);
  double xc = clamp(x + r, lo_x, hi_x);

  /* Two inner points of the bridge from xo to xc at 1/3 and 2/3 of the bar;
   * their sds are sd * sqrt(2/9) and sd * sqrt(1/6). */
  double b1 = xo + (xc - xo) * (1.0 / 3.0) + 0.47140452079103168 * sd * normal(g);
  double b2 = b1 + (xc - b1) * 0.5 + 0.40824829046386302 * sd * normal(g);
  double top = xo > xc ? xo : xc, bottom = xo < xc ? xo : xc;
  top = b1 > top ? b1 : top;
  top = b2 > top ? b2 : top;
  bottom = b1 < bottom ? b1 : bottom;
  bottom = b2 < bottom ? b2 : bottom;
  double u1 = uniform(g), u2 = uniform(g);
  top = clamp(top + WICK * sd * u1 * u1, lo_x, hi_x);
  bottom = clamp(bottom - WICK * sd * u2 * u2, lo_x, hi_x);

  double open = gap == 0.0 ? g->price : exp(xo);
  double close = exp(xc);
  double high = exp(top), low = exp(bottom);
  /* exp is monotonic in practice; make the invariant hold regardless. */
  double oc_max = open > close ? open : close, oc_min = open < close ? open : close;
  high = high > oc_max ? high : oc_max;
  low = low < oc_min ? low : oc_min;

  if (g->o.tick > 0) {
    open = on_tick(open, g->o.tick);
    close = on_tick(close, g->o.tick);
    high = on_tick(high, g->o.tick);
    low = on_tick(low, g->o.tick);
    oc_max = open > close ? open : close;
    oc_min = open < close ? open : close;
    high = high > oc_max ? high : oc_max;
    low = low < oc_min ? low : oc_min;
  }

  double move = fabs(r) * g->inv_mean_move;
  double vol_level = sqrt(sqrt(h * g->inv_garch_var));
  double noise = exp(VOL_NOISE * normal(g) - 0.5 * VOL_NOISE * VOL_NOISE);
  double seasonal = g->o.timeframe_s < DAY_S ? season(g->day_s) : 1.0;
  double volume = g->o.volume * seasonal * ((1.0 - VOL_MOVE) + VOL_MOVE * move) * vol_level * noise;

  double next_var = g->garch_omega + g->garch_alpha * eps * eps + g->garch_beta * h;
  g->var = next_var < g->var_cap ? next_var : g->var_cap;

  /* Unsigned, so that running past year 2262 wraps instead of being
   * undefined; callers stop before (the CLI checks the last time). */
  out->ts = (tack_time)((uint64_t)g->o.start +
                        g->n * ((uint64_t)g->o.timeframe_s * (uint64_t)TACK_NS_PER_SEC));
  out->open = open;
  out->high = high;
  out->low = low;
  out->close = close;
  out->volume = volume;
  out->timeframe_s = g->o.timeframe_s;
  out->flags = TACK_BAR_CLOSED;

  g->price = close;
  g->log_price = xc;
  g->last_ret = r;
  g->n++;
  g->day_s = (uint32_t)((g->day_s + g->o.timeframe_s % DAY_S) % DAY_S);
}
