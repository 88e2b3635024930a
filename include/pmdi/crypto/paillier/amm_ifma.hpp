#pragma once
// Almost Montgomery multiplication with AVX-512 IFMA: numbers as
// little-endian arrays of 8K digits of 52 bits in uint64 lanes, K vectors of
// eight lanes held in registers. For inputs < 2m the result is
// a*b*2^(-52*8K) mod m as a value < 2m (2^(52*8K) > 4m), so results feed
// back without a final subtraction. Used through paillier::detail::montgomery
// (montgomery.hpp), which checks the CPU at run time.
// [ref] Montgomery: Modular multiplication without trial division, Math.
//       Comp. 1985; Gueron, Krasnov: Accelerating big integer arithmetic using
//       Intel IFMA extensions, ARITH 2016 (52-bit digit layout, AMM).
#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace pmdi::paillier::detail {

inline constexpr unsigned ifma_digit_bits = 52;
inline constexpr std::uint64_t ifma_digit_mask = (std::uint64_t{1} << ifma_digit_bits) - 1;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12's avx512fintrin.h trips -Wuninitialized on its own _mm512_undefined
// placeholders when inlined; the kernel itself reads nothing uninitialised.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// r = a * b * 2^(-52*8K) mod m (almost: r < 2m for a, b < 2m). r may alias a or b.
template <int K>
__attribute__((target("avx512f,avx512ifma"))) void amm52(std::uint64_t* r, const std::uint64_t* a,
                                                          const std::uint64_t* b, const std::uint64_t* m,
                                                          std::uint64_t k0) noexcept {
  __m512i A[K], M[K], acc[K];
  #pragma GCC unroll 64
  for (int k = 0; k < K; ++k) {
    A[k] = _mm512_loadu_si512(a + 8 * k);
    M[k] = _mm512_loadu_si512(m + 8 * k);
    acc[k] = _mm512_setzero_si512();
  }
  const std::uint64_t m0 = m[0];
  std::uint64_t bcopy[8 * K];
  std::memcpy(bcopy, b, sizeof bcopy);
  for (int i = 0; i < 8 * K; ++i) {
    const __m512i bi = _mm512_set1_epi64(static_cast<long long>(bcopy[i]));
    #pragma GCC unroll 64
    for (int k = 0; k < K; ++k) acc[k] = _mm512_madd52lo_epu64(acc[k], A[k], bi);
    const auto a0 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm512_castsi512_si128(acc[0])));
    const std::uint64_t q = (a0 * k0) & ifma_digit_mask;
    const __m512i qv = _mm512_set1_epi64(static_cast<long long>(q));
    #pragma GCC unroll 64
    for (int k = 0; k < K; ++k) acc[k] = _mm512_madd52lo_epu64(acc[k], M[k], qv);
    // lane 0 is now 0 mod 2^52: carry its top bits into the next digit, shift down one digit
    const std::uint64_t carry = (a0 + ((m0 * q) & ifma_digit_mask)) >> 52;
    #pragma GCC unroll 64
    for (int k = 0; k < K - 1; ++k) acc[k] = _mm512_alignr_epi64(acc[k + 1], acc[k], 1);
    acc[K - 1] = _mm512_alignr_epi64(_mm512_setzero_si512(), acc[K - 1], 1);
    acc[0] = _mm512_add_epi64(acc[0], _mm512_zextsi128_si512(_mm_cvtsi64_si128(static_cast<long long>(carry))));
    #pragma GCC unroll 64
    for (int k = 0; k < K; ++k) {
      acc[k] = _mm512_madd52hi_epu64(acc[k], A[k], bi);
      acc[k] = _mm512_madd52hi_epu64(acc[k], M[k], qv);
    }
  }
  // normalise to 52-bit digits
  alignas(64) std::uint64_t t[8 * K];
  #pragma GCC unroll 64
  for (int k = 0; k < K; ++k) _mm512_store_si512(t + 8 * k, acc[k]);
  std::uint64_t c = 0;
  for (int j = 0; j < 8 * K; ++j) {
    const std::uint64_t v = t[j] + c;
    r[j] = v & ifma_digit_mask;
    c = v >> 52;
  }
}

