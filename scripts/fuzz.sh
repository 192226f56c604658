#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (preset `fuzz`, build-fuzz/) and runs
# each for a bounded time. Crashes are written to build-fuzz/crashes/.
#   scripts/fuzz.sh [seconds-per-target]     (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
bash scripts/install-deps.sh
targets=(net_frame_fuzz storage_batch_payload_fuzz core_image_fuzz)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --parallel "$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}"
mkdir -p build-fuzz/crashes
for t in "${targets[@]}"; do
  bin=$(find build-fuzz -type f -name "$t" -perm -u+x | head -n 1)
  mkdir -p "build-fuzz/corpus/$t"
  if [ "$t" = core_image_fuzz ]; then
    # Real state images as the seed corpus (written by the target's own test).
    cmake --build --preset fuzz --target core_image_fuzz_test >/dev/null
    COFFER_IMAGE_FUZZ_SEEDS="build-fuzz/corpus/$t" \
      "$(find build-fuzz -type f -name core_image_fuzz_test -perm -u+x | head -n 1)" \
      --gtest_filter='CoreImageFuzz.SeedImages*' >/dev/null
  fi
  echo "fuzz: $t for ${seconds}s"
  "$bin" -max_total_time="$seconds" -artifact_prefix=build-fuzz/crashes/ \
    -print_final_stats=1 "build-fuzz/corpus/$t" 2>&1 | tail -n 12
done
