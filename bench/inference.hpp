#pragma once
// One private inference benchmark for any network type: every role in this
// process over in-memory links (run::local_deployment), P clusters of T
// compute servers, 2048-bit Paillier by default. Shared by the MiniONN
// default of `pmdi-bench inference` and its `--network NAME` runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "bench.hpp"
#include "pmdi/plan/oracle.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/plan/costs.hpp"
#include "pmdi/plan/lower.hpp"
#include "pmdi/run/local.hpp"
#include "pmdi/run/progress.hpp"

namespace pmdi::bench {

struct inference_options {
  unsigned paillier_bits = 2048;
  std::size_t clusters = 2, compute = 1;
  int reps = 3;
  bool show_stages = false;  // the cloud's per-stage offline times on stderr
  bool progress = false;     // the parties' progress on stderr (long offline phases)
  bool stream = false;       // also stream `reps` inferences through the pipeline
  std::size_t pool = 0;      // also prepare a batch of `pool` inferences' offline material at once
};

// CPU seconds this process has used (every thread).
[[nodiscard]] inline double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

[[nodiscard]] inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Bytes both ways between two snapshots of the links, on every link or on
// those with `party` at one end.
[[nodiscard]] inline std::uint64_t traffic(const std::vector<run::link_figures>& a, const std::vector<run::link_figures>& b,
                                           const std::string& party = "") {
  std::uint64_t t = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (!party.empty() && b[i].a != party && b[i].b != party) continue;
    const auto d = b[i].counters - a[i].counters;
    t += d.bytes_sent + d.bytes_received;
  }
  return t;
}

// Parameters of the conv2d and dense layers (weights and biases; batch-norm
// folds into them).
template <class Net>
[[nodiscard]] std::size_t parameter_count() {
  std::size_t n = 0;
  for (const auto& li : nn::describe<Net>())
    if (li.kind == nn::layer_kind::conv2d || li.kind == nn::layer_kind::dense) n += li.weight_count() + li.bias_count();
  return n;
}

