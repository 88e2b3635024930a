#pragma once
// The garbler of cluster j: the cluster's head. Holds [A_k]_{T+1} and
// [s_k]_{T+1}, garbles C_k, answers the client's OT and drives the online
// phase of its stages.
//
// Setup: model shares <- cloud (one message per stage); OT master key (u0/u1
//   pads) <- evaluator; C_k built from the public plan.
// Offline: per stage: [s_k]_{T+1} <- cloud; garbled stage: fresh delta and
//   input zero labels, garble C_k, tables + decode bits -> evaluator; OT:
//   i ^ b <- client, (k0 ^ u_{i^b}, k1 ^ u_{1-(i^b)}) -> client.
// Online: z_1 <- client (cluster 0) or the live tensors <- previous garbler;
//   per stage: z_k -> compute servers, a_k = sum of partial products + own
//   share; garbled stage: labels of a_k -> evaluator, z_{k+1} <- evaluator;
//   then the live tensors -> next garbler, or z_{L+1} -> client.
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"
#include "pmdi/crypto/ot.hpp"
#include "pmdi/proto/circuits.hpp"
#include "pmdi/proto/common.hpp"
#include "pmdi/proto/messages.hpp"

namespace pmdi::proto {

struct garbler_links {
  endpoint<party::garbler, party::cloud> cloud;
  endpoint<party::garbler, party::client> client;
  endpoint<party::garbler, party::evaluator> evaluator;
  std::vector<endpoint<party::garbler, party::compute>> compute;  // T
  endpoint<party::garbler, party::garbler> prev, next;              // unset at the ends
};

// Linear part of a stage on masked values: out = [A]_v z - [s]_v over Z_2^l.
template <class V>
void share_product(const csr<V>& a, std::span<const V> z, std::span<const V> s, std::span<V> out) {
  a.template multiply<V, V>(z, out);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<V>(out[i] - s[i]);
}

// z_k: the stage's inputs concatenated.
template <class V>
[[nodiscard]] std::vector<V> gather_inputs(const public_stage& st, const std::vector<std::vector<V>>& tensors) {
  std::vector<V> z;
  for (auto t : st.inputs) z.insert(z.end(), tensors[t].begin(), tensors[t].end());
  return z;
}

template <class Ring>
class garbler {
 public:
  using V = typename Ring::value_type;
  static constexpr unsigned l = Ring::bits;

  garbler(public_config cfg, std::size_t cluster, garbler_links links)
      : cfg_(std::move(cfg)), j_(cluster), links_(std::move(links)) {
    validate(cfg_.plan);
    split_ = split(cfg_.plan, cfg_.topo);
    if (links_.compute.size() != cfg_.topo.compute) throw usage_error(name() + ": T compute links are needed");
    if ((j_ > 0) != links_.prev.connected() || (j_ + 1 < cfg_.topo.clusters) != links_.next.connected())
      throw usage_error(name() + ": links to the neighbouring clusters do not match the topology");
    report_.party = name();
    meter_.add("cloud", links_.cloud.l);
    meter_.add("client", links_.client.l);
    meter_.add(evaluator_name(j_), links_.evaluator.l);
    for (std::size_t v = 0; v < links_.compute.size(); ++v) meter_.add(compute_name(j_, v), links_.compute[v].l);
    if (links_.prev.connected()) meter_.add(garbler_name(j_ - 1), links_.prev.l);
    if (links_.next.connected()) meter_.add(garbler_name(j_ + 1), links_.next.l);
  }

  [[nodiscard]] std::string name() const { return garbler_name(j_); }
  [[nodiscard]] std::size_t first() const noexcept { return split_.first(j_); }
  [[nodiscard]] std::size_t end() const noexcept { return split_.end(j_); }

  void setup(prg& /*g*/) {
    meter_.begin();
    const auto& plan = cfg_.plan;
    for (std::size_t k = first(); k < end(); ++k) {
      const auto& st = plan.stages[k];
      auto v = receive_words<msg_model_share_garbler, V>(links_.cloud, 0, st.pattern.nnz());
      model_.push_back(st.pattern.with(std::move(v)));
    }
    auto s = receive<msg_ot_seed_garbler>(links_.evaluator, 0, std::size_t{crypto_kdf_KEYBYTES});
    if (s.size() != crypto_kdf_KEYBYTES)
      throw protocol_error(name(), "receive ot_seed", evaluator_name(j_), "seed has the wrong length");
    std::copy(s.begin(), s.end(), ot_master_.begin());
    secure_zero(std::span<std::byte>(s));
    for (std::size_t k = first(); k < end(); ++k) {
      if (plan.stages[k].garbled()) {
        circuits_.push_back(stage_circuit_chunks(plan.stages[k], l));
        report_.stage_entry(k).and_gates = circuits_.back().and_gates;
      } else {
        circuits_.emplace_back();
      }
    }
    meter_.end(report_.setup);
  }

  void offline(std::uint64_t id, prg& g) {
    meter_.begin();
    store_.prepare(id, name(), [&](material& m) {
      offline_steps(id, g, m);
    });
    meter_.end(report_.offline);
  }

