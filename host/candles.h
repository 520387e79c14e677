/*
 * candles.h: candles (closed OHLCV bars) kept in the store, and the CSV form
 * `tack data import` reads and `tack data export` writes. See docs/data.md.
 *
 * A series is the candles of one (symbol, timeframe); within it a candle is
 * identified by its time (tack_bar.ts, the interval's start). Layout, in the
 * store's LMDB environment (store.h):
 *
 *   meta     "candles_layout" = u32 little-endian, TACK_CANDLES_LAYOUT. Written
 *            when the candles database is created; a store with any other
 *            value is refused (TACK_ENOTSUP), never misread.
 *   candles  MDB_DUPSORT | MDB_DUPFIXED: one key per series, every candle a
 *            fixed-size duplicate of it, so LMDB keeps a series' candles
 *            together and in time order.
 *     key    symbol bytes, 0x00, timeframe in seconds as u32 big-endian. The
 *            0x00 ends the symbol, so "BTC" sorts before "BTC-PERP" and the
 *            series of two symbols or two timeframes never interleave.
 *     value  48 bytes: time as u64 big-endian with the sign bit flipped (so
 *            that memcmp order is time order, negative times included), then
 *            open, high, low, close, volume as IEEE-754 doubles in the host's
 *            byte order (LMDB files are not portable across byte orders
 *            anyway). Nothing else: timeframe and flags are implied.
 *
 * Why duplicates rather than one key per candle: a full scan reads whole
 * pages of packed values (MDB_GET_MULTIPLE) instead of one cursor step per
 * candle, nearly 4x faster, and a candle costs 48 bytes instead of ~70. In-order
 * ingest is as fast either way (MDB_APPENDDUP | MDB_MULTIPLE finds the
 * series' key once per batch). bench/RESULTS.md ("Candles") has the figures.
 *
 * Every write is one LMDB write transaction, committed (durably) before the
 * call returns, or aborted: readers see all of a put or none of it. One
 * thread uses a tack_candles handle; no function here is thread-safe. Errors
 * are TACK_E* codes; LMDB's own text goes to the log with the store path.
 */
#ifndef TACK_CANDLES_H
#define TACK_CANDLES_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "store.h"
#include "tack.h"

/* The layout this host writes and reads (the "candles_layout" record). */
#define TACK_CANDLES_LAYOUT 1u

/* Symbols are 1 to this many bytes, each a printable ASCII character other
 * than space (0x21 to 0x7e): "BTC-USD", "BTC/USD", "ETH-PERP". */
#define TACK_CANDLES_SYMBOL_MAX 64

/* Bytes of one stored candle (the value described above). */
#define TACK_CANDLES_VALUE_SIZE 48

/* A put's outcome for each candle (the status array of tack_candles_put). */
#define TACK_CANDLE_ADDED 1u     /* not stored before */
#define TACK_CANDLE_REPLACED 2u  /* stored with other values: overwritten */
#define TACK_CANDLE_UNCHANGED 3u /* stored with the same values, bit for bit */

typedef struct tack_candles tack_candles;

/* What one put did. */
typedef struct tack_candles_stats {
  uint64_t added;
  uint64_t replaced;
  uint64_t unchanged;
} tack_candles_stats;

/* One series, as listed by tack_candles_list(). */
typedef struct tack_candles_series {
  char symbol[TACK_CANDLES_SYMBOL_MAX + 1];
  uint32_t timeframe_s;
  uint64_t count;  /* candles, at least 1: an empty series does not exist */
  tack_time first; /* the first candle's time */
  tack_time last;  /* the last candle's time */
} tack_candles_series;

/*
 * Called by tack_candles_read() with the next n (>= 1) candles of the range,
 * in time order, with timeframe_s set to the series' timeframe and flags
 * TACK_BAR_CLOSED. bars is borrowed for the call. Return 0 to go on, anything
 * else to stop: tack_candles_read() then returns that value. The callback
 * must not call tack_candles_* with the handle it was called from.
 */
typedef int (*tack_candles_fn)(void *data, const tack_bar *bars, size_t n);

