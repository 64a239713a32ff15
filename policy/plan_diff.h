// The difference between the plan in force and a new one, as the smallest
// set of changes the kernel needs: elements added and removed, limit objects
// replaced, chains rewritten only when their rules changed. Pure: the
// netlink layer turns it into one transaction.
#pragma once

#include <string>
#include <vector>

#include "policy/plan.h"

namespace ringfence::policy {

struct SetChange {
  std::string set;
  std::vector<ElementRef> removed;  // into the old plan
  std::vector<ElementRef> added;    // into the new plan
};

struct PlanDiff {
  // The table itself must be rebuilt (renamed, or a set's type changed):
  // everything is recreated in one transaction.
  bool rebuild = false;
  std::vector<SetChange> sets;  // only sets with changes
  std::vector<const LimitObject*> limitsRemoved;
  std::vector<const LimitObject*> limitsAdded;  // changed ones are removed and added
  std::vector<const Chain*> chainsRewritten;    // new plan's chains whose rules changed
  bool companionsChanged = false;               // the bridge table is rebuilt whole

  bool empty() const {
    return !rebuild && sets.empty() && limitsRemoved.empty() && limitsAdded.empty() &&
           chainsRewritten.empty() && !companionsChanged;
  }
  size_t elementChanges() const;
};

// Both plans must outlive the diff.
PlanDiff diffPlans(const Plan& running, const Plan& next);

}  // namespace ringfence::policy
