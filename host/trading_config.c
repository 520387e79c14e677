/*
 * trading_config.c: reads and checks the `trading` settings of a config
 * (trading_config.h): the account-wide groups, each symbol's overrides and
 * each strategies entry's exits, merged key by key into one policy per
 * symbol. config.c checks that the groups are groups; everything inside
 * them is checked here.
 *
 * The groups that may be overridden (sizing, exits, limits, orders) are
 * read as layers, each setting once: the global group, each strategies
 * entry's exits, each symbol's own group. A symbol's policy is the defaults
 * with the layers laid over them, most general first, remembering for each
 * key the setting it came from. Ranges are the business of sizing.h and
 * risk.h: their checks run on every merged policy, and a refused field is
 * reported at the setting that gave it its value (each setting once, however
 * many symbols inherit it).
 */
#include "trading_config.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "orders.h"
#include "params.h"

/* Longest order timeout and shutdown timeout: a week, as for timeframes. */
#define DURATION_MAX_S (7u * 86400u)
#define NS_PER_S UINT64_C(1000000000)

/* ------------------------------------------------------------------------ */
/* The schema                                                                */
/* ------------------------------------------------------------------------ */

/* How a key's value is read and stored. */
enum {
  K_NUMBER,  /* double; an int or a float setting */
  K_UINT,    /* uint32_t; an integer setting */
  K_BOOL,    /* int */
  K_CHOICE,  /* uint32_t; a string among choices */
  K_DURATION /* uint64_t ns; "30s", "5m" or whole seconds */
};

typedef struct choice {
  const char *name;
  uint32_t value;
} choice;

static const choice opposite_choices[] = {
    {"flat", TACK_SIZING_OPPOSITE_FLAT}, {"reverse", TACK_SIZING_OPPOSITE_REVERSE}, {NULL, 0}};
static const choice neutral_choices[] = {
    {"flat", TACK_SIZING_NEUTRAL_FLAT}, {"hold", TACK_SIZING_NEUTRAL_HOLD}, {NULL, 0}};
static const choice type_choices[] = {
    {"market", TACK_ORDER_MARKET}, {"limit", TACK_ORDER_LIMIT}, {NULL, 0}};
static const choice timeout_choices[] = {
    {"market", TACK_ORDERS_REPLACE_MARKET}, {"cancel", TACK_ORDERS_TIMEOUT_CANCEL}, {NULL, 0}};
static const choice mismatch_choices[] = {
    {"adopt", TACK_RECOVERY_ADOPT}, {"refuse", TACK_RECOVERY_REFUSE}, {NULL, 0}};

/* The keys of the groups a symbol may override, in one table so that a
 * policy's origins are one array. */
enum {
  F_ALLOCATION,
  F_INITIAL,
  F_CONTINUATION,
  F_MAX,
  F_MIN_STRENGTH,
  F_TOLERANCE,
  F_OPPOSITE,
  F_NEUTRAL,
  F_SCALE,
  F_TAKE_PROFIT,
  F_STOP_LOSS,
  F_TRAILING,
  F_ACTIVATION,
  F_MAX_ORDER,
  F_MAX_POSITION,
  F_RATE,
  F_TYPE,
  F_OFFSET,
  F_TIMEOUT,
  F_ON_TIMEOUT,
  F_ATTEMPTS,
  F_COUNT
};

enum { PG_SIZING, PG_EXITS, PG_LIMITS, PG_ORDERS, PG_COUNT };

static const struct {
  const char *name;
  int first, end; /* its keys: [first, end) of policy_keys */
} policy_groups[PG_COUNT] = {
    [PG_SIZING] = {"sizing", F_ALLOCATION, F_TAKE_PROFIT},
    [PG_EXITS] = {"exits", F_TAKE_PROFIT, F_MAX_ORDER},
    [PG_LIMITS] = {"limits", F_MAX_ORDER, F_TYPE},
    [PG_ORDERS] = {"orders", F_TYPE, F_COUNT},
};

#define NUM (TACK_SETTING_INT | TACK_SETTING_FLOAT)
#define DURATION_EXPECT                                                                            \
  "a duration such as \"30s\", \"5m\" or \"1h\", or whole seconds (at most 7 days)"

static const tack_key_spec policy_keys[F_COUNT] = {
    [F_ALLOCATION] = {"allocation", NUM, 0, "a number", "allocation = 1000.0;"},
    [F_INITIAL] = {"initial_fraction", NUM, 0, "a number", "initial_fraction = 0.5;"},
    [F_CONTINUATION] = {"continuation_fraction", NUM, 0, "a number",
                        "continuation_fraction = 0.25;"},
    [F_MAX] = {"max_fraction", NUM, 0, "a number", "max_fraction = 1.0;"},
    [F_MIN_STRENGTH] = {"min_strength", NUM, 0, "a number", "min_strength = 0.05;"},
    [F_TOLERANCE] = {"tolerance", NUM, 0, "a number", "tolerance = 0.02;"},
    [F_OPPOSITE] = {"on_opposite", TACK_SETTING_STRING, 0, "one of flat|reverse",
                    "on_opposite = \"flat\";"},
    [F_NEUTRAL] = {"on_neutral", TACK_SETTING_STRING, 0, "one of flat|hold",
                   "on_neutral = \"flat\";"},
    [F_SCALE] = {"scale_by_strength", TACK_SETTING_BOOL, 0, "true or false",
                 "scale_by_strength = true;"},
    [F_TAKE_PROFIT] = {"take_profit", NUM, 0, "a number", "take_profit = 0.05;"},
    [F_STOP_LOSS] = {"stop_loss", NUM, 0, "a number", "stop_loss = 0.02;"},
    [F_TRAILING] = {"trailing_stop", NUM, 0, "a number", "trailing_stop = 0.03;"},
    [F_ACTIVATION] = {"trailing_activation", NUM, 0, "a number", "trailing_activation = 0.01;"},
    [F_MAX_ORDER] = {"max_order_notional", NUM, 0, "a number", "max_order_notional = 5000.0;"},
    [F_MAX_POSITION] = {"max_position_notional", NUM, 0, "a number",
                        "max_position_notional = 20000.0;"},
    [F_RATE] = {"max_orders_per_minute", TACK_SETTING_INT, 0, "an integer",
                "max_orders_per_minute = 30;"},
    [F_TYPE] = {"type", TACK_SETTING_STRING, 0, "one of market|limit", "type = \"market\";"},
    [F_OFFSET] = {"limit_offset_bps", NUM, 0, "a number", "limit_offset_bps = 5.0;"},
    [F_TIMEOUT] = {"timeout", TACK_SETTING_STRING | TACK_SETTING_INT, 0, DURATION_EXPECT,
                   "timeout = \"30s\";"},
    [F_ON_TIMEOUT] = {"on_timeout", TACK_SETTING_STRING, 0, "one of market|cancel",
                      "on_timeout = \"market\";"},
    [F_ATTEMPTS] = {"max_attempts", TACK_SETTING_INT, 0, "an integer", "max_attempts = 3;"},
};

