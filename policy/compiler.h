// Policy -> Plan. Pure and deterministic: the same policy always compiles to
// the same plan, element for element, so plans can be diffed.
#pragma once

#include "policy/model.h"
#include "policy/plan.h"

namespace ringfence::policy {

// `policy` must have loaded without errors.
Plan compilePlan(const Policy& policy);

}  // namespace ringfence::policy
