#include "daemon/enforcer.h"

#include "policy/plan_diff.h"

namespace ringfence::daemon {

std::expected<ApplyReport, std::string> Enforcer::start(policy::Plan plan) {
  auto stats = sink_.replace(plan, {});
  if (!stats) return std::unexpected(stats.error());
  running_ = std::move(plan);
  return ApplyReport{true, 0, *stats};
}

std::expected<ApplyReport, std::string> Enforcer::reload(policy::Plan next) {
  if (!running_) return start(std::move(next));
  policy::PlanDiff diff = policy::diffPlans(*running_, next);
  ApplyReport report;
  if (diff.rebuild) {
    auto stats = sink_.replace(next, running_->table);
    if (!stats) return std::unexpected(stats.error());
    report = {true, 0, *stats};
  } else if (!diff.empty()) {
    auto stats = sink_.update(*running_, next, diff);
    if (!stats) return std::unexpected(stats.error());
    report = {false, diff.elementChanges(), *stats};
  }
  running_ = std::move(next);
  return report;
}

std::expected<ApplyReport, std::string> Enforcer::reassert() {
  if (!running_) return std::unexpected(std::string("no policy in force"));
  auto stats = sink_.replace(*running_, {});
  if (!stats) return std::unexpected(stats.error());
  return ApplyReport{true, 0, *stats};
}

}  // namespace ringfence::daemon
