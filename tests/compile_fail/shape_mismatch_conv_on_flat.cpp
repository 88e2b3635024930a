// expect: PMDI_E_SHAPE_MISMATCH
// first error: PMDI_E_SHAPE_MISMATCH, pmdi::nn::layer_at<2, pmdi::nn::conv2d<4, 3, 1, 0> >, pmdi::nn::layer_at<1, pmdi::nn::flatten>, pmdi::nn::shape<64, 1, 1>
// conv2d after flatten
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 8, 8>, nn::flatten, nn::conv2d<4, 3>>;
static_assert(nn::valid_v<net>);
