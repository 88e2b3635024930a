#include "pmdi/core/bytes.hpp"

#include <catch2/catch.hpp>

#include "pmdi/core/secret.hpp"

TEST_CASE("bytes: round trip and refusal of short or out-of-range input", "[bytes]") {
  pmdi::byte_writer w;
  w.put<std::uint32_t>(7);
  w.put<std::int64_t>(-2);
  const auto b = w.take();
  pmdi::byte_reader r(b, "test message");
  CHECK(r.get_in<std::uint32_t>(0, 10, "count") == 7);
  CHECK(r.get<std::int64_t>() == -2);
  r.expect_end();
  pmdi::byte_reader r2(b, "test message");
  CHECK_THROWS_WITH(r2.get_in<std::uint32_t>(0, 5, "count"), Catch::Contains("out of range"));
  pmdi::byte_reader r3(std::span<const std::byte>(b).first(3), "test message");
  CHECK_THROWS_AS(r3.get<std::uint32_t>(), pmdi::decode_error);
  pmdi::byte_reader r4(b, "test message");
  (void)r4.get<std::uint32_t>();
  CHECK_THROWS_WITH(r4.expect_end(), Catch::Contains("trailing"));
}

TEST_CASE("secret: ct_equal and self-zeroing vector", "[secret]") {
  std::array<std::byte, 4> a{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  auto b = a;
  CHECK(pmdi::ct_equal(a, b));
  b[3] = std::byte{5};
  CHECK_FALSE(pmdi::ct_equal(a, b));
  CHECK_FALSE(pmdi::ct_equal(a, std::span(b).first(3)));
  pmdi::secret_vector<std::uint64_t> s(4);
  s[0] = 42;
  s.wipe();
  CHECK(s.empty());
}

// Found by fuzz_messages: reading zero elements into an empty vector passed
// its null data() to memcpy (undefined behaviour; UBSan reports it in the
// sanitizer pass of the unit tests).
TEST_CASE("bytes: an empty array reads from an empty buffer", "[bytes]") {
  std::vector<std::uint64_t> none;
  pmdi::byte_reader r(std::span<const std::byte>{}, "empty");
  r.get_array(std::span<std::uint64_t>(none));
  CHECK(r.remaining() == 0);
  CHECK_NOTHROW(r.expect_end());
}
