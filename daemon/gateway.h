// What the D-Bus service asks of the daemon, and what the daemon tells it:
// the seam between daemon/bus*.cc and the rest, so the bus code never
// reaches into the manager's internals.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/flow_check.h"
#include "policy/learning.h"

namespace ringfence::daemon {

struct DeviceStatus {
  // state: normal, isolated, maintenance; mode "removed" for an isolation
  // whose device is no longer in the policy (an orphan, still cut off)
  std::string name, description, mode, state;
  std::vector<std::string> addresses;
  std::string mac, interface;
  std::vector<std::pair<std::string, std::string>> inventory;
  uint64_t violations = 0;
  uint64_t lastViolationAt = 0;  // CLOCK_REALTIME microseconds, 0 = never
  uint64_t isolatedSince = 0;
  std::string isolationReason;
  uint64_t maintenanceUntil = 0;
  uint64_t packetsDropped = 0;  // PacketsAllowed is read apart: Gateway::packetsAllowed
  uint64_t probesReceived = 0;  // forbidden flows toward it from hosts that are not devices
};

// One counted violation (one per flow), as `show` lists it.
struct ViolationRecord {
  uint64_t at = 0;  // CLOCK_REALTIME microseconds
  std::string direction, src, dst, proto;
  uint16_t sport = 0, dport = 0;
  bool dropped = true;  // false: allowed in monitor mode
};

enum class MutationError { NoSuchDevice, NothingToDo, Failed };

class Gateway {
 public:
  virtual ~Gateway() = default;
  virtual uint64_t policyGeneration() const = 0;
  virtual uint64_t policyLoadedAt() const = 0;  // CLOCK_REALTIME microseconds
  // `current`, `last-good` or `failsafe`, and the errors of the refused policy (dbus.md).
  virtual std::string policyState() const = 0;
  virtual std::vector<std::string> policyErrors() const = 0;
  // Devices of the policy, then orphaned isolations (see DeviceStatus::mode).
  virtual std::vector<std::string> deviceNames() const = 0;
  virtual uint32_t deviceCount() const = 0;  // devices of the policy
  virtual std::optional<DeviceStatus> device(const std::string& name) const = 0;
  virtual uint32_t isolatedCount() const = 0;
  // Why the isolations in force are not saved to the state directory yet
  // (the daemon keeps retrying); empty when they are saved.
  virtual std::string stateSaveError() const = 0;
  virtual uint64_t violationsTotal() const = 0;
  virtual std::map<policy::ObservedFlow, uint64_t> observedFlows(const std::string& name) const = 0;
  // Packets from and to the device that the ruleset let through (read from
  // the kernel, at most once a second); asked only by the property itself.
  virtual uint64_t packetsAllowed(const std::string& name) const = 0;
  // The device's most recent violations, oldest first (kept in memory only).
  virtual std::vector<ViolationRecord> recentViolations(const std::string& name) const = 0;
  // The verdict now: isolation counts, unless a critical rule allows the flow.
  virtual std::expected<policy::FlowVerdict, policy::FlowCheckFailure> check(
      const policy::FlowQuery& q) const = 0;

  virtual std::expected<void, MutationError> isolate(const std::string& name,
                                                     const std::string& reason,
                                                     const std::string& by) = 0;
  virtual std::expected<void, MutationError> release(const std::string& name,
                                                     const std::string& reason,
                                                     const std::string& by) = 0;
  // Opens the device's maintenance flows for `seconds`; the kernel closes them
  // on time even if the daemon is gone. A new window replaces a running one.
  virtual std::expected<void, MutationError> startMaintenance(const std::string& name,
                                                              uint64_t seconds,
                                                              const std::string& reason,
                                                              const std::string& by) = 0;
  virtual std::expected<void, MutationError> stopMaintenance(const std::string& name,
                                                             const std::string& by) = 0;
  // The new generation and its warnings, or every error line of a refused policy.
  using ReloadResult =
      std::expected<std::pair<uint64_t, std::vector<std::string>>, std::vector<std::string>>;
  virtual ReloadResult reload() = 0;
  // The same, with reading and compiling off the event loop: `done` (may be
  // empty) is called on the loop once the policy is applied or refused. A
  // request while one runs is served by one more reload after it.
  virtual void reloadAsync(std::function<void(const ReloadResult&)> done) = 0;
};

// Events as they happen (the bus turns them into signals).
class GatewayEvents {
 public:
  virtual ~GatewayEvents() = default;
  virtual void violation(const std::string& device, const std::string& direction,
                         const std::string& src, const std::string& dst, const std::string& proto,
                         uint16_t sport, uint16_t dport, bool dropped) = 0;
  virtual void isolated(const std::string& device, const std::string& reason,
                        const std::string& by) = 0;
  virtual void released(const std::string& device, const std::string& reason,
                        const std::string& by) = 0;
  virtual void unknownHost(const std::string& address, const std::string& mac,
                           const std::string& interface) = 0;
  // A forbidden flow toward `device` from a host that is not a device.
  virtual void probe(const std::string& device, const std::string& src, const std::string& dst,
                     const std::string& proto, uint16_t sport, uint16_t dport) = 0;
  virtual void policyReloaded(uint64_t generation) = 0;
  virtual void stateSaveChanged() {}  // Gateway::stateSaveError changed
};

}  // namespace ringfence::daemon
