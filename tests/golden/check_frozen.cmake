# check_frozen.cmake: fails when tests/golden/tack-1.0.h differs from the
# snapshot taken at ABI 1.0. The golden plugin proves that plugins built
# against the 1.0 header still load only while that header stays as it was.
# Run as: cmake -DFILE=<header> -DSHA256=<hash> -P check_frozen.cmake
file(SHA256 ${FILE} actual)
if(NOT actual STREQUAL SHA256)
  message(FATAL_ERROR "${FILE} was edited (sha256 ${actual}, frozen as ${SHA256}). "
                      "It is the frozen ABI 1.0 header: restore it with git checkout, and "
                      "make SDK changes in sdk/tack.h only.")
endif()
