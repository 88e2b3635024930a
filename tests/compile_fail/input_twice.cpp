// expect: PMDI_E_FIRST_NOT_INPUT
// first error: PMDI_E_FIRST_NOT_INPUT, pmdi::nn::layer_at<2, pmdi::nn::input<1, 8, 8> >
// a second input<> in the middle of the network
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 8, 8>, nn::relu, nn::input<1, 8, 8>, nn::relu>;
static_assert(nn::valid_v<net>);
