#pragma once
// Arithmetic outputs: a circuit's output word y over Z_2^l handed to the
// evaluator as y + m mod 2^l, m known to the garbler only, with no adder in
// the circuit. The word is written as a sum of its output bits,
//   y = offset + sum_t weight_t * bit_t   mod 2^l
// (weight 2^i for bit i; a bit repeated by sign extension adds its weights,
// constant bits go into the public offset), and each bit's label is turned
// into the additive value bit_t * weight_t + m_t with one hash:
//
//   gc::arithmetic_outputs a;                          per word: terms and offset
//   gc::output_arithmetic(builder, word, a)            the word's distinct non-constant bits become outputs
//   gc::garble_arithmetic<V>(a, run, offset, output_zero_labels, tables_out, masks_out)
//       tables_out: one l-bit value per term; masks_out: m per word; claims
//       tweaks offset .. offset + terms() - 1 of the garbling run
//   gc::evaluate_arithmetic<V>(a, output_labels, tables, tweak_base, out)   out[j] = y_j + m_j
//   gc::relu_arithmetic_circuit(l, s, n) -> {circuit, arithmetic_outputs}   relu(trunc(a + w, s)), n words
//   gc::low_bits(l)                                    2^l - 1 (all ones for l = 64)
//
// A term's bit has labels L0 (lsb 0, standing for the bit p = lsb of the zero
// label) and L1 = L0 ^ delta (standing for 1 - p). With h_b = low l bits of
// H(L_b, T) (hash.hpp, tweak T the term's own):
//   m_t = h_0 - p * weight,   table_t = (1 - p) * weight + m_t - h_1;
// the evaluator holding L computes h + lsb(L) * table_t, which is
// bit * weight + m_t either way: the lsb-0 row needs no table entry (row
// reduction), the other entry is masked by the hash of a label the evaluator
// does not hold.
// [ref] output labels as keys of the values they stand for: Yao's output
//       tables; one row less: Naor, Pinkas, Sumner, Privacy Preserving
//       Auctions and Mechanism Design (EC 1999), row reduction; the same
//       conversion of garbled bits to additive shares as ABY's Yao-to-
//       arithmetic step without its extra round (Demmler, Schneider, Zohner,
//       NDSS 2015).
//
// What the evaluator learns: for a term whose label it holds as L1, m_t
// contains h_0, the hash of a label it does not hold: uniform mod 2^l; for a
// term it holds as L0, the value h_0 is its own but p (the garbler's random
// colour) is hidden. So y + m is independent of y: a word with one L1 term is
// uniform, a word of L0 terms only is a hash of labels whose colours are
// independent of y. The protocol adds the client's -r - m to it
// (proto/circuits.hpp), which gives the evaluator y - r and nothing else.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/block.hpp"
#include "pmdi/core/error.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/crypto/gc/builder.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"
#include "pmdi/crypto/gc/hash.hpp"

namespace pmdi::gc {

// The l low bits set (l <= 64): values mod 2^l.
[[nodiscard]] constexpr std::uint64_t low_bits(unsigned l) noexcept {
  return l >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << l) - 1;
}

struct arithmetic_outputs {
  unsigned l = 0;
  std::vector<std::uint32_t> first{0};  // word j's terms: [first[j], first[j + 1])
  std::vector<std::uint64_t> weight;    // term t: weight of the circuit's output t, mod 2^l
  std::vector<std::uint64_t> offset;    // word j: the constant bits' part, mod 2^l

  [[nodiscard]] std::size_t words() const noexcept { return offset.size(); }
  [[nodiscard]] std::size_t terms() const noexcept { return weight.size(); }
  [[nodiscard]] std::uint64_t mask() const noexcept { return low_bits(l); }
};

