// expect: PMDI_E_PAILLIER_CAPACITY
// a 64-bit modulus cannot hold a 64-bit ring element plus the mask
#include "pmdi/plan/numerics.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<4, 1, 1>, nn::dense<4>, nn::relu>;
static_assert(pmdi::plan::checked_v<net, pmdi::ring<64, 8>, nn::bounds<1, 4, 64>>);
