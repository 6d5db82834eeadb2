# Fuzz target for the IMAP command parser (+ seed corpus in corpus/imap_parser, dictionary
# imap_parser.dict). Under gcc it replays the corpus in ctest.
if(TARGET mb_imap_parser)
  mb_add_fuzzer(imap_parser SOURCE ${CMAKE_CURRENT_LIST_DIR}/imap_parser.cpp DEPS mb_imap_parser)
endif()
