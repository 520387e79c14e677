# trading_config.cmake: tests of the trading settings of a config
# (host/trading_config.c), read through tack_config_load(); the documented
# example is tests/fixtures/trading/example.cfg.
tack_add_unit_test(test_trading_config ${CMAKE_CURRENT_SOURCE_DIR}/test_trading_config.c)
