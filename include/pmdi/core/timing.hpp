#pragma once
// Timing for measurements (the planner's calibration, pmdi-bench): this
// thread's CPU clock (what one core spends, so other load on a shared
// machine does not count), the process's (all its threads), the steady wall clock (for work spread over
// threads), and the median of repeated runs on either.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace pmdi::timing {

[[nodiscard]] inline double thread_cpu_seconds() noexcept {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Every thread of the process (work spread over threads that wait on each other).
[[nodiscard]] inline double process_cpu_seconds() noexcept {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

[[nodiscard]] inline double wall_seconds() noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The median, over `reps` runs of f, of the time `clock` (seconds) says each
// took; each run is handed a fresh state from prepare() (not timed), which f
// takes over, so what f frees is timed.
template <class Clock, class Prepare, class F>
[[nodiscard]] double median_of_prepared(int reps, Clock&& clock, Prepare&& prepare, F&& f) {
  std::vector<double> t;
  t.reserve(static_cast<std::size_t>(reps));
  for (int i = 0; i < reps; ++i) {
    auto state = prepare();
    const double a = clock();
    f(std::move(state));
    t.push_back(clock() - a);
  }
  std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
  return t[t.size() / 2];
}

// The median, over `reps` runs of f, of the time `clock` (seconds) says each took.
template <class Clock, class F>
[[nodiscard]] double median_of(int reps, Clock&& clock, F&& f) {
  return median_of_prepared(reps, clock, [] { return 0; }, [&](int) { f(); });
}

template <class F>
[[nodiscard]] double median_cpu_seconds(int reps, F&& f) {
  return median_of(reps, thread_cpu_seconds, f);
}

template <class F>
[[nodiscard]] double median_wall_seconds(int reps, F&& f) {
  return median_of(reps, wall_seconds, f);
}

}  // namespace pmdi::timing
