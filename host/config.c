/*
 * config.c: reads a bot's libconfig file, checks the host's schema (version
 * 1) as a whole and binds plugin ids to loaded plugins. Every problem is
 * collected, with its file, line and setting path, before anything returns;
 * a config with any problem is never handed out to run (`tack check` may
 * keep one, marked invalid, to finish its report). See config.h and
 * docs/config.md.
 *
 * libconfig reports syntax errors only. Types are checked here from
 * config_setting_type(), and integer literals that libconfig would silently
 * truncate to 32 bits (written without the L suffix) are found by scanning
 * the source text.
 *
 * The entries of `strategies` form a graph (composites name their members,
 * regime entries their detector and strategies): once every entry is
 * loaded, names are linked, then cycles, depth, timeframes and gap are
 * checked over it (docs/composition.md). A scorer's features are built when
 * resolving, with the indicators of the loader, and written into the
 * scorer's own params.
 *
 * The trading groups (the top-level `trading`, a symbol's `trading`, an
 * entry's `exits`) are only checked to be groups here; trading_config.c
 * reads what is inside them, last.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "bars.h"
#include "instance.h"
#include "log.h"
#include "ml_features.h"
#include "params.h"
#include "backtest.h"
#include "optimize.h"
#include "train.h"

#define SCHEMA_VERSION 1
/* Longest bot or instance name. */
#define NAME_MAX_LEN 64
/* Longest timeframe: a week. */
#define TIMEFRAME_MAX_S (7u * 86400u)
/* Largest config (or included) file the integer literal scan reads. */
#define SOURCE_MAX ((size_t)16 << 20)
/* Most distinct source files (the config and its @includes) scanned. */
#define MAX_SOURCES 32
/* Most similar plugin ids listed for an id that is not loaded. */
#define MAX_SIMILAR 4

/* ------------------------------------------------------------------------ */
/* Problems and suggestions                                                  */
/* ------------------------------------------------------------------------ */

/* State of one load or resolve: where problems go and how many there were
 * (counted here because tack_diag_add() drops messages when out of memory). */
typedef struct checker {
  tack_config *cfg;
  tack_diag *d;
  int problems;
  int version_ok;   /* the schema version is this host's */
  int dirs_trusted; /* plugin_dirs is exactly what the author meant */
} checker;

static void problem(checker *ck, const config_setting_t *s, const char *key, const char *fmt, ...)
    TACK_PRINTF(4, 5);
static void problem(checker *ck, const config_setting_t *s, const char *key, const char *fmt, ...) {
  char body[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  tack_setting_report(ck->d, s, key, "%s", body);
  ck->problems++;
}

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

/* Each kind's name, and with its article for "plugin 'ema' is an
 * indicator". */
static const struct {
  uint32_t kind;
  const char *noun;
  const char *phrase;
} kinds[] = {
    {TACK_KIND_EXCHANGE, "exchange", "an exchange"},
    {TACK_KIND_FILTER, "filter", "a filter"},
    {TACK_KIND_INDICATOR, "indicator", "an indicator"},
    {TACK_KIND_SCORER, "scorer", "an ML scorer"},
    {TACK_KIND_STRATEGY, "strategy", "a strategy"},
};

static const char *kind_noun(uint32_t kind) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (kinds[i].kind == kind)
      return kinds[i].noun;
  return "unknown kind";
}

static const char *kind_phrase(uint32_t kind) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (kinds[i].kind == kind)
      return kinds[i].phrase;
  return "of an unknown kind";
}

/* ------------------------------------------------------------------------ */
/* The schema                                                                */
/* ------------------------------------------------------------------------ */

enum {
  R_VERSION,
  R_NAME,
  R_PLUGIN_DIRS,
  R_STORE,
  R_LOG,
  R_EXCHANGES,
  R_FILTERS,
  R_STRATEGIES,
  R_SYMBOLS,
  R_TRAIN,
  R_TRADING,
  R_BACKTEST,
  R_OPTIMIZE,
  R_COUNT
};
static const tack_key_spec root_keys[R_COUNT] = {
    [R_VERSION] = {"version", TACK_SETTING_INT, 1, "the integer 1", "version = 1;"},
    [R_NAME] = {"name", TACK_SETTING_STRING, 1, "a string", "name = \"demo\";"},
    [R_PLUGIN_DIRS] = {"plugin_dirs", TACK_SETTING_ARRAY | TACK_SETTING_LIST, 0,
                       "a list of folders [ \"dir\", ... ]",
                       "plugin_dirs = [ \"../build/plugins\" ];"},
    [R_STORE] = {"store", TACK_SETTING_GROUP, 0, "a group { path = \"...\"; }",
                 "store = { path = \"../var/demo\"; };"},
    [R_LOG] = {"log", TACK_SETTING_GROUP, 0, "a group { level = \"info\"; }",
               "log = { level = \"info\"; };"},
    [R_EXCHANGES] = {"exchanges", TACK_SETTING_GROUP, 1,
                     "a group of named exchanges { name = { ... }; }",
                     "exchanges = { sim = { plugin = \"paper\"; }; };"},
    [R_FILTERS] = {"filters", TACK_SETTING_GROUP, 0, "a group of named filters { name = { ... }; }",
                   "filters = { ha = { plugin = \"heikin_ashi\"; }; };"},
    [R_STRATEGIES] = {"strategies", TACK_SETTING_GROUP, 1,
                      "a group of named strategies { name = { ... }; }",
                      "strategies = { trend = { plugin = \"...\"; timeframe = \"5m\"; }; };"},
    [R_SYMBOLS] = {"symbols", TACK_SETTING_LIST | TACK_SETTING_ARRAY, 1,
                   "a list of symbols ( { ... }, { ... } )",
                   "symbols = ( { symbol = \"BTC-USD\"; exchange = \"sim\"; strategy = "
                   "\"trend\"; } );"},
    [R_TRAIN] = {"train", TACK_SETTING_GROUP, 0, "a group { scorer = \"...\"; symbol = \"...\"; }",
                 "train = { scorer = \"ml\"; symbol = \"BTC-USD\"; };"},
    [R_TRADING] = {"trading", TACK_SETTING_GROUP, 0,
                   "a group { sizing = { ... }; exits = { ... }; ... }",
                   "trading = { sizing = { allocation = 1000.0; }; };"},
    [R_BACKTEST] = {"backtest", TACK_SETTING_GROUP, 0,
                    "a group { venue = { ... }; returns = \"1d\"; ... }",
                    "backtest = { returns = \"1d\"; risk_free = 0.0; };"},
    [R_OPTIMIZE] = {"optimize", TACK_SETTING_GROUP, 0,
                    "a group { objective = \"sharpe\"; params = ( ... ); ... }",
                    "optimize = { objective = \"sharpe\"; method = \"grid\"; };"},
};

_Static_assert(R_COUNT <= TACK_MAX_KEYS, "check_keys() needs more room");

enum { ST_PATH, ST_COUNT };
static const tack_key_spec store_keys[ST_COUNT] = {
    [ST_PATH] = {"path", TACK_SETTING_STRING, 1, "a folder (a string)", "path = \"../var/demo\";"},
};

enum { L_LEVEL, L_COUNT };
static const tack_key_spec log_keys[L_COUNT] = {
    [L_LEVEL] = {"level", TACK_SETTING_STRING, 0, "one of error|warn|info|debug",
                 "level = \"info\";"},
};

/* Exchanges and filters take the same keys. */
enum { I_PLUGIN, I_PARAMS, I_COUNT };
static const tack_key_spec instance_keys[I_COUNT] = {
    [I_PLUGIN] = {"plugin", TACK_SETTING_STRING, 1, "a plugin id (a string)", "plugin = \"<id>\";"},
    [I_PARAMS] = {"params", TACK_SETTING_GROUP, 0, "a group of parameters { key = value; }",
                  "params = { };"},
};

/* A strategy needs one of timeframe and timeframes: load_timeframes()
 * checks that, so neither is marked required here. Which keys an entry
 * takes depends on its type (strategy_key_types below); plugin is required
 * of plugins and scorers only. load_instance() wants plugin first and
 * params last. */
enum {
  S_PLUGIN,
  S_TYPE,
  S_TIMEFRAME,
  S_TIMEFRAMES,
  S_GAP,
  S_FILTER,
  S_FEATURES,
  S_METHOD,
  S_MEMBERS,
  S_THRESHOLD,
  S_VOTE_THRESHOLD,
  S_QUORUM,
  S_DETECTOR,
  S_REGIMES,
  S_HOLD,
  S_EXITS,
  S_PARAMS,
  S_COUNT
};
static const tack_key_spec strategy_keys[S_COUNT] = {
    [S_PLUGIN] = {"plugin", TACK_SETTING_STRING, 0, "a plugin id (a string)", "plugin = \"<id>\";"},
    [S_TYPE] = {"type", TACK_SETTING_STRING, 0, "one of plugin|scorer|composite|regime",
                "type = \"composite\";"},
    [S_TIMEFRAME] = {"timeframe", TACK_SETTING_STRING | TACK_SETTING_INT, 0,
                     "a timeframe such as \"45s\", \"5m\", \"4h\" or \"1d\"",
                     "timeframe = \"5m\";"},
    [S_TIMEFRAMES] = {"timeframes", TACK_SETTING_ARRAY | TACK_SETTING_LIST, 0,
                      "a list of timeframes such as [ \"5m\", \"4h\" ]",
                      "timeframes = [ \"5m\", \"4h\" ];"},
    [S_GAP] = {"gap", TACK_SETTING_STRING, 0, "one of skip|fill", "gap = \"skip\";"},
    [S_FILTER] = {"filter", TACK_SETTING_STRING | TACK_SETTING_ARRAY | TACK_SETTING_LIST, 0,
                  "a filter name or a list of them [ \"a\", \"b\" ]", "filter = \"ha\";"},
    [S_FEATURES] = {"features", TACK_SETTING_STRING, 0, "a feature spec (a string)",
                    "features = \"rsi:14; ret:1; ret:1~1\";"},
    [S_METHOD] = {"method", TACK_SETTING_STRING, 0, "one of weighted|majority|unanimous",
                  "method = \"weighted\";"},
    [S_MEMBERS] = {"members", TACK_SETTING_LIST | TACK_SETTING_ARRAY, 0,
                   "a list of members ( { strategy = \"a\"; weight = 1.0; }, ... )",
                   "members = ( { strategy = \"a\"; }, { strategy = \"b\"; } );"},
    [S_THRESHOLD] = {"threshold", TACK_SETTING_INT | TACK_SETTING_FLOAT, 0, "a number in [0, 1]",
                     "threshold = 0.2;"},
    [S_VOTE_THRESHOLD] = {"vote_threshold", TACK_SETTING_INT | TACK_SETTING_FLOAT, 0,
                          "a number in [0, 1]", "vote_threshold = 0.3;"},
    [S_QUORUM] = {"quorum", TACK_SETTING_INT, 0, "an integer", "quorum = 2;"},
    [S_DETECTOR] = {"detector", TACK_SETTING_STRING, 0, "the name of an entry of strategies",
                    "detector = \"trendiness\";"},
    [S_REGIMES] = {"regimes", TACK_SETTING_LIST, 0,
                   "a list of regimes ( { name = \"...\"; ... }, ... )",
                   "regimes = ( { name = \"trend\"; above = 0.3; strategy = \"a\"; }, { name = "
                   "\"range\"; strategy = \"b\"; } );"},
    [S_HOLD] = {"hold", TACK_SETTING_INT, 0, "an integer of 1 or more", "hold = 3;"},
    [S_EXITS] = {"exits", TACK_SETTING_GROUP, 0, "a group { stop_loss = 0.02; ... }",
                 "exits = { stop_loss = 0.02; };"},
    [S_PARAMS] = {"params", TACK_SETTING_GROUP, 0, "a group of parameters { key = value; }",
                  "params = { };"},
};

_Static_assert(S_COUNT <= TACK_MAX_KEYS, "check_keys() needs more room");

/* The types of entry each key of strategy_keys belongs to. */
#define FOR_PLUGIN (1u << TACK_STRATEGY_PLUGIN)
#define FOR_SCORER (1u << TACK_STRATEGY_SCORER)
#define FOR_COMPOSITE (1u << TACK_STRATEGY_COMPOSITE)
#define FOR_REGIME (1u << TACK_STRATEGY_REGIME)
#define FOR_LEAF (FOR_PLUGIN | FOR_SCORER)
static const unsigned strategy_key_types[S_COUNT] = {
    [S_PLUGIN] = FOR_LEAF,
    [S_TYPE] = FOR_LEAF | FOR_COMPOSITE | FOR_REGIME,
    [S_TIMEFRAME] = FOR_LEAF,
    [S_TIMEFRAMES] = FOR_LEAF,
    [S_GAP] = FOR_LEAF,
    [S_FILTER] = FOR_LEAF,
    [S_FEATURES] = FOR_SCORER,
    [S_METHOD] = FOR_COMPOSITE,
    [S_MEMBERS] = FOR_COMPOSITE,
    [S_THRESHOLD] = FOR_COMPOSITE,
    [S_VOTE_THRESHOLD] = FOR_COMPOSITE,
    [S_QUORUM] = FOR_COMPOSITE,
    [S_DETECTOR] = FOR_REGIME,
    [S_REGIMES] = FOR_REGIME,
    [S_HOLD] = FOR_REGIME,
    [S_EXITS] = FOR_LEAF | FOR_COMPOSITE | FOR_REGIME,
    [S_PARAMS] = FOR_LEAF,
};

enum { M_STRATEGY, M_WEIGHT, M_GATE, M_COUNT };
static const tack_key_spec member_keys[M_COUNT] = {
    [M_STRATEGY] = {"strategy", TACK_SETTING_STRING, 1, "the name of an entry of strategies",
                    "strategy = \"trend\";"},
    [M_WEIGHT] = {"weight", TACK_SETTING_INT | TACK_SETTING_FLOAT, 0, "a number of 0 or more",
                  "weight = 2.0;"},
    [M_GATE] = {"gate", TACK_SETTING_BOOL, 0, "true or false", "gate = true;"},
};

