#pragma once
// Montgomery multiplication with AVX-512 IFMA (52-bit digits), for the moduli
// of Paillier (N^2, p^2, q^2). GMP's mpz_mul + mpz_tdiv_r at 4096 bits costs
// ~4.7 us on the development machine; this kernel is several times faster on
// CPUs with IFMA (Ice Lake and later, Zen 4 and later). Without IFMA (checked
// at run time) callers use GMP.
//
// Numbers are little-endian arrays of 8K digits of 52 bits in uint64 lanes.
// mul() is the "almost Montgomery multiplication": for inputs < 2m it returns
// a*b*R^-1 mod m as a value < 2m, with R = 2^(52*8K) > 4m, so results can be
// fed back without a final subtraction; from_mont() reduces fully.
// [ref] Montgomery: Modular multiplication without trial division, Math.
//       Comp. 1985; Gueron, Krasnov: Accelerating big integer arithmetic using
//       Intel IFMA extensions, ARITH 2016 (52-bit digit layout, AMM).
#include <gmp.h>
#include <immintrin.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include <sodium.h>

#include "pmdi/core/secret.hpp"
#include "pmdi/crypto/paillier/detail.hpp"
#include "pmdi/crypto/paillier/mpz.hpp"

namespace pmdi::paillier::detail {

// Whether the IFMA path may be used (tests turn it off to compare both paths).
inline std::atomic<bool>& ifma_allowed() {
  static std::atomic<bool> on{std::getenv("PMDI_PAILLIER_NO_IFMA") == nullptr};
  return on;
}

inline bool cpu_has_ifma() noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma");
  }();
  return ok;
#else
  return false;
#endif
}

inline constexpr std::uint64_t digit_mask = (std::uint64_t{1} << 52) - 1;

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
    const std::uint64_t q = (a0 * k0) & digit_mask;
    const __m512i qv = _mm512_set1_epi64(static_cast<long long>(q));
    #pragma GCC unroll 64
    for (int k = 0; k < K; ++k) acc[k] = _mm512_madd52lo_epu64(acc[k], M[k], qv);
    // lane 0 is now 0 mod 2^52: carry its top bits into the next digit, shift down one digit
    const std::uint64_t carry = (a0 + ((m0 * q) & digit_mask)) >> 52;
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
    r[j] = v & digit_mask;
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
    const std::uint64_t q1 = (s1 * k01) & digit_mask, q2 = (s2 * k02) & digit_mask;
    const __m512i qv1 = _mm512_set1_epi64(static_cast<long long>(q1));
    const __m512i qv2 = _mm512_set1_epi64(static_cast<long long>(q2));
    #pragma GCC unroll 64
    for (int k = 0; k < K; ++k) {
      X1[k] = _mm512_madd52lo_epu64(X1[k], M1[k], qv1);
      X2[k] = _mm512_madd52lo_epu64(X2[k], M2[k], qv2);
    }
    const std::uint64_t c1 = (s1 + ((m10 * q1) & digit_mask)) >> 52;
    const std::uint64_t c2 = (s2 + ((m20 * q2) & digit_mask)) >> 52;
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
    r1[j] = v1 & digit_mask;
    r2[j] = v2 & digit_mask;
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

// Montgomery arithmetic modulo an odd m with the IFMA kernel.
class mont52 {
 public:
  explicit mont52(mpz_srcptr m, bool secret = false) : secret_(secret) {
    ::mpz_set(m_, m);
    const std::size_t bits = ::mpz_sizeinbase(m, 2);
    k_ = static_cast<int>((bits + 2 + 415) / 416);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (k_ <= max_mont_vectors && cpu_has_ifma() && mpz_odd_p(m)) fn_ = amm_table[static_cast<std::size_t>(k_)];
    if (fn_ != nullptr && k_ <= max_mont2_vectors) fn2_ = amm2_table[static_cast<std::size_t>(k_)];
#endif
    if (fn_ == nullptr) return;
    mod_ = to_digits(m);
    // k0 = -m^-1 mod 2^52
    std::uint64_t inv = mod_[0];
    for (int i = 0; i < 6; ++i) inv *= 2 - mod_[0] * inv;
    k0_ = (0 - inv) & digit_mask;
    ::mpz_setbit(r_, 52 * digits());  // R
    ::mpz_tdiv_r(r_, r_, m);
    one_.assign(digits(), 0);
    one_[0] = 1;
  }

