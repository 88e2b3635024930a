#pragma once
// The cloud: owns the model (A_k, b_k: the weights of each stage's operators). It takes no part in the online phase.
//
// Setup: pk <- client; slot widths W_k -> client; additive shares
//   [A_k]_1..[A_k]_{T+1} over Z_2^l to the T compute servers and the garbler
//   of the stage's cluster (once).
// Offline (per inference), per stage k: the client's masks in the stage's
//   layout (proto/offline_layout.hpp) <- client;
//   s'_k = 2^B + uniform[0, 2^(B+40)) where |A_k c_k + b_k| < 2^B, so the
//   plaintext A_k c_k + b_k + s'_k is non-negative and below 2^(B+41);
//   Enc(A_k c_k + b_k + s'_k): slot-packed convolution products (conv_groups)
//   or one homomorphic product per operator and tap (elementwise); shares of
//   s_k = s'_k mod 2^l to the T+1 holders. Garbled stage: the ciphertexts of
//   the output layout -> client. Linear stage: the product is Enc(c_{k+1}).
//   Last stage linear: Enc(c_{L+1}) in its output layout -> client.
#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/proto/common.hpp"
#include "pmdi/proto/he.hpp"
#include "pmdi/proto/he_slots.hpp"
#include "pmdi/proto/offline_layout.hpp"
#include "pmdi/proto/offload.hpp"
#include "pmdi/proto/messages.hpp"
#include "pmdi/proto/party.hpp"

namespace pmdi::proto {

template <std::size_t J>
struct cloud_peers {
  template <std::size_t V>
  using compute = channel<role::cloud, role::compute<J, V>>;
};

// The cloud's channels to cluster J: its garbler and its T compute servers.
template <std::size_t T, std::size_t J>
struct cloud_cluster_links {
  channel<role::cloud, role::garbler<J>> garbler;
  indexed_tuple<cloud_peers<J>::template compute, T> compute;
};
template <std::size_t T>
struct cloud_clusters {
  template <std::size_t J>
  using links = cloud_cluster_links<T, J>;
};

template <std::size_t P, std::size_t T>
struct cloud_links {
  channel<role::cloud, role::client> client;
  indexed_tuple<cloud_clusters<T>::template links, P> clusters;

  // Calls f on every channel.
  template <class F>
  void each(F&& f) {
    f(client);
    each_index<P>([&]<std::size_t J>() {
      auto& c = std::get<J>(clusters);
      f(c.garbler);
      each_index<T>([&]<std::size_t V>() { f(std::get<V>(c.compute)); });
    });
  }
};

template <class Ring, class Shape>
class cloud : public party<role::cloud, cloud_links<Shape::clusters, Shape::compute>, Ring, Shape> {
  using base = party<role::cloud, cloud_links<Shape::clusters, Shape::compute>, Ring, Shape>;
  using base::cfg_, base::links_, base::split_, base::report_, base::meter_, base::prepare_offline, base::first, base::end;

 public:
  using base::name, base::l, base::P, base::T;
  using typename base::V;

  cloud(public_config cfg, std::vector<stage> model, typename base::links lk)
      : base(std::move(cfg), std::move(lk)), model_(std::move(model)) {
    if (model_.size() != cfg_.plan.stages.size()) throw usage_error("cloud: model and plan differ in stage count");
    for (std::size_t k = 0; k < model_.size(); ++k) {
      const auto& st = cfg_.plan.stages[k];
      if (!(model_[k].pub.linear == st.linear))
        throw usage_error("cloud: stage " + std::to_string(k) + ": the model's operators differ from the public plan's");
      validate_weights(model_[k], k);
      // b_k at the stage's output: the program on a zero input, biases included
      const auto& lin = model_[k].pub.linear;
      const std::vector<std::uint64_t> zero(lin.in_size(), 0);
      const auto b = apply<std::uint64_t, std::int64_t>(lin, model_[k].weights, model_[k].bias, zero);
      out_bias_.emplace_back(b.size());
      for (std::size_t i = 0; i < b.size(); ++i) out_bias_.back()[i] = static_cast<std::int64_t>(b[i]);
      // W_k = B + sigma + 1 (the slot bound, proto/offline_layout.hpp), B from
      // the bounds of the stage's inputs: l bits for the client's masks, W_j
      // for the encrypted output of a plain linear stage j
      unsigned c_bits = 0;
      for (auto t : st.inputs) c_bits = std::max(c_bits, client_holds(cfg_.plan, t) ? l : widths_[t - 1]);
      plan_macs_ += lin.macs();
      widths_.push_back(slot_width(bound_bits(lin, model_[k].weights, model_[k].bias, c_bits)));
    }
  }

