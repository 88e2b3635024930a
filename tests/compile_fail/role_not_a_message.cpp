// expect: PMDI_E_NOT_A_MESSAGE
// A payload without sender/receiver/id cannot be sent.
#include "pmdi/proto/channel.hpp"

struct loose_payload {
  void serialize(pmdi::byte_writer&) const {}
};

boost::asio::awaitable<void> misuse(pmdi::proto::channel<pmdi::role::client, pmdi::role::cloud>& ch) {
  co_await ch.send(loose_payload{});
}
