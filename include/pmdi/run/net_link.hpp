#pragma once
// Adapter: a net:: transport (TCP, in-memory, or the secure channel around
// either) as the protocol's frame link (proto::link), through net's blocking
// handles. The protocol's frames travel as one net message type, with a frame
// limit that net checks before it allocates.
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "pmdi/core/error.hpp"
#include "pmdi/net/blocking.hpp"
#include "pmdi/net/secure.hpp"
#include "pmdi/proto/endpoint.hpp"

namespace pmdi::run {

inline constexpr net::message_type frame_message_type = 0x0100;
inline constexpr std::size_t max_frame_bytes = std::size_t{1} << 30;  // the largest message: garbled tables

class net_link final : public proto::link {
 public:
  explicit net_link(std::unique_ptr<net::blocking_link> l, std::size_t max_frame = max_frame_bytes)
      : l_(std::move(l)), max_(max_frame) {
    if (!l_) throw usage_error("run::net_link needs a link");
  }
  void send(proto::frame f) override {
    l_->send(frame_message_type, f);
    count_sent(f.size());
  }
  [[nodiscard]] proto::frame receive(std::chrono::milliseconds deadline) override {
    auto m = l_->receive(net::expect_type(frame_message_type, max_), deadline, "the next protocol message");
    count_received(m.payload.size());
    return std::move(m.payload);
  }
  void close() noexcept override {
    try {
      l_->shutdown();
    } catch (...) {
    }
  }
  // Every byte on the wire (framing, record tags, handshake), for reports.
  [[nodiscard]] net::link_counters wire_counters() const { return l_->counters(); }

 private:
  std::unique_ptr<net::blocking_link> l_;
  std::size_t max_;
};

// Two ends of an authenticated, encrypted in-memory channel (net's secure
// handshake over a memory pair), both served by `io`.
[[nodiscard]] inline std::pair<std::unique_ptr<net_link>, std::unique_ptr<net_link>> secure_memory_links(
    const std::shared_ptr<net::io_thread>& io, const std::string& a, const std::string& b, prg& rng) {
  auto ends = io->run(net::secure_memory_pair(a, b, rng));
  return {std::make_unique<net_link>(std::make_unique<net::blocking_link>(io, std::move(ends.first))),
          std::make_unique<net_link>(std::make_unique<net::blocking_link>(io, std::move(ends.second)))};
}

}  // namespace pmdi::run
