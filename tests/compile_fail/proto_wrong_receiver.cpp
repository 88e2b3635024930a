// expect: PMDI_E_ROLE_WRONG_RECEIVER
// first error: PMDI_E_ROLE_WRONG_RECEIVER, pmdi::diag::roles::peer<pmdi::role::evaluator<1> >, pmdi::diag::roles::message<pmdi::proto::msg_garbled_tables<0> >, pmdi::diag::roles::declared_receiver<pmdi::role::evaluator<0> > >
// The garbler of cluster 0 tries to send its garbled tables to the evaluator
// of cluster 1 (declared garbler<J> -> evaluator<J>: the same cluster only).
#include "pmdi/proto/messages.hpp"

boost::asio::awaitable<void> misuse(pmdi::proto::channel<pmdi::role::garbler<0>, pmdi::role::evaluator<1>>& ch) {
  const std::vector<pmdi::block> tables(4);
  co_await pmdi::proto::send<pmdi::proto::msg_garbled_tables<0>>(ch, 1, std::span<const pmdi::block>(tables));
}
