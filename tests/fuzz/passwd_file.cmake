# Fuzz target for the Dovecot passwd-file parser (+ seed corpus in corpus/passwd_file,
# dictionary passwd_file.dict). Under gcc it replays the corpus in ctest.
if(TARGET mb_auth)
  mb_add_fuzzer(passwd_file SOURCE ${CMAKE_CURRENT_LIST_DIR}/passwd_file.cpp DEPS mb_auth)
endif()
