// expect: PMDI_E_ROLE_WRONG_SENDER
// A garbler tries to send the client's masked input (declared client -> garbler).
#include "pmdi/proto/messages.hpp"

void misuse(pmdi::proto::endpoint<pmdi::proto::party::garbler, pmdi::proto::party::client>& ep) {
  const std::uint32_t z[1] = {0};
  pmdi::proto::send<pmdi::proto::msg_masked_input>(ep, 1, std::span<const std::uint32_t>(z));
}