/* How each key is stored, and what its value may be. */
typedef struct field {
  int kind;
  size_t offset;         /* in tack_trading_policy */
  const char *member;    /* the name sizing.h / risk.h checks give it; NULL: not theirs */
  const char *range;     /* what is accepted, for "must be <range>, got ..." */
  const choice *choices; /* K_CHOICE */
  double min, max;       /* K_UINT always, K_NUMBER when member is NULL: checked here */
} field;

#define AT(m) offsetof(tack_trading_policy, m)
#define STR_(x) #x
#define STR(x) STR_(x)
#define OFF_TEXT "(0 turns it off)"
#define NO_LIMIT "(0: no limit)"

static const field fields[F_COUNT] = {
    [F_ALLOCATION] = {K_NUMBER, AT(sizing.allocation), "allocation",
                      "a number above 0 (quote currency per symbol)", NULL, 0, 0},
    [F_INITIAL] = {K_NUMBER, AT(sizing.initial_fraction), "initial_fraction", "a number in (0, 1]",
                   NULL, 0, 0},
    [F_CONTINUATION] = {K_NUMBER, AT(sizing.continuation_fraction), "continuation_fraction",
                        "a number in [0, 1]", NULL, 0, 0},
    [F_MAX] = {K_NUMBER, AT(sizing.max_fraction), "max_fraction",
               "a number in [initial_fraction, 1]", NULL, 0, 0},
    [F_MIN_STRENGTH] = {K_NUMBER, AT(sizing.min_strength), "min_strength", "a number in [0, 1)",
                        NULL, 0, 0},
    [F_TOLERANCE] = {K_NUMBER, AT(sizing.tolerance), "tolerance", "a number in [0, 1)", NULL, 0, 0},
    [F_OPPOSITE] = {K_CHOICE, AT(sizing.opposite), "opposite", "one of flat|reverse",
                    opposite_choices, 0, 0},
    [F_NEUTRAL] = {K_CHOICE, AT(sizing.neutral), "neutral", "one of flat|hold", neutral_choices, 0,
                   0},
    [F_SCALE] = {K_BOOL, AT(sizing.scale_by_strength), "scale_by_strength", "true or false", NULL,
                 0, 0},
    [F_TAKE_PROFIT] = {K_NUMBER, AT(exits.take_profit), "take_profit",
                       "a number of 0 or more " OFF_TEXT, NULL, 0, 0},
    [F_STOP_LOSS] = {K_NUMBER, AT(exits.stop_loss), "stop_loss", "a number in [0, 1) " OFF_TEXT,
                     NULL, 0, 0},
    [F_TRAILING] = {K_NUMBER, AT(exits.trailing_stop), "trailing_stop",
                    "a number in [0, 1) " OFF_TEXT, NULL, 0, 0},
    [F_ACTIVATION] = {K_NUMBER, AT(exits.trailing_activation), "trailing_activation",
                      "a number of 0 or more (0 arms the trail at once)", NULL, 0, 0},
    [F_MAX_ORDER] = {K_NUMBER, AT(limits.max_order_notional), "max_order_notional",
                     "a number of 0 or more " NO_LIMIT, NULL, 0, 0},
    [F_MAX_POSITION] = {K_NUMBER, AT(limits.max_position_notional), "max_position_notional",
                        "a number of 0 or more " NO_LIMIT, NULL, 0, 0},
    [F_RATE] = {K_UINT, AT(limits.max_orders_per_minute), "max_orders_per_minute",
                "an integer in [0, " STR(TACK_RISK_RATE_SLOTS) "] " NO_LIMIT, NULL, 0, UINT32_MAX},
    [F_TYPE] = {K_CHOICE, AT(order_type), NULL, "one of market|limit", type_choices, 0, 0},
    [F_OFFSET] = {K_NUMBER, AT(limit_offset_bps), NULL,
                  "a number in [0, 10000) (basis points from the last price)", NULL, 0, 10000},
    [F_TIMEOUT] = {K_DURATION, AT(order_timeout_ns), NULL, DURATION_EXPECT ", 0 for none", NULL, 0,
                   0},
    [F_ON_TIMEOUT] = {K_CHOICE, AT(on_timeout), NULL, "one of market|cancel", timeout_choices, 0,
                      0},
    [F_ATTEMPTS] = {K_UINT, AT(max_attempts), NULL, "an integer of 1 or more", NULL, 1, UINT32_MAX},
};

/* The top-level group. A symbol's own group is checked against the same
 * keys, so that an account-wide group there gets a message of its own
 * rather than "unknown setting". */
enum { T_SIZING, T_EXITS, T_LIMITS, T_ORDERS, T_DAY, T_SHUTDOWN, T_RECOVERY, T_COUNT };
_Static_assert((int)T_SIZING == (int)PG_SIZING && (int)T_ORDERS == (int)PG_ORDERS,
               "groups share their order");
