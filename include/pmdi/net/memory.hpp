#pragma once
// An in-memory transport pair: both ends live in one io_context, bytes move
// through two in-process pipes (no sockets, no sleeps). The pair runs the
// same framing as TCP, so framing and the secure wrapper are testable here.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <tuple>
#include <memory>
#include <utility>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/net/framing.hpp"

namespace pmdi::net {

namespace detail {

// One direction of an in-memory link: the unread bytes as a queue of
// chunks. Copied writes gather in the last chunk; a body handed over
// (write_owned) is a chunk of its own, which a reader of exactly its length
// takes as it is (read_owned). A chunk is freed once it is read.
struct memory_pipe {
  std::deque<std::vector<std::byte>> chunks;
  std::size_t head = 0;    // bytes of chunks.front() already read
  std::size_t unread = 0;  // bytes after head, in every chunk
  bool last_owned = false;  // chunks.back() was handed over: the next write starts a chunk
  bool closed = false;
  // Unread bytes the pipe holds at most, as a socket's buffers would (0: no
  // bound); a writer waits for the reader beyond it.
  std::size_t capacity = 0;
  asio::steady_timer* waiter = nullptr;         // the reader's wake-up timer while it waits
  asio::steady_timer* writer_waiter = nullptr;  // the writer's, while the pipe is full

  static constexpr std::size_t chunk_bytes = std::size_t{1} << 20;  // a copied write starts a chunk beyond this

  void wake() noexcept {
    if (waiter != nullptr) waiter->cancel();
  }
  void wake_writer() noexcept {
    if (writer_waiter != nullptr) writer_waiter->cancel();
  }
  [[nodiscard]] std::size_t available() const noexcept { return unread; }
  [[nodiscard]] std::size_t room() const noexcept {
    if (capacity == 0) return std::numeric_limits<std::size_t>::max();
    return capacity > unread ? capacity - unread : 0;
  }
  void append(std::span<const std::byte> b) {
    if (b.empty()) return;
    // never grow the chunk the reader is in, nor one that was handed over
    if (chunks.empty() || last_owned || (chunks.size() == 1 && head > 0) || chunks.back().size() >= chunk_bytes)
      chunks.emplace_back();
    chunks.back().insert(chunks.back().end(), b.begin(), b.end());
    unread += b.size();
    last_owned = false;
  }
  void hand_over(std::vector<std::byte>&& b) {
    if (b.empty()) return;
    unread += b.size();
    chunks.push_back(std::move(b));
    last_owned = true;
  }
  // Copies up to out.size() unread bytes into out; returns how many.
  std::size_t read_into(std::span<std::byte> out) {
    std::size_t done = 0;
    while (done < out.size() && !chunks.empty()) {
      auto& c = chunks.front();
      const std::size_t k = std::min(out.size() - done, c.size() - head);
      std::memcpy(out.data() + done, c.data() + head, k);
      done += k;
      head += k;
      if (head == c.size()) pop_front();
    }
    unread -= done;
    return done;
  }
  // The front chunk when it holds exactly the next n bytes, else nothing.
  [[nodiscard]] std::optional<std::vector<std::byte>> take_chunk(std::size_t n) {
    if (chunks.empty() || head != 0 || chunks.front().size() != n) return std::nullopt;
    std::vector<std::byte> c = std::move(chunks.front());
    pop_front();
    unread -= n;
    return c;
  }
  // The unread bytes gathered in one chunk (test hooks).
  [[nodiscard]] std::span<std::byte> gathered() {
    if (chunks.size() > 1 || head > 0) {
      std::vector<std::byte> all(unread);
      (void)read_into(all);
      unread = all.size();
      chunks.push_back(std::move(all));
      last_owned = false;
    }
    return chunks.empty() ? std::span<std::byte>() : std::span<std::byte>(chunks.front());
  }

