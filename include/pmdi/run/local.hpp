#pragma once
// Every role of a deployment in this process, one thread per role per phase,
// over in-memory pipes: for the demo, the tests and the benchmarks.
//
//   run::local_deployment<ring<32, 12>> d(stages, input_size, {.topo = {2, 1}});
//   d.setup();                 // keys, model shares, OT seeds
//   d.offline(1);              // masks, garbled circuits, OT for inference 1
//   auto y = d.online(1, x);   // x: ring elements; y: the output tensor
//   d.reports();               // one party_report per party (to_json())
//
// Each role is its own object with its own links and generator; this file only
// wires them. A failing party closes its links so that its peers stop at once,
// and the first error (by time) is re-thrown.
#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/proto/client.hpp"
#include "pmdi/proto/cloud.hpp"
#include "pmdi/proto/compute.hpp"
#include "pmdi/proto/evaluator.hpp"
#include "pmdi/proto/garbler.hpp"
#include "pmdi/run/net_link.hpp"

namespace pmdi::run {

struct local_options {
  proto::topology topo{};
  unsigned paillier_bits = 2048;
  unsigned threads = 2;                                         // Paillier worker threads (client, cloud)
  std::chrono::milliseconds deadline{std::chrono::minutes(10)};  // every wait
  bool record = false;                                          // keep every received frame per party
  // Authenticated, encrypted channels (net's secure handshake and AEAD over
  // in-memory transports, one io thread) instead of plain in-memory pipes.
  bool secure_channels = false;
  std::optional<seed> test_seed;                                // fixed seeds: reproducible transcripts
  std::function<void(const std::string&)> progress;
};

// Traffic of one link, seen from its first end.
struct link_figures {
  std::string a, b;
  proto::link_counters counters;  // a's view: sent = a -> b
};

template <class Ring>
class local_deployment {
 public:
  using V = typename Ring::value_type;

  local_deployment(std::vector<proto::stage> model, std::size_t input_size, local_options opt) : opt_(std::move(opt)) {
    if (opt_.record && opt_.secure_channels)
      throw usage_error("local_deployment: transcripts are recorded on plain in-memory pipes only");
    if (opt_.secure_channels) {
      io_ = std::make_shared<net::io_thread>();
      link_rng_.emplace(opt_.test_seed ? prg(*opt_.test_seed).next<seed>() : random_seed());
    }
    proto::public_config cfg;
    cfg.plan = proto::public_plan(model, input_size);
    cfg.topo = opt_.topo;
    cfg.paillier_bits = opt_.paillier_bits;
    cfg.threads = opt_.threads;
    cfg.progress = opt_.progress;
    (void)proto::split(cfg.plan, cfg.topo);  // refuses a bad topology before anything starts
    const std::size_t P = opt_.topo.clusters, T = opt_.topo.compute;
    using proto::party;

    proto::client_links cl;
    proto::cloud_links cd;
    std::vector<proto::garbler_links> gl(P);
    std::vector<proto::evaluator_links> el(P);
    std::vector<std::vector<proto::compute_links>> ml(P, std::vector<proto::compute_links>(T));
    cd.compute.resize(P);

    connect("client", "cloud", cl.cloud, cd.client);
    for (std::size_t j = 0; j < P; ++j) {
      const auto g = proto::garbler_name(j), e = proto::evaluator_name(j);
      cl.garblers.emplace_back();
      cl.evaluators.emplace_back();
      cd.garblers.emplace_back();
      connect("client", g, cl.garblers.back(), gl[j].client);
      connect("client", e, cl.evaluators.back(), el[j].client);
      connect("cloud", g, cd.garblers.back(), gl[j].cloud);
      connect(g, e, gl[j].evaluator, el[j].garbler);
      for (std::size_t v = 0; v < T; ++v) {
        const auto c = proto::compute_name(j, v);
        cd.compute[j].emplace_back();
        gl[j].compute.emplace_back();
        connect("cloud", c, cd.compute[j].back(), ml[j][v].cloud);
        connect(g, c, gl[j].compute.back(), ml[j][v].garbler);
      }
      if (j > 0) connect(proto::garbler_name(j - 1), g, gl[j - 1].next, gl[j].prev);
    }

    client_ = std::make_unique<proto::client<Ring>>(cfg, std::move(cl));
    cloud_ = std::make_unique<proto::cloud<Ring>>(cfg, std::move(model), std::move(cd));
    for (std::size_t j = 0; j < P; ++j) {
      garblers_.push_back(std::make_unique<proto::garbler<Ring>>(cfg, j, std::move(gl[j])));
      evaluators_.push_back(std::make_unique<proto::evaluator<Ring>>(cfg, j, std::move(el[j])));
      for (std::size_t v = 0; v < T; ++v)
        computes_.push_back(std::make_unique<proto::compute<Ring>>(cfg, j, v, std::move(ml[j][v])));
    }
    // One generator per party.
    std::optional<prg> master;
    if (opt_.test_seed) master.emplace(*opt_.test_seed);
    for (const auto& n : party_names()) prgs_.emplace(n, master ? prg(master->next<seed>()) : prg::from_os());
  }

