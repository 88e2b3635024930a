// expect: PMDI_E_KERNEL_TOO_LARGE
// first error: PMDI_E_KERNEL_TOO_LARGE, pmdi::nn::layer_at<1, pmdi::nn::conv2d<4, 5, 1, 0> >, pmdi::nn::layer_at<0, pmdi::nn::input<1, 4, 4> >, pmdi::nn::shape<1, 4, 4>
// 5x5 kernel on a 4x4 input
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 4, 4>, nn::conv2d<4, 5>, nn::relu>;
static_assert(nn::valid_v<net>);
