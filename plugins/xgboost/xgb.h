/*
 * xgb.h: the instance of the "xgboost" scorer, shared by the files of
 * xgboost.so: xgb_plugin.c (parameters, lifecycle, score), xgb_model.c
 * (loading, checking and saving model files, XGBoost errors) and
 * xgb_train.c (train and its metrics). Internal to the plugin: the build
 * hides every symbol but tack_plugin_entry.
 *
 * Threads: everything runs on the host's loop thread except train(), which
 * runs on a worker thread and may call no host service but log. The two
 * meet in one place, `trained`: train() publishes the model it saved there
 * and the loop thread adopts it (score, configure, destroy). Every other
 * field is written only on the loop thread, in configure, and the host
 * never reconfigures an instance while its train() runs.
 */
#ifndef TACK_XGB_H
#define TACK_XGB_H

#include <stdatomic.h>
#include <stdint.h>

#include <xgboost/c_api.h>

#include "tack.h"

#define XGB_VERSION "1.0.0"

/* Bounds of n_features: the model's columns, the row buffer of score(). */
#define XGB_MAX_FEATURES 4096

/* Values of the objective parameter. */
#define XGB_OBJECTIVES "binary:logistic|reg:squarederror"
#define XGB_OBJ_BINARY 0
#define XGB_OBJ_REGRESSION 1

/* Booster attributes that tie a model file to the config that trained it. */
#define XGB_ATTR_FEATURES "tack_features"
#define XGB_ATTR_N_FEATURES "tack_n_features"
#define XGB_ATTR_OBJECTIVE "tack_objective"

/* The parameters, read in configure. train() works from a copy: its
 * strings are the host's, valid until the instance is destroyed. */
typedef struct xgb_config {
  const char *model_path; /* resolved by the host (TACK_PARAM_PATH) */
  const char *features;   /* the host's canonical feature spec, opaque here */
  uint32_t n_features;
  int objective; /* XGB_OBJ_* */
  double threshold;
  double scale; /* reg:squarederror: the prediction that maps to strength 1 */
  int64_t rounds;
  int64_t max_depth;
  int64_t seed;
  int64_t nthread;
  int64_t early_stopping_rounds;
  double eta;
  double subsample;
  double colsample_bytree;
  double min_child_weight;
} xgb_config;

typedef struct xgb {
  tack_ctx *ctx;
  const tack_host *host;
  int configured;
  xgb_config cfg;
  /* The model score() uses; NULL until one exists. Loop thread only. */
  BoosterHandle booster;
  /* A model train() saved and loaded back, waiting for the loop thread. */
  _Atomic(BoosterHandle) trained;
  /* Reused by every prediction, so that XGBoost does not make one per call. */
  DMatrixHandle proxy;
  /* The row score() predicts: n_features floats, converted from the host's
   * doubles as train() converts its rows. iface is the array-interface JSON
   * that points XGBoost at it, written once in configure. */
  float *row;
  char iface[128];
  int missing_logged; /* the "no model yet" warning is given once */
} xgb;

/* Objective names, indexed by XGB_OBJ_*. */
extern const char *const xgb_objective_names[2];

/*
 * Log what XGBoost says went wrong, prefixed by the caller's words (a
 * printf format): only the first line of XGBGetLastError(), without its
 * clock time (the rest is a C++ stack trace). Returns TACK_ENOMEM when
 * XGBoost ran out of memory, else fallback. Any thread (log is allowed on
 * the worker).
 */
int xgb_fail(const xgb *x, int fallback, const char *fmt, ...) TACK_PRINTF(3, 4);

/* The first line of XGBoost's last error, timestamp stripped, into buf. */
void xgb_last_error(char *buf, size_t cap);

/* "json" or "ubj" after the extension of path, or NULL for any other. */
const char *xgb_model_format(const char *path);

/*
 * Load the model file cfg->model_path into a new booster and check that it
 * was trained for cfg: its features, feature count and objective. A
 * mismatch or an unreadable file is reported with host->param_error
 * (TACK_ECONFIG); TACK_ENOENT, with nothing reported, when the file does
 * not exist. Loop thread (configure).
 */
int xgb_model_load(xgb *x, const xgb_config *cfg, BoosterHandle *out);

/*
 * Write booster b to path, atomically: into a temporary file beside it,
 * synced, then renamed over path, so that a reader (or a crash) sees the
 * old file or the new one, never half of one. The format follows the
 * extension (.json or .ubj). Logs and returns TACK_EIO on failure. Any
 * thread.
 */
int xgb_model_save(const xgb *x, BoosterHandle b, const char *path);

/* 0 when the folder of path takes new files; else logs why and returns
 * TACK_EIO. train() asks before it spends its time. Any thread. */
int xgb_model_writable(const xgb *x, const char *path);

/* strerror(err) into buf, safe on any thread. */
void xgb_errno_text(int err, char *buf, size_t cap);

/* The scorer's train(): see xgb_train.c. */
int xgb_train(void *self, const tack_dataset *train, const tack_dataset *valid);

#endif
