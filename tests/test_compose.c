/*
 * test_compose.c: composed strategies (host/compose.c and their config in
 * host/config.c, run by host/runtime.c).
 *
 *   - table tests of each aggregation method: ties, abstentions, zero
 *     weights, gates, thresholds, quorum, disagreement, confidence;
 *   - trees from config text: nested composites, an entry shared by two
 *     composites, contributions;
 *   - regimes: hysteresis, each switch policy's signals, switch records
 *     and the time in each regime, in the tree and in the running host
 *     (log line, stats, store), and the position told to strategies;
 *   - a multi-timeframe composite without look-ahead, from 1m bars whose
 *     prices tell their minute, with forming bars that must never show;
 *   - config errors, each with file:line;
 *   - scorer members: the fixture scorer (the host fills its features and
 *     n_features) and the real xgboost plugin with a model trained here.
 *
 * The fixture plugins are rt_fixtures.so (rt.exchange, rt.filter,
 * rt.strategy, rt.script, rt.scorer); the built plugins of
 * $TACK_BUILD_DIR/plugins give indicators and xgboost.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compose.h"
#include "config.h"
#include "instance.h"
#include "log.h"
#include "ml_features.h"
#include "rt_test_util.h"
#include "runtime.h"
#include "store.h"

#define NS TACK_NS_PER_SEC
/* Where rt.exchange's bar 0 starts: 2023-11-14T00:00:00Z. */
#define START_S INT64_C(1699920000)

static rt_fx fx;
static tack_plugin script_plugin, scorer_plugin;
static char tmp[256];

static int reset(void **state) {
  (void)state;
  memset(fx.rec, 0, sizeof *fx.rec);
  return 0;
}

/* rt.script and rt.scorer, found in the shared object rt_fx_open() opened. */
static int find_extra_plugins(void) {
  const tack_plugin_list *list = dlsym(fx.so, TACK_ENTRY_SYMBOL);
  tack_plugin *out[2] = {&script_plugin, &scorer_plugin};
  const char *ids[2] = {"rt.script", "rt.scorer"};
  for (size_t k = 0; k < 2; k++) {
    uint32_t i = 0;
    while (i < list->count && strcmp(list->plugins[i]->id, ids[k]) != 0)
      i++;
    if (i == list->count) {
      fprintf(stderr, "%s: no %s\n", fx.path, ids[k]);
      return -1;
    }
    out[k]->desc = list->plugins[i];
    out[k]->path = fx.path;
    out[k]->abi_major = list->abi_major;
    out[k]->abi_minor = list->abi_minor;
    out[k]->index = i;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Aggregation tables                                                        */
/* ------------------------------------------------------------------------ */

#define MAXV 4

typedef struct agg_case {
  const char *name;
  tack_compose_rule rule;
  size_t n;
  tack_compose_vote v[MAXV];
  int has;
  double strength, confidence;
  uint32_t forced;
  double contrib[MAXV];
} agg_case;

#define W TACK_METHOD_WEIGHTED
#define M TACK_METHOD_MAJORITY
#define U TACK_METHOD_UNANIMOUS
/* A member with an opinion: strength, confidence, weight, gate. */
#define V(s, c, w, g)                                                                              \
  { 1, s, c, w, g }
#define ABSTAIN(w, g)                                                                              \
  { 0, 0, 0, w, g }

static const agg_case agg_cases[] = {
    /* weighted */
    {"weighted: weights normalize",
     {W, 0, 0, 0},
     2,
     {V(1.0, 0.8, 2, 0), V(0.5, 0.6, 1, 0)},
     1,
     2.5 / 3,
     2.2 / 3,
     TACK_COMPOSE_OK,
     {2.0 / 3, 0.5 / 3}},
    {"weighted: an abstaining member does not count",
     {W, 0, 0, 0},
     2,
     {V(-1.0, 0.8, 1, 0), ABSTAIN(3, 0)},
     1,
     -1.0,
     0.8,
     TACK_COMPOSE_OK,
     {-1.0, 0}},
    {"weighted: nobody has an opinion",
     {W, 0, 0, 0},
     2,
     {ABSTAIN(1, 0), ABSTAIN(1, 0)},
     0,
     0,
     0,
     TACK_COMPOSE_OK,
     {0, 0}},
    {"weighted: only a zero weight has an opinion",
     {W, 0, 0, 0},
     2,
     {V(1.0, 1.0, 0, 0), ABSTAIN(1, 0)},
     0,
     0,
     0,
     TACK_COMPOSE_OK,
     {0, 0}},
    {"weighted: a zero weight counts for nothing",
     {W, 0, 0, 0},
     2,
     {V(1.0, 0.9, 0, 0), V(-0.5, 0.5, 1, 0)},
     1,
     -0.5,
     0.5,
     TACK_COMPOSE_OK,
     {0, -0.5}},
    {"weighted: a tie is flat, with the members' confidence",
     {W, 0, 0, 0},
     2,
     {V(1.0, 0.6, 1, 0), V(-1.0, 0.8, 1, 0)},
     1,
     0,
     0.7,
     TACK_COMPOSE_OK,
     {0.5, -0.5}},
    {"weighted: below the threshold is 0",
     {W, 0.2, 0, 0},
     2,
     {V(0.5, 0.9, 1, 0), V(-0.2, 0.9, 1, 0)},
     1,
     0,
     0,
     TACK_COMPOSE_BELOW_THRESHOLD,
     {0.25, -0.1}},
    {"weighted: at the threshold passes",
     {W, 0.25, 0, 0},
     2,
     {V(0.5, 1.0, 1, 0), V(0.0, 1.0, 1, 0)},
     1,
     0.25,
     1.0,
     TACK_COMPOSE_OK,
     {0.25, 0}},
    {"weighted: a gate that agrees",
     {W, 0, 0, 0},
     2,
     {V(0.3, 1.0, 0, 1), V(1.0, 0.5, 1, 0)},
     1,
     1.0,
     0.5,
     TACK_COMPOSE_OK,
     {0, 1.0}},
    {"weighted: a gate that disagrees",
     {W, 0, 0, 0},
     2,
     {V(-0.3, 1.0, 0, 1), V(1.0, 0.5, 1, 0)},
     1,
     0,
     0,
     TACK_COMPOSE_GATED,
     {0, 1.0}},
    {"weighted: a flat gate",
     {W, 0, 0, 0},
     2,
     {V(0, 1.0, 1, 1), V(1.0, 0.5, 1, 0)},
     1,
     0,
     0,
     TACK_COMPOSE_GATED,
     {0, 0.5}},
    {"weighted: a gate without an opinion",
     {W, 0, 0, 0},
     2,
     {ABSTAIN(1, 1), V(1.0, 0.5, 1, 0)},
     0,
     0,
     0,
     TACK_COMPOSE_OK,
     {0, 0}},

    /* majority */
    {"majority: two long, one short",
     {M, 0, 0, 2},
     3,
     {V(1.0, 0.8, 1, 0), V(0.4, 0.6, 1, 0), V(-1.0, 0.9, 1, 0)},
     1,
     1.0 / 3,
     0.7,
     TACK_COMPOSE_OK,
     {1.0 / 3, 1.0 / 3, -1.0 / 3}},
    {"majority: a tie",
     {M, 0, 0, 2},
     3,
     {V(1.0, 0.8, 1, 0), V(0, 0.6, 1, 0), V(-1.0, 0.9, 1, 0)},
     1,
     0,
     0,
     TACK_COMPOSE_TIE,
     {0.5, 0, -0.5}},
    {"majority: abstentions miss the quorum",
     {M, 0, 0, 2},
     3,
     {V(1.0, 0.8, 1, 0), ABSTAIN(1, 0), ABSTAIN(1, 0)},
     1,
     0,
     0,
     TACK_COMPOSE_NO_QUORUM,
     {1.0, 0, 0}},
    {"majority: a quorum of one",
     {M, 0, 0, 1},
     3,
     {V(1.0, 0.8, 1, 0), ABSTAIN(1, 0), ABSTAIN(1, 0)},
     1,
     1.0,
     0.8,
     TACK_COMPOSE_OK,
     {1.0, 0, 0}},
    {"majority: quorum 0 means more than half",
     {M, 0, 0, 0},
     4,
     {V(1.0, 0.8, 1, 0), V(1.0, 0.8, 1, 0), ABSTAIN(1, 0), ABSTAIN(1, 0)},
     1,
     0,
     0,
     TACK_COMPOSE_NO_QUORUM,
     {0.5, 0.5, 0, 0}},
    {"majority: weak opinions do not vote",
     {M, 0, 0.5, 2},
     3,
     {V(0.2, 0.8, 1, 0), V(0.6, 0.6, 1, 0), V(-0.7, 0.9, 1, 0)},
     1,
     0,
     0,
     TACK_COMPOSE_TIE,
     {0, 0.5, -0.5}},
    {"majority: nobody has an opinion",
     {M, 0, 0, 1},
     2,
     {ABSTAIN(1, 0), ABSTAIN(1, 0)},
     0,
     0,
     0,
     TACK_COMPOSE_OK,
     {0, 0}},
    {"majority: short wins",
     {M, 0, 0, 2},
     3,
     {V(-0.5, 0.4, 1, 0), V(-0.9, 0.8, 1, 0), V(-0.1, 0.3, 1, 0)},
     1,
     -1.0,
     0.5,
     TACK_COMPOSE_OK,
     {-1.0 / 3, -1.0 / 3, -1.0 / 3}},

    /* unanimous */
    {"unanimous: all long, the weakest",
     {U, 0, 0, 0},
     3,
     {V(0.5, 0.9, 1, 0), V(0.8, 0.4, 1, 0), V(1.0, 0.7, 1, 0)},
     1,
     0.5,
     0.4,
     TACK_COMPOSE_OK,
     {0.5, 0, 0}},
    {"unanimous: all short, the weakest",
     {U, 0, 0, 0},
     2,
     {V(-1.0, 0.9, 1, 0), V(-0.3, 0.6, 1, 0)},
     1,
     -0.3,
     0.6,
     TACK_COMPOSE_OK,
     {0, -0.3}},
    {"unanimous: disagreement",
     {U, 0, 0, 0},
     2,
     {V(1.0, 0.9, 1, 0), V(-0.3, 0.6, 1, 0)},
     1,
     0,
     0,
     TACK_COMPOSE_DISAGREE,
     {0, 0}},
    {"unanimous: flat against long disagrees",
     {U, 0, 0, 0},
     2,
     {V(0, 0.9, 1, 0), V(0.3, 0.6, 1, 0)},
     1,
     0,
     0,
     TACK_COMPOSE_DISAGREE,
     {0, 0}},
    {"unanimous: all flat agree",
     {U, 0, 0, 0},
     2,
     {V(0, 0.9, 1, 0), V(0, 0.6, 1, 0)},
     1,
     0,
     0.6,
     TACK_COMPOSE_OK,
     {0, 0}},
    {"unanimous: an abstention waits",
     {U, 0, 0, 0},
     2,
     {V(1.0, 0.9, 1, 0), ABSTAIN(1, 0)},
     0,
     0,
     0,
     TACK_COMPOSE_OK,
     {0, 0}},
};

static int near(double a, double b) { return fabs(a - b) < 1e-12; }

static void test_aggregation_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof agg_cases / sizeof agg_cases[0]; i++) {
    const agg_case *c = &agg_cases[i];
    tack_compose_result r;
    double contrib[MAXV];
    tack_compose_aggregate(&c->rule, c->v, c->n, contrib, &r);
    int ok = r.has == c->has && near(r.strength, c->strength) &&
             near(r.confidence, c->confidence) && r.forced == c->forced;
    for (size_t k = 0; k < c->n; k++)
      ok = ok && near(contrib[k], c->contrib[k]);
    if (!ok) {
      fprintf(stderr, "%s: has %d strength %g confidence %g forced %u; contributions", c->name,
              r.has, r.strength, r.confidence, r.forced);
      for (size_t k = 0; k < c->n; k++)
        fprintf(stderr, " %g", contrib[k]);
      fprintf(stderr, "\n");
    }
    assert_true(ok);
    /* Contributions are optional. */
    tack_compose_result again;
    tack_compose_aggregate(&c->rule, c->v, c->n, NULL, &again);
    assert_true(again.has == r.has && again.strength == r.strength);
  }
}

