#pragma once
// Party processes: started with Boost.Process, watched with a deadline,
// killed when it passes; their logs read back. The launcher and the
// multi-process tests use them.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

// Boost.Process on std::filesystem: header-only, no Boost.Filesystem to link.
#ifndef BOOST_PROCESS_USE_STD_FS
#define BOOST_PROCESS_USE_STD_FS 1
#endif
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/io.hpp>

#include "pmdi/core/error.hpp"

namespace pmdi::run {

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

// The resident memory of process `pid` (/proc/PID/statm); nothing once it has gone.
[[nodiscard]] inline std::optional<std::uint64_t> resident_bytes(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(f >> size >> resident)) return std::nullopt;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// A set of child processes, each known by a name. A child still running when
// the group goes is killed (SIGKILL) and reaped.
class process_group {
 public:
  process_group() = default;
  process_group(const process_group&) = delete;
  process_group& operator=(const process_group&) = delete;
  ~process_group() { kill_all(SIGKILL); }

  // Starts `exe` with `args`, its stdout and stderr to `log`. Throws
  // pmdi::error naming the program when it cannot be started.
  void start(const std::string& name, const std::filesystem::path& exe, const std::vector<std::string>& args,
             const std::filesystem::path& log) {
    namespace bp = boost::process;
    try {
      entry e{bp::child(bp::exe = exe, bp::args = args, (bp::std_out & bp::std_err) > log),
              std::chrono::steady_clock::now(), log, {}, false};
      children_.insert_or_assign(name, std::move(e));
    } catch (const bp::process_error& x) {
      throw error("cannot start " + exe.string() + ": " + x.code().message());
    }
  }

  void kill(const std::string& name, int sig = SIGKILL) {
    auto& e = children_.at(name);
    if (!e.reaped) ::kill(e.child.id(), sig);
  }
  void kill_all(int sig) {
    for (auto& [n, e] : children_)
      if (!e.reaped) ::kill(e.child.id(), sig);
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
        for (auto& [n, e] : children_)
          if (!e.status.finished) {
            std::error_code ec;
            e.child.terminate(ec);  // SIGKILL and reap
            e.reaped = true;
            e.status.signal = SIGKILL;
          }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::map<std::string, exit_status> out;
    for (auto& [n, e] : children_) out[n] = e.status;
    return out;
  }

  // How a child ended, once it has.
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
      if (!e.reaped) out.emplace_back(n, e.child.id());
    return out;
  }

 private:
  struct entry {
    boost::process::child child;
    std::chrono::steady_clock::time_point started{};
    std::filesystem::path log;
    exit_status status{};
    bool reaped = false;  // its pid is no longer ours to signal
  };
  void reap() {
    for (auto& [n, e] : children_) {
      if (e.reaped) continue;
      std::error_code ec;
      if (e.child.running(ec) || ec) continue;
      const int st = e.child.native_exit_code();
      e.reaped = true;
      e.status.finished = true;
      e.status.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - e.started).count();
      if (WIFEXITED(st)) e.status.code = WEXITSTATUS(st);
      if (WIFSIGNALED(st)) e.status.signal = WTERMSIG(st);
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

}  // namespace pmdi::run