  mont52(const mont52&) = default;
  mont52& operator=(const mont52&) = delete;
  ~mont52() {
    if (secret_) {
      if (!mod_.empty()) ::sodium_memzero(mod_.data(), mod_.size() * sizeof(std::uint64_t));
      k0_ = 0;
      m_.wipe();
      r_.wipe();
    }
  }

  [[nodiscard]] const mpz& modulus() const noexcept { return m_; }
  // True when the IFMA kernel is present (whether or not it is allowed now).
  [[nodiscard]] bool present() const noexcept { return fn_ != nullptr; }
  // True when the IFMA kernel is present and allowed.
  [[nodiscard]] bool available() const noexcept { return fn_ != nullptr && ifma_allowed().load(); }
  [[nodiscard]] std::size_t digits() const noexcept { return 8 * static_cast<std::size_t>(k_); }

  // out = x * R mod m (x in [0, m)), as digits.
  void to_mont(std::uint64_t* out, mpz_srcptr x, mpz_ptr tmp) const {
    ::mpz_mul(tmp, x, r_);
    ::mpz_tdiv_r(tmp, tmp, m_);
    write_digits(out, tmp);
  }
  // out = x * R^-1 mod m, fully reduced.
  void from_mont(mpz_ptr out, const std::uint64_t* x) const {
    std::vector<std::uint64_t> t(digits());
    mul(t.data(), x, one_.data());
    read_digits(out, t.data());
    if (::mpz_cmp(out, m_) >= 0) ::mpz_sub(out, out, m_);
  }
  void mul(std::uint64_t* r, const std::uint64_t* a, const std::uint64_t* b) const noexcept {
    fn_(r, a, b, mod_.data(), k0_);
  }

  // Whether mul2(*this, o, ...) can run (both IFMA, same digit count).
  [[nodiscard]] bool pairs_with(const mont52& o) const noexcept {
    return available() && o.available() && fn2_ != nullptr && k_ == o.k_;
  }
  // r1 = a1 * b1 (this modulus) and r2 = a2 * b2 (o's modulus), interleaved.
  void mul2(const mont52& o, std::uint64_t* r1, const std::uint64_t* a1, const std::uint64_t* b1, std::uint64_t* r2,
            const std::uint64_t* a2, const std::uint64_t* b2) const noexcept {
    fn2_(r1, a1, b1, mod_.data(), k0_, r2, a2, b2, o.mod_.data(), o.k0_);
  }

  [[nodiscard]] std::vector<std::uint64_t> to_digits(mpz_srcptr x) const {
    std::vector<std::uint64_t> d(digits());
    write_digits(d.data(), x);
    return d;
  }
  void write_digits(std::uint64_t* out, mpz_srcptr x) const noexcept {
    for (std::size_t i = 0; i < digits(); ++i) out[i] = get_bits52(x, 52 * i);
  }
  void read_digits(mpz_ptr out, const std::uint64_t* d) const {
    const std::size_t nl = (52 * digits() + 63) / 64 + 1;
    std::vector<std::uint64_t> limbs(nl, 0);
    for (std::size_t i = 0; i < digits(); ++i) {
      const std::size_t pos = 52 * i, l = pos / 64, off = pos % 64;
      limbs[l] |= d[i] << off;
      if (off + 52 > 64) limbs[l + 1] |= d[i] >> (64 - off);
    }
    ::mpz_import(out, nl, -1, sizeof(std::uint64_t), 0, 0, limbs.data());
  }

 private:
  static std::uint64_t get_bits52(mpz_srcptr x, std::size_t pos) noexcept {
    const std::size_t limb = pos / 64, off = pos % 64, n = mpz_size(x);
    std::uint64_t v = limb < n ? static_cast<std::uint64_t>(::mpz_getlimbn(x, static_cast<mp_size_t>(limb))) >> off : 0;
    if (off + 52 > 64 && limb + 1 < n)
      v |= static_cast<std::uint64_t>(::mpz_getlimbn(x, static_cast<mp_size_t>(limb + 1))) << (64 - off);
    return v & digit_mask;
  }

