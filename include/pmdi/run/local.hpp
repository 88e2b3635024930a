#pragma once
// Every role of a deployment in this process, as coroutines in one
// io_context, over in-memory channels: for the demo, the tests and the
// benchmarks.
//
//   run::local_deployment<ring<32, 12>> d(stages, input_size, {.topo = {2, 1}});
//   d.setup();                 // keys, model shares
//   d.offline(1);              // masks, garbled circuits, OT for inference 1
//   auto y = d.online(1, x);   // x: ring elements; y: the output tensor
//   d.reports();               // one party_report per party (to_json())
//
// Each role is its own object with its own typed channels and generator; this
// file only wires them and runs their steps. The shape (P clusters of T
// compute servers) is part of the roles' types: the run-time topology picks
// one of the compiled shapes (Shapes, by default P <= 3 and T <= 2). A
// failing party shuts its channels so that its peers stop at once, and the
// first error (by time) is re-thrown.
//
// The three-party OT takes its pairwise seeds from the channels' pair
// secrets: with secure_channels, those of net's key exchange; on plain
// in-memory pairs, this process plays both ends and draws each pair's secret.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/net/memory.hpp"
#include "pmdi/net/secure.hpp"
#include "pmdi/proto/client.hpp"
#include "pmdi/proto/cloud.hpp"
#include "pmdi/proto/compute.hpp"
#include "pmdi/proto/evaluator.hpp"
#include "pmdi/proto/garbler.hpp"
#include "pmdi/proto/sequence.hpp"
#include "pmdi/run/local_options.hpp"

namespace pmdi::run {

namespace asio = boost::asio;

namespace detail {

// The shape-independent face of one compiled deployment.
template <class Ring>
class local_parties_base {
 public:
  using V = typename Ring::value_type;
  virtual ~local_parties_base() = default;
  virtual void setup() = 0;
  virtual void offline(std::uint64_t id) = 0;
  virtual void offline_batch(const std::vector<std::uint64_t>& ids) = 0;
  virtual std::vector<V> online(std::uint64_t id, std::span<const V> x) = 0;
  virtual std::vector<std::vector<V>> online_stream(const std::vector<std::uint64_t>& ids,
                                                    const std::vector<std::vector<V>>& xs) = 0;
  [[nodiscard]] virtual std::vector<proto::party_report> reports() const = 0;
  [[nodiscard]] virtual const proto::party_report& client_report() const = 0;
  [[nodiscard]] virtual std::vector<link_figures> links() const = 0;
  [[nodiscard]] virtual std::map<std::string, std::vector<proto::frame>> transcripts() const = 0;
  [[nodiscard]] virtual proto::message_log messages() const = 0;
  virtual void clear_transcripts() = 0;
  // Every party, in the order of reports(): client, cloud, then cluster by cluster.
  [[nodiscard]] const std::vector<std::string>& party_names() const noexcept { return names_; }

 protected:
  std::vector<std::string> names_;
};

template <class Ring, class Shape>
class local_parties final : public local_parties_base<Ring> {
 public:
  using V = typename Ring::value_type;
  static constexpr std::size_t P = Shape::clusters, T = Shape::compute;

