/*
 * train.c: `tack train`: the config's train group, rows of features and
 * labels made from stored candles, the split in time, and the scorer's
 * train() on a worker thread. See train.h and docs/training.md.
 *
 * The rows are made exactly as the running host would see the bars: the
 * candles of one timeframe are resampled into every timeframe of the scorer
 * with the host's resampler, and the bars reach the feature builder in the
 * order their intervals end (the longer first on a tie), so an item of a
 * higher timeframe never reads a bar that had not closed at the row's time.
 */
#include "train.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "alloc.h"
#include "bars.h"
#include "candles.h"
#include "config.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "params.h"
#include "store.h"
#include "utc.h"

/* The store `tack data` uses when nothing names one. */
#define DEFAULT_STORE "./var/store"
/* Longest ISO-8601 time tack_utc_format() writes, with its NUL. */
#define ISO_MAX 40
/* Most timeframes of one scorer (config.h's limit for one entry). */
#define MAX_TFS TACK_MAX_TIMEFRAMES
/* Bars one filter may make from one input: the running host's limit. */
#define FILTER_CAP 64

int tack_train_parse_time(const char *text, tack_time *out) {
  size_t n = strlen(text);
  int date = n >= 5 && text[4] == '-';
  for (int i = 0; date && i < 4; i++)
    date = text[i] >= '0' && text[i] <= '9';
  return date ? tack_utc_parse(text, out) : tack_candles_parse_seconds(text, n, out);
}

/* ------------------------------------------------------------------------ */
/* The train group                                                           */
/* ------------------------------------------------------------------------ */

typedef struct key_spec {
  const char *name;
  unsigned types;
  int required;
  const char *expect;  /* for "must be <expect>, got ..." */
  const char *example; /* shown when a required key is missing */
} key_spec;

enum { K_SCORER, K_SYMBOL, K_TIMEFRAME, K_FROM, K_TO, K_LABEL, K_VALIDATION, K_COUNT };
static const key_spec train_keys[K_COUNT] = {
    [K_SCORER] = {"scorer", TACK_SETTING_STRING, 1,
                  "the name of a strategies entry with type = \"scorer\"", "scorer = \"ml\";"},
    [K_SYMBOL] = {"symbol", TACK_SETTING_STRING, 1, "a symbol such as \"BTC-USD\"",
                  "symbol = \"BTC-USD\";"},
    [K_TIMEFRAME] = {"timeframe", TACK_SETTING_STRING | TACK_SETTING_INT, 0,
                     "a timeframe such as \"1m\", \"5m\" or \"1h\"", "timeframe = \"5m\";"},
    [K_FROM] = {"from", TACK_SETTING_STRING | TACK_SETTING_INT, 0,
                "a UTC date and time such as \"2021-01-01\" or UNIX seconds",
                "from = \"2021-01-01\";"},
    [K_TO] = {"to", TACK_SETTING_STRING | TACK_SETTING_INT, 0,
              "a UTC date and time such as \"2022-01-01\" or UNIX seconds", "to = \"2022-01-01\";"},
    [K_LABEL] = {"label", TACK_SETTING_GROUP, 0, "a group { kind = \"sign\"; horizon = 12; }",
                 "label = { kind = \"sign\"; horizon = 1; };"},
    [K_VALIDATION] = {"validation", TACK_SETTING_FLOAT | TACK_SETTING_INT, 0,
                      "a number from 0 to 0.9", "validation = 0.2;"},
};

enum { L_KIND, L_HORIZON, L_THRESHOLD, L_COUNT };
static const key_spec label_keys[L_COUNT] = {
    [L_KIND] = {"kind", TACK_SETTING_STRING, 0, "one of sign|return", "kind = \"sign\";"},
    [L_HORIZON] = {"horizon", TACK_SETTING_INT, 0, "an integer from 1 to 100000 (bars)",
                   "horizon = 1;"},
    [L_THRESHOLD] = {"threshold", TACK_SETTING_FLOAT | TACK_SETTING_INT, 0, "a finite number",
                     "threshold = 0.0;"},
};

/* Unknown keys (with a did-you-mean), wrong types, missing required keys;
 * found[k] gets the member for keys[k] when present with a right type. */
static void check_keys(tack_checker *ck, const config_setting_t *group, const key_spec *keys,
                       size_t n, const config_setting_t **found) {
  char what[128], list[256];
  size_t len = 0;
  list[0] = '\0';
  for (size_t k = 0; k < n; k++) {
    found[k] = NULL;
    int w = snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", keys[k].name);
    if (w > 0 && (size_t)w < sizeof list - len)
      len += (size_t)w;
  }
  for (int i = 0; i < config_setting_length(group); i++) {
    const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
    const char *name = config_setting_name(s);
    size_t k = 0;
    while (k < n && strcmp(keys[k].name, name) != 0)
      k++;
    if (k == n) {
      const char *best = NULL;
      int best_dist = 3;
      for (size_t j = 0; j < n; j++) {
        int dist = tack_edit_distance(name, keys[j].name, 2);
        if (dist < best_dist) {
          best = keys[j].name;
          best_dist = dist;
        }
      }
      const char *inner = NULL;
      for (size_t j = 0; keys == train_keys && j < L_COUNT; j++)
        if (tack_edit_distance(name, label_keys[j].name, 2) <= 2)
          inner = label_keys[j].name;
      if (best)
        tack_check_problem(ck, s, NULL, "unknown setting (did you mean '%s'?)", best);
      else if (inner)
        tack_check_problem(
            ck, s, NULL, "unknown setting here: %s goes in the label group, label = { %s = ...; }",
            inner, inner);
      else
        tack_check_problem(ck, s, NULL, "unknown setting; allowed here: %s", list);
      continue;
    }
    if (!(tack_setting_type_bit(s) & keys[k].types)) {
      tack_setting_describe(s, what, sizeof what);
      tack_check_problem(ck, s, NULL, "must be %s, got %s", keys[k].expect, what);
      continue;
    }
    found[k] = s;
  }
  for (size_t k = 0; k < n; k++) {
    if (!keys[k].required || config_setting_get_member(group, keys[k].name))
      continue;
    /* A misspelt key was already reported with its correction. */
    int hinted = 0;
    for (int i = 0; i < config_setting_length(group); i++)
      hinted |= tack_edit_distance(config_setting_name(config_setting_get_elem(group, (unsigned)i)),
                                   keys[k].name, 2) <= 2;
    if (!hinted)
      tack_check_problem(ck, group, keys[k].name, "required setting is missing (for example: %s)",
                         keys[k].example);
  }
}

