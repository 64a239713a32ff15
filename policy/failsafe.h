// The failsafe table: what the daemon applies when no policy can be (the one
// on disk is refused and no last good one was saved, or that one is refused
// too). It forwards nothing to or from a device interface, and logs what it
// drops; with no device interface known (the configuration is unreadable or
// lists none) it forwards nothing at all. Pure: a Plan like any other, applied
// through the same sink and printed by the same renderer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/plan.h"

namespace ringfence::policy {

// NFLOG prefix of every packet the failsafe drops.
inline constexpr const char* kFailsafeLogPrefix = "ringfence failsafe ";

// The table is named `table` (family inet). Besides its chain it declares
// `devifs` and the run-time sets `isolated4`/`isolated6` (with a rule that
// drops their addresses whatever the interface), so that isolations can be
// added to it and read back from it as from a compiled plan.
// `bridgeUplinks` set: the bridge topology, or a configuration that could not
// be read (then empty): the plan also has a bridge table that bridges nothing
// to or from a port outside `bridgeUplinks` (failsafeBridgeTable).
Plan failsafePlan(const std::string& table, const std::vector<std::string>& deviceInterfaces,
                  const std::optional<std::vector<std::string>>& bridgeUplinks = std::nullopt);

// True for a plan made by failsafePlan.
bool isFailsafePlan(const Plan& plan);

}  // namespace ringfence::policy
