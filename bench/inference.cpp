// pmdi-bench inference [--network NAME] [--quick] [--json] [--ring64] [--bits B]
//                      [--clusters P] [--compute T] [--reps N] [--stages] [--pool K] [--progress]
// Private inference, every role in this process over in-memory links, 2
// Paillier threads (bench/inference.hpp). Prints medians over N inferences:
// offline and online seconds, bytes of each phase (all links, both
// directions counted once), online rounds, the plaintext fixed-point time of
// the same network, peak RSS, MACs, parameters and stored weights, and
// whether every output equals the fixed-point oracle; the client's offline
// bytes, the cloud's Paillier exponentiation steps per MAC and the cores the
// offline phase kept busy (CPU seconds over wall seconds).
// --progress: the parties' done/total and ETA while the offline phase runs.
// --pool K: also K inferences' offline phases as one batch (every party
// works through them in order, so consecutive inferences overlap): seconds
// per inference of the batch.
//
// Without --network: MiniONN (nn::zoo::minionn_mnist; the trained
// Fashion-MNIST weights when the ONNX loader is built), bench name
// "inference", plus the online time per inference when N inferences stream
// through the cluster pipeline. --network NAME (bench "inference.NAME"):
// minionn-mnist, minionn-cifar, resnet32, alexnet, vgg16, minionn-mnist-falcon,
// alexnet-falcon, vgg16-falcon, ring<32, 5>, with non-zero random fixed-point
// weights (nn::random_fixed_weights) except minionn-mnist, trained when
// available; one inference unless --reps says otherwise (MiniONN: 3).
// --stages: the cloud's per-stage offline breakdown on stderr.
#include <filesystem>
#include <string>

#include "inference.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/nn/zoo.hpp"

#if defined(PMDI_HAVE_ONNX) && __has_include("pmdi/io/onnx.hpp")
#include "pmdi/io/onnx.hpp"
#define PMDI_BENCH_ONNX 1
#endif

namespace {

using net = pmdi::nn::zoo::minionn_mnist;
// The trained weights reach |w| = 2.24 and stage inputs 25.9 (docs/models.md).
using model_bounds = pmdi::nn::bounds<2, 5>;

template <class Ring>
int run_minionn(const pmdi::bench::inference_options& o, pmdi::bench::report& r) {
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
  if (!trained) w = pmdi::nn::random_fixed_weights<net>(g, Ring::frac);
  return pmdi::bench::measure_inference<net, Ring, model_bounds>(
      "inference", w, trained ? "MiniONN, trained weights" : "MiniONN, non-zero random fixed-point weights", o, r);
}

int run(const pmdi::bench::args& a, pmdi::bench::report& r) {
  bool ring64 = false;
  std::string network;
  pmdi::bench::inference_options o;
  o.reps = a.quick ? 1 : 3;
  bool reps_given = false;
  for (std::size_t i = 0; i < a.rest.size(); ++i) {
    const auto& s = a.rest[i];
    auto next = [&] {
      if (i + 1 >= a.rest.size()) throw pmdi::usage_error(s + " needs a value");
      return a.rest[++i];
    };
    if (s == "--ring64") ring64 = true;
    else if (s == "--network") network = next();
    else if (s == "--bits") o.paillier_bits = static_cast<unsigned>(std::stoul(next()));
    else if (s == "--clusters") o.clusters = std::stoul(next());
    else if (s == "--compute") o.compute = std::stoul(next());
    else if (s == "--reps") o.reps = std::stoi(next()), reps_given = true;
    else if (s == "--stages") o.show_stages = true;
    else if (s == "--pool") o.pool = std::stoul(next());
    else if (s == "--progress") o.progress = true;
    else throw pmdi::usage_error("inference: unknown argument " + s);
  }
  if (o.reps < 1) throw pmdi::usage_error("inference: --reps must be at least 1");
  if (!network.empty()) {
    if (ring64) throw pmdi::usage_error("inference: --network runs ring<32, 5>; --ring64 is for the MiniONN default");
    if (!reps_given && network != "minionn-mnist" && network != "minionn-mnist-falcon") o.reps = 1;
    int rc = pmdi::bench::run_paper_network(network, o, r);
    if (rc == pmdi::bench::not_this_file) rc = pmdi::bench::run_falcon_network(network, o, r);
    if (rc == pmdi::bench::not_this_file)
      throw pmdi::usage_error("inference: unknown network '" + network +
                              "'; one of minionn-mnist, minionn-cifar, resnet32, alexnet, vgg16, "
                              "minionn-mnist-falcon, alexnet-falcon, vgg16-falcon");
    return rc;
  }
  o.stream = true;
  return ring64 ? run_minionn<pmdi::ring<64, 13>>(o, r) : run_minionn<pmdi::ring<32, 5>>(o, r);
}

const pmdi::bench::registrar reg("inference", "private inference of a network, all roles local: time, traffic, memory", run);

}  // namespace
