#include "daemon/manager.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>

#include <chrono>
#include <cstring>
#include <iostream>

#include "policy/compiler.h"
#include "policy/nft_text.h"

namespace ringfence::daemon {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

void logDiagnostics(const policy::Diagnostics& diags) {
  for (const policy::Diagnostic& d : diags.sorted()) {
    log(d.severity == policy::Severity::Error ? LogLevel::Error : LogLevel::Warning,
        d.severity == policy::Severity::Error ? "policy-error" : "policy-warning",
        policy::formatDiagnostic(d));
  }
}

}  // namespace

std::optional<policy::Plan> Manager::loadPlan(const char* why) {
  policy::LoadResult r = policy::loadPolicy(options_.load);
  logDiagnostics(r.diagnostics);
  if (!r.ok()) {
    log(LogLevel::Error, "policy-refused",
        std::string(why) + ": policy refused with " + std::to_string(r.diagnostics.errorCount()) +
            " errors; " +
            (enforcer_ && enforcer_->running() ? "the running policy stays in force"
                                               : "nothing applied"));
    return std::nullopt;
  }
  return policy::compilePlan(r.policy);
}

int Manager::run() {
  if (options_.bus != "none") {
    log(LogLevel::Warning, "dbus-unavailable",
        "this build does not serve D-Bus yet; running as with --bus none");
  }
  auto started = Clock::now();
  std::optional<policy::Plan> plan = loadPlan("start");
  if (!plan) return 1;  // a table left by an earlier run stays in force (fail closed)

  auto sink = netlink::NetlinkSink::open(options_.ownTable);
  if (!sink) {
    log(LogLevel::Error, "netlink-error", "cannot talk to nftables: " + sink.error());
    return 1;
  }
  sink_.emplace(std::move(*sink));
  auto monitor = netlink::NftMonitor::open();
  if (!monitor) {
    log(LogLevel::Error, "netlink-error", monitor.error());
    return 1;
  }
  monitor_.emplace(std::move(*monitor));
  enforcer_.emplace(*sink_);

  std::string table = plan->table;
  size_t elements = plan->elementCount(), devices = plan->devices.size();
  auto applied = enforcer_->start(std::move(*plan));
  if (!applied) {
    log(LogLevel::Error, "apply-failed", "the kernel refused the policy: " + applied.error());
    return 1;
  }
  ++generation_;
  log(LogLevel::Info, "policy-applied",
      "policy applied: table inet " + table + ", " + std::to_string(devices) + " devices, " +
          std::to_string(elements) + " set elements, " + std::to_string(applied->stats.messages) +
          " messages in one transaction, " + fixed1(msSince(started)) + " ms from start" +
          (sink_->ownsTable() ? "; table owned by the daemon and persistent" : ""));

  if (int rc = setupLoop(); rc < 0) {
    log(LogLevel::Error, "event-loop",
        std::string("cannot set up the event loop: ") + strerror(-rc));
    return 1;
  }
  sd_notifyf(0, "READY=1\nSTATUS=Enforcing %zu devices (generation %lu)", devices,
             static_cast<unsigned long>(generation_));
  int rc = sd_event_loop(loop_.get());
  sd_notify(0, "STOPPING=1");
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
  return sd_event_set_watchdog(e, true);
}

int Manager::onSignal(sd_event_source* source, const struct signalfd_siginfo* info,
                      void* self) noexcept {
  try {
    auto* m = static_cast<Manager*>(self);
    if (info->ssi_signo == SIGHUP) {
      m->reload();
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
    if (running && m->monitor_->tableTouchedByOthers(running->table, m->sink_->portId()))
      m->reassert();
  } catch (const std::exception& ex) {
    log(LogLevel::Error, "internal-error", std::string("monitor failed: ") + ex.what());
  }
  return 0;
}

void Manager::reload() {
  auto started = Clock::now();
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%lu",
             static_cast<unsigned long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                            Clock::now().time_since_epoch())
                                            .count()));
  log(LogLevel::Info, "reload", "reloading the policy");
  if (std::optional<policy::Plan> plan = loadPlan("reload")) {
    size_t devices = plan->devices.size();
    auto applied = enforcer_->reload(std::move(*plan));
    if (!applied) {
      log(LogLevel::Error, "apply-failed",
          "the kernel refused the new policy; the running policy stays in force: " +
              applied.error());
    } else {
      ++generation_;
      log(LogLevel::Info, "policy-applied",
          std::string("policy reloaded: ") + std::to_string(devices) + " devices, " +
              (applied->rebuilt ? "table rebuilt"
                                : std::to_string(applied->elementChanges) + " element changes") +
              ", " + std::to_string(applied->stats.messages) + " messages in one transaction, " +
              fixed1(msSince(started)) + " ms");
    }
  }
  sd_notifyf(0, "READY=1\nSTATUS=Enforcing (generation %lu)",
             static_cast<unsigned long>(generation_));
}

void Manager::reassert() {
  auto started = Clock::now();
  log(LogLevel::Warning, "table-tampered",
      "table inet " + enforcer_->running()->table +
          " was changed by another process; putting it back");
  auto applied = enforcer_->reassert();
  if (!applied) {
    log(LogLevel::Error, "apply-failed", "cannot put the table back: " + applied.error());
    return;
  }
  log(LogLevel::Info, "policy-applied", "table put back in " + fixed1(msSince(started)) + " ms");
}

int runCheck(const DaemonOptions& options) {
  policy::LoadResult r = policy::loadPolicy(options.load);
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
