# tests/bench/bench_lib.sh — shared by the bench scripts that start mailbridge over a Maildir
# tree for the shared load generator (loadgen_compare.sh, notify_fanout.sh). Source it.

# build_mailload SHARED DIR: compiles shared/bench/loadgen/mailload.cpp into DIR (when missing or
# older than its source) and prints the binary's path.
build_mailload() {
  local shared=$1 dir=$2
  mkdir -p "$dir"
  if [[ ! -x $dir/mailload || $dir/mailload -ot $shared/bench/loadgen/mailload.cpp ]]; then
    g++ -O2 -std=c++17 -o "$dir/mailload" "$shared/bench/loadgen/mailload.cpp"
  fi
  echo "$dir/mailload"
}

# write_bench_config DIR MAIL_ROOT IMAP_PORT POP3_PORT: DIR/users (user1..user20, password
# "pass") and DIR/mailbridge.toml serving MAIL_ROOT/<user>/Maildir on loopback, plaintext
# logins allowed, 20,000 connections, warnings only.
write_bench_config() {
  local dir=$1 mail=$2 imap=$3 pop3=$4
  for i in $(seq 1 20); do echo "user$i:{PLAIN}pass"; done >"$dir/users"
  cat >"$dir/mailbridge.toml" <<TOML
[listen]
imap = ["127.0.0.1:$imap"]
pop3 = ["127.0.0.1:$pop3"]
[auth]
passwd_file = "$dir/users"
plaintext = "always"
[store]
driver = "maildir"
path = "$mail/%u/Maildir"
[limits]
max_connections = 20000
[log]
level = "warn"
TOML
}

# wait_for_port PORT: until something accepts on 127.0.0.1:PORT (at most 5 s).
wait_for_port() {
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
