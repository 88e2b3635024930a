#pragma once
// The entry point of one party of a deployment, as its own process.
//
//   <name>-garbler --deployment deployment.json --party garbler/0
//                  --key garbler-0.key --images 1 --report garbler-0.json
//
// role_main<Net, Ring>(argc, argv, name) parses the arguments, loads the
// deployment file and the party's secret key, opens secure TCP links to
// exactly the peers the plan connects it with, runs its role's setup, then
// the offline phase of every image, then the online phase of every image, and
// ends the run with every peer (each party tells each peer it is done and
// waits for the same, so that a party failing at any point makes every other
// party fail), and writes a JSON report (run/report.hpp): time per phase,
// bytes and messages per peer, rounds, per-stage figures.
//
// Which role's code a binary contains is chosen by one macro, set by the CMake
// function pmdi_add_deployment (tools/cmake/PmdiRoles.cmake):
//   PMDI_RUN_ROLE_CLIENT, PMDI_RUN_ROLE_CLOUD, PMDI_RUN_ROLE_GARBLER,
//   PMDI_RUN_ROLE_EVALUATOR, PMDI_RUN_ROLE_COMPUTE.
// Only that role's header is included and only its class is instantiated: the
// client binary has no model-loading, model-sharing or cloud code at all.
// Without any of the macros every role is compiled (tests, the launcher).
// PMDI_RUN_ONNX lets the cloud load its weights from an ONNX file (--model).
//
// Every wait has the deadline of the deployment file (timeouts_ms). A failing
// party closes its links at once (its peers fail fast), writes its report with
// the error, prints one sentence naming the party, the step and the peer on
// stderr and exits with status 1.
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/nn/oracle.hpp"
#include "pmdi/nn/sequential.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/plan/lower.hpp"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pmdi/proto/common.hpp"
#include "pmdi/proto/shape.hpp"
#include "pmdi/run/cli.hpp"
#include "pmdi/run/deployment.hpp"
#include "pmdi/run/model_file.hpp"
#include "pmdi/run/progress.hpp"
#include "pmdi/run/report.hpp"

#if defined(PMDI_RUN_ROLE_CLIENT) || defined(PMDI_RUN_ROLE_CLOUD) || defined(PMDI_RUN_ROLE_GARBLER) || \
    defined(PMDI_RUN_ROLE_EVALUATOR) || defined(PMDI_RUN_ROLE_COMPUTE)
#define PMDI_RUN_ONE_ROLE 1
#endif
#if !defined(PMDI_RUN_ONE_ROLE) || defined(PMDI_RUN_ROLE_CLIENT)
#define PMDI_RUN_HAS_CLIENT 1
#include "pmdi/proto/client.hpp"
#endif
#if !defined(PMDI_RUN_ONE_ROLE) || defined(PMDI_RUN_ROLE_CLOUD)
#define PMDI_RUN_HAS_CLOUD 1
#include "pmdi/proto/cloud.hpp"
#if defined(PMDI_RUN_ONNX) && __has_include("pmdi/io/onnx.hpp")
#define PMDI_RUN_HAS_ONNX 1
#include "pmdi/io/onnx.hpp"
#endif
#endif
#if !defined(PMDI_RUN_ONE_ROLE) || defined(PMDI_RUN_ROLE_GARBLER)
#define PMDI_RUN_HAS_GARBLER 1
#include "pmdi/proto/garbler.hpp"
#endif
#if !defined(PMDI_RUN_ONE_ROLE) || defined(PMDI_RUN_ROLE_EVALUATOR)
#define PMDI_RUN_HAS_EVALUATOR 1
#include "pmdi/proto/evaluator.hpp"
#endif
#if !defined(PMDI_RUN_ONE_ROLE) || defined(PMDI_RUN_ROLE_COMPUTE)
#define PMDI_RUN_HAS_COMPUTE 1
#include "pmdi/proto/compute.hpp"
#endif

