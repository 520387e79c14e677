/*
 * xgb_train.c: train() of the "xgboost" scorer. It fits a fresh model on
 * the training rows, evaluates it on the validation rows every round (with
 * early stopping when asked), reports the final validation metrics, stamps
 * the model with the config it was trained for and saves it atomically.
 *
 * It runs on a worker thread: no host service but log, so memory comes
 * from malloc, not host->alloc, and the instance is only read, except for
 * the one hand-over of the finished model (xgb.h).
 *
 * Determinism: the same rows and parameters give the same model file, byte
 * for byte, whatever nthread is. The parameters are all set explicitly,
 * the row sampling draws from `seed`, and tree_method "hist" builds the
 * same trees with any number of threads in XGBoost 1.7 (the tests check
 * 1 against 2 threads).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xgb.h"

/* The metric XGBoost evaluates every round, and early stopping watches:
 * lower is better for both. Indexed by XGB_OBJ_*. */
static const char *const xgb_round_metric[2] = {"logloss", "rmse"};

/* Probabilities are clipped this far from 0 and 1 in the log loss. */
#define XGB_LOGLOSS_EPS 1e-15

/*
 * Check dataset d (called `name` in messages) against the config and build
 * an XGBoost matrix from it: features converted to float as score()
 * converts them, labels checked for the objective.
 */
static int xgb_matrix(const xgb *x, const xgb_config *c, const tack_dataset *d, const char *name,
                      DMatrixHandle *out) {
  float *xs = NULL;
  float *ys = NULL;
  DMatrixHandle m = NULL;
  int rc = 0;

  if (d->cols != c->n_features) {
    x->host->log(x->ctx, TACK_LOG_ERROR,
                 "train: %s rows have %" PRIu32 " features, the config computes %" PRIu32 " (%s)",
                 name, d->cols, c->n_features, c->features);
    return TACK_EINVAL;
  }
  if (d->x == NULL || d->y == NULL) {
    x->host->log(x->ctx, TACK_LOG_ERROR, "train: %s set has %" PRIu64 " rows but no data", name,
                 d->rows);
    return TACK_EINVAL;
  }
  if (d->rows > SIZE_MAX / sizeof(float) / d->cols) {
    x->host->log(x->ctx, TACK_LOG_ERROR, "train: %s set of %" PRIu64 " rows is too large", name,
                 d->rows);
    return TACK_ENOMEM;
  }
  size_t rows = (size_t)d->rows;
  size_t cells = rows * d->cols;
  xs = malloc(cells * sizeof *xs);
  ys = malloc(rows * sizeof *ys);
  if (xs == NULL || ys == NULL) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  for (size_t i = 0; i < cells; i++) {
    double v = d->x[i];
    if (!isfinite(v) || fabs(v) > FLT_MAX) {
      x->host->log(x->ctx, TACK_LOG_ERROR, "train: %s row %zu feature %zu is %g, %s (features %s)",
                   name, i / d->cols, i % d->cols, v,
                   isfinite(v) ? "beyond float range" : "not finite", c->features);
      rc = TACK_EINVAL;
      goto fail;
    }
    xs[i] = (float)v;
  }
  for (size_t i = 0; i < rows; i++) {
    double v = d->y[i];
    int ok = c->objective == XGB_OBJ_BINARY ? (v == 0.0 || v == 1.0)
                                            : (isfinite(v) && fabs(v) <= FLT_MAX);
    if (!ok) {
      x->host->log(x->ctx, TACK_LOG_ERROR, "train: %s label %zu is %g; %s takes %s", name, i, v,
                   xgb_objective_names[c->objective],
                   c->objective == XGB_OBJ_BINARY ? "0 or 1" : "finite numbers");
      rc = TACK_EINVAL;
      goto fail;
    }
    ys[i] = (float)v;
  }
  /* Both calls copy: the buffers can go once they return. */
  if (XGDMatrixCreateFromMat(xs, (bst_ulong)rows, d->cols, NAN, &m) != 0) {
    rc = xgb_fail(x, TACK_EPLUGIN, "train: cannot build the %s matrix", name);
    goto fail;
  }
  if (XGDMatrixSetFloatInfo(m, "label", ys, (bst_ulong)rows) != 0) {
    rc = xgb_fail(x, TACK_EPLUGIN, "train: cannot set the %s labels", name);
    goto fail;
  }
  *out = m;
  m = NULL;

fail:
  if (m != NULL)
    XGDMatrixFree(m);
  free(xs);
  free(ys);
  return rc;
}

