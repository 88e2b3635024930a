#pragma once
// nn::sequential<input<...>, layers...>: the network as a type.
//
// traits<Net> computes, at compile time, the graph of the flattened layer list
// (residual blocks expanded), every tensor's shape, and the first declaration
// error, which it reports as a static_assert starting with an identifier of
// diag/errors.hpp. describe<Net>() mirrors the graph at run time.
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "pmdi/core/tensor.hpp"
#include "pmdi/diag/errors.hpp"
#include "pmdi/nn/layer_info.hpp"
#include "pmdi/nn/layers.hpp"

namespace pmdi::nn {

template <class... Layers>
struct sequential {
  using declared = type_list<Layers...>;
};

// Printed in diagnostics: the shape a layer received or produced.
template <std::size_t C, std::size_t H, std::size_t W>
struct shape {};
// Printed in diagnostics: a layer and its index in the declared list (input = 0).
template <std::size_t Index, class Layer>
struct layer_at {};

inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

// One entry of the flattened list (markers of residual blocks included).
struct node {
  layer_spec spec{};
  int marker = 0;            // 0: a layer, 1: residual block begins, 2: its shortcut begins
  std::size_t index = npos;  // declared index (input = 0); npos for markers
  std::size_t src = npos;    // flat position of the node whose output this one reads
  std::size_t skip = npos;   // residual_add: flat position of the skip operand
  std::size_t origin = npos; // residual_add: flat position of the block input
  shape3 in{}, out{};
  bool flat = false;         // output made by flatten/dense (a vector)
  bool in_shortcut = false;
  [[nodiscard]] constexpr bool is_layer() const noexcept { return marker == 0; }
  [[nodiscard]] constexpr bool linear() const noexcept { return marker == 0 && is_linear_kind(spec.kind); }
  [[nodiscard]] constexpr bool nonlinear() const noexcept { return marker == 0 && is_nonlinear_kind(spec.kind); }
};

enum class fault {
  none, first_not_input, empty, bad_parameter, dense_needs_flat, spatial_on_flat, kernel_too_large,
  argmax_not_last, batchnorm_placement, residual_shape, residual_source, shortcut_not_linear, stray_residual_add
};
struct graph_fault {
  fault what = fault::none;
  std::size_t at = 0, other = 0;  // flat positions
};

namespace detail {

constexpr std::size_t out_dim(std::size_t in, std::size_t k, std::size_t stride, std::size_t pad) noexcept {
  if (stride == 0 || k == 0 || in + 2 * pad < k) return 1;
  return (in + 2 * pad - k) / stride + 1;
}

template <std::size_t N>
constexpr std::array<node, N> build_graph(const std::array<layer_spec, N>& specs, const std::array<int, N>& marks) {
  std::array<node, N> a{};
  std::size_t stack_in[64]{}, stack_body[64]{};
  std::size_t sp = 0, cur = npos, idx = 0;
  for (std::size_t i = 0; i < N; ++i) {
    node& n = a[i];
    n.spec = specs[i];
    n.marker = marks[i];
    if (n.marker == 1) {
      stack_in[sp] = cur;
      stack_body[sp] = npos;
      ++sp;
      n.src = cur;
      continue;
    }
    if (n.marker == 2) {
      stack_body[sp - 1] = cur;
      n.src = cur;
      cur = stack_in[sp - 1];
      continue;
    }
    n.index = idx++;
    n.in_shortcut = sp > 0 && stack_body[sp - 1] != npos;
    const layer_spec& s = n.spec;
    if (i == 0 || s.kind == layer_kind::input) {
      n.in = n.out = shape3{s.c, s.h, s.w};
      cur = i;
      continue;
    }
    if (s.kind == layer_kind::residual_add && sp == 0) {  // written by hand, outside nn::residual<...>
      n.src = npos;
      n.in = n.out = shape3{1, 1, 1};
      cur = i;
      continue;
    }
    if (s.kind == layer_kind::residual_add) {
      n.src = stack_body[sp - 1];
      n.skip = cur;
      n.origin = stack_in[sp - 1];
      --sp;
    } else {
      n.src = cur;
    }
    n.in = a[n.src].out;
    const shape3 in = n.in;
    switch (s.kind) {
      case layer_kind::conv2d:
        n.out = shape3{s.out_channels, out_dim(in.h, s.kernel_h, s.stride, s.pad), out_dim(in.w, s.kernel_w, s.stride, s.pad)};
        break;
      case layer_kind::meanpool:
      case layer_kind::maxpool:
        n.out = shape3{in.c, out_dim(in.h, s.kernel_h, s.stride, 0), out_dim(in.w, s.kernel_w, s.stride, 0)};
        break;
      case layer_kind::dense: n.out = shape3{s.units, 1, 1}; n.flat = true; break;
      case layer_kind::flatten: n.out = shape3{in.size(), 1, 1}; n.flat = true; break;
      case layer_kind::argmax: n.out = shape3{1, 1, 1}; n.flat = true; break;
      default: n.out = in; n.flat = a[n.src].flat; break;  // relu, batchnorm, residual_add
    }
    cur = i;
  }
  return a;
}

template <std::size_t N>
constexpr std::size_t next_layer(const std::array<node, N>& a, std::size_t i) noexcept {
  for (std::size_t j = i + 1; j < N; ++j)
    if (a[j].is_layer()) return j;
  return npos;
}

// A tensor is a stage boundary when it is the network input or the output of
// a non-linear run (a non-linear layer followed by a linear one or the end).
template <std::size_t N>
constexpr bool is_boundary(const std::array<node, N>& a, std::size_t i) noexcept {
  if (i == 0) return true;
  if (!a[i].nonlinear()) return false;
  const std::size_t j = next_layer(a, i);
  return j == npos || a[j].linear();
}

template <std::size_t N>
constexpr graph_fault find_fault(const std::array<node, N>& a) noexcept {
  if (N == 0 || a[0].marker != 0 || a[0].spec.kind != layer_kind::input) return {fault::first_not_input, 0, 0};
  if (a[0].spec.c == 0 || a[0].spec.h == 0 || a[0].spec.w == 0) return {fault::bad_parameter, 0, 0};
  std::size_t last = 0;
  for (std::size_t i = 0; i < N; ++i)
    if (a[i].is_layer()) last = i;
  if (last == 0) return {fault::empty, 0, 0};
  for (std::size_t i = 1; i < N; ++i) {
    const node& n = a[i];
    if (!n.is_layer()) continue;
    const layer_spec& s = n.spec;
    if (s.kind == layer_kind::residual_add && n.src == npos) return {fault::stray_residual_add, i, 0};
    if (s.kind == layer_kind::input || n.src == npos) return {fault::first_not_input, i, 0};
    const node& p = a[n.src];
    switch (s.kind) {
      case layer_kind::conv2d:
        if (s.out_channels == 0 || s.kernel_h == 0 || s.kernel_w == 0 || s.stride == 0) return {fault::bad_parameter, i, 0};
        if (p.flat) return {fault::spatial_on_flat, i, n.src};
        if (s.kernel_h > n.in.h + 2 * s.pad || s.kernel_w > n.in.w + 2 * s.pad) return {fault::kernel_too_large, i, n.src};
        break;
      case layer_kind::meanpool:
      case layer_kind::maxpool:
        if (s.kernel_h == 0 || s.stride == 0) return {fault::bad_parameter, i, 0};
        if (p.flat) return {fault::spatial_on_flat, i, n.src};
        if (s.kernel_h > n.in.h || s.kernel_w > n.in.w) return {fault::kernel_too_large, i, n.src};
        break;
      case layer_kind::dense:
        if (s.units == 0) return {fault::bad_parameter, i, 0};
        if (n.in.h != 1 || n.in.w != 1) return {fault::dense_needs_flat, i, n.src};
        break;
      case layer_kind::batchnorm:
        if (n.src != i - 1 || !p.is_layer() || (p.spec.kind != layer_kind::conv2d && p.spec.kind != layer_kind::dense))
          return {fault::batchnorm_placement, i, n.src};
        break;
      case layer_kind::argmax:
        if (i != last) return {fault::argmax_not_last, i, next_layer(a, i)};
        break;
      case layer_kind::residual_add:
        if (!(a[n.src].out == a[n.skip].out)) return {fault::residual_shape, i, n.src};
        if (!is_boundary(a, n.origin)) return {fault::residual_source, i, n.origin};
        break;
      default: break;
    }
    if (n.in_shortcut && !n.linear()) return {fault::shortcut_not_linear, i, 0};
  }
  return {};
}

// ---- diagnostics --------------------------------------------------------------
template <fault F, class At, class Other, class InShape>
struct report {
  static constexpr bool value = true;
};
template <class At, class Other, class S>
struct report<fault::first_not_input, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_FIRST_NOT_INPUT, At>) != 0);  // the first error line
  static_assert(diag::always_false_v<At>,
                "PMDI_E_FIRST_NOT_INPUT: nn::sequential<...> must start with nn::input<C, H, W> and contain it only "
                "once; the layer named in layer_at<index, layer> is in the wrong place");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class Other, class S>
