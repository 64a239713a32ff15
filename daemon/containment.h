// Violations to isolation: logged packets are attributed to their device and
// judged; isolations go into the kernel as set elements (a small
// transaction), live flows are cut by deleting conntrack entries (critical
// ones stay), and every change is written to the state directory.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/enforcer.h"
#include "daemon/gateway.h"
#include "daemon/limit_reports.h"
#include "daemon/state_store.h"
#include "netlink/conntrack.h"
#include "netlink/nflog.h"
#include "policy/learning.h"
#include "policy/violations.h"

namespace ringfence::daemon {

class Containment {
 public:
  Containment(Enforcer& enforcer, StateStore store)
      : enforcer_(enforcer), store_(std::move(store)) {}

  // Before the first apply: reads the isolations on disk (never releasing
  // anyone over a problem, only saying so).
  void restore();
  // Before the first apply, after restore(): the addresses in the isolated
  // sets of the table an earlier run left (the kernel is authoritative: an
  // isolation that never reached the disk is kept too). They are matched to
  // devices by the first usePolicy.
  void restoreFromKernel(const std::string& table);
  // A policy about to be applied (start, reload): devices are looked up in
  // it, isolations follow their addresses (a renamed device stays isolated
  // under its new name; one that no device owns is an orphan, kept), and
  // `plan` (if given) gets the isolation elements of every isolation.
  void usePolicy(const policy::Policy& policy, policy::Plan* plan);

  void onPackets(const std::vector<netlink::LoggedPacket>& packets, policy::WallTime now);
  void onTime(policy::WallTime now);
  std::optional<policy::WallTime> nextDeadline() const {
    std::optional<policy::WallTime> next = judge_ ? judge_->nextRelease() : std::nullopt;
    if (retryAt_ && (!next || *retryAt_ < *next)) next = retryAt_;
    if (judge_ && (!next || conntrackCheckAt_ < *next)) next = conntrackCheckAt_;
    if (judge_ && (!next || kernelCheckAt_ < *next)) next = kernelCheckAt_;
    return next;
  }
  // The isolations in force are not on disk yet: "FILE: why" (empty when they are).
  // onTime retries every kRetrySave until a write succeeds.
  static constexpr std::chrono::seconds kRetrySave{5};
  const std::string& stateSaveError() const { return saveError_; }
  bool savePending() const { return !saveError_.empty(); }
  void retrySave() { save("retry"); }
  // At stop: the counters of isolated devices (probes may grow while one is
  // isolated) are written when they changed since the last save.
  void saveCounters() {
    if (judge_ && counters() != savedCounters_) save("counters of isolated devices");
  }
  // NFLOG messages were lost: isolations the packet path made meanwhile are
  // taken over (adoptFromKernel).
  void reportLoss(uint64_t lostBatches);
  // Addresses the kernel's isolated sets hold but no isolation of the daemon
  // does (the packet path isolated them, and their report was lost, came
  // before a reload changed the device, or before the daemon listened) are
  // isolated now: their device, or as an orphan. Every kKernelCheck, and at
  // once when reports were lost.
  void adoptFromKernel(policy::WallTime now);
  // New conntrack entries: flows of learn/monitor devices are recorded.
  // `lost` means the kernel dropped events: the table is dumped to catch up.
  void onConntrack(const std::vector<netlink::CtFlow>& flows, bool lost);
  // The flows the ruleset marked as observed that are in the conntrack table
  // now and not known yet are recorded (after a loss, or when the daemon
  // starts to listen).
  void learnFromConntrackTable();
  // Writes what was learned (counts included); called at stop.
  void saveLearned();
  void logLearnedSummary() const;
  const policy::LearnedFlows& learned() const { return learned_; }
  // Packets the ruleset dropped and logged for the device (policy, isolation,
  // spoofing, limits); drops of invalid packets are not logged.
  uint64_t packetsDropped(const std::string& device) const {
    auto it = dropped_.find(device);
    return it == dropped_.end() ? 0 : it->second;
  }

  // Distinct forbidden flows toward the device from hosts that are not
  // devices (probes); they never count toward its threshold.
  uint64_t probesReceived(const std::string& device) const {
    auto it = probes_.find(device);
    return it == probes_.end() ? 0 : it->second.count;
  }

  // By hand (D-Bus, ctl): true when done, false when nothing changed, and
  // the kernel's reason when it refused the change. The change is recorded
  // (and saved) even then: an isolation stays in force in the daemon, is put
  // into the kernel by the next apply or reassert, and onTime retries the
  // kernel change every kRetrySave until it holds.
  using ChangeResult = std::expected<bool, std::string>;
  ChangeResult isolate(const std::string& device, const std::string& reason, const std::string& by,
                       policy::WallTime now);
  ChangeResult release(const std::string& device, const std::string& reason, const std::string& by);
  // Devices whose last isolation or release the kernel refused (retried).
  size_t kernelChangesPending() const { return kernelPending_.size(); }

