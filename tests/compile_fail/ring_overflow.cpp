// expect: PMDI_E_RING_OVERFLOW
// first error: PMDI_E_RING_OVERFLOW, pmdi::nn::layer_at<4, pmdi::nn::conv2d<16, 5, 1, 0> >, pmdi::plan::stage<1>, pmdi::plan::needs_bits<34>, pmdi::plan::has_bits<32>
// MiniONN-MNIST with 8 fractional bits in a 32-bit ring
#include "pmdi/plan/numerics.hpp"
namespace nn = pmdi::nn;
#include "pmdi/nn/zoo.hpp"
static_assert(pmdi::plan::checked_v<nn::zoo::minionn_mnist, pmdi::ring<32, 8>>);