// Two independent AMMs (different moduli, same size) interleaved, so that one
// hides the other's latency: the two CRT halves of a decryption.
template <int K>
__attribute__((target("avx512f,avx512ifma"))) void amm52x2(std::uint64_t* r1, const std::uint64_t* a1,
                                                            const std::uint64_t* b1, const std::uint64_t* m1,
                                                            std::uint64_t k01, std::uint64_t* r2,
                                                            const std::uint64_t* a2, const std::uint64_t* b2,
                                                            const std::uint64_t* m2, std::uint64_t k02) noexcept {
  __m512i A1[K], M1[K], X1[K], A2[K], M2[K], X2[K];
  #pragma GCC unroll 64
  for (int k = 0; k < K; ++k) {
    A1[k] = _mm512_loadu_si512(a1 + 8 * k);
    M1[k] = _mm512_loadu_si512(m1 + 8 * k);
    A2[k] = _mm512_loadu_si512(a2 + 8 * k);
    M2[k] = _mm512_loadu_si512(m2 + 8 * k);
    X1[k] = _mm512_setzero_si512();
    X2[k] = _mm512_setzero_si512();
  }
  const std::uint64_t m10 = m1[0], m20 = m2[0];
  std::uint64_t bc1[8 * K], bc2[8 * K];
  std::memcpy(bc1, b1, sizeof bc1);
  std::memcpy(bc2, b2, sizeof bc2);
  for (int i = 0; i < 8 * K; ++i) {
    const __m512i bi1 = _mm512_set1_epi64(static_cast<long long>(bc1[i]));
    const __m512i bi2 = _mm512_set1_epi64(static_cast<long long>(bc2[i]));
    #pragma GCC unroll 64
    for (int k = 0; k < K; ++k) {
      X1[k] = _mm512_madd52lo_epu64(X1[k], A1[k], bi1);
      X2[k] = _mm512_madd52lo_epu64(X2[k], A2[k], bi2);
    }
    const auto s1 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm512_castsi512_si128(X1[0])));
    const auto s2 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm512_castsi512_si128(X2[0])));
    const std::uint64_t q1 = (s1 * k01) & ifma_digit_mask, q2 = (s2 * k02) & ifma_digit_mask;
    const __m512i qv1 = _mm512_set1_epi64(static_cast<long long>(q1));
    const __m512i qv2 = _mm512_set1_epi64(static_cast<long long>(q2));
    #pragma GCC unroll 64
    for (int k = 0; k < K; ++k) {
      X1[k] = _mm512_madd52lo_epu64(X1[k], M1[k], qv1);
      X2[k] = _mm512_madd52lo_epu64(X2[k], M2[k], qv2);
    }
    const std::uint64_t c1 = (s1 + ((m10 * q1) & ifma_digit_mask)) >> 52;
    const std::uint64_t c2 = (s2 + ((m20 * q2) & ifma_digit_mask)) >> 52;
    #pragma GCC unroll 64
    for (int k = 0; k < K - 1; ++k) {
      X1[k] = _mm512_alignr_epi64(X1[k + 1], X1[k], 1);
      X2[k] = _mm512_alignr_epi64(X2[k + 1], X2[k], 1);
    }
    X1[K - 1] = _mm512_alignr_epi64(_mm512_setzero_si512(), X1[K - 1], 1);
    X2[K - 1] = _mm512_alignr_epi64(_mm512_setzero_si512(), X2[K - 1], 1);
    X1[0] = _mm512_add_epi64(X1[0], _mm512_zextsi128_si512(_mm_cvtsi64_si128(static_cast<long long>(c1))));
    X2[0] = _mm512_add_epi64(X2[0], _mm512_zextsi128_si512(_mm_cvtsi64_si128(static_cast<long long>(c2))));
    #pragma GCC unroll 64
    for (int k = 0; k < K; ++k) {
      X1[k] = _mm512_madd52hi_epu64(X1[k], A1[k], bi1);
      X2[k] = _mm512_madd52hi_epu64(X2[k], A2[k], bi2);
      X1[k] = _mm512_madd52hi_epu64(X1[k], M1[k], qv1);
      X2[k] = _mm512_madd52hi_epu64(X2[k], M2[k], qv2);
    }
  }
  alignas(64) std::uint64_t t1[8 * K], t2[8 * K];
  #pragma GCC unroll 64
  for (int k = 0; k < K; ++k) {
    _mm512_store_si512(t1 + 8 * k, X1[k]);
    _mm512_store_si512(t2 + 8 * k, X2[k]);
  }
  std::uint64_t c1 = 0, c2 = 0;
  for (int j = 0; j < 8 * K; ++j) {
    const std::uint64_t v1 = t1[j] + c1, v2 = t2[j] + c2;
    r1[j] = v1 & ifma_digit_mask;
    r2[j] = v2 & ifma_digit_mask;
    c1 = v1 >> 52;
    c2 = v2 >> 52;
  }
}

#pragma GCC diagnostic pop

template <int... K>
constexpr auto make_amm2_table(std::integer_sequence<int, K...>) {
  using fn2 = void (*)(std::uint64_t*, const std::uint64_t*, const std::uint64_t*, const std::uint64_t*, std::uint64_t,
                       std::uint64_t*, const std::uint64_t*, const std::uint64_t*, const std::uint64_t*,
                       std::uint64_t) noexcept;
  return std::array<fn2, sizeof...(K)>{(K == 0 ? nullptr : &amm52x2<(K == 0 ? 1 : K)>)...};
}

template <int... K>
constexpr auto make_amm_table(std::integer_sequence<int, K...>) {
  using fn = void (*)(std::uint64_t*, const std::uint64_t*, const std::uint64_t*, const std::uint64_t*,
                      std::uint64_t) noexcept;
  return std::array<fn, sizeof...(K)>{(K == 0 ? nullptr : &amm52<(K == 0 ? 1 : K)>)...};
}
inline constexpr int max_mont_vectors = 20;  // moduli up to 8318 bits (N^2 of an 4096-bit N)
inline constexpr auto amm_table = make_amm_table(std::make_integer_sequence<int, max_mont_vectors + 1>{});
inline constexpr int max_mont2_vectors = 10;  // two moduli up to 4158 bits (p^2, q^2 of a 4096-bit N)
inline constexpr auto amm2_table = make_amm2_table(std::make_integer_sequence<int, max_mont2_vectors + 1>{});
#endif

}  // namespace pmdi::paillier::detail
