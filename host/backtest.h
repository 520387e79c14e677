/*
 * backtest.h: `tack backtest`, and the recorder behind every report. A
 * backtest is a run of the config (the same runtime, pipeline, trader, risk
 * gate and ledger as `tack run`) on the replay clock, against the paper
 * venue fed the store's candles (or a CSV, or the paper exchange's own
 * data), as fast as the machine goes, with nothing written to the store.
 * docs/backtesting.md.
 *
 * The venue: every exchange of the config becomes a paper venue
 * (exchanges/paper) reading the candles of its symbols; its fees, slippage,
 * latency and cash come from the config's `backtest.venue` group, or, for an
 * exchange that already is a paper venue, from its own params. The
 * timeframe replayed is the largest stored one that divides the smallest
 * timeframe the symbols' strategies use.
 *
 * The recorder (tack_bt_recorder) watches a run through the runtime's
 * observer hooks: the bars (equity per bar time, prices for the chart), the
 * signals and tree (attribution, regimes) and the fills (trades, markers).
 * `tack run --report` attaches one to a paper run too, so a backtest and a
 * paper replay of the same data write the same kind of report.
 */
#ifndef TACK_BACKTEST_H
#define TACK_BACKTEST_H

#include <libconfig.h>
#include <stdio.h>

#include "bt_result.h"
#include "diag.h"
#include "tack.h"

struct tack_runtime;

typedef struct tack_bt_opts {
  const char *config_path;
  const char *const *plugin_dirs; /* --plugin-dir folders, searched first */
  size_t n_plugin_dirs;
  const char *const *overrides; /* "PATH=VALUE" (config_override.h), after the backtest's own */
  size_t n_overrides;
  tack_time from, to; /* replayed range [from, to); INT64_MIN / INT64_MAX: all */
  const char *data;   /* NULL: the store's candles; else a CSV file or a folder of <SYMBOL>.csv */
  int progress;       /* 0: none; 1: a progress bar on stderr; 2: a line every 10% on stderr */
  int details;        /* 1: trades, markers, prices, attribution; 0: metrics only (optimizer) */
  int log_level;      /* TACK_LOG_*; the config's own when < 0 */
} tack_bt_opts;

/* Defaults: everything, no overrides, details on, no progress bar, the
 * config's log level. */
void tack_bt_opts_init(tack_bt_opts *o);

/*
 * Run one backtest into out (zeroed first; free with tack_bt_result_free).
 * Returns 0, TACK_ECONFIG with every problem in d (the config, the backtest
 * group, no candles for a symbol in the range), or the run's error.
 */
int tack_backtest_run(const tack_bt_opts *o, tack_bt_result *out, tack_diag *d);

/* The result as JSON (jansson; keys in a fixed order, numbers with 17
 * significant digits): the same run gives the same bytes. */
int tack_bt_result_write_json(const tack_bt_result *r, FILE *out);
int tack_bt_result_write_json_file(const char *path, const tack_bt_result *r);

/* The figures as `tack backtest` prints them (cmd_backtest.c). */
void tack_bt_print_summary(const tack_bt_result *r, FILE *out);

/* The `backtest` config group, checked by tack_config_load() (every error
 * at its file and line): venue = { paper params }, returns = "1d" | "bar" |
 * DURATION, year_days, risk_free, monte_carlo = { runs, seed }. */
int tack_backtest_check_schema(const config_setting_t *group, const char *file, tack_diag *d);
int tack_backtest_read_settings(const config_setting_t *group, tack_bt_settings *out);

/* The recorder: attach to a runtime before tack_runtime_run(), take the
 * result after it. */
typedef struct tack_bt_recorder tack_bt_recorder;
int tack_bt_recorder_attach(struct tack_runtime *rt, const tack_bt_settings *s, int details,
                            tack_bt_recorder **out);
/* A compact live status (per symbol: price, signal, position, P&L) written
 * to out at most every every_s seconds of wall time while bars come; tty
 * redraws it in place. */
void tack_bt_recorder_status(tack_bt_recorder *rec, FILE *out, int tty, double every_s);
/* Progress on stderr while replaying, over the data's extent [from, to):
 * a bar redrawn in place (bar 1) or a line every 10% (bar 0). */
void tack_bt_recorder_progress(tack_bt_recorder *rec, int bar, tack_time from, tack_time to);
/* Metrics, Monte Carlo, the ledger check; moves everything into out. */
int tack_bt_recorder_finish(tack_bt_recorder *rec, tack_bt_result *out);
void tack_bt_recorder_free(tack_bt_recorder *rec);

#endif
