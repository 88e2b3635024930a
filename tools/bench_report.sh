#!/usr/bin/env bash
# Runs every pmdi-bench subcommand with --json and keeps the JSON lines in
# docs/bench/<subcommand>.jsonl, then draws docs/img/*.png (tools/plot_bench.py).
#   tools/bench_report.sh [subcommand ...]     default: all of them
#   tools/bench_report.sh networks             every network of examples/networks/ through
#                                              `pmdi-bench inference --network NAME` (long: the
#                                              VGG16s take minutes each), into docs/bench/networks.jsonl
#   tools/bench_report.sh pipeline             MiniONN streamed through P = 1..4 clusters and ResNet-32
#                                              through P = 1, 2, 4, 8 under CPU quotas
#                                              (tools/pipeline_bench.py, root; about an hour), into
#                                              docs/bench/pipeline.jsonl
#   tools/bench_report.sh soak                 1,000 MiniONN inferences through one deployment of
#                                              separate processes (about 10 minutes), into
#                                              docs/bench/soak.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
bench=build/bench/pmdi-bench
[[ -x $bench ]] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null; cmake --build build -j2 --target pmdi-bench; }
subs=("$@")
((${#subs[@]})) || subs=(prg gc paillier plain net inference accuracy)
mkdir -p docs/bench
networks=(minionn-mnist minionn-cifar resnet32 alexnet alexnet-falcon vgg16 vgg16-falcon)
for s in "${subs[@]}"; do
  if [[ $s == pipeline ]]; then
    : >docs/bench/pipeline.jsonl
    /usr/bin/python3 tools/pipeline_bench.py --out docs/bench/pipeline.jsonl
    # 8 images: the evaluator holds about 1.1 GB of garbled tables per ResNet-32 inference in flight
    /usr/bin/python3 tools/pipeline_bench.py --network resnet32 --clusters 1,2,4,8 --images 8 --latency-images 2 \
      --settings homogeneous --out docs/bench/pipeline.jsonl
    continue
  fi
  if [[ $s == networks ]]; then
    : >docs/bench/networks.jsonl
    for n in "${networks[@]}"; do
      echo "== pmdi-bench inference --network $n" >&2
      "$bench" inference --network "$n" --json | tee -a docs/bench/networks.jsonl
    done
    continue
  fi
  echo "== pmdi-bench $s" >&2
  "$bench" "$s" --json | tee "docs/bench/$s.jsonl"
done
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  /usr/bin/python3 tools/plot_bench.py docs/bench docs/img
else
  echo "bench_report: python3-matplotlib missing (tools/install-deps.sh --tools); no plots" >&2
fi
