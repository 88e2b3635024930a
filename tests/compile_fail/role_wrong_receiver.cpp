// expect: PMDI_E_ROLE_WRONG_RECEIVER
// An evaluator tries to receive a message whose declared receiver is the garbler.
#include "pmdi/proto/channel.hpp"

namespace {
template <std::size_t J>
struct masked_input {
  using sender = pmdi::role::client;
  using receiver = pmdi::role::garbler<J>;
  static constexpr std::uint16_t id = 0x0101;
  void serialize(pmdi::byte_writer&) const {}
  static std::size_t max_bytes() { return 0; }
  static masked_input parse(pmdi::byte_reader&) { return {}; }
};
}  // namespace

boost::asio::awaitable<void> misuse(pmdi::proto::channel<pmdi::role::evaluator<0>, pmdi::role::client>& ch) {
  (void)co_await ch.receive<masked_input<0>>(pmdi::net::after(std::chrono::seconds(1)));
}
