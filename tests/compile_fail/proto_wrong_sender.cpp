// expect: PMDI_E_ROLE_WRONG_SENDER
// first error: PMDI_E_ROLE_WRONG_SENDER, pmdi::diag::roles::sending_role<pmdi::role::garbler<0> >, pmdi::diag::roles::message<pmdi::proto::msg_masked_input>, pmdi::diag::roles::declared_sender<pmdi::role::client> >
// A garbler tries to send the client's masked input (declared client -> garbler<0>).
#include "pmdi/proto/messages.hpp"

boost::asio::awaitable<void> misuse(pmdi::proto::channel<pmdi::role::garbler<0>, pmdi::role::client>& ch) {
  const std::uint32_t z[1] = {0};
  co_await pmdi::proto::send<pmdi::proto::msg_masked_input>(ch, 1, std::span<const std::uint32_t>(z));
}
