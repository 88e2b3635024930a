// crypto/ot.hpp: the three-party proxy OT of privateMDI (Fig. 3).
#include <catch2/catch.hpp>

#include "pmdi/core/prg.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"
#include "pmdi/crypto/ot.hpp"

using namespace pmdi;

namespace {
seed s(std::uint8_t v) { return seed{std::byte(v), std::byte(v + 1)}; }
}  // namespace

TEST_CASE("ot: example, one batch end to end", "[ot]") {
  prg client_ce(s(1)), evaluator_ce(s(1));   // client <-> evaluator seed
  prg garbler_ge(s(2)), evaluator_ge(s(2));  // garbler <-> evaluator seed
  prg gg(s(3));
  const block delta = gc::keygen_delta(gg);
  auto k0 = gc::keygen_zero_labels(gg, 3);
  const std::vector<std::uint8_t> choice{1, 0, 1};
  const auto e = ot::proxy_choose(choice, client_ce);
  CHECK(e.size() == 1);
  const auto pairs = ot::proxy_send(e, {k0.data(), 3}, delta, garbler_ge);
  const auto fwd = ot::proxy_forward(pairs, choice);
  const auto k = ot::proxy_receive(fwd, 3, evaluator_ce, evaluator_ge);
  CHECK(k[0] == (k0[0] ^ delta));
  CHECK(k[1] == k0[1]);
  CHECK(k[2] == (k0[2] ^ delta));
}

TEST_CASE("ot: correct for every (i, b), over several batches, and the client never sees k0 or k1", "[ot]") {
  prg client_ce(s(10)), evaluator_ce(s(10)), garbler_ge(s(20)), evaluator_ge(s(20)), gg(s(30));
  prg peek_ce(s(10));  // the same b stream, to classify each bit by b
  const block delta = gc::keygen_delta(gg);
  std::size_t seen[2][2] = {};
  for (std::size_t n : {1, 7, 8, 9, 64, 1000, 333}) {
    auto k0 = gc::keygen_zero_labels(gg, n);
    std::vector<std::uint8_t> choice(n);
    for (auto& c : choice) c = gg.next_bit();
    const auto b = ot::draw_mask_bits(peek_ce, n);
    const auto e = ot::proxy_choose(choice, client_ce);
    REQUIRE(e.size() == ot::packed_bytes(n));
    const auto pairs = ot::proxy_send(e, {k0.data(), n}, delta, garbler_ge);
    const auto fwd = ot::proxy_forward(pairs, choice);
    const auto k = ot::proxy_receive(fwd, n, evaluator_ce, evaluator_ge);
    for (std::size_t j = 0; j < n; ++j) {
      const bool bj = ot::packed_bit({b.data(), b.size()}, j);
      ++seen[choice[j]][bj];
      CHECK(ot::packed_bit(e, j) == ((choice[j] != 0) != bj));
      const block k1 = k0[j] ^ delta;
      CHECK(k[j] == (choice[j] ? k1 : k0[j]));
      // The client's view: e, the pair and what it forwards; none is a label.
      for (const block& v : {pairs[2 * j], pairs[2 * j + 1], fwd[j]}) {
        CHECK(!(v == k0[j]));
        CHECK(!(v == k1));
      }
    }
  }
  for (int i = 0; i < 2; ++i)
    for (int b = 0; b < 2; ++b) CHECK(seen[i][b] > 100);
}

TEST_CASE("ot: malformed messages are refused", "[ot]") {
  prg ge(s(5)), ce(s(6)), gg(s(7));
  const block delta = gc::keygen_delta(gg);
  std::vector<block> k0(10);
  std::vector<std::uint8_t> e_short(1), e_pad{0, 0x04};  // bit 10 is padding
  CHECK_THROWS_AS(ot::proxy_send(e_short, k0, delta, ge), decode_error);
  CHECK_THROWS_AS(ot::proxy_send(e_pad, k0, delta, ge), decode_error);
  std::vector<std::uint8_t> choice(10, 0);
  CHECK_THROWS_AS(ot::proxy_forward(std::vector<block>(19), choice), decode_error);
  CHECK_THROWS_AS(ot::proxy_receive(std::vector<block>(9), 10, ce, ge), decode_error);
  std::vector<std::uint8_t> bad_choice{2};
  CHECK_THROWS_AS(ot::proxy_choose(bad_choice, ce), usage_error);
}

TEST_CASE("ot: the PRG streams are consumed in the documented order", "[ot]") {
  // proxy_send's pads are draw_pads(ge, n) of an identical PRG; proxy_choose's
  // masks are draw_mask_bits(ce, n); the span and vector forms agree.
  const std::size_t n = 600;  // crosses the 256-bit chunks, not a multiple of 8
  prg ge(s(40)), ge_copy(s(40)), ce(s(41)), ce_copy(s(41)), gg(s(42));
  prg ge2(s(40)), ce2(s(41)), ce3(s(41)), ge3(s(40));
  const block delta = gc::keygen_delta(gg);
  auto k0 = gc::keygen_zero_labels(gg, n);
  std::vector<std::uint8_t> choice(n);
  for (auto& c : choice) c = gg.next_bit();
  const auto e = ot::proxy_choose(choice, ce);
  const auto b = ot::draw_mask_bits(ce_copy, n);
  const auto pairs = ot::proxy_send(e, {k0.data(), n}, delta, ge);
  const auto u = ot::draw_pads(ge_copy, n);
  for (std::size_t k = 0; k < n; ++k) {
    const bool ek = ot::packed_bit(e, k);
    CHECK(ek == ((choice[k] != 0) != ot::packed_bit({b.data(), b.size()}, k)));
    CHECK(pairs[2 * k] == (k0[k] ^ u[2 * k + (ek ? 1 : 0)]));
    CHECK(pairs[2 * k + 1] == (k0[k] ^ delta ^ u[2 * k + (ek ? 0 : 1)]));
  }
  std::vector<block> pairs2(2 * n), fwd(n), got(n);
  (void)ot::proxy_choose(choice, ce2);
  ot::proxy_send(e, {k0.data(), n}, delta, ge2, pairs2);
  CHECK(pairs2 == pairs);
  ot::proxy_forward(pairs, choice, fwd);
  ot::proxy_receive(fwd, ce3, ge3, got);
  for (std::size_t k = 0; k < n; ++k) CHECK(got[k] == (choice[k] ? k0[k] ^ delta : k0[k]));
}
