# Path parameters and parameter bounds as the host reads them.
tack_add_unit_test(test_param_path ${CMAKE_CURRENT_SOURCE_DIR}/test_param_path.c)