/* A timeframe setting: "5m" or whole seconds. 0 when it is not one. */
static uint32_t timeframe_value(const config_setting_t *s) {
  uint32_t tf = 0;
  if (tack_setting_type_bit(s) == TACK_SETTING_STRING) {
    if (tack_timeframe_parse(config_setting_get_string(s), &tf) != 0)
      return 0;
  } else {
    int64_t v = tack_setting_int(s);
    if (v < 1 || v > 7 * 86400)
      return 0;
    tf = (uint32_t)v;
  }
  return tf;
}

/* A time setting: a string for tack_train_parse_time() or UNIX seconds. */
static int time_value(const config_setting_t *s, tack_time *out) {
  if (tack_setting_type_bit(s) == TACK_SETTING_STRING)
    return tack_train_parse_time(config_setting_get_string(s), out);
  int64_t v = tack_setting_int(s);
  if (v > INT64_MAX / TACK_NS_PER_SEC || v < INT64_MIN / TACK_NS_PER_SEC)
    return TACK_ERANGE;
  *out = v * TACK_NS_PER_SEC;
  return 0;
}

static const char *entry_type(const config_setting_t *entry) {
  const config_setting_t *t = config_setting_get_member(entry, "type");
  if (!t)
    return "plugin";
  return config_setting_type(t) == CONFIG_TYPE_STRING ? config_setting_get_string(t) : "?";
}

/* scorer must name an entry of the root's strategies with type scorer. */
static void check_scorer_ref(tack_checker *ck, const config_setting_t *train,
                             const config_setting_t *s) {
  const char *name = config_setting_get_string(s);
  const config_setting_t *root = config_setting_parent(train);
  const config_setting_t *strategies = root ? config_setting_get_member(root, "strategies") : NULL;
  char scorers[256];
  size_t len = 0, n_scorers = 0;
  const char *best = NULL;
  int best_dist = 3;
  scorers[0] = '\0';
  if (strategies && config_setting_is_group(strategies)) {
    const config_setting_t *entry = config_setting_get_member(strategies, name);
    if (entry && config_setting_is_group(entry)) {
      const char *type = entry_type(entry);
      if (strcmp(type, "scorer") != 0)
        tack_check_problem(
            ck, s, NULL,
            "strategies.%s is an entry of type \"%s\", not a scorer: train needs an entry "
            "with type = \"scorer\"",
            name, type);
      return;
    }
    for (int i = 0; i < config_setting_length(strategies); i++) {
      const config_setting_t *e = config_setting_get_elem(strategies, (unsigned)i);
      if (!config_setting_is_group(e) || strcmp(entry_type(e), "scorer") != 0)
        continue;
      int dist = tack_edit_distance(name, config_setting_name(e), 2);
      if (dist < best_dist) {
        best = config_setting_name(e);
        best_dist = dist;
      }
      int w = snprintf(scorers + len, sizeof scorers - len, "%s%s", n_scorers ? ", " : "",
                       config_setting_name(e));
      if (w > 0 && (size_t)w < sizeof scorers - len)
        len += (size_t)w;
      n_scorers++;
    }
  }
  if (best)
    tack_check_problem(ck, s, NULL, "no strategies entry named '%s' (did you mean '%s'?)", name,
                       best);
  else if (n_scorers)
    tack_check_problem(ck, s, NULL, "no strategies entry named '%s'; the scorers are: %s", name,
                       scorers);
  else
    tack_check_problem(
        ck, s, NULL,
        "no strategies entry named '%s', and the config has no scorer: add one to "
        "strategies (type = \"scorer\"; plugin = \"xgboost\"; features = \"...\"; ...)",
        name);
}

static void check_label(tack_checker *ck, const config_setting_t *label) {
  const config_setting_t *f[L_COUNT];
  check_keys(ck, label, label_keys, L_COUNT, f);
  int is_return = 0;
  if (f[L_KIND]) {
    const char *kind = config_setting_get_string(f[L_KIND]);
    is_return = strcmp(kind, "return") == 0;
    if (!is_return && strcmp(kind, "sign") != 0)
      tack_check_problem(ck, f[L_KIND], NULL, "must be one of sign|return, got \"%s\"", kind);
  }
  if (f[L_HORIZON]) {
    int64_t h = tack_setting_int(f[L_HORIZON]);
    if (h < 1 || h > TACK_TRAIN_MAX_HORIZON)
      tack_check_problem(ck, f[L_HORIZON], NULL, "must be an integer from 1 to %u (bars), got %lld",
                         TACK_TRAIN_MAX_HORIZON, (long long)h);
  }
  if (f[L_THRESHOLD]) {
    double t = tack_setting_number(f[L_THRESHOLD]);
    if (!isfinite(t))
      tack_check_problem(ck, f[L_THRESHOLD], NULL, "must be a finite number");
    else if (is_return)
      tack_check_problem(
          ck, f[L_THRESHOLD], NULL,
          "applies to kind = \"sign\" only: a \"return\" label is the return itself");
  }
}

int tack_train_check_schema(const config_setting_t *s, const char *file, tack_diag *d) {
  tack_checker ck = {d, file, 0};
  const config_setting_t *f[K_COUNT];
  tack_time from = INT64_MIN, to = INT64_MAX;
  if (!s || !d)
    return TACK_EINVAL;
  if (!config_setting_is_group(s)) {
    char what[128];
    tack_setting_describe(s, what, sizeof what);
    tack_check_problem(&ck, s, NULL,
                       "must be a group { scorer = \"...\"; symbol = \"...\"; ... }, got %s (see "
                       "docs/training.md)",
                       what);
    return TACK_ECONFIG;
  }
  check_keys(&ck, s, train_keys, K_COUNT, f);
  if (f[K_SCORER])
    check_scorer_ref(&ck, s, f[K_SCORER]);
  if (f[K_SYMBOL] && tack_candles_symbol_check(config_setting_get_string(f[K_SYMBOL])) != 0)
    tack_check_problem(&ck, f[K_SYMBOL], NULL,
                       "\"%s\" is not a symbol: 1 to %d printable ASCII characters without spaces",
                       config_setting_get_string(f[K_SYMBOL]), TACK_CANDLES_SYMBOL_MAX);
  if (f[K_TIMEFRAME] && timeframe_value(f[K_TIMEFRAME]) == 0) {
    char what[128];
    tack_setting_describe(f[K_TIMEFRAME], what, sizeof what);
    tack_check_problem(
        &ck, f[K_TIMEFRAME], NULL,
        "must be a timeframe such as \"1m\", \"5m\" or \"1h\" (whole seconds, more than 0, "
        "at most 7 days), got %s",
        what);
  }
  const config_setting_t *times[2] = {f[K_FROM], f[K_TO]};
  tack_time *slots[2] = {&from, &to};
  for (int i = 0; i < 2; i++) {
    if (times[i] && time_value(times[i], slots[i]) != 0) {
      char what[128];
      tack_setting_describe(times[i], what, sizeof what);
      tack_check_problem(
          &ck, times[i], NULL,
          "must be a UTC date and time such as \"2021-01-01\" or \"2021-01-01T06:00:00Z\", "
          "or UNIX seconds, got %s",
          what);
      *slots[i] = i ? INT64_MAX : INT64_MIN;
    }
  }
  if (f[K_FROM] && f[K_TO] && from >= to && from != INT64_MIN && to != INT64_MAX)
    tack_check_problem(&ck, f[K_TO], NULL, "must be later than from (line %d)",
                       (int)config_setting_source_line(f[K_FROM]));
  if (f[K_LABEL])
    check_label(&ck, f[K_LABEL]);
  if (f[K_VALIDATION]) {
    double v = tack_setting_number(f[K_VALIDATION]);
    if (!(v >= 0 && v <= TACK_TRAIN_MAX_VALIDATION))
      tack_check_problem(&ck, f[K_VALIDATION], NULL,
                         "must be a number from 0 to %g (the share of rows held out), got %g",
                         TACK_TRAIN_MAX_VALIDATION, v);
  }
  return ck.problems ? TACK_ECONFIG : 0;
}