/* ------------------------------------------------------------------------ */
/* Trees from config text                                                    */
/* ------------------------------------------------------------------------ */

/* Write text to <tmp>/name and return its path (static buffer). */
static const char *write_text(const char *name, const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", tmp, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

/* The head every config of these tests shares; strategies follow it. */
#define HEAD                                                                                       \
  "version = 1;\n"                                                                                 \
  "name = \"compose\";\n"                                                                          \
  "exchanges = { venue = { plugin = \"rt.exchange\"; }; };\n"

static tack_config *load_text(const char *name, const char *text) {
  tack_config *cfg = NULL;
  tack_diag d = TACK_DIAG_INIT;
  int rc = tack_config_load(write_text(name, text), &cfg, &d);
  if (rc != 0)
    tack_diag_print(&d, stderr);
  tack_diag_free(&d);
  assert_int_equal(rc, 0);
  return cfg;
}

static tack_cfg_strategy *entry(tack_config *cfg, const char *name) {
  for (size_t i = 0; i < cfg->n_strategies; i++)
    if (strcmp(cfg->strategies[i].inst.name, name) == 0)
      return &cfg->strategies[i];
  fail_msg("no entry %s", name);
  return NULL;
}

static size_t node_of(const tack_compose *c, const char *name) {
  for (size_t i = 0; i < tack_compose_node_count(c); i++)
    if (strcmp(tack_compose_node_name(c, i), name) == 0)
      return i;
  fail_msg("no node %s", name);
  return 0;
}

static void say(tack_compose *c, const char *leaf, double strength, double confidence) {
  tack_signal sig;
  memset(&sig, 0, sizeof sig);
  sig.ts = 1;
  sig.strength = strength;
  sig.confidence = confidence;
  snprintf(sig.reason, sizeof sig.reason, "%s says", leaf);
  tack_compose_leaf_signal(c, node_of(c, leaf), &sig);
}

static tack_compose_entry entry_at(const tack_compose *c, size_t i) {
  tack_compose_entry e;
  assert_int_equal(tack_compose_entry_at(c, i, &e), 0);
  return e;
}

/* Leaves every test tree uses: rt.script at 5m. */
#define LEAF(name) "  " name " = { plugin = \"rt.script\"; timeframe = \"5m\"; };\n"

static void test_nested_composites(void **state) {
  (void)state;
  tack_config *cfg =
      load_text("nested.cfg", HEAD "strategies = {\n" LEAF("a") LEAF("b") LEAF("c")
                                  LEAF("d") "  vote = { type = \"composite\"; method = "
                                            "\"majority\"; members = [ \"a\", \"b\", \"c\" ]; };\n"
                                            "  all = { type = \"composite\"; method = "
                                            "\"weighted\"; members = ( { strategy = \"vote\"; "
                                            "weight = 3.0; }, { strategy = \"d\"; }, { strategy = "
                                            "\"a\"; weight = 0; } ); };\n"
                                            "};\n"
                                            "symbols = ( { symbol = \"X\"; exchange = \"venue\"; "
                                            "strategy = \"all\"; } );\n");
  tack_cfg_strategy *all = entry(cfg, "all");
  assert_int_equal(all->depth, 3);
  assert_int_equal(all->n_all_timeframes, 1);
  tack_compose *c = NULL;
  assert_int_equal(tack_compose_new(all, "X", &c), 0);
  /* a is shared: one node. a b c vote d all. */
  assert_int_equal(tack_compose_node_count(c), 6);
  assert_string_equal(tack_compose_node_name(c, tack_compose_root(c)), "all");
  /* Unfolded: all, vote, a, b, c, d, a. */
  assert_int_equal(tack_compose_entry_count(c), 7);
  tack_signal sig;
  assert_int_equal(tack_compose_root_signal(c, &sig), 0);

  /* Only d speaks: vote has opinions from nobody and abstains. */
  say(c, "d", -0.5, 0.4);
  assert_int_equal(tack_compose_evaluate(c, 300, 10 * NS, NULL), 1);
  assert_int_equal(tack_compose_root_signal(c, &sig), 1);
  assert_true(near(sig.strength, -0.5) && near(sig.confidence, 0.4));
  assert_int_equal(sig.ts, 10 * NS);
  /* Nothing changed: no new signal. */
  assert_int_equal(tack_compose_evaluate(c, 300, 11 * NS, NULL), 0);
  /* Bars of another timeframe evaluate nothing here. */
  say(c, "a", 1.0, 1.0);
  assert_int_equal(tack_compose_evaluate(c, 3600, 12 * NS, NULL), 0);

  /* a and b long, c short: vote = +1/3 (quorum 2 of 3); all = (3 * 1/3 -
   * 0.5) / 4 (a's weight 0 counts for nothing). */
  say(c, "b", 0.5, 0.6);
  say(c, "c", -1.0, 0.2);
  assert_int_equal(tack_compose_evaluate(c, 300, 13 * NS, NULL), 1);
  tack_compose_root_signal(c, &sig);
  assert_true(near(sig.strength, (3.0 / 3 - 0.5) / 4));
  /* vote's confidence: the mean of its winners (1.0 and 0.6). */
  assert_true(near(sig.confidence, (3 * 0.8 + 0.4) / 4));

  tack_compose_entry e0 = entry_at(c, 0), e1 = entry_at(c, 1), e6 = entry_at(c, 6);
  assert_string_equal(e0.name, "all");
  assert_int_equal(e0.parent, -1);
  assert_string_equal(e1.name, "vote");
  assert_string_equal(e1.role, "member");
  assert_int_equal(e1.depth, 1);
  assert_true(near(e1.weight, 3.0) && near(e1.contribution, 0.25));
  assert_true(near(e1.last.strength, 1.0 / 3));
  tack_compose_entry e2 = entry_at(c, 2);
  assert_string_equal(e2.name, "a");
  assert_int_equal(e2.depth, 2);
  assert_int_equal(e2.parent, 1);
  assert_true(near(e2.contribution, 1.0 / 3)); /* a's vote in `vote` */
  assert_string_equal(e6.name, "a");
  assert_int_equal(e6.parent, 0);
  assert_true(near(e6.weight, 0) && near(e6.contribution, 0));
  tack_compose_free(c);
  tack_config_free(cfg);
}

/* ------------------------------------------------------------------------ */
/* Regimes in the tree                                                       */
/* ------------------------------------------------------------------------ */

typedef struct switches_seen {
  int n;
  tack_compose_switch last;
} switches_seen;

static void count_switch(void *data, const tack_compose_switch *sw) {
  switches_seen *s = data;
  s->n++;
  s->last = *sw;
}

/* A regime entry over detector det: trend (strength above 0.3) runs tr,
 * the default range runs rg, each with the given switch policy. */
static tack_config *regime_config(const char *name, int hold, const char *range_policy) {
  char text[2048];
  snprintf(
      text, sizeof text,
      HEAD "strategies = {\n" LEAF("det") LEAF("tr") LEAF(
          "rg") "  sw = { type = \"regime\"; detector = \"det\"; hold = %d;\n"
                "    regimes = ( { name = \"trend\"; above = 0.3; strategy = \"tr\"; },\n"
                "                { name = \"range\"; strategy = \"rg\"; %s } ); };\n"
                "};\n"
                "symbols = ( { symbol = \"X\"; exchange = \"venue\"; strategy = \"sw\"; } );\n",
      hold, range_policy);
  return load_text(name, text);
}

/* One bar: the detector says d, then the tree is evaluated at bar n. */
static int bar_with(tack_compose *c, int n, double d, const tack_compose_env *env) {
  say(c, "det", d, 1.0);
  return tack_compose_evaluate(c, 300, (START_S + 300 * (n + 1)) * NS, env);
}

static void test_regime_hysteresis(void **state) {
  (void)state;
  tack_config *cfg = regime_config("hold.cfg", 3, "on_switch = \"keep\";");
  tack_compose *c = NULL;
  switches_seen seen = {0, {0}};
  tack_compose_env env = {0, 0, count_switch, &seen};
  tack_compose_regime_stats st;
  tack_signal sig;
  assert_int_equal(tack_compose_new(entry(cfg, "sw"), "X", &c), 0);
  say(c, "tr", 0.9, 0.7);
  say(c, "rg", -0.4, 0.6);

  /* No regime before the detector speaks. */
  assert_int_equal(tack_compose_evaluate(c, 300, START_S * NS, &env), 0);
  assert_int_equal(tack_compose_regime_at(c, 0, &st), 0);
  assert_null(st.active);
  /* The first opinion picks trend at once: not a switch. */
  assert_int_equal(bar_with(c, 0, 0.5, &env), 1);
  assert_int_equal(seen.n, 1);
  assert_null(seen.last.from);
  assert_string_equal(seen.last.to, "trend");
  tack_compose_root_signal(c, &sig);
  assert_true(near(sig.strength, 0.9));
  assert_string_equal(sig.reason, "trend: tr says");

  /* range for 2 bars, trend again, range for 2, trend: never 3 in a row. */
  const double flicker[] = {0.1, 0.2, 0.5, 0.0, -0.9, 0.31, 0.3, 0.1, 0.6};
  for (int i = 0; i < 9; i++)
    bar_with(c, 1 + i, flicker[i], &env);
  tack_compose_regime_at(c, 0, &st);
  assert_string_equal(st.active, "trend");
  assert_int_equal(st.switches, 0);
  assert_int_equal(seen.n, 1);

  /* Three bars of range: the switch comes at the third. 0.3 is not above
   * 0.3: it is range. */
  assert_int_equal(bar_with(c, 10, 0.3, &env), 0);
  assert_int_equal(bar_with(c, 11, -0.2, &env), 0);
  assert_int_equal(bar_with(c, 12, 0.0, &env), 1);
  assert_int_equal(seen.n, 2);
  assert_string_equal(seen.last.from, "trend");
  assert_string_equal(seen.last.to, "range");
  assert_int_equal(seen.last.held, 3);
  assert_int_equal(seen.last.number, 1);
  assert_true(near(seen.last.detector, 0.0));
  assert_int_equal(seen.last.at, (START_S + 300 * 13) * NS);
  /* keep: rg's signal at once. */
  tack_compose_root_signal(c, &sig);
  assert_true(near(sig.strength, -0.4) && near(sig.confidence, 0.6));
  assert_string_equal(sig.reason, "range: rg says");

  /* Time in each regime: trend held from bar 0's end to bar 12's (12
   * evaluations of 5m after its first), range since. */
  bar_with(c, 13, 0.0, &env);
  tack_compose_regime_at(c, 0, &st);
  assert_int_equal(st.switches, 1);
  assert_int_equal(st.n_regimes, 2);
  assert_string_equal(st.names[0], "trend");
  assert_int_equal(st.bars[0], 12);
  assert_int_equal(st.bars[1], 2);
  assert_int_equal(st.time_ns[0], 12 * 300 * NS);
  assert_int_equal(st.time_ns[1], 300 * NS);
  assert_int_equal(st.n_recent, 1);
  assert_string_equal(st.recent[0].to, "range");

  /* The tree shows which regime holds. */
  tack_compose_entry e;
  for (size_t i = 0; tack_compose_entry_at(c, i, &e) == 0; i++)
    if (!strcmp(e.role, "regime"))
      assert_int_equal(e.active, !strcmp(e.regime, "range"));
  tack_compose_free(c);
  tack_config_free(cfg);
}

static void test_regime_policies(void **state) {
  (void)state;
  static const struct {
    const char *policy;
    int has_position;
    double position;
    double until_spoken; /* what the symbol emits after the switch */
  } cases[] = {
      {"on_switch = \"flatten\";", 0, 0, 0.0},
      {"on_switch = \"reduce\"; reduce_to = 0.25;", 0, 0, 0.25},
      {"on_switch = \"reduce\";", 1, -3.0, -0.5},
      {"on_switch = \"reduce\";", 1, 0.0, 0.0},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    tack_config *cfg = regime_config("policy.cfg", 1, cases[k].policy);
    tack_compose *c = NULL;
    tack_compose_env env = {cases[k].has_position, cases[k].position, NULL, NULL};
    tack_signal sig;
    assert_int_equal(tack_compose_new(entry(cfg, "sw"), "X", &c), 0);
    say(c, "tr", 0.8, 0.7);
    say(c, "rg", -0.6, 0.9);
    bar_with(c, 0, 0.9, &env);
    tack_compose_root_signal(c, &sig);
    assert_true(near(sig.strength, 0.8));

    /* hold 1: the switch is at once; rg has spoken before, but not since. */
    assert_int_equal(bar_with(c, 1, 0.0, &env), 1);
    tack_compose_root_signal(c, &sig);
    if (!near(sig.strength, cases[k].until_spoken))
      fprintf(stderr, "%s: %g\n", cases[k].policy, sig.strength);
    assert_true(near(sig.strength, cases[k].until_spoken));
    assert_true(near(sig.confidence, 1.0));
    assert_non_null(strstr(sig.reason, "switch to range"));
    /* Until rg speaks, that stands. */
    assert_int_equal(bar_with(c, 2, 0.0, &env), 0);
    /* rg speaks (its same view again): its signal passes. */
    say(c, "rg", -0.6, 0.9);
    assert_int_equal(bar_with(c, 3, 0.0, &env), 1);
    tack_compose_root_signal(c, &sig);
    assert_true(near(sig.strength, -0.6) && near(sig.confidence, 0.9));
    tack_compose_free(c);
    tack_config_free(cfg);
  }
}

/* ------------------------------------------------------------------------ */
/* Config errors                                                             */
/* ------------------------------------------------------------------------ */

typedef struct cfg_error {
  const char *name;
  const char *strategies; /* the strategies group's body, from line 5 */
  int line;               /* where the message must point */
  const char *path;
  const char *what;
} cfg_error;

#define SYMS "symbols = ( { symbol = \"X\"; exchange = \"venue\"; strategy = \"top\"; } );\n"

static const cfg_error cfg_errors[] = {
    {"cycle",
     LEAF("a") "  top = { type = \"composite\"; method = \"weighted\"; members = [ \"a\", \"mid\" "
               "]; };\n"
               "  mid = { type = \"composite\"; method = \"weighted\";\n"
               "          members = ( { strategy = \"top\"; } ); };\n",
     8, "strategies.mid.members[0].strategy", "cycle: top -> mid -> top"},
    {"self", "  top = { type = \"composite\"; method = \"majority\"; members = [ \"top\" ]; };\n",
     5, "strategies.top.members[0]", "cycle: top -> top: a strategy cannot contain itself"},
    {"unknown_member",
     LEAF("a") "  top = { type = \"composite\"; method = \"weighted\";\n"
               "    members = ( { strategy = \"a\"; }, { strategy = \"b\"; } ); };\n",
     7, "strategies.top.members[1].strategy", "unknown strategy 'b' (did you mean 'a'?)"},
    {"weights_sum_to_zero",
     LEAF("a") LEAF("b") "  top = { type = \"composite\"; method = \"weighted\";\n"
                         "    members = ( { strategy = \"a\"; weight = 0; }, { strategy = \"b\"; "
                         "weight = 0.0; } ); };\n",
     8, "strategies.top.members", "the weights sum to zero"},
    {"negative_weight",
     LEAF("a") LEAF("b") "  top = { type = \"composite\"; method = \"weighted\";\n"
                         "    members = ( { strategy = \"a\"; weight = -1.0; }, \"b\" ); };\n",
     8, "strategies.top.members[0].weight", "must be a finite number of 0 or more, got -1"},
    {"infinite_weight",
     LEAF("a") "  top = { type = \"composite\"; method = \"weighted\";\n"
               "    members = ( { strategy = \"a\"; weight = 1e999; } ); };\n",
     7, "strategies.top.members[0].weight", "must be a finite number of 0 or more, got inf"},
    {"timeframe_not_a_multiple",
     LEAF("a") "  b = { plugin = \"rt.script\"; timeframe = \"7m\"; };\n"
               "  top = { type = \"composite\"; method = \"weighted\"; members = [ \"a\", \"b\" ]; "
               "};\n",
     6, "strategies.b.timeframe",
     "7m is not a whole multiple of 5m, the smallest timeframe of composite 'top'"},
    {"timeframe_of_a_nested_member",
     LEAF("a") "  b = { plugin = \"rt.script\"; timeframes = [ \"1h\", \"90m\" ]; };\n"
               "  mid = { type = \"composite\"; method = \"weighted\"; members = [ \"b\" ]; };\n"
               "  top = { type = \"composite\"; method = \"weighted\"; members = [ \"a\", \"mid\" "
               "]; };\n",
     6, "strategies.b.timeframes[1]", "90m is not a whole multiple of 1h"},
    {"regime_without_default",
     LEAF("d") LEAF("a")
         LEAF("b") "  top = { type = \"regime\"; detector = \"d\";\n"
                   "    regimes = ( { name = \"up\"; above = 0.3; strategy = \"a\"; },\n"
                   "                { name = \"down\"; below = -0.3; strategy = \"b\"; } ); };\n",
     9, "strategies.top.regimes", "no default: the last regime ('down') has bounds"},
    {"regime_default_not_last",
     LEAF("d") LEAF("a")
         LEAF("b") "  top = { type = \"regime\"; detector = \"d\";\n"
                   "    regimes = ( { name = \"any\"; strategy = \"a\"; },\n"
                   "                { name = \"down\"; below = -0.3; strategy = \"b\"; },\n"
                   "                { name = \"rest\"; strategy = \"b\"; } ); };\n",
     9, "strategies.top.regimes[0]", "only the last regime may be such a default"},
    {"regime_overlap",
     LEAF("d") LEAF("a") LEAF(
         "b") "  top = { type = \"regime\"; detector = \"d\";\n"
              "    regimes = ( { name = \"up\"; above = 0.3; strategy = \"a\"; },\n"
              "                { name = \"mid\"; above = -0.5; below = 0.5; strategy = \"b\"; },\n"
              "                { name = \"rest\"; strategy = \"b\"; } ); };\n",
     10, "strategies.top.regimes[1]", "overlaps regime 'up'"},
    {"regime_unsorted",
     LEAF("d") LEAF("a")
         LEAF("b") "  top = { type = \"regime\"; detector = \"d\";\n"
                   "    regimes = ( { name = \"down\"; below = -0.3; strategy = \"a\"; },\n"
                   "                { name = \"up\"; above = 0.3; strategy = \"b\"; },\n"
                   "                { name = \"rest\"; strategy = \"b\"; } ); };\n",
     10, "strategies.top.regimes[1]",
     "listed after regime 'down' (below -0.3), whose strengths are lower"},
    {"regime_empty_bounds",
     LEAF("d") LEAF("a") LEAF(
         "b") "  top = { type = \"regime\"; detector = \"d\";\n"
              "    regimes = ( { name = \"mid\"; above = 0.5; below = 0.2; strategy = \"a\"; },\n"
              "                { name = \"rest\"; strategy = \"b\"; } ); };\n",
     9, "strategies.top.regimes[0]", "above (0.5) must be less than below (0.2)"},
    {"regime_detector_is_its_strategy",
     LEAF("d") LEAF("a") "  top = { type = \"regime\"; detector = \"d\";\n"
                         "    regimes = ( { name = \"up\"; above = 0.3; strategy = \"d\"; },\n"
                         "                { name = \"rest\"; strategy = \"a\"; } ); };\n",
     8, "strategies.top.regimes[0].strategy", "'d' is the detector of this regime entry too"},
    {"regime_reduce_to_without_reduce",
     LEAF("d") LEAF("a") LEAF("b") "  top = { type = \"regime\"; detector = \"d\";\n"
                                   "    regimes = ( { name = \"up\"; above = 0.3; strategy = "
                                   "\"a\"; reduce_to = 0.5; },\n"
                                   "                { name = \"rest\"; strategy = \"b\"; } ); };\n",
     9, "strategies.top.regimes[0].reduce_to", "applies only with on_switch = \"reduce\""},
    {"too_deep",
     LEAF("a") "  c1 = { type = \"composite\"; method = \"weighted\"; members = [ \"a\" ]; };\n"
               "  c2 = { type = \"composite\"; method = \"weighted\"; members = [ \"c1\" ]; };\n"
               "  c3 = { type = \"composite\"; method = \"weighted\"; members = [ \"c2\" ]; };\n"
               "  c4 = { type = \"composite\"; method = \"weighted\"; members = [ \"c3\" ]; };\n"
               "  c5 = { type = \"composite\"; method = \"weighted\"; members = [ \"c4\" ]; };\n"
               "  c6 = { type = \"composite\"; method = \"weighted\"; members = [ \"c5\" ]; };\n"
               "  c7 = { type = \"composite\"; method = \"weighted\"; members = [ \"c6\" ]; };\n"
               "  c8 = { type = \"composite\"; method = \"weighted\"; members = [ \"c7\" ]; };\n"
               "  top = { type = \"composite\"; method = \"weighted\"; members = [ \"c8\" ]; };\n",
     13, "strategies.c8",
     "nests 9 levels deep (c8 -> c7 -> c6 -> c5 -> c4 -> c3 -> c2 -> c1 -> a); at most 8"},
    {"quorum_too_large",
     LEAF("a") LEAF("b") "  top = { type = \"composite\"; method = \"majority\"; quorum = 3; "
                         "members = [ \"a\", \"b\" "
                         "]; };\n",
     7, "strategies.top.quorum", "must be from 1 to the number of members (2), got 3"},
    {"gate_in_majority",
     LEAF("a") LEAF("b") "  top = { type = \"composite\"; method = \"majority\";\n"
                         "    members = ( { strategy = \"a\"; gate = true; }, \"b\" ); };\n",
     8, "strategies.top.members[0].gate", "applies to method weighted; majority has no gate"},
    {"threshold_in_unanimous",
     LEAF("a") "  top = { type = \"composite\"; method = \"unanimous\"; threshold = 0.2; members "
               "= [ \"a\" ]; };\n",
     6, "strategies.top.threshold",
     "applies to method weighted; this composite's method is "
     "unanimous"},
    {"threshold_out_of_range",
     LEAF("a") "  top = { type = \"composite\"; method = \"weighted\"; threshold = 1.5; members = "
               "[ \"a\" ]; };\n",
     6, "strategies.top.threshold", "must be a number in [0, 1], got 1.5"},
    {"unknown_method",
     LEAF("a") "  top = { type = \"composite\"; method = \"average\"; members = [ \"a\" ]; };\n", 6,
     "strategies.top.method", "must be one of weighted|majority|unanimous, got \"average\""},
    {"unknown_type", "  top = { type = \"combo\"; plugin = \"rt.script\"; };\n", 5,
     "strategies.top.type", "must be one of plugin|scorer|composite|regime, got \"combo\""},
    {"timeframe_on_a_composite",
     LEAF("a") "  top = { type = \"composite\"; method = \"weighted\"; timeframe = \"5m\"; "
               "members = [ \"a\" ]; };\n",
     6, "strategies.top.timeframe",
     "timeframe is a setting of plugin and scorer entries; this one is a composite"},
    {"duplicate_member",
     LEAF("a") "  top = { type = \"composite\"; method = \"weighted\"; members = [ \"a\", \"a\" "
               "]; };\n",
     6, "strategies.top.members[1]", "duplicate: 'a' is already members[0]"},
    {"gaps_disagree",
     LEAF("a") "  b = { plugin = \"rt.script\"; timeframe = \"5m\"; gap = \"fill\"; };\n"
               "  top = { type = \"composite\"; method = \"weighted\"; members = [ \"a\", \"b\" "
               "]; };\n",
     6, "strategies.b.gap", "gap \"fill\" differs from gap \"skip\" of 'a'"},
    {"scorer_without_features",
     "  top = { type = \"scorer\"; plugin = \"rt.scorer\"; timeframe = \"5m\"; };\n", 5,
     "strategies.top.features", "required setting is missing"},
    {"missing_members", "  top = { type = \"composite\"; method = \"weighted\"; };\n", 5,
     "strategies.top.members", "required setting is missing"},
};

static void test_config_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cfg_errors / sizeof cfg_errors[0]; i++) {
    const cfg_error *c = &cfg_errors[i];
    char text[4096], where[700];
    tack_config *cfg = NULL;
    tack_diag d = TACK_DIAG_INIT;
    snprintf(text, sizeof text, HEAD "strategies = {\n%s};\n" SYMS, c->strategies);
    const char *path = write_text("bad.cfg", text);
    int rc = tack_config_load(path, &cfg, &d);
    snprintf(where, sizeof where, "%s:%d: %s: ", path, c->line, c->path);
    int found = 0;
    for (size_t k = 0; k < d.n; k++)
      found |= strstr(d.msgs[k], where) && strstr(d.msgs[k], c->what);
    if (rc != TACK_ECONFIG || !found || d.n != 1) {
      fprintf(stderr, "case %s: want one message at %s: %s; got:\n", c->name, where, c->what);
      tack_diag_print(&d, stderr);
    }
    assert_int_equal(rc, TACK_ECONFIG);
    assert_null(cfg);
    assert_true(found);
    assert_int_equal(d.n, 1);
    tack_diag_free(&d);
  }
}

