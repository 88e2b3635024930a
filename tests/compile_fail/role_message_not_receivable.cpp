// expect: PMDI_E_MESSAGE_NOT_RECEIVABLE
// receive<Msg>(deadline, args...) needs Msg::max_bytes(args...) and Msg::parse(reader, args...).
#include "pmdi/proto/channel.hpp"

struct enc_mask {
  using sender = pmdi::role::client;
  using receiver = pmdi::role::cloud;
  static constexpr std::uint16_t id = 0x0201;
  void serialize(pmdi::byte_writer&) const {}
  static std::size_t max_bytes(std::size_t n) { return n; }
  static enc_mask parse(pmdi::byte_reader&, std::size_t) { return {}; }
};

boost::asio::awaitable<void> misuse(pmdi::proto::channel<pmdi::role::cloud, pmdi::role::client>& ch) {
  (void)co_await ch.receive<enc_mask>(pmdi::net::after(std::chrono::seconds(1)));  // forgot the size
}
