#pragma once
// Compressed sparse row matrices: the taps of one linear operator as the
// Paillier products take them (proto::rows: csr<std::int64_t>, signed
// fixed-point weights), and a general sparse map with a public pattern.
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace pmdi {

template <class T>
struct csr {
  std::size_t rows = 0, cols = 0;
  std::vector<std::uint32_t> row_ptr{0};  // rows + 1 entries
  std::vector<std::uint32_t> col;         // nnz entries
  std::vector<T> val;                     // nnz entries

  [[nodiscard]] std::size_t nnz() const noexcept { return val.size(); }

  // Appends a row given as (column, value) pairs.
  void push_row(std::span<const std::uint32_t> c, std::span<const T> v) {
    col.insert(col.end(), c.begin(), c.end());
    val.insert(val.end(), v.begin(), v.end());
    row_ptr.push_back(static_cast<std::uint32_t>(val.size()));
    ++rows;
  }

  // Same sparsity, other values (for shares).
  template <class U>
  [[nodiscard]] csr<U> with_values(std::vector<U> v) const {
    if (v.size() != nnz()) throw std::invalid_argument("csr::with_values: size mismatch");
    return csr<U>{rows, cols, row_ptr, col, std::move(v)};
  }

  // y = A x over T's arithmetic (wrapping for unsigned ring elements).
  template <class X, class Y>
  void multiply(std::span<const X> x, std::span<Y> y) const {
    for (std::size_t r = 0; r < rows; ++r) {
      Y acc{};
      for (std::uint32_t i = row_ptr[r]; i < row_ptr[r + 1]; ++i) acc += static_cast<Y>(val[i]) * static_cast<Y>(x[col[i]]);
      y[r] = acc;
    }
  }
};

}  // namespace pmdi
