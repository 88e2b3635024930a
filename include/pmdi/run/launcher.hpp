#pragma once
// The launcher of a deployment: every role in this process (in-memory pipes,
// run/local.hpp), or every role as its own process over loopback TCP with
// --processes (the per-role binaries <name>-client, <name>-cloud, ...,
// spawned with posix_spawn, their exit codes and reports collected). Either
// way it prints one table for people from all the parties' reports: time per
// phase per party, bytes per link and direction per phase, rounds.
//
//   <name>-launch [--processes] [--clusters P] [--compute T] [--images N]
//                 [--random-weights S | --model FILE] [--random-input S | --input FILE] ...
//
// The process helpers (spawn, wait with a deadline, kill, local deployment
// files on free loopback ports) are public: the multi-process tests use them.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pmdi/plan/placement.hpp"
#include "pmdi/run/cli.hpp"
#include "pmdi/run/deployment.hpp"
#include "pmdi/run/local.hpp"
#include "pmdi/run/report.hpp"
#include "pmdi/run/role_main.hpp"

extern char** environ;

namespace pmdi::run {

// ---- processes -----------------------------------------------------------------------

struct exit_status {
  bool finished = false;  // false: still running at the deadline (then killed)
  int code = -1;          // exit code when it exited
  int signal = 0;         // the signal that ended it, if any
  double seconds = 0;     // since it was started
  [[nodiscard]] bool ok() const noexcept { return finished && signal == 0 && code == 0; }
  [[nodiscard]] std::string str() const {
    if (!finished) return "still running at the deadline (killed)";
    if (signal != 0) return "killed by signal " + std::to_string(signal);
    return "exit " + std::to_string(code);
  }
};

// Starts `exe` with `args`; stdout and stderr go to `log`. Throws on failure.
[[nodiscard]] inline pid_t spawn_process(const std::filesystem::path& exe, const std::vector<std::string>& args,
                                         const std::filesystem::path& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> all{exe.string()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw error("cannot start " + exe.string() + ": " + std::strerror(rc));
  return pid;
}

// The resident memory of process `pid` (/proc/PID/statm); nothing once it has gone.
[[nodiscard]] inline std::optional<std::uint64_t> resident_bytes(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(f >> size >> resident)) return std::nullopt;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// A set of child processes, each known by a name.
class process_group {
 public:
  process_group() = default;
  process_group(const process_group&) = delete;
  process_group& operator=(const process_group&) = delete;
  ~process_group() {
    kill_all(SIGKILL);
    for (auto& [n, e] : children_)
      if (!e.status.finished && e.pid > 0) {
        int st = 0;
        (void)::waitpid(e.pid, &st, 0);
      }
  }

  void start(const std::string& name, const std::filesystem::path& exe, const std::vector<std::string>& args,
             const std::filesystem::path& log) {
    entry e;
    e.pid = spawn_process(exe, args, log);
    e.started = std::chrono::steady_clock::now();
    e.log = log;
    children_[name] = e;
  }

  void kill(const std::string& name, int sig = SIGKILL) {
    auto& e = children_.at(name);
    if (!e.status.finished) ::kill(e.pid, sig);
  }
  void kill_all(int sig) {
    for (auto& [n, e] : children_)
      if (!e.status.finished && e.pid > 0) ::kill(e.pid, sig);
  }

  // Waits for every child until `until`; kills (SIGKILL) those still running
  // then. `tick`, if given, is called every few milliseconds while it waits.
  std::map<std::string, exit_status> wait_all(std::chrono::steady_clock::time_point until,
                                              const std::function<void(const process_group&)>& tick = {}) {
    for (;;) {
      reap();
      if (tick) tick(*this);
      bool all = true;
      for (auto& [n, e] : children_) all = all && e.status.finished;
      if (all) break;
      if (std::chrono::steady_clock::now() >= until) {
        kill_all(SIGKILL);
        for (auto& [n, e] : children_)
          if (!e.status.finished) {
            int st = 0;
            (void)::waitpid(e.pid, &st, 0);
            e.status.finished = false;
            e.status.signal = SIGKILL;
            e.pid = -1;
          }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::map<std::string, exit_status> out;
    for (auto& [n, e] : children_) out[n] = e.status;
    return out;
  }

  // The moment (seconds since start) a child ended, once it has.
  [[nodiscard]] std::optional<exit_status> poll(const std::string& name) {
    reap();
    const auto& e = children_.at(name);
    if (e.status.finished) return e.status;
    return std::nullopt;
  }

  [[nodiscard]] const std::filesystem::path& log(const std::string& name) const { return children_.at(name).log; }

  // The children still running (as last reaped), by name.
  [[nodiscard]] std::vector<std::pair<std::string, pid_t>> running() const {
    std::vector<std::pair<std::string, pid_t>> out;
    for (const auto& [n, e] : children_)
      if (!e.status.finished && e.pid > 0) out.emplace_back(n, e.pid);
    return out;
  }

 private:
  struct entry {
    pid_t pid = -1;
    std::chrono::steady_clock::time_point started{};
    std::filesystem::path log;
    exit_status status{};
  };
  void reap() {
    for (auto& [n, e] : children_) {
      if (e.status.finished || e.pid <= 0) continue;
      int st = 0;
      const pid_t r = ::waitpid(e.pid, &st, WNOHANG);
      if (r == e.pid) {
        e.status.finished = true;
        e.status.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - e.started).count();
        if (WIFEXITED(st)) e.status.code = WEXITSTATUS(st);
        if (WIFSIGNALED(st)) e.status.signal = WTERMSIG(st);
        e.pid = -1;
      }
    }
  }
  std::map<std::string, entry> children_;
};

// The last non-empty line of a file (a failing party's sentence).
[[nodiscard]] inline std::string last_line(const std::filesystem::path& file) {
  std::ifstream f(file);
  std::string line, last;
  while (std::getline(f, line))
    if (!line.empty()) last = line;
  return last;
}

[[nodiscard]] inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream f(file);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// `n` distinct TCP ports on 127.0.0.1 that were free a moment ago.
[[nodiscard]] inline std::vector<std::uint16_t> free_loopback_ports(std::size_t n) {
  std::vector<int> fds;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw error("cannot open a socket to find a free port");
    fds.push_back(fd);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      for (int f : fds) ::close(f);
      throw error("cannot bind a loopback socket to find a free port");
    }
    ports.push_back(ntohs(a.sin_port));
  }
  for (int f : fds) ::close(f);
  return ports;
}

// A deployment on 127.0.0.1 written to `dir`: deployment.json and one key file per party.
struct local_files {
  std::filesystem::path dir, deployment;
  deployment_file file;
  std::map<role_id, std::filesystem::path> keys;
};

[[nodiscard]] inline local_files write_local_deployment(const std::filesystem::path& dir, std::uint32_t clusters,
                                                        std::uint32_t compute, deployment_timeouts timeouts,
                                                        std::uint32_t ring_bits, std::uint32_t fraction_bits,
                                                        std::vector<proto::stage_range> placement = {}) {
  std::filesystem::create_directories(dir);
  auto g = generate_local_deployment(clusters, compute, 1);
  g.file.placement = std::move(placement);
  const auto ports = free_loopback_ports(g.file.parties.size());
  for (std::size_t i = 0; i < ports.size(); ++i) g.file.parties[i].port = ports[i];
  g.file.timeouts = timeouts;
  g.file.ring_bits = ring_bits;
  g.file.fraction_bits = fraction_bits;
  local_files out;
  out.dir = dir;
  out.deployment = dir / "deployment.json";
  {
    std::ofstream f(out.deployment);
    f << to_json(g.file);
    if (!f) throw error(out.deployment.string() + ": cannot write the deployment file");
  }
  out.file = load_deployment(out.deployment);  // validates what we wrote
  for (const auto& [r, sk] : g.secret_keys) {
    const auto k = dir / key_file_name(r);
    write_secret_key(k, sk);
    out.keys[r] = k;
  }
  return out;
}

// File names of one party in a run directory.
[[nodiscard]] inline std::string party_file(const role_id& r, std::string_view suffix) {
  std::string s = r.path();
  for (char& c : s)
    if (c == '/') c = '-';
  return s + std::string(suffix);
}

// The arguments every party gets in a local run.
[[nodiscard]] inline std::vector<std::string> party_args(const local_files& f, const role_id& r, std::uint64_t images) {
  return {"--deployment", f.deployment.string(),
          "--party",      r.path(),
          "--key",        f.keys.at(r).string(),
          "--images",     std::to_string(images),
          "--report",     (f.dir / party_file(r, ".report.json")).string(),
          "--status",     (f.dir / party_file(r, ".status")).string()};
}

// The binary of a role: <bin_dir>/<name>-<kind>.
[[nodiscard]] inline std::filesystem::path role_binary(const std::filesystem::path& bin_dir, std::string_view name,
                                                       proto::role_kind k) {
  return bin_dir / (std::string(name) + "-" + std::string(proto::kind_name(k)));
}

// The directory of this executable (role binaries sit next to the launcher).
[[nodiscard]] inline std::filesystem::path self_dir() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : p.parent_path();
}