  [[nodiscard]] std::vector<std::string> party_names() const {
    std::vector<std::string> n{"client", "cloud"};
    for (std::size_t j = 0; j < opt_.topo.clusters; ++j) {
      n.push_back(proto::garbler_name(j));
      n.push_back(proto::evaluator_name(j));
      for (std::size_t v = 0; v < opt_.topo.compute; ++v) n.push_back(proto::compute_name(j, v));
    }
    return n;
  }

  void setup() {
    std::vector<task> t;
    t.push_back({"client", [&] { client_->setup(prgs_.at("client")); }});
    t.push_back({"cloud", [&] { cloud_->setup(prgs_.at("cloud")); }});
    for (auto& g : garblers_) t.push_back({g->name(), [&, p = g.get()] { p->setup(prgs_.at(p->name())); }});
    for (auto& e : evaluators_) t.push_back({e->name(), [&, p = e.get()] { p->setup(prgs_.at(p->name())); }});
    for (auto& c : computes_) t.push_back({c->name(), [&, p = c.get()] { p->setup(prgs_.at(p->name())); }});
    run_all(std::move(t));
  }

  void offline(std::uint64_t id) {
    std::vector<task> t;
    t.push_back({"client", [&] { client_->offline(id, prgs_.at("client")); }});
    t.push_back({"cloud", [&] { cloud_->offline(id, prgs_.at("cloud")); }});
    for (auto& g : garblers_) t.push_back({g->name(), [&, p = g.get()] { p->offline(id, prgs_.at(p->name())); }});
    for (auto& e : evaluators_) t.push_back({e->name(), [&, p = e.get()] { p->offline(id, prgs_.at(p->name())); }});
    for (auto& c : computes_) t.push_back({c->name(), [&, p = c.get()] { p->offline(id, prgs_.at(p->name())); }});
    run_all(std::move(t));
  }

  // The cloud takes no part: it has no task in this phase.
  [[nodiscard]] std::vector<V> online(std::uint64_t id, std::span<const V> x) {
    std::vector<V> y;
    std::vector<task> t;
    t.push_back({"client", [&] { y = client_->online(id, x); }});
    for (auto& g : garblers_) t.push_back({g->name(), [&, p = g.get()] { p->online(id); }});
    for (auto& e : evaluators_) t.push_back({e->name(), [&, p = e.get()] { p->online(id); }});
    for (auto& c : computes_) t.push_back({c->name(), [&, p = c.get()] { p->online(id); }});
    run_all(std::move(t));
    return y;
  }

  // Several inferences streamed through the cluster pipeline: the client
  // submits every input, each party runs its online steps inference after
  // inference, so cluster j works on inference i + 1 while cluster j + 1
  // works on inference i. Outputs in the order of `ids`.
  [[nodiscard]] std::vector<std::vector<V>> online_stream(const std::vector<std::uint64_t>& ids,
                                                          const std::vector<std::vector<V>>& xs) {
    if (ids.size() != xs.size()) throw usage_error("online_stream: one input per inference id");
    std::vector<std::vector<V>> ys(ids.size());
    std::vector<task> t;
    t.push_back({"client", [&] {
                   for (std::size_t i = 0; i < ids.size(); ++i) client_->submit(ids[i], xs[i]);
                   for (std::size_t i = 0; i < ids.size(); ++i) ys[i] = client_->collect(ids[i]);
                 }});
    for (auto& g : garblers_) t.push_back({g->name(), [&, p = g.get()] { for (auto id : ids) p->online(id); }});
    for (auto& e : evaluators_) t.push_back({e->name(), [&, p = e.get()] { for (auto id : ids) p->online(id); }});
    for (auto& c : computes_) t.push_back({c->name(), [&, p = c.get()] { for (auto id : ids) p->online(id); }});
    run_all(std::move(t));
    return ys;
  }

