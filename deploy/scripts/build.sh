#!/usr/bin/env bash
# deploy/scripts/build.sh PRESET
#
# The one build entry point: README commands, CI (.ci/run via test.sh) and the Dockerfile all call
# it, so they cannot drift apart. Installs build dependencies, configures and builds PRESET
# (dev | release | fuzz, see CMakePresets.json) into build/PRESET.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 PRESET   (dev | release | fuzz)" >&2
  exit 2
fi
preset=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

deps_args=()
# The dev preset builds the test suite (GoogleTest); fuzz needs clang.
if [[ "$preset" != "release" ]]; then
  deps_args+=(--test)
fi
bash "$root/deploy/scripts/deps.sh" "${deps_args[@]}"

jobs=${MB_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
