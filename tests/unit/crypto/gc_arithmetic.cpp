// gc/arithmetic.hpp: words handed to the evaluator as y + m, against the
// plaintext value (identity words, sign extension and constants, the ReLU
// stage), the terms and AND counts, what the evaluator's value shows, tweaks
// and refusals.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/crypto/gc/arithmetic.hpp"
#include "gc_test_circuits.hpp"

using namespace pmdi;
using pmdi::test::fixed_seed;

namespace {

template <class V>
struct arithmetic_run {
  std::vector<V> values, masks;  // evaluator's y + m, garbler's m
};

// Garbles c (input bits `bits`) with fresh labels, converts the outputs,
// evaluates; `tamper` may change the tables or the tweak the evaluator uses.
template <class V>
arithmetic_run<V> run_arithmetic(const gc::arithmetic_circuit& ac, const std::vector<std::uint8_t>& bits, prg& g,
                                 std::uint64_t tweak_skew = 0) {
  gc::garbler gk = gc::garbler::keygen(g);
  const auto zero = gc::keygen_zero_labels(g, ac.c.inputs().size());
  const std::uint64_t terms = ac.out.terms();
  gc::garbling_run run = gk.reserve(ac.c.and_count() + terms);
  std::vector<block> tables(gc::table_blocks(ac.c)), out_zero(ac.c.outputs().size());
  run.garble(ac.c, 0, zero, tables, out_zero);
  arithmetic_run<V> r{std::vector<V>(ac.out.words()), std::vector<V>(ac.out.words())};
  std::vector<V> lookup(terms);
  gc::garble_arithmetic<V>(ac.out, run, ac.c.and_count(), out_zero, lookup, r.masks);
  const auto labels = gc::encode(zero, bits, gk.delta());
  const auto out = gc::evaluate(ac.c, labels, tables, run.tweak_base());
  gc::evaluate_arithmetic<V>(ac.out, out, lookup, run.tweak_base() + ac.c.and_count() + tweak_skew, r.values);
  return r;
}

gc::arithmetic_circuit identity_circuit(unsigned l, std::size_t n) {
  gc::builder b;
  std::vector<gc::word> x(n);
  for (auto& w : x) w = b.input_word(l);
  gc::arithmetic_outputs out;
  for (const auto& w : x) gc::output_arithmetic(b, w, out);
  return {std::move(b).build(), std::move(out)};
}

}  // namespace

TEMPLATE_TEST_CASE("gc arithmetic: identity words come back as y + m, m the garbler's", "[gc][arithmetic]",
                   std::uint32_t, std::uint64_t) {
  using V = TestType;
  prg g(fixed_seed(1));
  std::mt19937_64 rng(11);
  for (unsigned l : {32U, static_cast<unsigned>(8 * sizeof(V)), 7U}) {
    const auto ac = identity_circuit(l, 20);
    REQUIRE(ac.out.terms() == 20 * l);
    REQUIRE(ac.c.and_count() == 0);
    const std::uint64_t mask = ac.out.mask();
    for (int rep = 0; rep < 10; ++rep) {
      std::vector<V> y(20);
      for (auto& v : y) v = static_cast<V>(rng() & mask);
      y[0] = 0, y[1] = static_cast<V>(mask);  // the bounds: every bit 0, every bit 1
      const auto bits = gc::words_to_bits<V>(y, l);
      const auto r = run_arithmetic<V>(ac, bits, g);
      for (std::size_t j = 0; j < y.size(); ++j) {
        CHECK(static_cast<V>((r.values[j] - r.masks[j]) & mask) == y[j]);
        CHECK((r.values[j] & ~mask) == 0);
      }
    }
  }
}

