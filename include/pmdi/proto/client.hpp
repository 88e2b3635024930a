#pragma once
// The client: owns the input x and the Paillier key pair. It never sees a
// weight: its code has no model-handling path, only the public plan.
//
// Setup: keygen; pk -> cloud; slot widths <- cloud; OT master keys (b): the
//   pair secrets of its channels to every cluster's evaluator.
// Offline (per inference): the masks every stage reads (r_1 = c_1, and
//   r_{k+1} of every stage with a garbled part), encrypted in each stage's
//   layout (proto/offline_layout.hpp) -> cloud, all up front: they do not
//   depend on the cloud's answers; per garbled stage: Enc(A c + b + s') <-
//   cloud, w = that mod 2^l; three-party OT of the bits of w with the
//   cluster's garbler, forwarding the labels to its evaluator; the garbler's
//   output masks m <- garbler, -r_{k+1} - m -> evaluator (proto/circuits.hpp).
//   Last stage linear: Enc(c_{L+1}) <- cloud.
// Online: z_1 = x - c_1 -> garbler of cluster 0; z_{L+1} <- last garbler;
//   output z_{L+1} + c_{L+1}.
#include <array>
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
#include "pmdi/proto/he_slots.hpp"
#include "pmdi/proto/offline_layout.hpp"
#include "pmdi/proto/offload.hpp"
#include "pmdi/proto/messages.hpp"
#include "pmdi/proto/party.hpp"
#include "pmdi/proto/side_by_side.hpp"

namespace pmdi::proto {

template <std::size_t J>
using client_to_garbler = channel<role::client, role::garbler<J>>;
template <std::size_t J>
using client_to_evaluator = channel<role::client, role::evaluator<J>>;

template <std::size_t P>
struct client_links {
  channel<role::client, role::cloud> cloud;
  indexed_tuple<client_to_garbler, P> garblers;      // garbler<0> ... garbler<P-1>
  indexed_tuple<client_to_evaluator, P> evaluators;  // evaluator<0> ... evaluator<P-1>

  // Calls f on every channel.
  template <class F>
  void each(F&& f) {
    f(cloud);
    each_index<P>([&]<std::size_t J>() {
      f(std::get<J>(garblers));
      f(std::get<J>(evaluators));
    });
  }
};

template <class Ring, class Shape>
class client : public party<role::client, client_links<Shape::clusters>, Ring, Shape> {
  using base = party<role::client, client_links<Shape::clusters>, Ring, Shape>;
  using base::cfg_, base::links_, base::split_, base::report_, base::meter_, base::prepare_offline, base::first, base::end;

 public:
  using base::name, base::l, base::P;
  using typename base::V;

  client(public_config cfg, typename base::links lk) : base(std::move(cfg), std::move(lk)) {}

  asio::awaitable<void> setup(prg& g) {
    meter_.begin();
    keys_ = paillier::keygen(g, cfg_.paillier_bits);
    co_await send<msg_public_key>(links_.cloud, 0, std::span<const std::byte>(paillier::serialize(keys_.pk)));
    const std::size_t plain_bits = keys_.pk.bits() - 2;
    const auto widths = co_await receive<msg_slot_widths>(links_.cloud, 0, cfg_.plan.stages.size(), l + 1,
                                                          static_cast<std::uint32_t>(plain_bits));
    layouts_.clear();
    for (std::size_t k = 0; k < widths.size(); ++k) layouts_.push_back(layout_of(cfg_.plan, k, widths[k], plain_bits, l));
    each_index<P>([&]<std::size_t J>() { ot_master_[J].take_from(std::get<J>(links_.evaluators)); });
    meter_.end(report_.phase("setup"));
  }

  asio::awaitable<void> offline(std::uint64_t id, prg& g) {
    co_await prepare_offline(store_, id, [&](material& m) { return offline_steps(id, g, m); });
  }

  // x: the input as ring elements (fixed point); returns the output tensor.
  // `x` must stay valid until the step completes.
  asio::awaitable<std::vector<V>> online(std::uint64_t id, std::span<const V> x) {
    meter_.begin();
    co_await submit(id, x);
    auto out = co_await collect(id);
    meter_.end(report_.phase("online"));
    co_return out;
  }

