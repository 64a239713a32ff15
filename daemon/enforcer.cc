#include "daemon/enforcer.h"

#include "policy/plan_diff.h"

namespace ringfence::daemon {

std::expected<ApplyReport, std::string> Enforcer::start(policy::Plan plan) {
  auto stats = sink_.replace(plan, {});
  if (!stats) return std::unexpected(stats.error());
  running_ = std::move(plan);
  return ApplyReport{true, 0, *stats};
}

std::expected<ApplyReport, std::string> Enforcer::reload(policy::Plan next, policy::Plan* replaced,
                                                         bool rebuild) {
  if (!running_) return start(std::move(next));
  policy::PlanDiff diff;
  if (!rebuild) diff = policy::diffPlans(*running_, next);
  ApplyReport report;
  if (rebuild || diff.rebuild) {
    auto stats = sink_.replace(next, running_->table);
    if (!stats) return std::unexpected(stats.error());
    report = {true, 0, *stats};
  } else if (!diff.empty()) {
    auto stats = sink_.update(*running_, next, diff);
    if (!stats) return std::unexpected(stats.error());
    report = {false, diff.elementChanges(), *stats};
  }
  if (replaced) *replaced = std::move(*running_);
  running_ = std::move(next);
  return report;
}

std::expected<ApplyReport, std::string> Enforcer::changeElements(const Elements& add,
                                                                 const Elements& remove) {
  if (!running_) return std::unexpected(std::string("no policy in force"));
  policy::PlanDiff diff;
  auto changeFor = [&](const std::string& set) -> policy::SetChange& {
    for (policy::SetChange& c : diff.sets) {
      if (c.set == set) return c;
    }
    diff.sets.push_back(policy::SetChange{set, {}, {}});
    return diff.sets.back();
  };
  for (const auto& [set, e] : remove) changeFor(set).removed.push_back(&e);
  for (const auto& [set, e] : add) changeFor(set).added.push_back(&e);
  if (diff.empty()) return ApplyReport{};
  auto stats = sink_.update(*running_, *running_, diff);
  if (!stats) return std::unexpected(stats.error());
  running_->removeElements(remove);
  running_->addElements(add);
  return ApplyReport{false, diff.elementChanges(), *stats};
}

}  // namespace ringfence::daemon
