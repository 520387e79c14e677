/*
 * ta.h: the streaming math of the indicator library, in plain C with no tack
 * types. Each indicator is a kernel: a small state struct, an init that takes
 * its parameters and carves the kernel's buffers out of an arena, and an
 * update that consumes one bar.
 *
 * Update contract, shared by every kernel:
 *   - returns 1 and writes every output when the bar produces a value, or
 *     returns 0 and writes nothing while the kernel warms up;
 *   - commit == 0 computes the value of a provisional bar and leaves the
 *     state exactly as it was, so any number of provisional versions followed
 *     by the closed bar give the same state as the closed bar alone;
 *   - the arithmetic follows TA-Lib 0.6's order of operations (same seeds,
 *     same running sums, same divisions), so a series fed from bar 0 gives
 *     TA-Lib's values, usually to the last bit. Where a kernel departs from
 *     that order for speed, its comment says so.
 * Parameters are not checked here: the plugin glue validates them against the
 * declared ranges before calling an init.
 *
 * The updates of the cheapest, most used kernels (SMA, EMA, RSI, MACD, ATR)
 * and the O(1) steps of the sliding-window maxima are defined inline here:
 * for them a call would be a large part of the cost of an update.
 */
#ifndef TACK_TA_H
#define TACK_TA_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* TA-Lib's zero tests (ta_utility.h, 0.6): values within 1e-14 of zero. */
#define TA_EPSILON 0.00000000000001
#define TA_IS_ZERO(v) (((-TA_EPSILON) < (v)) && ((v) < TA_EPSILON))
#define TA_IS_ZERO_OR_NEG(v) ((v) < TA_EPSILON)

/*
 * Where kernels get their buffers. With base == NULL an init only counts the
 * bytes it would take (and leaves its buffer pointers NULL), so the glue can
 * size one allocation before making it; with base set, buffers are carved in
 * the same order, 8-byte aligned.
 */
typedef struct ta_arena {
  unsigned char *base;
  size_t used;
} ta_arena;

void *ta_arena_take(ta_arena *a, size_t bytes);

/* v when cond is true, else +0.0, without a branch: a bit mask, because
 * compilers keep a branch for ?: and (double)cond·v has a slow conversion on
 * the dependency chain. */
static inline double ta_keep_if(int cond, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof(bits));
  bits &= (uint64_t)0 - (uint64_t)(cond != 0);
  memcpy(&v, &bits, sizeof(v));
  return v;
}

/*
 * Maximum over a sliding window of the last `window` values, without the
 * bar where it was (van Herk / Gil-Werman): the stream is cut into blocks of
 * `window` values; the window ending at position p of the current block is
 * the block's prefix up to p plus the previous block's suffix after p. The
 * suffix maxima are computed once per block, when its last value is pushed,
 * so both push and peek are branch-free O(1) (amortised for push) and a
 * peek never computes anything it would have to store. Before the window
 * fills it covers the values seen so far. A minimum is the maximum of
 * negated values.
 */
typedef struct ta_winmax {
  double *buf; /* the current block's values */
  double *suf; /* suffix maxima of the previous block */
  double pre;  /* maximum of the current block so far, −DBL_MAX at its start */
  uint32_t window;
  uint32_t pos; /* position of the next value in its block */
} ta_winmax;

void ta_winmax_init(ta_winmax *q, uint32_t window, ta_arena *a);
/* The block is complete: compute its suffix maxima and start the next. */
void ta_winmax_next_block(ta_winmax *q);

static inline double ta_max2(double a, double b) { return a > b ? a : b; }

/* The window maximum if x were the next value, without pushing it. */
static inline double ta_winmax_peek(const ta_winmax *q, double x) {
  double pre = ta_max2(q->pre, x);
  uint32_t next = q->pos + 1;
  return next == q->window ? pre : ta_max2(q->suf[next], pre);
}

/* Push x; returns the window maximum including it. */
static inline double ta_winmax_push(ta_winmax *q, double x) {
  double m = ta_winmax_peek(q, x);
  q->pre = ta_max2(q->pre, x);
  q->buf[q->pos] = x;
  if (++q->pos == q->window)
    ta_winmax_next_block(q);
  return m;
}

/* Highest high and lowest low of a window with this bar in it, the bar
 * pushed when commit; lo holds negated lows. */
