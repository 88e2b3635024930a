#pragma once
// MiniONN's MNIST network (Liu, Juuti, Lu, Asokan, CCS 2017, Fig. 12).
#include "pmdi/nn/zoo.hpp"

namespace networks {
using minionn_mnist = pmdi::nn::zoo::minionn_mnist;
}  // namespace networks