/* ------------------------------------------------------------------------ */
/* In the running host                                                       */
/* ------------------------------------------------------------------------ */

typedef struct run {
  char path[400];
  tack_config *cfg;
  tack_runtime *rt;
  tack_diag d;
} run;

static void write_run_config(run *r, const char *tag, const char *ex_params, const char *strategies,
                             const char *store) {
  snprintf(r->path, sizeof r->path, "%s/%s.cfg", tmp, tag);
  FILE *f = fopen(r->path, "w");
  assert_non_null(f);
  fprintf(f,
          "version = 1;\n"
          "name = \"compose\";\n"
          "%s\n"
          "exchanges = { venue = { plugin = \"rt.exchange\"; params = { %s }; }; };\n"
          "filters = { dup = { plugin = \"rt.filter\"; }; };\n"
          "strategies = {\n%s};\n"
          "symbols = ( { symbol = \"BTC-USD\"; exchange = \"venue\"; strategy = \"top\"; } );\n",
          store ? store : "", ex_params, strategies);
  fclose(f);
}

static int load_and_build(run *r, const tack_loader *ld, const char *store_path) {
  const tack_plugin *plugins[] = {&fx.exchange, &fx.filter, &fx.strategy, &script_plugin,
                                  &scorer_plugin};
  tack_plugin_set set = {plugins, 5, NULL, 0};
  tack_runtime_opts o = {"compose", store_path, 0, 0, 0, 0};
  r->d = (tack_diag)TACK_DIAG_INIT;
  int rc = tack_config_load(r->path, &r->cfg, &r->d);
  if (rc == 0)
    rc = ld ? tack_config_resolve(r->cfg, ld, &r->d) : tack_config_resolve_set(r->cfg, &set, &r->d);
  if (rc == 0)
    rc = tack_runtime_new(&o, &r->rt);
  if (rc == 0)
    rc = tack_runtime_build(r->rt, r->cfg, &r->d);
  if (rc != 0)
    tack_diag_print(&r->d, stderr);
  return rc;
}

