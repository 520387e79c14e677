/*
 * alloc.c: counted allocation. Each block carries a small header with its
 * size so that frees can be accounted without a lookup.
 */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

/* Keeps the user pointer aligned for any type. */
typedef union block_header {
  size_t size;
  max_align_t align;
} block_header;

static uint64_t fail_countdown; /* 0: injection off */

void tack_alloc_fail_after(uint64_t n) { fail_countdown = n; }

static int injected_failure(void) {
  if (fail_countdown == 0)
    return 0;
  if (--fail_countdown == 0)
    return 1;
  return 0;
}

static void account_alloc(tack_alloc_acct *acct, size_t size) {
  if (!acct)
    return;
  acct->live_bytes += size;
  acct->live_blocks++;
  acct->total_allocs++;
  if (acct->live_bytes > acct->peak_bytes)
    acct->peak_bytes = acct->live_bytes;
}

static void account_free(tack_alloc_acct *acct, size_t size) {
  if (!acct)
    return;
  acct->live_bytes -= size;
  acct->live_blocks--;
}

void *tack_alloc(tack_alloc_acct *acct, size_t size) {
  if (injected_failure() || size > SIZE_MAX - sizeof(block_header)) {
    if (acct)
      acct->failed++;
    return NULL;
  }
  block_header *h = malloc(sizeof *h + size);
  if (!h) {
    if (acct)
      acct->failed++;
    return NULL;
  }
  h->size = size;
  account_alloc(acct, size);
  return h + 1;
}

void *tack_calloc(tack_alloc_acct *acct, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) {
    if (acct)
      acct->failed++;
    return NULL;
  }
  void *p = tack_alloc(acct, n * size);
  if (p)
    memset(p, 0, n * size);
  return p;
}

void *tack_realloc(tack_alloc_acct *acct, void *ptr, size_t size) {
  if (!ptr)
    return tack_alloc(acct, size);
  if (size == 0) {
    tack_free(acct, ptr);
    return NULL;
  }
  block_header *old = (block_header *)ptr - 1;
  size_t old_size = old->size;
  if (injected_failure() || size > SIZE_MAX - sizeof(block_header)) {
    if (acct)
      acct->failed++;
    return NULL;
  }
  block_header *h = realloc(old, sizeof *h + size);
  if (!h) {
    if (acct)
      acct->failed++;
    return NULL;
  }
  account_free(acct, old_size);
  account_alloc(acct, size);
  if (acct)
    acct->total_allocs--; /* a resize is not a new allocation */
  h->size = size;
  return h + 1;
}

void tack_free(tack_alloc_acct *acct, void *ptr) {
  if (!ptr)
    return;
  block_header *h = (block_header *)ptr - 1;
  account_free(acct, h->size);
  free(h);
}

char *tack_strdup(tack_alloc_acct *acct, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = tack_alloc(acct, n);
  if (p)
    memcpy(p, s, n);
  return p;
}
