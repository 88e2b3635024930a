// expect: PMDI_E_KERNEL_TOO_LARGE
// 5x5 kernel on a 4x4 input
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 4, 4>, nn::conv2d<4, 5>, nn::relu>;
static_assert(nn::valid_v<net>);
