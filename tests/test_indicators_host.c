/*
 * test_indicators_host.c: the indicator tests' host, instance helpers,
 * synthetic series and data reader (see test_indicators_host.h).
 */
#include "test_indicators_host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tack_ctx {
  const tack_plugin_desc *desc;
  tih_param params[TIH_MAX_PARAMS];
  size_t n_params;
};

static long live_allocs;
static long fail_after = -1;
static char last_error[512];

long tih_live_allocs(void) { return live_allocs; }
void tih_fail_alloc_after(long n) { fail_after = n; }
const char *tih_last_error(void) { return last_error; }

static const tack_param_spec *find_spec(const tack_ctx *ctx, const char *key) {
  const tack_param_spec *ps;
  for (ps = ctx->desc->params; ps && ps->name; ps++)
    if (strcmp(ps->name, key) == 0)
      return ps;
  return NULL;
}

static const char *find_value(const tack_ctx *ctx, const char *key) {
  size_t i;
  for (i = 0; i < ctx->n_params; i++)
    if (strcmp(ctx->params[i].key, key) == 0)
      return ctx->params[i].value;
  return NULL;
}

static int host_param_int(tack_ctx *ctx, const char *key, int64_t *out) {
  const tack_param_spec *ps = find_spec(ctx, key);
  const char *v;
  char *end;
  if (!ps)
    return TACK_ENOENT;
  if (ps->type != TACK_PARAM_INT)
    return TACK_ETYPE;
  v = find_value(ctx, key);
  if (!v) {
    *out = (int64_t)ps->def;
    return 0;
  }
  errno = 0;
  *out = strtoll(v, &end, 10);
  return (errno || end == v || *end) ? TACK_ETYPE : 0;
}

static int host_param_double(tack_ctx *ctx, const char *key, double *out) {
  const tack_param_spec *ps = find_spec(ctx, key);
  const char *v;
  char *end;
  if (!ps)
    return TACK_ENOENT;
  if (ps->type != TACK_PARAM_DOUBLE)
    return TACK_ETYPE;
  v = find_value(ctx, key);
  if (!v) {
    *out = ps->def;
    return 0;
  }
  errno = 0;
  *out = strtod(v, &end);
  return (errno || end == v || *end) ? TACK_ETYPE : 0;
}

static int host_param_bool(tack_ctx *ctx, const char *key, int *out) {
  const tack_param_spec *ps = find_spec(ctx, key);
  const char *v;
  if (!ps)
    return TACK_ENOENT;
  if (ps->type != TACK_PARAM_BOOL)
    return TACK_ETYPE;
  v = find_value(ctx, key);
  *out = v ? strcmp(v, "true") == 0 : ps->def != 0.0;
  return 0;
}

static int host_param_string(tack_ctx *ctx, const char *key, const char **out) {
  const tack_param_spec *ps = find_spec(ctx, key);
  const char *v;
  if (!ps)
    return TACK_ENOENT;
  if (ps->type != TACK_PARAM_STRING)
    return TACK_ETYPE;
  v = find_value(ctx, key);
  *out = v ? v : ps->def_str;
  return 0;
}

TACK_PRINTF(3, 4)
static int host_param_error(tack_ctx *ctx, const char *key, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(last_error, sizeof(last_error), "%s.%s: ", ctx->desc->id, key);
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof(last_error))
    vsnprintf(last_error + n, sizeof(last_error) - (size_t)n, fmt, ap);
  va_end(ap);
  return TACK_ECONFIG;
}

TACK_PRINTF(3, 4)
static void host_log(tack_ctx *ctx, int32_t level, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "[%s %d] ", ctx->desc->id, (int)level);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static tack_time host_now(tack_ctx *ctx) {
  (void)ctx;
  return 0;
}

static void *host_alloc(tack_ctx *ctx, size_t size) {
  void *p;
  (void)ctx;
  if (fail_after == 0)
    return NULL;
  if (fail_after > 0)
    fail_after--;
  p = malloc(size);
  if (p)
    live_allocs++;
  return p;
}

static void *host_realloc(tack_ctx *ctx, void *ptr, size_t size) {
  (void)ctx;
  if (!ptr)
    return host_alloc(ctx, size);
  return realloc(ptr, size);
}

