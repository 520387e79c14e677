# The exact ledger and the one place numbers are rounded (host/rounding.c).
tack_add_unit_test(test_rounding ${CMAKE_CURRENT_SOURCE_DIR}/test_rounding.c)
tack_add_unit_test(test_ledger ${CMAKE_CURRENT_SOURCE_DIR}/test_ledger.c)