struct report<fault::empty, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_EMPTY_NETWORK, At>) != 0);  // the first error line
  static_assert(diag::always_false_v<At>,
                "PMDI_E_EMPTY_NETWORK: nn::sequential<nn::input<...>> has no layer after the input");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class Other, class S>
struct report<fault::bad_parameter, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_BAD_PARAMETER, At>) != 0);  // the first error line
  static_assert(diag::always_false_v<At>,
                "PMDI_E_BAD_PARAMETER: the layer in layer_at<index, layer> has a zero size, kernel or stride; give it "
                "positive values");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class Other, class S>
struct report<fault::dense_needs_flat, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_SHAPE_MISMATCH, At, Other, S>) != 0);  // the first error line
  static_assert(diag::always_false_v<At, Other, S>,
                "PMDI_E_SHAPE_MISMATCH: dense<N> (layer_at<index, dense<N>>) expects a flat input but the layer before "
                "it (second layer_at<...>) yields shape<C, H, W> with H, W > 1; insert nn::flatten before dense");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class Other, class S>
struct report<fault::spatial_on_flat, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_SHAPE_MISMATCH, At, Other, S>) != 0);  // the first error line
  static_assert(diag::always_false_v<At, Other, S>,
                "PMDI_E_SHAPE_MISMATCH: conv2d/meanpool/maxpool (first layer_at<...>) expects a CxHxW tensor but the "
                "layer before it (second layer_at<...>) yields a flat vector; remove nn::flatten or move it after");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class Other, class S>
