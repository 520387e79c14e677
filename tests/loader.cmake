# loader.cmake: tests of the plugin loader (test_loader) and of the
# `tack plugins` / `tack plugin-info` commands (test_cli_plugins), and the
# fixture plugins they load: a good plugin of each kind, one per refusal
# reason, and the ABI 1.0 golden plugin.
#
# Each fixture lands in a folder of its own under
# <build>/tests/fixtures/loader/<folder>/, so a scan of one folder sees one
# case. Cases that need a file mode (unreadable, world-writable) are made by
# the tests in temporary copies.

set(TACK_LOADER_FIXTURE_SRC ${CMAKE_CURRENT_LIST_DIR}/fixtures/loader)
set(TACK_LOADER_FIXTURE_OUT ${CMAKE_BINARY_DIR}/tests/fixtures/loader)
add_custom_target(loader_fixtures)

# tack_loader_fixture(<name> <folder> <source>): <folder>/<name>.so
function(tack_loader_fixture name folder source)
  set(target loader_fixture_${name})
  add_library(${target} MODULE ${TACK_LOADER_FIXTURE_SRC}/${source})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${TACK_LOADER_FIXTURE_OUT}/${folder}
    C_VISIBILITY_PRESET hidden)
  target_include_directories(${target} PRIVATE ${TACK_SDK_DIR})
  add_dependencies(loader_fixtures ${target})
endfunction()

foreach(kind exchange filter indicator scorer strategy)
  tack_loader_fixture(good_${kind} good_${kind} good_${kind}.c)
endforeach()
foreach(case noentry entry_function entry_small bad_magic abi_major abi_minor layout bad_id bad_params bad_kind
             small_vtable missing_cb dup_in_file count_mismatch)
  tack_loader_fixture(${case} ${case} ${case}.c)
endforeach()
tack_loader_fixture(dup_a duplicate dup.c)
tack_loader_fixture(dup_b duplicate dup.c)

# Not a shared object at all: a text file with the right name.
file(WRITE ${TACK_LOADER_FIXTURE_OUT}/not_elf/x.so
  "This is a text file named like a plugin; the loader must refuse it.\n")

# The golden plugin sees the frozen 1.0 header and nothing else: no sdk/.
add_library(loader_fixture_golden MODULE ${CMAKE_CURRENT_LIST_DIR}/golden/plugin_1_0.c)
set_target_properties(loader_fixture_golden PROPERTIES
  PREFIX ""
  OUTPUT_NAME golden_1_0
  LIBRARY_OUTPUT_DIRECTORY ${TACK_LOADER_FIXTURE_OUT}/golden
  C_VISIBILITY_PRESET hidden)
target_include_directories(loader_fixture_golden PRIVATE ${CMAKE_CURRENT_LIST_DIR}/golden)
add_dependencies(loader_fixtures loader_fixture_golden)

# The golden header itself must stay as it was frozen.
add_test(NAME loader_golden_frozen
  COMMAND ${CMAKE_COMMAND} -DFILE=${CMAKE_CURRENT_LIST_DIR}/golden/tack-1.0.h
          -DSHA256=510a8d4ddaed27bbf5aa140d04bc3f681a2fd7de6fe76a1c0efdada5f3afe18d
          -P ${CMAKE_CURRENT_LIST_DIR}/golden/check_frozen.cmake)
set_tests_properties(loader_golden_frozen PROPERTIES LABELS unit)

tack_add_unit_test(test_loader ${CMAKE_CURRENT_LIST_DIR}/test_loader.c)
add_dependencies(test_loader loader_fixtures)

tack_add_unit_test(test_cli_plugins ${CMAKE_CURRENT_LIST_DIR}/test_cli_plugins.c)
add_dependencies(test_cli_plugins loader_fixtures tack)
target_compile_definitions(test_cli_plugins PRIVATE TACK_EXE="$<TARGET_FILE:tack>")