static void run_free(run *r) {
  tack_runtime_free(r->rt);
  tack_config_free(r->cfg);
  tack_diag_free(&r->d);
  memset(r, 0, sizeof *r);
}

static const rt_fixture_tagged *tagged(const char *tag) {
  for (int i = 0; i < fx.rec->n_tags; i++)
    if (strcmp(fx.rec->tags[i].tag, tag) == 0)
      return &fx.rec->tags[i];
  fail_msg("no rt.script tagged %s", tag);
  return NULL;
}

static int tag_index(const char *tag) { return (int)(tagged(tag) - fx.rec->tags); }

static char *summary_of(const run *r) {
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  assert_non_null(out);
  tack_runtime_print_summary(r->rt, out);
  fclose(out);
  return text;
}

/* Run with stderr (the log) going to a file; returns its path. */
static const char *run_logged(run *r, const char *tag, int want) {
  static char log[512];
  snprintf(log, sizeof log, "%s/%s.log", tmp, tag);
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(saved >= 0 && fd >= 0);
  dup2(fd, STDERR_FILENO);
  close(fd);
  int rc = tack_runtime_run(r->rt);
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  if (rc != want)
    fprintf(stderr, "run: %d, want %d (log: %s)\n", rc, want, log);
  assert_int_equal(rc, want);
  return log;
}

