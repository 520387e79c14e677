/*
 * test_indicators_talib.c: every indicator against the reference values in
 * tests/fixtures/talib (see the README there): on the synthetic series, and
 * on Bitstamp's daily BTC/USD bars from the shared data when present.
 *
 * Each fixture names the plugin and its parameters, the first output bar
 * and sampled rows of outputs. The plugin is run bar by bar from bar 0; its
 * lookback() and first ready bar must equal the fixture's first bar, it must
 * be ready on every fixture row, and every value must agree to 1e-9
 * relative (absolute below 1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_indicators_host.h"

#define TOL 1e-9
#define MAX_COLS 8

typedef struct fixture {
  char plugin[1024]; /* "<id> key=value ..." */
  int first;
  int n_cols;
  size_t n_rows;
  int *bar;
  double *val; /* n_rows × n_cols */
} fixture;

typedef struct tally {
  int files;
  long values;
  long exact;
  double worst; /* largest |want − got| / max(1, |want|, |got|) */
  int failures;
} tally;

static void fixture_free(fixture *fx) {
  free(fx->bar);
  free(fx->val);
  memset(fx, 0, sizeof(*fx));
}

static int count_cols(const char *header) {
  int n = 0;
  for (; *header; header++)
    n += *header == ',';
  return n;
}

static int load_fixture(const char *path, fixture *fx) {
  FILE *f = fopen(path, "r");
  char line[1024];
  size_t cap = 0;
  memset(fx, 0, sizeof(*fx));
  fx->first = -1;
  if (!f)
    return -1;
  while (fgets(line, sizeof(line), f)) {
    char *p = line, *end;
    int c;
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "# plugin: ", 10) == 0) {
      snprintf(fx->plugin, sizeof(fx->plugin), "%s", line + 10);
      continue;
    }
    if (strncmp(line, "# first: ", 9) == 0) {
      fx->first = (int)strtol(line + 9, NULL, 10);
      continue;
    }
    if (line[0] == '#' || line[0] == '\0')
      continue;
    if (strncmp(line, "bar,", 4) == 0) {
      fx->n_cols = count_cols(line);
      continue;
    }
    if (fx->n_cols < 1 || fx->n_cols > MAX_COLS)
      break;
    if (fx->n_rows == cap) {
      cap = cap ? 2 * cap : 256;
      fx->bar = realloc(fx->bar, cap * sizeof(int));
      fx->val = realloc(fx->val, cap * (size_t)fx->n_cols * sizeof(double));
      if (!fx->bar || !fx->val)
        break;
    }
    fx->bar[fx->n_rows] = (int)strtol(p, &end, 10);
    for (c = 0; c < fx->n_cols; c++) {
      p = end + 1;
      fx->val[fx->n_rows * (size_t)fx->n_cols + (size_t)c] = strtod(p, &end);
    }
    fx->n_rows++;
  }
  fclose(f);
  return (fx->plugin[0] && fx->first >= 0 && fx->n_rows > 0) ? 0 : -1;
}

/* Split "id k=v k=v" in place into an id and parameters. */
static int parse_plugin(char *text, const char **id, tih_param *params, size_t *n) {
  char *save = NULL, *tok = strtok_r(text, " ", &save);
  *id = tok;
  *n = 0;
  while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
    char *eq = strchr(tok, '=');
    if (!eq || *n == TIH_MAX_PARAMS)
      return -1;
    *eq = '\0';
    params[*n].key = tok;
    params[*n].value = eq + 1;
    (*n)++;
  }
  return *id ? 0 : -1;
}

static double error_of(double want, double got) {
  return fabs(want - got) / fmax(1.0, fmax(fabs(want), fabs(got)));
}

