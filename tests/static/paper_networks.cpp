// The paper networks: counts, stage splits (with the Hana cross-check) and
// ring fits, at compile time.
#include "../../examples/networks/minionn_cifar.hpp"
#include "../../examples/networks/resnet32.hpp"
#include "pmdi/plan/costs.hpp"

namespace {
namespace plan = pmdi::plan;
using pmdi::shape3;

static_assert(plan::macs_v<networks::minionn_cifar> == 61089792);
static_assert(plan::relus_v<networks::minionn_cifar> == 173056);
static_assert(plan::split<networks::minionn_cifar>::count == 8);
static_assert(plan::hana_run_count_v<networks::minionn_cifar> == 15);
static_assert(plan::checked_v<networks::minionn_cifar, pmdi::ring<64, 13>>);

using r32 = networks::resnet32;
static_assert(pmdi::nn::traits<r32>::output_shape == shape3{100, 1, 1});
static_assert(plan::macs_v<r32> == 69130496);  // 68,868,352 in 3x3 convs and the dense layer + 2 projections
static_assert(plan::relus_v<r32> == 303104);
static_assert(plan::split<r32>::count == 32);
static_assert(plan::hana_run_count_v<r32> == 63);  // 31 stages with a relu + the final linear one
static_assert(plan::checked_v<r32, pmdi::ring<64, 13>>);
// the first downsampling block: stage 12 reads its input (tensor 12) and the block input (tensor 11)
static_assert(plan::split<r32>::stages[12].skip_count == 1 && plan::split<r32>::stages[12].skips[0] == 11);
static_assert(plan::split<r32>::stages[12].linear_shape == shape3{32, 16, 16});
static_assert(plan::numerics<r32, pmdi::ring<64, 13>>::stages[12].scale_bits == 26);
}  // namespace
