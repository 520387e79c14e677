/*
 * filters.h: the descriptors of the candle filters that filters.so carries,
 * shared between the file of each filter and the entry list in filters.c.
 * Internal to the plugin (the symbols are hidden by the build).
 */
#ifndef TACK_FILTERS_H
#define TACK_FILTERS_H

#include "tack.h"

extern const tack_plugin_desc filters_heikin_ashi_desc;
extern const tack_plugin_desc filters_renko_desc;

/* fmax/fmin for finite inputs (the filters refuse others): plain compares
 * the compiler inlines, where fmax is a libm call for NaN's sake. */
static inline double filters_max(double a, double b) { return a > b ? a : b; }
static inline double filters_min(double a, double b) { return a < b ? a : b; }

#endif
