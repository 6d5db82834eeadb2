# Bench helpers (not ctest tests): tests/bench/idle_connections.py measures the server's
# resident memory per idle connection; idle_connections_server is a transport-only target
# to run it against (build it: --target idle_connections_server).
if(TARGET mb_net)
  add_executable(idle_connections_server EXCLUDE_FROM_ALL
                 ${CMAKE_CURRENT_LIST_DIR}/idle_connections_server.cpp)
  mb_target_defaults(idle_connections_server)
  target_link_libraries(idle_connections_server PRIVATE mb_net)
endif()
