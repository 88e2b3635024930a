#pragma once
// The protocol's blocking links (proto::link, one role thread calls send and
// receive) over the net layer's transports (a secure TCP channel in a
// deployment), through net::blocking_link: one net::io_thread per process runs
// every link's I/O and the role thread waits for each operation, so errors
// (timeout, peer closed, failed authentication) come back as the net layer's
// exceptions, which the protocol re-throws as protocol_error naming the
// party, the step and the peer.
//
// Every protocol frame travels as one net message of type `frame_type`; its
// length is checked against `max_frame` before anything is allocated (the
// protocol then checks the exact size each message may have).
//
// Besides the protocol's byte counters, a transport_link counts "flights":
// a send that follows a receive on any of the party's links (or is the
// party's first send) starts a flight, counted on the link it goes to. Summed
// over a party's links they are the party's rounds: how often it turned from
// waiting to sending.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "pmdi/net/blocking.hpp"
#include "pmdi/net/transport.hpp"
#include "pmdi/proto/endpoint.hpp"

namespace pmdi::run {

// The net message type that carries protocol frames.
inline constexpr net::message_type frame_type = 0x0001;
// Largest protocol frame accepted on a link (garbled tables of one stage are
// the largest: 32 bytes per AND gate).
inline constexpr std::size_t default_max_frame = std::size_t{1} << 31;

class transport_link final : public proto::link {
 public:
  // `last_was_send` is shared by all links of one party (flights are per party).
  transport_link(std::unique_ptr<net::blocking_link> l, std::atomic<bool>& last_was_send,
                 std::size_t max_frame = default_max_frame)
      : l_(std::move(l)), last_was_send_(last_was_send), max_frame_(max_frame) {}
  ~transport_link() override { close(); }

  void send(proto::frame f) override {
    count_sent(f.size());
    if (!last_was_send_.exchange(true)) ++flights_;
    l_->send(frame_type, f);
  }

  [[nodiscard]] proto::frame receive(std::chrono::milliseconds deadline) override {
    net::message m = l_->receive(net::expect_type(frame_type, max_frame_), deadline, "the next protocol message");
    last_was_send_ = false;
    count_received(m.payload.size());
    return std::move(m.payload);
  }

  // Shuts the transport down (on the I/O thread): the peer's waits on this
  // link end at once, and so does a wait of ours.
  void close() noexcept override {
    if (closed_.exchange(true)) return;
    try {
      l_->shutdown();
    } catch (...) {
    }
  }

  [[nodiscard]] std::uint64_t flights() const noexcept { return flights_.load(); }
  // Every byte on the wire (headers, tags, handshake).
  [[nodiscard]] net::link_counters wire_counters() const { return l_->counters(); }

 private:
  std::unique_ptr<net::blocking_link> l_;
  std::atomic<bool>& last_was_send_;
  std::size_t max_frame_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> flights_{0};
};

}  // namespace pmdi::run
