#pragma once
// AES-128 with AES-NI intrinsics: key schedule, and batched encryption of
// blocks under one key (the fixed-key AES that garbling hashes use, and the
// counter mode the PRG uses).
// [ref] Intel, AES-NI white paper (Gueron 2010), key expansion with aeskeygenassist.
#include <wmmintrin.h>

#include <array>
#include <cstddef>

#include "pmdi/core/block.hpp"

namespace pmdi {

class aes128 {
 public:
  static constexpr int rounds = 10;

  aes128() = default;
  explicit aes128(block key) noexcept { expand(key); }

  [[nodiscard]] block encrypt(block b) const noexcept {
    __m128i x = _mm_xor_si128(b.v, rk_[0]);
    for (int r = 1; r < rounds; ++r) x = _mm_aesenc_si128(x, rk_[r]);
    return block(_mm_aesenclast_si128(x, rk_[rounds]));
  }

  // Encrypts n blocks in place; N-way interleaved so the AES pipeline stays full.
  void encrypt(block* b, std::size_t n) const noexcept {
    constexpr std::size_t W = 8;
    const std::size_t full = n - n % W;
    for (std::size_t i = 0; i < full; i += W) encrypt_n<W>(b + i);
    for (std::size_t i = full; i < n; ++i) b[i] = encrypt(b[i]);
  }

  template <std::size_t W>
  void encrypt_n(block* b) const noexcept {
    __m128i x[W];
    for (std::size_t j = 0; j < W; ++j) x[j] = _mm_xor_si128(b[j].v, rk_[0]);
    for (int r = 1; r < rounds; ++r)
      for (std::size_t j = 0; j < W; ++j) x[j] = _mm_aesenc_si128(x[j], rk_[r]);
    for (std::size_t j = 0; j < W; ++j) b[j] = block(_mm_aesenclast_si128(x[j], rk_[rounds]));
  }

  const __m128i* round_keys() const noexcept { return rk_; }

 private:
  template <int R>
  static __m128i expand_step(__m128i k) noexcept {
    __m128i t = _mm_aeskeygenassist_si128(k, R);
    t = _mm_shuffle_epi32(t, 0xff);
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    return _mm_xor_si128(k, t);
  }
  void expand(block key) noexcept {
    rk_[0] = key.v;
    rk_[1] = expand_step<0x01>(rk_[0]);
    rk_[2] = expand_step<0x02>(rk_[1]);
    rk_[3] = expand_step<0x04>(rk_[2]);
    rk_[4] = expand_step<0x08>(rk_[3]);
    rk_[5] = expand_step<0x10>(rk_[4]);
    rk_[6] = expand_step<0x20>(rk_[5]);
    rk_[7] = expand_step<0x40>(rk_[6]);
    rk_[8] = expand_step<0x80>(rk_[7]);
    rk_[9] = expand_step<0x1b>(rk_[8]);
    rk_[10] = expand_step<0x36>(rk_[9]);
  }
  alignas(16) __m128i rk_[rounds + 1]{};
};

}  // namespace pmdi
