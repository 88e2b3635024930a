#pragma once
// A party's blocking work (Paillier products, encryptions, garbling) off the
// thread that runs its coroutines: `co_await offload(pool, f)` runs f() on the
// party's pool and resumes the step on its own executor with f's result (or
// its exception). While one party's step waits for its work, the io thread
// goes on with the other steps: in the one-process runner the client's
// encryptions, the cloud's products and the garbling overlap each other and
// the sending. f runs alone on the party's state (the step that offloads it
// is suspended until it returns, and the work thread runs one f at a time,
// also for two branches of one step), so it needs no locking of its own.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <type_traits>

#include "pmdi/proto/channel.hpp"

namespace pmdi::proto {

// The thread a party's blocking work runs on; its kernels split their loops
// over the process's pool (core/pool.hpp), public_config::threads at most.
class work_thread {
 public:
  work_thread() : pool_(1) {}
  work_thread(const work_thread&) = delete;
  work_thread& operator=(const work_thread&) = delete;
  ~work_thread() { pool_.join(); }
  [[nodiscard]] boost::asio::thread_pool& pool() noexcept { return pool_; }

 private:
  boost::asio::thread_pool pool_;
};

// The work is not cancellable (f runs to its end), so the awaiting step's
// cancellation slot is not passed on: co_spawn would otherwise install a
// cancellation handler that, when a failing party tears its steps down,
// runs on the work thread after the step that owned it is gone.
template <class F>
[[nodiscard]] asio::awaitable<std::invoke_result_t<F&>> offload(work_thread& w, F f) {
  using R = std::invoke_result_t<F&>;
  const auto token = [] { return asio::bind_cancellation_slot(asio::cancellation_slot(), asio::use_awaitable); };
  if constexpr (std::is_void_v<R>) {
    co_await asio::co_spawn(
        w.pool(), [&]() -> asio::awaitable<void> {
          f();
          co_return;
        },
        token());
  } else {
    co_return co_await asio::co_spawn(w.pool(), [&]() -> asio::awaitable<R> { co_return f(); }, token());
  }
}

}  // namespace pmdi::proto
