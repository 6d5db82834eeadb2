# IMAP session fuzz target ("imapsession") + corpus in corpus/imap_session: client bytes into
# a session over the real Maildir store and passwd-file authenticator in a temp directory.
mb_add_fuzzer(imap_session SOURCE ${CMAKE_CURRENT_LIST_DIR}/imap_session.cpp
              DEPS mb_imap mb_store mb_auth mb_uv)
