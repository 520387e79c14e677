/*
 * compose.c: composed strategies while they run: aggregation by method,
 * regime switching with hysteresis and switch policies, and the tree of
 * nodes that carries each entry's latest opinion. See compose.h for the
 * contract and docs/composition.md for the rules as users read them.
 */
#include "compose.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "log.h"

/* Most lines of an unfolded tree (a DAG shared at every level could
 * unfold to many; the nodes themselves are never limited by this). */
#define MAX_ENTRIES 4096

/* A regime entry's state. */
typedef struct regime_state {
  long active;  /* index of the regime that holds, -1 before the first */
  long pending; /* a different regime the detector matched, -1 when none */
  uint32_t pending_bars;
  int waiting;              /* after a reduce or flatten switch, until the new strategy speaks */
  uint64_t emits_at_switch; /* the new strategy's emits at the switch */
  double policy_strength;   /* what is emitted while waiting */
  int has_last_at;
  tack_time last_at; /* end of the bar of the previous evaluation */
  uint64_t switches;
  uint64_t bars[TACK_MAX_REGIMES];
  tack_time time_ns[TACK_MAX_REGIMES];
  tack_compose_switch recent[TACK_COMPOSE_RECENT]; /* a ring */
  size_t n_recent, next_recent;
} regime_state;

typedef struct node {
  const tack_cfg_strategy *cfg; /* NULL for a tree of tack_compose_new_leaf() */
  const char *name;
  uint32_t type;
  uint32_t drive_tf; /* smallest timeframe of its leaves: it is evaluated on these bars */
  size_t *kids;      /* composite: members in order; regime: detector, then each regime's */
  size_t n_kids;
  tack_compose_vote *votes; /* composite: scratch */
  double *contrib;          /* composite: per member, of the last evaluation */
  regime_state *rs;
  int has;
  tack_signal out;
  uint64_t emits;       /* new signals so far */
  uint64_t inputs_seen; /* composite: its members' emits when it last aggregated, plus 1 */
  /* A composite's reason is written when someone reads it (the runtime
   * records the root's signal, an inspection, a regime passing it on),
   * from what its latest new signal was made of: a composite deep in a
   * tree may change on most bars, and nobody may ever read those. */
  tack_compose_result why;
  double why_value; /* GATED: the gate's strength; BELOW_THRESHOLD: the strength before */
} node;

/* One line of the unfolded tree. */
typedef struct entry {
  size_t node;
  int depth;
  long parent;
  size_t edge; /* index in the parent's kids */
} entry;

struct tack_compose {
  char *symbol;
  node *nodes;
  size_t n, cap;
  size_t *composed; /* the composite and regime nodes, in node order: what evaluate visits */
  size_t n_composed;
  entry *entries;
  size_t n_entries;
  uint64_t root_emits_seen;
};

/* ------------------------------------------------------------------------ */
/* Aggregation                                                               */
/* ------------------------------------------------------------------------ */

static int sign_of(double v) { return (v > 0) - (v < 0); }

static void aggregate_weighted(const tack_compose_rule *rule, const tack_compose_vote *v, size_t n,
                               double *contrib, tack_compose_result *out) {
  double wsum = 0, ssum = 0, csum = 0;
  int gate_silent = 0; /* a gate without an opinion yet: nothing can pass it */
  for (size_t i = 0; i < n; i++) {
    gate_silent |= v[i].gate && !v[i].has;
    if (!v[i].has)
      continue;
    out->opinions++;
    wsum += v[i].weight;
    ssum += v[i].weight * v[i].strength;
    csum += v[i].weight * v[i].confidence;
  }
  if (gate_silent || wsum <= 0) {
    for (size_t i = 0; contrib && i < n; i++)
      contrib[i] = 0.0;
    return;
  }
  /* One division: it is most of the cost of a small composite. */
  double inv = 1.0 / wsum;
  out->has = 1;
  out->strength = ssum * inv;
  out->confidence = csum * inv;
  for (size_t i = 0; contrib && i < n; i++)
    contrib[i] = v[i].has ? v[i].weight * v[i].strength * inv : 0.0;
  for (size_t i = 0; i < n && out->strength != 0; i++) {
    if (v[i].gate && sign_of(v[i].strength) != sign_of(out->strength)) {
      out->forced = TACK_COMPOSE_GATED;
      out->member = i;
      break;
    }
  }
  if (out->forced == TACK_COMPOSE_OK && fabs(out->strength) < rule->threshold)
    out->forced = TACK_COMPOSE_BELOW_THRESHOLD;
}

