#pragma once
// Per-stage cost estimates, at compile time (used by placement and reports).
//
// With l = ring bits, m = linear outputs of the stage (non-linear inputs),
// n = stage input values (skip tensors included), o = stage outputs:
//   macs          conv2d: out.size * in.c * kh * kw; dense: units * in.size
//                 (pooling sums, adds and folded batchnorms are not counted)
//   relus         ReLU outputs; activations: outputs of every non-linear layer
//   and_gates     circuit C_k(a, w) = g(trunc(a + w)) with arithmetic outputs
//                 (proto/circuits.hpp), half-gates AND count (an upper bound:
//                 the builder's constant folding saves the truncated bits):
//                   adder a + w:          m * (l - 1)
//                   relu:                 l per output (mux with the sign bit)
//                   maxpool:              (K*K - 1) * 2l per output (compare l, mux l)
//                   argmax over n values: (n - 1) * (2l + ceil_log2 n)
//                 trunc is wiring (free); linear-only stages have no circuit.
//   online_bytes  labels of a_k: m * l * 16 (stages with a circuit), plus the
//                 z vectors into and out of the stage: (n + o) * l / 8
//   offline_bytes Paillier ciphertexts of 2 * 2048 bits = 512 bytes: m from the
//                 cloud (Enc(A c + s')) and o from the client (Enc(r_{k+1})) for
//                 stages with a circuit; garbled tables 32 bytes per AND; proxy OT
//                 of the client's m * l input bits, 48 bytes per bit; at most l
//                 output terms per output, l / 8 bytes each, and the garbler's
//                 mask and the client's correction, l / 8 bytes each per output.
#include <array>
#include <cstddef>
#include <cstdint>

#include "pmdi/plan/numerics.hpp"

namespace pmdi::plan {

struct stage_costs {
  std::uint64_t macs = 0, relus = 0, activations = 0, and_gates = 0, online_bytes = 0, offline_bytes = 0;
  constexpr stage_costs& operator+=(const stage_costs& o) noexcept {
    macs += o.macs;
    relus += o.relus;
    activations += o.activations;
    and_gates += o.and_gates;
    online_bytes += o.online_bytes;
    offline_bytes += o.offline_bytes;
    return *this;
  }
};

inline constexpr std::uint64_t label_bytes = 16, table_bytes_per_and = 32, ot_bytes_per_bit = 48;
inline constexpr std::uint64_t paillier_ciphertext_bytes = 512;

template <std::size_t N, std::size_t S>
constexpr std::array<stage_costs, S> compute_costs(const std::array<nn::node, N>& a,
                                                   const std::array<stage_info, S>& stages,
                                                   const std::array<std::size_t, N>& tensor_of, unsigned l) {
  std::array<stage_costs, S> r{};
  // sizes of tensors by id
  std::array<std::size_t, S + 1> tsize{};
  tsize[0] = a[0].out.size();
  for (std::size_t k = 0; k < S; ++k) tsize[k + 1] = stages[k].out_shape.size();
  (void)tensor_of;
  for (std::size_t k = 0; k < S; ++k) {
    const stage_info& st = stages[k];
    stage_costs& c = r[k];
    const std::uint64_t L = l;
    const std::uint64_t m = st.linear_shape.size(), o = st.out_shape.size();
    std::uint64_t n = st.in_shape.size();
    for (std::size_t j = 0; j < st.skip_count; ++j) n += tsize[st.skips[j]];
    if (st.has_linear())
      for (std::size_t i = st.lin_first; i <= st.lin_last; ++i) {
        const nn::node& x = a[i];
        if (!x.is_layer()) continue;
        if (x.spec.kind == nn::layer_kind::conv2d)
          c.macs += x.out.size() * x.in.c * x.spec.kernel_h * x.spec.kernel_w;
        else if (x.spec.kind == nn::layer_kind::dense)
          c.macs += x.out.size() * x.in.size();
      }
    c.online_bytes = (n + o) * L / 8;
    if (!st.garbled()) continue;
    std::uint64_t ands = m * (L - 1);
    for (std::size_t i = st.nl_first; st.has_nonlinear() && i <= st.nl_last; ++i) {
      const nn::node& x = a[i];
      c.activations += x.out.size();
      switch (x.spec.kind) {
        case nn::layer_kind::relu:
          c.relus += x.out.size();
          ands += x.out.size() * L;
          break;
        case nn::layer_kind::maxpool:
          ands += x.out.size() * (x.spec.kernel_h * x.spec.kernel_w - 1) * 2 * L;
          break;
        case nn::layer_kind::argmax: {
          const std::uint64_t v = x.in.size();
          ands += (v - 1) * (2 * L + ceil_log2(v));
          break;
        }
        default: break;
      }
    }
    c.and_gates = ands;
    c.online_bytes += m * L * label_bytes;
    c.offline_bytes = (m + o) * paillier_ciphertext_bytes + ands * table_bytes_per_and + m * L * ot_bytes_per_bit +
                      o * (L + 2) * (L / 8);
  }
  return r;
}

template <class Net, class Ring>
struct costs {
  using sp = split<Net>;
  static constexpr std::array<stage_costs, sp::count> stages =
      compute_costs(sp::net::nodes, sp::stages, sp::tensor_of, Ring::bits);
  static constexpr stage_costs total = [] {
    stage_costs t{};
    for (const auto& s : stages) t += s;
    return t;
  }();
};

// Network totals that do not depend on the ring.
template <class Net>
inline constexpr std::uint64_t macs_v = costs<Net, ring<64, 13>>::total.macs;
template <class Net>
inline constexpr std::uint64_t relus_v = costs<Net, ring<64, 13>>::total.relus;

}  // namespace pmdi::plan
