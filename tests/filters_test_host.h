/*
 * filters_test_host.h: a small tack_host for tests and benchmarks of filter
 * plugins. Parameters come from an in-test key/value list checked against
 * the plugin's spec (absent keys give the spec's default, undeclared ones
 * TACK_ENOENT); memory is counted per context so tests can assert no leak.
 * The real instance module (host/instance.c) is not used: this host only
 * provides what a filter may call (log, now, param_*, alloc, strerror).
 */
#ifndef TACK_FILTERS_TEST_HOST_H
#define TACK_FILTERS_TEST_HOST_H

#include "alloc.h"
#include "tack.h"

/* The context of one instance, owned by the test (usually on its stack). */
struct tack_ctx {
  const tack_plugin_desc *desc;
  const char *const *kv; /* "key", "value", ..., NULL; values as config text */
  tack_alloc_acct acct;
  int param_errors;     /* calls to param_error */
  char last_error[256]; /* the last param_error message */
};

extern const tack_host filters_test_host;

/* Fill ctx for desc with parameters kv (NULL: all defaults). */
void filters_test_ctx_init(tack_ctx *ctx, const tack_plugin_desc *desc, const char *const *kv);

/* dlopen a plugin shared object and return its list; *handle is for
 * dlclose. TACK_ELOAD_OPEN / TACK_ELOAD_NOENTRY / TACK_ELOAD_MAGIC on failure,
 * with the reason on stderr. */
int filters_test_load(const char *path, void **handle, const tack_plugin_list **list);

/* The descriptor with this id in list, or NULL. */
const tack_plugin_desc *filters_test_find(const tack_plugin_list *list, const char *id);

#endif