static inline void ta_hilo(ta_winmax *hi, ta_winmax *lo, double h, double l, int commit, double *hh,
                           double *ll) {
  if (commit) {
    *hh = ta_winmax_push(hi, h);
    *ll = -ta_winmax_push(lo, -l);
  } else {
    *hh = ta_winmax_peek(hi, h);
    *ll = -ta_winmax_peek(lo, -l);
  }
}

/*
 * The same block scheme, also giving the bar of the maximum, the most recent
 * one among equal values (TA-Lib's AROON rule): within a block the prefix
 * takes a value equal to its maximum, the suffix keeps the later one, and
 * the (newer) prefix wins a tie with the (older) suffix. Bars are numbered
 * from 0 in push order.
 */
typedef struct ta_winarg {
  double *buf;
  double *suf;
  int64_t *suf_at;
  double pre;
  int64_t pre_at;
  int64_t t; /* number of the next bar */
  uint32_t window;
  uint32_t pos;
} ta_winarg;

void ta_winarg_init(ta_winarg *q, uint32_t window, ta_arena *a);
void ta_winarg_next_block(ta_winarg *q);

static inline double ta_winarg_peek(const ta_winarg *q, double x, int64_t *at) {
  int take = x >= q->pre;
  double pre = take ? x : q->pre;
  int64_t pre_at = take ? q->t : q->pre_at;
  uint32_t next = q->pos + 1;
  if (next == q->window || pre >= q->suf[next]) {
    *at = pre_at;
    return pre;
  }
  *at = q->suf_at[next];
  return q->suf[next];
}

static inline double ta_winarg_push(ta_winarg *q, double x, int64_t *at) {
  double m = ta_winarg_peek(q, x, at);
  if (x >= q->pre) {
    q->pre = x;
    q->pre_at = q->t;
  }
  q->buf[q->pos] = x;
  q->t++;
  if (++q->pos == q->window)
    ta_winarg_next_block(q);
  return m;
}

/* ---- moving averages -------------------------------------------------- */

/* SMA: running sum; first value at bar n-1. */
typedef struct ta_sma {
  double *ring;
  double sum;
  double dn;
  int n;
  int pos;
  int count;
} ta_sma;
void ta_sma_init(ta_sma *s, int n, ta_arena *a);

/*
 * TA-Lib adds the new input to a sum of the previous n-1, divides, then drops
 * the oldest. The ring holds the last n inputs, so after writing this one the
 * next slot holds the oldest (for n == 1 it is this input itself). The
 * division stays a division: it is off the loop-carried chain (the sum), so
 * it costs no latency, and it keeps the values bit-identical to TA-Lib.
 */
static inline int ta_sma_update(ta_sma *s, double x, int commit, double *out) {
  double total = s->sum + x;
  int ready = s->count >= s->n - 1;
  if (ready)
    *out = total / s->dn;
  if (commit) {
    s->ring[s->pos] = x;
    s->pos = s->pos + 1 == s->n ? 0 : s->pos + 1;
    if (ready)
      total -= s->ring[s->pos];
    else
      s->count++;
    s->sum = total;
  }
  return ready;
}

/* EMA: k = 2/(n+1), seeded with the mean of the first n inputs, first value
 * at bar n-1. */
typedef struct ta_ema {
  double k;
  double prev; /* running sum while warming up, then the last EMA */
  double dn;
  int n;
  int count;
} ta_ema;
void ta_ema_init(ta_ema *s, int n);

static inline int ta_ema_update(ta_ema *s, double x, int commit, double *out) {
  double v;
  if (s->count >= s->n) {
    v = ((x - s->prev) * s->k) + s->prev;
  } else {
    double sum = s->prev + x;
    if (s->count < s->n - 1) {
      if (commit) {
        s->prev = sum;
        s->count++;
      }
      return 0;
    }
    v = sum / s->dn;
    if (commit)
      s->count = s->n;
  }
  *out = v;
  if (commit)
    s->prev = v;
  return 1;
}

/* WMA: weights 1..n (n >= 2), first value at bar n-1. */
typedef struct ta_wma {
  double *ring;
  double sum;
  double sub;
  double trailing;
  double divider;
  double dn;
  int n;
  int pos;
  int count;
} ta_wma;
void ta_wma_init(ta_wma *s, int n, ta_arena *a);
int ta_wma_update(ta_wma *s, double x, int commit, double *out);

