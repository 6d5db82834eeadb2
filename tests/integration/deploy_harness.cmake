# tests/integration/deploy_harness.cmake: mb_add_integration_test() for Python integration tests.
#
# Any tests/integration/<name>.cmake may call it; include this file first (it is include-guarded,
# and the glob in tests/CMakeLists.txt may include yours before this one):
#
#   include(${MB_INTEGRATION_DIR}/deploy_harness.cmake)
#   mb_add_integration_test(NAME pop3_basic SCRIPT pop3_basic.py [ARGS ...] [TIMEOUT 300]
#                           [NEEDS program ...])
#
# Registers ctest test `integration_<NAME>` running `python3 SCRIPT ARGS` from the integration dir,
# with MAILBRIDGE_BIN=$<TARGET_FILE:mailbridge> and PYTHONPATH pointing at harness.py. Nothing is
# registered until the `mailbridge` target exists (the binary is wired by the lead). NEEDS lists
# external programs the test runs (curl, mbsync, fetchmail...): a missing one is a configure-time
# error, not a skipped test (deploy/scripts/deps.sh --test installs them all).
include_guard(GLOBAL)

find_program(MB_PYTHON3 python3)

function(mb_add_integration_test)
  cmake_parse_arguments(ARG "" "NAME;SCRIPT;TIMEOUT" "ARGS;NEEDS;LABELS" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_SCRIPT)
    message(FATAL_ERROR "mb_add_integration_test: NAME and SCRIPT are required")
  endif()
  if(NOT TARGET mailbridge)
    return()
  endif()
  if(NOT MB_PYTHON3)
    message(FATAL_ERROR "integration_${ARG_NAME}: python3 not found (deploy/scripts/deps.sh --test)")
  endif()
  foreach(prog IN LISTS ARG_NEEDS)
    string(MAKE_C_IDENTIFIER "MB_PROG_${prog}" var)
    find_program(${var} ${prog})
    if(NOT ${var})
      message(FATAL_ERROR "integration_${ARG_NAME} needs '${prog}' (deploy/scripts/deps.sh --test)")
    endif()
  endforeach()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME integration_${ARG_NAME}
           COMMAND ${MB_PYTHON3} ${MB_INTEGRATION_DIR}/${ARG_SCRIPT} ${ARG_ARGS}
           WORKING_DIRECTORY ${MB_INTEGRATION_DIR})
  set_tests_properties(integration_${ARG_NAME} PROPERTIES
    ENVIRONMENT "MAILBRIDGE_BIN=$<TARGET_FILE:mailbridge>;PYTHONPATH=${MB_INTEGRATION_DIR};PYTHONDONTWRITEBYTECODE=1"
    LABELS "integration;${ARG_LABELS}"
    TIMEOUT ${ARG_TIMEOUT})
endfunction()
