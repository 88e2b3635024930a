#pragma once
// Paillier internals: modular multiplication, random integers from a pmdi::prg,
// and a fixed-base exponentiation table.
#include <gmp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/crypto/paillier/mpz.hpp"

namespace pmdi::paillier::detail {

// r = a * b mod m (a, b in [0, m)); tmp is scratch space. r may alias a or b.
inline void mulmod(mpz_ptr r, mpz_srcptr a, mpz_srcptr b, mpz_srcptr m, mpz_ptr tmp) noexcept {
  ::mpz_mul(tmp, a, b);
  ::mpz_tdiv_r(r, tmp, m);
}

// A uniform integer in [0, 2^bits) from the prg (little-endian bytes).
inline void random_bits(mpz_ptr out, prg& g, std::size_t bits) {
  secret_vector<std::byte> buf((bits + 7) / 8);
  g.fill(buf.data(), buf.size());
  if (bits % 8 != 0) buf[buf.size() - 1] &= std::byte(static_cast<unsigned char>((1U << (bits % 8)) - 1));
  import_le(out, std::span<const std::byte>(buf.data(), buf.size()));
}

// A uniform-looking unit in [1, m): 128 extra bits then reduction (statistical
// distance 2^-128 from uniform), retried while it shares a factor with m.
inline void random_unit(mpz_ptr out, prg& g, mpz_srcptr m) {
  secret_mpz t, d;
  for (;;) {
    random_bits(t, g, ::mpz_sizeinbase(m, 2) + 128);
    ::mpz_tdiv_r(out, t, m);
    ::mpz_gcd(d, out, m);
    if (mpz_sgn(out) != 0 && cmp_ui(d, 1) == 0) return;
  }
}

// w bits of x starting at bit position pos (x >= 0).
inline unsigned get_bits(mpz_srcptr x, std::size_t pos, unsigned w) noexcept {
  constexpr std::size_t lb = GMP_NUMB_BITS;
  const std::size_t limb = pos / lb, off = pos % lb;
  const std::size_t n = mpz_size(x);
  std::uint64_t v = limb < n ? static_cast<std::uint64_t>(::mpz_getlimbn(x, static_cast<mp_size_t>(limb))) >> off : 0;
  if (off + w > lb && limb + 1 < n)
    v |= static_cast<std::uint64_t>(::mpz_getlimbn(x, static_cast<mp_size_t>(limb + 1))) << (lb - off);
  return static_cast<unsigned>(v & ((std::uint64_t{1} << w) - 1));
}

// Fixed-base exponentiation g^x mod m for exponents x < 2^exp_bits, with a table
// t[i][d] = g^(d * 2^(w*i)) for every window i and digit d in [1, 2^w): one
// modular multiplication per non-zero window of x, no squarings.
// [ref] Brickell, Gordon, McCurley, Wilson: Fast exponentiation with
//       precomputation, EUROCRYPT 1992 (the windowed table; here with the full
//       digit table per window, trading memory for the BGMW giant steps).
// The lookups are indexed by digits of x: not constant time against a
// co-located cache observer (docs/paillier.md).
class fixed_base {
 public:
  fixed_base(mpz_srcptr g, mpz_srcptr m, std::size_t exp_bits, unsigned w, bool secret)
      : w_(w), windows_((exp_bits + w - 1) / w), secret_(secret), m_() {
    ::mpz_set(m_, m);
    const std::size_t per = (std::size_t{1} << w) - 1;
    t_.resize(windows_ * per);
    mpz base, tmp;
    ::mpz_tdiv_r(base, g, m);
    for (std::size_t i = 0; i < windows_; ++i) {
      mpz* row = &t_[i * per];
      row[0] = base;
      for (std::size_t d = 1; d < per; ++d) mulmod(row[d], row[d - 1], base, m_, tmp);
      // next base: base^(2^w) = row[2^(w-1) - 1]^2
      mulmod(base, row[(per - 1) / 2], row[(per - 1) / 2], m_, tmp);
    }
    if (secret_) {
      base.wipe();
      tmp.wipe();
    }
  }
  fixed_base(const fixed_base&) = delete;
  fixed_base& operator=(const fixed_base&) = delete;
  ~fixed_base() {
    if (secret_)
      for (auto& e : t_) e.wipe();
  }

  [[nodiscard]] std::size_t exp_bits() const noexcept { return windows_ * w_; }
  [[nodiscard]] const mpz& modulus() const noexcept { return m_; }

  // out = g^x mod m, x in [0, 2^exp_bits()); tmp is scratch space.
  void pow(mpz_ptr out, mpz_srcptr x, mpz_ptr tmp) const noexcept {
    const std::size_t per = (std::size_t{1} << w_) - 1;
    bool first = true;
    for (std::size_t i = 0; i < windows_; ++i) {
      const unsigned d = get_bits(x, i * w_, w_);
      if (d == 0) continue;
      const mpz& e = t_[i * per + d - 1];
      if (first) {
        ::mpz_set(out, e);
        first = false;
      } else {
        mulmod(out, out, e, m_, tmp);
      }
    }
    if (first) ::mpz_set_ui(out, 1);
  }

 private:
  unsigned w_;
  std::size_t windows_;
  bool secret_;
  mpz m_;
  std::vector<mpz> t_;
};

}  // namespace pmdi::paillier::detail
