// expect: PMDI_E_SHAPE_MISMATCH
// dense on a 3-D tensor without flatten
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<16, 5>, nn::relu, nn::meanpool<2>, nn::conv2d<16, 5>,
                           nn::relu, nn::meanpool<2>, nn::dense<10>>;
static_assert(nn::valid_v<net>);
