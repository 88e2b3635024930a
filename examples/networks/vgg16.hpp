#pragma once
// VGG16 for Tiny ImageNet (64x64, 200 classes): 13 3x3 convolutions with
// padding 1 and batchnorm, five 2x2 max-pools (64 -> 2), then 4096-4096-200.
#include "pmdi/nn/sequential.hpp"

namespace networks {
namespace nn = pmdi::nn;

using vgg16 = nn::sequential<
    nn::input<3, 64, 64>,                                                                         //
    nn::conv2d<64, 3, 1, 1>, nn::batchnorm, nn::relu, nn::conv2d<64, 3, 1, 1>, nn::batchnorm, nn::relu,
    nn::maxpool<2>,                                                                               //
    nn::conv2d<128, 3, 1, 1>, nn::batchnorm, nn::relu, nn::conv2d<128, 3, 1, 1>, nn::batchnorm, nn::relu,
    nn::maxpool<2>,                                                                               //
    nn::conv2d<256, 3, 1, 1>, nn::batchnorm, nn::relu, nn::conv2d<256, 3, 1, 1>, nn::batchnorm, nn::relu,
    nn::conv2d<256, 3, 1, 1>, nn::batchnorm, nn::relu, nn::maxpool<2>,                            //
    nn::conv2d<512, 3, 1, 1>, nn::batchnorm, nn::relu, nn::conv2d<512, 3, 1, 1>, nn::batchnorm, nn::relu,
    nn::conv2d<512, 3, 1, 1>, nn::batchnorm, nn::relu, nn::maxpool<2>,                            //
    nn::conv2d<512, 3, 1, 1>, nn::batchnorm, nn::relu, nn::conv2d<512, 3, 1, 1>, nn::batchnorm, nn::relu,
    nn::conv2d<512, 3, 1, 1>, nn::batchnorm, nn::relu, nn::maxpool<2>,                            //
    nn::flatten, nn::dense<4096>, nn::relu, nn::dense<4096>, nn::relu, nn::dense<200>>;
}  // namespace networks
