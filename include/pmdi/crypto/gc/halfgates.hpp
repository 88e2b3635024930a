#pragma once
// Half-gates garbling with free-XOR and point-and-permute, as pure functions
// over a whole circuit (batched level by level, see circuit.hpp).
// [ref] Zahur, Rosulek, Evans: Two Halves Make a Whole, eprint 2014/756.
// [ref] Kolesnikov, Schneider: Improved Garbled Circuit: Free XOR Gates (ICALP 2008).
//
//   gc::keygen_delta(prg&) -> block                       random delta, lsb(delta) = 1
//   gc::keygen_zero_labels(prg&, n) -> secret_vector<block>
//   gc::encode(zero_labels, bits, delta) -> vector<block>  label_i = zero_i ^ bit_i * delta
//   gc::garble(circuit, delta, input_zero_labels, tweak_base, tables_out, output_zero_labels_out)
//       tables_out.size() == table_blocks(circuit) == 2 * and_count()
//   gc::garble(circuit, delta, input_zero_labels, tweak_base) -> garbled{tables, output_zero_labels}
//   gc::decode_bits(output_zero_labels) -> vector<uint8_t>  (lsb of each zero label)
//   gc::evaluate(circuit, input_labels, tables, tweak_base, output_labels_out)
//   gc::evaluate(circuit, input_labels, tables, tweak_base) -> vector<block>
//   gc::decode(output_labels, decode_bits) -> vector<uint8_t>  (0/1 per output)
//   gc::words_to_bits<V>(words, l) / gc::bits_to_words<V>(bits, l)  LSB first
//
// Tweaks: AND gate k (schedule order) uses tweak_base + k, so a caller that
// garbles the same circuit many times advances tweak_base by and_count()
// after each garbling and never reuses a tweak under one delta.
// Tables: 2 blocks (32 bytes) per AND gate, in schedule order.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pmdi/core/block.hpp"
#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/crypto/gc/circuit.hpp"
#include "pmdi/crypto/gc/hash.hpp"