TEST_CASE("gc arithmetic: repeated bits add their weights, constants go to the offset", "[gc][arithmetic]") {
  // x = trunc(v, 12) of a 32-bit word: bits 12..31 of v, then 12 copies of
  // bit 31 (the sign): 20 terms, the sign's weight -2^19; a word with
  // constant bits: the ones in the offset, no term.
  gc::builder b;
  const gc::word v = b.input_word(32);
  gc::arithmetic_outputs out;
  gc::output_arithmetic(b, b.trunc(v, 12), out);
  gc::output_arithmetic(b, b.constant(0x80000005U, 32), out);
  gc::word mixed = b.constant(0x10U, 32);
  mixed[0] = v[3];
  mixed[1] = v[3];  // bit 3 of v at weights 1 and 2
  gc::output_arithmetic(b, mixed, out);
  const gc::arithmetic_circuit ac{std::move(b).build(), out};
  REQUIRE(ac.out.words() == 3);
  CHECK(ac.out.first == std::vector<std::uint32_t>{0, 20, 20, 21});
  CHECK(ac.out.weight[19] == ((std::uint64_t{1} << 32) - (std::uint64_t{1} << 19)));
  CHECK(ac.out.weight[20] == 3);
  CHECK(ac.out.offset == std::vector<std::uint64_t>{0, 0x80000005U, 0x10U});
  prg g(fixed_seed(2));
  std::mt19937 rng(3);
  for (int rep = 0; rep < 50; ++rep) {
    const std::uint32_t x = static_cast<std::uint32_t>(rng());
    const auto r = run_arithmetic<std::uint32_t>(ac, gc::words_to_bits<std::uint32_t>(std::vector<std::uint32_t>{x}, 32), g);
    CHECK(static_cast<std::uint32_t>(r.values[0] - r.masks[0]) == static_cast<std::uint32_t>(static_cast<std::int32_t>(x) >> 12));
    CHECK(static_cast<std::uint32_t>(r.values[1] - r.masks[1]) == 0x80000005U);
    CHECK(static_cast<std::uint32_t>(r.values[2] - r.masks[2]) == (0x10U | (((x >> 3) & 1U) * 3U)));
  }
}

TEST_CASE("gc arithmetic: the ReLU stage, 50 ANDs and 19 terms per ReLU at l = 32, s = 12", "[gc][arithmetic]") {
  using R = ring<32, 12>;  // trunc(v, s): the arithmetic shift
  const std::size_t n = 64;
  const auto ac = gc::relu_arithmetic_circuit(32, 12, n);
  CHECK(ac.c.and_count() == 50 * n);
  CHECK(ac.out.terms() == 19 * n);
  CHECK(gc::relu_arithmetic_circuit(32, 5, 1).c.and_count() == 2 * 32 - 5 - 2);
  prg g(fixed_seed(3));
  std::mt19937 rng(4);
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<std::uint32_t> a(n), w(n), in;
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = static_cast<std::uint32_t>(rng());
      w[i] = static_cast<std::uint32_t>(rng());
    }
    w[0] = static_cast<std::uint32_t>(0 - a[0]);                 // zero
    w[1] = static_cast<std::uint32_t>(0x7fffffffU - a[1]);       // largest positive
    w[2] = static_cast<std::uint32_t>(0x80000000U - a[2]);       // most negative
    w[3] = static_cast<std::uint32_t>(0xfffff000U - a[3]);       // -2^12: truncates to -1
    in = a;
    in.insert(in.end(), w.begin(), w.end());
    const auto r = run_arithmetic<std::uint32_t>(ac, gc::words_to_bits<std::uint32_t>(in, 32), g);
    for (std::size_t i = 0; i < n; ++i) {
      const auto x = R::trunc(static_cast<std::uint32_t>(a[i] + w[i]), 12);
      const std::uint32_t relu = static_cast<std::int32_t>(x) < 0 ? 0U : x;
      CHECK(static_cast<std::uint32_t>(r.values[i] - r.masks[i]) == relu);
    }
  }
}

