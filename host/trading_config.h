/*
 * trading_config.h: the trading settings of a config, read and checked with
 * the rest of it (tack_config_load()). A config without a `trading` group
 * only computes signals; with one, every enabled symbol is traded.
 *
 *   trading = {
 *     sizing   = { allocation = 10000.0; initial_fraction = 0.5;
 *                  continuation_fraction = 0.25; max_fraction = 1.0;
 *                  min_strength = 0.05; tolerance = 0.02;
 *                  on_opposite = "flat";      # or "reverse"
 *                  on_neutral = "flat";       # or "hold"
 *                  scale_by_strength = true; };
 *     exits    = { take_profit = 0.05; stop_loss = 0.02;
 *                  trailing_stop = 0.03; trailing_activation = 0.01; };
 *     limits   = { max_order_notional = 5000.0;
 *                  max_position_notional = 20000.0;
 *                  max_orders_per_minute = 30; };
 *     orders   = { type = "market";           # or "limit"
 *                  limit_offset_bps = 5.0;    # limit: from the last price
 *                  timeout = "30s"; on_timeout = "market";  # or "cancel"
 *                  max_attempts = 3; };
 *     day      = { zone = "UTC"; start = "00:00";
 *                  loss_limit = 500.0; loss_fraction = 0.0;
 *                  profit_target = 0.0; };
 *     shutdown = { flatten = true; timeout = "30s"; retries = 3; };
 *     recovery = { on_mismatch = "adopt"; };  # or "refuse"
 *   };
 *
 * A symbol may override sizing, exits, limits and orders in its own
 * `trading = { ... };` group (key by key), and a strategies entry may set
 * `exits = { ... };` for the symbols it drives. Precedence, key by key:
 * symbol, then the symbol's strategy entry (exits only), then the global
 * group, then the defaults of sizing.h / risk.h. Every value is checked
 * with file:line and the setting's path; nothing is applied from a config
 * with any problem.
 */
#ifndef TACK_TRADING_CONFIG_H
#define TACK_TRADING_CONFIG_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "risk.h"
#include "sizing.h"

#define TACK_RECOVERY_ADOPT 0u  /* take the venue's position as the bot's */
#define TACK_RECOVERY_REFUSE 1u /* do not trade the symbol; an operator decides */

/* What one symbol trades by: global settings with its overrides applied. */
typedef struct tack_trading_policy {
  tack_sizing_policy sizing;
  tack_risk_limits limits;
  tack_risk_exits exits;
  uint32_t order_type;       /* TACK_ORDER_MARKET or TACK_ORDER_LIMIT */
  double limit_offset_bps;   /* LIMIT: buy below / sell above the last price by this */
  uint64_t order_timeout_ns; /* 0: none */
  uint32_t on_timeout;       /* TACK_ORDERS_TIMEOUT_CANCEL / TACK_ORDERS_REPLACE_MARKET */
  uint32_t max_attempts;     /* >= 1 */
} tack_trading_policy;

typedef struct tack_trading_cfg {
  int enabled; /* the config has a trading group */
  tack_trading_policy global;
  tack_risk_day_policy day;
  int flatten_on_stop;          /* default true */
  uint64_t shutdown_timeout_ns; /* default 30 s */
  uint32_t shutdown_retries;    /* default 3 */
  uint32_t on_mismatch;         /* TACK_RECOVERY_*; default ADOPT */
  /* Per entry of the config's symbols (same index): the effective policy.
   * NULL (and n_symbols 0) when enabled is 0. */
  tack_trading_policy *symbols;
  size_t n_symbols;
} tack_trading_cfg;

struct tack_config;

/*
 * Read cfg's trading settings into *out (zeroed first; free with
 * tack_trading_cfg_free()). Every problem goes into d at its file and line;
 * returns 0, TACK_ECONFIG or TACK_ENOMEM (the caller reports that one; out
 * then holds nothing). Called by tack_config_load() once the rest of the
 * schema has been read (also when it had problems, so that one run reports
 * them all; cfg's symbols and strategies may then hold NULL references,
 * which are skipped). *out owns its memory and points into nothing of cfg.
 * Threads: any, one call per out.
 *
 * Defaults where nothing sets a key: sizing as sizing.h says; exits and
 * limits 0 (off); orders market, limit_offset_bps 0, timeout 30 s,
 * on_timeout "market", max_attempts 3; day UTC from 00:00 with no loss
 * limit, loss fraction or profit target; shutdown as below; recovery adopt.
 * A key that would have no effect where it applies (limit_offset_bps with
 * market orders only, on_timeout with no timeout, trailing_activation
 * without trailing_stop; a symbol's trading group or an entry's exits in
 * a config without a top-level trading group; exits of an entry that only
 * a composite or regime names) is an error too.
 */
int tack_trading_cfg_load(const struct tack_config *cfg, tack_trading_cfg *out, tack_diag *d);
void tack_trading_cfg_free(tack_trading_cfg *t);

/* The defaults (also what an empty trading group gives). */
void tack_trading_policy_default(tack_trading_policy *p);

/* Print the effective trading settings (for `tack check`), one line per
 * group, and per symbol the keys it overrides (read from cfg, the config t
 * was loaded from). Prints nothing when t->enabled is 0. */
void tack_trading_cfg_print(const struct tack_config *cfg, const tack_trading_cfg *t, FILE *out);

#endif
