/*
 * train.h: `tack train`: fitting an ML scorer on candles from the store.
 * The config's top-level `train` group says which scorer entry, which
 * symbol and candles, which label and how much data to hold out; this
 * module checks that group (for config.c), builds the rows (features from
 * host/ml_features.h over bars resampled with host/bars.h, labels from the
 * bars that follow), splits them in time and hands them to the scorer's
 * train() on a worker thread. docs/training.md is the user's guide.
 *
 * Everything here runs on one thread except the scorer's train(), which
 * runs on a libuv worker while the calling thread waits for it.
 */
#ifndef TACK_TRAIN_H
#define TACK_TRAIN_H

#include <libconfig.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "instance.h"
#include "ml_features.h"
#include "tack.h"

/* train.label.kind */
#define TACK_TRAIN_LABEL_SIGN 1u   /* 1 when the forward log return > threshold, else 0 */
#define TACK_TRAIN_LABEL_RETURN 2u /* the forward log return itself */

/* Largest train.label.horizon, in bars of the scorer's smallest timeframe. */
#define TACK_TRAIN_MAX_HORIZON 100000u
/* Largest train.validation: at least a tenth of the rows must train. */
#define TACK_TRAIN_MAX_VALIDATION 0.9

/* The train group, read. Strings point into the config: valid as long as
 * it is. */
typedef struct tack_train_opts {
  const char *scorer;   /* the strategies entry (type = "scorer") to train */
  const char *symbol;   /* the series' symbol in the store */
  uint32_t timeframe_s; /* the candles read; 0: the scorer's smallest timeframe */
  tack_time from;       /* first candle time; INT64_MIN when not set */
  tack_time to;         /* candles before this time; INT64_MAX when not set */
  uint32_t label_kind;  /* TACK_TRAIN_LABEL_* */
  uint32_t horizon;     /* bars of the scorer's smallest timeframe ahead */
  double threshold;     /* sign only */
  double validation;    /* share of the rows held out, [0, TACK_TRAIN_MAX_VALIDATION] */
  const char *file;     /* where the group is, for messages */
  int line;
} tack_train_opts;

/*
 * Check the `train` group s of a config (called by config.c with the
 * config's path as file, used when s has no source file): its keys (an
 * unknown one with a did-you-mean), their types and ranges, that scorer
 * names an entry of the config's `strategies` with type = "scorer", and
 * that from is before to. Every problem is added to d with its file, line
 * and setting path ("train.label.horizon"). Returns 0, or TACK_ECONFIG
 * when it added a problem.
 */
int tack_train_check_schema(const config_setting_t *s, const char *file, tack_diag *d);

/* Read a group tack_train_check_schema() accepted into *out (defaults for
 * what it leaves out). Returns 0, or TACK_ECONFIG for a group it would
 * refuse (nothing is reported: check first). */
int tack_train_opts_read(const config_setting_t *s, tack_train_opts *out);

/* Parse a time as the config and the command line write it: UNIX seconds
 * ("1609459200", up to 9 decimals) or a UTC date and time in ISO-8601
 * ("2021-01-01", "2021-01-01T06:00", "2021-01-01T06:00:00.5Z"). Returns 0,
 * TACK_EPARSE or TACK_ERANGE. */
int tack_train_parse_time(const char *text, tack_time *out);

/* ------------------------------------------------------------------------ */
/* Rows                                                                      */
/* ------------------------------------------------------------------------ */

/*
 * The rows of a training run, oldest first, and their split. Row r's
 * features are x[r * cols .. r * cols + cols), its label y[r], and it was
 * made at the close of the base bar starting at ts[r]. Rows [0, n_train)
 * train, [n_train, n_train + n_gap) are left out, the rest validate.
 */
typedef struct tack_train_rows {
  double *x;
  double *y;
  tack_time *ts;
  uint64_t rows; /* n_train + n_gap + n_valid */
  uint32_t cols;
  uint64_t n_train, n_gap, n_valid;
  /* What the rows were made from. */
  uint64_t source_bars; /* candles read */
  uint64_t base_bars;   /* bars of the scorer's smallest timeframe */
  uint64_t warmup;      /* base bars without a vector (warm-up, items not ready) */
  uint64_t unlabeled;   /* vectors without a label: too close to the end, or a price <= 0 */
  tack_time first_bar, last_bar; /* the first and last base bar's start */
} tack_train_rows;

/* Makes rows from candles, in time order. */
typedef struct tack_train_builder tack_train_builder;

/*
 * A builder that computes f's vectors over bars of the scorer's timeframes
 * (tfs, n_tfs, ascending: tfs[0] is the one that emits rows), made from
 * candles of source_tf (a divisor of tfs[0]) with the resampler of
 * host/bars.h (gap_policy TACK_BARS_GAP_*), so that an item of a higher
 * timeframe only ever reads bars closed by the time of the row. filters
 * (NULL when n_filters is 0) holds n_tfs chains of n_filters started filter
 * instances, chain k at filters[k * n_filters]: the bars of tfs[k] go
 * through it before the features, as the running host does. Rows and
 * labels are timed by the unfiltered bars of tfs[0]. f and the filters are
 * borrowed and must outlive the builder. Returns 0, TACK_EINVAL (bad
 * timeframes) or TACK_ENOMEM.
 */
int tack_train_builder_new(tack_features *f, const uint32_t *tfs, size_t n_tfs, uint32_t source_tf,
                           uint32_t gap_policy, tack_ctx *const *filters, size_t n_filters,
                           tack_train_builder **out);
void tack_train_builder_free(tack_train_builder *b);

/* Feed n closed candles of source_tf, later than every candle before.
 * Returns 0, TACK_ENOMEM, or the code of a filter or of the features (an
 * indicator that refused a bar); either is logged. */
int tack_train_builder_push(tack_train_builder *b, const tack_bar *bars, size_t n);

/*
 * Label the rows as o says, drop those without a label, and split them:
 * n_valid_part = round(rows * validation) rows at the end validate, the
 * others train, except that validation rows whose base bar is within
 * horizon bars of the last training row's are moved to the gap (with one
 * row per bar, exactly horizon rows), so that no training label reads a
 * close of the validation period. *out takes the rows (free with
 * tack_train_rows_free()); the builder is left empty. Returns 0 or
 * TACK_ENOMEM.
 */
int tack_train_builder_finish(tack_train_builder *b, const tack_train_opts *o,
                              tack_train_rows *out);

void tack_train_rows_free(tack_train_rows *r);

/* ------------------------------------------------------------------------ */
/* The command                                                               */
/* ------------------------------------------------------------------------ */

/* What the command line changes; NULL fields change nothing. */
typedef struct tack_train_overrides {
  const char *scorer;
  const char *store;
  const char *from;
  const char *to;
  const char *const *plugin_dirs; /* searched first, as with `tack check` */
  size_t n_plugin_dirs;
} tack_train_overrides;

/*
 * Run `tack train` on the config at path: load and resolve it, read the
 * candles, build and split the rows, create and configure the scorer (a
 * missing model file is fine) and run its train() on a worker thread.
 * What it did goes to report (rows, features, label balance, the split with
 * dates, the training time); the plugin's own log, its validation metrics
 * included, goes to the log. Problems go to d. Returns 0, TACK_ECONFIG (the
 * config, the overrides or the data do not allow training; d says why),
 * TACK_EIO (the store), TACK_ENOMEM, or the code train() returned.
 */
int tack_train_run(const char *path, const tack_train_overrides *ov, FILE *report, tack_diag *d);

#endif
