#pragma once
// Half-gates garbling with free-XOR and point-and-permute, as pure functions
// over a whole circuit (batched level by level, see circuit.hpp).
// [ref] Zahur, Rosulek, Evans: Two Halves Make a Whole, eprint 2014/756.
// [ref] Kolesnikov, Schneider: Improved Garbled Circuit: Free XOR Gates (ICALP 2008).
//
//   gc::keygen_delta(prg&) -> block                       random delta, lsb(delta) = 1
//   gc::keygen_zero_labels(prg&, n) -> secret_vector<block>
//   gc::encode(zero_labels, bits, delta) -> vector<block>  label_i = zero_i ^ bit_i * delta
//   gc::encode_words<V>(zero_labels, words, l, delta, out_bytes)  the same for the bits of ring words
//   gc::garbler g = gc::garbler::keygen(prg)           delta and its tweak counter (no tweak reuse)
//   g.delta(), g.next_tweak()
//   t = g.garble(circuit, input_zero_labels, tables_out, output_zero_labels_out [, pool])
//       tables_out.size() == table_blocks(circuit) == 2 * and_count(); t: the tweak base for evaluate
//   g.garble(circuit, input_zero_labels) -> garbled{tables, output_zero_labels, tweak_base}
//   gc::garbling_run r = g.reserve(n); r.garble(circuit, offset, ...)  pieces of one run, each
//       tweak once (overlaps refused), in any order or concurrently
//   gc::garbler::known_answer(delta, first_tweak)       tests with fixed values only
//   gc::decode_bits(output_zero_labels) -> vector<uint8_t>  (lsb of each zero label)
//   gc::evaluate(circuit, input_labels, tables, tweak_base, output_labels_out [, pool])
//   gc::evaluate(circuit, input_labels, tables, tweak_base) -> vector<block>
//   gc::decode(output_labels, decode_bits) -> vector<uint8_t>  (0/1 per output)
//   gc::words_to_bits<V>(words, l) / gc::bits_to_words<V>(bits, l)  LSB first
//
// Tweaks: AND gate k (schedule order) uses tweak_base + k. The garbler
// object hands out tweak ranges and never the same one twice.
// Tables: 2 blocks (32 bytes) per AND gate, in schedule order.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
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

// The labels of the bits of `words` (l per word, LSB first, word after word,
// as words_to_bits lists them), written to `out` as 16 bytes each in memory
// order (a message body: no alignment asked, no bit vector made).
template <class V>
void encode_words(std::span<const block> zero_labels, std::span<const V> words, unsigned l, block delta,
                  std::span<std::byte> out) {
  if (l == 0 || l > 8 * sizeof(V)) throw usage_error("gc::encode_words: bad bit width");
  if (zero_labels.size() != words.size() * l || out.size() != zero_labels.size() * sizeof(block))
    throw usage_error("gc::encode_words: label, word and byte counts do not match");
  std::byte* o = out.data();
  const block* z = zero_labels.data();
  for (const V w : words)
    for (unsigned j = 0; j < l; ++j, ++z, o += sizeof(block)) (*z ^ (delta & select_mask((w >> j) & 1U))).store(o);
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

// The spans of a garbling or evaluation against the circuit: `tables` of
// `table_unit`s where the scheme needs `tables_needed`.
inline void check_spans(const char* who, const circuit& c, std::size_t inputs, std::size_t tables,
                        std::size_t tables_needed, const char* table_unit, std::size_t outputs) {
  using std::to_string;
  if (inputs != c.inputs().size())
    throw usage_error(std::string(who) + ": " + to_string(inputs) + " input labels for a circuit with " +
                      to_string(c.inputs().size()) + " inputs");
  if (tables != tables_needed)
    throw usage_error(std::string(who) + ": table span holds " + to_string(tables) + " " + table_unit +
                      ", the circuit needs " + to_string(tables_needed));
  if (outputs != c.outputs().size())
    throw usage_error(std::string(who) + ": output span holds " + to_string(outputs) + " labels, the circuit has " +
                      to_string(c.outputs().size()) + " outputs");
}
inline void check_sizes(const char* who, const circuit& c, std::size_t inputs, std::size_t tables, std::size_t outputs) {
  check_spans(who, c, inputs, tables, table_blocks(c), "blocks", outputs);
}

}  // namespace detail

