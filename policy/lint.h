// Advice on a valid policy: things that are allowed but weaken containment.
// Run after loading, only when the policy has no errors (it needs the
// resolved devices); `validate`, `--check` and the daemon print the warnings.
#pragma once

#include "policy/diagnostic.h"
#include "policy/model.h"

namespace ringfence::policy {

// Warns about devices with neither `mac:` nor `interface:` (any host on
// their segment can use their address) and, in the routed topology, about
// learn and monitor devices on one interface with enforced ones (a routed
// gateway never sees traffic within a segment).
void lintPolicy(const Policy& policy, Diagnostics& diags);

}  // namespace ringfence::policy
