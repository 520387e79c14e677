/*
 * cmd_check.c: `tack check CONFIG [--plugin-dir DIR]... [--set PATH=VALUE]...`.
 * Validates a config
 * the way `tack run` would before starting anything: the schema, the plugins
 * it names, their parameters, and each plugin's own configure(), with every
 * instance created validate-only (no runtime) and destroyed again (a
 * scorer's features are built while resolving). Prints the composed
 * pipeline of every symbol when all is well (the tree of a composed
 * strategy: members, types, timeframes, filters, weights, methods,
 * thresholds and parameters), every problem otherwise. The optimize group's
 * params are checked against the plugins they name.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "config.h"
#include "config_override.h"
#include "diag.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "optimize.h"

#define CMD "check"

/* main() hands us argv from the subcommand on, so argv[0] is "check"; the
 * loader finds the executable (and the default plugin folder) from this. */

typedef struct check_args {
  const char *config;
  const char **plugin_dirs; /* --plugin-dir, in the order given */
  size_t n_plugin_dirs;
  const char **overrides; /* --set, in the order given */
  size_t n_overrides;
} check_args;

static void usage(FILE *out) {
  fprintf(out, "usage: tack check CONFIG [--plugin-dir DIR]... [--set PATH=VALUE]...\n"
               "\n"
               "Validate CONFIG as a whole and print the pipeline it composes for each symbol:\n"
               "bars, filters and strategy, or for a composed strategy its tree of members\n"
               "(composites, regimes, strategies and scorers) with their weights, methods,\n"
               "thresholds and parameters. Every problem is reported, each with its file,\n"
               "line and setting: composition cycles, unknown members, bad weights, regimes\n"
               "without a default or with overlapping bounds, timeframes that do not line up.\n"
               "\n"
               "Plugins are looked for in each --plugin-dir, then in the config's plugin_dirs,\n"
               "then in the folders of TACK_PLUGIN_PATH and the default plugin folder. Each\n"
               "plugin instance is created and configured, never started, so that plugins\n"
               "check their own parameters too. Refused plugin files are warnings unless the\n"
               "config needs a plugin they may carry.\n"
               "\n"
               "--set changes a setting of CONFIG before it is checked, as `tack backtest` and\n"
               "`tack optimize` do: PATH is group names joined by '.', VALUE an integer, a\n"
               "number, true/false or a string (\"quoted\" or bare); an empty VALUE removes\n"
               "the setting. A problem with an overridden setting names the override.\n"
               "\n"
               "options:\n"
               "  --plugin-dir DIR    look for plugins in DIR first (may be repeated)\n"
               "  --set PATH=VALUE    override a setting (may be repeated; applied in order),\n"
               "                      e.g. --set strategies.trend.params.fast=12\n"
               "  -h, --help          show this help\n"
               "\n"
               "exit status: 0 the config is valid, 1 it has problems, 2 bad usage\n");
}

/* Returns 0 or TACK_EXIT_USAGE (the message is printed). */
static int parse_args(int argc, char **argv, check_args *a) {
  int options = 1;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (options && strcmp(arg, "--") == 0) {
      options = 0;
    } else if (options && strcmp(arg, "--plugin-dir") == 0) {
      if (i + 1 >= argc)
        return tack_cli_usage_error(CMD, "--plugin-dir needs a folder");
      a->plugin_dirs[a->n_plugin_dirs++] = argv[++i];
    } else if (options && strncmp(arg, "--plugin-dir=", 13) == 0) {
      if (!arg[13])
        return tack_cli_usage_error(CMD, "--plugin-dir needs a folder");
      a->plugin_dirs[a->n_plugin_dirs++] = arg + 13;
    } else if (options && strcmp(arg, "--set") == 0) {
      if (i + 1 >= argc || !strchr(argv[i + 1], '='))
        return tack_cli_usage_error(CMD, "--set needs PATH=VALUE");
      a->overrides[a->n_overrides++] = argv[++i];
    } else if (options && strncmp(arg, "--set=", 6) == 0) {
      if (!strchr(arg + 6, '='))
        return tack_cli_usage_error(CMD, "--set needs PATH=VALUE");
      a->overrides[a->n_overrides++] = arg + 6;
    } else if (options && arg[0] == '-' && arg[1] != '\0') {
      return tack_cli_usage_error(CMD, "unknown option '%s'", arg);
    } else if (a->config) {
      return tack_cli_usage_error(CMD, "one config at a time ('%s' and '%s' given)", a->config,
                                  arg);
    } else {
      a->config = arg;
    }
  }
  if (!a->config)
    return tack_cli_usage_error(CMD, "no config given");
  return 0;
}

/* Scan folders in the documented order. Unreadable folders and refused
 * files are recorded by the loader, not returned; only running out of
 * memory stops the scan. */
static int load_plugins(const check_args *a, const tack_config *cfg, tack_loader **out,
                        tack_diag *d) {
  tack_loader *ld = NULL;
  int rc = tack_loader_new(&ld);
  if (rc) {
    tack_diag_add(d, NULL, 0, NULL, "cannot load plugins: %s", tack_strerror(rc));
    return rc;
  }
  rc = tack_config_load_plugins(cfg, a->plugin_dirs, a->n_plugin_dirs, ld, d);
  if (rc) {
    tack_loader_free(ld);
    return rc;
  }
  *out = ld;
  return 0;
}

/* The overrides of --set, applied between parsing and checking; every
 * malformed one is reported. */
static int apply_overrides(config_t *lc, void *data, tack_diag *d) {
  const check_args *a = data;
  int rc = 0;
  for (size_t i = 0; i < a->n_overrides; i++) {
    int r = tack_config_override(lc, a->overrides[i], d);
    if (r == TACK_ENOMEM)
      return r;
    if (r && !rc)
      rc = r;
  }
  return rc;
}