  local_parties(const proto::public_config& cfg, std::vector<proto::stage> model, const local_options& opt)
      : opt_(opt) {
    std::optional<prg> master;
    if (opt_.test_seed) master.emplace(*opt_.test_seed);
    link_rng_.emplace(master ? prg(master->next<seed>()) : prg::from_os());

    // Every channel a role's links struct declares, joined to its
    // counterpart in the peer's links struct (each pair once, from its
    // smaller end; from either end, a channel without a counterpart is
    // refused): the wiring is read from the roles, not written here.
    all_links l;
    l.each_party([&](auto& links) {
      links.each([&]<class C>(C& ch) {
        using A = typename C::self_role;
        using B = typename C::peer_role;
        const bool back = proto::with_channel_to<A>(l.template of<B>(), [&](auto& other) {
          if constexpr (proto::role_id_v<A> < proto::role_id_v<B>) connect(ch, other);
        });
        if (!back)
          throw std::logic_error(std::string(proto::role_name_v<A>) + " has a channel to " +
                                 std::string(proto::role_name_v<B>) + ", which has none back");
      });
    });

    client_ = std::make_unique<client_t>(cfg, std::move(l.client));
    cloud_ = std::make_unique<cloud_t>(cfg, std::move(model), std::move(l.cloud));
    proto::each_index<P>([&]<std::size_t J>() {
      std::get<J>(garblers_) = std::make_unique<garbler_t<J>>(cfg, std::move(std::get<J>(l.garblers)));
      std::get<J>(evaluators_) = std::make_unique<evaluator_t<J>>(cfg, std::move(std::get<J>(l.evaluators)));
      proto::each_index<T>([&]<std::size_t Vi>() {
        std::get<Vi>(std::get<J>(computes_)) =
            std::make_unique<compute_t<J, Vi>>(cfg, std::move(std::get<Vi>(std::get<J>(l.computes))));
      });
    });
    // One generator per party.
    for_each_party([&](auto& p) {
      this->names_.push_back(p.name());
      prgs_.emplace(p.name(), master ? prg(master->next<seed>()) : prg::from_os());
    });
  }

  void setup() override { every_party([](auto& p, prg& g) { return p.setup(g); }); }
  void offline(std::uint64_t id) override { every_party([id](auto& p, prg& g) { return p.offline(id, g); }); }
  void offline_batch(const std::vector<std::uint64_t>& ids) override {
    every_party([&ids](auto& p, prg& g) { return offline_all(p, ids, g); });
  }

  // The cloud takes no part: it has no task in this phase.
  std::vector<V> online(std::uint64_t id, std::span<const V> x) override {
    std::vector<V> y;
    std::vector<task> t;
    t.push_back({"client", assign(y, client_->online(id, x))});
    for_each_cluster_party([&](auto& p) { t.push_back({p.name(), p.online(id)}); });
    run_all(std::move(t));
    return y;
  }

  std::vector<std::vector<V>> online_stream(const std::vector<std::uint64_t>& ids,
                                            const std::vector<std::vector<V>>& xs) override {
    std::vector<std::vector<V>> ys(ids.size());
    std::vector<task> t;
    t.push_back({"client", client_stream(*client_, ids, xs, ys)});
    for_each_cluster_party([&](auto& p) { t.push_back({p.name(), online_all(p, ids)}); });
    run_all(std::move(t));
    return ys;
  }

  [[nodiscard]] std::vector<proto::party_report> reports() const override {
    std::vector<proto::party_report> r;
    for_each_party([&](auto& p) {
      r.push_back(p.report());
      r.back().peak_rss_bytes = proto::peak_rss_bytes();
    });
    return r;
  }
  [[nodiscard]] const proto::party_report& client_report() const override { return client_->report(); }

  [[nodiscard]] std::vector<link_figures> links() const override {
    std::vector<link_figures> f;
    for (const auto& p : pipes_) f.push_back({p.a, p.b, proto::link_counters::of(p.first->counters())});
    return f;
  }
  [[nodiscard]] std::map<std::string, std::vector<proto::frame>> transcripts() const override { return transcripts_; }
  [[nodiscard]] proto::message_log messages() const override { return messages_; }
  void clear_transcripts() override { transcripts_.clear(), messages_.clear(); }

 private:
  using client_t = proto::client<Ring, Shape>;
  using cloud_t = proto::cloud<Ring, Shape>;
  template <std::size_t J>
  using garbler_t = proto::garbler<Ring, Shape, J>;
  template <std::size_t J>
  using evaluator_t = proto::evaluator<Ring, Shape, J>;
  template <std::size_t J, std::size_t Vi>
  using compute_t = proto::compute<Ring, Shape, J, Vi>;

