/*
 * alloc.h: allocation with accounting. Every plugin instance owns a
 * tack_alloc_acct; what it allocates through tack_host.alloc is counted there,
 * so the host can report memory per plugin and leaks at destroy. Tests can
 * make the N-th allocation fail to exercise error paths.
 */
#ifndef TACK_ALLOC_H
#define TACK_ALLOC_H

#include <stddef.h>
#include <stdint.h>

typedef struct tack_alloc_acct {
  uint64_t live_bytes; /* allocated and not yet freed */
  uint64_t live_blocks;
  uint64_t peak_bytes;
  uint64_t total_allocs;
  uint64_t failed; /* allocations refused (out of memory or injected) */
} tack_alloc_acct;

/* acct may be NULL (host-internal allocation, still subject to injection). */
void *tack_alloc(tack_alloc_acct *acct, size_t size);
void *tack_calloc(tack_alloc_acct *acct, size_t n, size_t size);
void *tack_realloc(tack_alloc_acct *acct, void *ptr, size_t size);
void tack_free(tack_alloc_acct *acct, void *ptr);
char *tack_strdup(tack_alloc_acct *acct, const char *s);

/* Fault injection for tests: the n-th allocation from now (1 = the next)
 * fails; 0 turns injection off. Process-wide. */
void tack_alloc_fail_after(uint64_t n);

#endif
