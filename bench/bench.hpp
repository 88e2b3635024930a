#pragma once
// pmdi-bench plumbing: subcommand registry, medians, and the report that
// prints JSON lines ({"bench","metric","value","unit"}) or a table.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pmdi/core/timing.hpp"

namespace pmdi::bench {

struct args {
  bool json = false;
  bool quick = false;  // fewer repetitions (smoke runs)
  std::vector<std::string> rest;
};

class report {
 public:
  explicit report(bool json) : json_(json) {}
  void metric(const std::string& bench, const std::string& metric, double value, const std::string& unit) {
    if (json_)
      std::printf("{\"bench\": \"%s\", \"metric\": \"%s\", \"value\": %.6g, \"unit\": \"%s\"}\n", bench.c_str(),
                  metric.c_str(), value, unit.c_str());
    else
      std::printf("  %-10s %-28s %16.6g  %s\n", bench.c_str(), metric.c_str(), value, unit.c_str());
    std::fflush(stdout);
  }
  // A line for people: on stdout in a table, on stderr beside JSON lines
  // (stdout then holds only metrics).
  void note(const std::string& s) {
    std::fprintf(json_ ? stderr : stdout, "# %s\n", s.c_str());
  }
  [[nodiscard]] bool json() const noexcept { return json_; }

 private:
  bool json_;
};

using command = std::function<int(const args&, report&)>;

inline std::map<std::string, std::pair<std::string, command>>& registry() {
  static std::map<std::string, std::pair<std::string, command>> r;
  return r;
}

struct registrar {
  registrar(const std::string& name, const std::string& help, command c) {
    registry()[name] = {help, std::move(c)};
  }
};

// Median wall time in seconds of `reps` runs of f.
template <class F>
double median_seconds(int reps, F&& f) {
  return timing::median_wall_seconds(reps, f);
}

// Keeps the optimiser from discarding a computed value.
template <class T>
inline void keep(T const& v) {
  asm volatile("" : : "g"(&v) : "memory");
}

}  // namespace pmdi::bench
