#pragma once
// Weights against the declared network: checking, batch-norm folding, and
// random weights for tests and benches.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/nn/layer_info.hpp"
#include "pmdi/nn/sequential.hpp"

namespace pmdi::nn {

namespace detail {
inline std::string where(const layer_info& li) { return li.name + " (layer " + std::to_string(li.index) + ")"; }
}  // namespace detail

// Checks that `w` has exactly one entry per declared layer with parameters
// (conv2d, dense, batchnorm), with the declared sizes. An empty bias means
// zero bias. Throws pmdi::usage_error naming the layer.
template <class Net>
void check_weights(const model_weights& w) {
  const auto d = describe<Net>();
  std::vector<int> seen(d.size(), 0);
  for (const auto& e : w.layers) {
    if (e.layer_index >= d.size())
      throw usage_error("weights given for layer " + std::to_string(e.layer_index) + " but the network declares only " +
                        std::to_string(d.size()) + " layers");
    const layer_info& li = d[e.layer_index];
    if (!li.has_parameters())
      throw usage_error("weights given for " + detail::where(li) + ", which takes no parameters");
    if (seen[li.index]++ != 0) throw usage_error("weights given twice for " + detail::where(li));
    auto expect = [&](const char* what, std::size_t got, std::size_t want) {
      if (got != want)
        throw usage_error(detail::where(li) + ": expected " + std::to_string(want) + " " + what + " (shape " +
                          li.in.str() + " -> " + li.out.str() + ") but got " + std::to_string(got));
    };
    if (li.kind == layer_kind::batchnorm) {
      expect("gamma values", e.gamma.size(), li.in.c);
      expect("beta values", e.beta.size(), li.in.c);
      expect("running-mean values", e.mean.size(), li.in.c);
      expect("running-variance values", e.var.size(), li.in.c);
      for (float v : e.var)
        if (!(v + e.epsilon > 0)) throw usage_error(detail::where(li) + ": running variance + epsilon must be positive");
    } else {
      expect("weights", e.weight.size(), li.weight_count());
      if (!e.bias.empty()) expect("biases", e.bias.size(), li.bias_count());
    }
  }
  for (const auto& li : d)
    if (li.has_parameters() && seen[li.index] == 0) throw usage_error(detail::where(li) + ": no weights given");
}

// Effective float parameters of each conv2d/dense (indexed by declared layer
// index), with a following batchnorm folded in:
//   s = gamma / sqrt(var + eps);  w' = w * s (per output channel);
//   b' = (b - mean) * s + beta.
struct folded_layer {
  std::vector<double> weight, bias;
};

template <class Net>
[[nodiscard]] std::vector<folded_layer> fold_batchnorm(const model_weights& w) {
  check_weights<Net>(w);
  const auto d = describe<Net>();
  std::vector<const layer_weights*> by(d.size(), nullptr);
  for (const auto& e : w.layers) by[e.layer_index] = &e;
  std::vector<folded_layer> out(d.size());
  for (const auto& li : d) {
    if (li.kind != layer_kind::conv2d && li.kind != layer_kind::dense) continue;
    const layer_weights& e = *by[li.index];
    folded_layer& f = out[li.index];
    f.weight.assign(e.weight.begin(), e.weight.end());
    f.bias.assign(li.bias_count(), 0.0);
    for (std::size_t o = 0; o < e.bias.size(); ++o) f.bias[o] = e.bias[o];
    const std::size_t next = li.index + 1;
    if (next < d.size() && d[next].kind == layer_kind::batchnorm && d[next].input_from == li.index) {
      const layer_weights& bn = *by[next];
      const std::size_t per = li.weight_count() / li.bias_count();
      for (std::size_t o = 0; o < li.bias_count(); ++o) {
        const double s = static_cast<double>(bn.gamma[o]) / std::sqrt(static_cast<double>(bn.var[o]) + bn.epsilon);
        for (std::size_t j = 0; j < per; ++j) f.weight[o * per + j] *= s;
        f.bias[o] = (f.bias[o] - bn.mean[o]) * s + bn.beta[o];
      }
    }
  }
  return out;
}

// Uniform double in [lo, hi) from the injected generator.
[[nodiscard]] inline double uniform_real(prg& g, double lo, double hi) {
  const double u = static_cast<double>(g.next<std::uint64_t>() >> 11) * 0x1.0p-53;
  return lo + (hi - lo) * u;
}

// Random weights for the declared network: conv2d/dense weights uniform in
// +-scale / sqrt(fan_in), biases in +-0.1 scale; batchnorm gamma in [0.5, 1.5),
// beta and running mean in +-0.1, running variance in [0.5, 1.5).
template <class Net>
[[nodiscard]] model_weights random_weights(prg& g, double scale = 1.0) {
  model_weights w;
  for (const auto& li : describe<Net>()) {
    if (!li.has_parameters()) continue;
    layer_weights e;
    e.layer_index = li.index;
    if (li.kind == layer_kind::batchnorm) {
      for (std::size_t c = 0; c < li.in.c; ++c) {
        e.gamma.push_back(static_cast<float>(uniform_real(g, 0.5, 1.5)));
        e.beta.push_back(static_cast<float>(uniform_real(g, -0.1, 0.1)));
        e.mean.push_back(static_cast<float>(uniform_real(g, -0.1, 0.1)));
        e.var.push_back(static_cast<float>(uniform_real(g, 0.5, 1.5)));
      }
    } else {
      const double fan = static_cast<double>(li.weight_count() / li.bias_count());
      const double a = scale / std::sqrt(fan);
      e.weight.resize(li.weight_count());
      for (auto& v : e.weight) v = static_cast<float>(uniform_real(g, -a, a));
      e.bias.resize(li.bias_count());
      for (auto& v : e.bias) v = static_cast<float>(uniform_real(g, -0.1 * scale, 0.1 * scale));
    }
    w.layers.push_back(std::move(e));
  }
  return w;
}

// Random weights for benchmarks that are honest in the fixed-point domain at
// `frac` fractional bits: every weight is a non-zero multiple of 2^-frac,
// k 2^-frac with k uniform in +-[1, kmax], kmax = max(1, 2^frac / sqrt(fan-in)),
// so no weight encodes to 0 (plain random_weights at 5 fractional bits
// encodes almost every weight of a wide layer as 0, and zeros cost nothing
// in the offline products). Biases likewise, in +-[0, 2^frac / 8]. A
// batch-norm gets gamma in [1, 1.5], variance 1 - 1e-5 (PyTorch's eps: the
// folded scale is gamma >= 1, so folding never rounds a weight to 0).
template <class Net>
[[nodiscard]] model_weights random_fixed_weights(prg& g, unsigned frac) {
  model_weights w;
  const double unit = std::ldexp(1.0, -static_cast<int>(frac));
  for (const auto& li : describe<Net>()) {
    if (!li.has_parameters()) continue;
    layer_weights e;
    e.layer_index = li.index;
    if (li.kind == layer_kind::batchnorm) {
      for (std::size_t c = 0; c < li.in.c; ++c) {
        e.gamma.push_back(static_cast<float>(uniform_real(g, 1.0, 1.5)));
        e.beta.push_back(static_cast<float>(uniform_real(g, -0.1, 0.1)));
        e.mean.push_back(static_cast<float>(uniform_real(g, -0.1, 0.1)));
        e.var.push_back(1.0F - 1e-5F);
      }
    } else {
      const double fan = static_cast<double>(li.weight_count() / li.bias_count());
      const auto kmax = static_cast<std::uint64_t>(std::max(1.0, std::floor(std::ldexp(1.0, static_cast<int>(frac)) / std::sqrt(fan))));
      e.weight.resize(li.weight_count());
      for (auto& v : e.weight) {
        const double k = static_cast<double>(1 + g.uniform(kmax));
        v = static_cast<float>((g.uniform(2) != 0 ? k : -k) * unit);
      }
      const std::uint64_t bmax = std::max<std::uint64_t>(1, (std::uint64_t{1} << frac) / 8);
      e.bias.resize(li.bias_count());
      for (auto& v : e.bias) {
        const double k = static_cast<double>(g.uniform(bmax + 1));
        v = static_cast<float>((g.uniform(2) != 0 ? k : -k) * unit);
      }
    }
    w.layers.push_back(std::move(e));
  }
  return w;
}

}  // namespace pmdi::nn