namespace pmdi::run {

// ---- options -------------------------------------------------------------------

struct role_options {
  std::filesystem::path deployment, key, report, output, input, model, status;
  std::string party;
  std::uint64_t images = 1;
  std::optional<std::uint64_t> random_input, random_weights;
  std::optional<model_digest> model_pin;  // cloud: the --model file must have this BLAKE2b-256 digest
  unsigned paillier_bits = 2048;
  unsigned threads = 2;
  std::chrono::milliseconds online_delay{0};
  bool quiet = false;
  bool stream = false;
};

inline constexpr std::string_view role_usage =
    "  --deployment FILE     the deployment file (pmdi-keygen writes one)\n"
    "  --party ROLE          this party: client, cloud, garbler/J, evaluator/J or compute/J/V\n"
    "  --key FILE            this party's secret key file (mode 0600)\n"
    "  --images N            number of inferences (default 1): setup once, N offline, N online\n"
    "  --report FILE         write the JSON report (times, bytes per peer, rounds, stages)\n"
    "  --status FILE         keep the current step in FILE (connect, load model (cloud), setup, offline N, online N, finish, done)\n"
    "  --threads N           worker threads for Paillier work (default 2)\n"
    "  --quiet               no progress lines\n"
    " client only:\n"
    "  --input FILE          inputs: N images of float32 (little endian, CHW), one after the other\n"
    "  --random-input S      N random inputs in [-1, 1) from seed S (tests)\n"
    "  --output FILE         one line per image: the output as ring elements (unsigned)\n"
    "  --paillier-bits B     Paillier modulus size (default 2048)\n"
    "  --online-delay-ms MS  wait MS after the offline phase before the online phase\n"
    "  --stream              send the masked inputs of each offline batch (the deployment file's\n"
    "                        offline_batch) at once, then collect their outputs (the clusters\n"
    "                        work on several images at a time, as a pipeline)\n"
    " cloud only:\n"
    "  --model FILE          the weights, an ONNX file (binaries built with ONNX)\n"
    "  --model-digest HEX    refuse a --model file whose BLAKE2b-256 digest (b2sum -l 256 FILE) is not HEX\n"
    "  --random-weights S    random weights from seed S (tests, demos)\n";

[[nodiscard]] inline role_options parse_role_options(int argc, char** argv) {
  role_options o;
  std::optional<std::string> digest;  // --model-digest, checked once the loop is done
  cli_args a(argc, argv);
  while (a.next())
    if (!(a.flag("--quiet", o.quiet) ||
          a.flag("--stream", o.stream) ||
          a.value("--deployment", o.deployment) ||
          a.value("--party", o.party) ||
          a.value("--key", o.key) ||
          a.number("--images", o.images, 1, 1'000'000) ||
          a.value("--report", o.report) ||
          a.value("--status", o.status) ||
          a.number("--threads", o.threads, 1, 256) ||
          a.value("--input", o.input) ||
          a.number("--random-input", o.random_input, 0, UINT64_MAX) ||
          a.value("--output", o.output) ||
          a.number("--paillier-bits", o.paillier_bits, 512, 8192) ||
          a.number("--online-delay-ms", o.online_delay, 0, 86'400'000) ||
          a.value("--model", o.model) ||
          a.value("--model-digest", digest) ||
          a.number("--random-weights", o.random_weights, 0, UINT64_MAX)))
      a.unknown();
  if (digest) o.model_pin = parse_model_digest(*digest);
  if (o.deployment.empty()) throw usage_error("--deployment FILE is required");
  if (o.party.empty()) throw usage_error("--party ROLE is required");
  if (o.key.empty()) throw usage_error("--key FILE is required");
  if (o.model_pin && o.model.empty()) throw usage_error("--model-digest pins a --model FILE; give one");
  return o;
}

// ---- what every party derives from the network type ----------------------------

// Weights that only carry the structure (zeros; batch-norm as the identity):
// lowering them gives every stage's shapes, sparsity and shifts, which is all
// the public plan holds. No party but the cloud ever sees real weights.
template <class Net>
[[nodiscard]] nn::model_weights structure_weights() {
  nn::model_weights w;
  for (const auto& li : nn::describe<Net>()) {
    if (!li.has_parameters()) continue;
    nn::layer_weights e;
    e.layer_index = li.index;
    if (li.kind == nn::layer_kind::batchnorm) {
      e.gamma.assign(li.in.c, 1.0F);
      e.beta.assign(li.in.c, 0.0F);
      e.mean.assign(li.in.c, 0.0F);
      e.var.assign(li.in.c, 1.0F);
      e.epsilon = 0.0F;
    } else {
      e.weight.assign(li.weight_count(), 0.0F);
      e.bias.assign(li.bias_count(), 0.0F);
    }
    w.layers.push_back(std::move(e));
  }
  return w;
}

// The stages of Net for Ring with zero weights (shapes, sparsity, scales).
template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] std::vector<proto::stage> structure_stages() {
  return plan::lower<Net, Ring, Bounds>(structure_weights<Net>());
}

// The public plan every party holds.
template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] proto::network_plan public_network_plan() {
  const auto st = structure_stages<Net, Ring, Bounds>();
  return proto::public_plan(st, proto::input_size(st));
}

// Seeds of the test/demo options --random-weights S and --random-input S
// (the tests recompute the same weights and inputs from S).
[[nodiscard]] inline seed numbered_seed(std::uint64_t n, std::uint8_t purpose) {
  seed s{};
  for (std::size_t i = 0; i < 8; ++i) s[i] = static_cast<std::byte>(n >> (8 * i));
  s[8] = static_cast<std::byte>(purpose);
  s[15] = std::byte{0x5d};
  return s;
}
inline constexpr std::uint8_t weights_purpose = 1, input_purpose = 2;

