# style.cmake: scripts/check-style.sh as a test (label style): banned calls,
# header comments, TODOs without an issue, and clang-format.
add_test(NAME style COMMAND ${CMAKE_SOURCE_DIR}/scripts/check-style.sh
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(style PROPERTIES LABELS style)
