/*
 * compose.h: a symbol's composed strategy while it runs. It owns the
 * composition tree of one strategies entry (composites, regime switches,
 * and plugin strategies and scorers as leaves), each node's latest
 * opinion, and the rules that aggregate members' signals and switch
 * regimes. It makes no plugin call and does no I/O: the runtime (runtime.c)
 * feeds it what the leaves say and asks it to evaluate when a bar closes,
 * and is told of regime switches through a callback. docs/composition.md
 * is the user's guide; the rules are stated there and in compose.c.
 *
 * The tree is a DAG: an entry named twice in one composition (a member of
 * two composites, or a detector that is also a member elsewhere) is one
 * node with one opinion, evaluated once. Nodes are numbered children
 * first, so evaluating them in index order evaluates every member before
 * the composites that use it.
 *
 * An opinion: a leaf has one once it has signalled (a strategy's last
 * signal stands until its next one; a scorer signals on every bar once its
 * features are warm); a composite has one when its method says so (below);
 * a regime entry once its detector has one and the active regime's
 * strategy (or its switch policy) gives a signal. A node without one
 * abstains. Once a node has an opinion it keeps one.
 *
 * Everything here runs on the loop thread. Strings of the config (names)
 * are borrowed: the config must outlive the tree.
 */
#ifndef TACK_COMPOSE_H
#define TACK_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "tack.h"

/* ------------------------------------------------------------------------ */
/* Aggregation: pure functions of the members' opinions                     */
/* ------------------------------------------------------------------------ */

/* One member as a composite sees it. */
typedef struct tack_compose_vote {
  int has;           /* the member has an opinion; otherwise it abstains */
  double strength;   /* [-1, +1] */
  double confidence; /* [0, 1] */
  double weight;     /* weighted: >= 0 */
  int gate;          /* weighted: the composite is neutral unless it agrees */
} tack_compose_vote;

/* A composite's method and its settings (tack_cfg_strategy holds them). */
typedef struct tack_compose_rule {
  uint32_t method;       /* TACK_METHOD_* */
  double threshold;      /* weighted */
  double vote_threshold; /* majority */
  uint32_t quorum;       /* majority; 0: more than half of the members */
} tack_compose_rule;

/* Why a method set its strength to 0 although members had opinions. */
#define TACK_COMPOSE_OK 0u
#define TACK_COMPOSE_BELOW_THRESHOLD 1u /* weighted: |strength| < threshold */
#define TACK_COMPOSE_GATED 2u           /* weighted: a gate member disagrees in sign */
#define TACK_COMPOSE_NO_QUORUM 3u       /* majority: fewer voters than the quorum */
#define TACK_COMPOSE_TIE 4u             /* majority: as many long votes as short */
#define TACK_COMPOSE_DISAGREE 5u        /* unanimous: members differ in sign */

typedef struct tack_compose_result {
  int has; /* 0: the composite abstains (strength and confidence are 0) */
  double strength;
  double confidence;
  uint32_t forced;   /* TACK_COMPOSE_*: why the strength was set to 0 */
  uint32_t opinions; /* members with an opinion */
  uint32_t longs;    /* majority: long votes */
  uint32_t shorts;   /* majority: short votes */
  size_t member;     /* GATED: the gate that disagrees; unanimous: the weakest member */
} tack_compose_result;

/*
 * Aggregate n votes by rule into out; contrib (n values, may be NULL)
 * receives each member's contribution:
 *
 * weighted   The members with an opinion count: strength = sum(w s) /
 *            sum(w) (weights are >= 0, so that is sum |w|), confidence =
 *            sum(w c) / sum(w). It abstains while no member with a weight
 *            above 0 has an opinion, and while a gate has none. A gate
 *            that is flat or of the other sign than the strength forces 0
 *            (GATED), then |strength| < threshold does (BELOW_THRESHOLD).
 *            Contribution: w s / sum(w) (they add up to the strength
 *            before forcing), 0 for a member without an opinion.
 * majority   A member votes long when s > 0 and |s| >= vote_threshold,
 *            short when s < 0 and |s| >= vote_threshold; members without
 *            an opinion or with a weaker one do not vote. It abstains while
 *            no member has an opinion. Fewer voters than the quorum force 0
 *            (NO_QUORUM), as many longs as shorts force 0 (TIE); otherwise
 *            strength = (longs - shorts) / voters, confidence = the mean
 *            confidence of the voters on the winning side. Contribution:
 *            +1/voters or -1/voters per voter.
 * unanimous  It abstains until every member has an opinion. All long:
 *            strength = the smallest strength, all short: the largest
 *            (the weakest conviction either way), all flat: 0; confidence =
 *            the smallest confidence. Any other mix forces 0 (DISAGREE).
 *            Contribution: the weakest member's strength, 0 for the others.
 *
 * A strength forced to 0 carries confidence 0: the members made no case.
 */
void tack_compose_aggregate(const tack_compose_rule *rule, const tack_compose_vote *votes, size_t n,
                            double *contrib, tack_compose_result *out);

/* The index of the first regime whose bounds match strength s (s > above
 * when set, s < below when set); the last one, which has no bounds, when
 * none does. n >= 1. */
size_t tack_compose_regime_match(const tack_cfg_regime *regimes, size_t n, double s);

/* ------------------------------------------------------------------------ */
/* A symbol's tree                                                           */
/* ------------------------------------------------------------------------ */

typedef struct tack_compose tack_compose;