static void aggregate_majority(const tack_compose_rule *rule, const tack_compose_vote *v, size_t n,
                               double *contrib, tack_compose_result *out) {
  double long_conf = 0, short_conf = 0;
  for (size_t i = 0; i < n; i++) {
    if (!v[i].has)
      continue;
    out->opinions++;
    if (v[i].strength == 0 || fabs(v[i].strength) < rule->vote_threshold)
      continue;
    if (v[i].strength > 0) {
      out->longs++;
      long_conf += v[i].confidence;
    } else {
      out->shorts++;
      short_conf += v[i].confidence;
    }
  }
  if (out->opinions == 0)
    return;
  out->has = 1;
  uint32_t voters = out->longs + out->shorts;
  uint32_t quorum = rule->quorum ? rule->quorum : (uint32_t)(n / 2 + 1);
  double share = voters ? 1.0 / (double)voters : 0.0;
  for (size_t i = 0; contrib && i < n; i++) {
    int votes = v[i].has && v[i].strength != 0 && fabs(v[i].strength) >= rule->vote_threshold;
    contrib[i] = votes ? (double)sign_of(v[i].strength) * share : 0.0;
  }
  if (voters < quorum) {
    out->forced = TACK_COMPOSE_NO_QUORUM;
  } else if (out->longs == out->shorts) {
    out->forced = TACK_COMPOSE_TIE;
  } else {
    out->strength = ((double)out->longs - (double)out->shorts) / (double)voters;
    out->confidence = out->longs > out->shorts ? long_conf / out->longs : short_conf / out->shorts;
  }
}

static void aggregate_unanimous(const tack_compose_vote *v, size_t n, double *contrib,
                                tack_compose_result *out) {
  int side = 0, mixed = 0;
  size_t weakest = 0;
  double conf = 1.0;
  for (size_t i = 0; i < n; i++) {
    if (!v[i].has)
      return; /* every member must have spoken */
    out->opinions++;
    int s = sign_of(v[i].strength);
    if (i == 0)
      side = s;
    else if (s != side)
      mixed = 1;
    if (fabs(v[i].strength) < fabs(v[weakest].strength))
      weakest = i;
    conf = fmin(conf, v[i].confidence);
  }
  if (n == 0)
    return;
  out->has = 1;
  out->member = weakest;
  if (mixed) {
    out->forced = TACK_COMPOSE_DISAGREE;
    return;
  }
  out->strength = v[weakest].strength;
  out->confidence = conf;
  if (contrib)
    contrib[weakest] = out->strength;
}

void tack_compose_aggregate(const tack_compose_rule *rule, const tack_compose_vote *votes, size_t n,
                            double *contrib, tack_compose_result *out) {
  memset(out, 0, sizeof *out);
  /* Weighted and majority write every contribution once they have an
   * opinion; unanimous writes one. */
  for (size_t i = 0; contrib && i < n && rule->method != TACK_METHOD_WEIGHTED; i++)
    contrib[i] = 0.0;
  switch (rule->method) {
  case TACK_METHOD_WEIGHTED:
    aggregate_weighted(rule, votes, n, contrib, out);
    break;
  case TACK_METHOD_MAJORITY:
    aggregate_majority(rule, votes, n, contrib, out);
    break;
  case TACK_METHOD_UNANIMOUS:
    aggregate_unanimous(votes, n, contrib, out);
    break;
  default:
    break;
  }
  if (!out->has) {
    out->strength = 0;
    out->confidence = 0;
  } else if (out->forced != TACK_COMPOSE_OK) {
    out->strength = 0;
    out->confidence = 0;
  }
}

size_t tack_compose_regime_match(const tack_cfg_regime *regimes, size_t n, double s) {
  for (size_t i = 0; i + 1 < n; i++) {
    const tack_cfg_regime *r = &regimes[i];
    if ((!r->has_above || s > r->above) && (!r->has_below || s < r->below))
      return i;
  }
  return n - 1;
}

/* ------------------------------------------------------------------------ */
/* Building the tree                                                         */
/* ------------------------------------------------------------------------ */

static void node_clear(node *nd) {
  tack_free(NULL, nd->kids);
  tack_free(NULL, nd->votes);
  tack_free(NULL, nd->contrib);
  tack_free(NULL, nd->rs);
}

