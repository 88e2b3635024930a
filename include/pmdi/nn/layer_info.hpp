#pragma once
// A run-time description of one declared layer, produced from the network
// type (nn::describe<Net>()) and consumed by the weight loaders, the
// generator and the reports. The type is the source of truth; this mirrors it.
#include <cstddef>
#include <string>
#include <vector>

#include "pmdi/core/tensor.hpp"

namespace pmdi::nn {

enum class layer_kind { input, conv2d, dense, relu, meanpool, maxpool, flatten, batchnorm, residual_add, argmax };

struct layer_info {
  layer_kind kind{};
  std::size_t index = 0;        // position in the declared list (0 = input)
  std::string name;             // as the user wrote it: "conv2d<16, 5>"
  shape3 in{}, out{};           // shapes at compile time
  // Parameters (those that apply to the kind).
  std::size_t out_channels = 0, kernel_h = 0, kernel_w = 0, stride = 1, pad = 0;
  std::size_t units = 0;        // dense
  std::size_t skip_from = 0;    // residual_add: index of the layer whose output is added
  std::size_t input_from = 0;   // index of the layer whose output this layer reads (usually index - 1;
                                // differs for the first layer of a residual shortcut and for residual_add)
  bool linear = false;          // linear (secret-shared) or non-linear (garbled)
  [[nodiscard]] std::size_t weight_count() const noexcept {
    switch (kind) {
      case layer_kind::conv2d: return out_channels * in.c * kernel_h * kernel_w;
      case layer_kind::dense: return units * in.size();
      default: return 0;
    }
  }
  // batchnorm: gamma, beta, mean and var have in.c entries each.
  [[nodiscard]] bool has_parameters() const noexcept {
    return kind == layer_kind::conv2d || kind == layer_kind::dense || kind == layer_kind::batchnorm;
  }
  [[nodiscard]] std::size_t bias_count() const noexcept {
    return kind == layer_kind::conv2d ? out_channels : kind == layer_kind::dense ? units : 0;
  }
};

// Weights as loaded (float), in the order of the declared layers: conv2d
// weights are [out][in][kh][kw], dense weights [units][in] (PyTorch's order).
struct layer_weights {
  std::size_t layer_index = 0;
  std::vector<float> weight, bias;
  // batchnorm (before folding): gamma, beta, mean, var, epsilon
  std::vector<float> gamma, beta, mean, var;
  float epsilon = 1e-5F;
};

struct model_weights {
  std::vector<layer_weights> layers;  // only layers with parameters
};

}  // namespace pmdi::nn
