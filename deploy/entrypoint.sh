#!/usr/bin/env bash
# deploy/entrypoint.sh: container entrypoint for mailbridge.
#
#   entrypoint.sh                  prepare (below), then exec mailbridge --config "$MAILBRIDGE_CONFIG"
#   entrypoint.sh prepare          prepare only, then exit 0 (used by tests and for inspection)
#   entrypoint.sh healthcheck      exec mailbridge healthcheck --config <the config in use>
#   entrypoint.sh --some-option    exec mailbridge --some-option ... (e.g. --version, --check-config)
#   entrypoint.sh CMD ARGS...      exec CMD ARGS... unchanged (e.g. sh, mailbridge hash-password)
#
# prepare: when $MAILBRIDGE_CONFIG exists (a mounted config) it is used unchanged and nothing is
# written. Otherwise a config is written from environment variables:
#   MAILBRIDGE_LISTEN_ADDRESS  host for every listener               (default 0.0.0.0)
#   MAILBRIDGE_IMAP_PORT / _IMAPS_PORT / _POP3_PORT / _POP3S_PORT   (143 / 993 / 110 / 995;
#                              "off" or empty turns that listener off)
#   MAILBRIDGE_METRICS_PORT    Prometheus listener port               (default off)
#   MAILBRIDGE_STORE_PATH      store.path template                    (default $root/srv/mail/%u/Maildir)
#   MAILBRIDGE_PASSWD_FILE     passwd-file                            (default $etc/users)
#   MAILBRIDGE_USERS           "user:password[,user:password...]": when the passwd-file does not
#                              exist it is created with these users, hashed by `mailbridge
#                              hash-password` ({SHA512-CRYPT})
#   MAILBRIDGE_PLAINTEXT       auth.plaintext never|loopback|always   (default loopback)
#   MAILBRIDGE_TLS_CERT / MAILBRIDGE_TLS_KEY   PEM files from your ACME client; when neither is set a
#                              self-signed certificate is generated under $etc (said loudly)
#   MAILBRIDGE_LOG_LEVEL / MAILBRIDGE_LOG_FORMAT   [log] level / format, written only when set
# Paths: MAILBRIDGE_ROOT (default empty) prefixes the default paths so the script can be run
# outside a container; $etc is ${MAILBRIDGE_ETC_DIR:-$MAILBRIDGE_ROOT/etc/mailbridge}. When $etc is
# not writable (a bind mount owned by root) the generated files go to $MAILBRIDGE_RUNTIME_DIR
# (default /tmp/mailbridge) instead; the path of the config in use is kept in
# $MAILBRIDGE_RUNTIME_DIR/config-path for `entrypoint.sh healthcheck`.
# MAILBRIDGE_BIN names the binary (default: mailbridge on PATH).
set -euo pipefail

root=${MAILBRIDGE_ROOT:-}
etc_dir=${MAILBRIDGE_ETC_DIR:-$root/etc/mailbridge}
config=${MAILBRIDGE_CONFIG:-$etc_dir/mailbridge.toml}
runtime_dir=${MAILBRIDGE_RUNTIME_DIR:-${root:-}/tmp/mailbridge}
bin=${MAILBRIDGE_BIN:-mailbridge}

