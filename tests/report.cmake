# report.cmake: the backtest HTML report (host/report.c). test_report checks
# the page's structure on a realistic result and on the edge cases;
# test_report_browser renders it in headless Chromium (a screenshot, the DOM
# after its scripts ran, no console message from the page) and is skipped
# (exit 77) where /usr/bin/chromium is absent.
tack_add_unit_test(test_report ${CMAKE_CURRENT_SOURCE_DIR}/test_report.c)
add_test(NAME test_report_browser COMMAND test_report --browser)
set_tests_properties(test_report_browser PROPERTIES LABELS "unit;browser" SKIP_RETURN_CODE 77
                                                    TIMEOUT 300)
