// gc/halfgates.hpp, gc/hash.hpp, gc/circuit.hpp: every gate over all inputs,
// known answers, random circuits against plaintext evaluation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <type_traits>

#include "pmdi/core/pool.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/crypto/gc/builder.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"
#include "gc_test_circuits.hpp"

using namespace pmdi;

namespace {

seed fixed_seed(std::uint8_t v) { return test::fixed_seed(v, 1); }

// Garble with fresh labels from g, evaluate on `bits`, decode.
std::vector<std::uint8_t> run_garbled(const gc::circuit& c, const std::vector<std::uint8_t>& bits, prg& g,
                                      std::uint64_t tweak = 0) {
  const block delta = gc::keygen_delta(g);
  auto zero = gc::keygen_zero_labels(g, c.inputs().size());
  std::span<const block> z(zero.data(), zero.size());
  auto gb = gc::garbler::known_answer(delta, tweak).garble(c, z);
  // Output labels of the garbler are zero labels: check their correlation below.
  auto in = gc::encode(z, bits, delta);
  auto out = gc::evaluate(c, in, gb.tables, tweak);
  auto plain = c.eval_plain(bits);
  for (std::size_t i = 0; i < out.size(); ++i)
    REQUIRE(out[i] == (plain[i] ? gb.output_zero_labels[i] ^ delta : gb.output_zero_labels[i]));
  return gc::decode(out, gc::decode_bits(gb.output_zero_labels));
}

}  // namespace

TEST_CASE("gc: example, one AND gate garbled and evaluated", "[gc]") {
  gc::builder b;
  const auto x = b.input(), y = b.input();
  b.output(b.and_(x, y));
  const auto c = std::move(b).build();
  prg g(fixed_seed(1));
  const block delta = gc::keygen_delta(g);
  REQUIRE(delta.lsb());
  auto zero = gc::keygen_zero_labels(g, 2);
  auto gb = gc::garbler::known_answer(delta, 0).garble(c, {zero.data(), 2});
  REQUIRE(gb.tables.size() == 2);
  const std::vector<std::uint8_t> bits{1, 1};
  auto out = gc::evaluate(c, gc::encode({zero.data(), 2}, bits, delta), gb.tables, 0);
  CHECK(gc::decode(out, gc::decode_bits(gb.output_zero_labels)) == std::vector<std::uint8_t>{1});
}

TEST_CASE("gc: every gate type over all input combinations", "[gc]") {
  prg g(fixed_seed(2));
  for (int kind = 0; kind < 5; ++kind) {
    std::vector<gc::gate> gates;
    std::vector<gc::wire> in{0, 1};
    switch (kind) {
      case 0: gates = {{0, 1, 2, gc::gate_kind::xor_}}; break;
      case 1: gates = {{0, 1, 2, gc::gate_kind::and_}}; break;
      case 2: gates = {{0, 0, 2, gc::gate_kind::inv}}; break;
      case 3: gates = {{0, 0, 2, gc::gate_kind::zero}}; break;
      case 4: gates = {{0, 0, 2, gc::gate_kind::one}}; break;
    }
    // Also feed the gate output through an AND with each input, so constants
    // and INV outputs meet a half-gate.
    gates.push_back({2, 0, 3, gc::gate_kind::and_});
    gates.push_back({1, 2, 4, gc::gate_kind::and_});
    const auto c = gc::circuit::make(5, gates, in, {2, 3, 4});
    for (std::uint8_t a = 0; a < 2; ++a)
      for (std::uint8_t bb = 0; bb < 2; ++bb) {
        const std::vector<std::uint8_t> bits{a, bb};
        std::uint8_t want = 0;
        switch (kind) {
          case 0: want = a ^ bb; break;
          case 1: want = a & bb; break;
          case 2: want = a ^ 1; break;
          case 3: want = 0; break;
          case 4: want = 1; break;
        }
        const std::vector<std::uint8_t> expect{want, static_cast<std::uint8_t>(want & a),
                                               static_cast<std::uint8_t>(bb & want)};
        CAPTURE(kind, a, bb);
        CHECK(run_garbled(c, bits, g, 1000 * kind) == expect);
      }
  }
}

