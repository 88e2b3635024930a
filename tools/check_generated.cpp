// Compile-time check: the type onnx2pmdi generates from the shipped MiniONN
// model is exactly the declared nn::zoo::minionn_mnist.
#include "minionn_generated.hpp"

#include <type_traits>

#include "pmdi/nn/zoo.hpp"

static_assert(std::is_same_v<minionn, pmdi::nn::zoo::minionn_mnist>,
              "onnx2pmdi's type for minionn_fashion.onnx differs from nn::zoo::minionn_mnist");
