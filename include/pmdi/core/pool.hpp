#pragma once
// A party's worker threads: one fixed pool per party, made once and handed to
// the steps that split their work (garbling and evaluating a stage's circuits).
// boost::asio::thread_pool underneath; the calling thread works too.
//
//   pmdi::worker_pool pool(threads);   threads >= 1 (0 counts as 1); 1 runs everything on the caller
//   pool.size()                        threads that work on a run, the caller included
//   pool.run(n, f)                     f(0) .. f(n-1), split into size() contiguous blocks run
//                                      concurrently (the first on the caller); returns when all are
//                                      done and rethrows the first exception. Not reentrant: f must
//                                      not call run on the same pool.
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <latch>
#include <mutex>
#include <optional>

namespace pmdi {

class worker_pool {
 public:
  explicit worker_pool(unsigned threads) : n_(std::max(1U, threads)) {
    if (n_ > 1) pool_.emplace(n_ - 1);
  }
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool() {
    if (pool_) pool_->join();
  }

  [[nodiscard]] unsigned size() const noexcept { return n_; }

  template <class F>
  void run(std::size_t n, F&& f) {
    if (n == 0) return;
    const std::size_t parts = std::min<std::size_t>(n, n_);
    if (!pool_ || parts == 1) {
      for (std::size_t i = 0; i < n; ++i) f(i);
      return;
    }
    std::exception_ptr err;
    std::mutex mu;
    auto part = [&](std::size_t t) {
      try {
        for (std::size_t i = n * t / parts; i < n * (t + 1) / parts; ++i) f(i);
      } catch (...) {
        std::lock_guard lk(mu);
        if (!err) err = std::current_exception();
      }
    };
    std::latch done(static_cast<std::ptrdiff_t>(parts - 1));
    for (std::size_t t = 1; t < parts; ++t)
      boost::asio::post(*pool_, [&, t] {
        part(t);
        done.count_down();
      });
    part(0);
    done.wait();
    if (err) std::rethrow_exception(err);
  }

 private:
  unsigned n_;
  std::optional<boost::asio::thread_pool> pool_;
};

}  // namespace pmdi
