#pragma once
// Almost Montgomery multiplication with AVX2, for CPUs without AVX-512 IFMA:
// numbers as little-endian arrays of n digits of 27 bits in uint64 lanes (n a
// multiple of 4), R = 2^(27n) > 4m. For inputs < 2m the result is
// a*b*R^-1 mod m as a value < 2m, so results feed back without a final
// subtraction, as with the IFMA kernel (amm_ifma.hpp). Used through
// paillier::detail::montgomery (montgomery.hpp), which checks the CPU at run
// time.
//
// Method: word-by-word Montgomery reduction, two digits of b a pass. The
// accumulator is a window into an array of 2n + 8 columns that moves up two
// columns a pass instead of being shifted; a pass adds a*b_i + m*q_i at
// columns i.. and a*b_(i+1) + m*q_(i+1) at columns i+1.. with vpmuludq (32 x
// 32 -> 64-bit products, four lanes). q_i and q_(i+1) come from the two low
// columns, computed in scalar registers with the carry that leaves them; those
// columns are not read again, so nothing is carried in memory until the end.
// Why nothing overflows: a digit is below 2^27, a product below 2^54, and a
// column receives at most 2n products (one a*b and one m*q per digit of b),
// so it stays below 2n * 2^54 <= 2^63.25 for n <= max_avx2_digits.
// [ref] Montgomery: Modular multiplication without trial division, Math.
//       Comp. 1985; Gueron, Krasnov: Software implementation of modular
//       exponentiation, using advanced vector instructions architectures,
//       WAIFI 2012 (redundant small digits in AVX2 lanes, AMM).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pmdi::paillier::detail {

inline constexpr unsigned avx2_digit_bits = 27;
inline constexpr std::uint64_t avx2_digit_mask = (std::uint64_t{1} << avx2_digit_bits) - 1;
// 2 * 304 products of 54 bits stay below 2^63.25: moduli up to 8206 bits
// (N^2 of a 4096-bit N).
inline constexpr std::size_t max_avx2_digits = 304;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// r = a * b * 2^(-27n) mod m (almost: r < 2m for a, b < 2m). mp is the modulus
// padded as [0, m_0 .. m_(n-1), 0, 0, 0, 0] (n + 5 digits, 32-byte aligned);
// k0 = -m^-1 mod 2^27; n a multiple of 4 in [4, max_avx2_digits]. r may alias
// a or b.
__attribute__((target("avx2"))) inline void amm27(std::uint64_t* r, const std::uint64_t* a, const std::uint64_t* b,
                                                  const std::uint64_t* mp, std::uint64_t k0, std::size_t n) noexcept {
  constexpr unsigned D = avx2_digit_bits;
  constexpr std::uint64_t mask = avx2_digit_mask;
  alignas(32) std::uint64_t acc[2 * max_avx2_digits + 8];
  alignas(32) std::uint64_t ap[max_avx2_digits + 8];  // [0, a_0 .. a_(n-1), 0, 0, 0, 0]
  std::memset(acc, 0, (2 * n + 8) * sizeof(std::uint64_t));
  ap[0] = 0;
  std::memcpy(ap + 1, a, n * sizeof(std::uint64_t));
  std::memset(ap + 1 + n, 0, 4 * sizeof(std::uint64_t));
  const std::uint64_t a0 = ap[1], a1 = ap[2], m0 = mp[1], m1 = mp[2];
  std::uint64_t carry = 0;  // what left the columns already consumed
  for (std::size_t i = 0; i < n; i += 2) {
    const std::uint64_t bi = b[i], bj = b[i + 1];
    const std::uint64_t t0 = acc[i] + carry + a0 * bi;
    const std::uint64_t qi = (t0 * k0) & mask;
    const std::uint64_t c0 = (t0 + m0 * qi) >> D;
    const std::uint64_t t1 = acc[i + 1] + a1 * bi + m1 * qi + c0 + a0 * bj;
    const std::uint64_t qj = (t1 * k0) & mask;
    carry = (t1 + m0 * qj) >> D;
    const __m256i vbi = _mm256_set1_epi64x(static_cast<long long>(bi));
    const __m256i vqi = _mm256_set1_epi64x(static_cast<long long>(qi));
    const __m256i vbj = _mm256_set1_epi64x(static_cast<long long>(bj));
    const __m256i vqj = _mm256_set1_epi64x(static_cast<long long>(qj));
    std::uint64_t* w = acc + i;
#pragma GCC unroll 4
    for (std::size_t k = 0; k <= n; k += 4) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + k));
      // digit i at columns i + k .., digit i + 1 one column up (the padded copies read one digit lower)
      const __m256i p = _mm256_add_epi64(
          _mm256_mul_epu32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ap + 1 + k)), vbi),
          _mm256_mul_epu32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(mp + 1 + k)), vqi));
      const __m256i s = _mm256_add_epi64(
          _mm256_mul_epu32(_mm256_load_si256(reinterpret_cast<const __m256i*>(ap + k)), vbj),
          _mm256_mul_epu32(_mm256_load_si256(reinterpret_cast<const __m256i*>(mp + k)), vqj));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w + k), _mm256_add_epi64(x, _mm256_add_epi64(p, s)));
    }
  }
  std::uint64_t c = carry;
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint64_t v = acc[n + j] + c;
    r[j] = v & mask;
    c = v >> D;
  }
}

