// A deployment as separate processes over 127.0.0.1: the per-role binaries of
// pmdi_add_deployment(pmdi-small ...) started by the launcher's process helpers.
//  - their outputs equal the fixed-point oracle and the in-process run;
//  - the cloud sends and receives nothing in the online phase;
//  - the client binary has no cloud or model code (nm -C);
//  - a party with a key the deployment file does not list is refused at the
//    handshake, and every party exits non-zero;
//  - a party killed (SIGKILL) in the offline or online phase makes every other
//    party exit non-zero within its deadline, with one sentence naming itself,
//    the step and the peer.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <regex>
#include <thread>

#include "local_run.hpp"

using namespace pmdi;
using namespace std::chrono_literals;
using namespace pmdi_test;

namespace {

std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

}  // namespace

TEST_CASE("separate processes over loopback agree with the oracle and the in-process run", "[processes]") {
  constexpr std::uint64_t images = 2;
  local_run r("agree", 2, 1, test_timeouts());
  r.start_all(images);
  const auto st = r.group.wait_all(std::chrono::steady_clock::now() + 120s);
  for (const auto& role : r.roles) {
    INFO(role.path() << ": " << st.at(role.path()).str() << "\n" << run::read_text(r.log(role)));
    REQUIRE(st.at(role.path()).ok());
  }
  const auto y = run::read_outputs<V>(r.files.dir / "outputs.txt");
  const auto want = oracle_outputs(images);
  REQUIRE(y.size() == images);
  CHECK(y == want);

  // The same inputs and weights in one process (run/local.hpp).
  {
    const auto stages = plan::lower<small_net, small_ring>(run::random_model<small_net>(weights_seed));
    const auto x = run::random_inputs<small_ring>(input_seed, images, pmdi::proto::input_size(stages));
    run::local_options lo;
    lo.topo = {2, 1};
    lo.paillier_bits = 1024;
    lo.threads = 1;
    run::local_deployment<small_ring> d(stages, pmdi::proto::input_size(stages), lo);
    d.setup();
    for (std::uint64_t i = 1; i <= images; ++i) d.offline(i);
    for (std::uint64_t i = 1; i <= images; ++i) CHECK(d.online(i, std::span<const V>(x[i - 1])) == y[i - 1]);
  }

  // Reports: every party's, with the cloud silent online and traffic where the plan puts it.
  std::map<std::string, proto::party_report> rep;
  for (const auto& role : r.roles) rep[role.to_string()] = run::read_report(r.files.dir / run::party_file(role, ".report.json"));
  for (const auto& [p, x] : rep) {
    CHECK(x.ok);
    CHECK(x.images == images);
  }
  const auto& cloud = rep.at("cloud");
  CHECK(cloud.phase("online").bytes_sent() == 0);
  CHECK(cloud.phase("online").bytes_received() == 0);
  for (const auto& [p, x] : rep)
    if (auto it = x.phase("online").peers.find("cloud"); it != x.phase("online").peers.end()) {
      CHECK(it->second.bytes_sent == 0);
      CHECK(it->second.bytes_received == 0);
    }
  const auto& client = rep.at("client");
  CHECK(client.phase("offline").peers.at("cloud").bytes_sent > 0);
  CHECK(client.phase("online").peers.at("garbler[0]").bytes_sent > 0);
  CHECK(client.phase("online").peers.at("garbler[1]").bytes_received > 0);
  CHECK(client.phase("online").rounds() == images);  // one flight: z_1 to garbler[0] per image
  // The two ends of a link agree on its bytes.
  CHECK(rep.at("garbler[0]").phase("offline").peers.at("evaluator[0]").bytes_sent ==
        rep.at("evaluator[0]").phase("offline").peers.at("garbler[0]").bytes_received);
  CHECK(rep.at("garbler[0]").phase("online").peers.at("garbler[1]").bytes_sent ==
        rep.at("garbler[1]").phase("online").peers.at("garbler[0]").bytes_received);
  // A party only has links to the peers the plan connects it with.
  CHECK(rep.at("evaluator[1]").phase("setup").peers.size() == 2);
  CHECK(rep.at("compute[0,0]").phase("setup").peers.size() == 2);
  CHECK(rep.at("garbler[0]").phase("setup").peers.size() == 5);  // client, cloud, evaluator, compute, garbler[1]

  std::ostringstream table;
  std::vector<proto::party_report> all;
  for (const auto& role : r.roles) all.push_back(rep.at(role.to_string()));
  run::print_table(table, all);
  CHECK_THAT(table.str(), Catch::Contains("garbler[0] -> evaluator[0]"));
  CHECK_THAT(table.str(), Catch::Contains("compute[1,0]"));
}

