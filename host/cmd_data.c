/*
 * cmd_data.c: `tack data import|ls|export|rm|synth`, candles in the store
 * from and to CSV files, and synthetic ones. The storage and the CSV form
 * are candles.c's, the generator synth.c's; this file owns the command line,
 * the store folder's default, UTC times in ISO-8601 and what the commands
 * print. See docs/data.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "candles.h"
#include "cli.h"
#include "config.h"
#include "diag.h"
#include "store.h"
#include "synth.h"
#include "utc.h"

#define DEFAULT_STORE "./var/store"
#define MAX_SHOWN 20 /* bad rows and replaced candles listed one by one */
#define ISO_MAX 40
#define SYNTH_SYMBOLS_MAX 64
#define SYNTH_BARS_MAX 100000000u /* candles per series in one synth command */
#define SYNTH_BATCH 10000         /* candles per store transaction */

/* Options a subcommand takes. */
#define OPT_FILE 0x01u
#define OPT_SERIES 0x02u /* --symbol and --timeframe, both required */
#define OPT_RANGE 0x04u  /* --from, --to */

typedef struct data_args {
  const char *cmd; /* "data import", for messages */
  const char *file;
  const char *symbol;
  const char *timeframe;
  uint32_t tf;
  const char *store;
  int store_from; /* where the store path came from: 0 --store, 1 env, 2 default */
  const char *from_text, *to_text;
  tack_time from, to;
} data_args;

static const char store_help[] =
    "  --store DIR     the store's folder; without it the TACK_STORE environment\n"
    "                  variable names it, else ./var/store\n";

static void usage_data(FILE *out) {
  fprintf(out, "usage: tack data <command> [<args>]\n"
               "\n"
               "Candles in the store: import them from CSV files, list the series, export a\n"
               "series as CSV, delete a series, make synthetic ones. A series is the candles of\n"
               "one symbol and one timeframe.\n"
               "\n"
               "commands:\n"
               "  import FILE --symbol S --timeframe TF   check FILE and store its candles\n"
               "  ls                                      list the series\n"
               "  export --symbol S --timeframe TF [--from T] [--to T]\n"
               "                                          write a series as CSV to stdout\n"
               "  rm --symbol S --timeframe TF            delete a series\n"
               "  synth --symbol S --timeframe TF --bars N\n"
               "                                          make synthetic candles\n"
               "\n"
               "Every command takes --store DIR, the store's folder. Without it the TACK_STORE\n"
               "environment variable names the folder, else ./var/store.\n"
               "\n"
               "'tack data <command> --help' describes a command.\n");
}

static void usage_import(FILE *out) {
  fprintf(out,
          "usage: tack data import FILE --symbol S --timeframe TF [--store DIR]\n"
          "\n"
          "Check FILE, a CSV of candles ('-' reads standard input), and store its\n"
          "candles as the series (S, TF).\n"
          "\n"
          "FILE is the header line\n"
          "  " TACK_CANDLES_CSV_HEADER "\n"
          "then one candle per line: ts, the candle's start in UNIX seconds (UTC; an\n"
          "integer, or with up to 9 decimals), then five decimal numbers. Lines end in LF\n"
          "or CRLF; no spaces or quotes, no blank lines but at the end.\n"
          "\n"
          "The whole file is checked before anything is stored: every field; each ts on\n"
          "the timeframe's grid (a multiple of TF from the epoch) and later than the ts\n"
          "before it; low <= open, close <= high; every value finite; volume >= 0. If a\n"
          "row is bad, the bad rows are listed as FILE:LINE (the first %d, then a count)\n"
          "and nothing from the file is stored.\n"
          "\n"
          "Otherwise the candles are stored in one transaction: other readers see all of\n"
          "them or none. A candle already stored with the same values is left alone; one\n"
          "stored with other values is replaced, and listed. Importing a file again\n"
          "changes nothing. Prints the rows read, how many candles are new, replaced and\n"
          "unchanged, and the file's time range.\n"
          "\n"
          "options:\n"
          "  --symbol S      the series' symbol: 1 to %d printable ASCII characters, no\n"
          "                  spaces (BTC-USD, BTC/USD)\n"
          "  --timeframe TF  the candles' timeframe: 45s, 1m, 5m, 4h, 1d, or seconds\n"
          "%s"
          "                  (created when missing)\n"
          "  -h, --help      show this help\n"
          "\n"
          "exit status: 0 stored, 1 the file has bad rows or the store failed, 2 bad usage\n",
          MAX_SHOWN, TACK_CANDLES_SYMBOL_MAX, store_help);
}

static void usage_ls(FILE *out) {
  fprintf(out,
          "usage: tack data ls [--store DIR]\n"
          "\n"
          "List the series in the store, one per line: symbol, timeframe, number of\n"
          "candles, first and last candle time (UTC, ISO-8601), and gaps: the places where\n"
          "a candle is more than one timeframe after the one before it.\n"
          "\n"
          "options:\n"
          "%s"
          "  -h, --help      show this help\n"
          "\n"
          "exit status: 0 listed (also when there is no series), 1 no store there or the\n"
          "store failed, 2 bad usage\n",
          store_help);
}

