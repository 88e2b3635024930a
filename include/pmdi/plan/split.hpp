#pragma once
// The split of a network into stages, at compile time.
//
// A stage is a maximal run of linear layers followed by the maximal run of
// non-linear layers after it (either run may be empty at the ends: a network
// may start with a non-linear layer, and the last stage may be linear only).
// One more cut: a weighted layer (conv2d, dense) whose input already went
// through a weighted layer of the same run starts a new stage, and the stage
// before it ends with a truncation only (`truncates`). Shares of two weight
// tensors applied in series would multiply, not add, so a run holds at most
// one weighted layer on any path (proto/linear.hpp); the truncation brings
// the value back to scale f, as a non-linear stage's would.
// Tensor ids: 0 is the network input, k (k >= 1) is the output of stage k-1.
#include <array>
#include <boost/hana/comparing.hpp>
#include <boost/hana/filter.hpp>
#include <boost/hana/group.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <cstddef>

#include "pmdi/nn/sequential.hpp"

namespace pmdi::plan {

using nn::npos;

struct stage_info {
  std::size_t lin_first = npos, lin_last = npos;  // flat positions of the linear run (npos: empty)
  std::size_t nl_first = npos, nl_last = npos;    // flat positions of the non-linear run (npos: empty)
  std::array<std::size_t, 8> skips{};             // tensor ids read besides this stage's input (residuals)
  std::size_t skip_count = 0;
  shape3 in_shape{}, linear_shape{}, out_shape{};
  bool truncates = false;  // no non-linear run, but cut before a weighted layer: ends with trunc
  [[nodiscard]] constexpr bool has_nonlinear() const noexcept { return nl_first != npos; }
  // A garbled circuit runs at the end: non-linear layers, or the truncation of a cut.
  [[nodiscard]] constexpr bool garbled() const noexcept { return has_nonlinear() || truncates; }
  [[nodiscard]] constexpr bool has_linear() const noexcept { return lin_first != npos; }
  [[nodiscard]] constexpr std::size_t last() const noexcept { return has_nonlinear() ? nl_last : lin_last; }
};

namespace detail {
constexpr bool weighted_kind(nn::layer_kind k) noexcept {
  return k == nn::layer_kind::conv2d || k == nn::layer_kind::dense;
}

// Walks the layers and calls begin_stage() at each stage start; returns
// the stage of every flat position (npos: input, markers) through `on`.
template <std::size_t N, class Begin, class On>
constexpr void walk_stages(const std::array<nn::node, N>& a, Begin&& begin_stage, On&& on) noexcept {
  std::array<bool, N> weighted_path{};  // a weighted layer of the current run lies on the path to it
  std::array<std::size_t, N> stage{};
  for (auto& x : stage) x = npos;
  std::size_t s = npos;
  bool in_nl = true;
  auto in_run = [&](std::size_t from) { return from != npos && stage[from] == s && a[from].linear(); };
  for (std::size_t i = 1; i < N; ++i) {
    if (!a[i].is_layer()) continue;
    if (a[i].linear()) {
      const bool weighted = weighted_kind(a[i].spec.kind);
      const bool through = (in_run(a[i].src) && weighted_path[a[i].src]) || (in_run(a[i].skip) && weighted_path[a[i].skip]);
      if (in_nl || (weighted && through)) {
        s = s == npos ? 0 : s + 1;
        begin_stage(s, !in_nl);  // !in_nl: the stage before is cut (ends with a truncation)
      }
      in_nl = false;
      stage[i] = s;
      weighted_path[i] = weighted || ((in_run(a[i].src) && weighted_path[a[i].src]) ||
                                      (in_run(a[i].skip) && weighted_path[a[i].skip]));
    } else {
      if (s == npos) {
        s = 0;
        begin_stage(s, false);
      }
      in_nl = true;
      stage[i] = s;
    }
    on(i, s);
  }
}

template <std::size_t N>
constexpr std::size_t count_stages(const std::array<nn::node, N>& a) noexcept {
  std::size_t n = 0;
  walk_stages(a, [&](std::size_t, bool) { ++n; }, [](std::size_t, std::size_t) {});
  return n;
}

template <std::size_t S, std::size_t N>
struct split_result {
  std::array<stage_info, S> stages{};
  std::array<std::size_t, N> stage_of{};   // per flat position (npos: input, markers)
  std::array<std::size_t, N> tensor_of{};  // flat position -> tensor id it produces (npos: none)
};

template <std::size_t S, std::size_t N>
constexpr split_result<S, N> split_stages(const std::array<nn::node, N>& a) noexcept {
  split_result<S, N> r{};
  for (auto& x : r.stage_of) x = npos;
  for (auto& x : r.tensor_of) x = npos;
  walk_stages(
      a, [&](std::size_t s, bool cut) {
        if (cut) r.stages[s - 1].truncates = true;
      },
      [&](std::size_t i, std::size_t s) {
        auto& st = r.stages[s];
        if (a[i].linear()) {
          if (st.lin_first == npos) st.lin_first = i;
          st.lin_last = i;
        } else {
          if (st.nl_first == npos) st.nl_first = i;
          st.nl_last = i;
        }
        r.stage_of[i] = s;
      });
  r.tensor_of[0] = 0;
  for (std::size_t k = 0; k < S; ++k) r.tensor_of[r.stages[k].last()] = k + 1;
  for (std::size_t k = 0; k < S; ++k) {
    auto& st = r.stages[k];
    st.in_shape = k == 0 ? a[0].out : a[r.stages[k - 1].last()].out;
    st.linear_shape = st.has_linear() ? a[st.lin_last].out : st.in_shape;
    st.out_shape = a[st.last()].out;
    if (!st.has_linear()) continue;
    for (std::size_t i = st.lin_first; i <= st.lin_last; ++i) {
      if (!a[i].is_layer()) continue;
      for (std::size_t from : {a[i].src, a[i].skip}) {
        if (from == npos || r.stage_of[from] == k) continue;
        const std::size_t t = r.tensor_of[from];
        if (t == k || t == npos) continue;
        bool seen = false;
        for (std::size_t j = 0; j < st.skip_count; ++j) seen = seen || st.skips[j] == t;
        if (!seen && st.skip_count < st.skips.size()) st.skips[st.skip_count] = t;
        if (!seen) ++st.skip_count;  // > skips.size() is refused by split<Net>
      }
    }
  }
  return r;
}
}  // namespace detail

template <class Net>
struct split {
  using net = nn::traits<Net>;
  static_assert(net::valid);
  static constexpr std::size_t count = detail::count_stages(net::nodes);
  static constexpr auto result = detail::split_stages<count, net::flat_size>(net::nodes);
  static constexpr const std::array<stage_info, count>& stages = result.stages;
  static constexpr const std::array<std::size_t, net::flat_size>& stage_of = result.stage_of;
  static constexpr const std::array<std::size_t, net::flat_size>& tensor_of = result.tensor_of;
  static_assert([] {
    for (const auto& st : result.stages)
      if (st.skip_count > st.skips.size()) return false;
    return true;
  }(), "PMDI_E_RESIDUAL_SOURCE: one stage reads more than 8 earlier tensors through residual blocks; put a "
       "non-linear layer between the blocks");
};

template <class Net>
inline constexpr std::size_t stage_count_v = split<Net>::count;

// The same split by Boost.Hana over the layer types: the number of maximal
// runs of equal linearity. Stages = linear runs, plus one when the network
// starts with a non-linear run, plus the cuts between weighted layers in
// series. (Used by tests to cross-check split<Net> on networks without such
// cuts.)
namespace detail {
template <class T>
constexpr bool counted_layer() noexcept {
  if constexpr (nn::layer<T>)
    return T::spec.kind != nn::layer_kind::input;
  else
    return false;
}
template <class List>
struct hana_runs;
template <class... Ts>
struct hana_runs<nn::type_list<Ts...>> {
  static constexpr std::size_t value = [] {
    namespace hana = boost::hana;
    constexpr auto layers = hana::filter(hana::tuple_t<Ts...>, [](auto t) {
      using T = typename decltype(t)::type;
      return hana::bool_c<counted_layer<T>()>;
    });
    constexpr auto groups = hana::group(layers, hana::comparing([](auto t) {
                                          return hana::bool_c<nn::is_linear<typename decltype(t)::type>::value>;
                                        }));
    return static_cast<std::size_t>(decltype(hana::length(groups))::value);
  }();
};
}  // namespace detail

template <class Net>
inline constexpr std::size_t hana_run_count_v = detail::hana_runs<typename nn::traits<Net>::flat>::value;

}  // namespace pmdi::plan