// Registers word x (l = x.size() bits, LSB first) as b's next arithmetic
// output: each distinct non-constant bit becomes one output of the circuit
// (in order of first appearance), with the sum of its weights.
inline void output_arithmetic(builder& b, const word& x, arithmetic_outputs& a) {
  if (x.empty() || x.size() > 64) throw usage_error("gc::output_arithmetic: a word of " + std::to_string(x.size()) + " bits");
  if (a.l == 0) a.l = static_cast<unsigned>(x.size());
  if (x.size() != a.l)
    throw usage_error("gc::output_arithmetic: a word of " + std::to_string(x.size()) + " bits among words of " +
                      std::to_string(a.l));
  std::uint64_t offset = 0;
  std::vector<wire> wires;
  std::vector<std::uint64_t> weights;
  for (unsigned i = 0; i < a.l; ++i) {
    const std::uint64_t w = std::uint64_t{1} << i;
    if (b.is_zero(x[i])) continue;
    if (b.is_one(x[i])) {
      offset += w;
      continue;
    }
    const auto it = std::find(wires.begin(), wires.end(), x[i]);
    if (it == wires.end()) {
      wires.push_back(x[i]);
      weights.push_back(w);
    } else {
      weights[static_cast<std::size_t>(it - wires.begin())] += w;
    }
  }
  for (std::size_t t = 0; t < wires.size(); ++t) {
    if ((weights[t] & a.mask()) == 0) continue;  // a bit whose weights cancel mod 2^l
    b.output(wires[t]);
    a.weight.push_back(weights[t] & a.mask());
  }
  a.offset.push_back(offset & a.mask());
  a.first.push_back(static_cast<std::uint32_t>(a.weight.size()));
}

namespace detail {

inline void check_arithmetic(const char* who, const arithmetic_outputs& a, std::size_t labels, std::size_t tables,
                             std::size_t words, unsigned value_bits) {
  if (a.l == 0 || a.l > value_bits || a.first.size() != a.words() + 1 || a.first.back() != a.terms())
    throw usage_error(std::string(who) + ": the arithmetic outputs are malformed or wider than the value type");
  if (labels != a.terms() || tables != a.terms() || words != a.words())
    throw usage_error(std::string(who) + ": " + std::to_string(labels) + " labels, " + std::to_string(tables) +
                      " table values and " + std::to_string(words) + " words for " + std::to_string(a.terms()) +
                      " terms in " + std::to_string(a.words()) + " words");
}

// h[i] = low 64 bits of H(label[i], tweak(first + i)) for a batch of labels;
// y: the caller's scratch of arithmetic_batch blocks (the garbler wipes its
// own once, at the end).
inline constexpr std::size_t arithmetic_batch = 64;
inline void hash_labels(const block* labels, std::size_t n, std::uint64_t first_tweak, block* y, std::uint64_t* h) noexcept {
  for (std::size_t i = 0; i < n; ++i) y[i] = block(sigma(labels[i].v)) ^ and_tweak(first_tweak + i, 0);
  hasher::instance().mmo_inplace(y, n);
  for (std::size_t i = 0; i < n; ++i) h[i] = y[i].lo();
}

}  // namespace detail