void tack_compose_free(tack_compose *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->n; i++)
    node_clear(&c->nodes[i]);
  tack_free(NULL, c->nodes);
  tack_free(NULL, c->composed);
  tack_free(NULL, c->entries);
  tack_free(NULL, c->symbol);
  tack_free(NULL, c);
}

static tack_compose *compose_alloc(const char *symbol) {
  tack_compose *c = tack_calloc(NULL, 1, sizeof *c);
  if (!c)
    return NULL;
  c->symbol = tack_strdup(NULL, symbol ? symbol : "");
  if (!c->symbol) {
    tack_free(NULL, c);
    return NULL;
  }
  return c;
}

/* A new node at the end; NULL when out of memory. */
static node *append_node(tack_compose *c) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 8;
    node *nodes = tack_realloc(NULL, c->nodes, cap * sizeof *nodes);
    if (!nodes)
      return NULL;
    c->nodes = nodes;
    c->cap = cap;
  }
  node *nd = &c->nodes[c->n++];
  memset(nd, 0, sizeof *nd);
  return nd;
}

/* The node of st, adding it (children first) when new: its index, or -1
 * when out of memory. */
static long add_entry_node(tack_compose *c, const tack_cfg_strategy *st) {
  for (size_t i = 0; i < c->n; i++)
    if (c->nodes[i].cfg == st)
      return (long)i;
  size_t n_kids = tack_config_children(st);
  size_t *kids = n_kids ? tack_calloc(NULL, n_kids, sizeof *kids) : NULL;
  if (n_kids && !kids)
    return -1;
  for (size_t k = 0; k < n_kids; k++) {
    long idx = add_entry_node(c, tack_config_child(st, k, NULL));
    if (idx < 0) {
      tack_free(NULL, kids);
      return -1;
    }
    kids[k] = (size_t)idx;
  }
  node *nd = append_node(c);
  if (!nd) {
    tack_free(NULL, kids);
    return -1;
  }
  nd->cfg = st;
  nd->name = st->inst.name;
  nd->type = st->type;
  nd->drive_tf = st->n_all_timeframes ? st->all_timeframes[0] : 0;
  nd->kids = kids;
  nd->n_kids = n_kids;
  if (st->type == TACK_STRATEGY_COMPOSITE) {
    nd->votes = tack_calloc(NULL, n_kids, sizeof *nd->votes);
    nd->contrib = tack_calloc(NULL, n_kids, sizeof *nd->contrib);
    if (!nd->votes || !nd->contrib)
      return -1;
  } else if (st->type == TACK_STRATEGY_REGIME) {
    nd->rs = tack_calloc(NULL, 1, sizeof *nd->rs);
    if (!nd->rs)
      return -1;
    nd->rs->active = -1;
    nd->rs->pending = -1;
  }
  return (long)(c->n - 1);
}

static int unfold(tack_compose *c, size_t nd, int depth, long parent, size_t edge) {
  if (c->n_entries == MAX_ENTRIES)
    return 0; /* the inspection view stops here; the tree itself is whole */
  entry *e = &c->entries[c->n_entries];
  long self = (long)c->n_entries++;
  e->node = nd;
  e->depth = depth;
  e->parent = parent;
  e->edge = edge;
  for (size_t k = 0; k < c->nodes[nd].n_kids; k++)
    unfold(c, c->nodes[nd].kids[k], depth + 1, self, k);
  return 0;
}

static size_t count_entries(const tack_compose *c, size_t nd) {
  size_t n = 1;
  for (size_t k = 0; k < c->nodes[nd].n_kids && n < MAX_ENTRIES; k++)
    n += count_entries(c, c->nodes[nd].kids[k]);
  return n < MAX_ENTRIES ? n : MAX_ENTRIES;
}

/* The inspection view, and the list of nodes evaluate visits. */
static int make_entries(tack_compose *c) {
  size_t n = count_entries(c, c->n - 1);
  c->entries = tack_calloc(NULL, n, sizeof *c->entries);
  c->composed = tack_calloc(NULL, c->n, sizeof *c->composed);
  if (!c->entries || !c->composed)
    return TACK_ENOMEM;
  for (size_t i = 0; i < c->n; i++)
    if (c->nodes[i].type == TACK_STRATEGY_COMPOSITE || c->nodes[i].type == TACK_STRATEGY_REGIME)
      c->composed[c->n_composed++] = i;
  return unfold(c, c->n - 1, 0, -1, 0);
}