static void usage_export(FILE *out) {
  fprintf(out,
          "usage: tack data export --symbol S --timeframe TF [--from T] [--to T]\n"
          "                        [--store DIR]\n"
          "\n"
          "Write the candles of the series (S, TF) to stdout as CSV, the form import reads:\n"
          "the header " TACK_CANDLES_CSV_HEADER ", then one candle per line in time\n"
          "order, ts in UNIX seconds and the values with %%.17g, which read back bit for\n"
          "bit. Exporting what was imported from an exported file gives the same bytes.\n"
          "\n"
          "options:\n"
          "  --symbol S      the series' symbol\n"
          "  --timeframe TF  the series' timeframe: 45s, 1m, 5m, 4h, 1d, or seconds\n"
          "  --from T        only candles at or after T\n"
          "  --to T          only candles before T\n"
          "%s"
          "  -h, --help      show this help\n"
          "\n"
          "T is UNIX seconds (1526364000, -86400, 1526364000.5) or a UTC date and time in\n"
          "ISO-8601: 2018-05-15, 2018-05-15T06:00, 2018-05-15T06:00:00, with or without a\n"
          "final Z, with up to 9 decimals of seconds.\n"
          "\n"
          "exit status: 0 written, 1 no such series or store, or a write failed, 2 bad usage\n",
          store_help);
}

static void usage_rm(FILE *out) {
  fprintf(out,
          "usage: tack data rm --symbol S --timeframe TF [--store DIR]\n"
          "\n"
          "Delete every candle of the series (S, TF), in one transaction.\n"
          "\n"
          "options:\n"
          "  --symbol S      the series' symbol\n"
          "  --timeframe TF  the series' timeframe: 45s, 1m, 5m, 4h, 1d, or seconds\n"
          "%s"
          "  -h, --help      show this help\n"
          "\n"
          "exit status: 0 deleted, 1 no such series or store, or the store failed, 2 bad\n"
          "usage\n",
          store_help);
}

static void usage_synth(FILE *out) {
  tack_synth_opts d;
  tack_synth_defaults(&d);
  fprintf(out,
          "usage: tack data synth --symbol S [--symbol S2 ...] --timeframe TF\n"
          "                       (--bars N | --from T --to T) [--start T] [--seed N]\n"
          "                       [--start-price P] [--volatility V] [--trend X]\n"
          "                       [--regime-bars N] [--volume V] [--tick T]\n"
          "                       [--store DIR | --csv FILE]\n"
          "\n"
          "Make realistic synthetic candles and store them as the series (S, TF), or\n"
          "write them as CSV. The same options give the same candles, bit for bit, on\n"
          "every run; another --seed or another symbol gives another series. Backtests\n"
          "read them like imported candles: no network is needed to try tack.\n"
          "\n"
          "The model (docs/data.md, \"Synthetic data\"): regimes of trend up, trend down\n"
          "and range follow each other, each lasting a random number of bars (on average\n"
          "--regime-bars); a trend drifts by --trend per-bar standard deviations a bar, a\n"
          "range pulls the price back toward a slowly moving level. Volatility clusters\n"
          "(GARCH(1,1)) around --volatility a year. Each candle comes from a path of\n"
          "sub-steps, so low <= open, close <= high; volume is lognormal around --volume,\n"
          "larger on large moves, in volatile times and in the UTC afternoon.\n"
          "\n"
          "options:\n"
          "  --symbol S        the series' symbol (as import takes it); give it again for\n"
          "                    more series, up to %d, each with its own random stream\n"
          "  --timeframe TF    the candles' timeframe: 45s, 1m, 5m, 4h, 1d, or seconds\n"
          "  --bars N          make N candles, 1 to %u, from --start\n"
          "  --from T --to T   instead of --bars: the candles that start at or after\n"
          "                    --from and before --to\n"
          "  --start T         the first candle's time, rounded down to the timeframe's\n"
          "                    grid (default 2024-01-01); not with --from\n"
          "  --seed N          the random seed, 0 to 18446744073709551615 (default %llu)\n"
          "  --start-price P   the first candle's open, %g to %g (default %g)\n"
          "  --volatility V    long-run volatility a year (365.25 days), %g to %g\n"
          "                    (default %g: 60%%)\n"
          "  --trend X         a trend's drift a bar, in the bar's standard deviations, 0\n"
          "                    to %g (default %g)\n"
          "  --regime-bars N   mean length of a regime in bars, 1 to %g (default %g)\n"
          "  --volume V        typical volume of a candle, %g to %g (default %g)\n"
          "  --tick T          prices on multiples of T (0.01: cents), as a venue's candles\n"
          "                    are, at least one tick; 0 to %g (default 0: unrounded)\n"
          "  --store DIR       the store's folder (created when missing); without it the\n"
          "                    TACK_STORE environment variable names it, else ./var/store\n"
          "  --csv FILE        instead of the store: write the candles to FILE ('-' is\n"
          "                    stdout) in the form of 'tack data export'; one --symbol\n"
          "  -h, --help        show this help\n"
          "\n"
          "With several symbols, the one given i-th (counting from 0) starts at P / 10^k\n"
          "with typical volume V * 10^k, where k is i mod 4: 30000, 3000, 300, 30, then\n"
          "30000 again.\n"
          "\n"
          "Candles go into the store in transactions of %d. A candle stored with the\n"
          "same values is left alone, so running a command again changes nothing; one\n"
          "stored with other values (another seed) is replaced. Prints a line per series:\n"
          "its candles, their time range, the lowest low and highest high, the share of\n"
          "candles in each regime, and (with the store) how many candles are new,\n"
          "replaced and unchanged.\n"
          "\n"
          "T is UNIX seconds (1704067200) or a UTC date and time in ISO-8601 (2024-01-01,\n"
          "2024-01-01T06:00:00Z).\n"
          "\n"
          "exit status: 0 written, 1 the store or the file failed, 2 bad usage\n",
          SYNTH_SYMBOLS_MAX, SYNTH_BARS_MAX, (unsigned long long)d.seed, TACK_SYNTH_PRICE_MIN,
          TACK_SYNTH_PRICE_MAX, d.start_price, TACK_SYNTH_VOLATILITY_MIN, TACK_SYNTH_VOLATILITY_MAX,
          d.volatility, TACK_SYNTH_TREND_MAX, d.trend, TACK_SYNTH_REGIME_BARS_MAX, d.regime_bars,
          TACK_SYNTH_VOLUME_MIN, TACK_SYNTH_VOLUME_MAX, d.volume, TACK_SYNTH_TICK_MAX, SYNTH_BATCH);
}

