#pragma once
// Three-halves garbling: AND gates in 1.5 kappa + 5 bits (24 bytes and 5
// bits) instead of half-gates' 2 kappa (32 bytes), XOR still free, over the
// same circuits, labels, delta and tweak counter as half-gates (halfgates.hpp).
// [ref] Rosulek, Roy: Three Halves Make a Whole? Beating the Half-Gates Lower
//       Bound for Garbled Circuits, CRYPTO 2021, eprint 2021/749
//       ("slicing and dicing"; the evaluator's equations below are theirs).
//
//   gc::three_halves::table_bytes(circuit)        24 * and_count() + ceil(5 * and_count() / 8)
//   t = gc::three_halves::garble(garbler&, circuit, input_zero_labels, coins, tables_out, output_zero_labels_out)
//       the garbler's next and_count() tweaks, as half-gates takes them; coins: 2 random bits per AND
//   gc::three_halves::evaluate(circuit, input_labels, tables, t, output_labels_out)
//
// Labels decode as half-gates' do (gc::decode_bits, gc::decode). One thread;
// not used by the protocol (docs/garbling.md, "Three-halves garbling", says
// why: it measured slower than half-gates on this project's circuits).
//
// The scheme, per AND gate. A label X is sliced into halves X_L (low 64 bits,
// holding the colour bit lsb) and X_R. A^0, B^0 are the input labels of
// colour 0, u = (A^0_L, A^0_R, B^0_L, B^0_R), and alpha, beta the truth values
// they carry. Three hashes of the evaluator's labels, h = H(., tweak) cut to
// 64 bits (its low half) plus one control bit m (its top bit), each under its
// own tweak: of A*, of B*, of A* ^ B*. The evaluator, holding A*, B* of colours
// (i, j), computes
//   r = (s0, s1) ^ V_ij (s2, s3, s4) ^ (m(A*) ^ m(A*^B*), m(B*) ^ m(A*^B*))     2 bits
//   R = Rp_ij ^ r_0 S1 ^ r_1 S2                                                2 x 4 bits
//   C = (h(A*) ^ h(A*^B*), h(B*) ^ h(A*^B*)) ^ V_ij (G0, G1, G2) ^ R (A*_L, A*_R, B*_L, B*_R)
// with V_ij = [[i, 0, i^j], [0, j, i^j]] (the paper's slicing), G0..G2 three
// 64-bit ciphertexts and s0..s4 five control bits. The garbler picks the
// evaluator's r in the row of colours (0, 0) at random (the dicing: every
// row's r is then uniform whatever alpha and beta are, so R tells the
// evaluator nothing) and solves the evaluator's equations for the output label
// and the ciphertexts: for each (alpha, beta, r) the solution is unique, and
// `detail::three_halves_garbler_rows` computes it at compile time from the
// matrices below (`detail::solve` is consteval: a system without a unique
// solution fails the build).
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "pmdi/core/block.hpp"
#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/crypto/gc/circuit.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"
#include "pmdi/crypto/gc/hash.hpp"

