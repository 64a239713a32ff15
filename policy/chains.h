// The fixed rule structure of the table. It depends only on the daemon
// configuration: devices and their rules live in sets, so adding a device
// never adds a rule.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "policy/model.h"
#include "policy/plan.h"

namespace ringfence::policy {

// The distinct values of the outbound limits in a policy (limits.md). Each
// value has a member set of the device addresses under it, a meter and one
// rule per family: a new value adds rules, a new device never does.
struct OutboundLimits {
  std::set<uint32_t> rates;        // limits.outbound_new_per_second
  std::set<uint32_t> connections;  // limits.concurrent_connections
};
OutboundLimits outboundLimits(const Policy& policy);
// ("orate", "4", 200) -> "orate4_200"; its meter is "orate4_200_meter"
std::string limitSetName(const char* kind, const char* family, uint32_t value);
inline constexpr const char* kRateSets = "orate";
inline constexpr const char* kConnectionSets = "conns";
inline constexpr uint32_t kMeterSize = 1u << 20;

std::vector<Chain> buildRulesetChains(const DaemonConfig& config, const OutboundLimits& limits);

// "allow_out4" + shard 3 -> "allow_out4_ranges_03"
std::string rangeSetName(const std::string& allowSet, unsigned shard);
// "out4" + shard 3 -> "ranges_out4_03"
std::string rangeChainName(const std::string& deviceChain, unsigned shard);

}  // namespace ringfence::policy