TEST_CASE("gc: hash known answers and agreement of the batch paths", "[gc]") {
  const auto& h = gc::hasher::instance();
  // The permutation is AES-128: FIPS-197 Appendix C.1 vector.
  const block key = block::from_u64(0x0f0e0d0c0b0a0908ULL, 0x0706050403020100ULL);
  const block pt = block::from_u64(0xffeeddccbbaa9988ULL, 0x7766554433221100ULL);
  const block ct = aes128(key).encrypt(pt);
  CHECK(ct.lo() == 0x30047b6ad8e0c469ULL);
  CHECK(ct.hi() == 0x5ac5b47080b7cdd8ULL);
  // sigma(hi||lo) = (hi ^ lo) || hi, and H by its definition.
  const block x = block::from_u64(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  CHECK(gc::sigma(x) == block::from_u64(0x0123456789abcdefULL ^ 0xfedcba9876543210ULL, 0x0123456789abcdefULL));
  const block t = gc::and_tweak(7, 1);
  const block y = gc::sigma(x) ^ t;
  CHECK(h.hash(x, t) == (aes128(gc::fixed_key).encrypt(y) ^ y));
  // Pinned value (regression KAT for the fixed key and sigma).
  const block kat = h.hash(x, t);
  CHECK(kat.lo() == 0x571cbfbeb3409750ULL);
  CHECK(kat.hi() == 0x40fe7d92b3ba713bULL);
  // Batched path (VAES when present) == AES-NI path == VAES/AVX2 path (where
  // present) == one at a time, all tail sizes.
  prg g(fixed_seed(3));
  for (std::size_t n : {0, 1, 3, 4, 5, 31, 32, 33, 100, 1000}) {
    std::vector<block> a(n);
    g.fill(a.data(), n * sizeof(block));
    auto b2 = a, b3 = a, b4 = a;
    h.mmo_inplace(a.data(), n);
    h.mmo_inplace_aesni(b2.data(), n);
    for (auto& v : b3) v = h.permutation().encrypt(v) ^ v;
    CHECK(a == b2);
    CHECK(a == b3);
    if (h.mmo_inplace_vaes256(b4.data(), n)) CHECK(a == b4);
  }
}

TEST_CASE("gc: garbling known answer with fixed delta, labels and tweak", "[gc]") {
  gc::builder b;
  const auto x = b.input_word(4), y = b.input_word(4);
  b.output_word(b.add(x, y));
  const auto c = std::move(b).build();
  REQUIRE(c.and_count() == 3);
  const block delta = block::from_u64(0x1111111111111111ULL, 0x2222222222222223ULL);
  std::vector<block> zero(8);
  for (std::size_t i = 0; i < 8; ++i) zero[i] = block::from_u64(i * 0x9e3779b97f4a7c15ULL, i + 1);
  auto gb = gc::garbler::known_answer(delta, 42).garble(c, zero);
  // The tables are a function of (circuit, delta, labels, tweak): recompute
  // the first AND gate by hand from ZRE's formulas.
  // (The first AND in gate order is the first of level 0, hence table rows 0, 1.)
  const auto& ag = *std::find_if(c.gates().begin(), c.gates().end(),
                                 [](const gc::gate& g) { return g.kind == gc::gate_kind::and_; });
  std::vector<block> w(c.num_wires());
  for (std::size_t i = 0; i < 8; ++i) w[c.inputs()[i]] = zero[i];
  for (const auto& g : c.gates()) {
    if (g.out == ag.out) break;
    if (g.kind == gc::gate_kind::xor_) w[g.out] = w[g.a] ^ w[g.b];
    if (g.kind == gc::gate_kind::inv) w[g.out] = w[g.a] ^ delta;
    if (g.kind == gc::gate_kind::one) w[g.out] = delta;
  }
  const auto& h = gc::hasher::instance();
  const block a0 = w[ag.a], b0 = w[ag.b];
  const block tg = h.hash(a0, gc::and_tweak(42, 0)) ^ h.hash(a0 ^ delta, gc::and_tweak(42, 0)) ^
                   (b0.lsb() ? delta : zero_block);
  const block te = h.hash(b0, gc::and_tweak(42, 1)) ^ h.hash(b0 ^ delta, gc::and_tweak(42, 1)) ^ a0;
  CHECK(gb.tables[0] == tg);
  CHECK(gb.tables[1] == te);
  // Same inputs, same tables; another tweak base, other tables.
  CHECK(gc::garbler::known_answer(delta, 42).garble(c, zero).tables == gb.tables);
  auto other = gc::garbler::known_answer(delta, 42 + c.and_count()).garble(c, zero);
  for (std::size_t i = 0; i < gb.tables.size(); ++i) CHECK(!(other.tables[i] == gb.tables[i]));
  // Evaluating with the wrong tweak base does not give a valid label.
  const std::vector<std::uint8_t> bits{1, 1, 1, 1, 1, 0, 0, 0};
  auto out_bad = gc::evaluate(c, gc::encode(zero, bits, delta), gb.tables, 43);
  auto out_ok = gc::evaluate(c, gc::encode(zero, bits, delta), gb.tables, 42);
  CHECK(gc::bits_to_words<std::uint32_t>(gc::decode(out_ok, gc::decode_bits(gb.output_zero_labels)), 4) ==
        std::vector<std::uint32_t>{0});  // 15 + 1 = 16 = 0 mod 16
  bool any_bad = false;
  for (std::size_t i = 0; i < out_bad.size(); ++i)
    any_bad |= !(out_bad[i] == gb.output_zero_labels[i]) && !(out_bad[i] == (gb.output_zero_labels[i] ^ delta));
  CHECK(any_bad);
}

TEST_CASE("gc: random circuits agree with plaintext evaluation", "[gc]") {
  std::mt19937_64 rng(12345);
  prg g(fixed_seed(4));
  for (int rep = 0; rep < 40; ++rep) {
    const auto c = test::random_circuit(rng);
    for (int trial = 0; trial < 4; ++trial) {
      std::vector<std::uint8_t> bits(c.inputs().size());
      for (auto& v : bits) v = rng() & 1U;
      CHECK(run_garbled(c, bits, g, rng() >> 8) == c.eval_plain(bits));
    }
  }
}

TEST_CASE("gc: wide levels are batched and still correct", "[gc]") {
  // 1000 independent 3-deep AND chains: 3 levels of 1000 ANDs each.
  gc::builder b;
  for (int i = 0; i < 1000; ++i) {
    auto x = b.input_word(4);
    b.output(b.and_(b.and_(b.and_(x[0], x[1]), x[2]), x[3]));
  }
  const auto c = std::move(b).build();
  CHECK(c.depth() == 3);
  CHECK(c.and_count() == 3000);
  // The 1000 equal chains run as lanes of one template, lane_width at a time.
  CHECK(c.schedule().and_gates.empty());
  REQUIRE(c.lane_templates().size() == 1);
  CHECK(c.lane_templates()[0].and_count() == 3);
  CHECK(c.lane_groups().size() == (1000 + gc::circuit::lane_width - 1) / gc::circuit::lane_width);
  // One by one (lanes off): tiles of at least tile_width chains, only the
  // last tile's 3 steps are narrower.
  gc::builder b2;
  for (int i = 0; i < 1000; ++i) {
    auto x = b2.input_word(4);
    b2.output(b2.and_(b2.and_(b2.and_(x[0], x[1]), x[2]), x[3]));
  }
  const auto c2 = std::move(b2).build(gc::circuit::lane_mode::off);
  CHECK(c2.lane_groups().empty());
  const auto& s = c2.schedule();
  CHECK(s.and_gates.size() == 3000);
  int narrow = 0;
  for (std::size_t p = 0; p < s.steps(); ++p) {
    const auto n = s.and_offsets[p + 1] - s.and_offsets[p];
    narrow += n != 0 && n < gc::circuit::tile_width;
  }
  CHECK(narrow <= 3);
  prg g(fixed_seed(5));
  std::vector<std::uint8_t> bits(4000);
  for (auto& v : bits) v = g.next_bit();
  CHECK(run_garbled(c, bits, g, 5) == c.eval_plain(bits));
  CHECK(run_garbled(c2, bits, g, 5) == c.eval_plain(bits));
}

TEST_CASE("gc: refusals of misuse", "[gc]") {
  CHECK_THROWS_AS(gc::circuit::make(3, {{0, 5, 2, gc::gate_kind::and_}}, {0, 1}, {2}), usage_error);
  CHECK_THROWS_AS(gc::circuit::make(3, {{0, 2, 2, gc::gate_kind::and_}}, {0, 1}, {2}), usage_error);
  CHECK_THROWS_AS(gc::circuit::make(3, {{0, 1, 1, gc::gate_kind::and_}}, {0, 1}, {1}), usage_error);
  CHECK_THROWS_AS(gc::circuit::make(3, {}, {0, 1}, {2}), usage_error);
  const auto c = gc::circuit::make(3, {{0, 1, 2, gc::gate_kind::and_}}, {0, 1}, {2});
  std::vector<block> z(2), t(2), o(1), t_short(1);
  CHECK_THROWS_AS(gc::garbler::known_answer(block::from_u64(0, 2), 0), usage_error);  // even delta
  CHECK_THROWS_AS(gc::garbler::known_answer(block::from_u64(0, 3), 0).garble(c, z, t_short, o), usage_error);
  CHECK_THROWS_AS(gc::evaluate(c, std::vector<block>(1), t, 0, o), usage_error);
  CHECK_THROWS_AS(gc::decode(o, std::vector<std::uint8_t>(2)), usage_error);
}

TEST_CASE("gc: words to bits and back, LSB first", "[gc]") {
  const std::vector<std::uint32_t> w{0x80000001U, 5};
  const auto bits = gc::words_to_bits<std::uint32_t>(w, 32);
  CHECK(bits.size() == 64);
  CHECK(bits[0] == 1);
  CHECK(bits[31] == 1);
  CHECK(bits[32] == 1);
  CHECK(bits[33] == 0);
  CHECK(bits[34] == 1);
  CHECK(gc::bits_to_words<std::uint32_t>(bits, 32) == w);
  const std::vector<std::uint64_t> w64{~0ULL, 1ULL << 63};
  CHECK(gc::bits_to_words<std::uint64_t>(gc::words_to_bits<std::uint64_t>(w64, 64), 64) == w64);
}

TEST_CASE("gc: labels of ring words written as bytes equal encode of their bits", "[gc]") {
  prg g(fixed_seed(21));
  const block delta = gc::keygen_delta(g);
  const std::vector<std::uint32_t> w{0x80000001U, 5, 0, 0xffffffffU, 0x12345678U};
  for (const unsigned l : {32U, 20U}) {
    const auto zero = gc::keygen_zero_labels(g, w.size() * l);
    const std::span<const block> z(zero.data(), zero.size());
    std::vector<std::uint32_t> words = w;
    if (l < 32)
      for (auto& v : words) v &= (1U << l) - 1;
    const auto want = gc::encode(z, gc::words_to_bits<std::uint32_t>(words, l), delta);
    std::vector<std::byte> out(zero.size() * sizeof(block) + 1);
    const std::span<std::byte> unaligned = std::span<std::byte>(out).subspan(1);  // a message body is not aligned
    gc::encode_words<std::uint32_t>(z, words, l, delta, unaligned);
    CHECK(std::memcmp(unaligned.data(), want.data(), unaligned.size()) == 0);
    CHECK_THROWS_AS(gc::encode_words<std::uint32_t>(z, words, l, delta, std::span<std::byte>(out)), usage_error);
  }
}

TEST_CASE("gc: empty and pass-through circuits", "[gc]") {
  const gc::circuit empty;
  CHECK(gc::garbler::known_answer(block::from_u64(0, 1), 0).garble(empty, {}).tables.empty());
  // Outputs that are inputs, constants, and a repeated output wire.
  const auto c = gc::circuit::make(4, {{0, 0, 2, gc::gate_kind::one}, {1, 2, 3, gc::gate_kind::and_}}, {0, 1},
                                   {1, 0, 2, 3, 3, 1});
  prg g(fixed_seed(6));
  for (std::uint8_t a = 0; a < 2; ++a)
    for (std::uint8_t b = 0; b < 2; ++b)
      CHECK(run_garbled(c, {a, b}, g) == std::vector<std::uint8_t>{b, a, 1, b, b, b});
}

TEST_CASE("gc: lane groups, table order, both kernels, partial groups and mixed circuits", "[gc]") {
  // Two equal components of two ANDs: one group of 2 lanes, AND (template
  // gate t, lane j) is number t * 2 + j; check the first level's tables by
  // ZRE's formulas. (One-AND components stay one by one.)
  {
    gc::builder b;
    for (int i = 0; i < 2; ++i) {
      const auto x = b.input(), y = b.input(), z = b.input();
      b.output(b.and_(b.and_(x, y), z));
    }
    const auto c = std::move(b).build();
    REQUIRE(c.lane_groups().size() == 1);
    CHECK(c.lane_groups()[0].lanes == 2);
    const block delta = block::from_u64(0x1111111111111111ULL, 0x2222222222222223ULL);
    std::vector<block> zero(6);
    for (std::size_t i = 0; i < 6; ++i) zero[i] = block::from_u64(i * 0x9e3779b97f4a7c15ULL, i + 1);
    const auto gb = gc::garbler::known_answer(delta, 42).garble(c, zero);
    const auto& h = gc::hasher::instance();
    for (std::size_t j = 0; j < 2; ++j) {
      const block a0 = zero[3 * j], b0 = zero[3 * j + 1];
      const block tg = h.hash(a0, gc::and_tweak(42 + j, 0)) ^ h.hash(a0 ^ delta, gc::and_tweak(42 + j, 0)) ^
                       (b0.lsb() ? delta : zero_block);
      const block te = h.hash(b0, gc::and_tweak(42 + j, 1)) ^ h.hash(b0 ^ delta, gc::and_tweak(42 + j, 1)) ^ a0;
      CHECK(gb.tables[2 * j] == tg);
      CHECK(gb.tables[2 * j + 1] == te);
    }
  }
  // Mixed: equal components (with a partial last group of 37 = 32 + 5 lanes),
  // components of another shape, a unique component, outputs that are inputs
  // and constants; both kernels give the same tables and labels.
  gc::builder b;
  std::vector<std::uint8_t> bits;
  prg g(fixed_seed(7));
  for (int i = 0; i < 37; ++i) {
    const auto x = b.input_word(8), y = b.input_word(8);
    b.output_word(b.sub(b.relu(b.add(x, y)), x));
  }
  for (int i = 0; i < 9; ++i) {
    const auto x = b.input_word(6), y = b.input_word(6);
    b.output(b.less_signed(x, y));
    b.output(b.one());
  }
  {
    const auto x = b.input_word(5);
    b.output(b.and_(b.and_(x[0], x[1]), b.xor_(x[2], x[3])));
    b.output(x[4]);
  }
  const auto c = std::move(b).build();
  CHECK(c.lane_templates().size() == 2);
  CHECK(c.lane_groups().size() == 3);
  CHECK(c.schedule().and_gates.size() == 2);  // the unique component
  bits.resize(c.inputs().size());
  for (auto& v : bits) v = g.next_bit();
  CHECK(run_garbled(c, bits, g, 99) == c.eval_plain(bits));
  const block delta = gc::keygen_delta(g);
  auto zero = gc::keygen_zero_labels(g, c.inputs().size());
  std::span<const block> z(zero.data(), zero.size());
  const auto best = gc::garbler::known_answer(delta, 5).garble(c, z);
  const auto in = gc::encode(z, bits, delta);
  const auto out_best = gc::evaluate(c, in, best.tables, 5);
  INFO("best lane kernels: " << gc::hash_path_name(gc::hasher::instance().path()));
  // The portable kernels, and the VAES/AVX2 ones (where the CPU has VAES and
  // AVX2; on such a CPU with AVX-512 they are not the best, so only this runs them).
  if (!gc::detail::cpu_has_vaes256()) WARN("no VAES/AVX2 on this CPU: the 256-bit lane kernels are not compared");
  for (auto kern : {gc::detail::lane_kernel::portable, gc::detail::lane_kernel::vaes256}) {
    std::vector<block> tab(gc::table_blocks(c)), out0(c.outputs().size());
    gc::detail::garble_generic(c, delta, z, 5, tab, out0);  // the two parts of garble_at
    gc::detail::garble_groups(c, delta, z.data(), 5, tab.data(), out0.data(), 0, c.lane_groups().size(), kern);
    CHECK(tab == best.tables);
    CHECK(out0 == best.output_zero_labels);
    std::vector<block> out(c.outputs().size());
    gc::detail::evaluate_generic(c, in, best.tables, 5, out);
    gc::detail::evaluate_groups(c, in.data(), best.tables.data(), 5, out.data(), 0, c.lane_groups().size(), kern);
    CHECK(out == out_best);
    CHECK(gc::decode(out, gc::decode_bits(best.output_zero_labels)) == c.eval_plain(bits));
  }
}

TEST_CASE("gc: garbling and evaluation on a pool equal the one-thread run", "[gc]") {
  const std::size_t n = 1000;  // 32 lane groups
  const auto c = gc::relu_stage_circuit(32, 12, n);
  prg g(fixed_seed(8));
  std::vector<std::uint8_t> bits(c.inputs().size());
  for (auto& v : bits) v = g.next_bit();
  const block delta = gc::keygen_delta(g);
  auto zero = gc::keygen_zero_labels(g, c.inputs().size());
  std::span<const block> z(zero.data(), zero.size());
  const auto one = gc::garbler::known_answer(delta, 7).garble(c, z);
  const auto in = gc::encode(z, bits, delta);
  const auto out_one = gc::evaluate(c, in, one.tables, 7);
  CHECK(gc::decode(out_one, gc::decode_bits(one.output_zero_labels)) == c.eval_plain(bits));
  for (unsigned threads : {1U, 2U, 3U}) {
    worker_pool pool(threads);
    std::vector<block> tab(gc::table_blocks(c)), out0(c.outputs().size()), out(c.outputs().size());
    gc::garbler::known_answer(delta, 7).garble(c, z, tab, out0, pool);
    CAPTURE(threads);
    CHECK(tab == one.tables);
    CHECK(out0 == one.output_zero_labels);
    gc::evaluate(c, in, one.tables, 7, out, pool);
    CHECK(out == out_one);
  }
}

TEST_CASE("gc: the garbler owns its tweaks, so none is used twice under one delta", "[gc]") {
  static_assert(!std::is_copy_constructible_v<gc::garbler> && !std::is_copy_assignable_v<gc::garbler>);
  static_assert(!std::is_copy_constructible_v<gc::garbling_run>);
  const auto c = gc::relu_stage_circuit(32, 12, 40);
  const std::uint64_t n = c.and_count();
  prg g(fixed_seed(9));
  gc::garbler gk = gc::garbler::keygen(g);
  CHECK(gk.delta().lsb());
  auto zero = gc::keygen_zero_labels(g, c.inputs().size());
  std::span<const block> z(zero.data(), zero.size());
  std::vector<std::uint8_t> bits(c.inputs().size());
  for (auto& v : bits) v = g.next_bit();
  const auto in = gc::encode(z, bits, gk.delta());
  auto check_eval = [&](const std::vector<block>& tab, const std::vector<block>& out0, std::uint64_t t) {
    CHECK(gc::decode(gc::evaluate(c, in, tab, t), gc::decode_bits(out0)) == c.eval_plain(bits));
  };
  // The same circuit and labels garbled twice: the second takes the next tweaks.
  const auto r1 = gk.garble(c, z);
  const auto r2 = gk.garble(c, z);
  CHECK(r1.tweak_base == 0);
  CHECK(r2.tweak_base == n);
  CHECK(gk.next_tweak() == 2 * n);
  std::size_t same = 0;
  for (std::size_t i = 0; i < r1.tables.size(); ++i) same += r1.tables[i] == r2.tables[i];
  CHECK(same == 0);
  check_eval(r1.tables, r1.output_zero_labels, r1.tweak_base);
  check_eval(r2.tables, r2.output_zero_labels, r2.tweak_base);
  // A run: pieces anywhere inside it, each range once.
  gc::garbling_run run = gk.reserve(3 * n);
  CHECK(run.tweak_base() == 2 * n);
  CHECK(gk.next_tweak() == 5 * n);
  std::vector<block> tab(gc::table_blocks(c)), out0(c.outputs().size());
  run.garble(c, 2 * n, z, tab, out0);
  check_eval(tab, out0, run.tweak_base() + 2 * n);
  run.garble(c, 0, z, tab, out0);
  CHECK_THROWS_AS(run.garble(c, 0, z, tab, out0), usage_error);          // the same range again
  CHECK_THROWS_AS(run.garble(c, n / 2, z, tab, out0), usage_error);      // overlaps the first piece
  CHECK_THROWS_AS(run.garble(c, 2 * n - 1, z, tab, out0), usage_error);  // overlaps the second
  CHECK_THROWS_AS(run.garble(c, 3 * n - 1, z, tab, out0), usage_error);  // leaves the run
  run.garble(c, n, z, tab, out0);                                        // the gap fits exactly
  check_eval(tab, out0, run.tweak_base() + n);
  // Moving the garbler moves its delta and counter; the old object refuses.
  gc::garbler moved = std::move(gk);
  CHECK_THROWS_AS(gk.garble(c, z), usage_error);
  CHECK_THROWS_AS((void)gk.delta(), usage_error);
  CHECK(moved.garble(c, z).tweak_base == 5 * n);
}
