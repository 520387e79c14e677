# The backtest figures (host/metrics.c): drawdown, interval returns and the
# ratios built on them, the thinned equity curve and prices, trade figures
# and the Monte Carlo resampling.
tack_add_unit_test(test_metrics ${CMAKE_CURRENT_SOURCE_DIR}/test_metrics.c)
