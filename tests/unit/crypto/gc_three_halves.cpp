// gc/three_halves.hpp: the solved garbler rows keep the evaluator's r uniform,
// one AND over every colour and input, random circuits and lane groups
// against plaintext evaluation, table sizes, tweaks and refusals.
#include <catch2/catch.hpp>

#include <bit>
#include <random>
#include <set>

#include "pmdi/core/prg.hpp"
#include "pmdi/crypto/gc/builder.hpp"
#include "pmdi/crypto/gc/three_halves.hpp"
#include "gc_test_circuits.hpp"

using namespace pmdi;
using pmdi::test::fixed_seed;

namespace {

struct garbled_run {
  std::vector<std::byte> tables;
  std::vector<block> output_zero;
  std::uint64_t tweak = 0;
};

garbled_run garble(gc::garbler& gk, const gc::circuit& c, std::span<const block> zero, prg& coins) {
  garbled_run r{std::vector<std::byte>(gc::three_halves::table_bytes(c)), std::vector<block>(c.outputs().size()), 0};
  r.tweak = gc::three_halves::garble(gk, c, zero, coins, r.tables, r.output_zero);
  return r;
}

// Garbles with fresh labels, evaluates on `bits`, checks every output label
// against its zero label (zero ^ value * delta) and returns the decoded bits.
std::vector<std::uint8_t> run_garbled(const gc::circuit& c, const std::vector<std::uint8_t>& bits, prg& g) {
  gc::garbler gk = gc::garbler::keygen(g);
  const auto zero = gc::keygen_zero_labels(g, c.inputs().size());
  const std::span<const block> z(zero.data(), zero.size());
  const garbled_run gb = garble(gk, c, z, g);
  std::vector<block> out(c.outputs().size());
  gc::three_halves::evaluate(c, gc::encode(z, bits, gk.delta()), gb.tables, gb.tweak, out);
  const auto plain = c.eval_plain(bits);
  for (std::size_t i = 0; i < out.size(); ++i)
    REQUIRE(out[i] == (plain[i] != 0 ? gb.output_zero[i] ^ gk.delta() : gb.output_zero[i]));
  return gc::decode(out, gc::decode_bits(gb.output_zero));
}

}  // namespace

TEST_CASE("three-halves: in every row of colours the evaluator's r is uniform over the garbler's coins",
          "[gc][three_halves]") {
  // The dicing: whatever the truth values (alpha, beta) of the colour-0
  // labels, the r an evaluator in row (i, j) decrypts takes each of its four
  // values for exactly one of the garbler's four coins, so R = Rp_ij + r S
  // says nothing of alpha and beta. r_ij = r ^ V_ij z (z: control bits 2-4).
  using gc::three_halves::detail::garbler_table;
  using gc::three_halves::detail::v_row;
  for (unsigned alpha = 0; alpha < 2; ++alpha)
    for (unsigned beta = 0; beta < 2; ++beta)
      for (unsigned i = 0; i < 2; ++i)
        for (unsigned j = 0; j < 2; ++j) {
          std::set<unsigned> seen;
          for (unsigned coin = 0; coin < 4; ++coin) {
            const auto& g = garbler_table[alpha | beta << 1 | coin << 2];
            REQUIRE((g.control & 3U) == coin);
            const unsigned z = g.control >> 2;
            unsigned r = coin;
            for (unsigned k = 0; k < 2; ++k)
              r ^= (static_cast<unsigned>(std::popcount(v_row(i, j, k) & z)) & 1U) << k;
            seen.insert(r);
          }
          CAPTURE(alpha, beta, i, j);
          CHECK(seen.size() == 4);
        }
}

TEST_CASE("three-halves: one AND over every colour of its labels and every input", "[gc][three_halves]") {
  gc::builder b;
  const auto x = b.input(), y = b.input();
  b.output(b.and_(x, y));
  const auto c = std::move(b).build();
  REQUIRE(c.and_count() == 1);
  REQUIRE(gc::three_halves::table_bytes(c) == 25);
  prg g(fixed_seed(1));
  for (int rep = 0; rep < 64; ++rep)  // 64 draws of delta, labels (so colours) and coins
    for (std::uint8_t a = 0; a < 2; ++a)
      for (std::uint8_t bb = 0; bb < 2; ++bb) {
        CAPTURE(rep, a, bb);
        CHECK(run_garbled(c, {a, bb}, g) == std::vector<std::uint8_t>{static_cast<std::uint8_t>(a & bb)});
      }
}

