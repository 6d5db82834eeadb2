#!/usr/bin/env bash
# tests/bench/loadgen_compare.sh — mailbridge beside Debian's Dovecot, same corpus, same run.
#
# Uses the measuring kit in ../shared/bench (dovecot-anchor.sh, loadgen/seed.py, compare.sh):
#   1. starts the reference Dovecot on 127.0.0.1:33143/33110 and seeds 20 users x 1,000
#      messages by IMAP APPEND (skipped when already seeded);
#   2. copies that Maildir tree (Dovecot's dovecot-uidlist included, so mailbridge imports the
#      same UIDs) for mailbridge, writes its config and users, starts it on 34143/34110;
#   3. runs compare.sh (A = mailbridge, B = Dovecot) and prints the table of medians and A/B.
#
#   MAILBRIDGE_BIN=build/release/gateway/mailbridge tests/bench/loadgen_compare.sh
#   WORKLOADS="pop3-drain:10 imap-fetch:10" ROUNDS=1 DURATION=10 tests/bench/loadgen_compare.sh
#
# Environment: SCRATCH (default ${TMPDIR:-/tmp}/mailbridge-scratch), SHARED (default: the
# shared/ folder beside the checkout), MAILBRIDGE_BIN, and compare.sh's knobs (WORKLOADS,
# ROUNDS, DURATION, ...). Loopback only; every process started here is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHARED=${SHARED:-$root/../shared}
[[ -d $SHARED/bench/loadgen ]] || { echo "shared/bench not found (set SHARED)" >&2; exit 1; }
export SCRATCH=${SCRATCH:-${TMPDIR:-/tmp}/mailbridge-scratch}
BIN=${MAILBRIDGE_BIN:-$root/build/release/gateway/mailbridge}
[[ -x $BIN ]] || { echo "no mailbridge binary at $BIN (bash deploy/scripts/build.sh release)" >&2; exit 1; }
source "$root/tests/bench/bench_lib.sh"
mkdir -p "$SCRATCH"
MAILLOAD=$(build_mailload "$SHARED" "$SCRATCH/loadgen-bin")
export MAILLOAD

dv=$SCRATCH/dv-perf gw=$SCRATCH/gw-perf
bash "$SHARED/bench/dovecot-anchor.sh" stop "$dv" || true  # a previous run may have left it up
bash "$SHARED/bench/dovecot-anchor.sh" start "$dv" 33143 33110
gw_pid=""
cleanup() {
  [[ -n $gw_pid ]] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null
  bash "$SHARED/bench/dovecot-anchor.sh" stop "$dv" || true
}
trap cleanup EXIT
python3 "$SHARED/bench/loadgen/seed.py" imap --port 33143 --users 1-20

if [[ ! -d $gw/mail ]]; then
  mkdir -p "$gw"
  cp -a "$dv/mail" "$gw/mail"
fi
write_bench_config "$gw" "$gw/mail" 34143 34110
ulimit -n "$(ulimit -Hn)"
"$BIN" --config "$gw/mailbridge.toml" 2>"$gw/mailbridge.log" &
gw_pid=$!
echo "$gw_pid" >"$gw/gateway.pid"
wait_for_port 34143 || true

# Warm both servers the same way: every user's first FETCH of ENVELOPE/BODYSTRUCTURE builds
# the server's cache (dovecot.index.cache, mailbridge-cache); the kit's figures are for warm
# caches (loadgen README).
for port in 34143 33143; do
  "$MAILLOAD" imap-fetch --port "$port" --user-count 20 -c 20 -d 10 --warmup 0 >/dev/null 2>&1 || true
done

cat >"$gw/gateway.env" <<ENV
NAME=mailbridge
HOST=127.0.0.1
IMAP_PORT=34143
POP3_PORT=34110
USER_TEMPLATE=user%d
USER_FIRST=1
USER_COUNT=20
PASSWORD=pass
PIDS_CMD="cat $gw/gateway.pid"
ENV
bash "$SHARED/bench/loadgen/compare.sh" "$gw/gateway.env" "$SHARED/bench/loadgen/servers/dovecot.env"
