# The sizing policy (host/sizing.c) and the risk gate, position protection
# and trading day (host/risk.c).
tack_add_unit_test(test_sizing ${CMAKE_CURRENT_SOURCE_DIR}/test_sizing.c)
tack_add_unit_test(test_risk ${CMAKE_CURRENT_SOURCE_DIR}/test_risk.c)
