/*
 * config.h: the host's configuration, read from a libconfig file and checked
 * as a whole before anything starts. Nothing is applied from a config with
 * any error; every error names the file, the line and the setting's path.
 *
 * Loading is two steps, because the config itself says where plugins live:
 *   tack_config_load()     parse and check the host's own schema
 *   tack_config_resolve()  bind plugin ids to loaded plugins, check every
 *                          plugin's params against its spec, check references
 * See docs/config.md for the schema. Entries of `strategies` may compose
 * others (composites, regime entries; docs/composition.md): loading links
 * and checks that graph, resolving builds scorers' features. The `trading`
 * groups (top level, per symbol, an entry's `exits`) are read last into
 * tack_config.trading (trading_config.h).
 */
#ifndef TACK_CONFIG_H
#define TACK_CONFIG_H

#include <libconfig.h>
#include <stdio.h>

#include "diag.h"
#include "loader.h"
#include "trading_config.h"

/* A plugin instance named in the config (an exchange, filter, strategy...). */
typedef struct tack_cfg_instance {
  const char *name;    /* instance name: the key of its group ("trend") */
  const char *section; /* "exchanges", "filters", "strategies", "scorers" */
  uint32_t kind;       /* TACK_KIND_* the section requires */
  const char *plugin_id;
  const tack_plugin *plugin;       /* set by tack_config_resolve() */
  const config_setting_t *setting; /* the instance's group */
  const config_setting_t *params;  /* its params group, or NULL */
  const char *file;                /* where it is defined */
  int line;
  /* 1 for a filter that a strategy names by plugin id instead of by an
   * instance of `filters` (filter = "heikin_ashi"): it runs with default
   * params, and name and plugin_id are both the id; setting is then the
   * string that names it and params is NULL. */
  int implicit;
} tack_cfg_instance;

/* Most timeframes one strategy may consume (`timeframes = [ ... ];`). */
#define TACK_MAX_TIMEFRAMES 8
/* Most distinct timeframes one composed strategy uses (the union of its
 * leaves'): a symbol makes one series of bars per distinct timeframe. */
#define TACK_MAX_SYMBOL_TIMEFRAMES 16
/* Deepest composition: a leaf is 1, a composite of leaves 2, ... */
#define TACK_MAX_DEPTH 8
/* Most regimes one regime entry switches between. */
#define TACK_MAX_REGIMES 16

/* What a strategies entry is: its `type`. docs/composition.md. */
#define TACK_STRATEGY_PLUGIN 0u    /* a strategy plugin: bars in, signals out (the default) */
#define TACK_STRATEGY_SCORER 1u    /* an ML scorer fed features the host computes */
#define TACK_STRATEGY_COMPOSITE 2u /* its members' signals aggregated by a method */
#define TACK_STRATEGY_REGIME 3u    /* one of several strategies, chosen by a detector */

/* A composite's `method`. */
#define TACK_METHOD_WEIGHTED 1u
#define TACK_METHOD_MAJORITY 2u
#define TACK_METHOD_UNANIMOUS 3u

/* A regime's `on_switch`: what the symbol emits when it switches into it. */
#define TACK_SWITCH_KEEP 0u    /* the new strategy's signal as it stands */
#define TACK_SWITCH_REDUCE 1u  /* the position's direction at reduce_to, until it speaks */
#define TACK_SWITCH_FLATTEN 2u /* 0, until the new strategy speaks */

struct tack_cfg_strategy;

/* One member of a composite: `{ strategy = "x"; weight = 2.0; gate = true; }`
 * or just `"x"`. */
typedef struct tack_cfg_member {
  const char *name;                   /* as written */
  struct tack_cfg_strategy *strategy; /* the entry it names; NULL when unknown */
  double weight;                      /* >= 0, finite; 1 when not given */
  int gate;                           /* weighted only: neutral unless it agrees in sign */
  const config_setting_t *setting;    /* the member's element, for messages */
  const config_setting_t *ref;        /* its `strategy` setting (or the element) */
} tack_cfg_member;

/* One regime of a regime entry. It matches a detector strength s when
 * s > above (if set) and s < below (if set); the last has neither. */
typedef struct tack_cfg_regime {
  const char *name;
  struct tack_cfg_strategy *strategy; /* NULL when unknown */
  int has_above, has_below;
  double above, below;
  uint32_t on_switch; /* TACK_SWITCH_* */
  double reduce_to;   /* TACK_SWITCH_REDUCE: (0, 1], default 0.5 */
  const config_setting_t *setting;
  const config_setting_t *ref; /* its `strategy` setting */
} tack_cfg_regime;

