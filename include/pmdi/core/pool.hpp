#pragma once
// The process's worker threads: one pool per process (in a deployment, one
// per party), made on first use, and every parallel loop in pmdi runs on it:
// the Paillier products, encryptions and packing, and the garbling and
// evaluation of a stage's circuits. boost::asio::thread_pool underneath, with
// hardware_concurrency() - 1 helper threads; the calling thread always works
// too, so the machine's threads are all busy and never oversubscribed.
//
//   pmdi::parallel_for(n, threads, f)  f(0) .. f(n-1), each exactly once, on up to `threads`
//                                      threads (0: all of them), the caller included. Returns
//                                      when every call has returned and rethrows the first
//                                      exception (indices not started by then are skipped).
//   pmdi::pool_threads()               the most threads a loop can use: helpers + the caller
//   pmdi::worker_pool pool(threads);   a party's share: size() = threads (0 counts as 1);
//   pool.run(n, f)                     parallel_for(n, size(), f)
//   pmdi::release_in_background(std::move(v))  v destroyed on a helper thread
//
// Loops may run from several threads at once and may nest: indices are
// claimed from a shared counter and the caller claims them too, so it never
// waits for a helper that has not started (a busy pool slows a loop down but
// cannot stall it). Which thread runs an index is not fixed: results must
// depend on the index only.
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

namespace pmdi {

namespace detail {

class helper_threads {
 public:
  static helper_threads& instance() {
    static helper_threads h;
    return h;
  }
  [[nodiscard]] unsigned count() const noexcept { return count_; }
  template <class F>
  void post(F&& f) {
    boost::asio::post(*pool_, std::forward<F>(f));
  }

 private:
  helper_threads() : count_(std::max(1U, std::thread::hardware_concurrency()) - 1) {
    if (count_ > 0) pool_.emplace(count_);
  }
  ~helper_threads() {
    if (pool_) pool_->join();
  }
  unsigned count_;
  std::optional<boost::asio::thread_pool> pool_;
};

// One loop's shared state; helpers that start after the loop ended find no
// index left and touch only this (kept alive by their shared_ptr), never the
// caller's function.
struct loop_state {
  std::size_t n = 0;
  void (*call)(void*, std::size_t) = nullptr;
  void* body = nullptr;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> left{0};  // indices not yet run or skipped
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::condition_variable finished;
  std::exception_ptr error;

  void work() {
    for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) {
      if (!failed.load(std::memory_order_relaxed)) {
        try {
          call(body, i);
        } catch (...) {
          std::lock_guard lk(mu);
          if (!error) error = std::current_exception();
          failed.store(true, std::memory_order_relaxed);
        }
      }
      if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard lk(mu);
        finished.notify_all();
      }
    }
  }
};

}  // namespace detail

[[nodiscard]] inline unsigned pool_threads() noexcept { return detail::helper_threads::instance().count() + 1; }

template <class F>
void parallel_for(std::size_t n, unsigned threads, F&& f) {
  if (n == 0) return;
  const std::size_t parts = std::min<std::size_t>({n, threads == 0 ? pool_threads() : threads, pool_threads()});
  if (parts <= 1) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  using body_t = std::remove_reference_t<F>;
  auto s = std::make_shared<detail::loop_state>();
  s->n = n;
  s->left.store(n, std::memory_order_relaxed);
  s->body = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
  s->call = [](void* b, std::size_t i) { (*static_cast<body_t*>(b))(i); };
  auto& helpers = detail::helper_threads::instance();
  for (std::size_t t = 1; t < parts; ++t) helpers.post([s] { s->work(); });
  s->work();
  {
    std::unique_lock lk(s->mu);
    s->finished.wait(lk, [&] { return s->left.load(std::memory_order_acquire) == 0; });
  }
  if (s->error) std::rethrow_exception(s->error);
}

// Destroys `v` on a helper thread (here when the process has none): a large
// buffer is freed, and a secret_vector wiped, off the caller's critical path.
template <class T>
  requires(!std::is_lvalue_reference_v<T>)
void release_in_background(T&& v) {
  auto p = std::make_shared<T>(std::move(v));
  auto& helpers = detail::helper_threads::instance();
  if (helpers.count() > 0) helpers.post([p = std::move(p)]() mutable { p.reset(); });
}

class worker_pool {
 public:
  explicit worker_pool(unsigned threads) : n_(std::max(1U, threads)) {}
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  [[nodiscard]] unsigned size() const noexcept { return n_; }

  template <class F>
  void run(std::size_t n, F&& f) {
    parallel_for(n, n_, std::forward<F>(f));
  }

 private:
  unsigned n_;
};

}  // namespace pmdi
