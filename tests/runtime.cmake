# runtime.cmake: tests of the store (test_store), plugin instances and the
# host services (test_instance), the in-process pipeline (test_runtime), bars
# of any timeframe and multi-timeframe strategies (test_mtf) and `tack run`
# end to end (test_run_cli), with the fixture plugins they load from
# <build>/tests/fixtures/runtime/rt_fixtures.so.

add_library(rt_fixtures MODULE ${CMAKE_CURRENT_LIST_DIR}/fixtures/runtime/rt_fixtures.c)
set_target_properties(rt_fixtures PROPERTIES
  PREFIX ""
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fixtures/runtime
  C_VISIBILITY_PRESET hidden)
target_include_directories(rt_fixtures PRIVATE ${TACK_SDK_DIR})

tack_add_unit_test(test_store ${CMAKE_CURRENT_LIST_DIR}/test_store.c
                   ${CMAKE_CURRENT_LIST_DIR}/rt_test_util.c)
target_include_directories(test_store PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fixtures/runtime)

tack_add_unit_test(test_instance ${CMAKE_CURRENT_LIST_DIR}/test_instance.c
                   ${CMAKE_CURRENT_LIST_DIR}/rt_test_util.c)
target_include_directories(test_instance PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fixtures/runtime)
add_dependencies(test_instance rt_fixtures)

tack_add_unit_test(test_runtime ${CMAKE_CURRENT_LIST_DIR}/test_runtime.c
                   ${CMAKE_CURRENT_LIST_DIR}/rt_test_util.c)
target_include_directories(test_runtime PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fixtures/runtime)
add_dependencies(test_runtime rt_fixtures)

tack_add_unit_test(test_run_cli ${CMAKE_CURRENT_LIST_DIR}/test_run_cli.c
                   ${CMAKE_CURRENT_LIST_DIR}/rt_test_util.c)
target_include_directories(test_run_cli PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fixtures/runtime)
add_dependencies(test_run_cli rt_fixtures tack)

tack_add_unit_test(test_mtf ${CMAKE_CURRENT_LIST_DIR}/test_mtf.c
                   ${CMAKE_CURRENT_LIST_DIR}/rt_test_util.c)
target_include_directories(test_mtf PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fixtures/runtime)
add_dependencies(test_mtf rt_fixtures)
