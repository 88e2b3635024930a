#pragma once
// What every party derives from the network type: the stages' shapes and
// scales, without weights.
#include <vector>

#include "pmdi/nn/sequential.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/plan/lower.hpp"
#include "pmdi/proto/common.hpp"

namespace pmdi::run {

// Weights that only carry the structure (zeros; batch-norm as the identity):
// lowering them gives every stage's shapes, sparsity and shifts, which is all
// the public plan holds. No party but the cloud ever sees real weights.
template <class Net>
[[nodiscard]] nn::model_weights structure_weights() {
  nn::model_weights w;
  for (const auto& li : nn::describe<Net>()) {
    if (!li.has_parameters()) continue;
    nn::layer_weights e;
    e.layer_index = li.index;
    if (li.kind == nn::layer_kind::batchnorm) {
      e.gamma.assign(li.in.c, 1.0F);
      e.beta.assign(li.in.c, 0.0F);
      e.mean.assign(li.in.c, 0.0F);
      e.var.assign(li.in.c, 1.0F);
      e.epsilon = 0.0F;
    } else {
      e.weight.assign(li.weight_count(), 0.0F);
      e.bias.assign(li.bias_count(), 0.0F);
    }
    w.layers.push_back(std::move(e));
  }
  return w;
}

// The stages of Net for Ring with zero weights (shapes, sparsity, scales).
template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] std::vector<proto::stage> structure_stages() {
  return plan::lower<Net, Ring, Bounds>(structure_weights<Net>());
}

// The public plan every party holds.
template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] proto::network_plan public_network_plan() {
  const auto st = structure_stages<Net, Ring, Bounds>();
  return proto::public_plan(st, proto::input_size(st));
}

}  // namespace pmdi::run
