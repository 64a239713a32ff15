// Keeps the kernel's table equal to the policy: applies the first plan,
// moves to a new one by its difference, and puts the running one back when
// the table was tampered with. Pure over a RulesetSink; no I/O of its own.
#pragma once

#include <expected>
#include <optional>
#include <string>

#include "policy/plan.h"
#include "policy/ruleset_sink.h"

namespace ringfence::daemon {

struct ApplyReport {
  bool rebuilt = false;       // the whole table was replaced
  size_t elementChanges = 0;  // for an update: elements added + removed
  policy::ApplyStats stats;
};

class Enforcer {
 public:
  explicit Enforcer(policy::RulesetSink& sink) : sink_(sink) {}

  // Replaces any existing table with `plan` (start, takeover, and putting a
  // tampered table back).
  std::expected<ApplyReport, std::string> start(policy::Plan plan);
  // Applies only what differs from the running plan; on error the running
  // plan stays in force (in the kernel and here). Once applied, the plan it
  // replaced goes to `replaced`, if given (for the caller to free it). With
  // `rebuild`, the table is replaced whole: the running plan is not trusted to
  // say what the kernel holds beyond its name (a compiled policy that differs).
  std::expected<ApplyReport, std::string> reload(policy::Plan next,
                                                 policy::Plan* replaced = nullptr,
                                                 bool rebuild = false);
  // Adds and removes run-time elements (isolation, maintenance windows) in
  // one small transaction, without touching anything else.
  using Elements = std::vector<std::pair<std::string, policy::SetElement>>;
  std::expected<ApplyReport, std::string> changeElements(const Elements& add,
                                                         const Elements& remove);
  // Forgets elements the kernel removed by itself (expired timeouts): no transaction.
  void forgetElements(const Elements& gone) {
    if (running_) running_->removeElements(gone);
  }

  const policy::Plan* running() const { return running_ ? &*running_ : nullptr; }

 private:
  policy::RulesetSink& sink_;
  std::optional<policy::Plan> running_;
};

}  // namespace ringfence::daemon
