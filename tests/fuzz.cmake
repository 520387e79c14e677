# fuzz.cmake: test_fuzz, a deterministic mutation fuzzer over every parser
# (CSV, candle import, seconds, timeframes, UTC, plugin specs, feature specs,
# configs, the loader), seeded from tests/fixtures/fuzz. TACK_FUZZ_ITERATIONS
# in the environment scales it (default 20000 inputs per parser).
tack_add_unit_test(test_fuzz ${CMAKE_CURRENT_LIST_DIR}/test_fuzz.c)
target_compile_definitions(test_fuzz PRIVATE
  TACK_FUZZ_SEED_DIR="${CMAKE_CURRENT_LIST_DIR}/fixtures/fuzz")
set(TACK_FUZZ_PLUGINS indicators example_sma filters strategies example_replay)
if(TARGET xgboost)
  list(APPEND TACK_FUZZ_PLUGINS xgboost)
endif()
add_dependencies(test_fuzz ${TACK_FUZZ_PLUGINS})
set_tests_properties(test_fuzz PROPERTIES TIMEOUT 300)
