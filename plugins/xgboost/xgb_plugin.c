/*
 * xgb_plugin.c: the "xgboost" ML scorer: its parameters, its lifecycle and
 * score(), which predicts one feature vector with an XGBoost model and maps
 * the prediction to a signal. docs/scorers.md is the user's guide.
 *
 * Model files are loaded and checked in xgb_model.c, trained in
 * xgb_train.c; xgb.h says which thread may touch what.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "xgb.h"

const char *const xgb_objective_names[2] = {"binary:logistic", "reg:squarederror"};

/*
 * What XGBoosterPredictFromDense is told for every row: plain predictions
 * (type 0: probabilities for binary:logistic), every tree, no prediction
 * cache ("cache_id": 0, without which XGBoost 1.7 refuses the call), NaN as
 * the missing value (score() refuses non-finite features, so none is ever
 * missing).
 */
static const char xgb_predict_config[] =
    "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
    "\"strict_shape\":false,\"cache_id\":0,\"missing\":NaN}";

static const tack_param_spec xgb_params[] = {
    {.name = "model",
     .type = TACK_PARAM_STRING,
     .flags = TACK_PARAM_REQUIRED | TACK_PARAM_PATH,
     .help = "model file, .json or .ubj; train() writes it, configure loads it when it exists"},
    {.name = "features",
     .type = TACK_PARAM_STRING,
     .flags = TACK_PARAM_REQUIRED,
     .help = "the feature spec the host computes; must equal the one the model was trained on"},
    {.name = "n_features",
     .type = TACK_PARAM_INT,
     .flags = TACK_PARAM_REQUIRED,
     .min = 1,
     .max = XGB_MAX_FEATURES,
     .help = "number of features the spec yields"},
    {.name = "objective",
     .type = TACK_PARAM_STRING,
     .def_str = "binary:logistic",
     .choices = XGB_OBJECTIVES,
     .help = "binary:logistic (label 0/1, strength 2p-1) or reg:squarederror (strength y/scale)"},
    {.name = "threshold",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.0,
     .max = 1.0,
     .def = 0.0,
     .help = "a strength whose magnitude is below this becomes 0"},
    {.name = "scale",
     .type = TACK_PARAM_DOUBLE,
     .min = 1e-12,
     .max = 1e12,
     .def = 1.0,
     .help = "reg:squarederror: the prediction that maps to strength +1 (clamped beyond)"},
    {.name = "rounds",
     .type = TACK_PARAM_INT,
     .min = 1,
     .max = 100000,
     .def = 100,
     .help = "train: boosting rounds (trees)"},
    {.name = "max_depth",
     .type = TACK_PARAM_INT,
     .min = 1,
     .max = 20,
     .def = 6,
     .help = "train: maximum depth of a tree"},
    {.name = "eta",
     .type = TACK_PARAM_DOUBLE,
     .min = 1e-6,
     .max = 1.0,
     .def = 0.3,
     .help = "train: learning rate, the weight of each new tree"},
    {.name = "subsample",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.01,
     .max = 1.0,
     .def = 1.0,
     .help = "train: fraction of rows each tree sees, drawn with seed"},
    {.name = "colsample_bytree",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.01,
     .max = 1.0,
     .def = 1.0,
     .help = "train: fraction of features each tree sees, drawn with seed"},
    {.name = "min_child_weight",
     .type = TACK_PARAM_DOUBLE,
     .min = 0.0,
     .max = 1e9,
     .def = 1.0,
     .help = "train: minimum hessian sum in a leaf; larger is more conservative"},
    {.name = "seed",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 2147483647,
     .def = 0,
     .help = "train: random seed of subsample and colsample_bytree"},
    {.name = "nthread",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 256,
     .def = 1,
     .help = "train: threads (0: all cores); the model is the same for any count"},
    {.name = "early_stopping_rounds",
     .type = TACK_PARAM_INT,
     .min = 0,
     .max = 100000,
     .def = 0,
     .help = "train: stop when the validation metric has not improved for this many rounds (0: "
             "off)"},
    {.name = NULL},
};

static int xgb_create(tack_ctx *ctx, const tack_host *host, void **self) {
  xgb *x = host->alloc(ctx, sizeof *x);
  if (x == NULL)
    return TACK_ENOMEM;
  memset(x, 0, sizeof *x);
  x->ctx = ctx;
  x->host = host;
  atomic_init(&x->trained, NULL);
  *self = x;
  return 0;
}

/* Read every parameter into c. The host has checked types, ranges and
 * choices against the spec; what it cannot check is checked here. */
