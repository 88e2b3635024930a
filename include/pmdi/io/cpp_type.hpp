#pragma once
// The C++ spelling of a network: each layer as the DSL writes it
// (pmdi/nn/layers.hpp), and a whole layer list as one nn::sequential type.
// onnx2pmdi prints it for the layers of an ONNX model; the ONNX loader names
// layers with it in its errors.
#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/nn/layer_info.hpp"

namespace pmdi::io {

namespace detail {

inline std::string kind_str(nn::layer_kind k) {
  switch (k) {
    case nn::layer_kind::input: return "input";
    case nn::layer_kind::conv2d: return "conv2d";
    case nn::layer_kind::dense: return "dense";
    case nn::layer_kind::relu: return "relu";
    case nn::layer_kind::meanpool: return "meanpool";
    case nn::layer_kind::maxpool: return "maxpool";
    case nn::layer_kind::flatten: return "flatten";
    case nn::layer_kind::batchnorm: return "batchnorm";
    case nn::layer_kind::residual_add: return "residual_add";
    case nn::layer_kind::argmax: return "argmax";
  }
  return "?";
}

// The C++ spelling of one layer, as the DSL writes it.
inline std::string layer_spelling(const nn::layer_info& l) {
  const auto n = [](std::size_t v) { return std::to_string(v); };
  switch (l.kind) {
    case nn::layer_kind::input: return "input<" + n(l.out.c) + ", " + n(l.out.h) + ", " + n(l.out.w) + ">";
    case nn::layer_kind::conv2d: {
      std::string s = l.kernel_h == l.kernel_w ? "conv2d<" + n(l.out_channels) + ", " + n(l.kernel_h)
                                               : "conv2d_rect<" + n(l.out_channels) + ", " + n(l.kernel_h) + ", " +
                                                     n(l.kernel_w);
      if (l.stride != 1 || l.pad != 0) s += ", " + n(l.stride);
      if (l.pad != 0) s += ", " + n(l.pad);
      return s + ">";
    }
    case nn::layer_kind::dense: return "dense<" + n(l.units) + ">";
    case nn::layer_kind::meanpool:
    case nn::layer_kind::maxpool:
      return std::string(l.kind == nn::layer_kind::meanpool ? "meanpool<" : "maxpool<") + n(l.kernel_h) +
             (l.stride != l.kernel_h ? ", " + n(l.stride) : std::string()) + ">";
    default: return kind_str(l.kind);
  }
}

}  // namespace detail

// The C++ type of a layer list (as describe<Net>() or describe_onnx lays it
// out: a residual block's body, then its shortcut, then the add), one
// top-level layer per line:
//   using net = pmdi::nn::sequential<
//       pmdi::nn::input<1, 28, 28>,
//       pmdi::nn::residual<pmdi::nn::conv2d<4, 3, 1, 1>, ..., pmdi::nn::shortcut<...>>,
//       ...>;
[[nodiscard]] inline std::string cpp_type(std::span<const nn::layer_info> layers, const std::string& alias = "net") {
  struct item {
    std::size_t first;  // index of the first layer the item spells
    std::string text;
  };
  std::vector<item> items;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    if (l.kind != nn::layer_kind::residual_add) {
      items.push_back({i, "pmdi::nn::" + detail::layer_spelling(l)});
      continue;
    }
    // Block input X: where the add's two chains meet.
    auto chain = [&](std::size_t k) {
      std::vector<std::size_t> c{k};
      while (k > 0) c.push_back(k = layers[k].input_from);
      return c;
    };
    const auto a = chain(l.input_from), b = chain(l.skip_from);
    std::size_t x = 0;
    for (auto k : a)
      if (std::find(b.begin(), b.end(), k) != b.end()) {
        x = k;
        break;
      }
    // The shortcut's first layer reads X and comes after the body.
    std::size_t sc = i;
    if (l.skip_from != x)
      for (std::size_t k = x + 2; k < i; ++k)
        if (layers[k].input_from == x) {
          sc = k;
          break;
        }
    std::string body, shortcut;
    while (!items.empty() && items.back().first > x) {
      auto& s = items.back().first >= sc ? shortcut : body;
      s = items.back().text + (s.empty() ? "" : ", ") + s;
      items.pop_back();
    }
    if (body.empty()) throw usage_error("cpp_type: residual add (layer " + std::to_string(i) + ") has an empty body");
    items.push_back({x + 1, "pmdi::nn::residual<" + body + (shortcut.empty() ? "" : ", pmdi::nn::shortcut<" + shortcut + ">") + ">"});
  }
  std::string s = "using " + alias + " = pmdi::nn::sequential<";
  for (std::size_t i = 0; i < items.size(); ++i) s += std::string(i ? "," : "") + "\n    " + items[i].text;
  return s + ">;\n";
}

}  // namespace pmdi::io