/* A regime over scripted leaves: the detector says trend for 5 bars, range
 * for 2 (too short for hold 3), trend for 3, then range for good; the
 * strategies repeat +0.8 and -0.6. */
#define REGIME_STRATEGIES                                                                          \
  "  det = { plugin = \"rt.script\"; timeframe = \"1m\";\n"                                        \
  "    params = { tag = \"det\"; script = "                                                        \
  "\"0.9,0.9,0.9,0.9,0.9,0,0,0.9,0.9,0.9,0,0,0,0,0,0,0,0,0,"                                       \
  "0\"; }; };\n"                                                                                   \
  "  tr = { plugin = \"rt.script\"; timeframe = \"1m\"; params = { tag = \"tr\"; script = "        \
  "\"0.8\"; repeat = true; }; };\n"                                                                \
  "  rg = { plugin = \"rt.script\"; timeframe = \"1m\"; params = { tag = \"rg\"; script = "        \
  "\"_,_,_,_,_,_,_,_,_,_,_,_,_,-0.6\"; }; };\n"                                                    \
  "  top = { type = \"regime\"; detector = \"det\"; hold = 3;\n"                                   \
  "    regimes = ( { name = \"trend\"; above = 0.5; strategy = \"tr\"; },\n"                       \
  "                { name = \"range\"; strategy = \"rg\"; on_switch = \"flatten\"; } ); };\n"