namespace pmdi::gc::three_halves {

inline constexpr std::size_t cipher_bytes_per_and = 3 * sizeof(std::uint64_t);  // G0, G1, G2
inline constexpr std::size_t control_bits_per_and = 5;                           // s0 .. s4

// Tables: the ciphertexts of AND k at bytes 24k .. 24k+23, then the control
// bits, AND k's at bits 5k .. 5k+4 of the rest (LSB first).
[[nodiscard]] constexpr std::size_t table_bytes(std::uint64_t ands) noexcept {
  return cipher_bytes_per_and * ands + (control_bits_per_and * ands + 7) / 8;
}
[[nodiscard]] inline std::size_t table_bytes(const circuit& c) noexcept { return table_bytes(c.and_count()); }

// The tweaks of AND k's three hashes (of A, of B, of A ^ B): halves 2, 3, 4
// of and_tweak, apart from half-gates' 0 and 1.
inline constexpr unsigned tweak_half_a = 2, tweak_half_b = 3, tweak_half_ab = 4;

namespace detail {

// 2 x 4 bit matrices over (A_L, A_R, B_L, B_R): row 0 in bits 0-3, row 1 in bits 4-7.
consteval std::uint8_t matrix(const char (&row0)[5], const char (&row1)[5]) {
  unsigned m = 0;
  for (unsigned c = 0; c < 4; ++c) m |= (row0[c] == '1' ? 1U : 0U) << c | (row1[c] == '1' ? 1U : 0U) << (4 + c);
  return static_cast<std::uint8_t>(m);
}
// [ref] Rosulek-Roy Section 5: the evaluator's R in the row of colours (i, j)
// is Rp_ij plus the random part r_0 S1 + r_1 S2 (index 2i + j).
inline constexpr std::uint8_t s1 = matrix("1110", "1001");
inline constexpr std::uint8_t s2 = matrix("1001", "0111");
inline constexpr std::array<std::uint8_t, 4> rp = {matrix("0010", "0100"), matrix("0010", "0000"),
                                                   matrix("0000", "0100"), matrix("0000", "0000")};

// V_ij: row k's weights of (G0, G1, G2), as 3 bits.
constexpr unsigned v_row(unsigned i, unsigned j, unsigned k) noexcept {
  return k == 0 ? (i | (i ^ j) << 2) : (j << 1 | (i ^ j) << 2);
}

// What the garbler computes for one (alpha, beta, r): the output zero label's
// halves and the three ciphertexts as sums of the secret halves
// (A_L, A_R, B_L, B_R, delta_L, delta_R), one 6-bit row each, and the control
// bits before their hash masks (r in bits 0-1, the three V-weighted ones in 2-4).
struct garbler_rows {
  std::array<std::uint8_t, 5> rows{};  // C_L, C_R, G0, G1, G2
  std::uint8_t control = 0;
};

// Solves the evaluator's equations over GF(2) for colours of truth values
// (alpha, beta) and the random r of row (0, 0). Unknowns: the output label's
// weights c (2 x 6), the ciphertexts' weights g (3 x 6), r and the three
// V-weighted control bits z. For every row (i, j) and truth values
// a = i ^ alpha, b = j ^ beta the evaluator's result must be C ^ (a & b) delta:
//   on u:     c_u ^ V_ij g_u = R_ij
//   on delta: c_d ^ V_ij g_d ^ i R_ij,A ^ j R_ij,B = (a & b) I
// with r_ij = r ^ V_ij z. 48 equations, 35 unknowns, and r fixed: unique.
consteval garbler_rows solve(unsigned alpha, unsigned beta, unsigned r00) {
  constexpr unsigned cu = 0, gu = 8, gd = 20, cd = 26, rv = 30, zv = 32, unknowns = 35;
  constexpr std::uint64_t one = std::uint64_t{1} << 63;  // the constant term
  std::array<std::uint64_t, 64> eq{};
  unsigned n = 0;
  auto var = [](unsigned v) { return std::uint64_t{1} << v; };
  for (unsigned i = 0; i < 2; ++i)
    for (unsigned j = 0; j < 2; ++j) {
      const unsigned a = i ^ alpha, b = j ^ beta;
      std::uint64_t r_ij[2];
      for (unsigned k = 0; k < 2; ++k) {
        r_ij[k] = var(rv + k);
        for (unsigned m = 0; m < 3; ++m)
          if (v_row(i, j, k) >> m & 1U) r_ij[k] ^= var(zv + m);
      }
      auto big_r = [&](unsigned row, unsigned col) {  // R_ij[row][col], affine in the unknowns
        const unsigned bit = row * 4 + col;
        return (rp[2 * i + j] >> bit & 1U ? one : 0) ^ (s1 >> bit & 1U ? r_ij[0] : 0) ^ (s2 >> bit & 1U ? r_ij[1] : 0);
      };
      for (unsigned row = 0; row < 2; ++row) {
        for (unsigned col = 0; col < 4; ++col) {
          std::uint64_t e = var(cu + row * 4 + col) ^ big_r(row, col);
          for (unsigned k = 0; k < 3; ++k)
            if (v_row(i, j, row) >> k & 1U) e ^= var(gu + k * 4 + col);
          eq[n++] = e;
        }
        for (unsigned col = 0; col < 2; ++col) {
          std::uint64_t e = var(cd + row * 2 + col) ^ ((a & b) != 0 && row == col ? one : 0);
          for (unsigned k = 0; k < 3; ++k)
            if (v_row(i, j, row) >> k & 1U) e ^= var(gd + k * 2 + col);
          if (i != 0) e ^= big_r(row, col);
          if (j != 0) e ^= big_r(row, 2 + col);
          eq[n++] = e;
        }
      }
    }
  eq[n++] = var(rv) ^ ((r00 & 1U) != 0 ? one : 0);
  eq[n++] = var(rv + 1) ^ ((r00 & 2U) != 0 ? one : 0);
  // Gauss-Jordan elimination.
  std::array<std::uint64_t, unknowns> value{};
  unsigned rank = 0;
  for (unsigned v = 0; v < unknowns; ++v) {
    unsigned p = rank;
    while (p < n && (eq[p] >> v & 1U) == 0) ++p;
    if (p == n) throw "three_halves: the evaluator's equations leave an unknown free";
    std::swap(eq[rank], eq[p]);
    for (unsigned k = 0; k < n; ++k)
      if (k != rank && (eq[k] >> v & 1U) != 0) eq[k] ^= eq[rank];
    ++rank;
  }
  for (unsigned k = rank; k < n; ++k)
    if (eq[k] != 0) throw "three_halves: the evaluator's equations have no solution";
  for (unsigned v = 0; v < unknowns; ++v) value[v] = eq[v] >> 63;
  garbler_rows g;
  for (unsigned row = 0; row < 2; ++row) {
    unsigned m = 0;
    for (unsigned col = 0; col < 4; ++col) m |= static_cast<unsigned>(value[cu + row * 4 + col]) << col;
    for (unsigned col = 0; col < 2; ++col) m |= static_cast<unsigned>(value[cd + row * 2 + col]) << (4 + col);
    g.rows[row] = static_cast<std::uint8_t>(m);
  }
  for (unsigned k = 0; k < 3; ++k) {
    unsigned m = 0;
    for (unsigned col = 0; col < 4; ++col) m |= static_cast<unsigned>(value[gu + k * 4 + col]) << col;
    for (unsigned col = 0; col < 2; ++col) m |= static_cast<unsigned>(value[gd + k * 2 + col]) << (4 + col);
    g.rows[2 + k] = static_cast<std::uint8_t>(m);
  }
  g.control = static_cast<std::uint8_t>(value[rv] | value[rv + 1] << 1 | value[zv] << 2 | value[zv + 1] << 3 |
                                        value[zv + 2] << 4);
  return g;
}

// Index alpha | beta << 1 | r << 2.
consteval std::array<garbler_rows, 16> three_halves_garbler_rows() {
  std::array<garbler_rows, 16> t{};
  for (unsigned x = 0; x < 16; ++x) t[x] = solve(x & 1U, x >> 1 & 1U, x >> 2);
  return t;
}
inline constexpr std::array<garbler_rows, 16> garbler_table = three_halves_garbler_rows();
static_assert(garbler_table[3].rows[0] >> 4 == 1 && garbler_table[3].rows[1] >> 4 == 2,
              "the output zero label of colours (0, 0) carries delta exactly when alpha = beta = 1");

// Run-time form. The garbler's five rows as three pairs of 64-bit lanes,
// (C_L, C_R), (G0, G1), (G2, -), with a select mask per pair and secret half,
// so one SSE AND per (pair, half) computes them; the control bits beside them.
struct garbler_masks {
  __m128i pair[3][6];
  unsigned control;
};
inline const std::array<garbler_masks, 16>& garbler_mask_table() noexcept {
  static const std::array<garbler_masks, 16> t = [] {
    std::array<garbler_masks, 16> out{};
    auto lane = [](unsigned row, unsigned col) -> long long { return (row >> col & 1U) != 0 ? -1 : 0; };
    for (std::size_t x = 0; x < 16; ++x) {
      const auto& rows = garbler_table[x].rows;
      for (unsigned col = 0; col < 6; ++col) {
        out[x].pair[0][col] = _mm_set_epi64x(lane(rows[1], col), lane(rows[0], col));
        out[x].pair[1][col] = _mm_set_epi64x(lane(rows[3], col), lane(rows[2], col));
        out[x].pair[2][col] = _mm_set_epi64x(0, lane(rows[4], col));
      }
      out[x].control = garbler_table[x].control;
    }
    return out;
  }();
  return t;
}

// The evaluator's masks for index i | j << 1 | r_0 << 2 | r_1 << 3: R's
// columns as (row 0, row 1) pairs, and V_ij's weights of (G0, G1) and of G2.
struct evaluator_masks {
  __m128i r[4];
  __m128i g01, g2;
};
inline const std::array<evaluator_masks, 16>& evaluator_mask_table() noexcept {
  static const std::array<evaluator_masks, 16> t = [] {
    std::array<evaluator_masks, 16> out{};
    auto lane = [](unsigned bit) -> long long { return bit != 0 ? -1 : 0; };
    for (unsigned x = 0; x < 16; ++x) {
      const unsigned i = x & 1U, j = x >> 1 & 1U;
      const unsigned r = rp[2 * i + j] ^ ((x & 4U) != 0 ? s1 : 0U) ^ ((x & 8U) != 0 ? s2 : 0U);
      for (unsigned col = 0; col < 4; ++col)
        out[x].r[col] = _mm_set_epi64x(lane(r >> (4 + col) & 1U), lane(r >> col & 1U));
      out[x].g01 = _mm_set_epi64x(lane(j), lane(i));
      out[x].g2 = _mm_set1_epi64x(lane(i ^ j));
    }
    return out;
  }();
  return t;
}

// The label of colour 0 of the wire whose zero label is `zero` (branch-free).
[[nodiscard]] inline __m128i colour_zero(__m128i zero, __m128i delta) noexcept {
  return _mm_xor_si128(zero, _mm_and_si128(gc::detail::lsb_mask(zero), delta));
}
// The control bits (top bits) of two hashes: x's in bit 0, y's in bit 1.
[[nodiscard]] inline unsigned top_bits(__m128i x, __m128i y) noexcept {
  return static_cast<unsigned>(_mm_movemask_pd(_mm_castsi128_pd(_mm_unpackhi_epi64(x, y))));
}
// The 64-bit halves of two hashes (their low lanes) as one pair.
[[nodiscard]] inline __m128i low_pair(__m128i x, __m128i y) noexcept { return _mm_unpacklo_epi64(x, y); }

// One AND's place in a run: its labels and its number from the run's start.
struct and_ref {
  const block* a;
  const block* b;
  block* out;
};

// Visits the circuit's gates in schedule order: free gates at once, AND
// gates in batches of consecutive numbers handed to `ands(refs, n, first)`.
// The one-by-one part first, then the lane groups (numbered as half-gates
// numbers them); c0, c1 are the constants' labels (garbler: 0 and delta).
template <class Ands>
void visit(const circuit& c, std::span<const block> in, std::span<block> out, block c0, block c1, Ands&& ands) {
  using gc::detail::and_chunk;
  and_ref refs[and_chunk];
  const schedule& s = c.schedule();
  block* w = gc::detail::wire_scratch(std::max<std::size_t>(s.num_slots, 2)).data();
  const gc::detail::slots l(w, out.data(), in.data());
  w[slot_zero] = c0;
  w[slot_one] = c1;
  for (std::size_t p = 0; p < s.steps(); ++p) {
    for (std::uint32_t i = s.free_offsets[p]; i < s.free_offsets[p + 1]; ++i) {
      const xor_gate& g = s.free_gates[i];
      l[g.out] = l[g.a] ^ l[g.b];
    }
    for (std::uint32_t lo = s.and_offsets[p]; lo < s.and_offsets[p + 1]; lo += and_chunk) {
      const std::uint32_t n = std::min<std::uint32_t>(and_chunk, s.and_offsets[p + 1] - lo);
      for (std::uint32_t j = 0; j < n; ++j) {
        const and_gate& g = s.and_gates[lo + j];
        refs[j] = {&l[g.a], &l[g.b], &l[g.out]};
      }
      ands(refs, n, std::uint64_t{lo});
    }
  }
  for (std::size_t i = 0; i < c.outputs().size(); ++i)
    if (s.output_slots[i] != (output_slot | i)) out[i] = l[s.output_slots[i]];
  secure_zero(w, s.num_slots * sizeof(block));

  const std::size_t groups = c.lane_groups().size();
  if (groups == 0) return;
  const std::size_t scratch_blocks = gc::detail::lane_scratch(c, 0, groups);
  block* scratch = gc::detail::lane_scratch_buffer(scratch_blocks);
  for (const lane_group& grp : c.lane_groups()) {
    const schedule& t = c.lane_templates()[grp.tmpl].schedule();
    const gc::detail::lane_rows row = gc::detail::lane_begin(c, grp, in.data(), scratch, c0, c1);
    const std::size_t lanes = grp.lanes;
    for (std::size_t p = 0; p < t.steps(); ++p) {
      gc::detail::lane_xor(t, p, row);
      std::uint32_t n = 0;
      std::uint64_t first = grp.and_base + std::uint64_t{t.and_offsets[p]} * lanes;
      for (std::uint32_t q = t.and_offsets[p]; q < t.and_offsets[p + 1]; ++q) {
        const and_gate& g = t.and_gates[q];
        const block* a = row(g.a);
        const block* b = row(g.b);
        block* o = row(g.out);
        for (std::size_t j = 0; j < lanes; ++j) {
          refs[n++] = {a + j, b + j, o + j};
          if (n == and_chunk) {
            ands(refs, n, first);
            first += n;
            n = 0;
          }
        }
      }
      if (n != 0) ands(refs, n, first);
    }
    gc::detail::lane_end(c, grp, row, out.data());
  }
  secure_zero(scratch, scratch_blocks * sizeof(block));
}

inline void check_sizes(const char* who, const circuit& c, std::size_t inputs, std::size_t tables,
                        std::size_t outputs) {
  gc::detail::check_spans(who, c, inputs, tables, table_bytes(c), "bytes", outputs);
}

// AND k's five control bits in the stream that starts at `bits`.
[[nodiscard]] inline unsigned read_control(const std::byte* bits, std::size_t bytes, std::uint64_t k) noexcept {
  const std::uint64_t pos = control_bits_per_and * k;
  const std::size_t at = pos / 8;
  unsigned v = std::to_integer<unsigned>(bits[at]);
  if (at + 1 < bytes) v |= std::to_integer<unsigned>(bits[at + 1]) << 8;
  return (v >> (pos % 8)) & 0x1fU;
}
inline void write_control(std::byte* bits, std::size_t bytes, std::uint64_t k, unsigned v) noexcept {
  const std::uint64_t pos = control_bits_per_and * k;
  const std::size_t at = pos / 8;
  const unsigned x = (v & 0x1fU) << (pos % 8);
  bits[at] |= std::byte(x & 0xffU);
  if (at + 1 < bytes) bits[at + 1] |= std::byte(x >> 8);
}

// One garbling's batch kernel: visit hands it at most and_chunk ANDs of
// consecutive numbers, whose outputs no other AND of the batch reads.
class garble_batches {
 public:
  garble_batches(block delta, std::uint64_t tweak_base, prg& coins, std::span<std::byte> tables, std::uint64_t ands)
      : d_(delta.v), sd_(sigma(delta.v)), tweak_base_(tweak_base), coins_(coins), ciphers_(tables.data()),
        control_(tables.data() + cipher_bytes_per_and * ands),
        control_bytes_(tables.size() - cipher_bytes_per_and * ands) {
    std::memset(control_, 0, control_bytes_);
  }
  garble_batches(const garble_batches&) = delete;
  garble_batches& operator=(const garble_batches&) = delete;
  ~garble_batches() {  // the scratch held labels of colour 0 and hashes of both labels
    secure_zero(y_, sizeof y_);
    secure_zero(a0_, sizeof a0_);
    secure_zero(b0_, sizeof b0_);
    secure_zero(r_, sizeof r_);
    secure_zero(&d_, sizeof d_);
    secure_zero(&sd_, sizeof sd_);
  }