int tack_compose_new(const tack_cfg_strategy *root, const char *symbol, tack_compose **out) {
  tack_compose *c = compose_alloc(symbol);
  *out = NULL;
  if (!c || add_entry_node(c, root) < 0 || make_entries(c) != 0) {
    tack_compose_free(c);
    return TACK_ENOMEM;
  }
  *out = c;
  return 0;
}

int tack_compose_new_leaf(const char *name, uint32_t type, const char *symbol, tack_compose **out) {
  tack_compose *c = compose_alloc(symbol);
  node *nd = c ? append_node(c) : NULL;
  *out = NULL;
  if (!nd || make_entries(c) != 0) {
    tack_compose_free(c);
    return TACK_ENOMEM;
  }
  nd->name = name;
  nd->type = type;
  *out = c;
  return 0;
}

size_t tack_compose_node_count(const tack_compose *c) { return c->n; }

size_t tack_compose_root(const tack_compose *c) { return c->n - 1; }

uint32_t tack_compose_node_type(const tack_compose *c, size_t i) { return c->nodes[i].type; }

const tack_cfg_strategy *tack_compose_node_config(const tack_compose *c, size_t i) {
  return c->nodes[i].cfg;
}

const char *tack_compose_node_name(const tack_compose *c, size_t i) { return c->nodes[i].name; }

int tack_compose_contains(const tack_compose *c, size_t nd, size_t leaf) {
  if (nd == leaf)
    return 1;
  for (size_t k = 0; k < c->nodes[nd].n_kids; k++)
    if (tack_compose_contains(c, c->nodes[nd].kids[k], leaf))
      return 1;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                                */
/* ------------------------------------------------------------------------ */

/* Whether (strength, confidence) would be a new signal of nd: a change,
 * or a first opinion. Reasons are formatted only then. */
static int is_new(const node *nd, double strength, double confidence) {
  return !nd->has || nd->out.strength != strength || nd->out.confidence != confidence;
}

/* Record a node's new output; the caller writes its reason into
 * nd->out.reason (straight there: no copy on a path taken most bars). */
static void set_output(node *nd, double strength, double confidence, tack_time at) {
  nd->has = 1;
  nd->out.ts = at;
  nd->out.strength = strength;
  nd->out.confidence = confidence;
  nd->emits++;
}

void tack_compose_leaf_signal(tack_compose *c, size_t leaf, const tack_signal *sig) {
  node *nd = &c->nodes[leaf];
  nd->has = 1;
  nd->out = *sig;
  nd->emits++;
}

/*
 * A bounded text builder without printf. A composite makes its reason on
 * every change of its signal, which with a member of continuous strength is
 * most bars: snprintf's float formatting alone would cost more than the
 * aggregation. Appends that do not fit are cut; the text stays terminated.
 */
typedef struct reason_text {
  char *buf;
  size_t cap, len;
} reason_text;

static void put_str(reason_text *t, const char *s) {
  while (*s && t->len + 1 < t->cap)
    t->buf[t->len++] = *s++;
  t->buf[t->len] = '\0';
}

static void put_uint(reason_text *t, uint64_t v) {
  char digits[24];
  size_t n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n && t->len + 1 < t->cap)
    t->buf[t->len++] = digits[--n];
  t->buf[t->len] = '\0';
}

/* v as "%+.2f" writes it for |v| <= 1e6 (strengths and thresholds). */
static void put_fixed2(reason_text *t, double v) {
  double a = fabs(v);
  uint64_t cents = a < 1e6 ? (uint64_t)llround(a * 100.0) : 100000000u;
  put_str(t, signbit(v) ? "-" : "+");
  put_uint(t, cents / 100);
  put_str(t, cents % 100 < 10 ? ".0" : ".");
  put_uint(t, cents % 100);
}

