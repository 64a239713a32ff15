// Size limits of the compiled policy (docs/policy-loading.md). A policy over
// them is refused like any other error: a ruleset that large takes seconds to
// compile and to send to the kernel, and the daemon must stay responsive.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "policy/diagnostic.h"
#include "policy/model.h"

namespace ringfence::policy {

struct PlanLimits {
  size_t perDevice = 16384;  // set elements of one device
  size_t total = 3000000;    // set elements of the whole table (100,000 devices of about 23)
};

// Exactly the number of set elements compilePlan gives each device (its
// slices, its maintenance elements and its isolation elements), counted
// without building them. Sorted like policy.devices.
struct DeviceSize {
  std::string device;
  size_t elements = 0;
};
size_t compiledSize(const Device& d);
std::vector<DeviceSize> compiledSizes(const Policy& policy);
// Every element of the table, run-time ones (isolation, maintenance) included.
size_t compiledTotal(const Policy& policy, const std::vector<DeviceSize>& sizes);

// An error at each device over `perDevice` (naming the rules that make most
// of it), and one for the whole policy when over `total`.
void checkPlanLimits(const Policy& policy, Diagnostics& diags, const PlanLimits& limits = {});
// The same with each device's compiledSize() known already (parallel to policy.devices).
void checkPlanLimits(const Policy& policy, const std::vector<size_t>& sizes, Diagnostics& diags,
                     const PlanLimits& limits = {});

}  // namespace ringfence::policy
