#pragma once
// MiniONN's CIFAR-10 network (Liu et al., CCS 2017, Fig. 13): 7 convolutions
// (3x3 with padding 1, then 1x1), two 2x2 mean-pools, one dense layer.
// About 61 M MACs and 173,056 ReLUs.
#include "pmdi/nn/sequential.hpp"

namespace networks {
namespace nn = pmdi::nn;
using minionn_cifar = nn::sequential<nn::input<3, 32, 32>,                                       //
                                     nn::conv2d<64, 3, 1, 1>, nn::relu,                          //
                                     nn::conv2d<64, 3, 1, 1>, nn::relu, nn::meanpool<2>,         //
                                     nn::conv2d<64, 3, 1, 1>, nn::relu,                          //
                                     nn::conv2d<64, 3, 1, 1>, nn::relu, nn::meanpool<2>,         //
                                     nn::conv2d<64, 3, 1, 1>, nn::relu,                          //
                                     nn::conv2d<64, 1>, nn::relu,                                //
                                     nn::conv2d<16, 1>, nn::relu,                                //
                                     nn::flatten, nn::dense<10>>;
}  // namespace networks