/* UNIX seconds, or ISO-8601 when it starts like a date (YYYY-). */
static int parse_time(const char *s, tack_time *out) {
  size_t n = strlen(s);
  int date = n >= 5 && s[4] == '-';
  for (int i = 0; date && i < 4; i++)
    date = s[i] >= '0' && s[i] <= '9';
  return date ? tack_utc_parse(s, out) : tack_candles_parse_seconds(s, n, out);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                 */
/* ------------------------------------------------------------------------ */

/* The value of option name at argv[*i], as "--name V" or "--name=V";
 * NULL when arg is not that option. *missing is set when it has no value. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing) {
  const char *arg = argv[*i];
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0)
    return NULL;
  if (arg[n] == '=') {
    *missing = arg[n + 1] == '\0';
    return arg + n + 1;
  }
  if (arg[n] != '\0')
    return NULL;
  if (*i + 1 >= argc) {
    *missing = 1;
    return arg;
  }
  return argv[++*i];
}

/* --store, else TACK_STORE when set and not empty, else the default. */
static void resolve_store(data_args *a) {
  const char *env = getenv("TACK_STORE");
  a->store_from = a->store ? 0 : env && *env ? 1 : 2;
  if (!a->store)
    a->store = env && *env ? env : DEFAULT_STORE;
}

/* Returns 0 or TACK_EXIT_USAGE (the message is printed). */
static int parse_args(int argc, char **argv, unsigned opts, data_args *a) {
  static const char *const names[] = {"--symbol", "--timeframe", "--store", "--from", "--to"};
  static const unsigned need[] = {OPT_SERIES, OPT_SERIES, 0, OPT_RANGE, OPT_RANGE};
  const char **slots[] = {&a->symbol, &a->timeframe, &a->store, &a->from_text, &a->to_text};
  int options = 1;

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    int matched = 0, missing = 0;
    if (options && strcmp(arg, "--") == 0) {
      options = 0;
      continue;
    }
    for (size_t o = 0; options && o < sizeof names / sizeof names[0] && !matched; o++) {
      if ((need[o] & opts) != need[o])
        continue;
      const char *v = opt_value(argc, argv, &i, names[o], &missing);
      if (!v)
        continue;
      if (missing)
        return tack_cli_usage_error(a->cmd, "%s needs a value", names[o]);
      if (*slots[o])
        return tack_cli_usage_error(a->cmd, "%s given twice", names[o]);
      *slots[o] = v;
      matched = 1;
    }
    if (matched)
      continue;
    if (options && arg[0] == '-' && arg[1] != '\0')
      return tack_cli_usage_error(a->cmd, "unknown option '%s'", arg);
    if (!(opts & OPT_FILE))
      return tack_cli_usage_error(a->cmd, "unexpected argument '%s'", arg);
    if (a->file)
      return tack_cli_usage_error(a->cmd, "one file at a time ('%s' and '%s' given)", a->file, arg);
    a->file = arg;
  }

  if ((opts & OPT_FILE) && !a->file)
    return tack_cli_usage_error(a->cmd, "no file given");
  if (opts & OPT_SERIES) {
    if (!a->symbol)
      return tack_cli_usage_error(a->cmd, "--symbol is required");
    if (!a->timeframe)
      return tack_cli_usage_error(a->cmd, "--timeframe is required");
    if (tack_candles_symbol_check(a->symbol) != 0)
      return tack_cli_usage_error(a->cmd,
                                  "--symbol '%s': a symbol is 1 to %d printable ASCII characters "
                                  "without spaces",
                                  a->symbol, TACK_CANDLES_SYMBOL_MAX);
    if (tack_timeframe_parse(a->timeframe, &a->tf) != 0)
      return tack_cli_usage_error(a->cmd,
                                  "--timeframe '%s': expected a timeframe such as 45s, 1m, 4h, "
                                  "1d, or seconds (at most 7 days)",
                                  a->timeframe);
  }
  a->from = INT64_MIN;
  a->to = INT64_MAX;
  if (a->from_text && parse_time(a->from_text, &a->from) != 0)
    return tack_cli_usage_error(a->cmd,
                                "--from '%s': expected UNIX seconds or a UTC date and time "
                                "such as 2018-05-15 or 2018-05-15T06:00:00Z",
                                a->from_text);
  if (a->to_text && parse_time(a->to_text, &a->to) != 0)
    return tack_cli_usage_error(a->cmd,
                                "--to '%s': expected UNIX seconds or a UTC date and time such "
                                "as 2018-05-15 or 2018-05-15T06:00:00Z",
                                a->to_text);
  if (a->from >= a->to)
    return tack_cli_usage_error(a->cmd, "--from %s is not before --to %s",
                                a->from_text ? a->from_text : "(the start)",
                                a->to_text ? a->to_text : "(the end)");

  resolve_store(a);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The store                                                                 */
/* ------------------------------------------------------------------------ */

/* Opens the store and its candles. Only import may create a store: the
 * other commands say that there is none rather than leave an empty one. */
static int open_candles(const data_args *a, int create, tack_store **st, tack_candles **cs) {
  static const char *const origin[] = {"--store", "TACK_STORE", "the default"};
  char probe[4200];
  struct stat sb;
  int rc;

  snprintf(probe, sizeof probe, "%s/data.mdb", a->store);
  if (!create && stat(probe, &sb) != 0) {
    fprintf(stderr, "tack: %s: no store at %s (%s): 'tack data import' makes one\n", a->cmd,
            a->store, origin[a->store_from]);
    return TACK_ENOENT;
  }
  rc = tack_store_open(a->store, 0, st);
  if (rc == 0) {
    rc = tack_candles_open(*st, cs);
    if (rc != 0) {
      tack_store_close(*st);
      *st = NULL;
    }
  }
  if (rc != 0)
    fprintf(stderr, "tack: %s: cannot use the store at %s (%s): %s\n", a->cmd, a->store,
            origin[a->store_from], tack_strerror(rc));
  return rc;
}

static void series_name(const data_args *a, char *buf, size_t cap) {
  char tf[32];
  tack_timeframe_format(a->tf, tf, sizeof tf);
  snprintf(buf, cap, "%s %s", a->symbol, tf);
}

/* ------------------------------------------------------------------------ */
/* import                                                                    */
/* ------------------------------------------------------------------------ */

static int cmd_import(int argc, char **argv) {
  data_args a = {.cmd = "data import"};
  tack_diag d = TACK_DIAG_INIT;
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  tack_bar *bars = NULL;
  uint8_t *status = NULL;
  size_t n = 0, n_bad = 0;
  tack_candles_stats stats;
  char name[128], first[ISO_MAX], last[ISO_MAX];
  int exit_code = TACK_EXIT_FAIL;

  if (parse_args(argc, argv, OPT_FILE | OPT_SERIES, &a) != 0)
    return TACK_EXIT_USAGE;
  series_name(&a, name, sizeof name);
  const char *file = strcmp(a.file, "-") == 0 ? "<stdin>" : a.file; /* as messages name it */

  /* The whole file is read and checked before the store is even opened. */
  int rc = tack_candles_csv_load(a.file, a.tf, &bars, &n, &n_bad, MAX_SHOWN, &d);
  if (rc != 0) {
    tack_diag_print(&d, stderr);
    if (n_bad > MAX_SHOWN)
      fprintf(stderr, "error: %s: ... and %zu more bad rows\n", file, n_bad - MAX_SHOWN);
    if (rc == TACK_EPARSE)
      fprintf(stderr, "tack: %s: %s: %zu bad row%s: nothing imported\n", a.cmd, file, n_bad,
              n_bad == 1 ? "" : "s");
    else
      fprintf(stderr, "tack: %s: %s: %s: nothing imported\n", a.cmd, file, tack_strerror(rc));
    goto done;
  }
  status = tack_alloc(NULL, n);
  if (!status) {
    fprintf(stderr, "tack: %s: out of memory\n", a.cmd);
    goto done;
  }
  if (open_candles(&a, 1, &st, &cs) != 0)
    goto done;
  rc = tack_candles_put(cs, a.symbol, a.tf, bars, n, status, &stats);
  if (rc != 0) {
    fprintf(stderr, "tack: %s: %s: cannot store the candles in %s: %s: nothing imported\n", a.cmd,
            file, a.store, tack_strerror(rc));
    goto done;
  }

  /* Row i is on line i + 2: the header is line 1 and blank lines may only
   * end the file, so the line numbers are exact. */
  size_t shown = 0;
  for (size_t i = 0; i < n && stats.replaced; i++) {
    if (status[i] != TACK_CANDLE_REPLACED)
      continue;
    if (shown++ < MAX_SHOWN) {
      tack_utc_format(bars[i].ts, first, sizeof first);
      printf("%s:%zu: replaced the stored candle of %s\n", file, i + 2, first);
    }
  }
  if (shown > MAX_SHOWN)
    printf("%s: ... and %zu more replaced candles\n", file, shown - MAX_SHOWN);
  tack_utc_format(bars[0].ts, first, sizeof first);
  tack_utc_format(bars[n - 1].ts, last, sizeof last);
  printf("%s: %zu rows read, %s .. %s\n", file, n, first, last);
  printf("%s in %s: %llu new, %llu replaced, %llu unchanged\n", name, a.store,
         (unsigned long long)stats.added, (unsigned long long)stats.replaced,
         (unsigned long long)stats.unchanged);
  exit_code = TACK_EXIT_OK;

done:
  tack_candles_close(cs);
  tack_store_close(st);
  tack_free(NULL, status);
  tack_free(NULL, bars);
  tack_diag_free(&d);
  return exit_code;
}

/* ------------------------------------------------------------------------ */
/* ls                                                                        */
/* ------------------------------------------------------------------------ */

typedef struct gap_count {
  tack_time prev;
  tack_time step;
  int have_prev;
  uint64_t gaps;
} gap_count;

static int count_gaps(void *data, const tack_bar *bars, size_t n) {
  gap_count *g = data;
  for (size_t i = 0; i < n; i++) {
    if (g->have_prev && bars[i].ts - g->prev > g->step)
      g->gaps++;
    g->prev = bars[i].ts;
    g->have_prev = 1;
  }
  return 0;
}

static int cmd_ls(int argc, char **argv) {
  data_args a = {.cmd = "data ls"};
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  tack_candles_series *list = NULL;
  uint64_t *gaps = NULL;
  size_t n = 0;
  int exit_code = TACK_EXIT_FAIL;

  if (parse_args(argc, argv, 0, &a) != 0)
    return TACK_EXIT_USAGE;
  if (open_candles(&a, 0, &st, &cs) != 0)
    goto done;
  int rc = tack_candles_list(cs, &list, &n);
  if (rc != 0) {
    fprintf(stderr, "tack: %s: cannot list the series in %s: %s\n", a.cmd, a.store,
            tack_strerror(rc));
    goto done;
  }
  if (n == 0) {
    printf("no candles in %s\n", a.store);
    exit_code = TACK_EXIT_OK;
    goto done;
  }
  gaps = tack_calloc(NULL, n, sizeof *gaps);
  if (!gaps) {
    fprintf(stderr, "tack: %s: out of memory\n", a.cmd);
    goto done;
  }
  int wsym = (int)strlen("SYMBOL");
  for (size_t i = 0; i < n; i++) {
    gap_count g = {0, (tack_time)list[i].timeframe_s * TACK_NS_PER_SEC, 0, 0};
    rc = tack_candles_read(cs, list[i].symbol, list[i].timeframe_s, INT64_MIN, INT64_MAX,
                           count_gaps, &g);
    if (rc != 0) {
      fprintf(stderr, "tack: %s: cannot read %s in %s: %s\n", a.cmd, list[i].symbol, a.store,
              tack_strerror(rc));
      goto done;
    }
    gaps[i] = g.gaps;
    int w = (int)strlen(list[i].symbol);
    wsym = w > wsym ? w : wsym;
  }
  printf("%-*s  %-9s  %10s  %-20s  %-20s  %6s\n", wsym, "SYMBOL", "TIMEFRAME", "CANDLES", "FIRST",
         "LAST", "GAPS");
  for (size_t i = 0; i < n; i++) {
    char tf[32], first[ISO_MAX], last[ISO_MAX];
    tack_timeframe_format(list[i].timeframe_s, tf, sizeof tf);
    tack_utc_format(list[i].first, first, sizeof first);
    tack_utc_format(list[i].last, last, sizeof last);
    printf("%-*s  %-9s  %10llu  %-20s  %-20s  %6llu\n", wsym, list[i].symbol, tf,
           (unsigned long long)list[i].count, first, last, (unsigned long long)gaps[i]);
  }
  exit_code = TACK_EXIT_OK;

done:
  tack_free(NULL, gaps);
  tack_free(NULL, list);
  tack_candles_close(cs);
  tack_store_close(st);
  return exit_code;
}

/* ------------------------------------------------------------------------ */
/* export, rm                                                                */
/* ------------------------------------------------------------------------ */

static int write_rows(void *data, const tack_bar *bars, size_t n) {
  FILE *out = data;
  char row[TACK_CANDLES_CSV_ROW_MAX];
  for (size_t i = 0; i < n; i++) {
    size_t len = tack_candles_csv_row(&bars[i], row);
    if (fwrite(row, 1, len, out) != len)
      return TACK_EIO;
  }
  return 0;
}

static int cmd_export(int argc, char **argv) {
  data_args a = {.cmd = "data export"};
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  char name[128];
  int exit_code = TACK_EXIT_FAIL;

  if (parse_args(argc, argv, OPT_SERIES | OPT_RANGE, &a) != 0)
    return TACK_EXIT_USAGE;
  series_name(&a, name, sizeof name);
  if (open_candles(&a, 0, &st, &cs) != 0)
    goto done;
  fputs(TACK_CANDLES_CSV_HEADER "\n", stdout);
  int rc = tack_candles_read(cs, a.symbol, a.tf, a.from, a.to, write_rows, stdout);
  if (rc == 0 && fflush(stdout) != 0)
    rc = TACK_EIO;
  if (rc == TACK_ENOENT)
    fprintf(stderr, "tack: %s: no series %s in %s: 'tack data ls' lists them\n", a.cmd, name,
            a.store);
  else if (rc == TACK_EIO)
    fprintf(stderr, "tack: %s: cannot write to stdout\n", a.cmd);
  else if (rc != 0)
    fprintf(stderr, "tack: %s: cannot read %s in %s: %s\n", a.cmd, name, a.store,
            tack_strerror(rc));
  else
    exit_code = TACK_EXIT_OK;

done:
  tack_candles_close(cs);
  tack_store_close(st);
  return exit_code;
}

static int cmd_rm(int argc, char **argv) {
  data_args a = {.cmd = "data rm"};
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  uint64_t deleted = 0;
  char name[128];
  int exit_code = TACK_EXIT_FAIL;

  if (parse_args(argc, argv, OPT_SERIES, &a) != 0)
    return TACK_EXIT_USAGE;
  series_name(&a, name, sizeof name);
  if (open_candles(&a, 0, &st, &cs) != 0)
    goto done;
  int rc = tack_candles_delete(cs, a.symbol, a.tf, &deleted);
  if (rc == TACK_ENOENT) {
    fprintf(stderr, "tack: %s: no series %s in %s: 'tack data ls' lists them\n", a.cmd, name,
            a.store);
  } else if (rc != 0) {
    fprintf(stderr, "tack: %s: cannot delete %s in %s: %s\n", a.cmd, name, a.store,
            tack_strerror(rc));
  } else {
    printf("%s in %s: %llu candles deleted\n", name, a.store, (unsigned long long)deleted);
    exit_code = TACK_EXIT_OK;
  }

done:
  tack_candles_close(cs);
  tack_store_close(st);
  return exit_code;
}

/* ------------------------------------------------------------------------ */
/* synth                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct synth_args {
  const char *symbols[SYNTH_SYMBOLS_MAX];
  size_t n_symbols;
  const char *timeframe, *bars, *from, *to, *start, *seed, *start_price, *volatility, *trend,
      *regime_bars, *volume, *tick, *store, *csv;
  /* What they say, once checked. */
  tack_synth_opts opts; /* the first symbol's; the others' are derived from it */
  uint32_t tf;
  uint64_t n_bars;
} synth_args;

