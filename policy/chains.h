// The fixed rule structure of the table. It depends only on the daemon
// configuration: devices and their rules live in sets, so adding a device
// never adds a rule.
#pragma once

#include <vector>

#include "policy/model.h"
#include "policy/plan.h"

namespace ringfence::policy {

std::vector<Chain> buildRulesetChains(const DaemonConfig& config);

}  // namespace ringfence::policy
