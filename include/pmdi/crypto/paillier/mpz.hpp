#pragma once
// A small RAII owner of a GMP integer (mpz_t), and a variant that zeroes its
// limbs before they are freed (for key material and secret-derived values).
// Only what the Paillier code needs: construction from int64 / decimal / hex,
// bit length, comparison, conversion to int64 (checked) and to the low 64 bits
// (two's complement, for reductions mod 2^l), little-endian fixed-width
// import/export.
#include <gmp.h>
#include <sodium.h>

#include <compare>
#include <concepts>
#include <type_traits>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "pmdi/core/error.hpp"

namespace pmdi::paillier {

class mpz {
 public:
  mpz() noexcept { ::mpz_init(v_); }
  // Any built-in integer, signed or unsigned (so a ring value r in
  // [0, 2^64) keeps its value); implicit on purpose, for plaintexts.
  template <std::integral T>
  mpz(T x) noexcept {  // NOLINT
    ::mpz_init(v_);
    set(x);
  }
  // Decimal, or hexadecimal with a 0x prefix; an optional leading '-'.
  explicit mpz(std::string_view s) {
    ::mpz_init(v_);
    std::string t(s);
    if (::mpz_set_str(v_, t.c_str(), 0) != 0) {
      ::mpz_clear(v_);
      throw usage_error("paillier::mpz: '" + t + "' is not an integer");
    }
  }
  mpz(const mpz& o) noexcept { ::mpz_init_set(v_, o.v_); }
  mpz(mpz&& o) noexcept {
    ::mpz_init(v_);
    ::mpz_swap(v_, o.v_);
  }
  mpz& operator=(const mpz& o) noexcept {
    ::mpz_set(v_, o.v_);
    return *this;
  }
  mpz& operator=(mpz&& o) noexcept {
    ::mpz_swap(v_, o.v_);
    return *this;
  }
  ~mpz() { ::mpz_clear(v_); }

  template <std::integral T>
  void set(T x) noexcept {
    // mpz_set_si / _ui take a long, which is 64-bit on the platforms pmdi supports.
    static_assert(sizeof(long) == 8 && sizeof(T) <= 8);
    if constexpr (std::is_signed_v<T>)
      ::mpz_set_si(v_, static_cast<long>(x));
    else
      ::mpz_set_ui(v_, static_cast<unsigned long>(x));
  }

  [[nodiscard]] mpz_ptr get() noexcept { return v_; }
  [[nodiscard]] mpz_srcptr get() const noexcept { return v_; }
  operator mpz_ptr() noexcept { return v_; }             // NOLINT: GMP calls
  operator mpz_srcptr() const noexcept { return v_; }    // NOLINT

  [[nodiscard]] int sign() const noexcept { return mpz_sgn(v_); }
  [[nodiscard]] std::size_t bits() const noexcept { return sign() == 0 ? 0 : ::mpz_sizeinbase(v_, 2); }
  [[nodiscard]] bool fits_int64() const noexcept { return ::mpz_fits_slong_p(v_) != 0; }
  // Throws usage_error unless the value fits.
  [[nodiscard]] std::int64_t to_int64() const {
    if (!fits_int64()) throw usage_error("paillier::mpz: value does not fit in int64");
    return ::mpz_get_si(v_);
  }
  // The value mod 2^64 (two's complement for negative values).
  [[nodiscard]] std::uint64_t low_u64() const noexcept {
    std::uint64_t lo = mpz_size(v_) == 0 ? 0 : static_cast<std::uint64_t>(::mpz_getlimbn(v_, 0));
    return sign() < 0 ? 0 - lo : lo;
  }
  [[nodiscard]] std::string to_string(int base = 10) const {
    std::string s(::mpz_sizeinbase(v_, base) + 2, '\0');
    ::mpz_get_str(s.data(), base, v_);
    s.resize(std::char_traits<char>::length(s.c_str()));
    return s;
  }

  // Overwrites every allocated limb with zeros and sets the value to 0.
  void wipe() noexcept {
    if (v_->_mp_alloc > 0 && v_->_mp_d != nullptr)
      ::sodium_memzero(v_->_mp_d, static_cast<std::size_t>(v_->_mp_alloc) * sizeof(mp_limb_t));
    v_->_mp_size = 0;
  }

  friend bool operator==(const mpz& a, const mpz& b) noexcept { return ::mpz_cmp(a.v_, b.v_) == 0; }
  friend std::strong_ordering operator<=>(const mpz& a, const mpz& b) noexcept {
    const int c = ::mpz_cmp(a.v_, b.v_);
    return c < 0 ? std::strong_ordering::less : c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal;
  }

 private:
  mpz_t v_;
};

// An mpz that zeroes its limbs before GMP frees them. (GMP's own scratch space
// inside an operation is not covered; see docs/paillier.md.)
class secret_mpz : public mpz {
 public:
  using mpz::mpz;
  secret_mpz() noexcept = default;
  secret_mpz(const secret_mpz&) noexcept = default;
  secret_mpz(secret_mpz&& o) noexcept : mpz(std::move(o)) {}
  secret_mpz& operator=(const secret_mpz& o) noexcept {
    mpz::operator=(o);
    return *this;
  }
  secret_mpz& operator=(secret_mpz&& o) noexcept {
    mpz::operator=(std::move(o));
    return *this;
  }
  secret_mpz& operator=(const mpz& o) noexcept {
    mpz::operator=(o);
    return *this;
  }
  ~secret_mpz() { wipe(); }
};

// mpz_cmp_ui is a macro in gmp.h; this is the callable form.
[[nodiscard]] inline int cmp_ui(mpz_srcptr a, unsigned long b) noexcept { return mpz_cmp_ui(a, b); }

// Fixed-width little-endian export: exactly out.size() bytes (value must fit).
inline void export_le(mpz_srcptr v, std::span<std::byte> out) {
  if (mpz_sgn(v) < 0 || (mpz_sgn(v) != 0 && (::mpz_sizeinbase(v, 2) + 7) / 8 > out.size()))
    throw usage_error("paillier: integer does not fit its fixed-width encoding");
  std::size_t count = 0;
  for (auto& b : out) b = std::byte{0};
  ::mpz_export(out.data(), &count, -1, 1, 0, 0, v);
}

inline void import_le(mpz_ptr v, std::span<const std::byte> in) noexcept {
  ::mpz_import(v, in.size(), -1, 1, 0, 0, in.data());
}

}  // namespace pmdi::paillier