/* Create and configure one instance without a runtime, then destroy it. */
static int validate_instance(const tack_cfg_instance *ci, tack_diag *d) {
  tack_ctx *ctx = NULL;
  size_t before = d->n;
  int rc = tack_instance_new(ci, NULL, d, &ctx);
  if (rc == 0) {
    tack_instance_free(ctx);
    return 0;
  }
  if (d->n == before) /* the contract says instance.c explains; never stay silent */
    tack_diag_add(d, ci->file, ci->line, NULL, "%s %s: plugin %s failed: %s", ci->section, ci->name,
                  ci->plugin_id, tack_strerror(rc));
  return rc;
}

static int validate_instances(const tack_config *cfg, tack_diag *d) {
  int failed = 0;
  for (size_t i = 0; i < cfg->n_exchanges; i++)
    failed |= validate_instance(&cfg->exchanges[i], d) != 0;
  for (size_t i = 0; i < cfg->n_filters; i++)
    failed |= validate_instance(&cfg->filters[i], d) != 0;
  /* Composites and regimes have no instance of their own; their members
   * are validated as entries of their own. */
  for (size_t i = 0; i < cfg->n_strategies; i++)
    if (cfg->strategies[i].type == TACK_STRATEGY_PLUGIN ||
        cfg->strategies[i].type == TACK_STRATEGY_SCORER)
      failed |= validate_instance(&cfg->strategies[i].inst, d) != 0;
  return failed ? TACK_ECONFIG : 0;
}

/* The optimize group's params against the plugins they name (its own
 * schema was checked at load). */
static int check_optimize(const tack_config *cfg, tack_diag *d) {
  const config_setting_t *group = config_lookup(&cfg->lc, "optimize");
  tack_opt_spec spec;
  if (!group)
    return 0;
  int rc = tack_opt_spec_read(group, &spec);
  if (rc) {
    tack_diag_add(d, cfg->path, 0, "optimize", "cannot read the group: %s", tack_strerror(rc));
    return rc;
  }
  rc = tack_opt_spec_bind(&spec, cfg, d);
  tack_opt_spec_free(&spec);
  return rc;
}

/* Length of the folder part of path ("/" for "/x.so", 0 for "x.so"). */
static size_t folder_len(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return 0;
  return slash == path ? 1 : (size_t)(slash - path);
}

/* "plugins: 5 loaded from /a, /b": the folders of the loaded plugins, each
 * once, in the order they were scanned. */
static void print_plugin_folders(const tack_loader *ld, FILE *out) {
  size_t n = tack_loader_count(ld);
  const char *sep = " from ";
  fprintf(out, "plugins: %zu loaded", n);
  for (size_t i = 0; i < n; i++) {
    const char *path = tack_loader_at(ld, i)->path;
    size_t len = folder_len(path);
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) {
      const char *other = tack_loader_at(ld, j)->path;
      seen = folder_len(other) == len && strncmp(other, path, len) == 0;
    }
    if (seen)
      continue;
    fprintf(out, "%s%.*s", sep, len ? (int)len : 1, len ? path : ".");
    sep = ", ";
  }
  fputc('\n', out);
}

int tack_cmd_check(int argc, char **argv) {
  check_args a = {NULL, NULL, 0, NULL, 0};
  tack_diag d = TACK_DIAG_INIT;
  tack_config *cfg = NULL;
  tack_loader *ld = NULL;
  int status = TACK_EXIT_FAIL;

  if (tack_cli_wants_help(argc, argv)) {
    usage(stdout);
    return TACK_EXIT_OK;
  }
  a.plugin_dirs = tack_calloc(NULL, (size_t)argc + 1, sizeof *a.plugin_dirs);
  a.overrides = tack_calloc(NULL, (size_t)argc + 1, sizeof *a.overrides);
  if (!a.plugin_dirs || !a.overrides) {
    fprintf(stderr, "tack: %s: out of memory\n", CMD);
    goto done;
  }
  if (parse_args(argc, argv, &a) != 0) {
    status = TACK_EXIT_USAGE;
    goto done;
  }

  /* A config with problems in its own schema is still resolved when that
   * is meaningful, so that plugin problems make the same report. */
  tack__config_load_edited(a.config, 1, a.n_overrides ? apply_overrides : NULL, &a, &cfg, &d);
  if (!cfg)
    goto report;
  if (load_plugins(&a, cfg, &ld, &d) != 0)
    goto report;
  tack_loader_print_refusals(ld, stderr);
  tack_instance_set_registry(ld);
  if (tack_config_resolve(cfg, ld, &d) != 0)
    goto report;
  if (validate_instances(cfg, &d) != 0)
    goto report;
  if (check_optimize(cfg, &d) != 0)
    goto report;

  printf("config %s (bot %s, schema %d): ok\n", cfg->path, cfg->name, cfg->version);
  for (size_t i = 0; i < a.n_overrides; i++)
    printf("override %s\n", a.overrides[i]);
  print_plugin_folders(ld, stdout);
  tack_config_print(cfg, stdout);
  status = TACK_EXIT_OK;
  goto done;

report:
  tack_diag_print(&d, stderr);
  fprintf(stderr, "tack: %s: %s: %zu problem%s\n", CMD, a.config, d.n, d.n == 1 ? "" : "s");
done:
  tack_config_free(cfg);
  tack_loader_free(ld);
  tack_diag_free(&d);
  tack_free(NULL, a.plugin_dirs);
  tack_free(NULL, a.overrides);
  return status;
}
