// expect: PMDI_E_PAILLIER_CAPACITY
// first error: PMDI_E_PAILLIER_CAPACITY, pmdi::nn::layer_at<1, pmdi::nn::dense<4> >, pmdi::plan::stage<0>, pmdi::plan::needs_bits<117>, pmdi::plan::has_bits<63>
// a 64-bit modulus cannot hold a 64-bit ring element plus the mask
#include "pmdi/plan/numerics.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<4, 1, 1>, nn::dense<4>, nn::relu>;
static_assert(pmdi::plan::checked_v<net, pmdi::ring<64, 8>, nn::bounds<1, 4, 64>>);
