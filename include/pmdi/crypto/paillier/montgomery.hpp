#pragma once
// Montgomery arithmetic for the moduli of Paillier (N^2, p^2, q^2) with a
// vector kernel chosen at run time: AVX-512 IFMA (52-bit digits,
// amm_ifma.hpp) where the CPU has it, else AVX2 (27-bit digits,
// amm_avx2.hpp); without either, callers use GMP. Both kernels compute the
// "almost Montgomery multiplication": for inputs < 2m, a*b*R^-1 mod m as a
// value < 2m (R = 2^(digit bits * digits) > 4m), so results feed back without
// a final subtraction; from_mont() reduces fully. GMP's mpz_mul + mpz_tdiv_r
// at 4096 bits costs about 5 us on the Zen 3 development machine, the AVX2
// kernel about 3 us, the IFMA kernel several times less (docs/paillier.md).
//
// PMDI_PAILLIER_KERNEL=gmp|avx2|ifma in the environment picks a kernel (all
// give the same results; a kernel the CPU lacks is an error); unset or auto
// picks the fastest the CPU has.
#include <gmp.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "pmdi/core/error.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/crypto/paillier/amm_avx2.hpp"
#include "pmdi/crypto/paillier/amm_ifma.hpp"
#include "pmdi/crypto/paillier/detail.hpp"
#include "pmdi/crypto/paillier/mpz.hpp"

namespace pmdi::paillier::detail {

enum class kernel { gmp, avx2, ifma };

// The vector kernels this CPU can run, read once (the kernels carry their own
// target attributes, so no compiler flags are needed).
struct cpu_kernels {
  bool avx2 = false, ifma = false;
};
inline const cpu_kernels& this_cpu() noexcept {
  static const cpu_kernels k = [] {
    cpu_kernels c;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    c.avx2 = __builtin_cpu_supports("avx2");
    c.ifma = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma");
#endif
    return c;
  }();
  return k;
}
inline bool cpu_has_avx2() noexcept { return this_cpu().avx2; }
inline bool cpu_has_ifma() noexcept { return this_cpu().ifma; }

// Whether the vector kernels may be used (tests turn them off to compare with
// the GMP paths).
inline std::atomic<bool>& kernels_allowed() {
  static std::atomic<bool> on{true};
  return on;
}

// The kernel new contexts use: PMDI_PAILLIER_KERNEL if set, else the fastest
// the CPU has.
inline kernel default_kernel() {
  const char* env = std::getenv("PMDI_PAILLIER_KERNEL");
  const std::string_view want = env != nullptr ? env : "auto";
  if (want == "auto" || want.empty()) return cpu_has_ifma() ? kernel::ifma : cpu_has_avx2() ? kernel::avx2 : kernel::gmp;
  if (want == "gmp") return kernel::gmp;
  if (want == "avx2" && cpu_has_avx2()) return kernel::avx2;
  if (want == "ifma" && cpu_has_ifma()) return kernel::ifma;
  if (want == "avx2" || want == "ifma")
    throw usage_error("PMDI_PAILLIER_KERNEL=" + std::string(want) + ": this CPU has no " +
                      (want == "avx2" ? "AVX2" : "AVX-512 IFMA"));
  throw usage_error("PMDI_PAILLIER_KERNEL=" + std::string(want) + ": expected auto, gmp, avx2 or ifma");
}

// Montgomery arithmetic modulo an odd m with one of the vector kernels.
// Elements are runs of digits() digits of digit_bits() bits in uint64 lanes.
class montgomery {
 public:
  explicit montgomery(mpz_srcptr m, bool secret = false, kernel want = default_kernel()) : secret_(secret) {
    ::mpz_set(m_, m);
    const std::size_t bits = ::mpz_sizeinbase(m, 2);
    if (mpz_odd_p(m) == 0) return;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (want == kernel::ifma && cpu_has_ifma()) {
      const auto k = (bits + 2 + 415) / 416;  // 8 digits of 52 bits a vector
      if (k <= max_mont_vectors) {
        fn_ = amm_table[k];
        if (k <= max_mont2_vectors) fn2_ = amm2_table[k];
        kernel_ = kernel::ifma;
        dbits_ = ifma_digit_bits;
        n_ = 8 * k;
      }
    } else if (want == kernel::avx2 && cpu_has_avx2()) {
      const auto n = ((bits + 2 + avx2_digit_bits - 1) / avx2_digit_bits + 3) / 4 * 4;
      if (n <= max_avx2_digits) {
        kernel_ = kernel::avx2;
        dbits_ = avx2_digit_bits;
        n_ = n;
      }
    }
#endif
    if (kernel_ == kernel::gmp) return;
    mod_ = to_digits(m);
    if (kernel_ == kernel::avx2) {  // the kernel's padded layout: [0, m_0 .. m_(n-1), 0, 0, 0, 0]
      padded_.assign((n_ + 5 + 3) / 4, lanes4{});
      std::memcpy(padded_modulus() + 1, mod_.data(), n_ * sizeof(std::uint64_t));
    }
    // k0 = -m^-1 mod 2^digit_bits (Newton's iteration doubles the correct low bits)
    std::uint64_t inv = mod_[0];
    for (int i = 0; i < 6; ++i) inv *= 2 - mod_[0] * inv;
    k0_ = (0 - inv) & digit_mask();
    ::mpz_setbit(r_, dbits_ * digits());  // R
    ::mpz_tdiv_r(r_, r_, m);
    one_.assign(digits(), 0);
    one_[0] = 1;
  }

