// expect: PMDI_E_COEFF_OVERFLOW
// first error: PMDI_E_COEFF_OVERFLOW, pmdi::nn::layer_at<2, pmdi::nn::dense<1> >, pmdi::plan::stage<0>, pmdi::plan::needs_bits<64>, pmdi::plan::has_bits<63>
// integer weights (f = 0) and a dense layer of fan-in 2^62: the row sums of
// its coefficients may outgrow the signed 64-bit exponents of the Paillier
// products while its outputs still fit the ring's 63 magnitude bits.
#include "pmdi/plan/numerics.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, std::size_t{1} << 31, std::size_t{1} << 31>, nn::flatten, nn::dense<1>, nn::relu>;
static_assert(pmdi::plan::checked_v<net, pmdi::ring<64, 0>, nn::bounds<0, 0>>);
