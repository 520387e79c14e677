# Bars: the bar builder and resampler (host/bars.c) and the candle filters of
# filters.so through their vtables, each against a plain loop doing the same
# work in the same program. Not a test: run it by hand, record in RESULTS.md.
add_executable(bench_bars bench_bars.c ${CMAKE_CURRENT_LIST_DIR}/../tests/filters_test_host.c)
target_include_directories(bench_bars PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../tests)
target_link_libraries(bench_bars PRIVATE tackhost)
add_dependencies(bench_bars filters)
target_compile_definitions(bench_bars PRIVATE TACK_FILTERS_SO="$<TARGET_FILE:filters>")
