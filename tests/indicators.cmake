# indicators.cmake: the indicator library's tests, linked with the static
# build of indicators.so (tack_indicators_static) and a small test host.
#   test_indicators_unit   hand-computed seeds and first values, parameters,
#                          edge cases (flat bars, zero volume, bad input)
#   test_indicators_props  streaming with provisional bars == batch, bit for
#                          bit; reset; real data stays finite; the .so
#   test_indicators_talib  against TA-Lib reference values (fixtures/talib)
foreach(name unit props talib)
  tack_add_unit_test(test_indicators_${name} test_indicators_${name}.c test_indicators_host.c)
  target_link_libraries(test_indicators_${name} PRIVATE tack_indicators_static)
endforeach()
# The props test also opens the built plugin shared object.
add_dependencies(test_indicators_props indicators)
