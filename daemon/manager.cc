#include "daemon/manager.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>

#include "policy/compiler.h"
#include "policy/lint.h"
#include "policy/nft_text.h"

namespace ringfence::daemon {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string profileCount(size_t n) {
  return std::to_string(n) + (n == 1 ? " profile" : " profiles");
}

// Which profiles a reload read and parsed again (policy/source_cache.h).
std::string reuseSummary(const policy::SourceCache::Counts& c,
                         const policy::CompileCache::Counts& compiled) {
  return profileCount(c.read) + " read, " + std::to_string(c.reused) + " unchanged; " +
         profileCount(c.parsed) + " parsed; " + std::to_string(compiled.compiled) +
         (compiled.compiled == 1 ? " device" : " devices") + " compiled";
}

}  // namespace

void Manager::stamp(bool pin) {
  ++generation_;
  counters_.invalidate();
  if (monitor_) monitor_->drain();  // our own transaction's notifications
  loadedAt_ = policy::toMicros(policy::WallClock::now());
  if (policy_ && pin) neighbours_.sync(*policy_);
  if (loop_) followConntrackEvents();  // at start: once the loop is set up
}

bool Manager::followConntrackEvents() {
  bool observed = policy_ && std::any_of(policy_->devices.begin(), policy_->devices.end(),
                                         [](const policy::Device& d) {
                                           return d.mode != policy::Mode::Enforce;
                                         });
  if (observed == ctEvents_.has_value()) return true;
  if (!observed) {
    bool lost = false;  // what the kernel queued before the reload still counts
    containment_->onConntrack(ctEvents_->read(lost), lost);
    ctSource_ = sd_event_source_disable_unref(ctSource_);
    ctEvents_.reset();
    log(LogLevel::Debug, "conntrack-events",
        "no device is observed: conntrack events unsubscribed");
    return true;
  }
  auto events = netlink::ConntrackEvents::open();
  int rc = events
               ? sd_event_add_io(loop_.get(), &ctSource_, events->fd(), EPOLLIN, onConntrack, this)
               : 0;
  if (!events || rc < 0) {
    log(LogLevel::Error, "netlink-error",
        (events ? std::string("cannot watch conntrack events: ") + strerror(-rc) : events.error()) +
            "; flows of learn and monitor devices are not recorded");
    return false;
  }
  ctEvents_.emplace(std::move(*events));
  log(LogLevel::Debug, "conntrack-events", "a device is observed: conntrack events subscribed");
  containment_->learnFromConntrackTable();  // flows since the apply, before anyone listened
  return true;
}

