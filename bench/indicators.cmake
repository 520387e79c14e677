# indicators.cmake: bench_indicators, the cost of an indicator update through
# the plugin vtable against plain C baselines (run by `make bench`).
add_executable(bench_indicators ${CMAKE_CURRENT_LIST_DIR}/bench_indicators.c
                                ${CMAKE_SOURCE_DIR}/tests/test_indicators_host.c)
target_include_directories(bench_indicators PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(bench_indicators PRIVATE tack_indicators_static)
# The plugin's code generation options (see plugins/indicators), so that the
# "direct" baseline runs the kernels as compiled in the plugin.
get_target_property(bench_indicators_options tack_indicators_static COMPILE_OPTIONS)
if(bench_indicators_options)
  target_compile_options(bench_indicators PRIVATE ${bench_indicators_options})
endif()