static void test_regime_in_the_runtime(void **state) {
  (void)state;
  run r;
  char store[400];
  memset(&r, 0, sizeof r);
  snprintf(store, sizeof store, "%s/regime-store", tmp);
  write_run_config(&r, "regime", "timeframes = \"60\"; bars = 20; interval_ms = 1;",
                   REGIME_STRATEGIES, NULL);
  assert_int_equal(load_and_build(&r, NULL, store), 0);
  const char *log = run_logged(&r, "regime", 0);

  /* Bars 0-4 trend; 5-6 range (held 2 < 3); 7-9 trend; range from bar 10,
   * switched at bar 12 (the third): flat until rg speaks at bar 13. */
  tack_compose_regime_stats st;
  assert_int_equal(tack_runtime_regime_count(r.rt, 0), 1);
  assert_int_equal(tack_runtime_regime_at(r.rt, 0, 0, &st), 0);
  assert_string_equal(st.active, "range");
  assert_int_equal(st.switches, 1);
  assert_int_equal(st.bars[0], 12);
  assert_int_equal(st.bars[1], 8);
  assert_int_equal(st.time_ns[0], 12 * 60 * NS);
  assert_int_equal(st.time_ns[1], 7 * 60 * NS);
  assert_int_equal(st.recent[0].held, 3);
  assert_int_equal(st.recent[0].at, (START_S + 13 * 60) * NS);

  /* Signals: +0.8 at bar 0; 0 (flatten) at bar 12; -0.6 at bar 13. */
  tack_runtime_symbol_stats s;
  assert_int_equal(tack_runtime_symbol_stats_at(r.rt, 0, &s), 0);
  assert_int_equal(s.signals, 3);
  assert_true(near(s.last.strength, -0.6));
  assert_string_equal(s.last.reason, "range: rg step 13");
  assert_true(rt_file_contains(log, "BTC-USD signal +0.00 (conf 1.00) switch to range: flat "
                                    "until rg speaks"));
  assert_true(rt_file_contains(log, "BTC-USD regime top: starts in trend (detector +0.900"));
  assert_true(rt_file_contains(log, "BTC-USD regime top: switch trend -> range at "
                                    "2023-11-14T00:13:00.000Z: detector +0.000 matched range for "
                                    "3 bars; on_switch flatten: 0 until rg speaks"));

  /* The strategies were told the position (flat) before their first bar,
   * and rg again at the switch, before its 13th bar. */
  assert_int_equal(tagged("tr")->positions, 1);
  assert_int_equal(tagged("tr")->positions_before_bars, 1);
  assert_int_equal(tagged("rg")->positions, 2);
  assert_int_equal(tagged("rg")->positions_at_bar[0], 1);
  assert_true(tagged("rg")->first_qty == 0.0);

  char *text = summary_of(&r);
  assert_non_null(strstr(text, "BTC-USD regime top: now range, 1 switch; trend 12 bars (12m 0s), "
                               "range 8 bars (7m 0s)"));
  assert_non_null(strstr(text, "BTC-USD top (regime): detector det +0.00; trend: tr +0.80; "
                               "*range: rg -0.60"));
  free(text);
  run_free(&r);

  /* The store has the switch. */
  tack_store *db = NULL;
  char value[256];
  size_t len = 0;
  tack_store_ns ns = {"compose", "strategies", "top@BTC-USD"};
  assert_int_equal(tack_store_open(store, 0, &db), 0);
  assert_int_equal(tack_store_kv_get(db, &ns, "regime", 6, value, sizeof value, &len), 0);
  assert_int_equal(len, 5);
  assert_memory_equal(value, "range", 5);
  assert_int_equal(tack_store_kv_get(db, &ns, "switches", 8, value, sizeof value, &len), 0);
  assert_memory_equal(value, "1", 1);
  assert_int_equal(
      tack_store_kv_get(db, &ns, "switch/000000000001", 19, value, sizeof value - 1, &len), 0);
  value[len] = '\0';
  assert_string_equal(
      value, "2023-11-14T00:13:00.000Z trend -> range detector +0 held 3 on_switch flatten");
  tack_store_close(db);
}

/* ------------------------------------------------------------------------ */
/* Positions                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct position_probe {
  tack_runtime *rt;
  tack_ctx *ex;
  double qty;
  int rc, rc_other, rc_nan, rc_fill;
  uv_timer_t timer;
} position_probe;

static void report_position(uv_timer_t *t) {
  position_probe *p = t->data;
  tack_position pos;
  memset(&pos, 0, sizeof pos);
  tack_copy_text(pos.symbol, sizeof pos.symbol, "BTC-USD");
  pos.quantity = p->qty;
  p->rc = tack_runtime_ex_position(p->rt, p->ex, &pos);
  tack_copy_text(pos.symbol, sizeof pos.symbol, "DOGE-USD");
  p->rc_other = tack_runtime_ex_position(p->rt, p->ex, &pos);
  tack_copy_text(pos.symbol, sizeof pos.symbol, "BTC-USD");
  pos.quantity = NAN;
  p->rc_nan = tack_runtime_ex_position(p->rt, p->ex, &pos);
  tack_fill fill;
  memset(&fill, 0, sizeof fill);
  tack_copy_text(fill.symbol, sizeof fill.symbol, "BTC-USD");
  fill.quantity = 1;
  fill.side = TACK_SIDE_BUY;
  p->rc_fill = tack_runtime_ex_fill(p->rt, p->ex, &fill);
  uv_close((uv_handle_t *)&p->timer, NULL);
}

#define TWO_LEAVES                                                                                 \
  "  a = { plugin = \"rt.script\"; timeframe = \"1m\"; params = { tag = \"a\"; script = \"1\"; "   \
  "repeat = true; }; };\n"                                                                         \
  "  b = { plugin = \"rt.script\"; timeframe = \"1m\"; params = { tag = \"b\"; script = \"1\"; "   \
  "repeat = true; }; };\n"                                                                         \
  "  top = { type = \"composite\"; method = \"unanimous\"; members = [ \"a\", \"b\" ]; };\n"

/* A position reported before the first bar is the one handed over; one
 * reported later is told at once; a fill goes to on_fill. */
