# sdk.cmake: the SDK as plugin authors meet it (label sdk).
#   sdk_header_c11, sdk_header_cxx11, sdk_header_cxx17
#       tack.h alone compiles with -Wall -Wextra -Wpedantic -Werror as C11,
#       C++11 and C++17, with every kind of vtable and TACK_PLUGINS() used;
#       compiled with exactly those flags, none of the project's
#   sdk_template
#       the template plugins and a C++ plugin, loaded with dlopen and driven
#       through a fake host (tests/sdk/fake_host.c), whatever the host's state
#   sdk_exports
#       each of those plugins exports one symbol, tack_plugin_entry, and
#       needs none from the host
#   sdk_out_of_tree
#       tack installed into a temporary prefix; sdk/template built out of
#       tree with its Makefile (pkg-config) and its CMakeLists.txt
#       (find_package(TackSDK)); every plugin loads in the installed tack
set(TACK_SDK_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/sdk)
set(TACK_SDK_STRICT -Wall -Wextra -Wpedantic -Werror -I${TACK_SDK_DIR})
set(TACK_TEMPLATE_TARGETS example_sma example_median example_momentum example_linear
                          example_replay)

add_test(NAME sdk_header_c11
  COMMAND ${CMAKE_C_COMPILER} -std=c11 ${TACK_SDK_STRICT} -c ${TACK_SDK_TEST_DIR}/header_c.c
          -o ${CMAKE_CURRENT_BINARY_DIR}/sdk_header_c11.o)
foreach(std 11 17)
  add_test(NAME sdk_header_cxx${std}
    COMMAND ${CMAKE_CXX_COMPILER} -std=c++${std} ${TACK_SDK_STRICT}
            -c ${TACK_SDK_TEST_DIR}/header_cxx.cpp -o ${CMAKE_CURRENT_BINARY_DIR}/sdk_header_cxx${std}.o)
endforeach()

# The C++ translation unit as a real plugin, kept out of <build>/plugins so
# that `tack plugins` does not list it.
add_library(test_cxx_plugin MODULE ${TACK_SDK_TEST_DIR}/header_cxx.cpp)
set_target_properties(test_cxx_plugin PROPERTIES
  PREFIX ""
  CXX_STANDARD 17
  CXX_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
target_compile_options(test_cxx_plugin PRIVATE -Wpedantic)
target_link_libraries(test_cxx_plugin PRIVATE Tack::sdk)

add_executable(test_sdk_template ${TACK_SDK_TEST_DIR}/test_template.c
                                 ${TACK_SDK_TEST_DIR}/fake_host.c)
target_link_libraries(test_sdk_template PRIVATE Tack::sdk PkgConfig::CMOCKA ${CMAKE_DL_LIBS} m)
target_compile_definitions(test_sdk_template PRIVATE
  TEMPLATE_SMA="$<TARGET_FILE:example_sma>"
  TEMPLATE_MEDIAN="$<TARGET_FILE:example_median>"
  TEMPLATE_MOMENTUM="$<TARGET_FILE:example_momentum>"
  TEMPLATE_LINEAR="$<TARGET_FILE:example_linear>"
  TEMPLATE_REPLAY="$<TARGET_FILE:example_replay>"
  CXX_PLUGIN="$<TARGET_FILE:test_cxx_plugin>")
add_dependencies(test_sdk_template ${TACK_TEMPLATE_TARGETS} test_cxx_plugin)
add_test(NAME sdk_template COMMAND test_sdk_template)
set_tests_properties(sdk_template PROPERTIES ENVIRONMENT "TACK_SHARED_DIR=${TACK_SHARED_DIR}")

set(TACK_EXPORT_CHECKED)
foreach(target ${TACK_TEMPLATE_TARGETS} test_cxx_plugin)
  list(APPEND TACK_EXPORT_CHECKED $<TARGET_FILE:${target}>)
endforeach()
add_test(NAME sdk_exports COMMAND ${TACK_SDK_TEST_DIR}/check-exports.sh ${TACK_EXPORT_CHECKED})
set_tests_properties(sdk_exports PROPERTIES ENVIRONMENT "NM=${CMAKE_NM}")

add_test(NAME sdk_out_of_tree
  COMMAND ${TACK_SDK_TEST_DIR}/out-of-tree.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}
          ${CMAKE_CURRENT_BINARY_DIR}/sdk-out-of-tree)
set_tests_properties(sdk_out_of_tree PROPERTIES TIMEOUT 600 ENVIRONMENT
  "CMAKE=${CMAKE_COMMAND};CC=${CMAKE_C_COMPILER}")

set_tests_properties(sdk_header_c11 sdk_header_cxx11 sdk_header_cxx17 sdk_template sdk_exports
                     sdk_out_of_tree PROPERTIES LABELS sdk)

# The guide's error table is the header's.
add_test(NAME sdk_docs COMMAND ${TACK_SDK_TEST_DIR}/check-docs.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(sdk_docs PROPERTIES LABELS sdk)
