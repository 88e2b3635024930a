#pragma once
// The evaluator of cluster J (role::evaluator<J>): receives garbled circuits
// with their output terms, the labels of the client's inputs (three-party OT)
// and the client's output correction offline, the labels of the garbler's
// input online, evaluates C_k and returns z_{k+1} = x_{k+1} - r_{k+1}.
//
// Setup: the two OT master keys are the pair secrets of its channels to the
//   client (bits b) and to the garbler (pads u0, u1): nothing is sent.
#include <chrono>
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

namespace pmdi::proto {

template <std::size_t J>
struct evaluator_links {
  channel<role::evaluator<J>, role::client> client;
  channel<role::evaluator<J>, role::garbler<J>> garbler;

  // Calls f on every channel.
  template <class F>
  void each(F&& f) {
    f(client);
    f(garbler);
  }
};

template <class Ring, class Shape, std::size_t J>
class evaluator : public party<role::evaluator<J>, evaluator_links<J>, Ring, Shape> {
  using base = party<role::evaluator<J>, evaluator_links<J>, Ring, Shape>;
  using base::cfg_, base::links_, base::split_, base::report_, base::meter_, base::prepare_offline, base::first, base::end;

 public:
  using base::name, base::l;
  using typename base::V;

  evaluator(public_config cfg, typename base::links lk) : base(std::move(cfg), std::move(lk)), pool_(cfg_.threads) {}

  asio::awaitable<void> setup(prg& /*g*/) {
    meter_.begin();
    master_client_.take_from(links_.client);
    master_garbler_.take_from(links_.garbler);
    for (std::size_t k = first(); k < end(); ++k)
      circuits_.push_back(cfg_.plan.stages[k].garbled() ? stage_circuit_chunks(cfg_.plan.stages[k], l) : stage_chunks{});
    meter_.end(report_.phase("setup"));
    co_return;
  }

  asio::awaitable<void> offline(std::uint64_t id, prg& /*g*/) {
    co_await prepare_offline(store_, id, [&](material& m) -> asio::awaitable<void> {
      const auto& plan = cfg_.plan;
      m.stages.resize(end() - first());
      for (std::size_t k = first(); k < end(); ++k) {
        const auto& st = plan.stages[k];
        if (!st.garbled()) continue;
        const auto t0 = std::chrono::steady_clock::now();
        const auto& c = circuits_[k - first()];
        auto& sm = m.stages[k - first()];
        const auto in = stage_circuit_inputs(st, l);
        sm.tables = co_await receive<msg_garbled_tables<J>>(links_.garbler, id, c.table_blocks());
        sm.terms = co_await receive_words<msg_output_terms<J>, V>(links_.garbler, id, c.terms);
        auto fwd = co_await receive<msg_ot_forward<J>>(links_.client, id, in.client_bits);
        sm.correction = co_await receive_words<msg_output_correction<J>, V>(links_.client, id, c.out);
        prg ce = ot_prg(master_client_.get(), id, k, ot_context_client);
        prg ge = ot_prg(master_garbler_.get(), id, k, ot_context_garbler);
        auto labels = ot::proxy_receive(fwd, in.client_bits, ce, ge);
        sm.inputs = chunk_ordered_inputs(c, labels);
        secure_zero(std::span<block>(labels));
        report_.stage_entry(k).offline_s = seconds_since(t0);
      }
    });
  }

  asio::awaitable<void> online(std::uint64_t id) {
    meter_.begin();
    material m = store_.take(id, name());
    const auto& plan = cfg_.plan;
    for (std::size_t k = first(); k < end(); ++k) {
      const auto& st = plan.stages[k];
      if (!st.garbled()) continue;
      const auto& c = circuits_[k - first()];
      auto& sm = m.stages[k - first()];
      const auto in = stage_circuit_inputs(st, l);
      auto a = co_await receive_in_place<msg_garbler_labels<J>>(links_.garbler, id, in.garbler_bits);
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<V> z(st.out_size());
      {
        const auto timer = meter_.time(work_gc);  // the decoding into z included
        evaluate_stage_words<V>(c, a.bytes(), std::span<block>(sm.inputs.data(), sm.inputs.size()), sm.tables,
                                std::span<const V>(sm.terms), std::span<const V>(sm.correction), std::span<V>(z), pool_);
      }
      // evaluated: the stage's tables and labels go back now, freed (and wiped) on a helper thread
      release_in_background(std::move(sm.tables));
      release_in_background(std::move(sm.inputs));
      release_in_background(std::move(a));
      co_await send<msg_stage_output<J>>(links_.garbler, id, std::span<const V>(z));
      report_.stage_entry(k).online_s = seconds_since(t0);
    }
    meter_.end(report_.phase("online"));
  }


 private:
  struct stage_material {
    large_vector<block> tables;
    std::vector<V> terms;       // the output terms' table values
    std::vector<V> correction;  // the client's -r - m per output word
    secret_vector<block> inputs;  // the client's labels in chunk order (chunk_ordered_inputs), the a runs filled online
  };
  struct material {
    std::vector<stage_material> stages;
  };

  std::vector<stage_chunks> circuits_;
  ot_key master_client_, master_garbler_;  // pair secrets with the client and the garbler
  material_store<material> store_;
  worker_pool pool_;  // this party's threads for garbled-circuit work
};

}  // namespace pmdi::proto