static void test_position_hand_over(void **state) {
  (void)state;
  static const struct {
    long at_ms;
    int interval_ms;
    int before;
  } when[] = {{5, 200, 1}, {125, 50, 0}};
  for (size_t k = 0; k < 2; k++) {
    run r;
    char ex[160];
    memset(&r, 0, sizeof r);
    memset(fx.rec, 0, sizeof *fx.rec);
    snprintf(ex, sizeof ex, "timeframes = \"60\"; bars = 6; interval_ms = %d;",
             when[k].interval_ms);
    write_run_config(&r, "positions", ex, TWO_LEAVES, NULL);
    assert_int_equal(load_and_build(&r, NULL, NULL), 0);
    position_probe p = {r.rt, fx.rec->exchange_ctx, -1.5, 1, 1, 1, 1, {0}};
    uv_timer_init(tack_runtime_loop(r.rt), &p.timer);
    p.timer.data = &p;
    uv_timer_start(&p.timer, report_position, (uint64_t)when[k].at_ms, 0);
    assert_int_equal(tack_runtime_run(r.rt), 0);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.rc_other, 0);
    assert_int_equal(p.rc_nan, TACK_EINVAL);
    assert_int_equal(p.rc_fill, 0);
    for (const char *t = "a"; t; t = t[0] == 'a' ? "b" : NULL) {
      const rt_fixture_tagged *g = tagged(t);
      assert_int_equal(g->bars, 6);
      assert_int_equal(g->positions_before_bars, 1);
      assert_int_equal(g->fills, 1);
      if (when[k].before) {
        assert_int_equal(g->positions, 1);
        assert_true(g->first_qty == -1.5);
      } else {
        assert_int_equal(g->positions, 2);
        assert_true(g->first_qty == 0.0 && g->last_qty == -1.5);
      }
    }
    tack_runtime_symbol_stats s;
    tack_runtime_symbol_stats_at(r.rt, 0, &s);
    assert_int_equal(s.errors, 1); /* the NaN position */
    run_free(&r);
  }
}

/* ------------------------------------------------------------------------ */
/* Several timeframes                                                        */
/* ------------------------------------------------------------------------ */

static tack_time end_of(const tack_bar *b) { return b->ts + (tack_time)b->timeframe_s * NS; }

/*
 * A 4h gate and a 5m entry, from 1m bars whose prices tell their minute,
 * each preceded by a forming bar with outlandish values. Whenever the entry
 * gets a 5m bar ending at E, the gate has had exactly the 4h bars that ended
 * by E, the last one the bar ending at the latest 4h boundary: no forming
 * 4h bar shown, none late; and nothing either leaf saw came from a bar the
 * venue had not closed. The composite speaks first at 04:00, when the gate
 * first can.
 */
