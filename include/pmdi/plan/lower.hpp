#pragma once
// Lowering a network type plus its weights into the stages the protocol runs
// (proto::stage: one representation from here to the roles).
//
// Each stage's linear run becomes a short program of operators
// (proto/linear.hpp): conv2d and dense with their weights once, sum-pool
// (mean-pool at a public scale), residual add with scale alignment; flatten
// and folded batch-norm are no operators at all. Inputs are the stage's input
// tensors (inputs[0] = tensor `index`, the stage's own input, then residual
// skip tensors), each CHW-flattened at scale f; the output A_k x + b_k is at
// scale e_k = scale_bits. In Z_{2^l}: z = trunc(y, shift), then the
// non-linear ops in order. Tensor ids: 0 = network input, k >= 1 = output of
// stage k - 1.
//
// plan/split.hpp cuts a run before a weighted layer whose input already went
// through one, so no stage applies two weight tensors in series (their
// shares would multiply); the stage before the cut ends with a truncation.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/sparse.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/plan/costs.hpp"
#include "pmdi/proto/circuits.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi::plan {

namespace detail {

[[nodiscard]] inline std::int64_t encode_at(double v, unsigned e) { return std::llround(std::ldexp(v, static_cast<int>(e))); }

// The walk over Net's stages that both entry points below share. With
// `folded` null it builds the public stages only: no weight is read, encoded
// or allocated, so every party derives its plan from the type alone.
template <class Net, class Ring>
[[nodiscard]] std::vector<proto::stage> lower_stages(const std::vector<nn::folded_layer>* folded) {
  using net = nn::traits<Net>;
  using sp = split<Net>;
  constexpr unsigned f = Ring::frac;
  std::vector<proto::stage> stages;
  const auto& nodes = net::nodes;
  std::vector<std::size_t> tsize(sp::count + 1);
  tsize[0] = nodes[0].out.size();
  for (std::size_t s = 0; s < sp::count; ++s) tsize[s + 1] = sp::stages[s].out_shape.size();
  for (std::size_t k = 0; k < sp::count; ++k) {
    const stage_info& st = sp::stages[k];
    proto::stage ps;
    proto::public_stage& pub = ps.pub;
    pub.inputs.push_back(k);
    for (std::size_t j = 0; j < st.skip_count; ++j) pub.inputs.push_back(st.skips[j]);
    std::vector<std::size_t> slot_of_tensor(sp::count + 1, nn::npos);
    for (std::size_t i = 0; i < pub.inputs.size(); ++i) {
      const auto t = pub.inputs[i];
      pub.linear.input_sizes.push_back(tsize[t]);
      slot_of_tensor[t] = i;
    }
    pub.linear_out = st.linear_shape;
    pub.out = st.out_shape;
    unsigned e = f;
    if (st.has_linear()) {
      // The operators of the run, each reading the slot of its source layer.
      struct slot_ref {
        std::size_t slot = 0;
        unsigned e = 0;  // scale
      };
      std::vector<slot_ref> at(net::flat_size);
      auto source = [&](std::size_t from) -> slot_ref {
        if (nodes[from].linear() && sp::stage_of[from] == k) return at[from];
        return {slot_of_tensor[sp::tensor_of[from]], f};
      };
      auto emit = [&](proto::linear_op op, unsigned oe) {
        pub.linear.ops.push_back(op);
        return slot_ref{pub.linear.inputs() + pub.linear.ops.size() - 1, oe};
      };
      for (std::size_t i = st.lin_first; i <= st.lin_last; ++i) {
        const nn::node& n = nodes[i];
        if (!n.is_layer()) continue;
        const nn::layer_spec& s = n.spec;
        const slot_ref src = source(n.src);
        proto::linear_op op;
        op.src = src.slot;
        op.in = n.in;
        op.out = n.out;
        switch (s.kind) {
          case nn::layer_kind::conv2d:
          case nn::layer_kind::dense: {
            const unsigned oe = src.e + f;
            op.kind = s.kind == nn::layer_kind::conv2d ? proto::linear_kind::conv2d : proto::linear_kind::dense;
            op.kernel_h = s.kernel_h;
            op.kernel_w = s.kernel_w;
            op.stride = s.stride;
            op.pad = s.pad;
            if (folded) {
              const auto& fl = (*folded)[n.index];
              for (double v : fl.weight) ps.weights.push_back(encode_at(v, f));
              for (double v : fl.bias) ps.bias.push_back(encode_at(v, oe));
            }
            at[i] = emit(op, oe);
            break;
          }
          case nn::layer_kind::meanpool: {
            const std::size_t kk = s.kernel_h * s.kernel_w;
            const int p2 = pow2_exponent(kk);
            op.kind = proto::linear_kind::sumpool;
            op.kernel_h = s.kernel_h;
            op.kernel_w = s.kernel_w;
            op.stride = s.stride;
            op.pad = 0;
            op.factor = p2 >= 0 ? 1 : encode_at(1.0 / static_cast<double>(kk), f);
            at[i] = emit(op, p2 >= 0 ? src.e + static_cast<unsigned>(p2) : src.e + f);
            break;
          }
          case nn::layer_kind::residual_add: {
            const slot_ref b = source(n.skip);
            const unsigned oe = std::max(src.e, b.e);
            op.kind = proto::linear_kind::add;
            op.src2 = b.slot;
            op.in = n.out;
            op.shift_a = oe - src.e;
            op.shift_b = oe - b.e;
            at[i] = emit(op, oe);
            break;
          }
          default: at[i] = src; break;  // flatten, batchnorm (folded)
        }
      }
      pub.linear.result = at[st.lin_last].slot;
      e = at[st.lin_last].e;
    }
    pub.scale_bits = e;
    pub.shift = st.garbled() ? e - f : 0;
    shape3 sh = st.linear_shape;
    if (st.has_nonlinear())
      for (std::size_t i = st.nl_first; i <= st.nl_last; ++i) {
        const nn::node& n = nodes[i];
        proto::nonlinear_op op;
        op.kind = n.spec.kind == nn::layer_kind::relu      ? proto::op_kind::relu
                  : n.spec.kind == nn::layer_kind::maxpool ? proto::op_kind::maxpool
                                                           : proto::op_kind::argmax;
        if (op.kind == proto::op_kind::maxpool) {
          op.k = n.spec.kernel_h;
          op.stride = n.spec.stride;
        }
        if (!(n.in == sh) || !(proto::op_output_shape(op, sh) == n.out))
          throw usage_error("stage " + std::to_string(k) + ": non-linear operator shapes " + n.in.str() + " -> " +
                            n.out.str() + " do not follow the protocol's rules from " + sh.str());
        sh = n.out;
        pub.ops.push_back(op);
      }
    if (!(sh == st.out_shape))
      throw usage_error("stage " + std::to_string(k) + ": output shape " + st.out_shape.str() +
                        " differs from the operators' " + sh.str());
    stages.push_back(std::move(ps));
  }
  return stages;
}

}  // namespace detail