namespace detail {

// The one-by-one part of c (c.schedule()).
inline void garble_generic(const circuit& c, block delta, std::span<const block> input_zero_labels,
                           std::uint64_t tweak_base, std::span<block> tables_out,
                           std::span<block> output_zero_labels_out) {
  const hasher& h = hasher::instance();
  const schedule& s = c.schedule();
  block* w = wire_scratch(std::max<std::size_t>(s.num_slots, 2)).data();
  const slots l(w, output_zero_labels_out.data(), input_zero_labels.data());
  w[slot_zero] = zero_block;
  w[slot_one] = delta;
  const __m128i d = delta.v;
  const __m128i sd = sigma(d);
  alignas(64) block y[4 * and_chunk];
  block* tab = tables_out.data();
  std::uint64_t k = tweak_base;
  std::size_t tile = 0;
  prefetch_tile(s, 0, input_zero_labels.data());
  for (std::size_t p = 0; p < s.steps(); ++p) {
    while (tile < s.tiles() && p == s.tile_steps[tile]) prefetch_tile(s, ++tile, input_zero_labels.data());
    for (std::uint32_t i = s.free_offsets[p]; i < s.free_offsets[p + 1]; ++i) {
      const xor_gate& g = s.free_gates[i];
      l[g.out] = l[g.a] ^ l[g.b];
    }
    for (std::uint32_t lo = s.and_offsets[p]; lo < s.and_offsets[p + 1]; lo += and_chunk) {
      const std::uint32_t n = std::min<std::uint32_t>(and_chunk, s.and_offsets[p + 1] - lo);
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
        const __m128i pa = lsb_mask(a0), pb = lsb_mask(b0);
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


inline void evaluate_generic(const circuit& c, std::span<const block> input_labels, std::span<const block> tables,
                             std::uint64_t tweak_base, std::span<block> output_labels_out) {
  const hasher& h = hasher::instance();
  const schedule& s = c.schedule();
  block* w = wire_scratch(std::max<std::size_t>(s.num_slots, 2)).data();
  const slots l(w, output_labels_out.data(), input_labels.data());
  w[slot_zero] = zero_block;
  w[slot_one] = zero_block;
  alignas(64) block y[2 * and_chunk];
  const block* tab = tables.data();
  std::uint64_t k = tweak_base;
  std::size_t tile = 0;
  prefetch_tile(s, 0, input_labels.data());
  for (std::size_t p = 0; p < s.steps(); ++p) {
    while (tile < s.tiles() && p == s.tile_steps[tile]) prefetch_tile(s, ++tile, input_labels.data());
    for (std::uint32_t i = s.free_offsets[p]; i < s.free_offsets[p + 1]; ++i) {
      const xor_gate& g = s.free_gates[i];
      l[g.out] = l[g.a] ^ l[g.b];
    }
    for (std::uint32_t lo = s.and_offsets[p]; lo < s.and_offsets[p + 1]; lo += and_chunk) {
      const std::uint32_t n = std::min<std::uint32_t>(and_chunk, s.and_offsets[p + 1] - lo);
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
        const __m128i sa = lsb_mask(a), sb = lsb_mask(b);
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


// Lane groups. Labels of a group live lane-contiguous: slot s of lane j at
// row(s)[j]; rows of scratch slots, of the template's inputs (gathered from
// the caller's labels) and of its outputs (scattered at the end). Rows are
// padded to a multiple of 4 lanes (one 512-bit vector); the padding lanes
// compute on garbage that never leaves the scratch.
struct lane_rows {
  block* base[4];
  std::size_t stride;
  [[nodiscard]] block* operator()(wire s) const noexcept {
    return base[s >> 30] + std::size_t{s & slot_index_mask} * stride;
  }
};

[[nodiscard]] inline std::size_t lane_stride(std::size_t lanes) noexcept { return (lanes + 3) & ~std::size_t{3}; }

// Blocks of scratch a group needs (scratch slots, inputs, outputs).
[[nodiscard]] inline std::size_t group_scratch(const circuit& c, const lane_group& g) noexcept {
  const circuit& t = c.lane_templates()[g.tmpl];
  return (std::size_t{t.schedule().num_slots} + t.inputs().size() + t.outputs().size()) * lane_stride(g.lanes);
}
[[nodiscard]] inline std::size_t lane_scratch(const circuit& c, std::size_t g_lo, std::size_t g_hi) noexcept {
  std::size_t n = 0;
  for (std::size_t i = g_lo; i < g_hi; ++i) n = std::max(n, group_scratch(c, c.lane_groups()[i]));
  return n;
}

// Prefetches the input labels of the next group while a group runs, a few
// cache lines per phase (a burst of hundreds of prefetches would stall on
// the miss buffers).
struct line_prefetcher {
  const std::pair<std::uint32_t, std::uint32_t>* r = nullptr;
  const std::pair<std::uint32_t, std::uint32_t>* r_end = nullptr;
  std::uint32_t i = 0;
  const block* in = nullptr;
  std::size_t per_step = 0;

  line_prefetcher() = default;
  line_prefetcher(const circuit& c, std::size_t gi, const block* labels, std::size_t steps) noexcept : in(labels) {
    if (gi >= c.lane_groups().size()) return;
    const auto& off = c.lane_prefetch_offsets();
    r = c.lane_prefetch_ranges().data() + off[gi];
    r_end = c.lane_prefetch_ranges().data() + off[gi + 1];
    std::size_t lines = 0;
    for (auto* q = r; q != r_end; ++q) lines += (q->second - q->first) / 4;
    if (r != r_end) i = r->first;
    per_step = lines / std::max<std::size_t>(steps, 1) + 1;
  }
  void step() noexcept { step(per_step); }
  void step(std::size_t n) noexcept {
    for (; n > 0 && r != r_end; --n) {
      _mm_prefetch(reinterpret_cast<const char*>(in + i), _MM_HINT_T0);
      i += 4;
      if (i >= r->second && ++r != r_end) i = r->first;
    }
  }
  void finish() noexcept { step(~std::size_t{0}); }
};

// Per-thread scratch of a lane run, 64-byte aligned (one vector per 4 lanes).
inline block* lane_scratch_buffer(std::size_t n) {
  thread_local std::vector<block> w;
  if (w.size() < n + 3) w.resize(n + 3);
  const auto p = reinterpret_cast<std::uintptr_t>(w.data());
  return reinterpret_cast<block*>((p + 63) & ~std::uintptr_t{63});
}

inline lane_rows lane_begin(const circuit& c, const lane_group& grp, const block* in, block* scratch, block c0,
                            block c1) noexcept {
  const circuit& t = c.lane_templates()[grp.tmpl];
  const std::size_t w = grp.lanes, st = lane_stride(w), n_in = t.inputs().size();
  block* sl = scratch;
  block* gin = sl + std::size_t{t.schedule().num_slots} * st;
  block* gout = gin + n_in * st;
  const std::uint32_t* im = c.lane_inputs().data() + grp.in_offset;
  for (std::size_t k = 0; k < n_in; ++k)
    for (std::size_t j = 0; j < w; ++j) gin[k * st + j] = in[im[k * w + j]];
  for (std::size_t j = 0; j < st; ++j) sl[slot_zero * st + j] = c0, sl[slot_one * st + j] = c1;
  return lane_rows{{sl, gout, gin, nullptr}, st};
}

inline void lane_end(const circuit& c, const lane_group& grp, const lane_rows& row, block* out) noexcept {
  const circuit& t = c.lane_templates()[grp.tmpl];
  const schedule& s = t.schedule();
  const std::size_t w = grp.lanes, n_out = t.outputs().size();
  const std::uint32_t* om = c.lane_outputs().data() + grp.out_offset;
  for (std::size_t j0 = 0; j0 < w; j0 += 4) {
    const std::size_t j1 = std::min(w, j0 + 4);
    for (std::size_t k = 0; k < n_out; ++k) {
      const block* src = row(s.output_slots[k]);
      for (std::size_t j = j0; j < j1; ++j) out[om[k * w + j]] = src[j];
    }
  }
}

// One phase's free gates on all lanes.
inline void lane_xor(const schedule& s, std::size_t p, const lane_rows& row) noexcept {
  for (std::uint32_t i = s.free_offsets[p]; i < s.free_offsets[p + 1]; ++i) {
    const xor_gate& g = s.free_gates[i];
    const block* a = row(g.a);
    const block* b = row(g.b);
    block* o = row(g.out);
    for (std::size_t j = 0; j < row.stride; ++j) o[j] = block(_mm_xor_si128(a[j].v, b[j].v));
  }
}

// The portable lane kernels (AES-NI through hasher::mmo_inplace).
inline void garble_group_sse(const schedule& s, const lane_rows& row, std::size_t w, block delta,
                             std::uint64_t tweak0, block* tables, line_prefetcher& pf) {
  const hasher& h = hasher::instance();
  const __m128i d = delta.v;
  const __m128i sd = sigma(d);
  alignas(64) block y[4 * and_chunk];
  const __m128i one = _mm_set_epi64x(0, 1);
  const std::size_t per_batch = std::max<std::size_t>(1, and_chunk / w);
  for (std::size_t p = 0; p < s.steps(); ++p) {
    pf.step();
    lane_xor(s, p, row);
    for (std::uint32_t lo = s.and_offsets[p]; lo < s.and_offsets[p + 1]; lo += static_cast<std::uint32_t>(per_batch)) {
      const std::size_t n = std::min<std::size_t>(per_batch, s.and_offsets[p + 1] - lo);
      const std::uint64_t first = std::uint64_t{lo} * w;  // AND number (in the group) of (gate lo, lane 0)
      __m128i tg = _mm_set_epi64x(0, static_cast<long long>(tweak0 + first));
      __m128i te = _mm_set_epi64x(1, static_cast<long long>(tweak0 + first));
      block* yy = y;
      for (std::size_t q = 0; q < n; ++q) {
        const and_gate& g = s.and_gates[lo + q];
        const block* a = row(g.a);
        const block* b = row(g.b);
        for (std::size_t j = 0; j < w; ++j, yy += 4) {
          const __m128i sa = sigma(a[j].v), sb = sigma(b[j].v);
          yy[0] = block(_mm_xor_si128(sa, tg));
          yy[1] = block(_mm_xor_si128(_mm_xor_si128(sa, sd), tg));
          yy[2] = block(_mm_xor_si128(sb, te));
          yy[3] = block(_mm_xor_si128(_mm_xor_si128(sb, sd), te));
          tg = _mm_add_epi64(tg, one);
          te = _mm_add_epi64(te, one);
        }
      }
      h.mmo_inplace_aesni(y, 4 * n * w);
      block* tab = tables + 2 * first;
      yy = y;
      for (std::size_t q = 0; q < n; ++q) {
        const and_gate& g = s.and_gates[lo + q];
        const block* a = row(g.a);
        const block* b = row(g.b);
        block* o = row(g.out);
        for (std::size_t j = 0; j < w; ++j, yy += 4, tab += 2) {
          const __m128i a0 = a[j].v, b0 = b[j].v;
          const __m128i pa = lsb_mask(a0), pb = lsb_mask(b0);
          // [ref] ZRE Fig. 2: generator half gate and evaluator half gate.
          const __m128i tgv = _mm_xor_si128(_mm_xor_si128(yy[0].v, yy[1].v), _mm_and_si128(pb, d));
          const __m128i wg = _mm_xor_si128(yy[0].v, _mm_and_si128(pa, tgv));
          const __m128i tev = _mm_xor_si128(_mm_xor_si128(yy[2].v, yy[3].v), a0);
          const __m128i we = _mm_xor_si128(yy[2].v, _mm_and_si128(pb, _mm_xor_si128(tev, a0)));
          tab[0] = block(tgv);
          tab[1] = block(tev);
          o[j] = block(_mm_xor_si128(wg, we));
        }
      }
    }
  }
  secure_zero(y, sizeof y);
}

inline void evaluate_group_sse(const schedule& s, const lane_rows& row, std::size_t w, std::uint64_t tweak0,
                               const block* tables, line_prefetcher& pf) {
  const hasher& h = hasher::instance();
  alignas(64) block y[2 * and_chunk];
  const __m128i one = _mm_set_epi64x(0, 1);
  const std::size_t per_batch = std::max<std::size_t>(1, and_chunk / w);
  for (std::size_t p = 0; p < s.steps(); ++p) {
    pf.step();
    lane_xor(s, p, row);
    for (std::uint32_t lo = s.and_offsets[p]; lo < s.and_offsets[p + 1]; lo += static_cast<std::uint32_t>(per_batch)) {
      const std::size_t n = std::min<std::size_t>(per_batch, s.and_offsets[p + 1] - lo);
      const std::uint64_t first = std::uint64_t{lo} * w;
      __m128i tg = _mm_set_epi64x(0, static_cast<long long>(tweak0 + first));
      __m128i te = _mm_set_epi64x(1, static_cast<long long>(tweak0 + first));
      block* yy = y;
      for (std::size_t q = 0; q < n; ++q) {
        const and_gate& g = s.and_gates[lo + q];
        const block* a = row(g.a);
        const block* b = row(g.b);
        for (std::size_t j = 0; j < w; ++j, yy += 2) {
          yy[0] = block(_mm_xor_si128(sigma(a[j].v), tg));
          yy[1] = block(_mm_xor_si128(sigma(b[j].v), te));
          tg = _mm_add_epi64(tg, one);
          te = _mm_add_epi64(te, one);
        }
      }
      h.mmo_inplace_aesni(y, 2 * n * w);
      const block* tab = tables + 2 * first;
      yy = y;
      for (std::size_t q = 0; q < n; ++q) {
        const and_gate& g = s.and_gates[lo + q];
        const block* a = row(g.a);
        const block* b = row(g.b);
        block* o = row(g.out);
        for (std::size_t j = 0; j < w; ++j, yy += 2, tab += 2) {
          const __m128i av = a[j].v, bv = b[j].v;
          const __m128i sa = lsb_mask(av), sb = lsb_mask(bv);
          const __m128i wg = _mm_xor_si128(yy[0].v, _mm_and_si128(sa, tab[0].v));
          const __m128i we = _mm_xor_si128(yy[1].v, _mm_and_si128(sb, _mm_xor_si128(tab[1].v, av)));
          o[j] = block(_mm_xor_si128(wg, we));
        }
      }
    }
  }
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define PMDI_GC_HAVE_VAES_LANES 1
// The VAES/AVX-512 lane kernels: 4 lanes per 512-bit vector, the hash inputs
// built, encrypted and consumed in registers (no staging buffer), 8 vectors
// (32 blocks) in flight through the AES rounds, 11 round keys loaded once
// per group. Same maths and results as the portable kernels. (The maskz_
// forms with a full mask avoid GCC's warnings about undefined sources.)
struct vaes_keys {
  __m512i k[11];
};

__attribute__((target("vaes,avx512f"), always_inline)) inline __m512i sigma512(__m512i x) noexcept {
  const __m512i hi = _mm512_set_epi64(-1, 0, -1, 0, -1, 0, -1, 0);
  return _mm512_xor_si512(_mm512_maskz_shuffle_epi32(0xffff, x, static_cast<_MM_PERM_ENUM>(0x4E)), _mm512_and_si512(x, hi));
}
__attribute__((target("vaes,avx512f"), always_inline)) inline __m512i lsb_mask512(__m512i x) noexcept {
  return _mm512_maskz_shuffle_epi32(0xffff, _mm512_maskz_srai_epi32(0xffff, _mm512_maskz_slli_epi32(0xffff, x, 31), 31),
                                    _MM_PERM_AAAA);
}
// Tweaks of 4 consecutive AND numbers t .. t+3, half h (0 or 1).
__attribute__((target("vaes,avx512f"), always_inline)) inline __m512i tweaks512(std::uint64_t t, long long h) noexcept {
  const auto u = static_cast<long long>(t);
  return _mm512_set_epi64(h, u + 3, h, u + 2, h, u + 1, h, u);
}
__attribute__((target("vaes,avx512f"))) inline void lane_xor512(const schedule& s, std::size_t p,
                                                                 const lane_rows& row) noexcept {
  for (std::uint32_t i = s.free_offsets[p]; i < s.free_offsets[p + 1]; ++i) {
    const xor_gate& g = s.free_gates[i];
    const auto* a = reinterpret_cast<const __m512i*>(row(g.a));
    const auto* b = reinterpret_cast<const __m512i*>(row(g.b));
    auto* o = reinterpret_cast<__m512i*>(row(g.out));
    for (std::size_t j = 0; j < row.stride / 4; ++j)
      _mm512_storeu_si512(o + j, _mm512_xor_si512(_mm512_loadu_si512(a + j), _mm512_loadu_si512(b + j)));
  }
}
// Store mask (64-bit words) of the table blocks of lanes j .. j+3 of a group of w lanes: 2 blocks per lane.
[[nodiscard, gnu::always_inline]] inline std::uint16_t table_mask(std::size_t j, std::size_t w) noexcept {
  const std::size_t lanes = std::min<std::size_t>(4, w - j);
  return static_cast<std::uint16_t>((1U << (4 * lanes)) - 1U);  // 4 words per lane over the two vectors
}

// x[i] = AES_K(in[i]) ^ in[i] for M vectors of four blocks, all in flight
// through the rounds together: the fixed-key hash of both quad kernels.
template <int M>
__attribute__((target("vaes,avx512f"), always_inline)) inline void hash_blocks(const vaes_keys& K, const __m512i* in,
                                                                                __m512i* x) noexcept {
  _Pragma("GCC unroll 16")
  for (int i = 0; i < M; ++i) x[i] = _mm512_xor_si512(in[i], K.k[0]);
  _Pragma("GCC unroll 16")
  for (int r = 1; r < 10; ++r)
    _Pragma("GCC unroll 16")
    for (int i = 0; i < M; ++i) x[i] = _mm512_aesenc_epi128(x[i], K.k[r]);
  _Pragma("GCC unroll 16")
  for (int i = 0; i < M; ++i) x[i] = _mm512_xor_si512(_mm512_aesenclast_epi128(x[i], K.k[10]), in[i]);
}

template <int N>
__attribute__((target("vaes,avx512f"), always_inline)) inline void garble_quads(
    const vaes_keys& K, __m512i D, __m512i SD, const block* const* a, const block* const* b, block* const* o,
    block* const* tab, const std::uint64_t* tw, const std::uint16_t* mask) noexcept {
  __m512i a0[N], b0[N], x[4 * N], in[4 * N];
  _Pragma("GCC unroll 16")
  for (int u = 0; u < N; ++u) {
    a0[u] = _mm512_loadu_si512(a[u]);
    b0[u] = _mm512_loadu_si512(b[u]);
    const __m512i sa = sigma512(a0[u]), sb = sigma512(b0[u]);
    const __m512i t0 = tweaks512(tw[u], 0), t1 = tweaks512(tw[u], 1);
    in[4 * u] = _mm512_xor_si512(sa, t0);
    in[4 * u + 1] = _mm512_xor_si512(in[4 * u], SD);
    in[4 * u + 2] = _mm512_xor_si512(sb, t1);
    in[4 * u + 3] = _mm512_xor_si512(in[4 * u + 2], SD);
  }
  hash_blocks<4 * N>(K, in, x);
  const __m512i lo_idx = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
  const __m512i hi_idx = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
  _Pragma("GCC unroll 16")
  for (int u = 0; u < N; ++u) {
    const __m512i pa = lsb_mask512(a0[u]), pb = lsb_mask512(b0[u]);
    const __m512i ha0 = x[4 * u], ha1 = x[4 * u + 1], hb0 = x[4 * u + 2], hb1 = x[4 * u + 3];
    // [ref] ZRE Fig. 2: generator half gate and evaluator half gate.
    const __m512i tg = _mm512_xor_si512(_mm512_xor_si512(ha0, ha1), _mm512_and_si512(pb, D));
    const __m512i wg = _mm512_xor_si512(ha0, _mm512_and_si512(pa, tg));
    const __m512i hb = _mm512_xor_si512(hb0, hb1);
    const __m512i te = _mm512_xor_si512(hb, a0[u]);
    const __m512i we = _mm512_xor_si512(hb0, _mm512_and_si512(pb, hb));
    _mm512_storeu_si512(o[u], _mm512_xor_si512(wg, we));
    const __m512i t_lo = _mm512_permutex2var_epi64(tg, lo_idx, te);  // tg0 te0 tg1 te1
    const __m512i t_hi = _mm512_permutex2var_epi64(tg, hi_idx, te);  // tg2 te2 tg3 te3
    const std::uint16_t m = mask[u];
    _mm512_mask_storeu_epi64(tab[u], static_cast<__mmask8>(m & 0xff), t_lo);
    _mm512_mask_storeu_epi64(tab[u] + 4, static_cast<__mmask8>(m >> 8), t_hi);
  }
}

template <int N>
__attribute__((target("vaes,avx512f"), always_inline)) inline void evaluate_quads(
    const vaes_keys& K, const block* const* a, const block* const* b, block* const* o, const block* const* tab,
    const std::uint64_t* tw, const std::uint16_t* mask) noexcept {
  __m512i av[N], x[2 * N], in[2 * N];
  _Pragma("GCC unroll 16")
  for (int u = 0; u < N; ++u) {
    av[u] = _mm512_loadu_si512(a[u]);
    in[2 * u] = _mm512_xor_si512(sigma512(av[u]), tweaks512(tw[u], 0));
    in[2 * u + 1] = _mm512_xor_si512(sigma512(_mm512_loadu_si512(b[u])), tweaks512(tw[u], 1));
  }
  hash_blocks<2 * N>(K, in, x);
  const __m512i even = _mm512_set_epi64(13, 12, 9, 8, 5, 4, 1, 0);
  const __m512i odd = _mm512_set_epi64(15, 14, 11, 10, 7, 6, 3, 2);
  _Pragma("GCC unroll 16")
  for (int u = 0; u < N; ++u) {
    const std::uint16_t m = mask[u];
    const __m512i t_lo = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m & 0xff), tab[u]);
    const __m512i t_hi = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m >> 8), tab[u] + 4);
    const __m512i tg = _mm512_permutex2var_epi64(t_lo, even, t_hi);
    const __m512i te = _mm512_permutex2var_epi64(t_lo, odd, t_hi);
    const __m512i bv = _mm512_loadu_si512(b[u]);
    const __m512i sa = lsb_mask512(av[u]), sb = lsb_mask512(bv);
    const __m512i wg = _mm512_xor_si512(x[2 * u], _mm512_and_si512(sa, tg));
    const __m512i we = _mm512_xor_si512(x[2 * u + 1], _mm512_and_si512(sb, _mm512_xor_si512(te, av[u])));
    _mm512_storeu_si512(o[u], _mm512_xor_si512(wg, we));
  }
}

// The (gate, lane quad) items of one phase's ANDs, N at a time.
struct quad_items {
  const schedule& s;
  const lane_rows& row;
  std::size_t w, nq, q, j, end;  // current gate q (schedule index), lane j; end gate
  std::uint64_t tweak0;
  block* tables;
  [[nodiscard]] bool more() const noexcept { return q < end; }
  // Fills item u and advances; returns false when there was none.
  [[gnu::always_inline]] bool next(const block** a, const block** b, block** o, block** tab, std::uint64_t* tw,
                                   std::uint16_t* mask, int u) noexcept {
    if (q >= end) return false;
    const and_gate& g = s.and_gates[q];
    const std::uint64_t k = q * w + j;  // AND number in the group, schedule order
    a[u] = row(g.a) + j, b[u] = row(g.b) + j, o[u] = row(g.out) + j;
    tab[u] = tables + 2 * (q * w) + 2 * j, tw[u] = tweak0 + k, mask[u] = table_mask(j, w);
    j += 4;
    if (j >= row.stride) j = 0, ++q;
    return true;
  }
};

__attribute__((target("vaes,avx512f"))) inline void garble_group_vaes(const schedule& s, const lane_rows& row,
                                                                       std::size_t w, block delta, std::uint64_t tweak0,
                                                                       block* tables, line_prefetcher& pf) noexcept {
  vaes_keys K;
  const __m128i* rk = hasher::instance().permutation().round_keys();
  for (int r = 0; r < 11; ++r) K.k[r] = _mm512_maskz_broadcast_i32x4(0xffff, rk[r]);
  const __m512i D = _mm512_maskz_broadcast_i32x4(0xffff, delta.v), SD = _mm512_maskz_broadcast_i32x4(0xffff, sigma(delta.v));
  const block* a[2];
  const block* b[2];
  block* o[2];
  block* tab[2];
  std::uint64_t tw[2];
  std::uint16_t mask[2];
  for (std::size_t p = 0; p < s.steps(); ++p) {
    pf.step();
    lane_xor512(s, p, row);
    quad_items it{s, row, w, row.stride / 4, s.and_offsets[p], 0, s.and_offsets[p + 1], tweak0, tables};
    while (it.more()) {
      it.next(a, b, o, tab, tw, mask, 0);
      if (it.next(a, b, o, tab, tw, mask, 1))
        garble_quads<2>(K, D, SD, a, b, o, tab, tw, mask);
      else
        garble_quads<1>(K, D, SD, a, b, o, tab, tw, mask);
    }
  }
}

__attribute__((target("vaes,avx512f"))) inline void evaluate_group_vaes(const schedule& s, const lane_rows& row,
                                                                         std::size_t w, std::uint64_t tweak0,
                                                                         const block* tables,
                                                                         line_prefetcher& pf) noexcept {
  vaes_keys K;
  const __m128i* rk = hasher::instance().permutation().round_keys();
  for (int r = 0; r < 11; ++r) K.k[r] = _mm512_maskz_broadcast_i32x4(0xffff, rk[r]);
  const block* a[4];
  const block* b[4];
  block* o[4];
  block* tab[4];
  std::uint64_t tw[4];
  std::uint16_t mask[4];
  for (std::size_t p = 0; p < s.steps(); ++p) {
    pf.step();
    lane_xor512(s, p, row);
    quad_items it{s, row, w, row.stride / 4, s.and_offsets[p], 0, s.and_offsets[p + 1], tweak0,
                  const_cast<block*>(tables)};  // only read
    while (it.more()) {
      int n = 0;
      while (n < 4 && it.next(a, b, o, tab, tw, mask, n)) ++n;
      if (n == 4)
        evaluate_quads<4>(K, a, b, o, tab, tw, mask);
      else
        for (int u = 0; u < n; ++u)
          evaluate_quads<1>(K, a + u, b + u, o + u, tab + u, tw + u, mask + u);
    }
  }
}

// The VAES/AVX2 lane kernels (CPUs with VAES but no AVX-512, as AMD Zen 3 or
// Intel's client cores): the same structure on 256-bit vectors, 2 lanes per
// vector, 8 vectors (16 blocks) in flight through the AES rounds.
struct vaes256_keys {
  __m256i k[11];
};

__attribute__((target("vaes,avx2"), always_inline)) inline __m256i sigma256(__m256i x) noexcept {
  return _mm256_xor_si256(_mm256_shuffle_epi32(x, 0x4E), _mm256_and_si256(x, _mm256_set_epi64x(-1, 0, -1, 0)));
}
__attribute__((target("vaes,avx2"), always_inline)) inline __m256i lsb_mask256(__m256i x) noexcept {
  return _mm256_shuffle_epi32(_mm256_srai_epi32(_mm256_slli_epi32(x, 31), 31), 0);
}
// Tweaks of 2 consecutive AND numbers t, t+1, half h (0 or 1).
__attribute__((target("vaes,avx2"), always_inline)) inline __m256i tweaks256(std::uint64_t t, long long h) noexcept {
  const auto u = static_cast<long long>(t);
  return _mm256_set_epi64x(h, u + 1, h, u);
}
__attribute__((target("vaes,avx2"))) inline void lane_xor256(const schedule& s, std::size_t p,
                                                              const lane_rows& row) noexcept {
  for (std::uint32_t i = s.free_offsets[p]; i < s.free_offsets[p + 1]; ++i) {
    const xor_gate& g = s.free_gates[i];
    const auto* a = reinterpret_cast<const __m256i*>(row(g.a));
    const auto* b = reinterpret_cast<const __m256i*>(row(g.b));
    auto* o = reinterpret_cast<__m256i*>(row(g.out));
    for (std::size_t j = 0; j < row.stride / 2; ++j)
      _mm256_storeu_si256(o + j, _mm256_xor_si256(_mm256_loadu_si256(a + j), _mm256_loadu_si256(b + j)));
  }
}

template <int M>
__attribute__((target("vaes,avx2"), always_inline)) inline void hash_blocks256(const vaes256_keys& K, const __m256i* in,
                                                                                __m256i* x) noexcept {
  _Pragma("GCC unroll 16")
  for (int i = 0; i < M; ++i) x[i] = _mm256_xor_si256(in[i], K.k[0]);
  _Pragma("GCC unroll 16")
  for (int r = 1; r < 10; ++r)
    _Pragma("GCC unroll 16")
    for (int i = 0; i < M; ++i) x[i] = _mm256_aesenc_epi128(x[i], K.k[r]);
  _Pragma("GCC unroll 16")
  for (int i = 0; i < M; ++i) x[i] = _mm256_xor_si256(_mm256_aesenclast_epi128(x[i], K.k[10]), in[i]);
}

// N pairs of lanes; both[u]: the pair's second lane is a lane of the group
// (else only the first lane's table blocks are stored).
template <int N>
__attribute__((target("vaes,avx2"), always_inline)) inline void garble_pairs(
    const vaes256_keys& K, __m256i D, __m256i SD, const block* const* a, const block* const* b, block* const* o,
    block* const* tab, const std::uint64_t* tw, const bool* both) noexcept {
  __m256i a0[N], b0[N], x[4 * N], in[4 * N];
  _Pragma("GCC unroll 16")
  for (int u = 0; u < N; ++u) {
    a0[u] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[u]));
    b0[u] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[u]));
    const __m256i sa = sigma256(a0[u]), sb = sigma256(b0[u]);
    in[4 * u] = _mm256_xor_si256(sa, tweaks256(tw[u], 0));
    in[4 * u + 1] = _mm256_xor_si256(in[4 * u], SD);
    in[4 * u + 2] = _mm256_xor_si256(sb, tweaks256(tw[u], 1));
    in[4 * u + 3] = _mm256_xor_si256(in[4 * u + 2], SD);
  }
  hash_blocks256<4 * N>(K, in, x);
  _Pragma("GCC unroll 16")
  for (int u = 0; u < N; ++u) {
    const __m256i pa = lsb_mask256(a0[u]), pb = lsb_mask256(b0[u]);
    const __m256i ha0 = x[4 * u], ha1 = x[4 * u + 1], hb0 = x[4 * u + 2], hb1 = x[4 * u + 3];
    // [ref] ZRE Fig. 2: generator half gate and evaluator half gate.
    const __m256i tg = _mm256_xor_si256(_mm256_xor_si256(ha0, ha1), _mm256_and_si256(pb, D));
    const __m256i wg = _mm256_xor_si256(ha0, _mm256_and_si256(pa, tg));
    const __m256i hb = _mm256_xor_si256(hb0, hb1);
    const __m256i te = _mm256_xor_si256(hb, a0[u]);
    const __m256i we = _mm256_xor_si256(hb0, _mm256_and_si256(pb, hb));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o[u]), _mm256_xor_si256(wg, we));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(tab[u]), _mm256_permute2x128_si256(tg, te, 0x20));  // tg0 te0
    if (both[u])
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(tab[u] + 2), _mm256_permute2x128_si256(tg, te, 0x31));  // tg1 te1
  }
}