TEST_CASE("gc arithmetic: the evaluator's y + m does not follow y", "[gc][arithmetic]") {
  // One word, the same y every time: over fresh garblings the evaluator's
  // value takes a new value each time (64 draws, no repeat, never y itself),
  // and its low bit is 1 about half the time whatever y's is.
  const auto ac = identity_circuit(32, 1);
  prg g(fixed_seed(4));
  for (std::uint32_t y : {0U, 1U, 0xffffffffU}) {
    std::set<std::uint32_t> seen;
    int odd = 0;
    for (int rep = 0; rep < 64; ++rep) {
      const auto r = run_arithmetic<std::uint32_t>(ac, gc::words_to_bits<std::uint32_t>(std::vector<std::uint32_t>{y}, 32), g);
      REQUIRE(r.values[0] - r.masks[0] == y);
      CHECK(r.values[0] != y);
      seen.insert(r.values[0]);
      odd += static_cast<int>(r.values[0] & 1U);
    }
    CHECK(seen.size() == 64);
    CHECK(odd > 16);
    CHECK(odd < 48);
  }
}

TEST_CASE("gc arithmetic: tweaks are the run's, a wrong tweak or table gives a wrong value", "[gc][arithmetic]") {
  const auto ac = identity_circuit(32, 4);
  prg g(fixed_seed(5));
  const std::vector<std::uint32_t> y{1, 2, 3, 0xdeadbeefU};
  const auto bits = gc::words_to_bits<std::uint32_t>(y, 32);
  const auto skewed = run_arithmetic<std::uint32_t>(ac, bits, g, 1);
  int wrong = 0;
  for (std::size_t j = 0; j < y.size(); ++j) wrong += (skewed.values[j] - skewed.masks[j]) != y[j] ? 1 : 0;
  CHECK(wrong == 4);

  // The terms' tweaks are claimed from the run: twice, or past its end, is refused.
  gc::garbler gk = gc::garbler::keygen(g);
  gc::garbling_run run = gk.reserve(ac.out.terms());
  std::vector<block> out_zero(ac.out.terms());
  std::vector<std::uint32_t> lookup(ac.out.terms()), masks(ac.out.words());
  gc::garble_arithmetic<std::uint32_t>(ac.out, run, 0, out_zero, lookup, masks);
  CHECK_THROWS_WITH(gc::garble_arithmetic<std::uint32_t>(ac.out, run, 0, out_zero, lookup, masks),
                    Catch::Contains("already used"));
  gc::garbling_run short_run = gk.reserve(ac.out.terms() - 1);
  CHECK_THROWS_WITH(gc::garble_arithmetic<std::uint32_t>(ac.out, short_run, 0, out_zero, lookup, masks),
                    Catch::Contains("leave the run"));
}

TEST_CASE("gc arithmetic: refusals", "[gc][arithmetic]") {
  const auto ac = identity_circuit(32, 2);
  prg g(fixed_seed(6));
  gc::garbler gk = gc::garbler::keygen(g);
  gc::garbling_run run = gk.reserve(1000);
  std::vector<block> labels(ac.out.terms());
  std::vector<std::uint32_t> lookup(ac.out.terms()), words(ac.out.words());
  std::vector<std::uint16_t> narrow(ac.out.terms()), narrow_words(ac.out.words());
  CHECK_THROWS_WITH(gc::garble_arithmetic<std::uint32_t>(ac.out, run, 0, std::span<const block>(labels).first(3), lookup, words),
                    Catch::Contains("3 labels"));
  CHECK_THROWS_WITH(gc::evaluate_arithmetic<std::uint32_t>(ac.out, labels, std::span<const std::uint32_t>(lookup).first(1), 0, words),
                    Catch::Contains("1 table values"));
  CHECK_THROWS_WITH(gc::evaluate_arithmetic<std::uint16_t>(ac.out, labels, narrow, 0, narrow_words),
                    Catch::Contains("wider than the value type"));
  gc::builder b;
  const gc::word x = b.input_word(8);
  gc::arithmetic_outputs out;
  gc::output_arithmetic(b, x, out);
  CHECK_THROWS_WITH(gc::output_arithmetic(b, b.input_word(16), out), Catch::Contains("among words of 8"));
  CHECK_THROWS_WITH(gc::output_arithmetic(b, gc::word{}, out), Catch::Contains("a word of 0 bits"));
}