/*
 * Open the candles database of st, creating it (and its layout record) when
 * the store has none. st must outlive the handle. Returns 0 and *out, or:
 *   TACK_ENOTSUP  the store's candles have another layout version
 *   TACK_EPARSE   the layout record or the database is damaged
 *   TACK_ENOMEM, TACK_EIO, TACK_EBUSY (no free reader slot or database)
 * Each failure is logged with the store path and what to do.
 */
int tack_candles_open(tack_store *st, tack_candles **out);

/* Close the handle; cs may be NULL. Every write has already been committed. */
void tack_candles_close(tack_candles *cs);

/*
 * Store n candles of (symbol, timeframe_s) in one write transaction. bars
 * must be in strictly increasing time and each must pass
 * tack_candle_check(); otherwise nothing is written and TACK_EINVAL is
 * returned (the first bad candle is logged). Their timeframe_s and flags are
 * not looked at (closed candles only belong here).
 *
 * A candle whose time is not stored yet is added; one stored with the same
 * five values is left alone; one stored with other values is overwritten.
 * So putting the same candles twice changes nothing, and when nothing is
 * added or replaced no transaction is committed. status, when not NULL, gets
 * one TACK_CANDLE_* per candle; stats, when not NULL, the counts. Both are
 * filled only when the call returns 0.
 *
 * Returns 0, TACK_EINVAL (a bad symbol, timeframe 0 or bad candles),
 * TACK_ENOSPC (the store's map is full; logged with what to do),
 * TACK_ENOMEM or TACK_EIO. n == 0 returns 0 and writes nothing.
 */
int tack_candles_put(tack_candles *cs, const char *symbol, uint32_t timeframe_s,
                     const tack_bar *bars, size_t n, uint8_t *status, tack_candles_stats *stats);

/*
 * Call fn with the candles of (symbol, timeframe_s) whose time is in
 * [from, to), in time order and in batches, from one read transaction (a
 * consistent snapshot: a concurrent put is seen entirely or not at all).
 * Use INT64_MIN and INT64_MAX for the whole series. Returns 0 (also when the
 * range holds no candle), TACK_ENOENT when the series does not exist,
 * TACK_EINVAL for a bad symbol, the callback's nonzero value, or TACK_EIO.
 */
int tack_candles_read(tack_candles *cs, const char *symbol, uint32_t timeframe_s, tack_time from,
                      tack_time to, tack_candles_fn fn, void *data);

/*
 * Copy up to cap of the candles of (symbol, timeframe_s) whose time is in
 * [from, to), the first ones in time order, into bars (timeframe_s set,
 * flags TACK_BAR_CLOSED), and set *n to how many: fewer than cap only when
 * the range holds no more. One short read transaction: positioned on the
 * first candle at or after `from` (MDB_GET_BOTH_RANGE), then whole pages
 * of candles (MDB_GET_MULTIPLE), so that paging through a series costs one
 * tree descent per page. To read on, call again with `from` one past the
 * last candle's time. Returns 0 (also when *n is 0), TACK_ENOENT when the
 * series does not exist, TACK_EINVAL (a bad symbol, timeframe 0, bars NULL
 * with cap > 0), or TACK_EIO; *n is 0 on error.
 */
int tack_candles_read_page(tack_candles *cs, const char *symbol, uint32_t timeframe_s,
                           tack_time from, tack_time to, tack_bar *bars, size_t cap, size_t *n);

/*
 * The extent of the series (symbol, timeframe_s): its number of candles and
 * the times of its first and last (each out pointer may be NULL), from one
 * read transaction. Returns 0, TACK_ENOENT when the series does not exist,
 * TACK_EINVAL, TACK_EPARSE (damaged) or TACK_EIO.
 */
int tack_candles_info(tack_candles *cs, const char *symbol, uint32_t timeframe_s, uint64_t *count,
                      tack_time *first, tack_time *last);

/*
 * Every series, ordered by symbol (bytewise) then timeframe. *out is an
 * array of *n entries allocated with tack_alloc (free it with
 * tack_free(NULL, *out)); NULL when *n is 0. Returns 0, TACK_ENOMEM,
 * TACK_EPARSE (a key that is not a series key: the store is damaged) or
 * TACK_EIO.
 */
int tack_candles_list(tack_candles *cs, tack_candles_series **out, size_t *n);

