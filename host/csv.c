/*
 * csv.c: the strict bar and trade CSV reader and the bar writer of csv.h.
 *
 * A row is read with getline() (so the line buffer is malloc'ed and freed
 * with free(), not through alloc.h), split in place at its commas, and each
 * field parsed with a checked grammar before strtod() sees it: strtod alone
 * would take "nan", "inf", "0x1p3" and leading spaces.
 */
#include "csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "alloc.h"

#define NS_PER_SEC ((uint64_t)TACK_NS_PER_SEC)
#define NS_DIGITS 9
#define BAR_FIELDS 6
#define TRADE_FIELDS 4
#define MAX_FIELDS BAR_FIELDS
/* Longest part of a field quoted back in a message. */
#define QUOTE_MAX 40

enum { F_TS, F_OPEN, F_HIGH, F_LOW, F_CLOSE, F_VOLUME };
enum { F_PRICE = 1, F_SIZE, F_SIDE };

struct tack_csv {
  FILE *f;
  int owned; /* 1 when close() closes f */
  uint32_t format;
  int failed; /* the error every later call returns; 0 while reading */
  int header_done;
  char *name;
  char *buf; /* getline()'s */
  size_t cap;
  long line;       /* lines read so far */
  long row_line;   /* line of the row last returned */
  long blank_line; /* first of the blank lines last read, 0 when none */
  int have_prev;
  tack_time prev_ts;
  long prev_line;
  const char *ts_text;
};

static const char *const bar_fields[] = {"ts", "open", "high", "low", "close", "volume"};
static const char *const trade_fields[] = {"ts", "price", "size", "side"};

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static const char *header_of(uint32_t format) {
  return format == TACK_CSV_BARS ? TACK_CSV_BAR_HEADER : TACK_CSV_TRADE_HEADER;
}

/* Add a message about line (0: about the file) and make the reader fail. */
static int fail(tack_csv *r, tack_diag *d, long line, int rc, const char *fmt, ...)
    TACK_PRINTF(5, 6);
