#pragma once
// A party's protocol link in a deployment: run::net_link (the protocol's
// frames over a net:: transport, here a secure TCP channel, through net's
// blocking handles) plus a count of "flights" for the reports.
//
// A send that follows a receive on any of the party's links (or is the
// party's first send) starts a flight, counted on the link it goes to. Summed
// over a party's links they are the party's rounds: how often it turned from
// waiting to sending.
//
// Errors (timeout, peer closed, failed authentication) come back as the net
// layer's exceptions, which the protocol re-throws as protocol_error naming
// the party, the step and the peer.
#include <atomic>
#include <chrono>
#include <memory>

#include "pmdi/net/blocking.hpp"
#include "pmdi/proto/endpoint.hpp"
#include "pmdi/run/net_link.hpp"

namespace pmdi::run {

// [u16 0xFFFF][u64 0]: a frame id no protocol message has.
[[nodiscard]] inline proto::frame done_frame() {
  proto::frame f(10, std::byte{0});
  f[0] = f[1] = std::byte{0xFF};
  return f;
}

class transport_link final : public proto::link {
 public:
  // `last_was_send` is shared by all links of one party (flights are per party).
  transport_link(std::unique_ptr<net::blocking_link> l, std::atomic<bool>& last_was_send)
      : inner_(std::make_unique<net_link>(std::move(l))), last_was_send_(last_was_send) {}
  ~transport_link() override { close(); }

  void send(proto::frame f) override {
    if (!last_was_send_.exchange(true)) ++flights_;
    const std::size_t n = f.size();
    inner_->send(std::move(f));
    count_sent(n);
  }

  [[nodiscard]] proto::frame receive(std::chrono::milliseconds deadline) override {
    proto::frame f = inner_->receive(deadline);
    last_was_send_ = false;
    count_received(f.size());
    return f;
  }

  // Shuts the transport down: the peer's waits on this link end at once.
  void close() noexcept override {
    if (!closed_.exchange(true)) inner_->close();
  }

  // The end of a run: after its last protocol message a party sends `done`
  // on every link and then waits for each peer's. Nothing follows it, so a
  // peer never meets it in a protocol receive (it would be refused there: its
  // id is outside the catalogue).
  void send_done() { inner_->send(done_frame()); }
  [[nodiscard]] bool receive_done(std::chrono::milliseconds deadline) { return inner_->receive(deadline) == done_frame(); }

  [[nodiscard]] std::uint64_t flights() const noexcept { return flights_.load(); }
  [[nodiscard]] net::link_counters wire_counters() const { return inner_->wire_counters(); }

 private:
  std::unique_ptr<net_link> inner_;
  std::atomic<bool>& last_was_send_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> flights_{0};
};

}  // namespace pmdi::run