struct report<fault::kernel_too_large, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_KERNEL_TOO_LARGE, At, Other, S>) != 0);  // the first error line
  static_assert(diag::always_false_v<At, Other, S>,
                "PMDI_E_KERNEL_TOO_LARGE: the window of the first layer_at<...> is larger than its (padded) input "
                "shape<C, H, W> from the second layer_at<...>; use a smaller kernel, padding or fewer poolings");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class Other, class S>
struct report<fault::argmax_not_last, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_ARGMAX_NOT_LAST, At, Other>) != 0);  // the first error line
  static_assert(diag::always_false_v<At, Other>,
                "PMDI_E_ARGMAX_NOT_LAST: nn::argmax (first layer_at<...>) must be the final layer but the second "
                "layer_at<...> follows it");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class Other, class S>
struct report<fault::batchnorm_placement, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_BATCHNORM_PLACEMENT, At, Other>) != 0);  // the first error line
  static_assert(diag::always_false_v<At, Other>,
                "PMDI_E_BATCHNORM_PLACEMENT: nn::batchnorm (first layer_at<...>) must directly follow a conv2d or "
                "dense layer (it is folded into it) but follows the second layer_at<...>");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class Other, class S>
struct report<fault::residual_shape, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_RESIDUAL_SHAPE, At, Other, S>) != 0);  // the first error line
  static_assert(diag::always_false_v<At, Other, S>,
                "PMDI_E_RESIDUAL_SHAPE: the residual add (first layer_at<...>) gets the body's output (second "
                "layer_at<...>) and a skip tensor of another shape (body_and_skip<shape<...>, shape<...>>); add "
                "nn::shortcut<nn::conv2d<C, 1, S>> to the nn::residual<...> to project the skip path");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class Other, class S>
struct report<fault::residual_source, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_RESIDUAL_SOURCE, At, Other>) != 0);  // the first error line
  static_assert(diag::always_false_v<At, Other>,
                "PMDI_E_RESIDUAL_SOURCE: the residual block closed by the first layer_at<...> starts at the output of "
                "the second layer_at<...>, which is not a stage boundary (the network input or the output of a "
                "non-linear run); start the block after a relu/maxpool");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class Other, class S>
