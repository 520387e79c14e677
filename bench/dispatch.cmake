# bench_dispatch: host -> plugin callback cost against a direct call.
add_library(bench_dispatch_plugin MODULE ${CMAKE_CURRENT_LIST_DIR}/dispatch_plugin.c)
set_target_properties(bench_dispatch_plugin PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
target_include_directories(bench_dispatch_plugin PRIVATE ${TACK_SDK_DIR})

add_executable(bench_dispatch ${CMAKE_CURRENT_LIST_DIR}/bench_dispatch.c)
target_link_libraries(bench_dispatch PRIVATE tackhost)
target_compile_definitions(bench_dispatch PRIVATE
  BENCH_DISPATCH_PLUGIN="${CMAKE_BINARY_DIR}/bench/bench_dispatch_plugin.so")
add_dependencies(bench_dispatch bench_dispatch_plugin)