TEST_CASE("a stream of inferences through the cluster pipeline agrees with the oracle", "[processes]") {
  constexpr std::uint64_t images = 3;
  local_run r("stream", 2, 1, test_timeouts());
  r.start_all(images, {{"client", {"--stream"}}});
  const auto st = r.group.wait_all(std::chrono::steady_clock::now() + 120s);
  for (const auto& role : r.roles) {
    INFO(role.path() << ": " << st.at(role.path()).str() << "\n" << run::read_text(r.log(role)));
    REQUIRE(st.at(role.path()).ok());
  }
  CHECK(run::read_outputs<V>(r.files.dir / "outputs.txt") == oracle_outputs(images));
  const auto client = run::read_report(r.files.dir / run::party_file({proto::role_kind::client, 0, 0}, ".report.json"));
  CHECK(client.phase("online").rounds() == 1);  // every input in one flight
  CHECK(client.phase("online").peers.at("garbler[0]").messages_sent == images);
}

TEST_CASE("the deployment file's placement decides which stages each cluster runs", "[processes]") {
  // small_net has 4 stages; the even split is [0, 2) and [2, 4).
  constexpr std::uint64_t images = 2;
  local_run r("placement", 2, 1, test_timeouts(), {{0, 1}, {1, 4}});
  r.start_all(images, {{"client", {"--stream"}}});
  const auto st = r.group.wait_all(std::chrono::steady_clock::now() + 120s);
  for (const auto& role : r.roles) {
    INFO(role.path() << ": " << st.at(role.path()).str() << "\n" << run::read_text(r.log(role)));
    REQUIRE(st.at(role.path()).ok());
  }
  CHECK(run::read_outputs<V>(r.files.dir / "outputs.txt") == oracle_outputs(images));
  // cluster 1 ran three stages, cluster 0 one
  const auto g0 = run::read_report(r.files.dir / run::party_file({proto::role_kind::garbler, 0, 0}, ".report.json"));
  const auto g1 = run::read_report(r.files.dir / run::party_file({proto::role_kind::garbler, 1, 0}, ".report.json"));
  CHECK(g0.stages.size() == 1);
  REQUIRE(g1.stages.size() == 3);
  CHECK(g1.stages.front().stage == 1);

  // A placement the network cannot run is refused before any link opens, naming the cluster.
  local_run bad("placement-bad", 2, 1, test_timeouts(5s), {{0, 2}, {2, 5}});
  const run::role_id e{proto::role_kind::evaluator, 1, 0};
  bad.start(e, bad.args(e, 1));
  const auto bst = bad.group.wait_all(std::chrono::steady_clock::now() + 30s);
  const auto text = run::read_text(bad.log(e));
  INFO(text);
  CHECK(bst.at(e.path()).code == 1);
  CHECK_THAT(text, Catch::Contains("step 'start'"));
  CHECK_THAT(text, Catch::Contains("placement: cluster 1's stages [2, 5) run past the network's last stage (it has 4"));
}