  asio::awaitable<void> setup(prg& g) {
    meter_.begin();
    auto pkb = co_await receive<msg_public_key>(links_.client, 0, wire::max_blob);
    try {
      pk_ = paillier::deserialize_public_key(pkb);
    } catch (const error& e) {
      throw protocol_error(name(), "receive public_key", "client", e.what());
    }
    const std::size_t plain_bits = pk_.bits() - 2;
    for (std::size_t k = 0; k < widths_.size(); ++k) {
      if (widths_[k] > plain_bits)
        throw protocol_error(name(), "setup stage " + std::to_string(k), "client",
                             "masked values need " + std::to_string(widths_[k]) + " bits; the " +
                                 std::to_string(pk_.bits()) + "-bit Paillier modulus is too small");
      layouts_.push_back(layout_of(cfg_.plan, k, widths_[k], plain_bits, l));
    }
    co_await send<msg_slot_widths>(links_.client, 0, std::span<const std::uint32_t>(widths_));
    for (std::size_t k = 0; k < model_.size(); ++k) {
      const std::size_t j = split_.cluster_of(k);
      std::vector<V> a(model_[k].weights.size());
      for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<V>(model_[k].weights[i]);
      auto shares = share_holders(a, g);
      co_await send_shares<msg_model_share_compute, msg_model_share_garbler>(j, 0, shares);
      for (auto& s : shares) secure_zero(std::span<V>(s));
      secure_zero(std::span<V>(a));
    }
    meter_.end(report_.phase("setup"));
  }

  asio::awaitable<void> offline(std::uint64_t id, prg& g) {
    meter_.begin();
    if (!ids_.insert(id).second || id == 0)
      throw protocol_error(name(), "offline", "", "inference id " + std::to_string(id) + " was already used or is 0");
    const auto& plan = cfg_.plan;
    report_.paillier_products = 0;
    progress_meter progress(cfg_.progress, name(), "offline " + std::to_string(id), static_cast<double>(plan_macs_), "MACs");
    // Enc(c_t) of the tensors a plain linear stage wrote (elementwise); the
    // client's masks come with each stage that reads them
    std::vector<std::vector<he::ciphertext>> held(plan.stages.size() + 1);
    for (std::size_t k = 0; k < plan.stages.size(); ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto& st = plan.stages[k];
      const auto& ms = model_[k];
      const auto& lay = layouts_[k];
      const std::size_t j = split_.cluster_of(k);
      const unsigned W = lay.slot_bits;
      auto blobs = co_await receive<msg_enc_stage_input>(links_.client, id, lay.input_ciphertexts);
      const double wait_s = seconds_since(t0);
      auto upload = co_await offload(work_, [&] { return decode(blobs, "enc_stage_input"); });
      // s'_k and the additive term b_k + s'_k, per linear output.
      const unsigned bound = W - statistical_bits - 1;
      std::vector<he::mpz> term(st.mid_size());
      std::vector<V> s(st.mid_size());
      he::mpz offset;
      ::mpz_setbit(offset, bound);
      for (std::size_t i = 0; i < term.size(); ++i) {
        he::random_bits(term[i], bound + statistical_bits, g);
        ::mpz_add(term[i], term[i], offset);
        s[i] = static_cast<V>(term[i].low_u64());
        he::mpz b(out_bias_[k][i]);
        ::mpz_add(term[i], term[i], b);
      }
      auto shares = share_holders(s, g);
      co_await send_shares<msg_mask_share_compute, msg_mask_share_garbler>(j, id, shares);
      secure_zero(std::span<V>(s));
      const auto t_mv = std::chrono::steady_clock::now();
      // Enc(A c + b + s') WITHOUT per-row re-randomisation: the additive term is
      // multiplied in as the plaintext (1 + (b + s') N), so the rows' randomness
      // is a function of A. That is safe only because no ciphertext leaves the
      // cloud as it is: every one sent to the client (packed) is re-randomised
      // with a fresh Enc(0) first (below); a plain linear stage's products stay
      // here as inputs of later products. Every ciphertext the client can
      // decrypt therefore carries a fresh hs^x (docs/paillier.md, "Re-randomisation").
      double pack_s = 0;
      const bool leaves = result_to_client(plan, k);
      auto out = co_await offload(work_, [&] {
        std::vector<he::ciphertext> r;
        if (lay.mode == offline_mode::conv_groups) {
          const auto packed_term = he::pack_terms(lay, std::span<const he::mpz>(term));
          r = he::apply_conv_groups(pk_, st.linear, lay, ms.weights, upload, packed_term, cfg_.threads,
                                    report_.paillier_products);
        } else {
          std::vector<he::ciphertext> c;
          std::size_t at = 0;
          for (std::size_t i = 0; i < st.inputs.size(); ++i) {
            if (lay.client_inputs[i]) {
              c.insert(c.end(), upload.begin() + static_cast<std::ptrdiff_t>(at),
                       upload.begin() + static_cast<std::ptrdiff_t>(at + st.linear.input_sizes[i]));
              at += st.linear.input_sizes[i];
            } else {
              const auto& h = held[st.inputs[i]];
              c.insert(c.end(), h.begin(), h.end());
            }
          }
          r = he::apply(pk_, st.linear, ms.weights, c, std::span<const he::mpz>(term), g, cfg_.threads,
                        &report_.paillier_products);
          if (leaves) {
            const auto t_pk = std::chrono::steady_clock::now();
            r = he::pack_all(pk_, r, W, cfg_.threads);
            pack_s = seconds_since(t_pk);
          }
        }
        for (auto& x : term) x.wipe();
        if (leaves) paillier::rerandomize_many(pk_, std::span<he::ciphertext>(r), g, cfg_.threads);  // before it leaves
        return r;
      });
      const double matvec_s = seconds_since(t_mv) - pack_s;
      if (leaves) {
        auto wire = co_await offload(work_, [&] { return he::to_wire(pk_, out); });
        if (st.garbled())
          co_await send<msg_enc_stage_value>(links_.client, id, wire);
        else
          co_await send<msg_enc_output_mask>(links_.client, id, wire);
      } else {
        held[k + 1] = std::move(out);
      }
      const double dt = seconds_since(t0);
      report_.stage_entry(k).offline_s = dt;
      progress.advance(static_cast<double>(st.linear.macs()));
      if (cfg_.stage_log)
        cfg_.stage_log("cloud: inference " + std::to_string(id) + " stage " + std::to_string(k + 1) + "/" +
                      std::to_string(plan.stages.size()) + " (" + std::to_string(st.linear.macs()) + " MACs, " +
                      std::to_string(st.mid_size()) + " outputs, " +
                      (lay.mode == offline_mode::conv_groups ? "conv_groups" : "elementwise") + " layout, " +
                      std::to_string(lay.slots) + " slots of " + std::to_string(W) + " bits): " + std::to_string(dt) +
                      " s (products " + std::to_string(matvec_s) + " s, packing " + std::to_string(pack_s) +
                      " s, waiting for the client's masks " + std::to_string(wait_s) + " s)");
    }
    meter_.end(report_.phase("offline"));
  }


