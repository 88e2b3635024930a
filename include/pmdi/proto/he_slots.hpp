#pragma once
// Slot-packed Paillier work of the offline phase (the layouts and the slot
// bound: proto/offline_layout.hpp): the client's packed uploads, the cloud's
// grouped convolution products, and the client's unpacking of the results.
#include <gmp.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/pool.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/crypto/paillier.hpp"
#include "pmdi/proto/he.hpp"
#include "pmdi/proto/offline_layout.hpp"

namespace pmdi::proto::he {

namespace detail {

inline void set_value(mpz& out, client_value v) {
  __extension__ typedef unsigned __int128 u128;
  const u128 mag = v < 0 ? u128(0) - static_cast<u128>(v) : static_cast<u128>(v);
  const std::uint64_t limbs[2] = {static_cast<std::uint64_t>(mag), static_cast<std::uint64_t>(mag >> 64)};
  ::mpz_import(out, 2, -1, sizeof(std::uint64_t), 0, 0, limbs);
  if (v < 0) ::mpz_neg(out, out);
}

// sum_s v[s] 2^(s * slot_bits) (Horner from the top slot).
template <class T>
void pack_slots(mpz& out, std::span<const T> v, unsigned slot_bits) {
  ::mpz_set_ui(out, 0);
  mpz t;
  for (std::size_t s = v.size(); s-- > 0;) {
    ::mpz_mul_2exp(out, out, slot_bits);
    if constexpr (std::is_same_v<T, mpz>) {
      ::mpz_add(out, out, v[s]);
    } else {
      set_value(t, v[s]);
      ::mpz_add(out, out, t);
    }
  }
  t.wipe();
}

}  // namespace detail

// The plaintexts of the client's upload for a conv_groups stage, in part
// order, from the stage's input masks x (concatenated, as integers). The
// caller wipes them (they encode its masks).
[[nodiscard]] inline std::vector<mpz> upload_plaintexts(const linear_program& p, const stage_layout& lay,
                                                                         std::span<const client_value> x) {
  if (lay.mode != offline_mode::conv_groups) throw usage_error("he::upload_plaintexts: not a conv_groups layout");
  const auto values = client_slot_values(p, lay, x);
  std::vector<mpz> out;
  out.reserve(lay.input_ciphertexts);
  for (const auto& pt : lay.parts) {
    std::vector<client_value> slot(pt.ciphertexts * lay.slots, 0);
    for_each_part_value(p, lay, pt, values[pt.slot],
                        [&](std::size_t c, std::size_t s, client_value v) { slot[c * lay.slots + s] = v; });
    for (std::size_t c = 0; c < pt.ciphertexts; ++c) {
      out.emplace_back();
      detail::pack_slots<client_value>(out.back(), std::span<const client_value>(slot).subspan(c * lay.slots, lay.slots),
                                       lay.slot_bits);
    }
    std::fill(slot.begin(), slot.end(), 0);
  }
  return out;
}

// The additive terms of a stage's output ciphertexts: term[e] (one per
// linear output) packed in the layout's output slots.
[[nodiscard]] inline std::vector<paillier::secret_mpz> pack_terms(const stage_layout& lay, std::span<const mpz> term) {
  if (term.size() != lay.values) throw usage_error("he::pack_terms: wrong number of terms");
  std::vector<paillier::secret_mpz> out(lay.output_ciphertexts);
  for (std::size_t c = 0; c < out.size(); ++c) {
    const auto sp = lay.output(c);
    detail::pack_slots<mpz>(out[c], term.subspan(sp.element, sp.count), lay.slot_bits);
  }
  return out;
}

// Enc(A c + term) of a conv_groups stage in its output layout: per
// convolution and output group, one paillier::matvec of the (out channels x
// taps) weight matrix over that group's im2col ciphertexts; residual adds
// ciphertext by ciphertext; the packed term multiplied in at the result.
// Without re-randomisation (see he::apply). `products` grows by the
// exponentiation steps performed (non-zero weights times groups).
[[nodiscard]] inline std::vector<ciphertext> apply_conv_groups(const public_key& pk, const linear_program& p,
                                                               const stage_layout& lay, std::span<const std::int64_t> w,
                                                               std::span<const ciphertext> c,
                                                               std::span<const paillier::secret_mpz> term, unsigned threads,
                                                               std::uint64_t& products) {
  if (lay.mode != offline_mode::conv_groups || c.size() != lay.input_ciphertexts || term.size() != lay.output_ciphertexts)
    throw usage_error("he::apply_conv_groups: " + std::to_string(c.size()) + " ciphertexts and " +
                      std::to_string(term.size()) + " terms for a layout of " + std::to_string(lay.input_ciphertexts) +
                      " and " + std::to_string(lay.output_ciphertexts));
  const mpz& n2 = pk.n_squared();
  const std::size_t G = lay.groups, out_n = lay.output_ciphertexts;
  // the client's parts, by (operator, slot)
  auto part_of = [&](std::size_t op, std::size_t slot) {
    std::size_t at = 0;
    for (const auto& pt : lay.parts) {
      if (pt.op == op && pt.slot == slot) return c.subspan(at, pt.ciphertexts);
      at += pt.ciphertexts;
    }
    throw usage_error("he::apply_conv_groups: no upload for operator " + std::to_string(op));
  };
  std::vector<std::vector<ciphertext>> value(p.inputs() + p.ops.size());
  prg unused(seed{});
  std::size_t wat = 0;
  for (std::size_t i = 0; i < p.ops.size(); ++i) {
    const auto& o = p.ops[i];
    const std::size_t self = p.inputs() + i;
    const auto wi = w.subspan(wat, o.weight_count());
    wat += o.weight_count();
    if (!lay.cloud_side[self]) continue;
    auto& out = value[self];
    out.resize(out_n);
    if (o.kind == linear_kind::conv2d) {
      const std::size_t taps = proto::detail::conv_taps(o);
      csr<std::int64_t> a;  // out channels x taps, zero weights left out
      a.cols = taps;
      std::vector<std::uint32_t> col;
      std::vector<std::int64_t> val;
      for (std::size_t ch = 0; ch < o.out.c; ++ch) {
        col.clear();
        val.clear();
        for (std::size_t t = 0; t < taps; ++t)
          if (wi[ch * taps + t] != 0) {
            col.push_back(static_cast<std::uint32_t>(t));
            val.push_back(wi[ch * taps + t]);
          }
        a.push_row(col, val);
      }
      const auto x = part_of(i, o.src);
      const std::vector<mpz> zero(o.out.c);
      for (std::size_t g = 0; g < G; ++g) {
        auto r = paillier::matvec(pk, a, x.subspan(g * taps, taps), std::span<const mpz>(zero), unused, threads,
                                  paillier::rerand::no);
        for (std::size_t ch = 0; ch < o.out.c; ++ch) out[ch * G + g] = std::move(r[ch]);
      }
      products += static_cast<std::uint64_t>(a.nnz()) * G;
    } else {  // add: out = src * 2^shift_a + src2 * 2^shift_b
      auto operand = [&](std::size_t s) { return lay.cloud_side[s] ? std::span<const ciphertext>(value[s]) : part_of(i, s); };
      const auto a = operand(o.src), b = operand(o.src2);
      mpz ea, eb;
      ::mpz_setbit(ea, o.shift_a);
      ::mpz_setbit(eb, o.shift_b);
      pmdi::parallel_for(out_n, threads, [&](std::size_t j) {
        mpz ta, tb, tmp;
        ::mpz_powm(ta, a[j].value, ea, n2);
        ::mpz_powm(tb, b[j].value, eb, n2);
        paillier::detail::mulmod(out[j].value, ta, tb, n2, tmp);
      });
    }
  }
  auto result = std::move(value[p.result]);
  pmdi::parallel_for(out_n, threads, [&](std::size_t j) {
    mpz prod(result[j].value), tmp;
    paillier::detail::times_one_plus_mn(result[j].value, term[j], prod, pk, tmp);
  });
  return result;
}

// The stage's linear outputs from its output ciphertexts (either layout),
// each slot reduced mod 2^l. Throws decode_error when a plaintext does not
// fit its slots (paillier::unpack).
template <std::unsigned_integral V>
[[nodiscard]] std::vector<V> unpack_layout(const secret_key& sk, std::span<const ciphertext> c, const stage_layout& lay,
                                           unsigned threads) {
  if (c.size() != lay.output_ciphertexts) throw usage_error("he::unpack_layout: wrong number of ciphertexts");
  std::vector<V> out(lay.values);
  pmdi::parallel_for(c.size(), threads, [&](std::size_t i) {
    const auto sp = lay.output(i);
    auto vals = paillier::unpack(sk, c[i], lay.slot_bits, sp.count);
    for (std::size_t s = 0; s < sp.count; ++s) {
      out[sp.element + s] = static_cast<V>(vals[s].low_u64());
      vals[s].wipe();
    }
  });
  return out;
}

}  // namespace pmdi::proto::he
