#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release) into its build dir.
#   scripts/build.sh [preset] [extra cmake --build args...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
shift || true
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --parallel "$(nproc 2>/dev/null || echo 2)" "$@"
