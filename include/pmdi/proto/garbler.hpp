#pragma once
// The garbler of cluster J (role::garbler<J>): the cluster's head. Holds
// [A_k]_{T+1} and [s_k]_{T+1}, garbles C_k, answers the client's OT and
// drives the online phase of its stages. Its steps are coroutines over its
// channels; which peers it has (neighbouring clusters, T compute servers) is
// part of its type.
//
// Setup: model shares <- cloud (one message per stage); OT master key (u0/u1
//   pads): the pair secret of its channel to the evaluator; C_k built from
//   the public plan.
// Offline: per stage: [s_k]_{T+1} <- cloud; garbled stage: fresh delta and
//   input zero labels, garble C_k, tables + output terms -> evaluator; OT:
//   i ^ b <- client, (k0 ^ u_{i^b}, k1 ^ u_{1-(i^b)}) -> client; the output
//   words' masks m -> client.
// Online: z_1 <- client (cluster 0) or the live tensors <- previous garbler;
//   per stage: z_k -> compute servers, a_k = sum of partial products + own
//   share; garbled stage: labels of a_k -> evaluator, z_{k+1} <- evaluator;
//   then the live tensors -> next garbler, or z_{L+1} -> client.
#include <chrono>
#include <optional>
#include <tuple>
#include <type_traits>
#include <variant>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/huge_pages.hpp"
#include "pmdi/core/pool.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"
#include "pmdi/crypto/ot.hpp"
#include "pmdi/proto/circuits.hpp"
#include "pmdi/proto/common.hpp"
#include "pmdi/proto/messages.hpp"
#include "pmdi/proto/party.hpp"
#include "pmdi/proto/offload.hpp"

namespace pmdi::proto {

template <std::size_t J>
struct garbler_peers {
  template <std::size_t V>
  using compute = channel<role::garbler<J>, role::compute<J, V>>;
};

// The garbler's channels; the neighbouring clusters' garblers only where the
// shape has them (std::monostate otherwise).
template <std::size_t P, std::size_t T, std::size_t J>
struct garbler_links {
  channel<role::garbler<J>, role::cloud> cloud;
  channel<role::garbler<J>, role::client> client;
  channel<role::garbler<J>, role::evaluator<J>> evaluator;
  indexed_tuple<garbler_peers<J>::template compute, T> compute;
  std::conditional_t<(J > 0), channel<role::garbler<J>, role::garbler<J - 1>>, std::monostate> prev;
  std::conditional_t<(J + 1 < P), channel<role::garbler<J>, role::garbler<J + 1>>, std::monostate> next;

  // Calls f on every channel.
  template <class F>
  void each(F&& f) {
    f(cloud);
    f(client);
    f(evaluator);
    each_index<T>([&]<std::size_t V>() { f(std::get<V>(compute)); });
    if constexpr (J > 0) f(prev);
    if constexpr (J + 1 < P) f(next);
  }
};

// z_k: the stage's inputs concatenated.
template <class V>
[[nodiscard]] std::vector<V> gather_inputs(const public_stage& st, const std::vector<std::vector<V>>& tensors) {
  std::vector<V> z;
  for (auto t : st.inputs) z.insert(z.end(), tensors[t].begin(), tensors[t].end());
  return z;
}

template <class Ring, class Shape, std::size_t J>
class garbler : public party<role::garbler<J>, garbler_links<Shape::clusters, Shape::compute, J>, Ring, Shape> {
  using base = party<role::garbler<J>, garbler_links<Shape::clusters, Shape::compute, J>, Ring, Shape>;
  using base::cfg_, base::links_, base::split_, base::report_, base::meter_, base::prepare_offline, base::first, base::end;

 public:
  using base::name, base::l, base::P, base::T;
  using typename base::V;

  garbler(public_config cfg, typename base::links lk) : base(std::move(cfg), std::move(lk)), pool_(cfg_.threads) {}

