# features.cmake: ML scorers' data, both in one fragment:
#   test_features  the feature builder (host/ml_features.c) with the indicator
#                  plugins of the build (indicators.so, example_sma.so) and the
#                  fixture indicators probe.count (strat_probe.so: no reset)
#                  and good_indicator (a secret parameter)
#   test_train     `tack train` (host/train.c, host/cmd_train.c): rows, labels
#                  and the split through the API, a planted pattern learnt by
#                  the real xgboost scorer from candles in a temporary store,
#                  errors, and the real binary end to end
tack_add_unit_test(test_features ${CMAKE_CURRENT_LIST_DIR}/test_features.c)
add_dependencies(test_features indicators example_sma filters strat_probe
                 loader_fixture_good_indicator)

tack_add_unit_test(test_train ${CMAKE_CURRENT_LIST_DIR}/test_train.c
                   ${CMAKE_CURRENT_LIST_DIR}/rt_test_util.c)
target_include_directories(test_train PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fixtures/runtime)
add_dependencies(test_train tack xgboost indicators filters example_replay example_momentum)
set_tests_properties(test_train PROPERTIES LABELS integration TIMEOUT 300)