/* The tree of entry root of a loaded config (config.h; its composition was
 * checked: no cycle, no unknown name). symbol names the tree in log lines
 * (copied). TACK_ENOMEM or 0. */
int tack_compose_new(const tack_cfg_strategy *root, const char *symbol, tack_compose **out);

/* A tree of one leaf named name, of type TACK_STRATEGY_PLUGIN or _SCORER,
 * for a pipeline built without a config entry. */
int tack_compose_new_leaf(const char *name, uint32_t type, const char *symbol, tack_compose **out);

void tack_compose_free(tack_compose *c);

size_t tack_compose_node_count(const tack_compose *c);
/* The root's node (the last one). */
size_t tack_compose_root(const tack_compose *c);
/* TACK_STRATEGY_* of node i. */
uint32_t tack_compose_node_type(const tack_compose *c, size_t i);
/* Its config entry; NULL for a tree of tack_compose_new_leaf(). */
const tack_cfg_strategy *tack_compose_node_config(const tack_compose *c, size_t i);
const char *tack_compose_node_name(const tack_compose *c, size_t i);
/* 1 when leaf is node or below it. */
int tack_compose_contains(const tack_compose *c, size_t node, size_t leaf);

/* A leaf said sig (normalized by the caller). It counts as speaking even
 * when sig equals its previous signal (a strategy restating its view). */
void tack_compose_leaf_signal(tack_compose *c, size_t leaf, const tack_signal *sig);

/* A regime switch, for the runtime to log, count, store and hand the
 * position over. from is NULL when the regime entry picks its first regime
 * (its detector has just got an opinion): that is no switch. */
typedef struct tack_compose_switch {
  const char *entry; /* the regime entry's name */
  const char *from;  /* regime names */
  const char *to;
  size_t to_node;     /* the node of the new regime's strategy */
  double detector;    /* the detector's strength that decided */
  uint32_t held;      /* evaluations the new regime held (>= hold) */
  uint32_t on_switch; /* TACK_SWITCH_* of the new regime */
  double emitted;     /* REDUCE: the strength emitted until the new strategy speaks */
  tack_time at;       /* end of the bar that decided */
  uint64_t number;    /* 1 for the entry's first switch, ...; 0 with from NULL */
} tack_compose_switch;

/* What an evaluation needs from outside the tree. */
typedef struct tack_compose_env {
  /* The symbol's position as the exchange last reported it (ex_position),
   * for on_switch = "reduce"; without one, the direction of the regime
   * entry's own last signal is the position asked for. */
  int has_position;
  double position;
  void (*on_switch)(void *data, const tack_compose_switch *sw); /* may be NULL */
  void *data;
} tack_compose_env;

/*
 * A bar of timeframe tf that ends at `at` was delivered to every leaf that
 * takes tf: evaluate every composite and regime node whose smallest
 * timeframe is tf, members first. Returns 1 when the root has a new signal
 * (tack_compose_root_signal() has it), 0 otherwise. A composite or regime
 * node has a new signal when its output differs from its previous one
 * (strength or confidence), or on its first opinion; a leaf root when it
 * spoke since the last evaluation.
 */
int tack_compose_evaluate(tack_compose *c, uint32_t tf, tack_time at, const tack_compose_env *env);

/* The root's latest opinion; 0 when it has none. A composite's reason
 * text is made here, from what its signal was made of, not at every
 * evaluation (most of a composite's signals may never be read). */
int tack_compose_root_signal(const tack_compose *c, tack_signal *out);

/* ------------------------------------------------------------------------ */
/* Inspection                                                                */
/* ------------------------------------------------------------------------ */

/* One line of the tree as people see it: the DAG unfolded, root first,
 * each entry followed by its members (a shared node appears under each
 * parent, with the same opinion). */
typedef struct tack_compose_entry {
  size_t node;
  const char *name;
  uint32_t type;      /* TACK_STRATEGY_* */
  int depth;          /* 0 for the root */
  long parent;        /* entry index, -1 for the root */
  const char *role;   /* "member", "detector", "regime", "" for the root */
  const char *regime; /* role "regime": its regime's name */
  int has_signal;
  tack_signal last;    /* its latest opinion, with its reason */
  double weight;       /* role member of a weighted composite, else 0 */
  int gate;            /* likewise */
  double contribution; /* its share of its composite's last evaluation */
  int active;          /* role regime: the regime that holds now */
} tack_compose_entry;

size_t tack_compose_entry_count(const tack_compose *c);
/* TACK_ERANGE when i is out of range. */
int tack_compose_entry_at(const tack_compose *c, size_t i, tack_compose_entry *out);

/* Most switches each regime entry keeps for inspection (the latest). */
#define TACK_COMPOSE_RECENT 8

/* What a regime entry has done so far. */
typedef struct tack_compose_regime_stats {
  const char *entry;
  const char *active; /* NULL before its detector had an opinion */
  uint64_t switches;
  size_t n_regimes;
  const char *names[TACK_MAX_REGIMES];
  uint64_t bars[TACK_MAX_REGIMES];     /* evaluations at which each held */
  tack_time time_ns[TACK_MAX_REGIMES]; /* bar time between evaluations, to the one that held */
  size_t n_recent;                     /* in recent, oldest first */
  tack_compose_switch recent[TACK_COMPOSE_RECENT];
} tack_compose_regime_stats;

/* Regime entries in the tree, in node order. */
size_t tack_compose_regime_count(const tack_compose *c);
/* TACK_ERANGE when i is out of range. */
int tack_compose_regime_at(const tack_compose *c, size_t i, tack_compose_regime_stats *out);

#endif