static void test_multi_timeframe_composite(void **state) {
  (void)state;
  run r;
  memset(&r, 0, sizeof r);
  write_run_config(
      &r, "mtf",
      "timeframes = \"60\"; bars = 600; ramp = true; provisional = true; interval_ms = 1;",
      "  gate = { plugin = \"rt.script\"; timeframe = \"4h\"; filter = \"dup\";\n"
      "    params = { tag = \"gate\"; script = \"1\"; repeat = true; }; };\n"
      "  entry = { plugin = \"rt.script\"; timeframes = [ \"5m\", \"1h\" ]; filter = \"dup\";\n"
      "    params = { tag = \"entry\"; script = \"0.5\"; repeat = true; drive = 300; }; };\n"
      "  top = { type = \"composite\"; method = \"weighted\";\n"
      "    members = ( { strategy = \"gate\"; weight = 0; gate = true; }, \"entry\" ); };\n",
      NULL);
  assert_int_equal(load_and_build(&r, NULL, NULL), 0);
  assert_int_equal(tack_runtime_run(r.rt), 0);

  int gate = tag_index("gate"), ent = tag_index("entry");
  int checked = 0;
  tack_time gate_last_end = 0;
  for (int i = 0; i < fx.rec->n_seen && i < RT_FIXTURE_LOG_MAX; i++) {
    const rt_fixture_seen *s = &fx.rec->seen[i];
    assert_true(s->bar.flags & TACK_BAR_CLOSED);
    assert_true(s->bar.close < 1e8 && s->bar.high < 1e9);
    /* The venue had closed the 1m bar that ends this one. */
    assert_true(s->sent >= 1);
    assert_true(end_of(&s->bar) <= end_of(&fx.rec->sent[s->sent - 1]));
    if (s->tag == gate) {
      assert_int_equal(s->bar.timeframe_s, 14400);
      gate_last_end = end_of(&s->bar);
    } else if (s->tag == ent && s->bar.timeframe_s == 300) {
      tack_time e = end_of(&s->bar);
      tack_time boundary = e - (e - START_S * NS) % (14400 * NS);
      if (boundary > START_S * NS) {
        assert_int_equal(gate_last_end, boundary);
        checked++;
      } else {
        assert_int_equal(gate_last_end, 0);
      }
    }
  }
  assert_int_equal(checked, 120 - 47); /* 5m bars from 04:00 to 10:00 */
  assert_int_equal(tagged("gate")->bars, 2);
  assert_int_equal(tagged("entry")->bars, 120 + 10);

  /* One chain per leaf and timeframe, named after both. */
  char *text = summary_of(&r);
  assert_non_null(strstr(text, "filters.dup@BTC-USD/gate (rt.filter)"));
  assert_non_null(strstr(text, "filters.dup@BTC-USD/entry/5m (rt.filter)"));
  assert_non_null(strstr(text, "filters.dup@BTC-USD/entry/1h (rt.filter)"));
  assert_non_null(strstr(text, "BTC-USD top (composite): gate +0.000 (signal +1.00, weight 0, "
                               "gate); entry +0.500 (signal +0.50, weight 1)"));
  free(text);
  assert_int_equal(fx.rec->filter_mixed, 0);

  /* The composite's only signal: +0.5 at 04:00, when the gate spoke. */
  tack_runtime_symbol_stats st;
  tack_runtime_symbol_stats_at(r.rt, 0, &st);
  assert_int_equal(st.signals, 1);
  assert_true(near(st.last.strength, 0.5));
  assert_int_equal(st.last.ts, (START_S + 4 * 3600) * NS);
  run_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Scorers                                                                   */
/* ------------------------------------------------------------------------ */

/* A loader with the fixture plugins and the build's plugins (indicators,
 * xgboost), registered for the feature builders. */
static tack_loader *loader_with_plugins(void) {
  tack_loader *ld = NULL;
  char dir[600];
  assert_int_equal(tack_loader_new(&ld), 0);
  snprintf(dir, sizeof dir, "%s/runtime", getenv("TACK_FIXTURE_DIR"));
  tack_loader_scan_dir(ld, dir);
  snprintf(dir, sizeof dir, "%s/plugins", getenv("TACK_BUILD_DIR"));
  tack_loader_scan_dir(ld, dir);
  tack_instance_set_registry(ld);
  return ld;
}

static void test_scorer_member(void **state) {
  (void)state;
  tack_loader *ld = loader_with_plugins();
  run r;
  memset(&r, 0, sizeof r);
  write_run_config(&r, "scorer", "timeframes = \"60\"; bars = 30; ramp = true; interval_ms = 1;",
                   "  ml = { type = \"scorer\"; plugin = \"rt.scorer\"; timeframe = \"5m\";\n"
                   "    features = \"ret:1; close ~ 1\"; params = { scale = 100.0; }; };\n"
                   "  a = { plugin = \"rt.script\"; timeframe = \"5m\"; params = { tag = \"a\"; "
                   "script = \"-1\"; repeat = true; }; };\n"
                   "  top = { type = \"composite\"; method = \"weighted\";\n"
                   "    members = ( { strategy = \"ml\"; weight = 3.0; }, \"a\" ); };\n",
                   NULL);
  assert_int_equal(load_and_build(&r, ld, NULL), 0);
  /* The host wrote the canonical spec and its count into the scorer's own
   * parameters; the scorer read them in configure. */
  assert_string_equal(fx.rec->scorer_features, "ret:1@5m~0;close@5m~1");
  assert_int_equal(fx.rec->scorer_n_features, 2);
  assert_int_equal(tack_runtime_run(r.rt), 0);
  /* 6 bars of 5m; ret:1 and close~1 are ready from the second. */
  assert_int_equal(fx.rec->scores, 5);
  assert_int_equal(fx.rec->score_n, 2);
  /* The 5m bar 5 closes at 1029.5, bar 4 at 1024.5. */
  assert_true(near(fx.rec->score_x[0], log(1029.5 / 1024.5)));
  assert_true(near(fx.rec->score_x[1], 1024.5));
  tack_compose_entry e;
  assert_int_equal(tack_runtime_tree_at(r.rt, 0, 1, &e), 0);
  assert_string_equal(e.name, "ml");
  assert_int_equal(e.type, TACK_STRATEGY_SCORER);
  assert_true(e.has_signal);
  double s_ml = fmin(1.0, 100.0 * log(1029.5 / 1024.5));
  assert_true(near(e.last.strength, s_ml));
  tack_runtime_symbol_stats st;
  tack_runtime_symbol_stats_at(r.rt, 0, &st);
  assert_true(near(st.last.strength, (3 * s_ml - 1) / 4));
  run_free(&r);

  /* Setting them by hand is refused, naming the setting. */
  write_run_config(&r, "scorer-by-hand", "",
                   "  top = { type = \"scorer\"; plugin = \"rt.scorer\"; timeframe = \"5m\";\n"
                   "    features = \"ret:1\"; params = { n_features = 1; }; };\n",
                   NULL);
  assert_int_equal(tack_config_load(r.path, &r.cfg, &r.d), 0);
  assert_int_equal(tack_config_resolve(r.cfg, ld, &r.d), TACK_ECONFIG);
  assert_int_equal(r.d.n, 1);
  assert_non_null(strstr(r.d.msgs[0], ":8: strategies.top.params.n_features: is set by the host"));
  run_free(&r);

  /* A feature spec the builder refuses, at the line of features. */
  write_run_config(&r, "scorer-bad-spec", "",
                   "  top = { type = \"scorer\"; plugin = \"rt.scorer\"; timeframe = \"5m\";\n"
                   "    features = \"ret:1@4h\"; };\n",
                   NULL);
  assert_int_equal(tack_config_load(r.path, &r.cfg, &r.d), 0);
  assert_int_equal(tack_config_resolve(r.cfg, ld, &r.d), TACK_ECONFIG);
  assert_true(r.d.n >= 1);
  assert_non_null(strstr(r.d.msgs[0], ":8: strategies.top.features"));
  run_free(&r);
  tack_instance_set_registry(NULL);
  tack_loader_free(ld);
}

/* The real xgboost scorer as a member: a model trained here on the
 * features the host computes, then scored bar by bar. */
static void test_xgboost_member(void **state) {
  (void)state;
  tack_loader *ld = loader_with_plugins();
  if (!tack_loader_find(ld, "xgboost")) {
    fprintf(stderr, "skipped: the build has no xgboost plugin (libxgboost-dev is missing)\n");
    tack_instance_set_registry(NULL);
    tack_loader_free(ld);
    skip();
  }
  run r;
  char model[400], params[1200];
  memset(&r, 0, sizeof r);
  snprintf(model, sizeof model, "%s/model.json", tmp);
  snprintf(params, sizeof params,
           "  ml = { type = \"scorer\"; plugin = \"xgboost\"; timeframe = \"5m\";\n"
           "    features = \"ret:1; ret:1~1; range\"; params = { model = \"%s\"; rounds = 5; "
           "max_depth = 2; }; };\n"
           "  a = { plugin = \"rt.script\"; timeframe = \"5m\"; params = { tag = \"a\"; "
           "script = \"1\"; repeat = true; }; };\n"
           "  top = { type = \"composite\"; method = \"majority\"; quorum = 1; members = [ "
           "\"ml\", \"a\" ]; };\n",
           model);
  write_run_config(&r, "xgb", "timeframes = \"60\"; bars = 60; interval_ms = 1;", params, NULL);
  assert_int_equal(tack_config_load(r.path, &r.cfg, &r.d), 0);
  assert_int_equal(tack_config_resolve(r.cfg, ld, &r.d), 0);
  tack_cfg_strategy *ml = entry(r.cfg, "ml");
  assert_string_equal(ml->features_canonical, "ret:1@5m~0;ret:1@5m~1;range@5m~0");
  assert_int_equal(ml->n_features, 3);

  /* Train: configure works without a model file, train() writes it. */
  tack_ctx *ctx = NULL;
  assert_int_equal(tack_instance_new(&ml->inst, NULL, &r.d, &ctx), 0);
  enum { ROWS = 200 };
  static double x[ROWS * 3], y[ROWS];
  for (int i = 0; i < ROWS; i++) {
    x[i * 3] = sin(i * 0.7) * 0.01;
    x[i * 3 + 1] = cos(i * 1.3) * 0.01;
    x[i * 3 + 2] = 0.005 + 0.001 * (i % 7);
    y[i] = x[i * 3] > 0;
  }
  tack_dataset train = {x, y, 150, 3, 0}, valid = {x + 150 * 3, y + 150, 50, 3, 0};
  const tack_scorer_vtable *vt = tack_instance_desc(ctx)->vtable;
  assert_int_equal(vt->train(tack_instance_self(ctx), &train, &valid), 0);
  tack_instance_free(ctx);
  assert_int_equal(access(model, R_OK), 0);

  tack_runtime_opts o = {"compose", NULL, 0, 0, 0, 0};
  assert_int_equal(tack_runtime_new(&o, &r.rt), 0);
  assert_int_equal(tack_runtime_build(r.rt, r.cfg, &r.d), 0);
  assert_int_equal(tack_runtime_run(r.rt), 0);
  tack_compose_entry e;
  assert_int_equal(tack_runtime_tree_at(r.rt, 0, 1, &e), 0);
  assert_string_equal(e.name, "ml");
  assert_true(e.has_signal);
  assert_non_null(strstr(e.last.reason, "xgb p="));
  tack_runtime_symbol_stats st;
  tack_runtime_symbol_stats_at(r.rt, 0, &st);
  assert_int_equal(st.errors, 0);
  assert_true(st.has_signal);
  run_free(&r);

  /* A model trained on other features is refused by the plugin, with its
   * message at the entry. */
  snprintf(params, sizeof params,
           "  top = { type = \"scorer\"; plugin = \"xgboost\"; timeframe = \"5m\";\n"
           "    features = \"ret:1; range\"; params = { model = \"%s\"; }; };\n",
           model);
  write_run_config(&r, "xgb-other", "", params, NULL);
  assert_int_equal(tack_config_load(r.path, &r.cfg, &r.d), 0);
  assert_int_equal(tack_config_resolve(r.cfg, ld, &r.d), 0);
  assert_int_equal(tack_instance_new(&r.cfg->strategies[0].inst, NULL, &r.d, &ctx), TACK_ECONFIG);
  assert_int_equal(r.d.n, 1);
  assert_non_null(strstr(r.d.msgs[0], "was trained on features 'ret:1@5m~0;ret:1@5m~1;range@5m~0' "
                                      "(3), this config computes 'ret:1@5m~0;range@5m~0' (2)"));
  run_free(&r);
  tack_instance_set_registry(NULL);
  tack_loader_free(ld);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aggregation_table),
      cmocka_unit_test(test_nested_composites),
      cmocka_unit_test(test_regime_hysteresis),
      cmocka_unit_test(test_regime_policies),
      cmocka_unit_test(test_config_errors),
      cmocka_unit_test_setup(test_regime_in_the_runtime, reset),
      cmocka_unit_test_setup(test_position_hand_over, reset),
      cmocka_unit_test_setup(test_multi_timeframe_composite, reset),
      cmocka_unit_test_setup(test_scorer_member, reset),
      cmocka_unit_test_setup(test_xgboost_member, reset),
  };
  /* Outside cmocka: a failed group setup would otherwise count as no
   * failure at all. */
  if (rt_fx_open(&fx) != 0 || find_extra_plugins() != 0 || rt_tmpdir(tmp, sizeof tmp) != 0)
    return 1;
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  rt_rmtree(tmp);
  rt_fx_close(&fx);
  return failed;
}
