/*
 * csv.h: the strict CSV reader and writer of the command-line tools (tack
 * calc, filter, bars): bars `ts,open,high,low,close,volume` and trades
 * `ts,price,size,side`.
 *
 * Reading is strict, because a wrong number read quietly from a file is worse
 * than a refusal: the first line must be the header, every row has exactly
 * the header's fields, numbers are plain decimals (no NaN, infinity, hex or
 * spaces) within the range of a double, bars are consistent (low <= open,
 * close <= high, volume >= 0) and in strictly increasing time order, trades
 * have a size >= 0 and a side of buy, sell or nothing. Blank lines may only
 * end the file; a CR before each LF (CRLF files) and a UTF-8 byte order mark
 * are accepted. The first problem stops the reader and is reported as
 * "FILE:LINE: what is wrong".
 *
 * ts is UNIX seconds, possibly with up to 9 decimals ("1675329600.138"); it
 * becomes int64 nanoseconds exactly, digit by digit, never through a double.
 *
 * A reader streams: it holds one line at a time, so a file of any size costs
 * the same memory. Not thread-safe; one reader per thread.
 */
#ifndef TACK_CSV_H
#define TACK_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "tack.h"

/* What a file holds. */
#define TACK_CSV_BARS 1u
#define TACK_CSV_TRADES 2u

#define TACK_CSV_BAR_HEADER "ts,open,high,low,close,volume"
#define TACK_CSV_TRADE_HEADER "ts,price,size,side"

/* The name messages give to standard input ("-" as a path). */
#define TACK_CSV_STDIN_NAME "<stdin>"

typedef struct tack_csv tack_csv;

/*
 * Open path ("-" reads standard input) for rows of format (TACK_CSV_BARS or
 * TACK_CSV_TRADES). Nothing is read yet: the header is checked by the first
 * next call. Returns 0, or TACK_EIO (the file cannot be opened; the message,
 * with the path and the system's reason, is added to d), TACK_EINVAL (an
 * unknown format) or TACK_ENOMEM; *out is then NULL.
 */
int tack_csv_open(const char *path, uint32_t format, tack_diag *d, tack_csv **out);

/* Like tack_csv_open() on a stream the caller opened and keeps: close()
 * leaves it open. name is what messages call it; it is copied. */
int tack_csv_open_stream(FILE *f, const char *name, uint32_t format, tack_csv **out);

/* Close the reader (and its file, unless it came from open_stream). NULL is
 * a no-op. */
void tack_csv_close(tack_csv *r);

/*
 * Read the next row. Returns 1 with *out set, 0 at the end of the data, or
 * TACK_EPARSE (a malformed header or row, a bar out of time order) or
 * TACK_EIO (a read error) with the message added to d; TACK_EINVAL when the
 * reader holds the other format. After an error every call returns it again
 * without reading or adding a message.
 *
 * Bars get TACK_BAR_CLOSED and timeframe_s 0: a CSV file does not say its
 * timeframe. Trades get an empty id and side TACK_SIDE_BUY, TACK_SIDE_SELL,
 * or 0 for an empty side field.
 */
int tack_csv_next_bar(tack_csv *r, tack_bar *out, tack_diag *d);
int tack_csv_next_trade(tack_csv *r, tack_trade *out, tack_diag *d);

/* The line number (from 1) of the row last returned; 0 before the first. */
long tack_csv_line(const tack_csv *r);

/* What messages call the file: the path as given, or TACK_CSV_STDIN_NAME. */
const char *tack_csv_name(const tack_csv *r);

/* The ts field of the row last returned, exactly as the file wrote it
 * ("1570752011.620"); valid until the next call on r. "" before the first. */
const char *tack_csv_ts_text(const tack_csv *r);

/*
 * A plain decimal number, as the reader accepts it in a field: an optional
 * sign, digits with an optional '.', an optional exponent; at least one
 * digit; nothing else (no spaces, NaN, infinity or hex). Returns 0 with *out
 * set, TACK_EPARSE for any other text, TACK_ERANGE when it is beyond the
 * range of a double (overflow or underflow). Shared with the parameter
 * values of plugin specs (plugin_spec.h), so both read numbers alike.
 */
int tack_csv_parse_number(const char *text, double *out);

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/* ts as UNIX seconds: the whole seconds, then '.' and up to 9 decimals with
 * trailing zeros dropped (1675329600138000000 -> "1675329600.138"; whole
 * seconds have no '.'). Reads back exactly. Always NUL-terminates; 32 bytes
 * hold any tack_time. */
void tack_csv_format_ts(tack_time ts, char *buf, size_t cap);

/* The bar as a row of TACK_CSV_BAR_HEADER: ts as tack_csv_format_ts(), the
 * rest with %.17g so that every double reads back exactly. Returns 0 or
 * TACK_EIO when the stream reports a write error. */
int tack_csv_write_bar(FILE *out, const tack_bar *bar);

#endif