  using fn = void (*)(std::uint64_t*, const std::uint64_t*, const std::uint64_t*, const std::uint64_t*,
                      std::uint64_t) noexcept;
  using fn2 = void (*)(std::uint64_t*, const std::uint64_t*, const std::uint64_t*, const std::uint64_t*, std::uint64_t,
                       std::uint64_t*, const std::uint64_t*, const std::uint64_t*, const std::uint64_t*,
                       std::uint64_t) noexcept;
  bool secret_ = false;
  fn fn_ = nullptr;
  fn2 fn2_ = nullptr;
  int k_ = 0;
  std::uint64_t k0_ = 0;
  mpz m_, r_;
  std::vector<std::uint64_t> mod_, one_;
};

// out1 = b1^e1 mod m1 and out2 = b2^e2 mod m2 (b in [0, m), e >= 0 with at most
// ebits bits), the two through the interleaved kernel. Constant time in the
// exponents' values (their bit length ebits is public): fixed 5-bit windows,
// always a multiplication, table entries chosen by a full masked scan.
// Requires m1.pairs_with(m2).
inline void powm2_sec(const mont52& m1, const mont52& m2, mpz_ptr out1, mpz_srcptr b1, mpz_srcptr e1, mpz_ptr out2,
                      mpz_srcptr b2, mpz_srcptr e2, std::size_t ebits) {
  constexpr unsigned w = 5;
  constexpr std::size_t entries = std::size_t{1} << w;
  const std::size_t L = m1.digits();
  secret_vector<std::uint64_t> t1(entries * L), t2(entries * L), a1(L), a2(L), s1(L), s2(L);
  secret_mpz tmp;
  const mpz one(1);
  m1.to_mont(&t1[0], one, tmp);
  m2.to_mont(&t2[0], one, tmp);
  m1.to_mont(&t1[L], b1, tmp);
  m2.to_mont(&t2[L], b2, tmp);
  for (std::size_t i = 2; i < entries; ++i)
    m1.mul2(m2, &t1[i * L], &t1[(i - 1) * L], &t1[L], &t2[i * L], &t2[(i - 1) * L], &t2[L]);
  auto select = [&](std::uint64_t* out, const secret_vector<std::uint64_t>& t, unsigned d) {
    for (std::size_t j = 0; j < L; ++j) out[j] = 0;
    for (std::size_t i = 0; i < entries; ++i) {
      const std::uint64_t mask = 0 - (((static_cast<std::uint64_t>(i) ^ d) - 1) >> 63);
      const std::uint64_t* row = &t[i * L];
      for (std::size_t j = 0; j < L; ++j) out[j] |= row[j] & mask;
    }
  };
  const std::size_t windows = (ebits + w - 1) / w;
  for (std::size_t win = windows; win-- > 0;) {
    const unsigned d1 = get_bits(e1, win * w, w), d2 = get_bits(e2, win * w, w);
    if (win == windows - 1) {
      select(a1.data(), t1, d1);
      select(a2.data(), t2, d2);
      continue;
    }
    for (unsigned i = 0; i < w; ++i) m1.mul2(m2, a1.data(), a1.data(), a1.data(), a2.data(), a2.data(), a2.data());
    select(s1.data(), t1, d1);
    select(s2.data(), t2, d2);
    m1.mul2(m2, a1.data(), a1.data(), s1.data(), a2.data(), a2.data(), s2.data());
  }
  m1.from_mont(out1, a1.data());
  m2.from_mont(out2, a2.data());
}

// Constant-time fixed-base exponentiation in the Montgomery domain: for each
// 4-bit window i of the exponent, the 16 powers g^(d * 2^(4i)), d = 0..15
// (d = 0 is R mod m, the Montgomery one). g^x is one multiplication per window
// whatever the digit, each entry read by a full masked scan of its window's 16.
class ct_fixed_base {
 public:
  static constexpr unsigned w = 4;
  static constexpr std::size_t entries = std::size_t{1} << w;

