#pragma once
// Little-endian fixed-width serialization, and a reader for untrusted bytes
// that checks every length before it reads (decode_error otherwise).
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"

namespace pmdi {

static_assert(std::endian::native == std::endian::little, "pmdi assumes a little-endian host");

class byte_writer {
 public:
  template <std::integral T>
  void put(T v) {
    const std::size_t at = buf_.size();
    buf_.resize(at + sizeof(T));
    std::memcpy(buf_.data() + at, &v, sizeof(T));
  }
  void put_bytes(std::span<const std::byte> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void put_array(std::span<const T> v) {
    put_bytes(std::as_bytes(v));
  }
  [[nodiscard]] std::vector<std::byte>& bytes() noexcept { return buf_; }
  [[nodiscard]] std::vector<std::byte> take() noexcept { return std::move(buf_); }

 private:
  std::vector<std::byte> buf_;
};

class byte_reader {
 public:
  byte_reader(std::span<const std::byte> b, std::string what) : b_(b), what_(std::move(what)) {}

  template <std::integral T>
  [[nodiscard]] T get() {
    T v;
    std::memcpy(&v, take(sizeof v).data(), sizeof v);
    return v;
  }
  // An integer that must lie in [lo, hi].
  template <std::integral T>
  [[nodiscard]] T get_in(T lo, T hi, const char* field) {
    const T v = get<T>();
    if (v < lo || v > hi)
      throw decode_error(what_ + ": field '" + field + "' = " + std::to_string(v) + " out of range [" +
                         std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
  }
  [[nodiscard]] std::span<const std::byte> take(std::size_t n) {
    if (n > b_.size() - pos_)
      throw decode_error(what_ + ": truncated: need " + std::to_string(n) + " bytes at offset " +
                         std::to_string(pos_) + ", have " + std::to_string(b_.size() - pos_));
    auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void get_array(std::span<T> out) {
    auto s = take(out.size_bytes());
    if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());  // an empty span may hold a null pointer
  }
  [[nodiscard]] std::size_t remaining() const noexcept { return b_.size() - pos_; }
  // Throws unless every byte was consumed.
  void expect_end() const {
    if (pos_ != b_.size())
      throw decode_error(what_ + ": " + std::to_string(b_.size() - pos_) + " trailing bytes");
  }
  [[nodiscard]] const std::string& what() const noexcept { return what_; }

 private:
  std::span<const std::byte> b_;
  std::size_t pos_ = 0;
  std::string what_;
};

}  // namespace pmdi
