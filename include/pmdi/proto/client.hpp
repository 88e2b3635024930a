#pragma once
// The client: owns the input x and the Paillier key pair. It never sees a
// weight: its code has no model-handling path, only the public plan.
//
// Setup: keygen; pk -> cloud; OT seeds (b) from every cluster's evaluator.
// Offline (per inference): Enc(r_1) -> cloud, and Enc(r_{k+1}) for every
//   stage with a garbled part (sent up front: they do not depend on the
//   cloud's answers); per such stage: Enc(A c + b + s') <- cloud, w = that
//   mod 2^l; three-party OT of the bits of (w, r_{k+1}) with the cluster's
//   garbler, forwarding the labels to its evaluator. Last stage linear:
//   Enc(c_{L+1}) <- cloud.
// Online: z_1 = x - c_1 -> garbler of cluster 0; z_{L+1} <- last garbler;
//   output z_{L+1} + c_{L+1}.
#include <chrono>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"
#include "pmdi/crypto/ot.hpp"
#include "pmdi/proto/circuits.hpp"
#include "pmdi/proto/common.hpp"
#include "pmdi/proto/he.hpp"
#include "pmdi/proto/messages.hpp"

namespace pmdi::proto {

struct client_links {
  endpoint<party::client, party::cloud> cloud;
  std::vector<endpoint<party::client, party::garbler>> garblers;      // one per cluster
  std::vector<endpoint<party::client, party::evaluator>> evaluators;  // one per cluster
};

template <class Ring>
class client {
 public:
  using V = typename Ring::value_type;
  static constexpr unsigned l = Ring::bits;

  client(public_config cfg, client_links links) : cfg_(std::move(cfg)), links_(std::move(links)) {
    validate(cfg_.plan);
    split_ = split(cfg_.plan, cfg_.topo);
    if (links_.garblers.size() != cfg_.topo.clusters || links_.evaluators.size() != cfg_.topo.clusters)
      throw usage_error("client: one garbler and one evaluator link per cluster are needed");
    report_.party = name();
    meter_.add("cloud", links_.cloud.l);
    for (std::size_t j = 0; j < cfg_.topo.clusters; ++j) {
      meter_.add(garbler_name(j), links_.garblers[j].l);
      meter_.add(evaluator_name(j), links_.evaluators[j].l);
    }
  }

  [[nodiscard]] static std::string name() { return "client"; }