// Lowers Net with weights `w` for Ring: the cloud's stages. Checks the weights
// against the declared layers (counts, shapes) and against the declared
// magnitude bound of Bounds; throws pmdi::usage_error naming the layer.
template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] std::vector<proto::stage> lower(const nn::model_weights& w) {
  static_assert(checked_v<Net, Ring, Bounds>);
  const auto folded = nn::fold_batchnorm<Net>(w);
  const double wmax = std::ldexp(1.0, static_cast<int>(Bounds::weight_int_bits));
  for (const auto& li : nn::describe<Net>()) {
    if (li.kind != nn::layer_kind::conv2d && li.kind != nn::layer_kind::dense) continue;
    for (const auto& vec : {folded[li.index].weight, folded[li.index].bias})
      for (double v : vec)
        if (!(std::fabs(v) < wmax))
          throw usage_error(nn::detail::where(li) + ": parameter " + std::to_string(v) +
                            " (batchnorm folded) breaks the declared bound |w| < 2^" +
                            std::to_string(Bounds::weight_int_bits) + "; declare a larger weight_int_bits in nn::bounds");
  }
  return detail::lower_stages<Net, Ring>(&folded);
}

// The public plan of Net for Ring, from the type alone: every stage's
// operators, shapes, scales and shifts, and no weight. It is what every party
// but the cloud holds, and it equals proto::public_plan of lower(w) for any
// weights w.
template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] proto::network_plan public_network_plan() {
  static_assert(checked_v<Net, Ring, Bounds>);
  return proto::public_plan(detail::lower_stages<Net, Ring>(nullptr), nn::traits<Net>::nodes[0].out.size());
}

}  // namespace pmdi::plan
