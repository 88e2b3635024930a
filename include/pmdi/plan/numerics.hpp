#pragma once
// Fixed-point scales and worst-case bit growth, at compile time.
//
// Scale rules (docs/dsl.md has the full text; the lowering and the oracle
// implement exactly these):
//   stage inputs are at scale f = Ring::frac;
//   conv2d/dense: e_out = e_in + f (bias encoded at e_out);
//   meanpool KxK: K*K = 2^p -> sum-pool, e_out = e_in + p; else weights
//                 encode(1/(K*K)) at f bits and e_out = e_in + f;
//   flatten, batchnorm (folded): e_out = e_in;  residual add: max of both;
//   non-linear outputs: scale f (after trunc by e_k - f).
//
// Magnitude bounds: weights (batchnorm folded) satisfy |w| < 2^weight_int_bits
// and biases |b| < 2^weight_int_bits; every stage input (network input, outputs
// of non-linear runs) satisfies |x| < 2^activation_int_bits. From these, M(node)
// is an exponent with |value at its scale| < 2^M:
//   conv/dense: M = max(M_in + f + w + ceil_log2(fan_in), e_out + w) + 1
//   meanpool:   M = M_in + p (sum-pool) or M_in + f + 1
//   add:        M = max(M_a + e - e_a, M_b + e - e_b) + 1
// A stage's linear output must satisfy M <= l - 1 (PMDI_E_RING_OVERFLOW); the
// same recurrence with inputs of l bits (the masks c, uniform in [0, 2^l))
// bounds |A c + b|, which plus 40 + 1 bits must fit a Paillier plaintext
// (PMDI_E_PAILLIER_CAPACITY); with inputs of 0 bits and no bias it bounds the
// row sums of |A|, so the int64 entries of A fit (PMDI_E_COEFF_OVERFLOW).
#include <array>
#include <bit>
#include <cstddef>

#include "pmdi/core/ring.hpp"
#include "pmdi/diag/errors.hpp"
#include "pmdi/nn/bounds.hpp"
#include "pmdi/plan/split.hpp"

