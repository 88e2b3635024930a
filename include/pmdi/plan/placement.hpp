#pragma once
// Placement of a network's stages on P clusters (pmdi-plan; docs/placement.md).
//
// The network is a pipeline: cluster j runs the contiguous stages
// [first_j, end_j) of every inference, then hands the live tensors to
// cluster j + 1 (proto/stage.hpp). A stream of inferences moves at the pace
// of the slowest resource, so
//   throughput = 1 / max_j max(cpu_j, wire_j)       (the bottleneck)
//   latency    = sum_j (cpu_j + wire_j)             (one inference alone)
// with, per inference online, for the stages k of cluster j:
//   cpu_j  = sum_k [ (T + 1) macs_k / macs_per_s_j       T compute servers and the
//                                                          garbler apply their shares
//                  + and_gates_k / and_per_s_j            the garbled stage at both ends
//                  + cluster_bytes_k / channel_bytes_per_s_j     records sealed and
//                                                          opened inside the cluster
//                  + messages_k / messages_per_s_j ]      what a message costs its two
//                                                          ends whatever its size
//          + in_bytes_j / channel_bytes_per_s_j           the hand-over into j
//          + 1 / messages_per_s_j                         its one end of the hand-over in
//                                                          and of the one out
//   wire_j = in_bytes_j / link_bytes_per_s_j             the link into j
// where in_bytes_j is the live tensors at first_j (z_1 from the client for
// j = 0), l / 8 bytes a value, and messages_k the online messages of stage k
// (proto::message_sequence: T stage inputs and T partial products, and for a
// garbled stage the labels of a_k and z_{k+1}). The rates of a cluster are its servers'
// together (a cluster's processes share its cores): the calibration measures
// them per core on this machine (pmdi-plan calibrate) and a cluster scales
// them by its cores, or gives its own measured rates.
//
// Memory, per server of the cluster (the largest role): a compute server
// holds its weight shares (l / 8 bytes a weight) and its mask shares; the
// evaluator the garbled tables (32 bytes an AND), decode bits and client
// labels of every prepared inference (offline_batch of them); the garbler two
// labels per input bit of its prepared inferences. A placement whose server
// would need more than the cluster's memory is infeasible.
//
// Three placements:
//   even     the contiguous even split (proto::even_placement)
//   armdi    AR-MDI (privateMDI Section III, after [8]): cluster n gets
//            rho_n = W (1/gamma_n) / sum_m (1/gamma_m) of the W parameters,
//            gamma_n its per-parameter delay (here: its predicted time for the
//            whole network divided by W), rounded to the closest contiguous
//            boundary that leaves every cluster a stage
//   optimal  the exact optimum over contiguous splits (dynamic programme,
//            O(P S^2)) of the bottleneck (objective throughput) or of the
//            latency, subject to every server's memory.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/proto/circuits.hpp"
#include "pmdi/proto/sequence.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi::plan {

using proto::stage_range;

// What one stage costs per inference, from the public plan.
struct stage_load {
  std::uint64_t macs = 0, and_gates = 0, parameters = 0;
  std::uint64_t cluster_bytes = 0;  // online bytes inside the cluster: z to and partial products from the
                                    // compute servers, labels of a_k to the evaluator, z_{k+1} back
  std::uint64_t in_bytes = 0;       // live tensors at this stage's start (hand-over if a cluster starts here)
  std::uint64_t messages = 0;       // online messages inside the cluster (proto::stage_online_messages)
  // Memory of one prepared inference's material and of the model, per role:
  std::uint64_t compute_bytes = 0;    // weight shares (model) and mask shares (per inference, below)
  std::uint64_t evaluator_bytes = 0;  // tables, decode bits, client labels per inference
  std::uint64_t garbler_bytes = 0;    // labels per inference, weight and mask shares
  std::uint64_t compute_model_bytes = 0, garbler_model_bytes = 0;
};

