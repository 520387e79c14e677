/*
 * bars_csv.c: the CSV readers of bars_csv.h.
 */
#include "bars_csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *bars_csv_shared_dir(void) {
  const char *dir = getenv("TACK_SHARED_DIR");
  struct stat st;
  if (!dir || !*dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return NULL;
  return dir;
}

/* "1762795433.9717445" -> ns, exactly; digits past the ninth decimal are
 * truncated (none of our files has them). */
static int parse_ts(const char *s, char **end, tack_time *out) {
  errno = 0;
  long long sec = strtoll(s, end, 10);
  if (errno || *end == s || sec < 0)
    return -1;
  int64_t frac = 0;
  int digits = 0;
  const char *p = *end;
  if (*p == '.') {
    for (p++; *p >= '0' && *p <= '9'; p++) {
      if (digits < 9) {
        frac = frac * 10 + (*p - '0');
        digits++;
      }
    }
  }
  for (; digits < 9; digits++)
    frac *= 10;
  *end = (char *)p;
  *out = (tack_time)sec * TACK_NS_PER_SEC + frac;
  return 0;
}

static int parse_double(const char *s, char **end, double *out) {
  *out = strtod(s, end);
  return *end == s ? -1 : 0;
}

/* One reader for both formats: a callback parses a line into the next row. */
typedef int (*row_parser)(const char *line, void *row, uint32_t arg);

static int parse_trade(const char *line, void *row, uint32_t arg) {
  tack_trade *t = row;
  char *end;
  (void)arg;
  memset(t, 0, sizeof *t);
  if (parse_ts(line, &end, &t->ts) || *end != ',' || parse_double(end + 1, &end, &t->price) ||
      *end != ',' || parse_double(end + 1, &end, &t->size) || *end != ',')
    return -1;
  const char *side = end + 1;
  if (strncmp(side, "buy", 3) == 0)
    t->side = TACK_SIDE_BUY;
  else if (strncmp(side, "sell", 4) == 0)
    t->side = TACK_SIDE_SELL;
  else
    return -1;
  return 0;
}

static int parse_bar(const char *line, void *row, uint32_t timeframe_s) {
  tack_bar *b = row;
  char *end;
  memset(b, 0, sizeof *b);
  double *fields[5] = {&b->open, &b->high, &b->low, &b->close, &b->volume};
  if (parse_ts(line, &end, &b->ts))
    return -1;
  for (int i = 0; i < 5; i++)
    if (*end != ',' || parse_double(end + 1, &end, fields[i]))
      return -1;
  b->timeframe_s = timeframe_s;
  b->flags = TACK_BAR_CLOSED;
  return 0;
}

static int read_rows(const char *name, size_t row_size, row_parser parse, uint32_t arg, void **out,
                     size_t *n_out) {
  int rc = TACK_EIO;
  char path[4096];
  char *line = NULL;
  size_t line_cap = 0, n = 0, cap = 0;
  unsigned char *rows = NULL;
  FILE *f = NULL;
  const char *dir = bars_csv_shared_dir();
  if (!dir)
    goto fail;
  if ((size_t)snprintf(path, sizeof path, "%s/data/%s", dir, name) >= sizeof path)
    goto fail;
  f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    goto fail;
  }
  for (size_t lineno = 1; getline(&line, &line_cap, f) > 0; lineno++) {
    if (lineno == 1)
      continue; /* header */
    if (n == cap) {
      size_t ncap = cap ? 2 * cap : 1024;
      unsigned char *grown = realloc(rows, ncap * row_size);
      if (!grown) {
        rc = TACK_ENOMEM;
        goto fail;
      }
      rows = grown;
      cap = ncap;
    }
    if (parse(line, rows + n * row_size, arg) != 0) {
      fprintf(stderr, "%s:%zu: malformed row\n", path, lineno);
      rc = TACK_EPARSE;
      goto fail;
    }
    n++;
  }
  free(line);
  fclose(f);
  *out = rows;
  *n_out = n;
  return 0;
fail:
  free(line);
  free(rows);
  if (f)
    fclose(f);
  return rc;
}

int bars_csv_trades(const char *name, tack_trade **out, size_t *n) {
  void *rows;
  int rc = read_rows(name, sizeof(tack_trade), parse_trade, 0, &rows, n);
  if (rc == 0)
    *out = rows;
  return rc;
}

int bars_csv_bars(const char *name, uint32_t timeframe_s, tack_bar **out, size_t *n) {
  void *rows;
  int rc = read_rows(name, sizeof(tack_bar), parse_bar, timeframe_s, &rows, n);
  if (rc == 0)
    *out = rows;
  return rc;
}
