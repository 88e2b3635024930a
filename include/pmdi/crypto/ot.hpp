#pragma once
// Three-party proxy OT of privateMDI (Fig. 3 and Appendix A of the paper),
// batched over n bits. Parties: the client (choice bits i), the garbler
// (labels k0, k1 = k0 ^ delta) and the evaluator, who ends with k_i.
// [ref] privateMDI, Fig. 3 "Our novel three-party protocol", inspired by
//       PROXY-OT of Naor, Pinkas, Sumner (EC 1999).
//
// Shared randomness, fresh per bit, drawn in this exact order:
//   client <-> evaluator PRG (ce): draw_mask_bits(ce, n) — ceil(n/8) bytes
//     read with prg::fill; bit k of the batch is b_k = byte[k/8] >> (k%8) & 1.
//   garbler <-> evaluator PRG (ge): draw_pads(ge, n) — 2n blocks read with
//     prg::fill; u0_k = block 2k, u1_k = block 2k+1.
// Each batch call consumes exactly these amounts, so both ends stay in step
// as long as they run the same batches in the same order.
//
// Steps (messages are spans of bytes/blocks the caller sends):
//   client:    proxy_choose(choice_bits, ce) -> e, packed 8 bits a byte (ceil(n/8) bytes), e_k = i_k ^ b_k
//   garbler:   proxy_send(e, k0, delta, ge) -> 2n blocks (k0 ^ u_e, k1 ^ u_{1-e}) per bit
//   client:    proxy_forward(pairs, choice_bits) -> n blocks, element i_k of pair k (= k_i ^ u_b)
//   evaluator: proxy_receive(forwarded, n, ce, ge) -> n labels k_i
// The last three also come as (..., std::span<block> out) writing into the
// caller's buffer; pads are drawn in chunks of 256 bits, never stored whole.
// Every received message is validated (length, padding bits) and a bad one
// throws pmdi::decode_error.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/block.hpp"
#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"