  template <std::size_t J>
  using garbler_links = typename garbler_t<J>::links;
  template <std::size_t J>
  using evaluator_links = typename evaluator_t<J>::links;
  template <std::size_t J>
  struct compute_of {
    template <std::size_t Vi>
    using links = proto::compute_links<J, Vi>;
    template <std::size_t Vi>
    using party = std::unique_ptr<compute_t<J, Vi>>;
  };
  template <std::size_t J>
  using compute_links_of = proto::indexed_tuple<compute_of<J>::template links, T>;
  template <std::size_t J>
  using garbler_ptr = std::unique_ptr<garbler_t<J>>;
  template <std::size_t J>
  using evaluator_ptr = std::unique_ptr<evaluator_t<J>>;
  template <std::size_t J>
  using compute_ptrs = proto::indexed_tuple<compute_of<J>::template party, T>;

  // Every party's links struct, by role type.
  struct all_links {
    typename client_t::links client;
    typename cloud_t::links cloud;
    proto::indexed_tuple<garbler_links, P> garblers;
    proto::indexed_tuple<evaluator_links, P> evaluators;
    proto::indexed_tuple<compute_links_of, P> computes;

    template <class R>
    [[nodiscard]] auto& of() {
      constexpr proto::role_id id = proto::role_id_v<R>;
      if constexpr (id.kind == proto::role_kind::client) return client;
      else if constexpr (id.kind == proto::role_kind::cloud) return cloud;
      else if constexpr (id.kind == proto::role_kind::garbler) return std::get<id.cluster>(garblers);
      else if constexpr (id.kind == proto::role_kind::evaluator) return std::get<id.cluster>(evaluators);
      else return std::get<id.server>(std::get<id.cluster>(computes));
    }
    template <class F>
    void each_party(F&& f) {
      f(client);
      f(cloud);
      proto::each_index<P>([&]<std::size_t J>() {
        f(std::get<J>(garblers));
        f(std::get<J>(evaluators));
        proto::each_index<T>([&]<std::size_t Vi>() { f(std::get<Vi>(std::get<J>(computes))); });
      });
    }
  };

  struct task {
    std::string party;
    asio::awaitable<void> run;
  };
  struct pipe_entry {
    std::string a, b;
    const net::transport* first = nullptr;
  };

  // Calls f on every party (client, cloud, then cluster by cluster). The
  // parties are owned through pointers, so f gets them as they are.
  template <class F>
  void for_each_party(F&& f) const {
    f(*client_);
    f(*cloud_);
    for_each_cluster_party(f);
  }
  // Calls f on every party of the clusters (garbler, evaluator, compute servers).
  template <class F>
  void for_each_cluster_party(F&& f) const {
    proto::each_index<P>([&]<std::size_t J>() {
      f(*std::get<J>(garblers_));
      f(*std::get<J>(evaluators_));
      proto::each_index<T>([&]<std::size_t Vi>() { f(*std::get<Vi>(std::get<J>(computes_))); });
    });
  }

  static asio::awaitable<void> assign(std::vector<V>& y, asio::awaitable<std::vector<V>> a) { y = co_await std::move(a); }
  // Runs step(party, its generator) of every party at once.
  template <class Step>
  void every_party(Step step) {
    std::vector<task> t;
    for_each_party([&](auto& p) { t.push_back({p.name(), step(p, prgs_.at(p.name()))}); });
    run_all(std::move(t));
  }
  template <class Party>
  static asio::awaitable<void> offline_all(Party& p, const std::vector<std::uint64_t>& ids, prg& g) {
    for (auto id : ids) co_await p.offline(id, g);
  }
  template <class Party>
  static asio::awaitable<void> online_all(Party& p, const std::vector<std::uint64_t>& ids) {
    for (auto id : ids) co_await p.online(id);
  }
  static asio::awaitable<void> client_stream(client_t& c, const std::vector<std::uint64_t>& ids,
                                             const std::vector<std::vector<V>>& xs, std::vector<std::vector<V>>& ys) {
    for (std::size_t i = 0; i < ids.size(); ++i) co_await c.submit(ids[i], xs[i]);
    for (std::size_t i = 0; i < ids.size(); ++i) ys[i] = co_await c.collect(ids[i]);
  }

