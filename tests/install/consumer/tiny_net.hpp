#pragma once
// A user's network, declared against the installed pmdi.
#include <pmdi/nn/sequential.hpp>

namespace consumer {
using tiny_net = pmdi::nn::sequential<pmdi::nn::input<1, 6, 6>, pmdi::nn::conv2d<2, 3>, pmdi::nn::relu,
                                      pmdi::nn::flatten, pmdi::nn::dense<3>>;
}  // namespace consumer
