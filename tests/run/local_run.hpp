#pragma once
// The helpers of the multi-process tests (processes.cpp, faults.cpp): a
// deployment of pmdi-small's role binaries written to a fresh run directory
// under the build tree, its parties started as processes, their logs and
// status lines, and the outputs the fixed-point oracle gives.
#include <catch2/catch.hpp>

#include <csignal>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "pmdi/run/launcher.hpp"
#include "small_net.hpp"

namespace pmdi_test {

using namespace pmdi;
using namespace std::chrono_literals;
using V = small_ring::value_type;

inline constexpr std::uint64_t weights_seed = 5, input_seed = 7;

inline const std::filesystem::path bin_dir = PMDI_RUN_BIN_DIR;
inline constexpr std::string_view name = PMDI_RUN_NAME;

// A fresh run directory under the build tree.
inline std::filesystem::path fresh_dir(const std::string& what) {
  const auto d = bin_dir / "runs" / what;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

inline pmdi::run::deployment_timeouts test_timeouts(std::chrono::milliseconds receive = 20s) {
  return {5s, 5s, receive};
}

struct local_run {
  run::local_files files;
  run::process_group group;
  std::vector<run::role_id> roles;
  std::chrono::steady_clock::time_point started;

  local_run(const std::string& what, std::uint32_t P, std::uint32_t T, run::deployment_timeouts t,
            std::vector<proto::stage_range> placement = {})
      : files(run::write_local_deployment(fresh_dir(what), P, T, t, small_ring::bits, small_ring::frac,
                                          std::move(placement))),
        roles(run::expected_roles(P, T)) {}

  // Writes the deployment file again after a change to files.file.
  void rewrite_deployment() const { write_deployment(files.deployment, files.file); }
  // A party's own copy of the deployment file (what it alone sees differently).
  static void write_deployment(const std::filesystem::path& path, const run::deployment_file& f) {
    std::ofstream out(path);
    out << run::to_json(f);
    if (!out.flush()) FAIL("cannot write " << path);
  }
  // `a` with the value after `option` replaced.
  static void replace_arg(std::vector<std::string>& a, const std::string& option, const std::string& value) {
    for (std::size_t i = 0; i + 1 < a.size(); ++i)
      if (a[i] == option) a[i + 1] = value;
  }

  std::vector<std::string> args(const run::role_id& r, std::uint64_t images) const {
    auto a = run::party_args(files, r, images);
    a.push_back("--quiet");
    a.insert(a.end(), {"--threads", "1"});
    if (r.kind == proto::role_kind::client)
      a.insert(a.end(), {"--random-input", std::to_string(input_seed), "--paillier-bits", "1024", "--output",
                         (files.dir / "outputs.txt").string()});
    if (r.kind == proto::role_kind::cloud) a.insert(a.end(), {"--random-weights", std::to_string(weights_seed)});
    return a;
  }
  void start(const run::role_id& r, std::vector<std::string> a) {
    group.start(r.path(), run::role_binary(bin_dir, name, r.kind), a, log(r));
  }
  void start_all(std::uint64_t images, const std::map<std::string, std::vector<std::string>>& extra = {}) {
    started = std::chrono::steady_clock::now();
    for (const auto& r : roles) {
      auto a = args(r, images);
      if (auto it = extra.find(r.path()); it != extra.end()) a.insert(a.end(), it->second.begin(), it->second.end());
      start(r, a);
    }
  }
  [[nodiscard]] std::filesystem::path log(const run::role_id& r) const { return files.dir / run::party_file(r, ".log"); }
  [[nodiscard]] std::string status(const run::role_id& r) const {
    return run::last_line(files.dir / run::party_file(r, ".status"));
  }
  // Waits until `r`'s status satisfies `wanted`; false once `r` has ended
  // without, or after `limit`.
  template <class Pred>
  bool wait_until(const run::role_id& r, Pred&& wanted, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (wanted(status(r))) return true;
      if (group.poll(r.path())) return false;
      std::this_thread::sleep_for(200us);
    }
    return false;
  }
  // Waits until `r`'s status starts with `prefix`.
  bool wait_status(const run::role_id& r, const std::string& prefix, std::chrono::milliseconds limit) {
    return wait_until(r, [&](const std::string& s) { return s.rfind(prefix, 0) == 0; }, limit);
  }

  struct kill_outcome {
    std::map<std::string, run::exit_status> status;  // every party's, the victim's too
    std::chrono::steady_clock::time_point at;        // the kill
    double at_s = 0;                                 // the kill, seconds since started
  };
  // Kills `victim` (SIGKILL) and waits for every party, at most `limit` after the kill.
  kill_outcome kill_and_wait(const run::role_id& victim, std::chrono::milliseconds limit) {
    group.kill(victim.path(), SIGKILL);
    kill_outcome k;
    k.at = std::chrono::steady_clock::now();
    k.at_s = std::chrono::duration<double>(k.at - started).count();
    k.status = group.wait_all(k.at + limit);
    return k;
  }
  // check(role, its exit status, its log) for every party but `victim`, each
  // required to have ended, its status and log shown if a check fails.
  template <class F>
  void each_other_party(const run::role_id& victim, const std::map<std::string, run::exit_status>& st,
                        F&& check) const {
    for (const auto& role : roles) {
      if (role == victim) continue;
      const auto& s = st.at(role.path());
      const std::string text = run::read_text(log(role));
      INFO(role.to_string() << ": " << s.str() << " after " << s.seconds << " s\n" << text);
      REQUIRE(s.finished);
      check(role, s, text);
    }
  }
};

// The sentence a failing party prints: "pmdi: <party>: step '<step>' with <peer>: ...".
inline std::smatch failure_sentence(const std::string& log_text, const std::string& party) {
  std::smatch m;
  const std::regex re("pmdi: " + std::regex_replace(party, std::regex(R"([\[\]])"), R"(\$&)") +
                      R"(: step '([^']+)'(?: with ([^:]+))?: (.*))");
  std::regex_search(log_text, m, re);
  return m;
}

inline std::vector<std::vector<V>> oracle_outputs(std::uint64_t images) {
  const auto stages = plan::lower<small_net, small_ring>(run::random_model<small_net>(weights_seed));
  const auto x = run::random_inputs<small_ring>(input_seed, images, pmdi::proto::input_size(stages));
  std::vector<std::vector<V>> y;
  for (const auto& img : x) y.push_back(oracle::fixed<small_ring>(stages, img));
  return y;
}

}  // namespace pmdi_test
