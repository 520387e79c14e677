/*
 * test_csv.c: the strict CSV reader and the writer of host/csv.c: exact
 * fractional timestamps, CRLF, byte order mark, the header check, blank
 * lines, every kind of malformed row with its line number, huge numbers,
 * NaN and infinity refused, time order, trades, the number grammar, ts
 * formatting, and a write/read round trip bit for bit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

#define BAR_HEADER TACK_CSV_BAR_HEADER "\n"
#define TRADE_HEADER TACK_CSV_TRADE_HEADER "\n"

/* A temporary file holding text, positioned at its start. */
static FILE *file_of(const char *text, size_t len) {
  FILE *f = tmpfile();
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, len, f), len);
  rewind(f);
  return f;
}

/* Every row of text; returns the last result (0 at the end, or an error),
 * the rows read in *n and the last one in *last. */
static int read_bars(const char *text, tack_diag *d, tack_bar *last, size_t *n) {
  FILE *f = file_of(text, strlen(text));
  tack_csv *r = NULL;
  tack_bar b;
  int rc;
  assert_int_equal(tack_csv_open_stream(f, "t.csv", TACK_CSV_BARS, &r), 0);
  *n = 0;
  while ((rc = tack_csv_next_bar(r, &b, d)) == 1) {
    (*n)++;
    if (last)
      *last = b;
  }
  tack_csv_close(r);
  fclose(f);
  return rc;
}

static int read_trades(const char *text, tack_diag *d, tack_trade *last, size_t *n) {
  FILE *f = file_of(text, strlen(text));
  tack_csv *r = NULL;
  tack_trade t;
  int rc;
  assert_int_equal(tack_csv_open_stream(f, "t.csv", TACK_CSV_TRADES, &r), 0);
  *n = 0;
  while ((rc = tack_csv_next_trade(r, &t, d)) == 1) {
    (*n)++;
    if (last)
      *last = t;
  }
  tack_csv_close(r);
  fclose(f);
  return rc;
}

/* text must fail at "t.csv:<line>: " with a message containing want. */
static void expect_error(const char *text, uint32_t format, int line, const char *want) {
  tack_diag d = TACK_DIAG_INIT;
  size_t n;
  char place[32];
  int rc =
      format == TACK_CSV_BARS ? read_bars(text, &d, NULL, &n) : read_trades(text, &d, NULL, &n);
  if (line > 0)
    snprintf(place, sizeof place, "t.csv:%d: ", line);
  else
    snprintf(place, sizeof place, "t.csv: ");
  if (rc != TACK_EPARSE || d.n != 1 || strncmp(d.msgs[0], place, strlen(place)) != 0 ||
      !strstr(d.msgs[0], want))
    fail_msg("input:\n%s\nrc %d, %zu messages, first: %s\nwanted at %s: ...%s...", text, rc, d.n,
             d.n ? d.msgs[0] : "(none)", place, want);
  tack_diag_free(&d);
}

static void test_reads_bars_exactly(void **state) {
  (void)state;
  static const char text[] = BAR_HEADER "1675329600.138,1.5,2,1,1.75,10\n"
                                        "1762795433.9717445,100,101,99,100.5,0\n"
                                        "1762795434.000000001,1e2,1.01e2,99,100,0.125\n"
                                        "9223372036.854775807,1,1,1,1,1\n";
  tack_diag d = TACK_DIAG_INIT;
  FILE *f = file_of(text, sizeof text - 1);
  tack_csv *r = NULL;
  tack_bar b;
  assert_int_equal(tack_csv_open_stream(f, "t.csv", TACK_CSV_BARS, &r), 0);
  assert_int_equal(tack_csv_line(r), 0);
  assert_string_equal(tack_csv_ts_text(r), "");

  assert_int_equal(tack_csv_next_bar(r, &b, &d), 1);
  assert_true(b.ts == INT64_C(1675329600138000000));
  assert_true(b.open == 1.5 && b.high == 2 && b.low == 1 && b.close == 1.75 && b.volume == 10);
  assert_int_equal(b.flags, TACK_BAR_CLOSED);
  assert_int_equal(b.timeframe_s, 0);
  assert_int_equal(tack_csv_line(r), 2);
  assert_string_equal(tack_csv_ts_text(r), "1675329600.138");

  assert_int_equal(tack_csv_next_bar(r, &b, &d), 1);
  assert_true(b.ts == INT64_C(1762795433971744500)); /* no double could hold it */
  assert_string_equal(tack_csv_ts_text(r), "1762795433.9717445");

  assert_int_equal(tack_csv_next_bar(r, &b, &d), 1);
  assert_true(b.ts == INT64_C(1762795434000000001));
  assert_true(b.open == 100 && b.high == 101 && b.volume == 0.125);

  assert_int_equal(tack_csv_next_bar(r, &b, &d), 1);
  assert_true(b.ts == INT64_MAX);
  assert_int_equal(tack_csv_next_bar(r, &b, &d), 0);
  assert_int_equal(tack_csv_next_bar(r, &b, &d), 0);
  assert_int_equal(d.n, 0);
  tack_csv_close(r);
  fclose(f);
}