static int fail(tack_csv *r, tack_diag *d, long line, int rc, const char *fmt, ...) {
  char body[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  tack_diag_add(d, r->name, line > 0 && line <= 0x7fffffffL ? (int)line : 0, NULL, "%s", body);
  r->failed = rc;
  return rc;
}

/* s for a message: at most QUOTE_MAX bytes, control characters as '?'. */
static const char *quote(const char *s, char *buf, size_t cap) {
  size_t n = 0;
  for (; s[n] && n < QUOTE_MAX && n + 4 < cap; n++)
    buf[n] = ((unsigned char)s[n] < 0x20 || s[n] == 0x7f) ? '?' : s[n];
  if (s[n] && n + 4 <= cap) {
    memcpy(buf + n, "...", 3);
    n += 3;
  }
  buf[n] = '\0';
  return buf;
}

int tack_csv_open_stream(FILE *f, const char *name, uint32_t format, tack_csv **out) {
  *out = NULL;
  if (!f || !name || (format != TACK_CSV_BARS && format != TACK_CSV_TRADES))
    return TACK_EINVAL;
  tack_csv *r = tack_calloc(NULL, 1, sizeof *r);
  if (!r)
    return TACK_ENOMEM;
  r->name = tack_strdup(NULL, name);
  if (!r->name) {
    tack_free(NULL, r);
    return TACK_ENOMEM;
  }
  r->f = f;
  r->format = format;
  r->ts_text = "";
  *out = r;
  return 0;
}

int tack_csv_open(const char *path, uint32_t format, tack_diag *d, tack_csv **out) {
  FILE *f = NULL;
  int rc;
  *out = NULL;
  if (!path)
    return TACK_EINVAL;
  int is_stdin = strcmp(path, "-") == 0;
  if (is_stdin) {
    f = stdin;
  } else {
    f = fopen(path, "r");
    if (!f) {
      tack_diag_add(d, path, 0, NULL, "cannot open: %s", strerror(errno));
      rc = TACK_EIO;
      goto fail;
    }
  }
  rc = tack_csv_open_stream(f, is_stdin ? TACK_CSV_STDIN_NAME : path, format, out);
  if (rc != 0)
    goto fail;
  (*out)->owned = !is_stdin;
  return 0;

fail:
  if (f && !is_stdin)
    fclose(f);
  return rc;
}

void tack_csv_close(tack_csv *r) {
  if (!r)
    return;
  if (r->owned)
    fclose(r->f);
  free(r->buf);
  tack_free(NULL, r->name);
  tack_free(NULL, r);
}

long tack_csv_line(const tack_csv *r) { return r->row_line; }

const char *tack_csv_name(const tack_csv *r) { return r->name; }

const char *tack_csv_ts_text(const tack_csv *r) { return r->ts_text; }

/* The next line into r->buf without its line end: 1, 0 at the end, or an
 * error. */
static int read_line(tack_csv *r, tack_diag *d, size_t *len) {
  errno = 0;
  ssize_t n = getline(&r->buf, &r->cap, r->f);
  if (n < 0) {
    if (errno == ENOMEM)
      return fail(r, d, 0, TACK_ENOMEM, "out of memory reading line %ld", r->line + 1);
    if (ferror(r->f))
      return fail(r, d, 0, TACK_EIO, "read error after line %ld: %s", r->line,
                  strerror(errno ? errno : EIO));
    return 0;
  }
  r->line++;
  size_t k = (size_t)n;
  if (k > 0 && r->buf[k - 1] == '\n')
    k--;
  if (k > 0 && r->buf[k - 1] == '\r')
    k--;
  r->buf[k] = '\0';
  if (strlen(r->buf) != k)
    return fail(r, d, r->line, TACK_EPARSE, "the line holds a NUL byte: not a text CSV file");
  *len = k;
  return 1;
}

static int read_header(tack_csv *r, tack_diag *d) {
  char q[QUOTE_MAX + 8];
  size_t len;
  const char *want = header_of(r->format);
  int rc = read_line(r, d, &len);
  if (rc < 0)
    return rc;
  if (rc == 0)
    return fail(r, d, 0, TACK_EPARSE, "the file is empty: expected the header line '%s'", want);
  const char *p = r->buf;
  if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
    p += 3; /* a UTF-8 byte order mark, as spreadsheets write */
  if (strcmp(p, want) == 0) {
    r->header_done = 1;
    return 1;
  }
  const char *hint = "";
  if (strcmp(p, header_of(r->format == TACK_CSV_BARS ? TACK_CSV_TRADES : TACK_CSV_BARS)) == 0)
    hint = r->format == TACK_CSV_BARS ? " (that is the header of a trades file, not of bars)"
                                      : " (that is the header of a bars file, not of trades)";
  else if (is_digit(*p))
    hint = ": the first line must be the header, and this looks like a data row";
  return fail(r, d, r->line, TACK_EPARSE, "expected the header '%s', got '%s'%s", want,
              quote(p, q, sizeof q), hint);
}

/* The next data row, split into n_want fields. */
static int next_row(tack_csv *r, tack_diag *d, char **fields, int n_want) {
  size_t len;
  int rc;
  if (r->failed)
    return r->failed;
  if (!r->header_done) {
    rc = read_header(r, d);
    if (rc < 0)
      return rc;
  }
  for (;;) {
    rc = read_line(r, d, &len);
    if (rc <= 0)
      return rc; /* blank lines before the end are fine */
    if (len > 0)
      break;
    if (!r->blank_line)
      r->blank_line = r->line;
  }
  if (r->blank_line)
    return fail(r, d, r->blank_line, TACK_EPARSE,
                "blank line inside the data (a row follows at line %ld): blank lines may only "
                "end the file",
                r->line);
  r->row_line = r->line;

  int n = 0;
  char *p = r->buf;
  for (;;) {
    if (n < MAX_FIELDS)
      fields[n] = p;
    n++;
    char *comma = strchr(p, ',');
    if (!comma)
      break;
    *comma = '\0';
    p = comma + 1;
  }
  if (n != n_want)
    return fail(r, d, r->row_line, TACK_EPARSE, "expected %d fields (%s), found %d", n_want,
                header_of(r->format), n);
  r->ts_text = fields[0];
  return 1;
}

/* ts: UNIX seconds, up to 9 decimals, to nanoseconds digit by digit. */
static int parse_ts(tack_csv *r, tack_diag *d, const char *s, tack_time *out) {
  char q[QUOTE_MAX + 8];
  uint64_t sec = 0, frac = 0;
  int digits = 0, decimals = 0;
  const char *p = s;
  if (!*s)
    return fail(r, d, r->row_line, TACK_EPARSE, "ts is empty");
  if (*s == '-')
    return fail(r, d, r->row_line, TACK_EPARSE,
                "ts '%s' is negative: ts is UNIX seconds since 1970-01-01", quote(s, q, sizeof q));
  for (; is_digit(*p); p++, digits++) {
    if (sec > (uint64_t)INT64_MAX / NS_PER_SEC)
      break; /* already too large; the check below says so */
    sec = sec * 10 + (uint64_t)(*p - '0');
  }
  if (is_digit(*p) || sec > (uint64_t)INT64_MAX / NS_PER_SEC)
    return fail(r, d, r->row_line, TACK_EPARSE,
                "ts '%s' is too large: UNIX seconds end at 9223372036 (the year 2262)",
                quote(s, q, sizeof q));
  if (*p == '.') {
    for (p++; is_digit(*p); p++) {
      if (decimals == NS_DIGITS) {
        if (*p != '0')
          return fail(r, d, r->row_line, TACK_EPARSE,
                      "ts '%s' has more than 9 decimals: finer than a nanosecond",
                      quote(s, q, sizeof q));
        continue;
      }
      frac = frac * 10 + (uint64_t)(*p - '0');
      decimals++;
    }
  }
  if (digits == 0 || *p)
    return fail(r, d, r->row_line, TACK_EPARSE,
                "ts '%s' is not UNIX seconds (digits, optionally '.' and up to 9 decimals)",
                quote(s, q, sizeof q));
  for (; decimals < NS_DIGITS; decimals++)
    frac *= 10;
  if (sec * NS_PER_SEC > (uint64_t)INT64_MAX - frac)
    return fail(r, d, r->row_line, TACK_EPARSE,
                "ts '%s' is too large: UNIX seconds end at 9223372036 (the year 2262)",
                quote(s, q, sizeof q));
  *out = (tack_time)(sec * NS_PER_SEC + frac);
  return 0;
}

int tack_csv_parse_number(const char *text, double *out) {
  const char *p = text;
  int digits = 0;
  if (*p == '+' || *p == '-')
    p++;
  for (; is_digit(*p); p++)
    digits++;
  if (*p == '.')
    for (p++; is_digit(*p); p++)
      digits++;
  if (digits == 0)
    return TACK_EPARSE;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!is_digit(*p))
      return TACK_EPARSE;
    while (is_digit(*p))
      p++;
  }
  if (*p)
    return TACK_EPARSE;
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (end != p)
    return TACK_EPARSE;
  if (errno == ERANGE)
    return TACK_ERANGE;
  *out = v;
  return 0;
}

