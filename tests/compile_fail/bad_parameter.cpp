// expect: PMDI_E_BAD_PARAMETER
// first error: PMDI_E_BAD_PARAMETER, pmdi::nn::layer_at<1, pmdi::nn::conv2d<4, 3, 0, 0> >
// zero stride
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 8, 8>, nn::conv2d<4, 3, 0>>;
static_assert(nn::valid_v<net>);