static const tack_key_spec trading_keys[T_COUNT] = {
    [T_SIZING] = {"sizing", TACK_SETTING_GROUP, 0, "a group { allocation = 1000.0; ... }",
                  "sizing = { allocation = 1000.0; };"},
    [T_EXITS] = {"exits", TACK_SETTING_GROUP, 0, "a group { stop_loss = 0.02; ... }",
                 "exits = { stop_loss = 0.02; };"},
    [T_LIMITS] = {"limits", TACK_SETTING_GROUP, 0, "a group { max_order_notional = 5000.0; ... }",
                  "limits = { max_order_notional = 5000.0; };"},
    [T_ORDERS] = {"orders", TACK_SETTING_GROUP, 0, "a group { type = \"market\"; ... }",
                  "orders = { type = \"market\"; };"},
    [T_DAY] = {"day", TACK_SETTING_GROUP, 0, "a group { zone = \"UTC\"; ... }",
               "day = { zone = \"UTC\"; start = \"00:00\"; };"},
    [T_SHUTDOWN] = {"shutdown", TACK_SETTING_GROUP, 0, "a group { flatten = true; ... }",
                    "shutdown = { flatten = true; };"},
    [T_RECOVERY] = {"recovery", TACK_SETTING_GROUP, 0, "a group { on_mismatch = \"adopt\"; }",
                    "recovery = { on_mismatch = \"adopt\"; };"},
};

enum { D_ZONE, D_START, D_LOSS_LIMIT, D_LOSS_FRACTION, D_PROFIT_TARGET, D_COUNT };
static const tack_key_spec day_keys[D_COUNT] = {
    [D_ZONE] = {"zone", TACK_SETTING_STRING, 0,
                "a time zone (\"UTC\", \"+05:30\" or an IANA name such as \"Europe/Berlin\")",
                "zone = \"UTC\";"},
    [D_START] = {"start", TACK_SETTING_STRING, 0, "a time of day \"HH:MM\"", "start = \"00:00\";"},
    [D_LOSS_LIMIT] = {"loss_limit", NUM, 0, "a number", "loss_limit = 500.0;"},
    [D_LOSS_FRACTION] = {"loss_fraction", NUM, 0, "a number", "loss_fraction = 0.05;"},
    [D_PROFIT_TARGET] = {"profit_target", NUM, 0, "a number", "profit_target = 1000.0;"},
};

enum { SD_FLATTEN, SD_TIMEOUT, SD_RETRIES, SD_COUNT };
static const tack_key_spec shutdown_keys[SD_COUNT] = {
    [SD_FLATTEN] = {"flatten", TACK_SETTING_BOOL, 0, "true or false", "flatten = true;"},
    [SD_TIMEOUT] = {"timeout", TACK_SETTING_STRING | TACK_SETTING_INT, 0, DURATION_EXPECT,
                    "timeout = \"30s\";"},
    [SD_RETRIES] = {"retries", TACK_SETTING_INT, 0, "an integer", "retries = 3;"},
};

enum { RC_ON_MISMATCH, RC_COUNT };
static const tack_key_spec recovery_keys[RC_COUNT] = {
    [RC_ON_MISMATCH] = {"on_mismatch", TACK_SETTING_STRING, 0, "one of adopt|refuse",
                        "on_mismatch = \"adopt\";"},
};

/* Keys that only matter when another key of the same policy says so: set
 * where no policy uses them, they would be dropped without a word. */
static const struct {
  int key;
  int on; /* the key that decides whether it matters */
  const char *why;
} dependents[] = {
    {F_OFFSET, F_TYPE,
     "it applies to limit orders, and every symbol it applies to sends market orders "
     "(orders.type = \"market\")"},
    {F_ON_TIMEOUT, F_TIMEOUT,
     "it says what happens when an order times out, and orders.timeout is 0 (none) "
     "for every symbol it applies to"},
    {F_ACTIVATION, F_TRAILING,
     "it arms the trailing stop, and exits.trailing_stop is 0 (off) for every symbol "
     "it applies to"},
};
#define N_DEPENDENTS (sizeof dependents / sizeof dependents[0])

static int dependent_used(int key, const tack_trading_policy *p) {
  switch (key) {
  case F_OFFSET:
    return p->order_type == TACK_ORDER_LIMIT;
  case F_ON_TIMEOUT:
    return p->order_timeout_ns > 0;
  default:
    return p->exits.trailing_stop > 0;
  }
}

/* ------------------------------------------------------------------------ */
/* Problems                                                                  */
/* ------------------------------------------------------------------------ */

/* A setting with a number (a field, or -1), for sets of what was reported
 * or used. */
typedef struct mark {
  const config_setting_t *at;
  int key;
} mark;

typedef struct mark_set {
  mark *v;
  size_t n, cap;
} mark_set;

typedef struct ctx {
  const tack_config *cfg;
  tack_diag *d;
  int problems;
  int oom;
  int bad[F_COUNT];  /* a value of the key was refused somewhere */
  mark_set reported; /* each setting's problem once, however many symbols inherit it */
  mark_set used;     /* dependent settings some policy uses */
  mark_set unused;   /* dependent settings some policy ignores */
} ctx;

static int mark_has(const mark_set *s, const config_setting_t *at, int key) {
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].at == at && s->v[i].key == key)
      return 1;
  return 0;
}

/* Adds (at, key) unless present. Returns 1 when it was new. */
static int mark_add(ctx *c, mark_set *s, const config_setting_t *at, int key) {
  if (mark_has(s, at, key))
    return 0;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    mark *v = tack_realloc(NULL, s->v, cap * sizeof *v);
    if (!v) {
      c->oom = 1;
      return 1;
    }
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n].at = at;
  s->v[s->n].key = key;
  s->n++;
  return 1;
}