/* The scale of the i-th symbol's start price (divided) and volume (multiplied). */
static double synth_scale(size_t i) {
  static const double scale[] = {1, 10, 100, 1000};
  return scale[i % 4];
}

static void synth_derive(const synth_args *s, size_t i, tack_synth_opts *o) {
  *o = s->opts;
  o->symbol = s->symbols[i];
  o->start_price = s->opts.start_price / synth_scale(i);
  o->volume = s->opts.volume * synth_scale(i);
}

/* A whole decimal number without sign or spaces. */
static int parse_u64(const char *text, uint64_t *out) {
  char *end;
  if (*text < '0' || *text > '9')
    return TACK_EPARSE;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (*end != '\0' || errno == ERANGE)
    return TACK_EPARSE;
  *out = v;
  return 0;
}

/* A finite decimal number (12, -0.5, 1.5e3): strtod without its spaces,
 * hex, inf and nan. */
static int parse_number(const char *text, double *out) {
  char *end;
  if (!strchr("0123456789.+-", *text) || *text == '\0' || strpbrk(text, "xXiInN"))
    return TACK_EPARSE;
  double v = strtod(text, &end);
  if (*end != '\0' || end == text || !(v - v == 0)) /* v - v is NaN for inf and nan */
    return TACK_EPARSE;
  *out = v;
  return 0;
}

