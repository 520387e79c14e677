# compose.cmake: composed strategies (test_compose): aggregation tables,
# trees, regimes, positions, multi-timeframe composites, config errors and
# scorer members, with the runtime's fixture plugins
# (<build>/tests/fixtures/runtime/rt_fixtures.so) and the built plugins.

tack_add_unit_test(test_compose ${CMAKE_CURRENT_LIST_DIR}/test_compose.c
                   ${CMAKE_CURRENT_LIST_DIR}/rt_test_util.c)
target_include_directories(test_compose PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fixtures/runtime)
target_link_libraries(test_compose PRIVATE ${CMAKE_DL_LIBS} m)
add_dependencies(test_compose rt_fixtures)
