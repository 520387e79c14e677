/*
 * xgb_model.c: the model file of the "xgboost" scorer. Loading checks that
 * a model was trained for the config that loads it, through the tack_*
 * booster attributes train() writes; saving replaces the file atomically.
 * Also the translation of XGBoost's errors into log lines and TACK_E* codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xgb.h"

void xgb_errno_text(int err, char *buf, size_t cap) {
  if (strerror_r(err, buf, cap) != 0)
    snprintf(buf, cap, "error %d", err);
}

/*
 * XGBoost's messages read "[08:10:50] ./src/common/json.cc:407: Expecting
 * ...", then a stack trace. Keep the sentence: drop the clock time, the
 * source location and the trace, and the " : " some checks end with.
 */
void xgb_last_error(char *buf, size_t cap) {
  const char *e = XGBGetLastError();
  if (e == NULL || e[0] == '\0')
    e = "XGBoost gave no reason";
  if (e[0] == '[') {
    const char *close = strstr(e, "] ");
    if (close != NULL)
      e = close + 2;
  }
  size_t n = strcspn(e, "\n");
  size_t loc = strcspn(e, " \n");
  if (loc >= 2 && loc < n && e[loc - 1] == ':') {
    size_t d = loc - 1;
    while (d > 0 && e[d - 1] >= '0' && e[d - 1] <= '9')
      d--;
    if (d < loc - 1 && d > 0 && e[d - 1] == ':') {
      e += loc + 1;
      n -= loc + 1;
    }
  }
  while (n > 0 && (e[n - 1] == ' ' || e[n - 1] == ':'))
    n--;
  snprintf(buf, cap, "%.*s", (int)n, e);
}

int xgb_fail(const xgb *x, int fallback, const char *fmt, ...) {
  char what[256];
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  xgb_last_error(why, sizeof why);
  x->host->log(x->ctx, TACK_LOG_ERROR, "%s: %s", what, why);
  return strstr(why, "bad_alloc") != NULL ? TACK_ENOMEM : fallback;
}

const char *xgb_model_format(const char *path) {
  size_t len = strlen(path);
  if (len > 5 && strcmp(path + len - 5, ".json") == 0)
    return "json";
  if (len > 4 && strcmp(path + len - 4, ".ubj") == 0)
    return "ubj";
  return NULL;
}

/* Copy attribute key of b into buf; *found is 0 when the model has none.
 * XGBoost's answer lives only until its next call, hence the copy. */
static int xgb_attr(const xgb *x, BoosterHandle b, const char *key, char *buf, size_t cap,
                    int *found) {
  const char *value;
  if (XGBoosterGetAttr(b, key, &value, found) != 0)
    return xgb_fail(x, TACK_EPLUGIN, "cannot read attribute %s of the model", key);
  if (*found)
    snprintf(buf, cap, "%s", value);
  return 0;
}

int xgb_model_load(xgb *x, const xgb_config *c, BoosterHandle *out) {
  const tack_host *h = x->host;
  const char *path = c->model_path;
  BoosterHandle b = NULL;
  struct stat st;
  char why[512];
  char n_text[32];
  char objective[64];
  int found_n, found_obj, found_features;
  const char *features;
  int rc;

  *out = NULL;
  if (stat(path, &st) != 0) {
    if (errno == ENOENT)
      return TACK_ENOENT;
    xgb_errno_text(errno, why, sizeof why);
    return h->param_error(x->ctx, "model", "cannot read model %s: %s", path, why);
  }
  if (!S_ISREG(st.st_mode))
    return h->param_error(x->ctx, "model", "model %s is not a regular file", path);

  if (XGBoosterCreate(NULL, 0, &b) != 0) {
    rc = xgb_fail(x, TACK_EPLUGIN, "cannot create a booster for %s", path);
    goto fail;
  }
  if (XGBoosterLoadModel(b, path) != 0) {
    xgb_last_error(why, sizeof why);
    rc = h->param_error(x->ctx, "model",
                        "cannot load model %s: %s. Is it a model tack train wrote? Retrain "
                        "with tack train",
                        path, why);
    goto fail;
  }

  if ((rc = xgb_attr(x, b, XGB_ATTR_N_FEATURES, n_text, sizeof n_text, &found_n)) < 0 ||
      (rc = xgb_attr(x, b, XGB_ATTR_OBJECTIVE, objective, sizeof objective, &found_obj)) < 0)
    goto fail;
  /* Last, so that its answer is still valid below. */
  if (XGBoosterGetAttr(b, XGB_ATTR_FEATURES, &features, &found_features) != 0) {
    rc = xgb_fail(x, TACK_EPLUGIN, "cannot read attribute %s of %s", XGB_ATTR_FEATURES, path);
    goto fail;
  }
  if (!found_features || !found_n || !found_obj) {
    rc = h->param_error(x->ctx, "model",
                        "model %s has no %s attribute: it was not written by tack train, so "
                        "the features it expects are unknown; retrain with tack train",
                        path,
                        !found_features ? XGB_ATTR_FEATURES
                        : !found_n      ? XGB_ATTR_N_FEATURES
                                        : XGB_ATTR_OBJECTIVE);
    goto fail;
  }

  char *end;
  errno = 0;
  long long n = strtoll(n_text, &end, 10);
  if (errno != 0 || end == n_text || *end != '\0' || n < 1 || n > XGB_MAX_FEATURES) {
    rc = h->param_error(x->ctx, "model",
                        "model %s has a malformed %s attribute '%s'; retrain with tack train", path,
                        XGB_ATTR_N_FEATURES, n_text);
    goto fail;
  }
  /* Most fundamental first: the columns, then what the output means. */
  if (strcmp(features, c->features) != 0 || n != (long long)c->n_features) {
    rc = h->param_error(x->ctx, "features",
                        "model %s was trained on features '%s' (%lld), this config computes "
                        "'%s' (%" PRIu32 "); retrain with tack train",
                        path, features, n, c->features, c->n_features);
    goto fail;
  }
  if (strcmp(objective, xgb_objective_names[c->objective]) != 0) {
    rc = h->param_error(x->ctx, "objective",
                        "model %s was trained with objective '%s', this config says '%s'; set "
                        "objective = \"%s\" or retrain with tack train",
                        path, objective, xgb_objective_names[c->objective], objective);
    goto fail;
  }
  /* The attributes are text anyone can edit; the trees are not. */
  bst_ulong columns;
  if (XGBoosterGetNumFeature(b, &columns) != 0) {
    rc = xgb_fail(x, TACK_EPLUGIN, "cannot read the feature count of %s", path);
    goto fail;
  }
  if (columns != c->n_features) {
    rc = h->param_error(x->ctx, "model",
                        "model %s has trees over %" PRIu64 " features but says it was trained "
                        "on %" PRIu32 " ('%s'): the file was altered; retrain with tack train",
                        path, (uint64_t)columns, c->n_features, c->features);
    goto fail;
  }
  /* score() predicts one row at a time on the loop thread: a thread team
   * would cost more than the row. */
  if (XGBoosterSetParam(b, "nthread", "1") != 0) {
    rc = xgb_fail(x, TACK_EPLUGIN, "cannot set nthread on %s", path);
    goto fail;
  }
  *out = b;
  return 0;

fail:
  if (b != NULL)
    XGBoosterFree(b);
  return rc;
}