template <int N>
__attribute__((target("vaes,avx2"), always_inline)) inline void evaluate_pairs(
    const vaes256_keys& K, const block* const* a, const block* const* b, block* const* o, const block* const* tab,
    const std::uint64_t* tw, const bool* both) noexcept {
  __m256i av[N], x[2 * N], in[2 * N];
  _Pragma("GCC unroll 16")
  for (int u = 0; u < N; ++u) {
    av[u] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[u]));
    in[2 * u] = _mm256_xor_si256(sigma256(av[u]), tweaks256(tw[u], 0));
    in[2 * u + 1] = _mm256_xor_si256(sigma256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[u]))),
                                     tweaks256(tw[u], 1));
  }
  hash_blocks256<2 * N>(K, in, x);
  _Pragma("GCC unroll 16")
  for (int u = 0; u < N; ++u) {
    const __m256i t_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tab[u]));  // tg0 te0
    const __m256i t_hi = both[u] ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tab[u] + 2))
                                 : _mm256_setzero_si256();  // tg1 te1
    const __m256i tg = _mm256_permute2x128_si256(t_lo, t_hi, 0x20);
    const __m256i te = _mm256_permute2x128_si256(t_lo, t_hi, 0x31);
    const __m256i bv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[u]));
    const __m256i sa = lsb_mask256(av[u]), sb = lsb_mask256(bv);
    const __m256i wg = _mm256_xor_si256(x[2 * u], _mm256_and_si256(sa, tg));
    const __m256i we = _mm256_xor_si256(x[2 * u + 1], _mm256_and_si256(sb, _mm256_xor_si256(te, av[u])));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o[u]), _mm256_xor_si256(wg, we));
  }
}

