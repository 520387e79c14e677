/*
 * config_override.c: "PATH=VALUE" overrides applied to a parsed libconfig
 * tree before config.c checks it (config_override.h), and
 * tack_config_load_with().
 *
 * A setting an override writes is a new setting (libconfig cannot change a
 * setting's type in place), so it would have no place for messages. It
 * gets one: its source file is the text "(override PATH=VALUE)", preceded
 * by the file and line of the setting it replaced, or else of its nearest
 * group that came from a file ("demo.cfg:14 (override ...)"), and its line
 * is 0, so a message about it reads
 *   demo.cfg:14 (override strategies.x.params.fast=0): strategies.x...: ...
 * The text is the setting's hook, freed with it by libconfig: the tree's
 * hooks and its destructor belong to this file.
 *
 * Removing a setting that is not there (or whose groups are not) changes
 * nothing and is no error: "PATH=" means "without PATH", which holds (the
 * backtest removes a venue's params whether it has any or not).
 *
 * Where a setting already exists, the new value keeps a type the schema
 * may accept there: an integer replacing a float is written as a float,
 * and an unquoted value replacing a string is the string as written (so
 * `params.mode=12` stays the string "12"). Otherwise the value's own type
 * is written and the schema judges it.
 */
#include "config_override.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "params.h"

/* Longest PATH; longer ones are refused. */
#define PATH_MAX_LEN 512
/* Deepest PATH: components separated by '.'. */
#define PATH_MAX_PARTS 16

/* A parsed VALUE. */
typedef struct value {
  int type;        /* CONFIG_TYPE_*, or CONFIG_TYPE_NONE: remove the setting */
  int quoted;      /* a string written in quotes */
  int64_t i;       /* CONFIG_TYPE_INT64 (written as INT when it fits 32 bits) */
  double f;        /* CONFIG_TYPE_FLOAT */
  int b;           /* CONFIG_TYPE_BOOL */
  char *s;         /* CONFIG_TYPE_STRING: owned */
  const char *raw; /* the text as written, trimmed (not owned) */
  size_t raw_len;
} value;

static void hook_free(void *hook) { tack_free(NULL, hook); }

static int is_space(char c) { return c == ' ' || c == '\t'; }

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static int hex_digit(char c) {
  if (is_digit(c))
    return c - '0';
  c = (char)lower(c);
  return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Case-insensitive equality of s[0..n) and word, as libconfig reads
 * booleans. */
static int word_is(const char *s, size_t n, const char *word) {
  if (strlen(word) != n)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (lower(s[i]) != word[i])
      return 0;
  return 1;
}

/* A setting name as libconfig writes it: [A-Za-z*][-A-Za-z0-9_*]*. */
static int valid_name(const char *s, size_t n) {
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*';
    if (!(alpha || (i > 0 && (is_digit(c) || c == '-' || c == '_'))))
      return 0;
  }
  return 1;
}

/* ------------------------------------------------------------------------ */
/* VALUE                                                                     */
/* ------------------------------------------------------------------------ */

/* An integer literal: [+-] then decimal digits or 0x and hex digits, then
 * an optional L or LL. 1 with *out set; 0 when s is not one; -1 when it is
 * one that does not fit in 64 bits. */
static int parse_int(const char *s, size_t n, int64_t *out) {
  size_t i = 0;
  int neg = 0;
  if (i < n && (s[i] == '+' || s[i] == '-'))
    neg = s[i++] == '-';
  for (int k = 0; k < 2 && n - i > 1 && (s[n - 1] == 'L' || s[n - 1] == 'l'); k++)
    n--;
  int hex = n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X');
  if (hex)
    i += 2;
  if (i == n)
    return 0;
  uint64_t v = 0, base = hex ? 16 : 10;
  int overflow = 0;
  for (; i < n; i++) {
    int digit = hex ? hex_digit(s[i]) : (is_digit(s[i]) ? s[i] - '0' : -1);
    if (digit < 0)
      return 0;
    if (v > (UINT64_MAX - (uint64_t)digit) / base)
      overflow = 1;
    else
      v = v * base + (uint64_t)digit;
  }
  if (overflow || v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
    return -1;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return 1;
}

/* A float literal: [+-] digits with a '.' or an exponent (so never "inf",
 * "nan" or a hex float). 1 with *out set, 0 otherwise. */
static int parse_float(const char *s, size_t n, double *out) {
  char buf[64];
  size_t i = 0, digits = 0;
  int point = 0, exponent = 0;
  if (n == 0 || n >= sizeof buf)
    return 0;
  if (s[i] == '+' || s[i] == '-')
    i++;
  for (; i < n && (is_digit(s[i]) || (s[i] == '.' && !point)); i++) {
    if (s[i] == '.')
      point = 1;
    else
      digits++;
  }
  if (digits == 0)
    return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    exponent = 1;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    size_t start = i;
    while (i < n && is_digit(s[i]))
      i++;
    if (i == start)
      return 0;
  }
  if (i != n || !(point || exponent))
    return 0;
  memcpy(buf, s, n);
  buf[n] = '\0';
  errno = 0;
  char *end = NULL;
  *out = strtod(buf, &end);
  return end == buf + n && errno != ERANGE;
}

