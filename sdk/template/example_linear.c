/*
 * example_linear.c: the template ML scorer "example.linear", a linear model
 * squashed into [-1, +1]:
 *
 *     score = tanh(w . x + b)
 *
 * The host computes the feature vector x from indicator plugins, as the
 * config's feature spec says, and calls score() with it; the weights w and
 * the bias b come from the parameters, w as text: weights = "0.5,-1.2,3".
 * A real scorer (XGBoost, say) loads a model file in configure() instead and
 * may implement train(); the shape of the plugin is the same.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tack.h>

/* More weights than any sensible hand-written model; bounds the parse. */
#define LINEAR_MAX_WEIGHTS 1024u

typedef struct linear {
  tack_ctx *ctx;
  const tack_host *host;
  double bias;
  uint32_t n; /* number of weights = number of features expected */
  double *weights;
} linear;

/*
 * A parameter that has no sensible default is marked REQUIRED: the host
 * refuses a config without it, naming the plugin and the missing key. For a
 * number, min > max (or both left 0) means "no bounds".
 */
static const tack_param_spec linear_params[] = {
    {.name = "weights",
     .type = TACK_PARAM_STRING,
     .flags = TACK_PARAM_REQUIRED,
     .help = "one weight per feature, comma-separated: \"0.5,-1.2,3\""},
    {.name = "bias",
     .type = TACK_PARAM_DOUBLE,
     .min = 1.0,
     .max = -1.0,
     .def = 0.0,
     .help = "added to the weighted sum before tanh"},
    {.name = NULL},
};

static int linear_create(tack_ctx *ctx, const tack_host *host, void **self) {
  linear *l = host->alloc(ctx, sizeof *l);
  if (l == NULL)
    return TACK_ENOMEM;
  memset(l, 0, sizeof *l);
  l->ctx = ctx;
  l->host = host;
  *self = l;
  return 0;
}

/*
 * Parse "w1,w2,...": numbers separated by commas, spaces allowed around
 * them. Every number is checked with strtod's end pointer and errno, never
 * with atof, which turns "abc" into 0 without a word. A problem goes to
 * host->param_error, which names the plugin, the config file and line and
 * the key, and makes the host refuse the config; it returns TACK_ECONFIG.
 */
static int linear_parse(linear *l, const char *text, double *w, uint32_t *n_out) {
  const char *p = text;
  uint32_t n = 0;
  for (;;) {
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p)
      return l->host->param_error(l->ctx, "weights", "weight %u is not a number in \"%s\"",
                                  (unsigned)n + 1, text);
    if (errno == ERANGE || !isfinite(v))
      return l->host->param_error(l->ctx, "weights", "weight %u is out of range in \"%s\"",
                                  (unsigned)n + 1, text);
    if (n == LINEAR_MAX_WEIGHTS)
      return l->host->param_error(l->ctx, "weights", "more than %u weights",
                                  (unsigned)LINEAR_MAX_WEIGHTS);
    w[n++] = v;
    p = end;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\0')
      break;
    if (*p != ',')
      return l->host->param_error(l->ctx, "weights", "expected ',' after weight %u in \"%s\"",
                                  (unsigned)n, text);
    p++;
  }
  *n_out = n;
  return 0;
}

static int linear_configure(void *self) {
  linear *l = self;
  const char *text;
  double bias;
  int rc = l->host->param_string(l->ctx, "weights", &text);
  if (rc < 0)
    return rc;
  rc = l->host->param_double(l->ctx, "bias", &bias);
  if (rc < 0)
    return rc;

  /* Parse into a scratch array first, so that a bad value leaves the
   * previous model in place (configure may run again on a live config). */
  double *scratch = l->host->alloc(l->ctx, LINEAR_MAX_WEIGHTS * sizeof *scratch);
  if (scratch == NULL)
    return TACK_ENOMEM;
  uint32_t n = 0;
  rc = linear_parse(l, text, scratch, &n);
  if (rc == 0) {
    double *weights = l->host->realloc(l->ctx, l->weights, n * sizeof *weights);
    if (weights == NULL) {
      rc = TACK_ENOMEM;
    } else {
      memcpy(weights, scratch, n * sizeof *weights);
      l->weights = weights;
      l->n = n;
      l->bias = bias;
    }
  }
  l->host->free(l->ctx, scratch);
  return rc;
}

static void linear_destroy(void *self) {
  linear *l = self;
  tack_ctx *ctx = l->ctx;
  const tack_host *host = l->host;
  host->free(ctx, l->weights);
  host->free(ctx, l);
}

/*
 * score: features is borrowed for the call and holds n values, in the order
 * of the config's feature spec. A vector of the wrong length means the
 * config and the model disagree: TACK_EINVAL, and the host reports it.
 */
static int linear_score(void *self, const double *features, uint32_t n, tack_signal *out) {
  linear *l = self;
  if (n != l->n)
    return TACK_EINVAL;
  double z = l->bias;
  for (uint32_t i = 0; i < n; i++) {
    if (!isfinite(features[i]))
      return TACK_EINVAL;
    z += l->weights[i] * features[i];
  }
  double s = tanh(z);
  out->ts = l->host->now(l->ctx);
  out->strength = s;
  out->confidence = fabs(s); /* how far from the fence at 0 */
  snprintf(out->reason, sizeof out->reason, "linear z=%.4g", z);
  return 0;
}

/* train is optional and left NULL: these weights are fitted elsewhere. A
 * scorer that trains runs train() on a worker thread, where it may call no
 * host service but log. */
static const tack_scorer_vtable linear_vtable = {
    .size = sizeof(tack_scorer_vtable),
    .life =
        {
            .create = linear_create,
            .configure = linear_configure,
            .destroy = linear_destroy,
        },
    .score = linear_score,
};

static const tack_plugin_desc linear_desc = {
    .size = sizeof(tack_plugin_desc),
    .kind = TACK_KIND_SCORER,
    .id = "example.linear",
    .name = "Linear scorer (example)",
    .version = "1.0.0",
    .description = "tanh(w . x + b) with weights from the config.",
    .params = linear_params,
    .vtable = &linear_vtable,
};

TACK_PLUGINS(&linear_desc);