struct network_load {
  std::vector<stage_load> stages;
  std::uint64_t output_bytes = 0;  // z_{L+1} to the client
  unsigned l = 0;
  std::size_t compute_per_cluster = 1, offline_batch = 1;
};

// The online messages of stage `s` inside its cluster with T compute servers:
// the steps of proto::message_sequence that occur at every stage (or every
// garbled one), a step with a compute end once per compute server.
[[nodiscard]] inline std::uint64_t stage_online_messages(const proto::public_stage& s, std::size_t T) {
  std::uint64_t n = 0;
  for (const auto& step : proto::message_sequence) {
    if (step.when != proto::phase::online) continue;
    const bool here = step.at == proto::occurs::every_stage || (step.at == proto::occurs::garbled_stage && s.garbled());
    const bool fan = step.from.kind == proto::role_kind::compute || step.to.kind == proto::role_kind::compute;
    if (here) n += fan ? T : 1;
  }
  return n;
}

// The loads of a public plan with T compute servers per cluster and
// `offline_batch` inferences prepared ahead, over Z_2^l.
[[nodiscard]] inline network_load network_load_of(const proto::network_plan& p, unsigned l, std::size_t T,
                                                  std::size_t offline_batch) {
  proto::validate(p);
  network_load n;
  n.l = l;
  n.compute_per_cluster = T;
  n.offline_batch = offline_batch;
  const std::uint64_t word = l / 8, label = 16;
  for (std::size_t k = 0; k < p.stages.size(); ++k) {
    const auto& s = p.stages[k];
    stage_load x;
    x.macs = s.linear.macs();
    x.parameters = s.linear.weight_count();
    const std::uint64_t in = s.in_size(), mid = s.mid_size(), out = s.out_size();
    for (auto t : proto::live_tensors(p, k)) x.in_bytes += p.tensor_sizes.at(t) * word;
    x.cluster_bytes = T * (in + mid) * word;  // z_k out, partial products back
    x.messages = stage_online_messages(s, T);
    if (s.garbled()) {
      const auto c = proto::stage_circuit_chunks(s, l);
      x.and_gates = c.and_gates;
      x.cluster_bytes += mid * l * label + out * word;  // labels of a_k, z_{k+1}
      const std::uint64_t client_bits = mid * l;  // w; r_{k+1} reaches the evaluator as a correction word
      x.evaluator_bytes = c.table_blocks() * label + (c.terms + out) * word + client_bits * label;
      x.garbler_bytes = (mid * l + client_bits) * label;
    }
    x.compute_model_bytes = x.garbler_model_bytes = x.parameters * word;
    x.compute_bytes = mid * word;  // [s_k]_v per prepared inference
    x.garbler_bytes += mid * word;
    n.stages.push_back(x);
  }
  n.output_bytes = p.output_size() * word;
  return n;
}

// Per-core rates of this machine's online work (pmdi-plan calibrate).
struct core_rates {
  double macs_per_s = 0;           // ring multiply-adds of the linear operators on shares
  double and_per_s = 0;            // a garbled stage's online work per AND gate, both ends (run/calibrate.hpp)
  double channel_bytes_per_s = 0;  // bytes sealed by one end and opened by the other
  // Small messages sent by one thread and received by another over the secure
  // channel, both ends' CPU (system calls, wake-ups, timers, the record's
  // fixed cost); 0: not measured, and messages cost nothing in the model.
  double messages_per_s = 0;
};

struct cluster_spec {
  std::string name;
  double cores = 1;  // cores of the calibrated machine the cluster's servers have together
  // Measured on the cluster's own servers; 0: calibration rate x cores.
  double macs_per_s = 0, and_per_s = 0, channel_bytes_per_s = 0, messages_per_s = 0;
  double memory_bytes = std::numeric_limits<double>::infinity();       // per server
  double link_bytes_per_s = std::numeric_limits<double>::infinity();   // the link into the cluster
};

struct cluster_estimate {
  stage_range stages;
  double cpu_s = 0, wire_s = 0;
  double memory_bytes = 0;  // the cluster's largest server
  bool memory_fits = true;
  [[nodiscard]] double busy_s() const noexcept { return std::max(cpu_s, wire_s); }
};