/* DEMA = 2·EMA − EMA(EMA), first value at bar 2(n-1). */
typedef struct ta_dema {
  ta_ema e1;
  ta_ema e2;
} ta_dema;
void ta_dema_init(ta_dema *s, int n);
int ta_dema_update(ta_dema *s, double x, int commit, double *out);

/* TEMA = 3·EMA − 3·EMA² + EMA³, first value at bar 3(n-1). */
typedef struct ta_tema {
  ta_ema e1;
  ta_ema e2;
  ta_ema e3;
} ta_tema;
void ta_tema_init(ta_tema *s, int n);
int ta_tema_update(ta_tema *s, double x, int commit, double *out);

/* KAMA: Kaufman's adaptive average, fast 2 / slow 30, first value at bar n. */
typedef struct ta_kama {
  double *ring; /* the last n inputs */
  double sum_roc;
  double prev_x;
  double trailing;
  double kama;
  int n;
  int pos;
  int count;
} ta_kama;
void ta_kama_init(ta_kama *s, int n, ta_arena *a);
int ta_kama_update(ta_kama *s, double x, int commit, double *out);

/* A moving average chosen by type, as TA-Lib's MA(): period 1 passes the
 * input through unchanged. */
#define TA_MA_SMA 0
#define TA_MA_EMA 1
#define TA_MA_WMA 2
#define TA_MA_DEMA 3
#define TA_MA_TEMA 4
#define TA_MA_KAMA 5
typedef struct ta_ma {
  int type;
  int n;
  union {
    ta_sma sma;
    ta_ema ema;
    ta_wma wma;
    ta_dema dema;
    ta_tema tema;
    ta_kama kama;
  } u;
} ta_ma;
void ta_ma_init(ta_ma *m, int type, int n, ta_arena *a);
int ta_ma_update(ta_ma *m, double x, int commit, double *out);
int ta_ma_lookback(int type, int n);

/* ---- momentum ----------------------------------------------------------- */

/* RSI: Wilder smoothing seeded with the mean gain and loss of bars 1..n,
 * first value at bar n. */
typedef struct ta_rsi {
  double gain;
  double loss;
  double prev;
  double dn;
  double dn1;
  double inv; /* 1/n */
  int n;
  int count;
} ta_rsi;
void ta_rsi_init(ta_rsi *s, int n);

/*
 * Bars 1..n-1 add up gains and losses; bar n adds its own, divides by n and
 * gives the first value; later bars smooth as avg = (avg·(n−1) + x)/n.
 * exact (a constant at every call site) selects TA-Lib's division; otherwise
 * the smoothing multiplies by 1/n, which takes the division's latency off
 * the loop-carried chain and moves values by a few units in the last place.
 * STOCHRSI needs exact: in flat stretches RSI is constant up to rounding, and
 * the stochastic of it is a ratio of those rounding residues.
 */
static inline int ta_rsi_step(ta_rsi *s, double x, int commit, int exact, double *out) {
  double diff, gain, loss, sum;
  if (s->count == 0) {
    if (commit) {
      s->prev = x;
      s->count = 1;
    }
    return 0;
  }
  diff = x - s->prev;
  gain = s->gain;
  loss = s->loss;
  if (s->count > s->n) {
    loss *= s->dn1;
    gain *= s->dn1;
  }
  /* TA-Lib's "if (diff < 0) loss -= diff; else gain += diff;" without the
   * branch, which a random walk mispredicts half the time. The side that does
   * not move gets 0.0, which leaves it bit for bit as it was. */
  loss -= ta_keep_if(diff < 0, diff);
  gain += ta_keep_if(diff >= 0, diff);
  if (s->count < s->n) {
    if (commit) {
      s->gain = gain;
      s->loss = loss;
      s->prev = x;
      s->count++;
    }
    return 0;
  }
  if (exact) {
    loss /= s->dn;
    gain /= s->dn;
  } else {
    loss *= s->inv;
    gain *= s->inv;
  }
  sum = gain + loss;
  *out = !TA_IS_ZERO(sum) ? 100.0 * (gain / sum) : 0.0;
  if (commit) {
    s->gain = gain;
    s->loss = loss;
    s->prev = x;
    if (s->count == s->n)
      s->count++;
  }
  return 1;
}

