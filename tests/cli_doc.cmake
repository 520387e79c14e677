# docs/cli.md must be what scripts/gen-cli-doc.sh makes from the real binary.
add_test(NAME cli_doc COMMAND bash -c
  "${CMAKE_SOURCE_DIR}/scripts/gen-cli-doc.sh $<TARGET_FILE:tack> \"$1\" && diff -u ${CMAKE_SOURCE_DIR}/docs/cli.md \"$1\" || { echo 'docs/cli.md is stale: run scripts/gen-cli-doc.sh build/host/tack docs/cli.md'; exit 1; }"
  _ ${CMAKE_BINARY_DIR}/tests/cli.md)
set_tests_properties(cli_doc PROPERTIES LABELS unit)