/* A quoted string with libconfig's escapes (\\ \" \f \n \r \t \xHH) into
 * v->s. Returns 0, or -1 with the problem in why. */
static int parse_quoted(const char *s, size_t n, value *v, const char **why) {
  v->s = tack_alloc(NULL, n);
  if (!v->s) {
    *why = NULL;
    return TACK_ENOMEM;
  }
  size_t o = 0, i = 1;
  for (; i < n && s[i] != '"'; i++) {
    if (s[i] != '\\') {
      v->s[o++] = s[i];
      continue;
    }
    if (++i >= n) {
      *why = "a '\\' at the end";
      return TACK_EINVAL;
    }
    switch (s[i]) {
    case '\\':
    case '"':
      v->s[o++] = s[i];
      break;
    case 'f':
      v->s[o++] = '\f';
      break;
    case 'n':
      v->s[o++] = '\n';
      break;
    case 'r':
      v->s[o++] = '\r';
      break;
    case 't':
      v->s[o++] = '\t';
      break;
    case 'x': {
      int hi = i + 1 < n ? hex_digit(s[i + 1]) : -1;
      int lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
        *why = "\\x needs two hex digits, not 00";
        return TACK_EINVAL;
      }
      v->s[o++] = (char)(hi * 16 + lo);
      i += 2;
      break;
    }
    default:
      *why = "an unknown escape (use \\\\ \\\" \\f \\n \\r \\t or \\xHH)";
      return TACK_EINVAL;
    }
  }
  if (i >= n) {
    *why = "a string without its closing '\"'";
    return TACK_EINVAL;
  }
  if (i + 1 != n) {
    *why = "text after the closing '\"'";
    return TACK_EINVAL;
  }
  v->s[o] = '\0';
  v->type = CONFIG_TYPE_STRING;
  v->quoted = 1;
  return 0;
}

/* Parse s[0..n) (trimmed). Returns 0, TACK_EINVAL with why set, or
 * TACK_ENOMEM. */
