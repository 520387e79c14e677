/*
 * params.c: checks a plugin's params group against its tack_param_spec and
 * reads parameters with their defaults. Also places messages about any
 * libconfig setting (file, line, path), which config.c shares. See params.h.
 *
 * libconfig does not report type mismatches (a lookup of the wrong type just
 * fails), so every check here looks at config_setting_type() itself, and the
 * readers convert by type rather than rely on CONFIG_OPTION_AUTOCONVERT.
 */
#include "params.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Longest part of a string value quoted back in a message. */
#define QUOTE_MAX 48
/* Longest names tack_edit_distance() compares letter by letter. */
#define EDIT_NAME_MAX 64

/* A bounded text builder: appends truncate instead of overflowing. */
typedef struct text {
  char *buf;
  size_t cap;
  size_t len;
} text;

static void text_init(text *t, char *buf, size_t cap) {
  t->buf = buf;
  t->cap = cap;
  t->len = 0;
  if (cap)
    buf[0] = '\0';
}

static void text_add(text *t, const char *fmt, ...) TACK_PRINTF(2, 3);
static void text_add(text *t, const char *fmt, ...) {
  va_list ap;
  if (t->len + 1 >= t->cap)
    return;
  va_start(ap, fmt);
  int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  t->len = ((size_t)n < t->cap - t->len) ? t->len + (size_t)n : t->cap - 1;
}

/* Whole numbers in full ("500", not "5e+02"); others in the shortest %g
 * form that reads back as the same double. */
