// core/pool.hpp: every index runs exactly once, on all of the machine's
// threads at once, loops nest and run concurrently without stalling, and the
// first exception reaches the caller.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pmdi/core/pool.hpp"

using namespace pmdi;

TEST_CASE("worker_pool: example, every index once", "[pool]") {
  for (unsigned threads : {0U, 1U, 2U, 3U}) {
    worker_pool pool(threads);
    CHECK(pool.size() == std::max(1U, threads));
    for (std::size_t n : {0, 1, 2, 5, 100}) {
      std::vector<std::atomic<int>> hits(n);
      std::mutex mu;
      std::set<std::thread::id> ids;
      pool.run(n, [&](std::size_t i) {
        hits[i].fetch_add(1);
        std::lock_guard lk(mu);
        ids.insert(std::this_thread::get_id());
      });
      CAPTURE(threads, n);
      for (auto& h : hits) CHECK(h.load() == 1);
      CHECK(ids.size() <= std::min<std::size_t>({n, pool.size(), pool_threads()}));
      if (pool.size() == 1 && n > 0) CHECK(ids == std::set{std::this_thread::get_id()});  // one thread: the caller
    }
  }
}

TEST_CASE("parallel_for: one pool per process, all of the machine's threads at once", "[pool]") {
  const unsigned hw = std::max(1U, std::thread::hardware_concurrency());
  REQUIRE(pool_threads() == hw);
  // Every index waits (up to 10 s) until all have started: they all run at
  // once exactly when the loop has as many threads as indices.
  const std::size_t n = std::min(hw, 4U);
  std::atomic<std::size_t> started{0};
  std::atomic<bool> all_met{true};
  const auto t0 = std::chrono::steady_clock::now();
  parallel_for(n, 0, [&](std::size_t) {
    started.fetch_add(1);
    while (started.load() < n)
      if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(10)) {
        all_met = false;
        return;
      }
  });
  CHECK(started.load() == n);
  CHECK(all_met.load());
}

TEST_CASE("parallel_for: loops from several threads at once, and loops inside loops, all finish", "[pool]") {
  // A caller never waits for a helper that has not started, so two outer loops
  // whose bodies run inner loops on the same pool cannot stall each other.
  std::atomic<long> total{0};
  std::atomic<int> wrong_inner{0};  // Catch2 assertions stay on this thread
  auto outer = [&] {
    parallel_for(40, 0, [&](std::size_t i) {
      std::atomic<long> inner{0};
      parallel_for(25, 0, [&](std::size_t j) { inner.fetch_add(static_cast<long>(j)); });
      if (inner.load() != 300) wrong_inner.fetch_add(1);  // 0 + 1 + ... + 24
      total.fetch_add(static_cast<long>(i) + inner.load());
    });
  };
  std::thread other(outer);
  outer();
  other.join();
  CHECK(wrong_inner.load() == 0);
  CHECK(total.load() == 2 * (780 + 40 * 300));  // 2 x (0 + ... + 39 + 40 x 300)
}

TEST_CASE("worker_pool: an exception in any part reaches the caller", "[pool]") {
  worker_pool pool(2);
  CHECK_THROWS_AS(pool.run(10, [](std::size_t i) {
    if (i == 7) throw std::runtime_error("part 7");
  }), std::runtime_error);
  CHECK_THROWS_AS(pool.run(10, [](std::size_t i) {
    if (i == 0) throw std::runtime_error("part 0");
  }), std::runtime_error);
  int sum = 0;  // the pool still works afterwards
  std::mutex mu;
  pool.run(4, [&](std::size_t i) {
    std::lock_guard lk(mu);
    sum += static_cast<int>(i);
  });
  CHECK(sum == 6);
}
