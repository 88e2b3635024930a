#pragma once
// Framing shared by every byte-stream transport (memory pipe, TCP):
//
//   header (8 bytes, little endian, Boost.Endian) = u32 payload length | u16 type | u16 reserved (0)
//   payload (length bytes)
//
// The receiver checks the type against the caller's limits and the length
// against that type's maximum before it allocates the payload buffer.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/endian/conversion.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <exception>
#include <limits>
#include <memory>
#include <utility>

#include "pmdi/net/transport.hpp"

namespace pmdi::net {

inline constexpr std::size_t frame_header_bytes = 8;
inline constexpr std::size_t max_frame_payload = std::numeric_limits<std::uint32_t>::max();

using frame_header = std::array<std::byte, frame_header_bytes>;

[[nodiscard]] inline frame_header encode_frame_header(message_type type, std::size_t length) {
  if (length > max_frame_payload)
    throw usage_error("net: a message of " + std::to_string(length) + " bytes does not fit one frame");
  frame_header h{};
  auto* p = reinterpret_cast<unsigned char*>(h.data());
  boost::endian::store_little_u32(p, static_cast<std::uint32_t>(length));
  boost::endian::store_little_u16(p + 4, type);
  return h;
}

struct decoded_header {
  std::uint32_t length;
  message_type type;
  std::uint16_t reserved;
};

[[nodiscard]] inline decoded_header decode_frame_header(const frame_header& h) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(h.data());
  return {boost::endian::load_little_u32(p), boost::endian::load_little_u16(p + 4), boost::endian::load_little_u16(p + 6)};
}

[[nodiscard]] inline std::string type_label(message_type t) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s = "type 0x";
  for (int shift = 12; shift >= 0; shift -= 4) s += hex[(t >> shift) & 0xF];
  return s;
}

