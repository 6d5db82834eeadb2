# Fuzz target for the MIME parser and everything that consumes its tree.
if(TARGET mb_imap_render)
  mb_add_fuzzer(mime SOURCE ${CMAKE_CURRENT_LIST_DIR}/mime_fuzz.cpp DEPS mb_imap_render)
endif()
