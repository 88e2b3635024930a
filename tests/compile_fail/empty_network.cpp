// expect: PMDI_E_EMPTY_NETWORK
// first error: PMDI_E_EMPTY_NETWORK, pmdi::nn::layer_at<0, pmdi::nn::input<1, 8, 8> >
// only an input
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 8, 8>>;
static_assert(nn::valid_v<net>);
