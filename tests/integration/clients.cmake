# tests/integration/clients.cmake: real IMAP clients and cross-protocol checks against the
# `mailbridge` binary, owned by "clients" (issue #5 item 5, issue #4 item 3).
#   xproto_test.py            POP3 RETR/DELE and MDA drops seen live by an IMAP IDLE session,
#                             IMAP APPEND seen by POP3 (size, bytes), UIDL = %08Xu%08Xv
#   clients_curl_imap_test.py curl imap:// and imaps://: LIST, UID fetch, APPEND (-T)
#   clients_mbsync_test.py    isync two-way sync
#   clients_offlineimap_test.py offlineimap3 one-shot sync, second run a no-op
#   clients_imapflow_test.py  Node imapflow (npm, pinned in node/package-lock.json) IDLE events
include(${MB_INTEGRATION_DIR}/deploy_harness.cmake)

mb_add_integration_test(NAME xproto SCRIPT xproto_test.py TIMEOUT 240
                        NEEDS openssl LABELS "clients;xproto")
mb_add_integration_test(NAME clients_curl_imap SCRIPT clients_curl_imap_test.py TIMEOUT 240
                        NEEDS openssl curl LABELS clients)
mb_add_integration_test(NAME clients_mbsync SCRIPT clients_mbsync_test.py TIMEOUT 300
                        NEEDS openssl mbsync LABELS clients)
mb_add_integration_test(NAME clients_offlineimap SCRIPT clients_offlineimap_test.py TIMEOUT 300
                        NEEDS openssl offlineimap LABELS clients)
mb_add_integration_test(NAME clients_imapflow SCRIPT clients_imapflow_test.py TIMEOUT 600
                        NEEDS openssl node npm LABELS clients)
