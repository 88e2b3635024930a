// expect: PMDI_E_NOT_A_LAYER
// first error: PMDI_E_NOT_A_LAYER, pmdi::nn::layer_at<2, pmdi::nn::residual_add>
// residual_add written by hand outside nn::residual<...>
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 8, 8>, nn::relu, nn::residual_add, nn::relu>;
static_assert(nn::valid_v<net>);
