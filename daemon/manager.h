// The daemon: loads the policy, applies it, and serves on sd-event: SIGHUP
// reloads, SIGTERM/SIGINT stop (leaving the ruleset in force), nftables
// notifications reveal a tampered table, which is put back at once. A policy
// refused at start gives way to the last good one, or to the failsafe
// (docs/failsafe.md): the daemon never exits leaving device traffic open.
#pragma once

#include <systemd/sd-event.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "daemon/bus.h"
#include "daemon/containment.h"
#include "daemon/enforcer.h"
#include "daemon/gateway.h"
#include "daemon/last_good.h"
#include "daemon/neighbours.h"
#include "daemon/options.h"
#include "daemon/packet_counters.h"
#include "daemon/reaper.h"
#include "netlink/monitor.h"
#include "netlink/netlink_sink.h"
#include "netlink/nflog.h"
#include "policy/compile_cache.h"
#include "policy/source_cache.h"
#include "policy/sources.h"

namespace ringfence::daemon {

struct EventLoopFree {
  void operator()(sd_event* e) const { sd_event_unref(e); }
};

// Which policy is in force (dbus.md PolicyState).
enum class PolicyState { Current, LastGood, Failsafe };
const char* toString(PolicyState s);

class Manager final : public Gateway {
 public:
  explicit Manager(DaemonOptions options) : options_(std::move(options)) {}  // no I/O
  ~Manager() override;
  // Loads, applies and serves until stopped; returns the process exit code.
  int run();

  // Gateway (manager_gateway.cc): what the D-Bus service reads and asks for.
  uint64_t policyGeneration() const override { return generation_; }
  uint64_t policyLoadedAt() const override { return loadedAt_; }
  std::string policyState() const override { return toString(state_); }
  std::vector<std::string> policyErrors() const override { return policyErrors_; }
  std::vector<std::string> deviceNames() const override;
  std::optional<DeviceStatus> device(const std::string& name) const override;
  uint32_t isolatedCount() const override;
  std::string stateSaveError() const override;
  uint32_t deviceCount() const override;
  uint64_t violationsTotal() const override;
  std::map<policy::ObservedFlow, uint64_t> observedFlows(const std::string& name) const override;
  std::vector<ViolationRecord> recentViolations(const std::string& name) const override;
  uint64_t packetsAllowed(const std::string& name) const override;
  std::expected<policy::FlowVerdict, policy::FlowCheckFailure> check(
      const policy::FlowQuery& q) const override;
  std::expected<void, MutationError> isolate(const std::string& name, const std::string& reason,
                                             const std::string& by) override;
  std::expected<void, MutationError> release(const std::string& name, const std::string& reason,
                                             const std::string& by) override;
  std::expected<void, MutationError> startMaintenance(const std::string& name, uint64_t seconds,
                                                      const std::string& reason,
                                                      const std::string& by) override;
  std::expected<void, MutationError> stopMaintenance(const std::string& name,
                                                     const std::string& by) override;
  ReloadResult reload() override;
  void reloadAsync(std::function<void(const ReloadResult&)> done) override;

