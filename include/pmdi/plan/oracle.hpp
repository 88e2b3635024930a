#pragma once
// The plaintext oracle every private result is checked against.
//  - infer_float<Net>: float inference of the declared network (batchnorm as
//    PyTorch's eval mode, meanpool as an average), in double precision.
//  - fixed<Ring>: fixed-point inference over Z_{2^l} from the lowered stages,
//    with exactly the protocol's rules: y = A x + b (mod 2^l), the stage's
//    operators through the same proto::apply the share holders run, then for stages
//    with a non-linear part trunc(y, shift) and the ops in order on signed
//    values (relu: max(v, 0); maxpool: max over the window; argmax: index of
//    the first maximum). The result is bit-exact with a correct private run.
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/nn/sequential.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/plan/lower.hpp"

namespace pmdi::oracle {

// ---- float ----------------------------------------------------------------------
template <class Net>
[[nodiscard]] std::vector<double> infer_float(const nn::model_weights& w, std::span<const double> x) {
  using T = nn::traits<Net>;
  static_assert(T::valid);
  nn::check_weights<Net>(w);
  if (x.size() != T::input_shape.size())
    throw usage_error("oracle::infer_float: input has " + std::to_string(x.size()) + " values, the network takes " +
                      std::to_string(T::input_shape.size()));
  std::vector<const nn::layer_weights*> by(T::layer_count, nullptr);
  for (const auto& e : w.layers) by[e.layer_index] = &e;
  std::vector<std::vector<double>> val(T::flat_size);
  val[0].assign(x.begin(), x.end());
  for (std::size_t i = 1; i < T::flat_size; ++i) {
    const nn::node& n = T::nodes[i];
    if (!n.is_layer()) continue;
    const auto& s = n.spec;
    const auto& v = val[n.src];
    const shape3 in = n.in, out = n.out;
    std::vector<double> o(out.size(), 0.0);
    switch (s.kind) {
      case nn::layer_kind::conv2d: {
        const auto& e = *by[n.index];
        for (std::size_t oc = 0; oc < out.c; ++oc)
          for (std::size_t y = 0; y < out.h; ++y)
            for (std::size_t xx = 0; xx < out.w; ++xx) {
              double acc = e.bias.empty() ? 0.0 : e.bias[oc];
              for (std::size_t c = 0; c < in.c; ++c)
                for (std::size_t ky = 0; ky < s.kernel_h; ++ky) {
                  const auto iy = static_cast<std::ptrdiff_t>(y * s.stride + ky) - static_cast<std::ptrdiff_t>(s.pad);
                  if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(in.h)) continue;
                  for (std::size_t kx = 0; kx < s.kernel_w; ++kx) {
                    const auto ix = static_cast<std::ptrdiff_t>(xx * s.stride + kx) - static_cast<std::ptrdiff_t>(s.pad);
                    if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(in.w)) continue;
                    acc += static_cast<double>(e.weight[((oc * in.c + c) * s.kernel_h + ky) * s.kernel_w + kx]) *
                           v[(c * in.h + static_cast<std::size_t>(iy)) * in.w + static_cast<std::size_t>(ix)];
                  }
                }
              o[(oc * out.h + y) * out.w + xx] = acc;
            }
        break;
      }
      case nn::layer_kind::dense: {
        const auto& e = *by[n.index];
        for (std::size_t r = 0; r < out.size(); ++r) {
          double acc = e.bias.empty() ? 0.0 : e.bias[r];
          for (std::size_t j = 0; j < in.size(); ++j) acc += static_cast<double>(e.weight[r * in.size() + j]) * v[j];
          o[r] = acc;
        }
        break;
      }
      case nn::layer_kind::batchnorm: {
        const auto& e = *by[n.index];
        const std::size_t hw = in.h * in.w;
        for (std::size_t q = 0; q < o.size(); ++q) {
          const std::size_t c = q / hw;
          o[q] = (v[q] - e.mean[c]) / std::sqrt(static_cast<double>(e.var[c]) + e.epsilon) * e.gamma[c] + e.beta[c];
        }
        break;
      }
      case nn::layer_kind::relu:
        for (std::size_t q = 0; q < o.size(); ++q) o[q] = v[q] > 0 ? v[q] : 0.0;
        break;
      case nn::layer_kind::meanpool:
      case nn::layer_kind::maxpool:
        for (std::size_t c = 0; c < out.c; ++c)
          for (std::size_t y = 0; y < out.h; ++y)
            for (std::size_t xx = 0; xx < out.w; ++xx) {
              double acc = s.kind == nn::layer_kind::maxpool ? -std::numeric_limits<double>::infinity() : 0.0;
              for (std::size_t ky = 0; ky < s.kernel_h; ++ky)
                for (std::size_t kx = 0; kx < s.kernel_w; ++kx) {
                  const double t = v[(c * in.h + y * s.stride + ky) * in.w + xx * s.stride + kx];
                  acc = s.kind == nn::layer_kind::maxpool ? std::max(acc, t) : acc + t;
                }
              if (s.kind == nn::layer_kind::meanpool) acc /= static_cast<double>(s.kernel_h * s.kernel_w);
              o[(c * out.h + y) * out.w + xx] = acc;
            }
        break;
      case nn::layer_kind::residual_add:
        for (std::size_t q = 0; q < o.size(); ++q) o[q] = v[q] + val[n.skip][q];
        break;
      case nn::layer_kind::argmax:
        o[0] = static_cast<double>(std::max_element(v.begin(), v.end()) - v.begin());
        break;
      default: o = v; break;  // flatten
    }
    val[i] = std::move(o);
  }
  return val[T::last_position];
}