[[nodiscard]] inline std::string millis_label(clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

// What a byte stream reports; the framed transport turns it into sentences.
enum class io_status { ok, timeout, closed, failed };
struct io_result {
  io_status status = io_status::ok;
  std::size_t transferred = 0;
  boost::system::error_code ec{};
};

// A byte stream the framing runs on:
//   awaitable<io_result> read_exact(std::span<std::byte>, deadline)
//   awaitable<io_result> write_all(std::span<const std::byte> header, std::span<const std::byte> body,
//                                  clock::duration stall)   (fails when no byte moved for `stall`)
//   void close() noexcept;  any_io_executor get_executor() const;
// and may offer, to spare copies of large payloads:
//   awaitable<io_result> write_owned(header, std::vector<std::byte> body, stall)  (takes the body over)
//   awaitable<std::pair<io_result, std::vector<std::byte>>> read_owned(std::size_t n, deadline)
// and one without read_owned offers, for payloads that cross a slow link:
//   awaitable<io_result> read_progress(std::span<std::byte>, clock::duration stall)  (fails when no byte
//                                  arrived for `stall`, however long the whole takes)
template <class S>
concept byte_stream = requires(S& s, std::span<std::byte> out, std::span<const std::byte> in, deadline d,
                               clock::duration stall) {
  { s.read_exact(out, d) } -> std::same_as<asio::awaitable<io_result>>;
  { s.write_all(in, in, stall) } -> std::same_as<asio::awaitable<io_result>>;
  s.close();
  { s.get_executor() } -> std::convertible_to<asio::any_io_executor>;
};

// Marks a send or a receive in flight for its scope; a second one at the
// same time is refused (usage_error with the sentence refusal() makes).
class in_flight {
 public:
  template <class Refusal>
  in_flight(bool& busy, Refusal refusal) : busy_(busy) {
    if (busy_) throw usage_error(refusal());
    busy_ = true;
  }
  in_flight(const in_flight&) = delete;
  in_flight& operator=(const in_flight&) = delete;
  ~in_flight() { busy_ = false; }

 private:
  bool& busy_;
};

template <byte_stream Stream>
class framed_transport final : public transport {
 public:
  // `stall`: a send, and the payload of a protocol message being received
  // (once its header has come, within the receive's deadline), fail when no
  // byte of it has moved for this long, however long the whole takes.
  framed_transport(Stream stream, link_names names, clock::duration stall = std::chrono::seconds(60))
      : transport(std::move(names)), stream_(std::move(stream)), stall_(stall) {}
  ~framed_transport() override { shutdown(); }

  void shutdown() noexcept override {
    closed_ = true;
    stream_.close();
  }

  [[nodiscard]] link_counters counters() const noexcept override { return counters_; }
  // A stream that carries a pair secret (an in-memory pair made with one) lends it to the link.
  [[nodiscard]] std::span<const std::byte> pair_secret() const noexcept override {
    if constexpr (requires(const Stream& st) { st.pair_secret(); })
      return stream_.pair_secret();
    else
      return {};
  }
  [[nodiscard]] asio::any_io_executor get_executor() const override { return stream_.get_executor(); }

  [[nodiscard]] Stream& stream() noexcept { return stream_; }

 protected:
  [[nodiscard]] asio::awaitable<void> do_send(message_type type, std::span<const std::byte> payload) override {
    co_await send_frame(type, payload.size(),
                        [&](const frame_header& h) { return stream_.write_all(h, payload, stall_); });
  }
  // A stream that can take the buffer over (write_owned) gets it as it is.
  [[nodiscard]] asio::awaitable<void> do_send_owned(message_type type, std::vector<std::byte> payload) override {
    if constexpr (requires(const frame_header& h) { stream_.write_owned(h, std::move(payload), stall_); }) {
      co_await send_frame(type, payload.size(), [&](const frame_header& h) {
        return stream_.write_owned(h, std::move(payload), stall_);
      });
    } else {
      co_await do_send(type, payload);
    }
  }

  [[nodiscard]] asio::awaitable<message> do_receive(const type_limits& limits, deadline until,
                                                    std::string_view awaited) override {
    if (failure_) std::rethrow_exception(failure_);
    const in_flight receive_in_flight(receiving_, [&] { return names_.self + ": two concurrent receives on the link to " + peer_label(); });
    const auto started = clock::now();
    try {
      frame_header h{};
      io_result r = co_await stream_.read_exact(h, until);
      if (r.status != io_status::ok) {
        if (r.status == io_status::closed && r.transferred == 0)
          throw peer_closed_error(names_.self + ": " + peer_label() + " closed the link while we waited for " +
                                  std::string(awaited) + (r.ec ? " (" + r.ec.message() + ")" : ""));
        fail(r, started, awaited, "frame header", frame_header_bytes);
      }
      counters_.wire_bytes_received += frame_header_bytes;
      const decoded_header d = decode_frame_header(h);
      if (d.reserved != 0)
        throw decode_error(names_.self + ": malformed frame from " + peer_label() + ": reserved header field is " +
                           std::to_string(d.reserved) + ", expected 0");
      const std::optional<std::size_t> max = limits ? limits(d.type) : std::nullopt;
      if (!max)
        throw decode_error(names_.self + ": unexpected message " + type_label(d.type) + " from " + peer_label() +
                           " while waiting for " + std::string(awaited));
      if (d.length > *max)
        throw decode_error(names_.self + ": message " + type_label(d.type) + " from " + peer_label() +
                           " announces " + std::to_string(d.length) + " bytes, more than the " +
                           std::to_string(*max) + " allowed for " + std::string(awaited));
      message m;
      m.type = d.type;
      if (d.length > 0) {
        if constexpr (requires { stream_.read_owned(d.length, until); }) {
          auto got = co_await stream_.read_owned(d.length, until);
          r = got.first;
          m.payload = std::move(got.second);
        } else {
          m.payload.resize(d.length);
          if (d.type < first_reserved_type) {
            // A protocol message's payload: the progress deadline. The net
            // layer's own (the handshake, all that a peer which has not
            // authenticated may send) stays bounded by the receive's deadline.
            r = co_await stream_.read_progress(m.payload, stall_);
            if (r.status == io_status::timeout)
              throw timeout_error(names_.self + ": receiving " + type_label(d.type) + " (" +
                                  std::to_string(d.length) + " bytes) from " + peer_label() + " for " +
                                  std::string(awaited) + ": no byte came for " + millis_label(stall_) + " (" +
                                  std::to_string(r.transferred) + " of " + std::to_string(d.length) +
                                  " bytes received); the peer stopped sending");
          } else {
            r = co_await stream_.read_exact(m.payload, until);
          }
        }
        if (r.status != io_status::ok) fail(r, started, awaited, "payload of " + type_label(d.type), d.length);
      }
      counters_.wire_bytes_received += d.length;
      counters_.payload_bytes_received += d.length;
      ++counters_.messages_received;
      co_return m;
    } catch (...) {
      failure_ = std::current_exception();
      throw;
    }
  }

 private:
  [[noreturn]] void fail(const io_result& r, clock::time_point started, std::string_view awaited,
                         const std::string& part, std::size_t want) const {
    if (r.status == io_status::timeout)
      throw timeout_error(names_.self + ": timed out after " + millis_label(clock::now() - started) +
                          " waiting for " + std::string(awaited) + " from " + peer_label());
    throw decode_error(names_.self + ": truncated frame from " + peer_label() + ": the link closed after " +
                       std::to_string(r.transferred) + " of " + std::to_string(want) + " bytes of the " + part +
                       (r.ec ? " (" + r.ec.message() + ")" : ""));
  }

  // One frame out: the header for `length` payload bytes, then write(header)
  // moves header and payload; failures name the peer.
  template <class Write>
  [[nodiscard]] asio::awaitable<void> send_frame(message_type type, std::size_t length, Write write) {
    if (closed_) throw peer_closed_error(names_.self + ": cannot send to " + peer_label() + ": the link is shut down");
    const in_flight send_in_flight(sending_, [&] { return names_.self + ": two concurrent sends on the link to " + peer_label(); });
    const frame_header h = encode_frame_header(type, length);
    const io_result r = co_await write(h);
    if (r.status == io_status::timeout)
      throw timeout_error(names_.self + ": sending " + type_label(type) + " (" + std::to_string(length) +
                          " bytes) to " + peer_label() + ": no byte moved for " + millis_label(stall_) + " (" +
                          std::to_string(r.transferred) + " of " + std::to_string(frame_header_bytes + length) +
                          " bytes sent); the peer stopped reading");
    if (r.status != io_status::ok)
      throw peer_closed_error(names_.self + ": sending " + type_label(type) + " to " + peer_label() +
                              " failed: the peer closed the link" + (r.ec ? " (" + r.ec.message() + ")" : ""));
    ++counters_.messages_sent;
    counters_.payload_bytes_sent += length;
    counters_.wire_bytes_sent += frame_header_bytes + length;
  }

  Stream stream_;
  clock::duration stall_;
  link_counters counters_{};
  std::exception_ptr failure_{};
  bool closed_ = false;
  bool sending_ = false;
  bool receiving_ = false;
};

}  // namespace pmdi::net
