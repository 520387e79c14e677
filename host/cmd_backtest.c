/*
 * cmd_backtest.c: `tack backtest CONFIG`: options, help, the summary it
 * prints, and the files it writes (JSON, HTML report). The backtest itself
 * is backtest.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtest.h"
#include "cli.h"
#include "diag.h"
#include "log.h"
#include "report.h"
#include "utc.h"

#define MAX_PLUGIN_DIRS 64
#define MAX_SETS 256

static void print_help(FILE *out) {
  fprintf(out,
          "usage: tack backtest CONFIG [--from T] [--to T] [--data FILE|DIR] [--json FILE]\n"
          "                     [--report FILE.html] [--set PATH=VALUE]... [--plugin-dir DIR]...\n"
          "                     [--quiet]\n"
          "\n"
          "Replay a config over market data as fast as the machine goes: the same\n"
          "runtime, strategies, trader, risk gate and ledger as 'tack run', on the\n"
          "replay clock, against the paper venue (fees, slippage, latency). Nothing\n"
          "is written to the store.\n"
          "\n"
          "Data: every exchange of the config becomes a paper venue replaying the\n"
          "store's candles of its symbols, at the largest stored timeframe that\n"
          "divides the smallest one the strategies use ('tack data import', 'tack\n"
          "data synth'). The venue's params (cash, fees, slippage, latency) come\n"
          "from the config's backtest.venue group; an exchange that already is a\n"
          "paper venue keeps its own params and data. --data replays a CSV file or\n"
          "a folder of <SYMBOL>.csv instead.\n"
          "\n"
          "Printed: the metrics (return, CAGR, volatility, Sharpe, Sortino, Calmar,\n"
          "maximum drawdown and its duration, win rate, profit factor, expectancy,\n"
          "exposure, fees, VaR and CVaR), per symbol the trades and P&L, the Monte\n"
          "Carlo distribution and the ledger check. docs/backtesting.md defines\n"
          "each figure and the backtest group (returns, year_days, risk_free,\n"
          "monte_carlo). The same config and data give byte-identical JSON.\n"
          "\n"
          "options:\n"
          "  --from T          replay from T (UTC: 2024-01-01, 2024-01-01T06:00:00Z,\n"
          "                    or UNIX seconds)\n"
          "  --to T            replay until T (exclusive)\n"
          "  --data PATH       replay a CSV file or a folder of <SYMBOL>.csv\n"
          "  --json FILE       write the result as JSON (metrics, trades, fills,\n"
          "                    equity curve, attribution, regimes, Monte Carlo)\n"
          "  --report FILE     write the HTML report (one file, opens offline)\n"
          "  --set PATH=VALUE  change a setting of the config first (repeatable):\n"
          "                    --set strategies.cross.params.fast=10\n"
          "  --plugin-dir DIR  load plugins from DIR first (repeatable)\n"
          "  --quiet           no progress, warnings and errors only\n"
          "  -h, --help        show this help\n"
          "\n"
          "A progress bar (share done, bars per second, time left) is drawn on an\n"
          "interactive terminal; otherwise a line every 10%%.\n"
          "\n"
          "exit status: 0 done, 1 an invalid config, missing data or a failed run,\n"
          "2 bad usage\n");
}

typedef struct bt_args {
  tack_bt_opts o;
  const char *plugin_dirs[MAX_PLUGIN_DIRS];
  const char *sets[MAX_SETS];
  const char *json;
  const char *report;
  int quiet;
} bt_args;

static int parse_time(const char *text, tack_time *out) {
  char *end;
  long long secs = strtoll(text, &end, 10);
  if (end != text && *end == '\0') {
    if (secs > INT64_MAX / TACK_NS_PER_SEC || secs < INT64_MIN / TACK_NS_PER_SEC)
      return TACK_ERANGE;
    *out = (tack_time)secs * TACK_NS_PER_SEC;
    return 0;
  }
  return tack_utc_parse(text, out);
}

static int time_error(const char *opt, const char *got) {
  return tack_cli_usage_error("backtest",
                              "%s needs a UTC time such as 2024-01-01 or 2024-01-01T06:00:00Z, or "
                              "UNIX seconds%s%s%s",
                              opt, got ? ", got '" : "", got ? got : "", got ? "'" : "");
}

static int parse_args(int argc, char **argv, bt_args *a) {
  const char *config = NULL;
  memset(a, 0, sizeof *a);
  tack_bt_opts_init(&a->o);
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    int got;
    if ((got = tack_cli_option(argc, argv, &i, "--from", &v)) != 0) {
      if (got < 0 || parse_time(v, &a->o.from) != 0)
        return time_error("--from", got < 0 ? NULL : v);
    } else if ((got = tack_cli_option(argc, argv, &i, "--to", &v)) != 0) {
      if (got < 0 || parse_time(v, &a->o.to) != 0)
        return time_error("--to", got < 0 ? NULL : v);
    } else if ((got = tack_cli_option(argc, argv, &i, "--data", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error("backtest", "--data needs a CSV file or a folder");
      a->o.data = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--json", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error("backtest", "--json needs a file name");
      a->json = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--report", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error("backtest", "--report needs a file name");
      a->report = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--set", &v)) != 0) {
      if (got < 0 || !strchr(v, '=') || v[0] == '=')
        return tack_cli_usage_error("backtest", "--set needs PATH=VALUE, e.g. --set "
                                                "strategies.cross.params.fast=10");
      if (a->o.n_overrides == MAX_SETS)
        return tack_cli_usage_error("backtest", "at most %d --set options", MAX_SETS);
      a->sets[a->o.n_overrides++] = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--plugin-dir", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error("backtest", "--plugin-dir needs a folder");
      if (a->o.n_plugin_dirs == MAX_PLUGIN_DIRS)
        return tack_cli_usage_error("backtest", "at most %d --plugin-dir options", MAX_PLUGIN_DIRS);
      a->plugin_dirs[a->o.n_plugin_dirs++] = v;
    } else if (strcmp(argv[i], "--quiet") == 0) {
      a->quiet = 1;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return tack_cli_usage_error("backtest", "unknown option '%s'", argv[i]);
    } else if (config) {
      return tack_cli_usage_error("backtest", "one CONFIG only (got '%s' and '%s')", config,
                                  argv[i]);
    } else {
      config = argv[i];
    }
  }
  if (!config)
    return tack_cli_usage_error("backtest", "missing CONFIG");
  if (a->o.from != INT64_MIN && a->o.to != INT64_MAX && a->o.from >= a->o.to)
    return tack_cli_usage_error("backtest", "--to must be later than --from");
  a->o.config_path = config;
  a->o.plugin_dirs = a->plugin_dirs;
  a->o.overrides = a->sets;
  return 0;
}

static const char *pct(double v, char *buf, size_t cap) {
  if (isnan(v))
    snprintf(buf, cap, "n/a");
  else if (isinf(v))
    snprintf(buf, cap, "%sinf", v < 0 ? "-" : "");
  else
    snprintf(buf, cap, "%+.2f%%", v * 100);
  return buf;
}

static const char *ratio(double v, char *buf, size_t cap) {
  if (isnan(v))
    snprintf(buf, cap, "n/a");
  else if (isinf(v))
    snprintf(buf, cap, "%sinf", v < 0 ? "-" : "");
  else
    snprintf(buf, cap, "%.2f", v);
  return buf;
}

static const char *duration(int64_t s, char *buf, size_t cap) {
  if (s >= 86400)
    snprintf(buf, cap, "%.1f days", (double)s / 86400);
  else
    snprintf(buf, cap, "%.1f hours", (double)s / 3600);
  return buf;
}

void tack_bt_print_summary(const tack_bt_result *r, FILE *out) {
  const tack_bt_metrics *m = &r->metrics;
  char a[48], b[48], c[48], f1[40], f2[40];
  tack_utc_format(m->start, f1, sizeof f1);
  tack_utc_format(m->end, f2, sizeof f2);
  fprintf(out, "%s %s: %s .. %s (%.2f years)\n", r->mode, r->bot, f1, f2, m->years);
  fprintf(out, "  equity      %.2f -> %.2f %s   return %s   CAGR %s\n", m->start_equity,
          m->end_equity, r->currency, pct(m->total_return, a, sizeof a), pct(m->cagr, b, sizeof b));
  fprintf(out, "  risk        volatility %s   max drawdown %s over %s   VaR95 %s   CVaR95 %s\n",
          pct(m->volatility, a, sizeof a), pct(-m->max_drawdown, b, sizeof b),
          duration(m->max_drawdown_duration_s, c, sizeof c), pct(-m->var95, f1, sizeof f1),
          pct(-m->cvar95, f2, sizeof f2));
  fprintf(out, "  ratios      Sharpe %s   Sortino %s   Calmar %s\n", ratio(m->sharpe, a, sizeof a),
          ratio(m->sortino, b, sizeof b), ratio(m->calmar, c, sizeof c));
  fprintf(out,
          "  trades      %llu (%llu won, %llu lost)   win rate %s   profit factor %s   "
          "expectancy %s\n",
          (unsigned long long)m->trades, (unsigned long long)m->wins, (unsigned long long)m->losses,
          pct(m->win_rate, a, sizeof a), ratio(m->profit_factor, b, sizeof b),
          ratio(m->expectancy, c, sizeof c));
  fprintf(out, "  average     win %s   loss %s   exposure %s   fees %.2f\n",
          ratio(m->avg_win, a, sizeof a), ratio(m->avg_loss, b, sizeof b),
          pct(m->exposure, c, sizeof c), m->fees);
  for (size_t i = 0; i < r->n_symbols; i++) {
    const tack_bt_symbol *s = &r->symbols[i];
    fprintf(out, "  %-10s %llu bars, %llu signals, %llu orders, %llu fills, P&L %.2f, fees %.2f\n",
            s->symbol, (unsigned long long)s->bars, (unsigned long long)s->signals,
            (unsigned long long)s->orders, (unsigned long long)s->fills, s->pnl, s->fees);
    for (size_t k = 0; k < s->n_members; k++)
      fprintf(out, "    member %-14s %llu trades led, P&L %.2f, mean share %.2f\n",
              s->members[k].name, (unsigned long long)s->members[k].trades, s->members[k].pnl,
              s->members[k].contribution);
    for (size_t k = 0; k < s->n_regimes; k++)
      fprintf(out, "    regime %s/%s: %.1f%% of bars, entered %llu times\n", s->regimes[k].entry,
              s->regimes[k].name, s->regimes[k].share * 100,
              (unsigned long long)s->regimes[k].switches_into);
  }
  if (r->has_mc)
    fprintf(out,
            "  monte carlo %u runs: return p5 %s  p50 %s  p95 %s;  max drawdown p50 %s  p95 %s; "
            "P(loss) %.1f%%\n",
            r->mc.runs, pct(r->mc.total_return[0], a, sizeof a),
            pct(r->mc.total_return[2], b, sizeof b), pct(r->mc.total_return[4], c, sizeof c),
            pct(-r->mc.max_drawdown[2], f1, sizeof f1), pct(-r->mc.max_drawdown[4], f2, sizeof f2),
            r->mc.prob_loss * 100);
  fprintf(out, "  ledger %s\n", r->ledger_note[0] ? r->ledger_note : "not checked");
}

int tack_cmd_backtest(int argc, char **argv) {
  bt_args args;
  tack_diag d = TACK_DIAG_INIT;
  tack_bt_result res;
  int status = TACK_EXIT_FAIL;
  if (tack_cli_wants_help(argc, argv)) {
    print_help(stdout);
    return TACK_EXIT_OK;
  }
  int rc = parse_args(argc, argv, &args);
  if (rc != 0)
    return rc;
  args.o.progress = args.quiet ? 0 : isatty(STDERR_FILENO) ? 1 : 2;
  if (args.quiet)
    args.o.log_level = TACK_LOG_WARN;
  rc = tack_backtest_run(&args.o, &res, &d);
  if (rc != 0) {
    tack_diag_print(&d, stderr);
    fprintf(stderr, "tack: backtest: %s: no result\n", args.o.config_path);
    goto done;
  }
  tack_bt_print_summary(&res, stdout);
  fflush(stdout);
  status = TACK_EXIT_OK;
  if (args.json && tack_bt_result_write_json_file(args.json, &res) != 0)
    status = TACK_EXIT_FAIL;
  if (args.report && tack_report_write_file(args.report, &res, res.bot) != 0)
    status = TACK_EXIT_FAIL;
  if (!res.ledger_exact)
    status = TACK_EXIT_FAIL;
  tack_bt_result_free(&res);
done:
  tack_diag_free(&d);
  return status;
}
