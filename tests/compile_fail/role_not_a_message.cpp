// expect: PMDI_E_NOT_A_MESSAGE
// first error: PMDI_E_NOT_A_MESSAGE, pmdi::diag::roles::not_a_message_type<loose_payload> >
// A payload without sender/receiver/id cannot be sent as a frame.
#include "pmdi/proto/channel.hpp"

struct loose_payload {};

boost::asio::awaitable<void> misuse(pmdi::proto::channel<pmdi::role::client, pmdi::role::cloud>& ch) {
  co_await ch.send_frame<loose_payload>({});
}