static void test_crlf_bom_and_last_line(void **state) {
  (void)state;
  tack_diag d = TACK_DIAG_INIT;
  tack_bar b;
  size_t n;
  assert_int_equal(
      read_bars("ts,open,high,low,close,volume\r\n1,1,2,0.5,1.5,3\r\n2,1,1,1,1,0\r\n", &d, &b, &n),
      0);
  assert_int_equal(n, 2);
  assert_true(b.ts == 2 * TACK_NS_PER_SEC && b.volume == 0);
  /* Spreadsheets write a byte order mark; the last line may lack its LF. */
  assert_int_equal(read_bars("\xef\xbb\xbf" BAR_HEADER "1,1,2,0.5,1.5,3\n2,1,1,1,1,4", &d, &b, &n),
                   0);
  assert_int_equal(n, 2);
  assert_true(b.volume == 4);
  /* A header alone is an empty series, not an error. */
  assert_int_equal(read_bars(BAR_HEADER, &d, &b, &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(d.n, 0);
}

static void test_blank_lines(void **state) {
  (void)state;
  tack_diag d = TACK_DIAG_INIT;
  size_t n;
  assert_int_equal(read_bars(BAR_HEADER "1,1,1,1,1,1\n\n\r\n\n", &d, NULL, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(d.n, 0);
  expect_error(BAR_HEADER "1,1,1,1,1,1\n\n\n2,1,1,1,1,1\n", TACK_CSV_BARS, 3,
               "blank line inside the data (a row follows at line 5)");
}

static void test_header(void **state) {
  (void)state;
  expect_error("", TACK_CSV_BARS, 0,
               "the file is empty: expected the header line "
               "'ts,open,high,low,close,volume'");
  expect_error("ts,open,high,low,close\n1,1,1,1,1\n", TACK_CSV_BARS, 1,
               "expected the header 'ts,open,high,low,close,volume', got "
               "'ts,open,high,low,close'");
  expect_error("1,1,1,1,1,1\n", TACK_CSV_BARS, 1, "this looks like a data row");
  expect_error(TRADE_HEADER "1,1,1,buy\n", TACK_CSV_BARS, 1, "the header of a trades file");
  expect_error(BAR_HEADER, TACK_CSV_TRADES, 1, "the header of a bars file");
  expect_error("TS,OPEN,HIGH,LOW,CLOSE,VOLUME\n", TACK_CSV_BARS, 1, "got 'TS,OPEN");
}

/* One malformed row after a good one: reported at line 3. */
static void bad_bar(const char *row, const char *want) {
  char text[512];
  snprintf(text, sizeof text, BAR_HEADER "1,1,1,1,1,1\n%s\n5,1,1,1,1,1\n", row);
  expect_error(text, TACK_CSV_BARS, 3, want);
}

static void test_malformed_bars(void **state) {
  (void)state;
  bad_bar("2,1,1,1,1", "expected 6 fields (ts,open,high,low,close,volume), found 5");
  bad_bar("2,1,1,1,1,1,1", "found 7");
  bad_bar("2;1;1;1;1;1", "found 1");
  bad_bar("", "blank line inside the data"); /* then line 4 follows */
  bad_bar(",1,1,1,1,1", "ts is empty");
  bad_bar("x,1,1,1,1,1", "ts 'x' is not UNIX seconds");
  bad_bar("2e0,1,1,1,1,1", "ts '2e0' is not UNIX seconds");
  bad_bar("2.5.1,1,1,1,1,1", "is not UNIX seconds");
  bad_bar(" 2,1,1,1,1,1", "ts ' 2' is not UNIX seconds");
  bad_bar("-2,1,1,1,1,1", "ts '-2' is negative");
  bad_bar("2.1234567891,1,1,1,1,1", "more than 9 decimals: finer than a nanosecond");
  bad_bar("9223372036.854775808,1,1,1,1,1", "too large");
  bad_bar("99999999999999999999999,1,1,1,1,1", "too large");
  bad_bar("2,,1,1,1,1", "open is empty");
  bad_bar("2,abc,1,1,1,1", "open 'abc' is not a number");
  bad_bar("2,1,1,1,1,1x", "volume '1x' is not a number");
  bad_bar("2, 1,1,1,1,1", "open ' 1' is not a number");
  bad_bar("2,0x1p0,1,1,1,1", "open '0x1p0' is not a number");
  bad_bar("2,\"1\",1,1,1,1", "open '\"1\"' is not a number");
  bad_bar("2,1,1,1,1e,1", "close '1e' is not a number");
  bad_bar("2,nan,1,1,1,1", "open 'nan' is not a finite number");
  bad_bar("2,1,NaN,1,1,1", "high 'NaN' is not a finite number");
  bad_bar("2,1,inf,1,1,1", "high 'inf' is not a finite number");
  bad_bar("2,1,1,-Infinity,1,1", "low '-Infinity' is not a finite number");
  bad_bar("2,1,1e999,1,1,1", "high '1e999' is beyond the range of a double");
  bad_bar("2,1,1,1,1,1e-999", "volume '1e-999' is beyond the range of a double");
  bad_bar("2,1,1,1,1,-1", "volume -1 is negative");
  bad_bar("2,1,1,2,1,1", "high 1 is below low 2");
  bad_bar("2,3,2,1,1.5,1", "open 3 is outside the bar's range [1, 2]");
  bad_bar("2,1.5,2,1,0.5,1", "close 0.5 is outside the bar's range [1, 2]");
  bad_bar("1,1,1,1,1,1", "ts 1 repeats the previous row's (line 2): one row per bar");
  bad_bar("0.5,1,1,1,1,1", "ts 0.5 is earlier than the previous row's (line 2)");
  /* A long field is cut in the message. */
  bad_bar("2,1111111111111111111111111111111111111111111111111111111111x,1,1,1,1",
          "open '1111111111111111111111111111111111111111...' is not a number");
}

static void test_nul_byte_and_sticky_error(void **state) {
  (void)state;
  static const char text[] = BAR_HEADER "1,1,1,1,1,1\n2,1\0,1,1,1,1\n";
  tack_diag d = TACK_DIAG_INIT;
  FILE *f = file_of(text, sizeof text - 1);
  tack_csv *r = NULL;
  tack_bar b;
  assert_int_equal(tack_csv_open_stream(f, "t.csv", TACK_CSV_BARS, &r), 0);
  assert_int_equal(tack_csv_next_bar(r, &b, &d), 1);
  assert_int_equal(tack_csv_next_bar(r, &b, &d), TACK_EPARSE);
  assert_int_equal(d.n, 1);
  assert_string_equal(d.msgs[0], "t.csv:3: the line holds a NUL byte: not a text CSV file");
  /* The error sticks, and is said once. */
  assert_int_equal(tack_csv_next_bar(r, &b, &d), TACK_EPARSE);
  assert_int_equal(d.n, 1);
  /* The other format's reader is refused. */
  tack_trade t;
  assert_int_equal(tack_csv_next_trade(r, &t, &d), TACK_EINVAL);
  tack_csv_close(r);
  fclose(f);
  tack_diag_free(&d);
}

static void test_huge_numbers(void **state) {
  (void)state;
  tack_diag d = TACK_DIAG_INIT;
  tack_bar b;
  size_t n;
  assert_int_equal(read_bars(BAR_HEADER "1,1e308,1.7976931348623157e308,-1e308,0,"
                                        "4.9406564584124654e-300\n",
                             &d, &b, &n),
                   0);
  assert_int_equal(n, 1);
  assert_true(b.high == 1.7976931348623157e308 && b.low == -1e308);
  assert_true(b.volume == 4.9406564584124654e-300);
  assert_int_equal(d.n, 0);
}

static void test_trades(void **state) {
  (void)state;
  tack_diag d = TACK_DIAG_INIT;
  tack_trade t;
  size_t n;
  assert_int_equal(read_trades(TRADE_HEADER "1762795433.9717445,105433.6,0.00027625,buy\n"
                                            "1762795433.5,105433.7,0,sell\n"
                                            "1762795433.5,105433.7,2,\n",
                               &d, &t, &n),
                   0);
  assert_int_equal(n, 3); /* trades may come out of order: the builder sorts them */
  assert_true(t.ts == INT64_C(1762795433500000000) && t.size == 2 && t.side == 0);
  assert_string_equal(t.id, "");
  assert_int_equal(read_trades(TRADE_HEADER "1,2,3,buy\n", &d, &t, &n), 0);
  assert_true(t.side == TACK_SIDE_BUY && t.price == 2 && t.size == 3);
  assert_int_equal(d.n, 0);

  expect_error(TRADE_HEADER "1,2,3,buy\n1,2,3,hold\n", TACK_CSV_TRADES, 3,
               "side 'hold' is not buy, sell or empty");
  expect_error(TRADE_HEADER "1,2,3,BUY\n", TACK_CSV_TRADES, 2, "side 'BUY'");
  expect_error(TRADE_HEADER "1,2,-3,buy\n", TACK_CSV_TRADES, 2, "size -3 is negative");
  expect_error(TRADE_HEADER "1,inf,3,buy\n", TACK_CSV_TRADES, 2, "price 'inf' is not a finite");
  expect_error(TRADE_HEADER "1,2,3\n", TACK_CSV_TRADES, 2, "expected 4 fields");
}

static void test_open_errors(void **state) {
  (void)state;
  tack_diag d = TACK_DIAG_INIT;
  tack_csv *r = NULL;
  assert_int_equal(tack_csv_open("/nonexistent/bars.csv", TACK_CSV_BARS, &d, &r), TACK_EIO);
  assert_null(r);
  assert_int_equal(d.n, 1);
  assert_string_equal(d.msgs[0], "/nonexistent/bars.csv: cannot open: No such file or directory");
  assert_int_equal(tack_csv_open("-", 99, &d, &r), TACK_EINVAL);
  assert_int_equal(tack_csv_open("-", TACK_CSV_BARS, &d, &r), 0);
  assert_string_equal(tack_csv_name(r), TACK_CSV_STDIN_NAME);
  tack_csv_close(r);
  tack_csv_close(NULL);
  tack_diag_free(&d);
}

static void test_parse_number(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int rc;
    double v;
  } cases[] = {
      {"0", 0, 0},
      {"-0", 0, -0.0},
      {"+1.5", 0, 1.5},
      {".5", 0, 0.5},
      {"5.", 0, 5},
      {"1e3", 0, 1000},
      {"1E+3", 0, 1000},
      {"25e-1", 0, 2.5},
      {"", TACK_EPARSE, 0},
      {".", TACK_EPARSE, 0},
      {"-", TACK_EPARSE, 0},
      {"e5", TACK_EPARSE, 0},
      {"1e", TACK_EPARSE, 0},
      {"1e+", TACK_EPARSE, 0},
      {"nan", TACK_EPARSE, 0},
      {"inf", TACK_EPARSE, 0},
      {"0x10", TACK_EPARSE, 0},
      {" 1", TACK_EPARSE, 0},
      {"1 ", TACK_EPARSE, 0},
      {"1,5", TACK_EPARSE, 0},
      {"++1", TACK_EPARSE, 0},
      {"1e400", TACK_ERANGE, 0},
      {"-1e400", TACK_ERANGE, 0},
      {"1e-400", TACK_ERANGE, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double v = 42;
    int rc = tack_csv_parse_number(cases[i].text, &v);
    if (rc != cases[i].rc || (rc == 0 && v != cases[i].v) || (rc != 0 && v != 42))
      fail_msg("'%s': rc %d value %g, wanted rc %d value %g", cases[i].text, rc, v, cases[i].rc,
               cases[i].v);
  }
}

static void test_format_ts(void **state) {
  (void)state;
  static const struct {
    tack_time ts;
    const char *text;
  } cases[] = {
      {0, "0"},
      {1, "0.000000001"},
      {INT64_C(1675329600138000000), "1675329600.138"},
      {INT64_C(1762795433971744500), "1762795433.9717445"},
      {INT64_C(1417132800000000000), "1417132800"},
      {INT64_C(1417132800000000002), "1417132800.000000002"},
      {INT64_MAX, "9223372036.854775807"},
      {INT64_C(-1500000000), "-1.5"},
      {INT64_MIN, "-9223372036.854775808"},
  };
  char buf[32];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tack_csv_format_ts(cases[i].ts, buf, sizeof buf);
    assert_string_equal(buf, cases[i].text);
  }
  tack_csv_format_ts(INT64_C(1675329600138000000), buf, 8);
  assert_string_equal(buf, "1675329");
}

/* What the writer writes, the reader reads back: every bit of every field. */
static void test_round_trip(void **state) {
  (void)state;
  tack_bar in[300], out;
  tack_diag d = TACK_DIAG_INIT;
  FILE *f = tmpfile();
  assert_non_null(f);
  fputs(BAR_HEADER, f);
  uint64_t x = 88172645463325252u;
  for (int i = 0; i < 300; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double base = (double)(x >> 11) / 9007199254740992.0 * 1e5;
    memset(&in[i], 0, sizeof in[i]);
    in[i].ts = INT64_C(1600000000000000000) + i * INT64_C(60000000001) + (int64_t)(x % 7);
    in[i].open = base;
    in[i].high = base * 1.01;
    in[i].low = base / 1.01;
    in[i].close = (in[i].high + in[i].low) / 2;
    in[i].volume = base / 3;
    in[i].flags = TACK_BAR_CLOSED;
    assert_int_equal(tack_csv_write_bar(f, &in[i]), 0);
  }
  rewind(f);
  tack_csv *r = NULL;
  assert_int_equal(tack_csv_open_stream(f, "rt.csv", TACK_CSV_BARS, &r), 0);
  for (int i = 0; i < 300; i++) {
    assert_int_equal(tack_csv_next_bar(r, &out, &d), 1);
    assert_memory_equal(&in[i], &out, sizeof out);
  }
  assert_int_equal(tack_csv_next_bar(r, &out, &d), 0);
  tack_csv_close(r);
  fclose(f);
}

/* A long file streams: the reader holds one line, whatever the length. */
static void test_many_rows(void **state) {
  (void)state;
  tack_diag d = TACK_DIAG_INIT;
  tack_bar b;
  FILE *f = tmpfile();
  assert_non_null(f);
  fputs(BAR_HEADER, f);
  for (long i = 0; i < 200000; i++)
    fprintf(f, "%ld,%ld.5,%ld.75,%ld.25,%ld.5,%ld\n", 1600000000 + 60 * i, i, i, i, i, i % 97);
  rewind(f);
  tack_csv *r = NULL;
  assert_int_equal(tack_csv_open_stream(f, "big.csv", TACK_CSV_BARS, &r), 0);
  long n = 0;
  int rc;
  while ((rc = tack_csv_next_bar(r, &b, &d)) == 1)
    n++;
  assert_int_equal(rc, 0);
  assert_int_equal(n, 200000);
  assert_true(b.close == 199999.5 && b.ts == (1600000000 + 60 * INT64_C(199999)) * TACK_NS_PER_SEC);
  assert_int_equal(tack_csv_line(r), 200001);
  tack_csv_close(r);
  fclose(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reads_bars_exactly), cmocka_unit_test(test_crlf_bom_and_last_line),
      cmocka_unit_test(test_blank_lines),        cmocka_unit_test(test_header),
      cmocka_unit_test(test_malformed_bars),     cmocka_unit_test(test_nul_byte_and_sticky_error),
      cmocka_unit_test(test_huge_numbers),       cmocka_unit_test(test_trades),
      cmocka_unit_test(test_open_errors),        cmocka_unit_test(test_parse_number),
      cmocka_unit_test(test_format_ts),          cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_many_rows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
