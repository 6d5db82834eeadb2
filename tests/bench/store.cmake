# Store benchmarks (not ctest tests): store_open times opening a 100,000-message Maildir cold
# and warm and prints bytes/message of the shared state. Build: --target store_open;
# run: store_open [--count N] DIR; Dovecot on the same tree: store_open_dovecot.sh DIR.
if(TARGET mb_store)
  add_executable(store_open EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/store_open.cpp)
  mb_target_defaults(store_open)
  target_link_libraries(store_open PRIVATE mb_store)
endif()