int Manager::run() {
  auto started = Clock::now();
  // An exception while loading is a refused policy like any other: the last
  // good one or the failsafe applies, never an exit with nothing in force.
  std::expected<Loaded, Refused> onDisk = std::unexpected(Refused{});
  try {
    std::optional<Loaded> compiled = startFromCompiled();
    if (compiled) {
      onDisk = std::move(*compiled);
    } else {
      onDisk = load("start");
    }
  } catch (const std::exception& ex) {
    std::string why = std::string("loading failed: ") + ex.what();
    log(LogLevel::Error, "policy-refused", "start: policy refused: " + why);
    Refused failed;
    failed.errors.push_back(why);
    if (options_.load.stateDir) failed.config.stateDir = *options_.load.stateDir;
    onDisk = std::unexpected(std::move(failed));
  }
  std::optional<Refused> refused;
  std::optional<Loaded> loaded;
  if (onDisk) {
    stateDir_ = onDisk->policy->config.stateDir;
    loaded = std::move(*onDisk);
  } else {
    // --state-dir, else the configuration's state_dir if it could be read, else the default.
    refused = std::move(onDisk.error());
    stateDir_ = refused->config.stateDir;
    loaded = loadLastGood(stateDir_);
  }

  // Nothing but the sink is needed to put a policy in force: everything else
  // is opened after, so that no failure leaves a rebooted gateway open.
  auto sink = netlink::NetlinkSink::open(options_.ownTable);
  if (!sink) {
    log(LogLevel::Error, "netlink-error", "cannot talk to nftables: " + sink.error());
    return 1;
  }
  sink_.emplace(std::move(*sink));
  enforcer_.emplace(*sink_);
  containment_.emplace(*enforcer_, StateStore(stateDir_));
  containment_->restore();  // before the policy is applied: a restart never releases anyone
  // And the isolations of a table left by an earlier run stay, saved or not.
  containment_->restoreFromKernel(loaded ? loaded->plan.table : refused->config.table);

  if (!enforceAtStart(std::move(loaded), std::move(refused))) return 1;
  log(LogLevel::Info, "started",
      "in force " + fixed1(msSince(started)) + " ms after start: " + statusLine());

  // From here on a failure exits with the table in force (it is persistent, or
  // unowned: the kernel keeps it either way) and the service manager restarts us.
  auto monitor = netlink::NftMonitor::open();
  if (!monitor) {
    log(LogLevel::Error, "netlink-error", monitor.error() + "; the table stays in force");
    return 1;
  }
  monitor_.emplace(std::move(*monitor));
  auto nflog = netlink::NflogReader::open(policy::kNflogGroup);
  if (!nflog) {
    log(LogLevel::Error, "netlink-error", nflog.error() + "; the table stays in force");
    return 1;
  }
  nflog_.emplace(std::move(*nflog));
  if (int rc = setupLoop(); rc < 0) {
    log(LogLevel::Error, "event-loop",
        std::string("cannot set up the event loop: ") + strerror(-rc) +
            "; the table stays in force");
    return 1;
  }
  if (!followConntrackEvents()) return 1;  // the table stays in force
  neighbours_.attach(loop_.get());         // claims for pinned addresses are reported from now on
  if (options_.bus != "none") {
    auto bus = BusService::open(loop_.get(), options_.bus, *this, policy_->config.adminGroup);
    if (!bus) {
      log(LogLevel::Error, "dbus-error", bus.error() + "; the table stays in force");
      return 1;
    }
    bus_ = std::move(*bus);
    containment_->setEvents(bus_.get());
  }
  notifyStatus(true);  // READY=1 only now: a policy or the failsafe is in force
  if (startedFrom_) {
    startCheck();
  } else {
    if (compiledUnsaved_) {
      ToSave save = std::move(*compiledUnsaved_);
      compiledUnsaved_.reset();
      saveCompiled(save.sources, save.notes, save.warnings);
    }
  }
  int rc = sd_event_loop(loop_.get());
  sd_notify(0, "STOPPING=1");
  containment_->saveLearned();
  containment_->saveCounters();
  containment_->logLearnedSummary();
  if (const policy::ViolationJudge* j = containment_->judge()) {
    std::string counts;
    for (const policy::Device& d : policy_->devices) {
      if (uint64_t n = j->violations(d.name)) counts += " " + d.name + "=" + std::to_string(n);
    }
    log(LogLevel::Info, "violations-summary",
        "violations since start: total=" + std::to_string(j->violationsTotal()) + counts);
  }
  log(LogLevel::Info, "stopping", "stopping; the ruleset stays in force in the kernel");
  return rc < 0 ? 1 : 0;
}

int Manager::setupLoop() {
  sd_event* e = nullptr;
  if (int rc = sd_event_new(&e); rc < 0) return rc;
  loop_.reset(e);
  for (int sig : {SIGHUP, SIGTERM, SIGINT}) {
    if (int rc = sd_event_add_signal(e, nullptr, sig | SD_EVENT_SIGNAL_PROCMASK, onSignal, this);
        rc < 0) {
      return rc;
    }
  }
  if (int rc = sd_event_add_io(e, nullptr, monitor_->fd(), EPOLLIN, onMonitor, this); rc < 0)
    return rc;
  if (int rc = sd_event_add_io(e, nullptr, nflog_->fd(), EPOLLIN, onNflog, this); rc < 0) return rc;
  if (int rc = sd_event_add_time(e, &timer_, CLOCK_REALTIME, UINT64_MAX, 0, onTimer, this);
      rc < 0) {
    return rc;
  }
  if (int rc = setupReloadEvents(); rc < 0) return rc;
  if (int rc = setupSavedEvents(); rc < 0) return rc;
  armTimer();
  return sd_event_set_watchdog(e, true);
}

