// Private inference of MiniONN on Fashion-MNIST with privateMDI: a client, a
// cloud, and 2 clusters of edge servers (T = 1: one compute server, one
// garbler, one evaluator each), every role in this process over in-memory
// pipes. For each test image: offline phase (Paillier, garbling, three-party
// OT), online phase (secret-shared linear layers, garbled ReLUs), then checks
// the result bit for bit against the plaintext fixed-point oracle and against
// the float model.
//
//   example_minionn_demo [N=2] [--ring64] [--bits 2048] [--clusters 2] [--compute 1]
//
// Weights: examples/models/minionn_fashion.onnx when the ONNX loader is built;
// otherwise random weights (accuracy is then meaningless and not printed).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "pmdi/core/ring.hpp"
#include "pmdi/plan/oracle.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/nn/zoo.hpp"
#include "pmdi/plan/lower.hpp"
#include "pmdi/run/local.hpp"
#include "pmdi/run/progress.hpp"

#ifdef PMDI_HAVE_ONNX
#include "pmdi/io/idx.hpp"
#include "pmdi/io/onnx.hpp"
#endif

#ifndef PMDI_SOURCE_DIR
#define PMDI_SOURCE_DIR "."
#endif

namespace {

using net = pmdi::nn::zoo::minionn_mnist;  // same layers as the Fashion-MNIST model
// The trained weights reach |w| = 2.24 and stage inputs 25.9 (docs/models.md).
using model_bounds = pmdi::nn::bounds<2, 5>;

struct options {
  std::size_t n = 2;
  bool ring64 = false;
  unsigned bits = 2048;
  std::size_t clusters = 2, compute = 1;
};

struct data {
  pmdi::nn::model_weights w;
  bool trained = false;
  std::vector<std::vector<double>> images;
  std::vector<int> labels;  // -1: unknown
};

data load(std::size_t n) {
  data d;
#ifdef PMDI_HAVE_ONNX
  const std::filesystem::path model = std::filesystem::path(PMDI_SOURCE_DIR) / "examples/models/minionn_fashion.onnx";
  const std::filesystem::path images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  const std::filesystem::path labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
  if (std::filesystem::exists(model)) {
    d.w = pmdi::io::load_onnx(model, pmdi::nn::describe<net>());
    d.trained = true;
    std::printf("model: %s (trained)\n", model.c_str());
  }
  if (std::filesystem::exists(images) && std::filesystem::exists(labels)) {
    const auto im = pmdi::io::read_idx_images(images);
    const auto lb = pmdi::io::read_idx_labels(labels);
    for (std::size_t i = 0; i < n && i < im.count; ++i) {
      const auto s = im.image(i);
      d.images.emplace_back(s.begin(), s.end());
      d.labels.push_back(lb[i]);
    }
    std::printf("data: Fashion-MNIST test set, first %zu images\n", d.images.size());
  }
#endif
  pmdi::prg g(pmdi::seed{});
  if (!d.trained) {
    d.w = pmdi::nn::random_weights<net>(g);
    std::printf("model: RANDOM weights (the ONNX loader or examples/models/minionn_fashion.onnx is missing)\n");
  }
  while (d.images.size() < n) {
    std::vector<double> x(28 * 28);
    for (auto& v : x) v = static_cast<double>(g.uniform(256)) / 255.0;
    d.images.push_back(std::move(x));
    d.labels.push_back(-1);
  }
  return d;
}

std::size_t argmax(const std::vector<double>& v) {
  return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

void print_links(const char* phase, const std::vector<pmdi::run::link_figures>& before,
                 const std::vector<pmdi::run::link_figures>& after) {
  std::printf("  %s traffic per link (a -> b / b -> a, bytes):\n", phase);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < after.size(); ++i) {
    const auto d = after[i].counters - before[i].counters;
    total += d.bytes_sent + d.bytes_received;
    if (d.bytes_sent + d.bytes_received == 0) continue;
    std::printf("    %-14s <-> %-14s %12llu / %12llu\n", after[i].a.c_str(), after[i].b.c_str(),
                static_cast<unsigned long long>(d.bytes_sent), static_cast<unsigned long long>(d.bytes_received));
  }
  std::printf("    total %.3f MB\n", static_cast<double>(total) / 1e6);
}

template <class Ring>
int run(const options& o) {
  using V = typename Ring::value_type;
  std::printf("ring Z_2^%u, %u fractional bits; Paillier %u bits; P = %zu clusters, T = %zu\n", Ring::bits, Ring::frac,
              o.bits, o.clusters, o.compute);
  const data d = load(o.n);
  const auto stages = pmdi::plan::lower<net, Ring, model_bounds>(d.w);
  pmdi::run::local_options lo;
  lo.topo = {o.clusters, o.compute};
  lo.paillier_bits = o.bits;
  lo.threads = 2;
  lo.stage_log = [](const std::string& s) { std::fprintf(stderr, "  [offline] %s\n", s.c_str()); };
  lo.progress = pmdi::run::stderr_progress();
  pmdi::run::local_deployment<Ring> dep(stages, pmdi::proto::input_size(stages), lo);
  auto t0 = std::chrono::steady_clock::now();
  dep.setup();
  std::printf("setup: %.3f s\n", pmdi::proto::seconds_since(t0));

  std::size_t exact = 0, agree_float = 0, correct = 0, labelled = 0;
  for (std::size_t i = 0; i < d.images.size(); ++i) {
    const std::uint64_t id = i + 1;
    const auto x = pmdi::oracle::encode<Ring>(d.images[i]);
    const auto b0 = dep.links();
    t0 = std::chrono::steady_clock::now();
    dep.offline(id);
    const double off = pmdi::proto::seconds_since(t0);
    const auto b1 = dep.links();
    t0 = std::chrono::steady_clock::now();
    const auto y = dep.online(id, std::span<const V>(x));
    const double on = pmdi::proto::seconds_since(t0);
    const auto b2 = dep.links();

    const auto want = pmdi::oracle::fixed<Ring>(stages, x);
    const bool same = y == want;
    exact += same;
    const auto scores = pmdi::oracle::decode_output<Ring>(stages, y);
    const auto fl = pmdi::oracle::infer_float<net>(d.w, d.images[i]);
    const std::size_t pred = argmax(scores), fpred = argmax(fl);
    agree_float += pred == fpred;
    if (d.labels[i] >= 0) {
      ++labelled;
      correct += static_cast<int>(pred) == d.labels[i];
    }
    std::printf("image %zu: predicted %zu (float model %zu, label %d); oracle %s; offline %.3f s, online %.2f ms "
                "(client-measured %.2f ms)\n",
                i, pred, fpred, d.labels[i], same ? "bit-exact" : "MISMATCH", off, on * 1e3,
                dep.client_report().phase("online").seconds * 1e3);
    if (i + 1 == d.images.size()) {
      print_links("offline", b0, b1);
      print_links("online", b1, b2);
    }
  }
  const double n = static_cast<double>(d.images.size());
  std::printf("agreement with the fixed-point oracle: %zu/%zu (%.1f%%)\n", exact, d.images.size(), 100.0 * exact / n);
  std::printf("agreement with the float model (label): %zu/%zu (%.1f%%)\n", agree_float, d.images.size(),
              100.0 * agree_float / n);
  if (labelled > 0 && d.trained)
    std::printf("accuracy on the labelled images: %zu/%zu (%.1f%%)\n", correct, labelled, 100.0 * correct / labelled);
  std::printf("reports (JSON, last inference):\n");
  for (const auto& r : dep.reports()) std::printf("  %s\n", r.to_json().c_str());
  return exact == d.images.size() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw pmdi::usage_error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--ring64") o.ring64 = true;
      else if (a == "--bits") o.bits = static_cast<unsigned>(std::stoul(next()));
      else if (a == "--clusters") o.clusters = std::stoul(next());
      else if (a == "--compute") o.compute = std::stoul(next());
      else if (!a.empty() && a[0] != '-') o.n = std::stoul(a);
      else throw pmdi::usage_error("unknown argument " + a);
    }
    return o.ring64 ? run<pmdi::ring<64, 13>>(o) : run<pmdi::ring<32, 5>>(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "minionn_demo: %s\n", e.what());
    return 2;
  }
}
