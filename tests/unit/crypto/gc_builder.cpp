// gc/builder.hpp: each word helper, garbled and evaluated, against plain
// integer arithmetic on random and edge values, l = 32 and 64.
#include <catch2/catch.hpp>

#include <algorithm>
#include <climits>
#include <functional>
#include <limits>
#include <random>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/crypto/gc/builder.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"

using namespace pmdi;

namespace {

// Garbles c, evaluates on the given input words (l bits each), decodes the
// output bits into words of out_l bits.
std::vector<std::uint64_t> run(const gc::circuit& c, const std::vector<std::uint64_t>& in, unsigned l, unsigned out_l,
                               prg& g) {
  const auto bits = gc::words_to_bits<std::uint64_t>(in, l);
  const block delta = gc::keygen_delta(g);
  auto zero = gc::keygen_zero_labels(g, bits.size());
  std::span<const block> z(zero.data(), zero.size());
  auto gb = gc::garbler::known_answer(delta, 77).garble(c, z);
  auto out = gc::evaluate(c, gc::encode(z, bits, delta), gb.tables, 77);
  const auto dec = gc::decode(out, gc::decode_bits(gb.output_zero_labels));
  REQUIRE(dec == c.eval_plain(bits));
  return gc::bits_to_words<std::uint64_t>(dec, out_l);
}

std::vector<std::uint64_t> samples(unsigned l, std::mt19937_64& rng) {
  const std::uint64_t mask = l == 64 ? ~0ULL : (1ULL << l) - 1;
  const std::uint64_t min = 1ULL << (l - 1), max = min - 1;
  std::vector<std::uint64_t> v{0, 1, 2, mask, mask - 1, min, max, min + 1, max - 1};
  for (int i = 0; i < 12; ++i) v.push_back(rng() & mask);
  for (int i = 0; i < 4; ++i) v.push_back((rng() & 0xff) & mask);
  for (int i = 0; i < 4; ++i) v.push_back((0 - (rng() & 0xff)) & mask);
  return v;
}

std::int64_t to_signed(std::uint64_t v, unsigned l) {
  if (l == 64) return static_cast<std::int64_t>(v);
  return static_cast<std::int64_t>(v << (64 - l)) >> (64 - l);
}

using binop = std::function<gc::word(gc::builder&, const gc::word&, const gc::word&)>;

// Checks op on all pairs of samples with one circuit holding all the pairs.
void check_binary(unsigned l, unsigned out_l, const binop& op,
                  const std::function<std::uint64_t(std::uint64_t, std::uint64_t)>& ref) {
  std::mt19937_64 rng(l * 1000 + out_l);
  prg g(seed{std::byte(l), std::byte(out_l)});
  const auto v = samples(l, rng);
  gc::builder b;
  std::vector<std::uint64_t> in, want;
  for (auto x : v)
    for (auto y : v) {
      const auto wx = b.input_word(l), wy = b.input_word(l);
      b.output_word(op(b, wx, wy));
      in.push_back(x), in.push_back(y);
      want.push_back(ref(x, y));
    }
  const auto c = std::move(b).build();
  CHECK(run(c, in, l, out_l, g) == want);
}

template <unsigned L>
void check_all_helpers() {
  const std::uint64_t mask = L == 64 ? ~0ULL : (1ULL << L) - 1;
  auto s = [](std::uint64_t v) { return to_signed(v, L); };
  SECTION("add") {
    check_binary(L, L, [](auto& b, auto& x, auto& y) { return b.add(x, y); },
                 [&](auto x, auto y) { return (x + y) & mask; });
  }
  SECTION("sub") {
    check_binary(L, L, [](auto& b, auto& x, auto& y) { return b.sub(x, y); },
                 [&](auto x, auto y) { return (x - y) & mask; });
  }
  SECTION("less_signed") {
    check_binary(L, 1, [](auto& b, auto& x, auto& y) { return gc::word{b.less_signed(x, y)}; },
                 [&](auto x, auto y) { return std::uint64_t{s(x) < s(y)}; });
  }
  SECTION("less_unsigned") {
    check_binary(L, 1, [](auto& b, auto& x, auto& y) { return gc::word{b.less_unsigned(x, y)}; },
                 [&](auto x, auto y) { return std::uint64_t{x < y}; });
  }
  SECTION("equal") {
    check_binary(L, 1, [](auto& b, auto& x, auto& y) { return gc::word{b.equal(x, y)}; },
                 [&](auto x, auto y) { return std::uint64_t{x == y}; });
  }
  SECTION("max") {
    check_binary(L, L, [](auto& b, auto& x, auto& y) { return b.max(x, y); },
                 [&](auto x, auto y) { return s(x) < s(y) ? y : x; });
  }
  SECTION("mux (selector = lsb of y)") {
    check_binary(L, L, [](auto& b, auto& x, auto& y) { return b.mux(y[0], x, y); },
                 [&](auto x, auto y) { return (y & 1) ? y : x; });
  }
  SECTION("relu") {
    check_binary(L, L, [](auto& b, auto& x, auto&) { return b.relu(x); },
                 [&](auto x, auto) { return s(x) < 0 ? 0 : x; });
  }
  SECTION("trunc, relu of trunc and the stage circuit match ring<L,F>::trunc") {
    using R = ring<L, 12>;
    for (unsigned sh : {1U, 12U, L - 1}) {
      check_binary(L, L, [sh](auto& b, auto& x, auto&) { return b.trunc(x, sh); },
                   [&](auto x, auto) { return std::uint64_t{R::trunc(static_cast<typename R::value_type>(x), sh)}; });
      // relu(trunc(a + w, s)) - r with r = w (any value works as mask)
      check_binary(L, L,
                   [sh](auto& b, auto& x, auto& y) { return b.sub(b.relu(b.trunc(b.add(x, y), sh)), y); },
                   [&](auto x, auto y) {
                     const auto t = R::trunc(static_cast<typename R::value_type>((x + y) & mask), sh);
                     const auto r = R::to_signed(t) < 0 ? typename R::value_type{0} : t;
                     return std::uint64_t(static_cast<typename R::value_type>(r - y));
                   });
    }
  }
  SECTION("constants fold to no gates") {
    gc::builder b;
    const auto k = b.add(b.constant(5, L), b.constant(7, L));
    b.output_word(b.relu(k));
    CHECK(b.and_count() == 0);
    const auto c = std::move(b).build();
    prg g(seed{});
    CHECK(run(c, {}, L, L, g) == std::vector<std::uint64_t>{12});
  }
}


// Plaintext reference of relu(trunc(a + w, s)) - r over Z_2^l (l <= 64).
std::uint64_t relu_stage_ref(std::uint64_t a, std::uint64_t w, std::uint64_t r, unsigned l, unsigned s) {
  const std::uint64_t mask = l == 64 ? ~0ULL : (1ULL << l) - 1;
  const std::int64_t t = to_signed((a + w) & mask, l) >> s;  // arithmetic shift
  return (static_cast<std::uint64_t>(t < 0 ? 0 : t) - r) & mask;
}

// The ReLU stage circuit on every (a, w) pair of edge values and random r,
// bit-exact against the reference; returns the circuit's ANDs per ReLU.
double check_relu_stage_edges(unsigned l, unsigned s) {
  std::mt19937_64 rng(l * 7 + s);
  const std::uint64_t mask = l == 64 ? ~0ULL : (1ULL << l) - 1;
  const std::uint64_t min = 1ULL << (l - 1), max = min - 1;
  const std::uint64_t low = (1ULL << s) - 1;  // carries out of the dropped bits
  std::vector<std::uint64_t> edge{0, 1, mask, mask - 1, min, max, min + 1, max - 1, low, low + 1, (mask - low) & mask,
                                  1ULL << s, (0 - (1ULL << s)) & mask, rng() & mask, rng() & mask};
  std::vector<std::uint64_t> a, w, r;
  for (auto x : edge)
    for (auto y : edge) a.push_back(x), w.push_back(y);
  for (std::size_t i = 0; i < a.size(); ++i) r.push_back(i < edge.size() ? edge[i] : rng() & mask);
  const std::size_t n = a.size();
  const auto c = gc::relu_stage_circuit(l, s, n);
  std::vector<std::uint64_t> in = a;
  in.insert(in.end(), w.begin(), w.end());
  in.insert(in.end(), r.begin(), r.end());
  prg g(seed{std::byte(l), std::byte(s)});
  const auto got = run(c, in, l, l, g);
  for (std::size_t i = 0; i < n; ++i) {
    CAPTURE(l, s, a[i], w[i], r[i]);
    CHECK(got[i] == relu_stage_ref(a[i], w[i], r[i], l, s));
  }
  return static_cast<double>(c.and_count()) / static_cast<double>(n);
}
}  // namespace

