#!/usr/bin/env bash
# tests/bench/notify_fanout.sh — how fast a new message reaches many IDLE sessions.
#
# Starts mailbridge (MAILBRIDGE_BIN) over a copy-on-first-use Maildir tree and runs the shared
# load generator's idle-scale workload in two shapes, ROUNDS times each, with the helper
# thread that shares a turn's unsolicited output (BurstWriter) on and off (MAILBRIDGE_BURST):
#   one-mailbox: N sessions of user1 in IDLE on INBOX, one APPEND (issue #5's wording:
#                "a new message reaching 1,000 idle sessions within 20 ms");
#   20-users:    N sessions spread over user1..user20, one APPEND per user, all at once
#                (loadgen's idle-scale default: 20 concurrent durable APPENDs).
# Prints one line per run: notify p50/p99 in ms (literal sent -> "* n EXISTS" read, over
# 100 sampled sessions) and PSS per session.
#
#   MAILBRIDGE_BIN=build/release/gateway/mailbridge tests/bench/notify_fanout.sh
#   N=1000 ROUNDS=3 SCRATCH=/tmp/mb tests/bench/notify_fanout.sh
#
# The corpus is $SCRATCH/gw-perf/mail (seeded by loadgen_compare.sh); without it, 20 users
# with 20 messages each are made here. Loopback ports 29143/29110; every process started
# here is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHARED=${SHARED:-$root/../shared}
[[ -f $SHARED/bench/loadgen/mailload.cpp ]] || { echo "shared/bench not found (set SHARED)" >&2; exit 1; }
SCRATCH=${SCRATCH:-${TMPDIR:-/tmp}/mailbridge-scratch}
BIN=${MAILBRIDGE_BIN:-$root/build/release/gateway/mailbridge}
[[ -x $BIN ]] || { echo "no mailbridge binary at $BIN (bash deploy/scripts/build.sh release)" >&2; exit 1; }
N=${N:-1000}
ROUNDS=${ROUNDS:-3}
source "$root/tests/bench/bench_lib.sh"
mkdir -p "$SCRATCH/notify"
MAILLOAD=$(build_mailload "$SHARED" "$SCRATCH/loadgen-bin")

mail=$SCRATCH/gw-perf/mail
if [[ ! -d $mail ]]; then
  mail=$SCRATCH/notify/mail
  for u in $(seq 1 20); do
    d=$mail/user$u/Maildir
    [[ -d $d/cur ]] && continue
    mkdir -p "$d/cur" "$d/new" "$d/tmp"
    for m in $(seq 1 20); do
      printf 'From: a@example.test\nSubject: seed %d\n\nbody %d\n' "$m" "$m" >"$d/cur/$((1700000000 + m)).M$m.seed:2,"
    done
  done
fi
write_bench_config "$SCRATCH/notify" "$mail" 29143 29110
ulimit -n "$(ulimit -Hn)"

gw_pid=""
cleanup() { [[ -n $gw_pid ]] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null; gw_pid=""; }
trap cleanup EXIT

run() {  # run SHAPE BURST EXTRA...
  local shape=$1 burst=$2
  shift 2
  MAILBRIDGE_BURST=$burst "$BIN" --config "$SCRATCH/notify/mailbridge.toml" 2>"$SCRATCH/notify/mailbridge.log" &
  gw_pid=$!
  wait_for_port 29143 || true
  local out
  out=$("$MAILLOAD" idle-scale --port 29143 -n "$N" "$@" --server-pids-cmd "echo $gw_pid" 2>/dev/null | tail -1)
  cleanup
  local p50 p99 pss missed
  p50=$(grep -o 'notify_p50_ms=[0-9.]*' <<<"$out" | cut -d= -f2)
  p99=$(grep -o 'notify_p99_ms=[0-9.]*' <<<"$out" | cut -d= -f2)
  pss=$(grep -o 'pss_kb_per_conn=[-0-9.]*' <<<"$out" | cut -d= -f2)
  missed=$(grep -o 'notify_missed=[0-9]*' <<<"$out" | cut -d= -f2)
  printf '%-12s burst=%s  notify p50 %6s ms  p99 %6s ms  missed %s  pss %s KB/session\n' \
    "$shape" "$burst" "${p50:-?}" "${p99:-?}" "${missed:-?}" "${pss:-?}"
}

echo "notify_fanout: N=$N sessions, $ROUNDS rounds, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
for _ in $(seq 1 "$ROUNDS"); do
  for burst in 1 0; do
    run one-mailbox "$burst" --user-count 1
    run 20-users "$burst" --user-count 20
  done
done
