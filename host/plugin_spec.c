/*
 * plugin_spec.c: "NAME[:PARAMS]" specs to checked params groups and
 * standalone instances, filter chains over them, and the plugin lookup the
 * command-line tools share. See plugin_spec.h.
 *
 * The params group is a libconfig group built in memory, so that the
 * host's one checker (tack_params_check) and the plugin's own configure see
 * what they would see from a config file. Their messages name settings by
 * path ("period: must be ..."), with no file or line; relay() rewrites each
 * one to name the spec and the parameter as the user wrote it instead.
 */
#include "plugin_spec.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "csv.h"
#include "instance.h"
#include "params.h"

/* Output buffer of a filter: first size, and the most it grows to (a Renko
 * bar moving a million bricks is a wrong brick size, not a market). */
#define FILTER_CAP_FIRST 256u
#define FILTER_CAP_MAX (1u << 20)
/* Similar plugin ids listed for an unknown one. */
#define MAX_SIMILAR 5
/* Longest part of a value quoted back in a message. */
#define QUOTE_MAX 40
/* Longest parameter name relay() looks up. */
#define KEY_MAX 64

/* A parameter the text set, to name it as the user wrote it. */
typedef struct spec_value {
  const char *key; /* the parameter's name: the plugin's static string */
  size_t position; /* 1-based among the positional values; 0 when named */
} spec_value;

struct tack_plugin_spec {
  char *text; /* as given, secret values as "***": every message starts with it */
  const tack_plugin_desc *desc;
  config_t lc; /* its root group is the params group */
  tack_cfg_instance ci;
  char owner[160]; /* "<section>.<id>": the instance's setting path in messages */
  spec_value *values;
  size_t n_values;
  tack_ctx *ctx;
  tack_bar *buf; /* filter output */
  uint32_t cap;
};

