# optimize.cmake: `tack optimize`'s engine with a fake evaluator
# (test_optimize: schema, binding, sets, windows, workers, walk-forward), and
# the real command on stored synthetic candles, --workers 1 against 2
# (test_optimize_cli, the same binary with the argument "cli").
tack_add_unit_test(test_optimize ${CMAKE_CURRENT_LIST_DIR}/test_optimize.c
                   ${CMAKE_CURRENT_LIST_DIR}/fixtures/trading_run/tr_util.c)
target_include_directories(test_optimize PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fixtures/trading_run)
add_dependencies(test_optimize tack paper strategies example_replay rt_fixtures)

get_test_property(test_optimize ENVIRONMENT TACK_OPTIMIZE_TEST_ENV)
add_test(NAME test_optimize_cli COMMAND test_optimize cli)
set_tests_properties(test_optimize_cli PROPERTIES LABELS integration TIMEOUT 900
  ENVIRONMENT "${TACK_OPTIMIZE_TEST_ENV}")