 private:
  struct Loaded {
    // Stable address: the judge refers to it; shared with the compile cache.
    std::shared_ptr<policy::Policy> policy;
    policy::Plan plan;
    std::vector<std::string> warnings;
    policy::PolicySources sources;          // what it was made of (saved as the last good policy)
    std::vector<std::string> readingNotes;  // the reading's diagnostics (compiled_policy.h)
    policy::SourceCache::Counts reuse;      // profiles read and parsed, or taken unchanged
    policy::CompileCache::Counts compiled;  // devices compiled, or taken unchanged
  };
  struct Refused {
    std::vector<std::string> errors;  // every error line
    policy::DaemonConfig config;      // what could be read of the configuration
    bool configClean = false;         // the configuration file itself had no error
  };
  struct LoadOutcome {
    std::expected<Loaded, Refused> result = std::unexpected(Refused{});
    policy::Diagnostics diagnostics;
    std::string phases;  // how long each step took, for the debug log
  };
  // manager_policy.cc
  // What earlier loads read, parsed and compiled.
  struct LoadCaches {
    policy::SourceCache sources;
    policy::CompileCache compiled;
  };
  // Reads, validates and compiles the policy on disk, safe on any thread:
  // what is unchanged since the last load comes from `caches` (one load at a
  // time uses them), and what it reads, parses and compiles goes to them.
  static LoadOutcome loadFiles(const policy::LoadOptions& options, LoadCaches& caches);
  // On the loop: logs the outcome; the policy, or why it is refused.
  std::expected<Loaded, Refused> finishLoad(LoadOutcome outcome, const char* why);
  std::expected<Loaded, Refused> load(const char* why) {
    return finishLoad(loadFiles(options_.load, caches_), why);
  }
  // The last good policy saved in `stateDir` (std::nullopt, logged, if none is usable).
  std::optional<Loaded> loadLastGood(const std::string& stateDir);
  // A failure is logged, shown in StateSaveError and retried every
  // Containment::kRetrySave (a newer policy applied meanwhile replaces it).
  void saveLastGood(const policy::PolicySources& sources);
  // At start, the last good policy's file is written while the kernel applies
  // the transaction, and put in place (or its failure handled as above) once
  // the policy is in force.
  struct WrittenLastGood {
    LastGoodPolicy policy;
    std::optional<std::expected<WrittenFile, std::string>> file;
  };
  void saveLastGood(WrittenLastGood written);
  void writeLastGood(bool retry, std::optional<std::expected<WrittenFile, std::string>> file = {});
  // At start: puts `loaded` in force (with every isolation); the kernel's
  // refusal otherwise. Meanwhile, on another thread, the neighbours are
  // pinned and `lastGood`, if given, is written.
  std::expected<void, std::string> startWith(Loaded loaded, WrittenLastGood* lastGood = nullptr);
  // At start: `loaded` (from disk, or the last good one when `refused`), else
  // the last good one, else the failsafe; false if nothing could be applied.
  bool enforceAtStart(std::optional<Loaded> loaded, std::optional<Refused> refused);
  // At start, when nothing else could be applied; false if even this failed.
  bool startFailsafe(const Refused& refused, const std::string& stateDir);
  // The state in force and why; logs, notifies systemd and the bus when it changes.
  void setPolicyState(PolicyState state, std::vector<std::string> errors);
  // What a reload changes, device by device: logged (losses as warnings), and
  // returned as lines for Reload's reply.
  std::vector<std::string> reportChanges(const policy::Policy& before, const policy::Policy& after);
  void notifyStatus(bool ready) const;
  std::string statusLine() const;
  struct ReloadJob;
  // manager_compiled.cc (compiled_policy.h)
  // Where the state is, before the policy is loaded: --state-dir, else the
  // configuration's state_dir if it can be read, else the default.
  std::string stateDirBeforeLoad() const;
  // At start: the compiled policy, if the files on disk are exactly what it
  // was made of (then startedFrom_ is set); std::nullopt, logged, otherwise.
  std::optional<Loaded> startFromCompiled();
  // Once the daemon is ready after startFromCompiled: the policy on disk is
  // loaded from scratch off the loop and compared with it (finishStartCheck).
  void startCheck();
  void shareStartedFrom();
  static void compareStartCheck(ReloadJob& job);  // on the worker: sameAsStarted
  void finishStartCheck(ReloadJob& job);
  // The policy in force (Current, just applied) as the compiled policy; a
  // failure is logged (the next start only parses every profile).
  void saveCompiled(const policy::PolicySources& sources, const std::vector<std::string>& notes,
                    const std::vector<std::string>& warnings);
  void joinCompiledSave();  // waits for a running save, logs how it went
  int setupSavedEvents();   // the eventfd a save's thread signals
  static int onCompiledSaved(sd_event_source*, int fd, uint32_t revents, void* self) noexcept;
  // manager_reload.cc
  int setupReloadEvents();  // the eventfd a reload's worker signals
  void beginReload();       // RELOADING=1, logged
  // A start check loads like a reload, without RELOADING=1 and without applying.
  void startReloadWorker(bool startCheck = false);
  // On the loop; `rebuild`: the table is replaced whole (Enforcer::reload).
  ReloadResult applyReload(std::expected<Loaded, Refused> loaded, bool rebuild = false);
  static int onReloadDone(sd_event_source*, int fd, uint32_t revents, void* self) noexcept;

  void armTimer();
  int setupLoop();
  void reassert();
  // A policy was applied: generation, time, neighbour pins (unless `pin` is
  // false: a reload pins once it has said the new policy is in force).
  void stamp(bool pin = true);
  // manager_maintenance.cc
  void expireMaintenance(policy::WallTime now);
  Enforcer::Elements maintenanceElements(const std::string& name, uint64_t timeoutMs) const;
  // Adds every open window's elements, with the time it has left, to a plan
  // about to replace or update the table.
  void carryMaintenance(policy::Plan& plan, policy::WallTime now) const;
  // After a reload: windows of devices without maintenance flows end.
  void endOrphanedMaintenance();
  // At start: windows still open in the table a previous run left behind.
  void restoreMaintenance(const std::string& table, policy::WallTime now);