// The (gate, lane pair) items of one phase's ANDs: lanes 0 .. w-1 of each gate
// in pairs (a last pair of an odd w reaches into the row's padding).
struct pair_items {
  const schedule& s;
  const lane_rows& row;
  std::size_t w, q, j, end;  // current gate q (schedule index), lane j; end gate
  std::uint64_t tweak0;
  block* tables;
  [[nodiscard]] bool more() const noexcept { return q < end; }
  [[gnu::always_inline]] bool next(const block** a, const block** b, block** o, block** tab, std::uint64_t* tw,
                                   bool* both, int u) noexcept {
    if (q >= end) return false;
    const and_gate& g = s.and_gates[q];
    a[u] = row(g.a) + j, b[u] = row(g.b) + j, o[u] = row(g.out) + j;
    tab[u] = tables + 2 * (q * w) + 2 * j, tw[u] = tweak0 + q * w + j, both[u] = j + 1 < w;
    j += 2;
    if (j >= w) j = 0, ++q;
    return true;
  }
};

__attribute__((target("vaes,avx2"))) inline void garble_group_vaes256(const schedule& s, const lane_rows& row,
                                                                       std::size_t w, block delta, std::uint64_t tweak0,
                                                                       block* tables, line_prefetcher& pf) noexcept {
  vaes256_keys K;
  const __m128i* rk = hasher::instance().permutation().round_keys();
  for (int r = 0; r < 11; ++r) K.k[r] = _mm256_broadcastsi128_si256(rk[r]);
  const __m256i D = _mm256_broadcastsi128_si256(delta.v), SD = _mm256_broadcastsi128_si256(sigma(delta.v));
  const block* a[2];
  const block* b[2];
  block* o[2];
  block* tab[2];
  std::uint64_t tw[2];
  bool both[2];
  for (std::size_t p = 0; p < s.steps(); ++p) {
    pf.step();
    lane_xor256(s, p, row);
    pair_items it{s, row, w, s.and_offsets[p], 0, s.and_offsets[p + 1], tweak0, tables};
    while (it.more()) {
      it.next(a, b, o, tab, tw, both, 0);
      if (it.next(a, b, o, tab, tw, both, 1))
        garble_pairs<2>(K, D, SD, a, b, o, tab, tw, both);
      else
        garble_pairs<1>(K, D, SD, a, b, o, tab, tw, both);
    }
  }
}

