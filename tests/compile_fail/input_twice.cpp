// expect: PMDI_E_FIRST_NOT_INPUT
// a second input<> in the middle of the network
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 8, 8>, nn::relu, nn::input<1, 8, 8>, nn::relu>;
static_assert(nn::valid_v<net>);
