#pragma once
// Blocking access to transports for thread-based callers: an io_thread runs
// one io_context on its own thread, and a blocking_link forwards send /
// receive / shutdown / counters to it and waits. Like the transport itself, a
// blocking_link takes one sending thread and one receiving thread at a time.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <future>
#include <tuple>
#include <memory>
#include <thread>

#include "pmdi/core/prg.hpp"
#include "pmdi/net/transport.hpp"

namespace pmdi::net {

class io_thread {
 public:
  io_thread() : guard_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;
  ~io_thread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  [[nodiscard]] asio::any_io_executor executor() { return io_.get_executor(); }

  // Runs `a` on the io thread; blocks until it finishes and returns its
  // result or rethrows its exception. Never call it from the io thread.
  template <class T>
  T run(asio::awaitable<T> a) {
    if (thread_.get_id() == std::this_thread::get_id())
      throw usage_error("net::io_thread::run called on the io thread itself (it would wait for itself)");
    return asio::co_spawn(io_, std::move(a), asio::use_future).get();
  }

  // Runs a plain function on the io thread and waits for it.
  template <class F>
  auto call(F f) -> decltype(f()) {
    if (thread_.get_id() == std::this_thread::get_id()) return f();
    return asio::post(io_, std::packaged_task<decltype(f())()>(std::move(f))).get();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

class blocking_link {
 public:
  // `t` must have been made on `io`'s executor (e.g. inside io->run(...)).
  blocking_link(std::shared_ptr<io_thread> io, std::unique_ptr<transport> t) : io_(std::move(io)), t_(std::move(t)) {
    if (!io_ || !t_) throw usage_error("net::blocking_link needs an io_thread and a transport");
  }
  blocking_link(const blocking_link&) = delete;
  blocking_link& operator=(const blocking_link&) = delete;
  ~blocking_link() {
    if (t_) io_->call([t = t_.release()] { delete t; });  // closes and frees on the io thread
  }

  void send(message_type type, std::span<const std::byte> payload) { io_->run(t_->send(type, payload)); }

  [[nodiscard]] message receive(const type_limits& limits, clock::duration timeout,
                                std::string_view awaited = "a message") {
    return io_->run(t_->receive(limits, after(timeout), awaited));
  }

  void shutdown() {
    io_->call([t = t_.get()] { t->shutdown(); });
  }
  [[nodiscard]] link_counters counters() const {
    return io_->call([t = t_.get()] { return t->counters(); });
  }
  // The link's pair secret (secure links only; usage_error otherwise).
  [[nodiscard]] master_key pair_secret() const {
    return io_->call([t = t_.get()] {
      const auto s = t->pair_secret();
      if (s.size() != std::tuple_size_v<master_key>)
        throw usage_error(t->names().self + ": the link to " + t->names().peer + " is not secure: no pair secret");
      master_key k{};
      std::copy(s.begin(), s.end(), k.begin());
      return k;
    });
  }
  [[nodiscard]] const link_names& names() const noexcept { return t_->names(); }
  [[nodiscard]] transport& get() noexcept { return *t_; }

 private:
  std::shared_ptr<io_thread> io_;
  std::unique_ptr<transport> t_;
};

}  // namespace pmdi::net
