# UTC text <-> tack_time.
tack_add_unit_test(test_utc ${CMAKE_CURRENT_SOURCE_DIR}/test_utc.c)