static void host_free(tack_ctx *ctx, void *ptr) {
  (void)ctx;
  if (ptr)
    live_allocs--;
  free(ptr);
}

static const tack_host test_host = {
    .size = sizeof(tack_host),
    .abi_major = TACK_ABI_MAJOR,
    .abi_minor = TACK_ABI_MINOR,
    .host_version = "tack indicator tests",
    .log = host_log,
    .now = host_now,
    .param_int = host_param_int,
    .param_double = host_param_double,
    .param_bool = host_param_bool,
    .param_string = host_param_string,
    .param_error = host_param_error,
    .alloc = host_alloc,
    .realloc = host_realloc,
    .free = host_free,
    .strerror = tack_strerror,
};

extern const tack_plugin_list tack_plugin_entry;

const tack_plugin_desc *tih_find(const char *id) {
  uint32_t i;
  for (i = 0; i < tack_plugin_entry.count; i++)
    if (strcmp(tack_plugin_entry.plugins[i]->id, id) == 0)
      return tack_plugin_entry.plugins[i];
  return NULL;
}

static int set_params(tack_ctx *ctx, const tih_param *params, size_t n) {
  if (n > TIH_MAX_PARAMS)
    return TACK_EINVAL;
  if (n > 0)
    memcpy(ctx->params, params, n * sizeof(*params));
  ctx->n_params = n;
  return 0;
}

int tih_open(tih_ind *ind, const char *id, const tih_param *params, size_t n) {
  const tack_plugin_desc *desc = tih_find(id);
  if (!desc) {
    memset(ind, 0, sizeof(*ind));
    return TACK_ENOENT;
  }
  return tih_open_desc(ind, desc, params, n);
}

int tih_open_desc(tih_ind *ind, const tack_plugin_desc *desc, const tih_param *params, size_t n) {
  const tack_indicator_vtable *vt;
  const tack_output_spec *o;
  int rc;
  memset(ind, 0, sizeof(*ind));
  ind->desc = desc;
  if (desc->kind != TACK_KIND_INDICATOR)
    return TACK_ENOENT;
  vt = ind->desc->vtable;
  ind->vt = vt;
  ind->ctx = calloc(1, sizeof(*ind->ctx));
  if (!ind->ctx)
    return TACK_ENOMEM;
  ind->ctx->desc = ind->desc;
  rc = set_params(ind->ctx, params, n);
  if (rc == 0)
    rc = vt->life.create(ind->ctx, &test_host, &ind->self);
  if (rc == 0 && vt->life.configure) {
    rc = vt->life.configure(ind->self);
    if (rc != 0)
      vt->life.destroy(ind->self);
  }
  if (rc != 0) {
    free(ind->ctx);
    memset(ind, 0, sizeof(*ind));
    return rc;
  }
  for (o = vt->outputs; o->name; o++)
    ind->n_out++;
  return 0;
}

int tih_reconfigure(tih_ind *ind, const tih_param *params, size_t n) {
  tack_ctx saved = *ind->ctx;
  int rc = set_params(ind->ctx, params, n);
  if (rc == 0)
    rc = ind->vt->life.configure(ind->self);
  if (rc != 0)
    *ind->ctx = saved;
  return rc;
}

void tih_close(tih_ind *ind) {
  if (ind->self)
    ind->vt->life.destroy(ind->self);
  free(ind->ctx);
  memset(ind, 0, sizeof(*ind));
}

/* xorshift64*: small, fast and the same everywhere. */
static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * UINT64_C(0x2545F4914F6CDD1D);
}

static long rng_int(uint64_t *s, long lo, long hi) {
  return lo + (long)(rng_next(s) % (uint64_t)(hi - lo + 1));
}

static long lmax(long a, long b) { return a > b ? a : b; }
static long lmin(long a, long b) { return a < b ? a : b; }

/*
 * Prices are whole ticks of 0.25 (exact in binary), so equal highs, equal
 * lows, touches and equal moves happen exactly. Every random draw is made on
 * every bar, whatever it is used for, so the series is easy to reason about.
 */
