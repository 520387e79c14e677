/*
 * utc.c: UTC times as people write them (ISO-8601) and as tack keeps them
 * (tack_time, nanoseconds since the epoch); see utc.h.
 */
#include "utc.h"

#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H.
 * Hinnant's algorithms: exact for every int64 day count used here). */
int64_t tack_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

void tack_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int64_t tack_floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void tack_utc_format(tack_time t, char *buf, size_t cap) {
  int64_t secs = tack_floor_div(t, TACK_NS_PER_SEC);
  /* Not t - secs * 10^9: that overflows near INT64_MIN. */
  int64_t frac = (t % TACK_NS_PER_SEC + TACK_NS_PER_SEC) % TACK_NS_PER_SEC;
  int64_t days = tack_floor_div(secs, 86400);
  int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  tack_civil_from_days(days, &y, &m, &d);
  int n = snprintf(buf, cap, "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)y, m, d,
                   (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
  if (n < 0 || (size_t)n >= cap)
    return;
  if (frac) {
    int width = 9;
    for (; frac % 10 == 0; frac /= 10)
      width--;
    snprintf(buf + n, cap - (size_t)n, ".%0*lldZ", width, (long long)frac);
  } else {
    snprintf(buf + n, cap - (size_t)n, "Z");
  }
}

/* Reads exactly n digits at *p into *v. */
static int digits(const char **p, const char *end, int n, unsigned *v) {
  *v = 0;
  for (int i = 0; i < n; i++, (*p)++) {
    if (*p >= end || **p < '0' || **p > '9')
      return -1;
    *v = *v * 10 + (unsigned)(**p - '0');
  }
  return 0;
}

int tack_utc_parse(const char *s, tack_time *out) {
  const char *p = s, *end = s + strlen(s);
  unsigned y, mo, d, h = 0, mi = 0, sec = 0;
  uint64_t frac = 0;
  static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

  if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' || digits(&p, end, 2, &mo) || p >= end ||
      *p++ != '-' || digits(&p, end, 2, &d))
    return TACK_EPARSE;
  if (p < end && (*p == 'T' || *p == ' ')) {
    p++;
    if (digits(&p, end, 2, &h) || p >= end || *p++ != ':' || digits(&p, end, 2, &mi))
      return TACK_EPARSE;
    if (p < end && *p == ':') {
      p++;
      if (digits(&p, end, 2, &sec))
        return TACK_EPARSE;
      if (p < end && *p == '.') {
        int fd = 0;
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, fd++) {
          if (fd == 9)
            return TACK_EPARSE;
          frac = frac * 10 + (uint64_t)(*p - '0');
        }
        if (fd == 0)
          return TACK_EPARSE;
        for (; fd < 9; fd++)
          frac *= 10;
      }
    }
  }
  if (p < end && *p == 'Z')
    p++;
  if (p != end || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
    return TACK_EPARSE;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[mo - 1] + (mo == 2 && leap))
    return TACK_EPARSE;
  int64_t secs = tack_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  if (secs > INT64_MAX / TACK_NS_PER_SEC || secs < INT64_MIN / TACK_NS_PER_SEC ||
      secs * TACK_NS_PER_SEC > INT64_MAX - (int64_t)frac)
    return TACK_ERANGE;
  *out = secs * TACK_NS_PER_SEC + (int64_t)frac;
  return 0;
}
