# config_override.cmake: "PATH=VALUE" overrides of a parsed config
# (host/config_override.c), applied alone and through tack_config_load_with().
tack_add_unit_test(test_config_override ${CMAKE_CURRENT_LIST_DIR}/test_config_override.c)
