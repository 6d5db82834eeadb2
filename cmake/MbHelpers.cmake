# mb_add_library(NAME SOURCES... [DEPS ...]): one static library per module, warnings on.
# mb_add_test(NAME SOURCES... DEPS ...): a GoogleTest executable registered with ctest.
# mb_add_fuzzer(NAME SOURCE DEPS ...): a libFuzzer target under MB_FUZZ (clang); otherwise a
#   corpus replayer run by ctest over tests/fuzz/corpus/NAME.

set(MB_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)
if(MB_WERROR)
  list(APPEND MB_WARNINGS -Werror)
endif()

function(mb_target_defaults target)
  target_compile_options(${target} PRIVATE ${MB_WARNINGS})
  target_include_directories(${target} SYSTEM PRIVATE ${TL_EXPECTED_INCLUDE_DIR})
endfunction()

function(mb_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  mb_target_defaults(${name})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR})
  target_include_directories(${name} SYSTEM PUBLIC ${TL_EXPECTED_INCLUDE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

function(mb_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  mb_target_defaults(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE MB_TEST_DATA_DIR="${CMAKE_SOURCE_DIR}/tests/data")
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "unit;${ARG_LABELS}" TIMEOUT 300)
endfunction()

function(mb_add_fuzzer name)
  cmake_parse_arguments(ARG "" "SOURCE" "DEPS" ${ARGN})
  if(MB_FUZZ)
    add_executable(fuzz_${name} ${ARG_SOURCE})
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(fuzz_${name} ${ARG_SOURCE} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.cpp)
    add_test(NAME fuzz_replay_${name}
             COMMAND fuzz_${name} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
    set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS "fuzz" TIMEOUT 300)
  endif()
  mb_target_defaults(fuzz_${name})
  target_link_libraries(fuzz_${name} PRIVATE ${ARG_DEPS})
endfunction()
