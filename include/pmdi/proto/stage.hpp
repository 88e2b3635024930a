#pragma once
// The protocol's view of a network: a list of stages, each a linear map
// A_k (a short program of operators, proto/linear.hpp) with bias b_k, an exact truncation
// by `shift` bits, and a run of non-linear operators g_k. Tensor ids: 0 is the
// network input; stage k writes tensor k + 1. A stage reads the concatenation
// of its input tensors (residual skips are extra input tensors; A_k adds them).
//
// Two views: `stage` (the cloud's, with weights) and `public_stage` (shapes,
// operators, shift: what every edge server and the client know from
// the declared network type). The public view never carries a weight.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/tensor.hpp"
#include "pmdi/proto/linear.hpp"

namespace pmdi::proto {

enum class op_kind : std::uint8_t { relu, maxpool, argmax };

struct nonlinear_op {
  op_kind kind = op_kind::relu;
  std::size_t k = 0, stride = 0;  // maxpool window and stride
  friend bool operator==(const nonlinear_op&, const nonlinear_op&) = default;
};

struct public_stage {
  std::vector<std::size_t> inputs{};  // tensor ids read (concatenated in this order)
  linear_program linear{};            // A_k as operators: shapes and structure, no weights
  shape3 linear_out{};                // shape of A_k x (before the non-linear ops)
  shape3 out{};                       // shape of the stage's output tensor
  unsigned scale_bits = 0;            // e_k: the scale of A_k x + b_k
  unsigned shift = 0;                 // exact arithmetic shift after A_k x + b_k
  std::vector<nonlinear_op> ops{};
  friend bool operator==(const public_stage&, const public_stage&) = default;

  // A garbled circuit is needed when anything but a plain linear map remains.
  [[nodiscard]] bool garbled() const noexcept { return !ops.empty() || shift != 0; }
  [[nodiscard]] std::size_t in_size() const noexcept { return linear.in_size(); }
  [[nodiscard]] std::size_t mid_size() const noexcept { return linear_out.size(); }
  [[nodiscard]] std::size_t out_size() const noexcept { return out.size(); }
};

// The cloud's view of a stage: the public part and the weights and biases of
// its weighted operators, in operator order (fixed-point integers; a bias at
// its operator's output scale).
struct stage {
  public_stage pub;
  std::vector<std::int64_t> weights;
  std::vector<std::int64_t> bias;
};

// Size of the network input (tensor 0): what stage 0 reads first.
[[nodiscard]] inline std::size_t input_size(const std::vector<stage>& st) {
  if (st.empty() || st.front().pub.linear.input_sizes.empty()) throw usage_error("network: no stages");
  return st.front().pub.linear.input_sizes.front();
}

// Refuses weights that do not fit the stage's operators.
inline void validate_weights(const stage& s, std::size_t k) {
  if (s.weights.size() != s.pub.linear.weight_count() || s.bias.size() != s.pub.linear.bias_count())
    throw usage_error("stage " + std::to_string(k) + ": " + std::to_string(s.weights.size()) + " weights and " +
                      std::to_string(s.bias.size()) + " biases, its operators take " +
                      std::to_string(s.pub.linear.weight_count()) + " and " + std::to_string(s.pub.linear.bias_count()));
}

struct network_plan {
  std::vector<std::size_t> tensor_sizes;  // tensor 0 = input, t = output of stage t-1
  std::vector<public_stage> stages;
  friend bool operator==(const network_plan&, const network_plan&) = default;
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
    if (s.inputs.empty()) throw usage_error(where + "no inputs");
    if (s.linear.inputs() != s.inputs.size()) throw usage_error(where + "the linear program's inputs differ from the stage's");
    for (std::size_t i = 0; i < s.inputs.size(); ++i) {
      const auto t = s.inputs[i];
      if (t > k) throw usage_error(where + "reads tensor " + std::to_string(t) + " not yet computed");
      if (s.linear.input_sizes[i] != p.tensor_sizes[t])
        throw usage_error(where + "input " + std::to_string(i) + " has " + std::to_string(s.linear.input_sizes[i]) +
                          " values, tensor " + std::to_string(t) + " has " + std::to_string(p.tensor_sizes[t]));
    }
    validate(s.linear, where);
    if (s.linear.out_size() != s.linear_out.size()) throw usage_error(where + "the linear program's output does not match the linear output shape");
    if (s.out.size() != p.tensor_sizes[k + 1]) throw usage_error(where + "output size does not match tensor size");
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

// The stages [first, end) one cluster runs.
struct stage_range {
  std::size_t first = 0, end = 0;
  friend bool operator==(const stage_range&, const stage_range&) = default;
};

struct topology {
  std::size_t clusters = 1;  // P
  std::size_t compute = 1;   // T per cluster
  // Which stages each cluster runs: one contiguous range per cluster, in
  // cluster order, together every stage exactly once (the deployment file's
  // "placement", pmdi-plan's output). Empty: the even split.
  std::vector<stage_range> placement{};
};

// Even contiguous split of L stages over P clusters; earlier clusters take
// the remainder.
[[nodiscard]] inline std::vector<stage_range> even_placement(std::size_t stages, std::size_t clusters) {
  std::vector<stage_range> r(clusters);
  const std::size_t q = stages / clusters, rem = stages % clusters;
  for (std::size_t j = 0; j < clusters; ++j) {
    r[j].first = j * q + (j < rem ? j : rem);
    r[j].end = r[j].first + q + (j < rem ? 1 : 0);
  }
  return r;
}

// The placement of the stages on the clusters: cluster j holds
// [first(j), end(j)).
class cluster_split {
 public:
  cluster_split() = default;
  explicit cluster_split(std::vector<stage_range> ranges) : ranges_(std::move(ranges)) {}
  [[nodiscard]] std::size_t clusters() const noexcept { return ranges_.size(); }
  [[nodiscard]] std::size_t first(std::size_t j) const noexcept { return ranges_[j].first; }
  [[nodiscard]] std::size_t end(std::size_t j) const noexcept { return ranges_[j].end; }
  [[nodiscard]] std::size_t cluster_of(std::size_t k) const noexcept {
    for (std::size_t j = 0; j < ranges_.size(); ++j)
      if (k < ranges_[j].end) return j;
    return ranges_.size() - 1;
  }
  [[nodiscard]] const std::vector<stage_range>& ranges() const noexcept { return ranges_; }

