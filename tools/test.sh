#!/usr/bin/env bash
# Builds pmdi and runs every test, then the unit tests again under ASan+UBSan.
#   tools/test.sh            all of it (what CI runs)
#   tools/test.sh --no-asan  skip the sanitizer pass
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${PMDI_JOBS:-2}

tools/install-deps.sh

echo "== release build and all tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

if [[ "${1:-}" != "--no-asan" ]]; then
  echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPMDI_SANITIZE=ON -DPMDI_BUILD_BENCH=OFF \
        -DPMDI_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build build-asan -j"$jobs" --target $(cmake --build build-asan --target help | awk '/^\.\.\. unit_/{print $2}')
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -L unit
fi
