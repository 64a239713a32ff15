// The fixed rule structure of the table. It depends only on the daemon
// configuration: devices and their rules live in sets, so adding a device
// never adds a rule.
#pragma once

#include <string>
#include <vector>

#include "policy/model.h"
#include "policy/plan.h"

namespace ringfence::policy {

std::vector<Chain> buildRulesetChains(const DaemonConfig& config);

// "allow_out4" + shard 3 -> "allow_out4_ranges_03"
std::string rangeSetName(const std::string& allowSet, unsigned shard);
// "out4" + shard 3 -> "ranges_out4_03"
std::string rangeChainName(const std::string& deviceChain, unsigned shard);

}  // namespace ringfence::policy
