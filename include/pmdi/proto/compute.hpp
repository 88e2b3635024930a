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
#include "pmdi/proto/party.hpp"

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

template <class Ring, class Shape, std::size_t J, std::size_t Vi>
class compute : public party<role::compute<J, Vi>, compute_links<J, Vi>, Ring, Shape> {
  using base = party<role::compute<J, Vi>, compute_links<J, Vi>, Ring, Shape>;
  using base::cfg_, base::links_, base::split_, base::report_, base::meter_, base::prepare_offline, base::first, base::end;

 public:
  using base::name;
  using typename base::V;

  compute(public_config cfg, typename base::links lk) : base(std::move(cfg), std::move(lk)) {}

  asio::awaitable<void> setup(prg& /*g*/) {
    meter_.begin();
    for (std::size_t k = first(); k < end(); ++k) {
      const auto& st = cfg_.plan.stages[k];
      auto v = co_await receive_words<msg_model_share_compute<J, Vi>, V>(links_.cloud, 0, st.linear.weight_count());
      model_.emplace_back(v.size());
      std::copy(v.begin(), v.end(), model_.back().begin());
      secure_zero(std::span<V>(v));
    }
    meter_.end(report_.phase("setup"));
  }

  asio::awaitable<void> offline(std::uint64_t id, prg& /*g*/) {
    co_await prepare_offline(store_, id, [&](material& m) -> asio::awaitable<void> {
      for (std::size_t k = first(); k < end(); ++k) {
        auto s = co_await receive_words<msg_mask_share_compute<J, Vi>, V>(links_.cloud, id,
                                                                          cfg_.plan.stages[k].mid_size());
        m.s.emplace_back(s.size());
        std::copy(s.begin(), s.end(), m.s.back().begin());
        secure_zero(std::span<V>(s));
      }
    });
  }

  asio::awaitable<void> online(std::uint64_t id) {
    meter_.begin();
    material m = store_.take(id, name());
    for (std::size_t k = first(); k < end(); ++k) {
      const auto& st = cfg_.plan.stages[k];
      auto z = co_await receive_words<msg_stage_input<J, Vi>, V>(links_.garbler, id, st.in_size());
      std::vector<V> out(st.mid_size());
      {
        const auto timer = meter_.time(work_linear);
        const auto& s = m.s[k - first()];
        share_product<V>(st.linear, std::span<const V>(model_[k - first()]), z, std::span<const V>(s.data(), s.size()), out, /*counts_public_paths=*/false, cfg_.threads);
      }
      co_await send<msg_partial_product<J, Vi>>(links_.garbler, id, std::span<const V>(out));
    }
    meter_.end(report_.phase("online"));
  }


 private:
  struct material {
    std::vector<secret_vector<V>> s;
  };

  std::vector<secret_vector<V>> model_;  // shares of each stage's weights
  material_store<material> store_;
};

}  // namespace pmdi::proto
