#pragma once
// Progress of long offline work, per party: done/total units of its work
// and an estimate of the time left. A party's steps advance a
// progress_meter; the meter reports to the deployment's sink only once the
// work has run for a second (short work stays silent), at most every
// half second, and once more when it ends. What the sink does with the
// reports is the runner's business (run/progress.hpp: one updating line on a
// terminal, plain lines in a log; none with --quiet).
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

namespace pmdi::proto {

struct progress_update {
  std::string party;  // "cloud", "garbler[1]"
  std::string step;   // "offline 3"
  std::string unit;   // what done and total count: "MACs", "ciphertexts", "AND gates"
  double done = 0, total = 0;
  double elapsed_s = 0;
  bool finished = false;

  // Seconds left at the rate so far (0 when nothing is done yet).
  [[nodiscard]] double eta_s() const noexcept { return done > 0 && total > done ? elapsed_s * (total - done) / done : 0; }
  // "cloud offline 3: 1.2e+08/4.4e+08 MACs (27%), 3.1 s, ETA 8.4 s"
  [[nodiscard]] std::string line() const {
    char buf[256];
    const double pct = total > 0 ? 100.0 * done / total : 100.0;
    if (finished)
      std::snprintf(buf, sizeof buf, "%s %s: %.4g %s in %.1f s", party.c_str(), step.c_str(), total, unit.c_str(), elapsed_s);
    else
      std::snprintf(buf, sizeof buf, "%s %s: %.4g/%.4g %s (%.0f%%), %.1f s, ETA %.1f s", party.c_str(), step.c_str(), done,
                    total, unit.c_str(), pct, elapsed_s, eta_s());
    return buf;
  }
};

using progress_sink = std::function<void(const progress_update&)>;

class progress_meter {
 public:
  static constexpr double quiet_s = 1.0;     // work shorter than this is not reported
  static constexpr double interval_s = 0.5;  // at most one report per interval

  progress_meter(const progress_sink& sink, std::string party, std::string step, double total, std::string unit)
      : sink_(sink), start_(std::chrono::steady_clock::now()) {
    u_.party = std::move(party);
    u_.step = std::move(step);
    u_.unit = std::move(unit);
    u_.total = total;
  }
  progress_meter(const progress_meter&) = delete;
  progress_meter& operator=(const progress_meter&) = delete;
  ~progress_meter() { finish(); }

  void advance(double units) {
    u_.done += units;
    const double t = elapsed();
    if (!sink_ || t < quiet_s || (reported_ && t - last_ < interval_s)) return;
    u_.elapsed_s = last_ = t;
    reported_ = true;
    sink_(u_);
  }

  // The last report, when any was made (the destructor calls it too).
  void finish() {
    if (!reported_ || finished_ || !sink_) return;
    finished_ = true;
    u_.finished = true;
    u_.elapsed_s = elapsed();
    sink_(u_);
  }

 private:
  [[nodiscard]] double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  const progress_sink& sink_;
  progress_update u_;
  std::chrono::steady_clock::time_point start_;
  double last_ = 0;
  bool reported_ = false, finished_ = false;
};

}  // namespace pmdi::proto
