# Fuzz target for the TOML configuration parser (+ seed corpus in corpus/config_parse,
# dictionary config_parse.dict). Under gcc it replays the corpus in ctest.
if(TARGET mb_config)
  mb_add_fuzzer(config_parse SOURCE ${CMAKE_CURRENT_LIST_DIR}/config_parse.cpp DEPS mb_config)
endif()
