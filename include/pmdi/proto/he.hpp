#pragma once
// What the protocol needs from Paillier, on top of pmdi/crypto/paillier.hpp:
// ring vectors in and out of ciphertexts, the statistical mask s'_k, packing
// for the cloud -> client direction, and ciphertext lists on the wire.
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/pool.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/sparse.hpp"
#include "pmdi/crypto/paillier.hpp"
#include "pmdi/proto/linear.hpp"

namespace pmdi::proto::he {

using paillier::ciphertext;
using paillier::mpz;
using paillier::public_key;
using paillier::secret_key;

using blobs = std::vector<std::vector<std::byte>>;

// Runs f(i, prg&) for i in [0, n) on up to `threads` threads of the process's
// pool (core/pool.hpp), in min(threads, n) contiguous blocks: block t gets its
// own generator, seeded from `g` before any block starts, so element i always
// meets the same generator (deterministic for a fixed seed and thread count).
template <class F>
void parallel_for(std::size_t n, unsigned threads, prg& g, F&& f) {
  threads = std::max(1U, std::min<unsigned>(threads, static_cast<unsigned>(std::max<std::size_t>(n, 1))));
  std::vector<prg> gens;
  gens.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) gens.emplace_back(g.next<seed>());
  pmdi::parallel_for(threads, threads, [&](std::size_t t) {
    for (std::size_t i = n * t / threads; i < n * (t + 1) / threads; ++i) f(i, gens[t]);
  });
}

// Enc(v_i) for ring elements read as integers in [0, 2^l) (key-holder CRT path).
template <std::unsigned_integral V>
[[nodiscard]] std::vector<ciphertext> encrypt_ring(const secret_key& sk, std::span<const V> v, prg& g,
                                                   unsigned threads) {
  std::vector<ciphertext> out(v.size());
  parallel_for(v.size(), threads, g, [&](std::size_t i, prg& t) {
    mpz m;
    ::mpz_set_ui(m, static_cast<unsigned long>(v[i]));
    out[i] = paillier::encrypt(sk, m, t);
  });
  return out;
}

// A uniform integer in [0, 2^bits).
inline void random_bits(mpz& out, unsigned bits, prg& g) {
  std::vector<unsigned char> b((bits + 7) / 8);
  g.fill(b.data(), b.size());
  if (bits % 8 != 0) b.back() &= static_cast<unsigned char>((1U << (bits % 8)) - 1);
  ::mpz_import(out, b.size(), -1, 1, 0, 0, b.data());
  std::fill(b.begin(), b.end(), 0);
}

// Enc(A c + term) for a stage's linear program A (weights `w`, no biases:
// they belong in `term`), c the stage's input ciphertexts concatenated: one
// Paillier product per operator over the ciphertexts of the slot it reads
// (no composed matrix), the additive term on the operator that writes the
// result. Without per-row re-randomisation (paillier::rerand::no): the
// result must be re-randomised before it leaves the party. `products`, when
// given, grows by the exponentiation steps performed (one per non-zero tap).
[[nodiscard]] inline std::vector<ciphertext> apply(const public_key& pk, const linear_program& p,
                                                   std::span<const std::int64_t> w, std::span<const ciphertext> c,
                                                   std::span<const mpz> term, prg& g, unsigned threads,
                                                   std::uint64_t* products = nullptr) {
  if (c.size() != p.in_size() || term.size() != p.out_size())
    throw usage_error("he::apply: " + std::to_string(c.size()) + " ciphertexts and " + std::to_string(term.size()) +
                      " terms for a program of " + std::to_string(p.in_size()) + " inputs and " +
                      std::to_string(p.out_size()) + " outputs");
  std::vector<std::span<const ciphertext>> slot(p.inputs() + p.ops.size());
  std::size_t at = 0;
  for (std::size_t i = 0; i < p.inputs(); ++i) {
    slot[i] = c.subspan(at, p.input_sizes[i]);
    at += p.input_sizes[i];
  }
  std::vector<std::vector<ciphertext>> out(p.ops.size());
  auto zeros = [](std::size_t n) { return std::vector<mpz>(n); };
  std::size_t wat = 0;
  for (std::size_t i = 0; i < p.ops.size(); ++i) {
    const auto& o = p.ops[i];
    const auto a = rows(o, w.subspan(wat, o.weight_count()));
    wat += o.weight_count();
    std::vector<ciphertext> joined;
    std::span<const ciphertext> src = o.kind == linear_kind::matrix ? c : slot[o.src];
    if (o.kind == linear_kind::add) {
      joined.assign(slot[o.src].begin(), slot[o.src].end());
      joined.insert(joined.end(), slot[o.src2].begin(), slot[o.src2].end());
      src = joined;
    }
    const bool last = p.inputs() + i == p.result;
    const auto z = last ? std::vector<mpz>() : zeros(a.rows);
    out[i] = paillier::matvec(pk, a, src, last ? term : std::span<const mpz>(z), g, threads, paillier::rerand::no);
    if (products != nullptr) *products += a.nnz();
    slot[p.inputs() + i] = out[i];
  }
  if (p.result >= p.inputs()) return std::move(out[p.result - p.inputs()]);
  // no operator: the input itself plus the term
  csr<std::int64_t> id;
  id.cols = p.out_size();
  for (std::size_t r = 0; r < id.cols; ++r) {
    const std::uint32_t col = static_cast<std::uint32_t>(r);
    const std::int64_t one = 1;
    id.push_row(std::span<const std::uint32_t>(&col, 1), std::span<const std::int64_t>(&one, 1));
  }
  return paillier::matvec(pk, id, slot[p.result], term, g, threads, paillier::rerand::no);
}