struct report<fault::shortcut_not_linear, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_SHORTCUT_NOT_LINEAR, At>) != 0);  // the first error line
  static_assert(diag::always_false_v<At>,
                "PMDI_E_SHORTCUT_NOT_LINEAR: nn::shortcut<...> may hold only linear layers (conv2d, batchnorm, "
                "meanpool) but contains the layer_at<...> above");
  static constexpr bool value = true;  // reported above (diag::error)
};

template <class At, class Other, class S>
struct report<fault::stray_residual_add, At, Other, S> {
  static_assert(sizeof(diag::error<diag::PMDI_E_NOT_A_LAYER, At>) != 0);  // the first error line
  static_assert(diag::always_false_v<At>,
                "PMDI_E_NOT_A_LAYER: nn::residual_add (layer_at<...>) is generated by nn::residual<...>; write the "
                "block as nn::residual<body..., nn::shortcut<...>> instead");
  static constexpr bool value = true;  // reported above (diag::error)
};

template <class T, std::size_t Pos>
struct not_a_layer {
  static_assert(sizeof(diag::error<diag::PMDI_E_NOT_A_LAYER, T>) != 0);  // the first error line
  static_assert(diag::always_false_v<T>,
                "PMDI_E_NOT_A_LAYER: a template argument of nn::sequential<...> (or of nn::residual / nn::shortcut) "
                "is not a pmdi layer; the offending type is named in not_a_layer<type, argument position>");
  static constexpr bool value = true;  // reported above (diag::error)
};

// First argument (recursively through residual/shortcut) that is not a layer.
template <class T>
struct first_bad {
  using type = std::conditional_t<layer<T>, void, T>;
};
template <class... Ts>
struct first_bad_of {
  using type = void;
};
template <class T, class... Ts>
struct first_bad_of<T, Ts...> {
  using head = typename first_bad<T>::type;
  using type = std::conditional_t<std::is_void_v<head>, typename first_bad_of<Ts...>::type, head>;
};
template <class... B>
struct first_bad<residual<B...>> {
  using type = typename first_bad_of<B...>::type;
};
template <class... S>
struct first_bad<shortcut<S...>> {
  using type = typename first_bad_of<S...>::type;
};

template <class Flat>
struct graph_of;
template <class... Ts>
struct graph_of<type_list<Ts...>> {
  static constexpr std::size_t size = sizeof...(Ts);
  static constexpr std::array<node, size> nodes =
      build_graph<size>(std::array<layer_spec, size>{spec_of<Ts>...}, std::array<int, size>{marker_of<Ts>...});
  template <std::size_t I>
  using type_at = std::tuple_element_t<I, std::tuple<Ts...>>;
};

template <class G, std::size_t I>
using at_t = layer_at<G::nodes[I].index, typename G::template type_at<I>>;

template <class G, std::size_t I>
using shape_at = shape<G::nodes[I].out.c, G::nodes[I].out.h, G::nodes[I].out.w>;
// Printed for PMDI_E_RESIDUAL_SHAPE: the body's and the skip path's shapes.
template <class Body, class Skip>
struct body_and_skip {};

template <class G, graph_fault F>
struct report_fault {
  using in = std::conditional_t<F.what == fault::residual_shape,
                                body_and_skip<shape_at<G, F.other>,
                                              shape_at<G, F.what == fault::residual_shape ? G::nodes[F.at].skip : F.other>>,
                                shape_at<G, F.other>>;
  static constexpr bool value = report<F.what, at_t<G, F.at>, at_t<G, F.other>, in>::value;
};
template <class G>
struct report_fault<G, graph_fault{}> {
  static constexpr bool value = true;
};

template <class Net>
struct not_sequential {
  static_assert(sizeof(diag::error<diag::PMDI_E_NOT_A_LAYER, Net>) != 0);  // the first error line
  static_assert(diag::always_false_v<Net>,
                "PMDI_E_NOT_A_LAYER: expected a network nn::sequential<nn::input<C, H, W>, layers...>");
  static constexpr bool value = true;  // reported above (diag::error)
};
}  // namespace detail

// ---- traits<Net> ----------------------------------------------------------------
template <class Net>
struct traits {
  static constexpr bool valid = detail::not_sequential<Net>::value;
};