TEST_CASE("gc builder: example, relu of a sum", "[gc][builder]") {
  gc::builder b;
  const auto x = b.input_word(32), y = b.input_word(32);
  b.output_word(b.relu(b.add(x, y)));
  const auto c = std::move(b).build();
  CHECK(c.and_count() == 31 + 31);
  prg g(seed{});
  CHECK(run(c, {5, 0xfffffff0U}, 32, 32, g) == std::vector<std::uint64_t>{0});
  CHECK(run(c, {20, 0xfffffff0U}, 32, 32, g) == std::vector<std::uint64_t>{4});
}

TEST_CASE("gc builder: helpers at l = 32", "[gc][builder]") { check_all_helpers<32>(); }
TEST_CASE("gc builder: helpers at l = 64", "[gc][builder]") { check_all_helpers<64>(); }

TEST_CASE("gc builder: max and argmax over lists", "[gc][builder]") {
  std::mt19937_64 rng(9);
  prg g(seed{std::byte(9)});
  for (unsigned l : {32U, 64U})
    for (std::size_t n : {1, 2, 3, 5, 10, 16}) {
      const std::uint64_t mask = l == 64 ? ~0ULL : (1ULL << l) - 1;
      for (int rep = 0; rep < 6; ++rep) {
        std::vector<std::uint64_t> v(n);
        for (auto& x : v) x = rng() & mask;
        if (rep == 1) std::fill(v.begin(), v.end(), 1ULL << (l - 1));  // all INT_MIN: index 0
        if (rep == 2 && n > 2) v[n - 1] = v[1] = mask >> 1;           // tie of INT_MAX: first wins
        if (rep == 3) for (auto& x : v) x = rng() % 3;                 // many ties
        gc::builder b;
        std::vector<gc::word> w;
        for (std::size_t i = 0; i < n; ++i) w.push_back(b.input_word(l));
        b.output_word(b.max(w));
        const auto idx = b.argmax(w);
        CHECK(idx.size() == gc::index_bits(n));
        b.output_word(idx);
        const auto c = std::move(b).build();
        std::size_t best = 0;
        for (std::size_t i = 1; i < n; ++i)
          if (to_signed(v[i], l) > to_signed(v[best], l)) best = i;
        const auto bits = gc::words_to_bits<std::uint64_t>(v, l);
        const block delta = gc::keygen_delta(g);
        auto zero = gc::keygen_zero_labels(g, bits.size());
        std::span<const block> z(zero.data(), zero.size());
        auto gb = gc::garbler::known_answer(delta, 0).garble(c, z);
        auto out = gc::decode(gc::evaluate(c, gc::encode(z, bits, delta), gb.tables, 0),
                              gc::decode_bits(gb.output_zero_labels));
        std::vector<std::uint8_t> mx(out.begin(), out.begin() + l), ix(out.begin() + l, out.end());
        CAPTURE(l, n, rep);
        CHECK(gc::bits_to_words<std::uint64_t>(mx, l)[0] == v[best]);
        CHECK(gc::bits_to_words<std::uint64_t>(ix, static_cast<unsigned>(ix.size()))[0] == best);
      }
    }
}