/* The mean of the training labels: reg:squarederror starts from it. */
static double xgb_label_mean(const tack_dataset *d) {
  double sum = 0.0;
  for (uint64_t i = 0; i < d->rows; i++)
    sum += d->y[i];
  return sum / (double)d->rows;
}

/* Every training parameter, set explicitly, so that XGBoost's defaults
 * (which change between versions) never decide what a model is. */
static int xgb_set_params(const xgb *x, const xgb_config *c, const tack_dataset *train,
                          BoosterHandle b) {
  char seed[24], nthread[24], depth[24], eta[32], subsample[32], colsample[32], mcw[32], base[32];
  snprintf(seed, sizeof seed, "%" PRId64, c->seed);
  snprintf(nthread, sizeof nthread, "%" PRId64, c->nthread);
  snprintf(depth, sizeof depth, "%" PRId64, c->max_depth);
  snprintf(eta, sizeof eta, "%.17g", c->eta);
  snprintf(subsample, sizeof subsample, "%.17g", c->subsample);
  snprintf(colsample, sizeof colsample, "%.17g", c->colsample_bytree);
  snprintf(mcw, sizeof mcw, "%.17g", c->min_child_weight);
  /* XGBoost 1.7 starts every model at 0.5. Right for a probability; for a
   * regression on returns (~0.001) it would spend its first trees just
   * walking down to the mean. */
  snprintf(base, sizeof base, "%.17g",
           c->objective == XGB_OBJ_BINARY ? 0.5 : xgb_label_mean(train));
  const char *params[][2] = {
      {"objective", xgb_objective_names[c->objective]},
      {"eval_metric", xgb_round_metric[c->objective]},
      {"base_score", base},
      {"tree_method", "hist"},
      {"seed", seed},
      {"nthread", nthread},
      {"max_depth", depth},
      {"eta", eta},
      {"subsample", subsample},
      {"colsample_bytree", colsample},
      {"min_child_weight", mcw},
  };
  for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
    if (XGBoosterSetParam(b, params[i][0], params[i][1]) != 0)
      return xgb_fail(x, TACK_EPLUGIN, "train: cannot set %s = %s", params[i][0], params[i][1]);
  return 0;
}

/* The validation metric in XGBoost's round report
 * "[3]\ttrain-logloss:0.51\tvalid-logloss:0.55", or NaN. */
static double xgb_valid_metric(const char *report) {
  const char *p = strstr(report, "\tvalid-");
  p = p != NULL ? strchr(p, ':') : NULL;
  if (p == NULL)
    return NAN;
  char *end;
  double v = strtod(p + 1, &end);
  return end == p + 1 ? NAN : v;
}

typedef struct xgb_scored {
  float p;
  float y;
} xgb_scored;

static int xgb_by_p(const void *a, const void *b) {
  float pa = ((const xgb_scored *)a)->p;
  float pb = ((const xgb_scored *)b)->p;
  return (pa > pb) - (pa < pb);
}

/* Area under the ROC curve from ranks (ties share their mean rank), or NaN
 * when one class is absent. Sorts s. */
static double xgb_auc(xgb_scored *s, size_t n) {
  double pos = 0.0, rank_sum = 0.0;
  qsort(s, n, sizeof *s, xgb_by_p);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    double pos_here = 0.0;
    while (j < n && s[j].p == s[i].p)
      pos_here += s[j++].y;
    /* ranks i+1 .. j, mean (i + 1 + j) / 2 */
    rank_sum += pos_here * ((double)(i + 1 + j) / 2.0);
    pos += pos_here;
    i = j;
  }
  double neg = (double)n - pos;
  if (pos == 0.0 || neg == 0.0)
    return NAN;
  return (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg);
}

/* Log the final model's metrics on the validation rows: log loss, AUC and
 * accuracy (at p = 0.5, beside the share of positives it has to beat) for
 * binary:logistic; RMSE (beside the labels' standard deviation, the RMSE of
 * always predicting their mean) for reg:squarederror. */
