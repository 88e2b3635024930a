// expect: PMDI_E_ROLE_WRONG_RECEIVER
// A compute server tries to read the garbled tables (declared garbler -> evaluator).
#include "pmdi/proto/messages.hpp"

void misuse(pmdi::proto::endpoint<pmdi::proto::party::compute, pmdi::proto::party::garbler>& ep) {
  (void)pmdi::proto::receive<pmdi::proto::msg_garbled_tables>(ep, 1, std::size_t{2});
}
