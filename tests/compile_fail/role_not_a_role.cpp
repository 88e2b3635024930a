// expect: PMDI_E_NOT_A_ROLE
// first error: PMDI_E_NOT_A_ROLE, pmdi::diag::roles::not_a_role_type<server> >
// channel<> takes role types only.
#include "pmdi/proto/channel.hpp"

struct server {};
void touch() { (void)sizeof(pmdi::proto::channel<pmdi::role::client, server>); }