/* The reason of composite nd's latest signal into buf. */
static void composite_reason(const tack_compose *c, const node *nd, char *buf, size_t cap) {
  const tack_compose_result *r = &nd->why;
  reason_text t = {buf, cap, 0};
  buf[0] = '\0';
  switch (r->forced) {
  case TACK_COMPOSE_GATED:
    put_str(&t, "gate ");
    put_str(&t, c->nodes[nd->kids[r->member]].name);
    put_str(&t, " disagrees (");
    put_fixed2(&t, nd->why_value);
    put_str(&t, ")");
    return;
  case TACK_COMPOSE_BELOW_THRESHOLD:
    put_str(&t, "weighted ");
    put_fixed2(&t, nd->why_value);
    put_str(&t, " below threshold ");
    put_fixed2(&t, nd->cfg->threshold);
    return;
  case TACK_COMPOSE_NO_QUORUM:
    put_str(&t, "no quorum: ");
    put_uint(&t, r->longs + r->shorts);
    put_str(&t, " of ");
    put_uint(&t, nd->cfg->quorum);
    put_str(&t, " voters");
    return;
  case TACK_COMPOSE_TIE:
  case TACK_COMPOSE_OK:
    if (nd->cfg->method == TACK_METHOD_MAJORITY) {
      put_str(&t, r->forced == TACK_COMPOSE_TIE ? "majority tie " : "majority ");
      put_uint(&t, r->longs);
      put_str(&t, " long, ");
      put_uint(&t, r->shorts);
      put_str(&t, " short");
    } else if (nd->cfg->method == TACK_METHOD_UNANIMOUS) {
      put_str(&t, "unanimous, weakest ");
      put_str(&t, c->nodes[nd->kids[r->member]].name);
    } else {
      put_str(&t, "weighted ");
      put_fixed2(&t, r->strength);
      put_str(&t, ", ");
      put_uint(&t, r->opinions);
      put_str(&t, " of ");
      put_uint(&t, nd->n_kids);
      put_str(&t, " members");
    }
    return;
  default:
    put_str(&t, "unanimous: members disagree");
    return;
  }
}

/* nd's reason into buf: a composite's made now, anyone else's copied. */
static void fill_reason(const tack_compose *c, const node *nd, char *buf, size_t cap) {
  if (nd->type == TACK_STRATEGY_COMPOSITE && nd->has) {
    composite_reason(c, nd, buf, cap);
  } else {
    reason_text t = {buf, cap, 0};
    buf[0] = '\0';
    put_str(&t, nd->out.reason);
  }
}

/* The composite's evaluation at debug level: each member's share. */
static void log_composite(const tack_compose *c, const node *nd, const tack_compose_result *r) {
  char line[768];
  size_t len = 0;
  for (size_t k = 0; k < nd->n_kids && len + 1 < sizeof line; k++) {
    const node *m = &c->nodes[nd->kids[k]];
    int n = m->has
                ? snprintf(line + len, sizeof line - len, "%s%s %+.3f (signal %+.2f)",
                           k ? ", " : "", m->name, nd->contrib[k], m->out.strength)
                : snprintf(line + len, sizeof line - len, "%s%s abstains", k ? ", " : "", m->name);
    if (n < 0)
      break;
    len += (size_t)n < sizeof line - len ? (size_t)n : sizeof line - len - 1;
  }
  if (r->has)
    tack_log(TACK_LOG_DEBUG, NULL, "%s composite %s: %+.3f (conf %.2f): %s", c->symbol, nd->name,
             r->strength, r->confidence, line);
  else
    tack_log(TACK_LOG_DEBUG, NULL, "%s composite %s abstains: %s", c->symbol, nd->name, line);
}

static void evaluate_composite(tack_compose *c, node *nd, tack_time at) {
  const tack_cfg_strategy *st = nd->cfg;
  tack_compose_rule rule = {st->method, st->threshold, st->vote_threshold, st->quorum};
  tack_compose_result r;
  /* Emits only grow: an unchanged sum means no member spoke since the last
   * aggregation, whose result then stands. Most bars take this way out. */
  uint64_t inputs = 1;
  for (size_t k = 0; k < nd->n_kids; k++)
    inputs += c->nodes[nd->kids[k]].emits;
  if (inputs == nd->inputs_seen)
    return;
  nd->inputs_seen = inputs;
  for (size_t k = 0; k < nd->n_kids; k++) {
    const node *m = &c->nodes[nd->kids[k]];
    nd->votes[k].has = m->has;
    nd->votes[k].strength = m->out.strength;
    nd->votes[k].confidence = m->out.confidence;
    nd->votes[k].weight = st->members[k].weight;
    nd->votes[k].gate = st->members[k].gate;
  }
  tack_compose_aggregate(&rule, nd->votes, nd->n_kids, nd->contrib, &r);
  if (tack_log_level() >= TACK_LOG_DEBUG)
    log_composite(c, nd, &r);
  if (!r.has || !is_new(nd, r.strength, r.confidence))
    return;
  nd->why = r;
  nd->why_value = 0;
  if (r.forced == TACK_COMPOSE_GATED) {
    nd->why_value = c->nodes[nd->kids[r.member]].out.strength;
  } else if (r.forced == TACK_COMPOSE_BELOW_THRESHOLD) {
    for (size_t k = 0; k < nd->n_kids; k++)
      nd->why_value += nd->contrib[k];
  }
  set_output(nd, r.strength, r.confidence, at);
}

