#!/usr/bin/env bash
# Set-up command (2): installs the Debian packages, builds with warnings as
# errors, and runs the whole test suite.
#   scripts/test.sh           Release build in build/, every default test
#   scripts/test.sh --asan    the same tests under ASan + UBSan in build-asan/
#   COFFER_SOAK=1 scripts/test.sh   longer simulations and crash runs
set -euo pipefail
cd "$(dirname "$0")/.."
preset=ci
if [ "${1:-}" = "--asan" ]; then preset=asan; fi
bash scripts/install-deps.sh
bash scripts/build.sh "$preset"
dir=build
[ "$preset" = asan ] && dir=build-asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$dir" --output-on-failure --parallel "$(nproc 2>/dev/null || echo 2)" \
  --timeout 900