 private:
  // T + 1 additive shares: [0, T) for the compute servers, T for the garbler.
  std::vector<std::vector<V>> share_holders(const std::vector<V>& v, prg& g) const {
    std::vector<std::vector<V>> out(T + 1);
    share<V>(std::span<const V>(v), std::span<std::vector<V>>(out), g);
    return out;
  }

  // The shares of one stage to cluster j's holders: share v to compute<j, v>, share T to garbler<j>.
  template <template <std::size_t, std::size_t> class ToCompute, template <std::size_t> class ToGarbler>
  asio::awaitable<void> send_shares(std::size_t j, std::uint64_t id, const std::vector<std::vector<V>>& shares) {
    co_await with_index<P>(j, [&]<std::size_t J>() -> asio::awaitable<void> {
      auto& c = std::get<J>(links_.clusters);
      co_await for_each_index<T>([&]<std::size_t Vi>() {
        return send<ToCompute<J, Vi>>(std::get<Vi>(c.compute), id, std::span<const V>(shares[Vi]));
      });
      co_await send<ToGarbler<J>>(c.garbler, id, std::span<const V>(shares[T]));
    });
  }

  std::vector<he::ciphertext> decode(const he::blobs& b, const char* what) const {
    try {
      return he::from_wire(pk_, b, cfg_.threads);
    } catch (const error& e) {
      throw protocol_error(name(), std::string("receive ") + what, "client", e.what());
    }
  }

  std::vector<stage> model_;
  std::vector<std::vector<std::int64_t>> out_bias_;  // b_k at each stage's output
  std::size_t plan_macs_ = 0;                         // every stage's MACs (the unit of progress)
  std::vector<std::uint32_t> widths_;                 // W_k: the slot width of each stage
  std::vector<stage_layout> layouts_;                 // each stage's offline layout (after setup)
  work_thread work_;                                  // the Paillier work of the offline steps
  paillier::public_key pk_;
  std::set<std::uint64_t> ids_;
};

}  // namespace pmdi::proto
