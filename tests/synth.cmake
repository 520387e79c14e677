# synth.cmake: synthetic candles. One program, two tests:
#   test_synth      the generator (host/synth.c) through its API: checks,
#                   determinism, invariants, volatility, clustering, regimes,
#                   volume (a few million bars: a few seconds)
#   test_synth_cli  `tack data synth` as the real binary
#                   ($TACK_BUILD_DIR/host/tack) with temporary stores
tack_add_unit_test(test_synth ${CMAKE_CURRENT_LIST_DIR}/test_synth.c)
add_dependencies(test_synth tack)

add_test(NAME test_synth_cli COMMAND test_synth cli)
set_tests_properties(test_synth_cli PROPERTIES LABELS integration ENVIRONMENT
  "TACK_BUILD_DIR=${CMAKE_BINARY_DIR};TACK_SOURCE_DIR=${CMAKE_SOURCE_DIR};TACK_SHARED_DIR=${TACK_SHARED_DIR};TACK_FIXTURE_DIR=${CMAKE_BINARY_DIR}/tests/fixtures")