TEST_CASE("gc builder: relu stage circuit C(a, w, r) = relu(trunc(a + w, s)) - r", "[gc][builder]") {
  using R = ring<32, 12>;
  const std::size_t n = 300;
  const auto c = gc::relu_stage_circuit(32, 12, n);
  CHECK(c.inputs().size() == 3 * n * 32);
  CHECK(c.outputs().size() == n * 32);
  CHECK(c.and_count() <= n * 3 * 32);
  prg g(seed{std::byte(42)});
  std::vector<std::uint32_t> a(n), w(n), r(n);
  for (std::size_t i = 0; i < n; ++i) a[i] = g.next<std::uint32_t>(), w[i] = g.next<std::uint32_t>(), r[i] = g.next<std::uint32_t>();
  a[0] = 0, w[0] = 0;
  a[1] = 0x80000000U, w[1] = 0;
  a[2] = 0x7fffffffU, w[2] = 0;
  a[3] = 0xffffffffU, w[3] = 0;
  std::vector<std::uint32_t> in;
  in.insert(in.end(), a.begin(), a.end());
  in.insert(in.end(), w.begin(), w.end());
  in.insert(in.end(), r.begin(), r.end());
  const auto bits = gc::words_to_bits<std::uint32_t>(in, 32);
  const block delta = gc::keygen_delta(g);
  auto zero = gc::keygen_zero_labels(g, bits.size());
  std::span<const block> z(zero.data(), zero.size());
  auto gb = gc::garbler::known_answer(delta, 1).garble(c, z);
  const auto got = gc::bits_to_words<std::uint32_t>(
      gc::decode(gc::evaluate(c, gc::encode(z, bits, delta), gb.tables, 1), gc::decode_bits(gb.output_zero_labels)), 32);
  for (std::size_t i = 0; i < n; ++i) {
    const auto t = R::trunc(a[i] + w[i], 12);
    const std::uint32_t want = (R::to_signed(t) < 0 ? 0U : t) - r[i];
    CAPTURE(i);
    CHECK(got[i] == want);
  }
}

