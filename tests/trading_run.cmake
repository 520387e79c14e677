# trading_run.cmake: the trading engine end to end through the real tack
# binary with the paper venue and the rt.script fixture strategy: scenarios
# with known prices (test_trading_run) and kill -9 at many points followed by
# recovery (test_crash). Helpers in tests/fixtures/trading_run/.
set(TACK_TRADING_RUN_DIR ${CMAKE_CURRENT_LIST_DIR}/fixtures/trading_run)

tack_add_unit_test(test_trading_run ${CMAKE_CURRENT_LIST_DIR}/test_trading_run.c
                   ${TACK_TRADING_RUN_DIR}/tr_util.c)
target_include_directories(test_trading_run PRIVATE ${TACK_TRADING_RUN_DIR})
add_dependencies(test_trading_run tack paper rt_fixtures)
set_tests_properties(test_trading_run PROPERTIES LABELS integration TIMEOUT 600)

tack_add_unit_test(test_crash ${CMAKE_CURRENT_LIST_DIR}/test_crash.c
                   ${TACK_TRADING_RUN_DIR}/tr_util.c)
target_include_directories(test_crash PRIVATE ${TACK_TRADING_RUN_DIR})
add_dependencies(test_crash tack paper rt_fixtures)
set_tests_properties(test_crash PROPERTIES LABELS integration TIMEOUT 600)
