// Which policy is in force: the one on disk, the last good one, or the
// failsafe (docs/failsafe.md), and saying so in the log, to systemd and on
// the bus.
#include <systemd/sd-daemon.h>

#include <chrono>
#include <ctime>
#include <exception>

#include "daemon/last_good.h"
#include "daemon/log.h"
#include "daemon/manager.h"
#include "policy/compiler.h"
#include "policy/failsafe.h"
#include "policy/lint.h"
#include "policy/policy_changes.h"

namespace ringfence::daemon {
namespace {

void logDiagnostics(const policy::Diagnostics& diags) {
  for (const policy::Diagnostic& d : diags.sorted()) {
    log(d.severity == policy::Severity::Error ? LogLevel::Error : LogLevel::Warning,
        d.severity == policy::Severity::Error ? "policy-error" : "policy-warning",
        policy::formatDiagnostic(d));
  }
}

std::string joinComma(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::string utcTime(uint64_t micros) {
  time_t t = static_cast<time_t>(micros / 1000000);
  struct tm tm {};
  char buf[32] = "?";
  if (gmtime_r(&t, &tm)) strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string errorCount(size_t n) { return std::to_string(n) + (n == 1 ? " error" : " errors"); }

}  // namespace

const char* toString(PolicyState s) {
  switch (s) {
    case PolicyState::Current:
      return "current";
    case PolicyState::LastGood:
      return "last-good";
    case PolicyState::Failsafe:
      return "failsafe";
  }
  return "failsafe";
}

Manager::LoadOutcome Manager::loadFiles(const policy::LoadOptions& options, LoadCaches& caches) {
  policy::SourceCache& cache = caches.sources;
  auto locked = cache.lock();
  LoadOutcome out;
  auto mark = std::chrono::steady_clock::now();
  auto phase = [&](const char* name) {
    auto now = std::chrono::steady_clock::now();
    out.phases += std::string(out.phases.empty() ? "" : ", ") + name + " " +
                  fixed1(std::chrono::duration<double, std::milli>(now - mark).count()) + " ms";
    mark = now;
  };
  // A load that throws still ends: its counts and marks do not spill into the next one.
  struct EndLoad {
    policy::SourceCache& cache;
    bool done = false;
    ~EndLoad() {
      if (!done) cache.endLoad();
    }
  } ending{cache};
  policy::PolicySources sources = policy::readPolicySources(options, out.diagnostics, &cache);
  std::vector<std::string> readingNotes;
  for (const policy::Diagnostic& d : out.diagnostics.sorted())
    readingNotes.push_back(policy::formatDiagnostic(d));
  phase("read");
  policy::LoadResult r = policy::loadPolicy(sources, options, &cache);
  ending.done = true;
  cache.endLoad(sources.profiles.size());  // each found in the cache, or stored there
  phase("parse and check");
  if (r.ok() && !out.diagnostics.hasErrors()) policy::lintPolicy(r.policy, r.diagnostics);
  phase("lint");
  out.diagnostics.append(r.diagnostics);
  bool configClean = true;
  for (const policy::Diagnostic& d : out.diagnostics.all()) {
    if (d.severity == policy::Severity::Error && d.where.file == options.configFile)
      configClean = false;
  }
  if (out.diagnostics.hasErrors()) {
    out.result = std::unexpected(Refused{{}, std::move(r.policy.config), configClean});
    return out;
  }
  Loaded loaded{std::make_shared<policy::Policy>(std::move(r.policy)),
                {},
                {},
                std::move(sources),
                std::move(readingNotes),
                {},
                {}};
  {
    auto compileLocked = caches.compiled.lock();
    loaded.plan = policy::compilePlan(*loaded.policy, caches.compiled);
    loaded.compiled = caches.compiled.lastCompile();
  }
  phase("compile");
  loaded.reuse = cache.lastLoad();
  out.result = std::move(loaded);
  return out;
}

std::expected<Manager::Loaded, Manager::Refused> Manager::finishLoad(LoadOutcome outcome,
                                                                     const char* why) {
  if (!outcome.phases.empty())
    log(LogLevel::Debug, "load-phases", std::string(why) + ": " + outcome.phases);
  logDiagnostics(outcome.diagnostics);
  std::vector<std::string> errors, warnings;
  for (const policy::Diagnostic& d : outcome.diagnostics.sorted()) {
    (d.severity == policy::Severity::Error ? errors : warnings)
        .push_back(policy::formatDiagnostic(d));
  }
  if (!outcome.result) {
    bool running = enforcer_ && enforcer_->running();
    log(LogLevel::Error, "policy-refused",
        std::string(why) + ": policy refused with " + errorCount(errors.size()) + "; " +
            (running ? "the running policy stays in force"
                     : "enforcing the last good policy, or the failsafe, instead"));
    outcome.result.error().errors = std::move(errors);
    return std::move(outcome.result);
  }
  outcome.result->warnings = std::move(warnings);
  return std::move(outcome.result);
}

std::optional<Manager::Loaded> Manager::loadLastGood(const std::string& stateDir) {
  LastGoodStore store(stateDir);
  auto saved = store.load();
  if (!saved) {
    log(LogLevel::Error, "last-good-unusable", "LAST GOOD POLICY UNUSABLE: " + saved.error());
    return std::nullopt;
  }
  if (!*saved) {
    log(LogLevel::Error, "last-good-unusable",
        "no last good policy saved in " + store.path() + " (this gateway never applied one there)");
    return std::nullopt;
  }
  const LastGoodPolicy& lg = **saved;
  policy::LoadOptions options = options_.load;  // command-line overrides still apply
  options.stateDir = stateDir;                  // where it was found
  policy::LoadResult r = policy::loadPolicy(lg.sources, options);
  if (!r.ok()) {
    for (const policy::Diagnostic& d : r.diagnostics.sorted()) {
      if (d.severity == policy::Severity::Error) {
        log(LogLevel::Error, "last-good-unusable",
            "last good policy: " + policy::formatDiagnostic(d));
      }
    }
    log(LogLevel::Error, "last-good-unusable",
        "LAST GOOD POLICY UNUSABLE: " + store.path() + " is refused with " +
            errorCount(r.diagnostics.errorCount()));
    return std::nullopt;
  }
  log(LogLevel::Warning, "last-good-loaded",
      "last good policy read from " + store.path() + ": generation " +
          std::to_string(lg.generation) + ", saved " + utcTime(lg.savedAt) + ", hash " +
          std::to_string(lg.hash) + ", " + std::to_string(r.policy.devices.size()) + " devices");
  Loaded loaded{
      std::make_shared<policy::Policy>(std::move(r.policy)), {}, {}, lg.sources, {}, {}, {}};
  loaded.plan = policy::compilePlan(*loaded.policy);
  return loaded;
}

void Manager::saveLastGood(const policy::PolicySources& sources) {
  lastGoodUnsaved_ = LastGoodPolicy{sources, generation_, policy::sourcesHash(sources), loadedAt_};
  writeLastGood(false);
}

void Manager::saveLastGood(WrittenLastGood written) {
  lastGoodUnsaved_ = std::move(written.policy);
  writeLastGood(false, std::move(written.file));
}

void Manager::writeLastGood(bool retry,
                            std::optional<std::expected<WrittenFile, std::string>> file) {
  if (!lastGoodUnsaved_) return;
  LastGoodStore store(stateDir_);
  std::string before = lastGoodError_;
  std::expected<void, std::string> saved;
  if (!file)
    saved = store.save(*lastGoodUnsaved_);
  else if (*file)
    saved = (*file)->replace();
  else
    saved = std::unexpected(file->error());
  if (!saved) {
    bool named = saved.error().find(store.path()) != std::string::npos;
    lastGoodError_ = named ? saved.error() : store.path() + ": " + saved.error();
    lastGoodRetryAt_ = policy::WallClock::now() + Containment::kRetrySave;
    if (!retry || before != lastGoodError_) {
      log(LogLevel::Error, "last-good-unsaved",
          "CANNOT SAVE THE LAST GOOD POLICY: " + saved.error() +
              "; the policy stays applied, but after a restart with a refused policy an older "
              "saved one (or the failsafe) would be enforced; retrying every " +
              std::to_string(Containment::kRetrySave.count()) + "s");
    }
  } else {
    lastGoodError_.clear();
    lastGoodRetryAt_.reset();
    log(before.empty() ? LogLevel::Debug : LogLevel::Info, "last-good-saved",
        "last good policy saved in " + store.path() + " (generation " +
            std::to_string(lastGoodUnsaved_->generation) + ")");
    lastGoodUnsaved_.reset();
  }
  if (bus_ && before != lastGoodError_) bus_->stateSaveChanged();
}

std::expected<void, std::string> Manager::startWith(Loaded loaded, WrittenLastGood* lastGood) {
  // The policy the judge refers to is replaced only once the judge has moved on.
  std::shared_ptr<policy::Policy> previous = std::move(policy_);
  policy_ = std::move(loaded.policy);
  policy_->config.stateDir = stateDir_;
  containment_->usePolicy(*policy_, &loaded.plan);
  previous.reset();
  restoreMaintenance(loaded.plan.table, policy::WallClock::now());  // before the table is replaced
  carryMaintenance(loaded.plan, policy::WallClock::now());
  std::string table = loaded.plan.table;
  size_t elements = loaded.plan.elementCount(), devices = loaded.plan.devices.size();
  // The pins and the last good policy's file need no part of the
  // transaction: they are done on another core while the kernel applies it
  // (a refused policy's pins are replaced by whatever is enforced instead;
  // its file is removed unused).
  std::exception_ptr alongsideFailed;
  sink_->alongsideNext([&] {
    try {
      neighbours_.sync(*policy_);
      if (lastGood) {
        lastGood->policy.hash = policy::sourcesHash(lastGood->policy.sources);
        lastGood->policy.savedAt = policy::toMicros(policy::WallClock::now());
        lastGood->file = LastGoodStore(stateDir_).write(lastGood->policy);
      }
    } catch (...) {
      alongsideFailed = std::current_exception();
    }
  });
  auto applied = enforcer_->start(std::move(loaded.plan));
  if (!applied) {
    log(LogLevel::Error, "apply-failed", "the kernel refused the policy: " + applied.error());
    try {
      if (alongsideFailed) std::rethrow_exception(alongsideFailed);
    } catch (const std::exception& ex) {  // what follows pins anew and saves nothing
      log(LogLevel::Error, "apply-failed",
          std::string("meanwhile, pinning or writing the last good policy failed: ") + ex.what());
    } catch (...) {
      log(LogLevel::Error, "apply-failed",
          "meanwhile, pinning or writing the last good policy failed");
    }
    return std::unexpected("the kernel refused the policy: " + applied.error());
  }
  stamp(false);
  if (alongsideFailed) std::rethrow_exception(alongsideFailed);
  log(LogLevel::Info, "policy-applied",
      std::string(state_ == PolicyState::LastGood ? "last good policy applied" : "policy applied") +
          ": table inet " + table + ", " + std::to_string(devices) + " devices, " +
          std::to_string(elements) + " set elements, " + std::to_string(applied->stats.messages) +
          " messages (" + std::to_string(applied->stats.bytes) +
          " bytes) in one transaction (encoded in " + fixed1(applied->stats.encodeMs) +
          " ms, applied by the kernel in " + fixed1(applied->stats.kernelMs) + " ms)" +
          (sink_->ownsTable() ? "; table owned by the daemon and persistent" : ""));
  return {};
}

// The policy on disk, else the last good one, else the failsafe; false when
// not even the failsafe could be applied.
bool Manager::enforceAtStart(std::optional<Loaded> loaded, std::optional<Refused> refused) {
  std::vector<std::string> errors = refused ? refused->errors : std::vector<std::string>{};
  PolicyState state = refused ? PolicyState::LastGood : PolicyState::Current;
  bool applied = false;
  if (loaded) {
    // Taken out: one list of the files while the kernel applies, not two or three.
    policy::PolicySources sources = std::move(loaded->sources);
    policy::DaemonConfig diskConfig = loaded->policy->config;
    ToSave toSave{{}, loaded->readingNotes, loaded->warnings};
    state_ = state;
    // Started from the compiled policy, the last good one is saved after the start check.
    // Otherwise its file is written from them while the kernel applies, and they are copied
    // for the compiled policy only once the transaction is freed.
    std::optional<WrittenLastGood> lastGood;
    if (state == PolicyState::Current && !startedFrom_) {
      lastGood.emplace(
          WrittenLastGood{LastGoodPolicy{std::move(sources), generation_ + 1, 0, 0}, {}});
    } else {
      sources = {};  // nothing is saved from them: freed before the transaction is made
    }
    auto done = startWith(std::move(*loaded), lastGood ? &*lastGood : nullptr);
    applied = done.has_value();
    if (applied && lastGood) {
      toSave.sources = lastGood->policy.sources;
      saveLastGood(std::move(*lastGood));
      compiledUnsaved_ = std::move(toSave);
    }
    if (!applied) startedFrom_.reset();
    if (!applied && state == PolicyState::Current) {
      // The policy on disk is valid but the kernel refused it: the last good one, then the
      // failsafe.
      errors.push_back(done.error());
      state = PolicyState::LastGood;
      if (auto lastGood = loadLastGood(stateDir_)) {
        state_ = state;
        auto again = startWith(std::move(*lastGood));
        applied = again.has_value();
        if (!applied) errors.push_back("last good policy: " + again.error());
      }
      if (!refused) refused = Refused{{}, std::move(diskConfig), true};
    } else if (!applied) {
      errors.push_back("last good policy: " + done.error());
    }
  }
  if (!applied) {
    state = PolicyState::Failsafe;
    if (!startFailsafe(*refused, stateDir_)) return false;
  }
  setPolicyState(state, std::move(errors));
  return true;
}

bool Manager::startFailsafe(const Refused& refused, const std::string& stateDir) {
  auto empty = std::make_shared<policy::Policy>();
  empty->config = refused.config;
  empty->config.stateDir = stateDir;
  // A configuration with an error may list too few interfaces: then nothing is forwarded at all.
  std::vector<std::string> interfaces;
  if (refused.configClean) interfaces = refused.config.deviceInterfaces;
  failsafeForwardsNothing_ = interfaces.empty();
  // The bridge too: with the bridge topology, or when the configuration
  // cannot say which topology it is (then nothing is bridged).
  std::optional<std::vector<std::string>> uplinks;
  if (!refused.configClean)
    uplinks.emplace();
  else if (refused.config.topology == "bridge")
    uplinks = refused.config.uplinkInterfaces;
  policy::Plan plan = policy::failsafePlan(empty->config.table, interfaces, uplinks);
  std::shared_ptr<policy::Policy> previous = std::move(policy_);
  policy_ = std::move(empty);
  containment_->usePolicy(*policy_, &plan);
  previous.reset();
  auto applied = enforcer_->start(std::move(plan));
  if (!applied) {
    log(LogLevel::Error, "apply-failed",
        "THE KERNEL REFUSED EVEN THE FAILSAFE TABLE: " + applied.error() +
            "; exiting so that the service manager starts the daemon again");
    return false;
  }
  stamp();
  log(LogLevel::Error, "failsafe-applied",
      "FAILSAFE applied: table inet " + policy_->config.table + " forwards nothing " +
          (failsafeForwardsNothing_ ? std::string("at all (no usable device_interfaces)")
                                    : "to or from " + joinComma(interfaces)) +
          " and logs every packet it drops (NFLOG group " + std::to_string(policy::kNflogGroup) +
          ", prefix \"" + policy::kFailsafeLogPrefix + "\")");
  return true;
}

std::vector<std::string> Manager::reportChanges(const policy::Policy& before,
                                                const policy::Policy& after) {
  constexpr size_t kNoticesLogged = 100;  // additions are many after a failsafe: summarized
  size_t notices = 0;
  std::vector<std::string> described;
  for (const policy::PolicyChange& c : policy::policyChanges(before, after)) {
    bool loss = c.severity == policy::ChangeSeverity::Warning;
    described.push_back((loss ? "warning: " : "") + policy::formatChange(c));
    if (!loss && ++notices > kNoticesLogged) continue;
    log(loss ? LogLevel::Warning : LogLevel::Info, "policy-change", policy::formatChange(c),
        c.device);
  }
  if (notices > kNoticesLogged) {
    log(LogLevel::Info, "policy-change",
        std::to_string(notices - kNoticesLogged) + " more changes (additions) not logged");
  }
  return described;
}

std::string Manager::statusLine() const {
  size_t devices = policy_ ? policy_->devices.size() : 0;
  std::string generation = "(generation " + std::to_string(generation_) + ")";
  switch (state_) {
    case PolicyState::Current:
      return "Enforcing " + std::to_string(devices) + " devices " + generation;
    case PolicyState::LastGood:
      return "LAST GOOD POLICY: policy refused (" + errorCount(policyErrors_.size()) +
             "), enforcing the last good one, " + std::to_string(devices) + " devices " +
             generation;
    case PolicyState::Failsafe:
      return std::string("FAILSAFE: policy refused, nothing forwarded ") +
             (failsafeForwardsNothing_ ? "at all" : "to or from device interfaces") + " (" +
             errorCount(policyErrors_.size()) + ")";
  }
  return "";
}

void Manager::notifyStatus(bool ready) const {
  sd_notifyf(0, "%sSTATUS=%s", ready ? "READY=1\n" : "", statusLine().c_str());
}

void Manager::setPolicyState(PolicyState state, std::vector<std::string> errors) {
  bool changed = !stateAnnounced_ || state != state_ || errors != policyErrors_;
  state_ = state;
  policyErrors_ = std::move(errors);
  if (!changed) return;
  stateAnnounced_ = true;
  std::string detail;
  switch (state_) {
    case PolicyState::Current:
      detail = "the policy on disk is in force";
      break;
    case PolicyState::LastGood:
      detail = "THE POLICY ON DISK IS REFUSED (" + errorCount(policyErrors_.size()) +
               "); the last good policy is in force until a fixed one is reloaded";
      break;
    case PolicyState::Failsafe:
      detail = "THE POLICY IS REFUSED (" + errorCount(policyErrors_.size()) +
               ") AND NO LAST GOOD ONE COULD BE APPLIED; the failsafe forwards nothing " +
               (failsafeForwardsNothing_ ? "at all" : "to or from device interfaces") +
               " until a fixed policy is reloaded";
      break;
  }
  log(state_ == PolicyState::Current ? LogLevel::Info : LogLevel::Error, "policy-state",
      std::string("policy state ") + toString(state_) + ": " + detail);
  if (bus_) bus_->policyStateChanged();
}

}  // namespace ringfence::daemon
