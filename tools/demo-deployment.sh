#!/usr/bin/env bash
# MiniONN on Fashion-MNIST with every party in its own process over 127.0.0.1:
# a client, a cloud and 2 clusters (T = 1: a garbler, an evaluator and one
# compute server each), started by minionn-launch --processes, which prints
# the client's results and one table (time per phase per party, bytes per
# link, rounds). See docs/deployment.md.
#
#   tools/demo-deployment.sh [N images, default 2] [extra launcher options...]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2}
shift || true
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"${PMDI_JOBS:-2}" --target minionn-launch
bin=build/examples/deployments
run=$(mktemp -d "${TMPDIR:-/tmp}/minionn-demo-XXXXXX")

model=examples/models/minionn_fashion.onnx
images=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
labels=/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
args=(--processes --clusters 2 --compute 1 --images "$n" --dir "$run" --report "$run/report.json")
if [[ -f $model ]] && "$bin/minionn-cloud" --help | grep -q "ONNX weights: yes"; then
  args+=(--model "$model")
  echo "model: $model (trained)"
else
  args+=(--random-weights 1)
  echo "model: random weights (no ONNX loader or no $model)"
fi
if [[ -f $images ]] && command -v python3 >/dev/null; then
  python3 - "$images" "$labels" "$n" "$run/inputs.f32" <<'PY'
import gzip, struct, sys
images, labels, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with gzip.open(images) as f:
    magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
    assert magic == 2051 and count >= n
    data = f.read(n * rows * cols)
with open(out, "wb") as f:
    f.write(struct.pack("<%df" % len(data), *[b / 255.0 for b in data]))
with gzip.open(labels) as f:
    f.read(8)
    print("labels:", " ".join(str(b) for b in f.read(n)))
PY
  args+=(--input "$run/inputs.f32")
  echo "data: Fashion-MNIST test set, first $n images"
else
  args+=(--random-input 1)
  echo "data: random inputs"
fi
"$bin/minionn-launch" "${args[@]}" "$@"
echo "logs, reports, deployment file and keys: $run"
