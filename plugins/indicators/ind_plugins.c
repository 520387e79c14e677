/*
 * ind_plugins.c: the indicator plugins of indicators.so: for each one its
 * parameters (TA-Lib's defaults), output columns, kernel setup, update entry
 * point and descriptor, and the TACK_PLUGINS list that exports them all.
 *
 * An update reads the bar fields its kernel needs, refuses non-finite inputs
 * (TACK_EINVAL, state untouched), and passes TACK_BAR_CLOSED as the kernel's
 * commit flag.
 */
#include "ind.h"

#define IND_PMAX 100000
#define IND_MATYPES "sma|ema|wma|dema|tema|kama"

#define IND_INT(name, def, lo, hi, help)                                                           \
  { name, TACK_PARAM_INT, 0, lo, hi, def, NULL, NULL, help }
#define IND_DBL(name, def, lo, hi, help)                                                           \
  { name, TACK_PARAM_DOUBLE, 0, lo, hi, def, NULL, NULL, help }
#define IND_STR(name, def, choices, help)                                                          \
  { name, TACK_PARAM_STRING, 0, 0, 0, 0, def, choices, help }
#define IND_PERIOD(def, lo) IND_INT("period", def, lo, IND_PMAX, "bars in the window")
#define IND_SOURCE(def) IND_STR("source", def, IND_SOURCES, "price series the indicator reads")
#define IND_MATYPE(name, help) IND_STR(name, "sma", IND_MATYPES, help)
#define IND_END                                                                                    \
  { NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL }

/*
 * Everything but the parameters, outputs, setup and update is the same for
 * every indicator: a create that names the kind, the vtable and the
 * descriptor. id_ is the plugin id and the prefix of those four.
 */
#define IND_PLUGIN(id_, name_, descr_, outputs_)                                                   \
  static const ind_kind id_##_kind = {id_##_params, id_##_setup};                                  \
  static int id_##_create(tack_ctx *ctx, const tack_host *host, void **self) {                     \
    return ind_create(ctx, host, &id_##_kind, self);                                               \
  }                                                                                                \
  static const tack_indicator_vtable id_##_vtable = {                                              \
      sizeof(tack_indicator_vtable),                                                               \
      0,                                                                                           \
      {id_##_create, ind_configure, NULL, NULL, ind_destroy},                                      \
      outputs_,                                                                                    \
      ind_lookback,                                                                                \
      id_##_update,                                                                                \
      ind_reset};                                                                                  \
  static const tack_plugin_desc id_##_desc = {sizeof(tack_plugin_desc),                            \
                                              TACK_KIND_INDICATOR,                                 \
                                              #id_,                                                \
                                              name_,                                               \
                                              IND_VERSION,                                         \
                                              descr_,                                              \
                                              id_##_params,                                        \
                                              &id_##_vtable}

/* An update for a kernel of one price input: f(state, x, commit, out). */
#define IND_UPDATE_X(id_, fn_, field_)                                                             \
  static int id_##_update(void *self, const tack_bar *bar, double *out) {                          \
    ind_inst *in = self;                                                                           \
    double x = ind_source(in->src, bar);                                                           \
    if (!isfinite(x))                                                                              \
      return TACK_EINVAL;                                                                          \
    return fn_(&in->k.field_, x, ind_closed(bar), out);                                            \
  }

/* An update for a kernel of high, low and close. */
#define IND_UPDATE_HLC(id_, fn_, field_)                                                           \
  static int id_##_update(void *self, const tack_bar *bar, double *out) {                          \
    ind_inst *in = self;                                                                           \
    if (!ind_finite3(bar->high, bar->low, bar->close))                                             \
      return TACK_EINVAL;                                                                          \
    return fn_(&in->k.field_, bar->high, bar->low, bar->close, ind_closed(bar), out);              \
  }

/* An update for a kernel of high and low. */
#define IND_UPDATE_HL(id_, fn_, field_)                                                            \
  static int id_##_update(void *self, const tack_bar *bar, double *out) {                          \
    ind_inst *in = self;                                                                           \
    if (!ind_finite3(bar->high, bar->low, 0.0))                                                    \
      return TACK_EINVAL;                                                                          \
    return fn_(&in->k.field_, bar->high, bar->low, ind_closed(bar), out);                          \
  }