TEST_CASE("the client binary has no cloud, model-loading or model-sharing code", "[processes]") {
  const auto client = run::role_binary(bin_dir, name, proto::role_kind::client);
  const auto cloud = run::role_binary(bin_dir, name, proto::role_kind::cloud);
  const auto garbler = run::role_binary(bin_dir, name, proto::role_kind::garbler);
  const std::string client_syms = run_command("nm -C " + client.string() + " 2>/dev/null");
  const std::string cloud_syms = run_command("nm -C " + cloud.string() + " 2>/dev/null");
  const std::string garbler_syms = run_command("nm -C " + garbler.string() + " 2>/dev/null");
  if (client_syms.empty()) {
    WARN("nm is not available or the binaries are stripped; the symbol check is skipped");
    return;
  }
  // The cloud's code path: its class, its run, the model shares it sends.
  for (const char* sym : {"pmdi::proto::cloud<", "pmdi::proto::msg_model_share_compute", "pmdi::run::run_cloud<"}) {
    INFO(sym);
    CHECK(cloud_syms.find(sym) != std::string::npos);
    CHECK(client_syms.find(sym) == std::string::npos);
  }
  // The weights it loads (these may be inlined into the cloud's run).
  for (const char* sym : {"pmdi::run::cloud_model<", "pmdi::run::model_weights_from<", "pmdi::run::random_model<",
                          "pmdi::nn::random_weights<", "pmdi::io::load_onnx"}) {
    INFO(sym);
    CHECK(client_syms.find(sym) == std::string::npos);
  }
  // The other roles' classes are not in the client either, and the client's not in the garbler.
  for (const char* sym : {"pmdi::proto::garbler<", "pmdi::proto::evaluator<", "pmdi::proto::compute<"})
    CHECK(client_syms.find(sym) == std::string::npos);
  CHECK(client_syms.find("pmdi::proto::client<") != std::string::npos);
  CHECK(garbler_syms.find("pmdi::proto::client<") == std::string::npos);
  CHECK(garbler_syms.find("pmdi::proto::cloud<") == std::string::npos);

  // A binary refuses to play a role it does not contain.
  const auto fdir = fresh_dir("wrong-binary");
  const std::string out =
      run_command(client.string() + " --deployment x --party cloud --key y 2>&1; echo \"exit=$?\"");
  CHECK_THAT(out, Catch::Contains("does not contain the cloud role"));
  CHECK_THAT(out, Catch::Contains("exit=1"));
}

TEST_CASE("a role binary refuses a deployment of another shape than it was built for", "[processes]") {
  // The pmdi-small binaries are built for 2 clusters of 1 compute server
  // (the shape is part of the roles' types); a file with 3 clusters is refused
  // before any link is opened.
  local_run r("wrong-shape", 3, 1, test_timeouts(5s));
  const run::role_id g{proto::role_kind::garbler, 2, 0};
  r.start(g, r.args(g, 1));
  const auto st = r.group.wait_all(std::chrono::steady_clock::now() + 30s);
  const auto text = run::read_text(r.log(g));
  INFO(st.at(g.path()).str() << "\n" << text);
  CHECK(st.at(g.path()).code == 1);
  CHECK_THAT(text, Catch::Contains("pmdi: garbler[2]: step 'start'"));
  CHECK_THAT(text, Catch::Contains("3 cluster(s) of 1 compute server(s)"));
  CHECK_THAT(text, Catch::Contains("built for 2 of 1"));
}

