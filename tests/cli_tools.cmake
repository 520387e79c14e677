# cli_tools.cmake: the command-line tools `tack calc`, `tack filter` and
# `tack bars`:
#   test_csv          the strict CSV reader and writer (host/csv.c)
#   test_plugin_spec  "NAME[:PARAMS]" specs against plugins defined in the
#                     test (host/plugin_spec.c)
#   test_cli_tools    the real tack binary with the built indicator and
#                     filter plugins; also `tack calc` against the TA-Lib
#                     reference values on the shared Bitstamp data (skipped
#                     when TACK_SHARED_DIR is absent)
tack_add_unit_test(test_csv ${CMAKE_CURRENT_LIST_DIR}/test_csv.c)
tack_add_unit_test(test_plugin_spec ${CMAKE_CURRENT_LIST_DIR}/test_plugin_spec.c)

tack_add_unit_test(test_cli_tools ${CMAKE_CURRENT_LIST_DIR}/test_cli_tools.c)
add_dependencies(test_cli_tools tack indicators filters)
set_tests_properties(test_cli_tools PROPERTIES LABELS integration)
