#pragma once
// Shared pieces of the role steps: the public configuration every party
// holds, the meter that attributes link counters to a report's phases
// (proto/report.hpp), the store of one-use offline material, and the
// derivation of the per-(inference, stage) OT generators.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/net/transport.hpp"
#include "pmdi/proto/channel.hpp"
#include "pmdi/proto/shape.hpp"
#include "pmdi/proto/progress.hpp"
#include "pmdi/proto/report.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi::proto {

// A received payload, as transcripts keep it.
using frame = std::vector<std::byte>;

// What every party knows: the public network plan, P and T, key size.
struct public_config {
  network_plan plan;
  topology topo;
  unsigned paillier_bits = 2048;
  unsigned threads = 2;  // worker threads for the Paillier, garbling and linear work (0: all of the pool)
  // Done/total and an ETA of each party's long offline work
  // (proto/progress.hpp); empty: silent.
  progress_sink progress;
  // The cloud's line per stage of an offline phase (layout, products,
  // packing, waiting); empty: silent.
  std::function<void(const std::string&)> stage_log;
};

// Refuses a configuration whose P and T differ from the compiled shape.
template <class Shape>
void check_shape(const topology& t, const std::string& who) {
  if (t.clusters != Shape::clusters || t.compute != Shape::compute)
    throw usage_error(who + ": built for " + std::to_string(Shape::clusters) + " cluster(s) of " +
                      std::to_string(Shape::compute) + " compute server(s), but the deployment has " +
                      std::to_string(t.clusters) + " of " + std::to_string(t.compute));
}

[[nodiscard]] inline std::string garbler_name(std::size_t j) { return "garbler[" + std::to_string(j) + "]"; }
[[nodiscard]] inline std::string evaluator_name(std::size_t j) { return "evaluator[" + std::to_string(j) + "]"; }
[[nodiscard]] inline std::string compute_name(std::size_t j, std::size_t v) {
  return "compute[" + std::to_string(j) + "," + std::to_string(v) + "]";
}

// Counts what crossed a party's links during one phase, and times the
// party's own work in it by kind (phase_figures::work).
class phase_meter {
 public:
  using clock = std::chrono::steady_clock;

  // Adds the seconds from its construction to its destruction to one kind of
  // work; scope it around work only, never around a co_await that waits.
  class work_timer {
   public:
    work_timer(const work_timer&) = delete;
    work_timer& operator=(const work_timer&) = delete;
    ~work_timer() { seconds_ += std::chrono::duration<double>(clock::now() - start_).count(); }

   private:
    friend class phase_meter;
    explicit work_timer(double& seconds) : seconds_(seconds) {}
    double& seconds_;
    clock::time_point start_ = clock::now();
  };
  // `ch` must stay where it is while the meter is used (a member of the role).
  template <class Self, class Peer>
  void add(const channel<Self, Peer>& ch) {
    if (ch.connected())
      links_.emplace_back(std::string(ch.peer_name()), [&ch] { return link_counters::of(ch.counters(), ch.flights()); });
  }
  [[nodiscard]] work_timer time(const char* kind) { return work_timer(work_[kind]); }
  void begin() {
    start_ = clock::now();
    work_.clear();
    before_.clear();
    for (const auto& [p, c] : links_) before_.push_back(c());
  }
  void end(phase_figures& f) const {
    f.seconds = std::chrono::duration<double>(clock::now() - start_).count();
    f.work = work_;
    f.peers.clear();
    for (std::size_t i = 0; i < links_.size(); ++i) f.peers[links_[i].first] = links_[i].second() - before_[i];
  }

 private:
  std::vector<std::pair<std::string, std::function<link_counters()>>> links_;
  std::vector<link_counters> before_;
  std::map<std::string, double> work_;
  clock::time_point start_{};
};

[[nodiscard]] inline double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The rounds of one inference's online phase as flights one after another on
// its critical path (rounds: proto/report.hpp), each a one-way message
// latency: z_1 to the first
// garbler; per stage a round trip to the compute servers (in parallel) and,
// with a garbled part, one to the evaluator; a hop per cluster boundary; the
// result to the client.
[[nodiscard]] inline std::size_t online_rounds(const network_plan& p, const topology& t) {
  std::size_t r = 2 + (t.clusters - 1);
  for (const auto& s : p.stages) r += 2 + (s.garbled() ? 2 : 0);
  return r;
}

