// expect: PMDI_E_ARGMAX_NOT_LAST
// first error: PMDI_E_ARGMAX_NOT_LAST, pmdi::nn::layer_at<1, pmdi::nn::argmax>, pmdi::nn::layer_at<2, pmdi::nn::dense<2> >
// argmax followed by dense
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<10, 1, 1>, nn::argmax, nn::dense<2>>;
static_assert(nn::valid_v<net>);