int tack_train_opts_read(const config_setting_t *s, tack_train_opts *out) {
  tack_diag d = TACK_DIAG_INIT;
  int rc = tack_train_check_schema(s, NULL, &d);
  tack_diag_free(&d);
  if (rc != 0)
    return TACK_ECONFIG;
  memset(out, 0, sizeof *out);
  out->from = INT64_MIN;
  out->to = INT64_MAX;
  out->label_kind = TACK_TRAIN_LABEL_SIGN;
  out->horizon = 1;
  out->validation = 0.2;
  out->file = config_setting_source_file(s);
  out->line = (int)config_setting_source_line(s);
  config_setting_lookup_string(s, "scorer", &out->scorer);
  config_setting_lookup_string(s, "symbol", &out->symbol);
  const config_setting_t *m;
  if ((m = config_setting_get_member(s, "timeframe")))
    out->timeframe_s = timeframe_value(m);
  if ((m = config_setting_get_member(s, "from")))
    time_value(m, &out->from);
  if ((m = config_setting_get_member(s, "to")))
    time_value(m, &out->to);
  if ((m = config_setting_get_member(s, "validation")))
    out->validation = tack_setting_number(m);
  const config_setting_t *label = config_setting_get_member(s, "label");
  if (label) {
    const char *kind = NULL;
    if (config_setting_lookup_string(label, "kind", &kind) && strcmp(kind, "return") == 0)
      out->label_kind = TACK_TRAIN_LABEL_RETURN;
    if ((m = config_setting_get_member(label, "horizon")))
      out->horizon = (uint32_t)tack_setting_int(m);
    if ((m = config_setting_get_member(label, "threshold")))
      out->threshold = tack_setting_number(m);
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Rows                                                                      */
/* ------------------------------------------------------------------------ */

struct tack_train_builder {
  tack_features *f;
  uint32_t cols;
  uint32_t source_tf;
  uint32_t tfs[MAX_TFS];
  size_t n_tfs;
  tack_bar_resampler *rs[MAX_TFS]; /* NULL where tfs[k] is source_tf: no resampling */
  tack_bar pending[MAX_TFS];       /* bars closed by one candle */
  size_t n_pending;
  tack_ctx *const *filters; /* n_tfs chains of n_filters */
  size_t n_filters;
  tack_bar *filtered; /* FILTER_CAP outputs per filter of a chain */
  double *vec;
  /* Every base bar's start and close, for labels. */
  tack_time *bar_ts;
  double *bar_close;
  uint64_t n_bars, cap_bars;
  /* Vectors and the base bar of each. */
  double *x;
  uint64_t *row_bar;
  uint64_t n_rows, cap_rows;
  uint64_t source_bars;
};

static void collect_bar(void *data, const tack_bar *bar) {
  tack_train_builder *b = data;
  if ((bar->flags & TACK_BAR_CLOSED) && b->n_pending < MAX_TFS)
    b->pending[b->n_pending++] = *bar;
}

int tack_train_builder_new(tack_features *f, const uint32_t *tfs, size_t n_tfs, uint32_t source_tf,
                           uint32_t gap_policy, tack_ctx *const *filters, size_t n_filters,
                           tack_train_builder **out) {
  tack_train_builder *b = NULL;
  int rc = 0;
  *out = NULL;
  if (!f || tack_features_count(f) == 0 || !tfs || n_tfs == 0 || n_tfs > MAX_TFS ||
      source_tf == 0 || (n_filters && !filters))
    return TACK_EINVAL;
  for (size_t k = 0; k < n_tfs; k++)
    if (tfs[k] % source_tf != 0 || (k && tfs[k] <= tfs[k - 1]))
      return TACK_EINVAL;
  b = tack_calloc(NULL, 1, sizeof *b);
  if (!b)
    return TACK_ENOMEM;
  b->f = f;
  b->cols = tack_features_count(f);
  b->source_tf = source_tf;
  b->n_tfs = n_tfs;
  b->filters = filters;
  b->n_filters = n_filters;
  for (size_t k = 0; k < n_tfs && rc == 0; k++) {
    b->tfs[k] = tfs[k];
    if (tfs[k] == source_tf)
      continue;
    tack_bar_resampler_config rs = {source_tf, tfs[k], gap_policy, 0, collect_bar, NULL, b};
    rc = tack_bar_resampler_init(&b->rs[k], &rs);
  }
  if (rc != 0)
    goto fail;
  b->filtered = tack_calloc(NULL, (n_filters ? n_filters : 1) * FILTER_CAP, sizeof *b->filtered);
  b->vec = tack_calloc(NULL, b->cols, sizeof *b->vec);
  if (!b->vec || !b->filtered) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  *out = b;
  return 0;

fail:
  tack_train_builder_free(b);
  return rc;
}

void tack_train_builder_free(tack_train_builder *b) {
  if (!b)
    return;
  for (size_t k = 0; k < b->n_tfs; k++)
    tack_bar_resampler_free(b->rs[k]);
  tack_free(NULL, b->vec);
  tack_free(NULL, b->filtered);
  tack_free(NULL, b->bar_ts);
  tack_free(NULL, b->bar_close);
  tack_free(NULL, b->x);
  tack_free(NULL, b->row_bar);
  tack_free(NULL, b);
}

/* Room for one more base bar and one more row. */
static int reserve(tack_train_builder *b) {
  if (b->n_bars == b->cap_bars) {
    uint64_t cap = b->cap_bars ? b->cap_bars * 2 : 1024;
    tack_time *ts = tack_realloc(NULL, b->bar_ts, cap * sizeof *ts);
    if (!ts)
      return TACK_ENOMEM;
    b->bar_ts = ts;
    double *close = tack_realloc(NULL, b->bar_close, cap * sizeof *close);
    if (!close)
      return TACK_ENOMEM;
    b->bar_close = close;
    b->cap_bars = cap;
  }
  if (b->n_rows == b->cap_rows) {
    uint64_t cap = b->cap_rows ? b->cap_rows * 2 : 1024;
    double *x = tack_realloc(NULL, b->x, cap * b->cols * sizeof *x);
    if (!x)
      return TACK_ENOMEM;
    b->x = x;
    uint64_t *rb = tack_realloc(NULL, b->row_bar, cap * sizeof *rb);
    if (!rb)
      return TACK_ENOMEM;
    b->row_bar = rb;
    b->cap_rows = cap;
  }
  return 0;
}

static tack_time bar_end(const tack_bar *bar) {
  return bar->ts + (tack_time)bar->timeframe_s * TACK_NS_PER_SEC;
}

/* Bars in the order the runtime delivers them: by the end of their
 * interval, the longer timeframe first when two end together. */
static void order_pending(tack_train_builder *b) {
  for (size_t i = 1; i < b->n_pending; i++) {
    tack_bar t = b->pending[i];
    size_t j = i;
    while (j > 0 && (bar_end(&b->pending[j - 1]) > bar_end(&t) ||
                     (bar_end(&b->pending[j - 1]) == bar_end(&t) &&
                      b->pending[j - 1].timeframe_s < t.timeframe_s))) {
      b->pending[j] = b->pending[j - 1];
      j--;
    }
    b->pending[j] = t;
  }
}

/* One bar to the features; a vector made by a bar of tfs[0] is the row of
 * the latest base bar (a filter that makes several bars of one keeps the
 * last vector, the one the running host would act on). */
static int to_features(tack_train_builder *b, const tack_bar *bar, int base) {
  int rc = tack_features_update(b->f, bar, b->vec);
  if (rc < 0) {
    tack_log_error("train: the features refused the %s bar at %lld s: %s (%s)",
                   base ? "base" : "higher", (long long)(bar->ts / TACK_NS_PER_SEC),
                   tack_strerror(rc), tack_err_name(rc));
    return rc;
  }
  if (rc != 1 || !base)
    return 0;
  if (b->n_rows == 0 || b->row_bar[b->n_rows - 1] != b->n_bars - 1)
    b->n_rows++;
  memcpy(b->x + (b->n_rows - 1) * b->cols, b->vec, b->cols * sizeof *b->vec);
  b->row_bar[b->n_rows - 1] = b->n_bars - 1;
  return 0;
}

/* Through filter stage j of chain k, then the next stage or the features. */
static int through_filters(tack_train_builder *b, size_t k, size_t j, const tack_bar *bar,
                           int base) {
  if (j == b->n_filters)
    return to_features(b, bar, base);
  tack_ctx *ctx = b->filters[k * b->n_filters + j];
  tack_bar *out = b->filtered + j * FILTER_CAP;
  uint32_t n = 0;
  int rc = tack_instance_filter_update(ctx, bar, out, FILTER_CAP, &n);
  if (rc != 0) {
    tack_log(TACK_LOG_ERROR, tack_instance_name(ctx), "train: update failed at %lld s: %s (%s)%s",
             (long long)(bar->ts / TACK_NS_PER_SEC), tack_strerror(rc), tack_err_name(rc),
             rc == TACK_ENOSPC ? ": more than 64 bars from one, which the running host drops" : "");
    return rc;
  }
  for (uint32_t i = 0; i < n && i < FILTER_CAP; i++)
    if ((rc = through_filters(b, k, j + 1, &out[i], base)) != 0)
      return rc;
  return 0;
}

/* Feed the bars one candle closed. */
static int feed_pending(tack_train_builder *b) {
  order_pending(b);
  for (size_t i = 0; i < b->n_pending; i++) {
    const tack_bar *bar = &b->pending[i];
    int base = bar->timeframe_s == b->tfs[0];
    size_t k = 0;
    while (b->tfs[k] != bar->timeframe_s)
      k++;
    int rc = reserve(b);
    if (rc != 0)
      return rc;
    if (base) {
      b->bar_ts[b->n_bars] = bar->ts;
      b->bar_close[b->n_bars] = bar->close;
      b->n_bars++;
    }
    rc = through_filters(b, k, 0, bar, base);
    if (rc != 0)
      return rc;
  }
  b->n_pending = 0;
  return 0;
}

int tack_train_builder_push(tack_train_builder *b, const tack_bar *bars, size_t n) {
  for (size_t i = 0; i < n; i++) {
    tack_bar in = bars[i];
    in.timeframe_s = b->source_tf;
    in.flags = TACK_BAR_CLOSED;
    b->source_bars++;
    b->n_pending = 0;
    for (size_t k = 0; k < b->n_tfs; k++) {
      if (!b->rs[k]) {
        b->pending[b->n_pending++] = in;
        continue;
      }
      int rc = tack_bar_resampler_push(b->rs[k], &in);
      if (rc < 0)
        return rc;
    }
    int rc = feed_pending(b);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* The label of the row made at base bar k, or 0 when it has none. */
static int label_of(const tack_train_builder *b, uint64_t k, const tack_train_opts *o, double *y) {
  if (k + o->horizon >= b->n_bars)
    return 0;
  double now = b->bar_close[k], then = b->bar_close[k + o->horizon];
  if (!(now > 0) || !(then > 0))
    return 0;
  double r = log(then / now);
  if (!isfinite(r))
    return 0;
  *y = o->label_kind == TACK_TRAIN_LABEL_RETURN ? r : (r > o->threshold ? 1.0 : 0.0);
  return 1;
}

int tack_train_builder_finish(tack_train_builder *b, const tack_train_opts *o,
                              tack_train_rows *out) {
  memset(out, 0, sizeof *out);
  double *y = tack_calloc(NULL, b->n_rows ? b->n_rows : 1, sizeof *y);
  tack_time *ts = tack_calloc(NULL, b->n_rows ? b->n_rows : 1, sizeof *ts);
  if (!y || !ts) {
    tack_free(NULL, y);
    tack_free(NULL, ts);
    return TACK_ENOMEM;
  }
  /* Keep the labeled rows, in order, in place. */
  uint64_t kept = 0;
  for (uint64_t r = 0; r < b->n_rows; r++) {
    if (!label_of(b, b->row_bar[r], o, &y[kept]))
      continue;
    if (kept != r)
      memmove(b->x + kept * b->cols, b->x + r * b->cols, b->cols * sizeof *b->x);
    b->row_bar[kept] = b->row_bar[r];
    ts[kept] = b->bar_ts[b->row_bar[r]];
    kept++;
  }
  uint64_t n_valid_part = (uint64_t)llround((double)kept * o->validation);
  if (n_valid_part > kept)
    n_valid_part = kept;
  out->n_train = kept - n_valid_part;
  if (n_valid_part && out->n_train) {
    uint64_t last = b->row_bar[out->n_train - 1];
    while (out->n_gap < n_valid_part && b->row_bar[out->n_train + out->n_gap] <= last + o->horizon)
      out->n_gap++;
  }
  out->n_valid = n_valid_part - out->n_gap;
  out->x = b->x;
  out->y = y;
  out->ts = ts;
  out->rows = kept;
  out->cols = b->cols;
  out->source_bars = b->source_bars;
  out->base_bars = b->n_bars;
  out->warmup = b->n_bars - b->n_rows;
  out->unlabeled = b->n_rows - kept;
  out->first_bar = b->n_bars ? b->bar_ts[0] : 0;
  out->last_bar = b->n_bars ? b->bar_ts[b->n_bars - 1] : 0;
  b->x = NULL;
  b->n_rows = b->cap_rows = 0;
  return 0;
}

void tack_train_rows_free(tack_train_rows *r) {
  if (!r)
    return;
  tack_free(NULL, r->x);
  tack_free(NULL, r->y);
  tack_free(NULL, r->ts);
  memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------------ */
/* The scorer's train() on a worker thread                                   */
/* ------------------------------------------------------------------------ */

typedef struct fit_job {
  uv_work_t req;
  const tack_scorer_vtable *vt;
  void *self;
  const tack_dataset *train;
  const tack_dataset *valid;
  int rc;
  double seconds;
} fit_job;

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void fit_work(uv_work_t *req) {
  fit_job *j = req->data;
  double t0 = now_seconds();
  j->rc = j->vt->train(j->self, j->train, j->valid);
  j->seconds = now_seconds() - t0;
}

static void fit_done(uv_work_t *req, int status) {
  fit_job *j = req->data;
  if (status != 0)
    j->rc = TACK_EPLUGIN;
}

/* Run train() on a libuv worker and wait: the instance and the datasets
 * are touched by nobody else until it returns. */
static int fit(fit_job *j) {
  uv_loop_t loop;
  int rc = uv_loop_init(&loop);
  if (rc != 0)
    return TACK_ENOMEM;
  j->req.data = j;
  rc = uv_queue_work(&loop, &j->req, fit_work, fit_done);
  if (rc == 0)
    uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return rc == 0 ? 0 : TACK_ENOMEM;
}

/* ------------------------------------------------------------------------ */
/* The command                                                               */
/* ------------------------------------------------------------------------ */

/* What one run holds, freed in one place. */
typedef struct run {
  const tack_train_overrides *ov;
  FILE *out;
  tack_diag *d;
  tack_config *cfg;
  tack_loader *ld;
  tack_store *store;
  tack_candles *candles;
  tack_features *f;
  tack_train_builder *b;
  tack_train_rows rows;
  tack_ctx **filters; /* a chain per timeframe, as the running host makes them */
  size_t n_filters;   /* made */
  tack_ctx *ctx;
  tack_train_opts o;
  const config_setting_t *group;
  const tack_cfg_strategy *st;
  const char *store_path;
  const char *store_origin;
  uint32_t source_tf;
} run;

/* A problem at a member of the train group (the group itself when absent). */
static void train_problem(run *r, const char *key, const char *fmt, ...) TACK_PRINTF(3, 4);
static void train_problem(run *r, const char *key, const char *fmt, ...) {
  char body[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  const config_setting_t *m = key ? config_setting_get_member(r->group, key) : NULL;
  if (m)
    tack_setting_report(r->d, m, NULL, "%s", body);
  else
    tack_setting_report(r->d, r->group, NULL, "%s", body);
}

static int load_config(run *r, const char *path) {
  int rc = tack_config_load(path, &r->cfg, r->d);
  if (rc != 0)
    return rc;
  /* The scorer reports its validation metrics at info: training shows
   * them even under a quieter config. */
  tack_log_set_level(r->cfg->log_level > TACK_LOG_INFO ? r->cfg->log_level : TACK_LOG_INFO);
  r->group = config_lookup(&r->cfg->lc, "train");
  if (!r->group) {
    tack_diag_add(r->d, path, 0, NULL,
                  "the config has no train group: add one, e.g. train = { scorer = \"ml\"; symbol "
                  "= \"BTC-USD\"; }; (docs/training.md)");
    return TACK_ECONFIG;
  }
  if (tack_train_opts_read(r->group, &r->o) != 0)
    return TACK_ECONFIG; /* tack_config_load() reported it */
  const tack_train_overrides *ov = r->ov;
  if (ov && ov->scorer)
    r->o.scorer = ov->scorer;
  if (ov && ov->from && tack_train_parse_time(ov->from, &r->o.from) != 0) {
    tack_diag_add(r->d, NULL, 0, NULL, "--from '%s' is not a time", ov->from);
    return TACK_ECONFIG;
  }
  if (ov && ov->to && tack_train_parse_time(ov->to, &r->o.to) != 0) {
    tack_diag_add(r->d, NULL, 0, NULL, "--to '%s' is not a time", ov->to);
    return TACK_ECONFIG;
  }
  if (r->o.from >= r->o.to) {
    char a[ISO_MAX], b[ISO_MAX];
    tack_utc_format(r->o.from, a, sizeof a);
    tack_utc_format(r->o.to, b, sizeof b);
    tack_diag_add(r->d, NULL, 0, NULL,
                  "the training period is empty: from %s is not before to %s (from the train "
                  "group and --from/--to)",
                  a, b);
    return TACK_ECONFIG;
  }
  rc = tack_loader_new(&r->ld);
  if (rc != 0)
    return rc;
  rc = tack_config_load_plugins(r->cfg, ov ? ov->plugin_dirs : NULL, ov ? ov->n_plugin_dirs : 0,
                                r->ld, r->d);
  if (rc != 0)
    return rc;
  /* As `tack run`: refused files are warnings, unless resolve needs them. */
  tack_loader_print_refusals(r->ld, stderr);
  tack_instance_set_registry(r->ld);
  return tack_config_resolve(r->cfg, r->ld, r->d);
}

/* The scorer entry to train, and the timeframe of the candles to read. */
static int find_scorer(run *r) {
  for (size_t i = 0; i < r->cfg->n_strategies; i++)
    if (strcmp(r->cfg->strategies[i].inst.name, r->o.scorer) == 0)
      r->st = &r->cfg->strategies[i];
  if (!r->st || r->st->type != TACK_STRATEGY_SCORER) {
    const char *why = r->st ? "that entry is not a scorer" : "no strategies entry has that name";
    if (r->ov && r->ov->scorer)
      tack_diag_add(r->d, NULL, 0, NULL,
                    "--scorer %s: %s; name a strategies entry with type = \"scorer\"", r->o.scorer,
                    why);
    else
      train_problem(r, "scorer", "strategies.%s is not a scorer entry", r->o.scorer);
    return TACK_ECONFIG;
  }
  const tack_plugin_desc *desc = r->st->inst.plugin->desc;
  const tack_scorer_vtable *vt = desc->vtable;
  if (!vt->train) {
    tack_diag_add(r->d, r->st->inst.file, r->st->inst.line, NULL,
                  "strategies.%s: plugin %s (%s) cannot train: its scorer has no train()",
                  r->st->inst.name, desc->id, r->st->inst.plugin->path);
    return TACK_ECONFIG;
  }
  uint32_t base = r->st->timeframes[0];
  r->source_tf = r->o.timeframe_s ? r->o.timeframe_s : base;
  if (base % r->source_tf != 0) {
    char a[32], b[32];
    tack_timeframe_format(r->source_tf, a, sizeof a);
    tack_timeframe_format(base, b, sizeof b);
    train_problem(r, "timeframe",
                  "candles of %s cannot make the %s bars of scorer %s: use a timeframe that "
                  "divides %s (%s itself, or a smaller one the store holds)",
                  a, b, r->o.scorer, b, b);
    return TACK_ECONFIG;
  }
  /* The label's kind must be what the scorer's objective models. */
  const char *objective = NULL;
  if (tack_params_find(desc, "objective") &&
      tack_params_string(desc, r->st->inst.params, "objective", &objective) == 0 && objective) {
    int binary = strncmp(objective, "binary:", 7) == 0;
    int reg = strncmp(objective, "reg:", 4) == 0;
    if ((binary && r->o.label_kind == TACK_TRAIN_LABEL_RETURN) ||
        (reg && r->o.label_kind == TACK_TRAIN_LABEL_SIGN)) {
      const char *kind = r->o.label_kind == TACK_TRAIN_LABEL_SIGN ? "sign" : "return";
      train_problem(r, "label",
                    "label kind \"%s\" does not fit scorer %s's objective \"%s\": use kind = "
                    "\"%s\" here, or objective = \"%s\" in its params",
                    kind, r->o.scorer, objective, binary ? "sign" : "return",
                    binary ? "reg:squarederror" : "binary:logistic");
      return TACK_ECONFIG;
    }
  }
  return 0;
}

static int make_features(run *r) {
  char where[512];
  const config_setting_t *fs = r->st->features_setting;
  if (fs && config_setting_source_file(fs))
    snprintf(where, sizeof where, "%s:%d: strategies.%s.features", config_setting_source_file(fs),
             (int)config_setting_source_line(fs), r->st->inst.name);
  else
    snprintf(where, sizeof where, "strategies.%s.features", r->st->inst.name);
  return tack_features_new(r->st->features, r->st->timeframes, r->st->n_timeframes, r->ld, where,
                           r->d, &r->f);
}

static int open_store(run *r) {
  struct stat sb;
  char probe[4200];
  const char *env = getenv("TACK_STORE");
  if (r->ov && r->ov->store) {
    r->store_path = r->ov->store;
    r->store_origin = "--store";
  } else if (r->cfg->store_path) {
    r->store_path = r->cfg->store_path;
    r->store_origin = "the config's store";
  } else if (env && *env) {
    r->store_path = env;
    r->store_origin = "TACK_STORE";
  } else {
    r->store_path = DEFAULT_STORE;
    r->store_origin = "the default";
  }
  snprintf(probe, sizeof probe, "%s/data.mdb", r->store_path);
  if (stat(probe, &sb) != 0) {
    tack_diag_add(r->d, NULL, 0, NULL,
                  "no store at %s (%s): import candles first with 'tack data import FILE "
                  "--symbol %s --timeframe TF --store %s'",
                  r->store_path, r->store_origin, r->o.symbol, r->store_path);
    return TACK_ECONFIG;
  }
  int rc = tack_store_open(r->store_path, 0, &r->store);
  if (rc == 0)
    rc = tack_candles_open(r->store, &r->candles);
  if (rc != 0) {
    tack_diag_add(r->d, NULL, 0, NULL, "cannot use the store at %s (%s): %s", r->store_path,
                  r->store_origin, tack_strerror(rc));
    return TACK_EIO;
  }
  return 0;
}

/* The scorer's filter chains: one per timeframe, named as the running host
 * names them ("filters.ha@BTC-USD/15m" with several timeframes). */
static int make_filters(run *r) {
  const tack_cfg_strategy *st = r->st;
  size_t n = st->n_timeframes * st->n_filters;
  if (n == 0)
    return 0;
  r->filters = tack_calloc(NULL, n, sizeof *r->filters);
  if (!r->filters)
    return TACK_ENOMEM;
  for (size_t k = 0; k < st->n_timeframes; k++) {
    char scope[TACK_SYMBOL_MAX + 24], tf[32];
    tack_timeframe_format(st->timeframes[k], tf, sizeof tf);
    snprintf(scope, sizeof scope, "%s/%s", r->o.symbol, tf);
    for (size_t j = 0; j < st->n_filters; j++) {
      tack_ctx *ctx = NULL;
      int rc = tack_instance_new_scoped(st->filters[j], st->n_timeframes > 1 ? scope : r->o.symbol,
                                        NULL, r->d, &ctx);
      if (rc != 0)
        return rc;
      r->filters[r->n_filters++] = ctx;
      rc = tack_instance_start(ctx);
      if (rc != 0) {
        tack_diag_add(r->d, st->filters[j]->file, st->filters[j]->line, NULL,
                      "filter %s of scorer %s failed to start: %s (%s)", st->filters[j]->name,
                      st->inst.name, tack_strerror(rc), tack_err_name(rc));
        return rc;
      }
    }
  }
  return 0;
}

static int push_candles(void *data, const tack_bar *bars, size_t n) {
  return tack_train_builder_push(data, bars, n);
}

/* The first time at or after t on the grid of tf (t itself when unset). */
static tack_time align_up(tack_time t, uint32_t tf) {
  tack_time step = (tack_time)tf * TACK_NS_PER_SEC;
  if (t == INT64_MIN || t > INT64_MAX - step)
    return t;
  return tack_floor_div(t + step - 1, step) * step;
}

static void series_name(const run *r, char *buf, size_t cap) {
  char tf[32];
  tack_timeframe_format(r->source_tf, tf, sizeof tf);
  snprintf(buf, cap, "%s %s", r->o.symbol, tf);
}

static int read_rows(run *r) {
  char name[128];
  const tack_cfg_strategy *st = r->st;
  int rc = tack_train_builder_new(r->f, st->timeframes, st->n_timeframes, r->source_tf,
                                  st->gap_policy, r->filters, st->n_filters, &r->b);
  if (rc != 0)
    return rc;
  /* Start on the grid of the largest timeframe: its first bar is whole. */
  tack_time from = align_up(r->o.from, st->timeframes[st->n_timeframes - 1]);
  series_name(r, name, sizeof name);
  rc = tack_candles_read(r->candles, r->o.symbol, r->source_tf, from, r->o.to, push_candles, r->b);
  if (rc == TACK_ENOENT) {
    char tf[32];
    tack_timeframe_format(r->source_tf, tf, sizeof tf);
    tack_diag_add(r->d, NULL, 0, NULL,
                  "no candles of %s in the store at %s (%s): import them with 'tack data import "
                  "FILE --symbol %s --timeframe %s --store %s'",
                  name, r->store_path, r->store_origin, r->o.symbol, tf, r->store_path);
    return TACK_ECONFIG;
  }
  if (rc != 0) {
    tack_diag_add(r->d, NULL, 0, NULL, "reading the candles of %s failed: %s (%s)", name,
                  tack_strerror(rc), tack_err_name(rc));
    return rc;
  }
  rc = tack_train_builder_finish(r->b, &r->o, &r->rows);
  if (rc != 0)
    return rc;
  const tack_train_rows *w = &r->rows;
  if (w->source_bars == 0) {
    tack_diag_add(r->d, NULL, 0, NULL,
                  "the store holds no candles of %s in the training period (train.from, "
                  "train.to, --from, --to)",
                  name);
    return TACK_ECONFIG;
  }
  if (w->n_train == 0 || (r->o.validation > 0 && w->n_valid == 0)) {
    tack_diag_add(r->d, NULL, 0, NULL,
                  "too few rows to train: %llu candles of %s gave %llu labeled rows (%llu bars "
                  "of warm-up, %llu without a label), which leaves %llu to train and %llu to "
                  "validate after a gap of %llu; use more candles, or a shorter warm-up, horizon "
                  "or validation",
                  (unsigned long long)w->source_bars, name, (unsigned long long)w->rows,
                  (unsigned long long)w->warmup, (unsigned long long)w->unlabeled,
                  (unsigned long long)w->n_train, (unsigned long long)w->n_valid,
                  (unsigned long long)w->n_gap);
    return TACK_ECONFIG;
  }
  return 0;
}

/* The share of ones, or the mean and deviation, of n labels. */
static void label_summary(const run *r, const double *y, uint64_t n, char *buf, size_t cap) {
  if (n == 0) {
    snprintf(buf, cap, "-");
    return;
  }
  double sum = 0, sq = 0;
  for (uint64_t i = 0; i < n; i++)
    sum += y[i];
  double mean = sum / (double)n;
  if (r->o.label_kind == TACK_TRAIN_LABEL_SIGN) {
    snprintf(buf, cap, "label 1 in %.1f%%", 100.0 * mean);
    return;
  }
  for (uint64_t i = 0; i < n; i++)
    sq += (y[i] - mean) * (y[i] - mean);
  snprintf(buf, cap, "label mean %.3g, sd %.3g", mean, sqrt(sq / (double)n));
}

static void print_set(const run *r, const char *what, uint64_t first, uint64_t n, FILE *out) {
  char a[ISO_MAX] = "-", b[ISO_MAX] = "-", lab[96];
  if (n) {
    tack_utc_format(r->rows.ts[first], a, sizeof a);
    tack_utc_format(r->rows.ts[first + n - 1], b, sizeof b);
  }
  label_summary(r, r->rows.y + first, n, lab, sizeof lab);
  fprintf(out, "  %-10s %8llu rows  %s .. %s  %s\n", what, (unsigned long long)n, a, b, lab);
}

static void print_report(const run *r) {
  const tack_train_rows *w = &r->rows;
  const tack_cfg_strategy *st = r->st;
  const tack_plugin_desc *desc = st->inst.plugin->desc;
  FILE *out = r->out;
  char tf[32], base[32], a[ISO_MAX], b[ISO_MAX], lab[96];
  tack_timeframe_format(r->source_tf, tf, sizeof tf);
  tack_timeframe_format(st->timeframes[0], base, sizeof base);
  fprintf(out, "train scorer %s (%s %s) on %s\n", st->inst.name, desc->id, desc->version,
          r->o.symbol);
  tack_utc_format(w->first_bar, a, sizeof a);
  tack_utc_format(w->last_bar, b, sizeof b);
  fprintf(out, "candles: %llu of %s from %s (%s)\n", (unsigned long long)w->source_bars, tf,
          r->store_path, r->store_origin);
  fprintf(out, "bars: %llu of %s, %s .. %s", (unsigned long long)w->base_bars, base, a, b);
  for (size_t k = 1; k < st->n_timeframes; k++) {
    char t[32];
    tack_timeframe_format(st->timeframes[k], t, sizeof t);
    fprintf(out, "%s%s", k == 1 ? "; also " : ", ", t);
  }
  fprintf(out, "%s\n",
          st->n_timeframes > 1 || r->source_tf != st->timeframes[0]
              ? " (resampled from the candles)"
              : "");
  fprintf(out, "features (%u): %s\n", w->cols, tack_features_canonical(r->f));
  for (uint32_t i = 0; i < w->cols; i++)
    fprintf(out, "  %3u  %s\n", i, tack_features_name(r->f, i));
  fprintf(out,
          "rows: %llu labeled (%llu bars of warm-up or without every feature, %llu without a "
          "label at the end or at a price <= 0)\n",
          (unsigned long long)w->rows, (unsigned long long)w->warmup,
          (unsigned long long)w->unlabeled);
  label_summary(r, w->y, w->rows, lab, sizeof lab);
  if (r->o.label_kind == TACK_TRAIN_LABEL_SIGN)
    fprintf(out,
            "label: sign: 1 when the log return over the next %u %s bar%s is > %g, else 0; "
            "%s\n",
            r->o.horizon, base, r->o.horizon == 1 ? "" : "s", r->o.threshold, lab);
  else
    fprintf(out, "label: return: the log return over the next %u %s bar%s; %s\n", r->o.horizon,
            base, r->o.horizon == 1 ? "" : "s", lab);
  fprintf(out, "split in time (validation %g, gap of %u bar%s):\n", r->o.validation, r->o.horizon,
          r->o.horizon == 1 ? "" : "s");
  print_set(r, "train", 0, w->n_train, out);
  fprintf(out, "  %-10s %8llu rows  (labels of training rows end before validation starts)\n",
          "gap", (unsigned long long)w->n_gap);
  print_set(r, "validation", w->n_train + w->n_gap, w->n_valid, out);
  fflush(out);
}

/* The model's path as the plugin resolves it, for the report. */
static void model_path(const run *r, char *buf, size_t cap) {
  const tack_plugin_desc *desc = r->st->inst.plugin->desc;
  const tack_param_spec *p = tack_params_find(desc, "model");
  const char *value = NULL;
  buf[0] = '\0';
  if (!p || p->type != TACK_PARAM_STRING ||
      tack_params_string(desc, r->st->inst.params, "model", &value) != 0 || !value)
    return;
  const char *file = r->st->inst.file;
  const char *slash = file ? strrchr(file, '/') : NULL;
  if ((p->flags & TACK_PARAM_PATH) && value[0] != '/' && slash)
    snprintf(buf, cap, "%.*s/%s", (int)(slash - file), file, value);
  else
    snprintf(buf, cap, "%s", value);
}

/*
 * tack train always trains from scratch, so the scorer is pointed at a fresh
 * file beside its model ("m.json" -> "m.training-PID.json"; the extension
 * picks the format): an existing model, even one trained on other features
 * that the scorer would refuse to load, is no obstacle, and it is replaced
 * only once training succeeded. Returns 1 when the model parameter now
 * names scratch, 0 when the scorer has no model parameter to redirect.
 */
static int use_scratch_model(run *r, const char *model, char *scratch, size_t cap) {
  config_setting_t *params = (config_setting_t *)r->st->inst.params;
  config_setting_t *m = params ? config_setting_get_member(params, "model") : NULL;
  const char *slash = strrchr(model, '/');
  const char *dot = strrchr(model, '.');
  if (!m || config_setting_type(m) != CONFIG_TYPE_STRING || !model[0])
    return 0;
  if (!dot || (slash && dot < slash))
    dot = model + strlen(model);
  /* model is relative to the working folder; the parameter would be read
   * relative to the config's folder again: scratch is made absolute. */
  char cwd[4096] = "";
  if (model[0] != '/' && (!getcwd(cwd, sizeof cwd - 1) || strlen(cwd) + 1 >= sizeof cwd))
    return 0;
  if (cwd[0])
    strncat(cwd, "/", sizeof cwd - strlen(cwd) - 1);
  int n = snprintf(scratch, cap, "%s%.*s.training-%ld%s", cwd, (int)(dot - model), model,
                   (long)getpid(), dot);
  if (n < 0 || (size_t)n >= cap || config_setting_set_string(m, scratch) != CONFIG_TRUE)
    return 0;
  return 1;
}

static int train_scorer(run *r) {
  const tack_cfg_instance *ci = &r->st->inst;
  char model[4200], scratch[4300];
  model_path(r, model, sizeof model);
  /* The model's folder is made when missing (models/ beside a new config). */
  char *slash = strrchr(model, '/');
  if (slash && slash != model) {
    *slash = '\0';
    int made = tack_make_dirs(model);
    *slash = '/';
    if (made != 0) {
      tack_diag_add(r->d, ci->file, ci->line, NULL,
                    "strategies.%s: the folder of the model %s cannot be made", ci->name, model);
      return made;
    }
  }
  int scratched = use_scratch_model(r, model, scratch, sizeof scratch);
  int rc = tack_instance_new_scoped(ci, r->o.symbol, NULL, r->d, &r->ctx);
  if (rc != 0) {
    tack_diag_add(r->d, ci->file, ci->line, NULL,
                  "strategies.%s: the scorer could not be configured, so it was not trained",
                  ci->name);
    return rc;
  }
  const tack_train_rows *w = &r->rows;
  tack_dataset train = {w->x, w->y, w->n_train, w->cols, 0};
  uint64_t v0 = w->n_train + w->n_gap;
  tack_dataset valid = {w->x + v0 * w->cols, w->y + v0, w->n_valid, w->cols, 0};
  fit_job job;
  memset(&job, 0, sizeof job);
  job.vt = ci->plugin->desc->vtable;
  job.self = tack_instance_self(r->ctx);
  job.train = &train;
  job.valid = w->n_valid ? &valid : NULL;
  fprintf(r->out, "training on a worker thread...\n");
  fflush(r->out);
  rc = fit(&job);
  if (rc != 0) {
    tack_diag_add(r->d, NULL, 0, NULL, "cannot start a worker thread: %s", tack_strerror(rc));
    return rc;
  }
  if (job.rc != 0) {
    if (scratched)
      unlink(scratch);
    tack_diag_add(r->d, ci->file, ci->line, NULL,
                  "strategies.%s: plugin %s failed to train: %s (%s); its log above says why%s",
                  ci->name, ci->plugin->desc->id, tack_strerror(job.rc), tack_err_name(job.rc),
                  scratched ? "; the model file was left as it was" : "");
    return job.rc;
  }
  if (scratched && rename(scratch, model) != 0) {
    tack_diag_add(r->d, ci->file, ci->line, NULL,
                  "strategies.%s: trained, but the new model %s could not replace %s: %s; the "
                  "new model is left there",
                  ci->name, scratch, model, strerror(errno));
    return TACK_EIO;
  }
  fprintf(r->out, "trained in %.3f s (%.0f rows/s)%s%s\n", job.seconds,
          job.seconds > 0 ? (double)w->n_train / job.seconds : 0.0, model[0] ? ": model " : "",
          model);
  return 0;
}

int tack_train_run(const char *path, const tack_train_overrides *ov, FILE *report, tack_diag *d) {
  run r;
  memset(&r, 0, sizeof r);
  r.ov = ov;
  r.out = report ? report : stdout;
  r.d = d;
  int rc = load_config(&r, path);
  if (rc == 0)
    rc = find_scorer(&r);
  if (rc == 0)
    rc = make_features(&r);
  if (rc == 0)
    rc = make_filters(&r);
  if (rc == 0)
    rc = open_store(&r);
  if (rc == 0)
    rc = read_rows(&r);
  if (rc == 0) {
    print_report(&r);
    rc = train_scorer(&r);
  }
  if (rc == TACK_ENOMEM)
    tack_diag_add(d, NULL, 0, NULL, "out of memory while training");
  /* The instance before the config it points into, plugins' code last. */
  tack_instance_free(r.ctx);
  tack_train_rows_free(&r.rows);
  tack_train_builder_free(r.b);
  for (size_t i = 0; i < r.n_filters; i++)
    tack_instance_free(r.filters[i]);
  tack_free(NULL, r.filters);
  tack_features_free(r.f);
  tack_candles_close(r.candles);
  tack_store_close(r.store);
  if (r.ld)
    tack_instance_set_registry(NULL);
  if (r.cfg)
    tack_config_free(r.cfg);
  tack_loader_free(r.ld);
  return rc;
}