  void operator()(const and_ref* refs, std::uint32_t n, std::uint64_t first) {
    n = std::min(n, chunk);  // as visit hands them (the bound also lets the compiler see y_ suffices)
    coins_.fill(r_, n);
    for (std::uint32_t q = 0; q < n; ++q) {
      const __m128i a = colour_zero(refs[q].a->v, d_), b = colour_zero(refs[q].b->v, d_);
      a0_[q] = block(a), b0_[q] = block(b);
      const std::uint64_t k = tweak_base_ + first + q;
      const __m128i sa = sigma(a), sb = sigma(b), sx = _mm_xor_si128(sa, sb);
      const __m128i ta = and_tweak(k, tweak_half_a).v, tb = and_tweak(k, tweak_half_b).v,
                    tx = and_tweak(k, tweak_half_ab).v;
      block* yq = y_ + 6 * q;  // H(A^0), H(A^1), H(B^0), H(B^1), H(X^0), H(X^1), X = A ^ B
      yq[0] = block(_mm_xor_si128(sa, ta));
      yq[1] = block(_mm_xor_si128(_mm_xor_si128(sa, sd_), ta));
      yq[2] = block(_mm_xor_si128(sb, tb));
      yq[3] = block(_mm_xor_si128(_mm_xor_si128(sb, sd_), tb));
      yq[4] = block(_mm_xor_si128(sx, tx));
      yq[5] = block(_mm_xor_si128(_mm_xor_si128(sx, sd_), tx));
    }
    hasher::instance().mmo_inplace(y_, 6 * std::size_t{std::min(n, chunk)});
    const auto& masks = garbler_mask_table();
    std::byte* g_out = ciphers_ + cipher_bytes_per_and * first;
    for (std::uint32_t q = 0; q < n; ++q, g_out += cipher_bytes_per_and) {
      const unsigned alpha = refs[q].a->lsb() ? 1U : 0U, beta = refs[q].b->lsb() ? 1U : 0U;
      const garbler_masks& m = masks[alpha | beta << 1 | (r_[q] & 3U) << 2];
      const __m128i a = a0_[q].v, b = b0_[q].v;
      // The secret halves, each in both lanes: A_L, A_R, B_L, B_R, delta_L, delta_R.
      const __m128i half[6] = {_mm_unpacklo_epi64(a, a),     _mm_unpackhi_epi64(a, a),
                               _mm_unpacklo_epi64(b, b),     _mm_unpackhi_epi64(b, b),
                               _mm_unpacklo_epi64(d_, d_), _mm_unpackhi_epi64(d_, d_)};
      __m128i lin[3];  // (C_L, C_R), (G0, G1), (G2, -) before their hashes
      for (std::size_t p = 0; p < 3; ++p) {
        __m128i v = _mm_and_si128(m.pair[p][0], half[0]);
        for (std::size_t col = 1; col < 6; ++col) v = _mm_xor_si128(v, _mm_and_si128(m.pair[p][col], half[col]));
        lin[p] = v;
      }
      const block* hy = y_ + 6 * q;
      const __m128i ha0 = hy[0].v, ha1 = hy[1].v, hb0 = hy[2].v, hb1 = hy[3].v, hx0 = hy[4].v, hx1 = hy[5].v;
      const __m128i g01 = _mm_xor_si128(lin[1], low_pair(_mm_xor_si128(ha0, ha1), _mm_xor_si128(hb0, hb1)));
      const __m128i g2 = _mm_xor_si128(lin[2], _mm_xor_si128(hx0, hx1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(g_out), g01);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(g_out + 16), g2);
      const unsigned ma = top_bits(ha0, ha1), mb = top_bits(hb0, hb1), mx = top_bits(hx0, hx1);
      const unsigned hash_masks = ((ma ^ mx) & 1U) | ((mb ^ mx) & 1U) << 1 | ((ma ^ ma >> 1) & 1U) << 2 |
                                  ((mb ^ mb >> 1) & 1U) << 3 | ((mx ^ mx >> 1) & 1U) << 4;
      write_control(control_, control_bytes_, first + q, m.control ^ hash_masks);
      *refs[q].out = block(_mm_xor_si128(lin[0], _mm_xor_si128(low_pair(ha0, hb0), low_pair(hx0, hx0))));
    }
  }

