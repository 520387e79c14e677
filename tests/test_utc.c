/*
 * test_utc.c: ISO-8601 UTC text <-> tack_time, exactly, and every malformed
 * or out-of-range time refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "utc.h"

#define NS TACK_NS_PER_SEC

static void test_round_trips(void **state) {
  (void)state;
  static const struct {
    const char *text;
    tack_time t;
  } cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2018-05-15T06:00:00Z", INT64_C(1526364000) * NS},
      {"2000-02-29T23:59:59Z", INT64_C(951868799) * NS},
      {"2023-11-14T00:00:00.25Z", INT64_C(1699920000) * NS + NS / 4},
      {"2023-11-14T00:00:00.000000001Z", INT64_C(1699920000) * NS + 1},
      {"1969-12-31T23:59:59Z", -NS},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tack_time t = 0;
    char buf[64];
    assert_int_equal(tack_utc_parse(cases[i].text, &t), 0);
    assert_true(t == cases[i].t);
    tack_utc_format(t, buf, sizeof buf);
    assert_string_equal(buf, cases[i].text);
  }
}

/* The extremes of tack_time format without overflow (open bounds of a
 * range are INT64_MIN and INT64_MAX). */
static void test_format_extremes(void **state) {
  (void)state;
  char buf[64];
  tack_utc_format(INT64_MIN, buf, sizeof buf);
  assert_string_equal(buf, "1677-09-21T00:12:43.145224192Z");
  tack_utc_format(INT64_MAX, buf, sizeof buf);
  assert_string_equal(buf, "2262-04-11T23:47:16.854775807Z");
  tack_utc_format(-1, buf, sizeof buf);
  assert_string_equal(buf, "1969-12-31T23:59:59.999999999Z");
}

static void test_other_forms(void **state) {
  (void)state;
  tack_time t = 0;
  assert_int_equal(tack_utc_parse("2021-01-01", &t), 0);
  assert_true(t == INT64_C(1609459200) * NS);
  assert_int_equal(tack_utc_parse("2021-01-01 06:30", &t), 0);
  assert_true(t == (INT64_C(1609459200) + 6 * 3600 + 30 * 60) * NS);
  assert_int_equal(tack_utc_parse("2021-01-01T06:30:15", &t), 0);
  assert_true(t == (INT64_C(1609459200) + 6 * 3600 + 30 * 60 + 15) * NS);
}

static void test_refused(void **state) {
  (void)state;
  static const char *const bad[] = {
      "",
      "2021",
      "2021-1-01",
      "2021-13-01",
      "2021-02-29",
      "2020-02-30",
      "2021-01-01T24:00",
      "2021-01-01T06:60",
      "2021-01-01T06:00:60",
      "2021-01-01T06:00:00.",
      "2021-01-01T06:00:00.1234567890",
      "2021-01-01Zjunk",
      "2021-01-01T06",
      "x021-01-01",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tack_time t = 0;
    assert_int_equal(tack_utc_parse(bad[i], &t), TACK_EPARSE);
  }
}

static void test_floor_div(void **state) {
  (void)state;
  assert_true(tack_floor_div(7, 2) == 3);
  assert_true(tack_floor_div(-7, 2) == -4);
  assert_true(tack_floor_div(-8, 2) == -4);
  assert_true(tack_floor_div(0, 5) == 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trips), cmocka_unit_test(test_format_extremes),
      cmocka_unit_test(test_other_forms), cmocka_unit_test(test_refused),
      cmocka_unit_test(test_floor_div),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