TEST_CASE("three-halves: random circuits agree with plaintext evaluation", "[gc][three_halves]") {
  std::mt19937_64 rng(777);
  prg g(fixed_seed(2));
  for (int rep = 0; rep < 30; ++rep) {
    const auto c = test::random_circuit(rng);
    for (int trial = 0; trial < 3; ++trial) {
      std::vector<std::uint8_t> bits(c.inputs().size());
      for (auto& v : bits) v = rng() & 1U;
      CHECK(run_garbled(c, bits, g) == c.eval_plain(bits));
    }
  }
}

TEST_CASE("three-halves: ReLU stage circuits in lane groups and one by one", "[gc][three_halves]") {
  constexpr unsigned l = 32, shift = 12;
  constexpr std::size_t n = 70;  // two full lane groups and a partial one
  const auto lanes = gc::relu_stage_circuit(l, shift, n);
  REQUIRE_FALSE(lanes.lane_groups().empty());
  gc::builder b;
  std::vector<gc::word> x(3 * n);
  for (auto& v : x) v = b.input_word(l);
  for (std::size_t i = 0; i < n; ++i) b.output_word(b.sub(b.relu(b.trunc(b.add(x[i], x[n + i]), shift)), x[2 * n + i]));
  const auto one_by_one = std::move(b).build(gc::circuit::lane_mode::off);
  REQUIRE(one_by_one.lane_groups().empty());
  prg g(fixed_seed(3));
  std::vector<std::uint8_t> bits(3 * n * l);
  for (auto& v : bits) v = g.next_bit();
  const auto want = lanes.eval_plain(bits);
  CHECK(run_garbled(lanes, bits, g) == want);
  CHECK(run_garbled(one_by_one, bits, g) == want);
  // 24 bytes and 5 bits per AND.
  CHECK(gc::three_halves::table_bytes(lanes) == 24 * lanes.and_count() + (5 * lanes.and_count() + 7) / 8);
}

TEST_CASE("three-halves: tweaks come from the garbler; each garbling takes fresh ones", "[gc][three_halves]") {
  gc::builder b;
  for (int i = 0; i < 3; ++i) b.output(b.and_(b.input(), b.input()));
  const auto c = std::move(b).build();
  prg g(fixed_seed(4));
  gc::garbler gk = gc::garbler::keygen(g);
  const auto zero = gc::keygen_zero_labels(g, 6);
  const std::span<const block> z(zero.data(), zero.size());
  prg coins_a(fixed_seed(5)), coins_b(fixed_seed(5));
  const garbled_run first = garble(gk, c, z, coins_a);
  const garbled_run second = garble(gk, c, z, coins_b);  // same labels and coins, next tweaks
  CHECK(first.tweak == 0);
  CHECK(second.tweak == 3);
  CHECK(gk.next_tweak() == 6);
  CHECK(first.tables != second.tables);
  // Under the wrong tweak the evaluator's labels are not the garbler's.
  const std::vector<std::uint8_t> bits{1, 1, 0, 1, 1, 0};
  std::vector<block> out(3);
  gc::three_halves::evaluate(c, gc::encode(z, bits, gk.delta()), second.tables, first.tweak, out);
  CHECK(out[0] != second.output_zero[0]);
  CHECK(out[0] != (second.output_zero[0] ^ gk.delta()));
}

TEST_CASE("three-halves: refusals of misuse", "[gc][three_halves]") {
  gc::builder b;
  b.output(b.and_(b.input(), b.input()));
  const auto c = std::move(b).build();
  prg g(fixed_seed(6));
  gc::garbler gk = gc::garbler::keygen(g);
  const auto zero = gc::keygen_zero_labels(g, 2);
  const std::span<const block> z(zero.data(), zero.size());
  std::vector<std::byte> short_tables(24), tables(25);
  std::vector<block> out(1);
  CHECK_THROWS_WITH(gc::three_halves::garble(gk, c, z, g, short_tables, out),
                    "gc::three_halves::garble: table span holds 24 bytes, the circuit needs 25");
  CHECK_THROWS_AS(gc::three_halves::garble(gk, c, z.first(1), g, tables, out), usage_error);
  CHECK_THROWS_WITH(gc::three_halves::evaluate(c, z, short_tables, 0, out),
                    "gc::three_halves::evaluate: table span holds 24 bytes, the circuit needs 25");
  CHECK(gk.next_tweak() == 0);  // refused before any tweak was taken
  gc::garbler moved = std::move(gk);
  CHECK_THROWS_AS(gc::three_halves::garble(gk, c, z, g, tables, out), usage_error);
}
