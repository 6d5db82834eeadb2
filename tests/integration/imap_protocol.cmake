# tests/integration/imap_protocol.cmake: the IMAP server against real clients over sockets, owned by
# "imapsession". imap_protocol_test.py uses Python's imaplib, raw exchanges (IDLE), curl imap:// and imaps://, and poplib
# for the cross-protocol checks.
include(${MB_INTEGRATION_DIR}/deploy_harness.cmake)

mb_add_integration_test(NAME imap_protocol SCRIPT imap_protocol_test.py NEEDS openssl curl LABELS imap)
