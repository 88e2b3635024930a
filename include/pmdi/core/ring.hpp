#pragma once
// Z_{2^l} ring elements and fixed-point encoding with f fractional bits.
//
// Values live in the unsigned type of width l; arithmetic wraps mod 2^l.
// A value is read as signed two's complement when decoded or truncated.
//
// Rounding, exactly (the protocol and the plaintext oracle share these):
//  - encode(x)     = round-half-away-from-zero(x * 2^f) mod 2^l (std::llround)
//  - trunc(v, s)   = floor(signed(v) / 2^s) mod 2^l, i.e. an arithmetic shift
//                    right by s bits. It rounds toward minus infinity.
//  - decode(v)     = signed(v) / 2^f as a double.
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

namespace pmdi {

template <unsigned L, unsigned F>
struct ring {
  static_assert(L == 32 || L == 64, "pmdi::ring<L, F>: L must be 32 or 64");
  static_assert(F < L - 1, "pmdi::ring<L, F>: F fractional bits must leave a sign bit");

  using value_type = std::conditional_t<L == 32, std::uint32_t, std::uint64_t>;
  using signed_type = std::make_signed_t<value_type>;

  static constexpr unsigned bits = L;
  static constexpr unsigned frac = F;
  static constexpr double scale = static_cast<double>(std::uint64_t{1} << F);

  [[nodiscard]] static constexpr signed_type to_signed(value_type v) noexcept {
    return static_cast<signed_type>(v);  // two's complement (C++20)
  }
  [[nodiscard]] static constexpr value_type from_signed(std::int64_t s) noexcept {
    return static_cast<value_type>(s);  // mod 2^l
  }
  [[nodiscard]] static value_type encode(double x) noexcept {
    return from_signed(std::llround(x * scale));
  }
  [[nodiscard]] static constexpr double decode(value_type v) noexcept {
    return static_cast<double>(to_signed(v)) / scale;
  }
  // Arithmetic shift right by s: floor(signed(v) / 2^s).
  [[nodiscard]] static constexpr value_type trunc(value_type v, unsigned s) noexcept {
    return static_cast<value_type>(to_signed(v) >> s);
  }
};

template <class T>
concept ring_type = requires {
  typename T::value_type;
  { T::bits } -> std::convertible_to<unsigned>;
  { T::frac } -> std::convertible_to<unsigned>;
};

// Additive sharing: n shares in Z_{2^l} that sum to v. Shares 1..n-1 are
// uniform from the injected generator; the last one closes the sum.
template <std::unsigned_integral V, class Prg>
void share(std::span<const V> v, std::span<std::vector<V>> out, Prg& prg) {
  const std::size_t n = out.size();
  for (auto& s : out) s.resize(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    V acc = v[i];
    for (std::size_t j = 0; j + 1 < n; ++j) {
      const V r = prg.template next<V>();
      out[j][i] = r;
      acc -= r;
    }
    out[n - 1][i] = acc;
  }
}

template <std::unsigned_integral V>
[[nodiscard]] std::vector<V> reconstruct(std::span<const std::vector<V>> shares) {
  std::vector<V> v(shares.empty() ? 0 : shares[0].size(), V{0});
  for (const auto& s : shares)
    for (std::size_t i = 0; i < v.size(); ++i) v[i] += s[i];
  return v;
}

}  // namespace pmdi
