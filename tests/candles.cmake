# candles.cmake: candles in the store (test_candles, host/candles.c through
# its API, with the real Bitstamp hourly file from $TACK_SHARED_DIR when it is
# there) and `tack data` run as the real binary (test_cli_data, which finds
# it as $TACK_BUILD_DIR/host/tack).
tack_add_unit_test(test_candles ${CMAKE_CURRENT_LIST_DIR}/test_candles.c)

tack_add_unit_test(test_cli_data ${CMAKE_CURRENT_LIST_DIR}/test_cli_data.c)
add_dependencies(test_cli_data tack)
set_tests_properties(test_cli_data PROPERTIES LABELS integration)