// ---- the table -------------------------------------------------------------------------

[[nodiscard]] inline std::string human_bytes(std::uint64_t b) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(b >= 1000 ? 2 : 0);
  if (b >= 1'000'000'000) o << static_cast<double>(b) / 1e9 << " GB";
  else if (b >= 1'000'000) o << static_cast<double>(b) / 1e6 << " MB";
  else if (b >= 1'000) o << static_cast<double>(b) / 1e3 << " kB";
  else o << b << " B";
  return o.str();
}

// One table from all the parties' reports: time per phase per party (offline
// and online summed over the images; a party's time runs from its entering
// the phase to its leaving it, so it includes waiting for peers still busy
// with the phase before; the client's online time is the end-to-end online
// latency), rounds (flights started; "-" in one process, where they are not
// counted), bytes per link and direction in every phase.
inline void print_table(std::ostream& out, const std::vector<run_report>& reports) {
  auto pad = [](std::string s, std::size_t w, bool right = true) {
    if (s.size() >= w) return s;
    return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
  };
  auto sec = [](double s) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(s < 10 ? 3 : 1) << s;
    return o.str();
  };
  bool have_rounds = false;
  for (const auto& r : reports)
    for (const auto& [n, p] : r.phases) have_rounds = have_rounds || p.rounds() != 0;
  for (const auto& r : reports)
    if (r.role == "client" || r.party == "client") {
      const double n = r.images == 0 ? 1.0 : static_cast<double>(r.images);
      out << "client, per image: offline " << sec(r.phase("offline").seconds / n) << " s, online "
          << sec(r.phase("online").seconds / n) << " s (end to end)\n\n";
    }
  out << pad("party", 14, false) << pad("status", 8) << pad("connect s", 11) << pad("setup s", 10)
      << pad("offline s", 11) << pad("online s", 10) << pad("rounds off/on", 15) << pad("sent", 12)
      << pad("received", 12) << "\n";
  for (const auto& r : reports) {
    std::uint64_t sent = 0, recv = 0;
    for (const auto& [n, p] : r.phases) {
      sent += p.bytes_sent();
      recv += p.bytes_received();
    }
    const auto& off = r.phase("offline");
    const auto& on = r.phase("online");
    out << pad(r.party, 14, false) << pad(r.ok ? "ok" : "FAILED", 8) << pad(sec(r.phase("connect").seconds), 11)
        << pad(sec(r.phase("setup").seconds), 10) << pad(sec(off.seconds), 11) << pad(sec(on.seconds), 10)
        << pad(have_rounds ? std::to_string(off.rounds()) + "/" + std::to_string(on.rounds()) : "-", 15) << pad(human_bytes(sent), 12)
        << pad(human_bytes(recv), 12) << "\n";
  }
  out << "\n"
      << pad("link (sender -> receiver)", 32, false) << pad("setup", 12) << pad("offline", 12) << pad("online", 12)
      << pad("messages", 10) << "\n";
  std::uint64_t total[3] = {0, 0, 0};
  for (const auto& r : reports) {
    std::map<std::string, std::array<std::uint64_t, 4>> rows;
    const char* ph[3] = {"setup", "offline", "online"};
    for (int i = 0; i < 3; ++i)
      for (const auto& [peer, f] : r.phase(ph[i]).peers) {
        rows[peer][static_cast<std::size_t>(i)] += f.bytes_sent;
        rows[peer][3] += f.messages_sent;
      }
    for (const auto& [peer, v] : rows) {
      if (v[0] + v[1] + v[2] == 0) continue;
      for (int i = 0; i < 3; ++i) total[i] += v[static_cast<std::size_t>(i)];
      out << pad(r.party + " -> " + peer, 32, false) << pad(human_bytes(v[0]), 12) << pad(human_bytes(v[1]), 12)
          << pad(human_bytes(v[2]), 12) << pad(std::to_string(v[3]), 10) << "\n";
    }
  }
  out << pad("all links", 32, false) << pad(human_bytes(total[0]), 12) << pad(human_bytes(total[1]), 12)
      << pad(human_bytes(total[2]), 12) << "\n";
  for (const auto& r : reports)
    if (!r.ok && !r.error.empty()) out << "\n" << r.party << " failed: " << r.error;
  out << "\n";
}

