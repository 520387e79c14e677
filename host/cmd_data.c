/*
 * cmd_data.c: `tack data import|ls|export|rm`, candles in the store from
 * and to CSV files. The storage and the CSV form are candles.c's; this file
 * owns the command line, the store folder's default, UTC times in ISO-8601
 * and what the commands print. See docs/data.md.
 */
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
#include "utc.h"

#define DEFAULT_STORE "./var/store"
#define MAX_SHOWN 20 /* bad rows and replaced candles listed one by one */
#define ISO_MAX 40

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
               "series as CSV, delete a series. A series is the candles of one symbol and one\n"
               "timeframe.\n"
               "\n"
               "commands:\n"
               "  import FILE --symbol S --timeframe TF   check FILE and store its candles\n"
               "  ls                                      list the series\n"
               "  export --symbol S --timeframe TF [--from T] [--to T]\n"
               "                                          write a series as CSV to stdout\n"
               "  rm --symbol S --timeframe TF            delete a series\n"
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

  const char *env = getenv("TACK_STORE");
  a->store_from = a->store ? 0 : env && *env ? 1 : 2;
  if (!a->store)
    a->store = env && *env ? env : DEFAULT_STORE;
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

typedef struct data_command {
  const char *name;
  int (*run)(int argc, char **argv);
  void (*usage)(FILE *out);
} data_command;

static const data_command data_commands[] = {
    {"import", cmd_import, usage_import},
    {"ls", cmd_ls, usage_ls},
    {"export", cmd_export, usage_export},
    {"rm", cmd_rm, usage_rm},
};

int tack_cmd_data(int argc, char **argv) {
  if (argc < 2)
    return tack_cli_usage_error("data", "no command given (import, ls, export or rm)");
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
  return tack_cli_usage_error("data", "unknown command '%s' (import, ls, export or rm)", sub);
}
