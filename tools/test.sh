#!/usr/bin/env bash
# Builds pmdi and runs every test but the unit tests, then the unit tests under
# ASan+UBSan, then every fuzz target (clang, libFuzzer) over its corpus and 3 s
# of fuzzing.
#   tools/test.sh                      all of it (what CI runs)
#   tools/test.sh --no-asan --no-fuzz  skip the sanitizer pass and/or the fuzz pass
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${PMDI_JOBS:-2}
asan=1 fuzz=1
for a in "$@"; do
  case "$a" in
    --no-asan) asan=0 ;;
    --no-fuzz) fuzz=0 ;;
    *) echo "test.sh: unknown option $a (--no-asan, --no-fuzz)" >&2; exit 2 ;;
  esac
done

tools/install-deps.sh

# The unit tests are built and run once: under the sanitizers when that pass
# runs, in the Release tree otherwise.
unit_in_release=$([ "$asan" = 1 ] && echo OFF || echo ON)
echo "== release build and all tests$([ "$asan" = 1 ] && echo " but the unit tests (they run under the sanitizers below)")"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPMDI_UNIT_TESTS=$unit_in_release >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

if ((asan)); then
  echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  # -g1: line tables, all the sanitizers' reports need (file:line in every
  # frame); full debug info made each unit about 30 % slower to compile.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DPMDI_SANITIZE=ON \
        -DPMDI_BUILD_BENCH=OFF -DPMDI_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build build-asan -j"$jobs" --target $(cmake --build build-asan --target help | awk '/^\.\.\. unit_/{print $2}')
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -L unit
fi

if ((fuzz)); then
  # docs/fuzzing.md: each target over its seed corpus, then 3 s of fuzzing
  # (ctest: 21 s at -j2 on the 2-core machine; building the 10 targets with
  # clang takes a few minutes more).
  echo "== fuzz targets (clang, libFuzzer + ASan + UBSan), label fuzz"
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DPMDI_FUZZ=ON \
        -DPMDI_BUILD_TESTS=OFF -DPMDI_BUILD_BENCH=OFF -DPMDI_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build build-fuzz -j"$jobs" --target pmdi_fuzz
  ctest --test-dir build-fuzz --output-on-failure -j"$jobs" -L fuzz
fi
