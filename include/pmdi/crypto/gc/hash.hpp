#pragma once
// The garbling hash: a tweakable correlation-robust hash from fixed-key AES,
//
//   H(x, t) = pi(y) ^ y,   y = sigma(x) ^ t,
//   sigma(x_hi || x_lo) = (x_hi ^ x_lo) || x_hi   (a linear orthomorphism),
//
// pi = AES-128 under the public fixed key `fixed_key`, t a 128-bit tweak.
// [ref] Guo, Katz, Wang, Yu: Efficient and Secure Multiparty Computation from
//       Fixed-Key Block Ciphers, eprint 2019/074 (MMO^sigma, Section 7).
// [ref] Bellare, Hoang, Keelveedhi, Rogaway: Efficient Garbling from a
//       Fixed-Key Blockcipher, eprint 2013/426 (fixed-key AES garbling).
//
//   gc::hasher::instance()                 the process-wide fixed-key permutation
//   gc::sigma(block)                       the orthomorphism
//   gc::hasher::mmo_inplace(block* y, n)   y[i] <- pi(y[i]) ^ y[i], batched
//   gc::hasher::hash(block x, block t)     one H(x, t) (tests, KATs)
//
// Batches go through a VAES/AVX-512 path (4 blocks per instruction, 32 in
// flight) when the CPU has it (checked at run time with
// __builtin_cpu_supports), otherwise an 8-way interleaved AES-NI path; both
// give identical results. The VAES code is compiled with a function-level
// target attribute, so consumers built with only -maes -msse4.2 still work.
#include <immintrin.h>

#include <cstddef>

#include "pmdi/core/aes.hpp"
#include "pmdi/core/block.hpp"

namespace pmdi::gc {

// Public fixed AES key (hex digits of pi); anyone may know it.
inline const block fixed_key = block::from_u64(0x243F6A8885A308D3ULL, 0x13198A2E03707344ULL);

[[nodiscard]] inline __m128i sigma(__m128i x) noexcept {
  // lo' = hi, hi' = hi ^ lo
  const __m128i swapped = _mm_shuffle_epi32(x, 0x4E);
  return _mm_xor_si128(swapped, _mm_and_si128(x, _mm_set_epi64x(-1, 0)));
}
[[nodiscard]] inline block sigma(block x) noexcept { return block(sigma(x.v)); }

namespace detail {

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define PMDI_GC_HAVE_VAES_PATH 1
__attribute__((target("vaes,avx512f"))) inline void mmo_vaes(const __m128i* rk, block* y, std::size_t n) noexcept {
  __m512i k[11];
  for (int r = 0; r < 11; ++r) k[r] = _mm512_maskz_broadcast_i32x4(0xffff, rk[r]);  // maskz: no undefined source
  auto* p = reinterpret_cast<__m512i*>(y);
  std::size_t i = 0;
  constexpr std::size_t W = 8;  // 8 zmm = 32 blocks in flight
  for (; i + 4 * W <= n; i += 4 * W) {
    __m512i in[W], x[W];
    for (std::size_t j = 0; j < W; ++j) {
      in[j] = _mm512_loadu_si512(p + i / 4 + j);
      x[j] = _mm512_xor_si512(in[j], k[0]);
    }
    for (int r = 1; r < 10; ++r)
      for (std::size_t j = 0; j < W; ++j) x[j] = _mm512_aesenc_epi128(x[j], k[r]);
    for (std::size_t j = 0; j < W; ++j)
      _mm512_storeu_si512(p + i / 4 + j, _mm512_xor_si512(_mm512_aesenclast_epi128(x[j], k[10]), in[j]));
  }
  for (; i + 4 <= n; i += 4) {
    const __m512i in = _mm512_loadu_si512(p + i / 4);
    __m512i x = _mm512_xor_si512(in, k[0]);
    for (int r = 1; r < 10; ++r) x = _mm512_aesenc_epi128(x, k[r]);
    _mm512_storeu_si512(p + i / 4, _mm512_xor_si512(_mm512_aesenclast_epi128(x, k[10]), in));
  }
  for (; i < n; ++i) {
    const __m128i in = y[i].v;
    __m128i x = _mm_xor_si128(in, rk[0]);
    for (int r = 1; r < 10; ++r) x = _mm_aesenc_si128(x, rk[r]);
    y[i] = block(_mm_xor_si128(_mm_aesenclast_si128(x, rk[10]), in));
  }
}
[[nodiscard]] inline bool cpu_has_vaes() noexcept {
  static const bool v = __builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx512f");
  return v;
}
#else
[[nodiscard]] inline bool cpu_has_vaes() noexcept { return false; }
#endif

inline void mmo_aesni(const __m128i* rk, block* y, std::size_t n) noexcept {
  constexpr std::size_t W = 8;
  std::size_t i = 0;
  for (; i + W <= n; i += W) {
    __m128i in[W], x[W];
    for (std::size_t j = 0; j < W; ++j) {
      in[j] = y[i + j].v;
      x[j] = _mm_xor_si128(in[j], rk[0]);
    }
    for (int r = 1; r < 10; ++r)
      for (std::size_t j = 0; j < W; ++j) x[j] = _mm_aesenc_si128(x[j], rk[r]);
    for (std::size_t j = 0; j < W; ++j) y[i + j] = block(_mm_xor_si128(_mm_aesenclast_si128(x[j], rk[10]), in[j]));
  }
  for (; i < n; ++i) {
    const __m128i in = y[i].v;
    __m128i x = _mm_xor_si128(in, rk[0]);
    for (int r = 1; r < 10; ++r) x = _mm_aesenc_si128(x, rk[r]);
    y[i] = block(_mm_xor_si128(_mm_aesenclast_si128(x, rk[10]), in));
  }
}

}  // namespace detail

class hasher {
 public:
  [[nodiscard]] static const hasher& instance() {
    static const hasher h;
    return h;
  }

  // y[i] <- pi(y[i]) ^ y[i] for i < n.
  void mmo_inplace(block* y, std::size_t n) const noexcept {
#ifdef PMDI_GC_HAVE_VAES_PATH
    if (vaes_) {
      detail::mmo_vaes(aes_.round_keys(), y, n);
      return;
    }
#endif
    detail::mmo_aesni(aes_.round_keys(), y, n);
  }
  // The portable path, for tests that compare both paths.
  void mmo_inplace_aesni(block* y, std::size_t n) const noexcept { detail::mmo_aesni(aes_.round_keys(), y, n); }

  [[nodiscard]] block hash(block x, block tweak) const noexcept {
    block y = sigma(x) ^ tweak;
    return aes_.encrypt(y) ^ y;
  }
  [[nodiscard]] const aes128& permutation() const noexcept { return aes_; }
  [[nodiscard]] bool uses_vaes() const noexcept { return vaes_; }

 private:
  hasher() : aes_(fixed_key), vaes_(detail::cpu_has_vaes()) {}
  aes128 aes_;
  bool vaes_;
};

// The tweak of AND gate number `index` (tweak_base + position in schedule
// order); half 0 is the garbler half-gate, half 1 the evaluator half-gate.
[[nodiscard]] inline block and_tweak(std::uint64_t index, unsigned half) noexcept {
  return block::from_u64(half, index);
}

}  // namespace pmdi::gc

#undef PMDI_GC_HAVE_VAES_PATH
