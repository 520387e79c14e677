# xgboost.cmake: the XGBoost scorer's tests (plugins/xgboost, xgboost.so).
# test_xgboost loads the built plugin with dlopen and drives it through a
# test host of its own (train() on a worker thread, as the host runs it),
# and runs `tack plugin-info` on it with the real binary. It links XGBoost
# itself to write a model tack did not make and to count a model's rounds.
find_package(Threads REQUIRED)

add_executable(test_xgboost ${CMAKE_CURRENT_LIST_DIR}/test_xgboost.c)
target_include_directories(test_xgboost PRIVATE ${TACK_SDK_DIR})
target_link_libraries(test_xgboost PRIVATE PkgConfig::CMOCKA PkgConfig::XGBOOST Threads::Threads
                                           ${CMAKE_DL_LIBS} m)
target_compile_definitions(test_xgboost PRIVATE XGB_SO="$<TARGET_FILE:xgboost>"
                                                TACK_EXE="$<TARGET_FILE:tack>")
add_dependencies(test_xgboost xgboost tack)

add_test(NAME test_xgboost COMMAND test_xgboost)
set_tests_properties(test_xgboost PROPERTIES LABELS unit TIMEOUT 300)

# Like every plugin, xgboost.so exports tack_plugin_entry and nothing else,
# although it links XGBoost, libstdc++ and libgomp.
add_test(NAME xgboost_exports COMMAND ${CMAKE_CURRENT_LIST_DIR}/sdk/check-exports.sh
                                      $<TARGET_FILE:xgboost>)
set_tests_properties(xgboost_exports PROPERTIES LABELS unit ENVIRONMENT "NM=${CMAKE_NM}")
