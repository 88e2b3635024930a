// core/pool.hpp: every index runs exactly once, on several threads, and the
// first exception reaches the caller.
#include <catch2/catch.hpp>

#include <atomic>
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
      // Parts 1.. run on the pool's threads, never on the caller (which runs
      // part 0); two parts may share a pool thread.
      CHECK(ids.size() <= std::min<std::size_t>(n, pool.size()));
      if (pool.size() > 1 && n > 1) CHECK(ids.size() >= 2);
      if (n > 0) CHECK(ids.count(std::this_thread::get_id()) == 1);  // the caller works too
    }
  }
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
