#include "pmdi/core/prg.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <set>

namespace {
pmdi::block from_hex(const char* h) {
  unsigned char b[16];
  for (int i = 0; i < 16; ++i) std::sscanf(h + 2 * i, "%2hhx", &b[i]);
  return pmdi::block::load(b);
}
}  // namespace

TEST_CASE("aes128: FIPS-197 appendix C.1 known answer", "[aes]") {
  const pmdi::aes128 aes(from_hex("000102030405060708090a0b0c0d0e0f"));
  CHECK(aes.encrypt(from_hex("00112233445566778899aabbccddeeff")) == from_hex("69c4e0d86a7b0430d8cdb78070b4c55a"));
  // batched path agrees with the single-block path
  std::vector<pmdi::block> v(19);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = pmdi::block::from_u64(i, 3 * i);
  auto w = v;
  aes.encrypt(w.data(), w.size());
  for (std::size_t i = 0; i < v.size(); ++i) CHECK(w[i] == aes.encrypt(v[i]));
}

TEST_CASE("prg: same seed same stream, different seed different stream", "[prg]") {
  pmdi::seed s1{}, s2{};
  s2[0] = std::byte{1};
  pmdi::prg a(s1), b(s1), c(s2);
  std::array<std::uint8_t, 1000> x{}, y{}, z{};
  a.fill(x.data(), 37);
  a.fill(x.data() + 37, x.size() - 37);  // split reads equal one read
  b.fill(y.data(), y.size());
  c.fill(z.data(), z.size());
  CHECK(x == y);
  CHECK(x != z);
  // the stream is AES_k(0), AES_k(1), ...
  const pmdi::aes128 aes(pmdi::block::load(s1.data()));
  CHECK(pmdi::block::load(y.data()) == aes.encrypt(pmdi::block::from_u64(0, 0)));
  CHECK(pmdi::block::load(y.data() + 16) == aes.encrypt(pmdi::block::from_u64(0, 1)));
}

TEST_CASE("prg: uniform stays in range and covers it", "[prg]") {
  pmdi::prg p(pmdi::seed{});
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const auto v = p.uniform(7);
    REQUIRE(v < 7);
    seen.insert(v);
  }
  CHECK(seen.size() == 7);
}

TEST_CASE("kdf: per-purpose seeds differ and are deterministic", "[prg]") {
  pmdi::master_key k{};
  const auto a = pmdi::derive_seed(k, 1, "pmdi-ot ");
  CHECK(a == pmdi::derive_seed(k, 1, "pmdi-ot "));
  CHECK(a != pmdi::derive_seed(k, 2, "pmdi-ot "));
  CHECK(a != pmdi::derive_seed(k, 1, "pmdi-msk"));
  CHECK_THROWS_AS(pmdi::derive_seed(k, 1, "short"), pmdi::usage_error);
}
