#pragma once
// Dense tensors in CHW (channel, height, width) row-major order, and flat
// vectors. One definition used by the DSL, the oracle and the protocol.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace pmdi {

struct shape3 {
  std::size_t c = 1, h = 1, w = 1;
  [[nodiscard]] constexpr std::size_t size() const noexcept { return c * h * w; }
  friend constexpr bool operator==(const shape3&, const shape3&) = default;
  [[nodiscard]] std::string str() const {
    return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
  }
};

template <class T>
class tensor {
 public:
  tensor() = default;
  explicit tensor(shape3 s, T fill = T{}) : shape_(s), data_(s.size(), fill) {}
  tensor(shape3 s, std::vector<T> d) : shape_(s), data_(std::move(d)) {}

  [[nodiscard]] const shape3& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t size() const noexcept { return data_.size(); }
  T& operator()(std::size_t c, std::size_t h, std::size_t w) noexcept {
    return data_[(c * shape_.h + h) * shape_.w + w];
  }
  const T& operator()(std::size_t c, std::size_t h, std::size_t w) const noexcept {
    return data_[(c * shape_.h + h) * shape_.w + w];
  }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  [[nodiscard]] std::vector<T>& data() noexcept { return data_; }
  [[nodiscard]] const std::vector<T>& data() const noexcept { return data_; }

 private:
  shape3 shape_{};
  std::vector<T> data_;
};

}  // namespace pmdi
