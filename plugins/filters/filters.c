/*
 * filters.c: the entry symbol of filters.so, listing the candle filters it
 * carries. Each filter lives in its own file.
 */
#include "filters.h"

TACK_PLUGINS(&filters_heikin_ashi_desc, &filters_renko_desc);