// ---- the launcher's main ------------------------------------------------------------------

struct launch_options {
  bool processes = false;
  std::uint32_t clusters = 2, compute = 1;
  std::uint64_t images = 1;
  std::optional<std::uint64_t> random_weights, random_input;
  std::filesystem::path model, input, dir, report, output, bin_dir;
  unsigned paillier_bits = 2048, threads = 2;
  deployment_timeouts timeouts{std::chrono::milliseconds(30000), std::chrono::milliseconds(10000),
                               std::chrono::milliseconds(600000)};
  std::chrono::seconds limit{7200};
  bool quiet = false;
  bool check = false;
  bool stream = false;
  // The deployment file's "placement" as given ("even", or ranges as text);
  // empty: the planner's for equal clusters (resolved by launcher_main).
  std::string placement_text;
  std::vector<proto::stage_range> placement;
};

inline constexpr std::string_view launch_usage =
    "  --processes           one process per party over 127.0.0.1 (default: all in this process)\n"
    "  --clusters P          clusters (default 2)\n"
    "  --compute T           compute servers per cluster (default 1)\n"
    "  --placement RANGES    the stages of each cluster, [first, end) each: '[[0, 3], [3, 4]]'\n"
    "                        (pmdi-plan prints it), or 'even' (default: the planner's split\n"
    "                        for equal clusters, plan::default_placement)\n"
    "  --images N            inferences (default 1)\n"
    "  --model FILE          the cloud's weights (ONNX; binaries built with ONNX)\n"
    "  --random-weights S    random weights from seed S\n"
    "  --input FILE          N inputs of float32 (CHW)\n"
    "  --random-input S      N random inputs from seed S\n"
    "  --paillier-bits B     Paillier modulus size (default 2048)\n"
    "  --threads N           Paillier worker threads per party (default 2)\n"
    "  --receive-timeout-ms MS  deadline of every wait for a peer (default 600000)\n"
    "  --limit-s S           kill every party still running after S seconds (default 7200)\n"
    "  --dir DIR             run directory: deployment.json, keys, logs, reports (default: a new one in /tmp)\n"
    "  --bin-dir DIR         where the role binaries are (default: next to this launcher)\n"
    "  --report FILE         all reports as one JSON array\n"
    "  --output FILE         the client's outputs, one line of ring elements per image\n"
    "  --check               compare the client's outputs with the plaintext fixed-point oracle\n"
    "                        (this launcher reads the model and inputs itself); exit 1 if they differ\n"
    "  --stream              (with --processes) the client sends every image's input at once and\n"
    "                        then collects the outputs: the clusters work as a pipeline\n"
    "  --quiet               no progress lines\n";

