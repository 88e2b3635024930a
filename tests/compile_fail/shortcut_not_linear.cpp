// expect: PMDI_E_SHORTCUT_NOT_LINEAR
// first error: PMDI_E_SHORTCUT_NOT_LINEAR, pmdi::nn::layer_at<3, pmdi::nn::relu>
// relu in a shortcut
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<4, 8, 8>, nn::relu,
                           nn::residual<nn::conv2d<4, 3, 1, 1>, nn::shortcut<nn::relu>>, nn::relu>;
static_assert(nn::valid_v<net>);