static void fmt_double(double v, char *buf, size_t cap) {
  if (v == floor(v) && fabs(v) < 1e15) {
    snprintf(buf, cap, "%.0f", v);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, cap, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

/* A double as a config literal: always with a '.' or exponent, so that 20.0
 * does not read as the integer 20 in "must be an integer, got 20.0". */
static void fmt_float_literal(double v, char *buf, size_t cap) {
  fmt_double(v, buf, cap);
  if (!strpbrk(buf, ".eEni")) {
    size_t n = strlen(buf);
    if (n + 2 < cap)
      memcpy(buf + n, ".0", 3);
  }
}

static void path_append(const config_setting_t *s, text *t) {
  const config_setting_t *parent = config_setting_parent(s);
  if (!parent)
    return; /* the root has no name of its own */
  path_append(parent, t);
  const char *name = config_setting_name(s);
  if (name)
    text_add(t, "%s%s", t->len ? "." : "", name);
  else
    text_add(t, "[%d]", config_setting_index(s));
}

void tack_setting_path(const config_setting_t *s, char *buf, size_t cap) {
  text t;
  text_init(&t, buf, cap);
  if (s)
    path_append(s, &t);
}

const char *tack_setting_type_name(const config_setting_t *s) {
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT:
    return "an integer";
  case CONFIG_TYPE_INT64:
    return "a 64-bit integer";
  case CONFIG_TYPE_FLOAT:
    return "a decimal number";
  case CONFIG_TYPE_STRING:
    return "a string";
  case CONFIG_TYPE_BOOL:
    return "a boolean";
  case CONFIG_TYPE_GROUP:
    return "a group";
  case CONFIG_TYPE_ARRAY:
    return "an array";
  case CONFIG_TYPE_LIST:
    return "a list";
  default:
    return "nothing";
  }
}

void tack_setting_report(tack_diag *d, const config_setting_t *s, const char *key, const char *fmt,
                         ...) {
  char body[1024];
  char path[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);

  text t;
  text_init(&t, path, sizeof path);
  if (s)
    path_append(s, &t);
  if (key)
    text_add(&t, "%s%s", t.len ? "." : "", key);
  const char *file = s ? config_setting_source_file(s) : NULL;
  int line = s ? (int)config_setting_source_line(s) : 0;
  tack_diag_add(d, file, line, path[0] ? path : NULL, "%s", body);
}

int tack_edit_distance(const char *a, const char *b, int limit) {
  size_t na = strlen(a), nb = strlen(b);
  if (na > EDIT_NAME_MAX || nb > EDIT_NAME_MAX)
    return strcmp(a, b) == 0 ? 0 : limit + 1;
  if ((na > nb ? na - nb : nb - na) > (size_t)limit)
    return limit + 1;

  /* Optimal string alignment: Levenshtein plus swaps of neighbours, so that
   * "lookbakc" is one edit from "lookback". */
  int rows[3][EDIT_NAME_MAX + 1];
  int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
  for (size_t j = 0; j <= nb; j++) {
    prev[j] = (int)j;
    prev2[j] = (int)j;
  }
  for (size_t i = 1; i <= na; i++) {
    cur[0] = (int)i;
    for (size_t j = 1; j <= nb; j++) {
      int cost = a[i - 1] != b[j - 1];
      int v = prev[j] + 1;
      if (cur[j - 1] + 1 < v)
        v = cur[j - 1] + 1;
      if (prev[j - 1] + cost < v)
        v = prev[j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
        v = prev2[j - 2] + 1;
      cur[j] = v;
    }
    int *done = prev2;
    prev2 = prev;
    prev = cur;
    cur = done;
  }
  return prev[nb] > limit ? limit + 1 : prev[nb];
}

const tack_param_spec *tack_params_find(const tack_plugin_desc *desc, const char *key) {
  if (!desc || !key)
    return NULL;
  for (const tack_param_spec *p = desc->params; p && p->name; p++)
    if (strcmp(p->name, key) == 0)
      return p;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Checking                                                                  */
/* ------------------------------------------------------------------------ */

static int bounded(const tack_param_spec *spec) { return tack_param_bounded(spec); }

/* The value of a scalar as the config would write it. */
static void value_text(const config_setting_t *s, char *buf, size_t cap) {
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT:
    snprintf(buf, cap, "%d", config_setting_get_int(s));
    break;
  case CONFIG_TYPE_INT64:
    snprintf(buf, cap, "%lldL", config_setting_get_int64(s));
    break;
  case CONFIG_TYPE_FLOAT:
    fmt_float_literal(config_setting_get_float(s), buf, cap);
    break;
  case CONFIG_TYPE_STRING: {
    const char *v = config_setting_get_string(s);
    size_t n = strlen(v);
    if (n > QUOTE_MAX)
      snprintf(buf, cap, "\"%.*s...\"", QUOTE_MAX, v);
    else
      snprintf(buf, cap, "\"%s\"", v);
    break;
  }
  case CONFIG_TYPE_BOOL:
    snprintf(buf, cap, "%s", config_setting_get_bool(s) ? "true" : "false");
    break;
  default:
    snprintf(buf, cap, "%s", tack_setting_type_name(s));
    break;
  }
}

void tack_setting_describe(const config_setting_t *s, char *buf, size_t cap) {
  char value[QUOTE_MAX + 16];
  int type = config_setting_type(s);
  if (type == CONFIG_TYPE_GROUP || type == CONFIG_TYPE_LIST || type == CONFIG_TYPE_ARRAY) {
    snprintf(buf, cap, "%s", tack_setting_type_name(s));
  } else if (type == CONFIG_TYPE_BOOL) {
    value_text(s, buf, cap);
  } else {
    value_text(s, value, sizeof value);
    snprintf(buf, cap, "%s %s", tack_setting_type_name(s), value);
  }
}

/* ", got <what>" for a value of the wrong type: its type and, unless the
 * parameter is secret, its value. */
static void got_wrong_type(const config_setting_t *s, int secret, char *buf, size_t cap) {
  char what[QUOTE_MAX + 48];
  if (secret)
    snprintf(what, sizeof what, "%s", tack_setting_type_name(s));
  else
    tack_setting_describe(s, what, sizeof what);
  snprintf(buf, cap, ", got %s", what);
}

/* ", got <value>" for a value of the right type, nothing for a secret. */
static void got_value(const config_setting_t *s, int secret, char *buf, size_t cap) {
  char value[QUOTE_MAX + 16];
  if (secret) {
    buf[0] = '\0';
    return;
  }
  value_text(s, value, sizeof value);
  snprintf(buf, cap, ", got %s", value);
}

static int is_int_type(int type) { return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64; }

static int64_t setting_int(const config_setting_t *s) {
  return config_setting_type(s) == CONFIG_TYPE_INT64 ? (int64_t)config_setting_get_int64(s)
                                                     : (int64_t)config_setting_get_int(s);
}

static double setting_number(const config_setting_t *s) {
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT:
    return (double)config_setting_get_int(s);
  case CONFIG_TYPE_INT64:
    return (double)config_setting_get_int64(s);
  default:
    return config_setting_get_float(s);
  }
}

/* Whether value is one of the '|'-separated choices. */
static int among_choices(const char *choices, const char *value) {
  size_t n = strlen(value);
  const char *p = choices;
  for (;;) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == n && strncmp(p, value, n) == 0)
      return 1;
    if (!bar)
      return 0;
    p = bar + 1;
  }
}

