# candles.cmake: bench_candles, candles in the store (host/candles.c):
# durable ingest and full scans against memcpy and array-loop baselines, and
# the one-key-per-candle layout it was chosen over. Not a test: run it by
# hand and record the figures in RESULTS.md ("Candles").
add_executable(bench_candles ${CMAKE_CURRENT_LIST_DIR}/bench_candles.c)
target_link_libraries(bench_candles PRIVATE tackhost)
