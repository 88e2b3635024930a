#!/usr/bin/env bash
# Builds pmdi and runs the main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"${PMDI_JOBS:-2}" --target pmdi-bench
build/bench/pmdi-bench prg