  void setup(prg& g) {
    meter_.begin();
    keys_ = paillier::keygen(g, cfg_.paillier_bits);
    send<msg_public_key>(links_.cloud, 0, std::span<const std::byte>(paillier::serialize(keys_.pk)));
    ot_master_.resize(cfg_.topo.clusters);
    for (std::size_t j = 0; j < cfg_.topo.clusters; ++j) {
      auto s = receive<msg_ot_seed_client>(links_.evaluators[j], 0, std::size_t{crypto_kdf_KEYBYTES});
      if (s.size() != crypto_kdf_KEYBYTES)
        throw protocol_error(name(), "receive ot_seed", evaluator_name(j), "seed has the wrong length");
      std::copy(s.begin(), s.end(), ot_master_[j].begin());
      secure_zero(std::span<std::byte>(s));
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

  // x: the input as ring elements (fixed point); returns the output tensor.
  [[nodiscard]] std::vector<V> online(std::uint64_t id, std::span<const V> x) {
    meter_.begin();
    submit(id, x);
    auto out = collect(id);
    meter_.end(report_.online);
    return out;
  }

  // The two halves of online(), for streams of inferences through the cluster
  // pipeline: submit sends z_1 = x - c_1 (consuming the inference's offline
  // material); collect waits for that inference's output. Inferences must be
  // collected in the order they were submitted.
  void submit(std::uint64_t id, std::span<const V> x) {
    const auto& plan = cfg_.plan;
    if (x.size() != plan.input_size())
      throw usage_error("client: input has " + std::to_string(x.size()) + " elements, the network takes " +
                        std::to_string(plan.input_size()));
    material m = store_.take(id, name());
    std::vector<V> z(x.size());
    for (std::size_t i = 0; i < z.size(); ++i) z[i] = static_cast<V>(x[i] - m.c_in[i]);
    send<msg_masked_input>(links_.garblers[0], id, std::span<const V>(z));
    m.c_in.wipe();
    pending_.emplace(id, std::move(m));
  }
  [[nodiscard]] std::vector<V> collect(std::uint64_t id) {
    auto it = pending_.find(id);
    if (it == pending_.end())
      throw protocol_error(name(), "online", "", "inference " + std::to_string(id) + " was not submitted");
    material m = std::move(it->second);
    pending_.erase(it);
    auto out = receive_words<msg_masked_output, V>(links_.garblers[cfg_.topo.clusters - 1], id, cfg_.plan.output_size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<V>(out[i] + m.c_out[i]);
    return out;
  }

  [[nodiscard]] const party_report& report() const noexcept { return report_; }
  [[nodiscard]] std::size_t ready() const noexcept { return store_.ready(); }

 private:
  struct material {
    secret_vector<V> c_in, c_out;  // c_1 = r_1 and c_{L+1}
  };

  void offline_steps(std::uint64_t id, prg& g, material& m) {
    const auto& plan = cfg_.plan;
    const auto& pk = keys_.pk;
    const std::size_t plain_bits = pk.bits() - 2;
    const std::size_t L = plan.stages.size();
    // Every mask up front: c_1 = r_1, and r_{k+1} for each garbled stage. They
    // do not depend on the cloud's answers, so Enc(r_{k+1}) goes out early
    // (in stage order on the client -> cloud link) and the client's
    // encryptions overlap the cloud's products.
    m.c_in.resize(plan.input_size());
    g.fill(m.c_in.data(), m.c_in.size() * sizeof(V));
    send<msg_enc_input_mask>(links_.cloud, id,
                             he::to_wire(pk, he::encrypt_ring<V>(keys_.sk, std::span<const V>(m.c_in.data(), m.c_in.size()), g,
                                                                 cfg_.threads)));
    std::vector<secret_vector<V>> r(L);
    for (std::size_t k = 0; k < L; ++k) {
      const auto& st = plan.stages[k];
      if (!st.garbled()) continue;
      r[k].resize(st.out_size());
      g.fill(r[k].data(), r[k].size() * sizeof(V));
      send<msg_enc_next_mask>(links_.cloud, id,
                              he::to_wire(pk, he::encrypt_ring<V>(keys_.sk, std::span<const V>(r[k].data(), r[k].size()), g,
                                                                  cfg_.threads)));
    }
    for (std::size_t k = 0; k < L; ++k) {
      const auto& st = plan.stages[k];
      if (!st.garbled()) continue;
      const auto t0 = std::chrono::steady_clock::now();
      const std::size_t j = split_.cluster_of(k);
      // w_k = A c + b + s mod 2^l
      auto packed = receive<msg_enc_stage_value>(links_.cloud, id, st.mid_size(), l + 1, plain_bits);
      std::vector<V> wr;
      try {
        auto cts = he::from_wire(pk, packed.ciphertexts, cfg_.threads);
        wr = he::unpack_ring<V>(keys_.sk, cts, packed.slot_bits, st.mid_size(), cfg_.threads);
      } catch (const decode_error& e) {
        throw protocol_error(name(), "decrypt enc_stage_value", "cloud", e.what());
      }
      // Three-party OT of the bits of (w_k, r_{k+1}) (Fig. 3).
      wr.insert(wr.end(), r[k].begin(), r[k].end());
      auto bits = gc::words_to_bits<V>(std::span<const V>(wr), l);
      secure_zero(std::span<V>(wr));
      prg ce = ot_prg(ot_master_[j], id, k, ot_context_client);
      auto e = ot::proxy_choose(bits, ce);
      send<msg_ot_choice>(links_.garblers[j], id, std::span<const std::uint8_t>(e), bits.size());
      auto pairs = receive<msg_ot_reply>(links_.garblers[j], id, 2 * bits.size());
      std::vector<block> fwd;
      try {
        fwd = ot::proxy_forward(pairs, bits);
      } catch (const decode_error& err) {
        throw protocol_error(name(), "ot forward", garbler_name(j), err.what());
      }
      secure_zero(std::span<std::uint8_t>(bits));
      send<msg_ot_forward>(links_.evaluators[j], id, std::span<const block>(fwd));
      report_.stage_entry(k).offline_s = seconds_since(t0);
    }
    if (plan.stages.back().garbled()) {
      m.c_out = std::move(r.back());
    } else {
      auto packed = receive<msg_enc_output_mask>(links_.cloud, id, plan.output_size(), l + 1, plain_bits);
      try {
        auto cts = he::from_wire(pk, packed.ciphertexts, cfg_.threads);
        auto v = he::unpack_ring<V>(keys_.sk, cts, packed.slot_bits, plan.output_size(), cfg_.threads);
        m.c_out.resize(v.size());
        std::copy(v.begin(), v.end(), m.c_out.begin());
        secure_zero(std::span<V>(v));
      } catch (const decode_error& e) {
        throw protocol_error(name(), "decrypt enc_output_mask", "cloud", e.what());
      }
    }
  }

  public_config cfg_;
  client_links links_;
  cluster_split split_;
  paillier::key_pair keys_;
  std::vector<master_key> ot_master_;
  material_store<material> store_;
  std::map<std::uint64_t, material> pending_;  // submitted, output not yet collected
  party_report report_;
  phase_meter meter_;
};

}  // namespace pmdi::proto
