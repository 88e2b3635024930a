// `pmdi-bench inference --network NAME` for the networks of the papers as
// pmdi declares them (examples/networks/), ring<32, 5>, non-zero random
// fixed-point weights (MiniONN-MNIST: its trained weights when the ONNX
// loader is built). See bench/inference.cpp.
#include <filesystem>
#include <string>

#include "inference.hpp"
#include "networks/alexnet.hpp"
#include "networks/minionn_cifar.hpp"
#include "networks/minionn_mnist.hpp"
#include "networks/resnet32.hpp"
#include "networks/vgg16.hpp"
#include "pmdi/core/ring.hpp"

#if defined(PMDI_HAVE_ONNX) && __has_include("pmdi/io/onnx.hpp")
#include "pmdi/io/onnx.hpp"
#define PMDI_BENCH_ONNX 1
#endif

namespace pmdi::bench {

int run_paper_network(const std::string& name, const inference_options& o, report& r) {
  using ring = ring<32, 5>;
  if (name == "minionn-mnist") {
    using net = networks::minionn_mnist;
    using bounds = nn::bounds<2, 5>;  // the trained weights (docs/models.md)
#ifdef PMDI_BENCH_ONNX
    const std::filesystem::path model = std::filesystem::path(PMDI_SOURCE_DIR) / "examples/models/minionn_fashion.onnx";
    if (std::filesystem::exists(model))
      return measure_inference<net, ring, bounds>("inference.minionn-mnist", io::load_onnx(model, nn::describe<net>()),
                                                  "trained weights", o, r);
#endif
    return measure_random<net, ring, bounds>(name, o, r);
  }
  if (name == "minionn-cifar") return measure_random<networks::minionn_cifar, ring>(name, o, r);
  if (name == "resnet32") return measure_random<networks::resnet32, ring>(name, o, r);
  if (name == "alexnet") return measure_random<networks::alexnet, ring>(name, o, r);
  if (name == "vgg16") return measure_random<networks::vgg16, ring>(name, o, r);
  return not_this_file;
}

}  // namespace pmdi::bench
