#pragma once
// An in-memory transport pair: both ends live in one io_context, bytes move
// through two in-process pipes (no sockets, no sleeps). The pair runs the
// same framing as TCP, so framing and the secure wrapper are testable here.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>

#include <algorithm>
#include <optional>
#include <tuple>
#include <memory>
#include <utility>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/net/framing.hpp"

namespace pmdi::net {

namespace detail {

// One direction of an in-memory link.
struct memory_pipe {
  std::vector<std::byte> data;
  std::size_t head = 0;  // bytes before head were consumed
  bool closed = false;
  asio::steady_timer* waiter = nullptr;  // the reader's wake-up timer while it waits

  void wake() noexcept {
    if (waiter != nullptr) waiter->cancel();
  }
  [[nodiscard]] std::size_t available() const noexcept { return data.size() - head; }
};

struct memory_link {
  memory_pipe pipes[2];
  // The pair's shared secret when the maker gave one (both ends in one
  // process: the maker stands in for the key exchange); zeroed on destruction.
  std::optional<master_key> secret;
  memory_link() = default;
  memory_link(const memory_link&) = delete;
  memory_link& operator=(const memory_link&) = delete;
  ~memory_link() {
    if (secret) secure_zero(secret->data(), secret->size());
  }
};

}  // namespace detail

// One end of an in-memory byte stream (a byte_stream for framed_transport).
class memory_stream {
 public:
  memory_stream(asio::any_io_executor ex, std::shared_ptr<detail::memory_link> link, int side)
      : ex_(std::move(ex)), link_(std::move(link)), side_(side) {}

  [[nodiscard]] asio::awaitable<io_result> read_exact(std::span<std::byte> out, deadline until) {
    detail::memory_pipe& p = incoming();
    std::size_t done = 0;
    asio::steady_timer timer(ex_);
    for (;;) {
      const std::size_t k = std::min(out.size() - done, p.available());
      if (k > 0) {
        std::memcpy(out.data() + done, p.data.data() + p.head, k);
        p.head += k;
        done += k;
        compact(p);
      }
      if (done == out.size()) co_return io_result{io_status::ok, done, {}};
      if (p.closed) co_return io_result{io_status::closed, done, {}};
      if (clock::now() >= until) co_return io_result{io_status::timeout, done, {}};
      // Sleep until a writer wakes us (cancels the timer) or the deadline passes.
      timer.expires_at(until);
      struct registration {  // the writer may wake us only while we wait
        detail::memory_pipe& p;
        registration(detail::memory_pipe& pipe, asio::steady_timer& t) : p(pipe) { p.waiter = &t; }
        ~registration() { p.waiter = nullptr; }
      };
      boost::system::error_code ec;
      {
        const registration reg(p, timer);
        std::tie(ec) = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      if (!ec) co_return io_result{io_status::timeout, done, {}};
    }
  }

  [[nodiscard]] asio::awaitable<io_result> write_all(std::span<const std::byte> header, std::span<const std::byte> body,
                                                     clock::duration /*stall: a pipe never blocks*/) {
    detail::memory_pipe& p = outgoing();
    if (p.closed) co_return io_result{io_status::closed, 0, {}};
    p.data.insert(p.data.end(), header.begin(), header.end());
    p.data.insert(p.data.end(), body.begin(), body.end());
    p.wake();
    co_return io_result{io_status::ok, header.size() + body.size(), {}};
  }

  // Closes both directions: the peer reads end-of-stream after the bytes already queued.
  void close() noexcept {
    if (!link_) return;
    for (auto& p : link_->pipes) {
      p.closed = true;
      p.wake();
    }
  }

  // Test hook: ends the stream towards the peer (it reads end-of-stream after
  // the bytes already queued); the other direction stays open, so the peer can
  // still answer (a handshake fed from a fuzzer's bytes).
  void close_outgoing() noexcept {
    auto& p = outgoing();
    p.closed = true;
    p.wake();
  }
  // Test hook: appends raw bytes to what the peer will read (forged frames).
  void inject(std::span<const std::byte> raw) {
    auto& p = outgoing();
    p.data.insert(p.data.end(), raw.begin(), raw.end());
    p.wake();
  }
  // Test hook: the bytes queued towards the peer and not yet read (to tamper with them).
  [[nodiscard]] std::span<std::byte> queued_outgoing() noexcept {
    auto& p = outgoing();
    return std::span<std::byte>(p.data).subspan(p.head);
  }

  [[nodiscard]] asio::any_io_executor get_executor() const { return ex_; }
  // The secret the pair was made with; empty when it was made without one.
  [[nodiscard]] std::span<const std::byte> pair_secret() const noexcept {
    if (!link_ || !link_->secret) return {};
    return std::span<const std::byte>(*link_->secret);
  }

 private:
  detail::memory_pipe& incoming() noexcept { return link_->pipes[side_]; }
  detail::memory_pipe& outgoing() noexcept { return link_->pipes[1 - side_]; }
  static void compact(detail::memory_pipe& p) {
    if (p.head == p.data.size()) {
      p.data.clear();
      p.head = 0;
    } else if (p.head > 4096 && p.head * 2 > p.data.size()) {
      p.data.erase(p.data.begin(), p.data.begin() + static_cast<std::ptrdiff_t>(p.head));
      p.head = 0;
    }
  }

  asio::any_io_executor ex_;
  std::shared_ptr<detail::memory_link> link_;
  int side_;
};

using memory_transport = framed_transport<memory_stream>;

// Two connected ends: what `first` sends, `second` receives and vice versa.
// `first_name` and `second_name` are the parties at each end (for errors).
// With `secret`, both ends report it as their pair_secret() (a process that
// plays both parties draws it in place of a key exchange).
[[nodiscard]] inline std::pair<std::unique_ptr<memory_transport>, std::unique_ptr<memory_transport>> memory_pair(
    asio::any_io_executor ex, std::string first_name, std::string second_name,
    const std::optional<master_key>& secret = std::nullopt) {
  auto link = std::make_shared<detail::memory_link>();
  link->secret = secret;
  auto a = std::make_unique<memory_transport>(memory_stream(ex, link, 0),
                                              link_names{first_name, second_name, ""});
  auto b = std::make_unique<memory_transport>(memory_stream(ex, link, 1),
                                              link_names{second_name, first_name, ""});
  return {std::move(a), std::move(b)};
}

}  // namespace pmdi::net
