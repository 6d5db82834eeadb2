#!/usr/bin/env bash
# Dovecot's side of the store_open bench: open the same Maildir with Debian's Dovecot,
#   doveadm mailbox status 'messages uidnext uidvalidity' INBOX
# cold (no dovecot-uidlist, no index files) and warm (both present), printing wall and CPU
# time. Runs doveadm as the vmail user with a throw-away config (no running dovecot needed).
#   store_open_dovecot.sh DIR        (DIR: the tree store_open built; made readable by vmail)
# Note: this removes DIR/dovecot-uidlist (Dovecot rewrites it); run store_open again after.
set -euo pipefail
dir=$(realpath "${1:?DIR}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
id vmail >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin vmail
chown -R vmail:vmail "$dir"
chmod 755 "$work"
mkdir -p "$work/run"
cat >"$work/dovecot.conf" <<CONF
base_dir = $work/run
state_dir = $work/run/state
log_path = $work/dovecot.log
mail_location = maildir:$dir
mail_uid = vmail
mail_gid = vmail
first_valid_uid = 1
first_valid_gid = 1
ssl = no
CONF
status() {
  (cd / && USER=vmail /usr/bin/time -f "%e s wall, %U s user + %S s sys" \
    doveadm -c "$work/dovecot.conf" mailbox status 'messages uidnext uidvalidity' INBOX 2>&1)
}
rm -f "$dir"/dovecot-uidlist "$dir"/dovecot.index* "$dir"/dovecot.list.index*
echo "dovecot cold: $(status | tr '\n' ' ')"
echo "dovecot warm: $(status | tr '\n' ' ')"
echo "dovecot warm: $(status | tr '\n' ' ')"
