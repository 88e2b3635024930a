#pragma once
// The evaluator of cluster j: receives garbled circuits and the labels of the
// client's inputs (three-party OT) offline, the labels of the garbler's input
// online, evaluates C_k and returns z_{k+1} = x_{k+1} - r_{k+1}.
//
// Setup: draws the two OT master keys (client-evaluator: bits b;
//   garbler-evaluator: pads u0, u1) and sends each to its partner.
#include <chrono>
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

struct evaluator_links {
  endpoint<party::evaluator, party::client> client;
  endpoint<party::evaluator, party::garbler> garbler;
};

template <class Ring>
class evaluator {
 public:
  using V = typename Ring::value_type;
  static constexpr unsigned l = Ring::bits;

  evaluator(public_config cfg, std::size_t cluster, evaluator_links links)
      : cfg_(std::move(cfg)), j_(cluster), links_(std::move(links)) {
    validate(cfg_.plan);
    split_ = split(cfg_.plan, cfg_.topo);
    report_.party = name();
    meter_.add("client", links_.client.l);
    meter_.add(garbler_name(j_), links_.garbler.l);
  }

  [[nodiscard]] std::string name() const { return evaluator_name(j_); }
  [[nodiscard]] std::size_t first() const noexcept { return split_.first(j_); }
  [[nodiscard]] std::size_t end() const noexcept { return split_.end(j_); }

  void setup(prg& g) {
    meter_.begin();
    g.fill(master_client_.data(), master_client_.size());
    g.fill(master_garbler_.data(), master_garbler_.size());
    send<msg_ot_seed_client>(links_.client, 0, std::span<const std::byte>(master_client_));
    send<msg_ot_seed_garbler>(links_.garbler, 0, std::span<const std::byte>(master_garbler_));
    for (std::size_t k = first(); k < end(); ++k)
      circuits_.push_back(cfg_.plan.stages[k].garbled() ? stage_circuit_chunks(cfg_.plan.stages[k], l) : stage_chunks{});
    meter_.end(report_.setup);
  }

  void offline(std::uint64_t id, prg& /*g*/) {
    meter_.begin();
    store_.prepare(id, name(), [&](material& m) {
      const auto& plan = cfg_.plan;
      m.stages.resize(end() - first());
      for (std::size_t k = first(); k < end(); ++k) {
        const auto& st = plan.stages[k];
        if (!st.garbled()) continue;
        const auto t0 = std::chrono::steady_clock::now();
        const auto& c = circuits_[k - first()];
        auto& sm = m.stages[k - first()];
        const auto in = stage_circuit_inputs(st, l);
        sm.tables = receive<msg_garbled_tables>(links_.garbler, id, c.table_blocks());
        sm.decode = receive<msg_decode_bits>(links_.garbler, id, c.output_bits());
        auto fwd = receive<msg_ot_forward>(links_.client, id, in.client_bits);
        prg ce = ot_prg(master_client_, id, k, ot_context_client);
        prg ge = ot_prg(master_garbler_, id, k, ot_context_garbler);
        auto labels = ot::proxy_receive(fwd, in.client_bits, ce, ge);
        sm.client_labels.resize(labels.size());
        std::copy(labels.begin(), labels.end(), sm.client_labels.begin());
        report_.stage_entry(k).offline_s = seconds_since(t0);
      }
    });
    meter_.end(report_.offline);
  }

  void online(std::uint64_t id) {
    meter_.begin();
    material m = store_.take(id, name());
    const auto& plan = cfg_.plan;
    for (std::size_t k = first(); k < end(); ++k) {
      const auto& st = plan.stages[k];
      if (!st.garbled()) continue;
      const auto& c = circuits_[k - first()];
      auto& sm = m.stages[k - first()];
      const auto in = stage_circuit_inputs(st, l);
      auto a = receive<msg_garbler_labels>(links_.garbler, id, in.garbler_bits);
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<block> out(c.output_bits());
      evaluate_stage(c, a, std::span<const block>(sm.client_labels.data(), sm.client_labels.size()), sm.tables, out,
                     cfg_.threads);
      auto bits = gc::decode(out, sm.decode);
      auto z = gc::bits_to_words<V>(bits, l);
      send<msg_stage_output>(links_.garbler, id, std::span<const V>(z));
      report_.stage_entry(k).online_s = seconds_since(t0);
    }
    meter_.end(report_.online);
  }

  [[nodiscard]] const party_report& report() const noexcept { return report_; }

 private:
  struct stage_material {
    std::vector<block> tables;
    std::vector<std::uint8_t> decode;
    secret_vector<block> client_labels;
  };
  struct material {
    std::vector<stage_material> stages;
  };

  public_config cfg_;
  std::size_t j_;
  evaluator_links links_;
  cluster_split split_;
  std::vector<stage_chunks> circuits_;
  master_key master_client_{}, master_garbler_{};
  material_store<material> store_;
  party_report report_;
  phase_meter meter_;
};

}  // namespace pmdi::proto
