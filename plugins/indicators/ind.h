/*
 * ind.h: the glue between tack's indicator ABI and the kernels of ta.h: one
 * instance layout for every indicator, the lifecycle they share, and the
 * price-source selection.
 *
 * An instance is one host allocation made at create: this header struct,
 * then the kernel's buffers, sized from the parameters. A later configure
 * that needs larger buffers gets them as one extra allocation (`spare`).
 */
#ifndef TACK_IND_H
#define TACK_IND_H

#include <math.h>
#include <stddef.h>

#include "ta.h"
#include "tack.h"

#define IND_VERSION "1.0.0"
#define IND_MAX_PARAMS 8

/* Values of the `source` parameter, in the order of IND_SOURCES. */
#define IND_SOURCES "close|open|high|low|hl2|hlc3|ohlc4"
#define IND_SRC_CLOSE 0u
#define IND_SRC_OPEN 1u
#define IND_SRC_HIGH 2u
#define IND_SRC_LOW 3u
#define IND_SRC_HL2 4u
#define IND_SRC_HLC3 5u
#define IND_SRC_OHLC4 6u

typedef struct ind_inst ind_inst;

/* What distinguishes one indicator in the shared lifecycle. */
typedef struct ind_kind {
  const tack_param_spec *params;
  /* Initialise the kernel from the instance's parameters, taking buffers
   * from a (which may only count, see ta_arena); returns the lookback. */
  int (*setup)(ind_inst *in, ta_arena *a);
} ind_kind;

typedef union ind_state {
  ta_sma sma;
  ta_ema ema;
  ta_wma wma;
  ta_dema dema;
  ta_tema tema;
  ta_kama kama;
  ta_rsi rsi;
  ta_stochrsi stochrsi;
  ta_stoch stoch;
  ta_macd macd;
  ta_willr willr;
  ta_cci cci;
  ta_mfi mfi;
  ta_change change;
  ta_aroon aroon;
  ta_trange trange;
  ta_atr atr;
  ta_stddev stddev;
  ta_bbands bbands;
  ta_donchian donchian;
  ta_keltner keltner;
  ta_supertrend supertrend;
  ta_dmi dmi;
  ta_sar sar;
  ta_ichimoku ichimoku;
  ta_obv obv;
  ta_vwap vwap;
} ind_state;

struct ind_inst {
  tack_ctx *ctx;
  const tack_host *host;
  const ind_kind *kind;
  unsigned char *mem; /* the kernel's buffers: tail below, or spare */
  size_t mem_cap;
  void *spare;
  int lookback;
  uint32_t src; /* IND_SRC_*, read on every update: next to the state */
  ind_state k;
  double pv[IND_MAX_PARAMS]; /* parameter values in spec order; strings
                                as their index among the choices */
  max_align_t tail[];
};

/* Lifecycle shared by every indicator (ind_glue.c). */
int ind_create(tack_ctx *ctx, const tack_host *host, const ind_kind *kind, void **self);
int ind_configure(void *self);
void ind_destroy(void *self);
int ind_lookback(void *self);
void ind_reset(void *self);

/* A declared parameter's value, by name (setup time only). */
double ind_param(const ind_inst *in, const char *name);
static inline int ind_int(const ind_inst *in, const char *name) { return (int)ind_param(in, name); }

/* Close is tested first: it is nearly always the source, and one predicted
 * branch is cheaper than the switch's indirect jump. */
static inline double ind_source(uint32_t src, const tack_bar *b) {
  if (src == IND_SRC_CLOSE)
    return b->close;
  switch (src) {
  case IND_SRC_OPEN:
    return b->open;
  case IND_SRC_HIGH:
    return b->high;
  case IND_SRC_LOW:
    return b->low;
  case IND_SRC_HL2:
    return (b->high + b->low) / 2.0;
  case IND_SRC_HLC3:
    return (b->high + b->low + b->close) / 3.0;
  case IND_SRC_OHLC4:
    return (b->high + b->low + b->close + b->open) / 4.0; /* TA-Lib AVGPRICE's order */
  default:
    return b->close;
  }
}

static inline int ind_closed(const tack_bar *b) { return (b->flags & TACK_BAR_CLOSED) != 0; }

/* Inputs must be finite for the outputs to be; & keeps it branch-free. */
static inline int ind_finite3(double a, double b, double c) {
  return isfinite(a) & isfinite(b) & isfinite(c);
}

#endif