__attribute__((target("vaes,avx2"))) inline void evaluate_group_vaes256(const schedule& s, const lane_rows& row,
                                                                         std::size_t w, std::uint64_t tweak0,
                                                                         const block* tables,
                                                                         line_prefetcher& pf) noexcept {
  vaes256_keys K;
  const __m128i* rk = hasher::instance().permutation().round_keys();
  for (int r = 0; r < 11; ++r) K.k[r] = _mm256_broadcastsi128_si256(rk[r]);
  const block* a[4];
  const block* b[4];
  block* o[4];
  block* tab[4];
  std::uint64_t tw[4];
  bool both[4];
  for (std::size_t p = 0; p < s.steps(); ++p) {
    pf.step();
    lane_xor256(s, p, row);
    pair_items it{s, row, w, s.and_offsets[p], 0, s.and_offsets[p + 1], tweak0, const_cast<block*>(tables)};  // only read
    while (it.more()) {
      int n = 0;
      while (n < 4 && it.next(a, b, o, tab, tw, both, n)) ++n;
      if (n == 4)
        evaluate_pairs<4>(K, a, b, o, tab, tw, both);
      else
        for (int u = 0; u < n; ++u) evaluate_pairs<1>(K, a + u, b + u, o + u, tab + u, tw + u, both + u);
    }
  }
}
#endif

