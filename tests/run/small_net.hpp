#pragma once
// A small network for the multi-process tests: four stages (conv + relu;
// mean-pool, dense + relu; dense + relu; dense), so with two clusters every
// garbler and evaluator has a garbled stage.
#include "pmdi/core/ring.hpp"
#include "pmdi/nn/sequential.hpp"

namespace pmdi_test {

using small_net = pmdi::nn::sequential<pmdi::nn::input<1, 8, 8>,                        //
                                       pmdi::nn::conv2d<3, 3>, pmdi::nn::relu,           //
                                       pmdi::nn::meanpool<2>, pmdi::nn::flatten,         //
                                       pmdi::nn::dense<8>, pmdi::nn::relu,                //
                                       pmdi::nn::dense<6>, pmdi::nn::relu, pmdi::nn::dense<4>>;
using small_ring = pmdi::ring<64, 13>;

}  // namespace pmdi_test
