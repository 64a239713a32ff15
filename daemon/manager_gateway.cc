// The Manager as the D-Bus service sees it (daemon/gateway.h).
#include <algorithm>

#include "daemon/log.h"
#include "daemon/manager.h"

namespace ringfence::daemon {
namespace {

uint64_t micros(policy::WallTime t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

}  // namespace

std::vector<std::string> Manager::deviceNames() const {
  std::vector<std::string> out;
  if (!policy_) return out;
  for (const policy::Device& d : policy_->devices) out.push_back(d.name);
  return out;
}

std::optional<DeviceStatus> Manager::device(const std::string& name) const {
  const policy::Device* d = policy_ ? policy_->findDevice(name) : nullptr;
  if (!d) return std::nullopt;
  DeviceStatus s;
  s.name = d->name;
  s.description = d->description;
  s.mode = policy::toString(d->mode);
  for (const policy::IpAddress& a : d->addresses) s.addresses.push_back(policy::toString(a));
  s.mac = d->mac ? policy::toString(*d->mac) : "";
  s.interface = d->interface;
  s.inventory = d->inventory;
  s.packetsDropped = containment_->packetsDropped(name);
  s.state = "normal";
  if (auto m = maintenance_.find(name); m != maintenance_.end()) {
    s.state = "maintenance";
    s.maintenanceUntil = micros(m->second);
  }
  if (const policy::ViolationJudge* j = containment_->judge()) {
    s.violations = j->violations(name);
    if (auto last = j->lastViolation(name)) s.lastViolationAt = micros(*last);
    if (auto it = j->isolations().find(name); it != j->isolations().end()) {
      s.state = "isolated";
      s.isolatedSince = micros(it->second.since);
      s.isolationReason = it->second.reason;
    }
  }
  return s;
}

uint32_t Manager::isolatedCount() const {
  const policy::ViolationJudge* j = containment_->judge();
  return j ? static_cast<uint32_t>(j->isolations().size()) : 0;
}

uint64_t Manager::violationsTotal() const {
  const policy::ViolationJudge* j = containment_->judge();
  return j ? j->violationsTotal() : 0;
}

std::map<policy::ObservedFlow, uint64_t> Manager::observedFlows(const std::string& name) const {
  return containment_->learned().flows(name);
}

std::expected<policy::FlowVerdict, policy::FlowCheckFailure> Manager::check(
    const policy::FlowQuery& q) const {
  auto verdict = policy::checkFlow(*policy_, q);
  const policy::ViolationJudge* j = containment_->judge();
  if (verdict && verdict->allowed && !verdict->critical && j && j->isIsolated(q.device)) {
    const policy::Isolation& iso = j->isolations().at(q.device);
    return policy::FlowVerdict{
        false, q.device + " is isolated (" + iso.reason + "; by " + iso.by + ")", false};
  }
  return verdict;
}

std::expected<void, MutationError> Manager::isolate(const std::string& name,
                                                    const std::string& reason,
                                                    const std::string& by) {
  if (!policy_->findDevice(name)) return std::unexpected(MutationError::NoSuchDevice);
  log(LogLevel::Info, "isolate-request",
      "isolation of " + name + " requested by " + by + ": " + reason, name);
  if (!containment_->isolate(name, reason, by, policy::WallClock::now())) {
    return std::unexpected(MutationError::NothingToDo);
  }
  return {};
}

std::expected<void, MutationError> Manager::release(const std::string& name,
                                                    const std::string& reason,
                                                    const std::string& by) {
  const policy::ViolationJudge* j = containment_->judge();
  bool known = policy_->findDevice(name) || (j && j->isIsolated(name));
  if (!known) return std::unexpected(MutationError::NoSuchDevice);
  log(LogLevel::Info, "release-request",
      "release of " + name + " requested by " + by + ": " + reason, name);
  if (!containment_->release(name, reason, by)) return std::unexpected(MutationError::NothingToDo);
  return {};
}

Enforcer::Elements Manager::maintenanceElements(const std::string& name, uint64_t timeoutMs) const {
  Enforcer::Elements out;
  const policy::Plan* plan = enforcer_->running();
  const policy::DeviceElements* d = plan ? plan->findDevice(name) : nullptr;
  if (!d) return out;
  out = d->maintenance;
  for (auto& [set, e] : out) e.timeoutMs = timeoutMs;
  return out;
}

std::expected<void, MutationError> Manager::startMaintenance(const std::string& name,
                                                             uint64_t seconds,
                                                             const std::string& reason,
                                                             const std::string& by) {
  if (!policy_->findDevice(name)) return std::unexpected(MutationError::NoSuchDevice);
  Enforcer::Elements open = maintenanceElements(name, seconds * 1000);
  if (open.empty() || seconds == 0) return std::unexpected(MutationError::NothingToDo);
  Enforcer::Elements running;
  if (maintenance_.count(name)) running = maintenanceElements(name, 0);
  auto applied = enforcer_->changeElements(open, running);
  if (!applied) {
    log(LogLevel::Error, "apply-failed",
        "cannot open the maintenance window of " + name + ": " + applied.error(), name);
    return std::unexpected(MutationError::Failed);
  }
  maintenance_[name] = policy::WallClock::now() + std::chrono::seconds(seconds);
  log(LogLevel::Warning, "maintenance-started",
      "maintenance window of " + name + " open for " + std::to_string(seconds) + "s, by " + by +
          ": " + reason,
      name);
  if (bus_) bus_->deviceChanged(name);
  armTimer();
  return {};
}

std::expected<void, MutationError> Manager::stopMaintenance(const std::string& name,
                                                            const std::string& by) {
  if (!policy_->findDevice(name)) return std::unexpected(MutationError::NoSuchDevice);
  if (!maintenance_.count(name)) return std::unexpected(MutationError::NothingToDo);
  Enforcer::Elements elements = maintenanceElements(name, 0);
  if (!enforcer_->changeElements({}, elements)) {
    enforcer_->forgetElements(elements);  // already expired in the kernel: closed either way
  }
  maintenance_.erase(name);
  log(LogLevel::Info, "maintenance-stopped", "maintenance window of " + name + " closed by " + by,
      name);
  if (bus_) bus_->deviceChanged(name);
  armTimer();
  return {};
}

void Manager::expireMaintenance(policy::WallTime now) {
  for (auto it = maintenance_.begin(); it != maintenance_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    enforcer_->forgetElements(maintenanceElements(it->first, 0));  // the kernel closed it on time
    log(LogLevel::Info, "maintenance-ended", "maintenance window of " + it->first + " ended",
        it->first);
    std::string device = it->first;
    it = maintenance_.erase(it);
    if (bus_) bus_->deviceChanged(device);
  }
}

}  // namespace ringfence::daemon