typedef struct tack_cfg_strategy {
  tack_cfg_instance inst;
  uint32_t timeframe_s;        /* the timeframe that drives it: the smallest of timeframes */
  size_t n_filters;            /* filters applied in order to its bars, per timeframe */
  tack_cfg_instance **filters; /* point into tack_config.filters */
  /* Every timeframe it consumes, ascending, so timeframes[0] is timeframe_s;
   * each other one is a whole multiple of it. `timeframe = "5m";` gives one,
   * `timeframes = [ "5m", "4h" ];` up to TACK_MAX_TIMEFRAMES. */
  uint32_t timeframes[TACK_MAX_TIMEFRAMES];
  size_t n_timeframes;
  uint32_t gap_policy; /* TACK_BARS_GAP_* (bars.h) for the bars the host makes: `gap` */
  /* The `timeframe` or `timeframes` setting, for messages about the bars the
   * strategy needs; the strategy's own place when neither is set. */
  const char *tf_file;
  int tf_line;

  uint32_t type; /* TACK_STRATEGY_*; inst.kind is TACK_KIND_SCORER for a scorer */

  /* type = "scorer": the feature spec as written, and once resolved its
   * canonical form (host/ml_features.h) and the number of values it yields,
   * which the host also writes into the scorer's own `features` and
   * `n_features` parameters when the plugin declares them. */
  const char *features;
  const config_setting_t *features_setting;
  char *features_canonical; /* owned; NULL until resolved */
  uint32_t n_features;
  int features_injected; /* the params group holds settings the host added */

  /* type = "composite". */
  uint32_t method;       /* TACK_METHOD_* */
  double threshold;      /* weighted: |strength| below it is 0 (default 0) */
  double vote_threshold; /* majority: the least |strength| that votes (default 0: any non-zero) */
  uint32_t quorum;       /* majority: least voters; default more than half of the members */
  tack_cfg_member *members;
  size_t n_members;

  /* type = "regime". */
  struct tack_cfg_strategy *detector; /* NULL when unknown */
  const config_setting_t *detector_setting;
  tack_cfg_regime *regimes;
  size_t n_regimes;
  uint32_t hold; /* bars of its smallest timeframe a new regime must hold; default 1 */

  /* Every entry, once the config loaded without problems: the distinct
   * timeframes of the leaves below it (its own for a plugin or scorer),
   * ascending, and how deep it nests (1 for a plugin or scorer). A
   * composed entry is evaluated on bars of all_timeframes[0]. */
  uint32_t all_timeframes[TACK_MAX_SYMBOL_TIMEFRAMES];
  size_t n_all_timeframes;
  int depth;

  /* Its `exits = { ... };` group, or NULL: the exits of the symbols that
   * name this entry, where they set none (trading_config.h). */
  const config_setting_t *exits;
} tack_cfg_strategy;

typedef struct tack_cfg_symbol {
  const char *symbol;          /* venue symbol, "BTC-USD" */
  tack_cfg_instance *exchange; /* points into tack_config.exchanges */
  tack_cfg_strategy *strategy; /* points into tack_config.strategies */
  int enabled;
  const char *file;
  int line;
  /* Its `trading = { ... };` group of overrides, or NULL (trading_config.h). */
  const config_setting_t *trading;
} tack_cfg_symbol;

typedef struct tack_config {
  config_t lc;
  char *path; /* as given */
  char *dir;  /* the config file's folder: relative paths are relative to it */
  int version;
  const char *name;   /* bot name; namespaces the store */
  char **plugin_dirs; /* absolute */
  size_t n_plugin_dirs;
  char *store_path; /* absolute, NULL when the config names no store */
  int log_level;
  tack_cfg_instance *exchanges;
  size_t n_exchanges;
  tack_cfg_instance *filters; /* the instances of `filters`, then implicit ones */
  size_t n_filters;
  tack_cfg_strategy *strategies;
  size_t n_strategies;
  tack_cfg_symbol *symbols;
  size_t n_symbols;
  /* 1 for a config handed out by tack_config_load_partial() despite
   * problems: it exists to be diagnosed, never to run. */
  int invalid;
  /* The top-level `trading` group, or NULL: the config only computes
   * signals. */
  const config_setting_t *trading_setting;
  /* What every symbol trades by, read from the trading groups once the
   * rest of the schema is read (trading.enabled is 0 without a trading
   * group). Valid whenever the config is handed out without invalid set;
   * in an invalid config it may hold nothing. */
  tack_trading_cfg trading;
} tack_config;

/* Parse path and check the host schema. On error returns TACK_ECONFIG (or
 * TACK_ENOENT/TACK_EIO for the file, TACK_ENOMEM) with every problem in d,
 * and *out NULL. Messages name the file as path gives it (an @include'd
 * file as its @include does; includes are relative to the config's
 * folder). */
int tack_config_load(const char *path, tack_config **out, tack_diag *d);

