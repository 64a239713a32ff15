#include "policy/policy_packing.h"

#include <cstring>

#include "policy/policy_fields.h"

namespace ringfence::policy {

void packPolicy(Packer& p, const Policy& policy) { p(policy); }

Policy unpackPolicy(Unpacker& u) {
  Policy out;
  u(out);
  return out;
}

bool filledAtRunTime(const SetDef& set) {
  for (const char* name : {setname::kIsolated4, setname::kIsolated6, setname::kIsolatedMac,
                           setname::kMaintenance4, setname::kMaintenance6}) {
    if (set.name == name) return true;
  }
  return false;
}

// The fields of fields(Plan), in its order, with the run-time sets packed empty.
void packCompiledPlan(Packer& p, const Plan& plan) {
  p(plan.table, plan.family);
  p.u32(static_cast<uint32_t>(plan.companions.size()));
  for (const Plan& c : plan.companions) packCompiledPlan(p, c);
  p(plan.needsBridgeNetfilter, plan.limits);
  p.u32(static_cast<uint32_t>(plan.sets.size()));
  for (const SetDef& set : plan.sets) {
    if (!filledAtRunTime(set) || set.elements.empty()) {
      p(set);
      continue;
    }
    SetDef empty = set;
    empty.elements.clear();
    p(empty);
  }
  p(plan.chains, plan.devices);
}

Plan unpackPlan(Unpacker& u) {
  Plan out;
  u(out);
  for (const DeviceElements& d : out.devices) {
    if (!d.slices.empty() && d.slices.back().set >= out.sets.size())
      throw PackingError("a device's slice names a set the plan does not have");
  }
  return out;
}

}  // namespace ringfence::policy