 private:
  static constexpr std::uint32_t chunk = gc::detail::and_chunk;
  __m128i d_, sd_;
  std::uint64_t tweak_base_;
  prg& coins_;
  std::byte* ciphers_;
  std::byte* control_;
  std::size_t control_bytes_;
  alignas(64) block y_[6 * chunk];
  block a0_[chunk], b0_[chunk];  // the colour-0 labels
  std::uint8_t r_[chunk];
};

// The evaluator's batch kernel (see garble_batches).
class evaluate_batches {
 public:
  evaluate_batches(std::uint64_t tweak_base, std::span<const std::byte> tables, std::uint64_t ands)
      : tweak_base_(tweak_base), ciphers_(tables.data()), control_(tables.data() + cipher_bytes_per_and * ands),
        control_bytes_(tables.size() - cipher_bytes_per_and * ands) {}

  void operator()(const and_ref* refs, std::uint32_t n, std::uint64_t first) {
    n = std::min(n, chunk);  // as visit hands them (the bound also lets the compiler see y_ suffices)
    for (std::uint32_t q = 0; q < n; ++q) {
      const std::uint64_t k = tweak_base_ + first + q;
      const __m128i sa = sigma(refs[q].a->v), sb = sigma(refs[q].b->v);
      y_[3 * q] = block(_mm_xor_si128(sa, and_tweak(k, tweak_half_a).v));
      y_[3 * q + 1] = block(_mm_xor_si128(sb, and_tweak(k, tweak_half_b).v));
      y_[3 * q + 2] = block(_mm_xor_si128(_mm_xor_si128(sa, sb), and_tweak(k, tweak_half_ab).v));
    }
    hasher::instance().mmo_inplace(y_, 3 * std::size_t{std::min(n, chunk)});
    const auto& masks = evaluator_mask_table();
    const std::byte* g_in = ciphers_ + cipher_bytes_per_and * first;
    for (std::uint32_t q = 0; q < n; ++q, g_in += cipher_bytes_per_and) {
      const __m128i a = refs[q].a->v, b = refs[q].b->v;
      const unsigned i = block(a).lsb() ? 1U : 0U, j = block(b).lsb() ? 1U : 0U;
      const __m128i ha = y_[3 * q].v, hb = y_[3 * q + 1].v, hx = y_[3 * q + 2].v;  // H(A*), H(B*), H(A* ^ B*)
      const unsigned s = read_control(control_, control_bytes_, first + q);
      const unsigned mab = top_bits(ha, hb), mx = top_bits(hx, hx) & 1U;
      const unsigned r0 = (s ^ (i & s >> 2) ^ ((i ^ j) & s >> 4) ^ mab ^ mx) & 1U;
      const unsigned r1 = (s >> 1 ^ (j & s >> 3) ^ ((i ^ j) & s >> 4) ^ mab >> 1 ^ mx) & 1U;
      const evaluator_masks& m = masks[i | j << 1 | r0 << 2 | r1 << 3];
      const __m128i g01 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(g_in));
      const __m128i g2 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(g_in + 16));
      __m128i v = _mm_xor_si128(low_pair(ha, hb), low_pair(hx, hx));
      v = _mm_xor_si128(v, _mm_and_si128(m.g01, g01));
      v = _mm_xor_si128(v, _mm_and_si128(m.g2, _mm_unpacklo_epi64(g2, g2)));
      v = _mm_xor_si128(v, _mm_and_si128(m.r[0], _mm_unpacklo_epi64(a, a)));
      v = _mm_xor_si128(v, _mm_and_si128(m.r[1], _mm_unpackhi_epi64(a, a)));
      v = _mm_xor_si128(v, _mm_and_si128(m.r[2], _mm_unpacklo_epi64(b, b)));
      v = _mm_xor_si128(v, _mm_and_si128(m.r[3], _mm_unpackhi_epi64(b, b)));
      *refs[q].out = block(v);
    }
  }