  void online(std::uint64_t id) {
    meter_.begin();
    material m = store_.take(id, name());
    const auto& plan = cfg_.plan;
    std::vector<std::vector<V>> tensors(plan.stages.size() + 1);
    if (j_ == 0) {
      tensors[0] = receive_words<msg_masked_input, V>(links_.client, id, plan.input_size());
    } else {
      const auto live = live_tensors(plan, first());
      std::size_t n = 0;
      for (auto t : live) n += plan.tensor_sizes[t];
      auto all = receive_words<msg_cluster_handoff, V>(links_.prev, id, n);
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
      auto z = gather_inputs(st, tensors);
      for (auto& c : links_.compute) send<msg_stage_input>(c, id, std::span<const V>(z));
      std::vector<V> a(st.mid_size());
      share_product<V>(model_[k - first()], z, std::span<const V>(sm.s.data(), sm.s.size()), a);
      for (std::size_t v = 0; v < links_.compute.size(); ++v) {
        auto p = receive_words<msg_partial_product, V>(links_.compute[v], id, st.mid_size());
        for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<V>(a[i] + p[i]);
      }
      if (st.garbled()) {
        auto bits = gc::words_to_bits<V>(std::span<const V>(a), l);
        auto labels = gc::encode(std::span<const block>(sm.a_zero.data(), sm.a_zero.size()), bits, sm.delta);
        send<msg_garbler_labels>(links_.evaluator, id, std::span<const block>(labels));
        tensors[k + 1] = receive_words<msg_stage_output, V>(links_.evaluator, id, st.out_size());
      } else {
        tensors[k + 1] = std::move(a);
      }
      report_.stage_entry(k).online_s = seconds_since(t0);
    }
    if (j_ + 1 < cfg_.topo.clusters) {
      std::vector<V> all;
      for (auto t : live_tensors(plan, end())) all.insert(all.end(), tensors[t].begin(), tensors[t].end());
      send<msg_cluster_handoff>(links_.next, id, std::span<const V>(all));
    } else {
      send<msg_masked_output>(links_.client, id, std::span<const V>(tensors.back()));
    }
    meter_.end(report_.online);
  }

  [[nodiscard]] const party_report& report() const noexcept { return report_; }

 private:
  struct stage_material {
    secret_vector<V> s;              // [s_k]_{T+1}
    block delta{};                   // garbling offset of this stage's circuit
    secret_vector<block> a_zero;     // zero labels of the a-inputs
  };
  struct material {
    std::vector<stage_material> stages;
  };

  void offline_steps(std::uint64_t id, prg& g, material& m) {
    const auto& plan = cfg_.plan;
    m.stages.resize(end() - first());
    for (std::size_t k = first(); k < end(); ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto& st = plan.stages[k];
      auto& sm = m.stages[k - first()];
      auto s = receive_words<msg_mask_share_garbler, V>(links_.cloud, id, st.mid_size());
      sm.s.resize(s.size());
      std::copy(s.begin(), s.end(), sm.s.begin());
      secure_zero(std::span<V>(s));
      if (!st.garbled()) continue;
      const auto& c = circuits_[k - first()];
      const auto in = stage_circuit_inputs(st, l);
      sm.delta = gc::keygen_delta(g);
      auto zero = gc::keygen_zero_labels(g, c.input_bits());
      // Fresh delta per garbling: tweaks restart at 0 for every stage.
      std::vector<block> tables(c.table_blocks()), out_zero(c.output_bits());
      garble_stage(c, sm.delta, std::span<const block>(zero.data(), zero.size()), tables, out_zero, cfg_.threads);
      send<msg_garbled_tables>(links_.evaluator, id, std::span<const block>(tables));
      auto dbits = gc::decode_bits(out_zero);
      secure_zero(std::span<block>(out_zero));
      send<msg_decode_bits>(links_.evaluator, id, std::span<const std::uint8_t>(dbits));
      sm.a_zero.resize(in.garbler_bits);
      std::copy(zero.begin(), zero.begin() + static_cast<std::ptrdiff_t>(in.garbler_bits), sm.a_zero.begin());
      // Three-party OT for the client's inputs (w then r).
      auto e = receive<msg_ot_choice>(links_.client, id, in.client_bits);
      prg ge = ot_prg(ot_master_, id, k, ot_context_garbler);
      std::vector<block> pairs;
      try {
        pairs = ot::proxy_send(e, std::span<const block>(zero.data() + in.garbler_bits, in.client_bits), sm.delta, ge);
      } catch (const decode_error& err) {
        throw protocol_error(name(), "ot send", "client", err.what());
      }
      send<msg_ot_reply>(links_.client, id, std::span<const block>(pairs));
      report_.stage_entry(k).offline_s = seconds_since(t0);
    }
  }

  public_config cfg_;
  std::size_t j_;
  garbler_links links_;
  cluster_split split_;
  std::vector<csr<V>> model_;  // [A_k]_{T+1} for this cluster's stages
  std::vector<stage_chunks> circuits_;
  master_key ot_master_{};
  material_store<material> store_;
  party_report report_;
  phase_meter meter_;
};

}  // namespace pmdi::proto
