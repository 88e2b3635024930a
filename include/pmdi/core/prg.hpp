#pragma once
// Pseudo-random generation: AES-128 in counter mode with AES-NI, keyed by a
// seed that comes from libsodium (randombytes) or from libsodium's KDF.
// AES-CTR beats libsodium's ChaCha20 stream several times on AES-NI hardware
// (`pmdi-bench prg` measures both in one run).
#include <sodium.h>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "pmdi/core/aes.hpp"
#include "pmdi/core/block.hpp"
#include "pmdi/core/error.hpp"
#include "pmdi/core/secret.hpp"

namespace pmdi {

using seed = std::array<std::byte, 16>;
using master_key = std::array<std::byte, crypto_kdf_KEYBYTES>;

// A fresh seed from the operating system's CSPRNG via libsodium.
[[nodiscard]] inline seed random_seed() {
  sodium_init_or_throw();
  seed s;
  ::randombytes_buf(s.data(), s.size());
  return s;
}

[[nodiscard]] inline master_key random_master_key() {
  sodium_init_or_throw();
  master_key k;
  ::crypto_kdf_keygen(reinterpret_cast<unsigned char*>(k.data()));
  return k;
}

// Per-purpose seed: libsodium KDF (BLAKE2b) over a master key, a subkey id and
// an 8-character context naming the purpose ("pmdi-ot ", "pmdi-msk", ...).
[[nodiscard]] inline seed derive_seed(std::span<const std::byte, crypto_kdf_KEYBYTES> master,
                                      std::uint64_t subkey_id, std::string_view context) {
  if (context.size() != crypto_kdf_CONTEXTBYTES)
    throw usage_error("derive_seed: context must be exactly 8 characters: '" + std::string(context) + "'");
  sodium_init_or_throw();
  seed s;
  char ctx[crypto_kdf_CONTEXTBYTES];
  std::memcpy(ctx, context.data(), sizeof ctx);
  if (::crypto_kdf_derive_from_key(reinterpret_cast<unsigned char*>(s.data()), s.size(), subkey_id, ctx,
                                   reinterpret_cast<const unsigned char*>(master.data())) != 0)
    throw error("derive_seed: libsodium KDF failed");
  return s;
}

// Per-purpose seed for an exact pair of indices (a, b): keyed BLAKE2b with
// the KDF's parameter block (salt = a, personal = context, as
// crypto_kdf_derive_from_key writes them) over the 8 bytes of b, little
// endian. Distinct pairs are distinct inputs, so no two pairs share a seed
// (a packing such as a * 4096 + b collides); and the 8-byte message keeps it
// apart from derive_seed() (crypto_kdf hashes an empty message).
// [ref] libsodium, crypto_kdf/blake2b/kdf_blake2b.c; RFC 7693 (BLAKE2).
[[nodiscard]] inline seed derive_seed_pair(std::span<const std::byte, crypto_kdf_KEYBYTES> master, std::uint64_t a,
                                           std::uint64_t b, std::string_view context) {
  if (context.size() != crypto_kdf_CONTEXTBYTES)
    throw usage_error("derive_seed_pair: context must be exactly 8 characters: '" + std::string(context) + "'");
  sodium_init_or_throw();
  unsigned char salt[crypto_generichash_blake2b_SALTBYTES] = {};
  unsigned char personal[crypto_generichash_blake2b_PERSONALBYTES] = {};
  unsigned char msg[8];
  for (int i = 0; i < 8; ++i) {
    salt[i] = static_cast<unsigned char>(a >> (8 * i));
    msg[i] = static_cast<unsigned char>(b >> (8 * i));
  }
  std::memcpy(personal, context.data(), crypto_kdf_CONTEXTBYTES);
  seed s;
  if (::crypto_generichash_blake2b_salt_personal(reinterpret_cast<unsigned char*>(s.data()), s.size(), msg,
                                                 sizeof msg, reinterpret_cast<const unsigned char*>(master.data()),
                                                 master.size(), salt, personal) != 0)
    throw error("derive_seed_pair: libsodium BLAKE2b failed");
  return s;
}

class prg {
 public:
  static constexpr std::size_t buffer_blocks = 64;

  explicit prg(const seed& s) noexcept : aes_(block::load(s.data())) {}
  // A generator seeded from the OS CSPRNG.
  [[nodiscard]] static prg from_os() { return prg(random_seed()); }

  prg(const prg&) = delete;
  prg& operator=(const prg&) = delete;
  prg(prg&& o) noexcept : aes_(o.aes_), ctr_(o.ctr_), buf_(o.buf_), pos_(o.pos_) { o.wipe(); }
  prg& operator=(prg&&) = delete;
  ~prg() { wipe(); }

  void fill(void* out, std::size_t n) noexcept {
    auto* p = static_cast<unsigned char*>(out);
    while (n > 0) {
      if (pos_ == sizeof buf_) refill();
      const std::size_t k = std::min(n, sizeof buf_ - pos_);
      std::memcpy(p, reinterpret_cast<const unsigned char*>(buf_.data()) + pos_, k);
      pos_ += k;
      p += k;
      n -= k;
    }
  }

  // Fills whole blocks straight from the counter stream (fast path for labels).
  void fill_blocks(block* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = block::from_u64(0, ctr_++);
    aes_.encrypt(out, n);
  }

  template <class T>
    requires std::is_trivially_copyable_v<T>
  [[nodiscard]] T next() noexcept {
    T v;
    fill(&v, sizeof v);
    return v;
  }

  [[nodiscard]] block next_block() noexcept { return next<block>(); }
  [[nodiscard]] bool next_bit() noexcept { return (next<std::uint8_t>() & 1U) != 0; }

  // Uniform in [0, bound) by rejection; bound > 0.
  [[nodiscard]] std::uint64_t uniform(std::uint64_t bound) noexcept {
    if (bound <= 1) return 0;
    const std::uint64_t rem = (0 - bound) % bound;  // 2^64 mod bound
    for (;;) {
      const auto v = next<std::uint64_t>();
      if (rem == 0 || v < 0 - rem) return v % bound;
    }
  }

 private:
  void refill() noexcept {
    fill_blocks(buf_.data(), buffer_blocks);
    pos_ = 0;
  }
  void wipe() noexcept {
    secure_zero(&aes_, sizeof aes_);
    secure_zero(buf_.data(), sizeof buf_);
    pos_ = sizeof buf_;
  }

  aes128 aes_;
  std::uint64_t ctr_ = 0;
  std::array<block, buffer_blocks> buf_{};
  std::size_t pos_ = sizeof buf_;
};

}  // namespace pmdi
