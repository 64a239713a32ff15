// The Manager as the D-Bus service sees it (daemon/gateway.h).
#include <algorithm>

#include "daemon/log.h"
#include "daemon/manager.h"
#include "policy/device_ref.h"

namespace ringfence::daemon {
std::vector<std::string> Manager::deviceNames() const {
  std::vector<std::string> out;
  if (!policy_) return out;
  for (const policy::Device& d : policy_->devices) out.push_back(d.name);
  if (const policy::ViolationJudge* j = containment_ ? containment_->judge() : nullptr) {
    for (const auto& [name, iso] : j->isolations()) {
      if (!policy_->findDevice(name)) out.push_back(name);
    }
  }
  return out;
}

uint32_t Manager::deviceCount() const {
  return policy_ ? static_cast<uint32_t>(policy_->devices.size()) : 0;
}

std::string Manager::stateSaveError() const {
  std::string isolations = containment_ ? containment_->stateSaveError() : std::string();
  if (lastGoodError_.empty()) return isolations;
  return isolations + (isolations.empty() ? "" : "; ") + lastGoodError_;
}

namespace {

// An isolation whose device left the policy: still cut off, listed and
// released like a device.
DeviceStatus orphanStatus(const policy::Isolation& iso) {
  DeviceStatus s;
  s.name = iso.device;
  s.description = "no longer in the policy; its addresses stay isolated until released";
  s.mode = "removed";
  s.state = "isolated";
  for (const policy::IpAddress& a : iso.addresses) s.addresses.push_back(policy::toString(a));
  s.mac = iso.mac ? policy::toString(*iso.mac) : "";
  s.isolatedSince = policy::toMicros(iso.since);
  s.isolationReason = iso.reason;
  return s;
}

}  // namespace

std::optional<DeviceStatus> Manager::device(const std::string& name) const {
  const policy::Device* d = policy_ ? policy_->findDevice(name) : nullptr;
  const policy::ViolationJudge* judge = containment_ ? containment_->judge() : nullptr;
  if (!d && judge) {
    auto it = judge->isolations().find(name);
    if (it == judge->isolations().end()) return std::nullopt;
    DeviceStatus s = orphanStatus(it->second);
    s.violations = judge->violations(name);
    s.packetsDropped = containment_->packetsDropped(name);
    return s;
  }
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
  s.probesReceived = containment_->probesReceived(name);
  s.state = "normal";
  if (auto m = maintenance_.find(name); m != maintenance_.end()) {
    s.state = "maintenance";
    s.maintenanceUntil = policy::toMicros(m->second);
  }
  if (const policy::ViolationJudge* j = containment_->judge()) {
    s.violations = j->violations(name);
    if (auto last = j->lastViolation(name)) s.lastViolationAt = policy::toMicros(*last);
    if (auto it = j->isolations().find(name); it != j->isolations().end()) {
      s.state = "isolated";
      s.isolatedSince = policy::toMicros(it->second.since);
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

uint64_t Manager::packetsAllowed(const std::string& name) const {
  const policy::Plan* running = enforcer_ ? enforcer_->running() : nullptr;
  if (!running) return 0;
  return counters_.allowed(*policy_, running->table, name, PacketCounters::Clock::now());
}

std::vector<ViolationRecord> Manager::recentViolations(const std::string& name) const {
  return containment_->recentViolations(name);
}

std::map<policy::ObservedFlow, uint64_t> Manager::observedFlows(const std::string& name) const {
  return containment_->learned().flows(name);
}

std::expected<policy::FlowVerdict, policy::FlowCheckFailure> Manager::check(
    const policy::FlowQuery& query) const {
  // The device may be named by one of its addresses, as in the offline check.
  auto device = policy::resolveDeviceArgument(query.device, *policy_);
  if (!device)
    return std::unexpected(
        policy::FlowCheckFailure{policy::FlowCheckError::NoSuchDevice, device.error()});
  policy::FlowQuery q = query;
  q.device = *device;
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
  auto done = containment_->isolate(name, reason, by, policy::WallClock::now());
  armTimer();  // an automatic release, or a retry of a kernel change or a state write
  // A refusal is logged by containment; the isolation stays recorded.
  if (!done) return std::unexpected(MutationError::Failed);
  if (!*done) return std::unexpected(MutationError::NothingToDo);
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
  auto done = containment_->release(name, reason, by);
  armTimer();
  if (!done) return std::unexpected(MutationError::Failed);
  if (!*done) return std::unexpected(MutationError::NothingToDo);
  return {};
}

}  // namespace ringfence::daemon