  asio::awaitable<void> setup(prg& /*g*/) {
    meter_.begin();
    const auto& plan = cfg_.plan;
    for (std::size_t k = first(); k < end(); ++k) {
      const auto& st = plan.stages[k];
      auto v = co_await receive_words<msg_model_share_garbler<J>, V>(links_.cloud, 0, st.linear.weight_count());
      model_.emplace_back(v.size());
      std::copy(v.begin(), v.end(), model_.back().begin());
      secure_zero(std::span<V>(v));
    }
    ot_master_.take_from(links_.evaluator);
    for (std::size_t k = first(); k < end(); ++k) {
      if (plan.stages[k].garbled()) {
        circuits_.push_back(stage_circuit_chunks(plan.stages[k], l));
        report_.stage_entry(k).and_gates = circuits_.back().and_gates;
      } else {
        circuits_.emplace_back();
      }
    }
    meter_.end(report_.phase("setup"));
  }

  asio::awaitable<void> offline(std::uint64_t id, prg& g) {
    co_await prepare_offline(store_, id, [&](material& m) { return offline_steps(id, g, m); });
  }

  asio::awaitable<void> online(std::uint64_t id) {
    meter_.begin();
    material m = store_.take(id, name());
    const auto& plan = cfg_.plan;
    std::vector<std::vector<V>> tensors(plan.stages.size() + 1);
    if constexpr (J == 0) {
      tensors[0] = co_await receive_words<msg_masked_input, V>(links_.client, id, plan.input_size());
    } else {
      const auto live = live_tensors(plan, first());
      std::size_t n = 0;
      for (auto t : live) n += plan.tensor_sizes[t];
      auto all = co_await receive_words<msg_cluster_handoff<J - 1>, V>(links_.prev, id, n);
      std::size_t at = 0;
      for (auto t : live) {
        tensors[t].assign(all.begin() + static_cast<std::ptrdiff_t>(at),
                          all.begin() + static_cast<std::ptrdiff_t>(at + plan.tensor_sizes[t]));
        at += plan.tensor_sizes[t];
      }
    }
    for (std::size_t k = first(); k < end(); ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto& st = plan.stages[k];
      auto& sm = m.stages[k - first()];
      const auto z = gather_inputs(st, tensors);
      co_await for_each_index<T>([&]<std::size_t Vi>() {
        return send<msg_stage_input<J, Vi>>(std::get<Vi>(links_.compute), id, std::span<const V>(z));
      });
      std::vector<V> a(st.mid_size());
      {
        const auto timer = meter_.time(work_linear);
        share_product<V>(st.linear, std::span<const V>(model_[k - first()]), z, std::span<const V>(sm.s.data(), sm.s.size()), a, /*counts_public_paths=*/true, pool_.size());
      }
      co_await for_each_index<T>([&]<std::size_t Vi>() -> asio::awaitable<void> {
        auto p = co_await receive_words<msg_partial_product<J, Vi>, V>(std::get<Vi>(links_.compute), id, st.mid_size());
        const auto timer = meter_.time(work_linear);
        for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<V>(a[i] + p[i]);
      });
      if (st.garbled()) {
        // the labels of a_k, selected straight into the message
        co_await send_in_place<msg_garbler_labels<J>>(links_.evaluator, id, sm.a_zero.size(), [&](std::span<std::byte> out) {
          const auto timer = meter_.time(work_labels);
          gc::encode_words<V>(std::span<const block>(sm.a_zero.data(), sm.a_zero.size()), std::span<const V>(a), l, sm.delta, out);
        });
        release_in_background(std::move(sm.a_zero));  // used: wiped and freed on a helper thread
        tensors[k + 1] = co_await receive_words<msg_stage_output<J>, V>(links_.evaluator, id, st.out_size());
      } else {
        tensors[k + 1] = std::move(a);
      }
      report_.stage_entry(k).online_s = seconds_since(t0);
    }
    if constexpr (J + 1 < P) {
      std::vector<V> all;
      for (auto t : live_tensors(plan, end())) all.insert(all.end(), tensors[t].begin(), tensors[t].end());
      co_await send<msg_cluster_handoff<J>>(links_.next, id, std::span<const V>(all));
    } else {
      co_await send<msg_masked_output<J>>(links_.client, id, std::span<const V>(tensors.back()));
    }
    meter_.end(report_.phase("online"));
  }


