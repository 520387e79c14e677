# Bars and candle filters: the host's bar builder and resampler (host/bars.c)
# and the Heikin-Ashi and Renko plugins (plugins/filters, filters.so).
tack_add_unit_test(test_bars test_bars.c bars_csv.c)

tack_add_unit_test(test_filters test_filters.c bars_csv.c filters_test_host.c)
add_dependencies(test_filters filters)
target_compile_definitions(test_filters PRIVATE TACK_FILTERS_SO="$<TARGET_FILE:filters>")
