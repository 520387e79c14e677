/*
 * ml_features.c: the feature builder of ML scorers: parses a feature spec
 * (grammar in ml_features.h and docs/training.md), opens its indicators as
 * standalone plugin specs, and turns closed bars of one or several
 * timeframes into feature vectors.
 *
 * Items that read the same source (the same indicator with the same
 * parameters on the same timeframe, or the same built-in) share one source:
 * it is updated once per closed bar of its timeframe and keeps a ring of its
 * last values, as many as the largest lag of its items needs. A vector is
 * read from the rings when a bar of the smallest timeframe closes.
 */
#include "ml_features.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "instance.h"
#include "log.h"
#include "params.h"
#include "plugin_spec.h"

/* Sources that are not indicator plugins. */
enum { SRC_INDICATOR, SRC_RET, SRC_CLOSE, SRC_VOLUME, SRC_RANGE };

/* Longest part of an item quoted back in a message. */
#define QUOTE_MAX 60
/* Most items in a spec: the most features the xgboost scorer takes. */
#define MAX_ITEMS 4096
/* Largest ~LAG, in closed bars of the item's timeframe. */
#define MAX_LAG 1000u
/* Largest N of ret:N; indicators' periods go as far. */
#define MAX_RET_N 100000u
/* A bar's end must fit in tack_time: no timeframe exceeds a week. */
#define TS_MAX (INT64_MAX - INT64_C(7) * 86400 * TACK_NS_PER_SEC)

typedef struct source {
  int kind;
  size_t tf;         /* index into tack_features.tfs */
  char *canon;       /* "rsi:period=14,source=close", "ret:1", "close" */
  char *spec_text;   /* indicators: the canonical spec, to make it again on reset */
  uint32_t n_out;    /* values per update */
  uint32_t ret_n;    /* SRC_RET: N */
  double *closes;    /* SRC_RET: ring of the last N + 1 closes */
  uint64_t n_closes; /* SRC_RET: closes seen */
  uint32_t cap;      /* ring slots: the largest lag of its items, plus 1 */
  double *ring;      /* cap * n_out values */
  unsigned char *ok; /* cap flags: the slot holds values (the source was ready) */
  uint64_t count;    /* closed bars fed */
  double *scratch;   /* n_out: what the indicator writes */
  tack_plugin_spec *spec;
  const tack_indicator_vtable *vt;
  void *self;
} source;

typedef struct item {
  size_t src;
  uint32_t out; /* column of the source */
  uint32_t lag;
  char *name; /* its canonical form */
} item;

typedef struct tf_state {
  uint32_t tf;
  int seen;          /* a closed bar arrived since made or reset */
  tack_time last_ts; /* the latest closed bar's start */
} tf_state;

struct tack_features {
  const tack_loader *ld;
  tf_state *tfs;
  size_t n_tfs;
  size_t base; /* index of the smallest timeframe */
  source *src;
  size_t n_src;
  item *items;
  size_t n_items;
  char *canonical;
  int broken; /* a reset could not remake an indicator: every update fails with it */
};

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

/* Where problems go while parsing. */
typedef struct parser {
  tack_features *f;
  const char *where;
  tack_diag *d;
  tack_plugin_set set;
  int problems;
  int nomem;
} parser;

static void item_problem(parser *p, size_t no, const char *text, const char *fmt, ...)
    TACK_PRINTF(4, 5);
static void item_problem(parser *p, size_t no, const char *text, const char *fmt, ...) {
  char body[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  if (text)
    tack_diag_add(p->d, NULL, 0, NULL, "%s: item %zu: %.*s: %s", p->where, no, QUOTE_MAX, text,
                  body);
  else
    tack_diag_add(p->d, NULL, 0, NULL, "%s: item %zu: %s", p->where, no, body);
  p->problems++;
}

static void spec_problem(parser *p, const char *fmt, ...) TACK_PRINTF(2, 3);
static void spec_problem(parser *p, const char *fmt, ...) {
  char body[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  tack_diag_add(p->d, NULL, 0, NULL, "%s: %s", p->where, body);
  p->problems++;
}

/* ------------------------------------------------------------------------ */
/* Small text helpers                                                        */
/* ------------------------------------------------------------------------ */

/* A growing string. On allocation failure it stops growing and remembers. */
typedef struct strbuf {
  char *s;
  size_t len;
  size_t cap;
  int nomem;
} strbuf;

static void sb_add(strbuf *b, const char *fmt, ...) TACK_PRINTF(2, 3);
static void sb_add(strbuf *b, const char *fmt, ...) {
  va_list ap;
  if (b->nomem)
    return;
  va_start(ap, fmt);
  int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->nomem = 1;
    return;
  }
  if (!b->s || b->len + (size_t)n >= b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap <= b->len + (size_t)n)
      cap *= 2;
    char *grown = tack_realloc(NULL, b->s, cap);
    if (!grown) {
      b->nomem = 1;
      return;
    }
    b->s = grown;
    b->cap = cap;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
  }
  b->len += (size_t)n;
}