TEST_CASE("gc builder: max-pool and argmax stage circuits against ring<L,F>", "[gc][builder]") {
  using R = ring<32, 8>;
  prg g(seed{std::byte(43)});
  auto run_stage = [&](const gc::circuit& c, const std::vector<std::uint32_t>& in) {
    const auto bits = gc::words_to_bits<std::uint32_t>(in, 32);
    const block delta = gc::keygen_delta(g);
    auto zero = gc::keygen_zero_labels(g, bits.size());
    std::span<const block> z(zero.data(), zero.size());
    auto gb = gc::garbler::known_answer(delta, 9).garble(c, z);
    return gc::bits_to_words<std::uint32_t>(
        gc::decode(gc::evaluate(c, gc::encode(z, bits, delta), gb.tables, 9), gc::decode_bits(gb.output_zero_labels)),
        32);
  };
  {
    const std::size_t n_out = 50, window = 4;
    const auto c = gc::maxpool_stage_circuit(32, 8, n_out, window);
    std::vector<std::uint32_t> a(n_out * window), w(n_out * window), r(n_out);
    for (auto& x : a) x = g.next<std::uint32_t>();
    for (auto& x : w) x = g.next<std::uint32_t>();
    for (auto& x : r) x = g.next<std::uint32_t>();
    std::vector<std::uint32_t> in = a;
    in.insert(in.end(), w.begin(), w.end());
    in.insert(in.end(), r.begin(), r.end());
    const auto got = run_stage(c, in);
    for (std::size_t j = 0; j < n_out; ++j) {
      std::int32_t m = INT32_MIN;
      for (std::size_t k = 0; k < window; ++k)
        m = std::max(m, R::to_signed(R::trunc(a[j * window + k] + w[j * window + k], 8)));
      CHECK(got[j] == static_cast<std::uint32_t>(m) - r[j]);
    }
  }
  for (int rep = 0; rep < 20; ++rep) {
    const std::size_t n = 10;
    const auto c = gc::argmax_stage_circuit(32, 8, n);
    std::vector<std::uint32_t> a(n), w(n);
    for (auto& x : a) x = g.next<std::uint32_t>();
    for (auto& x : w) x = g.next<std::uint32_t>();
    if (rep == 0) std::fill(a.begin(), a.end(), 0), std::fill(w.begin(), w.end(), 0);  // tie: index 0
    const std::uint32_t r = g.next<std::uint32_t>();
    std::vector<std::uint32_t> in = a;
    in.insert(in.end(), w.begin(), w.end());
    in.push_back(r);
    std::size_t best = 0;
    for (std::size_t k = 1; k < n; ++k)
      if (R::to_signed(R::trunc(a[k] + w[k], 8)) > R::to_signed(R::trunc(a[best] + w[best], 8))) best = k;
    CHECK(run_stage(c, in) == std::vector<std::uint32_t>{static_cast<std::uint32_t>(best) - r});
  }
}

