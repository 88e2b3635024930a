#pragma once
// VGG16 for Tiny ImageNet as Falcon runs it (Wagh et al., PETS 2021; its
// public network definitions, batch-norm switched off): 3x64x64 input,
// thirteen 3x3 convolutions with padding 1, max-pool before the ReLU in the
// five pooled blocks, then 2048-2048-200 dense layers with a final ReLU.
#include "pmdi/nn/sequential.hpp"

namespace networks {
namespace nn = pmdi::nn;
template <std::size_t C>
using vgg_conv = nn::conv2d<C, 3, 1, 1>;

using vgg16_falcon = nn::sequential<
    nn::input<3, 64, 64>,                                                                                   //
    vgg_conv<64>, nn::relu, vgg_conv<64>, nn::maxpool<2>, nn::relu,                                         //
    vgg_conv<128>, nn::relu, vgg_conv<128>, nn::maxpool<2>, nn::relu,                                       //
    vgg_conv<256>, nn::relu, vgg_conv<256>, nn::relu, vgg_conv<256>, nn::maxpool<2>, nn::relu,              //
    vgg_conv<512>, nn::relu, vgg_conv<512>, nn::relu, vgg_conv<512>, nn::maxpool<2>, nn::relu,              //
    vgg_conv<512>, nn::relu, vgg_conv<512>, nn::relu, vgg_conv<512>, nn::maxpool<2>, nn::relu,              //
    nn::flatten, nn::dense<2048>, nn::relu, nn::dense<2048>, nn::relu, nn::dense<200>, nn::relu>;
}  // namespace networks
