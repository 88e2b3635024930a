#pragma once
// Test helpers: declared layer lists built by hand (the shapes follow from the
// parameters) and a plain float forward pass over layer_info + model_weights.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "pmdi/nn/layer_info.hpp"

namespace pmdi::test {

class layer_list {
 public:
  layer_list(std::size_t c, std::size_t h, std::size_t w) {
    nn::layer_info l;
    l.kind = nn::layer_kind::input;
    l.in = l.out = {c, h, w};
    l.name = "input<" + std::to_string(c) + ", " + std::to_string(h) + ", " + std::to_string(w) + ">";
    v_.push_back(l);
  }
  layer_list& conv(std::size_t oc, std::size_t k, std::size_t s = 1, std::size_t p = 0) {
    auto& l = add(nn::layer_kind::conv2d, "conv2d<" + std::to_string(oc) + ", " + std::to_string(k) + ">", true);
    l.out_channels = oc;
    l.kernel_h = l.kernel_w = k;
    l.stride = s;
    l.pad = p;
    l.out = {oc, (l.in.h + 2 * p - k) / s + 1, (l.in.w + 2 * p - k) / s + 1};
    return *this;
  }
  layer_list& dense(std::size_t n) {
    auto& l = add(nn::layer_kind::dense, "dense<" + std::to_string(n) + ">", true);
    l.units = n;
    l.out = {n, 1, 1};
    return *this;
  }
  layer_list& relu() { return add(nn::layer_kind::relu, "relu", false), *this; }
  layer_list& batchnorm() { return add(nn::layer_kind::batchnorm, "batchnorm", true), *this; }
  layer_list& flatten() {
    auto& l = add(nn::layer_kind::flatten, "flatten", true);
    l.out = {l.in.size(), 1, 1};
    return *this;
  }
  layer_list& pool(bool mean, std::size_t k) {
    auto& l = add(mean ? nn::layer_kind::meanpool : nn::layer_kind::maxpool,
                  (mean ? "meanpool<" : "maxpool<") + std::to_string(k) + ">", mean);
    l.kernel_h = l.kernel_w = l.stride = k;
    l.out = {l.in.c, (l.in.h - k) / k + 1, (l.in.w - k) / k + 1};
    return *this;
  }
  [[nodiscard]] const std::vector<nn::layer_info>& get() const noexcept { return v_; }
  operator const std::vector<nn::layer_info>&() const noexcept { return v_; }

 private:
  nn::layer_info& add(nn::layer_kind k, std::string name, bool linear) {
    nn::layer_info l;
    l.kind = k;
    l.index = v_.size();
    l.input_from = l.index - 1;
    l.name = std::move(name);
    l.in = l.out = v_.back().out;
    l.linear = linear;
    v_.push_back(l);
    return v_.back();
  }
  std::vector<nn::layer_info> v_;
};

// Float forward pass (the loader has folded batch-norm: it is the identity here).
inline std::vector<float> forward(const std::vector<nn::layer_info>& layers, const nn::model_weights& w,
                                  std::vector<float> x) {
  std::vector<std::vector<float>> outs{x};
  for (std::size_t li = 1; li < layers.size(); ++li) {
    const auto& l = layers[li];
    x = outs[l.input_from];
    const nn::layer_weights* lw = nullptr;
    for (const auto& c : w.layers)
      if (c.layer_index == l.index) lw = &c;
    std::vector<float> y(l.out.size(), 0.0F);
    switch (l.kind) {
      case nn::layer_kind::conv2d:
        for (std::size_t o = 0; o < l.out.c; ++o)
          for (std::size_t oy = 0; oy < l.out.h; ++oy)
            for (std::size_t ox = 0; ox < l.out.w; ++ox) {
              float acc = lw->bias[o];
              for (std::size_t i = 0; i < l.in.c; ++i)
                for (std::size_t ky = 0; ky < l.kernel_h; ++ky)
                  for (std::size_t kx = 0; kx < l.kernel_w; ++kx) {
                    const auto iy = static_cast<std::ptrdiff_t>(oy * l.stride + ky) - static_cast<std::ptrdiff_t>(l.pad);
                    const auto ix = static_cast<std::ptrdiff_t>(ox * l.stride + kx) - static_cast<std::ptrdiff_t>(l.pad);
                    if (iy < 0 || ix < 0 || iy >= static_cast<std::ptrdiff_t>(l.in.h) ||
                        ix >= static_cast<std::ptrdiff_t>(l.in.w))
                      continue;
                    acc += lw->weight[((o * l.in.c + i) * l.kernel_h + ky) * l.kernel_w + kx] *
                           x[(i * l.in.h + static_cast<std::size_t>(iy)) * l.in.w + static_cast<std::size_t>(ix)];
                  }
              y[(o * l.out.h + oy) * l.out.w + ox] = acc;
            }
        break;
      case nn::layer_kind::dense:
        for (std::size_t u = 0; u < l.units; ++u) {
          float acc = lw->bias[u];
          for (std::size_t i = 0; i < x.size(); ++i) acc += lw->weight[u * x.size() + i] * x[i];
          y[u] = acc;
        }
        break;
      case nn::layer_kind::relu:
        for (std::size_t i = 0; i < x.size(); ++i) y[i] = std::max(x[i], 0.0F);
        break;
      case nn::layer_kind::meanpool:
      case nn::layer_kind::maxpool:
        for (std::size_t c = 0; c < l.out.c; ++c)
          for (std::size_t oy = 0; oy < l.out.h; ++oy)
            for (std::size_t ox = 0; ox < l.out.w; ++ox) {
              float acc = l.kind == nn::layer_kind::maxpool ? -std::numeric_limits<float>::infinity() : 0.0F;
              for (std::size_t ky = 0; ky < l.kernel_h; ++ky)
                for (std::size_t kx = 0; kx < l.kernel_w; ++kx) {
                  const float v = x[(c * l.in.h + oy * l.stride + ky) * l.in.w + ox * l.stride + kx];
                  acc = l.kind == nn::layer_kind::maxpool ? std::max(acc, v) : acc + v;
                }
              if (l.kind == nn::layer_kind::meanpool) acc /= static_cast<float>(l.kernel_h * l.kernel_w);
              y[(c * l.out.h + oy) * l.out.w + ox] = acc;
            }
        break;
      case nn::layer_kind::residual_add:
        for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] + outs[l.skip_from][i];
        break;
      case nn::layer_kind::argmax:
        y = {static_cast<float>(std::max_element(x.begin(), x.end()) - x.begin())};
        break;
      case nn::layer_kind::batchnorm: {
        const std::size_t per = x.size() / l.in.c;
        for (std::size_t i = 0; i < x.size(); ++i) {
          const std::size_t c = i / per;
          y[i] = lw->gamma[c] * (x[i] - lw->mean[c]) / std::sqrt(lw->var[c] + lw->epsilon) + lw->beta[c];
        }
        break;
      }
      default: y = x;  // flatten
    }
    x = y;
    outs.push_back(std::move(y));
  }
  return x;
}

}  // namespace pmdi::test
