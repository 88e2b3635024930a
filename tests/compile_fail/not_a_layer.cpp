// expect: PMDI_E_NOT_A_LAYER
// first error: PMDI_E_NOT_A_LAYER, int>
// an int is not a layer
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 8, 8>, nn::relu, int>;
static_assert(nn::valid_v<net>);