struct placement_estimate {
  std::string method;
  std::vector<stage_range> placement;
  std::vector<cluster_estimate> clusters;
  double bottleneck_s = 0, latency_s = 0;
  std::size_t bottleneck_cluster = 0;
  bool bottleneck_is_link = false;
  bool feasible = true;
  [[nodiscard]] double inferences_per_s() const noexcept { return bottleneck_s > 0 ? 1 / bottleneck_s : 0; }
};

// Rates in force on cluster c.
struct cluster_rates {
  double macs_per_s, and_per_s, channel_bytes_per_s, messages_per_s;
};
[[nodiscard]] inline cluster_rates rates_of(const cluster_spec& c, const core_rates& r) {
  auto pick = [&](double own, double per_core) { return own > 0 ? own : per_core * c.cores; };
  return {pick(c.macs_per_s, r.macs_per_s), pick(c.and_per_s, r.and_per_s),
          pick(c.channel_bytes_per_s, r.channel_bytes_per_s), pick(c.messages_per_s, r.messages_per_s)};
}

namespace detail {
[[nodiscard]] inline double per(double work, double rate) {
  if (work == 0) return 0;
  return rate > 0 ? work / rate : std::numeric_limits<double>::infinity();
}
}  // namespace detail

// Cluster c running stages r: its time and memory per inference.
[[nodiscard]] inline cluster_estimate estimate_cluster(const network_load& n, const cluster_spec& c,
                                                       const core_rates& cr, stage_range r) {
  const auto rt = rates_of(c, cr);
  cluster_estimate e;
  e.stages = r;
  const double T = static_cast<double>(n.compute_per_cluster);
  double bytes = 0, messages = 1, comp = 0, eval = 0, garb = 0, comp_model = 0, garb_model = 0;
  for (std::size_t k = r.first; k < r.end; ++k) {
    const auto& s = n.stages[k];
    e.cpu_s += detail::per((T + 1) * static_cast<double>(s.macs), rt.macs_per_s) +
               detail::per(static_cast<double>(s.and_gates), rt.and_per_s);
    bytes += static_cast<double>(s.cluster_bytes);
    messages += static_cast<double>(s.messages);
    comp += static_cast<double>(s.compute_bytes);
    eval += static_cast<double>(s.evaluator_bytes);
    garb += static_cast<double>(s.garbler_bytes);
    comp_model += static_cast<double>(s.compute_model_bytes);
    garb_model += static_cast<double>(s.garbler_model_bytes);
  }
  const double in = static_cast<double>(n.stages[r.first].in_bytes);
  // the hand-over out of the last cluster (the result) costs its sender
  const double out = r.end == n.stages.size() ? static_cast<double>(n.output_bytes) : 0;
  e.cpu_s += detail::per(bytes + in + out, rt.channel_bytes_per_s);
  if (rt.messages_per_s > 0) e.cpu_s += messages / rt.messages_per_s;  // (1: the hand-overs' ends)
  e.wire_s = std::isinf(c.link_bytes_per_s) ? 0 : detail::per(in, c.link_bytes_per_s);
  const double B = static_cast<double>(n.offline_batch);
  e.memory_bytes = std::max({comp_model + B * comp, garb_model + B * garb, B * eval});
  e.memory_fits = e.memory_bytes <= c.memory_bytes;
  return e;
}

[[nodiscard]] inline placement_estimate estimate(const network_load& n, const std::vector<cluster_spec>& cs,
                                                 const core_rates& cr, const std::vector<stage_range>& pl,
                                                 std::string method) {
  proto::check_placement(pl, n.stages.size(), cs.size());
  placement_estimate p;
  p.method = std::move(method);
  p.placement = pl;
  for (std::size_t j = 0; j < cs.size(); ++j) {
    p.clusters.push_back(estimate_cluster(n, cs[j], cr, pl[j]));
    const auto& e = p.clusters.back();
    p.latency_s += e.cpu_s + e.wire_s;
    p.feasible = p.feasible && e.memory_fits;
    if (e.busy_s() > p.bottleneck_s) {
      p.bottleneck_s = e.busy_s();
      p.bottleneck_cluster = j;
      p.bottleneck_is_link = e.wire_s > e.cpu_s;
    }
  }
  return p;
}

