// expect: PMDI_E_FIRST_NOT_INPUT
// the network does not start with input
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::conv2d<4, 3>, nn::relu>;
static_assert(nn::valid_v<net>);