[[nodiscard]] inline launch_options parse_launch_options(int argc, char** argv) {
  launch_options o;
  cli_args a(argc, argv);
  while (a.next())
    if (!(a.flag("--processes", o.processes) ||
          a.flag("--quiet", o.quiet) ||
          a.flag("--check", o.check) ||
          a.flag("--stream", o.stream) ||
          a.number("--clusters", o.clusters, 1, 64) ||
          a.number("--compute", o.compute, 1, 64) ||
          a.number("--images", o.images, 1, 1'000'000) ||
          a.value("--model", o.model) ||
          a.number("--random-weights", o.random_weights, 0, UINT64_MAX) ||
          a.value("--input", o.input) ||
          a.number("--random-input", o.random_input, 0, UINT64_MAX) ||
          a.number("--paillier-bits", o.paillier_bits, 512, 8192) ||
          a.number("--threads", o.threads, 1, 256) ||
          a.number("--receive-timeout-ms", o.timeouts.receive, 1, 86'400'000) ||
          a.number("--limit-s", o.limit, 1, 86'400 * 7) ||
          a.value("--dir", o.dir) ||
          a.value("--bin-dir", o.bin_dir) ||
          a.value("--report", o.report) ||
          a.value("--output", o.output) ||
          a.value("--placement", o.placement_text)))
      a.unknown();
  if (!o.random_weights && o.model.empty()) throw usage_error("give the model: --model FILE or --random-weights S");
  if (!o.random_input && o.input.empty()) throw usage_error("give the inputs: --input FILE or --random-input S");
  if (o.stream && !o.processes) throw usage_error("--stream needs --processes");
  return o;
}

// The placement of a launch: --placement as given, "even", or by default the
// planner's for equal clusters.
template <class Net, class Ring, class Bounds>
[[nodiscard]] std::vector<proto::stage_range> resolve_placement(const launch_options& o) {
  const auto plan = public_network_plan<Net, Ring, Bounds>();
  if (o.placement_text == "even") return proto::even_placement(plan.stages.size(), o.clusters);
  if (!o.placement_text.empty()) return parse_placement(o.placement_text, o.clusters);
  if (o.clusters > plan.stages.size()) return {};  // proto::split refuses it with its sentence
  return plan::default_placement(plan, Ring::bits, o.clusters, o.compute, deployment_file::default_offline_batch);
}

// Where the weights and the inputs come from, as the role binaries take it.
[[nodiscard]] inline role_options data_options(const launch_options& o) {
  role_options ro;
  ro.random_weights = o.random_weights;
  ro.model = o.model;
  ro.random_input = o.random_input;
  ro.input = o.input;
  ro.images = o.images;
  return ro;
}

// In-process run: every role in this process over in-memory channels.
template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] std::vector<run_report> launch_in_process(const launch_options& o,
                                                       std::vector<std::vector<typename Ring::value_type>>& y) {
  using V = typename Ring::value_type;
  const role_options ro = data_options(o);
  const auto structure = structure_stages<Net, Ring, Bounds>();
  const auto x = client_inputs<Ring>(ro, proto::input_size(structure));
  local_options lo;
  lo.topo = {o.clusters, o.compute, o.placement};
  lo.paillier_bits = o.paillier_bits;
  lo.threads = o.threads;
  lo.deadline = o.timeouts.receive;
  if (!o.quiet) {
    lo.progress = stderr_progress();
    lo.stage_log = [](const std::string& line) { std::cerr << line << std::endl; };
  }
  local_deployment<Ring> d(cloud_model<Net, Ring, Bounds>(ro), proto::input_size(structure), lo);
  std::map<std::string, run_report> reps;
  for (const auto& n : d.party_names()) {
    reps[n].party = n;
    reps[n].images = o.images;
    reps[n].ok = true;
  }
  auto collect = [&](const char* phase, double seconds_override) {
    for (const auto& pr : d.reports()) {
      const proto::phase_figures& f = std::string(phase) == "setup"     ? pr.setup
                                      : std::string(phase) == "offline" ? pr.offline
                                                                        : pr.online;
      auto& t = reps[pr.party].phases[phase];
      t.seconds += seconds_override >= 0 ? seconds_override : f.seconds;
      for (const auto& [peer, c] : f.per_peer)
        t.peers[peer] += peer_figures{c.bytes_sent, c.bytes_received, c.messages_sent, c.messages_received, 0};
    }
  };
  if (!o.quiet) std::cerr << "setup" << std::endl;
  d.setup();
  collect("setup", -1);
  for (std::uint64_t i = 1; i <= o.images; ++i) {
    if (!o.quiet) std::cerr << "offline " << i << std::endl;
    d.offline(i);
    collect("offline", -1);
  }
  y.clear();
  for (std::uint64_t i = 1; i <= o.images; ++i) {
    y.push_back(d.online(i, std::span<const V>(x[i - 1])));
    for (const auto& pr : d.reports())
      if (pr.party != "cloud") {
        auto& t = reps[pr.party].phases["online"];
        t.seconds += pr.online.seconds;
        for (const auto& [peer, c] : pr.online.per_peer)
          t.peers[peer] += peer_figures{c.bytes_sent, c.bytes_received, c.messages_sent, c.messages_received, 0};
      }
  }
  for (const auto& pr : d.reports())
    for (const auto& st : pr.stages) reps[pr.party].stages.push_back({st.stage, st.offline_s, st.online_s, st.and_gates});
  if (!o.output.empty()) write_outputs(o.output, y);
  for (std::size_t i = 0; i < y.size(); ++i)
    std::cout << "image " << i + 1 << ": " << describe_output<Ring>(structure, std::span<const V>(y[i])) << "\n";
  std::vector<run_report> out;
  for (const auto& n : d.party_names()) out.push_back(reps[n]);
  return out;
}