// Refuses a description the planner cannot use, naming the cluster.
inline void check_clusters(const network_load& n, const std::vector<cluster_spec>& cs, const core_rates& cr) {
  if (cs.empty()) throw usage_error("clusters: none described");
  if (cs.size() > n.stages.size())
    throw usage_error("clusters: " + std::to_string(cs.size()) + " clusters for " + std::to_string(n.stages.size()) +
                      " stages; every cluster needs at least one stage");
  for (std::size_t j = 0; j < cs.size(); ++j) {
    const auto r = rates_of(cs[j], cr);
    const std::string who = "cluster " + std::to_string(j) + " (" + cs[j].name + ")";
    if (!(r.macs_per_s > 0) || !(r.and_per_s > 0) || !(r.channel_bytes_per_s > 0))
      throw usage_error(who + " has no speed: give \"cores\" with a calibration, or its own rates");
    if (!(cs[j].memory_bytes > 0)) throw usage_error(who + ": memory must be positive");
    if (!(cs[j].link_bytes_per_s > 0)) throw usage_error(who + ": link bandwidth must be positive");
  }
}

[[nodiscard]] inline placement_estimate even_split(const network_load& n, const std::vector<cluster_spec>& cs,
                                                   const core_rates& cr) {
  check_clusters(n, cs, cr);
  return estimate(n, cs, cr, proto::even_placement(n.stages.size(), cs.size()), "even");
}

// AR-MDI: cumulative parameter targets, each boundary at the closest stage
// boundary that keeps every cluster at least one stage.
[[nodiscard]] inline placement_estimate armdi_split(const network_load& n, const std::vector<cluster_spec>& cs,
                                                    const core_rates& cr) {
  check_clusters(n, cs, cr);
  const std::size_t S = n.stages.size(), P = cs.size();
  double W = 0;
  for (const auto& s : n.stages) W += static_cast<double>(s.parameters);
  std::vector<double> inv_gamma(P);
  double sum = 0;
  for (std::size_t j = 0; j < P; ++j) {
    const double whole = estimate_cluster(n, cs[j], cr, {0, S}).cpu_s;  // gamma_j = whole / W
    inv_gamma[j] = whole > 0 ? 1 / whole : 0;
    sum += inv_gamma[j];
  }
  std::vector<double> prefix(S + 1, 0);  // parameters before stage k
  for (std::size_t k = 0; k < S; ++k) prefix[k + 1] = prefix[k] + static_cast<double>(n.stages[k].parameters);
  std::vector<stage_range> pl(P);
  double target = 0;
  std::size_t at = 0;
  for (std::size_t j = 0; j + 1 < P; ++j) {
    target += W * inv_gamma[j] / sum;  // rho_0 + ... + rho_j
    const std::size_t lo = at + 1, hi = S - (P - 1 - j);
    std::size_t best = lo;
    for (std::size_t b = lo; b <= hi; ++b)
      if (std::abs(prefix[b] - target) < std::abs(prefix[best] - target)) best = b;
    pl[j] = {at, best};
    at = best;
  }
  pl[P - 1] = {at, S};
  return estimate(n, cs, cr, pl, "armdi");
}

enum class objective { throughput, latency };

