#pragma once
// Static X25519 key pairs of the parties (libsodium crypto_kx) and their text
// form (lower-case hex) for deployment and key files.
#include <sodium.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"

namespace pmdi::net {

inline constexpr std::size_t public_key_bytes = crypto_kx_PUBLICKEYBYTES;
inline constexpr std::size_t secret_key_bytes = crypto_kx_SECRETKEYBYTES;
static_assert(public_key_bytes == 32 && secret_key_bytes == 32 && crypto_scalarmult_BYTES == 32);

using public_key = std::array<std::byte, public_key_bytes>;

// A static secret key; zeroes itself.
class secret_key {
 public:
  secret_key() = default;
  explicit secret_key(std::span<const std::byte, secret_key_bytes> k) { std::copy(k.begin(), k.end(), k_.begin()); }
  secret_key(const secret_key& o) : k_(o.k_) {}
  secret_key& operator=(const secret_key& o) {
    k_ = o.k_;
    return *this;
  }
  ~secret_key() { secure_zero(k_.data(), k_.size()); }
  [[nodiscard]] std::span<const std::byte, secret_key_bytes> bytes() const noexcept { return k_; }
  [[nodiscard]] const unsigned char* data() const noexcept { return reinterpret_cast<const unsigned char*>(k_.data()); }
  [[nodiscard]] unsigned char* data() noexcept { return reinterpret_cast<unsigned char*>(k_.data()); }

 private:
  std::array<std::byte, secret_key_bytes> k_{};
};

struct key_pair {
  public_key pk{};
  secret_key sk{};
};

// A fresh static key pair from the operating system's CSPRNG.
[[nodiscard]] inline key_pair keygen() {
  sodium_init_or_throw();
  key_pair kp;
  ::crypto_kx_keypair(reinterpret_cast<unsigned char*>(kp.pk.data()), kp.sk.data());
  return kp;
}

// A key pair drawn from `rng` (tests with fixed seeds; ephemeral keys).
[[nodiscard]] inline key_pair keygen(prg& rng) {
  sodium_init_or_throw();
  std::array<unsigned char, crypto_kx_SEEDBYTES> seed{};
  rng.fill(seed.data(), seed.size());
  key_pair kp;
  ::crypto_kx_seed_keypair(reinterpret_cast<unsigned char*>(kp.pk.data()), kp.sk.data(), seed.data());
  secure_zero(seed.data(), seed.size());
  return kp;
}

// The public key that belongs to a secret key.
[[nodiscard]] inline public_key public_key_of(const secret_key& sk) {
  sodium_init_or_throw();
  public_key pk{};
  if (::crypto_scalarmult_base(reinterpret_cast<unsigned char*>(pk.data()), sk.data()) != 0)
    throw error("net: cannot compute the public key of a secret key");
  return pk;
}

// Whether a public key can take part in a key exchange: X25519 with a point
// of small order (the all-zero key among them) gives the all-zero shared
// secret whatever the other side's key, which crypto_scalarmult refuses
// (returns -1). Checked with a fixed non-zero scalar: clamping makes every
// scalar a multiple of the cofactor 8, so only small-order points fail.
// [ref] RFC 7748 section 6.1 (the all-zero check); libsodium crypto_scalarmult.
[[nodiscard]] inline bool usable_public_key(const public_key& pk) noexcept {
  if (::sodium_init() < 0) return false;
  unsigned char scalar[crypto_scalarmult_SCALARBYTES];
  for (std::size_t i = 0; i < sizeof scalar; ++i) scalar[i] = static_cast<unsigned char>(i + 1);
  unsigned char out[crypto_scalarmult_BYTES];
  const bool ok = ::crypto_scalarmult(out, scalar, reinterpret_cast<const unsigned char*>(pk.data())) == 0;
  sodium_memzero(out, sizeof out);
  return ok;
}

// Lower-case hex (libsodium's sodium_bin2hex: constant time, so secret keys
// may pass through it).
[[nodiscard]] inline std::string to_hex(std::span<const std::byte> b) {
  std::string s(2 * b.size() + 1, '\0');
  ::sodium_bin2hex(s.data(), s.size(), reinterpret_cast<const unsigned char*>(b.data()), b.size());
  s.pop_back();
  return s;
}

// Decodes exactly N bytes of hex (either case; libsodium's sodium_hex2bin,
// constant time); nullopt on any other input.
template <std::size_t N>
[[nodiscard]] std::optional<std::array<std::byte, N>> from_hex(std::string_view s) {
  if (s.size() != 2 * N) return std::nullopt;
  std::array<std::byte, N> out{};
  std::size_t len = 0;
  const char* end = nullptr;
  if (::sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), N, s.data(), s.size(), nullptr, &len, &end) != 0 ||
      len != N || end != s.data() + s.size()) {
    ::sodium_memzero(out.data(), N);
    return std::nullopt;
  }
  return out;
}

// A public key written as 64 hex digits or as base64 (standard or URL-safe
// alphabet, with or without padding); nullopt for anything else.
[[nodiscard]] inline std::optional<public_key> parse_public_key(std::string_view text) {
  if (auto hex = from_hex<public_key_bytes>(text)) return hex;
  sodium_init_or_throw();
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                      sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
    public_key pk{};
    std::size_t len = 0;
    const char* end = nullptr;
    if (::sodium_base642bin(reinterpret_cast<unsigned char*>(pk.data()), pk.size(), text.data(), text.size(), nullptr,
                            &len, &end, variant) == 0 &&
        len == pk.size() && end == text.data() + text.size())
      return pk;
  }
  return std::nullopt;
}

}  // namespace pmdi::net
