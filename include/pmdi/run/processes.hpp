#pragma once
// Party processes: spawned with posix_spawn, watched with a deadline, killed
// as a group; their logs read back. The launcher and the multi-process tests
// use them.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pmdi/core/error.hpp"

extern char** environ;

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

}  // namespace pmdi::run
