// expect: PMDI_E_ROLE_SELF_CHANNEL
// first error: PMDI_E_ROLE_SELF_CHANNEL, pmdi::diag::roles::role_at_both_ends<pmdi::role::garbler<1> > >
// A role cannot hold a channel to itself.
#include "pmdi/proto/channel.hpp"

void touch() { (void)sizeof(pmdi::proto::channel<pmdi::role::garbler<1>, pmdi::role::garbler<1>>); }