// r = a * a * 2^(-27n) mod m (almost: r < 2m for a < 2m), with about 3/4 of
// amm27's digit products: pass p reduces columns 2p and 2p + 1 (as amm27) and
// in the same sweep adds row p of the square, 2 a_p a_t at column p + t for
// t > p (a_p^2 at column 2p and 2 a_p a_(p+1) at 2p + 1 go straight into the
// scalar quotient digits; the sweep's own products there land in columns
// already consumed). Column 2p needs only rows s <= p of the square, so the
// rows n/2 .. n-1 (columns n and up) follow after the reduction, two rows a
// sweep with the pair and the doubled diagonal corrected in scalar. The
// column bound is amm27's: at most n/2 doubled products (below 2^55) of the
// square and n of the reduction per column. Arguments as amm27; r may alias a.
__attribute__((target("avx2"))) inline void amm27_sqr(std::uint64_t* r, const std::uint64_t* a,
                                                      const std::uint64_t* mp, std::uint64_t k0,
                                                      std::size_t n) noexcept {
  constexpr unsigned D = avx2_digit_bits;
  constexpr std::uint64_t mask = avx2_digit_mask;
  alignas(32) std::uint64_t acc[2 * max_avx2_digits + 8];
  alignas(32) std::uint64_t ad[2 * max_avx2_digits + 8];  // a, then zeros: the sweeps read past a's end
  std::memset(acc, 0, (2 * n + 8) * sizeof(std::uint64_t));
  std::memcpy(ad, a, n * sizeof(std::uint64_t));
  std::memset(ad + n, 0, (n + 8) * sizeof(std::uint64_t));
  const std::uint64_t m0 = mp[1], m1 = mp[2];
  std::uint64_t carry = 0;
  for (std::size_t p = 0; p < n / 2; ++p) {
    const std::size_t i = 2 * p;
    const std::uint64_t ap = ad[p];
    const std::uint64_t t0 = acc[i] + carry + ap * ap;
    const std::uint64_t qi = (t0 * k0) & mask;
    const std::uint64_t c0 = (t0 + m0 * qi) >> D;
    const std::uint64_t t1 = acc[i + 1] + 2 * ap * ad[p + 1] + m1 * qi + c0;
    const std::uint64_t qj = (t1 * k0) & mask;
    carry = (t1 + m0 * qj) >> D;
    const __m256i vqi = _mm256_set1_epi64x(static_cast<long long>(qi));
    const __m256i vqj = _mm256_set1_epi64x(static_cast<long long>(qj));
    const __m256i va = _mm256_set1_epi64x(static_cast<long long>(2 * ap));
    std::uint64_t* w = acc + i;
    std::size_t k = 0;
#pragma GCC unroll 2
    for (; k < n - p; k += 4) {  // columns where row p of the square has terms
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + k));
      const __m256i red = _mm256_add_epi64(
          _mm256_mul_epu32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(mp + 1 + k)), vqi),
          _mm256_mul_epu32(_mm256_load_si256(reinterpret_cast<const __m256i*>(mp + k)), vqj));
      const __m256i sq = _mm256_mul_epu32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ad + p + k)), va);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w + k), _mm256_add_epi64(x, _mm256_add_epi64(red, sq)));
    }
#pragma GCC unroll 2
    for (; k <= n; k += 4) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + k));
      const __m256i red = _mm256_add_epi64(
          _mm256_mul_epu32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(mp + 1 + k)), vqi),
          _mm256_mul_epu32(_mm256_load_si256(reinterpret_cast<const __m256i*>(mp + k)), vqj));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w + k), _mm256_add_epi64(x, red));
    }
  }
  for (std::size_t s = n / 2; s < n; s += 2) {  // rows s and s + 1: 2 a_s a_j and 2 a_(s+1) a_(j-1) at column s + j
    const std::uint64_t x0 = ad[s], x1 = ad[s + 1];
    const __m256i v0 = _mm256_set1_epi64x(static_cast<long long>(2 * x0));
    const __m256i v1 = _mm256_set1_epi64x(static_cast<long long>(2 * x1));
    for (std::size_t j = s + 1; j <= n; j += 4) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + s + j));
      const __m256i t = _mm256_add_epi64(
          _mm256_mul_epu32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ad + j)), v0),
          _mm256_mul_epu32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ad + j - 1)), v1));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + s + j), _mm256_add_epi64(x, t));
    }
    // the sweep counted a_s a_(s+1) twice and a_(s+1)^2 doubled; a_s^2 not at all
    acc[2 * s] += x0 * x0;
    acc[2 * s + 1] -= 2 * x1 * x0;
    acc[2 * s + 2] -= x1 * x1;
  }
  std::uint64_t c = carry;
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint64_t v = acc[n + j] + c;
    r[j] = v & mask;
    c = v >> D;
  }
}
#endif

}  // namespace pmdi::paillier::detail
