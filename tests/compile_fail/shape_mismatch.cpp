// expect: PMDI_E_SHAPE_MISMATCH
// first error: PMDI_E_SHAPE_MISMATCH, pmdi::nn::layer_at<7, pmdi::nn::dense<10> >, pmdi::nn::layer_at<6, pmdi::nn::meanpool<2, 2> >, pmdi::nn::shape<16, 4, 4>
// dense on a 3-D tensor without flatten
#include "pmdi/nn/sequential.hpp"
namespace nn = pmdi::nn;
using net = nn::sequential<nn::input<1, 28, 28>, nn::conv2d<16, 5>, nn::relu, nn::meanpool<2>, nn::conv2d<16, 5>,
                           nn::relu, nn::meanpool<2>, nn::dense<10>>;
static_assert(nn::valid_v<net>);