// Which lane kernels run: the VAES ones (512- or 256-bit, hasher::path())
// where the CPU has them; tests force the portable ones, or the 256-bit ones
// on a CPU that would take the 512-bit ones, to compare.
enum class lane_kernel { best, portable, vaes256 };

[[nodiscard]] inline hash_path lane_path(lane_kernel k) noexcept {
  if (k == lane_kernel::best) return hasher::instance().path();
  if (k == lane_kernel::vaes256 && cpu_has_vaes256()) return hash_path::vaes256;
  return hash_path::aesni;
}

inline void garble_groups(const circuit& c, block delta, const block* in, std::uint64_t tweak_base, block* tables,
                          block* out, std::size_t g_lo, std::size_t g_hi, lane_kernel kern = lane_kernel::best) {
  if (g_lo >= g_hi) return;
  const hash_path path = lane_path(kern);
  block* scratch = lane_scratch_buffer(lane_scratch(c, g_lo, g_hi));
  line_prefetcher(c, g_lo, in, 0).finish();
  for (std::size_t gi = g_lo; gi < g_hi; ++gi) {
    const lane_group& grp = c.lane_groups()[gi];
    const schedule& s = c.lane_templates()[grp.tmpl].schedule();
    const lane_rows row = lane_begin(c, grp, in, scratch, zero_block, delta);
    line_prefetcher pf = gi + 1 < g_hi ? line_prefetcher(c, gi + 1, in, s.steps()) : line_prefetcher();
    block* tab = tables + 2 * grp.and_base;
    const std::uint64_t t0 = tweak_base + grp.and_base;
#ifdef PMDI_GC_HAVE_VAES_LANES
    if (path == hash_path::vaes512)
      garble_group_vaes(s, row, grp.lanes, delta, t0, tab, pf);
    else if (path == hash_path::vaes256)
      garble_group_vaes256(s, row, grp.lanes, delta, t0, tab, pf);
    else
#endif
      garble_group_sse(s, row, grp.lanes, delta, t0, tab, pf);
    lane_end(c, grp, row, out);
  }
  // The scratch held zero labels and delta: wipe it.
  secure_zero(scratch, lane_scratch(c, g_lo, g_hi) * sizeof(block));
}

