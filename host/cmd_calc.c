/*
 * cmd_calc.c: `tack calc`: one indicator plugin over a CSV file of bars,
 * optionally after candle filters, printed as CSV with full precision. The
 * input streams through: one bar is read, filtered, computed and printed
 * before the next is read.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "csv.h"
#include "instance.h"
#include "loader.h"
#include "plugin_spec.h"

static const char *const cmd = "calc";

static void print_help(void) {
  printf("usage: tack calc INDICATOR[:PARAMS] --csv FILE [--filter FILTER[:PARAMS]]...\n"
         "                 [--plugin-dir DIR]...\n"
         "\n"
         "Compute an indicator over a CSV file of bars and print its values as CSV.\n"
         "\n"
         "INDICATOR[:PARAMS] names an indicator plugin (`tack plugins` lists them) and\n"
         "sets its parameters: positional values in the plugin's order (`tack plugin-info\n"
         "FILE.so` lists it), and/or name=value pairs, positional values first. Values\n"
         "are typed by the parameter: an integer, a number, true or false, or text\n"
         "without commas. Parameters not set keep their defaults. Examples:\n"
         "  rsi                            every parameter at its default\n"
         "  rsi:14                         positional\n"
         "  macd:12,26,9                   positional, in the plugin's order\n"
         "  bbands:period=20,nbdevup=2.5   named\n"
         "  bbands:20,nbdevup=2.5          positional first, then named\n"
         "\n"
         "options:\n"
         "  --csv FILE          the bars: a header line ts,open,high,low,close,volume, then\n"
         "                      one row per bar, oldest first; ts in UNIX seconds, with up\n"
         "                      to 9 decimals; '-' reads standard input\n"
         "  --filter SPEC       apply a candle filter (heikin_ashi, renko:brick_size=10) to\n"
         "                      the bars before the indicator; repeat to chain filters,\n"
         "                      which apply in the order given\n"
         "  --plugin-dir DIR    look for plugins in DIR first; repeat for more. Then come\n"
         "                      the folders of %s and the default folder,\n"
         "                      as for `tack plugins`\n"
         "  -h, --help          show this help\n"
         "\n"
         "output: a header line, ts and the indicator's output columns (the indicator's\n"
         "id when it has one output: ts,rsi; else its column names: ts,macd,signal,hist),\n"
         "then one row per input bar, or per filtered bar with --filter (a Renko filter\n"
         "makes zero or several). ts is printed as the input wrote it; a filtered bar's\n"
         "ts as UNIX seconds with up to 9 decimals. Values are printed with %%.17g, so\n"
         "they read back as exactly the same doubles. While the indicator warms up\n"
         "(before its first value) the value fields are empty.\n"
         "\n"
         "The input is checked strictly: a malformed row (a missing or extra field, a\n"
         "value that is not a finite number, high below low, a row out of time order)\n"
         "stops the command with FILE:LINE and what is wrong, and nothing more is\n"
         "printed. Rows before it have been printed already: the input streams through.\n"
         "\n"
         "exit status: 0 done; 1 a malformed input, or a plugin refused its parameters\n"
         "(out of range) or a bar; 2 bad usage, including a malformed spec, an unknown\n"
         "plugin or parameter and a plugin of the wrong kind.\n"
         "\n"
         "example: the 14-bar RSI of Heikin-Ashi closes\n"
         "  tack calc rsi:14 --filter heikin_ashi --csv btcusd_1d.csv\n",
         TACK_PLUGIN_PATH_ENV);
}

typedef struct calc_args {
  const char *indicator;
  const char *csv;
  const char **filters;
  size_t n_filters;
  const char **dirs;
  size_t n_dirs;
} calc_args;

static int parse_args(int argc, char **argv, calc_args *a) {
  const char *v;
  int got;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if ((got = tack_cli_option(argc, argv, &i, "--csv", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(cmd, "--csv needs a file ('-' for standard input)");
      if (a->csv)
        return tack_cli_usage_error(cmd, "--csv given twice ('%s' and '%s'): one input only",
                                    a->csv, v);
      a->csv = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--filter", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(cmd, "--filter needs a filter spec, e.g. heikin_ashi");
      a->filters[a->n_filters++] = v;
    } else if ((got = tack_cli_option(argc, argv, &i, "--plugin-dir", &v)) != 0) {
      if (got < 0)
        return tack_cli_usage_error(cmd, "--plugin-dir needs a folder");
      a->dirs[a->n_dirs++] = v;
    } else if (arg[0] == '-' && arg[1] != '\0') {
      return tack_cli_usage_error(cmd, "unknown option '%s'", arg);
    } else if (a->indicator) {
      return tack_cli_usage_error(cmd, "one indicator only: got '%s' and '%s'", a->indicator, arg);
    } else {
      a->indicator = arg;
    }
  }
  if (!a->indicator)
    return tack_cli_usage_error(cmd, "name an indicator, e.g. tack calc rsi:14 --csv FILE");
  if (!a->csv)
    return tack_cli_usage_error(cmd, "--csv FILE is required: the bars to compute over");
  return TACK_EXIT_OK;
}

/* The state of one run, for the bar callback. */
typedef struct calc_run {
  tack_ctx *ind;
  const tack_output_spec *outputs;
  size_t n_out;
  double *values;
  FILE *out;
  const char *ts_text; /* the input's ts text; NULL after filters */
  const char *bug;     /* what the indicator did wrong, for EPLUGIN */
} calc_run;

