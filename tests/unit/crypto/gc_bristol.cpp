// gc/bristol.hpp: generated Bristol Fashion circuits (adder, comparator,
// MAND, INV, EQ, EQW) parsed, garbled and checked; malformed files refused
// with the line number.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>

#include "pmdi/core/prg.hpp"
#include "pmdi/crypto/gc/bristol.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"

using namespace pmdi;

namespace {

struct writer {
  unsigned n_in, n_out, next;
  std::vector<std::string> lines;
  unsigned internal() { return next++; }
  void g2(unsigned a, unsigned b, unsigned o, const char* op) {
    lines.push_back("2 1 " + std::to_string(a) + " " + std::to_string(b) + " " + std::to_string(o) + " " + op);
  }
  void g1(unsigned a, unsigned o, const char* op) {
    lines.push_back("1 1 " + std::to_string(a) + " " + std::to_string(o) + " " + op);
  }
  std::string text(const std::string& in_sizes, const std::string& out_sizes, unsigned total_out) const {
    std::ostringstream s;
    s << lines.size() << " " << next + total_out << "\n" << in_sizes << "\n" << out_sizes << "\n\n";
    for (auto& l : lines) s << l << "\n";
    return s.str();
  }
};

// n-bit adder x + y mod 2^n; the output wires are the last n. Uses EQ for the
// zero carry. Internal wires are numbered from 2n; outputs are renumbered.
std::string adder(unsigned n) {
  const unsigned internal = 1 + n + 4 * (n - 1);
  const unsigned out0 = 2 * n + internal;
  writer w{2 * n, n, 2 * n, {}};
  unsigned c = w.internal();
  w.lines.push_back("1 1 0 " + std::to_string(c) + " EQ");
  for (unsigned i = 0; i < n; ++i) {
    const unsigned t = w.internal();
    w.g2(i, n + i, t, "XOR");
    w.g2(t, c, out0 + i, "XOR");
    if (i + 1 < n) {
      const unsigned u = w.internal(), v = w.internal(), m = w.internal(), c2 = w.internal();
      w.g2(i, c, u, "XOR");
      w.g2(n + i, c, v, "XOR");
      w.g2(u, v, m, "AND");
      w.g2(c, m, c2, "XOR");
      c = c2;
    }
  }
  return w.text("2 " + std::to_string(n) + " " + std::to_string(n), "1 " + std::to_string(n), n);
}

// Unsigned x < y, one output bit; uses EQ 1, INV and EQW.
std::string less_than(unsigned n) {
  writer w{2 * n, 1, 2 * n, {}};
  unsigned c = w.internal();
  w.lines.push_back("1 1 1 " + std::to_string(c) + " EQ");
  for (unsigned i = 0; i < n; ++i) {
    const unsigned yi = w.internal(), u = w.internal(), v = w.internal(), m = w.internal(), c2 = w.internal();
    w.g1(n + i, yi, "INV");
    w.g2(i, c, u, "XOR");
    w.g2(yi, c, v, "XOR");
    w.g2(u, v, m, "AND");
    w.g2(c, m, c2, "XOR");
    c = c2;
  }
  const unsigned nc = w.internal();
  w.g1(c, nc, "INV");
  w.g1(nc, w.next, "EQW");  // the output wire is the last one
  return w.text("2 " + std::to_string(n) + " " + std::to_string(n), "1 1", 1);
}

// x AND y bitwise with one MAND line.
std::string mand(unsigned n) {
  std::ostringstream s;
  s << "1 " << 4 * n << "\n2 " << n << " " << n << "\n1 " << n << "\n\n" << 2 * n << " " << n;
  for (unsigned i = 0; i < 2 * n; ++i) s << " " << i;
  for (unsigned i = 0; i < n; ++i) s << " " << 3 * n + i;
  s << " MAND\n";
  return s.str();
}

std::uint64_t garbled_eval(const gc::bristol_circuit& bc, std::uint64_t x, std::uint64_t y, unsigned n, prg& g) {
  std::vector<std::uint64_t> in{x, y};
  const auto bits = gc::words_to_bits<std::uint64_t>(in, n);
  const block delta = gc::keygen_delta(g);
  auto zero = gc::keygen_zero_labels(g, bits.size());
  std::span<const block> z(zero.data(), zero.size());
  auto gb = gc::garbler::known_answer(delta, 3).garble(bc.c, z);
  auto out = gc::decode(gc::evaluate(bc.c, gc::encode(z, bits, delta), gb.tables, 3),
                        gc::decode_bits(gb.output_zero_labels));
  REQUIRE(out == bc.c.eval_plain(bits));
  return gc::bits_to_words<std::uint64_t>(out, static_cast<unsigned>(out.size()))[0];
}

void expect_refusal(const std::string& text, const std::string& needle) {
  CAPTURE(text);
  try {
    (void)gc::parse_bristol(text);
    FAIL("accepted a malformed circuit");
  } catch (const decode_error& e) {
    const std::string m = e.what();
    CAPTURE(m);
    CHECK(m.find(needle) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("bristol: generated adders, comparators and MAND agree with integers", "[gc][bristol]") {
  std::mt19937_64 rng(3);
  prg g(seed{std::byte(7)});
  for (unsigned n : {1U, 8U, 32U, 64U}) {
    const std::uint64_t mask = n == 64 ? ~0ULL : (1ULL << n) - 1;
    const auto add = gc::parse_bristol(adder(n));
    CHECK(add.input_sizes == std::vector<std::size_t>{n, n});
    CHECK(add.output_sizes == std::vector<std::size_t>{n});
    CHECK(add.c.and_count() == n - 1);
    const auto lt = gc::parse_bristol(less_than(n));
    const auto mnd = gc::parse_bristol(mand(n));
    CHECK(mnd.c.and_count() == n);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> cases{{0, 0}, {mask, 1}, {mask, mask}, {1, 0}, {0, 1}};
    for (int i = 0; i < 10; ++i) cases.emplace_back(rng() & mask, rng() & mask);
    for (auto [x, y] : cases) {
      CAPTURE(n, x, y);
      CHECK(garbled_eval(add, x, y, n, g) == ((x + y) & mask));
      CHECK(garbled_eval(lt, x, y, n, g) == (x < y ? 1U : 0U));
      CHECK(garbled_eval(mnd, x, y, n, g) == (x & y));
    }
  }
}

TEST_CASE("bristol: malformed files are refused with the line number", "[gc][bristol]") {
  const std::string ok = "1 3\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n";
  REQUIRE_NOTHROW(gc::parse_bristol(ok));
  expect_refusal("", "line 0: empty file");
  expect_refusal("1\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n", "line 1: header");
  expect_refusal("1 x\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n", "line 1: expected a non-negative integer");
  expect_refusal("1 3\n2 1\n1 1\n\n2 1 0 1 2 AND\n", "line 2: inputs line declares 2 values but lists 1");
  expect_refusal("1 3\n2 1 1\n1 1 1\n\n2 1 0 1 2 AND\n", "line 3: outputs line declares 1 values but lists 2");
  expect_refusal("1 3\n2 2 2\n1 1\n\n2 1 0 1 2 AND\n", "line 2: inputs need more wires");
  expect_refusal("1 3\n2 1 1\n1 1\n\n2 1 0 1 2 NAND\n", "line 5: unknown gate 'NAND'");
  expect_refusal("1 3\n2 1 1\n1 1\n\n2 1 0 7 2 AND\n", "line 5: wire 7 out of range");
  expect_refusal("1 3\n2 1 1\n1 1\n\n2 1 0 1 9 XOR\n", "line 5: wire 9 out of range");
  expect_refusal("2 3\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n", "line 5: file ends after 1 gates, the header declares 2");
  expect_refusal("1 3\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n1 1 0 2 INV\n", "line 6: extra content");
  expect_refusal("1 3\n2 1 1\n1 1\n\n2 1 0 1 AND\n", "line 5: gate lists 2 wires");
  expect_refusal("1 3\n2 1 1\n1 1\n\n1 1 0 1 2 AND\n", "line 5: gate lists 3 wires, its counts say 1 + 1");
  expect_refusal("1 3\n2 1 1\n1 1\n\n1 1 0 2 AND\n", "line 5: AND takes 2 input(s)");
  expect_refusal("1 3\n2 1 1\n1 1\n\n1 1 2 2 INV\n", "line 5: wire 2 is read before it is assigned");
  expect_refusal("1 3\n2 1 1\n1 1\n\n1 1 0 1 INV\n", "line 5: wire 1 is assigned twice");
  expect_refusal("1 3\n2 1 1\n1 1\n\n1 1 2 2 EQ\n", "line 5: EQ constant must be 0 or 1");
  expect_refusal("1 4\n2 1 1\n1 1\n\n3 1 0 1 2 3 MAND\n", "line 5: MAND takes 2k inputs");
  expect_refusal("2 4\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n1 1\n", "line 6: a gate line needs");
  expect_refusal("1 4\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n", "output wire 3 is never assigned");
}

// Headers that claim more than the file holds are refused before anything is
// allocated (found by fuzz_bristol: 35 bytes declaring 777,757,773 wires made
// the parser allocate 3.1 GB; 477,777,777 took 13 s).
TEST_CASE("bristol: a header cannot claim more wires or inputs than the file holds", "[gc][bristol]") {
  expect_refusal("1 777757773\n2 1 1\n0\n\n2 1 0 0 2 AND\n",
                 "line 3: the header's 777757773 wires cannot be 2 inputs and gate outputs in a file of");
  expect_refusal("1 40000000\n1 20000000\n1 1\n\n2 1 0 1 20000000 AND\n", "20000000 input bits: more than the 16777216");
  for (const char* f : {"oom-777757773-wires", "slow-477777777-wires"}) {
    std::ifstream in(std::string(PMDI_TEST_DATA) + "/../fuzz/corpus/bristol/" + f, std::ios::binary);
    REQUIRE(in);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK_THROWS_AS(pmdi::gc::parse_bristol(text), pmdi::decode_error);
  }
  // a real circuit's ratio of wires to bytes passes: 16 AND gates in a row
  std::string chain = "16 18\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n";
  for (int w = 2; w < 17; ++w) chain += "2 1 " + std::to_string(w) + " 0 " + std::to_string(w + 1) + " AND\n";
  CHECK_NOTHROW(pmdi::gc::parse_bristol(chain));
}
