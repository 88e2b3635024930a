#pragma once
// The secure channel's record cipher: AES-256-GCM through OpenSSL's EVP
// interface, one object per link direction with its key expanded once.
//
//   record   = ciphertext | tag (16 bytes)
//   nonce    = the record's 64-bit counter, little endian, then 4 zero bytes
//   AAD      = the message type, u16 little endian
//
// A counter is used once per key (the channel counts records per direction
// and keys are fresh per handshake), so nonces never repeat under a key.
// Why OpenSSL and not libsodium here: the online phase moves hundreds of
// megabytes of garbled-circuit labels per inference on the larger networks,
// and OpenSSL's AES-GCM (AES-NI/VAES with carry-less multiplication) doubles
// the secure channel's throughput against libsodium 1.0.18's
// XChaCha20-Poly1305, whose AES-256-GCM is no faster on the same core
// (docs/networking.md, section 5).
// [ref] NIST SP 800-38D (GCM); the deterministic counter nonce is TLS 1.3's
//       construction (RFC 8446, section 5.3).
#include <openssl/evp.h>

#include <boost/endian/conversion.hpp>

#include <algorithm>
#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "pmdi/core/secret.hpp"
#include "pmdi/net/transport.hpp"

namespace pmdi::net {

inline constexpr std::size_t record_key_bytes = 32;
inline constexpr std::size_t record_overhead = 16;  // the GCM tag
inline constexpr std::size_t record_nonce_bytes = 12;

using record_key = std::array<unsigned char, record_key_bytes>;

// A copy of `plain` with room for the tag behind it, to be sealed in place.
[[nodiscard]] inline std::vector<std::byte> record_buffer(std::span<const std::byte> plain) {
  std::vector<std::byte> record;
  record.reserve(plain.size() + record_overhead);
  record.assign(plain.begin(), plain.end());
  return record;
}

namespace detail {

class record_cipher {
 public:
  enum class direction { seal, open };

  record_cipher(const record_key& key, direction d) : ctx_(::EVP_CIPHER_CTX_new()), dir_(d) {
    if (ctx_ == nullptr) throw std::bad_alloc();
    const int ok = d == direction::seal ? ::EVP_EncryptInit_ex(ctx_, ::EVP_aes_256_gcm(), nullptr, key.data(), nullptr)
                                        : ::EVP_DecryptInit_ex(ctx_, ::EVP_aes_256_gcm(), nullptr, key.data(), nullptr);
    if (ok != 1) {
      ::EVP_CIPHER_CTX_free(ctx_);
      throw std::runtime_error("net: the record cipher (AES-256-GCM) could not be set up");
    }
  }
  record_cipher(const record_cipher&) = delete;
  record_cipher& operator=(const record_cipher&) = delete;
  // OpenSSL clears the expanded key when it frees the context.
  ~record_cipher() { ::EVP_CIPHER_CTX_free(ctx_); }

  // Seals `record` where it lies: the plaintext is encrypted over itself and
  // the tag appended (room for it reserved by the caller saves a copy).
  void seal_in_place(std::uint64_t counter, message_type type, std::vector<std::byte>& record) {
    if (dir_ != direction::seal) throw std::logic_error("net: record_cipher::seal on an opening cipher");
    const std::size_t n = record.size();
    record.resize(n + record_overhead);
    bool ok = start(counter, type);
    ok = ok && update(std::span<const std::byte>(record).first(n), record.data());
    int len = 0;
    ok = ok && ::EVP_EncryptFinal_ex(ctx_, nullptr, &len) == 1;
    ok = ok && ::EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, static_cast<int>(record_overhead),
                                     record.data() + n) == 1;
    if (!ok) throw std::runtime_error("net: sealing a record failed (OpenSSL)");
  }

  [[nodiscard]] std::vector<std::byte> seal(std::uint64_t counter, message_type type,
                                            std::span<const std::byte> plain) {
    auto record = record_buffer(plain);
    seal_in_place(counter, type, record);
    return record;
  }

  // Opens `record` where it lies: true, and it holds the plaintext (the tag
  // dropped); false when it fails authentication, and then it is wiped and
  // empty. A large message is thus opened without a second buffer.
  [[nodiscard]] bool open_in_place(std::uint64_t counter, message_type type, std::vector<std::byte>& record) {
    if (dir_ != direction::open) throw std::logic_error("net: record_cipher::open on a sealing cipher");
    const auto refuse = [&record] {
      secure_zero(std::span<std::byte>(record));
      record.clear();
      return false;
    };
    if (record.size() < record_overhead) return refuse();
    const std::size_t n = record.size() - record_overhead;
    std::array<unsigned char, record_overhead> tag{};
    std::copy_n(reinterpret_cast<const unsigned char*>(record.data()) + n, record_overhead, tag.data());
    int len = 0;
    if (!start(counter, type) || !update(std::span<const std::byte>(record).first(n), record.data()) ||
        ::EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, static_cast<int>(record_overhead), tag.data()) != 1 ||
        ::EVP_DecryptFinal_ex(ctx_, nullptr, &len) != 1)
      return refuse();
    record.resize(n);
    return true;
  }

  // nullopt when the record fails authentication.
  [[nodiscard]] std::optional<std::vector<std::byte>> open(std::uint64_t counter, message_type type,
                                                           std::span<const std::byte> sealed) {
    std::vector<std::byte> record(sealed.begin(), sealed.end());
    if (!open_in_place(counter, type, record)) return std::nullopt;
    return record;
  }

 private:
  // A fresh nonce and the AAD.
  bool start(std::uint64_t counter, message_type type) {
    std::array<unsigned char, record_nonce_bytes> nonce{};
    boost::endian::store_little_u64(nonce.data(), counter);
    std::array<unsigned char, sizeof(message_type)> aad{};
    boost::endian::store_little_u16(aad.data(), type);
    int len = 0;
    if (dir_ == direction::seal)
      return ::EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
             ::EVP_EncryptUpdate(ctx_, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1;
    return ::EVP_DecryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
           ::EVP_DecryptUpdate(ctx_, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1;
  }
  // EVP takes int lengths: a large record goes through in pieces.
  bool update(std::span<const std::byte> in, std::byte* out) {
    static constexpr std::size_t piece = std::size_t{1} << 30;
    for (std::size_t at = 0; at < in.size(); at += piece) {
      const int n = static_cast<int>(std::min(piece, in.size() - at));
      auto* o = reinterpret_cast<unsigned char*>(out + at);
      const auto* i = reinterpret_cast<const unsigned char*>(in.data() + at);
      int len = 0;
      const int ok = dir_ == direction::seal ? ::EVP_EncryptUpdate(ctx_, o, &len, i, n)
                                             : ::EVP_DecryptUpdate(ctx_, o, &len, i, n);
      if (ok != 1 || len != n) return false;
    }
    return true;
  }

  EVP_CIPHER_CTX* ctx_;
  direction dir_;
};

}  // namespace detail
}  // namespace pmdi::net