/* Switch nd from its active regime to regime `to`, applying to's policy. */
static void switch_regime(tack_compose *c, node *nd, size_t to, double detector, uint32_t held,
                          tack_time at, const tack_compose_env *env) {
  regime_state *rs = nd->rs;
  const tack_cfg_regime *r = &nd->cfg->regimes[to];
  const node *strategy = &c->nodes[nd->kids[1 + to]];
  long from = rs->active;
  rs->active = (long)to;
  rs->pending = -1;
  rs->pending_bars = 0;
  rs->waiting = 0;
  tack_compose_switch sw = {nd->name,
                            from >= 0 ? nd->cfg->regimes[from].name : NULL,
                            r->name,
                            nd->kids[1 + to],
                            detector,
                            held,
                            from >= 0 ? r->on_switch : TACK_SWITCH_KEEP,
                            0.0,
                            at,
                            0};
  if (from >= 0) {
    sw.number = ++rs->switches;
    if (r->on_switch != TACK_SWITCH_KEEP) {
      /* The position's direction: the venue's word when there is one,
       * else what this entry last asked for. */
      int dir = env && env->has_position ? sign_of(env->position)
                                         : (nd->has ? sign_of(nd->out.strength) : 0);
      rs->waiting = 1;
      rs->emits_at_switch = strategy->emits;
      rs->policy_strength = r->on_switch == TACK_SWITCH_REDUCE ? r->reduce_to * dir : 0.0;
      sw.emitted = rs->policy_strength;
    }
    rs->recent[rs->next_recent] = sw;
    rs->next_recent = (rs->next_recent + 1) % TACK_COMPOSE_RECENT;
    if (rs->n_recent < TACK_COMPOSE_RECENT)
      rs->n_recent++;
  }
  if (env && env->on_switch)
    env->on_switch(env->data, &sw);
}

static void evaluate_regime(tack_compose *c, node *nd, tack_time at, const tack_compose_env *env) {
  regime_state *rs = nd->rs;
  const node *det = &c->nodes[nd->kids[0]];
  if (rs->active >= 0 && rs->has_last_at && at > rs->last_at)
    rs->time_ns[rs->active] += at - rs->last_at;
  rs->has_last_at = 1;
  rs->last_at = at;
  if (!det->has)
    return; /* no regime until the detector has an opinion */
  size_t match = tack_compose_regime_match(nd->cfg->regimes, nd->cfg->n_regimes, det->out.strength);
  if (rs->active < 0) {
    switch_regime(c, nd, match, det->out.strength, 1, at, env);
  } else if ((long)match == rs->active) {
    rs->pending = -1;
    rs->pending_bars = 0;
  } else {
    if ((long)match != rs->pending) {
      rs->pending = (long)match;
      rs->pending_bars = 0;
    }
    if (++rs->pending_bars >= nd->cfg->hold)
      switch_regime(c, nd, match, det->out.strength, rs->pending_bars, at, env);
  }
  rs->bars[rs->active]++;

  const tack_cfg_regime *r = &nd->cfg->regimes[rs->active];
  const node *strategy = &c->nodes[nd->kids[1 + rs->active]];
  if (rs->waiting && strategy->emits > rs->emits_at_switch)
    rs->waiting = 0;
  if (rs->waiting) {
    if (!is_new(nd, rs->policy_strength, 1.0))
      return;
    reason_text t = {nd->out.reason, sizeof nd->out.reason, 0};
    put_str(&t, "switch to ");
    put_str(&t, r->name);
    if (r->on_switch == TACK_SWITCH_REDUCE) {
      put_str(&t, ": reduce to ");
      put_fixed2(&t, rs->policy_strength);
    } else {
      put_str(&t, ": flat");
    }
    put_str(&t, " until ");
    put_str(&t, strategy->name);
    put_str(&t, " speaks");
    set_output(nd, rs->policy_strength, 1.0, at);
  } else if (strategy->has && is_new(nd, strategy->out.strength, strategy->out.confidence)) {
    reason_text t = {nd->out.reason, sizeof nd->out.reason, 0};
    put_str(&t, r->name);
    put_str(&t, ": ");
    fill_reason(c, strategy, t.buf + t.len, t.cap - t.len);
    set_output(nd, strategy->out.strength, strategy->out.confidence, at);
  }
}

