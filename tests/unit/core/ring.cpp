#include "pmdi/core/ring.hpp"

#include <catch2/catch.hpp>

#include "pmdi/core/prg.hpp"

using R64 = pmdi::ring<64, 13>;
using R32 = pmdi::ring<32, 8>;

TEST_CASE("ring: encode/decode round trip and rounding", "[ring]") {
  CHECK(R64::encode(1.0) == 8192U);
  CHECK(R64::encode(-1.0) == static_cast<std::uint64_t>(-8192));
  CHECK(R64::decode(R64::encode(-3.375)) == -3.375);
  // half away from zero
  CHECK(R32::encode(0.5 / 256) == 1U);
  CHECK(R32::encode(-0.5 / 256) == static_cast<std::uint32_t>(-1));
  CHECK(R32::decode(0x80000000U) == -8388608.0);
}

TEST_CASE("ring: trunc is an arithmetic shift (floor division)", "[ring]") {
  CHECK(R64::trunc(R64::from_signed(7), 1) == 3U);
  CHECK(R64::trunc(R64::from_signed(-7), 1) == R64::from_signed(-4));
  CHECK(R32::trunc(R32::from_signed(-1), 8) == R32::from_signed(-1));
  CHECK(R32::trunc(R32::from_signed(-256), 8) == R32::from_signed(-1));
  CHECK(R32::trunc(R32::from_signed(255), 8) == 0U);
}

TEST_CASE("ring: additive sharing reconstructs, shares look uniform", "[ring]") {
  auto prg = pmdi::prg(pmdi::seed{});
  std::vector<std::uint64_t> x{0, 1, ~0ULL, 12345};
  for (std::size_t n : {1U, 2U, 5U}) {
    std::vector<std::vector<std::uint64_t>> s(n);
    pmdi::share<std::uint64_t>(x, s, prg);
    CHECK(pmdi::reconstruct<std::uint64_t>(s) == x);
    if (n > 1) CHECK(s[0] != x);
  }
}
