// expect: PMDI_E_SHAPE_MISMATCH
// conv2d after flatten
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 8, 8>, nn::flatten, nn::conv2d<4, 3>>;
static_assert(nn::valid_v<net>);