TEST_CASE("a party whose key the deployment file does not list is refused at the handshake", "[processes]") {
  local_run r("wrong-key", 2, 1, test_timeouts(5s));
  const run::role_id impostor{proto::role_kind::evaluator, 0, 0};
  // The impostor's own copy of the deployment file lists its key; the others' does not.
  auto kp = net::keygen();
  run::deployment_file forged = r.files.file;
  for (auto& p : forged.parties)
    if (p.role == impostor) p.public_key = kp.pk;
  const auto forged_file = r.files.dir / "forged-deployment.json";
  local_run::write_deployment(forged_file, forged);
  const auto forged_key = r.files.dir / "impostor.key";
  run::write_secret_key(forged_key, kp.sk);

  r.started = std::chrono::steady_clock::now();
  for (const auto& role : r.roles) {
    auto a = r.args(role, 1);
    if (role == impostor) {
      local_run::replace_arg(a, "--deployment", forged_file.string());
      local_run::replace_arg(a, "--key", forged_key.string());
    }
    r.start(role, a);
  }
  const auto st = r.group.wait_all(std::chrono::steady_clock::now() + 60s);
  for (const auto& role : r.roles) {
    INFO(role.path() << ": " << st.at(role.path()).str() << "\n" << run::read_text(r.log(role)));
    CHECK(st.at(role.path()).finished);
    CHECK(st.at(role.path()).code == 1);
  }
  // The client (the impostor connects to it first) refuses it at the handshake,
  // drops that connection with one line, and waits on for the real
  // evaluator[0] until the deadline.
  const auto client_text = run::read_text(r.log({proto::role_kind::client, 0, 0}));
  CHECK_THAT(client_text, Catch::Contains("client: dropped a connection from unauthenticated peer at 127.0.0.1:"));
  CHECK_THAT(client_text, Catch::Contains(": client: handshake with evaluator[0] at 127.0.0.1:"));
  CHECK_THAT(client_text, Catch::Contains("refused: peer key does not match the deployment file"));
  CHECK_THAT(client_text, Catch::Contains("pmdi: client: step 'connect': client: no authenticated connection from "
                                          "evaluator[0] on 127.0.0.1:"));
  const auto imp = run::read_text(r.log(impostor));
  CHECK_THAT(imp, Catch::Contains("pmdi: evaluator[0]: step 'connect'"));
  CHECK_THAT(imp, Catch::Contains("refused by the peer"));
  // Every other party names itself and its step (connect, or the first
  // receive when all its own links were open before the refusal).
  for (const auto& role : r.roles) {
    const auto text = run::read_text(r.log(role));
    INFO(text);
    CHECK_THAT(text, Catch::Contains("pmdi: " + role.to_string() + ": step '"));
  }
  CHECK_FALSE(std::filesystem::exists(r.files.dir / "outputs.txt"));
}

namespace {

// Kills `victim` once its status starts with `phase`; every other party that
// still had work must exit 1 with a sentence naming itself, the step and a
// peer, well before its deadline.
void kill_during(const std::string& what, const run::role_id& victim, const std::string& phase, std::uint64_t images,
                 const std::map<std::string, std::vector<std::string>>& extra,
                 const std::vector<std::string>& finished_before) {
  const auto receive_deadline = 30s;
  local_run r(what, 2, 1, test_timeouts(receive_deadline));
  r.start_all(images, extra);
  REQUIRE(r.wait_status(victim, phase, 60s));
  const std::string at = r.status(victim);
  const auto k = r.kill_and_wait(victim, 2 * receive_deadline);
  int naming_victim = 0;
  INFO("killed " << victim.to_string() << " at '" << at << "'");
  CHECK(k.status.at(victim.path()).signal == SIGKILL);
  r.each_other_party(victim, k.status, [&](const run::role_id& role, const run::exit_status& s, const std::string& text) {
    if (std::find(finished_before.begin(), finished_before.end(), role.path()) != finished_before.end()) {
      CHECK(s.code == 0);  // its part was over before the kill
      return;
    }
    CHECK(s.code == 1);
    // Failing fast: the peers' closes end the run, well within the receive deadline.
    CHECK(s.seconds - k.at_s < std::chrono::duration<double>(receive_deadline).count());
    const auto m = failure_sentence(text, role.to_string());
    REQUIRE(!m.empty());
    CHECK(!m[1].str().empty());  // the step
    CHECK(m[2].matched);         // the peer
    CHECK_THAT(text, !Catch::Contains("timed out"));
    if (m[2].str() == victim.to_string()) ++naming_victim;
  });
  CHECK(std::chrono::steady_clock::now() - k.at < receive_deadline);
  // The victim's peers see it go first; at least one of them names it.
  CHECK(naming_victim >= 1);
}

}  // namespace

TEST_CASE("a party killed in the offline phase makes every other party exit non-zero", "[processes]") {
  kill_during("kill-offline-evaluator", {proto::role_kind::evaluator, 0, 0}, "offline", 3, {}, {});
}

TEST_CASE("a compute server killed in the online phase makes every other party exit non-zero", "[processes]") {
  // The client waits 1.5 s before its online phase: the compute server is
  // waiting for its input when it is killed. The cloud, whose part ended with
  // the offline phase, is waiting for the end of the run and fails too.
  kill_during("kill-online-compute", {proto::role_kind::compute, 0, 0}, "online", 1,
              {{"client", {"--online-delay-ms", "1500"}}}, {});
}

