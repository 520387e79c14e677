/*
 * config.h: the host's configuration, read from a libconfig file and checked
 * as a whole before anything starts. Nothing is applied from a config with
 * any error; every error names the file, the line and the setting's path.
 *
 * Loading is two steps, because the config itself says where plugins live:
 *   tack_config_load()     parse and check the host's own schema
 *   tack_config_resolve()  bind plugin ids to loaded plugins, check every
 *                          plugin's params against its spec, check references
 * See docs/config.md for the schema.
 */
#ifndef TACK_CONFIG_H
#define TACK_CONFIG_H

#include <libconfig.h>
#include <stdio.h>

#include "diag.h"
#include "loader.h"

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
} tack_cfg_instance;

typedef struct tack_cfg_strategy {
  tack_cfg_instance inst;
  uint32_t timeframe_s;        /* bars the strategy consumes */
  size_t n_filters;            /* filters applied in order to its bars */
  tack_cfg_instance **filters; /* point into tack_config.filters */
} tack_cfg_strategy;

typedef struct tack_cfg_symbol {
  const char *symbol;           /* venue symbol, "BTC-USD" */
  tack_cfg_instance *exchange;  /* points into tack_config.exchanges */
  tack_cfg_strategy *strategy;  /* points into tack_config.strategies */
  int enabled;
  const char *file;
  int line;
} tack_cfg_symbol;

typedef struct tack_config {
  config_t lc;
  char *path; /* as given */
  char *dir;  /* the config file's folder: relative paths are relative to it */
  int version;
  const char *name; /* bot name; namespaces the store */
  char **plugin_dirs; /* absolute */
  size_t n_plugin_dirs;
  char *store_path; /* absolute, NULL when the config names no store */
  int log_level;
  tack_cfg_instance *exchanges;
  size_t n_exchanges;
  tack_cfg_instance *filters;
  size_t n_filters;
  tack_cfg_strategy *strategies;
  size_t n_strategies;
  tack_cfg_symbol *symbols;
  size_t n_symbols;
} tack_config;

/* Parse path and check the host schema. On error returns TACK_ECONFIG (or
 * TACK_ENOENT/TACK_EIO for the file) with every problem in d, and *out NULL. */
int tack_config_load(const char *path, tack_config **out, tack_diag *d);

/* Bind every plugin id to a plugin of ld (the right kind), check params
 * against specs, and cross references (symbols to exchanges and strategies,
 * strategies to filters). Returns 0 or TACK_ECONFIG with problems in d. */
int tack_config_resolve(tack_config *cfg, const tack_loader *ld, tack_diag *d);

void tack_config_free(tack_config *cfg);

/* Print the composed pipeline: per symbol, exchange -> bars -> filters ->
 * strategy, with each plugin's version and effective parameters. */
void tack_config_print(const tack_config *cfg, FILE *out);

/* Parse a timeframe: "45s", "1m", "5m", "4h", "1d", "90" (seconds), any
 * whole multiple of a second up to 7 days. TACK_EINVAL otherwise. */
int tack_timeframe_parse(const char *text, uint32_t *seconds);
/* Format seconds as the shortest of "Nd", "Nh", "Nm", "Ns" into buf. */
void tack_timeframe_format(uint32_t seconds, char *buf, size_t cap);

#endif
