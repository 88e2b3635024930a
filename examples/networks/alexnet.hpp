#pragma once
// AlexNet for Tiny ImageNet (64x64, 200 classes): torchvision's AlexNet
// feature extractor on a 64x64 input (11x11/4 first convolution, three 3x3/2
// max-pools: 64 -> 15 -> 7 -> 3 -> 1), then the 4096-4096-200 classifier.
#include "pmdi/nn/sequential.hpp"

namespace networks {
namespace nn = pmdi::nn;
using alexnet = nn::sequential<nn::input<3, 64, 64>,                                  //
                               nn::conv2d<64, 11, 4, 2>, nn::relu, nn::maxpool<3, 2>,  //
                               nn::conv2d<192, 5, 1, 2>, nn::relu, nn::maxpool<3, 2>,  //
                               nn::conv2d<384, 3, 1, 1>, nn::relu,                     //
                               nn::conv2d<256, 3, 1, 1>, nn::relu,                     //
                               nn::conv2d<256, 3, 1, 1>, nn::relu, nn::maxpool<3, 2>,  //
                               nn::flatten, nn::dense<4096>, nn::relu, nn::dense<4096>, nn::relu, nn::dense<200>>;
}  // namespace networks
