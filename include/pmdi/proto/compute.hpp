#pragma once
// Compute server v of cluster j: holds [A_k]_v (setup) and [s_k]_v (offline,
// per inference); online it returns [A_k]_v z_k - [s_k]_v to the garbler.
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/proto/common.hpp"
#include "pmdi/proto/garbler.hpp"
#include "pmdi/proto/messages.hpp"

namespace pmdi::proto {

struct compute_links {
  endpoint<party::compute, party::cloud> cloud;
  endpoint<party::compute, party::garbler> garbler;
};

template <class Ring>
class compute {
 public:
  using V = typename Ring::value_type;

  compute(public_config cfg, std::size_t cluster, std::size_t index, compute_links links)
      : cfg_(std::move(cfg)), j_(cluster), v_(index), links_(std::move(links)) {
    validate(cfg_.plan);
    split_ = split(cfg_.plan, cfg_.topo);
    report_.party = name();
    meter_.add("cloud", links_.cloud.l);
    meter_.add(garbler_name(j_), links_.garbler.l);
  }

  [[nodiscard]] std::string name() const { return compute_name(j_, v_); }
  [[nodiscard]] std::size_t first() const noexcept { return split_.first(j_); }
  [[nodiscard]] std::size_t end() const noexcept { return split_.end(j_); }

  void setup(prg& /*g*/) {
    meter_.begin();
    for (std::size_t k = first(); k < end(); ++k) {
      const auto& st = cfg_.plan.stages[k];
      auto v = receive_words<msg_model_share_compute, V>(links_.cloud, 0, st.pattern.nnz());
      model_.push_back(st.pattern.with(std::move(v)));
    }
    meter_.end(report_.setup);
  }

  void offline(std::uint64_t id, prg& /*g*/) {
    meter_.begin();
    store_.prepare(id, name(), [&](material& m) {
      for (std::size_t k = first(); k < end(); ++k) {
        auto s = receive_words<msg_mask_share_compute, V>(links_.cloud, id, cfg_.plan.stages[k].mid_size());
        m.s.emplace_back(s.size());
        std::copy(s.begin(), s.end(), m.s.back().begin());
        secure_zero(std::span<V>(s));
      }
    });
    meter_.end(report_.offline);
  }

  void online(std::uint64_t id) {
    meter_.begin();
    material m = store_.take(id, name());
    for (std::size_t k = first(); k < end(); ++k) {
      const auto& st = cfg_.plan.stages[k];
      auto z = receive_words<msg_stage_input, V>(links_.garbler, id, st.in_size());
      std::vector<V> out(st.mid_size());
      const auto& s = m.s[k - first()];
      share_product<V>(model_[k - first()], z, std::span<const V>(s.data(), s.size()), out);
      send<msg_partial_product>(links_.garbler, id, std::span<const V>(out));
    }
    meter_.end(report_.online);
  }

  [[nodiscard]] const party_report& report() const noexcept { return report_; }

 private:
  struct material {
    std::vector<secret_vector<V>> s;
  };

  public_config cfg_;
  std::size_t j_, v_;
  compute_links links_;
  cluster_split split_;
  std::vector<csr<V>> model_;
  material_store<material> store_;
  party_report report_;
  phase_meter meter_;
};

}  // namespace pmdi::proto