static int xgb_report(const xgb *x, const xgb_config *c, BoosterHandle b, DMatrixHandle valid) {
  static const char config[] = "{\"type\":0,\"training\":false,\"iteration_begin\":0,"
                               "\"iteration_end\":0,\"strict_shape\":false}";
  const float *labels;
  const float *pred;
  const bst_ulong *shape;
  bst_ulong n_labels, dim;
  xgb_scored *s;

  if (XGDMatrixGetFloatInfo(valid, "label", &n_labels, &labels) != 0)
    return xgb_fail(x, TACK_EPLUGIN, "train: cannot read the validation labels");
  if (XGBoosterPredictFromDMatrix(b, valid, config, &shape, &dim, &pred) != 0)
    return xgb_fail(x, TACK_EPLUGIN, "train: cannot predict the validation rows");
  size_t n = (size_t)n_labels;

  if (c->objective == XGB_OBJ_REGRESSION) {
    double se = 0.0, sum = 0.0, sq = 0.0;
    for (size_t i = 0; i < n; i++) {
      double e = (double)pred[i] - labels[i];
      se += e * e;
      sum += labels[i];
    }
    double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
      sq += (labels[i] - mean) * (labels[i] - mean);
    x->host->log(x->ctx, TACK_LOG_INFO,
                 "validation (%zu rows): rmse=%.6g (label sd %.6g: the rmse of predicting the "
                 "mean)",
                 n, sqrt(se / (double)n), sqrt(sq / (double)n));
    return 0;
  }

  s = malloc(n * sizeof *s);
  if (s == NULL)
    return TACK_ENOMEM;
  double loss = 0.0, hits = 0.0, pos = 0.0;
  for (size_t i = 0; i < n; i++) {
    double p = fmin(fmax(pred[i], XGB_LOGLOSS_EPS), 1.0 - XGB_LOGLOSS_EPS);
    double y = labels[i];
    loss -= y * log(p) + (1.0 - y) * log(1.0 - p);
    hits += (pred[i] >= 0.5f) == (y == 1.0);
    pos += y;
    s[i].p = pred[i];
    s[i].y = labels[i];
  }
  double auc = xgb_auc(s, n);
  char auc_text[32];
  if (isnan(auc))
    snprintf(auc_text, sizeof auc_text, "n/a (one class only)");
  else
    snprintf(auc_text, sizeof auc_text, "%.4f", auc);
  x->host->log(x->ctx, TACK_LOG_INFO,
               "validation (%zu rows): logloss=%.4f auc=%s accuracy=%.4f (positives %.4f)", n,
               loss / (double)n, auc_text, hits / (double)n, pos / (double)n);
  free(s);
  return 0;
}

/* Hand a model to the loop thread (score adopts it); a model handed over
 * earlier and never adopted is superseded. */
static void xgb_publish(xgb *x, BoosterHandle b) {
  BoosterHandle old = atomic_exchange_explicit(&x->trained, b, memory_order_acq_rel);
  if (old != NULL)
    XGBoosterFree(old);
}

/* Stamp b with what it was trained for: configure refuses it otherwise. */
static int xgb_stamp(const xgb *x, const xgb_config *c, BoosterHandle b) {
  char n[16];
  snprintf(n, sizeof n, "%" PRIu32, c->n_features);
  if (XGBoosterSetAttr(b, XGB_ATTR_FEATURES, c->features) != 0 ||
      XGBoosterSetAttr(b, XGB_ATTR_N_FEATURES, n) != 0 ||
      XGBoosterSetAttr(b, XGB_ATTR_OBJECTIVE, xgb_objective_names[c->objective]) != 0)
    return xgb_fail(x, TACK_EPLUGIN, "train: cannot set the model's attributes");
  return 0;
}

static double xgb_ms_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * train: a new model from scratch (never a continuation of the loaded one),
 * `rounds` boosting rounds, each evaluated on the validation rows when
 * there are any. With early_stopping_rounds set, training stops once the
 * validation metric has not improved for that many rounds and the model is
 * cut back to its best round. The saved model is then loaded back from the
 * file and handed to the loop thread, so that score() uses exactly what a
 * new instance would read.
 */
