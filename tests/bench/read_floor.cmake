# Read-floor bench (not a ctest test; issue #4): read_floor opens and reads every message of
# a Maildir folder from the page cache and prints CPU µs per message: the part of a RETR's
# cost no server avoids once messages live in files. Build: --target read_floor; run:
# read_floor [--rounds R] [--mmap] FOLDER (read only: it writes nothing).
add_executable(read_floor EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/read_floor.cpp)
mb_target_defaults(read_floor)