inline void evaluate_groups(const circuit& c, const block* in, const block* tables, std::uint64_t tweak_base,
                            block* out, std::size_t g_lo, std::size_t g_hi, lane_kernel kern = lane_kernel::best) {
  if (g_lo >= g_hi) return;
  const hash_path path = lane_path(kern);
  block* scratch = lane_scratch_buffer(lane_scratch(c, g_lo, g_hi));
  line_prefetcher(c, g_lo, in, 0).finish();
  for (std::size_t gi = g_lo; gi < g_hi; ++gi) {
    const lane_group& grp = c.lane_groups()[gi];
    const schedule& s = c.lane_templates()[grp.tmpl].schedule();
    const lane_rows row = lane_begin(c, grp, in, scratch, zero_block, zero_block);
    line_prefetcher pf = gi + 1 < g_hi ? line_prefetcher(c, gi + 1, in, s.steps()) : line_prefetcher();
    const block* tab = tables + 2 * grp.and_base;
    const std::uint64_t t0 = tweak_base + grp.and_base;
#ifdef PMDI_GC_HAVE_VAES_LANES
    if (path == hash_path::vaes512)
      evaluate_group_vaes(s, row, grp.lanes, t0, tab, pf);
    else if (path == hash_path::vaes256)
      evaluate_group_vaes256(s, row, grp.lanes, t0, tab, pf);
    else
#endif
      evaluate_group_sse(s, row, grp.lanes, t0, tab, pf);
    lane_end(c, grp, row, out);
  }
}

// Part `part` of `parts` of a run: part 0 also runs the one-by-one gates;
// the lane groups are split into `parts` contiguous ranges. The parts write
// disjoint tables and outputs, so they may run on different threads.
[[nodiscard]] inline std::pair<std::size_t, std::size_t> group_range(const circuit& c, std::size_t part,
                                                                      std::size_t parts) noexcept {
  const std::size_t n = c.lane_groups().size();
  return {n * part / parts, n * (part + 1) / parts};
}

}  // namespace detail

namespace detail {

// Garbles c under delta (lsb 1) with tweaks tweak_base .. tweak_base +
// and_count() - 1. input_zero_labels[i] is the zero label of c.inputs()[i].
// Writes 2 * and_count() table blocks and the zero labels of the outputs
// (their lsbs are the output-decoding bits). The tweaks are the caller's to
// keep distinct: use gc::garbler, which does.
inline void garble_at(const circuit& c, block delta, std::span<const block> input_zero_labels,
                      std::uint64_t tweak_base, std::span<block> tables_out, std::span<block> output_zero_labels_out) {
  check_sizes("gc::garble", c, input_zero_labels.size(), tables_out.size(), output_zero_labels_out.size());
  if (!delta.lsb()) throw usage_error("gc::garble: delta must have lsb 1 (point-and-permute)");
  garble_generic(c, delta, input_zero_labels, tweak_base, tables_out, output_zero_labels_out);
  garble_groups(c, delta, input_zero_labels.data(), tweak_base, tables_out.data(), output_zero_labels_out.data(), 0,
                c.lane_groups().size());
}

// The same on the threads of a pool (pmdi::worker_pool, or anything with
// size() and run(n, f)): part 0 runs the one-by-one gates and the first
// lane groups, the other parts the other groups. Tables, tweaks and labels
// are those of the one-thread call.
template <class Pool>
void garble_at(const circuit& c, block delta, std::span<const block> input_zero_labels, std::uint64_t tweak_base,
               std::span<block> tables_out, std::span<block> output_zero_labels_out, Pool& pool) {
  check_sizes("gc::garble", c, input_zero_labels.size(), tables_out.size(), output_zero_labels_out.size());
  if (!delta.lsb()) throw usage_error("gc::garble: delta must have lsb 1 (point-and-permute)");
  const std::size_t parts = std::max<std::size_t>(1, std::min<std::size_t>(pool.size(), c.lane_groups().size()));
  pool.run(parts, [&](std::size_t part) {
    if (part == 0) garble_generic(c, delta, input_zero_labels, tweak_base, tables_out, output_zero_labels_out);
    const auto [lo, hi] = group_range(c, part, parts);
    garble_groups(c, delta, input_zero_labels.data(), tweak_base, tables_out.data(), output_zero_labels_out.data(),
                  lo, hi);
  });
}

}  // namespace detail

struct garbled {
  std::vector<block> tables;
  std::vector<block> output_zero_labels;
  std::uint64_t tweak_base = 0;  // what the evaluator passes to evaluate
};

// A reservation of consecutive tweaks under one delta, for a run of pieces
// (a stage's chunks) garbled in any order or at the same time: the piece at
// offset o takes tweaks tweak_base() + o .. + o + and_count() - 1. A piece
// that overlaps an earlier one or leaves the reservation is refused
// (usage_error), so no tweak is used twice. Thread-safe; move-only.
class garbling_run {
 public:
  garbling_run(garbling_run&&) noexcept = default;
  garbling_run& operator=(garbling_run&&) noexcept = default;

  [[nodiscard]] std::uint64_t tweak_base() const noexcept { return st_->base; }
  [[nodiscard]] std::uint64_t size() const noexcept { return st_->size; }
  [[nodiscard]] block delta() const noexcept { return st_->delta; }

  // Claims tweaks offset .. offset + n - 1 of the run for a use other than a
  // circuit's AND gates (gc::garble_arithmetic); returns the first, absolute.
  // Refused as garble refuses a piece: outside the run, or already used.
  std::uint64_t claim(std::uint64_t offset, std::uint64_t n) {
    if (offset > st_->size || n > st_->size - offset)
      throw usage_error("gc::garbling_run: tweaks " + std::to_string(offset) + " .. " + std::to_string(offset + n) +
                        " leave the run of " + std::to_string(st_->size));
    if (n == 0) return st_->base + offset;
    std::lock_guard lk(st_->mu);
    auto it = std::lower_bound(st_->used.begin(), st_->used.end(), std::pair{offset, offset + n});
    if ((it != st_->used.end() && it->first < offset + n) || (it != st_->used.begin() && std::prev(it)->second > offset))
      throw usage_error("gc::garbling_run: tweaks " + std::to_string(offset) + " .. " + std::to_string(offset + n) +
                        " of this run are already used");
    st_->used.insert(it, {offset, offset + n});
    return st_->base + offset;
  }

