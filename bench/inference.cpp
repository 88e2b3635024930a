// pmdi-bench inference [--quick] [--json] [--ring64] [--bits B] [--clusters P] [--compute T] [--reps N] [--stages]
// (--stages: the cloud's per-stage offline breakdown on stderr)
// Private inference of MiniONN (nn::zoo::minionn_mnist; the trained
// Fashion-MNIST weights when the ONNX loader is built, random weights
// otherwise), every role in this process over in-memory pipes, 2 Paillier
// threads. Prints medians over N inferences: offline and online seconds,
// bytes of each phase (all links, both directions counted once), online
// rounds, the plaintext fixed-point inference time of the same network, and
// the online time per inference when N inferences stream through the
// cluster pipeline at once.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/nn/oracle.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/nn/zoo.hpp"
#include "pmdi/plan/lower.hpp"
#include "pmdi/run/from_plan.hpp"
#include "pmdi/run/local.hpp"

#if defined(PMDI_HAVE_ONNX) && __has_include("pmdi/io/onnx.hpp")
#include "pmdi/io/onnx.hpp"
#define PMDI_BENCH_ONNX 1
#endif

namespace {

using net = pmdi::nn::zoo::minionn_mnist;
// The trained weights reach |w| = 2.24 and stage inputs 25.9 (docs/models.md).
using model_bounds = pmdi::nn::bounds<2, 5>;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::uint64_t traffic(const std::vector<pmdi::run::link_figures>& a, const std::vector<pmdi::run::link_figures>& b) {
  std::uint64_t t = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    const auto d = b[i].counters - a[i].counters;
    t += d.bytes_sent + d.bytes_received;
  }
  return t;
}

template <class Ring>
int run_ring(const pmdi::bench::args& a, pmdi::bench::report& r, unsigned bits, std::size_t P, std::size_t T, int reps,
             bool show_stages) {
  using V = typename Ring::value_type;
  pmdi::prg g(pmdi::seed{});
  pmdi::nn::model_weights w;
  bool trained = false;
#ifdef PMDI_BENCH_ONNX
  const std::filesystem::path model = std::filesystem::path(PMDI_SOURCE_DIR) / "examples/models/minionn_fashion.onnx";
  if (std::filesystem::exists(model)) {
    w = pmdi::io::load_onnx(model, pmdi::nn::describe<net>());
    trained = true;
  }
#endif
  if (!trained) w = pmdi::nn::random_weights<net>(g);
  r.note(std::string("MiniONN, ") + (trained ? "trained weights" : "random weights") + ", ring Z_2^" +
         std::to_string(Ring::bits) + " f=" + std::to_string(Ring::frac) + ", Paillier " + std::to_string(bits) +
         " bits, P=" + std::to_string(P) + " T=" + std::to_string(T) + ", " + std::to_string(reps) + " inferences");
  const auto stages = pmdi::plan::lower<net, Ring, model_bounds>(w);
  pmdi::run::local_options lo;
  lo.topo = {P, T};
  lo.paillier_bits = bits;
  lo.threads = 2;
  if (show_stages) lo.progress = [](const std::string& m) { std::fprintf(stderr, "  [offline] %s\n", m.c_str()); };
  pmdi::run::local_deployment<Ring> d(pmdi::run::to_protocol(stages), pmdi::run::input_size(stages), lo);
  auto t0 = std::chrono::steady_clock::now();
  d.setup();
  const double setup_s = pmdi::proto::seconds_since(t0);
  std::vector<double> off, on, on_client, off_b, on_b;
  std::vector<V> x(pmdi::run::input_size(stages));
  for (int i = 0; i < reps; ++i) {
    for (auto& v : x) v = Ring::encode(static_cast<double>(g.uniform(256)) / 255.0);
    const auto l0 = d.links();
    t0 = std::chrono::steady_clock::now();
    d.offline(static_cast<std::uint64_t>(i + 1));
    off.push_back(pmdi::proto::seconds_since(t0));
    const auto l1 = d.links();
    t0 = std::chrono::steady_clock::now();
    const auto y = d.online(static_cast<std::uint64_t>(i + 1), x);
    on.push_back(pmdi::proto::seconds_since(t0));
    on_client.push_back(d.client_report().online.seconds);
    const auto l2 = d.links();
    off_b.push_back(static_cast<double>(traffic(l0, l1)));
    on_b.push_back(static_cast<double>(traffic(l1, l2)));
    if (y != pmdi::oracle::fixed<Ring>(stages, x)) {
      std::fprintf(stderr, "inference: output differs from the fixed-point oracle\n");
      return 1;
    }
  }
  // The same number of inferences streamed through the cluster pipeline.
  std::vector<std::uint64_t> ids;
  std::vector<std::vector<V>> xs;
  for (int i = 0; i < reps; ++i) {
    ids.push_back(static_cast<std::uint64_t>(reps + i + 1));
    d.offline(ids.back());
    xs.push_back(x);
  }
  t0 = std::chrono::steady_clock::now();
  (void)d.online_stream(ids, xs);
  const double stream_s = pmdi::proto::seconds_since(t0) / reps;
  const double plain = pmdi::bench::median_seconds(a.quick ? 3 : 11, [&] {
    auto y = pmdi::oracle::fixed<Ring>(stages, x);
    pmdi::bench::keep(y);
  });
  pmdi::proto::network_plan plan = pmdi::proto::public_plan(pmdi::run::to_protocol(stages), x.size());
  r.metric("inference", "setup_s", setup_s, "s");
  r.metric("inference", "offline_s", median(off), "s");
  r.metric("inference", "online_s", median(on), "s");
  r.metric("inference", "online_client_s", median(on_client), "s");
  r.metric("inference", "online_stream_s_per_inference", stream_s, "s");
  r.metric("inference", "offline_bytes", median(off_b), "B");
  r.metric("inference", "online_bytes", median(on_b), "B");
  r.metric("inference", "rounds", static_cast<double>(pmdi::proto::online_rounds(plan, lo.topo)), "messages");
  r.metric("inference", "plain_fixed_ms", plain * 1e3, "ms");
  return 0;
}

int run(const pmdi::bench::args& a, pmdi::bench::report& r) {
  bool ring64 = false;
  unsigned bits = 2048;
  std::size_t P = 2, T = 1;
  int reps = a.quick ? 1 : 3;
  bool stages = false;
  for (std::size_t i = 0; i < a.rest.size(); ++i) {
    const auto& s = a.rest[i];
    auto next = [&] {
      if (i + 1 >= a.rest.size()) throw pmdi::usage_error(s + " needs a value");
      return a.rest[++i];
    };
    if (s == "--ring64") ring64 = true;
    else if (s == "--bits") bits = static_cast<unsigned>(std::stoul(next()));
    else if (s == "--clusters") P = std::stoul(next());
    else if (s == "--compute") T = std::stoul(next());
    else if (s == "--reps") reps = std::stoi(next());
    else if (s == "--stages") stages = true;
    else throw pmdi::usage_error("inference: unknown argument " + s);
  }
  return ring64 ? run_ring<pmdi::ring<64, 13>>(a, r, bits, P, T, reps, stages)
                : run_ring<pmdi::ring<32, 5>>(a, r, bits, P, T, reps, stages);
}

const pmdi::bench::registrar reg("inference", "private MiniONN inference, all roles local: time, traffic, rounds", run);

}  // namespace
