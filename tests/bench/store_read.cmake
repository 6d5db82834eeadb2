# Store read bench (not a ctest test): store_read streams every message of a Maildir through
# Mailbox::read() in 64 KB chunks (as POP3 RETR / IMAP FETCH do) and prints µs and MB/s.
# Build: --target store_read; run: store_read [--parallel K] [--rounds R] DIR (DIR is used as
# the user's Maildir and gets mailbridge-* files: run it on a copy).
if(TARGET mb_store)
  add_executable(store_read EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/store_read.cpp)
  mb_target_defaults(store_read)
  target_link_libraries(store_read PRIVATE mb_store)
endif()