int Manager::onSignal(sd_event_source* source, const struct signalfd_siginfo* info,
                      void* self) noexcept {
  try {
    auto* m = static_cast<Manager*>(self);
    if (info->ssi_signo == SIGHUP) {
      m->reloadAsync(nullptr);  // the outcome is logged
    } else {
      log(LogLevel::Info, "signal",
          std::string("received ") + strsignal(static_cast<int>(info->ssi_signo)));
      sd_event_exit(sd_event_source_get_event(source), 0);
    }
  } catch (const std::exception& ex) {
    log(LogLevel::Error, "internal-error", std::string("signal handling failed: ") + ex.what());
  }
  return 0;
}

int Manager::onMonitor(sd_event_source*, int, uint32_t, void* self) noexcept {
  try {
    auto* m = static_cast<Manager*>(self);
    const policy::Plan* running = m->enforcer_->running();
    // An owned table cannot be changed by anyone else: the kernel refuses it.
    if (m->sink_->ownsTable()) {
      m->monitor_->drain();
      return 0;
    }
    if (running && m->monitor_->tableTouchedByOthers(running->table, m->sink_->portId()))
      m->reassert();
  } catch (const std::exception& ex) {
    log(LogLevel::Error, "internal-error", std::string("monitor failed: ") + ex.what());
  }
  return 0;
}

int Manager::onNflog(sd_event_source*, int, uint32_t, void* self) noexcept {
  try {
    auto* m = static_cast<Manager*>(self);
    uint64_t lostBefore = m->nflogLost_;
    std::vector<netlink::LoggedPacket> packets = m->nflog_->read(m->nflogLost_);
    if (m->nflogLost_ != lostBefore) m->containment_->reportLoss(m->nflogLost_);
    log(LogLevel::Debug, "nflog", std::to_string(packets.size()) + " logged packets read");
    m->containment_->onPackets(packets, policy::WallClock::now());
    m->armTimer();
  } catch (const std::exception& ex) {
    log(LogLevel::Error, "internal-error", std::string("NFLOG handling failed: ") + ex.what());
  }
  return 0;
}

int Manager::onConntrack(sd_event_source*, int, uint32_t, void* self) noexcept {
  try {
    auto* m = static_cast<Manager*>(self);
    if (!m->ctEvents_) return 0;
    bool lost = false;
    std::vector<netlink::CtFlow> flows = m->ctEvents_->read(lost);
    m->containment_->onConntrack(flows, lost);
  } catch (const std::exception& ex) {
    log(LogLevel::Error, "internal-error",
        std::string("conntrack event handling failed: ") + ex.what());
  }
  return 0;
}

int Manager::onTimer(sd_event_source*, uint64_t, void* self) noexcept {
  try {
    auto* m = static_cast<Manager*>(self);
    m->containment_->onTime(policy::WallClock::now());
    if (m->lastGoodRetryAt_ && *m->lastGoodRetryAt_ <= policy::WallClock::now())
      m->writeLastGood(true);
    m->expireMaintenance(policy::WallClock::now());
    m->armTimer();
  } catch (const std::exception& ex) {
    log(LogLevel::Error, "internal-error", std::string("timer handling failed: ") + ex.what());
  }
  return 0;
}

void Manager::armTimer() {
  std::optional<policy::WallTime> next = containment_->nextDeadline();
  if (lastGoodRetryAt_ && (!next || *lastGoodRetryAt_ < *next)) next = lastGoodRetryAt_;
  for (const auto& [device, until] : maintenance_) {
    if (!next || until < *next) next = until;
  }
  if (!next) {
    sd_event_source_set_enabled(timer_, SD_EVENT_OFF);
    return;
  }
  sd_event_source_set_time(timer_, std::max<uint64_t>(policy::toMicros(*next), 1));
  sd_event_source_set_enabled(timer_, SD_EVENT_ONESHOT);
}

Gateway::ReloadResult Manager::reload() {
  beginReload();
  return applyReload(load("reload"));
}