 private:
  static constexpr std::uint32_t chunk = gc::detail::and_chunk;
  std::uint64_t tweak_base_;
  const std::byte* ciphers_;
  const std::byte* control_;
  std::size_t control_bytes_;
  alignas(64) block y_[3 * chunk];
};

}  // namespace detail

// Garbles c with g's delta and its next and_count() tweaks; returns the
// first, which the evaluator passes to evaluate. `coins` gives each AND its
// random r (2 bits); it must be a generator the evaluator cannot predict.
// input_zero_labels[i] is the zero label of c.inputs()[i]; writes
// table_bytes(c) bytes and the outputs' zero labels.
inline std::uint64_t garble(garbler& g, const circuit& c, std::span<const block> input_zero_labels, prg& coins,
                            std::span<std::byte> tables_out, std::span<block> output_zero_labels_out) {
  detail::check_sizes("gc::three_halves::garble", c, input_zero_labels.size(), tables_out.size(),
                      output_zero_labels_out.size());
  const std::uint64_t tweak_base = g.reserve(c.and_count()).tweak_base();
  const block delta = g.delta();
  const auto kernel = std::make_unique<detail::garble_batches>(delta, tweak_base, coins, tables_out, c.and_count());
  detail::visit(c, input_zero_labels, output_zero_labels_out, zero_block, delta, *kernel);
  return tweak_base;
}

// Evaluates c on one label per input wire with the tables and first tweak
// of garble; writes one label per output.
inline void evaluate(const circuit& c, std::span<const block> input_labels, std::span<const std::byte> tables,
                     std::uint64_t tweak_base, std::span<block> output_labels_out) {
  detail::check_sizes("gc::three_halves::evaluate", c, input_labels.size(), tables.size(), output_labels_out.size());
  const auto kernel = std::make_unique<detail::evaluate_batches>(tweak_base, tables, c.and_count());
  detail::visit(c, input_labels, output_labels_out, zero_block, zero_block, *kernel);
}

}  // namespace pmdi::gc::three_halves