  montgomery(const montgomery&) = default;
  montgomery& operator=(const montgomery&) = delete;
  ~montgomery() {
    if (secret_) {
      if (!mod_.empty()) ::sodium_memzero(mod_.data(), mod_.size() * sizeof(std::uint64_t));
      if (!padded_.empty()) ::sodium_memzero(padded_.data(), padded_.size() * sizeof(lanes4));
      k0_ = 0;
      m_.wipe();
      r_.wipe();
    }
  }

  [[nodiscard]] const mpz& modulus() const noexcept { return m_; }
  [[nodiscard]] kernel which() const noexcept { return kernel_; }
  // True when a vector kernel is present (whether or not it is allowed now).
  [[nodiscard]] bool present() const noexcept { return kernel_ != kernel::gmp; }
  // True when a vector kernel is present and allowed.
  [[nodiscard]] bool available() const noexcept { return present() && kernels_allowed().load(); }
  [[nodiscard]] std::size_t digits() const noexcept { return n_; }
  [[nodiscard]] unsigned digit_bits() const noexcept { return dbits_; }

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
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (kernel_ == kernel::avx2) {
      amm27(r, a, b, padded_modulus(), k0_, n_);
      return;
    }
#endif
    fn_(r, a, b, mod_.data(), k0_);
  }

