# trading.cmake: bench_trading, what trading costs inside the host: the
# latency from a strategy's signal to the exchange's submit() (with and
# without a durable store) and bars + orders + fills per second through the
# paper venue, each against a baseline in the same process. Its plugins
# (bench.venue, bench.flip, bench.hold) are bench_trading_plugin.so. Not a test: run it
# by hand and record the figures in RESULTS.md ("Trading").
add_library(bench_trading_plugin MODULE ${CMAKE_CURRENT_LIST_DIR}/trading_plugin.c)
set_target_properties(bench_trading_plugin PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
target_include_directories(bench_trading_plugin PRIVATE ${TACK_SDK_DIR})

add_executable(bench_trading ${CMAKE_CURRENT_LIST_DIR}/bench_trading.c)
target_link_libraries(bench_trading PRIVATE tackhost)
target_compile_definitions(bench_trading PRIVATE
  BENCH_TRADING_PLUGIN="$<TARGET_FILE:bench_trading_plugin>"
  BENCH_PAPER_PLUGIN="$<TARGET_FILE:paper>")
add_dependencies(bench_trading bench_trading_plugin paper)
