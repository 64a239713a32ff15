// Maintenance windows: opened and closed on request, closed by the kernel on
// time (element timeouts), and carried over whenever the table is written
// again (a reload, a rebuilt or tampered table, a restart), with the time
// each window has left.
#include <cerrno>

#include "daemon/log.h"
#include "daemon/manager.h"
#include "netlink/set_elements.h"

namespace ringfence::daemon {
namespace {

uint64_t msLeft(policy::WallTime until, policy::WallTime now) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
  return left > 0 ? static_cast<uint64_t>(left) : 0;
}

}  // namespace

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

void Manager::carryMaintenance(policy::Plan& plan, policy::WallTime now) const {
  for (const auto& [device, until] : maintenance_) {
    const policy::DeviceElements* d = plan.findDevice(device);
    uint64_t left = msLeft(until, now);
    if (!d || d->maintenance.empty() || left == 0) continue;  // ends after the apply
    Enforcer::Elements open = d->maintenance;
    for (auto& [set, e] : open) e.timeoutMs = left;
    plan.removeElements(open);  // the running plan's copy has the timeout it started with
    plan.addElements(open);
  }
}

void Manager::endOrphanedMaintenance() {
  const policy::Plan* running = enforcer_->running();
  for (auto it = maintenance_.begin(); it != maintenance_.end();) {
    const policy::DeviceElements* d = running ? running->findDevice(it->first) : nullptr;
    if (d && !d->maintenance.empty()) {
      ++it;
      continue;
    }
    log(LogLevel::Info, "maintenance-ended",
        "maintenance window of " + it->first + " ended: the policy has no maintenance flows for it",
        it->first);
    std::string device = it->first;
    it = maintenance_.erase(it);
    if (bus_) bus_->deviceChanged(device);
  }
}

void Manager::restoreMaintenance(const std::string& table, policy::WallTime now) {
  auto socket = netlink::NftSocket::open();
  if (!socket) {
    log(LogLevel::Error, "netlink-error",
        "cannot read the maintenance windows of the table in the kernel: " +
            socket.error().message() +
            "; windows still open there are not tracked (they "
            "close on time in the kernel, but are not reported)");
    return;
  }
  auto failed = [&](const std::string& set, const netlink::KernelError& error) {
    // No table (or set) yet: nothing was open. This is anything else, and loud.
    log(LogLevel::Error, "netlink-error",
        "cannot read the maintenance windows of set " + set + " in table " + table + ": " +
            error.message() +
            "; windows still open there are not tracked (they close on time in the kernel, "
            "but are not reported)");
  };
  for (const netlink::AddressElement& e :
       netlink::readAddressSets(*socket, table, policy::setname::kMaintenance4,
                                policy::setname::kMaintenance6, failed)) {
    if (e.element.expiresInMs == 0) continue;
    std::string name = containment_->deviceOf(e.address);  // the key's first field
    if (name.empty()) continue;
    policy::WallTime until = now + std::chrono::milliseconds(e.element.expiresInMs);
    policy::WallTime& window = maintenance_[name];
    window = std::max(window, until);
  }
  for (const auto& [device, until] : maintenance_) {
    log(LogLevel::Warning, "maintenance-restored",
        "maintenance window of " + device + " still open for " +
            std::to_string(msLeft(until, now) / 1000) + "s (found in the kernel)",
        device);
  }
}

}  // namespace ringfence::daemon
