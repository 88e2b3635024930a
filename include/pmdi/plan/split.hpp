#pragma once
// The split of a network into stages, at compile time.
//
// A stage is a maximal run of linear layers followed by the maximal run of
// non-linear layers after it (either run may be empty at the ends: a network
// may start with a non-linear layer, and the last stage may be linear only).
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
  [[nodiscard]] constexpr bool has_nonlinear() const noexcept { return nl_first != npos; }
  [[nodiscard]] constexpr bool has_linear() const noexcept { return lin_first != npos; }
  [[nodiscard]] constexpr std::size_t last() const noexcept { return has_nonlinear() ? nl_last : lin_last; }
};

namespace detail {
template <std::size_t N>
constexpr std::size_t count_stages(const std::array<nn::node, N>& a) noexcept {
  std::size_t s = 0;
  bool in_nl = true;
  for (std::size_t i = 1; i < N; ++i) {
    if (!a[i].is_layer()) continue;
    if (a[i].linear()) {
      if (in_nl) ++s;
      in_nl = false;
    } else {
      if (s == 0) ++s;
      in_nl = true;
    }
  }
  return s;
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
  std::size_t s = npos;
  bool in_nl = true;
  for (std::size_t i = 1; i < N; ++i) {
    if (!a[i].is_layer()) continue;
    if (a[i].linear()) {
      if (in_nl) s = (s == npos ? 0 : s + 1);
      in_nl = false;
      auto& st = r.stages[s];
      if (st.lin_first == npos) st.lin_first = i;
      st.lin_last = i;
    } else {
      if (s == npos) s = 0;
      in_nl = true;
      auto& st = r.stages[s];
      if (st.nl_first == npos) st.nl_first = i;
      st.nl_last = i;
    }
    r.stage_of[i] = s;
  }
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
// starts with a non-linear run. (Used by tests to cross-check split<Net>.)
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