/* Collects the arguments. Returns 0 or TACK_EXIT_USAGE (message printed). */
static int synth_collect(int argc, char **argv, const char *cmd, synth_args *s) {
  static const char *const names[] = {
      "--timeframe",  "--bars",  "--from",   "--to",          "--start", "--seed",  "--start-price",
      "--volatility", "--trend", "--volume", "--regime-bars", "--tick",  "--store", "--csv"};
  const char **slots[] = {&s->timeframe,   &s->bars,        &s->from,       &s->to,    &s->start,
                          &s->seed,        &s->start_price, &s->volatility, &s->trend, &s->volume,
                          &s->regime_bars, &s->tick,        &s->store,      &s->csv};
  int options = 1;

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    int missing = 0, matched = 0;
    if (options && strcmp(arg, "--") == 0) {
      options = 0;
      continue;
    }
    if (!options || arg[0] != '-' || arg[1] == '\0')
      return tack_cli_usage_error(cmd, "unexpected argument '%s'", arg);
    const char *v = opt_value(argc, argv, &i, "--symbol", &missing);
    if (v) {
      if (missing)
        return tack_cli_usage_error(cmd, "--symbol needs a value");
      if (s->n_symbols == SYNTH_SYMBOLS_MAX)
        return tack_cli_usage_error(cmd, "more than %d --symbol options", SYNTH_SYMBOLS_MAX);
      s->symbols[s->n_symbols++] = v;
      continue;
    }
    for (size_t o = 0; o < sizeof names / sizeof names[0] && !matched; o++) {
      v = opt_value(argc, argv, &i, names[o], &missing);
      if (!v)
        continue;
      if (missing)
        return tack_cli_usage_error(cmd, "%s needs a value", names[o]);
      if (*slots[o])
        return tack_cli_usage_error(cmd, "%s given twice", names[o]);
      *slots[o] = v;
      matched = 1;
    }
    if (!matched)
      return tack_cli_usage_error(cmd, "unknown option '%s'", arg);
  }
  return 0;
}

