// expect: PMDI_E_RING_OVERFLOW
// MiniONN-MNIST with 8 fractional bits in a 32-bit ring
#include "pmdi/plan/numerics.hpp"
namespace nn = pmdi::nn;
#include "pmdi/nn/zoo.hpp"
static_assert(pmdi::plan::checked_v<nn::zoo::minionn_mnist, pmdi::ring<32, 8>>);