// Linear part of a stage on masked values: out = [A]_v z - [s]_v over Z_2^l,
// [A]_v the holder's shares of the stage's weights (no bias: the cloud folds
// b_k into the mask term). The paths through public operators only are
// counted by one holder, the garbler (`counts_public_paths`). Runs on up to
// `threads` threads.
template <class V>
void share_product(const linear_program& a, std::span<const V> weights, std::span<const V> z, std::span<const V> s,
                   std::span<V> out, bool counts_public_paths, unsigned threads) {
  const auto y = apply<V, V>(a, weights, std::span<const V>{}, z, counts_public_paths, threads);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<V>(y[i] - s[i]);
}

// Offline material, tagged with its inference id, taken exactly once.
template <class Material>
class material_store {
 public:
  // Prepares the material for `id`: co_await fill(material&). Refuses an id
  // that was ever prepared before (reusing it would reuse masks); if fill
  // throws, the half-made material is dropped and the id stays refused.
  template <class Fill>
  [[nodiscard]] asio::awaitable<void> prepare(std::uint64_t id, std::string party, Fill fill) {
    if (id == 0) throw protocol_error(party, "offline", "", "inference id 0 is reserved for setup");
    if (!seen_.insert(id).second)
      throw protocol_error(party, "offline", "",
                           "offline material for inference " + std::to_string(id) + " was already prepared");
    try {
      co_await fill(ready_[id]);
    } catch (...) {
      ready_.erase(id);
      throw;
    }
  }
  // The material for `id`, removed from the store: a second call is refused.
  [[nodiscard]] Material take(std::uint64_t id, const std::string& party) {
    auto it = ready_.find(id);
    if (it == ready_.end())
      throw protocol_error(party, "online", "",
                           seen_.count(id) ? "offline material for inference " + std::to_string(id) +
                                                 " was already used; it is used at most once"
                                           : "no offline material for inference " + std::to_string(id));
    Material m = std::move(it->second);
    ready_.erase(it);
    return m;
  }
  [[nodiscard]] std::size_t ready() const noexcept { return ready_.size(); }

 private:
  std::map<std::uint64_t, Material> ready_;
  std::set<std::uint64_t> seen_;
};

// OT generators for one (inference, stage): client-evaluator ("b" bits) and
// garbler-evaluator ("u" pads). Their master key is the pair secret of the
// two parties' channel, which only its two ends hold: over TCP it comes from
// the authenticated key exchange (net/secure.hpp); an in-memory pair made in
// one process is given one by its maker.
class ot_key {
 public:
  ot_key() = default;
  ot_key(const ot_key&) = delete;
  ot_key& operator=(const ot_key&) = delete;
  ~ot_key() { secure_zero(k_.data(), k_.size()); }
  template <class Self, class Peer>
  void take_from(const channel<Self, Peer>& ch) {
    const auto s = ch.pair_secret();
    std::copy(s.begin(), s.end(), k_.begin());
  }
  [[nodiscard]] const master_key& get() const noexcept { return k_; }

 private:
  master_key k_{};
};
// The generator of one exact (inference, stage) pair (derive_seed_pair: no
// two pairs share pads). Inference ids run from 1 (0 is setup) to
// max_inference_id, stage indices below max_stage_count; others are refused.
inline constexpr std::uint64_t max_inference_id = std::uint64_t{1} << 53;  // far above any run; exact as a JSON number
inline constexpr std::size_t max_stage_count = std::size_t{1} << 16;
[[nodiscard]] inline prg ot_prg(const master_key& master, std::uint64_t inference, std::size_t stage,
                                const char* context) {
  if (inference == 0 || inference > max_inference_id)
    throw usage_error("ot_prg: inference id " + std::to_string(inference) + " is outside [1, 2^53]");
  if (stage >= max_stage_count)
    throw usage_error("ot_prg: stage index " + std::to_string(stage) + " is outside [0, 2^16)");
  return prg(derive_seed_pair(master, inference, stage, context));
}
inline constexpr const char* ot_context_client = "pmdi-otb";
inline constexpr const char* ot_context_garbler = "pmdi-otu";

}  // namespace pmdi::proto