namespace {

// Two network namespaces ("user": client and cloud; "edge": the clusters)
// joined by a veth pair, each end limited by a token bucket (tc tbf).
class netns_pair {
 public:
  static constexpr const char* user_ip = "10.231.77.1";
  static constexpr const char* edge_ip = "10.231.77.2";

  explicit netns_pair(const std::string& rate) {
    const std::string id = std::to_string(::getpid() % 100000);
    user_ = "pmdi-user-" + id;
    edge_ = "pmdi-edge-" + id;
    const std::string vu = "pmdiu" + id, ve = "pmdie" + id;
    const std::vector<std::string> cmds = {
        "ip netns add " + user_,
        "ip netns add " + edge_,
        "ip link add " + vu + " type veth peer name " + ve,
        "ip link set " + vu + " netns " + user_,
        "ip link set " + ve + " netns " + edge_,
        "ip -n " + user_ + " addr add " + user_ip + "/24 dev " + vu,
        "ip -n " + edge_ + " addr add " + edge_ip + "/24 dev " + ve,
        "ip -n " + user_ + " link set lo up",
        "ip -n " + edge_ + " link set lo up",
        "ip -n " + user_ + " link set " + vu + " up",
        "ip -n " + edge_ + " link set " + ve + " up",
        "ip netns exec " + user_ + " tc qdisc add dev " + vu + " root tbf rate " + rate + " burst 16kb latency 400ms",
        "ip netns exec " + edge_ + " tc qdisc add dev " + ve + " root tbf rate " + rate + " burst 16kb latency 400ms"};
    for (const auto& c : cmds)
      if (std::system((c + " >/dev/null 2>&1").c_str()) != 0) {
        failed_ = c;
        return;
      }
    ok_ = true;
  }
  ~netns_pair() {
    (void)std::system(("ip netns del " + user_ + " >/dev/null 2>&1").c_str());
    (void)std::system(("ip netns del " + edge_ + " >/dev/null 2>&1").c_str());
  }
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] const std::string& failed() const noexcept { return failed_; }
  [[nodiscard]] const std::string& user() const noexcept { return user_; }
  [[nodiscard]] const std::string& edge() const noexcept { return edge_; }

 private:
  std::string user_, edge_, failed_;
  bool ok_ = false;
};

std::string ip_tool() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
    if (std::filesystem::exists(p)) return p;
  return {};
}


// Parties in two namespaces over a veth pair limited to `rate` each way: the
// user side holds the client, the cloud and `also_user`; the edge side the
// rest. Outputs must equal the oracle's, and the client cannot have taken
// less time than half its bytes over the link at that rate.
void netns_run(const std::string& what, const std::string& rate, double rate_bits,
               const std::vector<run::role_id>& also_user, std::chrono::milliseconds receive_deadline) {
  if (::geteuid() != 0) {
    WARN("skipped: creating network namespaces (ip netns add) needs root");
    return;
  }
  const std::string ip = ip_tool();
  if (ip.empty() || std::system("ip netns list >/dev/null 2>&1") != 0) {
    WARN("skipped: the ip tool or 'ip netns' is unavailable");
    return;
  }
  netns_pair ns(rate);
  if (!ns.ok()) {
    WARN("skipped: could not set up the namespaces: '" << ns.failed() << "' failed");
    return;
  }
  local_run r(what, 2, 1, test_timeouts(receive_deadline));
  const auto on_user = [&](const run::role_id& role) {
    return role.kind == proto::role_kind::client || role.kind == proto::role_kind::cloud ||
           std::find(also_user.begin(), also_user.end(), role) != also_user.end();
  };
  for (auto& p : r.files.file.parties) p.host = on_user(p.role) ? netns_pair::user_ip : netns_pair::edge_ip;
  r.rewrite_deployment();
  r.started = std::chrono::steady_clock::now();
  for (const auto& role : r.roles) {
    std::vector<std::string> a{"netns", "exec", on_user(role) ? ns.user() : ns.edge(),
                               run::role_binary(bin_dir, name, role.kind).string()};
    const auto rest = r.args(role, 1);
    a.insert(a.end(), rest.begin(), rest.end());
    r.group.start(role.path(), ip, a, r.log(role));
  }
  const auto st = r.group.wait_all(std::chrono::steady_clock::now() + 300s);
  for (const auto& role : r.roles) {
    INFO(role.path() << ": " << st.at(role.path()).str() << "\n" << run::read_text(r.log(role)));
    REQUIRE(st.at(role.path()).ok());
  }
  CHECK(run::read_outputs<V>(r.files.dir / "outputs.txt") == oracle_outputs(1));
  // The client's offline traffic with the edge crossed the limited link: it
  // cannot have taken less time than its bytes at that rate (less the bursts).
  const auto client = run::read_report(r.files.dir / run::party_file({proto::role_kind::client, 0, 0}, ".report.json"));
  std::uint64_t crossing = 0;
  for (const auto& role : r.roles)
    if (!on_user(role))
      if (const auto w = client.wire.find(role.to_string()); w != client.wire.end())
        crossing += w->second.bytes_sent + w->second.bytes_received;
  const double floor_s = 0.5 * static_cast<double>(crossing) * 8 / rate_bits;
  INFO("client <-> edge: " << crossing << " bytes; offline " << client.phase("offline").seconds << " s");
  CHECK(client.phase("offline").seconds + client.phase("online").seconds + client.phase("setup").seconds >= floor_s);
}

}  // namespace

