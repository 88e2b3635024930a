// expect: PMDI_E_COEFF_OVERFLOW
// nine dense layers composed in one linear run with integer weights (f = 0): the
// composed entries outgrow int64 before the outputs outgrow the ring's sign bit.
#include "pmdi/plan/numerics.hpp"
namespace nn = pmdi::nn;
using d = nn::dense<64>;
using net = nn::sequential<nn::input<64, 1, 1>, d, d, d, d, d, d, d, d, d, nn::relu>;
static_assert(pmdi::plan::checked_v<net, pmdi::ring<64, 0>, nn::bounds<0, 0>>);
