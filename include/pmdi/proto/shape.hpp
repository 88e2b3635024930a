#pragma once
// The deployment's shape as a type, and the compile-time loops the roles use
// to reach their typed channels.
//
//   proto::shape<P, T>         P clusters of T compute servers each
//   indexed_tuple<F, N>        std::tuple<F<0>, ..., F<N-1>>
//   co_await for_each_index<N>([&]<std::size_t I>() -> asio::awaitable<void> { ... });
//   co_await with_index<N>(j, [&]<std::size_t I>() -> asio::awaitable<void> { ... });  // the one I == j
//   each_index<N>([&]<std::size_t I>() { ... });                                        // not awaited
//
// A role's peers are types (role::garbler<J>, role::compute<J, V>), so a role
// holds one channel per peer type; these loops visit them. The callable is
// kept alive by the loop's own frame while each step runs.
#include <boost/asio/awaitable.hpp>
#include <boost/mp11/algorithm.hpp>  // mp_with_index

#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "pmdi/core/error.hpp"

namespace pmdi::proto {

namespace asio = boost::asio;

template <std::size_t P, std::size_t T>
struct shape {
  static_assert(P >= 1 && T >= 1, "a deployment has at least one cluster of at least one compute server");
  static constexpr std::size_t clusters = P;
  static constexpr std::size_t compute = T;
};

namespace detail {

template <template <std::size_t> class F, class Seq>
struct indexed_tuple_of;
template <template <std::size_t> class F, std::size_t... I>
struct indexed_tuple_of<F, std::index_sequence<I...>> {
  using type = std::tuple<F<I>...>;
};

template <std::size_t I, std::size_t N, class F>
asio::awaitable<void> for_each_from(F& f) {
  if constexpr (I < N) {
    co_await f.template operator()<I>();
    co_await for_each_from<I + 1, N>(f);
  }
  co_return;
}

}  // namespace detail

template <template <std::size_t> class F, std::size_t N>
using indexed_tuple = typename detail::indexed_tuple_of<F, std::make_index_sequence<N>>::type;

// Awaits f.template operator()<I>() for I = 0, 1, ..., N - 1 in turn.
template <std::size_t N, class F>
[[nodiscard]] asio::awaitable<void> for_each_index(F f) {
  co_await detail::for_each_from<0, N>(f);
}

// Awaits f.template operator()<I>() for the I equal to the run-time `i`
// (Boost.Mp11's mp_with_index picks it; an `i` out of range is refused).
template <std::size_t N, class F>
[[nodiscard]] asio::awaitable<void> with_index(std::size_t i, F f) {
  if (i >= N) throw usage_error("index " + std::to_string(i) + " is out of range [0, " + std::to_string(N) + ")");
  co_await boost::mp11::mp_with_index<N>(i, [&](auto I) { return f.template operator()<decltype(I)::value>(); });
}

// Calls f.template operator()<I>() for I = 0, ..., N - 1 (no awaiting).
template <std::size_t N, class F>
void each_index(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }(std::make_index_sequence<N>{});
}

}  // namespace pmdi::proto