static const tack_output_spec out_value[] = {{"value", "the indicator's value"}, {NULL, NULL}};

/* ---- moving averages ------------------------------------------------------- */

static const tack_param_spec sma_params[] = {IND_PERIOD(30, 2), IND_SOURCE("close"), IND_END};
static int sma_setup(ind_inst *in, ta_arena *a) {
  ta_sma_init(&in->k.sma, ind_int(in, "period"), a);
  return ind_int(in, "period") - 1;
}
IND_UPDATE_X(sma, ta_sma_update, sma)
IND_PLUGIN(sma, "Simple moving average", "Mean of the last `period` inputs.", out_value);

static const tack_param_spec ema_params[] = {IND_PERIOD(30, 2), IND_SOURCE("close"), IND_END};
static int ema_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_ema_init(&in->k.ema, ind_int(in, "period"));
  return ind_int(in, "period") - 1;
}
IND_UPDATE_X(ema, ta_ema_update, ema)
IND_PLUGIN(ema, "Exponential moving average",
           "EMA with k = 2/(period+1), seeded with the mean of the first `period` inputs "
           "(TA-Lib).",
           out_value);

static const tack_param_spec wma_params[] = {IND_PERIOD(30, 2), IND_SOURCE("close"), IND_END};
static int wma_setup(ind_inst *in, ta_arena *a) {
  ta_wma_init(&in->k.wma, ind_int(in, "period"), a);
  return ind_int(in, "period") - 1;
}
IND_UPDATE_X(wma, ta_wma_update, wma)
IND_PLUGIN(wma, "Weighted moving average", "Linearly weighted average, newest input weighs most.",
           out_value);

static const tack_param_spec dema_params[] = {IND_PERIOD(30, 2), IND_SOURCE("close"), IND_END};
static int dema_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_dema_init(&in->k.dema, ind_int(in, "period"));
  return ta_ma_lookback(TA_MA_DEMA, ind_int(in, "period"));
}
IND_UPDATE_X(dema, ta_dema_update, dema)
IND_PLUGIN(dema, "Double exponential moving average", "2·EMA − EMA(EMA), TA-Lib seeding.",
           out_value);

static const tack_param_spec tema_params[] = {IND_PERIOD(30, 2), IND_SOURCE("close"), IND_END};
static int tema_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_tema_init(&in->k.tema, ind_int(in, "period"));
  return ta_ma_lookback(TA_MA_TEMA, ind_int(in, "period"));
}
IND_UPDATE_X(tema, ta_tema_update, tema)
IND_PLUGIN(tema, "Triple exponential moving average", "3·EMA − 3·EMA² + EMA³, TA-Lib seeding.",
           out_value);

static const tack_param_spec kama_params[] = {IND_PERIOD(30, 2), IND_SOURCE("close"), IND_END};
static int kama_setup(ind_inst *in, ta_arena *a) {
  ta_kama_init(&in->k.kama, ind_int(in, "period"), a);
  return ind_int(in, "period");
}
IND_UPDATE_X(kama, ta_kama_update, kama)
IND_PLUGIN(kama, "Kaufman adaptive moving average",
           "EMA whose factor follows the efficiency ratio of the last `period` bars (fast 2, "
           "slow 30).",
           out_value);

/* ---- momentum -------------------------------------------------------------- */

static const tack_param_spec rsi_params[] = {IND_PERIOD(14, 2), IND_SOURCE("close"), IND_END};
static int rsi_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_rsi_init(&in->k.rsi, ind_int(in, "period"));
  return ind_int(in, "period");
}
IND_UPDATE_X(rsi, ta_rsi_update, rsi)
IND_PLUGIN(rsi, "Relative strength index", "Wilder's RSI, 0..100.", out_value);

static const tack_param_spec stochrsi_params[] = {
    IND_PERIOD(14, 2),
    IND_INT("fastk_period", 5, 1, IND_PMAX, "RSI values in the %K window"),
    IND_INT("fastd_period", 3, 1, IND_PMAX, "%K values averaged into %D"),
    IND_MATYPE("fastd_matype", "average that smooths %D"),
    IND_SOURCE("close"),
    IND_END};
