#!/usr/bin/env bash
# Builds pmdi and runs the main demo: MiniONN on Fashion-MNIST, every party
# its own process over 127.0.0.1 (2 clusters, T = 1), one table of times,
# bytes per link and rounds at the end (tools/demo-deployment.sh).
#   tools/demo.sh [N images, default 2] [launcher options...]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
exec tools/demo-deployment.sh "$@"