static int parse_field(tack_csv *r, tack_diag *d, const char *name, const char *s, double *out) {
  char q[QUOTE_MAX + 8];
  if (!*s)
    return fail(r, d, r->row_line, TACK_EPARSE, "%s is empty", name);
  int rc = tack_csv_parse_number(s, out);
  if (rc == 0)
    return 0;
  const char *p = s + (*s == '+' || *s == '-');
  if (rc == TACK_ERANGE)
    return fail(r, d, r->row_line, TACK_EPARSE, "%s '%s' is beyond the range of a double", name,
                quote(s, q, sizeof q));
  if (*p == 'n' || *p == 'N' || *p == 'i' || *p == 'I')
    return fail(r, d, r->row_line, TACK_EPARSE, "%s '%s' is not a finite number", name,
                quote(s, q, sizeof q));
  return fail(r, d, r->row_line, TACK_EPARSE, "%s '%s' is not a number", name,
              quote(s, q, sizeof q));
}

/* A bar's prices must describe a bar: low <= open, close <= high. */
static int check_bar(tack_csv *r, tack_diag *d, const tack_bar *b, char **f) {
  char q1[QUOTE_MAX + 8], q2[QUOTE_MAX + 8], q3[QUOTE_MAX + 8];
  if (b->volume < 0)
    return fail(r, d, r->row_line, TACK_EPARSE, "volume %s is negative",
                quote(f[F_VOLUME], q1, sizeof q1));
  if (b->high < b->low)
    return fail(r, d, r->row_line, TACK_EPARSE, "high %s is below low %s",
                quote(f[F_HIGH], q1, sizeof q1), quote(f[F_LOW], q2, sizeof q2));
  const int inside[] = {F_OPEN, F_CLOSE};
  for (size_t k = 0; k < sizeof inside / sizeof inside[0]; k++) {
    int i = inside[k];
    double v = i == F_OPEN ? b->open : b->close;
    if (v < b->low || v > b->high)
      return fail(r, d, r->row_line, TACK_EPARSE, "%s %s is outside the bar's range [%s, %s]",
                  bar_fields[i], quote(f[i], q1, sizeof q1), quote(f[F_LOW], q2, sizeof q2),
                  quote(f[F_HIGH], q3, sizeof q3));
  }
  return 0;
}