/* The number options, each with its default when absent. */
static int synth_numbers(const char *cmd, synth_args *s) {
  struct {
    const char *name, *text, *example;
    double *out;
  } nums[] = {
      {"--start-price", s->start_price, "30000", &s->opts.start_price},
      {"--volatility", s->volatility, "0.6", &s->opts.volatility},
      {"--trend", s->trend, "0.08", &s->opts.trend},
      {"--regime-bars", s->regime_bars, "600", &s->opts.regime_bars},
      {"--volume", s->volume, "50", &s->opts.volume},
      {"--tick", s->tick, "0.01", &s->opts.tick},
  };
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
    if (nums[i].text && parse_number(nums[i].text, nums[i].out) != 0)
      return tack_cli_usage_error(cmd, "%s '%s': expected a number such as %s", nums[i].name,
                                  nums[i].text, nums[i].example);
  if (s->seed && parse_u64(s->seed, &s->opts.seed) != 0)
    return tack_cli_usage_error(cmd,
                                "--seed '%s': expected a whole number from 0 to "
                                "18446744073709551615",
                                s->seed);
  return 0;
}

/* The candles to make: s->opts.start (on the grid) and s->n_bars. */
static int synth_span(const char *cmd, synth_args *s) {
  static const char time_help[] = "expected UNIX seconds or a UTC date and time such as "
                                  "2024-01-01 or 2024-01-01T06:00:00Z";
  int64_t tf_ns = (int64_t)s->tf * TACK_NS_PER_SEC;
  char tf[32];
  tack_timeframe_format(s->tf, tf, sizeof tf);

  if (s->start && parse_time(s->start, &s->opts.start) != 0)
    return tack_cli_usage_error(cmd, "--start '%s': %s", s->start, time_help);
  if (s->bars) {
    if (parse_u64(s->bars, &s->n_bars) != 0 || s->n_bars == 0 || s->n_bars > SYNTH_BARS_MAX)
      return tack_cli_usage_error(cmd,
                                  "--bars '%s': expected a whole number of candles from 1 to %u",
                                  s->bars, SYNTH_BARS_MAX);
    if (s->opts.start < INT64_MIN + tf_ns)
      return 0; /* tack_synth_check() names --start */
    s->opts.start = tack_floor_div(s->opts.start, tf_ns) * tf_ns;
    if ((uint64_t)(INT64_MAX - s->opts.start) / (uint64_t)tf_ns < s->n_bars - 1)
      return tack_cli_usage_error(cmd,
                                  "--bars %s: the last candle would start after 2262, the "
                                  "latest time tack holds",
                                  s->bars);
    return 0;
  }

  tack_time from, to;
  if (parse_time(s->from, &from) != 0)
    return tack_cli_usage_error(cmd, "--from '%s': %s", s->from, time_help);
  if (parse_time(s->to, &to) != 0)
    return tack_cli_usage_error(cmd, "--to '%s': %s", s->to, time_help);
  if (from >= to)
    return tack_cli_usage_error(cmd, "--from %s is not before --to %s", s->from, s->to);
  /* The first grid time at or after from, without overflow at either end
   * (C's % takes the sign of from). */
  tack_time first = to, rem = from % tf_ns;
  if (rem <= 0)
    first = from - rem;
  else if (from <= INT64_MAX - (tf_ns - rem))
    first = from + (tf_ns - rem);
  if (first >= to)
    return tack_cli_usage_error(cmd, "--from %s --to %s: no %s candle starts in that range",
                                s->from, s->to, tf);
  uint64_t span = (uint64_t)to - (uint64_t)first;
  s->n_bars = span / (uint64_t)tf_ns + (span % (uint64_t)tf_ns != 0);
  if (s->n_bars > SYNTH_BARS_MAX)
    return tack_cli_usage_error(cmd,
                                "--from %s --to %s: %llu candles of %s, more than the %u one "
                                "command makes",
                                s->from, s->to, (unsigned long long)s->n_bars, tf, SYNTH_BARS_MAX);
  s->opts.start = first;
  return 0;
}

