// expect: PMDI_E_ARGMAX_NOT_LAST
// argmax followed by dense
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<10, 1, 1>, nn::argmax, nn::dense<2>>;
static_assert(nn::valid_v<net>);
