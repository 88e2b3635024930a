// expect: PMDI_E_SHORTCUT_NOT_LINEAR
// relu in a shortcut
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<4, 8, 8>, nn::relu,
                           nn::residual<nn::conv2d<4, 3, 1, 1>, nn::shortcut<nn::relu>>, nn::relu>;
static_assert(nn::valid_v<net>);