static int parse_value(const char *s, size_t n, value *v, const char **why) {
  memset(v, 0, sizeof *v);
  v->raw = s;
  v->raw_len = n;
  if (n == 0) {
    v->type = CONFIG_TYPE_NONE;
    return 0;
  }
  if (s[0] == '"')
    return parse_quoted(s, n, v, why);
  if (word_is(s, n, "true") || word_is(s, n, "false")) {
    v->type = CONFIG_TYPE_BOOL;
    v->b = lower(s[0]) == 't';
    return 0;
  }
  int r = parse_int(s, n, &v->i);
  if (r > 0) {
    v->type = CONFIG_TYPE_INT64;
    return 0;
  }
  if (r < 0) {
    *why = "an integer that does not fit in 64 bits (write it with a '.' for a number)";
    return TACK_EINVAL;
  }
  if (parse_float(s, n, &v->f)) {
    v->type = CONFIG_TYPE_FLOAT;
    return 0;
  }
  v->s = tack_alloc(NULL, n + 1);
  if (!v->s)
    return TACK_ENOMEM;
  memcpy(v->s, s, n);
  v->s[n] = '\0';
  v->type = CONFIG_TYPE_STRING;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Writing into the tree                                                     */
/* ------------------------------------------------------------------------ */

/* The place a new setting is reported at: see the file comment. */
static char *place_text(const config_setting_t *near, const char *override) {
  /* Settings of earlier overrides have line 0: their place is not a file's. */
  const config_setting_t *from = near;
  while (from && !(config_setting_source_file(from) && config_setting_source_line(from) > 0))
    from = config_setting_parent(from);
  char head[PATH_MAX_LEN];
  head[0] = '\0';
  if (from)
    snprintf(head, sizeof head, "%s:%u ", config_setting_source_file(from),
             config_setting_source_line(from));
  size_t n = strlen(head) + strlen("(override )") + strlen(override) + 1;
  char *text = tack_alloc(NULL, n);
  if (text)
    snprintf(text, n, "%s(override %s)", head, override);
  return text;
}

/* Give s its place; its hook owns the text from now on. */
static void set_place(config_setting_t *s, char *text) {
  config_setting_set_hook(s, text);
  s->file = text;
  s->line = 0;
}

/* The type written where old (may be NULL) stood. */
static int written_type(const value *v, const config_setting_t *old) {
  int was = old ? config_setting_type(old) : CONFIG_TYPE_NONE;
  if (was == CONFIG_TYPE_STRING && !v->quoted)
    return CONFIG_TYPE_STRING;
  if (v->type == CONFIG_TYPE_INT64) {
    if (was == CONFIG_TYPE_FLOAT)
      return CONFIG_TYPE_FLOAT;
    if (was != CONFIG_TYPE_INT64 && v->i >= INT32_MIN && v->i <= INT32_MAX)
      return CONFIG_TYPE_INT;
  }
  return v->type;
}

static int write_value(config_setting_t *s, const value *v, int type) {
  int ok = CONFIG_FALSE;
  switch (type) {
  case CONFIG_TYPE_INT:
    ok = config_setting_set_int(s, (int)v->i);
    break;
  case CONFIG_TYPE_INT64:
    ok = config_setting_set_int64(s, (long long)v->i);
    break;
  case CONFIG_TYPE_FLOAT:
    ok = config_setting_set_float(s, v->type == CONFIG_TYPE_FLOAT ? v->f : (double)v->i);
    break;
  case CONFIG_TYPE_BOOL:
    ok = config_setting_set_bool(s, v->b);
    break;
  case CONFIG_TYPE_STRING:
    if (v->s) {
      ok = config_setting_set_string(s, v->s);
    } else {
      char *raw = tack_alloc(NULL, v->raw_len + 1);
      if (!raw)
        return TACK_ENOMEM;
      memcpy(raw, v->raw, v->raw_len);
      raw[v->raw_len] = '\0';
      ok = config_setting_set_string(s, raw);
      tack_free(NULL, raw);
    }
    break;
  default:
    break;
  }
  return ok == CONFIG_TRUE ? 0 : TACK_ENOMEM;
}

/* "a group (demo.cfg:12)": what s is and where, for messages. */
static void what_where(const config_setting_t *s, char *buf, size_t cap) {
  if (config_setting_source_file(s) && config_setting_source_line(s) > 0)
    snprintf(buf, cap, "%s (%s:%u)", tack_setting_type_name(s), config_setting_source_file(s),
             config_setting_source_line(s));
  else
    snprintf(buf, cap, "%s", tack_setting_type_name(s));
}

static int bad(tack_diag *d, const char *override, const char *fmt, ...) TACK_PRINTF(3, 4);
static int bad(tack_diag *d, const char *override, const char *fmt, ...) {
  char body[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  tack_diag_add(d, NULL, 0, NULL, "override '%s': %s", override, body);
  return TACK_EINVAL;
}

int tack_config_override(config_t *lc, const char *override, tack_diag *d) {
  char path[PATH_MAX_LEN];
  const char *parts[PATH_MAX_PARTS];
  size_t n_parts = 0;
  value v;
  const char *why = "not a value";
  int rc;

  memset(&v, 0, sizeof v);
  config_set_destructor(lc, hook_free);
  const char *eq = strchr(override, '=');
  if (!eq)
    return bad(d, override, "write PATH=VALUE (strategies.NAME.params.KEY=12; PATH= removes it)");

  /* PATH, trimmed, split at '.'. */
  const char *p = override, *pe = eq;
  while (p < pe && is_space(*p))
    p++;
  while (pe > p && is_space(pe[-1]))
    pe--;
  if (p == pe)
    return bad(d, override, "no setting path before '='");
  if ((size_t)(pe - p) >= sizeof path)
    return bad(d, override, "the path is longer than %d characters", PATH_MAX_LEN - 1);
  memcpy(path, p, (size_t)(pe - p));
  path[pe - p] = '\0';
  for (char *c = path;;) {
    char *dot = strchr(c, '.');
    size_t len = dot ? (size_t)(dot - c) : strlen(c);
    if (memchr(c, '[', len))
      return bad(d, override,
                 "list elements cannot be overridden; change the file, or override a setting of "
                 "a group");
    if (!valid_name(c, len))
      return bad(d, override,
                 "'%.*s' is not a setting name (letters, digits, '-', '_' and '*', starting with "
                 "a letter); the path is group names joined by '.'",
                 (int)len, c);
    if (n_parts == PATH_MAX_PARTS)
      return bad(d, override, "the path is deeper than %d settings", PATH_MAX_PARTS);
    parts[n_parts++] = c;
    if (!dot)
      break;
    *dot = '\0';
    c = dot + 1;
  }

  /* VALUE, trimmed. */
  const char *vs = eq + 1, *ve = eq + strlen(eq);
  while (vs < ve && is_space(*vs))
    vs++;
  while (ve > vs && is_space(ve[-1]))
    ve--;
  rc = parse_value(vs, (size_t)(ve - vs), &v, &why);
  if (rc == TACK_EINVAL) {
    bad(d, override, "malformed value: %s", why);
    goto done;
  }
  if (rc)
    goto done;

  /* Walk the groups, creating missing ones (unless removing). */
  config_setting_t *group = config_root_setting(lc);
  char shown[PATH_MAX_LEN];
  size_t shown_len = 0;
  for (size_t k = 0; k + 1 < n_parts; k++) {
    int wrote =
        snprintf(shown + shown_len, sizeof shown - shown_len, "%s%s", k ? "." : "", parts[k]);
    shown_len += (size_t)wrote;
    config_setting_t *next = config_setting_get_member(group, parts[k]);
    if (!next && v.type == CONFIG_TYPE_NONE)
      goto done; /* nothing to remove */
    if (!next) {
      char *place = place_text(group, override);
      next = place ? config_setting_add(group, parts[k], CONFIG_TYPE_GROUP) : NULL;
      if (!next) {
        tack_free(NULL, place);
        rc = TACK_ENOMEM;
        goto done;
      }
      set_place(next, place);
    } else if (!config_setting_is_group(next)) {
      char what[256];
      what_where(next, what, sizeof what);
      rc = bad(d, override, "%s is %s, not a group%s", shown, what,
               config_setting_is_list(next) || config_setting_is_array(next)
                   ? ": list elements cannot be overridden"
                   : "");
      goto done;
    }
    group = next;
  }

  const char *name = parts[n_parts - 1];
  config_setting_t *old = config_setting_get_member(group, name);
  if (v.type == CONFIG_TYPE_NONE) {
    if (old && config_setting_remove(group, name) != CONFIG_TRUE)
      rc = TACK_ENOMEM;
    goto done;
  }
  if (old && config_setting_is_aggregate(old)) {
    char what[256];
    what_where(old, what, sizeof what);
    rc = bad(d, override,
             "the setting is %s: override the settings inside it one by one, or remove it "
             "(PATH=) and add them",
             what);
    goto done;
  }
  int type = written_type(&v, old);
  /* The replaced setting's place, before it goes. */
  char *place = place_text(old ? old : group, override);
  if (!place) {
    rc = TACK_ENOMEM;
    goto done;
  }
  if (old)
    config_setting_remove(group, name);
  config_setting_t *s = config_setting_add(group, name, type);
  if (!s) {
    tack_free(NULL, place);
    rc = TACK_ENOMEM;
    goto done;
  }
  set_place(s, place);
  rc = write_value(s, &v, type);

done:
  if (rc == TACK_ENOMEM)
    tack_diag_add(d, NULL, 0, NULL, "override '%s': out of memory", override);
  tack_free(NULL, v.s);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct override_list {
  const char *const *items;
  size_t n;
} override_list;

/* Every override, so that all malformed ones are reported at once. */
static int apply_all(config_t *lc, void *data, tack_diag *d) {
  const override_list *list = data;
  int rc = 0;
  for (size_t i = 0; i < list->n; i++) {
    int r = tack_config_override(lc, list->items[i], d);
    if (r == TACK_ENOMEM)
      return r;
    if (r && !rc)
      rc = r;
  }
  return rc;
}

int tack_config_load_with(const char *path, const char *const *overrides, size_t n,
                          tack_config **out, tack_diag *d) {
  override_list list = {overrides, n};
  return tack__config_load_edited(path, 0, n ? apply_all : NULL, &list, out, d);
}
