/*
 * ml_features.h: turns bars into the feature vector an ML scorer sees, from a
 * feature spec, using the same indicator plugins as strategies, opened
 * directly from a loader as standalone instances (plugin_spec.h).
 *
 * Grammar (docs/training.md has examples). Whitespace anywhere is ignored.
 *
 *     spec   = item { ";" item } [ ";" ]
 *     item   = SOURCE [ "." OUTPUT ] [ "@" TIMEFRAME ] [ "~" LAG ]
 *
 *   SOURCE     an indicator spec "ID[:PARAMS]", exactly as `tack calc` and
 *              host->ind_open take it ("rsi:14", "macd:12,26,9",
 *              "bbands:period=20,nbdevup=2.5"), or a built-in:
 *                ret[:N]   log return over N bars of the item's timeframe,
 *                          ln(close / close N bars before), N 1..100000,
 *                          default 1; not ready while either close is not
 *                          positive
 *                close     the close
 *                volume    the volume
 *                range     (high - low) / close; not ready when close <= 0
 *              A built-in name shadows an indicator plugin of the same id.
 *   .OUTPUT    the output column of an indicator ("macd:12,26,9.hist");
 *              required when it has several, optional when it has one.
 *              Built-ins have none.
 *   @TIMEFRAME a timeframe the owner receives ("@4h"); default the smallest
 *   ~LAG       the value LAG closed bars ago of that timeframe, 0..1000
 *              ("~1"); default 0
 *
 * Items are separated by ';' because PARAMS holds commas, and a positional
 * string value ("rsi:14,close": source = close) could not be told from a
 * next item ("close"). Within an item, '@' and '~' start the suffixes, so
 * parameter values cannot hold them (nor ';'). OUTPUT is the text after the
 * last '.' when that text is a name (a lowercase letter or '_', then
 * lowercase letters, digits, '_'): a decimal value ("2.5") is not one.
 * Plugin ids may hold dots ("example.sma"): without ":PARAMS", a head that
 * is itself a loaded plugin id or a built-in has no OUTPUT, otherwise the
 * part after its last '.' is the OUTPUT ("example.sma.value").
 *
 * Example: "rsi:14; macd:12,26,9.hist@1h; ret:1; ret:1~1; ret:1~2".
 *
 * Canonical form (tack_features_canonical): every item with all its
 * defaults written out, in the order given, joined by ';', no spaces:
 *     ID[:VALUE,...].OUTPUT@TF~LAG        for indicators: the effective
 *                                         value of every declared
 *                                         parameter, positional, in the
 *                                         plugin's order (a string
 *                                         parameter that is unset and has
 *                                         no default is left out, and the
 *                                         ones after it are written
 *                                         NAME=VALUE)
 *     ret:N@TF~LAG, close@TF~LAG, ...     for built-ins
 * e.g. "rsi:14,close.value@5m~0;ret:1@5m~1". Numbers are written in their
 * shortest form that reads back exactly (0.1, 2, 1e-05). Two specs compute
 * the same features exactly when their canonical forms are equal, which is
 * what a trained model is checked against; a canonical form parses back to
 * itself. Each item's name (tack_features_name) is its canonical form. A
 * plugin that adds, removes or reorders parameters changes the canonical
 * forms of its items, so models trained before are refused: retrain.
 *
 * Refused: an empty spec or item, more than 4096 items, a suffix out of
 * order or repeated, an unknown timeframe or one the owner does not
 * receive, a lag out of range, an unknown plugin id, a plugin of another
 * kind, parameters its spec refuses, an indicator with a secret parameter
 * (its value would be written out), an unknown or missing OUTPUT, a
 * built-in with parameters it does not take, and an item whose canonical
 * form repeats an earlier one (it would be the same column twice). Every
 * problem is reported, each as "<where>: item N: <item or spec>: <why>".
 *
 * Values are only ever computed from closed bars; a vector is available
 * once every item is past its warm-up. An item of a higher timeframe reads
 * that timeframe's latest closed bar (LAG closed bars before it): never a
 * forming one, and never one that ends after the bar of the smallest
 * timeframe being emitted.
 *
 * Not thread-safe: one thread uses a tack_features. The loader must outlive
 * it (its indicators are code of the loader's plugins).
 *
 * (Not named features.h: host/ is on the include path, and glibc's own
 * <features.h> would then find this file.)
 */
#ifndef TACK_ML_FEATURES_H
#define TACK_ML_FEATURES_H

#include <stdint.h>

#include "diag.h"
#include "loader.h"
#include "tack.h"

typedef struct tack_features tack_features;

/*
 * Parse spec and open (create, configure, start) its indicators.
 * timeframes lists, in any order, the timeframes the owner receives, in
 * seconds (repeats are ignored); the smallest is the one that emits
 * vectors and the default of @TIMEFRAME. Indicators are found in ld.
 * Problems go to d, every one of them, with `where` (e.g.
 * "configs/demo.cfg:30: strategies.ml.features"; NULL says "features") as
 * their place. Returns 0 with *out set, or TACK_ECONFIG (refused; d says
 * why), TACK_ENOMEM or TACK_EINVAL (out or d NULL), with *out NULL.
 */
int tack_features_new(const char *spec, const uint32_t *timeframes, size_t n_timeframes,
                      const tack_loader *ld, const char *where, tack_diag *d, tack_features **out);
void tack_features_free(tack_features *f);

/* Number of values in a vector. */
uint32_t tack_features_count(const tack_features *f);
/* The canonical spec; valid until tack_features_free(). */
const char *tack_features_canonical(const tack_features *f);
/* The name of value i, its item's canonical form ("ret:1@5m~1"), for
 * reports; NULL when i is out of range. Valid until tack_features_free(). */
const char *tack_features_name(const tack_features *f, uint32_t i);

/*
 * Feed one closed bar of one of the owner's timeframes (provisional bars are
 * ignored: 0, nothing changes). Returns 1 when bar is of the smallest
 * timeframe and a complete vector was written to out
 * (tack_features_count values, all finite), 0 otherwise (warming up, an
 * item not ready at this bar, or a bar of a higher timeframe; out is then
 * untouched), or a TACK_E* code:
 *   TACK_EINVAL  a bar of a timeframe the owner does not receive, a price
 *                or volume that is not finite, a bar not later than the
 *                previous closed bar of its timeframe, or a bar of the
 *                smallest timeframe that ends before a higher bar already
 *                fed (look-ahead); nothing changed
 *   other        an indicator's refusal of the bar (logged, naming it);
 *                the sources of that timeframe may then be out of step:
 *                reset before going on
 * Bars must arrive as the runtime delivers them: in the order their
 * intervals end, the longer timeframe first when two end together.
 */
int tack_features_update(tack_features *f, const tack_bar *bar, double *out);

/* Forget all history, as if just made. An indicator without a reset() of
 * its own is made again; if that fails (logged), every later update
 * returns the error. */
void tack_features_reset(tack_features *f);

#endif
