/*
 * cmd_bars.c: `tack bars`: the host's bar builder and resampler (bars.h)
 * over CSV files, printing the closed bars as CSV: trades to bars of a
 * timeframe, or bars to bars of a multiple of their timeframe.
 *
 * Resampling needs the input's timeframe. Unless --from-timeframe gives it,
 * it is the smallest step between rows, found by a first pass over the file
 * (standard input is spooled to a temporary file for that), so that the
 * input still streams and a malformed row is reported before any output.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bars.h"
#include "cli.h"
#include "config.h"
#include "csv.h"

static const char *const cmd = "bars";

#define NS_PER_SEC TACK_NS_PER_SEC

static void print_help(void) {
  printf("usage: tack bars --timeframe TF (--trades FILE | --csv FILE) [--from-timeframe TF]\n"
         "                 [--gaps skip|fill] [--close-at-end]\n"
         "\n"
         "Build bars of a timeframe from trades, or resample bars to a multiple of their\n"
         "timeframe, with the host's own bar builder and resampler, and print the closed\n"
         "bars as CSV.\n"
         "\n"
         "options:\n"
         "  --timeframe TF        the bars to make: 45s, 1m, 5m, 4h, 1d, or seconds (90);\n"
         "                        whole seconds up to 7 days. Bars are aligned on the UNIX\n"
         "                        epoch: 1d bars start at 00:00 UTC\n"
         "  --trades FILE         trades: a header line ts,price,size,side, then one row per\n"
         "                        trade; side is buy, sell or empty. Trades out of order are\n"
         "                        applied in time order within their bar; a trade for a bar\n"
         "                        already closed is late and dropped (counted on stderr)\n"
         "  --csv FILE            bars to resample: a header line ts,open,high,low,close,\n"
         "                        volume, then one row per bar, in increasing time order\n"
         "  --from-timeframe TF   the timeframe of the --csv bars; by default the smallest\n"
         "                        step between two rows. TF must be a whole multiple of it\n"
         "  --gaps skip|fill      an interval with no trade (or no input bar): skip makes no\n"
         "                        bar (the default); fill makes a filler bar at the previous\n"
         "                        close with volume 0\n"
         "  --close-at-end        treat the end of the data as the end of the last bar's\n"
         "                        interval and print that bar too (see below)\n"
         "  -h, --help            show this help\n"
         "\n"
         "FILE '-' reads standard input. ts is UNIX seconds, with up to 9 decimals.\n"
         "\n"
         "output: the header ts,open,high,low,close,volume and one row per closed bar, in\n"
         "time order, ts the start of its interval, values printed with %%.17g (exact).\n"
         "A bar closes when data of a later interval arrives, or, when resampling, once\n"
         "the input bar that ends its interval is read. The last bar is often still open\n"
         "at the end of the data (more trades could follow): it is not printed unless\n"
         "--close-at-end is given; stderr says so. stderr also reports how many inputs\n"
         "were read and how many were late or duplicates (dropped, with the first line).\n"
         "\n"
         "A malformed row stops the command with FILE:LINE and what is wrong, and nothing\n"
         "more is printed.\n"
         "\n"
         "exit status: 0 done; 1 a malformed input, or bars whose timeframe (inferred)\n"
         "does not divide TF; 2 bad usage.\n"
         "\n"
         "examples:\n"
         "  tack bars --timeframe 1m --trades trades.csv\n"
         "  tack bars --timeframe 4h --csv btcusd_1h.csv\n");
}

typedef struct bars_args {
  const char *trades;
  const char *csv;
  uint32_t tf;      /* --timeframe, seconds */
  uint32_t from_tf; /* --from-timeframe, 0 when not given */
  uint32_t gaps;    /* TACK_BARS_GAP_* */
  int close_at_end;
} bars_args;

static int timeframe_arg(const char *option, const char *text, uint32_t *out) {
  if (tack_timeframe_parse(text, out) != 0)
    return tack_cli_usage_error(cmd,
                                "%s '%s' is not a timeframe: write 45s, 1m, 5m, 4h, 1d or a "
                                "number of seconds (whole seconds, at most 7 days)",
                                option, text);
  return TACK_EXIT_OK;
}