enum { G_NAME, G_STRATEGY, G_ABOVE, G_BELOW, G_ON_SWITCH, G_REDUCE_TO, G_COUNT };
static const tack_key_spec regime_keys[G_COUNT] = {
    [G_NAME] = {"name", TACK_SETTING_STRING, 1, "a regime name (a string)", "name = \"trend\";"},
    [G_STRATEGY] = {"strategy", TACK_SETTING_STRING, 1, "the name of an entry of strategies",
                    "strategy = \"trend\";"},
    [G_ABOVE] = {"above", TACK_SETTING_INT | TACK_SETTING_FLOAT, 0, "a number in [-1, 1]",
                 "above = 0.3;"},
    [G_BELOW] = {"below", TACK_SETTING_INT | TACK_SETTING_FLOAT, 0, "a number in [-1, 1]",
                 "below = -0.3;"},
    [G_ON_SWITCH] = {"on_switch", TACK_SETTING_STRING, 0, "one of keep|reduce|flatten",
                     "on_switch = \"flatten\";"},
    [G_REDUCE_TO] = {"reduce_to", TACK_SETTING_INT | TACK_SETTING_FLOAT, 0, "a number in (0, 1]",
                     "reduce_to = 0.5;"},
};

enum { Y_SYMBOL, Y_EXCHANGE, Y_STRATEGY, Y_ENABLED, Y_TRADING, Y_COUNT };
static const tack_key_spec symbol_keys[Y_COUNT] = {
    [Y_SYMBOL] = {"symbol", TACK_SETTING_STRING, 1, "the venue's symbol (a string)",
                  "symbol = \"BTC-USD\";"},
    [Y_EXCHANGE] = {"exchange", TACK_SETTING_STRING, 1, "the name of an instance in exchanges",
                    "exchange = \"sim\";"},
    [Y_STRATEGY] = {"strategy", TACK_SETTING_STRING, 1, "the name of an instance in strategies",
                    "strategy = \"trend\";"},
    [Y_ENABLED] = {"enabled", TACK_SETTING_BOOL, 0, "true or false", "enabled = true;"},
    [Y_TRADING] = {"trading", TACK_SETTING_GROUP, 0,
                   "a group of overrides { sizing = { ... }; exits = { ... }; ... }",
                   "trading = { sizing = { allocation = 500.0; }; };"},
};

/* tack_check_keys(), counting its problems in ck. */
static void check_keys(checker *ck, const config_setting_t *group, const tack_key_spec *keys,
                       size_t n, const config_setting_t **found) {
  ck->problems += tack_check_keys(ck->d, group, keys, n, found);
}

/* ASCII only, whatever the locale. */
static int lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static int valid_name(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (!(lower_or_digit(s[n]) || s[n] == '_' || s[n] == '-'))
      return 0;
  return n >= 1 && n <= NAME_MAX_LEN;
}

/* Plugin ids as the SDK defines them: [a-z0-9_.-]+. */
static int valid_plugin_id(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (!(lower_or_digit(s[n]) || s[n] == '_' || s[n] == '-' || s[n] == '.'))
      return 0;
  return n >= 1;
}

/* Venue symbols: printable ASCII without spaces, short enough for the
 * fixed-size symbol fields of the SDK. */
static int valid_symbol(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (s[n] <= ' ' || s[n] > '~')
      return 0;
  return n >= 1 && n < TACK_SYMBOL_MAX;
}

/* ------------------------------------------------------------------------ */
/* Paths                                                                     */
/* ------------------------------------------------------------------------ */

/* Resolve "." and ".." by name in an absolute path, in place. */
static void normalize_path(char *path) {
  size_t len = 0;
  const char *in = path;
  while (*in) {
    while (*in == '/')
      in++;
    if (!*in)
      break;
    const char *end = strchr(in, '/');
    size_t n = end ? (size_t)(end - in) : strlen(in);
    if (n == 1 && in[0] == '.') {
      /* nothing */
    } else if (n == 2 && in[0] == '.' && in[1] == '.') {
      while (len > 0 && path[len - 1] != '/')
        len--;
      if (len > 0)
        len--;
    } else {
      /* Output never overtakes input: each "/name" written was read. */
      path[len++] = '/';
      memmove(path + len, in, n);
      len += n;
    }
    in += n;
  }
  if (len == 0)
    path[len++] = '/';
  path[len] = '\0';
}

/* p made absolute against dir: the real path when it exists, otherwise the
 * joined path with "." and ".." resolved by name. NULL when out of memory. */
static char *absolute_path(const char *dir, const char *p) {
  char *joined = NULL;
  char *out = NULL;
  if (p[0] == '/') {
    joined = tack_strdup(NULL, p);
  } else {
    size_t n = strlen(dir) + 1 + strlen(p) + 1;
    joined = tack_alloc(NULL, n);
    if (joined)
      snprintf(joined, n, "%s/%s", dir, p);
  }
  if (!joined)
    goto done;
  char *real = realpath(joined, NULL);
  if (real) {
    out = tack_strdup(NULL, real);
    free(real); /* realpath allocates with malloc */
    goto done;
  }
  normalize_path(joined);
  out = joined;
  joined = NULL;
done:
  tack_free(NULL, joined);
  return out;
}

/* The absolute folder that holds path (as given, so that a symlinked
 * config resolves relative to the link's folder). */
