/*
 * report.h: a backtest's (or a paper run's) HTML report: one self-contained
 * file that opens offline in any browser, with nothing fetched: a summary
 * table of the metrics, the equity curve and the drawdown as SVG charts, per
 * symbol a price chart (candles, entries and exits marked) and its figures,
 * attribution and regimes, the Monte Carlo distributions, and the trade
 * table. The charts are SVG drawn here; a few lines of inline script add
 * hover read-outs and table sorting, and the report reads fine without
 * them. docs/backtesting.md shows one.
 *
 * Also the optimizer's report (optimize.h): the tried parameter sets with
 * their in-sample and out-of-sample figures and, for a walk-forward run, each
 * window's choice and the degradation.
 */
#ifndef TACK_REPORT_H
#define TACK_REPORT_H

#include <stdio.h>

#include "bt_result.h"

/* Write r as HTML to out. title is shown at the top (e.g. the config's
 * name). Returns 0 or TACK_EIO when a write failed. */
int tack_report_write(FILE *out, const tack_bt_result *r, const char *title);

/* Write r to path, atomically (a temporary file renamed into place).
 * Returns 0, or TACK_EIO with the reason logged naming path. */
int tack_report_write_file(const char *path, const tack_bt_result *r, const char *title);

#endif
