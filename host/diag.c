/* diag.c: collects problems with their places; see diag.h. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

void tack_diag_add(tack_diag *d, const char *file, int line, const char *path, const char *fmt,
                   ...) {
  char body[4096];
  char msg[4608];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);

  if (file && line > 0 && path)
    snprintf(msg, sizeof msg, "%s:%d: %s: %s", file, line, path, body);
  else if (file && line > 0)
    snprintf(msg, sizeof msg, "%s:%d: %s", file, line, body);
  else if (file && path)
    snprintf(msg, sizeof msg, "%s: %s: %s", file, path, body);
  else if (file)
    snprintf(msg, sizeof msg, "%s: %s", file, body);
  else if (path)
    snprintf(msg, sizeof msg, "%s: %s", path, body);
  else
    snprintf(msg, sizeof msg, "%s", body);

  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 8;
    char **msgs = tack_realloc(NULL, d->msgs, cap * sizeof *msgs);
    if (!msgs)
      return; /* out of memory: the caller still sees its error code */
    d->msgs = msgs;
    d->cap = cap;
  }
  char *copy = tack_strdup(NULL, msg);
  if (copy)
    d->msgs[d->n++] = copy;
}

void tack_diag_print(const tack_diag *d, FILE *out) {
  for (size_t i = 0; i < d->n; i++)
    fprintf(out, "error: %s\n", d->msgs[i]);
}

void tack_diag_free(tack_diag *d) {
  for (size_t i = 0; i < d->n; i++)
    tack_free(NULL, d->msgs[i]);
  tack_free(NULL, d->msgs);
  d->msgs = NULL;
  d->n = d->cap = 0;
}
