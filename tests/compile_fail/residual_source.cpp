// expect: PMDI_E_RESIDUAL_SOURCE
// first error: PMDI_E_RESIDUAL_SOURCE, pmdi::nn::layer_at<5, pmdi::nn::residual_add>, pmdi::nn::layer_at<1, pmdi::nn::conv2d<4, 3, 1, 1> >
// block starts at a conv output
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<4, 8, 8>, nn::conv2d<4, 3, 1, 1>,
                           nn::residual<nn::conv2d<4, 3, 1, 1>, nn::relu, nn::conv2d<4, 3, 1, 1>>, nn::relu>;
static_assert(nn::valid_v<net>);