/* The shortest of %.15g, %.16g and %.17g that reads back as v: "0.1", not
 * "0.10000000000000001", so that canonical forms stay readable. */
static void format_double(double v, char *buf, size_t cap) {
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, cap, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

static int name_start(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
static int name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

/* 1 when s[0 .. n) is an output name: a lowercase letter or '_', then
 * lowercase letters, digits or '_'. A decimal's fraction ("2.5") is not. */
static int is_output_name(const char *s, size_t n) {
  if (n == 0 || !name_start(s[0]))
    return 0;
  for (size_t i = 1; i < n; i++)
    if (!name_char(s[i]))
      return 0;
  return 1;
}

/* Whole decimal digits into *v, at most max; -1 when not digits or above. */
static int parse_count(const char *s, uint32_t max, uint32_t *v) {
  uint64_t x = 0;
  if (!*s)
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    x = x * 10 + (uint64_t)(*s - '0');
    if (x > max)
      return -1;
  }
  *v = (uint32_t)x;
  return 0;
}

static const char *const builtin_names[] = {"ret", "close", "volume", "range"};
static const int builtin_kinds[] = {SRC_RET, SRC_CLOSE, SRC_VOLUME, SRC_RANGE};

/* The built-in id names, or -1. */
static int builtin_kind(const char *id) {
  for (size_t i = 0; i < sizeof builtin_names / sizeof builtin_names[0]; i++)
    if (strcmp(id, builtin_names[i]) == 0)
      return builtin_kinds[i];
  return -1;
}

/* ------------------------------------------------------------------------ */
/* Sources                                                                   */
/* ------------------------------------------------------------------------ */

static void source_clear(source *s) {
  tack_plugin_spec_free(s->spec);
  tack_free(NULL, s->canon);
  tack_free(NULL, s->spec_text);
  tack_free(NULL, s->closes);
  tack_free(NULL, s->ring);
  tack_free(NULL, s->ok);
  tack_free(NULL, s->scratch);
  memset(s, 0, sizeof *s);
}

/* Point s at its spec's started indicator. */
static void source_bind(source *s) {
  const tack_plugin_desc *desc = tack_plugin_spec_desc(s->spec);
  s->vt = desc->vtable;
  s->self = tack_instance_self(tack_plugin_spec_instance(s->spec));
}

/* The canonical source text of an indicator spec: its id, then the
 * effective value of every declared parameter (defaults written out), in
 * the plugin's order, positional ("macd:12,26,9,close"). A string
 * parameter that is unset and has no default cannot be written so: it is
 * left out, and the parameters after it are written as name=value. */
static int indicator_canon(const tack_plugin_spec *spec, strbuf *b) {
  const tack_plugin_desc *desc = tack_plugin_spec_desc(spec);
  const config_setting_t *params = tack_plugin_spec_params(spec);
  char num[40];
  int first = 1, named = 0;
  sb_add(b, "%s", desc->id);
  for (const tack_param_spec *p = desc->params; p && p->name; p++) {
    int64_t i;
    double v;
    int flag;
    const char *str = NULL;
    int rc = 0;
    switch (p->type) {
    case TACK_PARAM_INT:
      rc = tack_params_int(desc, params, p->name, &i);
      snprintf(num, sizeof num, "%lld", (long long)i);
      break;
    case TACK_PARAM_DOUBLE:
      rc = tack_params_double(desc, params, p->name, &v);
      format_double(v, num, sizeof num);
      break;
    case TACK_PARAM_BOOL:
      rc = tack_params_bool(desc, params, p->name, &flag);
      snprintf(num, sizeof num, "%s", flag ? "true" : "false");
      break;
    default:
      rc = tack_params_string(desc, params, p->name, &str);
      break;
    }
    if (rc != 0)
      return rc;
    if (p->type == TACK_PARAM_STRING && (!str || !*str)) {
      named = 1;
      continue;
    }
    sb_add(b, "%s%s%s%s", first ? ":" : ",", named ? p->name : "", named ? "=" : "",
           p->type == TACK_PARAM_STRING ? str : num);
    first = 0;
  }
  return b->nomem ? TACK_ENOMEM : 0;
}

/* Make and start the indicator of text; its problems go to d. */
static int open_indicator(const tack_plugin_set *set, const char *text, tack_diag *d,
                          tack_plugin_spec **out) {
  tack_plugin_spec *s = NULL;
  int rc = tack_plugin_spec_new(text, TACK_KIND_INDICATOR, set, d, &s);
  if (rc == 0)
    rc = tack_plugin_spec_start(s, d);
  if (rc != 0) {
    tack_plugin_spec_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

/* Find the source canon on timeframe tf, or add it (taking spec). Returns
 * its index, or -1 when out of memory (spec is then freed). */
static long find_or_add_source(tack_features *f, int kind, size_t tf, char *canon,
                               tack_plugin_spec *spec, uint32_t ret_n) {
  for (size_t i = 0; i < f->n_src; i++) {
    if (f->src[i].tf == tf && strcmp(f->src[i].canon, canon) == 0) {
      tack_free(NULL, canon);
      tack_plugin_spec_free(spec);
      return (long)i;
    }
  }
  source *grown = tack_realloc(NULL, f->src, (f->n_src + 1) * sizeof *grown);
  if (!grown) {
    tack_free(NULL, canon);
    tack_plugin_spec_free(spec);
    return -1;
  }
  f->src = grown;
  source *s = &f->src[f->n_src];
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->tf = tf;
  s->canon = canon;
  s->ret_n = ret_n;
  s->n_out = 1;
  s->cap = 1;
  if (spec) {
    s->spec = spec;
    s->spec_text = tack_strdup(NULL, canon);
    source_bind(s);
    while (s->vt->outputs[s->n_out].name)
      s->n_out++;
    if (!s->spec_text) {
      source_clear(s);
      return -1;
    }
  }
  return (long)f->n_src++;
}

/* Size each source's buffers once every item is known. */
static int source_alloc(source *s) {
  s->ring = tack_calloc(NULL, (size_t)s->cap * s->n_out, sizeof *s->ring);
  s->ok = tack_calloc(NULL, s->cap, 1);
  s->scratch = tack_calloc(NULL, s->n_out, sizeof *s->scratch);
  if (s->kind == SRC_RET)
    s->closes = tack_calloc(NULL, (size_t)s->ret_n + 1, sizeof *s->closes);
  if (!s->ring || !s->ok || !s->scratch || (s->kind == SRC_RET && !s->closes))
    return TACK_ENOMEM;
  return 0;
}

/* Compute the source's values for a closed bar into scratch: 1 ready, 0
 * not ready, or a TACK_E* code. */
static int source_compute(source *s, const tack_bar *bar) {
  double v;
  switch (s->kind) {
  case SRC_INDICATOR: {
    int rc = s->vt->update(s->self, bar, s->scratch);
    if (rc < 0)
      tack_log_error("features: indicator %s refused a bar: %s (%s)", s->canon, tack_strerror(rc),
                     tack_err_name(rc));
    if (rc <= 0)
      return rc;
    if (rc != 1) {
      tack_log_error("features: indicator %s broke its contract: update returned %d", s->canon, rc);
      return TACK_EPLUGIN;
    }
    for (uint32_t k = 0; k < s->n_out; k++) {
      if (!isfinite(s->scratch[k])) {
        tack_log_error("features: indicator %s broke its contract: output %u is not finite",
                       s->canon, k);
        return TACK_EPLUGIN;
      }
    }
    return 1;
  }
  case SRC_RET: {
    uint32_t n1 = s->ret_n + 1;
    s->closes[s->n_closes % n1] = bar->close;
    s->n_closes++;
    if (s->n_closes < n1)
      return 0;
    /* The oldest of the N + 1 closes is the slot written next. */
    double then = s->closes[s->n_closes % n1];
    if (!(then > 0) || !(bar->close > 0))
      return 0;
    v = log(bar->close / then);
    break;
  }
  case SRC_CLOSE:
    v = bar->close;
    break;
  case SRC_VOLUME:
    v = bar->volume;
    break;
  default:
    if (!(bar->close > 0))
      return 0;
    v = (bar->high - bar->low) / bar->close;
    break;
  }
  if (!isfinite(v))
    return 0;
  s->scratch[0] = v;
  return 1;
}

static int source_update(source *s, const tack_bar *bar) {
  int rc = source_compute(s, bar);
  if (rc < 0)
    return rc;
  uint32_t slot = (uint32_t)(s->count % s->cap);
  s->ok[slot] = (unsigned char)rc;
  if (rc == 1)
    memcpy(s->ring + (size_t)slot * s->n_out, s->scratch, s->n_out * sizeof *s->scratch);
  s->count++;
  return 0;
}

/* The value of column out lag closed bars ago, or NULL when there is none
 * (too few bars yet, or the source was not ready then). */
static const double *source_value(const source *s, uint32_t out, uint32_t lag) {
  if (s->count <= lag)
    return NULL;
  uint32_t slot = (uint32_t)((s->count - 1 - lag) % s->cap);
  return s->ok[slot] ? s->ring + (size_t)slot * s->n_out + out : NULL;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                   */
/* ------------------------------------------------------------------------ */

/* The parts of one item, pointing into a private copy of its text. */
typedef struct item_parts {
  char *id;
  char *params; /* NULL when no ':' */
  char *output; /* NULL when none */
  char *tf;     /* NULL when none */
  char *lag;    /* NULL when none */
} item_parts;

/* Split work (one item, no whitespace) into its parts: the suffixes ~LAG
 * and @TIMEFRAME, then OUTPUT after the last '.' when that is an output
 * name and, without parameters, the whole head is not itself a plugin id or
 * a built-in (ids may hold dots: "example.sma"). Returns 0 or a message. */
static const char *split_item(const tack_loader *ld, char *work, item_parts *ip) {
  memset(ip, 0, sizeof *ip);
  char *at = strchr(work, '@'), *tilde = strchr(work, '~');
  if (at && strchr(at + 1, '@'))
    return "more than one '@': an item has one timeframe";
  if (tilde && strchr(tilde + 1, '~'))
    return "more than one '~': an item has one lag";
  if (at && tilde && tilde < at)
    return "~LAG must come after @TIMEFRAME (SOURCE[.OUTPUT][@TIMEFRAME][~LAG])";
  if (tilde) {
    *tilde = '\0';
    ip->lag = tilde + 1;
  }
  if (at) {
    *at = '\0';
    ip->tf = at + 1;
  }
  ip->id = work;
  char *colon = strchr(work, ':');
  if (colon) {
    *colon = '\0';
    ip->params = colon + 1;
  }
  char *tail = ip->params ? ip->params : ip->id;
  char *dot = strrchr(tail, '.');
  if (dot && is_output_name(dot + 1, strlen(dot + 1)) &&
      (ip->params || !(tack_loader_find(ld, ip->id) || builtin_kind(ip->id) >= 0))) {
    *dot = '\0';
    ip->output = dot + 1;
  }
  if (!*ip->id)
    return "no source before the suffixes: name an indicator (rsi:14) or a built-in (ret:1, "
           "close, volume, range)";
  return NULL;
}

/* The index of tf among the owner's timeframes, or -1. */
static long tf_index(const tack_features *f, uint32_t tf) {
  for (size_t i = 0; i < f->n_tfs; i++)
    if (f->tfs[i].tf == tf)
      return (long)i;
  return -1;
}

static void list_timeframes(const tack_features *f, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < f->n_tfs; i++) {
    char tf[32];
    tack_timeframe_format(f->tfs[i].tf, tf, sizeof tf);
    int n = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", tf);
    if (n > 0 && (size_t)n < cap - len)
      len += (size_t)n;
  }
}

/* Copy the problems of from into the parser's diag, naming the item. */
static void relay(parser *p, size_t no, const tack_diag *from, int rc) {
  for (size_t i = 0; i < from->n; i++)
    item_problem(p, no, NULL, "%s%s", from->msgs[i],
                 rc == TACK_ENOENT ? " (the built-in sources are ret:N, close, volume and range)"
                                   : "");
  if (from->n == 0)
    item_problem(p, no, NULL, "cannot open the indicator: %s (%s)", tack_strerror(rc),
                 tack_err_name(rc));
}

/* The source of a built-in item. Returns its index, -1 when refused
 * (reported), -2 when out of memory. */
static long builtin_source(parser *p, size_t no, const char *text, const item_parts *ip, int kind,
                           size_t tf) {
  uint32_t n = 1;
  char canon[48];
  if (ip->output) {
    item_problem(p, no, text, "the built-in %s has one value: it takes no .OUTPUT", ip->id);
    return -1;
  }
  if (kind == SRC_RET) {
    if (ip->params && parse_count(ip->params, MAX_RET_N, &n) != 0) {
      item_problem(p, no, text, "ret:N takes N, a whole number of bars from 1 to %u, got '%s'",
                   MAX_RET_N, ip->params);
      return -1;
    }
    if (n == 0) {
      item_problem(p, no, text, "ret:N takes N, a whole number of bars from 1 to %u, got 0",
                   MAX_RET_N);
      return -1;
    }
    snprintf(canon, sizeof canon, "ret:%u", n);
  } else {
    if (ip->params) {
      item_problem(p, no, text, "the built-in %s takes no parameters", ip->id);
      return -1;
    }
    snprintf(canon, sizeof canon, "%s", ip->id);
  }
  char *copy = tack_strdup(NULL, canon);
  if (!copy)
    return -2;
  long s = find_or_add_source(p->f, kind, tf, copy, NULL, n);
  return s < 0 ? -2 : s;
}

/* The source of an indicator item, and its output column in *out. Returns
 * its index, -1 when refused (reported), -2 when out of memory. */
static long indicator_source(parser *p, size_t no, const char *text, const item_parts *ip,
                             size_t tf, uint32_t *out) {
  tack_diag found = TACK_DIAG_INIT;
  tack_plugin_spec *spec = NULL;
  strbuf canon = {0};
  strbuf given = {0};
  long result = -1;

  sb_add(&given, "%s%s%s", ip->id, ip->params ? ":" : "", ip->params ? ip->params : "");
  if (given.nomem) {
    result = -2;
    goto done;
  }
  int rc = open_indicator(&p->set, given.s, &found, &spec);
  if (rc != 0) {
    if (rc == TACK_ENOMEM)
      result = -2;
    else
      relay(p, no, &found, rc);
    goto done;
  }
  const tack_output_spec *outs =
      ((const tack_indicator_vtable *)tack_plugin_spec_desc(spec)->vtable)->outputs;
  char list[256];
  size_t len = 0, n_outs = 0;
  list[0] = '\0';
  *out = UINT32_MAX;
  for (const tack_output_spec *o = outs; o->name; o++, n_outs++) {
    int k = snprintf(list + len, sizeof list - len, "%s%s", n_outs ? ", " : "", o->name);
    if (k > 0 && (size_t)k < sizeof list - len)
      len += (size_t)k;
    if (ip->output && strcmp(o->name, ip->output) == 0)
      *out = (uint32_t)n_outs;
  }
  if (ip->output && *out == UINT32_MAX) {
    item_problem(p, no, text, "indicator %s has no output '%s' (its outputs: %s)", ip->id,
                 ip->output, list);
    goto done;
  }
  if (!ip->output && n_outs > 1) {
    item_problem(p, no, text,
                 "indicator %s has %zu outputs (%s): pick one with .OUTPUT, e.g. %s.%s", ip->id,
                 n_outs, list, given.s, outs[n_outs - 1].name);
    goto done;
  }
  if (!ip->output)
    *out = 0;
  /* The canonical form is written into models and reports. */
  for (const tack_param_spec *q = tack_plugin_spec_desc(spec)->params; q && q->name; q++) {
    if (q->flags & TACK_PARAM_SECRET) {
      item_problem(p, no, text,
                   "indicator %s has a secret parameter (%s): a feature spec is written into "
                   "models and reports, so it cannot use this indicator",
                   ip->id, q->name);
      goto done;
    }
  }
  rc = indicator_canon(spec, &canon);
  if (rc != 0) {
    result = rc == TACK_ENOMEM ? -2 : -1;
    if (rc != TACK_ENOMEM)
      item_problem(p, no, text, "cannot read the parameters of %s back: %s", ip->id,
                   tack_strerror(rc));
    goto done;
  }
  result = find_or_add_source(p->f, SRC_INDICATOR, tf, canon.s, spec, 0);
  canon.s = NULL;
  spec = NULL;
  if (result < 0)
    result = -2;

done:
  tack_plugin_spec_free(spec);
  tack_free(NULL, canon.s);
  tack_free(NULL, given.s);
  tack_diag_free(&found);
  return result;
}

/* Parse one item (text: no whitespace, not empty) and add it. Returns 0,
 * TACK_ECONFIG (reported) or TACK_ENOMEM. */
static int parse_item(parser *p, size_t no, const char *text) {
  tack_features *f = p->f;
  item_parts ip;
  char *work = tack_strdup(NULL, text);
  char tfname[32], tfs[128];
  uint32_t tf = f->tfs[f->base].tf, lag = 0, out = 0;
  long src = -1;
  int rc = TACK_ECONFIG;

  if (!work)
    return TACK_ENOMEM;
  const char *why = split_item(f->ld, work, &ip);
  if (why) {
    item_problem(p, no, text, "%s", why);
    goto done;
  }
  if (ip.tf && tack_timeframe_parse(ip.tf, &tf) != 0) {
    item_problem(p, no, text,
                 "@%s is not a timeframe: write one such as @5m, @4h or @1d (whole seconds, at "
                 "most 7 days)",
                 ip.tf);
    goto done;
  }
  long k = tf_index(f, tf);
  if (k < 0) {
    tack_timeframe_format(tf, tfname, sizeof tfname);
    list_timeframes(f, tfs, sizeof tfs);
    item_problem(p, no, text,
                 "timeframe %s is not one this scorer receives (it receives %s): add it to the "
                 "scorer's timeframes or use one of those",
                 tfname, tfs);
    goto done;
  }
  if (ip.lag && parse_count(ip.lag, MAX_LAG, &lag) != 0) {
    item_problem(p, no, text, "~%s: a lag is a whole number of closed bars from 0 to %u", ip.lag,
                 MAX_LAG);
    goto done;
  }
  int kind = builtin_kind(ip.id);
  if (kind >= 0)
    src = builtin_source(p, no, text, &ip, kind, (size_t)k);
  else
    src = indicator_source(p, no, text, &ip, (size_t)k, &out);
  if (src == -2) {
    rc = TACK_ENOMEM;
    goto done;
  }
  if (src < 0)
    goto done;

  source *s = &f->src[src];
  strbuf name = {0};
  tack_timeframe_format(tf, tfname, sizeof tfname);
  if (s->kind == SRC_INDICATOR)
    sb_add(&name, "%s.%s@%s~%u", s->canon, s->vt->outputs[out].name, tfname, lag);
  else
    sb_add(&name, "%s@%s~%u", s->canon, tfname, lag);
  if (name.nomem) {
    rc = TACK_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < f->n_items; i++) {
    if (strcmp(f->items[i].name, name.s) == 0) {
      item_problem(p, no, text,
                   "computes the same value as item %zu (both are %s): remove one of them", i + 1,
                   name.s);
      tack_free(NULL, name.s);
      goto done;
    }
  }
  item *grown = tack_realloc(NULL, f->items, (f->n_items + 1) * sizeof *grown);
  if (!grown) {
    tack_free(NULL, name.s);
    rc = TACK_ENOMEM;
    goto done;
  }
  f->items = grown;
  f->items[f->n_items].src = (size_t)src;
  f->items[f->n_items].out = out;
  f->items[f->n_items].lag = lag;
  f->items[f->n_items].name = name.s;
  f->n_items++;
  if (lag + 1 > s->cap)
    s->cap = lag + 1;
  rc = 0;

done:
  tack_free(NULL, work);
  return rc;
}

/* The spec without whitespace; NULL when out of memory. */
static char *strip_spaces(const char *spec) {
  char *out = tack_alloc(NULL, strlen(spec) + 1);
  size_t n = 0;
  if (!out)
    return NULL;
  for (const char *c = spec; *c; c++)
    if (!isspace((unsigned char)*c))
      out[n++] = *c;
  out[n] = '\0';
  return out;
}

/* Split on ';' and parse every item, reporting every problem. */
static int parse_spec(parser *p, char *text) {
  size_t n_items = 0;
  if (!*text) {
    spec_problem(p, "the feature spec is empty: list items separated by ';', e.g. \"rsi:14; "
                    "ret:1; ret:1~1\"");
    return TACK_ECONFIG;
  }
  char *item = text;
  for (size_t no = 1; item; no++) {
    char *semi = strchr(item, ';');
    if (semi)
      *semi = '\0';
    /* One ';' at the very end is allowed: a list written one item per
     * line often ends with one. */
    if (!*item && !(semi == NULL && no > 1)) {
      item_problem(p, no, NULL, "empty item (two ';' in a row, or one at the start?)");
    } else if (*item) {
      if (++n_items > MAX_ITEMS) {
        spec_problem(p, "more than %d items: a feature vector holds at most %d values", MAX_ITEMS,
                     MAX_ITEMS);
        return TACK_ECONFIG;
      }
      int rc = parse_item(p, no, item);
      if (rc == TACK_ENOMEM)
        return rc;
    }
    item = semi ? semi + 1 : NULL;
  }
  return p->problems ? TACK_ECONFIG : 0;
}

/* ------------------------------------------------------------------------ */
/* The API                                                                   */
/* ------------------------------------------------------------------------ */

int tack_features_new(const char *spec, const uint32_t *timeframes, size_t n_timeframes,
                      const tack_loader *ld, const char *where, tack_diag *d, tack_features **out) {
  parser p;
  tack_features *f = NULL;
  char *text = NULL;
  strbuf canon = {0};
  int rc = TACK_ECONFIG;

  memset(&p, 0, sizeof p);
  p.where = where ? where : "features";
  p.d = d;
  if (!out || !d)
    return TACK_EINVAL;
  *out = NULL;
  if (!spec || !timeframes || n_timeframes == 0 || !ld) {
    spec_problem(&p, "%s", !spec ? "no feature spec given" : "no timeframes given");
    return TACK_ECONFIG;
  }
  f = tack_calloc(NULL, 1, sizeof *f);
  if (!f)
    goto nomem;
  f->ld = ld;
  p.f = f;
  f->tfs = tack_calloc(NULL, n_timeframes, sizeof *f->tfs);
  if (!f->tfs)
    goto nomem;
  for (size_t i = 0; i < n_timeframes; i++) {
    if (timeframes[i] == 0) {
      spec_problem(&p, "timeframe %zu of the owner is 0 seconds", i);
      goto fail;
    }
    if (tf_index(f, timeframes[i]) >= 0)
      continue;
    f->tfs[f->n_tfs].tf = timeframes[i];
    if (f->tfs[f->n_tfs].tf < f->tfs[f->base].tf)
      f->base = f->n_tfs;
    f->n_tfs++;
  }
  text = strip_spaces(spec);
  if (!text || tack_plugin_spec_set_init(&p.set, ld) != 0)
    goto nomem;
  rc = parse_spec(&p, text);
  if (rc == TACK_ENOMEM)
    goto nomem;
  if (rc != 0)
    goto fail;
  for (size_t i = 0; i < f->n_src; i++)
    if (source_alloc(&f->src[i]) != 0)
      goto nomem;
  for (size_t i = 0; i < f->n_items; i++)
    sb_add(&canon, "%s%s", i ? ";" : "", f->items[i].name);
  if (canon.nomem)
    goto nomem;
  f->canonical = canon.s;
  canon.s = NULL;
  tack_plugin_spec_set_free(&p.set);
  tack_free(NULL, text);
  *out = f;
  return 0;

nomem:
  rc = TACK_ENOMEM;
  tack_diag_add(d, NULL, 0, NULL, "%s: out of memory while building the features", p.where);
fail:
  tack_free(NULL, canon.s);
  tack_plugin_spec_set_free(&p.set);
  tack_free(NULL, text);
  tack_features_free(f);
  return rc;
}

void tack_features_free(tack_features *f) {
  if (!f)
    return;
  for (size_t i = 0; i < f->n_src; i++)
    source_clear(&f->src[i]);
  for (size_t i = 0; i < f->n_items; i++)
    tack_free(NULL, f->items[i].name);
  tack_free(NULL, f->src);
  tack_free(NULL, f->items);
  tack_free(NULL, f->tfs);
  tack_free(NULL, f->canonical);
  tack_free(NULL, f);
}

uint32_t tack_features_count(const tack_features *f) { return f ? (uint32_t)f->n_items : 0; }

const char *tack_features_canonical(const tack_features *f) { return f ? f->canonical : NULL; }

const char *tack_features_name(const tack_features *f, uint32_t i) {
  return f && i < f->n_items ? f->items[i].name : NULL;
}

/* A bar every source can read: finite prices and volume, and an end that
 * tack_time holds. */
static int bar_usable(const tack_bar *bar) {
  return bar->ts <= TS_MAX && isfinite(bar->open) && isfinite(bar->high) && isfinite(bar->low) &&
         isfinite(bar->close) && isfinite(bar->volume);
}

int tack_features_update(tack_features *f, const tack_bar *bar, double *out) {
  if (!f || !bar || !out)
    return TACK_EINVAL;
  if (f->broken)
    return f->broken;
  if (!(bar->flags & TACK_BAR_CLOSED))
    return 0;
  long k = tf_index(f, bar->timeframe_s);
  if (k < 0 || !bar_usable(bar))
    return TACK_EINVAL;
  tf_state *t = &f->tfs[k];
  if (t->seen && bar->ts <= t->last_ts)
    return TACK_EINVAL;
  if ((size_t)k == f->base) {
    /* A higher bar that ends after this one would be look-ahead: the
     * runtime never delivers one, and neither may any other caller. */
    tack_time end = bar->ts + (tack_time)t->tf * TACK_NS_PER_SEC;
    for (size_t j = 0; j < f->n_tfs; j++)
      if (f->tfs[j].seen && f->tfs[j].last_ts + (tack_time)f->tfs[j].tf * TACK_NS_PER_SEC > end)
        return TACK_EINVAL;
  }
  for (size_t i = 0; i < f->n_src; i++) {
    if (f->src[i].tf != (size_t)k)
      continue;
    int rc = source_update(&f->src[i], bar);
    if (rc < 0)
      return rc;
  }
  t->seen = 1;
  t->last_ts = bar->ts;
  if ((size_t)k != f->base)
    return 0;
  for (size_t i = 0; i < f->n_items; i++)
    if (!source_value(&f->src[f->items[i].src], f->items[i].out, f->items[i].lag))
      return 0;
  for (size_t i = 0; i < f->n_items; i++)
    out[i] = *source_value(&f->src[f->items[i].src], f->items[i].out, f->items[i].lag);
  return 1;
}

/* Make an indicator that has no reset() of its own again. */
static int remake_indicator(tack_features *f, source *s) {
  tack_plugin_set set;
  tack_diag d = TACK_DIAG_INIT;
  tack_plugin_spec *fresh = NULL;
  int rc = tack_plugin_spec_set_init(&set, f->ld);
  if (rc != 0)
    return rc;
  rc = open_indicator(&set, s->spec_text, &d, &fresh);
  tack_plugin_spec_set_free(&set);
  for (size_t i = 0; i < d.n; i++)
    tack_log_error("features: reset: %s", d.msgs[i]);
  tack_diag_free(&d);
  if (rc != 0)
    return rc;
  tack_plugin_spec_free(s->spec);
  s->spec = fresh;
  source_bind(s);
  return 0;
}

void tack_features_reset(tack_features *f) {
  if (!f)
    return;
  for (size_t i = 0; i < f->n_tfs; i++)
    f->tfs[i].seen = 0;
  for (size_t i = 0; i < f->n_src; i++) {
    source *s = &f->src[i];
    s->count = 0;
    s->n_closes = 0;
    memset(s->ok, 0, s->cap);
    if (s->kind != SRC_INDICATOR)
      continue;
    if (s->vt->reset) {
      s->vt->reset(s->self);
    } else {
      int rc = remake_indicator(f, s);
      if (rc != 0 && !f->broken) {
        tack_log_error("features: reset: cannot make indicator %s again: %s", s->canon,
                       tack_strerror(rc));
        f->broken = rc;
      }
    }
  }
}
