// expect: PMDI_E_NOT_A_MESSAGE
// first error: static assertion failed: PMDI_E_NOT_A_MESSAGE
// A payload without sender/receiver/id cannot be sent as a frame.
#include "pmdi/proto/channel.hpp"

struct loose_payload {};

boost::asio::awaitable<void> misuse(pmdi::proto::channel<pmdi::role::client, pmdi::role::cloud>& ch) {
  co_await ch.send_frame<loose_payload>({});
}
