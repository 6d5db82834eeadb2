#!/usr/bin/env bash
# deploy/scripts/deps.sh [--test]
#
# Installs the Debian 12 packages mailbridge needs, idempotently and quietly:
#   - always: the build dependencies;
#   - with --test: the test tools too (GoogleTest, real mail clients, dovecot for reference
#     hashes, shellcheck, docker-compose, systemd-analyze, clang for the fuzz preset).
# apt-get update runs only when a package is missing. Needs root only when something must be
# installed: on a machine that has everything it succeeds without root.
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config libuv1-dev libmbedtls-dev libfmt-dev
  libtomlplusplus-dev libexpected-dev libargon2-dev libcrypt-dev)
test_pkgs=(libgtest-dev libgmock-dev python3 curl openssl isync fetchmail getmail6 offlineimap3
  dovecot-core dovecot-imapd dovecot-pop3d shellcheck docker-compose systemd nodejs npm clang-14
  libclang-rt-14-dev)

want=("${build_pkgs[@]}")
for arg in "$@"; do
  case "$arg" in
    --test) want+=("${test_pkgs[@]}") ;;
    -h|--help) echo "usage: $0 [--test]"; exit 0 ;;
    *) echo "deps.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# A package also counts as present when another package already provides its command: NodeSource's
# nodejs bundles npm and conflicts with Debian's npm package.
provided_by_command() {
  case "$1" in
    npm) command -v npm >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

missing=()
for pkg in "${want[@]}"; do
  if provided_by_command "$pkg"; then
    continue
  fi
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "deps.sh: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "deps.sh: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
else
  sudo=()
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
