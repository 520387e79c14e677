/*
 * filters_test_host.c: the test host of filters_test_host.h.
 */
#include "filters_test_host.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tack_param_spec *find_spec(const tack_ctx *ctx, const char *key) {
  if (!ctx->desc->params)
    return NULL;
  for (const tack_param_spec *s = ctx->desc->params; s->name; s++)
    if (strcmp(s->name, key) == 0)
      return s;
  return NULL;
}

/* The configured text of key, or NULL when the list does not set it. */
static const char *find_value(const tack_ctx *ctx, const char *key) {
  if (!ctx->kv)
    return NULL;
  for (const char *const *p = ctx->kv; p[0] && p[1]; p += 2)
    if (strcmp(p[0], key) == 0)
      return p[1];
  return NULL;
}

static void th_log(tack_ctx *ctx, int32_t level, const char *fmt, ...) {
  if (level > TACK_LOG_WARN)
    return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "[%s] ", ctx->desc->id);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static tack_time th_now(tack_ctx *ctx) {
  (void)ctx;
  return 0;
}

static int th_param_int(tack_ctx *ctx, const char *key, int64_t *out) {
  const tack_param_spec *s = find_spec(ctx, key);
  if (!s)
    return TACK_ENOENT;
  if (s->type != TACK_PARAM_INT)
    return TACK_ETYPE;
  const char *v = find_value(ctx, key);
  if (!v) {
    *out = (int64_t)s->def;
    return 0;
  }
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || end == v || *end)
    return TACK_ETYPE;
  *out = x;
  return 0;
}

static int th_param_double(tack_ctx *ctx, const char *key, double *out) {
  const tack_param_spec *s = find_spec(ctx, key);
  if (!s)
    return TACK_ENOENT;
  if (s->type != TACK_PARAM_DOUBLE)
    return TACK_ETYPE;
  const char *v = find_value(ctx, key);
  if (!v) {
    *out = s->def;
    return 0;
  }
  char *end;
  double x = strtod(v, &end);
  if (end == v || *end)
    return TACK_ETYPE;
  *out = x;
  return 0;
}

static int th_param_bool(tack_ctx *ctx, const char *key, int *out) {
  const tack_param_spec *s = find_spec(ctx, key);
  if (!s)
    return TACK_ENOENT;
  if (s->type != TACK_PARAM_BOOL)
    return TACK_ETYPE;
  const char *v = find_value(ctx, key);
  *out = v ? strcmp(v, "true") == 0 : s->def != 0;
  return 0;
}

static int th_param_string(tack_ctx *ctx, const char *key, const char **out) {
  const tack_param_spec *s = find_spec(ctx, key);
  if (!s)
    return TACK_ENOENT;
  if (s->type != TACK_PARAM_STRING)
    return TACK_ETYPE;
  const char *v = find_value(ctx, key);
  *out = v ? v : s->def_str;
  return 0;
}

static int th_param_error(tack_ctx *ctx, const char *key, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(ctx->last_error, sizeof ctx->last_error, "%s: ", key);
  if (n < 0 || (size_t)n >= sizeof ctx->last_error)
    n = 0;
  va_start(ap, fmt);
  vsnprintf(ctx->last_error + n, sizeof ctx->last_error - (size_t)n, fmt, ap);
  va_end(ap);
  ctx->param_errors++;
  return TACK_ECONFIG;
}

static void *th_alloc(tack_ctx *ctx, size_t size) { return tack_alloc(&ctx->acct, size); }

static void *th_realloc(tack_ctx *ctx, void *ptr, size_t size) {
  return tack_realloc(&ctx->acct, ptr, size);
}

static void th_free(tack_ctx *ctx, void *ptr) { tack_free(&ctx->acct, ptr); }

const tack_host filters_test_host = {
    .size = sizeof(tack_host),
    .abi_major = TACK_ABI_MAJOR,
    .abi_minor = TACK_ABI_MINOR,
    .host_version = "filters test host",
    .log = th_log,
    .now = th_now,
    .param_int = th_param_int,
    .param_double = th_param_double,
    .param_bool = th_param_bool,
    .param_string = th_param_string,
    .param_error = th_param_error,
    .alloc = th_alloc,
    .realloc = th_realloc,
    .free = th_free,
    .strerror = tack_strerror,
};

void filters_test_ctx_init(tack_ctx *ctx, const tack_plugin_desc *desc, const char *const *kv) {
  memset(ctx, 0, sizeof *ctx);
  ctx->desc = desc;
  ctx->kv = kv;
}

int filters_test_load(const char *path, void **handle, const tack_plugin_list **list) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "%s: %s\n", path, dlerror());
    return TACK_ELOAD_OPEN;
  }
  const tack_plugin_list *l = dlsym(h, TACK_ENTRY_SYMBOL);
  if (!l) {
    fprintf(stderr, "%s: no %s symbol\n", path, TACK_ENTRY_SYMBOL);
    dlclose(h);
    return TACK_ELOAD_NOENTRY;
  }
  if (l->magic != TACK_MAGIC || l->abi_major != TACK_ABI_MAJOR ||
      l->layout != TACK_LAYOUT_FINGERPRINT) {
    fprintf(stderr, "%s: not a plugin list of this ABI and layout\n", path);
    dlclose(h);
    return TACK_ELOAD_MAGIC;
  }
  *handle = h;
  *list = l;
  return 0;
}

const tack_plugin_desc *filters_test_find(const tack_plugin_list *list, const char *id) {
  for (uint32_t i = 0; i < list->count; i++)
    if (strcmp(list->plugins[i]->id, id) == 0)
      return list->plugins[i];
  return NULL;
}
