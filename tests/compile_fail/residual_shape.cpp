// expect: PMDI_E_RESIDUAL_SHAPE
// first error: PMDI_E_RESIDUAL_SHAPE, pmdi::nn::layer_at<5, pmdi::nn::residual_add>, pmdi::nn::layer_at<4, pmdi::nn::conv2d<8, 3, 1, 1> >, pmdi::nn::detail::body_and_skip<pmdi::nn::shape<8, 4, 4>, pmdi::nn::shape<4, 8, 8> >
// strided body, identity shortcut
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<4, 8, 8>, nn::relu,
                           nn::residual<nn::conv2d<8, 3, 2, 1>, nn::relu, nn::conv2d<8, 3, 1, 1>>, nn::relu>;
static_assert(nn::valid_v<net>);