static int parse_args(int argc, char **argv, bars_args *a) {
  const char *v, *tf = NULL, *from = NULL, *gaps = NULL;
  int got;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if ((got = tack_cli_option(argc, argv, &i, "--timeframe", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(cmd, "--timeframe needs a timeframe, e.g. 5m");
      tf = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--from-timeframe", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(cmd, "--from-timeframe needs a timeframe, e.g. 1m");
      from = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--trades", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(cmd, "--trades needs a file ('-' for standard input)");
      if (a->trades || a->csv)
        return tack_cli_usage_error(cmd, "one input only: --trades FILE or --csv FILE");
      a->trades = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--csv", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(cmd, "--csv needs a file ('-' for standard input)");
      if (a->trades || a->csv)
        return tack_cli_usage_error(cmd, "one input only: --trades FILE or --csv FILE");
      a->csv = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--gaps", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(cmd, "--gaps needs skip or fill");
      gaps = v;
    } else if (strcmp(arg, "--close-at-end") == 0) {
      a->close_at_end = 1;
    } else if (arg[0] == '-' && arg[1] != '\0') {
      return tack_cli_usage_error(cmd, "unknown option '%s'", arg);
    } else {
      return tack_cli_usage_error(
          cmd, "unexpected argument '%s' (files go after --trades or --csv)", arg);
    }
  }
  if (!tf)
    return tack_cli_usage_error(cmd, "--timeframe TF is required: the bars to make, e.g. 5m");
  if (!a->trades && !a->csv)
    return tack_cli_usage_error(cmd, "give the input: --trades FILE or --csv FILE");
  if (from && !a->csv)
    return tack_cli_usage_error(cmd, "--from-timeframe is the timeframe of --csv bars; trades "
                                     "have none");
  if (timeframe_arg("--timeframe", tf, &a->tf) != TACK_EXIT_OK)
    return TACK_EXIT_USAGE;
  if (from && timeframe_arg("--from-timeframe", from, &a->from_tf) != TACK_EXIT_OK)
    return TACK_EXIT_USAGE;
  if (!gaps || strcmp(gaps, "skip") == 0)
    a->gaps = TACK_BARS_GAP_SKIP;
  else if (strcmp(gaps, "fill") == 0)
    a->gaps = TACK_BARS_GAP_FILL;
  else
    return tack_cli_usage_error(cmd, "--gaps '%s': write skip or fill", gaps);
  return TACK_EXIT_OK;
}

/* What a run saw, for the callbacks and the summary. */
typedef struct bars_run {
  FILE *out;
  int header; /* printed */
  int write_failed;
  long line; /* the input row being pushed */
  uint64_t inputs;
  uint64_t printed;
  uint64_t fillers;
  uint64_t late;
  uint64_t duplicates;
  long first_late; /* lines, 0 when none */
  long first_duplicate;
  int left_open; /* a bar was still forming at the end and not printed */
  tack_time open_ts;
} bars_run;

/* The header goes out with the first bar, or at the end of a good input
 * without any: never before a malformed first line. */
static void print_header(bars_run *run) {
  if (!run->header++)
    fputs(TACK_CSV_BAR_HEADER "\n", run->out);
}

static void on_bar(void *data, const tack_bar *bar) {
  bars_run *run = data;
  if (!(bar->flags & TACK_BAR_CLOSED))
    return; /* provisional bars are off; nothing but closed bars is printed */
  print_header(run);
  if (tack_csv_write_bar(run->out, bar) != 0)
    run->write_failed = 1;
  run->printed++;
  run->fillers += (bar->flags & TACK_BAR_FILLER) != 0;
}

static void note_drop(bars_run *run, int reason) {
  if (reason == TACK_BARS_LATE) {
    run->late++;
    if (!run->first_late)
      run->first_late = run->line;
  } else {
    run->duplicates++;
    if (!run->first_duplicate)
      run->first_duplicate = run->line;
  }
}

static void on_trade_drop(void *data, const tack_trade *trade, int reason) {
  (void)trade;
  note_drop(data, reason);
}

static void on_bar_drop(void *data, const tack_bar *bar, int reason) {
  (void)bar;
  note_drop(data, reason);
}

static void print_summary(const bars_run *run, const char *inputs, const char *tf_text) {
  char ts[32];
  fprintf(stderr, "tack: bars: %llu %s in, %llu bars of %s out (%llu fillers); %llu late",
          (unsigned long long)run->inputs, inputs, (unsigned long long)run->printed, tf_text,
          (unsigned long long)run->fillers, (unsigned long long)run->late);
  if (run->late)
    fprintf(stderr, " (dropped, the first at line %ld)", run->first_late);
  fprintf(stderr, ", %llu duplicates", (unsigned long long)run->duplicates);
  if (run->duplicates)
    fprintf(stderr, " (dropped, the first at line %ld)", run->first_duplicate);
  fputc('\n', stderr);
  if (run->left_open) {
    tack_csv_format_ts(run->open_ts, ts, sizeof ts);
    fprintf(stderr,
            "tack: bars: the %s bar at %s is still open at the end of the data: not printed "
            "(--close-at-end prints it)\n",
            tf_text, ts);
  }
}

/* The bar still forming at the end of the data (have says there is one):
 * closed, and so printed, with --close-at-end; else noted as left out. */
static void finish_forming(int have, const tack_bar *forming, const bars_args *a,
                           tack_bar_builder *b, tack_bar_resampler *r, bars_run *run) {
  if (!have)
    return;
  tack_time end = forming->ts + (tack_time)a->tf * NS_PER_SEC;
  if (!a->close_at_end) {
    run->left_open = 1;
    run->open_ts = forming->ts;
  } else if (b) {
    tack_bar_builder_close_until(b, end);
  } else {
    tack_bar_resampler_close_until(r, end);
  }
}

static int from_trades(const bars_args *a, bars_run *run, tack_diag *d) {
  tack_bar_builder_config cfg;
  tack_bar_builder *b = NULL;
  tack_csv *csv = NULL;
  tack_trade trade;
  tack_bar forming;
  char tf_text[16];
  int status = TACK_EXIT_FAIL;
  int rc;

  tack_timeframe_format(a->tf, tf_text, sizeof tf_text);
  tack_bar_builder_config_init(&cfg, a->tf);
  cfg.gap_policy = a->gaps;
  cfg.dedup_window = 0; /* the CSV has no trade ids to tell duplicates by */
  cfg.on_bar = on_bar;
  cfg.on_drop = on_trade_drop;
  cfg.data = run;
  rc = tack_bar_builder_init(&b, &cfg);
  if (rc != 0) {
    tack_diag_add(d, NULL, 0, NULL, "cannot make a %s bar builder: %s", tf_text, tack_strerror(rc));
    goto done;
  }
  if (tack_csv_open(a->trades, TACK_CSV_TRADES, d, &csv) != 0)
    goto done;
  while ((rc = tack_csv_next_trade(csv, &trade, d)) == 1) {
    run->line = tack_csv_line(csv);
    run->inputs++;
    rc = tack_bar_builder_push(b, &trade);
    if (rc < 0) {
      tack_diag_add(d, tack_csv_name(csv), (int)run->line, NULL,
                    "the bar builder refused the trade: %s (%s)", tack_strerror(rc),
                    tack_err_name(rc));
      goto done;
    }
  }
  if (rc < 0)
    goto done;
  finish_forming(tack_bar_builder_forming(b, &forming), &forming, a, b, NULL, run);
  print_header(run);
  print_summary(run, "trades", tf_text);
  status = TACK_EXIT_OK;

done:
  tack_csv_close(csv);
  tack_bar_builder_free(b);
  return status;
}

/* Standard input copied to a temporary file, which can be read twice. */
static FILE *spool_stdin(tack_diag *d) {
  char buf[1 << 16];
  size_t n;
  FILE *f = tmpfile();
  if (!f) {
    tack_diag_add(d, TACK_CSV_STDIN_NAME, 0, NULL,
                  "cannot make a temporary file to read it twice: %s (give --from-timeframe to "
                  "read it once)",
                  strerror(errno));
    return NULL;
  }
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
    if (fwrite(buf, 1, n, f) != n) {
      tack_diag_add(d, TACK_CSV_STDIN_NAME, 0, NULL, "cannot spool to a temporary file: %s",
                    strerror(errno));
      fclose(f);
      return NULL;
    }
  }
  if (ferror(stdin)) {
    tack_diag_add(d, TACK_CSV_STDIN_NAME, 0, NULL, "read error: %s", strerror(errno));
    fclose(f);
    return NULL;
  }
  return f;
}

