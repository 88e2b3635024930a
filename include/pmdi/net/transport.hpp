#pragma once
// The transport: moves messages (a u16 type and a span of bytes) between two
// parties and knows nothing of protocols. Implementations: an in-memory pair
// (net/memory.hpp), TCP (net/tcp.hpp), and the authenticated, encrypted
// wrapper around either (net/secure.hpp).
//
// Rules every implementation keeps:
//  - receive() takes the caller's per-type payload limits and refuses unknown
//    types and over-long lengths before it allocates (decode_error);
//  - every wait has a deadline (timeout_error naming the peer and what was
//    awaited); a closed peer is peer_closed_error, never a hang;
//  - at most one send and one receive are in flight at a time (full duplex);
//  - after a failed receive the link is unusable: later receives rethrow.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pmdi/core/error.hpp"

namespace pmdi::net {

namespace asio = boost::asio;

using clock = std::chrono::steady_clock;
// An absolute point in time by which a wait must have completed.
using deadline = clock::time_point;

[[nodiscard]] inline deadline after(clock::duration d) noexcept { return clock::now() + d; }

using message_type = std::uint16_t;

// Types at or above this value belong to the net layer itself (handshake);
// protocol messages use the types below it.
inline constexpr message_type first_reserved_type = 0xFF00;

// The largest payload (bytes) the caller accepts for a message type, or
// nullopt when that type is not expected here.
using type_limits = std::function<std::optional<std::size_t>(message_type)>;

// Limits that accept exactly one type.
[[nodiscard]] inline type_limits expect_type(message_type type, std::size_t max_payload) {
  return [type, max_payload](message_type t) -> std::optional<std::size_t> {
    if (t == type) return max_payload;
    return std::nullopt;
  };
}

// The peer closed the link (end of stream, connection reset) at a message boundary.
struct peer_closed_error : error {
  using error::error;
};

// The secure handshake refused the peer (unknown party, wrong key, bad transcript).
struct handshake_error : error {
  using error::error;
};

struct message {
  message_type type = 0;
  std::vector<std::byte> payload;
};

// Per-link traffic. "payload" counts the bytes handed to send() / returned by
// receive(); "wire" counts every byte that crossed the link, headers,
// authentication tags and handshake included.
struct link_counters {
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t payload_bytes_sent = 0;
  std::uint64_t payload_bytes_received = 0;
  std::uint64_t wire_bytes_sent = 0;
  std::uint64_t wire_bytes_received = 0;
  friend bool operator==(const link_counters&, const link_counters&) = default;
};

// Who is at either end of a link, for error messages.
struct link_names {
  std::string self;     // this party, e.g. "garbler[0]"
  std::string peer;     // the other party, e.g. "evaluator[0]" (or "unauthenticated peer")
  std::string address;  // where the peer is, e.g. "127.0.0.1:7003"; empty in memory
};

class transport {
 public:
  explicit transport(link_names names) : names_(std::move(names)) {}
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;
  virtual ~transport() = default;

  // Sends one message. Completes when the bytes are handed over (kernel or peer queue).
  [[nodiscard]] asio::awaitable<void> send(message_type type, std::span<const std::byte> payload) {
    return do_send(type, payload);
  }
  // The same, handing the buffer over: a transport that can pass it on as it
  // is (an in-memory pair) does not copy it.
  template <class Buffer>
    requires std::same_as<Buffer, std::vector<std::byte>>  // an rvalue buffer only (not `{}`, not an lvalue)
  [[nodiscard]] asio::awaitable<void> send(message_type type, Buffer&& payload) {
    return do_send_owned(type, std::move(payload));
  }

  // Receives the next message. `limits` says which types are expected and how
  // long each may be; `awaited` names what the caller waits for (error messages).
  [[nodiscard]] asio::awaitable<message> receive(const type_limits& limits, deadline until,
                                                 std::string_view awaited = "a message") {
    return do_receive(limits, until, awaited);
  }

  // Closes the link; the peer's next receive sees peer_closed_error. Idempotent.
  virtual void shutdown() noexcept = 0;

  [[nodiscard]] virtual link_counters counters() const noexcept = 0;

  // The 32-byte secret only the two ends of an authenticated link share (the
  // master key for pmdi::derive_seed); empty on links that are not secure.
  [[nodiscard]] virtual std::span<const std::byte> pair_secret() const noexcept { return {}; }
  [[nodiscard]] virtual asio::any_io_executor get_executor() const = 0;

  [[nodiscard]] const link_names& names() const noexcept { return names_; }
  // "evaluator[0] at 127.0.0.1:7003"
  [[nodiscard]] std::string peer_label() const {
    return names_.address.empty() ? names_.peer : names_.peer + " at " + names_.address;
  }
  // Set once the peer is authenticated (the secure handshake learns its name).
  void set_peer_name(std::string peer) { names_.peer = std::move(peer); }

 protected:
  [[nodiscard]] virtual asio::awaitable<void> do_send(message_type type, std::span<const std::byte> payload) = 0;
  [[nodiscard]] virtual asio::awaitable<void> do_send_owned(message_type type, std::vector<std::byte> payload) {
    co_await do_send(type, payload);
  }
  [[nodiscard]] virtual asio::awaitable<message> do_receive(const type_limits& limits, deadline until,
                                                            std::string_view awaited) = 0;

  link_names names_;
};

}  // namespace pmdi::net
