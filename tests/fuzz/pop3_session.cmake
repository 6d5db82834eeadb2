# POP3 session fuzz target (+ corpus in corpus/pop3_session). Reuses the unit tests'
# in-memory seams (tests/unit/protocols/pop3/session_harness.hpp).
mb_add_fuzzer(pop3_session SOURCE ${CMAKE_CURRENT_LIST_DIR}/pop3_session.cpp DEPS mb_pop3)