/* Check one present parameter; returns 1 when it added a problem. */
static int check_value(const tack_param_spec *spec, const config_setting_t *s, tack_diag *d) {
  char expect[256], got[QUOTE_MAX + 64], lo[32], hi[32];
  int secret = (spec->flags & TACK_PARAM_SECRET) != 0;
  int type = config_setting_type(s);
  text t;
  text_init(&t, expect, sizeof expect);
  fmt_double(spec->min, lo, sizeof lo);
  fmt_double(spec->max, hi, sizeof hi);

  switch (spec->type) {
  case TACK_PARAM_INT:
    text_add(&t, "an integer");
    if (bounded(spec))
      text_add(&t, " in [%s, %s]", lo, hi);
    if (!is_int_type(type)) {
      got_wrong_type(s, secret, got, sizeof got);
      break;
    }
    if (bounded(spec) &&
        ((double)setting_int(s) < spec->min || (double)setting_int(s) > spec->max)) {
      got_value(s, secret, got, sizeof got);
      break;
    }
    return 0;
  case TACK_PARAM_DOUBLE:
    text_add(&t, "a number");
    if (bounded(spec))
      text_add(&t, " in [%s, %s]", lo, hi);
    if (!is_int_type(type) && type != CONFIG_TYPE_FLOAT) {
      got_wrong_type(s, secret, got, sizeof got);
      break;
    }
    if (!isfinite(setting_number(s)) ||
        (bounded(spec) && (setting_number(s) < spec->min || setting_number(s) > spec->max))) {
      got_value(s, secret, got, sizeof got);
      break;
    }
    return 0;
  case TACK_PARAM_BOOL:
    text_add(&t, "true or false");
    if (type != CONFIG_TYPE_BOOL) {
      got_wrong_type(s, secret, got, sizeof got);
      break;
    }
    return 0;
  case TACK_PARAM_STRING:
    if (spec->choices)
      text_add(&t, "one of %s", spec->choices);
    else
      text_add(&t, "a string");
    if (type != CONFIG_TYPE_STRING) {
      got_wrong_type(s, secret, got, sizeof got);
      break;
    }
    if (spec->choices && !among_choices(spec->choices, config_setting_get_string(s))) {
      got_value(s, secret, got, sizeof got);
      break;
    }
    return 0;
  default:
    tack_setting_report(d, s, NULL,
                        "the plugin declares this parameter with type %u, which this host does "
                        "not know; rebuild the plugin against this SDK",
                        spec->type);
    return 1;
  }
  tack_setting_report(d, s, NULL, "must be %s%s", expect, got);
  return 1;
}

/* "unknown parameter of plugin X (did you mean 'y'?)", or the list of what
 * the plugin takes when nothing is close. */
