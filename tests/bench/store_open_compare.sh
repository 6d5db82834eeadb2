#!/usr/bin/env bash
# Warm open of the same 100,000 messages, mailbridge and Dovecot, in one run:
#   store_open_compare.sh STORE_OPEN_BINARY DIR [ROUNDS]
# DIR: the tree store_open built (it is opened once first, so its snapshots are current).
# mailbridge: `store_open --warm ROUNDS DIR` (each round a fresh store, registry and loop in
#   one process: uidlist check, snapshot load, modseqs, inotify watches; CPU of all threads).
# Dovecot: `doveadm mailbox status messages uidnext uidvalidity INBOX`, ROUNDS times, on
#   DIR.dovecot, a hard-linked copy of DIR (same message files; its own dovecot-uidlist and
#   index files, so neither program disturbs the other's state), run once first to build
#   its index. CPU is the child's getrusage (µs resolution); this includes doveadm's process
#   start and config parse, which is measured alone on an empty Maildir and printed too.
set -euo pipefail
bin=$(realpath "${1:?STORE_OPEN_BINARY}")
dir=$(realpath "${2:?DIR}")
rounds=${3:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
id vmail >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin vmail
copy="$dir.dovecot"
rm -rf "$copy" && mkdir -p "$copy"
cp -al "$dir/cur" "$copy/cur"
mkdir -p "$copy/new" "$copy/tmp" "$work/empty/cur" "$work/empty/new" "$work/empty/tmp"
chown -R vmail:vmail "$copy" "$work/empty"
chmod 755 "$work"
mkdir -p "$work/run"
conf() {
  cat <<CONF
base_dir = $work/run
state_dir = $work/run/state
log_path = $work/dovecot.log
mail_location = maildir:$1
mail_uid = vmail
mail_gid = vmail
first_valid_uid = 1
first_valid_gid = 1
ssl = no
CONF
}
conf "$copy" >"$work/dovecot.conf"
conf "$work/empty" >"$work/empty.conf"
# ROUNDS runs of doveadm; prints mean/best wall and CPU in ms.
measure() {
  python3 - "$1" "$rounds" <<'PY'
import os, resource, subprocess, sys, time
conf, rounds = sys.argv[1], int(sys.argv[2])
cmd = ["doveadm", "-c", conf, "mailbox", "status", "messages uidnext uidvalidity", "INBOX"]
env = dict(os.environ, USER="vmail")
walls, cpus = [], []
for _ in range(rounds):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd="/", env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    walls.append((time.perf_counter() - t0) * 1e3)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1e3)
print(f"x{rounds}: mean {sum(walls)/rounds:.1f} ms wall, {sum(cpus)/rounds:.1f} ms CPU; "
      f"best {min(walls):.1f} ms wall, {min(cpus):.1f} ms CPU  [{out.stdout.decode().strip()}]")
PY
}
"$bin" --warm 1 "$dir" >/dev/null
(cd / && USER=vmail doveadm -c "$work/dovecot.conf" mailbox status messages INBOX >/dev/null 2>&1)  # Dovecot's cold open
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mailbridge warm open:        $("$bin" --warm "$rounds" "$dir" | sed 's/^warm open //')"
echo "dovecot warm status:         $(measure "$work/dovecot.conf")"
echo "dovecot, empty Maildir:      $(measure "$work/empty.conf")  (process start + config)"
echo "mailbridge warm open:        $("$bin" --warm "$rounds" "$dir" | sed 's/^warm open //')"
rm -rf "$copy"
