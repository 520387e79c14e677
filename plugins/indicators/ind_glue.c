/*
 * ind_glue.c: the lifecycle every indicator shares: reading and checking
 * parameters through the host, sizing and making the one allocation, reset,
 * reconfigure and destroy.
 */
#include <string.h>

#include "ind.h"

/* Index of value among the '|'-separated choices, or -1. */
static int choice_index(const char *choices, const char *value) {
  size_t len = strlen(value);
  int i = 0;
  const char *p = choices;
  while (p) {
    const char *end = strchr(p, '|');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == len && strncmp(p, value, n) == 0)
      return i;
    p = end ? end + 1 : NULL;
    i++;
  }
  return -1;
}

static int out_of_range(const tack_param_spec *ps, double v) {
  if (ps->min > ps->max)
    return 0;
  return !(v >= ps->min && v <= ps->max);
}

/*
 * Read every declared parameter into in->pv (and in->src), checking what the
 * host may not have: the range, and that a string is one of the choices.
 * Nothing is applied to a running instance until all of them read well: the
 * caller reads into a copy.
 */
static int read_params(ind_inst *in) {
  const tack_host *h = in->host;
  const tack_param_spec *ps;
  int i = 0;
  in->src = IND_SRC_CLOSE;
  for (ps = in->kind->params; ps && ps->name; ps++, i++) {
    int rc = TACK_ETYPE;
    double v = 0.0;
    if (i == IND_MAX_PARAMS)
      return h->param_error(in->ctx, ps->name, "more than %d parameters", IND_MAX_PARAMS);
    if (ps->type == TACK_PARAM_INT) {
      int64_t iv = 0;
      rc = h->param_int(in->ctx, ps->name, &iv);
      v = (double)iv;
    } else if (ps->type == TACK_PARAM_DOUBLE) {
      rc = h->param_double(in->ctx, ps->name, &v);
    } else if (ps->type == TACK_PARAM_STRING) {
      const char *sv = NULL;
      rc = h->param_string(in->ctx, ps->name, &sv);
      if (rc == 0) {
        int idx = sv && ps->choices ? choice_index(ps->choices, sv) : -1;
        if (idx < 0)
          return h->param_error(in->ctx, ps->name, "\"%s\" is not one of %s", sv ? sv : "(null)",
                                ps->choices ? ps->choices : "the choices");
        v = (double)idx;
        if (strcmp(ps->name, "source") == 0)
          in->src = (uint32_t)idx;
      }
    }
    if (rc != 0)
      return h->param_error(in->ctx, ps->name, "cannot be read: %s", h->strerror(rc));
    if (ps->type != TACK_PARAM_STRING && (!isfinite(v) || out_of_range(ps, v)))
      return h->param_error(in->ctx, ps->name, "%g is outside [%g, %g]", v, ps->min, ps->max);
    in->pv[i] = v;
  }
  return 0;
}

double ind_param(const ind_inst *in, const char *name) {
  const tack_param_spec *ps;
  int i = 0;
  for (ps = in->kind->params; ps && ps->name; ps++, i++)
    if (strcmp(ps->name, name) == 0)
      return in->pv[i];
  return 0.0;
}

/* Bytes of buffers the kernel needs for the parameters in `in`. */
static size_t kernel_bytes(ind_inst *in) {
  ta_arena count = {NULL, 0};
  in->kind->setup(in, &count);
  return count.used;
}

static void kernel_init(ind_inst *in) {
  ta_arena a = {in->mem, 0};
  in->lookback = in->kind->setup(in, &a);
}

int ind_create(tack_ctx *ctx, const tack_host *host, const ind_kind *kind, void **self) {
  ind_inst probe, *in;
  size_t need;
  int rc;
  memset(&probe, 0, sizeof(probe));
  probe.ctx = ctx;
  probe.host = host;
  probe.kind = kind;
  rc = read_params(&probe);
  if (rc != 0)
    return rc;
  need = kernel_bytes(&probe);
  in = host->alloc(ctx, sizeof(*in) + need);
  if (!in)
    return TACK_ENOMEM;
  *in = probe;
  in->mem = (unsigned char *)in->tail;
  in->mem_cap = need;
  kernel_init(in);
  *self = in;
  return 0;
}

/*
 * Parameters may have changed since create (an operator edits them while the
 * instance is stopped): read them afresh and start over. A failure leaves the
 * instance as it was.
 */
int ind_configure(void *self) {
  ind_inst *in = self, probe = *in;
  size_t need;
  int rc = read_params(&probe);
  if (rc != 0)
    return rc;
  need = kernel_bytes(&probe);
  if (need > in->mem_cap) {
    void *spare = in->host->alloc(in->ctx, need);
    if (!spare)
      return TACK_ENOMEM;
    in->host->free(in->ctx, in->spare);
    in->spare = spare;
    in->mem = spare;
    in->mem_cap = need;
  }
  memcpy(in->pv, probe.pv, sizeof(in->pv));
  in->src = probe.src;
  kernel_init(in);
  return 0;
}

void ind_destroy(void *self) {
  ind_inst *in = self;
  const tack_host *h = in->host;
  tack_ctx *ctx = in->ctx;
  h->free(ctx, in->spare);
  h->free(ctx, in);
}

int ind_lookback(void *self) { return ((ind_inst *)self)->lookback; }

void ind_reset(void *self) { kernel_init(self); }