namespace pmdi::plan {

[[nodiscard]] constexpr unsigned ceil_log2(std::size_t n) noexcept {
  return n <= 1 ? 0U : static_cast<unsigned>(std::bit_width(n - 1));
}
// p when k*k == 2^p, else -1.
[[nodiscard]] constexpr int pow2_exponent(std::size_t kk) noexcept {
  return std::has_single_bit(kk) ? std::countr_zero(kk) : -1;
}

struct node_numerics {
  unsigned e = 0;        // scale exponent of the node's output
  unsigned m = 0;        // |value| < 2^m (declared input bounds)
  unsigned paillier = 0; // |value| < 2^paillier when stage inputs are masks in [0, 2^l)
  unsigned coeff = 0;    // row sums of |composed coefficients| < 2^coeff
};

struct stage_numerics {
  unsigned scale_bits = 0;  // e_k
  unsigned shift = 0;       // e_k - f when the stage ends with a circuit (non-linear part or cut), else 0
  unsigned magnitude_bits = 0, paillier_bits = 0, coeff_bits = 0;
};

namespace detail {
constexpr unsigned umax(unsigned a, unsigned b) noexcept { return a > b ? a : b; }

template <std::size_t N, std::size_t S>
constexpr std::array<node_numerics, N> node_bounds(const std::array<nn::node, N>& a,
                                                   const std::array<std::size_t, N>& stage_of, unsigned f,
                                                   unsigned w, unsigned in_bits, bool with_bias, bool zero_input) {
  std::array<node_numerics, N> r{};
  auto boundary = [&](std::size_t) { return node_numerics{f, zero_input ? 0U : f + in_bits, 0, 0}; };
  for (std::size_t i = 0; i < N; ++i) {
    const nn::node& n = a[i];
    if (!n.is_layer()) continue;
    if (i == 0 || n.nonlinear()) {
      r[i] = boundary(i);
      continue;
    }
    auto src_of = [&](std::size_t from) {
      const bool inside = from != nn::npos && a[from].linear() && stage_of[from] == stage_of[i];
      return inside ? r[from] : boundary(from);
    };
    const node_numerics s = src_of(n.src);
    node_numerics o = s;
    switch (n.spec.kind) {
      case nn::layer_kind::conv2d:
      case nn::layer_kind::dense: {
        const std::size_t fan =
            n.spec.kind == nn::layer_kind::conv2d ? n.in.c * n.spec.kernel_h * n.spec.kernel_w : n.in.size();
        o.e = s.e + f;
        const unsigned prod = s.m + f + w + ceil_log2(fan);
        o.m = umax(prod, with_bias ? o.e + w : 0U) + 1;
        break;
      }
      case nn::layer_kind::meanpool: {
        const int p = pow2_exponent(n.spec.kernel_h * n.spec.kernel_w);
        o.e = p >= 0 ? s.e + static_cast<unsigned>(p) : s.e + f;
        o.m = p >= 0 ? s.m + static_cast<unsigned>(p) : s.m + f + 1;
        break;
      }
      case nn::layer_kind::residual_add: {
        const node_numerics b = src_of(n.skip);
        o.e = umax(s.e, b.e);
        o.m = umax(s.m + (o.e - s.e), b.m + (o.e - b.e)) + 1;
        break;
      }
      default: break;  // flatten, batchnorm
    }
    r[i] = o;
  }
  return r;
}
}  // namespace detail

template <class Net, class Ring, class Bounds = nn::default_bounds>
struct numerics {
  using sp = split<Net>;
  using net = typename sp::net;
  static constexpr unsigned f = Ring::frac;
  static constexpr unsigned l = Ring::bits;
  static constexpr std::size_t N = net::flat_size;
  static constexpr std::size_t S = sp::count;
  static constexpr auto magnitude = detail::node_bounds<N, S>(net::nodes, sp::stage_of, f, Bounds::weight_int_bits,
                                                              Bounds::activation_int_bits, true, false);
  // masks c in [0, 2^l): "f + in_bits" = l
  static constexpr auto paillier = detail::node_bounds<N, S>(net::nodes, sp::stage_of, f, Bounds::weight_int_bits,
                                                             l - f, true, false);
  static constexpr auto coeff = detail::node_bounds<N, S>(net::nodes, sp::stage_of, f, Bounds::weight_int_bits, 0,
                                                          false, true);
  static constexpr std::array<stage_numerics, S> stages = [] {
    std::array<stage_numerics, S> r{};
    for (std::size_t k = 0; k < S; ++k) {
      const stage_info& st = sp::stages[k];
      if (!st.has_linear()) {
        r[k] = {f, 0, f + Bounds::activation_int_bits, l, 0};
        continue;
      }
      const std::size_t i = st.lin_last;
      r[k].scale_bits = magnitude[i].e;
      r[k].shift = st.garbled() ? magnitude[i].e - f : 0;
      r[k].magnitude_bits = magnitude[i].m;
      r[k].paillier_bits = paillier[i].m;
      r[k].coeff_bits = coeff[i].m;
    }
    return r;
  }();
  static constexpr std::size_t paillier_capacity = Bounds::paillier_bits - 1;  // N > 2^(bits-1)