// Every party as its own process over 127.0.0.1, in o.dir; `watch`, if given,
// sees the running parties every few milliseconds until they have all ended.
[[nodiscard]] inline std::vector<run_report> launch_processes(
    const launch_options& o, std::string_view name, unsigned ring_bits, unsigned fraction_bits, bool& all_ok,
    const std::function<void(const process_group&)>& watch = {}) {
  const std::filesystem::path dir = o.dir;
  const std::filesystem::path bin = o.bin_dir.empty() ? self_dir() : o.bin_dir;
  const auto files = write_local_deployment(dir, o.clusters, o.compute, o.timeouts, ring_bits, fraction_bits,
                                            o.placement);
  process_group g;
  const auto roles = expected_roles(o.clusters, o.compute);
  for (const auto& r : roles) {
    auto args = party_args(files, r, o.images);
    args.insert(args.end(), {"--threads", std::to_string(o.threads)});
    if (o.quiet) args.push_back("--quiet");
    if (r.kind == proto::role_kind::client) {
      args.insert(args.end(), {"--paillier-bits", std::to_string(o.paillier_bits), "--output",
                               (o.output.empty() ? dir / "outputs.txt" : o.output).string()});
      if (o.stream) args.push_back("--stream");
      if (o.random_input) args.insert(args.end(), {"--random-input", std::to_string(*o.random_input)});
      else args.insert(args.end(), {"--input", std::filesystem::absolute(o.input).string()});
    }
    if (r.kind == proto::role_kind::cloud) {
      if (o.random_weights) args.insert(args.end(), {"--random-weights", std::to_string(*o.random_weights)});
      else args.insert(args.end(), {"--model", std::filesystem::absolute(o.model).string()});
    }
    const auto exe = role_binary(bin, name, r.kind);
    if (!std::filesystem::exists(exe)) throw usage_error(exe.string() + ": no such role binary (see --bin-dir)");
    g.start(r.path(), exe, args, dir / party_file(r, ".log"));
  }
  const auto st = g.wait_all(std::chrono::steady_clock::now() + o.limit, watch);
  all_ok = true;
  std::vector<run_report> reports;
  for (const auto& r : roles) {
    const auto& s = st.at(r.path());
    run_report rep;
    try {
      rep = read_report(dir / party_file(r, ".report.json"));
    } catch (const error& e) {
      rep.party = r.to_string();
      rep.role = r.path();
      rep.error = e.what();
    }
    if (!s.ok()) {
      all_ok = false;
      rep.ok = false;
      if (rep.error.empty()) rep.error = s.str() + "; " + last_line(g.log(r.path()));
    }
    reports.push_back(std::move(rep));
  }
  return reports;
}

