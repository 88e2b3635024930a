#pragma once
// Secret-holding buffers that zero themselves, and constant-time comparison.
#include <sodium.h>

#include <cstddef>
#include <span>
#include <stdexcept>
#include <vector>

#include "pmdi/core/huge_pages.hpp"

namespace pmdi {

inline void sodium_init_or_throw() {
  static const bool ok = [] { return ::sodium_init() >= 0; }();
  if (!ok) throw std::runtime_error("libsodium failed to initialise");
}

inline void secure_zero(void* p, std::size_t n) noexcept { ::sodium_memzero(p, n); }

template <class T>
void secure_zero(std::span<T> s) noexcept {
  ::sodium_memzero(s.data(), s.size_bytes());
}

// Constant-time equality of two byte ranges of the same length.
[[nodiscard]] inline bool ct_equal(std::span<const std::byte> a, std::span<const std::byte> b) noexcept {
  return a.size() == b.size() && ::sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// A vector that zeroes its storage when destroyed or cleared by wipe(); large
// ones live in huge pages (core/huge_pages.hpp).
template <class T>
class secret_vector {
 public:
  secret_vector() = default;
  explicit secret_vector(std::size_t n) : v_(n) {}
  secret_vector(const secret_vector&) = default;
  secret_vector& operator=(const secret_vector& o) {
    if (this != &o) { wipe(); v_ = o.v_; }
    return *this;
  }
  secret_vector(secret_vector&& o) noexcept : v_(std::move(o.v_)) {}
  secret_vector& operator=(secret_vector&& o) noexcept {
    if (this != &o) { wipe(); v_ = std::move(o.v_); }
    return *this;
  }
  ~secret_vector() { wipe(); }

  void wipe() noexcept {
    if (!v_.empty()) secure_zero(std::span<T>(v_));
    v_.clear();
  }
  void resize(std::size_t n) { v_.resize(n); }
  [[nodiscard]] std::size_t size() const noexcept { return v_.size(); }
  [[nodiscard]] bool empty() const noexcept { return v_.empty(); }
  T* data() noexcept { return v_.data(); }
  const T* data() const noexcept { return v_.data(); }
  T& operator[](std::size_t i) noexcept { return v_[i]; }
  const T& operator[](std::size_t i) const noexcept { return v_[i]; }
  auto begin() noexcept { return v_.begin(); }
  auto end() noexcept { return v_.end(); }
  auto begin() const noexcept { return v_.begin(); }
  auto end() const noexcept { return v_.end(); }
  operator std::span<T>() noexcept { return v_; }
  operator std::span<const T>() const noexcept { return v_; }

 private:
  large_vector<T> v_;
};

}  // namespace pmdi