static int config_folder(const char *path, char **out) {
  int rc = 0;
  char *folder = NULL;
  char cwd[PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (!slash)
    folder = tack_strdup(NULL, ".");
  else if (slash == path)
    folder = tack_strdup(NULL, "/");
  else if ((folder = tack_alloc(NULL, (size_t)(slash - path) + 1)) != NULL)
    snprintf(folder, (size_t)(slash - path) + 1, "%s", path);
  if (!folder) {
    rc = TACK_ENOMEM;
    goto done;
  }
  if (folder[0] != '/' && !getcwd(cwd, sizeof cwd)) {
    rc = TACK_EIO;
    goto done;
  }
  *out = absolute_path(folder[0] == '/' ? "/" : cwd, folder);
  if (!*out)
    rc = TACK_ENOMEM;
done:
  tack_free(NULL, folder);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Reading the file                                                          */
/* ------------------------------------------------------------------------ */

static int read_config_file(tack_config *cfg, const char *path, tack_diag *d) {
  struct stat st;
  FILE *f;
  int rc;

  if (stat(path, &st) != 0 || !(f = fopen(path, "r"))) {
    int err = errno;
    tack_diag_add(d, path, 0, NULL, "cannot read the config file: %s", strerror(err));
    return err == ENOENT ? TACK_ENOENT : TACK_EIO;
  }
  fclose(f);
  if (S_ISDIR(st.st_mode)) {
    tack_diag_add(d, path, 0, NULL, "is a folder; give the path of a config file");
    return TACK_EIO;
  }
  rc = config_folder(path, &cfg->dir);
  if (rc) {
    if (rc == TACK_EIO)
      tack_diag_add(d, path, 0, NULL, "cannot tell the config's folder: %s", strerror(errno));
    return rc;
  }

  /* @include paths are relative to the config's folder, like every other
   * path in it, whatever the working directory. */
  config_set_include_dir(&cfg->lc, cfg->dir);
  /* So that plugins reading a double through libconfig get an int literal
   * converted; every check here still looks at the setting's own type. */
  config_set_auto_convert(&cfg->lc, 1);
  if (config_read_file(&cfg->lc, path) == CONFIG_TRUE)
    return 0;

  if (config_error_type(&cfg->lc) == CONFIG_ERR_FILE_IO) {
    tack_diag_add(d, path, 0, NULL, "cannot read the config file");
    return TACK_EIO;
  }
  const char *file = config_error_file(&cfg->lc) ? config_error_file(&cfg->lc) : path;
  const char *msg = config_error_text(&cfg->lc) ? config_error_text(&cfg->lc) : "parse error";
  if (strcmp(msg, "syntax error") == 0)
    tack_diag_add(d, file, config_error_line(&cfg->lc), NULL,
                  "syntax error on this line or the one before (a missing '=', ',' or closing "
                  "bracket; an unterminated string is reported at the end of the file)");
  else
    tack_diag_add(d, file, config_error_line(&cfg->lc), NULL, "%s", msg);
  return TACK_ECONFIG;
}

/* ------------------------------------------------------------------------ */
/* Integer literals libconfig truncates                                      */
/* ------------------------------------------------------------------------ */

/* Append to files every distinct source file of s and its members. */
static void collect_sources(const config_setting_t *s, const char **files, size_t *n) {
  const char *f = config_setting_source_file(s);
  if (f) {
    size_t i = 0;
    while (i < *n && strcmp(files[i], f) != 0)
      i++;
    if (i == *n && *n < MAX_SOURCES)
      files[(*n)++] = f;
  }
  if (config_setting_is_aggregate(s))
    for (int i = 0; i < config_setting_length(s); i++)
      collect_sources(config_setting_get_elem(s, (unsigned)i), files, n);
}

/* The nth (0-based) 32-bit integer setting on file:line, in document order. */
static const config_setting_t *nth_int_on_line(const config_setting_t *s, const char *file,
                                               int line, int *nth) {
  if (config_setting_type(s) == CONFIG_TYPE_INT && (int)config_setting_source_line(s) == line &&
      config_setting_source_file(s) && strcmp(config_setting_source_file(s), file) == 0) {
    if ((*nth)-- == 0)
      return s;
  }
  if (config_setting_is_aggregate(s))
    for (int i = 0; i < config_setting_length(s); i++) {
      const config_setting_t *hit =
          nth_int_on_line(config_setting_get_elem(s, (unsigned)i), file, line, nth);
      if (hit)
        return hit;
    }
  return NULL;
}

static int name_char(char c) {
  return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '*';
}

/*
 * Scan one source text for integer literals without L that do not fit in
 * 32 bits. It follows libconfig's lexer far enough to skip comments,
 * strings and setting names, and counts integer literals per line so that
 * each one is matched to its setting.
 */
static void scan_literals(checker *ck, const char *file, const char *src, size_t len) {
  int line = 1;
  int ints_on_line = 0;
  size_t i = 0;
  while (i < len) {
    char c = src[i];
    if (c == '\n') {
      line++;
      ints_on_line = 0;
      i++;
    } else if (c == '#' || (c == '/' && i + 1 < len && src[i + 1] == '/')) {
      while (i < len && src[i] != '\n')
        i++;
    } else if (c == '/' && i + 1 < len && src[i + 1] == '*') {
      for (i += 2; i < len && !(src[i] == '*' && i + 1 < len && src[i + 1] == '/'); i++)
        if (src[i] == '\n')
          line++;
      i += 2;
    } else if (c == '"') {
      for (i++; i < len && src[i] != '"'; i++) {
        if (src[i] == '\\')
          i++;
        if (i < len && src[i] == '\n')
          line++;
      }
      i++;
    } else if (isalpha((unsigned char)c) || c == '*') {
      while (i < len && name_char(src[i]))
        i++;
    } else if (isdigit((unsigned char)c) ||
               (c == '.' && i + 1 < len && isdigit((unsigned char)src[i + 1]))) {
      size_t start = i;
      int hex = c == '0' && i + 1 < len && (src[i + 1] == 'x' || src[i + 1] == 'X');
      int is_float = 0;
      uint64_t v = 0;
      if (hex) {
        for (i += 2; i < len && isxdigit((unsigned char)src[i]); i++) {
          int digit = isdigit((unsigned char)src[i]) ? src[i] - '0'
                                                     : tolower((unsigned char)src[i]) - 'a' + 10;
          if (v <= UINT32_MAX)
            v = v * 16 + (uint64_t)digit;
        }
      } else {
        for (; i < len; i++) {
          char ch = src[i];
          if (isdigit((unsigned char)ch)) {
            if (v <= UINT32_MAX)
              v = v * 10 + (uint64_t)(ch - '0');
          } else if (ch == '.' || ch == 'e' || ch == 'E') {
            is_float = 1;
          } else if (!((ch == '+' || ch == '-') && (src[i - 1] == 'e' || src[i - 1] == 'E'))) {
            break;
          }
        }
      }
      int is_long = i < len && (src[i] == 'L' || src[i] == 'l');
      while (i < len && name_char(src[i]))
        i++;
      if (is_float || is_long)
        continue;
      int negative = start > 0 && src[start - 1] == '-';
      uint64_t limit = negative ? UINT64_C(2147483648) : UINT64_C(2147483647);
      int nth = ints_on_line++;
      if (v <= limit)
        continue;
      char lit[40];
      size_t n = i - start < sizeof lit - 1 ? i - start : sizeof lit - 1;
      memcpy(lit, src + start, n);
      lit[n] = '\0';
      const config_setting_t *s =
          nth_int_on_line(config_root_setting(&ck->cfg->lc), file, line, &nth);
      if (s) {
        problem(ck, s, NULL,
                "%s%s does not fit in 32 bits and libconfig would read it as %d; write %s%sL "
                "for a 64-bit integer (or %s%s.0 for a number)",
                negative ? "-" : "", lit, config_setting_get_int(s), negative ? "-" : "", lit,
                negative ? "-" : "", lit);
      } else {
        tack_diag_add(ck->d, file, line, NULL,
                      "%s does not fit in 32 bits and libconfig would truncate it; write %sL", lit,
                      lit);
        ck->problems++;
      }
    } else {
      i++;
    }
  }
}

static int scan_file_literals(checker *ck, const char *file) {
  int rc = 0;
  char *fs_path = NULL;
  char *src = NULL;
  FILE *f = NULL;

  /* libconfig names an included file as its @include gave it, relative to
   * the include folder; the main file as its path was given. */
  if (file[0] == '/' || strcmp(file, ck->cfg->path) == 0)
    fs_path = tack_strdup(NULL, file);
  else
    fs_path = absolute_path(ck->cfg->dir, file);
  if (!fs_path) {
    rc = TACK_ENOMEM;
    goto done;
  }
  /* libconfig just read the file: if it cannot be read again, there is
   * nothing more to learn from it. */
  f = fopen(fs_path, "r");
  if (!f || fseek(f, 0, SEEK_END) != 0)
    goto done;
  long size = ftell(f);
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
    goto done;
  size_t len = (size_t)size < SOURCE_MAX ? (size_t)size : SOURCE_MAX;
  src = tack_alloc(NULL, len + 1);
  if (!src) {
    rc = TACK_ENOMEM;
    goto done;
  }
  len = fread(src, 1, len, f);
  scan_literals(ck, file, src, len);
done:
  if (f)
    fclose(f);
  tack_free(NULL, src);
  tack_free(NULL, fs_path);
  return rc;
}

static int check_int_literals(checker *ck) {
  const char *files[MAX_SOURCES];
  size_t n = 0;
  collect_sources(config_root_setting(&ck->cfg->lc), files, &n);
  for (size_t i = 0; i < n; i++) {
    int rc = scan_file_literals(ck, files[i]);
    if (rc)
      return rc;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */
/* ------------------------------------------------------------------------ */

static void check_bot_name(checker *ck, const config_setting_t *s) {
  const char *name = config_setting_get_string(s);
  if (valid_name(name))
    ck->cfg->name = name;
  else
    problem(ck, s, NULL,
            "\"%.64s\" is not a bot name: use 1 to %d lowercase letters, digits, '_' or '-'", name,
            NAME_MAX_LEN);
}

static int load_plugin_dirs(checker *ck, const config_setting_t *list) {
  tack_config *cfg = ck->cfg;
  char what[128];
  int n = config_setting_length(list);
  cfg->plugin_dirs = tack_calloc(NULL, (size_t)n + 1, sizeof *cfg->plugin_dirs);
  if (!cfg->plugin_dirs)
    return TACK_ENOMEM;
  for (int i = 0; i < n; i++) {
    const config_setting_t *el = config_setting_get_elem(list, (unsigned)i);
    if (config_setting_type(el) != CONFIG_TYPE_STRING) {
      tack_setting_describe(el, what, sizeof what);
      problem(ck, el, NULL, "must be a folder (a string), got %s", what);
      continue;
    }
    const char *dir = config_setting_get_string(el);
    if (!dir[0]) {
      problem(ck, el, NULL, "must be a folder, got an empty string");
      continue;
    }
    char *abs = absolute_path(cfg->dir, dir);
    if (!abs)
      return TACK_ENOMEM;
    cfg->plugin_dirs[cfg->n_plugin_dirs++] = abs;
  }
  return 0;
}

static int load_store(checker *ck, const config_setting_t *group) {
  const config_setting_t *f[ST_COUNT];
  check_keys(ck, group, store_keys, ST_COUNT, f);
  if (!f[ST_PATH])
    return 0;
  const char *path = config_setting_get_string(f[ST_PATH]);
  if (!path[0]) {
    problem(ck, f[ST_PATH], NULL, "must be a folder, got an empty string");
    return 0;
  }
  ck->cfg->store_path = absolute_path(ck->cfg->dir, path);
  return ck->cfg->store_path ? 0 : TACK_ENOMEM;
}

static void load_log(checker *ck, const config_setting_t *group) {
  const config_setting_t *f[L_COUNT];
  check_keys(ck, group, log_keys, L_COUNT, f);
  if (f[L_LEVEL] &&
      tack_log_parse_level(config_setting_get_string(f[L_LEVEL]), &ck->cfg->log_level) != 0)
    problem(ck, f[L_LEVEL], NULL, "must be one of error|warn|info|debug, got \"%.32s\"",
            config_setting_get_string(f[L_LEVEL]));
}

/*
 * Fill inst from s, a member of section: its name, its plugin id and its
 * params group. found receives s's known members (keys has n entries, with
 * "plugin" first and "params" last).
 */
static void load_instance(checker *ck, const config_setting_t *s, const char *section,
                          uint32_t kind, const tack_key_spec *keys, size_t n,
                          tack_cfg_instance *inst, const config_setting_t **found) {
  char what[128];
  inst->name = config_setting_name(s);
  inst->section = section;
  inst->kind = kind;
  inst->setting = s;
  inst->file = config_setting_source_file(s);
  inst->line = (int)config_setting_source_line(s);
  if (!valid_name(inst->name))
    problem(ck, s, NULL, "instance names are 1 to %d lowercase letters, digits, '_' or '-'",
            NAME_MAX_LEN);
  if (!config_setting_is_group(s)) {
    tack_setting_describe(s, what, sizeof what);
    problem(ck, s, NULL, "must be a group { plugin = \"<id>\"; ... }, got %s", what);
    for (size_t k = 0; k < n; k++)
      found[k] = NULL;
    return;
  }
  check_keys(ck, s, keys, n, found);
  if (found[0]) {
    const char *id = config_setting_get_string(found[0]);
    if (valid_plugin_id(id))
      inst->plugin_id = id;
    else
      problem(ck, found[0], NULL,
              "\"%.64s\" is not a plugin id: ids are lowercase letters, digits, '_', '.' and '-'",
              id);
  }
  inst->params = found[n - 1];
}

/* Exchanges or filters. cap leaves room after the section's own instances
 * (filters keep the implicit ones there). */
static int load_section(checker *ck, const config_setting_t *group, const char *section,
                        uint32_t kind, size_t extra, tack_cfg_instance **arr, size_t *n) {
  const config_setting_t *f[I_COUNT];
  size_t count = group ? (size_t)config_setting_length(group) : 0;
  *arr = tack_calloc(NULL, count + extra + 1, sizeof **arr);
  if (!*arr)
    return TACK_ENOMEM;
  for (size_t i = 0; i < count; i++) {
    load_instance(ck, config_setting_get_elem(group, (unsigned)i), section, kind, instance_keys,
                  I_COUNT, &(*arr)[i], f);
    (*n)++;
  }
  return 0;
}

static size_t count_filter_refs(const config_setting_t *strategies) {
  size_t refs = 0;
  for (int i = 0; strategies && i < config_setting_length(strategies); i++) {
    const config_setting_t *st = config_setting_get_elem(strategies, (unsigned)i);
    const config_setting_t *f =
        config_setting_is_group(st) ? config_setting_get_member(st, "filter") : NULL;
    if (f && config_setting_is_aggregate(f))
      refs += (size_t)config_setting_length(f);
    else if (f)
      refs++;
  }
  return refs;
}

static tack_cfg_instance *find_instance(tack_cfg_instance *arr, size_t n, const char *name,
                                        int implicit) {
  for (size_t i = 0; i < n; i++)
    if (arr[i].implicit == implicit && arr[i].name && strcmp(arr[i].name, name) == 0)
      return &arr[i];
  return NULL;
}

/* One name of a strategy's filter chain: an instance of `filters`, or else
 * a plugin id used with default params (checked when resolving). */
static tack_cfg_instance *filter_ref(tack_config *cfg, size_t n_explicit,
                                     const config_setting_t *el, const char *name) {
  tack_cfg_instance *fi = find_instance(cfg->filters, n_explicit, name, 0);
  if (!fi)
    fi = find_instance(cfg->filters, cfg->n_filters, name, 1);
  if (fi)
    return fi;
  fi = &cfg->filters[cfg->n_filters++];
  fi->name = name;
  fi->section = "filters";
  fi->kind = TACK_KIND_FILTER;
  fi->plugin_id = name;
  fi->setting = el;
  fi->file = config_setting_source_file(el);
  fi->line = (int)config_setting_source_line(el);
  fi->implicit = 1;
  return fi;
}

static int load_filter_chain(checker *ck, tack_cfg_strategy *st, const config_setting_t *chain,
                             size_t n_explicit) {
  char what[128];
  int scalar = !config_setting_is_aggregate(chain);
  size_t n = scalar ? 1 : (size_t)config_setting_length(chain);
  st->filters = tack_calloc(NULL, n + 1, sizeof *st->filters);
  if (!st->filters)
    return TACK_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    const config_setting_t *el = scalar ? chain : config_setting_get_elem(chain, (unsigned)i);
    if (config_setting_type(el) != CONFIG_TYPE_STRING) {
      tack_setting_describe(el, what, sizeof what);
      problem(ck, el, NULL, "must be a filter name (a string), got %s", what);
      continue;
    }
    const char *name = config_setting_get_string(el);
    if (!valid_plugin_id(name)) {
      problem(ck, el, NULL,
              "\"%.64s\" names neither an instance of filters nor a plugin id (lowercase "
              "letters, digits, '_', '.' and '-')",
              name);
      continue;
    }
    st->filters[st->n_filters++] = filter_ref(ck->cfg, n_explicit, el, name);
  }
  return 0;
}

#define TIMEFRAME_EXPECT                                                                           \
  "a timeframe such as \"45s\", \"5m\", \"4h\" or \"1d\" (whole seconds, more than 0, at most 7 "  \
  "days)"

/* The seconds of a timeframe setting ("5m" or 300), 0 when it is none. */
static uint32_t timeframe_value(const config_setting_t *s) {
  uint32_t tf = 0;
  if (config_setting_type(s) == CONFIG_TYPE_STRING) {
    if (tack_timeframe_parse(config_setting_get_string(s), &tf) != 0)
      tf = 0;
  } else if (tack_setting_type_bit(s) == TACK_SETTING_INT) {
    int64_t v = tack_setting_int(s);
    if (v > 0 && v <= (int64_t)TIMEFRAME_MAX_S)
      tf = (uint32_t)v;
  }
  return tf;
}

static void bad_timeframe(checker *ck, const config_setting_t *s) {
  char what[128];
  tack_setting_describe(s, what, sizeof what);
  problem(ck, s, NULL, "must be " TIMEFRAME_EXPECT ", got %s", what);
}

/* Whether check_keys() reported a member of group as a misspelling of key
 * (it suggests the closest key within two edits): the correction already
 * tells the author what is missing. */
static int misspelt(const config_setting_t *group, const tack_key_spec *keys, size_t n,
                    const char *key) {
  for (int i = 0; i < config_setting_length(group); i++) {
    const char *name = config_setting_name(config_setting_get_elem(group, (unsigned)i));
    tack_suggest sg;
    size_t k = 0;
    while (k < n && strcmp(keys[k].name, name) != 0)
      k++;
    if (k < n)
      continue;
    tack_suggest_init(&sg, name);
    for (size_t j = 0; j < n; j++)
      tack_suggest_add(&sg, keys[j].name);
    if (sg.best && strcmp(sg.best, key) == 0)
      return 1;
  }
  return 0;
}

/* Each timeframe of `timeframes` other than the smallest must be a whole
 * multiple of it: the host makes every timeframe of a strategy from one
 * series of bars, and a bar of the smallest one must never straddle the
 * end of a bar of another (that is what keeps a forming higher bar out of
 * the strategy's sight; see docs/runtime.md). */
static void check_multiples(checker *ck, const uint32_t *tfs, const config_setting_t *const *at,
                            size_t n) {
  char a[16], b[16], c[16];
  uint32_t min = tfs[0];
  for (size_t i = 1; i < n; i++)
    min = tfs[i] < min ? tfs[i] : min;
  for (size_t i = 0; i < n; i++) {
    if (tfs[i] % min == 0)
      continue;
    tack_timeframe_format(tfs[i], a, sizeof a);
    tack_timeframe_format(min, b, sizeof b);
    tack_timeframe_format((tfs[i] / min + 1) * min, c, sizeof c);
    problem(ck, at[i], NULL,
            "%s is not a whole multiple of %s, the smallest timeframe (the one that drives the "
            "strategy): every timeframe must be made of whole %s bars; use a multiple such as %s",
            a, b, b, c);
  }
}

static void sort_timeframes(uint32_t *tfs, size_t n) {
  for (size_t i = 1; i < n; i++) {
    uint32_t v = tfs[i];
    size_t j = i;
    for (; j > 0 && tfs[j - 1] > v; j--)
      tfs[j] = tfs[j - 1];
    tfs[j] = v;
  }
}

/* `timeframe = "5m";` or `timeframes = [ "5m", "4h" ];`: exactly one. */
static void load_timeframes(checker *ck, tack_cfg_strategy *st, const config_setting_t *group,
                            const config_setting_t *const *f) {
  const config_setting_t *one = f[S_TIMEFRAME], *many = f[S_TIMEFRAMES];
  const config_setting_t *at[TACK_MAX_TIMEFRAMES];
  uint32_t tfs[TACK_MAX_TIMEFRAMES];
  size_t n = 0;
  char tf[16];
  const config_setting_t *where = many ? many : one ? one : group;
  st->tf_file = config_setting_source_file(where);
  st->tf_line = (int)config_setting_source_line(where);

  if (one && many) {
    problem(ck, many, NULL,
            "give either timeframe (line %d) or timeframes, not both; timeframes lists every "
            "timeframe, the one that drives the strategy included",
            (int)config_setting_source_line(one));
    return;
  }
  if (!one && !many) {
    /* Present with a wrong type, or misspelt: check_keys() said so. */
    if (!config_setting_get_member(group, "timeframe") &&
        !config_setting_get_member(group, "timeframes") &&
        !misspelt(group, strategy_keys, S_COUNT, "timeframe") &&
        !misspelt(group, strategy_keys, S_COUNT, "timeframes"))
      problem(ck, group, "timeframe",
              "required setting is missing (for example: timeframe = \"5m\"; or, for several, "
              "timeframes = [ \"5m\", \"4h\" ];)");
    return;
  }
  if (one) {
    tfs[0] = timeframe_value(one);
    if (tfs[0] == 0) {
      bad_timeframe(ck, one);
      return;
    }
    at[n++] = one;
  } else {
    int len = config_setting_length(many);
    if (len == 0) {
      problem(ck, many, NULL, "lists no timeframe (for example: timeframes = [ \"5m\", \"4h\" ];)");
      return;
    }
    if (len > TACK_MAX_TIMEFRAMES) {
      problem(ck, many, NULL, "lists %d timeframes; a strategy takes at most %d", len,
              TACK_MAX_TIMEFRAMES);
      return;
    }
    int before = ck->problems;
    for (int i = 0; i < len; i++) {
      const config_setting_t *el = config_setting_get_elem(many, (unsigned)i);
      uint32_t v = timeframe_value(el);
      size_t j = 0;
      if (v == 0) {
        bad_timeframe(ck, el);
        continue;
      }
      while (j < n && tfs[j] != v)
        j++;
      if (j < n) {
        tack_timeframe_format(v, tf, sizeof tf);
        problem(ck, el, NULL, "duplicate: %s is already listed as timeframes[%d]", tf,
                config_setting_index(at[j]));
        continue;
      }
      tfs[n] = v;
      at[n++] = el;
    }
    if (ck->problems != before)
      return;
  }
  int before = ck->problems;
  check_multiples(ck, tfs, at, n);
  if (ck->problems != before)
    return;
  sort_timeframes(tfs, n);
  memcpy(st->timeframes, tfs, n * sizeof *tfs);
  st->n_timeframes = n;
  st->timeframe_s = tfs[0];
}

static void load_gap(checker *ck, tack_cfg_strategy *st, const config_setting_t *s) {
  const char *v = config_setting_get_string(s);
  if (strcmp(v, "skip") == 0)
    st->gap_policy = TACK_BARS_GAP_SKIP;
  else if (strcmp(v, "fill") == 0)
    st->gap_policy = TACK_BARS_GAP_FILL;
  else
    problem(ck, s, NULL, "must be one of skip|fill, got \"%.32s\"", v);
}

static void unknown_ref(checker *ck, const config_setting_t *s, const char *what,
                        const char *section, const tack_suggest *sg) {
  if (sg->best)
    problem(ck, s, NULL, "unknown %s '%.64s' (did you mean '%s'?)", what, sg->target, sg->best);
  else if (sg->count)
    problem(ck, s, NULL, "unknown %s '%.64s'; %s defines: %s", what, sg->target, section, sg->list);
  else
    problem(ck, s, NULL, "unknown %s '%.64s'; %s defines none", what, sg->target, section);
}

/* ------------------------------------------------------------------------ */
/* Strategies: plugins, scorers, composites, regimes                         */
/* ------------------------------------------------------------------------ */

static const char *const type_names[] = {"plugin", "scorer", "composite", "regime"};
static const char *const type_phrases[] = {"a plugin strategy", "a scorer", "a composite",
                                           "a regime"};
static const char *const method_names[] = {"?", "weighted", "majority", "unanimous"};
static const char *const switch_names[] = {"keep", "reduce", "flatten"};

const char *tack_config_type_name(uint32_t type) {
  return type < sizeof type_names / sizeof type_names[0] ? type_names[type] : "?";
}

const char *tack_config_method_name(uint32_t method) {
  return method < sizeof method_names / sizeof method_names[0] ? method_names[method] : "?";
}

const char *tack_config_switch_name(uint32_t policy) {
  return policy < sizeof switch_names / sizeof switch_names[0] ? switch_names[policy] : "?";
}

size_t tack_config_children(const tack_cfg_strategy *st) {
  if (st->type == TACK_STRATEGY_COMPOSITE)
    return st->n_members;
  if (st->type == TACK_STRATEGY_REGIME)
    return 1 + st->n_regimes;
  return 0;
}

tack_cfg_strategy *tack_config_child(const tack_cfg_strategy *st, size_t i,
                                     const config_setting_t **ref) {
  const config_setting_t *at = NULL;
  tack_cfg_strategy *child = NULL;
  if (st->type == TACK_STRATEGY_COMPOSITE && i < st->n_members) {
    at = st->members[i].ref;
    child = st->members[i].strategy;
  } else if (st->type == TACK_STRATEGY_REGIME && i == 0) {
    at = st->detector_setting;
    child = st->detector;
  } else if (st->type == TACK_STRATEGY_REGIME && i - 1 < st->n_regimes) {
    at = st->regimes[i - 1].ref;
    child = st->regimes[i - 1].strategy;
  }
  if (ref)
    *ref = at;
  return child;
}

/* Index of value in names (n of them), or -1. */
static int choice_index(const char *value, const char *const *names, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (names[i] && strcmp(value, names[i]) == 0)
      return (int)i;
  return -1;
}

/* A key present in the group that belongs to entries of other types. */
static void check_type_keys(checker *ck, const config_setting_t *const *f, uint32_t type) {
  static const char *const why[] = {
      [TACK_STRATEGY_PLUGIN] = "",
      [TACK_STRATEGY_SCORER] = "",
      [TACK_STRATEGY_COMPOSITE] = ": each member brings its own bars, filters and parameters",
      [TACK_STRATEGY_REGIME] = ": each strategy it switches between brings its own",
  };
  for (size_t k = 0; k < S_COUNT; k++) {
    unsigned mask = strategy_key_types[k];
    char owners[64];
    text t;
    if (!f[k] || (mask & (1u << type)))
      continue;
    text_init(&t, owners, sizeof owners);
    for (uint32_t ty = 0; ty < 4; ty++)
      if (mask & (1u << ty))
        text_add(&t, "%s%s", t.len ? " and " : "", type_names[ty]);
    problem(ck, f[k], NULL, "%s is a setting of %s entries; this one is %s (type = \"%s\")%s",
            strategy_keys[k].name, owners, type_phrases[type], type_names[type],
            (mask & FOR_LEAF) ? why[type] : "");
  }
}

/* A required key of an entry that check_keys() could not know is required
 * (it depends on the type): missing, and not already reported as a
 * misspelling. */
static void require_key(checker *ck, const config_setting_t *group, size_t k, const char *example) {
  if (config_setting_get_member(group, strategy_keys[k].name) ||
      misspelt(group, strategy_keys, S_COUNT, strategy_keys[k].name))
    return;
  problem(ck, group, strategy_keys[k].name, "required setting is missing (for example: %s)",
          example ? example : strategy_keys[k].example);
}

/* A number setting within [lo, hi]; *out untouched when it is not. */
static void load_number(checker *ck, const config_setting_t *s, double lo, double hi, double *out) {
  double v = tack_setting_number(s);
  if (!isfinite(v) || v < lo || v > hi) {
    problem(ck, s, NULL, "must be a number in [%g, %g], got %g", lo, hi, v);
    return;
  }
  *out = v;
}

static void load_member(checker *ck, const config_setting_t *el, tack_cfg_member *m) {
  const config_setting_t *f[M_COUNT];
  char what[128];
  m->weight = 1.0;
  m->setting = el;
  m->ref = el;
  if (config_setting_type(el) == CONFIG_TYPE_STRING) {
    m->name = config_setting_get_string(el);
    return;
  }
  if (!config_setting_is_group(el)) {
    tack_setting_describe(el, what, sizeof what);
    problem(ck, el, NULL,
            "must be a member { strategy = \"<name>\"; weight = 1.0; } or the name of an entry of "
            "strategies, got %s",
            what);
    return;
  }
  check_keys(ck, el, member_keys, M_COUNT, f);
  if (f[M_STRATEGY]) {
    m->name = config_setting_get_string(f[M_STRATEGY]);
    m->ref = f[M_STRATEGY];
  }
  if (f[M_WEIGHT]) {
    double w = tack_setting_number(f[M_WEIGHT]);
    if (!isfinite(w) || w < 0)
      problem(ck, f[M_WEIGHT], NULL,
              "must be a finite number of 0 or more, got %g: a negative weight would trade "
              "against the member; leave it out, or give it weight 0 to keep it only as a gate",
              w);
    else
      m->weight = w;
  }
  if (f[M_GATE])
    m->gate = config_setting_get_bool(f[M_GATE]) ? 1 : 0;
}

/* Settings that apply to one method only, found where another rules. */
static void check_method_keys(checker *ck, const tack_cfg_strategy *st,
                              const config_setting_t *const *f) {
  const char *method = method_names[st->method];
  if (f[S_THRESHOLD] && st->method != TACK_METHOD_WEIGHTED)
    problem(ck, f[S_THRESHOLD], NULL, "applies to method weighted; this composite's method is %s%s",
            method, st->method == TACK_METHOD_MAJORITY ? " (see vote_threshold and quorum)" : "");
  if (f[S_VOTE_THRESHOLD] && st->method != TACK_METHOD_MAJORITY)
    problem(ck, f[S_VOTE_THRESHOLD], NULL,
            "applies to method majority; this composite's method is %s", method);
  if (f[S_QUORUM] && st->method != TACK_METHOD_MAJORITY)
    problem(ck, f[S_QUORUM], NULL, "applies to method majority; this composite's method is %s",
            method);
  for (size_t i = 0; i < st->n_members; i++) {
    const tack_cfg_member *m = &st->members[i];
    if (st->method == TACK_METHOD_WEIGHTED || !config_setting_is_group(m->setting))
      continue;
    const config_setting_t *w = config_setting_get_member(m->setting, "weight");
    const config_setting_t *g = config_setting_get_member(m->setting, "gate");
    if (w)
      problem(ck, w, NULL, "applies to method weighted; %s counts every member once", method);
    if (g)
      problem(ck, g, NULL, "applies to method weighted; %s has no gate", method);
  }
}

static int load_composite(checker *ck, tack_cfg_strategy *st, const config_setting_t *group,
                          const config_setting_t *const *f) {
  st->threshold = 0.0;
  st->vote_threshold = 0.0;
  if (!f[S_METHOD]) {
    require_key(ck, group, S_METHOD, "method = \"weighted\"; or \"majority\" or \"unanimous\"");
  } else {
    const char *v = config_setting_get_string(f[S_METHOD]);
    int m = choice_index(v, method_names + 1, 3);
    if (m < 0)
      problem(ck, f[S_METHOD], NULL, "must be one of weighted|majority|unanimous, got \"%.32s\"",
              v);
    else
      st->method = (uint32_t)m + 1;
  }
  if (!f[S_MEMBERS]) {
    require_key(ck, group, S_MEMBERS, NULL);
    return 0;
  }
  size_t n = (size_t)config_setting_length(f[S_MEMBERS]);
  if (n == 0) {
    problem(ck, f[S_MEMBERS], NULL,
            "lists no member (for example: members = ( { strategy = \"a\"; }, { strategy = "
            "\"b\"; } );)");
    return 0;
  }
  st->members = tack_calloc(NULL, n, sizeof *st->members);
  if (!st->members)
    return TACK_ENOMEM;
  st->n_members = n;
  int before = ck->problems;
  for (size_t i = 0; i < n; i++) {
    tack_cfg_member *m = &st->members[i];
    load_member(ck, config_setting_get_elem(f[S_MEMBERS], (unsigned)i), m);
    for (size_t j = 0; j < i && m->name; j++)
      if (st->members[j].name && strcmp(st->members[j].name, m->name) == 0) {
        problem(ck, m->ref, NULL,
                "duplicate: '%.64s' is already members[%zu]; a member counts once%s", m->name, j,
                st->method == TACK_METHOD_WEIGHTED ? " (give it a larger weight instead)" : "");
        break;
      }
  }
  if (f[S_THRESHOLD])
    load_number(ck, f[S_THRESHOLD], 0.0, 1.0, &st->threshold);
  if (f[S_VOTE_THRESHOLD])
    load_number(ck, f[S_VOTE_THRESHOLD], 0.0, 1.0, &st->vote_threshold);
  st->quorum = (uint32_t)(n / 2 + 1);
  if (f[S_QUORUM]) {
    int64_t q = tack_setting_int(f[S_QUORUM]);
    if (q < 1 || (size_t)q > n)
      problem(ck, f[S_QUORUM], NULL,
              "must be from 1 to the number of members (%zu), got %lld: it is the least number "
              "of members that must vote",
              n, (long long)q);
    else
      st->quorum = (uint32_t)q;
  }
  if (st->method == 0)
    return 0;
  check_method_keys(ck, st, f);
  if (st->method == TACK_METHOD_WEIGHTED && ck->problems == before) {
    double sum = 0;
    for (size_t i = 0; i < n; i++)
      sum += st->members[i].weight;
    if (sum == 0)
      problem(ck, f[S_MEMBERS], NULL,
              "the weights sum to zero, so no member counts: give at least one member a weight "
              "above 0");
  }
  return 0;
}

/* The interval of strengths a regime matches, as (lo, hi): open, with
 * missing bounds at infinity. */
static double regime_lo(const tack_cfg_regime *r) { return r->has_above ? r->above : -INFINITY; }
static double regime_hi(const tack_cfg_regime *r) { return r->has_below ? r->below : INFINITY; }

static void bounds_text(const tack_cfg_regime *r, char *buf, size_t cap) {
  if (r->has_above && r->has_below)
    snprintf(buf, cap, "above %g and below %g", r->above, r->below);
  else if (r->has_above)
    snprintf(buf, cap, "above %g", r->above);
  else if (r->has_below)
    snprintf(buf, cap, "below %g", r->below);
  else
    snprintf(buf, cap, "any strength");
}

/*
 * The rules that keep "the first regime that matches wins" unsurprising:
 * every regime but the last has bounds and the last has none (the default,
 * so every strength chooses a regime); a regime's own bounds leave room
 * (above < below); no two bounded regimes overlap (so no regime hides part
 * of a later one); and they are listed from the highest strengths down, so
 * the list reads like the scale.
 */
static void check_regime_bounds(checker *ck, const tack_cfg_strategy *st,
                                const config_setting_t *list) {
  char a[64], b[64];
  size_t n = st->n_regimes;
  for (size_t i = 0; i < n; i++) {
    const tack_cfg_regime *r = &st->regimes[i];
    int bounded = r->has_above || r->has_below;
    if (!bounded && i + 1 < n) {
      problem(ck, r->setting, NULL,
              "regime '%s' has neither above nor below, so it matches every strength: only the "
              "last regime may be such a default (regimes after it could never be chosen)",
              r->name ? r->name : "?");
      continue;
    }
    if (bounded && i + 1 == n) {
      problem(ck, list, NULL,
              "no default: the last regime ('%s') has bounds, so a strength %s matches no "
              "regime; add a last regime with neither above nor below",
              r->name ? r->name : "?",
              r->has_above ? "at or below its bound"
                           : "at or above "
                             "its bound");
      continue;
    }
    if (r->has_above && r->has_below && r->above >= r->below) {
      problem(ck, r->setting, NULL,
              "above (%g) must be less than below (%g): no strength is above %g and below %g",
              r->above, r->below, r->above, r->below);
      continue;
    }
    for (size_t j = 0; bounded && j < i; j++) {
      const tack_cfg_regime *q = &st->regimes[j];
      if (!(q->has_above || q->has_below))
        continue;
      double lo = fmax(regime_lo(q), regime_lo(r)), hi = fmin(regime_hi(q), regime_hi(r));
      bounds_text(r, a, sizeof a);
      bounds_text(q, b, sizeof b);
      if (lo < hi) {
        problem(ck, r->setting, NULL,
                "overlaps regime '%s': a strength %s is also %s, and the first regime that "
                "matches would win; make the bounds meet without overlapping",
                q->name ? q->name : "?", a, b);
        break;
      }
      if (regime_hi(q) <= regime_lo(r)) {
        problem(ck, r->setting, NULL,
                "listed after regime '%s' (%s), whose strengths are lower: list regimes from the "
                "highest strengths to the lowest",
                q->name ? q->name : "?", b);
        break;
      }
    }
  }
}

static void load_regime_item(checker *ck, tack_cfg_strategy *st, size_t i,
                             const config_setting_t *el) {
  const config_setting_t *f[G_COUNT];
  char what[128];
  tack_cfg_regime *r = &st->regimes[i];
  r->setting = el;
  r->reduce_to = 0.5;
  if (!config_setting_is_group(el)) {
    tack_setting_describe(el, what, sizeof what);
    problem(ck, el, NULL,
            "must be a regime { name = \"...\"; strategy = \"...\"; above = 0.3; }, got %s", what);
    return;
  }
  check_keys(ck, el, regime_keys, G_COUNT, f);
  if (f[G_NAME]) {
    const char *name = config_setting_get_string(f[G_NAME]);
    if (!valid_name(name))
      problem(ck, f[G_NAME], NULL,
              "\"%.64s\" is not a regime name: use 1 to %d lowercase letters, digits, '_' or '-'",
              name, NAME_MAX_LEN);
    for (size_t j = 0; j < i; j++)
      if (st->regimes[j].name && strcmp(st->regimes[j].name, name) == 0)
        problem(ck, f[G_NAME], NULL, "duplicate: regimes[%zu] is already named '%s'", j, name);
    r->name = name;
  }
  if (f[G_STRATEGY])
    r->ref = f[G_STRATEGY];
  if (f[G_ABOVE]) {
    load_number(ck, f[G_ABOVE], -1.0, 1.0, &r->above);
    r->has_above = 1;
  }
  if (f[G_BELOW]) {
    load_number(ck, f[G_BELOW], -1.0, 1.0, &r->below);
    r->has_below = 1;
  }
  if (f[G_ON_SWITCH]) {
    const char *v = config_setting_get_string(f[G_ON_SWITCH]);
    int k = choice_index(v, switch_names, 3);
    if (k < 0)
      problem(ck, f[G_ON_SWITCH], NULL, "must be one of keep|reduce|flatten, got \"%.32s\"", v);
    else
      r->on_switch = (uint32_t)k;
  }
  if (f[G_REDUCE_TO]) {
    double v = tack_setting_number(f[G_REDUCE_TO]);
    if (r->on_switch != TACK_SWITCH_REDUCE)
      problem(ck, f[G_REDUCE_TO], NULL,
              "applies only with on_switch = \"reduce\"; this regime's on_switch is \"%s\"",
              switch_names[r->on_switch]);
    else if (!(v > 0.0 && v <= 1.0))
      problem(ck, f[G_REDUCE_TO], NULL,
              "must be a number in (0, 1], got %g: the fraction of the position kept", v);
    else
      r->reduce_to = v;
  }
}

static int load_regime(checker *ck, tack_cfg_strategy *st, const config_setting_t *group,
                       const config_setting_t *const *f) {
  st->hold = 1;
  if (f[S_DETECTOR])
    st->detector_setting = f[S_DETECTOR];
  else
    require_key(ck, group, S_DETECTOR, NULL);
  if (f[S_HOLD]) {
    int64_t h = tack_setting_int(f[S_HOLD]);
    if (h < 1 || h > 1000000)
      problem(ck, f[S_HOLD], NULL,
              "must be an integer in [1, 1000000], got %lld: the bars a new regime must hold "
              "before the switch (1 switches at once)",
              (long long)h);
    else
      st->hold = (uint32_t)h;
  }
  if (!f[S_REGIMES]) {
    require_key(ck, group, S_REGIMES, NULL);
    return 0;
  }
  size_t n = (size_t)config_setting_length(f[S_REGIMES]);
  if (n < 2) {
    problem(ck, f[S_REGIMES], NULL,
            "lists %zu regime%s; give at least two: one with bounds (above or below) and a last "
            "one without, the default",
            n, n == 1 ? "" : "s");
    return 0;
  }
  if (n > TACK_MAX_REGIMES) {
    problem(ck, f[S_REGIMES], NULL, "lists %zu regimes; a regime entry takes at most %d", n,
            TACK_MAX_REGIMES);
    return 0;
  }
  st->regimes = tack_calloc(NULL, n, sizeof *st->regimes);
  if (!st->regimes)
    return TACK_ENOMEM;
  st->n_regimes = n;
  int before = ck->problems;
  for (size_t i = 0; i < n; i++)
    load_regime_item(ck, st, i, config_setting_get_elem(f[S_REGIMES], (unsigned)i));
  if (ck->problems == before)
    check_regime_bounds(ck, st, f[S_REGIMES]);
  return 0;
}

static int load_strategy(checker *ck, tack_cfg_strategy *st, const config_setting_t *s,
                         size_t n_explicit) {
  const config_setting_t *f[S_COUNT];
  load_instance(ck, s, "strategies", TACK_KIND_STRATEGY, strategy_keys, S_COUNT, &st->inst, f);
  st->gap_policy = TACK_BARS_GAP_SKIP;
  st->type = TACK_STRATEGY_PLUGIN;
  st->hold = 1;
  if (!config_setting_is_group(s))
    return 0;
  st->exits = f[S_EXITS];
  if (f[S_TYPE]) {
    const char *v = config_setting_get_string(f[S_TYPE]);
    int k = choice_index(v, type_names, 4);
    if (k < 0) {
      /* Which keys belong here depends on the type: judging them by a
       * guess would only add noise to the one message that matters. */
      problem(ck, f[S_TYPE], NULL, "must be one of plugin|scorer|composite|regime, got \"%.32s\"",
              v);
      return 0;
    }
    st->type = (uint32_t)k;
  }
  check_type_keys(ck, f, st->type);
  if (st->type == TACK_STRATEGY_COMPOSITE || st->type == TACK_STRATEGY_REGIME) {
    /* No plugin of its own (a `plugin` key was reported above). */
    st->inst.plugin_id = NULL;
    st->inst.params = NULL;
  }
  switch (st->type) {
  case TACK_STRATEGY_COMPOSITE:
    return load_composite(ck, st, s, f);
  case TACK_STRATEGY_REGIME:
    return load_regime(ck, st, s, f);
  default:
    break;
  }
  if (!f[S_PLUGIN])
    require_key(ck, s, S_PLUGIN, NULL);
  load_timeframes(ck, st, s, f);
  if (f[S_GAP])
    load_gap(ck, st, f[S_GAP]);
  if (f[S_FILTER]) {
    int rc = load_filter_chain(ck, st, f[S_FILTER], n_explicit);
    if (rc)
      return rc;
  }
  if (st->type == TACK_STRATEGY_SCORER) {
    st->inst.kind = TACK_KIND_SCORER;
    if (!f[S_FEATURES]) {
      require_key(ck, s, S_FEATURES,
                  "features = \"rsi:14; ret:1; ret:1~1\"; the host computes "
                  "them for the scorer");
    } else if (!config_setting_get_string(f[S_FEATURES])[0]) {
      problem(ck, f[S_FEATURES], NULL,
              "must be a feature spec, got an empty string (for example: \"rsi:14; ret:1\")");
    } else {
      st->features = config_setting_get_string(f[S_FEATURES]);
      st->features_setting = f[S_FEATURES];
    }
  }
  return 0;
}

static int load_strategies(checker *ck, const config_setting_t *group, size_t n_explicit) {
  tack_config *cfg = ck->cfg;
  size_t count = (size_t)config_setting_length(group);
  cfg->strategies = tack_calloc(NULL, count + 1, sizeof *cfg->strategies);
  if (!cfg->strategies)
    return TACK_ENOMEM;
  for (size_t i = 0; i < count; i++) {
    tack_cfg_strategy *st = &cfg->strategies[cfg->n_strategies++];
    int rc = load_strategy(ck, st, config_setting_get_elem(group, (unsigned)i), n_explicit);
    if (rc)
      return rc;
  }
  return 0;
}

static tack_cfg_strategy *find_strategy(tack_config *cfg, const char *name) {
  for (size_t i = 0; i < cfg->n_strategies; i++)
    if (cfg->strategies[i].inst.name && strcmp(cfg->strategies[i].inst.name, name) == 0)
      return &cfg->strategies[i];
  return NULL;
}

/* The entry a composite or regime names at setting s, or NULL (reported). */
static tack_cfg_strategy *strategy_ref(checker *ck, const config_setting_t *s, const char *name) {
  tack_suggest sg;
  tack_cfg_strategy *hit = find_strategy(ck->cfg, name);
  if (hit)
    return hit;
  tack_suggest_init(&sg, name);
  for (size_t i = 0; i < ck->cfg->n_strategies; i++)
    tack_suggest_add(&sg, ck->cfg->strategies[i].inst.name);
  unknown_ref(ck, s, "strategy", "strategies", &sg);
  return NULL;
}

/* Bind the names composites and regimes use to entries. */
static void link_references(checker *ck) {
  tack_config *cfg = ck->cfg;
  for (size_t i = 0; i < cfg->n_strategies; i++) {
    tack_cfg_strategy *st = &cfg->strategies[i];
    for (size_t m = 0; m < st->n_members; m++)
      if (st->members[m].name)
        st->members[m].strategy = strategy_ref(ck, st->members[m].ref, st->members[m].name);
    if (st->detector_setting)
      st->detector =
          strategy_ref(ck, st->detector_setting, config_setting_get_string(st->detector_setting));
    for (size_t r = 0; r < st->n_regimes; r++) {
      tack_cfg_regime *rg = &st->regimes[r];
      if (!rg->ref)
        continue;
      rg->strategy = strategy_ref(ck, rg->ref, config_setting_get_string(rg->ref));
      /* Its strength says which regime holds, not which side to take. */
      if (rg->strategy && rg->strategy == st->detector)
        problem(ck, rg->ref, NULL,
                "'%s' is the detector of this regime entry too: the detector's strength says "
                "which regime holds, not which side to take. To trade a signal only while it "
                "is strong, use a composite (method weighted, with a threshold)",
                rg->strategy->inst.name);
    }
  }
}

/* Walking the graph of entries (an edge from a composite to each member,
 * from a regime entry to its detector and to each regime's strategy). */
typedef struct graph {
  tack_config *cfg;
  unsigned char *mark; /* per entry: 0 unseen, 1 on the path, 2 done */
  tack_cfg_strategy **path;
  size_t n_path;
  int cycles;
} graph;

static size_t entry_index(const tack_config *cfg, const tack_cfg_strategy *st) {
  return (size_t)(st - cfg->strategies);
}

static void find_cycles(checker *ck, graph *g, tack_cfg_strategy *st) {
  size_t idx = entry_index(g->cfg, st);
  g->mark[idx] = 1;
  g->path[g->n_path++] = st;
  for (size_t i = 0; i < tack_config_children(st); i++) {
    const config_setting_t *ref;
    tack_cfg_strategy *child = tack_config_child(st, i, &ref);
    if (!child)
      continue;
    size_t c = entry_index(g->cfg, child);
    if (g->mark[c] == 1) {
      char cycle[512];
      text t;
      size_t from = 0;
      text_init(&t, cycle, sizeof cycle);
      while (g->path[from] != child)
        from++;
      for (size_t k = from; k < g->n_path; k++)
        text_add(&t, "%s -> ", g->path[k]->inst.name);
      text_add(&t, "%s", child->inst.name);
      problem(ck, ref, NULL, "cycle: %s: a strategy cannot contain itself", cycle);
      g->cycles++;
    } else if (g->mark[c] == 0) {
      find_cycles(ck, g, child);
    }
  }
  g->n_path--;
  g->mark[idx] = 2;
}

/* Insert tf into the ascending set tfs (n of them, at most cap); 0, or -1
 * when it does not fit. */
static int timeframe_union_add(uint32_t *tfs, size_t *n, size_t cap, uint32_t tf) {
  size_t i = 0;
  while (i < *n && tfs[i] < tf)
    i++;
  if (i < *n && tfs[i] == tf)
    return 0;
  if (*n == cap)
    return -1;
  memmove(tfs + i + 1, tfs + i, (*n - i) * sizeof *tfs);
  tfs[i] = tf;
  (*n)++;
  return 0;
}

/* Depth and timeframes of st, children first (the graph has no cycle). */
static void measure(checker *ck, graph *g, tack_cfg_strategy *st) {
  size_t idx = entry_index(g->cfg, st);
  if (g->mark[idx])
    return;
  g->mark[idx] = 1;
  if (tack_config_children(st) == 0) {
    st->depth = 1;
    memcpy(st->all_timeframes, st->timeframes, st->n_timeframes * sizeof *st->timeframes);
    st->n_all_timeframes = st->n_timeframes;
    return;
  }
  int depth = 0, overflow = 0;
  for (size_t i = 0; i < tack_config_children(st); i++) {
    tack_cfg_strategy *child = tack_config_child(st, i, NULL);
    if (!child)
      continue;
    measure(ck, g, child);
    depth = child->depth > depth ? child->depth : depth;
    for (size_t k = 0; k < child->n_all_timeframes; k++)
      if (timeframe_union_add(st->all_timeframes, &st->n_all_timeframes, TACK_MAX_SYMBOL_TIMEFRAMES,
                              child->all_timeframes[k]) != 0)
        overflow = 1;
  }
  st->depth = depth + 1;
  if (overflow)
    problem(ck, st->inst.setting, NULL,
            "its members use more than %d distinct timeframes; a composed strategy takes at most "
            "%d (a symbol makes one series of bars per timeframe)",
            TACK_MAX_SYMBOL_TIMEFRAMES, TACK_MAX_SYMBOL_TIMEFRAMES);
  int children_ok = 1;
  for (size_t i = 0; i < tack_config_children(st); i++) {
    tack_cfg_strategy *child = tack_config_child(st, i, NULL);
    if (child && child->depth > TACK_MAX_DEPTH)
      children_ok = 0;
  }
  if (st->depth > TACK_MAX_DEPTH && children_ok) {
    char chain[512];
    text t;
    text_init(&t, chain, sizeof chain);
    for (const tack_cfg_strategy *at = st; at;) {
      const tack_cfg_strategy *deepest = NULL;
      text_add(&t, "%s%s", t.len ? " -> " : "", at->inst.name);
      for (size_t i = 0; i < tack_config_children(at); i++) {
        const tack_cfg_strategy *c = tack_config_child(at, i, NULL);
        if (c && (!deepest || c->depth > deepest->depth))
          deepest = c;
      }
      at = deepest;
    }
    problem(ck, st->inst.setting, NULL,
            "nests %d levels deep (%s); at most %d: flatten the composition (one composite may "
            "list many members)",
            st->depth, chain, TACK_MAX_DEPTH);
  }
}

/* In check_leaf_timeframes()'s reported bits: the gap of the leaf was
 * reported (bits 0..7 are its timeframes). */
#define GAP_REPORTED (1u << 31)

/* Whether some composite or regime entry names st. */
static int referenced(const tack_config *cfg, const tack_cfg_strategy *st) {
  for (size_t i = 0; i < cfg->n_strategies; i++)
    for (size_t k = 0; k < tack_config_children(&cfg->strategies[i]); k++)
      if (tack_config_child(&cfg->strategies[i], k, NULL) == st)
        return 1;
  return 0;
}

/* The setting of a leaf's timeframe tf: the element of `timeframes`, or
 * `timeframe`. */
static const config_setting_t *timeframe_setting(const tack_cfg_strategy *leaf, uint32_t tf) {
  const config_setting_t *many = config_setting_get_member(leaf->inst.setting, "timeframes");
  for (int i = 0; many && i < config_setting_length(many); i++) {
    const config_setting_t *el = config_setting_get_elem(many, (unsigned)i);
    if (timeframe_value(el) == tf)
      return el;
  }
  const config_setting_t *one = config_setting_get_member(leaf->inst.setting, "timeframe");
  return one ? one : leaf->inst.setting;
}

/* Every leaf timeframe below root must be a whole multiple of root's
 * smallest, for the reason check_multiples() gives: all of a symbol's
 * series are made from one source, and a bar of the smallest timeframe,
 * the one the composition is evaluated on, must never straddle the end of
 * a member's bar. The leaves must also agree on gap (first_leaf is the one
 * the others are compared with). reported (per entry, a bit per timeframe
 * and GAP_REPORTED) keeps one message per problem however many roots reach
 * it. */
static void check_leaf_timeframes(checker *ck, graph *g, const tack_cfg_strategy *root,
                                  tack_cfg_strategy *st, uint32_t *reported,
                                  const tack_cfg_strategy **first_leaf) {
  size_t idx = entry_index(g->cfg, st);
  char a[16], b[16], c[16];
  if (g->mark[idx])
    return;
  g->mark[idx] = 1;
  /* The leaves share the symbol's series, so they share its gap policy. */
  if (tack_config_children(st) == 0 && st->n_timeframes) {
    if (!*first_leaf) {
      *first_leaf = st;
    } else if (st->gap_policy != (*first_leaf)->gap_policy && !(reported[idx] & GAP_REPORTED)) {
      const config_setting_t *gap = config_setting_get_member(st->inst.setting, "gap");
      reported[idx] |= GAP_REPORTED;
      problem(ck, gap ? gap : st->inst.setting, NULL,
              "gap \"%s\" differs from gap \"%s\" of '%s', another member of %s '%s': the "
              "members of one composition share their bars, so they must agree on gap",
              st->gap_policy == TACK_BARS_GAP_FILL ? "fill" : "skip",
              (*first_leaf)->gap_policy == TACK_BARS_GAP_FILL ? "fill" : "skip",
              (*first_leaf)->inst.name, type_names[root->type], root->inst.name);
    }
  }
  uint32_t min = root->all_timeframes[0];
  for (size_t k = 0; k < st->n_timeframes && tack_config_children(st) == 0; k++) {
    uint32_t tf = st->timeframes[k];
    if (tf % min == 0 || (reported[idx] & (1u << k)))
      continue;
    reported[idx] |= 1u << k;
    tack_timeframe_format(tf, a, sizeof a);
    tack_timeframe_format(min, b, sizeof b);
    tack_timeframe_format((tf / min + 1) * min, c, sizeof c);
    problem(ck, timeframe_setting(st, tf), NULL,
            "%s is not a whole multiple of %s, the smallest timeframe of %s '%s', on whose bars "
            "it is evaluated: every timeframe of its members must be made of whole %s bars; use "
            "a multiple such as %s",
            a, b, type_names[root->type], root->inst.name, b, c);
  }
  for (size_t i = 0; i < tack_config_children(st); i++) {
    tack_cfg_strategy *child = tack_config_child(st, i, NULL);
    if (child)
      check_leaf_timeframes(ck, g, root, child, reported, first_leaf);
  }
}

/* Cycles, depth and timeframes of the composition graph, once every entry
 * is loaded and linked. */
static int check_composition(checker *ck) {
  tack_config *cfg = ck->cfg;
  size_t n = cfg->n_strategies;
  int rc = 0;
  graph g = {cfg, NULL, NULL, 0, 0};
  uint32_t *reported = NULL;
  g.mark = tack_calloc(NULL, n + 1, 1);
  g.path = tack_calloc(NULL, n + 1, sizeof *g.path);
  reported = tack_calloc(NULL, n + 1, sizeof *reported);
  if (!g.mark || !g.path || !reported) {
    rc = TACK_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    if (!g.mark[i])
      find_cycles(ck, &g, &cfg->strategies[i]);
  if (g.cycles)
    goto done;
  memset(g.mark, 0, n);
  for (size_t i = 0; i < n; i++)
    measure(ck, &g, &cfg->strategies[i]);
  for (size_t i = 0; i < n; i++) {
    tack_cfg_strategy *root = &cfg->strategies[i];
    if (tack_config_children(root) == 0 || root->n_all_timeframes == 0 || referenced(cfg, root))
      continue;
    const tack_cfg_strategy *first_leaf = NULL;
    memset(g.mark, 0, n);
    check_leaf_timeframes(ck, &g, root, root, reported, &first_leaf);
  }
done:
  tack_free(NULL, g.mark);
  tack_free(NULL, g.path);
  tack_free(NULL, reported);
  return rc;
}

static void load_symbol(checker *ck, const config_setting_t *el, tack_cfg_symbol *sym) {
  tack_config *cfg = ck->cfg;
  const config_setting_t *f[Y_COUNT];
  char what[128];
  tack_suggest sg;

  sym->enabled = 1;
  sym->file = config_setting_source_file(el);
  sym->line = (int)config_setting_source_line(el);
  if (!config_setting_is_group(el)) {
    tack_setting_describe(el, what, sizeof what);
    problem(ck, el, NULL,
            "must be a group { symbol = \"...\"; exchange = \"...\"; strategy = \"...\"; }, got %s",
            what);
    return;
  }
  check_keys(ck, el, symbol_keys, Y_COUNT, f);
  if (f[Y_SYMBOL]) {
    const char *symbol = config_setting_get_string(f[Y_SYMBOL]);
    if (valid_symbol(symbol))
      sym->symbol = symbol;
    else
      problem(ck, f[Y_SYMBOL], NULL,
              "\"%.64s\" is not a symbol: 1 to %d printable characters without spaces", symbol,
              TACK_SYMBOL_MAX - 1);
  }
  if (f[Y_EXCHANGE]) {
    const char *name = config_setting_get_string(f[Y_EXCHANGE]);
    sym->exchange = find_instance(cfg->exchanges, cfg->n_exchanges, name, 0);
    if (!sym->exchange) {
      tack_suggest_init(&sg, name);
      for (size_t i = 0; i < cfg->n_exchanges; i++)
        tack_suggest_add(&sg, cfg->exchanges[i].name);
      unknown_ref(ck, f[Y_EXCHANGE], "exchange", "exchanges", &sg);
    }
  }
  if (f[Y_STRATEGY]) {
    const char *name = config_setting_get_string(f[Y_STRATEGY]);
    for (size_t i = 0; i < cfg->n_strategies && !sym->strategy; i++)
      if (strcmp(cfg->strategies[i].inst.name, name) == 0)
        sym->strategy = &cfg->strategies[i];
    if (!sym->strategy) {
      tack_suggest_init(&sg, name);
      for (size_t i = 0; i < cfg->n_strategies; i++)
        tack_suggest_add(&sg, cfg->strategies[i].inst.name);
      unknown_ref(ck, f[Y_STRATEGY], "strategy", "strategies", &sg);
    }
  }
  if (f[Y_ENABLED])
    sym->enabled = config_setting_get_bool(f[Y_ENABLED]) ? 1 : 0;
  sym->trading = f[Y_TRADING];

  /* One venue trades a symbol once; the same symbol on two venues is two
   * markets. */
  for (const tack_cfg_symbol *prev = cfg->symbols; prev < sym; prev++) {
    if (sym->symbol && prev->symbol && sym->exchange && prev->exchange == sym->exchange &&
        strcmp(prev->symbol, sym->symbol) == 0) {
      problem(ck, f[Y_SYMBOL], NULL, "duplicate: %s on exchange %s is already listed at %s:%d",
              sym->symbol, sym->exchange->name, prev->file ? prev->file : "?", prev->line);
      break;
    }
  }
}

static int load_symbols(checker *ck, const config_setting_t *list) {
  tack_config *cfg = ck->cfg;
  size_t count = (size_t)config_setting_length(list);
  if (count == 0)
    problem(ck, list, NULL,
            "lists no symbol; add one: ( { symbol = \"BTC-USD\"; exchange = \"...\"; strategy = "
            "\"...\"; } )");
  cfg->symbols = tack_calloc(NULL, count + 1, sizeof *cfg->symbols);
  if (!cfg->symbols)
    return TACK_ENOMEM;
  for (size_t i = 0; i < count; i++)
    load_symbol(ck, config_setting_get_elem(list, (unsigned)i), &cfg->symbols[cfg->n_symbols++]);
  return 0;
}

/* Whether the folders the config names for plugins are known exactly: no
 * problem inside plugin_dirs, no plugin_dirs of the wrong type, and no
 * misspelling of it ("plugin_dir = ..."). */
static int plugin_dirs_trusted(const config_setting_t *root, const config_setting_t *dirs,
                               int dir_problems) {
  if (dir_problems)
    return 0;
  for (int i = 0; i < config_setting_length(root); i++) {
    const char *name = config_setting_name(config_setting_get_elem(root, (unsigned)i));
    int dist = tack_edit_distance(name, root_keys[R_PLUGIN_DIRS].name, 2);
    if (dist <= 2 && (dist > 0 || !dirs))
      return 0;
  }
  return 1;
}

static int check_schema(checker *ck) {
  tack_config *cfg = ck->cfg;
  const config_setting_t *root = config_root_setting(&cfg->lc);
  const config_setting_t *f[R_COUNT];
  int rc;

  /* Another schema version may mean other keys: judging them by this
   * version's rules would only bury the one message that matters. */
  const config_setting_t *version = config_setting_get_member(root, "version");
  if (version && tack_setting_type_bit(version) == TACK_SETTING_INT &&
      tack_setting_int(version) != SCHEMA_VERSION) {
    problem(ck, version, NULL,
            "schema version %lld is not supported: this tack reads version %d (a newer tack may "
            "read it)",
            (long long)tack_setting_int(version), SCHEMA_VERSION);
    return 0;
  }
  cfg->version = SCHEMA_VERSION;
  ck->version_ok = 1;

  check_keys(ck, root, root_keys, R_COUNT, f);
  rc = check_int_literals(ck);
  if (rc)
    return rc;
  if (f[R_NAME])
    check_bot_name(ck, f[R_NAME]);
  int before = ck->problems;
  if (f[R_PLUGIN_DIRS] && (rc = load_plugin_dirs(ck, f[R_PLUGIN_DIRS])) != 0)
    return rc;
  ck->dirs_trusted = plugin_dirs_trusted(root, f[R_PLUGIN_DIRS], ck->problems - before);
  if (f[R_STORE] && (rc = load_store(ck, f[R_STORE])) != 0)
    return rc;
  if (f[R_LOG])
    load_log(ck, f[R_LOG]);

  rc = load_section(ck, f[R_EXCHANGES], "exchanges", TACK_KIND_EXCHANGE, 0, &cfg->exchanges,
                    &cfg->n_exchanges);
  if (rc)
    return rc;
  rc = load_section(ck, f[R_FILTERS], "filters", TACK_KIND_FILTER,
                    count_filter_refs(f[R_STRATEGIES]), &cfg->filters, &cfg->n_filters);
  if (rc)
    return rc;
  if (f[R_STRATEGIES] && (rc = load_strategies(ck, f[R_STRATEGIES], cfg->n_filters)) != 0)
    return rc;
  link_references(ck);
  if ((rc = check_composition(ck)) != 0)
    return rc;
  if (f[R_SYMBOLS] && (rc = load_symbols(ck, f[R_SYMBOLS])) != 0)
    return rc;
  /* `tack train`'s group: train.c owns its schema (docs/training.md). */
  if (f[R_TRAIN] && tack_train_check_schema(f[R_TRAIN], cfg->path, ck->d) != 0)
    ck->problems++;
  /* `tack backtest`'s and `tack optimize`'s groups: backtest.c and
   * optimize.c own their schemas (docs/backtesting.md, docs/optimization.md). */
  if (f[R_BACKTEST] && tack_backtest_check_schema(f[R_BACKTEST], cfg->path, ck->d) != 0)
    ck->problems++;
  if (f[R_OPTIMIZE] && tack_optimize_check_schema(f[R_OPTIMIZE], cfg->path, ck->d) != 0)
    ck->problems++;
  cfg->trading_setting = f[R_TRADING];
  /* Last, once every symbol and entry is read; also after problems, so that
   * one run reports them all (trading_config.c skips what is missing). */
  rc = tack_trading_cfg_load(cfg, &cfg->trading, ck->d);
  if (rc == TACK_ECONFIG)
    ck->problems++;
  else if (rc)
    return rc;
  return 0;
}

/* tack_config_load(), or with partial tack_config_load_partial(); edit, when
 * not NULL, changes the parsed tree before anything is checked. */
static int load(const char *path, tack_config **out, tack_diag *d, int partial,
                tack__config_edit_fn edit, void *data) {
  checker ck = {NULL, d, 0, 0, 0};
  tack_config *cfg = NULL;
  int rc;

  *out = NULL;
  cfg = tack_calloc(NULL, 1, sizeof *cfg);
  if (!cfg) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  config_init(&cfg->lc);
  cfg->log_level = TACK_LOG_INFO;
  cfg->path = tack_strdup(NULL, path);
  if (!cfg->path) {
    rc = TACK_ENOMEM;
    goto fail;
  }
  rc = read_config_file(cfg, path, d);
  if (rc)
    goto fail;
  if (edit && (rc = edit(&cfg->lc, data, d)) != 0)
    goto fail;
  ck.cfg = cfg;
  rc = check_schema(&ck);
  if (rc)
    goto fail;
  if (ck.problems) {
    rc = TACK_ECONFIG;
    if (!(partial && ck.version_ok && ck.dirs_trusted))
      goto fail;
    cfg->invalid = 1;
  }
  *out = cfg;
  return rc;

fail:
  if (rc == TACK_ENOMEM)
    tack_diag_add(d, path, 0, NULL, "out of memory while reading the config");
  tack_config_free(cfg);
  return rc;
}

int tack_config_load(const char *path, tack_config **out, tack_diag *d) {
  return load(path, out, d, 0, NULL, NULL);
}

int tack_config_load_partial(const char *path, tack_config **out, tack_diag *d) {
  return load(path, out, d, 1, NULL, NULL);
}

int tack__config_load_edited(const char *path, int partial, tack__config_edit_fn edit, void *data,
                             tack_config **out, tack_diag *d) {
  return load(path, out, d, partial, edit, data);
}

int tack_config_load_plugins(const tack_config *cfg, const char *const *extra_dirs, size_t n_extra,
                             tack_loader *ld, tack_diag *d) {
  int rc = 0;
  for (size_t i = 0; i < n_extra && rc != TACK_ENOMEM; i++)
    rc = tack_loader_scan_dir(ld, extra_dirs[i]);
  for (size_t i = 0; i < cfg->n_plugin_dirs && rc != TACK_ENOMEM; i++)
    rc = tack_loader_scan_dir(ld, cfg->plugin_dirs[i]);
  if (rc != TACK_ENOMEM)
    rc = tack_loader_scan_defaults(ld, "/proc/self/exe");
  if (rc == TACK_ENOMEM) {
    tack_diag_add(d, NULL, 0, NULL, "cannot load plugins: %s", tack_strerror(rc));
    return rc;
  }
  return 0;
}

void tack_config_free(tack_config *cfg) {
  if (!cfg)
    return;
  for (size_t i = 0; i < cfg->n_strategies; i++) {
    tack_free(NULL, cfg->strategies[i].filters);
    tack_free(NULL, cfg->strategies[i].members);
    tack_free(NULL, cfg->strategies[i].regimes);
    tack_free(NULL, cfg->strategies[i].features_canonical);
  }
  tack_free(NULL, cfg->strategies);
  tack_free(NULL, cfg->exchanges);
  tack_free(NULL, cfg->filters);
  tack_free(NULL, cfg->symbols);
  tack_trading_cfg_free(&cfg->trading);
  for (size_t i = 0; i < cfg->n_plugin_dirs; i++)
    tack_free(NULL, cfg->plugin_dirs[i]);
  tack_free(NULL, cfg->plugin_dirs);
  tack_free(NULL, cfg->store_path);
  tack_free(NULL, cfg->dir);
  tack_free(NULL, cfg->path);
  config_destroy(&cfg->lc);
  tack_free(NULL, cfg);
}

/* ------------------------------------------------------------------------ */
/* Resolving plugins                                                         */
/* ------------------------------------------------------------------------ */

static const tack_plugin *find_plugin(const tack_plugin_set *set, const char *id) {
  for (size_t i = 0; i < set->n_plugins; i++)
    if (strcmp(set->plugins[i]->desc->id, id) == 0)
      return set->plugins[i];
  return NULL;
}

static const char *id_tail(const char *id) {
  const char *dot = strrchr(id, '.');
  return dot ? dot + 1 : id;
}

/* Close enough to list: two edits, or the same last part after a '.'
 * ("momentum" for "example.momentum"). */
static int similar_id(const char *a, const char *b) {
  return tack_edit_distance(a, b, 2) <= 2 || strcmp(id_tail(a), id_tail(b)) == 0;
}

/* "a (strategy), b (filter)": loaded ids like id, those of kind first. */
static size_t similar_ids(const tack_plugin_set *set, const char *id, uint32_t kind, text *t) {
  size_t listed = 0;
  for (int same_kind = 1; same_kind >= 0; same_kind--)
    for (size_t i = 0; i < set->n_plugins && listed < MAX_SIMILAR; i++) {
      const tack_plugin_desc *desc = set->plugins[i]->desc;
      if ((desc->kind == kind) != same_kind || !similar_id(id, desc->id))
        continue;
      text_add(t, "%s%s (%s)", listed ? ", " : "", desc->id, kind_noun(desc->kind));
      listed++;
    }
  return listed;
}

/* Whether a refused file may be the one that carries id: it is named after
 * the id (or the id's prefix, "example" for "example.momentum"), or the
 * loader's message quotes the id. */
static int refusal_may_carry(const tack_refusal *r, const char *id) {
  char quoted[160];
  const char *base = strrchr(r->path, '/');
  base = base ? base + 1 : r->path;
  size_t n = strlen(base);
  if (n > 3 && strcmp(base + n - 3, ".so") == 0)
    n -= 3;
  size_t idn = strlen(id);
  if (idn >= n && strncmp(id, base, n) == 0 && (idn == n || id[n] == '.'))
    return 1;
  snprintf(quoted, sizeof quoted, "'%s'", id);
  return r->message && strstr(r->message, quoted) != NULL;
}

static void report_not_loaded(checker *ck, const tack_cfg_instance *ci,
                              const config_setting_t *where, const tack_plugin_set *set) {
  char why[768];
  char head[256];
  text t;
  text_init(&t, why, sizeof why);

  if (ci->implicit) {
    tack_suggest sg;
    tack_suggest_init(&sg, ci->name);
    for (size_t i = 0; i < ck->cfg->n_filters; i++)
      if (!ck->cfg->filters[i].implicit)
        tack_suggest_add(&sg, ck->cfg->filters[i].name);
    snprintf(head, sizeof head,
             "unknown filter '%s': filters has no instance of that name and no plugin with that "
             "id is loaded",
             ci->name);
    if (sg.best)
      text_add(&t, "; did you mean the instance '%s'?", sg.best);
  } else {
    snprintf(head, sizeof head, "plugin '%s' is not loaded", ci->plugin_id);
  }

  size_t refused = 0;
  for (size_t i = 0; i < set->n_refusals; i++) {
    const tack_refusal *r = set->refusals[i];
    if (!refusal_may_carry(r, ci->plugin_id))
      continue;
    if (refused++ == 0)
      text_add(&t, "; a refused file may carry it: %s", r->message ? r->message : r->path);
  }
  if (refused > 1)
    text_add(&t, " (and %zu more refused files may carry it)", refused - 1);
  if (refused == 0) {
    char similar[320];
    text st;
    text_init(&st, similar, sizeof similar);
    if (similar_ids(set, ci->plugin_id, ci->kind, &st) > 0)
      text_add(&t, "; similar loaded plugins: %s", similar);
    else if (set->n_plugins == 0)
      text_add(&t, "; no plugins are loaded at all: check plugin_dirs, --plugin-dir and "
                   "TACK_PLUGIN_PATH");
    else
      text_add(&t, "; `tack plugins` lists the %zu loaded plugins", set->n_plugins);
  }
  problem(ck, where, NULL, "%s%s", head, why);
}

/* A filter named by plugin id gets default params: that cannot satisfy a
 * required one. */
static void check_implicit_params(checker *ck, const tack_cfg_instance *ci,
                                  const tack_plugin_desc *desc) {
  for (const tack_param_spec *p = desc->params; p && p->name; p++)
    if (p->flags & TACK_PARAM_REQUIRED)
      problem(ck, ci->setting, NULL,
              "filter plugin %s requires the parameter '%s': define an instance of it in "
              "filters with params and name that instance here",
              desc->id, p->name);
}

/* The message for a strategies entry whose plugin is of another kind. */
static void report_strategy_kind(checker *ck, const tack_cfg_strategy *st,
                                 const config_setting_t *where, const tack_plugin_desc *desc) {
  const tack_cfg_instance *ci = &st->inst;
  if (st->type == TACK_STRATEGY_SCORER)
    problem(ck, where, NULL,
            "plugin '%s' is %s; an entry of type scorer needs an ML scorer plugin%s", ci->plugin_id,
            kind_phrase(desc->kind),
            desc->kind == TACK_KIND_STRATEGY ? " (drop type = \"scorer\" to use it as a strategy)"
                                             : "");
  else
    problem(ck, where, NULL, "plugin '%s' is %s; strategies need a strategy plugin%s",
            ci->plugin_id, kind_phrase(desc->kind),
            desc->kind == TACK_KIND_SCORER
                ? " (or set type = \"scorer\" and features to use this scorer)"
                : "");
}

/* "configs/x.cfg:30: strategies.ml.features", the place the feature
 * builder names in its messages. */
static void setting_place(const config_setting_t *s, char *buf, size_t cap) {
  char path[256];
  tack_setting_path(s, path, sizeof path);
  const char *file = config_setting_source_file(s);
  snprintf(buf, cap, "%s:%d: %s", file ? file : "?", (int)config_setting_source_line(s), path);
}

/* Set key of params to the host's value, adding the setting when absent. */
static int inject_param(config_setting_t *params, const char *key, int type, const char *str,
                        int value) {
  config_setting_t *s = config_setting_get_member(params, key);
  if (!s)
    s = config_setting_add(params, key, type);
  if (!s)
    return TACK_ENOMEM;
  int ok = type == CONFIG_TYPE_STRING ? config_setting_set_string(s, str)
                                      : config_setting_set_int(s, value);
  return ok == CONFIG_TRUE ? 0 : TACK_ENOMEM;
}

/*
 * A scorer's features: computed by the host, from the entry's `features`,
 * with the indicators of set. The canonical form and the count go into
 * the scorer's own `features` and `n_features` parameters when it
 * declares them, before its params are checked, so that the plugin
 * compares its model with what the host will really compute (xgboost
 * refuses a model trained on other features). A config that sets them by
 * hand is refused: it could say one thing and compute another.
 */
static void prepare_scorer(checker *ck, tack_cfg_strategy *st, const tack_plugin_desc *desc,
                           const tack_loader *ld) {
  tack_cfg_instance *ci = &st->inst;
  const tack_param_spec *fs = tack_params_find(desc, "features");
  const tack_param_spec *ns = tack_params_find(desc, "n_features");
  int by_hand = 0;
  char where[512];
  if (!st->features_injected) {
    const tack_param_spec *declared[2] = {fs, ns};
    for (size_t k = 0; k < 2; k++) {
      const config_setting_t *s = declared[k] && ci->params
                                      ? config_setting_get_member(ci->params, declared[k]->name)
                                      : NULL;
      if (!s)
        continue;
      by_hand = 1;
      problem(ck, s, NULL,
              "is set by the host, not by hand: it receives the canonical form of this entry's "
              "features (and n_features their count), exactly what the host computes for the "
              "scorer, so that a model trained on other features is refused; remove it and "
              "write the spec in features = \"...\"");
    }
  }
  if (by_hand || !st->features || st->n_timeframes == 0)
    return;
  if (!ld) {
    problem(ck, st->features_setting, NULL,
            "cannot check the features: no plugins are loaded to find their indicators in");
    return;
  }
  tack_features *f = NULL;
  setting_place(st->features_setting, where, sizeof where);
  int rc = tack_features_new(st->features, st->timeframes, st->n_timeframes, ld, where, ck->d, &f);
  if (rc != 0) {
    ck->problems++;
    return;
  }
  char *canonical = tack_strdup(NULL, tack_features_canonical(f));
  st->n_features = tack_features_count(f);
  tack_features_free(f);
  if (!canonical) {
    problem(ck, st->features_setting, NULL, "out of memory");
    return;
  }
  tack_free(NULL, st->features_canonical);
  st->features_canonical = canonical;
  if ((!fs || fs->type != TACK_PARAM_STRING) && (!ns || ns->type != TACK_PARAM_INT))
    return;
  if (!ci->params) {
    ci->params = config_setting_add((config_setting_t *)ci->setting, "params", CONFIG_TYPE_GROUP);
    if (!ci->params) {
      problem(ck, ci->setting, NULL, "out of memory");
      return;
    }
  }
  config_setting_t *params = (config_setting_t *)ci->params;
  if ((fs && fs->type == TACK_PARAM_STRING &&
       inject_param(params, fs->name, CONFIG_TYPE_STRING, canonical, 0) != 0) ||
      (ns && ns->type == TACK_PARAM_INT &&
       inject_param(params, ns->name, CONFIG_TYPE_INT, NULL, (int)st->n_features) != 0)) {
    problem(ck, ci->setting, NULL, "out of memory");
    return;
  }
  st->features_injected = 1;
}

/* Bind ci to its plugin and check its params; st is the strategies entry
 * ci belongs to, NULL for exchanges and filters; ld has the indicators of
 * a scorer's features. */
static void resolve_instance(checker *ck, tack_cfg_instance *ci, tack_cfg_strategy *st,
                             const tack_plugin_set *set, const tack_loader *ld) {
  ci->plugin = NULL;
  if (!ci->plugin_id)
    return; /* only in a config that failed to load */
  const config_setting_t *where =
      ci->implicit ? ci->setting : config_setting_get_member(ci->setting, "plugin");
  const tack_plugin *p = find_plugin(set, ci->plugin_id);
  if (!p) {
    report_not_loaded(ck, ci, where, set);
    return;
  }
  if (p->desc->kind != ci->kind) {
    if (ci->implicit)
      problem(ck, where, NULL,
              "'%s' is not an instance of filters, and plugin '%s' is %s, not a filter", ci->name,
              ci->plugin_id, kind_phrase(p->desc->kind));
    else if (st)
      report_strategy_kind(ck, st, where, p->desc);
    else
      problem(ck, where, NULL, "plugin '%s' is %s; %s need %s plugin", ci->plugin_id,
              kind_phrase(p->desc->kind), ci->section, kind_phrase(ci->kind));
    return;
  }
  if (st && st->type == TACK_STRATEGY_SCORER)
    prepare_scorer(ck, st, p->desc, ld);
  if (ci->implicit)
    check_implicit_params(ck, ci, p->desc);
  else if (tack_params_check_at(p->desc, ci->params, ci->setting, ck->d) != 0)
    ck->problems++;
  ci->plugin = p;
}

static void unbind_all(tack_config *cfg) {
  for (size_t i = 0; i < cfg->n_exchanges; i++)
    cfg->exchanges[i].plugin = NULL;
  for (size_t i = 0; i < cfg->n_filters; i++)
    cfg->filters[i].plugin = NULL;
  for (size_t i = 0; i < cfg->n_strategies; i++)
    cfg->strategies[i].inst.plugin = NULL;
}

static int resolve_with(tack_config *cfg, const tack_plugin_set *set, const tack_loader *ld,
                        tack_diag *d) {
  checker ck = {cfg, d, 0, 1, 1};
  for (size_t i = 0; i < cfg->n_exchanges; i++)
    resolve_instance(&ck, &cfg->exchanges[i], NULL, set, ld);
  for (size_t i = 0; i < cfg->n_filters; i++)
    resolve_instance(&ck, &cfg->filters[i], NULL, set, ld);
  /* Composites and regimes have no plugin of their own: their members
   * are entries of their own. */
  for (size_t i = 0; i < cfg->n_strategies; i++)
    resolve_instance(&ck, &cfg->strategies[i].inst, &cfg->strategies[i], set, ld);
  /* An invalid config is resolved only for its report. */
  if (ck.problems || cfg->invalid) {
    unbind_all(cfg);
    return TACK_ECONFIG;
  }
  return 0;
}

int tack_config_resolve_set(tack_config *cfg, const tack_plugin_set *set, tack_diag *d) {
  return resolve_with(cfg, set, tack_instance_registry(), d);
}

int tack_config_resolve(tack_config *cfg, const tack_loader *ld, tack_diag *d) {
  tack_plugin_set set = {NULL, 0, NULL, 0};
  const tack_plugin **plugins = NULL;
  const tack_refusal **refusals = NULL;
  int rc;

  set.n_plugins = tack_loader_count(ld);
  set.n_refusals = tack_loader_refusal_count(ld);
  plugins = tack_calloc(NULL, set.n_plugins + 1, sizeof *plugins);
  refusals = tack_calloc(NULL, set.n_refusals + 1, sizeof *refusals);
  if (!plugins || !refusals) {
    tack_diag_add(d, cfg->path, 0, NULL, "out of memory while resolving plugins");
    rc = TACK_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < set.n_plugins; i++)
    plugins[i] = tack_loader_at(ld, i);
  for (size_t i = 0; i < set.n_refusals; i++)
    refusals[i] = tack_loader_refusal_at(ld, i);
  set.plugins = plugins;
  set.refusals = refusals;
  rc = resolve_with(cfg, &set, ld, d);
done:
  tack_free(NULL, plugins);
  tack_free(NULL, refusals);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Printing                                                                  */
/* ------------------------------------------------------------------------ */

static void print_plugin(const tack_cfg_instance *ci, FILE *out) {
  if (ci->plugin)
    fprintf(out, "%s %s", ci->plugin->desc->id,
            ci->plugin->desc->version ? ci->plugin->desc->version : "?");
  else
    fprintf(out, "%s (not resolved)", ci->plugin_id ? ci->plugin_id : "?");
}

static void print_params(const tack_cfg_instance *ci, FILE *out) {
  const tack_plugin_desc *desc = ci->plugin ? ci->plugin->desc : NULL;
  if (!desc || !desc->params || !desc->params[0].name)
    return;
  fputs(" {", out);
  tack_params_print_values(desc, ci->params, out);
  fputs("}", out);
}

/* "name (id version) {params}", or "id version {params}" for a filter named
 * by its plugin id. */
static void print_instance(const tack_cfg_instance *ci, FILE *out) {
  if (ci->implicit) {
    print_plugin(ci, out);
  } else {
    fprintf(out, "%s (", ci->name);
    print_plugin(ci, out);
    fputs(")", out);
  }
  print_params(ci, out);
}

/* "5m, 4h" into buf. */
static const char *timeframes_text(const uint32_t *tfs, size_t n, char *buf, size_t cap) {
  text t;
  text_init(&t, buf, cap);
  for (size_t i = 0; i < n; i++) {
    char tf[16];
    tack_timeframe_format(tfs[i], tf, sizeof tf);
    text_add(&t, "%s%s", i ? ", " : "", tf);
  }
  return buf;
}

/* A plugin or scorer: "bars 5m, 4h (gaps filled) -> filter ... -> strategy
 * NAME (id version) {params}". */
static void print_leaf(const tack_cfg_strategy *st, FILE *out) {
  char tfs[160];
  fprintf(out, "bars %s", timeframes_text(st->timeframes, st->n_timeframes, tfs, sizeof tfs));
  if (st->gap_policy == TACK_BARS_GAP_FILL)
    fputs(" (gaps filled)", out);
  for (size_t j = 0; j < st->n_filters; j++) {
    fputs(" -> filter ", out);
    print_instance(st->filters[j], out);
  }
  fputs(st->type == TACK_STRATEGY_SCORER ? " -> scorer " : " -> strategy ", out);
  print_instance(&st->inst, out);
  if (st->type == TACK_STRATEGY_SCORER && st->features_canonical)
    fprintf(out, " features \"%s\" (%u values)", st->features_canonical, st->n_features);
  else if (st->type == TACK_STRATEGY_SCORER)
    fprintf(out, " features \"%s\"", st->features ? st->features : "?");
}

/* One entry of a symbol's composition, indented, members below it. */
static void print_entry(const tack_cfg_strategy *st, int indent, const char *label, FILE *out) {
  char tfs[160], first[16], line[160];
  fprintf(out, "%*s%s", indent, "", label);
  if (!st) {
    fputs("? (unknown)\n", out);
    return;
  }
  if (st->type == TACK_STRATEGY_PLUGIN || st->type == TACK_STRATEGY_SCORER) {
    print_leaf(st, out);
    fputc('\n', out);
    return;
  }
  timeframes_text(st->all_timeframes, st->n_all_timeframes, tfs, sizeof tfs);
  tack_timeframe_format(st->n_all_timeframes ? st->all_timeframes[0] : 0, first, sizeof first);
  if (st->type == TACK_STRATEGY_COMPOSITE) {
    fprintf(out, "composite %s: %s", st->inst.name, method_names[st->method]);
    if (st->method == TACK_METHOD_WEIGHTED)
      fprintf(out, ", threshold %g", st->threshold);
    else if (st->method == TACK_METHOD_MAJORITY)
      fprintf(out, ", quorum %u of %zu, vote_threshold %g", st->quorum, st->n_members,
              st->vote_threshold);
    fprintf(out, " (bars %s; evaluated on %s bars)\n", tfs, first);
    for (size_t i = 0; i < st->n_members; i++) {
      const tack_cfg_member *m = &st->members[i];
      if (st->method == TACK_METHOD_WEIGHTED)
        snprintf(line, sizeof line, "member %s (weight %g%s): ", m->name ? m->name : "?", m->weight,
                 m->gate ? ", gate" : "");
      else
        snprintf(line, sizeof line, "member %s: ", m->name ? m->name : "?");
      print_entry(m->strategy, indent + 2, line, out);
    }
    return;
  }
  fprintf(out, "regime %s: hold %u bar%s of %s (bars %s)\n", st->inst.name, st->hold,
          st->hold == 1 ? "" : "s", first, tfs);
  print_entry(st->detector, indent + 2, "detector: ", out);
  for (size_t i = 0; i < st->n_regimes; i++) {
    const tack_cfg_regime *r = &st->regimes[i];
    char bounds[80], policy[48];
    if (r->has_above || r->has_below) {
      char b[56];
      bounds_text(r, b, sizeof b);
      snprintf(bounds, sizeof bounds, "strength %s", b);
    } else {
      snprintf(bounds, sizeof bounds, "default");
    }
    if (r->on_switch == TACK_SWITCH_REDUCE)
      snprintf(policy, sizeof policy, "reduce to %g", r->reduce_to);
    else
      snprintf(policy, sizeof policy, "%s", switch_names[r->on_switch]);
    snprintf(line, sizeof line, "regime %s (%s; on switch %s): ", r->name ? r->name : "?", bounds,
             policy);
    print_entry(r->strategy, indent + 2, line, out);
  }
}

void tack_config_print(const tack_config *cfg, FILE *out) {
  if (cfg->store_path)
    fprintf(out, "store: %s\n", cfg->store_path);
  for (size_t i = 0; i < cfg->n_exchanges; i++) {
    const tack_cfg_instance *ex = &cfg->exchanges[i];
    fprintf(out, "exchange %s: ", ex->name);
    print_plugin(ex, out);
    print_params(ex, out);
    fputc('\n', out);
  }
  for (size_t i = 0; i < cfg->n_symbols; i++) {
    const tack_cfg_symbol *sym = &cfg->symbols[i];
    fprintf(out, "symbol %s on %s (%s)\n", sym->symbol ? sym->symbol : "?",
            sym->exchange ? sym->exchange->name : "?", sym->enabled ? "enabled" : "disabled");
    if (sym->strategy)
      print_entry(sym->strategy, 2, "", out);
  }
  if (cfg->trading.enabled)
    tack_trading_cfg_print(cfg, &cfg->trading, out);
}

/* ------------------------------------------------------------------------ */
/* Timeframes                                                                */
/* ------------------------------------------------------------------------ */

int tack_timeframe_parse(const char *text, uint32_t *seconds) {
  uint64_t v = 0;
  uint64_t unit;
  const char *p = text;
  if (!text || !isdigit((unsigned char)*p))
    return TACK_EINVAL;
  for (; isdigit((unsigned char)*p); p++) {
    v = v * 10 + (uint64_t)(*p - '0');
    if (v > TIMEFRAME_MAX_S)
      return TACK_EINVAL; /* also keeps v * unit far from overflow */
  }
  switch (*p) {
  case '\0':
    unit = 1;
    break;
  case 's':
    unit = 1;
    p++;
    break;
  case 'm':
    unit = 60;
    p++;
    break;
  case 'h':
    unit = 3600;
    p++;
    break;
  case 'd':
    unit = 86400;
    p++;
    break;
  default:
    return TACK_EINVAL;
  }
  if (*p != '\0' || v == 0 || v * unit > TIMEFRAME_MAX_S)
    return TACK_EINVAL;
  *seconds = (uint32_t)(v * unit);
  return 0;
}

void tack_timeframe_format(uint32_t seconds, char *buf, size_t cap) {
  if (seconds != 0 && seconds % 86400 == 0)
    snprintf(buf, cap, "%lud", (unsigned long)(seconds / 86400));
  else if (seconds != 0 && seconds % 3600 == 0)
    snprintf(buf, cap, "%luh", (unsigned long)(seconds / 3600));
  else if (seconds != 0 && seconds % 60 == 0)
    snprintf(buf, cap, "%lum", (unsigned long)(seconds / 60));
  else
    snprintf(buf, cap, "%lus", (unsigned long)seconds);
}