static const tack_output_spec stochrsi_outputs[] = {
    {"fastk", "stochastic %K of RSI, 0..100"}, {"fastd", "moving average of fastk"}, {NULL, NULL}};
static int stochrsi_setup(ind_inst *in, ta_arena *a) {
  int n = ind_int(in, "period"), k = ind_int(in, "fastk_period"), d = ind_int(in, "fastd_period");
  int type = ind_int(in, "fastd_matype");
  ta_stochrsi_init(&in->k.stochrsi, n, k, d, type, a);
  return n + (k - 1) + ta_ma_lookback(type, d);
}
IND_UPDATE_X(stochrsi, ta_stochrsi_update, stochrsi)
IND_PLUGIN(stochrsi, "Stochastic RSI", "Fast stochastic of RSI values.", stochrsi_outputs);

static const tack_param_spec macd_params[] = {
    IND_INT("fast", 12, 2, IND_PMAX, "fast EMA period (swapped with slow if larger)"),
    IND_INT("slow", 26, 2, IND_PMAX, "slow EMA period"),
    IND_INT("signal", 9, 1, IND_PMAX, "signal EMA period"), IND_SOURCE("close"), IND_END};
static const tack_output_spec macd_outputs[] = {{"macd", "fast EMA − slow EMA"},
                                                {"signal", "EMA of macd"},
                                                {"hist", "macd − signal"},
                                                {NULL, NULL}};
static int macd_setup(ind_inst *in, ta_arena *a) {
  int f = ind_int(in, "fast"), s = ind_int(in, "slow"), g = ind_int(in, "signal");
  (void)a;
  ta_macd_init(&in->k.macd, f, s, g);
  return (s > f ? s : f) - 1 + g - 1;
}
IND_UPDATE_X(macd, ta_macd_update, macd)
IND_PLUGIN(macd, "Moving average convergence/divergence",
           "MACD with TA-Lib's seeding: the fast EMA's seed window ends with the slow one's.",
           macd_outputs);

static const tack_param_spec stoch_params[] = {
    IND_INT("fastk_period", 5, 1, IND_PMAX, "bars in the %K high/low window"),
    IND_INT("slowk_period", 3, 1, IND_PMAX, "fast %K values averaged into slow %K"),
    IND_MATYPE("slowk_matype", "average that smooths slow %K"),
    IND_INT("slowd_period", 3, 1, IND_PMAX, "slow %K values averaged into slow %D"),
    IND_MATYPE("slowd_matype", "average that smooths slow %D"),
    IND_END};
static const tack_output_spec stoch_outputs[] = {
    {"slowk", "smoothed %K, 0..100"}, {"slowd", "moving average of slowk"}, {NULL, NULL}};
static int stoch_setup(ind_inst *in, ta_arena *a) {
  int fk = ind_int(in, "fastk_period"), sk = ind_int(in, "slowk_period");
  int skt = ind_int(in, "slowk_matype"), sd = ind_int(in, "slowd_period");
  int sdt = ind_int(in, "slowd_matype");
  ta_stoch_init(&in->k.stoch, fk, sk, skt, sd, sdt, a);
  return (fk - 1) + ta_ma_lookback(skt, sk) + ta_ma_lookback(sdt, sd);
}
IND_UPDATE_HLC(stoch, ta_stoch_update, stoch)
IND_PLUGIN(stoch, "Stochastic oscillator", "Slow stochastic (%K and %D), TA-Lib's STOCH.",
           stoch_outputs);

static const tack_param_spec willr_params[] = {IND_PERIOD(14, 2), IND_END};
static int willr_setup(ind_inst *in, ta_arena *a) {
  ta_willr_init(&in->k.willr, ind_int(in, "period"), a);
  return ind_int(in, "period") - 1;
}
IND_UPDATE_HLC(willr, ta_willr_update, willr)
IND_PLUGIN(willr, "Williams' %R", "Close within the period's high-low range, −100..0.", out_value);