  ct_fixed_base(mpz_srcptr g, const mont52& ctx, std::size_t exp_bits, bool secret)
      : ctx_(ctx), windows_((exp_bits + w - 1) / w), secret_(secret) {
    const std::size_t L = ctx_.digits();
    t_.assign(windows_ * entries * L, 0);
    secret_mpz tmp, gr;
    ::mpz_tdiv_r(gr, g, ctx_.modulus());
    std::vector<std::uint64_t> base(L);
    ctx_.to_mont(base.data(), gr, tmp);
    const mpz one(1);
    for (std::size_t i = 0; i < windows_; ++i) {
      std::uint64_t* row = &t_[i * entries * L];
      ctx_.to_mont(row, one, tmp);
      std::memcpy(row + L, base.data(), L * sizeof(std::uint64_t));
      for (std::size_t d = 2; d < entries; ++d) ctx_.mul(row + d * L, row + (d - 1) * L, base.data());
      ctx_.mul(base.data(), row + (entries / 2) * L, row + (entries / 2) * L);  // g^(2^(4(i+1)))
    }
    if (secret_) ::sodium_memzero(base.data(), base.size() * sizeof(std::uint64_t));
  }
  ct_fixed_base(const ct_fixed_base&) = delete;
  ct_fixed_base& operator=(const ct_fixed_base&) = delete;
  ~ct_fixed_base() {
    if (secret_ && !t_.empty()) ::sodium_memzero(t_.data(), t_.size() * sizeof(std::uint64_t));
  }

  [[nodiscard]] const mont52& ctx() const noexcept { return ctx_; }
  [[nodiscard]] std::size_t exp_bits() const noexcept { return windows_ * w; }

  // out = entry d of window i, by a masked scan of all 16 entries.
  void select(std::uint64_t* out, std::size_t i, unsigned d) const noexcept {
    const std::size_t L = ctx_.digits();
    const std::uint64_t* row = &t_[i * entries * L];
    for (std::size_t j = 0; j < L; ++j) out[j] = 0;
    for (std::size_t e = 0; e < entries; ++e) {
      const std::uint64_t mask = 0 - (((static_cast<std::uint64_t>(e) ^ d) - 1) >> 63);
      const std::uint64_t* src = row + e * L;
      for (std::size_t j = 0; j < L; ++j) out[j] |= src[j] & mask;
    }
  }

  // out = g^x mod m for x < 2^exp_bits().
  void pow(mpz_ptr out, mpz_srcptr x) const {
    const std::size_t L = ctx_.digits();
    secret_vector<std::uint64_t> acc(L), sel(L);
    select(acc.data(), 0, get_bits(x, 0, w));
    for (std::size_t i = 1; i < windows_; ++i) {
      select(sel.data(), i, get_bits(x, i * w, w));
      ctx_.mul(acc.data(), acc.data(), sel.data());
    }
    ctx_.from_mont(out, acc.data());
  }

  // out1 = g1^x mod m1 and out2 = g2^x mod m2 through the interleaved kernel
  // (a.ctx().pairs_with(b.ctx()) and equal exponent sizes required).
  static void pow2(const ct_fixed_base& a, const ct_fixed_base& b, mpz_ptr out1, mpz_ptr out2, mpz_srcptr x) {
    const std::size_t L = a.ctx_.digits();
    secret_vector<std::uint64_t> a1(L), s1(L), a2(L), s2(L);
    const unsigned d0 = get_bits(x, 0, w);
    a.select(a1.data(), 0, d0);
    b.select(a2.data(), 0, d0);
    for (std::size_t i = 1; i < a.windows_; ++i) {
      const unsigned d = get_bits(x, i * w, w);
      a.select(s1.data(), i, d);
      b.select(s2.data(), i, d);
      a.ctx_.mul2(b.ctx_, a1.data(), a1.data(), s1.data(), a2.data(), a2.data(), s2.data());
    }
    a.ctx_.from_mont(out1, a1.data());
    b.ctx_.from_mont(out2, a2.data());
  }

 private:
  mont52 ctx_;
  std::size_t windows_;
  bool secret_;
  std::vector<std::uint64_t> t_;
};

}  // namespace pmdi::paillier::detail
