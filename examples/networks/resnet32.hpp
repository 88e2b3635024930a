#pragma once
// ResNet-32 for CIFAR-100 (He et al. 2016, the CIFAR variant: 3 groups of 5
// basic blocks, 16/32/64 channels). Downsampling blocks use a 1x1 stride-2
// projection shortcut with batchnorm (option B). About 69 M MACs, 303,104 ReLUs.
#include "pmdi/nn/sequential.hpp"

namespace networks {
namespace nn = pmdi::nn;

template <std::size_t C>
using basic_block = nn::residual<nn::conv2d<C, 3, 1, 1>, nn::batchnorm, nn::relu,  //
                                 nn::conv2d<C, 3, 1, 1>, nn::batchnorm>;
template <std::size_t C>
using down_block = nn::residual<nn::conv2d<C, 3, 2, 1>, nn::batchnorm, nn::relu,  //
                                nn::conv2d<C, 3, 1, 1>, nn::batchnorm,            //
                                nn::shortcut<nn::conv2d<C, 1, 2>, nn::batchnorm>>;

using resnet32 = nn::sequential<nn::input<3, 32, 32>, nn::conv2d<16, 3, 1, 1>, nn::batchnorm, nn::relu,  //
                                basic_block<16>, nn::relu, basic_block<16>, nn::relu, basic_block<16>, nn::relu,
                                basic_block<16>, nn::relu, basic_block<16>, nn::relu,  //
                                down_block<32>, nn::relu, basic_block<32>, nn::relu, basic_block<32>, nn::relu,
                                basic_block<32>, nn::relu, basic_block<32>, nn::relu,  //
                                down_block<64>, nn::relu, basic_block<64>, nn::relu, basic_block<64>, nn::relu,
                                basic_block<64>, nn::relu, basic_block<64>, nn::relu,  //
                                nn::meanpool<8>, nn::flatten, nn::dense<100>>;
}  // namespace networks
