# tests/integration/store_dovecot_tree.cmake (owned by "store"): Debian's Dovecot writes a
# Maildir (UIDs, UIDVALIDITY), mailbridge serves the same tree with the same UIDs and POP3
# UIDLs, and an MDA delivery reaches an IDLE session with no client command.
include(${MB_INTEGRATION_DIR}/deploy_harness.cmake)

mb_add_integration_test(NAME store_dovecot_tree SCRIPT store_dovecot_tree_test.py
                        NEEDS doveadm LABELS store dovecot)