int tack_compose_evaluate(tack_compose *c, uint32_t tf, tack_time at, const tack_compose_env *env) {
  for (size_t i = 0; i < c->n_composed; i++) {
    node *nd = &c->nodes[c->composed[i]];
    if (nd->drive_tf != tf)
      continue;
    if (nd->type == TACK_STRATEGY_COMPOSITE)
      evaluate_composite(c, nd, at);
    else
      evaluate_regime(c, nd, at, env);
  }
  node *root = &c->nodes[c->n - 1];
  if (root->type != TACK_STRATEGY_COMPOSITE && root->type != TACK_STRATEGY_REGIME)
    return 0;
  if (root->emits == c->root_emits_seen)
    return 0;
  c->root_emits_seen = root->emits;
  return 1;
}

int tack_compose_root_signal(const tack_compose *c, tack_signal *out) {
  const node *root = &c->nodes[c->n - 1];
  if (!root->has)
    return 0;
  *out = root->out;
  fill_reason(c, root, out->reason, sizeof out->reason);
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Inspection                                                                */
/* ------------------------------------------------------------------------ */

size_t tack_compose_entry_count(const tack_compose *c) { return c->n_entries; }

int tack_compose_entry_at(const tack_compose *c, size_t i, tack_compose_entry *out) {
  if (i >= c->n_entries)
    return TACK_ERANGE;
  const entry *e = &c->entries[i];
  const node *nd = &c->nodes[e->node];
  memset(out, 0, sizeof *out);
  out->node = e->node;
  out->name = nd->name;
  out->type = nd->type;
  out->depth = e->depth;
  out->parent = e->parent;
  out->role = "";
  out->has_signal = nd->has;
  out->last = nd->out;
  fill_reason(c, nd, out->last.reason, sizeof out->last.reason);
  if (e->parent < 0)
    return 0;
  const node *up = &c->nodes[c->entries[e->parent].node];
  if (up->type == TACK_STRATEGY_COMPOSITE) {
    out->role = "member";
    if (up->cfg->method == TACK_METHOD_WEIGHTED) {
      out->weight = up->cfg->members[e->edge].weight;
      out->gate = up->cfg->members[e->edge].gate;
    }
    out->contribution = up->contrib[e->edge];
  } else if (e->edge == 0) {
    out->role = "detector";
  } else {
    out->role = "regime";
    out->regime = up->cfg->regimes[e->edge - 1].name;
    out->active = up->rs->active == (long)(e->edge - 1);
  }
  return 0;
}

size_t tack_compose_regime_count(const tack_compose *c) {
  size_t n = 0;
  for (size_t i = 0; i < c->n; i++)
    n += c->nodes[i].type == TACK_STRATEGY_REGIME;
  return n;
}

int tack_compose_regime_at(const tack_compose *c, size_t i, tack_compose_regime_stats *out) {
  for (size_t k = 0; k < c->n; k++) {
    const node *nd = &c->nodes[k];
    if (nd->type != TACK_STRATEGY_REGIME || i-- != 0)
      continue;
    const regime_state *rs = nd->rs;
    memset(out, 0, sizeof *out);
    out->entry = nd->name;
    out->active = rs->active >= 0 ? nd->cfg->regimes[rs->active].name : NULL;
    out->switches = rs->switches;
    out->n_regimes = nd->cfg->n_regimes;
    for (size_t r = 0; r < out->n_regimes; r++) {
      out->names[r] = nd->cfg->regimes[r].name;
      out->bars[r] = rs->bars[r];
      out->time_ns[r] = rs->time_ns[r];
    }
    out->n_recent = rs->n_recent;
    size_t first = (rs->next_recent + TACK_COMPOSE_RECENT - rs->n_recent) % TACK_COMPOSE_RECENT;
    for (size_t r = 0; r < rs->n_recent; r++)
      out->recent[r] = rs->recent[(first + r) % TACK_COMPOSE_RECENT];
    return 0;
  }
  return TACK_ERANGE;
}