template <class Net>
[[nodiscard]] nn::model_weights random_model(std::uint64_t s) {
  prg g(numbered_seed(s, weights_purpose));
  return nn::random_weights<Net>(g);
}

// `images` inputs of `size` ring elements, uniform in [-1, 1) (steps of 1/1000).
template <class Ring>
[[nodiscard]] std::vector<std::vector<typename Ring::value_type>> random_inputs(std::uint64_t s, std::uint64_t images,
                                                                                std::size_t size) {
  prg g(numbered_seed(s, input_purpose));
  std::vector<std::vector<typename Ring::value_type>> x(images, std::vector<typename Ring::value_type>(size));
  for (auto& img : x)
    for (auto& v : img) v = Ring::encode(static_cast<double>(g.uniform(2001)) / 1000.0 - 1.0);
  return x;
}

// `images` inputs read from a file of float32 values (little endian, CHW).
template <class Ring>
[[nodiscard]] std::vector<std::vector<typename Ring::value_type>> file_inputs(const std::filesystem::path& file,
                                                                              std::uint64_t images, std::size_t size) {
  std::ifstream f(file, std::ios::binary);
  if (!f) throw usage_error(file.string() + ": cannot open the input file");
  std::vector<std::vector<typename Ring::value_type>> x(images, std::vector<typename Ring::value_type>(size));
  std::vector<float> buf(size);
  for (std::uint64_t i = 0; i < images; ++i) {
    f.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(size * sizeof(float)));
    if (static_cast<std::size_t>(f.gcount()) != size * sizeof(float))
      throw usage_error(file.string() + ": holds fewer than " + std::to_string(images) + " inputs of " +
                        std::to_string(size) + " float32 values");
    for (std::size_t j = 0; j < size; ++j) {
      if (!std::isfinite(buf[j])) throw usage_error(file.string() + ": input " + std::to_string(i) + " is not finite");
      x[i][j] = Ring::encode(static_cast<double>(buf[j]));
    }
  }
  return x;
}

template <class Ring>
[[nodiscard]] std::vector<std::vector<typename Ring::value_type>> client_inputs(const role_options& o,
                                                                                std::size_t size) {
  if (o.random_input) return random_inputs<Ring>(*o.random_input, o.images, size);
  if (!o.input.empty()) return file_inputs<Ring>(o.input, o.images, size);
  throw usage_error("the client needs --input FILE or --random-input S");
}

// One line per image: the ring elements (unsigned decimal), space separated.
template <class V>
void write_outputs(const std::filesystem::path& file, const std::vector<std::vector<V>>& y) {
  std::ofstream f(file);
  if (!f) throw error(file.string() + ": cannot write the outputs");
  for (const auto& img : y) {
    for (std::size_t i = 0; i < img.size(); ++i) f << (i ? " " : "") << static_cast<std::uint64_t>(img[i]);
    f << "\n";
  }
}

template <class V>
[[nodiscard]] std::vector<std::vector<V>> read_outputs(const std::filesystem::path& file) {
  std::ifstream f(file);
  if (!f) throw usage_error(file.string() + ": cannot open the outputs");
  std::vector<std::vector<V>> y;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::vector<V> img;
    std::uint64_t v = 0;
    while (s >> v) img.push_back(static_cast<V>(v));
    y.push_back(std::move(img));
  }
  return y;
}

// "class 7 (scores 0.12 -1.3 ...)" for people.
template <class Ring>
[[nodiscard]] std::string describe_output(const std::vector<proto::stage>& stages,
                                          std::span<const typename Ring::value_type> y) {
  const auto d = oracle::decode_output<Ring>(stages, y);
  std::ostringstream o;
  const auto& last = stages.back().pub;
  if (!last.ops.empty() && last.ops.back().kind == proto::op_kind::argmax) {
    o << "class " << (d.empty() ? 0 : static_cast<long long>(d[0]));
    return o.str();
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < d.size(); ++i)
    if (d[i] > d[best]) best = i;
  o << "class " << best << " (scores";
  for (double v : d) o << " " << std::setprecision(3) << v;
  o << ")";
  return o.str();
}

// ---- links of one party ------------------------------------------------------------