static int xgb_read_config(xgb *x, xgb_config *c) {
  const tack_host *h = x->host;
  const char *objective;
  int64_t n;
  int rc;

  memset(c, 0, sizeof *c);
  if ((rc = h->param_string(x->ctx, "model", &c->model_path)) < 0 ||
      (rc = h->param_string(x->ctx, "features", &c->features)) < 0 ||
      (rc = h->param_int(x->ctx, "n_features", &n)) < 0 ||
      (rc = h->param_string(x->ctx, "objective", &objective)) < 0 ||
      (rc = h->param_double(x->ctx, "threshold", &c->threshold)) < 0 ||
      (rc = h->param_double(x->ctx, "scale", &c->scale)) < 0 ||
      (rc = h->param_int(x->ctx, "rounds", &c->rounds)) < 0 ||
      (rc = h->param_int(x->ctx, "max_depth", &c->max_depth)) < 0 ||
      (rc = h->param_double(x->ctx, "eta", &c->eta)) < 0 ||
      (rc = h->param_double(x->ctx, "subsample", &c->subsample)) < 0 ||
      (rc = h->param_double(x->ctx, "colsample_bytree", &c->colsample_bytree)) < 0 ||
      (rc = h->param_double(x->ctx, "min_child_weight", &c->min_child_weight)) < 0 ||
      (rc = h->param_int(x->ctx, "seed", &c->seed)) < 0 ||
      (rc = h->param_int(x->ctx, "nthread", &c->nthread)) < 0 ||
      (rc = h->param_int(x->ctx, "early_stopping_rounds", &c->early_stopping_rounds)) < 0)
    return rc;

  if (n < 1 || n > XGB_MAX_FEATURES)
    return h->param_error(x->ctx, "n_features", "%" PRId64 " is outside [1, %d]", n,
                          XGB_MAX_FEATURES);
  c->n_features = (uint32_t)n;
  if (strcmp(objective, xgb_objective_names[XGB_OBJ_BINARY]) == 0)
    c->objective = XGB_OBJ_BINARY;
  else if (strcmp(objective, xgb_objective_names[XGB_OBJ_REGRESSION]) == 0)
    c->objective = XGB_OBJ_REGRESSION;
  else
    return h->param_error(x->ctx, "objective", "'%s' is not one of %s", objective, XGB_OBJECTIVES);
  if (c->features[0] == '\0')
    return h->param_error(x->ctx, "features",
                          "is empty: name the features the host computes for the model");
  if (xgb_model_format(c->model_path) == NULL)
    return h->param_error(x->ctx, "model",
                          "'%s' must end in .json or .ubj: the extension picks the format "
                          "train() writes and configure reads",
                          c->model_path);
  return 0;
}

/* Free a model train() published and the loop thread never adopted. */
static void xgb_drop_trained(xgb *x) {
  BoosterHandle t = atomic_exchange_explicit(&x->trained, NULL, memory_order_acq_rel);
  if (t != NULL)
    XGBoosterFree(t);
}

/*
 * Read the parameters and load the model. Everything new is built aside and
 * swapped in only once all of it succeeded, so a configure that fails (an
 * operator's bad edit of a running config) leaves the previous model in
 * place. A model file that does not exist yet is not an error here: train()
 * writes it, and score() refuses to run until then (TACK_ESTATE).
 */
static int xgb_configure(void *self) {
  xgb *x = self;
  const tack_host *h = x->host;
  xgb_config c;
  BoosterHandle b = NULL;
  float *row = NULL;
  char iface[sizeof x->iface];

  int rc = xgb_read_config(x, &c);
  if (rc < 0)
    goto fail;
  row = h->alloc(x->ctx, c.n_features * sizeof *row);
  if (row == NULL) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  memset(row, 0, c.n_features * sizeof *row);
  /* The address is fixed for the row's life, so the JSON is written once. */
  int len = snprintf(iface, sizeof iface,
                     "{\"data\":[%" PRIuPTR ",true],\"shape\":[1,%" PRIu32
                     "],\"typestr\":\"<f4\",\"version\":3}",
                     (uintptr_t)row, c.n_features);
  if (len < 0 || (size_t)len >= sizeof iface) {
    rc = TACK_ENOSPC;
    goto fail;
  }
  if (x->proxy == NULL && XGProxyDMatrixCreate(&x->proxy) != 0) {
    rc = xgb_fail(x, TACK_EPLUGIN, "cannot create the prediction matrix");
    goto fail;
  }
  rc = xgb_model_load(x, &c, &b);
  if (rc == TACK_ENOENT) {
    h->log(x->ctx, TACK_LOG_INFO,
           "model %s does not exist yet: score() fails (TACK_ESTATE) until train() writes it",
           c.model_path);
    rc = 0;
  }
  if (rc < 0)
    goto fail;

  xgb_drop_trained(x);
  if (x->booster != NULL)
    XGBoosterFree(x->booster);
  x->booster = b;
  h->free(x->ctx, x->row);
  x->row = row;
  memcpy(x->iface, iface, sizeof iface);
  x->cfg = c;
  x->missing_logged = 0;
  x->configured = 1;
  return 0;

fail:
  h->free(x->ctx, row);
  return rc;
}

