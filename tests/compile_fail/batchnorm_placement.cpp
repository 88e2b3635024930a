// expect: PMDI_E_BATCHNORM_PLACEMENT
// first error: PMDI_E_BATCHNORM_PLACEMENT, pmdi::nn::layer_at<3, pmdi::nn::batchnorm>, pmdi::nn::layer_at<2, pmdi::nn::relu>
// batchnorm after relu
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 8, 8>, nn::conv2d<4, 3>, nn::relu, nn::batchnorm>;
static_assert(nn::valid_v<net>);