static const tack_param_spec cci_params[] = {IND_PERIOD(14, 2), IND_END};
static int cci_setup(ind_inst *in, ta_arena *a) {
  ta_cci_init(&in->k.cci, ind_int(in, "period"), a);
  return ind_int(in, "period") - 1;
}
IND_UPDATE_HLC(cci, ta_cci_update, cci)
IND_PLUGIN(cci, "Commodity channel index",
           "Typical price against its mean, over 0.015 times the mean absolute deviation.",
           out_value);

static const tack_param_spec mfi_params[] = {IND_PERIOD(14, 2), IND_END};
static int mfi_setup(ind_inst *in, ta_arena *a) {
  ta_mfi_init(&in->k.mfi, ind_int(in, "period"), a);
  return ind_int(in, "period");
}
static int mfi_update(void *self, const tack_bar *bar, double *out) {
  ind_inst *in = self;
  if (!ind_finite3(bar->high, bar->low, bar->close) || !isfinite(bar->volume))
    return TACK_EINVAL;
  return ta_mfi_update(&in->k.mfi, bar->high, bar->low, bar->close, bar->volume, ind_closed(bar),
                       out);
}
IND_PLUGIN(mfi, "Money flow index", "Volume-weighted RSI of the typical price, 0..100.", out_value);

static const tack_param_spec roc_params[] = {IND_PERIOD(10, 1), IND_SOURCE("close"), IND_END};
static int roc_setup(ind_inst *in, ta_arena *a) {
  ta_change_init(&in->k.change, TA_CHANGE_ROC, ind_int(in, "period"), a);
  return ind_int(in, "period");
}
IND_UPDATE_X(roc, ta_change_update, change)
IND_PLUGIN(roc, "Rate of change", "100·(x/x[period bars ago] − 1), in percent.", out_value);

static const tack_param_spec rocp_params[] = {IND_PERIOD(10, 1), IND_SOURCE("close"), IND_END};
static int rocp_setup(ind_inst *in, ta_arena *a) {
  ta_change_init(&in->k.change, TA_CHANGE_ROCP, ind_int(in, "period"), a);
  return ind_int(in, "period");
}
IND_UPDATE_X(rocp, ta_change_update, change)
IND_PLUGIN(rocp, "Rate of change (fraction)", "(x − x[period bars ago]) / x[period bars ago].",
           out_value);

static const tack_param_spec mom_params[] = {IND_PERIOD(10, 1), IND_SOURCE("close"), IND_END};
static int mom_setup(ind_inst *in, ta_arena *a) {
  ta_change_init(&in->k.change, TA_CHANGE_MOM, ind_int(in, "period"), a);
  return ind_int(in, "period");
}
IND_UPDATE_X(mom, ta_change_update, change)
IND_PLUGIN(mom, "Momentum", "x − x[period bars ago].", out_value);

static const tack_param_spec aroon_params[] = {IND_PERIOD(14, 2), IND_END};
static const tack_output_spec aroon_outputs[] = {
    {"down", "100·(period − bars since the low)/period"},
    {"up", "100·(period − bars since the high)/period"},
    {NULL, NULL}};
static int aroon_setup(ind_inst *in, ta_arena *a) {
  ta_aroon_init(&in->k.aroon, ind_int(in, "period"), a);
  return ind_int(in, "period");
}
IND_UPDATE_HL(aroon, ta_aroon_update, aroon)
IND_PLUGIN(aroon, "Aroon", "Bars since the highest high and lowest low of period+1 bars.",
           aroon_outputs);

static const tack_param_spec aroonosc_params[] = {IND_PERIOD(14, 2), IND_END};
static int aroonosc_setup(ind_inst *in, ta_arena *a) {
  ta_aroon_init(&in->k.aroon, ind_int(in, "period"), a);
  return ind_int(in, "period");
}
IND_UPDATE_HL(aroonosc, ta_aroonosc_update, aroon)
IND_PLUGIN(aroonosc, "Aroon oscillator", "Aroon up − Aroon down.", out_value);

/* ---- volatility ------------------------------------------------------------ */

static const tack_param_spec trange_params[] = {IND_END};
static int trange_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_trange_init(&in->k.trange);
  return 1;
}
IND_UPDATE_HLC(trange, ta_trange_update, trange)
IND_PLUGIN(trange, "True range", "max(high − low, |prev close − high|, |prev close − low|).",
           out_value);