static void xgb_destroy(void *self) {
  xgb *x = self;
  tack_ctx *ctx = x->ctx;
  const tack_host *h = x->host;
  xgb_drop_trained(x);
  if (x->booster != NULL)
    XGBoosterFree(x->booster);
  if (x->proxy != NULL)
    XGDMatrixFree(x->proxy);
  h->free(ctx, x->row);
  h->free(ctx, x);
}

/* Adopt a model train() published since the last call. */
static void xgb_adopt(xgb *x) {
  if (atomic_load_explicit(&x->trained, memory_order_acquire) == NULL)
    return;
  BoosterHandle t = atomic_exchange_explicit(&x->trained, NULL, memory_order_acq_rel);
  if (t == NULL)
    return;
  if (x->booster != NULL)
    XGBoosterFree(x->booster);
  x->booster = t;
  x->missing_logged = 0;
  x->host->log(x->ctx, TACK_LOG_INFO, "scoring with the model train() just saved to %s",
               x->cfg.model_path);
}

/*
 * score: one row through the model. The features are copied into the
 * instance's float row (XGBoost predicts in float, and train() converts its
 * rows the same way), checked on the way; the prediction becomes a strength:
 *   binary:logistic    p in [0, 1]  ->  2p - 1
 *   reg:squarederror   y            ->  y / scale, clamped to [-1, +1]
 * then 0 when its magnitude is below threshold. confidence is the magnitude
 * of the strength, so a zeroed score carries no confidence either.
 */
static int xgb_score(void *self, const double *features, uint32_t n, tack_signal *out) {
  xgb *x = self;
  const xgb_config *c = &x->cfg;
  const bst_ulong *shape;
  bst_ulong dim;
  const float *result;

  xgb_adopt(x);
  if (x->booster == NULL) {
    if (!x->missing_logged) {
      x->host->log(x->ctx, TACK_LOG_WARN,
                   "no model: %s does not exist; train one (tack train) before scoring",
                   c->model_path);
      x->missing_logged = 1;
    }
    return TACK_ESTATE;
  }
  if (n != c->n_features || features == NULL) {
    x->host->log(x->ctx, TACK_LOG_ERROR,
                 "score: got %" PRIu32 " features, the model takes %" PRIu32 " (%s)", n,
                 c->n_features, c->features);
    return TACK_EINVAL;
  }
  for (uint32_t i = 0; i < n; i++) {
    double v = features[i];
    if (!isfinite(v) || fabs(v) > FLT_MAX) {
      x->host->log(x->ctx, TACK_LOG_ERROR,
                   "score: feature %" PRIu32 " of %" PRIu32 " is %g, %s (features %s)", i, n, v,
                   isfinite(v) ? "beyond float range" : "not finite", c->features);
      return TACK_EINVAL;
    }
    x->row[i] = (float)v;
  }
  if (XGBoosterPredictFromDense(x->booster, x->iface, xgb_predict_config, x->proxy, &shape, &dim,
                                &result) != 0)
    return xgb_fail(x, TACK_EPLUGIN, "score: prediction failed");
  double y = result[0];
  if (!isfinite(y)) {
    x->host->log(x->ctx, TACK_LOG_ERROR, "score: the model predicted %g", y);
    return TACK_EPLUGIN;
  }

  double s;
  if (c->objective == XGB_OBJ_BINARY) {
    s = 2.0 * y - 1.0;
    snprintf(out->reason, sizeof out->reason, "xgb p=%.3f", y);
  } else {
    s = y / c->scale;
    snprintf(out->reason, sizeof out->reason, "xgb y=%.4g", y);
  }
  s = s > 1.0 ? 1.0 : s < -1.0 ? -1.0 : s;
  if (fabs(s) < c->threshold)
    s = 0.0;
  out->ts = x->host->now(x->ctx);
  out->strength = s;
  out->confidence = fabs(s);
  return 0;
}

static const tack_scorer_vtable xgb_vtable = {
    .size = sizeof(tack_scorer_vtable),
    .life =
        {
            .create = xgb_create,
            .configure = xgb_configure,
            .destroy = xgb_destroy,
        },
    .score = xgb_score,
    .train = xgb_train,
};

static const tack_plugin_desc xgb_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_SCORER,
    .id = "xgboost",
    .name = "XGBoost scorer",
    .version = XGB_VERSION,
    .description = "Scores a feature vector with an XGBoost model (binary:logistic or "
                   "reg:squarederror) and trains that model with train().",
    .params = xgb_params,
    .vtable = &xgb_vtable,
};

TACK_PLUGINS(&xgb_desc);
