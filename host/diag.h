/*
 * diag.h: a list of problems found while checking input (a config, a command
 * line), so that every problem is reported at once, each with its place:
 *   configs/demo.cfg:12: strategies.trend.params.fast: must be an integer
 *   in [1, 1000], got 0
 */
#ifndef TACK_DIAG_H
#define TACK_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include "tack.h"

typedef struct tack_diag {
  char **msgs;
  size_t n;
  size_t cap;
} tack_diag;

#define TACK_DIAG_INIT                                                                             \
  { NULL, 0, 0 }

/* file may be NULL (no place); line <= 0 leaves the line out; path (the
 * setting's path, "strategies.trend.params.fast") may be NULL. */
void tack_diag_add(tack_diag *d, const char *file, int line, const char *path, const char *fmt, ...)
    TACK_PRINTF(5, 6);
/* One message per line, prefixed with "error: ". */
void tack_diag_print(const tack_diag *d, FILE *out);
void tack_diag_free(tack_diag *d);

#endif