static int emit_row(void *data, const tack_bar *bar) {
  calc_run *run = data;
  char ts[32];
  int rc = tack_instance_indicator_update(run->ind, bar, run->values);
  if (rc < 0)
    return rc;
  if (rc > 1) {
    run->bug = "update returned a value other than 0, 1 or an error";
    return TACK_EPLUGIN;
  }
  for (size_t k = 0; rc == 1 && k < run->n_out; k++) {
    if (!isfinite(run->values[k])) {
      run->bug = "update wrote a value that is not finite";
      return TACK_EPLUGIN;
    }
  }
  const char *t = run->ts_text;
  if (!t) {
    tack_csv_format_ts(bar->ts, ts, sizeof ts);
    t = ts;
  }
  fputs(t, run->out);
  for (size_t k = 0; k < run->n_out; k++) {
    if (rc == 1)
      fprintf(run->out, ",%.17g", run->values[k]);
    else
      putc(',', run->out);
  }
  putc('\n', run->out);
  return 0;
}

/* Make every spec (all problems are reported together), then start them. */
static int make_specs(const calc_args *a, const tack_plugin_set *set, tack_plugin_spec **filters,
                      tack_plugin_spec **ind, tack_diag *d) {
  int usage = 0, failed = 0;
  for (size_t i = 0; i < a->n_filters; i++) {
    int rc = tack_plugin_spec_new(a->filters[i], TACK_KIND_FILTER, set, d, &filters[i]);
    usage |= tack_plugin_spec_malformed(rc);
    failed |= rc != 0;
  }
  int rc = tack_plugin_spec_new(a->indicator, TACK_KIND_INDICATOR, set, d, ind);
  usage |= tack_plugin_spec_malformed(rc);
  failed |= rc != 0;
  if (usage)
    return TACK_EXIT_USAGE;
  if (failed)
    return TACK_EXIT_FAIL;
  for (size_t i = 0; i < a->n_filters; i++)
    if (tack_plugin_spec_start(filters[i], d) != 0)
      return TACK_EXIT_FAIL;
  return tack_plugin_spec_start(*ind, d) != 0 ? TACK_EXIT_FAIL : TACK_EXIT_OK;
}

static void print_header(const tack_plugin_spec *ind, const tack_output_spec *outputs, FILE *out) {
  fputs("ts", out);
  if (outputs[0].name && !outputs[1].name)
    fprintf(out, ",%s", tack_plugin_spec_desc(ind)->id);
  else
    for (const tack_output_spec *o = outputs; o->name; o++)
      fprintf(out, ",%s", o->name);
  putc('\n', out);
}