  void garble(const circuit& c, std::uint64_t offset, std::span<const block> input_zero_labels,
              std::span<block> tables_out, std::span<block> output_zero_labels_out) {
    claim(c, offset, input_zero_labels.size(), tables_out.size(), output_zero_labels_out.size());
    detail::garble_at(c, st_->delta, input_zero_labels, st_->base + offset, tables_out, output_zero_labels_out);
  }
  template <class Pool>
  void garble(const circuit& c, std::uint64_t offset, std::span<const block> input_zero_labels,
              std::span<block> tables_out, std::span<block> output_zero_labels_out, Pool& pool) {
    claim(c, offset, input_zero_labels.size(), tables_out.size(), output_zero_labels_out.size());
    detail::garble_at(c, st_->delta, input_zero_labels, st_->base + offset, tables_out, output_zero_labels_out, pool);
  }

 private:
  friend class garbler;
  struct state {
    block delta;
    std::uint64_t base = 0, size = 0;
    std::mutex mu;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> used;  // sorted [lo, hi)
    ~state() { secure_zero(&delta, sizeof delta); }
  };
  garbling_run(block delta, std::uint64_t base, std::uint64_t size) : st_(std::make_unique<state>()) {
    st_->delta = delta, st_->base = base, st_->size = size;
  }
  void claim(const circuit& c, std::uint64_t offset, std::size_t in, std::size_t tab, std::size_t out) {
    detail::check_sizes("gc::garbling_run::garble", c, in, tab, out);
    (void)claim(offset, c.and_count());
  }
  std::unique_ptr<state> st_;
};

// The garbling side of one delta: delta and its tweak counter in one object,
// the only public way to garble. Every garbling takes the next tweaks, so no
// tweak is used twice under one delta (the hash's security needs distinct
// tweaks, see hash.hpp). Not copyable; a moved-from garbler refuses to work.
class garbler {
 public:
  // Fresh delta (lsb 1) from g (one block, as keygen_delta), tweaks from 0.
  [[nodiscard]] static garbler keygen(prg& g) { return garbler(keygen_delta(g), 0); }
  // Known-answer tests only: a garbler of a given delta whose tweaks start
  // at first_tweak. Two garblers made so from one delta can reuse tweaks.
  [[nodiscard]] static garbler known_answer(block delta, std::uint64_t first_tweak) {
    if (!delta.lsb()) throw usage_error("gc::garbler: delta must have lsb 1 (point-and-permute)");
    return garbler(delta, first_tweak);
  }

  garbler(const garbler&) = delete;
  garbler& operator=(const garbler&) = delete;
  garbler(garbler&& o) noexcept : delta_(o.delta_), next_(o.next_), live_(o.live_) { o.wipe(); }
  garbler& operator=(garbler&& o) noexcept {
    if (this != &o) {
      delta_ = o.delta_, next_ = o.next_, live_ = o.live_;
      o.wipe();
    }
    return *this;
  }
  ~garbler() { wipe(); }

  [[nodiscard]] block delta() const {
    check();
    return delta_;
  }
  [[nodiscard]] std::uint64_t next_tweak() const noexcept { return next_; }

  // Takes the next n tweaks for a run of pieces (see garbling_run).
  [[nodiscard]] garbling_run reserve(std::uint64_t n) {
    check();
    if (n > ~std::uint64_t{0} - next_) throw usage_error("gc::garbler: tweaks exhausted");
    garbling_run r(delta_, next_, n);
    next_ += n;
    return r;
  }

  // Garbles c with the next and_count() tweaks; returns the first, which the
  // evaluator passes to evaluate.
  std::uint64_t garble(const circuit& c, std::span<const block> input_zero_labels, std::span<block> tables_out,
                       std::span<block> output_zero_labels_out) {
    detail::check_sizes("gc::garble", c, input_zero_labels.size(), tables_out.size(), output_zero_labels_out.size());
    garbling_run r = reserve(c.and_count());
    r.garble(c, 0, input_zero_labels, tables_out, output_zero_labels_out);
    return r.tweak_base();
  }
  template <class Pool>
  std::uint64_t garble(const circuit& c, std::span<const block> input_zero_labels, std::span<block> tables_out,
                       std::span<block> output_zero_labels_out, Pool& pool) {
    detail::check_sizes("gc::garble", c, input_zero_labels.size(), tables_out.size(), output_zero_labels_out.size());
    garbling_run r = reserve(c.and_count());
    r.garble(c, 0, input_zero_labels, tables_out, output_zero_labels_out, pool);
    return r.tweak_base();
  }
  [[nodiscard]] garbled garble(const circuit& c, std::span<const block> input_zero_labels) {
    garbled g{std::vector<block>(table_blocks(c)), std::vector<block>(c.outputs().size()), 0};
    g.tweak_base = garble(c, input_zero_labels, g.tables, g.output_zero_labels);
    return g;
  }

 private:
  garbler(block delta, std::uint64_t first) : delta_(delta), next_(first), live_(true) {}
  void check() const {
    if (!live_) throw usage_error("gc::garbler: moved from (its delta and tweaks went with it)");
  }
  void wipe() noexcept {
    secure_zero(&delta_, sizeof delta_);
    live_ = false;
  }
  block delta_;
  std::uint64_t next_ = 0;
  bool live_ = false;
};

[[nodiscard]] inline std::vector<std::uint8_t> decode_bits(std::span<const block> output_zero_labels) {
  std::vector<std::uint8_t> d(output_zero_labels.size());
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = output_zero_labels[i].lsb() ? 1 : 0;
  return d;
}

// Evaluates c on one label per input wire; writes one label per output.
inline void evaluate(const circuit& c, std::span<const block> input_labels, std::span<const block> tables,
                     std::uint64_t tweak_base, std::span<block> output_labels_out) {
  detail::check_sizes("gc::evaluate", c, input_labels.size(), tables.size(), output_labels_out.size());
  detail::evaluate_generic(c, input_labels, tables, tweak_base, output_labels_out);
  detail::evaluate_groups(c, input_labels.data(), tables.data(), tweak_base, output_labels_out.data(), 0,
                          c.lane_groups().size());
}

// The same on the threads of a pool (see garble above); same output labels.
template <class Pool>
  requires requires(Pool& p) { p.size(); }
void evaluate(const circuit& c, std::span<const block> input_labels, std::span<const block> tables,
              std::uint64_t tweak_base, std::span<block> output_labels_out, Pool& pool) {
  detail::check_sizes("gc::evaluate", c, input_labels.size(), tables.size(), output_labels_out.size());
  const std::size_t parts = std::max<std::size_t>(1, std::min<std::size_t>(pool.size(), c.lane_groups().size()));
  pool.run(parts, [&](std::size_t part) {
    if (part == 0) detail::evaluate_generic(c, input_labels, tables, tweak_base, output_labels_out);
    const auto [lo, hi] = detail::group_range(c, part, parts);
    detail::evaluate_groups(c, input_labels.data(), tables.data(), tweak_base, output_labels_out.data(), lo, hi);
  });
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

#undef PMDI_GC_HAVE_VAES_LANES