static const tack_param_spec atr_params[] = {IND_PERIOD(14, 1), IND_END};
static int atr_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_atr_init(&in->k.atr, ind_int(in, "period"));
  return ind_int(in, "period");
}
IND_UPDATE_HLC(atr, ta_atr_update, atr)
IND_PLUGIN(atr, "Average true range", "Wilder-smoothed true range.", out_value);

static const tack_param_spec natr_params[] = {IND_PERIOD(14, 1), IND_END};
static int natr_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_atr_init(&in->k.atr, ind_int(in, "period"));
  return ind_int(in, "period");
}
IND_UPDATE_HLC(natr, ta_natr_update, atr)
IND_PLUGIN(natr, "Normalized average true range", "100·ATR/close.", out_value);

static const tack_param_spec stddev_params[] = {
    IND_PERIOD(5, 2), IND_DBL("nbdev", 1.0, 0.0, 100.0, "multiplier of the deviation"),
    IND_SOURCE("close"), IND_END};
static int stddev_setup(ind_inst *in, ta_arena *a) {
  ta_stddev_init(&in->k.stddev, ind_int(in, "period"), ind_param(in, "nbdev"), a);
  return ind_int(in, "period") - 1;
}
IND_UPDATE_X(stddev, ta_stddev_update, stddev)
IND_PLUGIN(stddev, "Standard deviation", "Population standard deviation times nbdev.", out_value);

static const tack_param_spec bbands_params[] = {
    IND_PERIOD(5, 2),
    IND_DBL("nbdevup", 2.0, 0.0, 100.0, "deviations from the middle to the upper band"),
    IND_DBL("nbdevdn", 2.0, 0.0, 100.0, "deviations from the middle to the lower band"),
    IND_MATYPE("matype", "average of the middle band"),
    IND_SOURCE("close"),
    IND_END};
static const tack_output_spec band_outputs[] = {
    {"upper", "upper band"}, {"middle", "middle line"}, {"lower", "lower band"}, {NULL, NULL}};
static int bbands_setup(ind_inst *in, ta_arena *a) {
  int n = ind_int(in, "period"), type = ind_int(in, "matype");
  ta_bbands_init(&in->k.bbands, n, ind_param(in, "nbdevup"), ind_param(in, "nbdevdn"), type, a);
  return ta_ma_lookback(type, n);
}
IND_UPDATE_X(bbands, ta_bbands_update, bbands)
IND_PLUGIN(bbands, "Bollinger bands", "Moving average ± population standard deviations.",
           band_outputs);

static const tack_param_spec donchian_params[] = {IND_PERIOD(20, 1), IND_END};
static int donchian_setup(ind_inst *in, ta_arena *a) {
  ta_donchian_init(&in->k.donchian, ind_int(in, "period"), a);
  return ind_int(in, "period") - 1;
}
IND_UPDATE_HL(donchian, ta_donchian_update, donchian)
IND_PLUGIN(donchian, "Donchian channel", "Highest high, midpoint and lowest low of the period.",
           band_outputs);

static const tack_param_spec keltner_params[] = {
    IND_PERIOD(20, 2), IND_INT("atr_period", 10, 1, IND_PMAX, "ATR period of the bands"),
    IND_DBL("multiplier", 2.0, 0.0, 100.0, "ATRs from the middle to each band"),
    IND_SOURCE("close"), IND_END};
static int keltner_setup(ind_inst *in, ta_arena *a) {
  int n = ind_int(in, "period"), atr_n = ind_int(in, "atr_period");
  (void)a;
  ta_keltner_init(&in->k.keltner, n, atr_n, ind_param(in, "multiplier"));
  return n - 1 > atr_n ? n - 1 : atr_n;
}
static int keltner_update(void *self, const tack_bar *bar, double *out) {
  ind_inst *in = self;
  double x = ind_source(in->src, bar);
  if (!ind_finite3(bar->high, bar->low, bar->close) || !isfinite(x))
    return TACK_EINVAL;
  return ta_keltner_update(&in->k.keltner, bar->high, bar->low, bar->close, x, ind_closed(bar),
                           out);
}
IND_PLUGIN(keltner, "Keltner channel", "EMA middle line, bands at ± multiplier·ATR.", band_outputs);

