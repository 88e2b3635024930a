// expect: PMDI_E_NOT_A_ROLE
// first error: static assertion failed: PMDI_E_NOT_A_ROLE
// channel<> takes role types only.
#include "pmdi/proto/channel.hpp"

struct server {};
void touch() { (void)sizeof(pmdi::proto::channel<pmdi::role::client, server>); }
