/*
 * utc.h: UTC times as people write them (ISO-8601) and as tack keeps them
 * (tack_time, nanoseconds since the epoch), for commands that read and
 * print times. Exact: no double and no time zone database in between.
 */
#ifndef TACK_UTC_H
#define TACK_UTC_H

#include <stddef.h>
#include <stdint.h>

#include "tack.h"

/* "2018-05-15T06:00:00Z", with decimals only when t has them. */
void tack_utc_format(tack_time t, char *buf, size_t cap);

/* YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z], UTC, up to nanoseconds.
 * TACK_EPARSE for anything else (a day the month does not have, 24:00),
 * TACK_ERANGE past what tack_time holds. */
int tack_utc_parse(const char *s, tack_time *out);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12,
 * d 1..31), negative before it. */
int64_t tack_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The proleptic Gregorian date of day z since 1970-01-01 (the inverse of
 * tack_days_from_civil). */
void tack_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* a / b rounded toward minus infinity (b > 0). */
int64_t tack_floor_div(int64_t a, int64_t b);

#endif