/* Everything checked, in the order a person would fix it. Returns 0 or
 * TACK_EXIT_USAGE (message printed). */
static int synth_parse(int argc, char **argv, data_args *a, synth_args *s) {
  char why[256];
  tack_synth_defaults(&s->opts);
  if (synth_collect(argc, argv, a->cmd, s) != 0)
    return TACK_EXIT_USAGE;
  if (s->n_symbols == 0)
    return tack_cli_usage_error(a->cmd, "--symbol is required");
  if (!s->timeframe)
    return tack_cli_usage_error(a->cmd, "--timeframe is required");
  for (size_t i = 0; i < s->n_symbols; i++) {
    if (tack_candles_symbol_check(s->symbols[i]) != 0)
      return tack_cli_usage_error(a->cmd,
                                  "--symbol '%s': a symbol is 1 to %d printable ASCII characters "
                                  "without spaces",
                                  s->symbols[i], TACK_CANDLES_SYMBOL_MAX);
    for (size_t j = 0; j < i; j++)
      if (strcmp(s->symbols[i], s->symbols[j]) == 0)
        return tack_cli_usage_error(a->cmd, "--symbol %s given twice", s->symbols[i]);
  }
  if (tack_timeframe_parse(s->timeframe, &s->tf) != 0)
    return tack_cli_usage_error(a->cmd,
                                "--timeframe '%s': expected a timeframe such as 45s, 1m, 4h, "
                                "1d, or seconds (at most 7 days)",
                                s->timeframe);
  s->opts.timeframe_s = s->tf;
  if (s->bars && (s->from || s->to))
    return tack_cli_usage_error(a->cmd,
                                "--bars and --%s both given: give the number of candles "
                                "or their time range, not both",
                                s->from ? "from" : "to");
  if (!s->bars && !s->from && !s->to)
    return tack_cli_usage_error(a->cmd, "how many candles? give --bars N, or --from T and --to T");
  if (!s->bars && (!s->from || !s->to))
    return tack_cli_usage_error(a->cmd, "--%s without --%s: give both, or --bars N",
                                s->from ? "from" : "to", s->from ? "to" : "from");
  if (s->start && s->from)
    return tack_cli_usage_error(a->cmd, "--start and --from both given: with --from, the first "
                                        "candle is the first on the grid at or after it");
  if (s->store && s->csv)
    return tack_cli_usage_error(a->cmd, "--store and --csv both given: the candles go to one");
  if (s->csv && s->n_symbols > 1)
    return tack_cli_usage_error(a->cmd,
                                "--csv takes one --symbol (%zu given): a CSV file holds "
                                "one series",
                                s->n_symbols);
  if (synth_numbers(a->cmd, s) != 0 || synth_span(a->cmd, s) != 0)
    return TACK_EXIT_USAGE;
  for (size_t i = 0; i < s->n_symbols; i++) {
    tack_synth_opts o;
    synth_derive(s, i, &o);
    if (tack_synth_check(&o, why, sizeof why) == 0)
      continue;
    int derived = strncmp(why, "start-price", 11) == 0 || strncmp(why, "volume", 6) == 0;
    if (i == 0 || !derived)
      return tack_cli_usage_error(a->cmd, "--%s", why);
    return tack_cli_usage_error(a->cmd,
                                "--%s, for --symbol %s (the start price of symbol %zu, from 0, "
                                "is --start-price / %g and its volume --volume * %g)",
                                why, s->symbols[i], i, synth_scale(i), synth_scale(i));
  }
  a->store = s->store;
  resolve_store(a);
  return 0;
}