  // Joins two typed channels facing each other.
  template <class A, class B>
  void connect(proto::channel<A, B>& ea, proto::channel<B, A>& eb) {
    const std::string a(proto::role_name_v<A>), b(proto::role_name_v<B>);
    std::unique_ptr<net::transport> ta, tb;
    if (opt_.secure_channels) {
      auto ends = run_one(net::secure_memory_pair(a, b, *link_rng_, net::memory_handshake_timeout, opt_.link_buffer_bytes));
      ta = std::move(ends.first);
      tb = std::move(ends.second);
    } else {
      master_key secret{};
      link_rng_->fill(secret.data(), secret.size());
      auto ends = net::memory_pair(io_.get_executor(), a, b, secret, opt_.link_buffer_bytes);
      secure_zero(secret.data(), secret.size());
      ta = std::move(ends.first);
      tb = std::move(ends.second);
    }
    pipes_.push_back({a, b, ta.get()});
    party_links_[a].push_back(ta.get());
    party_links_[b].push_back(tb.get());
    ea = proto::channel<A, B>(std::move(ta));
    eb = proto::channel<B, A>(std::move(tb));
    ea.set_deadline(opt_.deadline);
    eb.set_deadline(opt_.deadline);
    ea.set_turns(&turns_[a]);  // each party's flights, as in a party process
    eb.set_turns(&turns_[b]);
    if (opt_.record) {
      ea.on_receive = [this, a](std::uint16_t id, std::span<const std::byte> f) {
        transcripts_[a].emplace_back(f.begin(), f.end());
        messages_[{proto::role_id_v<B>, proto::role_id_v<A>}].push_back(id);
      };
      eb.on_receive = [this, b](std::uint16_t id, std::span<const std::byte> f) {
        transcripts_[b].emplace_back(f.begin(), f.end());
        messages_[{proto::role_id_v<A>, proto::role_id_v<B>}].push_back(id);
      };
    }
  }

  template <class T_>
  T_ run_one(asio::awaitable<T_> a) {
    std::optional<T_> out;
    std::exception_ptr err;
    asio::co_spawn(io_, std::move(a), [&](std::exception_ptr e, T_ v) {
      if (e) err = e;
      else out.emplace(std::move(v));
    });
    io_.restart();
    io_.run();
    if (err) std::rethrow_exception(err);
    return std::move(*out);
  }

  void run_all(std::vector<task> tasks) {
    for (auto& [party, t] : turns_) t.new_phase();
    std::exception_ptr first;
    for (auto& t : tasks)
      asio::co_spawn(io_, std::move(t.run), [this, &first, party = t.party](std::exception_ptr e) {
        if (!e) return;
        if (!first) first = e;
        // Its peers stop waiting on it at once.
        if (auto it = party_links_.find(party); it != party_links_.end())
          for (auto* l : it->second) l->shutdown();
      });
    io_.restart();
    io_.run();
    if (first) std::rethrow_exception(first);
  }

  local_options opt_;
  asio::io_context io_;  // every party's steps; outlives the channels below
  std::optional<prg> link_rng_;
  std::vector<pipe_entry> pipes_;
  std::map<std::string, std::vector<net::transport*>> party_links_;
  std::map<std::string, prg> prgs_;
  std::map<std::string, proto::party_turns> turns_;  // by party; outlives the channels
  std::map<std::string, std::vector<proto::frame>> transcripts_;
  proto::message_log messages_;  // (sender, receiver) -> message ids received, in order
  std::unique_ptr<client_t> client_;
  std::unique_ptr<cloud_t> cloud_;
  proto::indexed_tuple<garbler_ptr, P> garblers_;
  proto::indexed_tuple<evaluator_ptr, P> evaluators_;
  proto::indexed_tuple<compute_ptrs, P> computes_;
};

// One compiled shape's parties. Not inline, so that a program can compile it
// once, apart, and declare it elsewhere (run/local_instance.hpp).
template <class Ring, class Shape>
std::unique_ptr<local_parties_base<Ring>> make_local_parties(const proto::public_config& cfg,
                                                             std::vector<proto::stage>& model,
                                                             const local_options& opt) {
  return std::make_unique<local_parties<Ring, Shape>>(cfg, std::move(model), opt);
}

template <class Ring, class S, class... Rest>
std::unique_ptr<local_parties_base<Ring>> make_parties(shape_list<S, Rest...>, const proto::public_config& cfg,
                                                       std::vector<proto::stage>& model, const local_options& opt) {
  if (cfg.topo.clusters == S::clusters && cfg.topo.compute == S::compute)
    return make_local_parties<Ring, S>(cfg, model, opt);
  if constexpr (sizeof...(Rest) > 0)
    return make_parties<Ring>(shape_list<Rest...>{}, cfg, model, opt);
  else
    return nullptr;
}

template <class... S>
[[nodiscard]] std::string shape_names(shape_list<S...>) {
  std::string s;
  ((s += (s.empty() ? "" : ", ") + std::to_string(S::clusters) + "x" + std::to_string(S::compute)), ...);
  return s;
}

}  // namespace detail

template <class Ring, class Shapes = default_local_shapes>
class local_deployment {
 public:
  using V = typename Ring::value_type;

