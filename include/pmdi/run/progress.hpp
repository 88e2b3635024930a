#pragma once
// Where the parties' progress reports (proto/progress.hpp) go: on a
// terminal, one line rewritten in place with the latest report of every
// party of this process; in a log (not a terminal), one plain line per
// report. --quiet installs no printer at all.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "pmdi/proto/progress.hpp"

namespace pmdi::run {

class progress_printer {
 public:
  explicit progress_printer(std::FILE* out) : out_(out), terminal_(::isatty(::fileno(out)) != 0) {}

  void operator()(const proto::progress_update& u) {
    std::lock_guard lk(mu_);
    if (!terminal_) {
      std::fprintf(out_, "%s\n", u.line().c_str());
      std::fflush(out_);
      return;
    }
    if (u.finished) {
      latest_.erase(u.party);
      std::fprintf(out_, "\r\x1b[K%s\n", u.line().c_str());  // the party's last word stays on screen
    }
    else {
      latest_[u.party] = u.line();
    }
    std::string line;
    for (const auto& [party, l] : latest_) line += (line.empty() ? "" : " | ") + l;
    std::fprintf(out_, "\r\x1b[K%s", line.c_str());
    std::fflush(out_);
  }

 private:
  std::FILE* out_;
  bool terminal_;
  std::mutex mu_;
  std::map<std::string, std::string> latest_;
};

// A sink for public_config::progress that prints to stderr.
[[nodiscard]] inline proto::progress_sink stderr_progress() {
  auto p = std::make_shared<progress_printer>(stderr);
  return [p](const proto::progress_update& u) { (*p)(u); };
}

}  // namespace pmdi::run
