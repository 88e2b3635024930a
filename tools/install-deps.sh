#!/usr/bin/env bash
# Installs every dependency of pmdi from Debian packages. Idempotent: a package
# already present is left alone. Prints what it installs.
#   tools/install-deps.sh          core: build + tests + demo
#   tools/install-deps.sh --tools  also what tools/ needs (training, plots)
set -euo pipefail

core=(build-essential cmake pkg-config
      libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev libgmp-dev libsodium-dev libssl-dev libeigen3-dev catch2
      libonnx-dev libprotobuf-dev protobuf-compiler zlib1g-dev
      dataset-fashion-mnist
      clang libclang-rt-14-dev)  # the fuzz targets (libFuzzer), tools/test.sh's fuzz pass
tools=(python3 python3-torch python3-onnx python3-numpy python3-matplotlib)

want=("${core[@]}")
[[ "${1:-}" == "--tools" ]] && want+=("${tools[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages already installed"
  exit 0
fi

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
