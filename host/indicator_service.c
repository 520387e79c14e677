/*
 * indicator_service.c: indicators that plugin instances open for their own
 * use (tack_host.ind_open, ind_reset, ind_close). See indicator_service.h.
 *
 * A child is a plugin_spec (which owns the parsed params group and the
 * child instance) plus the tack_ind handed to the opener. The handle is the
 * first member of its child, and every call that takes one first finds it
 * in the opener's own list, so a stale or foreign pointer is refused rather
 * than followed.
 */
#include "indicator_service.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "instance.h"
#include "log.h"
#include "plugin_spec.h"

struct tack_ind_child {
  tack_ind ind; /* first: the handle given to the plugin */
  tack_plugin_spec *spec;
  char *text; /* the spec as the plugin wrote it, to make the child again */
  struct tack_ind_child *next;
};
typedef struct tack_ind_child ind_child;

/* The child whose handle ind is, unlinked from ctx's list when unlink. */
static ind_child *find_child(tack_ctx *ctx, const tack_ind *ind, int unlink) {
  for (ind_child **p = tack_instance_ind_children(ctx); *p; p = &(*p)->next) {
    if (&(*p)->ind == ind) {
      ind_child *c = *p;
      if (unlink)
        *p = c->next;
      return c;
    }
  }
  return NULL;
}

static void refuse_handle(tack_ctx *ctx, const char *call) {
  tack_log(TACK_LOG_ERROR, tack_instance_name(ctx),
           "%s: the indicator given is not one this instance opened, or it was closed already "
           "(plugin %s); ignored",
           call, tack_instance_desc(ctx)->id);
}

/* Point the handle at the spec's started instance. */
static void fill_handle(tack_ind *ind, const tack_plugin_spec *s) {
  const tack_indicator_vtable *vt = tack_plugin_spec_desc(s)->vtable;
  void *self = tack_instance_self(tack_plugin_spec_instance(s));
  uint32_t n = 0;
  while (vt->outputs[n].name)
    n++;
  int lookback = vt->lookback ? vt->lookback(self) : -1;
  memset(ind, 0, sizeof *ind);
  ind->size = (uint32_t)sizeof *ind;
  ind->n_outputs = n;
  ind->lookback = lookback >= 0 ? lookback : -1;
  ind->outputs = vt->outputs;
  ind->update = vt->update;
  ind->self = self;
}

/* Parse, check, create, configure and start the indicator of text. Every
 * problem goes into d; the code is the SDK's (a malformed spec is a bad
 * configuration to the plugin that wrote it). */
static int make_spec(const char *text, tack_diag *d, tack_plugin_spec **out) {
  tack_plugin_set set;
  tack_plugin_spec *s = NULL;
  const tack_loader *ld = tack_instance_registry();
  *out = NULL;
  if (!ld) {
    tack_diag_add(d, NULL, 0, NULL,
                  "%s: no plugins are available to instances in this process (the command "
                  "set no plugin registry)",
                  text);
    return TACK_ENOENT;
  }
  int rc = tack_plugin_spec_set_init(&set, ld);
  if (rc != 0)
    return rc;
  rc = tack_plugin_spec_new(text, TACK_KIND_INDICATOR, &set, d, &s);
  if (rc == 0)
    rc = tack_plugin_spec_start(s, d);
  tack_plugin_spec_set_free(&set);
  if (rc != 0) {
    tack_plugin_spec_free(s);
    return rc == TACK_EPARSE ? TACK_ECONFIG : rc;
  }
  *out = s;
  return 0;
}

/* Every message of d as a problem of ctx, naming its plugin; a failure
 * without one still says something. Messages start with the spec. */
static void report(tack_ctx *ctx, const char *call, const char *text, const tack_diag *d, int rc) {
  const char *id = tack_instance_desc(ctx)->id;
  for (size_t i = 0; i < d->n; i++)
    tack_instance_problem(ctx, "%s: indicator %s (opened by plugin %s)", call, d->msgs[i], id);
  if (d->n == 0)
    tack_instance_problem(ctx, "%s: indicator %s (opened by plugin %s): %s (%s)", call, text, id,
                          tack_strerror(rc), tack_err_name(rc));
}

int tack_indicator_service_open(tack_ctx *ctx, const char *spec, const tack_ind **out) {
  tack_diag d = TACK_DIAG_INIT;
  tack_plugin_spec *s = NULL;
  ind_child *c = NULL;
  char call[160];
  int rc;
  if (!ctx)
    return TACK_EINVAL;
  if (out)
    *out = NULL;
  snprintf(call, sizeof call, "ind_open(\"%.100s\")", spec ? spec : "(null)");
  if (!spec || !out) {
    rc = TACK_EINVAL;
    tack_diag_add(&d, NULL, 0, NULL, "%s: %s", spec ? spec : "(no spec)",
                  spec ? "no place for the result (out is NULL)" : "the spec is NULL");
    goto fail;
  }
  rc = tack_instance_setting_up(ctx, call);
  if (rc != 0)
    goto done; /* said by tack_instance_setting_up */
  rc = make_spec(spec, &d, &s);
  if (rc != 0)
    goto fail;
  c = tack_calloc(NULL, 1, sizeof *c);
  if (c)
    c->text = tack_strdup(NULL, spec);
  if (!c || !c->text) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  c->spec = s;
  s = NULL;
  fill_handle(&c->ind, c->spec);
  ind_child **head = tack_instance_ind_children(ctx);
  c->next = *head;
  *head = c;
  *out = &c->ind;
  tack_diag_free(&d);
  return 0;

fail:
  report(ctx, "ind_open", spec ? spec : "(null)", &d, rc);
  if (c)
    tack_free(NULL, c->text);
  tack_free(NULL, c);
  tack_plugin_spec_free(s);
done:
  tack_diag_free(&d);
  return rc;
}

static void free_child(ind_child *c) {
  tack_plugin_spec_free(c->spec);
  tack_free(NULL, c->text);
  tack_free(NULL, c);
}

void tack_indicator_service_reset(tack_ctx *ctx, const tack_ind *ind) {
  tack_diag d = TACK_DIAG_INIT;
  tack_plugin_spec *fresh = NULL;
  if (!ctx || !ind)
    return;
  ind_child *c = find_child(ctx, ind, 0);
  if (!c) {
    refuse_handle(ctx, "ind_reset");
    return;
  }
  const tack_indicator_vtable *vt = tack_plugin_spec_desc(c->spec)->vtable;
  if (vt->reset) {
    vt->reset(c->ind.self);
    return;
  }
  /* No reset of its own: a new instance of the same spec is "as if just
   * opened". The old one stays when that fails, and the failure is said. */
  int rc = make_spec(c->text, &d, &fresh);
  if (rc != 0) {
    report(ctx, "ind_reset", c->text, &d, rc);
    tack_diag_free(&d);
    return;
  }
  tack_plugin_spec_free(c->spec);
  c->spec = fresh;
  fill_handle(&c->ind, c->spec);
  tack_diag_free(&d);
}

void tack_indicator_service_close(tack_ctx *ctx, const tack_ind *ind) {
  if (!ctx || !ind)
    return;
  ind_child *c = find_child(ctx, ind, 1);
  if (!c) {
    refuse_handle(ctx, "ind_close");
    return;
  }
  free_child(c);
}

void tack_indicator_service_close_all(tack_ctx *ctx) {
  ind_child **head = tack_instance_ind_children(ctx);
  while (*head) {
    ind_child *c = *head;
    *head = c->next;
    free_child(c);
  }
}
