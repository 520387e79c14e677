/*
 * bars_csv.h: readers for the real market data in ../shared/data (see its
 * SOURCES.md), shared by the bar and filter tests. Trade files are
 * `ts,price,size,side` with ts in fractional UNIX seconds; bar files are
 * `ts,open,high,low,close,volume` with ts in whole seconds.
 */
#ifndef TACK_BARS_CSV_H
#define TACK_BARS_CSV_H

#include <stddef.h>

#include "tack.h"

/* TACK_SHARED_DIR when it names a readable folder, else NULL (tests skip). */
const char *bars_csv_shared_dir(void);

/* Read <shared>/data/<name>. Timestamps become exact nanoseconds (decimal
 * digits parsed as integers, never through a double); ids are left empty.
 * *out is malloc'ed, the caller frees it. 0 or TACK_EIO / TACK_EPARSE /
 * TACK_ENOMEM, with the file and line on stderr. */
int bars_csv_trades(const char *name, tack_trade **out, size_t *n);

/* Bars get timeframe_s and TACK_BAR_CLOSED. */
int bars_csv_bars(const char *name, uint32_t timeframe_s, tack_bar **out, size_t *n);

#endif