log() { printf 'mailbridge-entrypoint: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
banner() {
  local line='************************************************************************'
  printf '%s\n' "$line" "$@" "$line" >&2
}

# A TOML basic string (paths and addresses: escape backslash and double quote).
toml_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

listen_line() {  # listen_line KEY PORT -> 'KEY = ["host:port"]' or nothing when off
  local key=$1 port=$2 host=${MAILBRIDGE_LISTEN_ADDRESS:-0.0.0.0}
  if [[ -z "$port" || "$port" == "off" ]]; then
    return 0
  fi
  [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]] \
    || die "MAILBRIDGE_${key^^}_PORT must be a port number or 'off', got '$port'"
  if [[ "$host" == *:* && "$host" != \[* ]]; then
    host="[$host]"  # IPv6 literal
  fi
  printf '%s = [%s]\n' "$key" "$(toml_str "$host:$port")"
}

# Self-signed certificate through the binary: its generate-cert command when it has one, else the
# certificate `mailbridge --demo` creates on first run (the demo is stopped by PID at once).
generate_cert() {
  local cert=$1 key=$2 cn=${MAILBRIDGE_TLS_CN:-$(hostname 2>/dev/null || echo localhost)}
  if "$bin" generate-cert --cert "$cert" --key "$key" --cn "$cn" >/dev/null 2>&1 \
      && [[ -s "$cert" && -s "$key" ]]; then
    return 0
  fi
  local demo pid i found_cert found_key
  demo=$(mktemp -d)
  "$bin" --demo "$demo" >"$demo.log" 2>&1 &
  pid=$!
  found_cert="" found_key=""
  for ((i = 0; i < 100; i++)); do
    found_cert=$(find "$demo" -maxdepth 2 -name '*cert*.pem' -size +0 2>/dev/null | head -n1)
    found_key=$(find "$demo" -maxdepth 2 -name '*key*.pem' -size +0 2>/dev/null | head -n1)
    if [[ -n "$found_cert" && -n "$found_key" ]] || ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ -n "$found_cert" && -n "$found_key" ]]; then
    install -m 0644 "$found_cert" "$cert"
    install -m 0600 "$found_key" "$key"
  fi
  rm -rf "$demo" "$demo.log"
  [[ -s "$cert" && -s "$key" ]] || die "could not generate a self-signed certificate with $bin"
}