  local_deployment(std::vector<proto::stage> model, std::size_t input_size, local_options opt) {
    if (opt.record && opt.secure_channels)
      throw usage_error("local_deployment: transcripts are recorded on plain in-memory channels only");
    proto::public_config cfg;
    cfg.plan = proto::public_plan(model, input_size);
    cfg.topo = opt.topo;
    cfg.paillier_bits = opt.paillier_bits;
    cfg.threads = opt.threads;
    cfg.progress = opt.progress;
    cfg.stage_log = opt.stage_log;
    (void)proto::split(cfg.plan, cfg.topo);  // refuses a bad topology before anything starts
    parties_ = detail::make_parties<Ring>(Shapes{}, cfg, model, opt);
    if (!parties_)
      throw usage_error("local_deployment: " + std::to_string(cfg.topo.clusters) + " clusters of " +
                        std::to_string(cfg.topo.compute) + " compute servers is not a compiled shape (compiled: " +
                        detail::shape_names(Shapes{}) + ", as PxT; add it to the Shapes argument)");
  }

  [[nodiscard]] const std::vector<std::string>& party_names() const noexcept { return parties_->party_names(); }
  void setup() { parties_->setup(); }
  void offline(std::uint64_t id) { parties_->offline(id); }
  // The offline phases of a batch of inferences: every party works through
  // the ids in order, so the parties' work on consecutive inferences overlaps
  // (the client encrypts for the next while the cloud computes for this one).
  void offline_batch(const std::vector<std::uint64_t>& ids) { parties_->offline_batch(ids); }
  [[nodiscard]] std::vector<V> online(std::uint64_t id, std::span<const V> x) { return parties_->online(id, x); }
  // Several inferences streamed through the cluster pipeline: the client
  // submits every input, each party runs its online steps inference after
  // inference. Outputs in the order of `ids`.
  [[nodiscard]] std::vector<std::vector<V>> online_stream(const std::vector<std::uint64_t>& ids,
                                                          const std::vector<std::vector<V>>& xs) {
    if (ids.size() != xs.size()) throw usage_error("online_stream: one input per inference id");
    return parties_->online_stream(ids, xs);
  }
  [[nodiscard]] std::vector<proto::party_report> reports() const { return parties_->reports(); }
  [[nodiscard]] const proto::party_report& client_report() const { return parties_->client_report(); }
  [[nodiscard]] std::vector<link_figures> links() const { return parties_->links(); }
  // Every payload each party received (only with options.record).
  [[nodiscard]] std::map<std::string, std::vector<proto::frame>> transcripts() const { return parties_->transcripts(); }
  // The message ids every link delivered, in order (only with options.record;
  // compare with proto::expected_messages).
  [[nodiscard]] proto::message_log messages() const { return parties_->messages(); }
  // Forgets the transcripts and the messages recorded so far.
  void clear_transcripts() { parties_->clear_transcripts(); }

 private:
  std::unique_ptr<detail::local_parties_base<Ring>> parties_;
};

}  // namespace pmdi::run

#include "pmdi/run/local_instance.hpp"