static void report(tack_diag *d, const char *text, const char *fmt, ...) TACK_PRINTF(3, 4);
static void report(tack_diag *d, const char *text, const char *fmt, ...) {
  char body[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  tack_diag_add(d, NULL, 0, NULL, "%s: %s", text, body);
}

/* s for a message: at most QUOTE_MAX bytes, control characters as '?'. */
static const char *quote(const char *s, char *buf, size_t cap) {
  size_t n = 0;
  for (; s[n] && n < QUOTE_MAX && n + 4 < cap; n++)
    buf[n] = ((unsigned char)s[n] < 0x20 || s[n] == 0x7f) ? '?' : s[n];
  if (s[n] && n + 4 <= cap) {
    memcpy(buf + n, "...", 3);
    n += 3;
  }
  buf[n] = '\0';
  return buf;
}

static const char *section_of(uint32_t kind) {
  switch (kind) {
  case TACK_KIND_EXCHANGE:
    return "exchanges";
  case TACK_KIND_FILTER:
    return "filters";
  case TACK_KIND_INDICATOR:
    return "indicators";
  case TACK_KIND_SCORER:
    return "scorers";
  case TACK_KIND_STRATEGY:
    return "strategies";
  default:
    return "plugins";
  }
}

static const char *kind_phrase(uint32_t kind) {
  switch (kind) {
  case TACK_KIND_EXCHANGE:
    return "an exchange adapter";
  case TACK_KIND_FILTER:
    return "a filter";
  case TACK_KIND_INDICATOR:
    return "an indicator";
  case TACK_KIND_SCORER:
    return "a scorer";
  case TACK_KIND_STRATEGY:
    return "a strategy";
  default:
    return "of an unknown kind";
  }
}

static size_t count_params(const tack_plugin_desc *desc) {
  size_t n = 0;
  for (const tack_param_spec *p = desc->params; p && p->name; p++)
    n++;
  return n;
}

/* The spec of key[0 .. len), NULL when the plugin does not declare it. */
static const tack_param_spec *find_param_n(const tack_plugin_desc *desc, const char *key,
                                           size_t len) {
  for (const tack_param_spec *p = desc->params; p && p->name; p++)
    if (strlen(p->name) == len && strncmp(p->name, key, len) == 0)
      return p;
  return NULL;
}

static int is_secret(const tack_param_spec *p) { return (p->flags & TACK_PARAM_SECRET) != 0; }

/* "period, source": the plugin's parameters in order; returns how many. */
static size_t param_list(const tack_plugin_desc *desc, char *buf, size_t cap) {
  size_t len = 0, n = 0;
  buf[0] = '\0';
  for (const tack_param_spec *p = desc->params; p && p->name; p++, n++) {
    int k = snprintf(buf + len, cap - len, "%s%s", n ? ", " : "", p->name);
    if (k > 0 && (size_t)k < cap - len)
      len += (size_t)k;
  }
  return n;
}

/* text with the value of every secret parameter as "***": what messages
 * show. NULL when out of memory. */
static char *mask_secrets(const char *text, const tack_plugin_desc *desc) {
  size_t n = strlen(text), items = 1;
  for (size_t i = 0; i < n; i++)
    items += text[i] == ',';
  char *out = tack_alloc(NULL, n + 3 * items + 1);
  if (!out)
    return NULL;
  const char *colon = strchr(text, ':');
  if (!colon) {
    memcpy(out, text, n + 1);
    return out;
  }
  size_t len = (size_t)(colon - text) + 1, position = 0, n_params = count_params(desc);
  memcpy(out, text, len);
  for (const char *item = colon + 1;; item++) {
    size_t item_len = strcspn(item, ",");
    const char *eq = memchr(item, '=', item_len);
    const tack_param_spec *p = NULL;
    size_t keep = 0; /* bytes shown before the value */
    if (eq) {
      keep = (size_t)(eq - item) + 1;
      p = find_param_n(desc, item, keep - 1);
    } else if (++position <= n_params) {
      p = &desc->params[position - 1];
    }
    if (p && is_secret(p) && item_len > keep) {
      memcpy(out + len, item, keep);
      memcpy(out + len + keep, "***", 3);
      len += keep + 3;
    } else {
      memcpy(out + len, item, item_len);
      len += item_len;
    }
    item += item_len;
    if (*item != ',')
      break;
    out[len++] = ',';
  }
  out[len] = '\0';
  return out;
}

/* How messages name the parameter key: as the text set it. */
static void label(const tack_plugin_spec *s, const char *key, char *buf, size_t cap) {
  for (size_t i = 0; i < s->n_values; i++) {
    if (strcmp(s->values[i].key, key) == 0 && s->values[i].position > 0) {
      snprintf(buf, cap, "parameter %zu ('%s')", s->values[i].position, key);
      return;
    }
  }
  snprintf(buf, cap, "parameter '%s'", key);
}

/* Add the messages of from to d, naming the spec and the parameter:
 * "<prefix><key>: body" becomes "<text>: <label>: body", "<owner>: body"
 * becomes "<text>: body", and a complaint about the parameters as a whole,
 * "<owner>.params: body", becomes "<text>: parameters: body". */
static void relay(const tack_plugin_spec *s, const tack_diag *from, const char *prefix,
                  tack_diag *d) {
  char key[KEY_MAX + 1], name[KEY_MAX + 32];
  size_t np = strlen(prefix), no = strlen(s->owner);
  for (size_t i = 0; i < from->n; i++) {
    const char *m = from->msgs[i];
    if (strncmp(m, prefix, np) == 0) {
      const char *rest = m + np;
      const char *colon = strstr(rest, ": ");
      size_t len = colon ? (size_t)(colon - rest) : 0;
      if (colon && len <= KEY_MAX) {
        memcpy(key, rest, len);
        key[len] = '\0';
        if (tack_params_find(s->desc, key)) {
          label(s, key, name, sizeof name);
          report(d, s->text, "%s: %s", name, colon + 2);
          continue;
        }
      }
    }
    if (strncmp(m, s->owner, no) == 0 && strncmp(m + no, ": ", 2) == 0)
      report(d, s->text, "%s", m + no + 2);
    else if (strncmp(m, s->owner, no) == 0 && strncmp(m + no, ".params: ", 9) == 0)
      report(d, s->text, "parameters: %s", m + no + 9);
    else
      report(d, s->text, "%s", m);
  }
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                   */
/* ------------------------------------------------------------------------ */

static int parse_int(const char *text, long long *out) {
  char *end;
  if (!((*text >= '0' && *text <= '9') || *text == '-' || *text == '+'))
    return TACK_EPARSE; /* strtoll would skip spaces */
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (end == text || *end)
    return TACK_EPARSE;
  if (errno == ERANGE)
    return TACK_ERANGE;
  *out = v;
  return 0;
}

/* Add value to root as parameter p, typed by p. 0, TACK_EPARSE with why
 * set, or TACK_ENOMEM. */
static int add_value(config_setting_t *root, const tack_param_spec *p, const char *value, char *why,
                     size_t cap) {
  char q[QUOTE_MAX + 8];
  config_setting_t *st = NULL;
  long long i = 0;
  double v = 0;
  int rc = 0;
  /* A secret's value never appears in a message. */
  const char *got = is_secret(p) ? "***" : quote(value, q, sizeof q);

  switch (p->type) {
  case TACK_PARAM_INT:
    rc = parse_int(value, &i);
    if (rc == TACK_ERANGE)
      snprintf(why, cap, "'%s' is beyond the range of a 64-bit integer", got);
    else if (rc != 0)
      snprintf(why, cap, "must be an integer, got '%s'", got);
    else if (i >= INT_MIN && i <= INT_MAX) {
      if ((st = config_setting_add(root, p->name, CONFIG_TYPE_INT)))
        config_setting_set_int(st, (int)i);
    } else if ((st = config_setting_add(root, p->name, CONFIG_TYPE_INT64))) {
      config_setting_set_int64(st, i);
    }
    break;
  case TACK_PARAM_DOUBLE:
    rc = tack_csv_parse_number(value, &v);
    if (rc == TACK_ERANGE)
      snprintf(why, cap, "'%s' is beyond the range of a double", got);
    else if (rc != 0)
      snprintf(why, cap, "must be a number, got '%s'", got);
    else if ((st = config_setting_add(root, p->name, CONFIG_TYPE_FLOAT)))
      config_setting_set_float(st, v);
    break;
  case TACK_PARAM_BOOL:
    if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
      snprintf(why, cap, "must be true or false, got '%s'", got);
      rc = TACK_EPARSE;
    } else if ((st = config_setting_add(root, p->name, CONFIG_TYPE_BOOL))) {
      config_setting_set_bool(st, value[0] == 't');
    }
    break;
  case TACK_PARAM_STRING:
    if ((st = config_setting_add(root, p->name, CONFIG_TYPE_STRING)))
      config_setting_set_string(st, value);
    break;
  default:
    snprintf(why, cap,
             "the plugin declares it with type %u, which this host does not know; rebuild the "
             "plugin against this SDK",
             p->type);
    rc = TACK_EPARSE;
    break;
  }
  if (rc != 0)
    return TACK_EPARSE;
  /* The name was checked against the spec and for repeats before: a
   * failure here is memory (or a name libconfig cannot hold, which no
   * config file could set either). */
  if (!st) {
    snprintf(why, cap, "cannot be stored (out of memory, or a name a config cannot hold)");
    return TACK_ENOMEM;
  }
  return 0;
}

static void report_unknown_param(const tack_plugin_spec *s, const char *key, size_t item,
                                 tack_diag *d) {
  char list[512], q[QUOTE_MAX + 8];
  const tack_param_spec *best = NULL;
  int best_dist = 3;
  for (const tack_param_spec *p = s->desc->params; p && p->name; p++) {
    int dist = tack_edit_distance(key, p->name, 2);
    if (dist < best_dist) {
      best = p;
      best_dist = dist;
    }
  }
  quote(key, q, sizeof q);
  if (best)
    report(d, s->text, "parameter %zu: plugin %s has no parameter '%s' (did you mean '%s'?)", item,
           s->desc->id, q, best->name);
  else if (param_list(s->desc, list, sizeof list))
    report(d, s->text, "parameter %zu: plugin %s has no parameter '%s' (it takes: %s)", item,
           s->desc->id, q, list);
  else
    report(d, s->text, "parameter %zu: plugin %s takes no parameters", item, s->desc->id);
}

/* One comma-separated item, the item-th (from 1); *named says a name=value
 * came before. 0, TACK_EPARSE (reported) or TACK_ENOMEM. */
static int parse_item(tack_plugin_spec *s, char *item, size_t item_no, int *named, tack_diag *d) {
  char why[256], name[KEY_MAX + 32], q[QUOTE_MAX + 8], list[512];
  config_setting_t *root = config_root_setting(&s->lc);
  const tack_param_spec *p;
  const char *value;
  size_t position = 0;

  if (!*item) {
    report(d, s->text, "parameter %zu is empty (two commas in a row, or one at the end?)", item_no);
    return TACK_EPARSE;
  }
  char *eq = strchr(item, '=');
  if (eq) {
    *eq = '\0';
    value = eq + 1;
    *named = 1;
    if (!*item) {
      report(d, s->text, "parameter %zu has no name before '='", item_no);
      return TACK_EPARSE;
    }
    p = tack_params_find(s->desc, item);
    if (!p) {
      report_unknown_param(s, item, item_no, d);
      return TACK_EPARSE;
    }
  } else {
    value = item;
    if (*named) {
      report(d, s->text,
             "parameter %zu has no name but follows a named one: positional values come first",
             item_no);
      return TACK_EPARSE;
    }
    position = item_no;
    size_t n_params = param_list(s->desc, list, sizeof list);
    if (position > n_params) {
      if (n_params == 0)
        report(d, s->text, "parameter %zu ('%s'): plugin %s takes no parameters", item_no,
               quote(value, q, sizeof q), s->desc->id);
      else
        report(d, s->text,
               "parameter %zu ('%s'): too many values: plugin %s takes %zu parameter%s, in this "
               "order: %s",
               item_no, quote(value, q, sizeof q), s->desc->id, n_params, n_params == 1 ? "" : "s",
               list);
      return TACK_EPARSE;
    }
    p = &s->desc->params[position - 1];
  }

  if (position)
    snprintf(name, sizeof name, "parameter %zu ('%s')", position, p->name);
  else
    snprintf(name, sizeof name, "parameter '%s'", p->name);
  if (!*value) {
    report(d, s->text, "%s has no value after '='", name);
    return TACK_EPARSE;
  }
  if (config_setting_get_member(root, p->name)) {
    char first[KEY_MAX + 32];
    label(s, p->name, first, sizeof first);
    report(d, s->text, "%s is set twice (first as %s)", name, first);
    return TACK_EPARSE;
  }
  int rc = add_value(root, p, value, why, sizeof why);
  if (rc != 0) {
    report(d, s->text, "%s: %s", name, why);
    return rc;
  }
  s->values[s->n_values].key = p->name;
  s->values[s->n_values].position = position;
  s->n_values++;
  return 0;
}

static int parse_list(tack_plugin_spec *s, char *list, tack_diag *d) {
  size_t n_items = 1;
  int named = 0, problems = 0;
  if (!*list) {
    report(d, s->text, "nothing after ':' (write the plugin id alone for its default parameters)");
    return TACK_EPARSE;
  }
  for (const char *p = list; *p; p++)
    n_items += *p == ',';
  s->values = tack_calloc(NULL, n_items, sizeof *s->values);
  if (!s->values)
    return TACK_ENOMEM;
  char *item = list;
  for (size_t i = 1; item; i++) {
    char *comma = strchr(item, ',');
    if (comma)
      *comma = '\0';
    int rc = parse_item(s, item, i, &named, d);
    if (rc == TACK_ENOMEM)
      return rc;
    problems += rc != 0;
    item = comma ? comma + 1 : NULL;
  }
  return problems ? TACK_EPARSE : 0;
}

/* Close enough to suggest: two edits, or one id starts with the other. */
static int similar_id(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;
  return tack_edit_distance(a, b, 2) <= 2 || (n >= 3 && strncmp(a, b, n) == 0);
}

static void report_unknown_plugin(const char *text, const char *id, uint32_t kind,
                                  const tack_plugin_set *set, tack_diag *d) {
  char similar[512], q[QUOTE_MAX + 8];
  size_t len = 0, listed = 0;
  similar[0] = '\0';
  /* Plugins of the wanted kind first: those are what the user can use. */
  for (int same_kind = 1; same_kind >= 0; same_kind--) {
    for (size_t i = 0; i < set->n_plugins && listed < MAX_SIMILAR; i++) {
      const tack_plugin_desc *desc = set->plugins[i]->desc;
      if ((desc->kind == kind) != same_kind || !similar_id(id, desc->id))
        continue;
      int n = snprintf(similar + len, sizeof similar - len, "%s%s (%s)", listed ? ", " : "",
                       desc->id, tack_kind_name(desc->kind));
      if (n > 0 && (size_t)n < sizeof similar - len)
        len += (size_t)n;
      listed++;
    }
  }
  char refused[160] = "";
  if (set->n_refusals)
    snprintf(refused, sizeof refused, " (%zu plugin %s refused: `tack plugins` says why)",
             set->n_refusals,
             set->n_refusals == 1 ? "file or folder was" : "files or folders were");
  quote(id, q, sizeof q);
  if (listed)
    report(d, text, "no plugin '%s' is loaded; did you mean: %s?%s", q, similar, refused);
  else if (set->n_plugins == 0)
    report(d, text,
           "no plugin '%s': no plugins are loaded at all; check --plugin-dir and "
           "TACK_PLUGIN_PATH%s",
           q, refused);
  else
    report(d, text, "no plugin '%s' is loaded; `tack plugins` lists the %zu loaded plugins%s", q,
           set->n_plugins, refused);
}

static const tack_plugin *find_plugin(const tack_plugin_set *set, const char *id) {
  for (size_t i = 0; i < set->n_plugins; i++)
    if (strcmp(set->plugins[i]->desc->id, id) == 0)
      return set->plugins[i];
  return NULL;
}

int tack_plugin_spec_new(const char *text, uint32_t kind, const tack_plugin_set *set, tack_diag *d,
                         tack_plugin_spec **out) {
  tack_plugin_spec *s = NULL;
  char *work = NULL;
  tack_diag found = TACK_DIAG_INIT;
  size_t n_before = d->n; /* an out-of-memory with no message of its own gets one */
  int rc;
  *out = NULL;
  if (!text || !set)
    return TACK_EINVAL;

  s = tack_calloc(NULL, 1, sizeof *s);
  if (!s) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  config_init(&s->lc);
  work = tack_strdup(NULL, text);
  if (!work) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  char *list = strchr(work, ':');
  if (list)
    *list++ = '\0';
  if (!*work) {
    report(d, text, "%s", *text ? "no plugin id before ':'" : "empty plugin spec: name a plugin");
    rc = TACK_EPARSE;
    goto fail;
  }
  const tack_plugin *plugin = find_plugin(set, work);
  if (!plugin) {
    report_unknown_plugin(text, work, kind, set, d);
    rc = TACK_ENOENT;
    goto fail;
  }
  s->desc = plugin->desc;
  s->text = mask_secrets(text, s->desc);
  if (!s->text) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  if (s->desc->kind != kind) {
    report(d, s->text, "plugin '%s' is %s, not %s", s->desc->id, kind_phrase(s->desc->kind),
           kind_phrase(kind));
    rc = TACK_ETYPE;
    goto fail;
  }
  snprintf(s->owner, sizeof s->owner, "%s.%s", section_of(kind), s->desc->id);
  if (list) {
    rc = parse_list(s, list, d);
    if (rc != 0)
      goto fail;
  }
  rc = tack_params_check(s->desc, config_root_setting(&s->lc), &found);
  relay(s, &found, "", d);
  if (rc != 0)
    goto fail;

  s->ci.name = s->desc->id;
  s->ci.section = section_of(kind);
  s->ci.kind = kind;
  s->ci.plugin_id = s->desc->id;
  s->ci.plugin = plugin;
  s->ci.params = config_root_setting(&s->lc);
  tack_diag_free(&found);
  tack_free(NULL, work);
  *out = s;
  return 0;

fail:
  if (rc == TACK_ENOMEM && d->n == n_before)
    report(d, text, "out of memory");
  tack_diag_free(&found);
  tack_free(NULL, work);
  tack_plugin_spec_free(s);
  return rc;
}

int tack_plugin_spec_malformed(int rc) {
  return rc == TACK_EPARSE || rc == TACK_ENOENT || rc == TACK_ETYPE;
}

int tack_plugin_spec_start(tack_plugin_spec *s, tack_diag *d) {
  tack_diag found = TACK_DIAG_INIT;
  tack_ctx *ctx = NULL;
  char prefix[sizeof s->owner + 16];
  if (s->ctx)
    return TACK_ESTATE;
  int rc = tack_instance_new(&s->ci, NULL, &found, &ctx);
  snprintf(prefix, sizeof prefix, "%s.params.", s->owner);
  relay(s, &found, prefix, d);
  tack_diag_free(&found);
  if (rc != 0)
    return rc;
  rc = tack_instance_start(ctx);
  if (rc != 0) {
    report(d, s->text, "plugin %s: start failed: %s (%s)", s->desc->id, tack_strerror(rc),
           tack_err_name(rc));
    tack_instance_free(ctx);
    return rc;
  }
  s->ctx = ctx;
  return 0;
}

void tack_plugin_spec_free(tack_plugin_spec *s) {
  if (!s)
    return;
  tack_instance_free(s->ctx);
  config_destroy(&s->lc);
  tack_free(NULL, s->values);
  tack_free(NULL, s->buf);
  tack_free(NULL, s->text);
  tack_free(NULL, s);
}

const char *tack_plugin_spec_text(const tack_plugin_spec *s) { return s->text; }

const tack_plugin_desc *tack_plugin_spec_desc(const tack_plugin_spec *s) { return s->desc; }

const config_setting_t *tack_plugin_spec_params(const tack_plugin_spec *s) {
  return config_root_setting(&s->lc);
}

const tack_cfg_instance *tack_plugin_spec_config(const tack_plugin_spec *s) { return &s->ci; }

tack_ctx *tack_plugin_spec_instance(const tack_plugin_spec *s) { return s->ctx; }

/* ------------------------------------------------------------------------ */
/* Running filters                                                           */
/* ------------------------------------------------------------------------ */

int tack_plugin_spec_filter(tack_plugin_spec *s, const tack_bar *in, const tack_bar **out,
                            uint32_t *n_out) {
  *out = NULL;
  *n_out = 0;
  if (!s->ctx)
    return TACK_ESTATE;
  for (;;) {
    if (!s->buf) {
      s->buf = tack_calloc(NULL, FILTER_CAP_FIRST, sizeof *s->buf);
      if (!s->buf)
        return TACK_ENOMEM;
      s->cap = FILTER_CAP_FIRST;
    }
    uint32_t n = 0;
    int rc = tack_instance_filter_update(s->ctx, in, s->buf, s->cap, &n);
    if (rc == TACK_ENOSPC && s->cap < FILTER_CAP_MAX) {
      /* The filter changed nothing: ask again with room for more. */
      tack_bar *grown = tack_realloc(NULL, s->buf, (size_t)s->cap * 4 * sizeof *s->buf);
      if (!grown)
        return TACK_ENOMEM;
      s->buf = grown;
      s->cap *= 4;
      continue;
    }
    if (rc != 0)
      return rc;
    if (n > s->cap)
      return TACK_EPLUGIN; /* claims more bars than it had room for */
    *out = s->buf;
    *n_out = n;
    return 0;
  }
}

static int run_from(tack_plugin_spec *const *chain, size_t n, size_t i, const tack_bar *bar,
                    tack_plugin_spec_bar_cb emit, void *data, size_t *failed) {
  if (i == n) {
    int rc = emit(data, bar);
    if (rc != 0)
      *failed = n;
    return rc;
  }
  const tack_bar *out;
  uint32_t n_out;
  int rc = tack_plugin_spec_filter(chain[i], bar, &out, &n_out);
  if (rc != 0) {
    *failed = i;
    return rc;
  }
  /* out is chain[i]'s buffer, which the later filters never touch. */
  for (uint32_t k = 0; k < n_out; k++) {
    rc = run_from(chain, n, i + 1, &out[k], emit, data, failed);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int tack_plugin_spec_run_filters(tack_plugin_spec *const *chain, size_t n, const tack_bar *bar,
                                 tack_plugin_spec_bar_cb emit, void *data, size_t *failed) {
  return run_from(chain, n, 0, bar, emit, data, failed);
}

/* ------------------------------------------------------------------------ */
/* Finding plugins                                                           */
/* ------------------------------------------------------------------------ */

int tack_plugin_spec_load(tack_loader *ld, const char *const *dirs, size_t n_dirs,
                          tack_diag *warnings) {
  for (size_t i = 0; i < n_dirs; i++) {
    int rc = tack_loader_scan_dir(ld, dirs[i]);
    if (rc == TACK_ENOMEM)
      return rc;
    if (rc != 0) {
      /* The loader recorded the folder's refusal last; it names the path. */
      size_t n = tack_loader_refusal_count(ld);
      const tack_refusal *r = n ? tack_loader_refusal_at(ld, n - 1) : NULL;
      if (r && r->message)
        tack_diag_add(warnings, NULL, 0, NULL, "--plugin-dir: %s", r->message);
      else
        tack_diag_add(warnings, dirs[i], 0, NULL, "--plugin-dir: cannot read the folder: %s",
                      tack_strerror(rc));
    }
  }
  int rc = tack_loader_scan_defaults(ld, NULL);
  return rc == TACK_ENOMEM ? rc : 0;
}

int tack_plugin_spec_set_init(tack_plugin_set *set, const tack_loader *ld) {
  size_t n = tack_loader_count(ld), m = tack_loader_refusal_count(ld);
  memset(set, 0, sizeof *set);
  const tack_plugin **plugins = tack_calloc(NULL, n ? n : 1, sizeof *plugins);
  const tack_refusal **refusals = tack_calloc(NULL, m ? m : 1, sizeof *refusals);
  if (!plugins || !refusals) {
    tack_free(NULL, (void *)plugins);
    tack_free(NULL, (void *)refusals);
    return TACK_ENOMEM;
  }
  for (size_t i = 0; i < n; i++)
    plugins[i] = tack_loader_at(ld, i);
  for (size_t i = 0; i < m; i++)
    refusals[i] = tack_loader_refusal_at(ld, i);
  set->plugins = plugins;
  set->n_plugins = n;
  set->refusals = refusals;
  set->n_refusals = m;
  return 0;
}

void tack_plugin_spec_set_free(tack_plugin_set *set) {
  tack_free(NULL, (void *)set->plugins);
  tack_free(NULL, (void *)set->refusals);
  memset(set, 0, sizeof *set);
}
