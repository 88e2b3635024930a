#pragma once
// 128-bit block (garbling labels, AES state, PRG output unit).
#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace pmdi {

inline constexpr std::size_t block_bytes = 16;

struct block {
  __m128i v;

  block() noexcept : v(_mm_setzero_si128()) {}
  explicit block(__m128i x) noexcept : v(x) {}
  static block from_u64(std::uint64_t hi, std::uint64_t lo) noexcept {
    return block(_mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo)));
  }
  static block load(const void* p) noexcept { return block(_mm_loadu_si128(static_cast<const __m128i*>(p))); }
  void store(void* p) const noexcept { _mm_storeu_si128(static_cast<__m128i*>(p), v); }

  [[nodiscard]] std::uint64_t lo() const noexcept { return static_cast<std::uint64_t>(_mm_cvtsi128_si64(v)); }
  [[nodiscard]] std::uint64_t hi() const noexcept {
    return static_cast<std::uint64_t>(_mm_extract_epi64(v, 1));
  }
  // Point-and-permute colour bit: the least significant bit.
  [[nodiscard]] bool lsb() const noexcept { return (lo() & 1U) != 0; }

  friend block operator^(block a, block b) noexcept { return block(_mm_xor_si128(a.v, b.v)); }
  friend block operator&(block a, block b) noexcept { return block(_mm_and_si128(a.v, b.v)); }
  block& operator^=(block b) noexcept { v = _mm_xor_si128(v, b.v); return *this; }
  friend bool operator==(block a, block b) noexcept {
    const __m128i t = _mm_xor_si128(a.v, b.v);
    return _mm_testz_si128(t, t) != 0;
  }
};

inline const block zero_block{};
// All-ones block if b, zero block otherwise (branch-free select).
[[nodiscard]] inline block select_mask(bool b) noexcept {
  return block(_mm_set1_epi64x(-static_cast<long long>(b)));
}

}  // namespace pmdi
