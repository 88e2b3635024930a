// expect: PMDI_E_ROLE_SELF_CHANNEL
// first error: static assertion failed: PMDI_E_ROLE_SELF_CHANNEL
// A role cannot hold a channel to itself.
#include "pmdi/proto/channel.hpp"

void touch() { (void)sizeof(pmdi::proto::channel<pmdi::role::garbler<1>, pmdi::role::garbler<1>>); }