namespace pmdi::ot {

inline constexpr std::size_t label_bytes = block_bytes;

[[nodiscard]] inline std::size_t packed_bytes(std::size_t n) noexcept { return (n + 7) / 8; }

// b_0..b_{n-1} packed, from the client-evaluator PRG.
[[nodiscard]] inline secret_vector<std::uint8_t> draw_mask_bits(prg& ce, std::size_t n) {
  secret_vector<std::uint8_t> b(packed_bytes(n));
  ce.fill(b.data(), b.size());
  if (n % 8 != 0) b[b.size() - 1] &= static_cast<std::uint8_t>((1U << (n % 8)) - 1);
  return b;
}

// (u0_k, u1_k) at [2k], [2k+1], from the garbler-evaluator PRG.
[[nodiscard]] inline secret_vector<block> draw_pads(prg& ge, std::size_t n) {
  secret_vector<block> u(2 * n);
  ge.fill(u.data(), u.size() * sizeof(block));
  return u;
}

[[nodiscard]] inline bool packed_bit(std::span<const std::uint8_t> p, std::size_t k) noexcept {
  return ((p[k / 8] >> (k % 8)) & 1U) != 0;
}

// Client: e = i ^ b, packed. choice_bits holds one 0/1 byte per bit.
[[nodiscard]] inline std::vector<std::uint8_t> proxy_choose(std::span<const std::uint8_t> choice_bits, prg& ce) {
  const std::size_t n = choice_bits.size();
  const auto b = draw_mask_bits(ce, n);
  std::vector<std::uint8_t> e(packed_bytes(n), 0);
  for (std::size_t k = 0; k < n; ++k) {
    if (choice_bits[k] > 1) throw usage_error("ot::proxy_choose: choice bits must be 0 or 1");
    e[k / 8] |= static_cast<std::uint8_t>(((choice_bits[k] & 1U) ^ (packed_bit({b.data(), b.size()}, k) ? 1U : 0U))
                                          << (k % 8));
  }
  return e;
}

namespace detail {
// Bits per chunk when streaming pads: 256 bits = 32 mask bytes = 512 pad
// blocks (8 KiB on the stack), so no pad array is ever allocated. The PRG
// streams are byte streams, so chunking does not change what is drawn.
inline constexpr std::size_t ot_chunk = 256;
}  // namespace detail

// Garbler: for bit k, (k0 ^ u_{e_k}, k1 ^ u_{1-e_k}) with k1 = k0 ^ delta,
// written to pairs_out[2k], pairs_out[2k+1].
inline void proxy_send(std::span<const std::uint8_t> e, std::span<const block> k0, block delta, prg& ge,
                       std::span<block> pairs_out) {
  const std::size_t n = k0.size();
  if (e.size() != packed_bytes(n))
    throw decode_error("ot::proxy_send: the client's message has " + std::to_string(e.size()) +
                       " bytes, expected " + std::to_string(packed_bytes(n)) + " for " + std::to_string(n) + " bits");
  if (n % 8 != 0 && (e.back() >> (n % 8)) != 0)
    throw decode_error("ot::proxy_send: the client's message sets padding bits past bit " + std::to_string(n));
  if (pairs_out.size() != 2 * n) throw usage_error("ot::proxy_send: output span must hold 2n blocks");
  block u[2 * detail::ot_chunk];
  for (std::size_t lo = 0; lo < n; lo += detail::ot_chunk) {
    const std::size_t m = std::min(detail::ot_chunk, n - lo);
    ge.fill(u, 2 * m * sizeof(block));
    for (std::size_t j = 0; j < m; ++j) {
      const std::size_t k = lo + j;
      const block sel = select_mask(packed_bit(e, k));
      const block u0 = u[2 * j], u1 = u[2 * j + 1];
      const block ue = u0 ^ ((u0 ^ u1) & sel);  // u_{e}
      const block un = u1 ^ ((u0 ^ u1) & sel);  // u_{1-e}
      pairs_out[2 * k] = k0[k] ^ ue;
      pairs_out[2 * k + 1] = k0[k] ^ delta ^ un;
    }
  }
  secure_zero(u, sizeof u);
}

[[nodiscard]] inline std::vector<block> proxy_send(std::span<const std::uint8_t> e, std::span<const block> k0,
                                                   block delta, prg& ge) {
  std::vector<block> pairs(2 * k0.size());
  proxy_send(e, k0, delta, ge, pairs);
  return pairs;
}

// Client: element i_k of pair k, which is k_{i_k} ^ u_{b_k}.
inline void proxy_forward(std::span<const block> pairs, std::span<const std::uint8_t> choice_bits,
                          std::span<block> forwarded_out) {
  const std::size_t n = choice_bits.size();
  if (pairs.size() != 2 * n)
    throw decode_error("ot::proxy_forward: the garbler's message has " + std::to_string(pairs.size()) +
                       " labels, expected " + std::to_string(2 * n));
  if (forwarded_out.size() != n) throw usage_error("ot::proxy_forward: output span must hold n blocks");
  for (std::size_t k = 0; k < n; ++k) {
    const block m = select_mask(choice_bits[k] & 1U);
    forwarded_out[k] = pairs[2 * k] ^ ((pairs[2 * k] ^ pairs[2 * k + 1]) & m);
  }
}

[[nodiscard]] inline std::vector<block> proxy_forward(std::span<const block> pairs,
                                                      std::span<const std::uint8_t> choice_bits) {
  std::vector<block> f(choice_bits.size());
  proxy_forward(pairs, choice_bits, f);
  return f;
}

// Evaluator: removes u_{b_k}; writes k_{i_k} to labels_out[k].
inline void proxy_receive(std::span<const block> forwarded, prg& ce, prg& ge, std::span<block> labels_out) {
  const std::size_t n = labels_out.size();
  if (forwarded.size() != n)
    throw decode_error("ot::proxy_receive: the client's message has " + std::to_string(forwarded.size()) +
                       " labels, expected " + std::to_string(n));
  block u[2 * detail::ot_chunk];
  std::uint8_t b[detail::ot_chunk / 8];
  for (std::size_t lo = 0; lo < n; lo += detail::ot_chunk) {
    const std::size_t m = std::min(detail::ot_chunk, n - lo);
    ce.fill(b, packed_bytes(m));
    ge.fill(u, 2 * m * sizeof(block));
    for (std::size_t j = 0; j < m; ++j) {
      const block sel = select_mask(packed_bit(b, j));
      const block u0 = u[2 * j], u1 = u[2 * j + 1];
      labels_out[lo + j] = forwarded[lo + j] ^ u0 ^ ((u0 ^ u1) & sel);
    }
  }
  secure_zero(u, sizeof u);
  secure_zero(b, sizeof b);
}

[[nodiscard]] inline std::vector<block> proxy_receive(std::span<const block> forwarded, std::size_t n, prg& ce,
                                                      prg& ge) {
  std::vector<block> k(n);
  proxy_receive(forwarded, ce, ge, k);
  return k;
}

}  // namespace pmdi::ot
