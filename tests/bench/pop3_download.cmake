# POP3 download benchmark (not a ctest test; issue #4): pop3_download seeds 20 users x 1,000
# messages into a temp Maildir, starts the mailbridge binary given with --server on a free
# loopback port, runs C clients (LIST, RETR all, QUIT, reconnect) and prints messages/s, MB/s,
# logins/s and server CPU per message. Or point it at any server with --host/--port.
# Standard library only. Build: --target pop3_download; see README "Benchmarks".
add_executable(pop3_download EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/pop3_download.cpp)
mb_target_defaults(pop3_download)
find_package(Threads REQUIRED)
target_link_libraries(pop3_download PRIVATE Threads::Threads)
