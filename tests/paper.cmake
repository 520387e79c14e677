# paper.cmake: the paper venue (exchanges/paper, paper.so), loaded with
# dlopen and driven through a mock host whose timers the test pumps by hand
# (tests/paper_mock_host.c): fill rules, fees, slippage, latency, funds,
# persistence, determinism. Real data from $TACK_SHARED_DIR/data when there.
tack_add_unit_test(test_paper ${CMAKE_CURRENT_SOURCE_DIR}/test_paper.c
                   ${CMAKE_CURRENT_SOURCE_DIR}/paper_mock_host.c)
add_dependencies(test_paper paper)