static int open_bars(const char *path, FILE *spool, tack_diag *d, tack_csv **out) {
  if (!spool)
    return tack_csv_open(path, TACK_CSV_BARS, d, out);
  rewind(spool);
  int rc = tack_csv_open_stream(spool, TACK_CSV_STDIN_NAME, TACK_CSV_BARS, out);
  if (rc != 0)
    tack_diag_add(d, NULL, 0, NULL, "out of memory");
  return rc;
}

/*
 * The input's timeframe: the smallest step between two rows (pass one).
 * *tf is 0 for a file without rows. Returns 0 or an error, reported.
 */
static int infer_timeframe(const char *path, FILE *spool, uint32_t *tf, long *at_line,
                           tack_diag *d) {
  tack_csv *csv = NULL;
  tack_bar bar;
  tack_time prev = 0, step = INT64_MAX;
  uint64_t rows = 0;
  int rc = open_bars(path, spool, d, &csv);
  *tf = 0;
  if (rc != 0)
    goto done;
  while ((rc = tack_csv_next_bar(csv, &bar, d)) == 1) {
    if (rows++ > 0 && bar.ts - prev < step) {
      step = bar.ts - prev; /* rows are in increasing order: step > 0 */
      *at_line = tack_csv_line(csv);
    }
    prev = bar.ts;
  }
  if (rc < 0 || rows == 0)
    goto done;
  if (rows == 1) {
    tack_diag_add(d, tack_csv_name(csv), 0, NULL,
                  "one bar only: its timeframe cannot be inferred from a step between rows; give "
                  "--from-timeframe");
    rc = TACK_EINVAL;
  } else if (step % NS_PER_SEC != 0 || step / NS_PER_SEC > (tack_time)UINT32_MAX) {
    char s[32];
    tack_csv_format_ts(step, s, sizeof s);
    tack_diag_add(d, tack_csv_name(csv), (int)*at_line, NULL,
                  "the smallest step between rows, %s s (from the row before), is not a "
                  "timeframe (whole seconds); give --from-timeframe",
                  s);
    rc = TACK_EINVAL;
  } else {
    *tf = (uint32_t)(step / NS_PER_SEC);
  }

done:
  tack_csv_close(csv);
  return rc;
}