// The peers `self` talks to in a deployment of P clusters with T compute servers each.
[[nodiscard]] inline std::vector<role_id> peers_of(const role_id& self, std::uint32_t P, std::uint32_t T) {
  using proto::role_kind;
  std::vector<role_id> p;
  switch (self.kind) {
    case role_kind::client:
      p.push_back({role_kind::cloud, 0, 0});
      for (std::uint32_t j = 0; j < P; ++j) {
        p.push_back({role_kind::garbler, j, 0});
        p.push_back({role_kind::evaluator, j, 0});
      }
      break;
    case role_kind::cloud:
      p.push_back({role_kind::client, 0, 0});
      for (std::uint32_t j = 0; j < P; ++j) {
        p.push_back({role_kind::garbler, j, 0});
        for (std::uint32_t v = 0; v < T; ++v) p.push_back({role_kind::compute, j, v});
      }
      break;
    case role_kind::garbler:
      p.push_back({role_kind::client, 0, 0});
      p.push_back({role_kind::cloud, 0, 0});
      if (self.cluster > 0) p.push_back({role_kind::garbler, self.cluster - 1, 0});
      if (self.cluster + 1 < P) p.push_back({role_kind::garbler, self.cluster + 1, 0});
      p.push_back({role_kind::evaluator, self.cluster, 0});
      for (std::uint32_t v = 0; v < T; ++v) p.push_back({role_kind::compute, self.cluster, v});
      break;
    case role_kind::evaluator:
      p.push_back({role_kind::client, 0, 0});
      p.push_back({role_kind::garbler, self.cluster, 0});
      break;
    case role_kind::compute:
      p.push_back({role_kind::cloud, 0, 0});
      p.push_back({role_kind::garbler, self.cluster, 0});
      break;
  }
  return p;
}

// The transports of one party, taken into its role's typed channels, and the
// turn they share (flights). Lives for the whole run, so the error path can
// shut every link.
class party_links {
 public:
  party_links(std::string self, std::chrono::milliseconds deadline) : self_(std::move(self)), deadline_(deadline) {}

  [[nodiscard]] asio::awaitable<void> open(const deployment_file& d, const net::local_identity& me,
                                           const role_id& self) {
    prg rng = prg::from_os();
    raw_ = co_await open_links(d, me, self, peers_of(self, d.clusters, d.compute_per_cluster), rng);
    for (auto& [r, l] : raw_) by_peer_.emplace(r.to_string(), l.get());
  }

  // Moves the link to the channel's peer into `ch` and sets it up for this run.
  template <class Self, class Peer>
  void take(proto::channel<Self, Peer>& ch) {
    ch = take_channel<Self, Peer>(raw_);
    ch.set_deadline(deadline_);
    ch.set_turns(&turns_);
  }

  // The end of the run: tells every peer this party is done, then waits
  // until each peer says the same. A peer that fails or dies before its own
  // "done" makes this party fail too, naming it. A peer whose "done" arrives
  // has finished its part: if it is gone by the time ours reaches it (a
  // cloud killed while it waits through the online phase), that is no
  // failure of this run. Nothing follows the end message, so a peer never
  // meets it in a protocol receive (it would be refused there: its type is
  // outside the catalogue).
  [[nodiscard]] asio::awaitable<void> finish(std::chrono::milliseconds deadline) {
    std::map<std::string, std::string> unsent;  // peer -> why our "done" did not go
    for (auto& [peer, t] : by_peer_) {
      try {
        co_await t->send(end_of_run_type, {});
      } catch (const error& e) {
        unsent.emplace(peer, e.what());
      }
    }
    for (auto& [peer, t] : by_peer_) {
      try {
        (void)co_await t->receive(net::expect_type(end_of_run_type, 0), net::after(deadline), "the end of the run");
      } catch (const error& e) {
        const auto it = unsent.find(peer);
        throw protocol_error(self_, "finish", peer, it != unsent.end() ? it->second : std::string(e.what()));
      }
    }
  }

  // Shuts every link: the peers' waits on them end at once.
  void close_all() noexcept {
    for (auto& [peer, t] : by_peer_) t->shutdown();
  }
  // Forgets the links (their owners, the role's channels, are gone).
  void release() noexcept { by_peer_.clear(); }

  struct snapshot {
    std::map<std::string, std::pair<proto::link_counters, std::uint64_t>> at;
  };
  [[nodiscard]] snapshot take_snapshot() const {
    snapshot s;
    for (const auto& [peer, t] : by_peer_) s.at[peer] = {proto::link_counters::of(t->counters()), flights(peer)};
    return s;
  }
  // Adds what crossed each link since `before` to `into`.
  void add_since(const snapshot& before, phase_totals& into) const {
    for (const auto& [peer, t] : by_peer_) {
      const auto& [c0, f0] = before.at.at(peer);
      const auto c = proto::link_counters::of(t->counters()) - c0;
      into.peers[peer] += peer_figures{c.bytes_sent, c.bytes_received, c.messages_sent, c.messages_received,
                                       flights(peer) - f0};
    }
  }
  void fill_wire(run_report& r) const {
    for (const auto& [peer, t] : by_peer_) {
      const auto w = t->counters();
      r.wire[peer] = {w.wire_bytes_sent, w.wire_bytes_received};
    }
  }