/*
 * For `tack check`, which reports every problem in one run: like
 * tack_config_load(), but when the problems leave the plugins checkable (the
 * file parsed, its schema version is 1 and plugin_dirs is valid, so the
 * right folders will be scanned), *out still receives the config, with
 * invalid set, and the return is TACK_ECONFIG. tack_config_resolve() then
 * adds the plugins' problems to the same report; it binds nothing in an
 * invalid config and always returns TACK_ECONFIG for it, so nothing can
 * run from it. Otherwise *out is NULL, as with tack_config_load().
 */
int tack_config_load_partial(const char *path, tack_config **out, tack_diag *d);

/* Internal, for config_override.c (use tack_config_load_with()): the loads
 * above with the parsed tree handed to edit before anything is checked;
 * partial as tack_config_load_partial(). When edit returns an error, its
 * problems are in d, nothing is checked, *out is NULL and that error is
 * returned. */
typedef int (*tack__config_edit_fn)(config_t *lc, void *data, tack_diag *d);
int tack__config_load_edited(const char *path, int partial, tack__config_edit_fn edit, void *data,
                             tack_config **out, tack_diag *d);

/* Bind every plugin id to a plugin of ld (of the kind its section needs)
 * and check each instance's params against its plugin's spec. References
 * within the config (symbols to exchanges and strategies, strategies to
 * filter instances) were checked by tack_config_load(); a filter named by
 * plugin id is checked here. A missing plugin is reported with similar
 * loaded ids, or with the refused file that may carry it. Returns 0 or
 * TACK_ECONFIG with every problem in d (and nothing bound). */
int tack_config_resolve(tack_config *cfg, const tack_loader *ld, tack_diag *d);

/* The plugins (and refused files) a config is resolved against. */
typedef struct tack_plugin_set {
  const tack_plugin *const *plugins;
  size_t n_plugins;
  const tack_refusal *const *refusals; /* named when a missing plugin may be in one */
  size_t n_refusals;
} tack_plugin_set;

/* tack_config_resolve() against an explicit set of plugins (the loader's,
 * or descriptors a test defines). On error every binding is cleared again:
 * the caller never sees a half-resolved config. Resolving again rebinds.
 * The indicators of a scorer's features are found in the loader given to
 * tack_config_resolve(); here, in the registry of instance.h
 * (tack_instance_set_registry()). */
int tack_config_resolve_set(tack_config *cfg, const tack_plugin_set *set, tack_diag *d);

void tack_config_free(tack_config *cfg);

/*
 * Load the plugins a config can use into ld, in this order: extra_dirs (the
 * command line's --plugin-dir folders), the config's plugin_dirs, then
 * TACK_PLUGIN_PATH and the default folder. Refused files and unreadable
 * folders are recorded as the loader's refusals, not returned. Returns 0, or
 * TACK_ENOMEM (added to d), the only error that stops the scan.
 */
int tack_config_load_plugins(const tack_config *cfg, const char *const *extra_dirs, size_t n_extra,
                             tack_loader *ld, tack_diag *d);

/* Print the composed pipeline: the store, each exchange with its plugin,
 * version and effective parameters, then per symbol bars -> filters ->
 * strategy, or for a composed strategy its tree (composites with method,
 * settings and each member's weight; regime entries with hold, detector
 * and each regime's bounds and policy; a scorer's canonical features),
 * one indented line per entry, then the trading settings when the config
 * has a trading group (tack_trading_cfg_print()). Secret parameters print
 * as ***. `tack check` prints its own header lines (the verdict and where
 * plugins came from) before this. */
void tack_config_print(const tack_config *cfg, FILE *out);

/* The name of a TACK_STRATEGY_* ("composite"), TACK_METHOD_* ("weighted")
 * or TACK_SWITCH_* ("flatten"), as the config writes it. */
const char *tack_config_type_name(uint32_t type);
const char *tack_config_method_name(uint32_t method);
const char *tack_config_switch_name(uint32_t policy);

/* The entries a composed entry names: a composite's members in order, a
 * regime entry's detector then each regime's strategy (the same entry may
 * appear more than once); none for a plugin or scorer. tack_config_child()
 * returns NULL for a name that matched no entry (only in a config with
 * problems) and sets *ref (when ref is not NULL) to the setting that names
 * it. */
size_t tack_config_children(const tack_cfg_strategy *st);
tack_cfg_strategy *tack_config_child(const tack_cfg_strategy *st, size_t i,
                                     const config_setting_t **ref);

/* Parse a timeframe: "45s", "1m", "5m", "4h", "1d", "90" (seconds), any
 * whole multiple of a second up to 7 days. TACK_EINVAL otherwise. */
int tack_timeframe_parse(const char *text, uint32_t *seconds);
/* Format seconds as the shortest of "Nd", "Nh", "Nm", "Ns" into buf. */
void tack_timeframe_format(uint32_t seconds, char *buf, size_t cap);

#endif
