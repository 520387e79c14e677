# backtest.cmake: `tack backtest` and `tack run --json` end to end through the
# real binary, plugins and an LMDB store of synthetic candles; the real data
# of ../shared when present (test_backtest).
tack_add_unit_test(test_backtest ${CMAKE_CURRENT_LIST_DIR}/test_backtest.c
                   ${CMAKE_CURRENT_LIST_DIR}/fixtures/trading_run/tr_util.c)
target_include_directories(test_backtest PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fixtures/trading_run)
add_dependencies(test_backtest tack paper strategies filters example_replay rt_fixtures)
set_tests_properties(test_backtest PROPERTIES LABELS integration TIMEOUT 900)