static inline int ta_rsi_update(ta_rsi *s, double x, int commit, double *out) {
  return ta_rsi_step(s, x, commit, 0, out);
}

/* Fast %K of one or three series: 100·(x − lowest low) / (highest high −
 * lowest low) over the last n bars; 0 when the range is 0 (TA-Lib). */
typedef struct ta_fastk {
  ta_winmax hi;
  ta_winmax lo; /* negated lows */
} ta_fastk;
void ta_fastk_init(ta_fastk *s, int n, ta_arena *a);
/* Always ready: the window is whatever has been seen, callers count. */
double ta_fastk_update(ta_fastk *s, double high, double low, double x, int commit);

/* STOCHRSI: fast %K of RSI over fastk bars, %D an MA of it. */
typedef struct ta_stochrsi {
  ta_rsi rsi;
  ta_fastk k;
  ta_ma d;
  int fastk_n;
  int count; /* RSI values seen, saturating at fastk_n */
} ta_stochrsi;
void ta_stochrsi_init(ta_stochrsi *s, int n, int fastk, int fastd, int fastd_type, ta_arena *a);
int ta_stochrsi_update(ta_stochrsi *s, double x, int commit, double out[2]);

/* STOCH: slow %K = MA of fast %K, slow %D = MA of slow %K. */
typedef struct ta_stoch {
  ta_fastk k;
  ta_ma slowk;
  ta_ma slowd;
  int fastk_n;
  int count;
} ta_stoch;
void ta_stoch_init(ta_stoch *s, int fastk, int slowk, int slowk_type, int slowd, int slowd_type,
                   ta_arena *a);
int ta_stoch_update(ta_stoch *s, double h, double l, double c, int commit, double out[2]);

/* MACD: the fast EMA's seed window ends where the slow one's does; signal is
 * an EMA of MACD; first values at bar slow+signal-2. */
typedef struct ta_macd {
  ta_ema fast;
  ta_ema slow;
  ta_ema signal;
  int skip; /* bars before the fast EMA starts: slow − fast */
  int count;
} ta_macd;
void ta_macd_init(ta_macd *s, int fast, int slow, int signal);

static inline int ta_macd_update(ta_macd *s, double x, int commit, double out[3]) {
  double f = 0.0, sl, m, sig;
  if (s->count >= s->skip)
    ta_ema_update(&s->fast, x, commit, &f);
  else if (commit)
    s->count++;
  if (!ta_ema_update(&s->slow, x, commit, &sl))
    return 0;
  m = f - sl;
  if (!ta_ema_update(&s->signal, m, commit, &sig))
    return 0;
  out[0] = m;
  out[1] = sig;
  out[2] = m - sig;
  return 1;
}

/* WILLR: −100·(highest high − close) / (highest high − lowest low). */
typedef struct ta_willr {
  ta_winmax hi;
  ta_winmax lo;
  int count; /* bars seen, saturating at n */
  int n;
} ta_willr;
void ta_willr_init(ta_willr *s, int n, ta_arena *a);
int ta_willr_update(ta_willr *s, double h, double l, double c, int commit, double *out);

/* CCI over the typical price, mean absolute deviation recomputed per bar in
 * TA-Lib's circular-buffer order (O(n), as in TA-Lib). */
typedef struct ta_cci {
  double *ring;
  double dn;
  int n;
  int pos;
  int count;
} ta_cci;
void ta_cci_init(ta_cci *s, int n, ta_arena *a);
int ta_cci_update(ta_cci *s, double h, double l, double c, int commit, double *out);

/* MFI: money flow of the typical price; 0 when the window's flow is < 1. */
typedef struct ta_mfi {
  double *pos_mf;
  double *neg_mf;
  double pos_sum;
  double neg_sum;
  double prev_tp;
  int n;
  int idx;
  int count;
} ta_mfi;
void ta_mfi_init(ta_mfi *s, int n, ta_arena *a);
int ta_mfi_update(ta_mfi *s, double h, double l, double c, double v, int commit, double *out);

/* MOM, ROC (percent), ROCP (fraction) against the input n bars ago. */
#define TA_CHANGE_MOM 0
#define TA_CHANGE_ROC 1
#define TA_CHANGE_ROCP 2
typedef struct ta_change {
  double *ring;
  int kind;
  int n;
  int pos;
  int count;
} ta_change;
void ta_change_init(ta_change *s, int kind, int n, ta_arena *a);
int ta_change_update(ta_change *s, double x, int commit, double *out);