// The client's results in a run directory, as it printed them.
inline void print_client_results(const std::filesystem::path& dir, std::ostream& out) {
  std::istringstream client_log(read_text(dir / party_file({proto::role_kind::client, 0, 0}, ".log")));
  for (std::string line; std::getline(client_log, line);)
    if (line.rfind("image ", 0) == 0) out << line << "\n";
}

// The images (numbered from 1) whose output in `y` differs from the plaintext
// fixed-point oracle on the same weights and inputs, or is missing.
template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] std::vector<std::uint64_t> oracle_mismatches(const launch_options& o,
                                                           const std::vector<std::vector<typename Ring::value_type>>& y) {
  const role_options ro = data_options(o);
  const auto stages = plan::lower<Net, Ring, Bounds>(model_weights_from<Net>(ro));
  const auto x = client_inputs<Ring>(ro, proto::input_size(stages));
  std::vector<std::uint64_t> differ;
  for (std::uint64_t i = 0; i < o.images; ++i)
    if (i >= y.size() || y[i] != oracle::fixed<Ring>(stages, x[i])) differ.push_back(i + 1);
  return differ;
}

// Compares the client's outputs with the oracle; prints the verdict.
template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] bool check_outputs(const launch_options& o, const std::vector<std::vector<typename Ring::value_type>>& y,
                                 std::ostream& out) {
  const auto differ = oracle_mismatches<Net, Ring, Bounds>(o, y);
  if (!differ.empty()) {
    out << "check FAILED: " << differ.size() << " of " << o.images << " image(s) differ from the plaintext "
        << "fixed-point oracle, the first image " << differ.front() << "\n";
    return false;
  }
  out << "check: the outputs of all " << o.images << " image(s) equal the plaintext fixed-point oracle bit for bit\n";
  return true;
}

