// expect: PMDI_E_NOT_A_LAYER
// first error: PMDI_E_NOT_A_LAYER, my_layer>
// a non-layer inside a residual block
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
struct my_layer {};
using net = nn::sequential<nn::input<1, 8, 8>, nn::relu, nn::residual<nn::conv2d<1, 3, 1, 1>, my_layer>>;
static_assert(nn::valid_v<net>);