TEST_CASE("parties in network namespaces over a bandwidth-limited veth pair agree with the oracle",
          "[processes][netns]") {
  netns_run("netns", "10mbit", 10e6, {}, 60s);
}

// The garbled tables (garbler[0] to evaluator[0], one frame per stage) cross a
// 1 Mbit/s link: a frame may take far longer than any fixed send limit would
// allow; it goes through because bytes keep moving (net/tcp.hpp's send stall
// limit), within the deployment file's receive deadline.
TEST_CASE("a 1 Mbit/s link, the garbled tables crossing it, completes within the deadlines",
          "[processes][netns]") {
  netns_run("netns-1mbit", "1mbit", 1e6, {{proto::role_kind::garbler, 0, 0}}, 120s);
}

namespace {

// Stray clients of the listening ports: each of `per_port`
// connections to every party's port is silent (held open), garbage, a half
// handshake (a hello frame announcing 100 bytes, 3 sent), or connect-and-close.
// Runs on its own thread from before the parties start until stop().
class strays {
 public:
  strays(std::vector<std::uint16_t> ports, int per_port) : thread_([this, ports, per_port] { run(ports, per_port); }) {}
  ~strays() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : held_) ::close(fd);
    held_.clear();
  }
  // Waits until every port took its connections; false after `limit`.
  bool wait_done(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!finished_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
    return finished_;
  }
  // Connections made, per kind: silent, garbage, half handshake, closed at once.
  [[nodiscard]] std::array<int, 4> made() const { return made_; }

 private:
  void run(const std::vector<std::uint16_t>& ports, int per_port) {
    std::map<std::uint16_t, int> done;
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      bool all = true, progress = false;
      for (auto port : ports) {
        if (done[port] >= per_port) continue;
        all = false;
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {  // not listening (yet, or ever)
          ::close(fd);
          continue;
        }
        progress = true;
        const int kind = done[port]++ % 4;
        ++made_[kind];
        static const std::uint8_t garbage[64] = {0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5};
        static const std::uint8_t half[] = {100, 0, 0, 0, 0x01, 0xFF, 0, 0, 1, 0, 9};
        if (kind == 1) (void)!::send(fd, garbage, sizeof garbage, MSG_NOSIGNAL);
        if (kind == 2) (void)!::send(fd, half, sizeof half, MSG_NOSIGNAL);
        if (kind == 3) ::close(fd);
        else held_.push_back(fd);
      }
      if (all) {
        finished_ = true;
        return;
      }
      if (!progress) std::this_thread::sleep_for(1ms);
    }
  }
  std::atomic<bool> stop_{false}, finished_{false};
  std::vector<int> held_;
  std::array<int, 4> made_{};
  std::thread thread_;
};

}  // namespace