  // First stage that fails a check: {stage, which} with which 1 ring, 2 coeff, 3 paillier.
  static constexpr std::array<std::size_t, 2> first_failure = [] {
    for (std::size_t k = 0; k < S; ++k) {
      if (stages[k].magnitude_bits > l - 1) return std::array<std::size_t, 2>{k, 1};
      if (stages[k].coeff_bits > 62) return std::array<std::size_t, 2>{k, 2};
      if (stages[k].paillier_bits + Bounds::statistical_bits + 1 > paillier_capacity) return std::array<std::size_t, 2>{k, 3};
    }
    return std::array<std::size_t, 2>{0, 0};
  }();
  static constexpr bool fits = first_failure[1] == 0;
};

template <class Net, class Ring, class Bounds = nn::default_bounds>
inline constexpr bool fits_v = numerics<Net, Ring, Bounds>::fits;

// Printed in diagnostics.
template <std::size_t Stage>
struct stage {};
template <unsigned Bits>
struct needs_bits {};
template <unsigned Bits>
struct has_bits {};

namespace detail {
template <std::size_t Which, class At, class St, class Needs, class Has, class Ring, class Bounds>
struct report_numeric {
  static constexpr bool value = true;
};
template <class At, class St, class Needs, class Has, class Ring, class Bounds>
struct report_numeric<1, At, St, Needs, Has, Ring, Bounds> {
  static_assert(sizeof(diag::error<diag::PMDI_E_RING_OVERFLOW, At, St, Needs, Has, Ring, Bounds>) != 0);  // the first error line
  static_assert(diag::always_false_v<At, St, Needs, Has, Ring, Bounds>,
                "PMDI_E_RING_OVERFLOW: the linear output of stage<k>, ending at layer_at<index, layer>, may need "
                "needs_bits<B> bits (sign included) but the ring has has_bits<l>; use ring<64, F>, fewer fractional "
                "bits F, or tighter nn::bounds<weight_int_bits, activation_int_bits>");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class St, class Needs, class Has, class Ring, class Bounds>
struct report_numeric<2, At, St, Needs, Has, Ring, Bounds> {
  static_assert(sizeof(diag::error<diag::PMDI_E_COEFF_OVERFLOW, At, St, Needs, Has, Ring, Bounds>) != 0);  // the first error line
  static_assert(diag::always_false_v<At, St, Needs, Has, Ring, Bounds>,
                "PMDI_E_COEFF_OVERFLOW: the coefficients of stage<k>, ending at layer_at<index, layer>, may have "
                "entries of needs_bits<B> bits, more than int64 holds; use fewer fractional bits F or put a "
                "non-linear layer inside the linear run");
  static constexpr bool value = true;  // reported above (diag::error)
};
template <class At, class St, class Needs, class Has, class Ring, class Bounds>
struct report_numeric<3, At, St, Needs, Has, Ring, Bounds> {
  static_assert(sizeof(diag::error<diag::PMDI_E_PAILLIER_CAPACITY, At, St, Needs, Has, Ring, Bounds>) != 0);  // the first error line
  static_assert(diag::always_false_v<At, St, Needs, Has, Ring, Bounds>,
                "PMDI_E_PAILLIER_CAPACITY: |A c + b| of stage<k>, ending at layer_at<index, layer>, with the 40-bit "
                "statistical mask needs needs_bits<B> bits but a Paillier plaintext holds has_bits<P>; use a smaller "
                "ring, fewer fractional bits or a larger modulus in nn::bounds<..., PaillierBits>");
  static constexpr bool value = true;  // reported above (diag::error)
};
}  // namespace detail

// Instantiating checked<Net, Ring, Bounds>::value runs the declaration checks
// and the fixed-point capacity checks; the first failure is a static_assert.
template <class Net, class Ring, class Bounds = nn::default_bounds>
struct checked {
  static_assert(ring_type<Ring>, "pmdi: the second argument must be a pmdi::ring<L, F>");
  using num = numerics<Net, Ring, Bounds>;
  static constexpr std::size_t k = num::first_failure[0];
  static constexpr std::size_t which = num::first_failure[1];
  static constexpr std::size_t pos = num::sp::stages[k].has_linear() ? num::sp::stages[k].lin_last : 0;
  static constexpr unsigned need = which == 1   ? num::stages[k].magnitude_bits + 1
                                   : which == 2 ? num::stages[k].coeff_bits + 1
                                                : num::stages[k].paillier_bits + Bounds::statistical_bits + 1;
  static constexpr unsigned have = which == 1 ? num::l : which == 2 ? 63 : static_cast<unsigned>(num::paillier_capacity);
  static constexpr bool value =
      detail::report_numeric<which, nn::detail::at_t<typename num::net::graph, pos>, stage<k>, needs_bits<need>,
                             has_bits<have>, Ring, Bounds>::value;
};

template <class Net, class Ring, class Bounds = nn::default_bounds>
inline constexpr bool checked_v = checked<Net, Ring, Bounds>::value;

}  // namespace pmdi::plan