/* Read, filter, compute and print every bar. */
static int run_rows(tack_csv *csv, tack_plugin_spec *const *filters, size_t n_filters,
                    const tack_plugin_spec *ind, calc_run *run, tack_diag *d) {
  tack_bar bar;
  int rc;
  size_t failed = 0;
  int header = 0; /* printed once the input is known to be bars */
  while ((rc = tack_csv_next_bar(csv, &bar, d)) == 1) {
    if (!header++)
      print_header(ind, run->outputs, run->out);
    run->ts_text = n_filters ? NULL : tack_csv_ts_text(csv);
    rc = tack_plugin_spec_run_filters(filters, n_filters, &bar, emit_row, run, &failed);
    if (rc == 0)
      continue;
    const char *what = failed < n_filters ? "filter" : "indicator";
    const char *spec = tack_plugin_spec_text(failed < n_filters ? filters[failed] : ind);
    if (failed == n_filters && rc == TACK_EPLUGIN && run->bug)
      tack_diag_add(d, tack_csv_name(csv), (int)tack_csv_line(csv), NULL,
                    "indicator %s broke its contract: %s", spec, run->bug);
    else
      tack_diag_add(d, tack_csv_name(csv), (int)tack_csv_line(csv), NULL,
                    "%s %s refused the bar: %s (%s)", what, spec, tack_strerror(rc),
                    tack_err_name(rc));
    return TACK_EXIT_FAIL;
  }
  if (rc == 0 && !header)
    print_header(ind, run->outputs, run->out);
  return rc == 0 ? TACK_EXIT_OK : TACK_EXIT_FAIL;
}

int tack_cmd_calc(int argc, char **argv) {
  calc_args a;
  calc_run run;
  tack_loader *ld = NULL;
  tack_plugin_set set;
  tack_plugin_spec **filters = NULL;
  tack_plugin_spec *ind = NULL;
  tack_csv *csv = NULL;
  tack_diag d = TACK_DIAG_INIT;
  int status = TACK_EXIT_FAIL;

  memset(&a, 0, sizeof a);
  memset(&run, 0, sizeof run);
  memset(&set, 0, sizeof set);
  if (tack_cli_wants_help(argc, argv)) {
    print_help();
    return TACK_EXIT_OK;
  }
  a.filters = tack_calloc(NULL, (size_t)argc, sizeof *a.filters);
  a.dirs = tack_calloc(NULL, (size_t)argc, sizeof *a.dirs);
  filters = tack_calloc(NULL, (size_t)argc, sizeof *filters);
  if (!a.filters || !a.dirs || !filters)
    goto nomem;
  status = parse_args(argc, argv, &a);
  if (status != TACK_EXIT_OK)
    goto done;
  status = TACK_EXIT_FAIL;

  if (tack_loader_new(&ld) != 0 || tack_plugin_spec_load(ld, a.dirs, a.n_dirs, &d) != 0)
    goto nomem;
  for (size_t i = 0; i < d.n; i++)
    fprintf(stderr, "warning: %s\n", d.msgs[i]);
  tack_diag_free(&d);
  if (tack_plugin_spec_set_init(&set, ld) != 0)
    goto nomem;
  /* Plugins may open indicators of their own (host->ind_open). */
  tack_instance_set_registry(ld);
  status = make_specs(&a, &set, filters, &ind, &d);
  if (status != TACK_EXIT_OK)
    goto done;
  status = TACK_EXIT_FAIL;

  run.ind = tack_plugin_spec_instance(ind);
  run.outputs = tack_instance_indicator_outputs(run.ind);
  run.out = stdout;
  for (const tack_output_spec *o = run.outputs; o->name; o++)
    run.n_out++;
  run.values = tack_calloc(NULL, run.n_out, sizeof *run.values);
  if (!run.values)
    goto nomem;
  if (tack_csv_open(a.csv, TACK_CSV_BARS, &d, &csv) != 0)
    goto done;

  status = run_rows(csv, filters, a.n_filters, ind, &run, &d);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    tack_diag_add(&d, NULL, 0, NULL, "writing the output: %s", strerror(errno));
    status = TACK_EXIT_FAIL;
  }
  goto done;

nomem:
  tack_diag_add(&d, NULL, 0, NULL, "out of memory");
  status = TACK_EXIT_FAIL;
done:
  tack_diag_print(&d, stderr);
  tack_diag_free(&d);
  tack_csv_close(csv);
  tack_free(NULL, run.values);
  tack_plugin_spec_free(ind);
  for (size_t i = 0; filters && i < a.n_filters; i++)
    tack_plugin_spec_free(filters[i]);
  tack_free(NULL, filters);
  tack_plugin_spec_set_free(&set);
  tack_instance_set_registry(NULL);
  tack_loader_free(ld);
  tack_free(NULL, a.filters);
  tack_free(NULL, a.dirs);
  return status;
}
