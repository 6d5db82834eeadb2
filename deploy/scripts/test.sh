#!/usr/bin/env bash
# deploy/scripts/test.sh  (README command 2; .ci/run runs exactly this)
#
# Installs build and test dependencies, builds the dev preset (Debug, ASan+UBSan, -Werror) and
# runs the whole suite (unit, fuzz corpus replay, integration) with ctest, printing its summary.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
bash "$root/deploy/scripts/deps.sh" --test
bash "$root/deploy/scripts/build.sh" dev
ctest --preset dev -j "${MB_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}"