/*
 * Delete every candle of (symbol, timeframe_s) in one committed transaction.
 * *deleted (may be NULL) gets how many there were. Returns 0, TACK_ENOENT
 * when the series does not exist, TACK_EINVAL, TACK_EIO.
 */
int tack_candles_delete(tack_candles *cs, const char *symbol, uint32_t timeframe_s,
                        uint64_t *deleted);

/* 0 when symbol is a valid series symbol (see TACK_CANDLES_SYMBOL_MAX),
 * TACK_EINVAL otherwise. */
int tack_candles_symbol_check(const char *symbol);

/*
 * 0 when bar is a candle the store accepts for timeframe_s (> 0): its five
 * values finite, low <= open, close <= high, volume >= 0, and ts a multiple of
 * the timeframe (bars start on the UTC grid counted from the epoch).
 * Otherwise TACK_EINVAL, and why goes into why (cap bytes, may be 0), e.g.
 * "high 8700 is below open 8733.86".
 */
int tack_candle_check(const tack_bar *bar, uint32_t timeframe_s, char *why, size_t cap);

/* ---- CSV: the form of `tack data import` and `tack data export` ---------- */

/*
 * The file is the header line "ts,open,high,low,close,volume", then one row
 * per candle of six comma-separated fields, nothing else: no spaces, no
 * quotes, no blank lines but at the end. Lines end in LF or CRLF; the last
 * may have no end. A UTF-8 byte order mark before the header is skipped.
 * ts is UNIX seconds, an integer or a decimal fraction (at most nine
 * digits after the point); the others are decimal numbers as strtod reads
 * them, without "inf", "nan" or hex. Export writes ts as an integer when it
 * is a whole second and the values with %.17g, so that every double reads
 * back bit for bit: a file export wrote imports and exports again unchanged.
 */
#define TACK_CANDLES_CSV_HEADER "ts,open,high,low,close,volume"

/* Longest row tack_candles_csv_row() writes, with its newline. */
#define TACK_CANDLES_CSV_ROW_MAX 160

/*
 * Parse UNIX seconds (text, len bytes, no NUL needed): an optional '-', digits,
 * and optionally '.' and 1 to 9 digits, into nanoseconds, exactly (integer
 * arithmetic, never a double). Returns 0, TACK_EPARSE (not of that form, or
 * more than nine decimals) or TACK_ERANGE (beyond what int64 nanoseconds
 * hold, years 1677 to 2262).
 */
int tack_candles_parse_seconds(const char *text, size_t len, tack_time *out);

/* Format t as UNIX seconds the way the parser reads them: "1526364000",
 * "-1.5", "0.000000001". buf of 32 bytes is always enough. Returns the
 * length written (snprintf's convention). */
int tack_candles_format_seconds(tack_time t, char *buf, size_t cap);

/*
 * Parse and check a whole candle file held in text (len bytes): the header,
 * every field, each candle with tack_candle_check() for timeframe_s, and
 * times strictly increasing. name names the file in messages.
 *
 * On success returns 0 with *out (tack_alloc'd, free with tack_free(NULL,
 * *out)) holding *n candles (timeframe_s set, flags TACK_BAR_CLOSED).
 * Otherwise returns TACK_EPARSE and *out is NULL: every bad line is counted
 * in *n_bad (may be NULL) and the first max_msgs of them are added to d as
 * "name:line: what is wrong" (one problem per line, the first found). A file
 * with no rows after the header is an error too. TACK_ENOMEM when memory
 * runs out (*out NULL).
 */
int tack_candles_csv_parse(const char *name, const char *text, size_t len, uint32_t timeframe_s,
                           tack_bar **out, size_t *n, size_t *n_bad, size_t max_msgs, tack_diag *d);

/* tack_candles_csv_parse() of the whole file at path ("-" reads standard
 * input, named "<stdin>" in messages; other paths are named as given).
 * TACK_EIO, with a message in d, when it cannot be read. */
int tack_candles_csv_load(const char *path, uint32_t timeframe_s, tack_bar **out, size_t *n,
                          size_t *n_bad, size_t max_msgs, tack_diag *d);

/* Write bar as one CSV row with its newline into buf (at least
 * TACK_CANDLES_CSV_ROW_MAX bytes). Returns the length. */
size_t tack_candles_csv_row(const tack_bar *bar, char *buf);

#endif