static const tack_param_spec supertrend_params[] = {
    IND_PERIOD(10, 1), IND_DBL("multiplier", 3.0, 0.0, 100.0, "ATRs from hl2 to the bands"),
    IND_END};
static const tack_output_spec supertrend_outputs[] = {
    {"value", "the SuperTrend line: lower band in an uptrend, upper band in a downtrend"},
    {"direction", "+1 uptrend, -1 downtrend"},
    {NULL, NULL}};
static int supertrend_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_supertrend_init(&in->k.supertrend, ind_int(in, "period"), ind_param(in, "multiplier"));
  return ind_int(in, "period");
}
IND_UPDATE_HLC(supertrend, ta_supertrend_update, supertrend)
IND_PLUGIN(supertrend, "SuperTrend", "ATR trailing bands around hl2 that flip with the trend.",
           supertrend_outputs);

/* ---- trend ----------------------------------------------------------------- */

static const tack_param_spec adx_params[] = {IND_PERIOD(14, 2), IND_END};
static int adx_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_dmi_init(&in->k.dmi, TA_DMI_ADX, ind_int(in, "period"));
  return ta_dmi_lookback(TA_DMI_ADX, ind_int(in, "period"));
}
IND_UPDATE_HLC(adx, ta_dmi_update, dmi)
IND_PLUGIN(adx, "Average directional index", "Wilder's ADX, 0..100.", out_value);

static const tack_param_spec dx_params[] = {IND_PERIOD(14, 2), IND_END};
static int dx_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_dmi_init(&in->k.dmi, TA_DMI_DX, ind_int(in, "period"));
  return ta_dmi_lookback(TA_DMI_DX, ind_int(in, "period"));
}
IND_UPDATE_HLC(dx, ta_dmi_update, dmi)
IND_PLUGIN(dx, "Directional movement index", "100·|+DI − −DI| / (+DI + −DI).", out_value);

static const tack_param_spec plus_di_params[] = {IND_PERIOD(14, 2), IND_END};
static int plus_di_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_dmi_init(&in->k.dmi, TA_DMI_PLUS_DI, ind_int(in, "period"));
  return ta_dmi_lookback(TA_DMI_PLUS_DI, ind_int(in, "period"));
}
IND_UPDATE_HLC(plus_di, ta_dmi_update, dmi)
IND_PLUGIN(plus_di, "Plus directional indicator", "100·smoothed +DM / smoothed TR.", out_value);

static const tack_param_spec minus_di_params[] = {IND_PERIOD(14, 2), IND_END};
static int minus_di_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_dmi_init(&in->k.dmi, TA_DMI_MINUS_DI, ind_int(in, "period"));
  return ta_dmi_lookback(TA_DMI_MINUS_DI, ind_int(in, "period"));
}
IND_UPDATE_HLC(minus_di, ta_dmi_update, dmi)
IND_PLUGIN(minus_di, "Minus directional indicator", "100·smoothed −DM / smoothed TR.", out_value);

static const tack_param_spec sar_params[] = {
    IND_DBL("acceleration", 0.02, 0.0, 1.0, "factor step per new extreme"),
    IND_DBL("maximum", 0.2, 0.0, 1.0, "largest factor"), IND_END};
static int sar_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_sar_init(&in->k.sar, ind_param(in, "acceleration"), ind_param(in, "maximum"));
  return 1;
}
IND_UPDATE_HL(sar, ta_sar_update, sar)
IND_PLUGIN(sar, "Parabolic SAR", "Wilder's stop and reverse, TA-Lib's start rule.", out_value);

static const tack_param_spec ichimoku_params[] = {
    IND_INT("tenkan", 9, 1, IND_PMAX, "bars of the conversion line"),
    IND_INT("kijun", 26, 1, IND_PMAX, "bars of the base line"),
    IND_INT("senkou", 52, 1, IND_PMAX, "bars of leading span B"),
    IND_INT("displacement", 26, 1, IND_PMAX, "bars the spans lead (and chikou lags)"), IND_END};
