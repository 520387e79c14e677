# strategies.cmake: the stock strategies (strategies.so) and the host's
# indicator service, through the real loader, instances and binary:
#   test_strategies          known signals on hand-built bars, agreement with
#                            indicators run directly, warm-up, parameter
#                            errors, real data, provisional bars, Heikin-Ashi
#                            and Renko input, position hand-over
#   test_indicator_service   ind_open/ind_reset/ind_close with the fixture
#                            strategy probe.ind (fixtures/strategies/probe.c)
#   test_strategies_run      `tack check` and `tack run` with every strategy
add_library(strat_probe MODULE ${CMAKE_CURRENT_LIST_DIR}/fixtures/strategies/probe.c)
set_target_properties(strat_probe PROPERTIES
  PREFIX ""
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fixtures/strategies
  C_VISIBILITY_PRESET hidden)
target_include_directories(strat_probe PRIVATE ${TACK_SDK_DIR})

set(TACK_STRAT_TEST_UTIL
  ${CMAKE_CURRENT_LIST_DIR}/strat_test_util.c
  ${CMAKE_CURRENT_LIST_DIR}/rt_test_util.c
  ${CMAKE_CURRENT_LIST_DIR}/bars_csv.c)

foreach(name strategies indicator_service strategies_run)
  tack_add_unit_test(test_${name} ${CMAKE_CURRENT_LIST_DIR}/test_${name}.c
                     ${TACK_STRAT_TEST_UTIL})
  target_include_directories(test_${name} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fixtures/runtime
                                                  ${CMAKE_CURRENT_LIST_DIR}/fixtures/strategies)
  add_dependencies(test_${name} strategies indicators filters strat_probe)
endforeach()
add_dependencies(test_strategies_run tack example_replay)