 private:
  struct stage_material {
    secret_vector<V> s;              // [s_k]_{T+1}
    block delta{};                   // garbling offset of this stage's circuit
    secret_vector<block> a_zero;     // zero labels of the a-inputs
  };
  struct material {
    std::vector<stage_material> stages;
  };

  asio::awaitable<void> offline_steps(std::uint64_t id, prg& g, material& m) {
    const auto& plan = cfg_.plan;
    m.stages.resize(end() - first());
    double gates = 0;
    for (const auto& c : circuits_) gates += static_cast<double>(c.and_gates);
    progress_meter progress(cfg_.progress, name(), "offline " + std::to_string(id), gates, "AND gates");
    for (std::size_t k = first(); k < end(); ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto& st = plan.stages[k];
      auto& sm = m.stages[k - first()];
      auto s = co_await receive_words<msg_mask_share_garbler<J>, V>(links_.cloud, id, st.mid_size());
      sm.s.resize(s.size());
      std::copy(s.begin(), s.end(), sm.s.begin());
      secure_zero(std::span<V>(s));
      if (!st.garbled()) continue;
      const auto& c = circuits_[k - first()];
      const auto in = stage_circuit_inputs(st, l);
      // Fresh delta per stage: its garbler's tweaks start at 0, as the evaluator expects.
      gc::garbler gk = gc::garbler::keygen(g);
      sm.delta = gk.delta();
      auto zero = gc::keygen_zero_labels(g, c.input_bits());
      large_vector<block> tables(c.table_blocks());
      std::vector<V> terms(c.terms);
      secret_vector<V> masks(c.out);  // m: to the client only
      co_await offload(work_, [&] {
        (void)garble_stage<V>(c, gk, std::span<const block>(zero.data(), zero.size()), tables, std::span<V>(terms),
                              std::span<V>(masks.data(), masks.size()), pool_);
      });
      progress.advance(static_cast<double>(c.and_gates));
      co_await send<msg_garbled_tables<J>>(links_.evaluator, id, std::span<const block>(tables));
      co_await send<msg_output_terms<J>>(links_.evaluator, id, std::span<const V>(terms));
      sm.a_zero.resize(in.garbler_bits);
      std::copy(zero.begin(), zero.begin() + static_cast<std::ptrdiff_t>(in.garbler_bits), sm.a_zero.begin());
      // Three-party OT for the client's inputs (w).
      auto e = co_await receive<msg_ot_choice<J>>(links_.client, id, in.client_bits);
      prg ge = ot_prg(ot_master_.get(), id, k, ot_context_garbler);
      std::vector<block> pairs;
      try {
        pairs = ot::proxy_send(e, std::span<const block>(zero.data() + in.garbler_bits, in.client_bits), sm.delta, ge);
      } catch (const decode_error& err) {
        throw protocol_error(name(), "ot send", "client", err.what());
      }
      co_await send<msg_ot_reply<J>>(links_.client, id, std::span<const block>(pairs));
      co_await send<msg_output_mask<J>>(links_.client, id, std::span<const V>(masks.data(), masks.size()));
      report_.stage_entry(k).offline_s = seconds_since(t0);
    }
  }

  std::vector<secret_vector<V>> model_;  // [A_k]_{T+1}: shares of the weights of this cluster's stages
  std::vector<stage_chunks> circuits_;
  ot_key ot_master_;  // the pair secret with the evaluator: the pads u0, u1
  material_store<material> store_;
  worker_pool pool_;  // this party's threads for garbled-circuit work
  work_thread work_;  // runs the garbling of the offline steps (on pool_)
};

}  // namespace pmdi::proto
