#!/usr/bin/env bash
# Builds pmdi and runs the main demo: private inference of the trained MiniONN
# model on Fashion-MNIST test images, 2 clusters of (garbler, evaluator, 1
# compute server), client and cloud, every role on this machine.
#   tools/demo.sh [IMAGES]      default 10 test images
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-10}
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"${PMDI_JOBS:-2}" --target example_minionn_demo
exec build/examples/example_minionn_demo "$images"
