#pragma once
// Adapter: the lowering's stages (plan::stage_plan, from plan::lower<Net,
// Ring>(weights)) as the protocol's stages (proto::stage: the cloud's view
// with weights, whose `pub` part every other party gets). The protocol layer
// does not include plan/ (layering: proto below nn and plan), so the join
// lives here.
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/plan/lower.hpp"
#include "pmdi/proto/circuits.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi::run {

[[nodiscard]] inline proto::stage to_protocol_stage(const plan::stage_plan& s) {
  proto::stage p;
  p.pub.inputs = s.inputs;
  p.pub.linear_out = s.linear_shape;
  p.pub.out = s.out_shape;
  p.pub.pattern = proto::sparsity::of(s.A);
  p.pub.shift = s.has_nonlinear ? s.shift : 0;
  shape3 sh = s.linear_shape;
  for (const auto& op : s.nonlinear) {
    proto::nonlinear_op o;
    switch (op.kind) {
      case plan::nonlinear_kind::relu: o.kind = proto::op_kind::relu; break;
      case plan::nonlinear_kind::maxpool: o.kind = proto::op_kind::maxpool; break;
      case plan::nonlinear_kind::argmax: o.kind = proto::op_kind::argmax; break;
    }
    o.k = op.k;
    o.stride = op.stride;
    if (!(op.in == sh) || !(proto::op_output_shape(o, sh) == op.out))
      throw usage_error("stage " + std::to_string(s.index) + ": non-linear operator shapes " + op.in.str() + " -> " +
                        op.out.str() + " do not follow the protocol's rules from " + sh.str());
    sh = op.out;
    p.pub.ops.push_back(o);
  }
  if (s.has_nonlinear && s.nonlinear.empty() && s.shift == 0)
    throw usage_error("stage " + std::to_string(s.index) + ": marked non-linear without operators");
  if (!(sh == s.out_shape))
    throw usage_error("stage " + std::to_string(s.index) + ": output shape " + s.out_shape.str() +
                      " differs from the operators' " + sh.str());
  p.a = s.A;
  p.bias = s.bias;
  if (p.bias.empty()) p.bias.assign(s.A.rows, 0);
  return p;
}

[[nodiscard]] inline std::vector<proto::stage> to_protocol(const std::vector<plan::stage_plan>& stages) {
  std::vector<proto::stage> out;
  out.reserve(stages.size());
  for (const auto& s : stages) out.push_back(to_protocol_stage(s));
  return out;
}

// Size of the network input (tensor 0).
[[nodiscard]] inline std::size_t input_size(const std::vector<plan::stage_plan>& stages) {
  if (stages.empty()) throw usage_error("no stages");
  return stages.front().in_shape.size();
}

}  // namespace pmdi::run