void tih_synthetic(tack_bar *bars, size_t n) {
  uint64_t s = UINT64_C(0x9E3779B97F4A7C15);
  long close = 400, high = 402, low = 398;
  size_t i;
  for (i = 0; i < n; i++) {
    long step = rng_int(&s, -8, 8), gap = (rng_next(&s) & 1) ? 20 : -20;
    long up = rng_int(&s, 0, 6), down = rng_int(&s, 0, 6), d = rng_int(&s, 1, 4);
    long trend = rng_int(&s, 1, 6), vol = rng_int(&s, 1, 1000), zero = rng_int(&s, 0, 99);
    long o, c, h, l;
    if (close > 600)
      step -= 2;
    if (close < 200)
      step += 2;
    if (i >= 1200 && i < 1260)
      step = trend;
    if (i >= 1500 && i < 1530)
      step = -trend;
    o = (i % 61 == 7) ? close + gap : close;
    c = o + step;
    h = lmax(o, c) + up;
    l = lmin(o, c) - down;
    if (i % 89 == 5) {
      /* An outside bar: up-move == down-move == d, so neither DM counts. */
      h = high + d;
      l = low - d;
      o = lmin(lmax(o, l), h);
      c = lmin(lmax(c, l), h);
    }
    if ((i >= 300 && i < 340) || i % 97 == 0)
      o = h = l = c = close;
    if (zero < 3 || (i >= 320 && i < 340) || (i >= 700 && i < 720))
      vol = 0;
    if (i == 0)
      vol = 500;
    bars[i].ts = (INT64_C(1609459200) + (int64_t)i * 3600) * TACK_NS_PER_SEC;
    bars[i].open = (double)o * 0.25;
    bars[i].high = (double)h * 0.25;
    bars[i].low = (double)l * 0.25;
    bars[i].close = (double)c * 0.25;
    bars[i].volume = (double)vol * 0.5;
    bars[i].timeframe_s = 3600;
    bars[i].flags = TACK_BAR_CLOSED;
    close = c;
    high = h;
    low = l;
  }
}

const char *tih_data_dir(void) {
  static char path[1024];
  const char *shared = getenv("TACK_SHARED_DIR");
  int n;
  if (!shared || !*shared)
    return NULL;
  n = snprintf(path, sizeof(path), "%s/data", shared);
  if (n < 0 || (size_t)n >= sizeof(path) || access(path, R_OK) != 0)
    return NULL;
  return path;
}

static int parse_row(char *line, tack_bar *b) {
  char *p = line, *end;
  double f[5];
  int i;
  errno = 0;
  b->ts = strtoll(p, &end, 10) * TACK_NS_PER_SEC;
  if (end == p || *end != ',' || errno)
    return -1;
  for (i = 0; i < 5; i++) {
    p = end + 1;
    f[i] = strtod(p, &end);
    if (end == p || (i < 4 && *end != ',') || errno)
      return -1;
  }
  b->open = f[0];
  b->high = f[1];
  b->low = f[2];
  b->close = f[3];
  b->volume = f[4];
  return 0;
}

int tih_load_csv(const char *path, uint32_t timeframe_s, tack_bar **bars, size_t *n) {
  FILE *f = fopen(path, "r");
  char line[512];
  size_t cap = 4096, len = 0, lineno = 0;
  tack_bar *v;
  if (!f) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  v = malloc(cap * sizeof(*v));
  while (v && fgets(line, sizeof(line), f)) {
    lineno++;
    if (line[0] < '0' || line[0] > '9')
      continue;
    if (len == cap) {
      tack_bar *grown = realloc(v, 2 * cap * sizeof(*v));
      if (!grown) {
        free(v);
        v = NULL;
        break;
      }
      v = grown;
      cap *= 2;
    }
    memset(&v[len], 0, sizeof(v[len]));
    if (parse_row(line, &v[len]) != 0) {
      fprintf(stderr, "%s:%zu: not ts,open,high,low,close,volume\n", path, lineno);
      free(v);
      fclose(f);
      return -1;
    }
    v[len].timeframe_s = timeframe_s;
    v[len].flags = TACK_BAR_CLOSED;
    len++;
  }
  fclose(f);
  if (!v) {
    fprintf(stderr, "%s: out of memory\n", path);
    return -1;
  }
  *bars = v;
  *n = len;
  return 0;
}