Gateway::ReloadResult Manager::applyReload(std::expected<Loaded, Refused> loaded, bool rebuild) {
  auto started = reloadStarted_;
  auto done = [&](auto result) {
    notifyStatus(true);
    return result;
  };
  // A refused policy leaves the running one in force: the last good one, or the failsafe.
  auto refuse = [&](std::vector<std::string> errors) {
    setPolicyState(state_ == PolicyState::Current ? PolicyState::LastGood : state_, errors);
    return done(std::unexpected(std::move(errors)));
  };
  if (!loaded) return refuse(std::move(loaded.error().errors));
  size_t devices = loaded->plan.devices.size();
  std::vector<std::string> before = bus_ ? deviceNames() : std::vector<std::string>{};
  containment_->usePolicy(*loaded->policy, &loaded->plan);
  carryMaintenance(loaded->plan, policy::WallClock::now());
  policy::Plan replaced;
  auto applied = enforcer_->reload(std::move(loaded->plan), &replaced, rebuild);
  if (!applied) {
    containment_->usePolicy(*policy_, nullptr);  // back to the policy in force
    log(LogLevel::Error, "apply-failed",
        "the kernel refused the new policy; the running policy stays in force: " + applied.error());
    return refuse({"the kernel refused the policy: " + applied.error()});
  }
  std::vector<std::string> changes = reportChanges(*policy_, *loaded->policy);
  std::vector<std::string> loadWarnings = loaded->warnings;
  loaded->warnings.insert(loaded->warnings.end(), changes.begin(), changes.end());
  // The judge has moved on: what the new policy and plan replaced is freed off the loop.
  reaper_.discard(
      std::pair{std::exchange(policy_, std::move(loaded->policy)), std::move(replaced)});
  if (policy_->config.stateDir != stateDir_) {
    log(LogLevel::Warning, "state-dir-unchanged",
        "state_dir " + policy_->config.stateDir +
            " takes effect at the next start; state and "
            "the last good policy stay in " +
            stateDir_ + " until then");
  }
  stamp(false);  // the ruleset is in force: the neighbour pins follow the line below
  setPolicyState(PolicyState::Current, {});
  endOrphanedMaintenance();
  log(LogLevel::Info, "policy-applied",
      std::string("policy reloaded: ") + std::to_string(devices) + " devices, " +
          (applied->rebuilt ? "table rebuilt"
                            : std::to_string(applied->elementChanges) + " element changes") +
          ", " + std::to_string(applied->stats.messages) + " messages in one transaction, " +
          fixed1(msSince(started)) + " ms; " + reuseSummary(loaded->reuse, loaded->compiled));
  try {
    neighbours_.sync(*policy_);
  } catch (const std::exception& ex) {  // the ruleset is in force: the saves still follow
    log(LogLevel::Error, "neighbour-error",
        std::string("neighbours not pinned after the reload: ") + ex.what());
  }
  saveLastGood(loaded->sources);  // in force already: saving it is not part of applying it
  saveCompiled(loaded->sources, loaded->readingNotes, loadWarnings);
  if (bus_) {
    bus_->setAdminGroup(policy_->config.adminGroup);
    bus_->devicesChanged(before, deviceNames());
    bus_->policyReloaded(generation_);
  }
  return done(std::pair{generation_, std::move(loaded->warnings)});
}

void Manager::reassert() {
  auto started = Clock::now();
  log(LogLevel::Warning, "table-tampered",
      "table inet " + enforcer_->running()->table +
          " was changed by another process; putting it back");
  policy::Plan plan = *enforcer_->running();
  carryMaintenance(plan, policy::WallClock::now());  // with the time each window has left
  auto applied = enforcer_->start(std::move(plan));
  if (!applied) {
    log(LogLevel::Error, "apply-failed", "cannot put the table back: " + applied.error());
    return;
  }
  monitor_->drain();  // our own transaction's notifications
  log(LogLevel::Info, "policy-applied", "table put back in " + fixed1(msSince(started)) + " ms");
}

int runCheck(const DaemonOptions& options) {
  policy::LoadResult r = policy::loadPolicy(options.load);
  if (r.ok()) policy::lintPolicy(r.policy, r.diagnostics);
  for (const policy::Diagnostic& d : r.diagnostics.sorted())
    std::cerr << policy::formatDiagnostic(d) << "\n";
  if (!r.ok()) {
    std::cerr << "ringfenced: policy refused (" << r.diagnostics.errorCount()
              << " errors); nothing would be applied\n";
    return 1;
  }
  policy::Plan plan = policy::compilePlan(r.policy);
  std::cout << policy::renderNft(plan);
  std::cerr << "ringfenced: would apply table inet " << plan.table << ": " << plan.devices.size()
            << " devices, " << plan.elementCount() << " set elements\n";
  return 0;
}

}  // namespace ringfence::daemon