/* AROON over n+1 bars: out[0] down, out[1] up; AROONOSC = up − down as
 * TA-Lib computes it. */
typedef struct ta_aroon {
  ta_winarg hi;
  ta_winarg lo; /* negated lows */
  double factor;
  int n;
} ta_aroon;
void ta_aroon_init(ta_aroon *s, int n, ta_arena *a);
int ta_aroon_update(ta_aroon *s, double h, double l, int commit, double out[2]);
int ta_aroonosc_update(ta_aroon *s, double h, double l, int commit, double *out);

/* ---- volatility --------------------------------------------------------- */

/* True range: max(h − l, |prev close − h|, |prev close − l|). */
static inline double ta_true_range(double h, double l, double prev_close) {
  double greatest = h - l;
  double v = fabs(prev_close - h);
  if (v > greatest)
    greatest = v;
  v = fabs(prev_close - l);
  if (v > greatest)
    greatest = v;
  return greatest;
}

/* TRANGE: first value at bar 1. */
typedef struct ta_trange {
  double prev_close;
  int count;
} ta_trange;
void ta_trange_init(ta_trange *s);
int ta_trange_update(ta_trange *s, double h, double l, double c, int commit, double *out);

/* ATR: mean of TR over bars 1..n, then Wilder smoothing; first at bar n. */
typedef struct ta_atr {
  double prev_close;
  double atr; /* running TR sum while warming up */
  double dn;
  double dn1;
  double inv; /* 1/n */
  int n;
  int count;
} ta_atr;
void ta_atr_init(ta_atr *s, int n);

/* Bar 0 has no true range; bars 1..n sum into the first ATR (TA-Lib's SMA
 * order), later bars smooth as atr = (atr·(n−1) + tr)·(1/n): the reciprocal
 * keeps a division off the loop-carried chain (a few ulps from TA-Lib). */
static inline int ta_atr_update(ta_atr *s, double h, double l, double c, int commit, double *out) {
  double tr, atr;
  if (s->count == 0) {
    if (commit) {
      s->prev_close = c;
      s->count = 1;
    }
    return 0;
  }
  tr = ta_true_range(h, l, s->prev_close);
  if (s->count > s->n) {
    atr = s->atr * s->dn1;
    atr += tr;
    atr *= s->inv;
  } else {
    atr = s->atr + tr;
    if (s->count < s->n) {
      if (commit) {
        s->atr = atr;
        s->prev_close = c;
        s->count++;
      }
      return 0;
    }
    atr /= s->dn;
  }
  *out = atr;
  if (commit) {
    s->atr = atr;
    s->prev_close = c;
    if (s->count == s->n)
      s->count++;
  }
  return 1;
}
/* NATR = 100·ATR/close, 0 when close is 0. */
int ta_natr_update(ta_atr *s, double h, double l, double c, int commit, double *out);

/* Population variance from running sums of x and x², first at bar n-1. */
typedef struct ta_var {
  double *ring;
  double s1;
  double s2;
  double dn;
  int n;
  int pos;
  int count;
} ta_var;
void ta_var_init(ta_var *s, int n, ta_arena *a);
int ta_var_update(ta_var *s, double x, int commit, double *out);

/* STDDEV = sqrt(variance)·nbdev; 0 when the variance is below 1e-14. */
typedef struct ta_stddev {
  ta_var var;
  double nbdev;
} ta_stddev;
void ta_stddev_init(ta_stddev *s, int n, double nbdev, ta_arena *a);
int ta_stddev_update(ta_stddev *s, double x, int commit, double *out);

/* BBANDS: out[0] upper, out[1] middle (MA), out[2] lower. */
typedef struct ta_bbands {
  ta_ma ma;
  ta_var var;
  double up;
  double dn;
} ta_bbands;
void ta_bbands_init(ta_bbands *s, int n, double up, double dn, int ma_type, ta_arena *a);
int ta_bbands_update(ta_bbands *s, double x, int commit, double out[3]);

/* Donchian channel: out[0] highest high, out[1] midpoint, out[2] lowest low
 * over the last n bars. */
