#pragma once
// The protocol's view of a network: a list of stages, each a linear map
// A_k (integer fixed-point weights, CSR) with bias b_k, an exact truncation
// by `shift` bits, and a run of non-linear operators g_k. Tensor ids: 0 is the
// network input; stage k writes tensor k + 1. A stage reads the concatenation
// of its input tensors (residual skips are extra input tensors; A_k adds them).
//
// Two views: `stage` (the cloud's, with weights) and `public_stage` (shapes,
// sparsity, shift, operators: what every edge server and the client know from
// the declared network type). The public view never carries a weight.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/sparse.hpp"
#include "pmdi/core/tensor.hpp"

namespace pmdi::proto {

enum class op_kind : std::uint8_t { relu, maxpool, argmax };

struct nonlinear_op {
  op_kind kind = op_kind::relu;
  std::size_t k = 0, stride = 0;  // maxpool window and stride
};

// Row pointers and columns of a CSR matrix, without its values.
struct sparsity {
  std::size_t rows = 0, cols = 0;
  std::vector<std::uint32_t> row_ptr{0};
  std::vector<std::uint32_t> col;
  [[nodiscard]] std::size_t nnz() const noexcept { return col.size(); }
  template <class T>
  [[nodiscard]] static sparsity of(const csr<T>& a) {
    return sparsity{a.rows, a.cols, a.row_ptr, a.col};
  }
  template <class T>
  [[nodiscard]] csr<T> with(std::vector<T> v) const {
    if (v.size() != nnz()) throw usage_error("sparsity::with: value count does not match the pattern");
    return csr<T>{rows, cols, row_ptr, col, std::move(v)};
  }
};

struct public_stage {
  std::vector<std::size_t> inputs{};  // tensor ids read (concatenated in this order)
  shape3 linear_out{};                // shape of A_k x (before the non-linear ops)
  shape3 out{};                       // shape of the stage's output tensor
  sparsity pattern{};                 // of A_k
  unsigned shift = 0;                 // exact arithmetic shift after A_k x + b_k
  std::vector<nonlinear_op> ops{};

  // A garbled circuit is needed when anything but a plain linear map remains.
  [[nodiscard]] bool garbled() const noexcept { return !ops.empty() || shift != 0; }
  [[nodiscard]] std::size_t in_size() const noexcept { return pattern.cols; }
  [[nodiscard]] std::size_t mid_size() const noexcept { return pattern.rows; }
  [[nodiscard]] std::size_t out_size() const noexcept { return out.size(); }
};

struct stage {
  public_stage pub;
  csr<std::int64_t> a;               // A_k, fixed-point integers (scale e_k)
  std::vector<std::int64_t> bias;    // b_k at scale e_k, one per row
};

struct network_plan {
  std::vector<std::size_t> tensor_sizes;  // tensor 0 = input, t = output of stage t-1
  std::vector<public_stage> stages;
  [[nodiscard]] std::size_t input_size() const { return tensor_sizes.at(0); }
  [[nodiscard]] std::size_t output_size() const { return tensor_sizes.back(); }
};

// Checks the invariants the protocol relies on; throws usage_error otherwise.
inline void validate(const network_plan& p) {
  if (p.stages.empty()) throw usage_error("network plan: no stages");
  if (p.tensor_sizes.size() != p.stages.size() + 1)
    throw usage_error("network plan: tensor count must be stage count + 1");
  for (std::size_t k = 0; k < p.stages.size(); ++k) {
    const auto& s = p.stages[k];
    const std::string where = "network plan: stage " + std::to_string(k) + ": ";
    std::size_t cols = 0;
    if (s.inputs.empty()) throw usage_error(where + "no inputs");
    for (auto t : s.inputs) {
      if (t > k) throw usage_error(where + "reads tensor " + std::to_string(t) + " not yet computed");
      cols += p.tensor_sizes[t];
    }
    if (cols != s.pattern.cols) throw usage_error(where + "A has " + std::to_string(s.pattern.cols) + " columns, inputs give " + std::to_string(cols));
    if (s.pattern.rows != s.linear_out.size()) throw usage_error(where + "A rows do not match the linear output shape");
    if (s.out.size() != p.tensor_sizes[k + 1]) throw usage_error(where + "output size does not match tensor size");
    if (s.pattern.row_ptr.size() != s.pattern.rows + 1 || s.pattern.row_ptr.back() != s.pattern.nnz())
      throw usage_error(where + "malformed sparsity pattern");
    for (auto c : s.pattern.col)
      if (c >= s.pattern.cols) throw usage_error(where + "column index out of range");
  }
}

[[nodiscard]] inline network_plan public_plan(const std::vector<stage>& st, std::size_t input_size) {
  network_plan p;
  p.tensor_sizes.push_back(input_size);
  for (const auto& s : st) {
    p.stages.push_back(s.pub);
    p.tensor_sizes.push_back(s.pub.out.size());
  }
  validate(p);
  return p;
}

// Even contiguous split of L stages over P clusters: cluster j holds
// [first(j), first(j+1)). Earlier clusters take the remainder.
struct cluster_split {
  std::size_t stages = 0, clusters = 0;
  [[nodiscard]] std::size_t first(std::size_t j) const noexcept {
    const std::size_t q = stages / clusters, r = stages % clusters;
    return j * q + (j < r ? j : r);
  }
  [[nodiscard]] std::size_t end(std::size_t j) const noexcept { return first(j + 1); }
  [[nodiscard]] std::size_t cluster_of(std::size_t k) const noexcept {
    for (std::size_t j = 0; j < clusters; ++j)
      if (k < end(j)) return j;
    return clusters - 1;
  }
};

struct topology {
  std::size_t clusters = 1;  // P
  std::size_t compute = 1;   // T per cluster
};

[[nodiscard]] inline cluster_split split(const network_plan& p, const topology& t) {
  if (t.clusters == 0 || t.compute == 0) throw usage_error("topology: P and T must be at least 1");
  if (t.clusters > p.stages.size())
    throw usage_error("topology: " + std::to_string(t.clusters) + " clusters for " + std::to_string(p.stages.size()) +
                      " stages; every cluster needs at least one stage");
  return cluster_split{p.stages.size(), t.clusters};
}

// Tensors a cluster boundary must carry: those produced before stage `from`
// and read at stage `from` or later. (The masked values z_t travel, never x_t.)
[[nodiscard]] inline std::vector<std::size_t> live_tensors(const network_plan& p, std::size_t from) {
  std::vector<std::size_t> live;
  for (std::size_t t = 0; t <= from; ++t) {
    bool used = false;
    for (std::size_t k = from; k < p.stages.size() && !used; ++k)
      for (auto i : p.stages[k].inputs) used = used || i == t;
    if (used) live.push_back(t);
  }
  return live;
}

}  // namespace pmdi::proto
