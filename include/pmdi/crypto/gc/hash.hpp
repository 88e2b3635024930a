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
// Batches go through the widest AES the CPU has (checked at run time with
// __builtin_cpu_supports): VAES on 512-bit vectors (AVX-512: 4 blocks per
// instruction, 32 in flight), VAES on 256-bit vectors (AVX2, as on AMD Zen 3
// and Intel cores without AVX-512: 2 blocks per instruction, 16 in flight),
// otherwise an 8-way interleaved AES-NI path; all give identical results.
// The VAES code is compiled with function-level target attributes, so
// consumers built with only -maes -msse4.2 still work.
//
//   gc::hasher::instance().path()          which of the three runs (hash_path)
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

// The portable path; the VAES paths hand it their last few blocks.
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
  mmo_aesni(rk, y + i, n - i);
}
// The same on 256-bit vectors: 8 ymm (16 blocks) in flight.
__attribute__((target("vaes,avx2"))) inline void mmo_vaes256(const __m128i* rk, block* y, std::size_t n) noexcept {
  __m256i k[11];
  for (int r = 0; r < 11; ++r) k[r] = _mm256_broadcastsi128_si256(rk[r]);
  auto* p = reinterpret_cast<__m256i*>(y);
  std::size_t i = 0;
  constexpr std::size_t W = 8;
  for (; i + 2 * W <= n; i += 2 * W) {
    __m256i in[W], x[W];
    for (std::size_t j = 0; j < W; ++j) {
      in[j] = _mm256_loadu_si256(p + i / 2 + j);
      x[j] = _mm256_xor_si256(in[j], k[0]);
    }
    for (int r = 1; r < 10; ++r)
      for (std::size_t j = 0; j < W; ++j) x[j] = _mm256_aesenc_epi128(x[j], k[r]);
    for (std::size_t j = 0; j < W; ++j)
      _mm256_storeu_si256(p + i / 2 + j, _mm256_xor_si256(_mm256_aesenclast_epi128(x[j], k[10]), in[j]));
  }
  for (; i + 2 <= n; i += 2) {
    const __m256i in = _mm256_loadu_si256(p + i / 2);
    __m256i x = _mm256_xor_si256(in, k[0]);
    for (int r = 1; r < 10; ++r) x = _mm256_aesenc_epi128(x, k[r]);
    _mm256_storeu_si256(p + i / 2, _mm256_xor_si256(_mm256_aesenclast_epi128(x, k[10]), in));
  }
  mmo_aesni(rk, y + i, n - i);
}
[[nodiscard]] inline bool cpu_has_vaes() noexcept {
  static const bool v = __builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx512f");
  return v;
}
[[nodiscard]] inline bool cpu_has_vaes256() noexcept {
  static const bool v = __builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx2");
  return v;
}
#else
[[nodiscard]] inline bool cpu_has_vaes() noexcept { return false; }
[[nodiscard]] inline bool cpu_has_vaes256() noexcept { return false; }
#endif


}  // namespace detail

// Which batched AES path the hash takes on this CPU.
enum class hash_path { aesni, vaes256, vaes512 };

[[nodiscard]] inline const char* hash_path_name(hash_path p) noexcept {
  switch (p) {
    case hash_path::vaes512: return "VAES/AVX-512";
    case hash_path::vaes256: return "VAES/AVX2";
    case hash_path::aesni: break;
  }
  return "AES-NI 8-way";
}

class hasher {
 public:
  [[nodiscard]] static const hasher& instance() {
    static const hasher h;
    return h;
  }

  // y[i] <- pi(y[i]) ^ y[i] for i < n.
  void mmo_inplace(block* y, std::size_t n) const noexcept {
#ifdef PMDI_GC_HAVE_VAES_PATH
    if (path_ == hash_path::vaes512) {
      detail::mmo_vaes(aes_.round_keys(), y, n);
      return;
    }
    if (path_ == hash_path::vaes256) {
      detail::mmo_vaes256(aes_.round_keys(), y, n);
      return;
    }
#endif
    detail::mmo_aesni(aes_.round_keys(), y, n);
  }
  // The portable path, for tests that compare the paths.
  void mmo_inplace_aesni(block* y, std::size_t n) const noexcept { detail::mmo_aesni(aes_.round_keys(), y, n); }
  // The 256-bit VAES path where the CPU has it (tests on CPUs that take the
  // 512-bit one); false where it does not.
  [[nodiscard]] bool mmo_inplace_vaes256(block* y, std::size_t n) const noexcept {
#ifdef PMDI_GC_HAVE_VAES_PATH
    if (detail::cpu_has_vaes256()) {
      detail::mmo_vaes256(aes_.round_keys(), y, n);
      return true;
    }
#endif
    (void)y, (void)n;
    return false;
  }

  [[nodiscard]] block hash(block x, block tweak) const noexcept {
    block y = sigma(x) ^ tweak;
    return aes_.encrypt(y) ^ y;
  }
  [[nodiscard]] const aes128& permutation() const noexcept { return aes_; }
  [[nodiscard]] hash_path path() const noexcept { return path_; }

 private:
  hasher()
      : aes_(fixed_key),
        path_(detail::cpu_has_vaes()      ? hash_path::vaes512
              : detail::cpu_has_vaes256() ? hash_path::vaes256
                                          : hash_path::aesni) {}
  aes128 aes_;
  hash_path path_;
};

// The tweak of AND gate number `index` (tweak_base + position in schedule
// order); half 0 is the garbler half-gate, half 1 the evaluator half-gate.
[[nodiscard]] inline block and_tweak(std::uint64_t index, unsigned half) noexcept {
  return block::from_u64(half, index);
}

}  // namespace pmdi::gc

#undef PMDI_GC_HAVE_VAES_PATH
