// What a new policy changes, per device, in the admin's words: the report a
// reload logs and returns. Losing a guard (a binding, a limit, a stricter
// mode or action), a flow or a device is a warning: a half-written or wrong
// profile must never weaken a device silently.
#pragma once

#include <string>
#include <vector>

#include "policy/model.h"

namespace ringfence::policy {

enum class ChangeSeverity {
  Notice,   // an addition, or a guard that got stricter
  Warning,  // a loss: a device, an address, a flow or a guard
};

struct PolicyChange {
  ChangeSeverity severity = ChangeSeverity::Notice;
  std::string device;  // empty for a change of the whole policy (configuration)
  std::string what;    // "MAC binding removed (was 02:00:00:00:00:10)"
  bool operator==(const PolicyChange&) const = default;
};

// Every change, device by device (by name), warnings and notices in the
// order the device's fields are written; changes of the configuration first.
std::vector<PolicyChange> policyChanges(const Policy& before, const Policy& after);

// "device 'pump-3w-01': MAC binding removed (was 02:00:00:00:00:10)", or
// "policy: ..." for the configuration.
std::string formatChange(const PolicyChange& c);

// policyChanges as lines, each warning prefixed "warning: ".
std::vector<std::string> describeChanges(const Policy& before, const Policy& after);

bool hasWarnings(const std::vector<PolicyChange>& changes);

}  // namespace ringfence::policy
