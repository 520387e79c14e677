# backtest.cmake: bench_backtest, bars per second through a whole backtest
# (host/backtest.c: tack_backtest_run) of a 3-strategy composite on
# Heikin-Ashi bars in three configs (trades often, trades rarely, signals
# only), replayed by the paper venue from memory (a CSV) and from an LMDB
# store, against a plain loop of the same strategies' math; the cost per bar
# and per order solved from them; and the peak memory of the LMDB runs at two
# lengths. Not a test: run it by hand and record the figures in RESULTS.md
# ("Backtest").
find_package(Threads REQUIRED)
add_executable(bench_backtest ${CMAKE_CURRENT_LIST_DIR}/bench_backtest.c)
target_link_libraries(bench_backtest PRIVATE tackhost Threads::Threads m)
target_compile_definitions(bench_backtest PRIVATE
  BENCH_PLUGIN_DIR="${TACK_PLUGIN_BUILD_DIR}")
add_dependencies(bench_backtest paper strategies filters indicators)