  static constexpr net::message_type end_of_run_type = 0x0FFF;

 private:
  [[nodiscard]] std::uint64_t flights(const std::string& peer) const {
    const auto it = turns_.flights.find(peer);
    return it == turns_.flights.end() ? 0 : it->second;
  }

  std::string self_;
  std::chrono::milliseconds deadline_;
  link_map raw_;                              // opened, not yet taken by a channel
  std::map<std::string, net::transport*> by_peer_;  // every link, by peer name
  proto::party_turns turns_;
};

// ---- the run of one party ----------------------------------------------------------

// What a role does, as steps the driver times and counts.
struct role_steps {
  std::function<asio::awaitable<void>(prg&)> setup;
  std::function<asio::awaitable<void>(std::uint64_t, prg&)> offline;
  std::function<asio::awaitable<void>(std::uint64_t)> online;  // empty for the cloud (no online part)
  // Instead of online: the images [first, last] of one offline batch at
  // once (a stream: the client's --stream).
  std::function<asio::awaitable<void>(std::uint64_t, std::uint64_t)> online_batch;
  std::function<const proto::party_report&()> report;
};

// The steps every role has (setup, offline, report), taken from its object;
// the caller adds the online step where the role has one.
template <class Party>
[[nodiscard]] role_steps common_steps(Party& p) {
  role_steps s;
  s.setup = [&p](prg& g) { return p.setup(g); };
  s.offline = [&p](std::uint64_t id, prg& g) { return p.offline(id, g); };
  s.report = [&p]() -> const proto::party_report& { return p.report(); };
  return s;
}

namespace detail {

inline void write_status(const std::filesystem::path& file, const std::string& step) {
  if (file.empty()) return;
  const auto tmp = file.string() + ".tmp";
  {
    std::ofstream f(tmp);
    f << step << "\n";
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
}

}  // namespace detail

// The protocol's view of a run: which deployment, which party, its step.
struct run_context {
  std::string deployment_name;
  role_options opt;
  deployment_file file;
  role_id self;
  std::string self_name;
  std::string step = "start";
  run_report report;

  void at(std::string s) {
    step = std::move(s);
    detail::write_status(opt.status, step);
    if (!opt.quiet && step != "start")
      std::cerr << self_name << ": " << step << std::endl;
  }
};

// Runs the steps of a role with its links open; fills ctx.report.
[[nodiscard]] inline asio::awaitable<void> drive(run_context& ctx, party_links& links, const role_steps& s) {
  prg g = prg::from_os();
  party_links::snapshot before;
  auto t0 = std::chrono::steady_clock::now();
  const auto begin = [&] {
    before = links.take_snapshot();
    t0 = std::chrono::steady_clock::now();
  };
  const auto end = [&](const char* name) {
    auto& p = ctx.report.phases[name];
    p.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    links.add_since(before, p);
  };
  ctx.at("setup");
  begin();
  co_await s.setup(g);
  end("setup");
  // Offline material is prepared for a batch of offline_batch inferences,
  // then their online phases run, then the next batch: a party holds at most
  // one batch's material (the deployment file sets the batch, so every party
  // follows the same schedule, the client's stream included: it sends a
  // batch's inputs at once and collects them before the next batch).
  const std::uint64_t n = ctx.opt.images;
  const std::uint64_t batch = std::max<std::uint64_t>(1, ctx.file.offline_batch);
  for (std::uint64_t first = 1; first <= n; first += batch) {
    const std::uint64_t last = std::min(n, first + batch - 1);
    for (std::uint64_t i = first; i <= last; ++i) {
      ctx.at("offline " + std::to_string(i));
      begin();
      co_await s.offline(i, g);
      end("offline");
    }
    if (s.online_batch) {
      ctx.at("online " + std::to_string(first) + ".." + std::to_string(last));
      begin();
      co_await s.online_batch(first, last);
      end("online");
    } else if (s.online) {
      for (std::uint64_t i = first; i <= last; ++i) {
        ctx.at("online " + std::to_string(i));
        begin();
        co_await s.online(i);
        end("online");
      }
    }
  }
  ctx.report.phases.try_emplace("online");
  for (const auto& st : s.report().stages)
    ctx.report.stages.push_back({st.stage, st.offline_s, st.online_s, st.and_gates});
  links.fill_wire(ctx.report);
}

// Builds the role's channels from the party's links and its object, and drives it.
template <class Party, class... Args>
[[nodiscard]] asio::awaitable<void> run_party(run_context& ctx, party_links& links, proto::public_config cfg,
                                              std::function<void(Party&, role_steps&)> online, Args... args) {
  struct forget {  // the links die with the channels that own them
    party_links& l;
    ~forget() { l.release(); }
  } guard{links};
  typename Party::links lk;
  lk.each([&](auto& ch) { links.take(ch); });
  Party p(std::move(cfg), std::move(args)..., std::move(lk));
  role_steps s = common_steps(p);
  if (online) online(p, s);
  co_await drive(ctx, links, s);
  // Every party waits for the others to end: the cloud, done after the
  // offline phase, still learns of a party that fails online. The wait may
  // span the others' remaining phases: one receive deadline per image, plus one.
  ctx.at("finish");
  co_await links.finish(ctx.file.timeouts.receive * static_cast<long>(ctx.opt.images + 1));
}

// The steps of a party of the clusters: its online step is online(id).
inline constexpr auto cluster_online = [](auto& p, role_steps& s) { s.online = [&p](std::uint64_t id) { return p.online(id); }; };

template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] proto::public_config party_config(const run_context& ctx) {
  proto::public_config cfg;
  cfg.plan = public_network_plan<Net, Ring, Bounds>();
  cfg.topo = {ctx.file.clusters, ctx.file.compute_per_cluster, ctx.file.placement};
  cfg.paillier_bits = ctx.opt.paillier_bits;
  cfg.threads = ctx.opt.threads;
  if (!ctx.opt.quiet) {
    cfg.progress = stderr_progress();
    cfg.stage_log = [](const std::string& line) { std::cerr << line << std::endl; };
  }
  return cfg;
}