TEST_CASE("stray connections to every listening port during start-up do not stop the run", "[processes]") {
  constexpr std::uint64_t images = 1;
  local_run r("strays", 2, 1, test_timeouts());
  // The listening parties (client, cloud, garbler[0], garbler[1]) start
  // first: they link among themselves and keep listening for the evaluators
  // and compute servers, which start only once every listening port has
  // taken its 100 strays.
  const auto listens = [](const run::role_id& role) {
    return role.kind == proto::role_kind::client || role.kind == proto::role_kind::cloud ||
           role.kind == proto::role_kind::garbler;
  };
  std::vector<std::uint16_t> ports;
  for (const auto& p : r.files.file.parties)
    if (listens(p.role)) ports.push_back(p.port);
  REQUIRE(ports.size() == 4);
  strays s(ports, 100);
  r.started = std::chrono::steady_clock::now();
  for (const auto& role : r.roles)
    if (listens(role)) r.start(role, r.args(role, images));
  REQUIRE(s.wait_done(4s));
  for (const auto& role : r.roles)
    if (!listens(role)) r.start(role, r.args(role, images));
  const auto st = r.group.wait_all(std::chrono::steady_clock::now() + 120s);
  s.stop();
  std::string dropped_lines;
  for (const auto& role : r.roles) {
    const auto text = run::read_text(r.log(role));
    INFO(role.path() << ": " << st.at(role.path()).str() << "\n" << text);
    REQUIRE(st.at(role.path()).ok());
    std::istringstream lines(text);
    for (std::string l; std::getline(lines, l);)
      if (l.find(": dropped a connection from ") != std::string::npos) dropped_lines += l + "\n";
  }
  INFO(dropped_lines);
  const auto made = s.made();
  INFO("silent " << made[0] << ", garbage " << made[1] << ", half handshake " << made[2] << ", closed " << made[3]);
  CHECK(made[0] + made[1] + made[2] + made[3] == 4 * 100);  // every listening port took its 100
  CHECK(run::read_outputs<V>(r.files.dir / "outputs.txt") == oracle_outputs(images));
  // One line for each stray that ended its handshake before the party had all
  // its peers: the garbage and the closed ones (25 + 25 per port). The silent
  // and half ones were still within their handshake deadline when the real
  // peers had linked; those are closed without a line.
  const auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (auto at = dropped_lines.find(what); at != std::string::npos; at = dropped_lines.find(what, at + 1)) ++n;
    return n;
  };
  CHECK(count("reserved header field is 42405, expected 0") == 4 * 25);
  CHECK(count("closed the link while we waited for the handshake hello") == 4 * 25);
}

// The cloud's part ends with the offline phase; once it has
// said "done" to every peer it has nothing more to give, and a cloud killed
// then leaves the others to finish with correct outputs (docs/deployment.md,
// section 4, says so).
TEST_CASE("a cloud killed after its end of run message leaves the others to finish", "[processes]") {
  constexpr std::uint64_t images = 1;
  local_run r("kill-cloud-after-done", 2, 1, test_timeouts());
  r.start_all(images, {{"client", {"--online-delay-ms", "1500"}}});
  const run::role_id cloud{proto::role_kind::cloud, 0, 0};
  REQUIRE(r.wait_status(cloud, "finish", 60s));
  std::this_thread::sleep_for(200ms);  // its "done" messages are on their way
  r.group.kill(cloud.path(), SIGKILL);
  const auto st = r.group.wait_all(std::chrono::steady_clock::now() + 60s);
  CHECK(st.at(cloud.path()).signal == SIGKILL);
  for (const auto& role : r.roles) {
    if (role == cloud) continue;
    INFO(role.path() << ": " << st.at(role.path()).str() << "\n" << run::read_text(r.log(role)));
    CHECK(st.at(role.path()).ok());
  }
  CHECK(run::read_outputs<V>(r.files.dir / "outputs.txt") == oracle_outputs(images));
}