/* Runs one fixture; returns the number of problems, printing the first few. */
static int check_fixture(const char *name, const fixture *fx, const tack_bar *bars, size_t n,
                         tally *t) {
  char text[1024];
  const char *id;
  tih_param params[TIH_MAX_PARAMS];
  size_t np, row = 0, i;
  tih_ind ind;
  int problems = 0, first_ready = -1, c;
  snprintf(text, sizeof(text), "%s", fx->plugin);
  if (parse_plugin(text, &id, params, &np) != 0 || tih_open(&ind, id, params, np) != 0) {
    print_error("%s: cannot open \"%s\" (%s)\n", name, fx->plugin, tih_last_error());
    return 1;
  }
  if (ind.n_out != fx->n_cols) {
    print_error("%s: %d outputs, fixture has %d\n", name, ind.n_out, fx->n_cols);
    tih_close(&ind);
    return 1;
  }
  if (ind.vt->lookback(ind.self) != fx->first) {
    print_error("%s: lookback() %d, TA-Lib's first output bar %d\n", name,
                ind.vt->lookback(ind.self), fx->first);
    problems++;
  }
  for (i = 0; i < n && row < fx->n_rows; i++) {
    double out[TIH_MAX_OUTPUTS];
    int rc = tih_update(&ind, &bars[i], out);
    if (rc < 0) {
      print_error("%s: bar %zu: update failed %d\n", name, i, rc);
      problems++;
      break;
    }
    if (rc == 1 && first_ready < 0)
      first_ready = (int)i;
    if ((size_t)fx->bar[row] != i)
      continue;
    if (rc != 1) {
      if (problems++ < 5)
        print_error("%s: bar %zu: not ready, reference has values\n", name, i);
      row++;
      continue;
    }
    for (c = 0; c < fx->n_cols; c++) {
      double want = fx->val[row * (size_t)fx->n_cols + (size_t)c];
      double err = error_of(want, out[c]);
      t->values++;
      t->exact += memcmp(&want, &out[c], sizeof(double)) == 0;
      t->worst = fmax(t->worst, err);
      if (!(err <= TOL) && problems++ < 5)
        print_error("%s: bar %zu %s: want %.17g got %.17g\n", name, i, ind.vt->outputs[c].name,
                    want, out[c]);
    }
    row++;
  }
  if (first_ready != fx->first) {
    print_error("%s: first output at bar %d, TA-Lib's at %d\n", name, first_ready, fx->first);
    problems++;
  }
  if (row != fx->n_rows) {
    print_error("%s: only %zu of %zu rows reached\n", name, row, fx->n_rows);
    problems++;
  }
  tih_close(&ind);
  return problems;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every fixture in <fixtures>/talib/<dataset>, in name order. */
static void check_dataset(const char *dataset, const tack_bar *bars, size_t n) {
  const char *src = getenv("TACK_SOURCE_DIR");
  char dir[1024], path[1400];
  char *names[256];
  size_t count = 0, i;
  tally t = {0, 0, 0, 0.0, 0};
  DIR *d;
  struct dirent *e;
  assert_non_null(src);
  snprintf(dir, sizeof(dir), "%s/tests/fixtures/talib/%s", src, dataset);
  d = opendir(dir);
  assert_non_null(d);
  while ((e = readdir(d)) != NULL && count < 256) {
    size_t len = strlen(e->d_name);
    if (len > 4 && strcmp(e->d_name + len - 4, ".csv") == 0)
      names[count++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, count, sizeof(names[0]), cmp_names);
  for (i = 0; i < count; i++) {
    fixture fx;
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    if (load_fixture(path, &fx) != 0) {
      print_error("%s: unreadable fixture\n", path);
      t.failures++;
    } else {
      int p = check_fixture(names[i], &fx, bars, n, &t);
      t.failures += p != 0;
      t.files++;
    }
    fixture_free(&fx);
    free(names[i]);
  }
  print_message("%s: %d fixtures, %ld values, %ld bit-identical to the reference, largest "
                "error %.3g, %d failing\n",
                dataset, t.files, t.values, t.exact, t.worst, t.failures);
  assert_true(t.files >= 40);
  assert_int_equal(t.failures, 0);
}

static void test_synthetic(void **state) {
  tack_bar *bars = calloc(TIH_SYNTH_BARS, sizeof(tack_bar));
  (void)state;
  assert_non_null(bars);
  tih_synthetic(bars, TIH_SYNTH_BARS);
  check_dataset("synthetic", bars, TIH_SYNTH_BARS);
  free(bars);
}

static void test_btcusd_daily(void **state) {
  const char *data = tih_data_dir();
  char path[1024];
  tack_bar *bars;
  size_t n;
  (void)state;
  if (!data) {
    print_message("TACK_SHARED_DIR/data is absent: skipping the real-data comparison\n");
    skip();
  }
  snprintf(path, sizeof(path), "%s/btcusd_bitstamp_1d.csv", data);
  assert_int_equal(tih_load_csv(path, 86400, &bars, &n), 0);
  check_dataset("btcusd_bitstamp_1d", bars, n);
  free(bars);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_synthetic),
      cmocka_unit_test(test_btcusd_daily),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