// ---- fixed point ------------------------------------------------------------------
template <class Ring>
struct fixed_trace {
  using value_type = typename Ring::value_type;
  std::vector<std::vector<value_type>> tensors;  // tensors[t]: tensor id t (0 = input)
  std::vector<std::vector<value_type>> linear;   // linear[k]: A_k x + b_k of stage k (before trunc)
};

// The non-linear ops of one stage on z = trunc(y, shift), signed comparisons.
template <class Ring>
[[nodiscard]] std::vector<typename Ring::value_type> apply_nonlinear(const std::vector<proto::nonlinear_op>& ops,
                                                                     shape3 in, std::vector<typename Ring::value_type> v) {
  using V = typename Ring::value_type;
  for (const auto& op : ops) {
    const shape3 out = proto::op_output_shape(op, in);
    switch (op.kind) {
      case proto::op_kind::relu:
        for (auto& t : v) t = Ring::to_signed(t) < 0 ? V{0} : t;
        break;
      case proto::op_kind::maxpool: {
        std::vector<V> o(out.size());
        for (std::size_t c = 0; c < out.c; ++c)
          for (std::size_t y = 0; y < out.h; ++y)
            for (std::size_t x = 0; x < out.w; ++x) {
              V best = v[(c * in.h + y * op.stride) * in.w + x * op.stride];
              for (std::size_t ky = 0; ky < op.k; ++ky)
                for (std::size_t kx = 0; kx < op.k; ++kx) {
                  const V t = v[(c * in.h + y * op.stride + ky) * in.w + x * op.stride + kx];
                  if (Ring::to_signed(t) > Ring::to_signed(best)) best = t;
                }
              o[(c * out.h + y) * out.w + x] = best;
            }
        v = std::move(o);
        break;
      }
      case proto::op_kind::argmax: {
        std::size_t best = 0;
        for (std::size_t i = 1; i < v.size(); ++i)
          if (Ring::to_signed(v[i]) > Ring::to_signed(v[best])) best = i;
        v.assign(1, static_cast<V>(best));
        break;
      }
    }
  }
  return v;
}

template <class Ring>
[[nodiscard]] fixed_trace<Ring> fixed_with_trace(const std::vector<proto::stage>& stages,
                                                 std::span<const typename Ring::value_type> x) {
  using V = typename Ring::value_type;
  fixed_trace<Ring> tr;
  if (stages.empty()) throw usage_error("oracle::fixed: no stages");
  if (x.size() != proto::input_size(stages))
    throw usage_error("oracle::fixed: input has " + std::to_string(x.size()) + " values, stage 0 takes " +
                      std::to_string(proto::input_size(stages)));
  tr.tensors.emplace_back(x.begin(), x.end());
  for (std::size_t k = 0; k < stages.size(); ++k) {
    const auto& st = stages[k];
    std::vector<V> in;
    for (auto t : st.pub.inputs) in.insert(in.end(), tr.tensors.at(t).begin(), tr.tensors.at(t).end());
    if (in.size() != st.pub.in_size()) throw usage_error("oracle::fixed: stage " + std::to_string(k) + " input size mismatch");
    std::vector<V> y = proto::apply<V, std::int64_t>(st.pub.linear, st.weights, st.bias, in);
    tr.linear.push_back(y);
    if (st.pub.garbled()) {
      for (auto& t : y) t = Ring::trunc(t, st.pub.shift);
      y = apply_nonlinear<Ring>(st.pub.ops, st.pub.linear_out, std::move(y));
    }
    tr.tensors.push_back(std::move(y));
  }
  return tr;
}

// The network's output in Z_{2^l}: at scale f after a non-linear final stage,
// at scale e_L (stages.back().pub.scale_bits) after a linear one, or an index (argmax).
template <class Ring>
[[nodiscard]] std::vector<typename Ring::value_type> fixed(const std::vector<proto::stage>& stages,
                                                           std::span<const typename Ring::value_type> x) {
  return std::move(fixed_with_trace<Ring>(stages, x).tensors.back());
}

// Fixed-point encoding of a float input at f bits.
template <class Ring>
[[nodiscard]] std::vector<typename Ring::value_type> encode(std::span<const double> x) {
  std::vector<typename Ring::value_type> v(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) v[i] = Ring::encode(x[i]);
  return v;
}

// Decodes the output of fixed(), given the network's last stage: value /
// 2^scale (argmax: the index itself).
template <class Ring>
[[nodiscard]] std::vector<double> decode_output(const proto::public_stage& last,
                                                std::span<const typename Ring::value_type> y) {
  const bool index = !last.ops.empty() && last.ops.back().kind == proto::op_kind::argmax;
  const unsigned e = last.garbled() ? Ring::frac : last.scale_bits;
  std::vector<double> out(y.size());
  for (std::size_t i = 0; i < y.size(); ++i)
    out[i] = index ? static_cast<double>(y[i]) : std::ldexp(static_cast<double>(Ring::to_signed(y[i])), -static_cast<int>(e));
  return out;
}

template <class Ring>
[[nodiscard]] std::vector<double> decode_output(const std::vector<proto::stage>& stages,
                                                std::span<const typename Ring::value_type> y) {
  return decode_output<Ring>(stages.back().pub, y);
}

}  // namespace pmdi::oracle
