// The networks of the papers as types: prints each one's stages, MACs, ReLUs
// and cost estimates, and checks the counts against the published ones
// (exits non-zero on a mismatch).
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "networks/alexnet.hpp"
#include "networks/alexnet_falcon.hpp"
#include "networks/minionn_cifar.hpp"
#include "networks/minionn_mnist.hpp"
#include "networks/minionn_mnist_falcon.hpp"
#include "networks/resnet32.hpp"
#include "networks/vgg16.hpp"
#include "networks/vgg16_falcon.hpp"
#include "pmdi/plan/costs.hpp"

namespace {
using ring = pmdi::ring<64, 13>;
int failures = 0;

//! [report]
template <class Net>
void report(const char* name, double want_macs, double want_relus, double tolerance) {
  static_assert(pmdi::plan::checked_v<Net, ring>);  // shapes, scales and bit growth fit ring<64, 13>
  using costs = pmdi::plan::costs<Net, ring>;
  constexpr auto total = costs::total;
  std::printf("%-14s layers %4zu  stages %3zu  MACs %13llu  ReLUs %9llu  ANDs %13llu  online %8.1f MB  offline %9.1f MB\n",
              name, pmdi::nn::traits<Net>::layer_count, pmdi::plan::split<Net>::count,
              static_cast<unsigned long long>(total.macs), static_cast<unsigned long long>(total.relus),
              static_cast<unsigned long long>(total.and_gates), total.online_bytes / 1e6, total.offline_bytes / 1e6);
  auto check = [&](const char* what, double got, double want) {
    if (want <= 0) return;
    if (std::fabs(got - want) > tolerance * want) {
      std::printf("  MISMATCH: %s %s = %.0f, published %.0f\n", name, what, got, want);
      ++failures;
    }
  };
  check("MACs", static_cast<double>(total.macs), want_macs);
  check("ReLUs", static_cast<double>(total.relus), want_relus);
}
//! [report]
}  // namespace

int main() {
  report<networks::minionn_mnist>("MiniONN-MNIST", 0.67e6, 0, 0.03);
  if (pmdi::plan::relus_v<networks::minionn_mnist> != 10340) {
    std::printf("  MISMATCH: MiniONN-MNIST ReLUs must be exactly 10,340\n");
    ++failures;
  }
  report<networks::minionn_cifar>("MiniONN-CIFAR", 61e6, 173e3, 0.03);
  report<networks::resnet32>("ResNet-32", 69e6, 303e3, 0.03);
  report<networks::alexnet>("AlexNet-TI", 0, 0, 0);
  report<networks::vgg16>("VGG16-TI", 0, 0, 0);
  // As Falcon runs them (the networks pmdi is compared with): MiniONN-MNIST
  // has the same MACs and ReLUs before pooling; AlexNet about 0.70 G MACs.
  report<networks::minionn_mnist_falcon>("MiniONN-Falcon", 0.67e6, 0, 0.03);
  report<networks::alexnet_falcon>("AlexNet-Falcon", 0.70e9, 0, 0.03);
  report<networks::vgg16_falcon>("VGG16-Falcon", 0, 0, 0);
  if (failures != 0) {
    std::printf("%d count(s) differ from the published ones\n", failures);
    return EXIT_FAILURE;
  }
  std::printf("all published counts match\n");
  return EXIT_SUCCESS;
}
