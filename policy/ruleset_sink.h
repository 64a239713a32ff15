// The seam between the daemon and the kernel: "apply this change atomically".
// netlink/ implements it with one nftables transaction per call; tests use a
// fake. Every call is all-or-nothing: on error nothing changed.
#pragma once

#include <cstddef>
#include <expected>
#include <string>

#include "policy/plan.h"
#include "policy/plan_diff.h"

namespace ringfence::policy {

struct ApplyStats {
  size_t messages = 0;  // netlink messages in the transaction
  size_t bytes = 0;
  double encodeMs = 0;  // building the transaction in memory
  double kernelMs = 0;  // sending it and reading every acknowledgement
};

class RulesetSink {
 public:
  virtual ~RulesetSink() = default;

  // Makes the table exactly `plan`, replacing any table of that name (and
  // `alsoDelete`, a table the previous plan used, when it differs) in one
  // transaction. Errors name what the kernel refused.
  virtual std::expected<ApplyStats, std::string> replace(const Plan& plan,
                                                         const std::string& alsoDelete = {}) = 0;

  // Moves the kernel from `running` to `next` by `diff` (not a rebuild).
  virtual std::expected<ApplyStats, std::string> update(const Plan& running, const Plan& next,
                                                        const PlanDiff& diff) = 0;
};

}  // namespace ringfence::policy
