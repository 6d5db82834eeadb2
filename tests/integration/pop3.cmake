# tests/integration/pop3.cmake: the POP3 server against real clients over sockets, owned by
# "pop3". pop3_protocol_test.py uses Python's poplib and exact raw exchanges (plain, STLS,
# implicit TLS); pop3_clients_test.py runs curl, getmail6 and fetchmail.
include(${MB_INTEGRATION_DIR}/deploy_harness.cmake)

mb_add_integration_test(NAME pop3_protocol SCRIPT pop3_protocol_test.py NEEDS openssl LABELS pop3)
mb_add_integration_test(NAME pop3_clients SCRIPT pop3_clients_test.py
                        NEEDS openssl curl getmail fetchmail LABELS pop3)
