#pragma once
// Networks of the papers, as types. The demo and the benches use these.
#include "pmdi/nn/sequential.hpp"

namespace pmdi::nn::zoo {

// MiniONN's MNIST network (Liu et al., CCS 2017, Fig. 12): 0.67 M MACs, 10,340 ReLUs.
using minionn_mnist = sequential<input<1, 28, 28>,                                 //
                                 conv2d<16, 5>, relu, meanpool<2>,                  //
                                 conv2d<16, 5>, relu, meanpool<2>,                  //
                                 flatten, dense<100>, relu, dense<10>>;

}  // namespace pmdi::nn::zoo