// Garbler: the table values and each word's mask m from the outputs' zero
// labels, with the run's delta and tweaks offset .. offset + terms() - 1.
template <class V>
void garble_arithmetic(const arithmetic_outputs& a, garbling_run& run, std::uint64_t offset,
                       std::span<const block> output_zero_labels, std::span<V> tables_out, std::span<V> masks_out) {
  detail::check_arithmetic("gc::garble_arithmetic", a, output_zero_labels.size(), tables_out.size(), masks_out.size(),
                           8 * sizeof(V));
  const std::uint64_t t0 = run.claim(offset, a.terms());
  const block delta = run.delta();
  const std::uint64_t mask = a.mask();
  std::vector<std::uint64_t> m(a.terms());  // m_t, wiped below
  block l0[detail::arithmetic_batch], l1[detail::arithmetic_batch], y[detail::arithmetic_batch];
  std::uint64_t h0[detail::arithmetic_batch], h1[detail::arithmetic_batch];
  for (std::size_t s = 0; s < a.terms(); s += detail::arithmetic_batch) {
    const std::size_t n = std::min(detail::arithmetic_batch, a.terms() - s);
    for (std::size_t i = 0; i < n; ++i) {
      const block z = output_zero_labels[s + i];
      const std::uint64_t p = z.lo() & 1U;
      l0[i] = z ^ (delta & block::from_u64(0 - p, 0 - p));  // the lsb-0 label, standing for bit p
      l1[i] = l0[i] ^ delta;
    }
    detail::hash_labels(l0, n, t0 + s, y, h0);
    detail::hash_labels(l1, n, t0 + s, y, h1);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t p = output_zero_labels[s + i].lo() & 1U, w = a.weight[s + i];
      m[s + i] = (h0[i] - p * w) & mask;
      tables_out[s + i] = static_cast<V>(((1 - p) * w + m[s + i] - h1[i]) & mask);
    }
  }
  for (std::size_t j = 0; j < a.words(); ++j) {
    std::uint64_t sum = 0;
    for (std::size_t t = a.first[j]; t < a.first[j + 1]; ++t) sum += m[t];
    masks_out[j] = static_cast<V>(sum & mask);
  }
  secure_zero(m.data(), m.size() * sizeof(std::uint64_t));
  secure_zero(l0, sizeof l0), secure_zero(l1, sizeof l1), secure_zero(y, sizeof y);
  secure_zero(h0, sizeof h0), secure_zero(h1, sizeof h1);
}

// Evaluator: out[j] = y_j + m_j mod 2^l from the outputs' labels, the tables
// and the first of the terms' tweaks (the run's tweak_base() + offset).
template <class V>
void evaluate_arithmetic(const arithmetic_outputs& a, std::span<const block> output_labels, std::span<const V> tables,
                         std::uint64_t first_tweak, std::span<V> out) {
  detail::check_arithmetic("gc::evaluate_arithmetic", a, output_labels.size(), tables.size(), out.size(), 8 * sizeof(V));
  // The hashes of the evaluator's own labels: nothing to wipe.
  block y[detail::arithmetic_batch];
  std::uint64_t h[detail::arithmetic_batch];
  std::size_t j = 0;
  std::uint64_t sum = 0;
  for (std::size_t s = 0; s < a.terms(); s += detail::arithmetic_batch) {
    const std::size_t n = std::min(detail::arithmetic_batch, a.terms() - s);
    detail::hash_labels(output_labels.data() + s, n, first_tweak + s, y, h);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t t = s + i;
      while (a.first[j + 1] <= t) {  // words before this term are complete
        out[j] = static_cast<V>((a.offset[j] + sum) & a.mask());
        sum = 0, ++j;
      }
      sum += h[i] + (static_cast<std::uint64_t>(tables[t]) & (0 - (output_labels[t].lo() & 1U)));
    }
  }
  for (; j < a.words(); ++j) {
    out[j] = static_cast<V>((a.offset[j] + sum) & a.mask());
    sum = 0;
  }
}

// A circuit whose outputs are arithmetic words.
struct arithmetic_circuit {
  circuit c;
  arithmetic_outputs out;
};

// relu(trunc(a + w, s)) over Z_2^l for n activations, as arithmetic outputs:
// the protocol's ReLU stage (proto/circuits.hpp) without its mask. Inputs
// a_0..a_{n-1}, then w_0..w_{n-1}; 2l - s - 2 ANDs per ReLU (50 at l = 32,
// s = 12) and l - s - 1 terms (19).
[[nodiscard]] inline arithmetic_circuit relu_arithmetic_circuit(unsigned l, unsigned s, std::size_t n) {
  builder b;
  std::vector<word> a(n), w(n);
  for (auto& x : a) x = b.input_word(l);
  for (auto& x : w) x = b.input_word(l);
  arithmetic_outputs out;
  for (std::size_t i = 0; i < n; ++i) output_arithmetic(b, b.relu(b.trunc(b.add(a[i], w[i]), s)), out);
  return {std::move(b).build(), std::move(out)};
}

}  // namespace pmdi::gc
