// expect: PMDI_E_ROLE_WRONG_SENDER
// A garbler tries to send a message whose declared sender is the client.
#include "pmdi/proto/channel.hpp"

namespace {
template <std::size_t J>
struct masked_input {
  using sender = pmdi::role::client;
  using receiver = pmdi::role::garbler<J>;
  static constexpr std::uint16_t id = 0x0101;
  void serialize(pmdi::byte_writer&) const {}
};
}  // namespace

boost::asio::awaitable<void> misuse(pmdi::proto::channel<pmdi::role::garbler<0>, pmdi::role::evaluator<0>>& ch) {
  co_await ch.send(masked_input<0>{});
}