static const tack_output_spec ichimoku_outputs[] = {
    {"tenkan", "conversion line: midpoint of the last tenkan bars"},
    {"kijun", "base line: midpoint of the last kijun bars"},
    {"senkou_a", "leading span A in effect at this bar (computed displacement bars ago)"},
    {"senkou_b", "leading span B in effect at this bar (computed displacement bars ago)"},
    {"chikou", "lagging span: this bar's close, drawn displacement bars back"},
    {NULL, NULL}};
static int ichimoku_setup(ind_inst *in, ta_arena *a) {
  ta_ichimoku_init(&in->k.ichimoku, ind_int(in, "tenkan"), ind_int(in, "kijun"),
                   ind_int(in, "senkou"), ind_int(in, "displacement"), a);
  return in->k.ichimoku.lookback;
}
IND_UPDATE_HLC(ichimoku, ta_ichimoku_update, ichimoku)
IND_PLUGIN(ichimoku, "Ichimoku cloud", "Tenkan, kijun, the cloud in effect, and chikou.",
           ichimoku_outputs);

/* ---- volume ---------------------------------------------------------------- */

static const tack_param_spec obv_params[] = {IND_SOURCE("close"), IND_END};
static int obv_setup(ind_inst *in, ta_arena *a) {
  (void)a;
  ta_obv_init(&in->k.obv);
  return 0;
}
static int obv_update(void *self, const tack_bar *bar, double *out) {
  ind_inst *in = self;
  double x = ind_source(in->src, bar);
  if (!ind_finite3(x, bar->volume, 0.0))
    return TACK_EINVAL;
  return ta_obv_update(&in->k.obv, x, bar->volume, ind_closed(bar), out);
}
IND_PLUGIN(obv, "On-balance volume",
           "Running volume, added on up bars and subtracted on down "
           "bars; starts at the first bar's volume.",
           out_value);

static const tack_param_spec vwap_params[] = {
    IND_STR("mode", "session", "session|rolling", "reset per session, or a rolling window"),
    IND_INT("session", 86400, 1, 31622400, "session length in seconds (86400: UTC days)"),
    IND_INT("offset", 0, 0, 31622400, "session start past midnight UTC, in seconds"),
    IND_INT("period", 20, 1, IND_PMAX, "bars of the rolling window"),
    IND_SOURCE("hlc3"),
    IND_END};
static int vwap_setup(ind_inst *in, ta_arena *a) {
  if (ind_int(in, "mode") == 1) {
    ta_vwap_init_rolling(&in->k.vwap, ind_int(in, "period"), a);
    return ind_int(in, "period") - 1;
  }
  ta_vwap_init_session(&in->k.vwap, (int64_t)ind_int(in, "session") * TACK_NS_PER_SEC,
                       (int64_t)ind_int(in, "offset") * TACK_NS_PER_SEC);
  return 0;
}
static int vwap_update(void *self, const tack_bar *bar, double *out) {
  ind_inst *in = self;
  double x = ind_source(in->src, bar);
  if (!ind_finite3(x, bar->volume, 0.0))
    return TACK_EINVAL;
  return ta_vwap_update(&in->k.vwap, bar->ts, x, bar->volume, ind_closed(bar), out);
}
IND_PLUGIN(vwap, "Volume-weighted average price",
           "Σ(price·volume)/Σvolume per session (UTC days by default) or over a rolling "
           "window; not ready while there is no volume.",
           out_value);

TACK_PLUGINS(&sma_desc, &ema_desc, &wma_desc, &dema_desc, &tema_desc, &kama_desc, &rsi_desc,
             &stochrsi_desc, &macd_desc, &stoch_desc, &willr_desc, &cci_desc, &mfi_desc, &roc_desc,
             &rocp_desc, &mom_desc, &aroon_desc, &aroonosc_desc, &trange_desc, &atr_desc,
             &natr_desc, &stddev_desc, &bbands_desc, &donchian_desc, &keltner_desc,
             &supertrend_desc, &adx_desc, &dx_desc, &plus_di_desc, &minus_di_desc, &sar_desc,
             &ichimoku_desc, &obv_desc, &vwap_desc);
