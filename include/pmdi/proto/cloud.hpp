#pragma once
// The cloud: owns the model (A_k, b_k: the weights of each stage's operators). It takes no part in the online phase.
//
// Setup: pk <- client; additive shares [A_k]_1..[A_k]_{T+1} over Z_2^l to the
//   T compute servers and the garbler of the stage's cluster (once).
// Offline (per inference): Enc(r_1) <- client. Per stage k:
//   s'_k = 2^B + uniform[0, 2^(B+40)) where |A_k c_k + b_k| < 2^B, so the
//   plaintext A_k c_k + b_k + s'_k is non-negative and below 2^(B+41);
//   Enc(A_k c_k + b_k + s'_k) by one homomorphic product per operator; shares
//   of s_k = s'_k mod 2^l to the T+1 holders. Garbled stage: the (packed)
//   ciphertexts -> client, Enc(r_{k+1}) <- client. Linear stage: the product
//   is Enc(c_{k+1}). Last stage linear: Enc(c_{L+1}) (packed) -> client.
#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/proto/common.hpp"
#include "pmdi/proto/he.hpp"
#include "pmdi/proto/messages.hpp"

namespace pmdi::proto {

inline constexpr unsigned statistical_bits = 40;  // sigma

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
class cloud {
 public:
  using V = typename Ring::value_type;
  static constexpr unsigned l = Ring::bits;
  static constexpr std::size_t P = Shape::clusters, T = Shape::compute;
  using self_role = role::cloud;
  using links = cloud_links<P, T>;

  cloud(public_config cfg, std::vector<stage> model, links lk)
      : cfg_(std::move(cfg)), model_(std::move(model)), links_(std::move(lk)) {
    validate(cfg_.plan);
    split_ = split(cfg_.plan, cfg_.topo);
    if (model_.size() != cfg_.plan.stages.size()) throw usage_error("cloud: model and plan differ in stage count");
    for (std::size_t k = 0; k < model_.size(); ++k) {
      if (!(model_[k].pub.linear == cfg_.plan.stages[k].linear))
        throw usage_error("cloud: stage " + std::to_string(k) + ": the model's operators differ from the public plan's");
      validate_weights(model_[k], k);
      // b_k at the stage's output: the program on a zero input, biases included
      const auto& lin = model_[k].pub.linear;
      const std::vector<std::uint64_t> zero(lin.in_size(), 0);
      const auto b = apply<std::uint64_t, std::int64_t>(lin, model_[k].weights, model_[k].bias, zero);
      out_bias_.emplace_back(b.size());
      for (std::size_t i = 0; i < b.size(); ++i) out_bias_.back()[i] = static_cast<std::int64_t>(b[i]);
    }
    check_shape<Shape>(cfg_.topo, name());
    report_.party = name();
    links_.each([&](const auto& ch) { meter_.add(ch); });
  }
  cloud(const cloud&) = delete;
  cloud& operator=(const cloud&) = delete;

  [[nodiscard]] static std::string name() { return "cloud"; }

  asio::awaitable<void> setup(prg& g) {
    meter_.begin();
    auto pkb = co_await receive<msg_public_key>(links_.client, 0, wire::max_blob);
    try {
      pk_ = paillier::deserialize_public_key(pkb);
    } catch (const error& e) {
      throw protocol_error(name(), "receive public_key", "client", e.what());
    }
    for (std::size_t k = 0; k < model_.size(); ++k) {
      const std::size_t j = split_.cluster_of(k);
      std::vector<V> a(model_[k].weights.size());
      for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<V>(model_[k].weights[i]);
      auto shares = share_holders(a, g);
      co_await send_shares<msg_model_share_compute, msg_model_share_garbler>(j, 0, shares);
      for (auto& s : shares) secure_zero(std::span<V>(s));
      secure_zero(std::span<V>(a));
    }
    meter_.end(report_.setup);
  }

