#!/usr/bin/env bash
# deploy/scripts/demo.sh  (README command 1)
#
# Builds the release binary and runs the embedded demo in the foreground: user demo/demo,
# self-signed certificate, IMAP 1143, POP3 1110, IMAPS 1993, POP3S 1995 on 127.0.0.1.
# State lives in $MAILBRIDGE_DEMO_DIR (default ./demo) and survives restarts.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
demo_dir=${MAILBRIDGE_DEMO_DIR:-$PWD/demo}
bash "$root/deploy/scripts/build.sh" release
exec "$root/build/release/gateway/mailbridge" --demo "$demo_dir"