// The model's weights, as the cloud's options name them (--random-weights S
// or --model FILE).
template <class Net>
[[nodiscard]] nn::model_weights model_weights_from(const role_options& o) {
  if (o.random_weights) return random_model<Net>(*o.random_weights);
  if (!o.model.empty()) {
#if defined(PMDI_RUN_HAS_ONNX)
    const auto declared = nn::describe<Net>();
    const auto bytes = read_model_file(o.model, o.model_pin);
    return io::load_onnx(bytes, o.model.filename().string(), std::span<const nn::layer_info>(declared));
#else
    throw usage_error("--model: this binary was built without ONNX (pmdi_add_deployment(... ONNX))");
#endif
  }
  throw usage_error("the cloud needs --model FILE or --random-weights S");
}

// The cloud's model: the weights lowered to protocol stages.
template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] std::vector<proto::stage> cloud_model(const role_options& o) {
  return plan::lower<Net, Ring, Bounds>(model_weights_from<Net>(o));
}

#if defined(PMDI_RUN_HAS_CLIENT)
template <class Net, class Ring, class Bounds, class Shape>
[[nodiscard]] asio::awaitable<void> run_client(run_context& ctx, party_links& links) {
  using V = typename Ring::value_type;
  using party = proto::client<Ring, Shape>;
  const auto stages = structure_stages<Net, Ring, Bounds>();
  const auto x = client_inputs<Ring>(ctx.opt, proto::input_size(stages));
  std::vector<std::vector<V>> y(ctx.opt.images);
  const auto pause = [&]() -> asio::awaitable<void> {
    if (ctx.opt.online_delay.count() <= 0) co_return;
    asio::steady_timer t(co_await asio::this_coro::executor, ctx.opt.online_delay);
    co_await t.async_wait(asio::use_awaitable);
  };
  co_await run_party<party>(ctx, links, party_config<Net, Ring, Bounds>(ctx), [&](party& c, role_steps& s) {
    s.online = [&](std::uint64_t id) -> asio::awaitable<void> {
      if (id == 1) co_await pause();
      y[id - 1] = co_await c.online(id, std::span<const V>(x[id - 1]));
    };
    if (ctx.opt.stream)
      s.online_batch = [&](std::uint64_t first, std::uint64_t last) -> asio::awaitable<void> {
        if (first == 1) co_await pause();
        for (std::uint64_t id = first; id <= last; ++id) co_await c.submit(id, std::span<const V>(x[id - 1]));
        for (std::uint64_t id = first; id <= last; ++id) y[id - 1] = co_await c.collect(id);
      };
  });
  if (!ctx.opt.output.empty()) write_outputs(ctx.opt.output, y);
  for (std::size_t i = 0; i < y.size(); ++i)
    std::cout << "image " << i + 1 << ": " << describe_output<Ring>(stages, std::span<const V>(y[i])) << std::endl;
}
#endif