int xgb_train(void *self, const tack_dataset *train, const tack_dataset *valid) {
  xgb *x = self;
  const xgb_config c = x->cfg;
  DMatrixHandle dm[2] = {NULL, NULL};
  const char *names[2] = {"train", "valid"};
  BoosterHandle b = NULL;
  BoosterHandle saved = NULL;
  struct timespec t0;
  int rc = 0;

  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (!x->configured) {
    x->host->log(x->ctx, TACK_LOG_ERROR, "train: the instance was never configured");
    return TACK_ESTATE;
  }
  if (train == NULL || train->rows == 0) {
    x->host->log(x->ctx, TACK_LOG_ERROR, "train: no training rows");
    return TACK_EINVAL;
  }
  int has_valid = valid != NULL && valid->rows > 0;
  if (!has_valid && c.early_stopping_rounds > 0) {
    x->host->log(x->ctx, TACK_LOG_ERROR,
                 "train: early_stopping_rounds = %" PRId64
                 " needs validation rows to watch, and there are none",
                 c.early_stopping_rounds);
    return TACK_EINVAL;
  }

  if ((rc = xgb_model_writable(x, c.model_path)) < 0)
    return rc;

  if ((rc = xgb_matrix(x, &c, train, "training", &dm[0])) < 0)
    goto fail;
  if (has_valid && (rc = xgb_matrix(x, &c, valid, "validation", &dm[1])) < 0)
    goto fail;
  if (XGBoosterCreate(dm, has_valid ? 2 : 1, &b) != 0) {
    rc = xgb_fail(x, TACK_EPLUGIN, "train: cannot create a booster");
    goto fail;
  }
  if ((rc = xgb_set_params(x, &c, train, b)) < 0)
    goto fail;

  const char *metric = xgb_round_metric[c.objective];
  double best = INFINITY;
  int best_round = -1, rounds = 0, stopped = 0;
  while (rounds < (int)c.rounds && !stopped) {
    if (XGBoosterUpdateOneIter(b, rounds, dm[0]) != 0) {
      rc = xgb_fail(x, TACK_EPLUGIN, "train: round %d failed", rounds);
      goto fail;
    }
    if (has_valid) {
      const char *report;
      if (XGBoosterEvalOneIter(b, rounds, dm, names, 2, &report) != 0) {
        rc = xgb_fail(x, TACK_EPLUGIN, "train: evaluating round %d failed", rounds);
        goto fail;
      }
      double v = xgb_valid_metric(report);
      x->host->log(x->ctx, TACK_LOG_DEBUG, "round %d: %s", rounds, report);
      if (isnan(v)) {
        x->host->log(x->ctx, TACK_LOG_ERROR, "train: no valid-%s in XGBoost's report '%s'", metric,
                     report);
        rc = TACK_EPLUGIN;
        goto fail;
      }
      if (v < best) {
        best = v;
        best_round = rounds;
      } else if (c.early_stopping_rounds > 0 && rounds - best_round >= c.early_stopping_rounds) {
        stopped = 1;
      }
    }
    rounds++;
  }
  if (stopped) {
    x->host->log(x->ctx, TACK_LOG_INFO,
                 "early stop after %d rounds: valid-%s was best at round %d (%.6g), no better "
                 "in the %" PRId64 " rounds since; keeping %d rounds",
                 rounds, metric, best_round, best, c.early_stopping_rounds, best_round + 1);
    BoosterHandle cut;
    if (XGBoosterSlice(b, 0, best_round + 1, 1, &cut) != 0) {
      rc = xgb_fail(x, TACK_EPLUGIN, "train: cannot cut the model back to %d rounds",
                    best_round + 1);
      goto fail;
    }
    XGBoosterFree(b);
    b = cut;
    rounds = best_round + 1;
  }

  if ((rc = xgb_stamp(x, &c, b)) < 0)
    goto fail;
  if (has_valid && (rc = xgb_report(x, &c, b, dm[1])) < 0)
    goto fail;
  if ((rc = xgb_model_save(x, b, c.model_path)) < 0)
    goto fail;

  if (XGBoosterCreate(NULL, 0, &saved) != 0 || XGBoosterLoadModel(saved, c.model_path) != 0 ||
      XGBoosterSetParam(saved, "nthread", "1") != 0) {
    rc = xgb_fail(x, TACK_EIO, "train: saved %s but cannot load it back", c.model_path);
    goto fail;
  }
  xgb_publish(x, saved);
  saved = NULL;
  x->host->log(x->ctx, TACK_LOG_INFO,
               "saved model %s: %d rounds on %" PRIu64 " rows x %" PRIu32
               " features (%s), trained in %.1f ms",
               c.model_path, rounds, train->rows, c.n_features, c.features, xgb_ms_since(&t0));

fail:
  if (saved != NULL)
    XGBoosterFree(saved);
  if (b != NULL)
    XGBoosterFree(b);
  for (int i = 0; i < 2; i++)
    if (dm[i] != NULL)
      XGDMatrixFree(dm[i]);
  return rc;
}