 private:
  std::vector<stage_range> ranges_;
};

// Checks a placement against a network of `stages` stages and P = `clusters`:
// one non-empty contiguous range per cluster, in order, no gap, no overlap,
// none past the last stage. The sentence names the cluster (callers say
// where the placement came from).
inline void check_placement(const std::vector<stage_range>& pl, std::size_t stages, std::size_t clusters) {
  const auto range = [](const stage_range& r) {
    std::string s = "[";  // appended, not "[" + ...: GCC 12's -Wrestrict false positive
    s += std::to_string(r.first);
    s += ", ";
    s += std::to_string(r.end);
    s += ")";
    return s;
  };
  if (pl.size() != clusters)
    throw usage_error(std::to_string(pl.size()) + " stage range(s) for " + std::to_string(clusters) +
                      " clusters; every cluster needs one");
  std::size_t next = 0;
  for (std::size_t j = 0; j < pl.size(); ++j) {
    const std::string who = "cluster " + std::to_string(j) + "'s stages " + range(pl[j]);
    if (pl[j].first >= pl[j].end) throw usage_error(who + " are empty; every cluster needs at least one stage");
    if (pl[j].end > stages)
      throw usage_error(who + " run past the network's last stage (it has " + std::to_string(stages) + ": 0 to " +
                        std::to_string(stages - 1) + ")");
    if (pl[j].first > next)
      throw usage_error(who + " leave a gap: no cluster runs stage(s) [" + std::to_string(next) + ", " +
                        std::to_string(pl[j].first) + ")");
    if (pl[j].first < next)
      throw usage_error(who + " overlap cluster " + std::to_string(j - 1) + "'s " + range(pl[j - 1]));
    next = pl[j].end;
  }
  if (next != stages)
    throw usage_error("no cluster runs stage(s) [" + std::to_string(next) + ", " + std::to_string(stages) +
                      "); cluster " + std::to_string(clusters - 1) + " ends at " + std::to_string(next));
}

[[nodiscard]] inline cluster_split split(const network_plan& p, const topology& t) {
  if (t.clusters == 0 || t.compute == 0) throw usage_error("topology: P and T must be at least 1");
  if (t.clusters > p.stages.size())
    throw usage_error("topology: " + std::to_string(t.clusters) + " clusters for " + std::to_string(p.stages.size()) +
                      " stages; every cluster needs at least one stage");
  if (t.placement.empty()) return cluster_split{even_placement(p.stages.size(), t.clusters)};
  try {
    check_placement(t.placement, p.stages.size(), t.clusters);
  } catch (const usage_error& e) {
    throw usage_error(std::string("placement: ") + e.what());
  }
  return cluster_split{t.placement};
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