/* Whether in_tf bars can make tf bars; reports why not. */
static int check_ratio(const bars_args *a, uint32_t in_tf, long inferred_at, const char *path,
                       tack_diag *d) {
  char in_text[16], out_text[16], how[160] = "";
  if (a->tf % in_tf == 0 && a->tf / in_tf <= TACK_BARS_MAX_RATIO)
    return 0;
  tack_timeframe_format(in_tf, in_text, sizeof in_text);
  tack_timeframe_format(a->tf, out_text, sizeof out_text);
  if (!a->from_tf)
    snprintf(how, sizeof how,
             " (%s: the smallest step between rows, at line %ld; --from-timeframe sets it)",
             in_text, inferred_at);
  if (a->tf % in_tf != 0)
    tack_diag_add(d, a->from_tf ? NULL : path, 0, NULL,
                  "cannot resample %s bars%s to %s: %s is not a whole multiple of %s", in_text, how,
                  out_text, out_text, in_text);
  else
    tack_diag_add(d, a->from_tf ? NULL : path, 0, NULL,
                  "cannot resample %s bars%s to %s: more than %lu input bars per output bar",
                  in_text, how, out_text, (unsigned long)TACK_BARS_MAX_RATIO);
  return TACK_EINVAL;
}

static int from_bars(const bars_args *a, bars_run *run, tack_diag *d) {
  tack_bar_resampler_config cfg;
  tack_bar_resampler *r = NULL;
  tack_csv *csv = NULL;
  FILE *spool = NULL;
  tack_bar bar, forming;
  char in_text[16], tf_text[16], ts[32];
  uint32_t in_tf = a->from_tf;
  long inferred_at = 0;
  int status = TACK_EXIT_FAIL;
  int rc;

  tack_timeframe_format(a->tf, tf_text, sizeof tf_text);
  if (!in_tf) {
    if (strcmp(a->csv, "-") == 0 && !(spool = spool_stdin(d)))
      goto done;
    if (infer_timeframe(a->csv, spool, &in_tf, &inferred_at, d) != 0)
      goto done;
    if (!in_tf) { /* no rows: nothing to resample */
      print_header(run);
      print_summary(run, "bars", tf_text);
      status = TACK_EXIT_OK;
      goto done;
    }
  }
  if (check_ratio(a, in_tf, inferred_at, a->csv, d) != 0) {
    status = a->from_tf ? TACK_EXIT_USAGE : TACK_EXIT_FAIL;
    goto done;
  }
  tack_timeframe_format(in_tf, in_text, sizeof in_text);
  memset(&cfg, 0, sizeof cfg);
  cfg.in_timeframe_s = in_tf;
  cfg.out_timeframe_s = a->tf;
  cfg.gap_policy = a->gaps;
  cfg.on_bar = on_bar;
  cfg.on_drop = on_bar_drop;
  cfg.data = run;
  rc = tack_bar_resampler_init(&r, &cfg);
  if (rc != 0) {
    tack_diag_add(d, NULL, 0, NULL, "cannot make a %s to %s resampler: %s", in_text, tf_text,
                  tack_strerror(rc));
    goto done;
  }
  if (open_bars(a->csv, spool, d, &csv) != 0)
    goto done;
  while ((rc = tack_csv_next_bar(csv, &bar, d)) == 1) {
    run->line = tack_csv_line(csv);
    run->inputs++;
    bar.timeframe_s = in_tf;
    if (bar.ts % ((tack_time)in_tf * NS_PER_SEC) != 0) {
      tack_csv_format_ts(bar.ts, ts, sizeof ts);
      tack_diag_add(d, tack_csv_name(csv), (int)run->line, NULL,
                    "ts %s is not on the grid of %s bars (a whole multiple of %lu s since "
                    "1970-01-01)",
                    ts, in_text, (unsigned long)in_tf);
      goto done;
    }
    rc = tack_bar_resampler_push(r, &bar);
    if (rc < 0) {
      tack_diag_add(d, tack_csv_name(csv), (int)run->line, NULL,
                    "the resampler refused the bar: %s (%s)", tack_strerror(rc), tack_err_name(rc));
      goto done;
    }
  }
  if (rc < 0)
    goto done;
  finish_forming(tack_bar_resampler_forming(r, &forming), &forming, a, NULL, r, run);
  print_header(run);
  print_summary(run, "bars", tf_text);
  status = TACK_EXIT_OK;

done:
  tack_csv_close(csv);
  if (spool)
    fclose(spool);
  tack_bar_resampler_free(r);
  return status;
}

int tack_cmd_bars(int argc, char **argv) {
  bars_args a;
  bars_run run;
  tack_diag d = TACK_DIAG_INIT;
  int status;

  if (tack_cli_wants_help(argc, argv)) {
    print_help();
    return TACK_EXIT_OK;
  }
  memset(&a, 0, sizeof a);
  memset(&run, 0, sizeof run);
  status = parse_args(argc, argv, &a);
  if (status != TACK_EXIT_OK)
    return status;
  run.out = stdout;
  status = a.trades ? from_trades(&a, &run, &d) : from_bars(&a, &run, &d);
  if (fflush(stdout) != 0 || ferror(stdout) || run.write_failed) {
    tack_diag_add(&d, NULL, 0, NULL, "writing the output: %s", strerror(errno));
    status = TACK_EXIT_FAIL;
  }
  tack_diag_print(&d, stderr);
  tack_diag_free(&d);
  return status;
}