// Packs Enc(v) into ceil(n / slots) ciphertexts of max_slots(pk, slot_bits)
// slots, the packed ciphertexts computed on `threads` threads.
[[nodiscard]] inline std::vector<ciphertext> pack_all(const public_key& pk, std::span<const ciphertext> v,
                                                      unsigned slot_bits, unsigned threads = 1) {
  const std::size_t slots = paillier::max_slots(pk, slot_bits);
  if (slots == 0) throw usage_error("packing: a " + std::to_string(slot_bits) + "-bit slot does not fit the modulus");
  std::vector<ciphertext> out((v.size() + slots - 1) / slots);
  prg dummy(seed{});
  // Two packed ciphertexts per task (paillier::pack2: interleaved Horner chains).
  parallel_for((out.size() + 1) / 2, threads, dummy, [&](std::size_t p, prg&) {
    const std::size_t c = 2 * p, i = c * slots;
    const auto a = v.subspan(i, std::min(slots, v.size() - i));
    if (c + 1 < out.size()) {
      const std::size_t j = i + slots;
      paillier::pack2(pk, a, v.subspan(j, std::min(slots, v.size() - j)), slot_bits, out[c], out[c + 1]);
    } else {
      out[c] = paillier::pack(pk, a, slot_bits);
    }
  });
  return out;
}

[[nodiscard]] inline blobs to_wire(const public_key& pk, std::span<const ciphertext> c) {
  blobs b(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) b[i] = paillier::serialize(pk, c[i]);
  return b;
}

// Validates every ciphertext (length, range, unit) and throws decode_error.
// The unit check runs once for all: gcd(prod_i c_i mod N, N) = 1 exactly when
// every c_i is a unit (a prime factor of N that divides the product divides
// one of the c_i); only when it fails is each checked, to name the culprit.
[[nodiscard]] inline std::vector<ciphertext> from_wire(const public_key& pk, const blobs& b, unsigned threads = 1) {
  std::vector<ciphertext> c(b.size());
  prg dummy(seed{});
  parallel_for(b.size(), threads, dummy,
               [&](std::size_t i, prg&) { c[i] = paillier::deserialize_ciphertext(pk, b[i], paillier::unit_check::no); });
  const unsigned parts = std::max(1U, std::min<unsigned>(threads, static_cast<unsigned>(std::max<std::size_t>(c.size(), 1))));
  std::vector<mpz> prod(parts);
  parallel_for(parts, threads, dummy, [&](std::size_t t, prg&) {
    mpz tmp;
    ::mpz_set_ui(prod[t], 1);
    for (std::size_t i = c.size() * t / parts; i < c.size() * (t + 1) / parts; ++i) {
      ::mpz_mul(tmp, prod[t], c[i].value);
      ::mpz_tdiv_r(prod[t], tmp, pk.n());
    }
  });
  mpz all, tmp, d;
  ::mpz_set_ui(all, 1);
  for (const auto& p : prod) {
    ::mpz_mul(tmp, all, p);
    ::mpz_tdiv_r(all, tmp, pk.n());
  }
  ::mpz_gcd(d, all, pk.n());
  if (paillier::cmp_ui(d, 1) != 0) {
    for (std::size_t i = 0; i < b.size(); ++i) (void)paillier::deserialize_ciphertext(pk, b[i]);  // throws for the culprit
    throw decode_error("paillier ciphertexts: their product is not coprime to N");
  }
  return c;
}

}  // namespace pmdi::proto::he