template <class... Ls>
struct traits<sequential<Ls...>> {
  using bad = typename detail::first_bad_of<Ls...>::type;
  using flat = typename detail::flat_all<Ls...>::type;
  using graph = detail::graph_of<flat>;
  static constexpr std::size_t flat_size = graph::size;
  static constexpr const std::array<node, flat_size>& nodes = graph::nodes;
  static constexpr graph_fault fault = detail::find_fault(graph::nodes);
  // Instantiating `valid` runs every check; the first failure is a static_assert.
  static constexpr bool valid =
      std::conditional_t<std::is_void_v<bad>, detail::report_fault<graph, fault>, detail::not_a_layer<bad, 0>>::value;

  static constexpr std::size_t layer_count = [] {
    std::size_t n = 0;
    for (const auto& x : graph::nodes) n += x.is_layer() ? 1 : 0;
    return n;
  }();
  static constexpr std::size_t last_position = [] {
    std::size_t p = 0;
    for (std::size_t i = 0; i < flat_size; ++i)
      if (graph::nodes[i].is_layer()) p = i;
    return p;
  }();
  static constexpr shape3 input_shape = graph::nodes[0].out;
  static constexpr shape3 output_shape = graph::nodes[last_position].out;
  // Flat position of the layer with declared index i.
  [[nodiscard]] static constexpr std::size_t position(std::size_t index) noexcept {
    for (std::size_t i = 0; i < flat_size; ++i)
      if (graph::nodes[i].index == index) return i;
    return npos;
  }
  [[nodiscard]] static constexpr shape3 output_of(std::size_t index) noexcept { return graph::nodes[position(index)].out; }
};

template <class Net>
inline constexpr bool valid_v = traits<Net>::valid;

// ---- run-time description -------------------------------------------------------
[[nodiscard]] inline std::string layer_name(const layer_spec& s) {
  auto n = [](std::size_t v) { return std::to_string(v); };
  switch (s.kind) {
    case layer_kind::input: return "input<" + n(s.c) + ", " + n(s.h) + ", " + n(s.w) + ">";
    case layer_kind::conv2d: {
      std::string r = s.rect ? "conv2d_rect<" + n(s.out_channels) + ", " + n(s.kernel_h) + ", " + n(s.kernel_w)
                             : "conv2d<" + n(s.out_channels) + ", " + n(s.kernel_h);
      if (s.stride != 1 || s.pad != 0) r += ", " + n(s.stride);
      if (s.pad != 0) r += ", " + n(s.pad);
      return r + ">";
    }
    case layer_kind::dense: return "dense<" + n(s.units) + ">";
    case layer_kind::relu: return "relu";
    case layer_kind::meanpool:
    case layer_kind::maxpool:
      return std::string(s.kind == layer_kind::meanpool ? "meanpool<" : "maxpool<") + n(s.kernel_h) +
             (s.stride != s.kernel_h ? ", " + n(s.stride) : std::string()) + ">";
    case layer_kind::flatten: return "flatten";
    case layer_kind::batchnorm: return "batchnorm";
    case layer_kind::residual_add: return "residual_add";
    case layer_kind::argmax: return "argmax";
  }
  return "?";
}

// The declared layers, in order (residual blocks expanded: body, shortcut,
// then residual_add). `input_from` is the declared index of the layer whose
// output a layer reads; `skip_from` (residual_add) the one whose output is added.
template <class Net>
[[nodiscard]] std::vector<layer_info> describe() {
  using T = traits<Net>;
  static_assert(T::valid);
  std::vector<layer_info> out;
  // (A type that is not a network has been reported by valid: nothing to describe.)
  if constexpr (requires { T::flat_size; }) {
    for (std::size_t i = 0; i < T::flat_size; ++i) {
      const node& n = T::nodes[i];
      if (!n.is_layer()) continue;
      layer_info li;
      li.kind = n.spec.kind;
      li.index = n.index;
      li.name = layer_name(n.spec);
      li.in = n.in;
      li.out = n.out;
      li.out_channels = n.spec.kind == layer_kind::conv2d ? n.spec.out_channels : 0;
      li.kernel_h = n.spec.kernel_h;
      li.kernel_w = n.spec.kernel_w;
      li.stride = n.spec.stride;
      li.pad = n.spec.pad;
      li.units = n.spec.units;
      li.input_from = n.src == npos ? 0 : T::nodes[n.src].index;
      li.skip_from = n.skip == npos ? 0 : T::nodes[n.skip].index;
      li.linear = n.linear();
      out.push_back(std::move(li));
    }
  }
  return out;
}

}  // namespace pmdi::nn