// Shape: the deployment's shape the role binaries are built for (--processes
// runs need it; in process, every shape local_deployment compiles runs).
template <class Net, class Ring, class Bounds = nn::default_bounds, class Shape = proto::shape<2, 1>>
[[nodiscard]] int launcher_main(int argc, char** argv, std::string_view name) {
  using V = typename Ring::value_type;
  std::signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << "usage: " << argv[0] << " [options]\nruns every party of the deployment '" << name
                << "' (in this process, or one process each with --processes)\n"
                << launch_usage << "   or: " << argv[0]
                << " --table REPORT.json...   the table from the reports of a run elsewhere\n";
      return 0;
    }
  if (argc >= 2 && std::string_view(argv[1]) == "--table") {
    // The table from reports written elsewhere (e.g. one party per host).
    try {
      std::vector<run_report> reports;
      for (int i = 2; i < argc; ++i) reports.push_back(read_report(argv[i]));
      if (reports.empty()) throw usage_error("--table needs the report files (role binaries' --report)");
      print_table(std::cout, reports);
      bool ok = true;
      for (const auto& r : reports) ok = ok && r.ok;
      return ok ? 0 : 1;
    } catch (const std::exception& e) {
      std::cerr << "pmdi: " << name << "-launch: " << e.what() << std::endl;
      return 1;
    }
  }
  try {
    auto o = parse_launch_options(argc, argv);
    o.placement = resolve_placement<Net, Ring, Bounds>(o);
    if (o.processes && (o.clusters != Shape::clusters || o.compute != Shape::compute))
      throw usage_error("--processes: the role binaries of '" + std::string(name) + "' are built for " +
                        std::to_string(Shape::clusters) + " cluster(s) of " + std::to_string(Shape::compute) +
                        " compute server(s); give --clusters " + std::to_string(Shape::clusters) + " --compute " +
                        std::to_string(Shape::compute) + " or build them with CLUSTERS/COMPUTE");
    bool ok = true;
    std::vector<run_report> reports;
    std::vector<std::vector<V>> y;
    if (o.processes) {
      if (o.dir.empty()) {
        std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(name) + "-XXXXXX")).string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw error("cannot create a run directory in " + tmpl);
        o.dir = tmpl;
      }
      if (o.output.empty()) o.output = o.dir / "outputs.txt";
      std::cerr << "run directory: " << o.dir.string() << "\n";
      reports = launch_processes(o, name, Ring::bits, Ring::frac, ok);
      print_client_results(o.dir, std::cout);
      if (ok && o.check) y = read_outputs<V>(o.output);
    } else {
      reports = launch_in_process<Net, Ring, Bounds>(o, y);
    }
    std::cout << "\n" << name << ": " << o.clusters << " cluster(s) x " << o.compute << " compute server(s), "
              << o.images << " image(s), " << (o.processes ? "one process per party over 127.0.0.1" : "one process")
              << "\n\n";
    print_table(std::cout, reports);
    if (!o.report.empty()) {
      json::array a;
      for (const auto& r : reports) a.push_back(to_json_value(r));
      std::ofstream f(o.report);
      f << json::serialize(a) << "\n";
    }
    if (ok && o.check) ok = check_outputs<Net, Ring, Bounds>(o, y, std::cout);
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "pmdi: " << name << "-launch: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace pmdi::run
