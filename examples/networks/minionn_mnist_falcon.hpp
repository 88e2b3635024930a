#pragma once
// MiniONN's MNIST network as Falcon runs it (Wagh et al., PETS 2021; its
// public network definitions): max-pool before the ReLU and a ReLU after the
// last dense layer, no batch-norm. The comparison with Falcon uses this one.
#include "pmdi/nn/sequential.hpp"

namespace networks {
namespace nn = pmdi::nn;
using minionn_mnist_falcon = nn::sequential<nn::input<1, 28, 28>,                        //
                                            nn::conv2d<16, 5>, nn::maxpool<2>, nn::relu,  //
                                            nn::conv2d<16, 5>, nn::maxpool<2>, nn::relu,  //
                                            nn::flatten, nn::dense<100>, nn::relu, nn::dense<10>, nn::relu>;
}  // namespace networks