  // The last kRecentViolations counted violations of the device, oldest first.
  static constexpr size_t kRecentViolations = 20;
  std::vector<ViolationRecord> recentViolations(const std::string& device) const {
    auto it = recent_.find(device);
    if (it == recent_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }

  // The device that owns the address in the policy in use; empty if none.
  std::string deviceOf(const policy::IpAddress& a) const;
  std::string where(const netlink::LoggedPacket& p) const;
  void onNeighbourClaim(const netlink::LoggedPacket& p, const policy::IpAddress& claimed,
                        const char* how, policy::WallTime now);
  void onForgedMac(const netlink::LoggedPacket& p, policy::WallTime now);

  const policy::ViolationJudge* judge() const { return judge_ ? &*judge_ : nullptr; }
  // Where violations, isolations, releases and unknown hosts are announced.
  void setEvents(GatewayEvents* events) { events_ = events; }

 private:
  // True: a flow not known before; `onlyNew`: a known flow is not counted again.
  bool learnFlow(const netlink::CtFlow& f, bool onlyNew);
  // The kernel's reason when it refused the change (logged, and retried).
  std::expected<void, std::string> perform(const policy::Action& action);
  std::expected<void, std::string> applyIsolation(const policy::Action& action, bool isolate);
  void retryKernel();
  // `what` says which change is in force but not saved ("isolation of X").
  void save(const std::string& what);
  std::vector<std::pair<policy::IpAddress, std::string>> readKernelIsolated(
      const std::string& table) const;
  // Deletes the conntrack entries of `addresses` but their critical flows.
  void cutFlowsOf(const std::string& device, const std::vector<policy::IpAddress>& addresses);
  void logFollow(const policy::FollowResult& follow);
  void onViolation(const netlink::LoggedPacket& p, const std::string& device,
                   policy::Direction direction, bool dropped, policy::WallTime now);
  void onProbe(const netlink::LoggedPacket& p, const std::string& device, bool dropped,
               policy::WallTime now);
  void onInvalid(const netlink::LoggedPacket& p, policy::Direction direction, policy::WallTime now);
  void onUnknownHost(const netlink::LoggedPacket& p, policy::WallTime now);
  void onRogue(const netlink::LoggedPacket& p, bool routerAdvertisement, policy::WallTime now);
  bool mayLog(const std::string& key, policy::WallTime now);
  std::map<std::string, size_t> learnedCounts() const;
  // What the state file keeps of each isolated device's counters.
  CounterMap counters() const;

  Enforcer& enforcer_;
  StateStore store_;
  std::vector<policy::Isolation> restored_;
  CounterMap restoredCounters_;  // applied by the first usePolicy
  CounterMap savedCounters_;     // as last written
  std::vector<std::pair<policy::IpAddress, std::string>> kernelIsolated_;  // address, comment
  std::string saveError_;
  std::optional<policy::WallTime> retryAt_;
  // Isolations and releases the kernel refused, by device, retried by onTime.
  std::map<std::string, policy::Action> kernelPending_;
  std::optional<policy::ViolationJudge> judge_;
  void indexDevices(const policy::DeviceList& devices);  // owners_, macOwners_, macPorts_
  policy::DeviceList indexed_;                           // the devices those are of
  std::unordered_map<policy::IpAddress, std::string, policy::AddressHash> owners_;
  std::map<policy::MacAddress, std::string> macOwners_;  // device of each bound MAC
  std::map<policy::MacAddress, std::string> macPorts_;   // its device's interface, if named
  // The entry of `mac` (as a logged packet gives it) in `in`, or nullptr.
  static const std::string* findMac(const std::map<policy::MacAddress, std::string>& in,
                                    const std::string& mac);
  bool bridged_ = false;  // topology: bridge
  static constexpr size_t kMaxUnknownHosts = 4096;
  static constexpr std::chrono::minutes kForgetUnknown{10};
  // address/MAC/interface: last seen; at most kMaxUnknownHosts
  std::map<std::string, policy::WallTime> unknownReported_;
  uint64_t unknownUnlisted_ = 0;
  policy::WallTime unknownSummaryAt_{};
  policy::WallTime unknownSweptAt_{};
  policy::LearnedFlows learned_;
  GatewayEvents* events_ = nullptr;
  std::map<std::string, uint64_t> dropped_;
  std::map<std::string, std::deque<ViolationRecord>> recent_;
  uint64_t observedEvents_ = 0;  // conntrack events of observed flows received
  uint64_t eventLosses_ = 0;     // times the kernel dropped events for us
  struct LogBudget {
    policy::WallTime since;
    int used = 0;
    uint64_t suppressed = 0;
  };
  std::map<std::string, LogBudget> logBudget_;
  struct Probes {
    uint64_t count = 0;
    std::map<policy::FlowKey, policy::WallTime> recent;  // counted flows, by last sighting
  };
  std::map<std::string, Probes> probes_;
  LimitReports limitReports_;
  ConntrackWatch conntrack_;
  policy::WallTime conntrackCheckAt_{};
  policy::WallTime kernelCheckAt_{};  // adoptFromKernel, every kKernelCheck
  static constexpr std::chrono::seconds kKernelCheck{2};
};

}  // namespace ringfence::daemon
