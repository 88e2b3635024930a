// expect: PMDI_E_ROLE_WRONG_RECEIVER
// first error: PMDI_E_ROLE_WRONG_RECEIVER, pmdi::diag::roles::receiving_role<pmdi::role::compute<1, 0> >, pmdi::diag::roles::message<pmdi::proto::msg_stage_input<0, 0> >, pmdi::diag::roles::declared_receiver<pmdi::role::compute<0, 0> > >
// A compute server of cluster 1 reads a stage input meant for compute<0, 0>
// (declared garbler<J> -> compute<J, V>: one cluster's garbler to its own servers).
#include "pmdi/proto/messages.hpp"

boost::asio::awaitable<void> misuse(pmdi::proto::channel<pmdi::role::compute<1, 0>, pmdi::role::garbler<0>>& ch) {
  (void)co_await pmdi::proto::receive_words<pmdi::proto::msg_stage_input<0, 0>, std::uint32_t>(ch, 1, 3);
}