  [[nodiscard]] std::vector<proto::party_report> reports() const {
    std::vector<proto::party_report> r{client_->report(), cloud_->report()};
    for (const auto& g : garblers_) r.push_back(g->report());
    for (const auto& e : evaluators_) r.push_back(e->report());
    for (const auto& c : computes_) r.push_back(c->report());
    return r;
  }
  [[nodiscard]] const proto::party_report& client_report() const { return client_->report(); }

  [[nodiscard]] std::vector<link_figures> links() const {
    std::vector<link_figures> f;
    for (const auto& p : pipes_) f.push_back({p.a, p.b, p.first->counters()});
    return f;
  }
  // Every frame each party received (only with options.record).
  [[nodiscard]] std::map<std::string, std::vector<proto::frame>> transcripts() const {
    std::lock_guard lk(record_mu_);
    return transcripts_;
  }
  void clear_transcripts() {
    std::lock_guard lk(record_mu_);
    transcripts_.clear();
  }

 private:
  struct task {
    std::string party;
    std::function<void()> run;
  };
  struct pipe_entry {
    std::string a, b;
    std::unique_ptr<proto::memory_pipe> pipe;                 // plain pipes
    std::unique_ptr<proto::link> secure_a, secure_b;          // or secure channels
    proto::link* first = nullptr;
    proto::link* second = nullptr;
  };

  template <proto::party A, proto::party PA, proto::party B, proto::party PB>
  void connect(const std::string& a, const std::string& b, proto::endpoint<A, PA>& ea, proto::endpoint<B, PB>& eb) {
    static_assert(A == PB && B == PA, "local_deployment: the two endpoints of a pipe must face each other");
    pipe_entry e{a, b, nullptr, nullptr, nullptr};
    if (opt_.secure_channels) {
      auto ends = secure_memory_links(io_, a, b, *link_rng_);
      e.secure_a = std::move(ends.first);
      e.secure_b = std::move(ends.second);
      e.first = e.secure_a.get();
      e.second = e.secure_b.get();
    } else {
      e.pipe = std::make_unique<proto::memory_pipe>();
      e.first = &e.pipe->first();
      e.second = &e.pipe->second();
      if (opt_.record) {
        e.pipe->first().on_receive = [this, a](const proto::frame& f) { record(a, f); };
        e.pipe->second().on_receive = [this, b](const proto::frame& f) { record(b, f); };
      }
    }
    ea = {e.first, a, b, opt_.deadline};
    eb = {e.second, b, a, opt_.deadline};
    party_links_[a].push_back(e.first);
    party_links_[b].push_back(e.second);
    pipes_.push_back(std::move(e));
  }

  void record(const std::string& party, const proto::frame& f) {
    std::lock_guard lk(record_mu_);
    transcripts_[party].push_back(f);
  }

  void run_all(std::vector<task> tasks) {
    std::mutex mu;
    std::exception_ptr first;
    std::vector<std::thread> th;
    th.reserve(tasks.size());
    for (auto& t : tasks)
      th.emplace_back([&, tp = &t] {
        try {
          tp->run();
        } catch (...) {
          {
            std::lock_guard lk(mu);
            if (!first) first = std::current_exception();
          }
          if (auto it = party_links_.find(tp->party); it != party_links_.end())
            for (auto* l : it->second) l->close();
        }
      });
    for (auto& x : th) x.join();
    if (first) std::rethrow_exception(first);
  }

  local_options opt_;
  std::shared_ptr<net::io_thread> io_;  // secure channels only; outlives the links below
  std::optional<prg> link_rng_;
  std::deque<pipe_entry> pipes_;
  std::map<std::string, std::vector<proto::link*>> party_links_;
  std::map<std::string, prg> prgs_;
  std::unique_ptr<proto::client<Ring>> client_;
  std::unique_ptr<proto::cloud<Ring>> cloud_;
  std::vector<std::unique_ptr<proto::garbler<Ring>>> garblers_;
  std::vector<std::unique_ptr<proto::evaluator<Ring>>> evaluators_;
  std::vector<std::unique_ptr<proto::compute<Ring>>> computes_;
  mutable std::mutex record_mu_;
  std::map<std::string, std::vector<proto::frame>> transcripts_;
};

}  // namespace pmdi::run