typedef struct ta_donchian {
  ta_winmax hi;
  ta_winmax lo;
  int count; /* bars seen, saturating at n */
  int n;
} ta_donchian;
void ta_donchian_init(ta_donchian *s, int n, ta_arena *a);
int ta_donchian_update(ta_donchian *s, double h, double l, int commit, double out[3]);

/* Keltner channel: EMA(n) middle, bands at ± mult·ATR(atr_n). */
typedef struct ta_keltner {
  ta_ema ema;
  ta_atr atr;
  double mult;
} ta_keltner;
void ta_keltner_init(ta_keltner *s, int n, int atr_n, double mult);
int ta_keltner_update(ta_keltner *s, double h, double l, double c, double x, int commit,
                      double out[3]);

/* SuperTrend over ATR(n)·mult: out[0] the line, out[1] +1 up / −1 down. */
typedef struct ta_supertrend {
  ta_atr atr;
  double mult;
  double upper;
  double lower;
  double prev_close;
  int dir;
  int started;
} ta_supertrend;
void ta_supertrend_init(ta_supertrend *s, int n, double mult);
int ta_supertrend_update(ta_supertrend *s, double h, double l, double c, int commit, double out[2]);

/* ---- trend -------------------------------------------------------------- */

/* Wilder's directional movement: the smoothed +DM, −DM and TR shared by
 * PLUS_DI, MINUS_DI, DX and ADX. */
#define TA_DMI_PLUS_DI 0
#define TA_DMI_MINUS_DI 1
#define TA_DMI_DX 2
#define TA_DMI_ADX 3
typedef struct ta_dmi {
  double prev_high;
  double prev_low;
  double prev_close;
  double plus_dm;
  double minus_dm;
  double tr;
  double adx; /* ADX (its DX sum while seeding), or DX's last value */
  double dn;
  double dn1;
  double inv; /* 1/n */
  int kind;
  int n;
  int count;
} ta_dmi;
void ta_dmi_init(ta_dmi *s, int kind, int n);
int ta_dmi_update(ta_dmi *s, double h, double l, double c, int commit, double *out);
int ta_dmi_lookback(int kind, int n);

/* Parabolic SAR, first value at bar 1. */
typedef struct ta_sar {
  double accel;
  double max;
  double af;
  double ep;
  double sar;
  double prev_high;
  double prev_low;
  int is_long;
  int count;
} ta_sar;
void ta_sar_init(ta_sar *s, double accel, double max);
int ta_sar_update(ta_sar *s, double h, double l, int commit, double *out);

/* Ichimoku: out[0] tenkan, out[1] kijun, out[2] senkou A and out[3] senkou B
 * in effect at this bar (computed `disp` bars ago), out[4] chikou (this
 * close, which charts draw `disp` bars back). */
typedef struct ta_ichimoku {
  ta_winmax hi[3];
  ta_winmax lo[3];
  double *span_a;
  double *span_b;
  int64_t t;
  int len[3];
  int disp;
  int pos;
  int lookback;
} ta_ichimoku;
void ta_ichimoku_init(ta_ichimoku *s, int tenkan, int kijun, int senkou, int disp, ta_arena *a);
int ta_ichimoku_update(ta_ichimoku *s, double h, double l, double c, int commit, double out[5]);

/* ---- volume ------------------------------------------------------------- */

/* OBV: starts at the first bar's volume. */
typedef struct ta_obv {
  double obv;
  double prev;
  int count;
} ta_obv;
void ta_obv_init(ta_obv *s);
int ta_obv_update(ta_obv *s, double x, double v, int commit, double *out);

/* VWAP: Σ(price·volume)/Σvolume, either per session (sessions of `session`
 * nanoseconds starting at `offset` past the epoch) or over the last n bars.
 * Not ready while the session or window has no volume. */
typedef struct ta_vwap {
  double *pv;
  double *vol;
  double sum_pv;
  double sum_v;
  int64_t session;
  int64_t offset;
  int64_t id; /* current session number */
  int n;      /* rolling window, 0 for sessions */
  int pos;
  int count;
  int nonzero; /* bars with volume in the rolling window */
} ta_vwap;
void ta_vwap_init_session(ta_vwap *s, int64_t session_ns, int64_t offset_ns);
void ta_vwap_init_rolling(ta_vwap *s, int n, ta_arena *a);
int ta_vwap_update(ta_vwap *s, int64_t ts, double price, double v, int commit, double *out);

#endif
