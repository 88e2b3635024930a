// The secure channel's record cipher (AES-256-GCM): a known answer, round
// trips at every size class, in place too, and refusals of anything but the
// sealed record.
#include <catch2/catch.hpp>

#include <string_view>

#include "pmdi/net/record_cipher.hpp"

namespace net = pmdi::net;
using net::detail::record_cipher;

namespace {

net::record_key counting_key() {
  net::record_key k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(i);
  return k;
}

std::vector<std::byte> bytes_of(std::string_view s) {
  std::vector<std::byte> b(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) b[i] = static_cast<std::byte>(s[i]);
  return b;
}

std::string hex(std::span<const std::byte> b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (auto x : b) {
    s += digits[std::to_integer<unsigned>(x) >> 4];
    s += digits[std::to_integer<unsigned>(x) & 0xF];
  }
  return s;
}

}  // namespace

TEST_CASE("record cipher: known answer (AES-256-GCM, counter nonce, type as AAD)", "[net][record]") {
  // Key 00..1f, counter 0x0102030405060708 (nonce 08 07 .. 01 00 00 00 00),
  // type 0x1234 (AAD 34 12). The same record comes out of libsodium's
  // crypto_aead_aes256gcm_encrypt and Python's cryptography AESGCM.
  record_cipher seal(counting_key(), record_cipher::direction::seal);
  const auto record = seal.seal(0x0102030405060708ULL, 0x1234, bytes_of("pmdi record cipher known answer"));
  CHECK(hex(record) ==
        "c7d2150cb23407097ae98f0bbdfceca25c36b9a5a744638bfa4f1de3492e77"
        "1ffe619503bb4822c8675235cb37bf0f");
  record_cipher open(counting_key(), record_cipher::direction::open);
  const auto plain = open.open(0x0102030405060708ULL, 0x1234, record);
  REQUIRE(plain);
  CHECK(*plain == bytes_of("pmdi record cipher known answer"));
}

TEST_CASE("record cipher: round trips from empty to several MB", "[net][record]") {
  record_cipher seal(counting_key(), record_cipher::direction::seal);
  record_cipher open(counting_key(), record_cipher::direction::open);
  std::uint64_t counter = 1;
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17},
                        std::size_t{4096}, std::size_t{3} << 20}) {
    std::vector<std::byte> m(n);
    for (std::size_t i = 0; i < n; ++i) m[i] = static_cast<std::byte>(i * 131 + 7);
    const auto record = seal.seal(counter, 9, m);
    REQUIRE(record.size() == n + net::record_overhead);
    const auto plain = open.open(counter, 9, record);
    REQUIRE(plain);
    CHECK(*plain == m);
    ++counter;
  }
}

TEST_CASE("record cipher: a changed byte, counter, type, key or length is refused", "[net][record]") {
  record_cipher seal(counting_key(), record_cipher::direction::seal);
  record_cipher open(counting_key(), record_cipher::direction::open);
  const auto record = seal.seal(5, 3, bytes_of("labels of a_k"));
  for (std::size_t i = 0; i < record.size(); ++i) {
    auto bad = record;
    bad[i] ^= std::byte{0x01};
    CHECK_FALSE(open.open(5, 3, bad));
  }
  CHECK_FALSE(open.open(6, 3, record));  // replayed or reordered
  CHECK_FALSE(open.open(5, 4, record));  // another message type
  CHECK_FALSE(open.open(5, 3, std::span(record).first(record.size() - 1)));
  CHECK_FALSE(open.open(5, 3, std::span(record).first(net::record_overhead - 1)));
  net::record_key other = counting_key();
  other[31] ^= 1;
  record_cipher open_other(other, record_cipher::direction::open);
  CHECK_FALSE(open_other.open(5, 3, record));
  CHECK(open.open(5, 3, record));  // a failed open leaves the cipher usable
}

TEST_CASE("record cipher: one direction per object", "[net][record]") {
  record_cipher seal(counting_key(), record_cipher::direction::seal);
  record_cipher open(counting_key(), record_cipher::direction::open);
  CHECK_THROWS_AS(open.seal(1, 1, bytes_of("x")), std::logic_error);
  CHECK_THROWS_AS(seal.open(1, 1, seal.seal(1, 1, bytes_of("x"))), std::logic_error);
}

TEST_CASE("record cipher: sealed and opened in place, the known answer; a refused record is wiped", "[net][record]") {
  record_cipher seal(counting_key(), record_cipher::direction::seal);
  record_cipher open(counting_key(), record_cipher::direction::open);
  auto record = bytes_of("pmdi record cipher known answer");
  seal.seal_in_place(0x0102030405060708ULL, 0x1234, record);
  CHECK(hex(record) ==
        "c7d2150cb23407097ae98f0bbdfceca25c36b9a5a744638bfa4f1de3492e77"
        "1ffe619503bb4822c8675235cb37bf0f");
  auto bad = record;
  REQUIRE(open.open_in_place(0x0102030405060708ULL, 0x1234, record));
  CHECK(record == bytes_of("pmdi record cipher known answer"));
  bad.back() ^= std::byte{0x80};
  CHECK_FALSE(open.open_in_place(0x0102030405060708ULL, 0x1234, bad));
  CHECK(bad.empty());
  std::vector<std::byte> short_record(net::record_overhead - 1, std::byte{0x5a});
  CHECK_FALSE(open.open_in_place(1, 1, short_record));
  CHECK(short_record.empty());
  CHECK_THROWS_AS(open.seal_in_place(1, 1, record), std::logic_error);
  CHECK_THROWS_AS(seal.open_in_place(1, 1, record), std::logic_error);
}
