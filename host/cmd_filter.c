/*
 * cmd_filter.c: `tack filter`: candle filter plugins (Heikin-Ashi, Renko,
 * ...) over a CSV file of bars, the filtered bars printed as CSV of the same
 * format, so that they can feed `tack calc` or another tool. The input
 * streams through, one bar at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "csv.h"
#include "instance.h"
#include "loader.h"
#include "plugin_spec.h"

static const char *const cmd = "filter";

static void print_help(void) {
  printf("usage: tack filter FILTER[:PARAMS] [--filter FILTER[:PARAMS]]... --csv FILE\n"
         "                   [--plugin-dir DIR]...\n"
         "\n"
         "Apply candle filters to a CSV file of bars and print the bars they make.\n"
         "\n"
         "FILTER[:PARAMS] names a filter plugin (`tack plugins` lists them) and sets its\n"
         "parameters: positional values in the plugin's order (`tack plugin-info FILE.so`\n"
         "lists it), and/or name=value pairs, positional values first. Values are typed\n"
         "by the parameter: an integer, a number, true or false, or text without commas.\n"
         "Parameters not set keep their defaults. Examples:\n"
         "  heikin_ashi\n"
         "  renko:brick_size=10\n"
         "  renko:mode=atr,atr_period=14,source=highlow\n"
         "\n"
         "options:\n"
         "  --csv FILE          the bars: a header line ts,open,high,low,close,volume, then\n"
         "                      one row per bar, oldest first; ts in UNIX seconds, with up\n"
         "                      to 9 decimals; '-' reads standard input\n"
         "  --filter SPEC       a further filter, applied to the output of the ones before\n"
         "                      it; repeat to chain more, in the order given\n"
         "  --plugin-dir DIR    look for plugins in DIR first; repeat for more. Then come\n"
         "                      the folders of %s and the default folder,\n"
         "                      as for `tack plugins`\n"
         "  -h, --help          show this help\n"
         "\n"
         "output: the header ts,open,high,low,close,volume and one row per bar out of the\n"
         "last filter (Heikin-Ashi makes one per input bar, Renko zero or several bricks).\n"
         "ts is UNIX seconds with up to 9 decimals (Renko's bricks of one bar are 1 ns\n"
         "apart); values are printed with %%.17g, so they read back as exactly the same\n"
         "doubles.\n"
         "\n"
         "The input is checked strictly: a malformed row (a missing or extra field, a\n"
         "value that is not a finite number, high below low, a row out of time order)\n"
         "stops the command with FILE:LINE and what is wrong, and nothing more is\n"
         "printed. Rows before it have been printed already: the input streams through.\n"
         "\n"
         "exit status: 0 done; 1 a malformed input, or a plugin refused its parameters\n"
         "(out of range, a Renko brick size of 0) or a bar; 2 bad usage, including a\n"
         "malformed spec, an unknown plugin or parameter and a plugin of the wrong kind.\n"
         "\n"
         "example: Renko bricks of Heikin-Ashi bars, then their 14-bar RSI\n"
         "  tack filter heikin_ashi --filter renko:brick_size=500 --csv btc_1d.csv |\n"
         "    tack calc rsi:14 --csv -\n",
         TACK_PLUGIN_PATH_ENV);
}

typedef struct filter_args {
  const char **filters; /* the positional spec first, then each --filter */
  size_t n_filters;
  const char *csv;
  const char **dirs;
  size_t n_dirs;
} filter_args;

static int parse_args(int argc, char **argv, filter_args *a) {
  const char *v;
  const char *first = NULL;
  int got;
  /* The positional filter comes first in the chain wherever it stands. */
  a->n_filters = 1;
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
    } else if (first) {
      return tack_cli_usage_error(
          cmd, "one positional filter only (got '%s' and '%s'): chain more with --filter", first,
          arg);
    } else {
      first = arg;
    }
  }
  if (!first)
    return tack_cli_usage_error(cmd, "name a filter, e.g. tack filter heikin_ashi --csv FILE");
  if (!a->csv)
    return tack_cli_usage_error(cmd, "--csv FILE is required: the bars to filter");
  a->filters[0] = first;
  return TACK_EXIT_OK;
}

static int emit_bar(void *data, const tack_bar *bar) { return tack_csv_write_bar(data, bar); }

/* Make every spec (all problems are reported together), then start them. */
static int make_specs(const filter_args *a, const tack_plugin_set *set, tack_plugin_spec **filters,
                      tack_diag *d) {
  int usage = 0, failed = 0;
  for (size_t i = 0; i < a->n_filters; i++) {
    int rc = tack_plugin_spec_new(a->filters[i], TACK_KIND_FILTER, set, d, &filters[i]);
    usage |= tack_plugin_spec_malformed(rc);
    failed |= rc != 0;
  }
  if (usage)
    return TACK_EXIT_USAGE;
  if (failed)
    return TACK_EXIT_FAIL;
  for (size_t i = 0; i < a->n_filters; i++)
    if (tack_plugin_spec_start(filters[i], d) != 0)
      return TACK_EXIT_FAIL;
  return TACK_EXIT_OK;
}

/* Read, filter and print every bar. */
static int run_rows(tack_csv *csv, tack_plugin_spec *const *filters, size_t n_filters,
                    tack_diag *d) {
  tack_bar bar;
  int rc;
  size_t failed = 0;
  int header = 0; /* printed once the input is known to be bars */
  while ((rc = tack_csv_next_bar(csv, &bar, d)) == 1) {
    if (!header++)
      puts(TACK_CSV_BAR_HEADER);
    rc = tack_plugin_spec_run_filters(filters, n_filters, &bar, emit_bar, stdout, &failed);
    if (rc == 0)
      continue;
    if (failed < n_filters)
      tack_diag_add(d, tack_csv_name(csv), (int)tack_csv_line(csv), NULL,
                    "filter %s refused the bar: %s (%s)", tack_plugin_spec_text(filters[failed]),
                    tack_strerror(rc), tack_err_name(rc));
    else
      tack_diag_add(d, NULL, 0, NULL, "writing the output: %s", strerror(errno));
    return TACK_EXIT_FAIL;
  }
  if (rc == 0 && !header)
    puts(TACK_CSV_BAR_HEADER);
  return rc == 0 ? TACK_EXIT_OK : TACK_EXIT_FAIL;
}

int tack_cmd_filter(int argc, char **argv) {
  filter_args a;
  tack_loader *ld = NULL;
  tack_plugin_set set;
  tack_plugin_spec **filters = NULL;
  tack_csv *csv = NULL;
  tack_diag d = TACK_DIAG_INIT;
  int status = TACK_EXIT_FAIL;

  memset(&a, 0, sizeof a);
  memset(&set, 0, sizeof set);
  if (tack_cli_wants_help(argc, argv)) {
    print_help();
    return TACK_EXIT_OK;
  }
  /* At most argc filters: one per argument. */
  a.filters = tack_calloc(NULL, (size_t)argc + 1, sizeof *a.filters);
  a.dirs = tack_calloc(NULL, (size_t)argc, sizeof *a.dirs);
  filters = tack_calloc(NULL, (size_t)argc + 1, sizeof *filters);
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
  status = make_specs(&a, &set, filters, &d);
  if (status != TACK_EXIT_OK)
    goto done;
  status = TACK_EXIT_FAIL;
  if (tack_csv_open(a.csv, TACK_CSV_BARS, &d, &csv) != 0)
    goto done;

  status = run_rows(csv, filters, a.n_filters, &d);
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
