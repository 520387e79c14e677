# orders.cmake: the order manager (host/orders.c) driven through its API
# with a scripted venue, and the trading journal in the store
# (host/journal.c), including a writer killed with SIGKILL mid-write.
tack_add_unit_test(test_orders ${CMAKE_CURRENT_SOURCE_DIR}/test_orders.c)
tack_add_unit_test(test_journal ${CMAKE_CURRENT_SOURCE_DIR}/test_journal.c)