#if defined(PMDI_RUN_HAS_CLOUD)
template <class Net, class Ring, class Bounds, class Shape>
[[nodiscard]] asio::awaitable<void> run_cloud(run_context& ctx, party_links& links) {
  using party = proto::cloud<Ring, Shape>;
  ctx.at("load model");  // errors in the file name this step, not 'connect'
  auto model = cloud_model<Net, Ring, Bounds>(ctx.opt);
  co_await run_party<party>(ctx, links, party_config<Net, Ring, Bounds>(ctx), {}, std::move(model));
}
#endif

#if defined(PMDI_RUN_HAS_GARBLER)
template <class Net, class Ring, class Bounds, class Shape>
[[nodiscard]] asio::awaitable<void> run_garbler(run_context& ctx, party_links& links) {
  co_await proto::with_index<Shape::clusters>(ctx.self.cluster, [&]<std::size_t J>() {
    using party = proto::garbler<Ring, Shape, J>;
    return run_party<party>(ctx, links, party_config<Net, Ring, Bounds>(ctx), cluster_online);
  });
}
#endif

#if defined(PMDI_RUN_HAS_EVALUATOR)
template <class Net, class Ring, class Bounds, class Shape>
[[nodiscard]] asio::awaitable<void> run_evaluator(run_context& ctx, party_links& links) {
  co_await proto::with_index<Shape::clusters>(ctx.self.cluster, [&]<std::size_t J>() {
    using party = proto::evaluator<Ring, J>;
    return run_party<party>(ctx, links, party_config<Net, Ring, Bounds>(ctx), cluster_online);
  });
}
#endif

#if defined(PMDI_RUN_HAS_COMPUTE)
template <class Net, class Ring, class Bounds, class Shape>
[[nodiscard]] asio::awaitable<void> run_compute(run_context& ctx, party_links& links) {
  co_await proto::with_index<Shape::clusters>(ctx.self.cluster, [&]<std::size_t J>() {
    return proto::with_index<Shape::compute>(ctx.self.server, [&]<std::size_t V>() {
      using party = proto::compute<Ring, J, V>;
      return run_party<party>(ctx, links, party_config<Net, Ring, Bounds>(ctx), cluster_online);
    });
  });
}
#endif

