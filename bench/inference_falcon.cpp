// `pmdi-bench inference --network NAME` for the networks as Falcon runs them
// (the ones compared with Falcon), ring<32, 5>, non-zero random fixed-point
// weights. See bench/inference.cpp.
#include <string>

#include "inference.hpp"
#include "networks/alexnet_falcon.hpp"
#include "networks/minionn_mnist_falcon.hpp"
#include "networks/vgg16_falcon.hpp"
#include "pmdi/core/ring.hpp"

namespace pmdi::bench {

int run_falcon_network(const std::string& name, const inference_options& o, report& r) {
  using ring = ring<32, 5>;
  if (name == "minionn-mnist-falcon") return measure_random<networks::minionn_mnist_falcon, ring>(name, o, r);
  if (name == "alexnet-falcon") return measure_random<networks::alexnet_falcon, ring>(name, o, r);
  if (name == "vgg16-falcon") return measure_random<networks::vgg16_falcon, ring>(name, o, r);
  return not_this_file;
}

}  // namespace pmdi::bench