TEST_CASE("gc builder: relu stage at edge values, l = 32 and 64, and its AND count", "[gc][builder]") {
  // 31 carries (12 into the dropped bits, 19 above), 19 masks, 31 borrows.
  CHECK(check_relu_stage_edges(32, 12) == 81.0);
  CHECK(check_relu_stage_edges(32, 0) == 31.0 + 31.0 + 31.0);
  CHECK(check_relu_stage_edges(64, 16) == 63.0 + 47.0 + 63.0);
  CHECK(check_relu_stage_edges(64, 63) == 62.0);  // relu(sign copies) = 0: the add is dead, 0 - r has bit 0 free
}

TEST_CASE("gc builder: comparisons of truncated words skip the sign copies", "[gc][builder]") {
  // max of two trunc(., s) words compares and selects l - s bits, not l.
  for (unsigned l : {32U, 64U})
    for (unsigned sh : {0U, 8U, 12U}) {
      gc::builder b;
      const auto x = b.trunc(b.input_word(l), sh), y = b.trunc(b.input_word(l), sh);
      b.output_word(b.max(x, y));
      const auto c = std::move(b).build();
      CAPTURE(l, sh);
      CHECK(c.and_count() == 2 * (l - sh));
      std::mt19937_64 rng(l + sh);
      prg g(seed{std::byte(l + sh)});
      const std::uint64_t mask = l == 64 ? ~0ULL : (1ULL << l) - 1;
      auto v = samples(l, rng);
      std::vector<std::uint64_t> in, want;
      for (auto p : v)
        for (auto q : v) {
          const auto tp = static_cast<std::uint64_t>(to_signed(p, l) >> sh) & mask;
          const auto tq = static_cast<std::uint64_t>(to_signed(q, l) >> sh) & mask;
          in = {p, q};
          want = {to_signed(tp, l) < to_signed(tq, l) ? tq : tp};
          CHECK(run(c, in, l, l, g) == want);
        }
    }
  // A max-pool stage over 2x2 windows at l = 32, s = 12: 4 adds (31 each),
  // 3 maxes (2 * 20 each), one subtraction (31).
  CHECK(gc::maxpool_stage_circuit(32, 12, 3, 4).and_count() == 3 * (4 * 31 + 3 * 40 + 31));
}

TEST_CASE("gc builder: build drops gates no output reads", "[gc][builder]") {
  gc::builder b;
  const auto x = b.input_word(8), y = b.input_word(8);
  const auto sum = b.add(x, y);  // 7 ANDs
  (void)b.and_(x[0], y[1]);      // dead
  b.output_word(b.trunc(sum, 4));
  CHECK(b.and_count() == 8);
  const auto c = std::move(b).build();
  CHECK(c.and_count() == 7);
  std::size_t xors = 0;
  for (const auto& g : c.gates()) xors += g.kind == gc::gate_kind::xor_;
  CHECK(xors == 1 + 6 * 4 + 2 - 4);  // bit 0, bits 1..6, bit 7; the four dropped sum bits cost no XOR
}