// This party's whole run on the links: connect, its role, the end of the run.
template <class Net, class Ring, class Bounds, class Shape>
[[nodiscard]] asio::awaitable<void> run_party_main(run_context& ctx, party_links& links, const net::local_identity& me) {
  ctx.at("connect");
  {
    const auto t0 = std::chrono::steady_clock::now();
    co_await links.open(ctx.file, me, ctx.self);
    ctx.report.phases["connect"].seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  switch (ctx.self.kind) {
#if defined(PMDI_RUN_HAS_CLIENT)
    case proto::role_kind::client: co_await run_client<Net, Ring, Bounds, Shape>(ctx, links); break;
#endif
#if defined(PMDI_RUN_HAS_CLOUD)
    case proto::role_kind::cloud: co_await run_cloud<Net, Ring, Bounds, Shape>(ctx, links); break;
#endif
#if defined(PMDI_RUN_HAS_GARBLER)
    case proto::role_kind::garbler: co_await run_garbler<Net, Ring, Bounds, Shape>(ctx, links); break;
#endif
#if defined(PMDI_RUN_HAS_EVALUATOR)
    case proto::role_kind::evaluator: co_await run_evaluator<Net, Ring, Bounds, Shape>(ctx, links); break;
#endif
#if defined(PMDI_RUN_HAS_COMPUTE)
    case proto::role_kind::compute: co_await run_compute<Net, Ring, Bounds, Shape>(ctx, links); break;
#endif
    default: break;
  }
}

// Which roles this binary contains, for the refusal of a wrong --party.
[[nodiscard]] inline bool compiled_role(proto::role_kind k) noexcept {
  switch (k) {
#if defined(PMDI_RUN_HAS_CLIENT)
    case proto::role_kind::client: return true;
#endif
#if defined(PMDI_RUN_HAS_CLOUD)
    case proto::role_kind::cloud: return true;
#endif
#if defined(PMDI_RUN_HAS_GARBLER)
    case proto::role_kind::garbler: return true;
#endif
#if defined(PMDI_RUN_HAS_EVALUATOR)
    case proto::role_kind::evaluator: return true;
#endif
#if defined(PMDI_RUN_HAS_COMPUTE)
    case proto::role_kind::compute: return true;
#endif
    default: return false;
  }
}

// The whole life of one party process; returns the exit status.
template <class Net, class Ring, class Bounds = nn::default_bounds, class Shape = proto::shape<2, 1>>
[[nodiscard]] int role_main(int argc, char** argv, std::string_view deployment_name) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed peer is an error from write(), not a signal
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << "usage: " << argv[0] << " --deployment FILE --party ROLE --key FILE [options]\n"
                << "one party of the deployment '" << deployment_name << "'\n"
                << role_usage;
#if defined(PMDI_RUN_HAS_CLOUD) && defined(PMDI_RUN_HAS_ONNX)
      std::cout << "ONNX weights: yes\n";
#elif defined(PMDI_RUN_HAS_CLOUD)
      std::cout << "ONNX weights: no\n";
#endif
      return 0;
    }
  run_context ctx;
  ctx.deployment_name = std::string(deployment_name);
  asio::io_context io;  // every step of this party is a coroutine on it; outlives the links
  std::unique_ptr<party_links> links;
  try {
    ctx.opt = parse_role_options(argc, argv);
    ctx.self = role_id::parse(ctx.opt.party);
    ctx.self_name = ctx.self.to_string();
    ctx.report.party = ctx.self_name;
    ctx.report.role = ctx.self.path();
    ctx.report.images = ctx.opt.images;
    if (!compiled_role(ctx.self.kind))
      throw usage_error("this binary of '" + ctx.deployment_name + "' does not contain the " +
                        std::string(proto::kind_name(ctx.self.kind)) + " role; run " + ctx.deployment_name + "-" +
                        std::string(proto::kind_name(ctx.self.kind)));
    ctx.file = load_deployment(ctx.opt.deployment);
    if (ctx.file.ring_bits != Ring::bits || ctx.file.fraction_bits != Ring::frac)
      throw usage_error(ctx.opt.deployment.string() + ": ring " + std::to_string(ctx.file.ring_bits) + "/" +
                        std::to_string(ctx.file.fraction_bits) + " but this binary is built for ring<" +
                        std::to_string(Ring::bits) + ", " + std::to_string(Ring::frac) + ">: set \"ring\": {\"bits\": " +
                        std::to_string(Ring::bits) + ", \"fraction_bits\": " + std::to_string(Ring::frac) + "}");
    if (ctx.file.clusters != Shape::clusters || ctx.file.compute_per_cluster != Shape::compute)
      throw usage_error(ctx.opt.deployment.string() + ": " + std::to_string(ctx.file.clusters) + " cluster(s) of " +
                        std::to_string(ctx.file.compute_per_cluster) + " compute server(s), but the binaries of '" +
                        ctx.deployment_name + "' are built for " + std::to_string(Shape::clusters) + " of " +
                        std::to_string(Shape::compute) + " (pmdi_add_deployment(... CLUSTERS " +
                        std::to_string(ctx.file.clusters) + " COMPUTE " + std::to_string(ctx.file.compute_per_cluster) +
                        "))");
    if (!ctx.file.placement.empty()) try {  // refused before any link opens
        proto::check_placement(ctx.file.placement, plan::split<Net>::count, Shape::clusters);
      } catch (const usage_error& e) {
        throw usage_error(ctx.opt.deployment.string() + ": placement: " + e.what() + " ('" + ctx.deployment_name + "' has " +
                          std::to_string(plan::split<Net>::count) + " stages)");
      }
    const auto me = load_identity(ctx.file, ctx.self, ctx.opt.key);
    links = std::make_unique<party_links>(ctx.self_name, ctx.file.timeouts.receive);
    std::exception_ptr failed;
    asio::co_spawn(io, run_party_main<Net, Ring, Bounds, Shape>(ctx, *links, me),
                   [&](std::exception_ptr e) { failed = e; });
    io.run();
    if (failed) std::rethrow_exception(failed);
    ctx.report.ok = true;
    ctx.at("done");
  } catch (const std::exception& e) {
    std::string sentence;
    if (dynamic_cast<const protocol_error*>(&e) != nullptr) {
      sentence = e.what();
    } else {
      const std::string who = ctx.self_name.empty() ? std::string(deployment_name) : ctx.self_name;
      sentence = protocol_error(who, ctx.step, "", e.what()).what();
    }
    ctx.report.ok = false;
    ctx.report.error = sentence;
    std::cerr << "pmdi: " << sentence << std::endl;
  }
  links.reset();  // closes what was never taken by a channel
  if (!ctx.opt.report.empty()) {
    try {
      write_report(ctx.opt.report, ctx.report);
    } catch (const std::exception& e) {
      std::cerr << "pmdi: " << e.what() << std::endl;
      return 1;
    }
  }
  return ctx.report.ok ? 0 : 1;
}

}  // namespace pmdi::run

#undef PMDI_RUN_ONE_ROLE
#undef PMDI_RUN_HAS_CLIENT
#undef PMDI_RUN_HAS_CLOUD
#undef PMDI_RUN_HAS_ONNX
#undef PMDI_RUN_HAS_GARBLER
#undef PMDI_RUN_HAS_EVALUATOR
#undef PMDI_RUN_HAS_COMPUTE
