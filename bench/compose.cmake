# compose.cmake: bench_compose, the cost per bar of a composite of stock
# strategies (host/compose.c) against the sum of its parts, with and without
# an xgboost scorer member. Not a test: run it by hand and record the figures
# in RESULTS.md ("Composition").
add_executable(bench_compose ${CMAKE_CURRENT_LIST_DIR}/bench_compose.c)
target_link_libraries(bench_compose PRIVATE tackhost m)
target_compile_definitions(bench_compose PRIVATE
  BENCH_PLUGIN_DIR="${CMAKE_BINARY_DIR}/plugins")