/* Write all of buf to fd. */
static int xgb_write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The folder of path into buf ("." for a bare name); 0, or -1 when it does
 * not fit. */
static int xgb_folder_of(const char *path, char *buf, size_t cap) {
  const char *slash = strrchr(path, '/');
  int n;
  if (slash == NULL)
    n = snprintf(buf, cap, ".");
  else if (slash == path)
    n = snprintf(buf, cap, "/");
  else
    n = snprintf(buf, cap, "%.*s", (int)(slash - path), path);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int xgb_model_writable(const xgb *x, const char *path) {
  char folder[4096];
  char why[256];
  if (xgb_folder_of(path, folder, sizeof folder) != 0)
    return 0;
  if (access(folder, W_OK | X_OK) == 0)
    return 0;
  xgb_errno_text(errno, why, sizeof why);
  x->host->log(x->ctx, TACK_LOG_ERROR, "cannot save model %s: folder %s: %s", path, folder, why);
  return TACK_EIO;
}

/* Make a rename in the folder of path durable. */
static int xgb_sync_folder(const char *path) {
  char folder[4096];
  if (xgb_folder_of(path, folder, sizeof folder) != 0)
    return 0;
  int fd = open(folder, O_RDONLY);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int xgb_model_save(const xgb *x, BoosterHandle b, const char *path) {
  char config[32];
  char why[256];
  const char *data;
  bst_ulong len;
  char *tmp = NULL;
  int fd = -1;
  int created = 0; /* tmp exists on disk: from mkstemp until the rename */
  int rc = 0;

  snprintf(config, sizeof config, "{\"format\":\"%s\"}", xgb_model_format(path));
  if (XGBoosterSaveModelToBuffer(b, config, &len, &data) != 0)
    return xgb_fail(x, TACK_EPLUGIN, "cannot serialise the model for %s", path);

  /* mkstemp in the model's own folder: rename is atomic only within one
   * file system. Not host->alloc: this runs on train's worker thread. */
  size_t tmp_cap = strlen(path) + sizeof ".tmp-XXXXXX";
  tmp = malloc(tmp_cap);
  if (tmp == NULL) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  snprintf(tmp, tmp_cap, "%s.tmp-XXXXXX", path);
  fd = mkstemp(tmp);
  if (fd < 0) {
    xgb_errno_text(errno, why, sizeof why);
    x->host->log(x->ctx, TACK_LOG_ERROR,
                 "cannot save model %s: cannot create a temporary file beside it: %s", path, why);
    rc = TACK_EIO;
    goto fail;
  }
  created = 1;
  /* mkstemp makes the file private; a model is not a secret. */
  if (fchmod(fd, 0644) != 0 || xgb_write_all(fd, data, (size_t)len) != 0 || fsync(fd) != 0) {
    xgb_errno_text(errno, why, sizeof why);
    x->host->log(x->ctx, TACK_LOG_ERROR, "cannot save model %s: writing %s: %s", path, tmp, why);
    rc = TACK_EIO;
    goto fail;
  }
  int closed = close(fd);
  fd = -1;
  if (closed != 0 || rename(tmp, path) != 0) {
    xgb_errno_text(errno, why, sizeof why);
    x->host->log(x->ctx, TACK_LOG_ERROR, "cannot save model %s: %s %s: %s", path,
                 closed != 0 ? "closing" : "renaming", tmp, why);
    rc = TACK_EIO;
    goto fail;
  }
  created = 0;
  if (xgb_sync_folder(path) != 0) {
    xgb_errno_text(errno, why, sizeof why);
    x->host->log(x->ctx, TACK_LOG_WARN, "saved model %s, but could not sync its folder: %s", path,
                 why);
  }
  free(tmp);
  return 0;

fail:
  if (fd >= 0)
    close(fd);
  if (created)
    unlink(tmp);
  free(tmp);
  return rc;
}
