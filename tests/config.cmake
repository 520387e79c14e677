# config.cmake: tests of the config schema (test_config), of plugin
# parameter checking (test_params) and of `tack check` run as a program
# (test_config_cli, the same binary as test_config with the argument "cli").
#
# `tack check` composes the plugins of tests/fixtures/config/cfgfix.c, built
# into <build>/tests/fixtures/config/plugins/, and is pointed at a folder
# holding a file the loader must refuse, <build>/tests/fixtures/config/refused/.

set(TACK_CONFIG_FIXTURE_OUT ${CMAKE_BINARY_DIR}/tests/fixtures/config)

add_library(config_fixture_cfgfix MODULE ${CMAKE_CURRENT_LIST_DIR}/fixtures/config/cfgfix.c)
set_target_properties(config_fixture_cfgfix PROPERTIES
  PREFIX ""
  OUTPUT_NAME cfgfix
  LIBRARY_OUTPUT_DIRECTORY ${TACK_CONFIG_FIXTURE_OUT}/plugins
  C_VISIBILITY_PRESET hidden)
target_include_directories(config_fixture_cfgfix PRIVATE ${TACK_SDK_DIR})

# Named like a plugin a config asks for ("cfgfix_broken.feed"), but not a
# shared object: the check must say that the file was refused, and why.
file(WRITE ${TACK_CONFIG_FIXTURE_OUT}/refused/cfgfix_broken.so
  "Not a shared object: the loader refuses this file.\n")

tack_add_unit_test(test_params ${CMAKE_CURRENT_LIST_DIR}/test_params.c)

tack_add_unit_test(test_config ${CMAKE_CURRENT_LIST_DIR}/test_config.c)
add_dependencies(test_config config_fixture_cfgfix tack)
# The documented example (fixtures/config/example.cfg) is checked against the
# plugins it names when the build has made them (a full build does), and
# skipped otherwise: these tests do not wait on other plugins' targets.

get_test_property(test_config ENVIRONMENT TACK_CONFIG_TEST_ENV)
add_test(NAME test_config_cli COMMAND test_config cli)
set_tests_properties(test_config_cli PROPERTIES LABELS integration
  ENVIRONMENT "${TACK_CONFIG_TEST_ENV}")