int tack_csv_next_bar(tack_csv *r, tack_bar *out, tack_diag *d) {
  char *f[MAX_FIELDS];
  tack_bar b;
  char q[QUOTE_MAX + 8];
  if (r->format != TACK_CSV_BARS)
    return TACK_EINVAL;
  int rc = next_row(r, d, f, BAR_FIELDS);
  if (rc <= 0)
    return rc;
  memset(&b, 0, sizeof b);
  double *values[] = {NULL, &b.open, &b.high, &b.low, &b.close, &b.volume};
  rc = parse_ts(r, d, f[F_TS], &b.ts);
  for (int i = F_OPEN; rc == 0 && i <= F_VOLUME; i++)
    rc = parse_field(r, d, bar_fields[i], f[i], values[i]);
  if (rc == 0)
    rc = check_bar(r, d, &b, f);
  if (rc != 0)
    return rc;
  if (r->have_prev && b.ts <= r->prev_ts) {
    if (b.ts == r->prev_ts)
      return fail(r, d, r->row_line, TACK_EPARSE,
                  "ts %s repeats the previous row's (line %ld): one row per bar",
                  quote(f[0], q, sizeof q), r->prev_line);
    return fail(r, d, r->row_line, TACK_EPARSE,
                "ts %s is earlier than the previous row's (line %ld): bar rows must be in time "
                "order, oldest first",
                quote(f[0], q, sizeof q), r->prev_line);
  }
  r->have_prev = 1;
  r->prev_ts = b.ts;
  r->prev_line = r->row_line;
  b.flags = TACK_BAR_CLOSED;
  *out = b;
  return 1;
}

int tack_csv_next_trade(tack_csv *r, tack_trade *out, tack_diag *d) {
  char *f[MAX_FIELDS];
  tack_trade t;
  char q[QUOTE_MAX + 8];
  if (r->format != TACK_CSV_TRADES)
    return TACK_EINVAL;
  int rc = next_row(r, d, f, TRADE_FIELDS);
  if (rc <= 0)
    return rc;
  memset(&t, 0, sizeof t);
  rc = parse_ts(r, d, f[F_TS], &t.ts);
  if (rc == 0)
    rc = parse_field(r, d, trade_fields[F_PRICE], f[F_PRICE], &t.price);
  if (rc == 0)
    rc = parse_field(r, d, trade_fields[F_SIZE], f[F_SIZE], &t.size);
  if (rc != 0)
    return rc;
  if (t.size < 0)
    return fail(r, d, r->row_line, TACK_EPARSE, "size %s is negative",
                quote(f[F_SIZE], q, sizeof q));
  if (strcmp(f[F_SIDE], "buy") == 0)
    t.side = TACK_SIDE_BUY;
  else if (strcmp(f[F_SIDE], "sell") == 0)
    t.side = TACK_SIDE_SELL;
  else if (f[F_SIDE][0] != '\0')
    return fail(r, d, r->row_line, TACK_EPARSE, "side '%s' is not buy, sell or empty (unknown)",
                quote(f[F_SIDE], q, sizeof q));
  *out = t;
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

void tack_csv_format_ts(tack_time ts, char *buf, size_t cap) {
  /* Unsigned negation keeps INT64_MIN defined. */
  uint64_t mag = ts < 0 ? (uint64_t)0 - (uint64_t)ts : (uint64_t)ts;
  const char *sign = ts < 0 ? "-" : "";
  unsigned long long sec = (unsigned long long)(mag / NS_PER_SEC);
  unsigned long long frac = (unsigned long long)(mag % NS_PER_SEC);
  if (frac == 0) {
    snprintf(buf, cap, "%s%llu", sign, sec);
    return;
  }
  int decimals = NS_DIGITS;
  for (; frac % 10 == 0; frac /= 10)
    decimals--;
  snprintf(buf, cap, "%s%llu.%0*llu", sign, sec, decimals, frac);
}

int tack_csv_write_bar(FILE *out, const tack_bar *bar) {
  char ts[32];
  tack_csv_format_ts(bar->ts, ts, sizeof ts);
  int n = fprintf(out, "%s,%.17g,%.17g,%.17g,%.17g,%.17g\n", ts, bar->open, bar->high, bar->low,
                  bar->close, bar->volume);
  return n < 0 ? TACK_EIO : 0;
}
