// Policy -> Plan. Pure and deterministic: the same policy always compiles to
// the same plan, element for element, so plans can be diffed.
#pragma once

#include <memory>

#include "policy/model.h"
#include "policy/plan.h"

namespace ringfence::policy {

class CompileCache;

// `policy` must have loaded without errors.
Plan compilePlan(const Policy& policy);
// The same plan; a device compiled before (the same device, against the
// same set layout) is not compiled again (compile_cache.h). The cache shares
// the policy's devices from now on (they never change: DeviceList).
Plan compilePlan(const Policy& policy, CompileCache& cache);

// The isolated4/isolated6 elements that cut `addresses` off and the
// isolated_mac element of `mac`, commented with the device name: what the
// daemon adds to isolate a device with these addresses and MAC (also one
// that left the policy). Made when needed, not kept in the plan.
inline constexpr size_t kMaxIsolationComment = 128;
std::vector<std::pair<std::string, SetElement>> isolationElements(
    const std::string& device, const std::vector<IpAddress>& addresses,
    const std::optional<MacAddress>& mac);

}  // namespace ringfence::policy
