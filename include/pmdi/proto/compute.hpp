#pragma once
// Compute server V of cluster J (role::compute<J, V>): holds [A_k]_V (setup)
// and [s_k]_V (offline, per inference); online it returns [A_k]_V z_k - [s_k]_V
// to the cluster's garbler. Its steps are coroutines over its two channels.
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/proto/common.hpp"
#include "pmdi/proto/messages.hpp"

namespace pmdi::proto {

template <std::size_t J, std::size_t V>
struct compute_links {
  channel<role::compute<J, V>, role::cloud> cloud;
  channel<role::compute<J, V>, role::garbler<J>> garbler;

  // Calls f on every channel.
  template <class F>
  void each(F&& f) {
    f(cloud);
    f(garbler);
  }
};

template <class Ring, std::size_t J, std::size_t Vi>
class compute {
 public:
  using V = typename Ring::value_type;
  using self_role = role::compute<J, Vi>;
  using links = compute_links<J, Vi>;

  compute(public_config cfg, links l) : cfg_(std::move(cfg)), links_(std::move(l)) {
    validate(cfg_.plan);
    split_ = split(cfg_.plan, cfg_.topo);
    if (J >= cfg_.topo.clusters || Vi >= cfg_.topo.compute)
      throw usage_error(name() + ": not a party of a deployment of " + std::to_string(cfg_.topo.clusters) +
                        " clusters of " + std::to_string(cfg_.topo.compute));
    report_.party = name();
    links_.each([&](const auto& ch) { meter_.add(ch); });
  }
  compute(const compute&) = delete;
  compute& operator=(const compute&) = delete;

  [[nodiscard]] static std::string name() { return std::string(role_name_v<self_role>); }
  [[nodiscard]] std::size_t first() const noexcept { return split_.first(J); }
  [[nodiscard]] std::size_t end() const noexcept { return split_.end(J); }

  asio::awaitable<void> setup(prg& /*g*/) {
    meter_.begin();
    for (std::size_t k = first(); k < end(); ++k) {
      const auto& st = cfg_.plan.stages[k];
      auto v = co_await receive_words<msg_model_share_compute<J, Vi>, V>(links_.cloud, 0, st.linear.weight_count());
      model_.emplace_back(v.size());
      std::copy(v.begin(), v.end(), model_.back().begin());
      secure_zero(std::span<V>(v));
    }
    meter_.end(report_.setup);
  }

  asio::awaitable<void> offline(std::uint64_t id, prg& /*g*/) {
    meter_.begin();
    co_await store_.prepare(id, name(), [&](material& m) -> asio::awaitable<void> {
      for (std::size_t k = first(); k < end(); ++k) {
        auto s = co_await receive_words<msg_mask_share_compute<J, Vi>, V>(links_.cloud, id,
                                                                          cfg_.plan.stages[k].mid_size());
        m.s.emplace_back(s.size());
        std::copy(s.begin(), s.end(), m.s.back().begin());
        secure_zero(std::span<V>(s));
      }
    });
    meter_.end(report_.offline);
  }

  asio::awaitable<void> online(std::uint64_t id) {
    meter_.begin();
    material m = store_.take(id, name());
    for (std::size_t k = first(); k < end(); ++k) {
      const auto& st = cfg_.plan.stages[k];
      auto z = co_await receive_words<msg_stage_input<J, Vi>, V>(links_.garbler, id, st.in_size());
      std::vector<V> out(st.mid_size());
      const auto& s = m.s[k - first()];
      share_product<V>(st.linear, std::span<const V>(model_[k - first()]), z, std::span<const V>(s.data(), s.size()), out, /*counts_public_paths=*/false);
      co_await send<msg_partial_product<J, Vi>>(links_.garbler, id, std::span<const V>(out));
    }
    meter_.end(report_.online);
  }

  [[nodiscard]] links& channels() noexcept { return links_; }
  [[nodiscard]] const party_report& report() const noexcept { return report_; }

 private:
  struct material {
    std::vector<secret_vector<V>> s;
  };

  public_config cfg_;
  links links_;
  cluster_split split_;
  std::vector<secret_vector<V>> model_;  // shares of each stage's weights
  material_store<material> store_;
  party_report report_;
  phase_meter meter_;
};

}  // namespace pmdi::proto
