// proto/common.hpp: the OT generators of (inference, stage) pairs.
#include "pmdi/proto/common.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <set>
#include <utility>

namespace {

std::array<std::byte, 32> first_bytes(pmdi::prg g) {
  std::array<std::byte, 32> out{};
  g.fill(out.data(), out.size());
  return out;
}

pmdi::master_key test_master() {
  pmdi::master_key k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::byte>(i * 7 + 1);
  return k;
}

}  // namespace

// The seed was derived from inference * 4096 + stage, so
// (1, 4096) and (2, 0), or (2^52 + 1, 0) and (1, 0) (the product wraps), had
// the same OT pads.
TEST_CASE("ot_prg: pairs that shared a packed index get distinct generators", "[proto][ot_prg]") {
  using pmdi::proto::ot_prg;
  const auto m = test_master();
  const char* ctx = pmdi::proto::ot_context_client;
  const std::vector<std::pair<std::pair<std::uint64_t, std::size_t>, std::pair<std::uint64_t, std::size_t>>> collided{
      {{1, 4096}, {2, 0}},
      {{3, 4095 + 4096}, {4, 4095}},
      {{(std::uint64_t{1} << 52) + 1, 0}, {1, 0}},
      {{pmdi::proto::max_inference_id, 7}, {std::uint64_t{1} << 52, 7}}};
  for (const auto& [a, b] : collided) {
    INFO("(" << a.first << ", " << a.second << ") vs (" << b.first << ", " << b.second << ")");
    REQUIRE(a.first * 4096 + a.second == b.first * 4096 + b.second);  // the old derivation's input
    CHECK(first_bytes(ot_prg(m, a.first, a.second, ctx)) != first_bytes(ot_prg(m, b.first, b.second, ctx)));
  }
  // Deterministic, and every pair of a small grid distinct.
  CHECK(first_bytes(ot_prg(m, 5, 3, ctx)) == first_bytes(ot_prg(m, 5, 3, ctx)));
  std::set<std::array<std::byte, 32>> seen;
  for (std::uint64_t i = 1; i <= 40; ++i)
    for (std::size_t k = 0; k < 40; ++k) CHECK(seen.insert(first_bytes(ot_prg(m, i, k, ctx))).second);
  // The two OT contexts give different generators for the same pair.
  CHECK(first_bytes(ot_prg(m, 1, 0, pmdi::proto::ot_context_client)) !=
        first_bytes(ot_prg(m, 1, 0, pmdi::proto::ot_context_garbler)));
  // Apart from derive_seed() over the same master, context and first index.
  CHECK(pmdi::derive_seed_pair(m, 1, 0, ctx) != pmdi::derive_seed(m, 1, ctx));
}

TEST_CASE("ot_prg: ids outside the documented range are refused", "[proto][ot_prg]") {
  using pmdi::proto::ot_prg;
  const auto m = test_master();
  const char* ctx = pmdi::proto::ot_context_garbler;
  CHECK_THROWS_WITH(ot_prg(m, 0, 0, ctx), Catch::Contains("inference id 0 is outside [1, 2^53]"));
  CHECK_THROWS_WITH(ot_prg(m, pmdi::proto::max_inference_id + 1, 0, ctx),
                    Catch::Contains("inference id 9007199254740993 is outside [1, 2^53]"));
  CHECK_THROWS_WITH(ot_prg(m, ~std::uint64_t{0}, 0, ctx), Catch::Contains("is outside [1, 2^53]"));
  CHECK_THROWS_WITH(ot_prg(m, 1, pmdi::proto::max_stage_count, ctx),
                    Catch::Contains("stage index 65536 is outside [0, 2^16)"));
  CHECK_NOTHROW(ot_prg(m, pmdi::proto::max_inference_id, pmdi::proto::max_stage_count - 1, ctx));
}