static void report_unknown(const tack_plugin_desc *desc, const config_setting_t *s, tack_diag *d) {
  const char *key = config_setting_name(s);
  const tack_param_spec *best = NULL;
  int best_dist = 3;
  for (const tack_param_spec *p = desc->params; p && p->name; p++) {
    int dist = tack_edit_distance(key, p->name, 2);
    if (dist < best_dist) {
      best = p;
      best_dist = dist;
    }
  }
  if (best) {
    tack_setting_report(d, s, NULL, "unknown parameter of plugin %s (did you mean '%s'?)", desc->id,
                        best->name);
    return;
  }
  char list[512];
  text t;
  text_init(&t, list, sizeof list);
  for (const tack_param_spec *p = desc->params; p && p->name; p++)
    text_add(&t, "%s%s", t.len ? ", " : "", p->name);
  if (t.len)
    tack_setting_report(d, s, NULL, "unknown parameter of plugin %s (it takes: %s)", desc->id,
                        list);
  else
    tack_setting_report(d, s, NULL, "unknown parameter: plugin %s takes no parameters", desc->id);
}

static void report_missing(const tack_plugin_desc *desc, const tack_param_spec *spec,
                           const config_setting_t *params, const config_setting_t *owner,
                           tack_diag *d) {
  char key[256];
  const char *help = spec->help ? spec->help : spec->name;
  if (params) {
    tack_setting_report(d, params, spec->name, "required by plugin %s but not set (%s)", desc->id,
                        help);
  } else if (owner) {
    snprintf(key, sizeof key, "params.%s", spec->name);
    tack_setting_report(d, owner, key, "required by plugin %s but not set (%s)", desc->id, help);
  } else {
    tack_diag_add(d, NULL, 0, NULL, "plugin %s: parameter '%s' is required but not set (%s)",
                  desc->id, spec->name, help);
  }
}

int tack_params_check_at(const tack_plugin_desc *desc, const config_setting_t *params,
                         const config_setting_t *owner, tack_diag *d) {
  int problems = 0;
  char got[QUOTE_MAX + 64];

  if (params && !config_setting_is_group(params)) {
    got_wrong_type(params, 1, got, sizeof got);
    tack_setting_report(d, params, NULL, "must be a group of parameters { key = value; }%s", got);
    return TACK_ECONFIG;
  }
  if (params) {
    for (int i = 0; i < config_setting_length(params); i++) {
      const config_setting_t *s = config_setting_get_elem(params, (unsigned)i);
      const tack_param_spec *spec = tack_params_find(desc, config_setting_name(s));
      if (!spec) {
        report_unknown(desc, s, d);
        problems++;
      } else {
        problems += check_value(spec, s, d);
      }
    }
  }
  for (const tack_param_spec *p = desc->params; p && p->name; p++) {
    if (!(p->flags & TACK_PARAM_REQUIRED))
      continue;
    if (params && config_setting_get_member(params, p->name))
      continue;
    report_missing(desc, p, params, owner, d);
    problems++;
  }
  return problems ? TACK_ECONFIG : 0;
}