static void problem(ctx *c, const config_setting_t *s, const char *fmt, ...) TACK_PRINTF(3, 4);
static void problem(ctx *c, const config_setting_t *s, const char *fmt, ...) {
  char body[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  if (s)
    tack_setting_report(c->d, s, NULL, "%s", body);
  else
    tack_diag_add(c->d, c->cfg->path, 0, "trading", "%s", body);
  c->problems++;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

static size_t kind_size(int kind) {
  switch (kind) {
  case K_NUMBER:
    return sizeof(double);
  case K_BOOL:
    return sizeof(int);
  case K_DURATION:
    return sizeof(uint64_t);
  default:
    return sizeof(uint32_t);
  }
}

static void copy_field(int k, tack_trading_policy *dst, const tack_trading_policy *src) {
  memcpy((char *)dst + fields[k].offset, (const char *)src + fields[k].offset,
         kind_size(fields[k].kind));
}

static const char *choice_name(const choice *cs, uint32_t value) {
  for (; cs->name; cs++)
    if (cs->value == value)
      return cs->name;
  return "?";
}

/* "30s", "5m", or "0" for none. */
static void duration_text(uint64_t ns, char *buf, size_t cap) {
  if (ns == 0)
    snprintf(buf, cap, "0");
  else if (ns % NS_PER_S == 0 && ns / NS_PER_S <= UINT32_MAX)
    tack_timeframe_format((uint32_t)(ns / NS_PER_S), buf, cap);
  else
    snprintf(buf, cap, "%.3fs", (double)ns / (double)NS_PER_S);
}

/* A field's value in p as the config writes it. */
static void field_text(int k, const tack_trading_policy *p, char *buf, size_t cap) {
  const char *at = (const char *)p + fields[k].offset;
  double d;
  uint32_t u;
  uint64_t ns;
  int b;
  switch (fields[k].kind) {
  case K_NUMBER:
    memcpy(&d, at, sizeof d);
    snprintf(buf, cap, "%g", d);
    break;
  case K_UINT:
    memcpy(&u, at, sizeof u);
    snprintf(buf, cap, "%lu", (unsigned long)u);
    break;
  case K_BOOL:
    memcpy(&b, at, sizeof b);
    snprintf(buf, cap, "%s", b ? "true" : "false");
    break;
  case K_CHOICE:
    memcpy(&u, at, sizeof u);
    snprintf(buf, cap, "%s", choice_name(fields[k].choices, u));
    break;
  default:
    memcpy(&ns, at, sizeof ns);
    duration_text(ns, buf, cap);
    break;
  }
}

static void bad_value(ctx *c, const config_setting_t *s, const char *range) {
  char what[128];
  tack_setting_describe(s, what, sizeof what);
  problem(c, s, "must be %s, got %s", range, what);
}

/* A choice setting: the value of its name, or -1 (reported). */
static int64_t read_choice(ctx *c, const config_setting_t *s, const choice *cs, const char *range) {
  const char *v = config_setting_get_string(s);
  for (const choice *x = cs; x->name; x++)
    if (strcmp(v, x->name) == 0)
      return x->value;
  problem(c, s, "must be %s, got \"%.32s\"", range, v);
  return -1;
}

/* "0", "0s", "00m": none, where none is allowed. */
static int zero_duration(const char *text) {
  size_t n = strspn(text, "0");
  return n > 0 && (text[n] == '\0' || (strchr("smhd", text[n]) && text[n + 1] == '\0'));
}

/* "30s", "5m" or whole seconds, into ns; 0 only when zero_ok. */
static int read_duration(ctx *c, const config_setting_t *s, int zero_ok, uint64_t *ns) {
  uint32_t secs = 0;
  int ok;
  if (config_setting_type(s) == CONFIG_TYPE_STRING) {
    const char *text = config_setting_get_string(s);
    ok = tack_timeframe_parse(text, &secs) == 0 || (zero_ok && zero_duration(text));
  } else {
    int64_t v = tack_setting_int(s);
    ok = v >= (zero_ok ? 0 : 1) && v <= (int64_t)DURATION_MAX_S;
    secs = ok ? (uint32_t)v : 0;
  }
  if (!ok) {
    bad_value(c, s, zero_ok ? DURATION_EXPECT ", 0 for none" : DURATION_EXPECT ", more than 0");
    return -1;
  }
  *ns = (uint64_t)secs * NS_PER_S;
  return 0;
}

/* An integer in [min, max], or -1 (reported). */
static int read_uint(ctx *c, const config_setting_t *s, double min, double max, const char *range,
                     uint32_t *out) {
  int64_t v = tack_setting_int(s);
  if ((double)v < min || (double)v > max) {
    problem(c, s, "must be %s, got %lld", range, (long long)v);
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

/* A number: finite, and in [min, max) when checked here. */
static int read_number(ctx *c, const config_setting_t *s, const field *f, double *out) {
  double v = tack_setting_number(s);
  if (!isfinite(v) || (!f->member && (v < f->min || v >= f->max))) {
    problem(c, s, "must be %s, got %g", f->range, v);
    return -1;
  }
  *out = v;
  return 0;
}

/* Read setting s of key k into p. 0, or -1 when it was reported. */
static int read_field(ctx *c, int k, const config_setting_t *s, tack_trading_policy *p) {
  const field *f = &fields[k];
  char *at = (char *)p + f->offset;
  double d;
  uint32_t u;
  uint64_t ns;
  int b;
  int64_t choice_value;
  switch (f->kind) {
  case K_NUMBER:
    if (read_number(c, s, f, &d) != 0)
      return -1;
    memcpy(at, &d, sizeof d);
    return 0;
  case K_UINT:
    if (read_uint(c, s, f->min, f->max, f->range, &u) != 0)
      return -1;
    memcpy(at, &u, sizeof u);
    return 0;
  case K_BOOL:
    b = config_setting_get_bool(s) ? 1 : 0;
    memcpy(at, &b, sizeof b);
    return 0;
  case K_CHOICE:
    choice_value = read_choice(c, s, f->choices, f->range);
    if (choice_value < 0)
      return -1;
    u = (uint32_t)choice_value;
    memcpy(at, &u, sizeof u);
    return 0;
  default:
    if (read_duration(c, s, 1, &ns) != 0)
      return -1;
    memcpy(at, &ns, sizeof ns);
    return 0;
  }
}

/* ------------------------------------------------------------------------ */
/* Layers and merged policies                                                */
/* ------------------------------------------------------------------------ */

/* What one place of the config sets: the global group, a strategies
 * entry's exits, or a symbol's own group. */
typedef struct layer {
  tack_trading_policy p;                   /* only the fields set in at[] mean anything */
  const config_setting_t *at[F_COUNT];     /* the setting of each key it sets */
  const config_setting_t *group[PG_COUNT]; /* its groups that were present */
  const config_setting_t *root;            /* its trading (or exits) group */
} layer;

/* A symbol's (or the global) policy with the origin of every key. */
typedef struct merged {
  tack_trading_policy p;
  const config_setting_t *at[F_COUNT]; /* NULL: the default */
  int level[F_COUNT];                  /* LV_* of at[] */
  const config_setting_t *group[PG_COUNT];
  const config_setting_t *root;
} merged;

enum { LV_DEFAULT, LV_GLOBAL, LV_STRATEGY, LV_SYMBOL };

static void read_policy_group(ctx *c, layer *l, int pg, const config_setting_t *g) {
  const config_setting_t *found[F_COUNT];
  int first = policy_groups[pg].first, end = policy_groups[pg].end;
  l->group[pg] = g;
  c->problems +=
      tack_check_keys(c->d, g, &policy_keys[first], (size_t)(end - first), &found[first]);
  for (int k = first; k < end; k++) {
    if (!found[k] && config_setting_get_member(g, policy_keys[k].name))
      c->bad[k] = 1; /* of the wrong type */
    else if (found[k] && read_field(c, k, found[k], &l->p) == 0)
      l->at[k] = found[k];
    else if (found[k])
      c->bad[k] = 1;
  }
}

static void merge(merged *m, const layer *l, int level) {
  for (int k = 0; k < F_COUNT; k++)
    if (l->at[k]) {
      copy_field(k, &m->p, &l->p);
      m->at[k] = l->at[k];
      m->level[k] = level;
    }
  for (int pg = 0; pg < PG_COUNT; pg++)
    if (l->group[pg])
      m->group[pg] = l->group[pg];
  if (l->root)
    m->root = l->root;
}

static int group_of(int k) {
  int pg = 0;
  while (pg + 1 < PG_COUNT && k >= policy_groups[pg].end)
    pg++;
  return pg;
}

/* Where to report about key k of m: the setting that gave it its value, or
 * for a default the most specific group that could have set it. */
static const config_setting_t *site_of(const merged *m, int k) {
  if (m->at[k])
    return m->at[k];
  return m->group[group_of(k)] ? m->group[group_of(k)] : m->root;
}

/* "trading.sizing.initial_fraction at bot.cfg:16", or "the default". */
static void origin_text(const merged *m, int k, char *buf, size_t cap) {
  char path[160];
  if (!m->at[k]) {
    snprintf(buf, cap, "the default");
    return;
  }
  tack_setting_path(m->at[k], path, sizeof path);
  const char *file = config_setting_source_file(m->at[k]);
  snprintf(buf, cap, "%s at %s:%d", path, file ? file : "?",
           (int)config_setting_source_line(m->at[k]));
}

/* A value of key k the policy check refused. */
static void report_range(ctx *c, const merged *m, int k, const tack_trading_policy *p) {
  char value[64];
  const config_setting_t *at = site_of(m, k);
  c->bad[k] = 1;
  if (!mark_add(c, &c->reported, at, k))
    return;
  field_text(k, p, value, sizeof value);
  if (m->at[k])
    problem(c, at, "must be %s, got %s", fields[k].range, value);
  else
    problem(c, at, "%s = %s (the default) is refused: it must be %s", policy_keys[k].name, value,
            fields[k].range);
}

/* max_fraction below initial_fraction: at whichever of the two was set at
 * the more specific place. */
static void report_cap(ctx *c, const merged *m, const tack_trading_policy *p) {
  char other[256];
  int k = m->level[F_INITIAL] > m->level[F_MAX] ? F_INITIAL : F_MAX;
  int o = k == F_MAX ? F_INITIAL : F_MAX;
  const config_setting_t *at = site_of(m, k);
  if (!mark_add(c, &c->reported, at, F_MAX))
    return;
  origin_text(m, o, other, sizeof other);
  problem(c, at,
          "max_fraction (%g) is below initial_fraction (%g; the %s is %s): the cap must allow at "
          "least the first entry; raise max_fraction or lower initial_fraction",
          p->sizing.max_fraction, p->sizing.initial_fraction, policy_keys[o].name, other);
}

static int unit_open_closed(double v) { return v > 0 && v <= 1; }

typedef int (*check_fn)(const tack_trading_policy *p, const char **field);

static int check_sizing(const tack_trading_policy *p, const char **f) {
  return tack_sizing_policy_check(&p->sizing, f);
}
static int check_exits(const tack_trading_policy *p, const char **f) {
  return tack_risk_exits_check(&p->exits, f);
}
static int check_limits(const tack_trading_policy *p, const char **f) {
  return tack_risk_limits_check(&p->limits, f);
}

static int key_named(int pg, const char *name) {
  for (int k = policy_groups[pg].first; k < policy_groups[pg].end; k++)
    if (name && ((fields[k].member && strcmp(fields[k].member, name) == 0) ||
                 strcmp(policy_keys[k].name, name) == 0))
      return k;
  return -1;
}

/*
 * Run a group's check on m until it passes, reporting each refused field
 * and putting its default in its place (in a copy) to find the next one.
 * A default that would itself clash with the rest is adjusted, so that one
 * bad value is never reported as two.
 */
static void check_group(ctx *c, const merged *m, int pg, check_fn fn) {
  tack_trading_policy p = m->p, def;
  const char *name = NULL;
  tack_trading_policy_default(&def);
  for (int tries = 0; tries <= F_COUNT && fn(&p, &name) != 0; tries++) {
    int k = key_named(pg, name);
    if (k < 0) {
      const config_setting_t *at = m->group[pg] ? m->group[pg] : m->root;
      if (mark_add(c, &c->reported, at, -1))
        problem(c, at, "refused by the %s check (field %s)", policy_groups[pg].name,
                name ? name : "?");
      return;
    }
    if (k == F_MAX && !unit_open_closed(p.sizing.initial_fraction))
      k = F_INITIAL;
    if (k == F_MAX && p.sizing.max_fraction >= 0 && p.sizing.max_fraction <= 1 &&
        p.sizing.max_fraction < p.sizing.initial_fraction) {
      report_cap(c, m, &p);
      p.sizing.max_fraction = p.sizing.initial_fraction;
      continue;
    }
    report_range(c, m, k, &p);
    copy_field(k, &p, &def);
    if (k == F_INITIAL && unit_open_closed(p.sizing.max_fraction) &&
        p.sizing.initial_fraction > p.sizing.max_fraction)
      p.sizing.initial_fraction = p.sizing.max_fraction;
  }
}

static void check_policy(ctx *c, const merged *m) {
  check_group(c, m, PG_SIZING, check_sizing);
  check_group(c, m, PG_EXITS, check_exits);
  check_group(c, m, PG_LIMITS, check_limits);
  for (size_t i = 0; i < N_DEPENDENTS; i++) {
    int k = dependents[i].key;
    if (m->at[k])
      mark_add(c, dependent_used(k, &m->p) ? &c->used : &c->unused, m->at[k], k);
  }
}

/* ------------------------------------------------------------------------ */
/* The groups of the account                                                 */
/* ------------------------------------------------------------------------ */

/* The numbers of the day group, and the names tack_risk_day_check() gives
 * them. */
static const struct {
  int key;
  size_t offset;
  const char *member;
  const char *range;
} day_numbers[] = {
    {D_LOSS_LIMIT, offsetof(tack_risk_day_policy, daily_loss_limit), "daily_loss_limit",
     "a number of 0 or more (quote currency; 0 turns it off)"},
    {D_LOSS_FRACTION, offsetof(tack_risk_day_policy, daily_loss_fraction), "daily_loss_fraction",
     "a number in [0, 1] (of the equity at the day's start; 0 turns it off)"},
    {D_PROFIT_TARGET, offsetof(tack_risk_day_policy, daily_profit_target), "daily_profit_target",
     "a number of 0 or more (quote currency; 0 turns it off)"},
};
#define N_DAY_NUMBERS (sizeof day_numbers / sizeof day_numbers[0])

static void read_day(ctx *c, tack_trading_cfg *t, const config_setting_t *g) {
  const config_setting_t *f[D_COUNT];
  char why[256];
  const char *name = NULL;
  c->problems += tack_check_keys(c->d, g, day_keys, D_COUNT, f);
  if (f[D_ZONE] &&
      tack_risk_day_parse_zone(&t->day, config_setting_get_string(f[D_ZONE]), why, sizeof why) != 0)
    problem(c, f[D_ZONE], "%s", why);
  if (f[D_START] && tack_risk_day_parse_start(&t->day, config_setting_get_string(f[D_START]), why,
                                              sizeof why) != 0)
    problem(c, f[D_START], "%s", why);
  for (size_t i = 0; i < N_DAY_NUMBERS; i++) {
    const config_setting_t *s = f[day_numbers[i].key];
    double v = s ? tack_setting_number(s) : 0;
    if (s && !isfinite(v))
      problem(c, s, "must be %s, got %g", day_numbers[i].range, v);
    else if (s)
      memcpy((char *)&t->day + day_numbers[i].offset, &v, sizeof v);
  }
  /* Each refused amount is reported, then turned off to find the next. */
  for (size_t tries = 0; tries <= N_DAY_NUMBERS && tack_risk_day_check(&t->day, &name) != 0;
       tries++) {
    size_t i = 0;
    while (i < N_DAY_NUMBERS && !(name && strcmp(day_numbers[i].member, name) == 0))
      i++;
    if (i == N_DAY_NUMBERS) {
      problem(c, g, "refused by the day check (field %s)", name ? name : "?");
      return;
    }
    const config_setting_t *s = f[day_numbers[i].key];
    double v;
    memcpy(&v, (char *)&t->day + day_numbers[i].offset, sizeof v);
    problem(c, s ? s : g, "must be %s, got %g", day_numbers[i].range, v);
    v = 0;
    memcpy((char *)&t->day + day_numbers[i].offset, &v, sizeof v);
  }
}

static void read_shutdown(ctx *c, tack_trading_cfg *t, const config_setting_t *g) {
  const config_setting_t *f[SD_COUNT];
  c->problems += tack_check_keys(c->d, g, shutdown_keys, SD_COUNT, f);
  if (f[SD_FLATTEN])
    t->flatten_on_stop = config_setting_get_bool(f[SD_FLATTEN]) ? 1 : 0;
  if (f[SD_TIMEOUT])
    read_duration(c, f[SD_TIMEOUT], 0, &t->shutdown_timeout_ns);
  if (f[SD_RETRIES])
    read_uint(c, f[SD_RETRIES], 0, UINT32_MAX, "an integer of 0 or more", &t->shutdown_retries);
}

static void read_recovery(ctx *c, tack_trading_cfg *t, const config_setting_t *g) {
  const config_setting_t *f[RC_COUNT];
  c->problems += tack_check_keys(c->d, g, recovery_keys, RC_COUNT, f);
  if (f[RC_ON_MISMATCH]) {
    int64_t v = read_choice(c, f[RC_ON_MISMATCH], mismatch_choices, "one of adopt|refuse");
    if (v >= 0)
      t->on_mismatch = (uint32_t)v;
  }
}

/* The account's defaults: day from midnight UTC, flatten on stop. */
static void account_defaults(ctx *c, tack_trading_cfg *t) {
  char why[256];
  tack_trading_policy_default(&t->global);
  t->flatten_on_stop = 1;
  t->shutdown_timeout_ns = 30 * NS_PER_S;
  t->shutdown_retries = 3;
  t->on_mismatch = TACK_RECOVERY_ADOPT;
  if (tack_risk_day_parse_zone(&t->day, "UTC", why, sizeof why) != 0 ||
      tack_risk_day_parse_start(&t->day, "00:00", why, sizeof why) != 0)
    problem(c, NULL, "the default trading day (UTC from 00:00) is refused: %s", why);
}

/* A trading group, top-level (account = 1) or a symbol's. */
static void read_trading(ctx *c, tack_trading_cfg *t, layer *l, const config_setting_t *g,
                         int account) {
  const config_setting_t *f[T_COUNT];
  l->root = g;
  c->problems += tack_check_keys(c->d, g, trading_keys, T_COUNT, f);
  for (int pg = 0; pg < PG_COUNT; pg++)
    if (f[pg])
      read_policy_group(c, l, pg, f[pg]);
  for (int k = T_DAY; k < T_COUNT; k++)
    if (f[k] && !account)
      problem(c, f[k],
              "%s applies to the whole account, not to one symbol: set it in the top-level "
              "trading group (a symbol may set sizing, exits, limits and orders)",
              trading_keys[k].name);
  if (!account)
    return;
  if (f[T_DAY])
    read_day(c, t, f[T_DAY]);
  if (f[T_SHUTDOWN])
    read_shutdown(c, t, f[T_SHUTDOWN]);
  if (f[T_RECOVERY])
    read_recovery(c, t, f[T_RECOVERY]);
}

/* ------------------------------------------------------------------------ */
/* Settings that would have no effect                                        */
/* ------------------------------------------------------------------------ */

static int named_by_symbol(const tack_config *cfg, const tack_cfg_strategy *st) {
  for (size_t i = 0; i < cfg->n_symbols; i++)
    if (cfg->symbols[i].strategy == st)
      return 1;
  return 0;
}

/* An entry whose composition names st, or NULL. */
static const tack_cfg_strategy *parent_of(const tack_config *cfg, const tack_cfg_strategy *st) {
  for (size_t i = 0; i < cfg->n_strategies; i++)
    for (size_t j = 0; j < tack_config_children(&cfg->strategies[i]); j++)
      if (tack_config_child(&cfg->strategies[i], j, NULL) == st)
        return &cfg->strategies[i];
  return NULL;
}

/* A top-level setting that is `trading` misspelt or of the wrong type:
 * check_keys() reported it already, and saying that nothing is traded
 * would only add noise. */
static int trading_attempted(const tack_config *cfg) {
  const config_setting_t *root = config_root_setting(&cfg->lc);
  for (int i = 0; i < config_setting_length(root); i++) {
    const char *name = config_setting_name(config_setting_get_elem(root, (unsigned)i));
    if (name && tack_edit_distance(name, "trading", 2) <= 2)
      return 1;
  }
  return 0;
}

static void check_no_effect(ctx *c) {
  const tack_config *cfg = c->cfg;
  int quiet = !cfg->trading_setting && trading_attempted(cfg);
  const char *untraded = "has no effect: the config has no top-level trading group, so nothing "
                         "is traded (add trading = { }; to trade with the defaults)";
  for (size_t i = 0; i < cfg->n_symbols; i++)
    if (cfg->symbols[i].trading && !cfg->trading_setting && !quiet)
      problem(c, cfg->symbols[i].trading, "%s", untraded);
  for (size_t i = 0; i < cfg->n_strategies; i++) {
    const tack_cfg_strategy *st = &cfg->strategies[i];
    if (!st->exits)
      continue;
    if (!cfg->trading_setting) {
      if (!quiet)
        problem(c, st->exits, "%s", untraded);
      continue;
    }
    const tack_cfg_strategy *parent = parent_of(cfg, st);
    if (parent && !named_by_symbol(cfg, st))
      problem(c, st->exits,
              "has no effect: exits apply to the symbols that name this entry, and no symbol "
              "names '%s'; it is part of %s '%s', whose exits apply: set them there",
              st->inst.name ? st->inst.name : "?", tack_config_type_name(parent->type),
              parent->inst.name ? parent->inst.name : "?");
  }
  for (size_t i = 0; i < c->unused.n; i++) {
    const mark *u = &c->unused.v[i];
    if (mark_has(&c->used, u->at, u->key))
      continue;
    /* Whether it matters is not known when the key deciding it was
     * refused. */
    for (size_t j = 0; j < N_DEPENDENTS; j++)
      if (dependents[j].key == u->key && !c->bad[dependents[j].on])
        problem(c, u->at, "has no effect: %s", dependents[j].why);
  }
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

void tack_trading_policy_default(tack_trading_policy *p) {
  memset(p, 0, sizeof *p);
  tack_sizing_policy_default(&p->sizing);
  p->order_type = TACK_ORDER_MARKET;
  p->limit_offset_bps = 0;
  p->order_timeout_ns = 30 * NS_PER_S;
  p->on_timeout = TACK_ORDERS_REPLACE_MARKET;
  p->max_attempts = 3;
}

static void init_merged(merged *m, const tack_trading_policy *defaults) {
  memset(m, 0, sizeof *m);
  m->p = *defaults;
}

/* Whether any trading setting is present, well formed or not. */
static int has_trading(const tack_config *cfg) {
  if (cfg->trading_setting)
    return 1;
  for (size_t i = 0; i < cfg->n_symbols; i++)
    if (cfg->symbols[i].trading)
      return 1;
  for (size_t i = 0; i < cfg->n_strategies; i++)
    if (cfg->strategies[i].exits)
      return 1;
  return 0;
}

int tack_trading_cfg_load(const tack_config *cfg, tack_trading_cfg *out, tack_diag *d) {
  ctx c = {cfg, d, 0, 0, {0}, {NULL, 0, 0}, {NULL, 0, 0}, {NULL, 0, 0}};
  layer *global = NULL, *entries = NULL, *symbols = NULL;
  merged m;
  tack_trading_policy defaults;
  int rc = 0;

  memset(out, 0, sizeof *out);
  if (!has_trading(cfg)) {
    /* Signals only: nothing to read, nothing to allocate. */
    account_defaults(&c, out);
    return c.problems ? TACK_ECONFIG : 0;
  }
  global = tack_calloc(NULL, 1, sizeof *global);
  entries = tack_calloc(NULL, cfg->n_strategies + 1, sizeof *entries);
  symbols = tack_calloc(NULL, cfg->n_symbols + 1, sizeof *symbols);
  out->symbols = tack_calloc(NULL, cfg->n_symbols + 1, sizeof *out->symbols);
  if (!global || !entries || !symbols || !out->symbols) {
    rc = TACK_ENOMEM;
    goto done;
  }
  out->n_symbols = cfg->n_symbols;
  account_defaults(&c, out);
  defaults = out->global;

  if (cfg->trading_setting)
    read_trading(&c, out, global, cfg->trading_setting, 1);
  for (size_t i = 0; i < cfg->n_strategies; i++)
    if (cfg->strategies[i].exits) {
      entries[i].root = cfg->strategies[i].exits;
      read_policy_group(&c, &entries[i], PG_EXITS, cfg->strategies[i].exits);
    }
  for (size_t i = 0; i < cfg->n_symbols; i++)
    if (cfg->symbols[i].trading)
      read_trading(&c, out, &symbols[i], cfg->symbols[i].trading, 0);

  init_merged(&m, &defaults);
  merge(&m, global, LV_GLOBAL);
  check_policy(&c, &m);
  out->global = m.p;
  for (size_t i = 0; i < cfg->n_symbols; i++) {
    const tack_cfg_strategy *st = cfg->symbols[i].strategy;
    init_merged(&m, &defaults);
    merge(&m, global, LV_GLOBAL);
    if (st)
      merge(&m, &entries[st - cfg->strategies], LV_STRATEGY);
    merge(&m, &symbols[i], LV_SYMBOL);
    check_policy(&c, &m);
    out->symbols[i] = m.p;
  }
  check_no_effect(&c);
  out->enabled = cfg->trading_setting != NULL;
  if (!out->enabled) {
    tack_free(NULL, out->symbols);
    out->symbols = NULL;
    out->n_symbols = 0;
  }
  if (c.oom)
    rc = TACK_ENOMEM;
  else if (c.problems)
    rc = TACK_ECONFIG;

done:
  if (rc)
    tack_trading_cfg_free(out);
  tack_free(NULL, global);
  tack_free(NULL, entries);
  tack_free(NULL, symbols);
  tack_free(NULL, c.reported.v);
  tack_free(NULL, c.used.v);
  tack_free(NULL, c.unused.v);
  return rc;
}

void tack_trading_cfg_free(tack_trading_cfg *t) {
  if (!t)
    return;
  tack_free(NULL, t->symbols);
  memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------------------ */
/* Printing                                                                  */
/* ------------------------------------------------------------------------ */

/* "+05:30", or "UTC" for a zero offset. */
static void zone_text(const tack_risk_day_policy *day, char *buf, size_t cap) {
  int32_t off = day->utc_offset_minutes;
  if (day->zone[0])
    snprintf(buf, cap, "%s", day->zone);
  else if (off == 0)
    snprintf(buf, cap, "UTC");
  else
    snprintf(buf, cap, "%c%02d:%02d", off < 0 ? '-' : '+', (int)(off < 0 ? -off : off) / 60,
             (int)(off < 0 ? -off : off) % 60);
}

/* The setting of key k a symbol's own group or its strategies entry's
 * exits gives, or NULL; *entry tells which. */
static const config_setting_t *override_of(const tack_cfg_symbol *sym, int k, int *entry) {
  const char *group = policy_groups[group_of(k)].name;
  const config_setting_t *g = sym->trading ? config_setting_get_member(sym->trading, group) : NULL;
  const config_setting_t *s = g ? config_setting_get_member(g, policy_keys[k].name) : NULL;
  *entry = 0;
  if (s || group_of(k) != PG_EXITS || !sym->strategy || !sym->strategy->exits)
    return s;
  *entry = 1;
  return config_setting_get_member(sym->strategy->exits, policy_keys[k].name);
}

void tack_trading_cfg_print(const struct tack_config *cfg, const tack_trading_cfg *t, FILE *out) {
  char v[64], zone[80], start[8], timeout[32];
  if (!t->enabled)
    return;
  for (int pg = 0; pg < PG_COUNT; pg++) {
    fprintf(out, "trading %s:", policy_groups[pg].name);
    for (int k = policy_groups[pg].first; k < policy_groups[pg].end; k++) {
      field_text(k, &t->global, v, sizeof v);
      fprintf(out, "%s %s=%s", k == policy_groups[pg].first ? "" : ",", policy_keys[k].name, v);
    }
    fputc('\n', out);
  }
  zone_text(&t->day, zone, sizeof zone);
  snprintf(start, sizeof start, "%02d:%02d", (int)(t->day.day_start_minutes / 60) % 100,
           (int)(t->day.day_start_minutes % 60));
  fprintf(
      out, "trading day: zone=%s, start=%s, loss_limit=%g, loss_fraction=%g, profit_target=%g\n",
      zone, start, t->day.daily_loss_limit, t->day.daily_loss_fraction, t->day.daily_profit_target);
  duration_text(t->shutdown_timeout_ns, timeout, sizeof timeout);
  fprintf(out, "trading shutdown: flatten=%s, timeout=%s, retries=%lu\n",
          t->flatten_on_stop ? "true" : "false", timeout, (unsigned long)t->shutdown_retries);
  fprintf(out, "trading recovery: on_mismatch=%s\n", choice_name(mismatch_choices, t->on_mismatch));
  for (size_t i = 0; i < t->n_symbols && i < cfg->n_symbols; i++) {
    const tack_cfg_symbol *sym = &cfg->symbols[i];
    int n = 0;
    for (int k = 0; k < F_COUNT; k++) {
      int entry;
      if (!override_of(sym, k, &entry))
        continue;
      if (n++ == 0)
        fprintf(out, "trading for %s on %s:", sym->symbol ? sym->symbol : "?",
                sym->exchange ? sym->exchange->name : "?");
      field_text(k, &t->symbols[i], v, sizeof v);
      fprintf(out, "%s %s=%s", n > 1 ? "," : "", policy_keys[k].name, v);
      if (entry)
        fprintf(out, " (strategy %s)", sym->strategy->inst.name);
    }
    if (n)
      fputc('\n', out);
  }
}
