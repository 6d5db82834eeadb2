# Fuzz target for modified UTF-7 (+ seed corpus in corpus/imap_utf7).
if(TARGET mb_imap_parser)
  mb_add_fuzzer(imap_utf7 SOURCE ${CMAKE_CURRENT_LIST_DIR}/imap_utf7.cpp DEPS mb_imap_parser)
endif()