write_passwd() {
  local file=$1 entry user pass hash
  local -a entries
  umask 077
  : >"$file.tmp"
  IFS=',' read -r -a entries <<<"${MAILBRIDGE_USERS:-}"
  for entry in "${entries[@]}"; do
    [[ -n "$entry" ]] || continue
    user=${entry%%:*}
    pass=${entry#*:}
    [[ -n "$user" && "$user" != "$entry" && -n "$pass" ]] \
      || die "MAILBRIDGE_USERS entries are user:password, got '${user}:...'"
    hash=$(printf '%s\n' "$pass" | "$bin" hash-password) || die "mailbridge hash-password failed"
    printf '%s:%s\n' "$user" "$hash" >>"$file.tmp"
  done
  mv "$file.tmp" "$file"
}

prepare() {
  mkdir -p "$runtime_dir"
  if [[ -f "$config" ]]; then
    log "using existing config $config unchanged"
    printf '%s\n' "$config" >"$runtime_dir/config-path"
    return 0
  fi
  log "no config at $config: writing one from MAILBRIDGE_* environment variables"
  mkdir -p "$(dirname "$config")" "$etc_dir" 2>/dev/null || true
  if [[ ! -w "$(dirname "$config")" || ! -w "$etc_dir" ]]; then
    banner "mailbridge-entrypoint: WARNING: $etc_dir is not writable by $(id -un 2>/dev/null || id -u)." \
      "Writing the generated config, users and certificate under $runtime_dir instead;" \
      "they are lost when the container is recreated. Make the config directory writable" \
      "by uid $(id -u) or mount a mailbridge.toml there."
    etc_dir=$runtime_dir
    config=$runtime_dir/mailbridge.toml
  fi

  local store_path=${MAILBRIDGE_STORE_PATH:-$root/srv/mail/%u/Maildir}
  local passwd=${MAILBRIDGE_PASSWD_FILE:-$etc_dir/users}
  if [[ ! -f "$passwd" && ! -w "$(dirname "$passwd")" ]]; then
    log "warning: $passwd does not exist and its directory is not writable; using $etc_dir/users"
    passwd=$etc_dir/users
  fi
  local cert=${MAILBRIDGE_TLS_CERT:-} key=${MAILBRIDGE_TLS_KEY:-}
  local plaintext=${MAILBRIDGE_PLAINTEXT:-loopback}
  case "$plaintext" in
    never | loopback | always) ;;
    *) die "MAILBRIDGE_PLAINTEXT must be never, loopback or always, got '$plaintext'" ;;
  esac

  # The directory above the first %-escape must exist for the store to create users' Maildirs.
  local store_base=${store_path%%\%*}
  mkdir -p "${store_base%/*}" 2>/dev/null || log "warning: cannot create ${store_base%/*}"

  if [[ ! -f "$passwd" ]]; then
    mkdir -p "$(dirname "$passwd")"
    write_passwd "$passwd"
    if [[ -s "$passwd" ]]; then
      log "wrote $passwd with the users from MAILBRIDGE_USERS"
    else
      log "warning: $passwd did not exist; created it empty (nobody can log in): mount a" \
        "passwd-file or set MAILBRIDGE_USERS"
    fi
  fi

  if [[ -n "$cert" || -n "$key" ]]; then
    [[ -n "$cert" && -n "$key" ]] || die "set both MAILBRIDGE_TLS_CERT and MAILBRIDGE_TLS_KEY"
  else
    cert=$etc_dir/cert.pem
    key=$etc_dir/key.pem
    if [[ ! -s "$cert" || ! -s "$key" ]]; then
      generate_cert "$cert" "$key"
      banner "mailbridge-entrypoint: WARNING: NO TLS CERTIFICATE GIVEN." \
        "Generated a SELF-SIGNED certificate: $cert" \
        "Clients will warn about it. Set MAILBRIDGE_TLS_CERT and MAILBRIDGE_TLS_KEY to the" \
        "files from your ACME client (or mount a config) for production."
    else
      banner "mailbridge-entrypoint: WARNING: using the SELF-SIGNED certificate $cert" \
        "generated on an earlier start. Set MAILBRIDGE_TLS_CERT/KEY for production."
    fi
  fi

  local tmp=$config.tmp
  {
    echo "# Written by mailbridge-entrypoint from MAILBRIDGE_* environment variables."
    echo "# Mount your own file at $config to use it unchanged instead."
    echo "[listen]"
    listen_line imap "${MAILBRIDGE_IMAP_PORT-143}"
    listen_line imaps "${MAILBRIDGE_IMAPS_PORT-993}"
    listen_line pop3 "${MAILBRIDGE_POP3_PORT-110}"
    listen_line pop3s "${MAILBRIDGE_POP3S_PORT-995}"
    listen_line metrics "${MAILBRIDGE_METRICS_PORT:-off}"
    echo
    echo "[tls]"
    echo "cert = $(toml_str "$cert")"
    echo "key = $(toml_str "$key")"
    echo
    echo "[auth]"
    echo "passwd_file = $(toml_str "$passwd")"
    echo "plaintext = $(toml_str "$plaintext")"
    echo
    echo "[store]"
    echo "driver = \"maildir\""
    echo "path = $(toml_str "$store_path")"
    if [[ -n "${MAILBRIDGE_LOG_LEVEL:-}${MAILBRIDGE_LOG_FORMAT:-}" ]]; then
      echo
      echo "[log]"
      [[ -z "${MAILBRIDGE_LOG_LEVEL:-}" ]] || echo "level = $(toml_str "$MAILBRIDGE_LOG_LEVEL")"
      [[ -z "${MAILBRIDGE_LOG_FORMAT:-}" ]] || echo "format = $(toml_str "$MAILBRIDGE_LOG_FORMAT")"
    fi
  } >"$tmp"
  mv "$tmp" "$config"
  printf '%s\n' "$config" >"$runtime_dir/config-path"
  log "wrote $config"
}

active_config() {
  local recorded
  recorded=$(cat "$runtime_dir/config-path" 2>/dev/null || true)
  printf '%s\n' "${recorded:-$config}"
}

case "${1:-}" in
  prepare)
    prepare
    exit 0
    ;;
  "")
    prepare
    exec "$bin" --config "$(active_config)"
    ;;
  healthcheck)
    exec "$bin" healthcheck --config "$(active_config)"
    ;;
  -*)
    exec "$bin" "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