  // r = a * a: the AVX2 kernel's squaring (about 3/4 of the products), else mul.
  void sqr(std::uint64_t* r, const std::uint64_t* a) const noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (kernel_ == kernel::avx2) {
      amm27_sqr(r, a, padded_modulus(), k0_, n_);
      return;
    }
#endif
    mul(r, a, a);
  }

  // Whether mul2(*this, o, ...) can run (the same kernel and digit count).
  [[nodiscard]] bool pairs_with(const montgomery& o) const noexcept {
    return available() && o.available() && kernel_ == o.kernel_ && n_ == o.n_ &&
           (kernel_ != kernel::ifma || fn2_ != nullptr);
  }
  // r1 = a1 * b1 (this modulus) and r2 = a2 * b2 (o's modulus): interleaved in
  // one IFMA kernel, one after the other with AVX2 (bound by its multiplier
  // throughput, not by latency).
  void mul2(const montgomery& o, std::uint64_t* r1, const std::uint64_t* a1, const std::uint64_t* b1, std::uint64_t* r2,
            const std::uint64_t* a2, const std::uint64_t* b2) const noexcept {
    if (kernel_ == kernel::ifma) {
      fn2_(r1, a1, b1, mod_.data(), k0_, r2, a2, b2, o.mod_.data(), o.k0_);
      return;
    }
    mul(r1, a1, b1);
    o.mul(r2, a2, b2);
  }

  // r1 = a1 * a1 (this modulus) and r2 = a2 * a2 (o's modulus), as mul2.
  void sqr2(const montgomery& o, std::uint64_t* r1, const std::uint64_t* a1, std::uint64_t* r2,
            const std::uint64_t* a2) const noexcept {
    if (kernel_ == kernel::ifma) {
      fn2_(r1, a1, a1, mod_.data(), k0_, r2, a2, a2, o.mod_.data(), o.k0_);
      return;
    }
    sqr(r1, a1);
    o.sqr(r2, a2);
  }

  [[nodiscard]] std::vector<std::uint64_t> to_digits(mpz_srcptr x) const {
    std::vector<std::uint64_t> d(digits());
    write_digits(d.data(), x);
    return d;
  }
  void write_digits(std::uint64_t* out, mpz_srcptr x) const noexcept {
    for (std::size_t i = 0; i < digits(); ++i) out[i] = get_digit(x, std::size_t{dbits_} * i);
  }
  void read_digits(mpz_ptr out, const std::uint64_t* d) const {
    const std::size_t nl = (std::size_t{dbits_} * digits() + 63) / 64 + 1;
    std::vector<std::uint64_t> limbs(nl, 0);
    for (std::size_t i = 0; i < digits(); ++i) {
      const std::size_t pos = std::size_t{dbits_} * i, l = pos / 64, off = pos % 64;
      limbs[l] |= d[i] << off;
      if (off + dbits_ > 64) limbs[l + 1] |= d[i] >> (64 - off);
    }
    ::mpz_import(out, nl, -1, sizeof(std::uint64_t), 0, 0, limbs.data());
  }

 private:
  [[nodiscard]] std::uint64_t digit_mask() const noexcept { return (std::uint64_t{1} << dbits_) - 1; }
  std::uint64_t get_digit(mpz_srcptr x, std::size_t pos) const noexcept {
    const std::size_t limb = pos / 64, off = pos % 64, n = mpz_size(x);
    std::uint64_t v = limb < n ? static_cast<std::uint64_t>(::mpz_getlimbn(x, static_cast<mp_size_t>(limb))) >> off : 0;
    if (off + dbits_ > 64 && limb + 1 < n)
      v |= static_cast<std::uint64_t>(::mpz_getlimbn(x, static_cast<mp_size_t>(limb + 1))) << (64 - off);
    return v & digit_mask();
  }
  // The AVX2 kernel's modulus, [0, m_0 .. m_(n-1), 0, 0, 0, 0], in 32-byte
  // aligned groups of four digits (the kernel's aligned loads): a vector of
  // an over-aligned type is allocated aligned, and copies stay aligned.
  struct alignas(32) lanes4 {
    std::uint64_t d[4];
  };
  [[nodiscard]] const std::uint64_t* padded_modulus() const noexcept {
    return reinterpret_cast<const std::uint64_t*>(padded_.data());
  }
  [[nodiscard]] std::uint64_t* padded_modulus() noexcept { return reinterpret_cast<std::uint64_t*>(padded_.data()); }

  using fn = void (*)(std::uint64_t*, const std::uint64_t*, const std::uint64_t*, const std::uint64_t*,
                      std::uint64_t) noexcept;
  using fn2 = void (*)(std::uint64_t*, const std::uint64_t*, const std::uint64_t*, const std::uint64_t*, std::uint64_t,
                       std::uint64_t*, const std::uint64_t*, const std::uint64_t*, const std::uint64_t*,
                       std::uint64_t) noexcept;
  bool secret_ = false;
  kernel kernel_ = kernel::gmp;
  fn fn_ = nullptr;
  fn2 fn2_ = nullptr;
  unsigned dbits_ = 0;
  std::size_t n_ = 0;
  std::uint64_t k0_ = 0;
  mpz m_, r_;
  std::vector<std::uint64_t> mod_, one_;
  std::vector<lanes4> padded_;
};

// out1 = b1^e1 mod m1 and out2 = b2^e2 mod m2 (b in [0, m), e >= 0 with at most
// ebits bits), the two through mul2. Constant time in the
// exponents' values (their bit length ebits is public): fixed 5-bit windows,
// always a multiplication, table entries chosen by a full masked scan.
// Requires m1.pairs_with(m2).
inline void powm2_sec(const montgomery& m1, const montgomery& m2, mpz_ptr out1, mpz_srcptr b1, mpz_srcptr e1, mpz_ptr out2,
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
    for (unsigned i = 0; i < w; ++i) m1.sqr2(m2, a1.data(), a1.data(), a2.data(), a2.data());
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

  ct_fixed_base(mpz_srcptr g, const montgomery& ctx, std::size_t exp_bits, bool secret)
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

  [[nodiscard]] const montgomery& ctx() const noexcept { return ctx_; }
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
  montgomery ctx_;
  std::size_t windows_;
  bool secret_;
  std::vector<std::uint64_t> t_;
};

}  // namespace pmdi::paillier::detail