namespace pmdi::gc {

inline constexpr std::size_t table_blocks_per_and = 2;

[[nodiscard]] inline std::size_t table_blocks(const circuit& c) noexcept {
  return table_blocks_per_and * c.and_count();
}

[[nodiscard]] inline block keygen_delta(prg& g) noexcept {
  block d = g.next_block();
  return d ^ block::from_u64(0, (d.lo() & 1U) ^ 1U);  // force lsb 1
}

[[nodiscard]] inline secret_vector<block> keygen_zero_labels(prg& g, std::size_t n) {
  secret_vector<block> z(n);
  g.fill(z.data(), n * sizeof(block));
  return z;
}

// Labels of known bits (the garbler's own inputs, tests): zero ^ bit * delta.
[[nodiscard]] inline std::vector<block> encode(std::span<const block> zero_labels, std::span<const std::uint8_t> bits,
                                               block delta) {
  if (zero_labels.size() != bits.size()) throw usage_error("gc::encode: label and bit counts differ");
  std::vector<block> out(bits.size());
  for (std::size_t i = 0; i < bits.size(); ++i) out[i] = zero_labels[i] ^ (delta & select_mask(bits[i] & 1U));
  return out;
}

namespace detail {

// Chunk of AND gates hashed together (4 blocks each for the garbler): 16 KiB of
// scratch, small enough to stay in L1 with the labels it reads.
inline constexpr std::size_t and_chunk = 256;

// All-ones if lsb(x) else zero.
[[nodiscard]] inline __m128i lsb_mask(__m128i x) noexcept {
  return _mm_shuffle_epi32(_mm_srai_epi32(_mm_slli_epi32(x, 31), 31), 0);
}

// Label of a slot: gate outputs live in w, inputs in the caller's span.
// Branch-free: the top two bits of the slot pick the base (scratch, outputs, inputs).
struct slots {
  block* base[4];
  slots(block* w, block* out, const block* in) noexcept
      : base{w, out, const_cast<block*>(in), nullptr} {}  // inputs are only read
  [[nodiscard]] block& operator[](wire s) const noexcept {
    return *reinterpret_cast<block*>(reinterpret_cast<char*>(base[s >> 30]) + (std::size_t{s & slot_index_mask} << 4));
  }
};

// Prefetch (into L2) the input labels tile t will read.
inline void prefetch_tile(const schedule& s, std::size_t t, const block* in) noexcept {
  if (t >= s.tiles()) return;
  for (std::uint32_t r = s.prefetch_offsets[t]; r < s.prefetch_offsets[t + 1]; ++r) {
    const auto [lo, hi] = s.prefetch_ranges[r];
    for (std::uint32_t i = lo; i < hi; i += 4)
      _mm_prefetch(reinterpret_cast<const char*>(in + i), _MM_HINT_T1);
  }
}

inline std::vector<block>& wire_scratch(std::size_t n) {
  thread_local std::vector<block> w;
  if (w.size() < n) w.resize(n);
  return w;
}

inline void check_sizes(const char* who, const circuit& c, std::size_t inputs, std::size_t tables, std::size_t outputs) {
  using std::to_string;
  if (inputs != c.inputs().size())
    throw usage_error(std::string(who) + ": " + to_string(inputs) + " input labels for a circuit with " +
                      to_string(c.inputs().size()) + " inputs");
  if (tables != table_blocks(c))
    throw usage_error(std::string(who) + ": table span holds " + to_string(tables) + " blocks, the circuit needs " +
                      to_string(table_blocks(c)));
  if (outputs != c.outputs().size())
    throw usage_error(std::string(who) + ": output span holds " + to_string(outputs) + " labels, the circuit has " +
                      to_string(c.outputs().size()) + " outputs");
}

}  // namespace detail

// Garbles c under delta (lsb 1). input_zero_labels[i] is the zero label of
// c.inputs()[i]. Writes 2 * and_count() table blocks and the zero labels of the
// outputs (their lsbs are the output-decoding bits).
inline void garble(const circuit& c, block delta, std::span<const block> input_zero_labels, std::uint64_t tweak_base,
                   std::span<block> tables_out, std::span<block> output_zero_labels_out) {
  detail::check_sizes("gc::garble", c, input_zero_labels.size(), tables_out.size(), output_zero_labels_out.size());
  if (!delta.lsb()) throw usage_error("gc::garble: delta must have lsb 1 (point-and-permute)");
  const hasher& h = hasher::instance();
  const schedule& s = c.schedule();
  block* w = detail::wire_scratch(std::max<std::size_t>(s.num_slots, 2)).data();
  const detail::slots l(w, output_zero_labels_out.data(), input_zero_labels.data());
  w[slot_zero] = zero_block;
  w[slot_one] = delta;
  const __m128i d = delta.v;
  const __m128i sd = sigma(d);
  alignas(64) block y[4 * detail::and_chunk];
  block* tab = tables_out.data();
  std::uint64_t k = tweak_base;
  std::size_t tile = 0;
  detail::prefetch_tile(s, 0, input_zero_labels.data());
  for (std::size_t p = 0; p < s.steps(); ++p) {
    while (tile < s.tiles() && p == s.tile_steps[tile]) detail::prefetch_tile(s, ++tile, input_zero_labels.data());
    for (std::uint32_t i = s.free_offsets[p]; i < s.free_offsets[p + 1]; ++i) {
      const xor_gate& g = s.free_gates[i];
      l[g.out] = l[g.a] ^ l[g.b];
    }
    for (std::uint32_t lo = s.and_offsets[p]; lo < s.and_offsets[p + 1]; lo += detail::and_chunk) {
      const std::uint32_t n = std::min<std::uint32_t>(detail::and_chunk, s.and_offsets[p + 1] - lo);
      const and_gate* ag = s.and_gates.data() + lo;
      __m128i tg = _mm_set_epi64x(0, static_cast<long long>(k));
      __m128i te = _mm_set_epi64x(1, static_cast<long long>(k));
      const __m128i one = _mm_set_epi64x(0, 1);
      for (std::uint32_t j = 0; j < n; ++j) {
        const __m128i sa = sigma(l[ag[j].a].v), sb = sigma(l[ag[j].b].v);
        y[4 * j] = block(_mm_xor_si128(sa, tg));
        y[4 * j + 1] = block(_mm_xor_si128(_mm_xor_si128(sa, sd), tg));
        y[4 * j + 2] = block(_mm_xor_si128(sb, te));
        y[4 * j + 3] = block(_mm_xor_si128(_mm_xor_si128(sb, sd), te));
        tg = _mm_add_epi64(tg, one);
        te = _mm_add_epi64(te, one);
      }
      h.mmo_inplace(y, 4 * n);
      for (std::uint32_t j = 0; j < n; ++j) {
        const __m128i a0 = l[ag[j].a].v, b0 = l[ag[j].b].v;
        const __m128i pa = detail::lsb_mask(a0), pb = detail::lsb_mask(b0);
        const __m128i ha0 = y[4 * j].v, ha1 = y[4 * j + 1].v, hb0 = y[4 * j + 2].v, hb1 = y[4 * j + 3].v;
        // [ref] ZRE Fig. 2: generator half gate and evaluator half gate.
        const __m128i tgv = _mm_xor_si128(_mm_xor_si128(ha0, ha1), _mm_and_si128(pb, d));
        const __m128i wg = _mm_xor_si128(ha0, _mm_and_si128(pa, tgv));
        const __m128i tev = _mm_xor_si128(_mm_xor_si128(hb0, hb1), a0);
        const __m128i we = _mm_xor_si128(hb0, _mm_and_si128(pb, _mm_xor_si128(tev, a0)));
        tab[0] = block(tgv);
        tab[1] = block(tev);
        tab += 2;
        l[ag[j].out] = block(_mm_xor_si128(wg, we));
      }
      k += n;
    }
  }
  for (std::size_t i = 0; i < c.outputs().size(); ++i)
    if (s.output_slots[i] != (output_slot | i)) output_zero_labels_out[i] = l[s.output_slots[i]];
  // The scratch held zero labels and delta: wipe it.
  secure_zero(w, s.num_slots * sizeof(block));
  secure_zero(y, sizeof y);
}

struct garbled {
  std::vector<block> tables;
  std::vector<block> output_zero_labels;
};

[[nodiscard]] inline garbled garble(const circuit& c, block delta, std::span<const block> input_zero_labels,
                                    std::uint64_t tweak_base) {
  garbled g{std::vector<block>(table_blocks(c)), std::vector<block>(c.outputs().size())};
  garble(c, delta, input_zero_labels, tweak_base, g.tables, g.output_zero_labels);
  return g;
}

[[nodiscard]] inline std::vector<std::uint8_t> decode_bits(std::span<const block> output_zero_labels) {
  std::vector<std::uint8_t> d(output_zero_labels.size());
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = output_zero_labels[i].lsb() ? 1 : 0;
  return d;
}

// Evaluates c on one label per input wire; writes one label per output.
inline void evaluate(const circuit& c, std::span<const block> input_labels, std::span<const block> tables,
                     std::uint64_t tweak_base, std::span<block> output_labels_out) {
  detail::check_sizes("gc::evaluate", c, input_labels.size(), tables.size(), output_labels_out.size());
  const hasher& h = hasher::instance();
  const schedule& s = c.schedule();
  block* w = detail::wire_scratch(std::max<std::size_t>(s.num_slots, 2)).data();
  const detail::slots l(w, output_labels_out.data(), input_labels.data());
  w[slot_zero] = zero_block;
  w[slot_one] = zero_block;
  alignas(64) block y[2 * detail::and_chunk];
  const block* tab = tables.data();
  std::uint64_t k = tweak_base;
  std::size_t tile = 0;
  detail::prefetch_tile(s, 0, input_labels.data());
  for (std::size_t p = 0; p < s.steps(); ++p) {
    while (tile < s.tiles() && p == s.tile_steps[tile]) detail::prefetch_tile(s, ++tile, input_labels.data());
    for (std::uint32_t i = s.free_offsets[p]; i < s.free_offsets[p + 1]; ++i) {
      const xor_gate& g = s.free_gates[i];
      l[g.out] = l[g.a] ^ l[g.b];
    }
    for (std::uint32_t lo = s.and_offsets[p]; lo < s.and_offsets[p + 1]; lo += detail::and_chunk) {
      const std::uint32_t n = std::min<std::uint32_t>(detail::and_chunk, s.and_offsets[p + 1] - lo);
      const and_gate* ag = s.and_gates.data() + lo;
      __m128i tg = _mm_set_epi64x(0, static_cast<long long>(k));
      __m128i te = _mm_set_epi64x(1, static_cast<long long>(k));
      const __m128i one = _mm_set_epi64x(0, 1);
      for (std::uint32_t j = 0; j < n; ++j) {
        y[2 * j] = block(_mm_xor_si128(sigma(l[ag[j].a].v), tg));
        y[2 * j + 1] = block(_mm_xor_si128(sigma(l[ag[j].b].v), te));
        tg = _mm_add_epi64(tg, one);
        te = _mm_add_epi64(te, one);
      }
      h.mmo_inplace(y, 2 * n);
      for (std::uint32_t j = 0; j < n; ++j) {
        const __m128i a = l[ag[j].a].v, b = l[ag[j].b].v;
        const __m128i sa = detail::lsb_mask(a), sb = detail::lsb_mask(b);
        const __m128i wg = _mm_xor_si128(y[2 * j].v, _mm_and_si128(sa, tab[0].v));
        const __m128i we = _mm_xor_si128(y[2 * j + 1].v, _mm_and_si128(sb, _mm_xor_si128(tab[1].v, a)));
        tab += 2;
        l[ag[j].out] = block(_mm_xor_si128(wg, we));
      }
      k += n;
    }
  }
  for (std::size_t i = 0; i < c.outputs().size(); ++i)
    if (s.output_slots[i] != (output_slot | i)) output_labels_out[i] = l[s.output_slots[i]];
}

[[nodiscard]] inline std::vector<block> evaluate(const circuit& c, std::span<const block> input_labels,
                                                 std::span<const block> tables, std::uint64_t tweak_base) {
  std::vector<block> out(c.outputs().size());
  evaluate(c, input_labels, tables, tweak_base, out);
  return out;
}

[[nodiscard]] inline std::vector<std::uint8_t> decode(std::span<const block> output_labels,
                                                      std::span<const std::uint8_t> decode_bits) {
  if (output_labels.size() != decode_bits.size())
    throw usage_error("gc::decode: " + std::to_string(output_labels.size()) + " labels but " +
                      std::to_string(decode_bits.size()) + " decoding bits");
  std::vector<std::uint8_t> out(output_labels.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::uint8_t>((output_labels[i].lsb() ? 1U : 0U) ^ (decode_bits[i] & 1U));
  return out;
}

// Ring words <-> bits, l bits per word, LSB first, word after word.
template <class V>
[[nodiscard]] std::vector<std::uint8_t> words_to_bits(std::span<const V> words, unsigned l) {
  if (l == 0 || l > 8 * sizeof(V)) throw usage_error("gc::words_to_bits: bad bit width");
  std::vector<std::uint8_t> bits(words.size() * l);
  for (std::size_t i = 0; i < words.size(); ++i)
    for (unsigned j = 0; j < l; ++j) bits[i * l + j] = static_cast<std::uint8_t>((words[i] >> j) & 1U);
  return bits;
}

template <class V>
[[nodiscard]] std::vector<V> bits_to_words(std::span<const std::uint8_t> bits, unsigned l) {
  if (l == 0 || l > 8 * sizeof(V) || bits.size() % l != 0)
    throw usage_error("gc::bits_to_words: bit count is not a multiple of the width");
  std::vector<V> words(bits.size() / l, 0);
  for (std::size_t i = 0; i < words.size(); ++i)
    for (unsigned j = 0; j < l; ++j) words[i] |= static_cast<V>(static_cast<V>(bits[i * l + j] & 1U) << j);
  return words;
}

}  // namespace pmdi::gc