  asio::awaitable<void> offline(std::uint64_t id, prg& g) {
    meter_.begin();
    if (!ids_.insert(id).second || id == 0)
      throw protocol_error(name(), "offline", "", "inference id " + std::to_string(id) + " was already used or is 0");
    const auto& plan = cfg_.plan;
    const std::size_t plain_bits = pk_.bits() - 2;
    // Enc(c_t) for every tensor t, with a bound: every plaintext in [0, 2^bits_t).
    std::vector<std::vector<he::ciphertext>> enc(plan.stages.size() + 1);
    std::vector<unsigned> bits(plan.stages.size() + 1, l);
    {
      auto b = co_await receive<msg_enc_input_mask>(links_.client, id, plan.input_size());
      enc[0] = decode(b, "enc_input_mask");
    }
    for (std::size_t k = 0; k < plan.stages.size(); ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto& st = plan.stages[k];
      const auto& ms = model_[k];
      const std::size_t j = split_.cluster_of(k);
      std::vector<he::ciphertext> c;
      unsigned c_bits = 0;
      for (auto t : st.inputs) {
        c.insert(c.end(), enc[t].begin(), enc[t].end());
        c_bits = std::max(c_bits, bits[t]);
      }
      const unsigned bound = bound_bits(st.linear, ms.weights, ms.bias, c_bits);
      const unsigned slot_bits = bound + statistical_bits + 1;
      if (slot_bits >= plain_bits)
        throw protocol_error(name(), "offline stage " + std::to_string(k), "",
                             "masked values need " + std::to_string(slot_bits) + " bits; the Paillier modulus is too small");
      // s'_k and the additive term b_k + s'_k.
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
      const auto t_mv = std::chrono::steady_clock::now();
      // Enc(A c + b + s') WITHOUT per-row re-randomisation: the additive term is
      // multiplied in as the plaintext (1 + (b + s') N), so the rows' randomness
      // is prod_j r_j^(A_ij), a function of A. That is safe only because no row
      // leaves the cloud as it is: a garbled stage's rows are packed and every
      // PACKED ciphertext is re-randomised with a fresh Enc(0) before it is sent
      // (below); a linear stage's rows stay here as inputs of later products,
      // and the last one's are packed and re-randomised before they are sent.
      // Every ciphertext the client can decrypt therefore carries a fresh hs^x
      // (docs/paillier.md, "Re-randomisation").
      auto prod = he::apply(pk_, st.linear, ms.weights, c, std::span<const he::mpz>(term), g, cfg_.threads);
      const double matvec_s = seconds_since(t_mv);
      double pack_s = 0, wait_s = 0;
      for (auto& x : term) x.wipe();
      secure_zero(std::span<V>(s));
      if (st.garbled()) {
        const auto t_pk = std::chrono::steady_clock::now();
        auto packed = he::pack_all(pk_, prod, slot_bits, cfg_.threads);
        paillier::rerandomize_many(pk_, std::span<he::ciphertext>(packed), g, cfg_.threads);  // before it leaves
        pack_s = seconds_since(t_pk);
        co_await send<msg_enc_stage_value>(links_.client, id, static_cast<std::uint32_t>(slot_bits), he::to_wire(pk_, packed));
        const auto t_w = std::chrono::steady_clock::now();
        auto b = co_await receive<msg_enc_next_mask>(links_.client, id, st.out_size());
        wait_s = seconds_since(t_w);
        enc[k + 1] = decode(b, "enc_next_mask");
        bits[k + 1] = l;
      } else {
        enc[k + 1] = std::move(prod);
        bits[k + 1] = slot_bits;
      }
      const double dt = seconds_since(t0);
      report_.stage_entry(k).offline_s = dt;
      if (cfg_.progress)
        cfg_.progress("cloud: inference " + std::to_string(id) + " stage " + std::to_string(k + 1) + "/" +
                      std::to_string(plan.stages.size()) + " (" + std::to_string(st.linear.macs()) + " MACs, " +
                      std::to_string(st.mid_size()) + " outputs): " + std::to_string(dt) + " s (matvec " +
                      std::to_string(matvec_s) + " s, packing " + std::to_string(pack_s) + " s, waiting for Enc(r) " +
                      std::to_string(wait_s) + " s)");
    }
    if (!plan.stages.back().garbled()) {
      const unsigned slot_bits = bits.back();
      auto packed = he::pack_all(pk_, enc.back(), slot_bits, cfg_.threads);
      paillier::rerandomize_many(pk_, std::span<he::ciphertext>(packed), g, cfg_.threads);  // before it leaves
      co_await send<msg_enc_output_mask>(links_.client, id, static_cast<std::uint32_t>(slot_bits), he::to_wire(pk_, packed));
    }
    meter_.end(report_.offline);
  }

  [[nodiscard]] const party_report& report() const noexcept { return report_; }
  [[nodiscard]] links& channels() noexcept { return links_; }

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

  public_config cfg_;
  std::vector<stage> model_;
  std::vector<std::vector<std::int64_t>> out_bias_;  // b_k at each stage's output
  links links_;
  cluster_split split_;
  paillier::public_key pk_;
  std::set<std::uint64_t> ids_;
  party_report report_;
  phase_meter meter_;
};

}  // namespace pmdi::proto