 private:
  void pop_front() {
    chunks.pop_front();
    head = 0;
    if (chunks.empty()) last_owned = false;
  }
};

// Sleeps on `t` until `slot`'s owner cancels it or `until` passes; true when woken.
[[nodiscard]] inline asio::awaitable<bool> wait_for_wake(asio::steady_timer& t, asio::steady_timer*& slot,
                                                         clock::time_point until) {
  t.expires_at(until);
  struct registration {  // the other end may wake us only while we wait
    asio::steady_timer*& slot;
    registration(asio::steady_timer*& s, asio::steady_timer& timer) : slot(s) { slot = &timer; }
    ~registration() { slot = nullptr; }
  };
  const registration reg(slot, t);
  auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return static_cast<bool>(ec);
}

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
      if (const std::size_t k = p.read_into(out.subspan(done)); k > 0) {
        done += k;
        p.wake_writer();
      }
      if (done == out.size()) co_return io_result{io_status::ok, done, {}};
      if (p.closed) co_return io_result{io_status::closed, done, {}};
      if (clock::now() >= until) co_return io_result{io_status::timeout, done, {}};
      // Sleep until a writer wakes us (cancels the timer) or the deadline passes.
      if (!co_await detail::wait_for_wake(timer, p.waiter, until)) co_return io_result{io_status::timeout, done, {}};
    }
  }

  // Reads exactly n bytes into a buffer of their own: the queued chunk
  // itself when it holds exactly them (a body written with write_owned).
  [[nodiscard]] asio::awaitable<std::pair<io_result, std::vector<std::byte>>> read_owned(std::size_t n, deadline until) {
    if (auto c = incoming().take_chunk(n)) {
      incoming().wake_writer();
      co_return std::pair{io_result{io_status::ok, n, {}}, std::move(*c)};
    }
    std::vector<std::byte> b(n);
    const io_result r = co_await read_exact(b, until);
    co_return std::pair{r, std::move(b)};
  }

  // Queues the header, then hands the body over as it is when the pipe has
  // room for all of it (else copies it as write_all does).
  [[nodiscard]] asio::awaitable<io_result> write_owned(std::span<const std::byte> header, std::vector<std::byte> body,
                                                       clock::duration stall) {
    detail::memory_pipe& p = outgoing();
    if (p.closed || p.room() < header.size() + body.size()) co_return co_await write_all(header, body, stall);
    const std::size_t n = header.size() + body.size();
    p.append(header);
    p.hand_over(std::move(body));
    p.wake();
    co_return io_result{io_status::ok, n, {}};
  }

  // Queues header and body for the peer; with a bounded pipe, as much as
  // fits at a time, waiting for the reader in between: a timeout when no
  // byte could move for `stall` (as over TCP).
  [[nodiscard]] asio::awaitable<io_result> write_all(std::span<const std::byte> header, std::span<const std::byte> body,
                                                     clock::duration stall) {
    detail::memory_pipe& p = outgoing();
    std::size_t done = 0;
    asio::steady_timer timer(ex_);
    for (auto part : {header, body}) {
      while (!part.empty()) {
        if (p.closed) co_return io_result{io_status::closed, done, {}};
        const std::size_t k = std::min(part.size(), p.room());
        if (k > 0) {
          p.append(part.first(k));
          part = part.subspan(k);
          done += k;
          p.wake();
          continue;
        }
        if (!co_await detail::wait_for_wake(timer, p.writer_waiter, clock::now() + stall))
          co_return io_result{io_status::timeout, done, {}};
      }
    }
    co_return io_result{io_status::ok, done, {}};
  }

  // Closes both directions: the peer reads end-of-stream after the bytes already queued.
  void close() noexcept {
    if (!link_) return;
    for (auto& p : link_->pipes) {
      p.closed = true;
      p.wake();
      p.wake_writer();
    }
  }

  // Test hook: ends the stream towards the peer (it reads end-of-stream after
  // the bytes already queued); the other direction stays open, so the peer can
  // still answer (a handshake fed from a fuzzer's bytes).
  void close_outgoing() noexcept {
    auto& p = outgoing();
    p.closed = true;
    p.wake();
    p.wake_writer();
  }
  // Test hook: appends raw bytes to what the peer will read (forged frames).
  void inject(std::span<const std::byte> raw) {
    auto& p = outgoing();
    p.append(raw);
    p.wake();
  }
  // Test hook: the bytes queued towards the peer and not yet read (to tamper with them).
  [[nodiscard]] std::span<std::byte> queued_outgoing() { return outgoing().gathered(); }

  [[nodiscard]] asio::any_io_executor get_executor() const { return ex_; }
  // The secret the pair was made with; empty when it was made without one.
  [[nodiscard]] std::span<const std::byte> pair_secret() const noexcept {
    if (!link_ || !link_->secret) return {};
    return std::span<const std::byte>(*link_->secret);
  }

 private:
  detail::memory_pipe& incoming() noexcept { return link_->pipes[side_]; }
  detail::memory_pipe& outgoing() noexcept { return link_->pipes[1 - side_]; }

  asio::any_io_executor ex_;
  std::shared_ptr<detail::memory_link> link_;
  int side_;
};

using memory_transport = framed_transport<memory_stream>;

// Two connected ends: what `first` sends, `second` receives and vice versa.
// `first_name` and `second_name` are the parties at each end (for errors).
// With `secret`, both ends report it as their pair_secret() (a process that
// plays both parties draws it in place of a key exchange).
// With `capacity`, each direction holds at most that many unread bytes (a
// socket's buffers, so that a test sees the waits TCP would impose).
[[nodiscard]] inline std::pair<std::unique_ptr<memory_transport>, std::unique_ptr<memory_transport>> memory_pair(
    asio::any_io_executor ex, std::string first_name, std::string second_name,
    const std::optional<master_key>& secret = std::nullopt, std::size_t capacity = 0) {
  auto link = std::make_shared<detail::memory_link>();
  link->secret = secret;
  for (auto& p : link->pipes) p.capacity = capacity;
  auto a = std::make_unique<memory_transport>(memory_stream(ex, link, 0),
                                              link_names{first_name, second_name, ""});
  auto b = std::make_unique<memory_transport>(memory_stream(ex, link, 1),
                                              link_names{second_name, first_name, ""});
  return {std::move(a), std::move(b)};
}

}  // namespace pmdi::net
