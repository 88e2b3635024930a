// expect: PMDI_E_RESIDUAL_SHAPE
// strided body, identity shortcut
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<4, 8, 8>, nn::relu,
                           nn::residual<nn::conv2d<8, 3, 2, 1>, nn::relu, nn::conv2d<8, 3, 1, 1>>, nn::relu>;
static_assert(nn::valid_v<net>);
