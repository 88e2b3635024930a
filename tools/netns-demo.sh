#!/usr/bin/env bash
# MiniONN as if on two hosts: the user side (client, cloud) and the edge (the
# 2 clusters, T = 1) in two network namespaces joined by a veth pair whose
# ends are limited by a token bucket (tc tbf). Every party is its own process,
# started with `ip netns exec`; the table comes from their reports
# (minionn-launch --table). Needs root. See docs/deployment.md.
#
#   tools/netns-demo.sh [RATE, default 100mbit] [N images, default 1]
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-100mbit}
n=${2:-1}
if [[ $(id -u) != 0 ]] || ! ip netns list >/dev/null 2>&1; then
  echo "netns-demo: needs root and 'ip netns' (network namespaces); nothing done" >&2
  exit 2
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"${PMDI_JOBS:-2}" --target minionn-launch pmdi-keygen >/dev/null
bin=build/examples/deployments
run=$(mktemp -d "${TMPDIR:-/tmp}/minionn-netns-XXXXXX")
user_ip=10.231.78.1 edge_ip=10.231.78.2
build/tools/pmdi-keygen --clusters 2 --compute 1 --dir "$run" --base-port 7100 --ring 32/5 >/dev/null  # the minionn binaries' ring
python3 - "$run/deployment.json" "$user_ip" "$edge_ip" <<'PY'
import json, sys
path, user, edge = sys.argv[1:4]
d = json.load(open(path))
for p in d["parties"]:
    p["host"] = user if p["role"] in ("client", "cloud") else edge
json.dump(d, open(path, "w"), indent=1)
PY

u=pmdi-demo-user e=pmdi-demo-edge
cleanup() { ip netns del $u 2>/dev/null || true; ip netns del $e 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $u
ip netns add $e
ip link add pmdi-demo-u type veth peer name pmdi-demo-e
ip link set pmdi-demo-u netns $u
ip link set pmdi-demo-e netns $e
ip -n $u addr add $user_ip/24 dev pmdi-demo-u
ip -n $e addr add $edge_ip/24 dev pmdi-demo-e
for ns in $u $e; do ip -n $ns link set lo up; done
ip -n $u link set pmdi-demo-u up
ip -n $e link set pmdi-demo-e up
ip netns exec $u tc qdisc add dev pmdi-demo-u root tbf rate "$rate" burst 64kb latency 400ms
ip netns exec $e tc qdisc add dev pmdi-demo-e root tbf rate "$rate" burst 64kb latency 400ms

model=examples/models/minionn_fashion.onnx
weights=(--random-weights 1)
[[ -f $model ]] && "$bin/minionn-cloud" --help | grep -q "ONNX weights: yes" && weights=(--model "$model")
pids=()
for role in client cloud garbler/0 evaluator/0 compute/0/0 garbler/1 evaluator/1 compute/1/0; do
  kind=${role%%/*}
  f=${role//\//-}
  ns=$e
  extra=()
  if [[ $kind == client ]]; then ns=$u; extra=(--random-input 1 --output "$run/outputs.txt"); fi
  if [[ $kind == cloud ]]; then ns=$u; extra=("${weights[@]}"); fi
  ip netns exec $ns "$bin/minionn-$kind" --deployment "$run/deployment.json" --party "$role" --key "$run/$f.key" \
    --images "$n" --report "$run/$f.report.json" --quiet "${extra[@]}" >"$run/$f.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
grep -h "^image" "$run/client.log" || true
echo
echo "minionn, user side and edge linked at $rate each way, $n image(s)"
echo
"$bin/minionn-launch" --table "$run"/client.report.json "$run"/cloud.report.json "$run"/garbler-0.report.json \
  "$run"/evaluator-0.report.json "$run"/compute-0-0.report.json "$run"/garbler-1.report.json \
  "$run"/evaluator-1.report.json "$run"/compute-1-0.report.json || status=1
echo "logs, reports, deployment file and keys: $run"
exit $status