// An error while the cloud reads its model names that step
// (it said 'connect', the step before).
TEST_CASE("the cloud's model errors name the step 'load model'", "[processes]") {
  local_run r("bad-model", 2, 1, test_timeouts());
  r.started = std::chrono::steady_clock::now();
  for (const auto& role : r.roles) {
    auto a = r.args(role, 1);
    if (role.kind == proto::role_kind::cloud) {
      const auto at = std::find(a.begin(), a.end(), "--random-weights");
      REQUIRE(at != a.end());
      a.erase(at, at + 2);
      a.insert(a.end(), {"--model", (r.files.dir / "absent.onnx").string()});
    }
    r.start(role, a);
  }
  const auto st = r.group.wait_all(std::chrono::steady_clock::now() + 60s);
  const run::role_id cloud{proto::role_kind::cloud, 0, 0};
  const auto text = run::read_text(r.log(cloud));
  INFO(text);
  CHECK(st.at(cloud.path()).code == 1);
  const auto m = failure_sentence(text, "cloud");
  REQUIRE(!m.empty());
  CHECK(m[1].str() == "load model");
}

// Offline material is prepared in batches (offline_batch in
// the deployment file), so a party holds one batch's, not every image's
// (evaluator[0] of MiniONN grew by 37.5 MB per image). Every party follows
// the same schedule; the outputs still equal the oracle's.
TEST_CASE("offline material is prepared in batches of the deployment file's offline_batch", "[processes]") {
  constexpr std::uint64_t images = 7;
  local_run r("offline-batch", 2, 1, test_timeouts());
  r.files.file.offline_batch = 3;
  r.rewrite_deployment();
  const run::role_id evaluator{proto::role_kind::evaluator, 0, 0};
  r.started = std::chrono::steady_clock::now();
  for (const auto& role : r.roles) {
    auto a = r.args(role, images);
    if (role == evaluator) a.erase(std::find(a.begin(), a.end(), "--quiet"));  // its steps, one per line
    r.start(role, a);
  }
  const auto st = r.group.wait_all(std::chrono::steady_clock::now() + 180s);
  for (const auto& role : r.roles) {
    INFO(role.path() << ": " << st.at(role.path()).str() << "\n" << run::read_text(r.log(role)));
    REQUIRE(st.at(role.path()).ok());
  }
  CHECK(run::read_outputs<V>(r.files.dir / "outputs.txt") == oracle_outputs(images));
  // evaluator[0]'s steps: offline 1-3, online 1-3, offline 4-6, online 4-6, offline 7, online 7.
  std::vector<std::string> steps;
  std::istringstream lines(run::read_text(r.log(evaluator)));
  for (std::string l; std::getline(lines, l);)
    if (l.rfind("evaluator[0]: offline ", 0) == 0 || l.rfind("evaluator[0]: online ", 0) == 0)
      steps.push_back(l.substr(14));
  const std::vector<std::string> want{"offline 1", "offline 2", "offline 3", "online 1", "online 2", "online 3",
                                      "offline 4", "offline 5", "offline 6", "online 4", "online 5", "online 6",
                                      "offline 7", "online 7"};
  CHECK(steps == want);
}

TEST_CASE("a stream longer than offline_batch flows batch by batch", "[processes]") {
  // The client streams each batch's inputs at once and collects them before
  // the next; every other party follows the same batches (a stream that
  // prepared every image first met a garbler still in its first batch).
  // Its --online-delay-ms wait, before the first batch, is not online time.
  constexpr std::uint64_t images = 5;
  local_run r("stream-batches", 2, 1, test_timeouts());
  r.files.file.offline_batch = 2;
  r.rewrite_deployment();
  r.start_all(images, {{"client", {"--stream", "--online-delay-ms", "1000"}}});
  const auto st = r.group.wait_all(std::chrono::steady_clock::now() + 180s);
  for (const auto& role : r.roles) {
    INFO(role.path() << ": " << st.at(role.path()).str() << "\n" << run::read_text(r.log(role)));
    REQUIRE(st.at(role.path()).ok());
  }
  CHECK(run::read_outputs<V>(r.files.dir / "outputs.txt") == oracle_outputs(images));
  const auto client = run::read_report(r.files.dir / run::party_file({proto::role_kind::client, 0, 0}, ".report.json"));
  CHECK(client.phase("online").rounds() == 3);  // one flight per batch: 2, 2, 1
  CHECK(client.phase("online").peers.at("garbler[0]").messages_sent == images);
  CHECK(client.phase("online").seconds < 1.0);  // the --online-delay-ms wait is not online time
}