  // The two halves of online(), for streams of inferences through the cluster
  // pipeline: submit sends z_1 = x - c_1 (consuming the inference's offline
  // material); collect waits for that inference's output. Inferences must be
  // collected in the order they were submitted.
  asio::awaitable<void> submit(std::uint64_t id, std::span<const V> x) {
    const auto& plan = cfg_.plan;
    if (x.size() != plan.input_size())
      throw usage_error("client: input has " + std::to_string(x.size()) + " elements, the network takes " +
                        std::to_string(plan.input_size()));
    material m = store_.take(id, name());
    std::vector<V> z(x.size());
    for (std::size_t i = 0; i < z.size(); ++i) z[i] = static_cast<V>(x[i] - m.c_in[i]);
    m.c_in.wipe();
    pending_.emplace(id, std::move(m));
    co_await send<msg_masked_input>(std::get<0>(links_.garblers), id, std::span<const V>(z));
  }
  asio::awaitable<std::vector<V>> collect(std::uint64_t id) {
    auto it = pending_.find(id);
    if (it == pending_.end())
      throw protocol_error(name(), "online", "", "inference " + std::to_string(id) + " was not submitted");
    material m = std::move(it->second);
    pending_.erase(it);
    auto out = co_await receive_words<msg_masked_output<P - 1>, V>(std::get<P - 1>(links_.garblers), id,
                                                                    cfg_.plan.output_size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<V>(out[i] + m.c_out[i]);
    co_return out;
  }

  [[nodiscard]] std::size_t ready() const noexcept { return store_.ready(); }

 private:
  struct material {
    secret_vector<V> c_in, c_out;  // c_1 = r_1 and c_{L+1}
  };

  asio::awaitable<void> offline_steps(std::uint64_t id, prg& g, material& m) {
    const auto& plan = cfg_.plan;
    const auto& pk = keys_.pk;
    const std::size_t L = plan.stages.size();
    // Every mask up front: c_1 = r_1 (tensor 0), and r_{k+1} (tensor k + 1)
    // for each garbled stage k. They do not depend on the cloud's answers, so
    // every stage's upload goes out early (in stage order on the client ->
    // cloud link) and the client's encryptions overlap the cloud's products.
    std::vector<secret_vector<V>> r(L + 1);
    for (std::size_t t = 0; t <= L; ++t) {
      if (!client_holds(plan, t)) continue;
      r[t].resize(plan.tensor_sizes[t]);
      g.fill(r[t].data(), r[t].size() * sizeof(V));
    }
    // progress in ciphertexts: encrypted, then decrypted
    double total = 0;
    for (std::size_t k = 0; k < L; ++k)
      total += static_cast<double>(layouts_[k].input_ciphertexts +
                                   (result_to_client(plan, k) ? layouts_[k].output_ciphertexts : 0));
    progress_meter progress(cfg_.progress, name(), "offline " + std::to_string(id), total, "ciphertexts");
    // The uploads and the answers run side by side: the cloud sends stage k's
    // answer before it reads upload k + 1, so a client that read nothing until
    // its last upload had gone would leave both ends blocked in a send once
    // the answers outgrew the socket buffers (ResNet-32 over TCP).
    const auto uploads = [&]() -> asio::awaitable<void> {
      for (std::size_t k = 0; k < L; ++k) {
        auto wire = co_await offload(work_, [&] { return he::to_wire(pk, upload(k, r, g)); });
        co_await send<msg_enc_stage_input>(links_.cloud, id, wire);
        progress.advance(static_cast<double>(layouts_[k].input_ciphertexts));
      }
    };
    co_await side_by_side(uploads(), answers(id, r, progress));
    m.c_in = std::move(r[0]);
    if (plan.stages.back().garbled()) {
      m.c_out = std::move(r[L]);
    } else {
      auto v = co_await decrypt_values<msg_enc_output_mask>(id, L - 1, "enc_output_mask");
      m.c_out.resize(v.size());
      std::copy(v.begin(), v.end(), m.c_out.begin());
      secure_zero(std::span<V>(v));
    }
    for (auto& x : r) x.wipe();
  }

  // The cloud's answer for each garbled stage (w_k = A c + b + s), decrypted,
  // and the three-party OT of its bits with the stage's cluster.
  asio::awaitable<void> answers(std::uint64_t id, const std::vector<secret_vector<V>>& r, progress_meter& progress) {
    const auto& plan = cfg_.plan;
    const std::size_t L = plan.stages.size();
    for (std::size_t k = 0; k < L; ++k) {
      const auto& st = plan.stages[k];
      if (!st.garbled()) continue;
      const auto t0 = std::chrono::steady_clock::now();
      const std::size_t j = split_.cluster_of(k);
      // w_k = A c + b + s mod 2^l
      auto wr = co_await decrypt_values<msg_enc_stage_value>(id, k, "enc_stage_value");
      progress.advance(static_cast<double>(layouts_[k].output_ciphertexts));
      // Three-party OT of the bits of w_k (Fig. 3) with cluster j; then the
      // correction -r_{k+1} - m of the stage's outputs (proto/circuits.hpp).
      auto bits = gc::words_to_bits<V>(std::span<const V>(wr), l);
      secure_zero(std::span<V>(wr));
      co_await with_index<P>(j, [&]<std::size_t J>() -> asio::awaitable<void> {
        prg ce = ot_prg(ot_master_[J].get(), id, k, ot_context_client);
        auto e = ot::proxy_choose(bits, ce);
        co_await send<msg_ot_choice<J>>(std::get<J>(links_.garblers), id, std::span<const std::uint8_t>(e), bits.size());
        auto pairs = co_await receive<msg_ot_reply<J>>(std::get<J>(links_.garblers), id, 2 * bits.size());
        std::vector<block> fwd;
        try {
          fwd = ot::proxy_forward(pairs, bits);
        } catch (const decode_error& err) {
          throw protocol_error(name(), "ot forward", garbler_name(J), err.what());
        }
        secure_zero(std::span<std::uint8_t>(bits));
        auto m = co_await receive_words<msg_output_mask<J>, V>(std::get<J>(links_.garblers), id, st.out_size());
        const auto correction = output_correction<V>(std::span<const V>(r[k + 1].data(), r[k + 1].size()),
                                                     std::span<const V>(m), l);
        secure_zero(std::span<V>(m));
        co_await send<msg_ot_forward<J>>(std::get<J>(links_.evaluators), id, std::span<const block>(fwd));
        co_await send<msg_output_correction<J>>(std::get<J>(links_.evaluators), id, std::span<const V>(correction));
      });
      report_.stage_entry(k).offline_s = seconds_since(t0);
    }
  }

  // Stage k's upload: the masks of the stage's inputs the client holds,
  // encrypted in the stage's layout.
  std::vector<he::ciphertext> upload(std::size_t k, const std::vector<secret_vector<V>>& r, prg& g) const {
    const auto& st = cfg_.plan.stages[k];
    const auto& lay = layouts_[k];
    std::vector<paillier::mpz> plain;  // the client's masks: wiped below
    if (lay.mode == offline_mode::conv_groups) {
      std::vector<client_value> x;
      x.reserve(st.in_size());
      for (auto t : st.inputs) x.insert(x.end(), r[t].begin(), r[t].end());
      plain = he::upload_plaintexts(st.linear, lay, std::span<const client_value>(x));
      std::fill(x.begin(), x.end(), 0);
    } else {
      plain.reserve(lay.input_ciphertexts);
      for (std::size_t i = 0; i < st.inputs.size(); ++i)
        if (lay.client_inputs[i])
          for (auto v : r[st.inputs[i]]) plain.emplace_back(v);
    }
    auto c = paillier::encrypt_many(keys_.sk, std::span<const paillier::mpz>(plain), g, cfg_.threads);
    for (auto& v : plain) v.wipe();
    return c;
  }

  // The values of stage k's output layout, decrypted from message M.
  template <class M>
  asio::awaitable<std::vector<V>> decrypt_values(std::uint64_t id, std::size_t k, const char* what) {
    const auto& lay = layouts_[k];
    auto b = co_await receive<M>(links_.cloud, id, lay.output_ciphertexts);
    co_return co_await offload(work_, [&] {
      try {
        auto cts = he::from_wire(keys_.pk, b, cfg_.threads);
        return he::unpack_layout<V>(keys_.sk, cts, lay, cfg_.threads);
      } catch (const decode_error& e) {
        throw protocol_error(name(), std::string("decrypt ") + what, "cloud", e.what());
      }
    });
  }

  paillier::key_pair keys_;
  std::vector<stage_layout> layouts_;  // each stage's offline layout (from the slot widths, at setup)
  work_thread work_;                   // the Paillier work of the offline steps
  std::array<ot_key, P> ot_master_;  // pair secrets with each cluster's evaluator: the bits b
  material_store<material> store_;
  std::map<std::uint64_t, material> pending_;  // submitted, output not yet collected
};

}  // namespace pmdi::proto
