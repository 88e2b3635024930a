#pragma once
// AlexNet for Tiny ImageNet as Falcon runs it (Wagh et al., PETS 2021; its
// public network definitions, batch-norm switched off): a 3x56x56 input, two
// convolutions in a row before the first max-pool, max-pool before the ReLU,
// 1024-1024-200 dense layers with a final ReLU. About 0.70 G MACs.
#include "pmdi/nn/sequential.hpp"

namespace networks {
namespace nn = pmdi::nn;
using alexnet_falcon = nn::sequential<nn::input<3, 56, 56>,                                                 //
                                      nn::conv2d<64, 7, 1, 3>, nn::conv2d<64, 5, 1, 2>, nn::maxpool<2>, nn::relu,  //
                                      nn::conv2d<128, 5, 1, 2>, nn::maxpool<2>, nn::relu,                   //
                                      nn::conv2d<256, 3, 1, 1>, nn::conv2d<256, 3, 1, 1>, nn::maxpool<2>, nn::relu,
                                      nn::flatten, nn::dense<1024>, nn::relu, nn::dense<1024>, nn::relu,    //
                                      nn::dense<200>, nn::relu>;
}  // namespace networks