int tack_params_check(const tack_plugin_desc *desc, const config_setting_t *params, tack_diag *d) {
  return tack_params_check_at(desc, params, NULL, d);
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */
/* ------------------------------------------------------------------------ */

/* The spec of key (which must have type) and its setting, NULL if absent. */
static int lookup(const tack_plugin_desc *desc, const config_setting_t *params, const char *key,
                  uint32_t type, const tack_param_spec **spec, const config_setting_t **s) {
  *spec = tack_params_find(desc, key);
  if (!*spec)
    return TACK_ENOENT;
  if ((*spec)->type != type)
    return TACK_ETYPE;
  *s = (params && config_setting_is_group(params)) ? config_setting_get_member(params, key) : NULL;
  return 0;
}

int tack_params_int(const tack_plugin_desc *desc, const config_setting_t *params, const char *key,
                    int64_t *out) {
  const tack_param_spec *spec;
  const config_setting_t *s;
  int rc = lookup(desc, params, key, TACK_PARAM_INT, &spec, &s);
  if (rc)
    return rc;
  if (s) {
    if (!is_int_type(config_setting_type(s)))
      return TACK_ETYPE;
    *out = setting_int(s);
    return 0;
  }
  /* The bounds keep the conversion defined for a malformed default. */
  if (!(spec->def >= -9.2e18 && spec->def <= 9.2e18))
    return TACK_ERANGE;
  *out = (int64_t)spec->def;
  return 0;
}

int tack_params_double(const tack_plugin_desc *desc, const config_setting_t *params,
                       const char *key, double *out) {
  const tack_param_spec *spec;
  const config_setting_t *s;
  int rc = lookup(desc, params, key, TACK_PARAM_DOUBLE, &spec, &s);
  if (rc)
    return rc;
  if (s) {
    int type = config_setting_type(s);
    if (!is_int_type(type) && type != CONFIG_TYPE_FLOAT)
      return TACK_ETYPE;
    *out = setting_number(s);
    return 0;
  }
  *out = spec->def;
  return 0;
}

int tack_params_bool(const tack_plugin_desc *desc, const config_setting_t *params, const char *key,
                     int *out) {
  const tack_param_spec *spec;
  const config_setting_t *s;
  int rc = lookup(desc, params, key, TACK_PARAM_BOOL, &spec, &s);
  if (rc)
    return rc;
  if (s) {
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
      return TACK_ETYPE;
    *out = config_setting_get_bool(s) ? 1 : 0;
    return 0;
  }
  *out = spec->def != 0;
  return 0;
}

int tack_params_string(const tack_plugin_desc *desc, const config_setting_t *params,
                       const char *key, const char **out) {
  const tack_param_spec *spec;
  const config_setting_t *s;
  int rc = lookup(desc, params, key, TACK_PARAM_STRING, &spec, &s);
  if (rc)
    return rc;
  if (s) {
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
      return TACK_ETYPE;
    *out = config_setting_get_string(s);
    return 0;
  }
  *out = spec->def_str;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Printing                                                                  */
/* ------------------------------------------------------------------------ */

static void print_value(const tack_plugin_desc *desc, const config_setting_t *params,
                        const tack_param_spec *p, FILE *out) {
  char num[32];
  int64_t i;
  double v;
  int b;
  const char *str;
  if (p->flags & TACK_PARAM_SECRET) {
    fputs("***", out);
    return;
  }
  switch (p->type) {
  case TACK_PARAM_INT:
    if (tack_params_int(desc, params, p->name, &i) == 0) {
      fprintf(out, "%lld", (long long)i);
      return;
    }
    break;
  case TACK_PARAM_DOUBLE:
    if (tack_params_double(desc, params, p->name, &v) == 0) {
      fmt_double(v, num, sizeof num);
      fputs(num, out);
      return;
    }
    break;
  case TACK_PARAM_BOOL:
    if (tack_params_bool(desc, params, p->name, &b) == 0) {
      fputs(b ? "true" : "false", out);
      return;
    }
    break;
  case TACK_PARAM_STRING:
    if (tack_params_string(desc, params, p->name, &str) == 0) {
      if (str)
        fprintf(out, "\"%s\"", str);
      else
        fputs("(unset)", out);
      return;
    }
    break;
  default:
    break;
  }
  /* Only reachable for params that were never checked. */
  fputs("(invalid)", out);
}

void tack_params_print_values(const tack_plugin_desc *desc, const config_setting_t *params,
                              FILE *out) {
  const char *sep = "";
  for (const tack_param_spec *p = desc->params; p && p->name; p++) {
    fprintf(out, "%s%s=", sep, p->name);
    print_value(desc, params, p, out);
    sep = ", ";
  }
}

unsigned tack_setting_type_bit(const config_setting_t *s) {
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    return TACK_SETTING_INT;
  case CONFIG_TYPE_FLOAT:
    return TACK_SETTING_FLOAT;
  case CONFIG_TYPE_STRING:
    return TACK_SETTING_STRING;
  case CONFIG_TYPE_BOOL:
    return TACK_SETTING_BOOL;
  case CONFIG_TYPE_GROUP:
    return TACK_SETTING_GROUP;
  case CONFIG_TYPE_ARRAY:
    return TACK_SETTING_ARRAY;
  case CONFIG_TYPE_LIST:
    return TACK_SETTING_LIST;
  default:
    return 0;
  }
}

/* ------------------------------------------------------------------------ */
/* Checking a group against a schema                                         */
/* ------------------------------------------------------------------------ */

void tack_suggest_init(tack_suggest *sg, const char *target) {
  sg->target = target;
  sg->best = NULL;
  sg->best_dist = 3;
  sg->count = 0;
  sg->list[0] = '\0';
}

void tack_suggest_add(tack_suggest *sg, const char *name) {
  if (!name)
    return;
  int dist = tack_edit_distance(sg->target, name, 2);
  if (dist < sg->best_dist) {
    sg->best = name;
    sg->best_dist = dist;
  }
  size_t len = strlen(sg->list);
  if (len + 1 < sizeof sg->list)
    snprintf(sg->list + len, sizeof sg->list - len, "%s%s", sg->count ? ", " : "", name);
  sg->count++;
}

int tack_check_keys(tack_diag *d, const config_setting_t *group, const tack_key_spec *keys,
                    size_t n, const config_setting_t **found) {
  int hinted[TACK_MAX_KEYS] = {0};
  int problems = 0;
  char what[128];
  for (size_t k = 0; k < n; k++)
    found[k] = NULL;

  for (int i = 0; i < config_setting_length(group); i++) {
    const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
    const char *name = config_setting_name(s);
    size_t k = 0;
    while (k < n && strcmp(keys[k].name, name) != 0)
      k++;
    if (k == n) {
      tack_suggest sg;
      tack_suggest_init(&sg, name);
      for (size_t j = 0; j < n; j++)
        tack_suggest_add(&sg, keys[j].name);
      if (sg.best) {
        for (size_t j = 0; j < n; j++)
          if (keys[j].name == sg.best)
            hinted[j] = 1;
        tack_setting_report(d, s, NULL, "unknown setting (did you mean '%s'?)", sg.best);
      } else {
        tack_setting_report(d, s, NULL, "unknown setting; allowed here: %s", sg.list);
      }
      problems++;
      continue;
    }
    if (!(tack_setting_type_bit(s) & keys[k].types)) {
      tack_setting_describe(s, what, sizeof what);
      tack_setting_report(d, s, NULL, "must be %s, got %s", keys[k].expect, what);
      problems++;
      continue;
    }
    found[k] = s;
  }

  /* A misspelt key was already reported with its correction. */
  for (size_t k = 0; k < n; k++)
    if (keys[k].required && !hinted[k] && !config_setting_get_member(group, keys[k].name)) {
      tack_setting_report(d, group, keys[k].name, "required setting is missing (for example: %s)",
                          keys[k].example);
      problems++;
    }
  return problems;
}

int64_t tack_setting_int(const config_setting_t *s) {
  return config_setting_type(s) == CONFIG_TYPE_INT64 ? (int64_t)config_setting_get_int64(s)
                                                     : (int64_t)config_setting_get_int(s);
}

double tack_setting_number(const config_setting_t *s) {
  return tack_setting_type_bit(s) == TACK_SETTING_INT ? (double)tack_setting_int(s)
                                                      : config_setting_get_float(s);
}

void tack_check_problem(tack_checker *ck, const config_setting_t *s, const char *key,
                        const char *fmt, ...) {
  char body[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  if (config_setting_source_file(s)) {
    tack_setting_report(ck->d, s, key, "%s", body);
  } else {
    char path[256];
    tack_setting_path(s, path, sizeof path);
    tack_diag_add(ck->d, ck->file, 0, NULL, "%s%s%s: %s", path, key ? "." : "", key ? key : "",
                  body);
  }
  ck->problems++;
}
