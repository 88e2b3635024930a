// expect: PMDI_E_FIRST_NOT_INPUT
// first error: PMDI_E_FIRST_NOT_INPUT, pmdi::nn::layer_at<0, pmdi::nn::conv2d<4, 3, 1, 0> >
// the network does not start with input
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::conv2d<4, 3>, nn::relu>;
static_assert(nn::valid_v<net>);