// Runs o.reps private inferences of Net with weights w and reports, under
// bench name `bench`: offline_s, online_s, online_client_s, where the online
// time went (online_linear_s, online_gc_s, online_labels_s: every party's
// work of that kind, summed; online_other_s: the rest, moving bytes between
// the parties and waiting), offline_bytes,
// client_offline_bytes, online_bytes, rounds, plain_fixed_ms,
// paillier_products_per_mac (the cloud's exponentiation steps over the MACs),
// offline_cores_busy (process CPU seconds over wall seconds, offline),
// peak_rss_bytes, macs, parameters, stored_weights, oracle_match (and
// online_stream_s_per_inference with o.stream, offline_batch_s_per_inference
// with o.pool). Returns 0 when every output equals the fixed-point oracle.
template <class Net, class Ring, class Bounds>
int measure_inference(const std::string& bench, const nn::model_weights& w, const std::string& weights_note,
                      const inference_options& o, report& r) {
  using V = typename Ring::value_type;
  prg g(seed{});
  r.note(bench + ": " + weights_note + ", ring Z_2^" + std::to_string(Ring::bits) + " f=" + std::to_string(Ring::frac) +
         ", Paillier " + std::to_string(o.paillier_bits) + " bits, P=" + std::to_string(o.clusters) +
         " T=" + std::to_string(o.compute) + ", " + std::to_string(o.reps) + " inference(s), every role in this process");
  const auto stages = plan::lower<Net, Ring, Bounds>(w);
  std::size_t stored = 0;
  for (const auto& s : stages) stored += s.weights.size() + s.bias.size();
  run::local_options lo;
  lo.topo = {o.clusters, o.compute};
  lo.paillier_bits = o.paillier_bits;
  lo.threads = 2;
  if (o.show_stages) lo.stage_log = [](const std::string& m) { std::fprintf(stderr, "  [offline] %s\n", m.c_str()); };
  if (o.progress) lo.progress = run::stderr_progress();
  run::local_deployment<Ring> d(stages, proto::input_size(stages), lo);
  auto t0 = std::chrono::steady_clock::now();
  d.setup();
  const double setup_s = proto::seconds_since(t0);
  std::vector<double> off, on, on_client, off_b, on_b, client_b, busy, products;
  std::map<std::string, std::vector<double>> on_work;  // every party's online work by kind, summed
  const auto online_work = [&] {
    std::map<std::string, double> w;
    for (const auto& rep : d.reports())
      for (const auto& [kind, s] : rep.phase("online").work) w[kind] += s;
    return w;
  };
  const auto cloud_products = [&] {
    for (const auto& rep : d.reports())
      if (rep.party == "cloud") return static_cast<double>(rep.paillier_products);
    return 0.0;
  };
  std::vector<V> x(proto::input_size(stages));
  bool match = true;
  for (int i = 0; i < o.reps; ++i) {
    for (auto& v : x) v = Ring::encode(static_cast<double>(g.uniform(256)) / 255.0);
    const auto l0 = d.links();
    t0 = std::chrono::steady_clock::now();
    const double cpu0 = process_cpu_seconds();
    d.offline(static_cast<std::uint64_t>(i + 1));
    off.push_back(proto::seconds_since(t0));
    busy.push_back((process_cpu_seconds() - cpu0) / off.back());
    products.push_back(cloud_products());
    const auto l1 = d.links();
    client_b.push_back(static_cast<double>(traffic(l0, l1, "client")));
    t0 = std::chrono::steady_clock::now();
    const auto y = d.online(static_cast<std::uint64_t>(i + 1), x);
    on.push_back(proto::seconds_since(t0));
    on_client.push_back(d.client_report().phase("online").seconds);
    double worked = 0;
    const auto w = online_work();
    for (const char* kind : {proto::work_linear, proto::work_gc, proto::work_labels}) {
      const auto it = w.find(kind);
      on_work[kind].push_back(it == w.end() ? 0.0 : it->second);
      worked += on_work[kind].back();
    }
    on_work["other"].push_back(on.back() - worked);
    const auto l2 = d.links();
    off_b.push_back(static_cast<double>(traffic(l0, l1)));
    on_b.push_back(static_cast<double>(traffic(l1, l2)));
    if (y != oracle::fixed<Ring>(stages, x)) {
      std::fprintf(stderr, "%s: inference %d: output differs from the fixed-point oracle\n", bench.c_str(), i + 1);
      match = false;
    }
  }
  std::uint64_t next_id = static_cast<std::uint64_t>(o.reps) + 1;
  double batch_s = 0, batch_busy = 0;
  if (o.pool > 0) {  // K inferences' offline material at once, then their online phases
    std::vector<std::uint64_t> ids;
    for (std::size_t i = 0; i < o.pool; ++i) ids.push_back(next_id++);
    t0 = std::chrono::steady_clock::now();
    const double cpu0 = process_cpu_seconds();
    d.offline_batch(ids);
    batch_s = proto::seconds_since(t0);
    batch_busy = (process_cpu_seconds() - cpu0) / batch_s;
    batch_s /= static_cast<double>(o.pool);
    for (auto id : ids) match = match && d.online(id, x) == oracle::fixed<Ring>(stages, x);
  }
  double stream_s = 0;
  if (o.stream) {
    std::vector<std::uint64_t> ids;
    std::vector<std::vector<V>> xs;
    for (int i = 0; i < o.reps; ++i) {
      ids.push_back(next_id++);
      d.offline(ids.back());
      xs.push_back(x);
    }
    t0 = std::chrono::steady_clock::now();
    const auto ys = d.online_stream(ids, xs);
    stream_s = proto::seconds_since(t0) / o.reps;
    for (const auto& y : ys) match = match && y == oracle::fixed<Ring>(stages, x);
  }
  const double plain = median_seconds(o.reps >= 3 ? 11 : 3, [&] {
    auto y = oracle::fixed<Ring>(stages, x);
    keep(y);
  });
  const proto::network_plan plan = proto::public_plan(stages, x.size());
  r.metric(bench, "setup_s", setup_s, "s");
  r.metric(bench, "offline_s", median(off), "s");
  r.metric(bench, "online_s", median(on), "s");
  r.metric(bench, "online_client_s", median(on_client), "s");
  for (const auto& [kind, w] : on_work) r.metric(bench, "online_" + kind + "_s", median(w), "s");
  if (o.stream) r.metric(bench, "online_stream_s_per_inference", stream_s, "s");
  r.metric(bench, "offline_bytes", median(off_b), "B");
  r.metric(bench, "client_offline_bytes", median(client_b), "B");
  r.metric(bench, "offline_cores_busy", median(busy), "cores");
  r.metric(bench, "paillier_products_per_mac", median(products) / static_cast<double>(plan::macs_v<Net>), "");
  if (o.pool > 0) {
    r.metric(bench, "offline_batch_s_per_inference", batch_s, "s");
    r.metric(bench, "offline_batch_cores_busy", batch_busy, "cores");
  }
  r.metric(bench, "online_bytes", median(on_b), "B");
  r.metric(bench, "rounds", static_cast<double>(proto::online_rounds(plan, lo.topo)), "messages");
  r.metric(bench, "plain_fixed_ms", plain * 1e3, "ms");
  r.metric(bench, "peak_rss_bytes", static_cast<double>(proto::peak_rss_bytes()), "B");
  r.metric(bench, "macs", static_cast<double>(plan::macs_v<Net>), "MAC");
  r.metric(bench, "parameters", static_cast<double>(parameter_count<Net>()), "entries");
  r.metric(bench, "stored_weights", static_cast<double>(stored), "entries");
  r.metric(bench, "oracle_match", match ? 1.0 : 0.0, "");
  return match ? 0 : 1;
}

// Non-zero random fixed-point weights (nn::random_fixed_weights), bench name
// "inference.NAME".
template <class Net, class Ring, class Bounds = nn::default_bounds>
int measure_random(const std::string& name, const inference_options& o, report& r) {
  prg g(seed{});
  const auto w = nn::random_fixed_weights<Net>(g, Ring::frac);
  return measure_inference<Net, Ring, Bounds>("inference." + name, w, "non-zero random fixed-point weights", o, r);
}

// --network NAME, ring<32, 5>: one file per group of networks (compile time);
// each returns not_this_file for a name it does not have.
inline constexpr int not_this_file = -1;
int run_paper_network(const std::string& name, const inference_options& o, report& r);   // inference_paper.cpp
int run_falcon_network(const std::string& name, const inference_options& o, report& r);  // inference_falcon.cpp

}  // namespace pmdi::bench