  static int onSignal(sd_event_source*, const struct signalfd_siginfo* info, void* self) noexcept;
  static int onMonitor(sd_event_source*, int fd, uint32_t revents, void* self) noexcept;
  static int onNflog(sd_event_source*, int fd, uint32_t revents, void* self) noexcept;
  static int onTimer(sd_event_source*, uint64_t usec, void* self) noexcept;
  static int onConntrack(sd_event_source*, int fd, uint32_t revents, void* self) noexcept;
  // Conntrack events are subscribed only while a device is observed (learn or
  // monitor): with a listener the kernel builds an event for every new
  // connection through the gateway. False if the subscription failed.
  bool followConntrackEvents();

  DaemonOptions options_;
  LoadCaches caches_;  // what the last load read, parsed and compiled
  std::unique_ptr<sd_event, EventLoopFree> loop_;
  std::optional<netlink::NetlinkSink> sink_;
  std::optional<netlink::NftMonitor> monitor_;
  std::optional<Enforcer> enforcer_;
  std::optional<netlink::NflogReader> nflog_;
  std::optional<netlink::ConntrackEvents> ctEvents_;  // while a device is observed
  sd_event_source* ctSource_ = nullptr;
  std::optional<Containment> containment_;
  std::shared_ptr<policy::Policy> policy_;
  sd_event_source* timer_ = nullptr;
  uint64_t nflogLost_ = 0;
  uint64_t generation_ = 0;
  uint64_t loadedAt_ = 0;
  PolicyState state_ = PolicyState::Current;
  std::vector<std::string> policyErrors_;
  bool stateAnnounced_ = false;
  bool failsafeForwardsNothing_ = false;  // failsafe without device interfaces
  std::string stateDir_;                  // where state and the last good policy live
  std::map<std::string, policy::WallTime> maintenance_;  // open windows, by device
  Neighbours neighbours_;                                // pins after every apply
  mutable PacketCounters counters_;                      // a cache of the kernel's figures
  std::unique_ptr<BusService> bus_;
  std::optional<LastGoodPolicy> lastGoodUnsaved_;  // the last good policy a write failed for
  std::string lastGoodError_;                      // "FILE: why" while it is not saved
  std::optional<policy::WallTime> lastGoodRetryAt_;
  // One reload at a time: its worker reads and compiles, the loop applies.
  struct StartedFrom;
  struct ReloadJob {
    std::optional<LoadOutcome> outcome;  // written by the worker before it signals
    // A start check: what it compares its load with, and whether they are the same.
    const StartedFrom* startCheck = nullptr;
    bool sameAsStarted = false;
    std::jthread worker;
  };
  // What a start from the compiled policy put in force, as unpacked (the
  // plan before run-time elements), until the start check has compared a
  // load of the profiles from scratch with it, field for field. The file's
  // bytes are not kept.
  struct StartedFrom {
    std::shared_ptr<const policy::Policy> policy;
    policy::Plan plan;
    std::vector<std::string> warnings;
  };
  std::optional<StartedFrom> startedFrom_;
  // A start from the files: what the compiled policy is saved from once ready.
  struct ToSave {
    policy::PolicySources sources;
    std::vector<std::string> notes, warnings;
  };
  std::optional<ToSave> compiledUnsaved_;
  std::unique_ptr<ReloadJob> reloadJob_;
  std::vector<std::function<void(const ReloadResult&)>> reloadWaiters_, nextReloadWaiters_;
  bool reloadAgain_ = false;
  int reloadFd_ = -1;
  sd_event_source* reloadSource_ = nullptr;
  std::chrono::steady_clock::time_point reloadStarted_;
  // The compiled policy being saved off the loop (saveCompiled).
  struct CompiledSave {
    std::string error;  // written by the worker before it signals
    double ms = 0;
    size_t bytes = 0;  // the file's size
    std::jthread worker;
  };
  std::unique_ptr<CompiledSave> compiledSave_;
  int savedFd_ = -1;
  sd_event_source* savedSource_ = nullptr;
  Reaper reaper_;  // last: joined before anything else goes
};

// ringfenced --check: validate and print the plan; never touches the kernel.
int runCheck(const DaemonOptions& options);

}  // namespace ringfence::daemon