/* Make one series and write it in batches to the store or the CSV file. */
static int synth_series(const data_args *a, const synth_args *s, size_t i, tack_candles *cs,
                        FILE *csv, const char *csv_name, tack_bar *batch, FILE *report) {
  tack_synth_opts o;
  tack_synth g;
  tack_candles_stats total = {0, 0, 0};
  uint64_t regimes[3] = {0, 0, 0}, made = 0;
  double low = 0, high = 0;
  char name[128], first[ISO_MAX], last[ISO_MAX];

  synth_derive(s, i, &o);
  snprintf(name, sizeof name, "%s ", o.symbol);
  tack_timeframe_format(s->tf, name + strlen(name), sizeof name - strlen(name));
  if (tack_synth_init(&g, &o) != 0) { /* checked by synth_parse() */
    fprintf(stderr, "tack: %s: %s: the generator refused its options\n", a->cmd, name);
    return TACK_EINVAL;
  }
  while (made < s->n_bars) {
    size_t n = s->n_bars - made < SYNTH_BATCH ? (size_t)(s->n_bars - made) : SYNTH_BATCH;
    for (size_t j = 0; j < n; j++) {
      tack_synth_next(&g, &batch[j]);
      regimes[tack_synth_regime(&g)]++;
      if (made + j == 0 || batch[j].low < low)
        low = batch[j].low;
      if (made + j == 0 || batch[j].high > high)
        high = batch[j].high;
    }
    if (csv) {
      if (write_rows(csv, batch, n) != 0) {
        fprintf(stderr, "tack: %s: cannot write to %s: %s\n", a->cmd, csv_name, strerror(errno));
        return TACK_EIO;
      }
    } else {
      tack_candles_stats st;
      int rc = tack_candles_put(cs, o.symbol, s->tf, batch, n, NULL, &st);
      if (rc != 0) {
        fprintf(stderr,
                "tack: %s: cannot store %s in %s: %s (the first %llu candles are stored; "
                "running the command again completes the series)\n",
                a->cmd, name, a->store, tack_strerror(rc), (unsigned long long)made);
        return rc;
      }
      total.added += st.added;
      total.replaced += st.replaced;
      total.unchanged += st.unchanged;
    }
    made += n;
  }

  tack_time tf_ns = (tack_time)s->tf * TACK_NS_PER_SEC;
  tack_utc_format(g.o.start, first, sizeof first);
  tack_utc_format(g.o.start + (tack_time)(s->n_bars - 1) * tf_ns, last, sizeof last);
  double pct = 100.0 / (double)s->n_bars;
  fprintf(report,
          "%s %s %s: %llu candles, %s .. %s, price %.6g .. %.6g, regimes up %.1f%% down %.1f%% "
          "range %.1f%%",
          name, csv ? "to" : "in", csv ? csv_name : a->store, (unsigned long long)s->n_bars, first,
          last, low, high, (double)regimes[TACK_SYNTH_UP] * pct,
          (double)regimes[TACK_SYNTH_DOWN] * pct, (double)regimes[TACK_SYNTH_RANGE] * pct);
  if (!csv)
    fprintf(report, ": %llu new, %llu replaced, %llu unchanged", (unsigned long long)total.added,
            (unsigned long long)total.replaced, (unsigned long long)total.unchanged);
  fputc('\n', report);
  return 0;
}

static int cmd_synth(int argc, char **argv) {
  data_args a = {.cmd = "data synth"};
  synth_args s;
  tack_store *st = NULL;
  tack_candles *cs = NULL;
  tack_bar *batch = NULL;
  FILE *csv = NULL;
  const char *csv_name = NULL;
  int exit_code = TACK_EXIT_FAIL;

  memset(&s, 0, sizeof s);
  if (synth_parse(argc, argv, &a, &s) != 0)
    return TACK_EXIT_USAGE;
  batch = tack_alloc(NULL, SYNTH_BATCH * sizeof *batch);
  if (!batch) {
    fprintf(stderr, "tack: %s: out of memory\n", a.cmd);
    goto done;
  }
  if (s.csv) {
    int to_stdout = strcmp(s.csv, "-") == 0;
    csv_name = to_stdout ? "<stdout>" : s.csv;
    csv = to_stdout ? stdout : fopen(s.csv, "wb");
    if (!csv) {
      fprintf(stderr, "tack: %s: cannot create %s: %s\n", a.cmd, s.csv, strerror(errno));
      goto done;
    }
    if (fputs(TACK_CANDLES_CSV_HEADER "\n", csv) == EOF) {
      fprintf(stderr, "tack: %s: cannot write to %s: %s\n", a.cmd, csv_name, strerror(errno));
      goto done;
    }
  } else if (open_candles(&a, 1, &st, &cs) != 0) {
    goto done;
  }
  /* With the CSV on stdout, the report goes to stderr. */
  FILE *report = csv == stdout ? stderr : stdout;
  for (size_t i = 0; i < s.n_symbols; i++)
    if (synth_series(&a, &s, i, cs, csv, csv_name, batch, report) != 0)
      goto done;
  if (csv) {
    int rc = csv == stdout ? fflush(csv) : fclose(csv);
    if (csv != stdout)
      csv = NULL;
    if (rc != 0) {
      fprintf(stderr, "tack: %s: cannot write to %s: %s\n", a.cmd, csv_name, strerror(errno));
      goto done;
    }
  }
  exit_code = TACK_EXIT_OK;

done:
  if (csv && csv != stdout)
    fclose(csv);
  /* A CSV file that failed half-way is removed rather than left looking whole. */
  if (exit_code != TACK_EXIT_OK && s.csv && csv_name && csv_name == s.csv)
    remove(s.csv);
  tack_candles_close(cs);
  tack_store_close(st);
  tack_free(NULL, batch);
  return exit_code;
}

/* ------------------------------------------------------------------------ */

typedef struct data_command {
  const char *name;
  int (*run)(int argc, char **argv);
  void (*usage)(FILE *out);
} data_command;

static const data_command data_commands[] = {
    {"import", cmd_import, usage_import}, {"ls", cmd_ls, usage_ls},
    {"export", cmd_export, usage_export}, {"rm", cmd_rm, usage_rm},
    {"synth", cmd_synth, usage_synth},
};

int tack_cmd_data(int argc, char **argv) {
  if (argc < 2)
    return tack_cli_usage_error("data", "no command given (import, ls, export, rm or synth)");
  const char *sub = argv[1];
  if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
    usage_data(stdout);
    return TACK_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof data_commands / sizeof data_commands[0]; i++) {
    if (strcmp(sub, data_commands[i].name) != 0)
      continue;
    if (tack_cli_wants_help(argc - 1, argv + 1)) {
      data_commands[i].usage(stdout);
      return TACK_EXIT_OK;
    }
    return data_commands[i].run(argc - 1, argv + 1);
  }
  return tack_cli_usage_error("data", "unknown command '%s' (import, ls, export, rm or synth)",
                              sub);
}