// The exact optimum over contiguous splits: minimises the bottleneck (then the
// latency) or the latency (then the bottleneck) over placements whose every
// server fits its memory. Infeasible: the estimate says which cluster lacks
// memory (feasible = false, with the even split's figures).
[[nodiscard]] inline placement_estimate optimal_split(const network_load& n, const std::vector<cluster_spec>& cs,
                                                      const core_rates& cr, objective goal = objective::throughput) {
  check_clusters(n, cs, cr);
  const std::size_t S = n.stages.size(), P = cs.size();
  constexpr double inf = std::numeric_limits<double>::infinity();
  struct cost {
    double primary = inf, secondary = inf;
    bool operator<(const cost& o) const { return primary < o.primary || (primary == o.primary && secondary < o.secondary); }
  };
  // best[j][i]: clusters 0..j-1 run stages [0, i); from[j][i]: where cluster j-1 starts.
  std::vector<std::vector<cost>> best(P + 1, std::vector<cost>(S + 1));
  std::vector<std::vector<std::size_t>> from(P + 1, std::vector<std::size_t>(S + 1, 0));
  best[0][0] = {0, 0};
  for (std::size_t j = 1; j <= P; ++j)
    for (std::size_t i = j; i + (P - j) <= S; ++i)
      for (std::size_t a = j - 1; a < i; ++a) {
        if (best[j - 1][a].primary == inf) continue;
        const auto e = estimate_cluster(n, cs[j - 1], cr, {a, i});
        if (!e.memory_fits) continue;
        const double busy = e.busy_s(), lat = e.cpu_s + e.wire_s;
        const cost& b = best[j - 1][a];
        const cost c = goal == objective::throughput ? cost{std::max(b.primary, busy), b.secondary + lat}
                                                     : cost{b.primary + lat, std::max(b.secondary, busy)};
        if (c < best[j][i]) {
          best[j][i] = c;
          from[j][i] = a;
        }
      }
  if (best[P][S].primary == inf) {
    auto p = even_split(n, cs, cr);
    p.method = "optimal";
    p.feasible = false;
    return p;
  }
  std::vector<stage_range> pl(P);
  for (std::size_t j = P, i = S; j > 0; --j) {
    pl[j - 1] = {from[j][i], i};
    i = from[j][i];
  }
  return estimate(n, cs, cr, pl, "optimal");
}

// One core's rates as `pmdi-plan calibrate --network minionn-mnist` measured
// them on the 2-core development machine (medians of several runs; the
// messages on the Zen 3 machine, 2026-12-08): what a placement assumes when
// no cluster is described.
inline constexpr core_rates reference_rates{1.2e9, 6.5e7, 3.6e8, 1.4e4};

// The placement a deployment gets when nobody described its clusters: the
// optimal split over P equal clusters at the reference rates (it balances
// the stages' work, where the even split balances their number).
[[nodiscard]] inline std::vector<stage_range> default_placement(const proto::network_plan& p, unsigned l,
                                                                std::size_t clusters, std::size_t T,
                                                                std::size_t offline_batch) {
  const auto n = network_load_of(p, l, T, offline_batch);
  std::vector<cluster_spec> cs(clusters);
  for (std::size_t j = 0; j < clusters; ++j) cs[j].name = "cluster " + std::to_string(j);
  const auto e = optimal_split(n, cs, reference_rates);
  return e.placement;
}

// Why a placement is infeasible, naming each cluster whose server lacks memory.
[[nodiscard]] inline std::string infeasible_reason(const placement_estimate& p, const std::vector<cluster_spec>& cs) {
  std::string why;
  for (std::size_t j = 0; j < p.clusters.size(); ++j) {
    const auto& e = p.clusters[j];
    if (e.memory_fits) continue;
    why += (why.empty() ? "" : "; ") + std::string("cluster ") + std::to_string(j) + " (" + cs[j].name +
           ") lacks memory: its largest server needs " + std::to_string(static_cast<std::uint64_t>(e.memory_bytes / 1048576)) +
           " MiB for stages [" + std::to_string(e.stages.first) + ", " + std::to_string(e.stages.end) + "), it has " +
           std::to_string(static_cast<std::uint64_t>(cs[j].memory_bytes / 1048576)) + " MiB";
  }
  return why.empty() ? why : why + " (no contiguous split fits every server)";
}

}  // namespace pmdi::plan
