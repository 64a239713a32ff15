// Starting from the compiled policy (daemon/compiled_policy.h): at start,
// when the files on disk are exactly those the compiled policy was made of,
// it is applied without parsing or compiling a profile; once the daemon is
// ready, the policy on disk is loaded from scratch off the loop and compared
// with it, and a difference is applied at once and said loudly.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <future>

#include "daemon/compiled_policy.h"
#include "daemon/log.h"
#include "daemon/manager.h"
#include "policy/file_reader.h"
#include "policy/policy_packing.h"
#include "policy/source_text.h"

namespace ringfence::daemon {
namespace {

double msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

std::vector<std::string> warningsOf(const policy::Diagnostics& diags) {
  std::vector<std::string> out;
  for (const policy::Diagnostic& d : diags.sorted()) {
    if (d.severity == policy::Severity::Warning) out.push_back(policy::formatDiagnostic(d));
  }
  return out;
}

}  // namespace

std::string Manager::stateDirBeforeLoad() const {
  if (options_.load.stateDir) return *options_.load.stateDir;
  int64_t modified = 0;
  auto text = policy::readPolicyFile(options_.load.configFile, modified);
  if (!text) return policy::DaemonConfig{}.stateDir;
  policy::SourceFile file{options_.load.configFile, std::move(*text), modified};
  policy::Diagnostics ignored;
  auto root = policy::parseSourceFile(file, ignored);
  if (!root) return policy::DaemonConfig{}.stateDir;
  return policy::parseConfig(*root, file.path, ignored).stateDir;
}

std::optional<Manager::Loaded> Manager::startFromCompiled() {
  auto started = std::chrono::steady_clock::now();
  auto skip = [&](LogLevel level, const std::string& why) -> std::optional<Loaded> {
    auto locked = caches_.sources.lock();
    caches_.sources.clear();  // the load from scratch reads every file itself
    log(level, "compiled-policy", why + "; loading the profiles");
    return std::nullopt;
  };
  try {
    std::string dir = stateDirBeforeLoad();
    CompiledPolicyStore store(dir);
    auto saved = store.load();
    double readMs = msSince(started);
    if (!saved) return skip(LogLevel::Warning, "compiled policy unusable: " + saved.error());
    if (!*saved) return skip(LogLevel::Info, "no compiled policy in " + store.path());
    CompiledPolicy& c = **saved;
    std::string build = buildIdentity();
    if (build.empty() || c.build != build)
      return skip(LogLevel::Info, store.path() + " was written by another build of ringfenced");
    if (c.options != optionsKey(options_.load))
      return skip(LogLevel::Info, store.path() + " was written with other options");

    // The plan is unpacked on the other core while the files are read and the policy unpacked.
    auto plan = std::async(std::launch::async, [bytes = c.planBytes] {
      policy::Unpacker u(bytes);
      giveBackAsUnpacked(u, bytes);
      policy::Plan p = policy::unpackPlan(u);
      if (!u.done()) throw policy::PackingError("data left over after the plan");
      return p;
    });

    // Read as a reload reads: a profile whose file shows no change since the
    // compiled policy read it is not read again; the others are, and compared.
    policy::Diagnostics diags;
    policy::PolicySources sources;
    policy::SourceCache::Counts reading;
    {
      auto locked = caches_.sources.lock();
      for (const policy::SourceFile& f : c.sources.profiles) {
        if (f.stamp) caches_.sources.storeText(f.path, f.stamp, f.text);
      }
      sources = policy::readPolicySources(options_.load, diags, &caches_.sources);
      caches_.sources.endLoad();
      reading = caches_.sources.lastLoad();
    }
    double sourcesMs = msSince(started);
    std::vector<std::string> notes;
    for (const policy::Diagnostic& d : diags.sorted()) notes.push_back(policy::formatDiagnostic(d));
    if (diags.hasErrors() || notes != c.readingNotes || !(sources == c.sources))
      return skip(LogLevel::Info, "the policy files changed since " + store.path() + " was saved");

    Loaded loaded;
    policy::Unpacker policyBytes(c.policyBytes);
    giveBackAsUnpacked(policyBytes, c.policyBytes);
    loaded.policy = std::make_shared<policy::Policy>(policy::unpackPolicy(policyBytes));
    double policyMs = msSince(started);
    loaded.plan = plan.get();
    if (!policyBytes.done())
      return skip(LogLevel::Warning,
                  "compiled policy unusable: " + store.path() + ": data left over");
    if (loaded.policy->config.stateDir != dir)
      return skip(LogLevel::Warning, "compiled policy unusable: it names another state directory");
    for (const std::string& w : c.warnings) log(LogLevel::Warning, "policy-warning", w);
    loaded.warnings = c.warnings;
    loaded.readingNotes = std::move(c.readingNotes);
    loaded.sources = std::move(sources);
    loaded.reuse = reading;
    startedFrom_ = StartedFrom{loaded.policy, loaded.plan, c.warnings};
    log(LogLevel::Debug, "load-phases",
        "compiled policy: file read and checked at " + fixed1(readMs) +
            " ms, the files on disk at " + fixed1(sourcesMs) + " ms, the policy unpacked at " +
            fixed1(policyMs) + " ms, the plan (other core) at " + fixed1(msSince(started)) + " ms");
    log(LogLevel::Info, "compiled-policy",
        "starting from the compiled policy in " + store.path() + ": " +
            std::to_string(loaded.policy->devices.size()) + " devices, " +
            std::to_string(reading.reused) + " profiles unchanged, " +
            std::to_string(reading.read) + " read again and the same, none parsed (" +
            fixed1(msSince(started)) +
            " ms); it is checked against a load from scratch once in force");
    return loaded;
  } catch (const std::exception& ex) {
    startedFrom_.reset();
    return skip(LogLevel::Warning, std::string("compiled policy unusable: ") + ex.what());
  }
}

// Every profile is parsed, resolved and compiled again by the check; a
// device or a part that comes out equal to the one started from is replaced
// by it (never taken unseen), so that one copy of each is held. Parts are
// given only if the plan has one for each device of the policy, in order.
void Manager::shareStartedFrom() {
  if (!startedFrom_) return;
  const policy::DeviceList& devices = startedFrom_->policy->devices;
  const policy::Plan& plan = startedFrom_->plan;
  {
    auto locked = caches_.sources.lock();
    caches_.sources.shareEqual(devices);
  }
  auto locked = caches_.compiled.lock();
  caches_.compiled.clear();
  if (plan.devices.size() != devices.size()) return;
  std::vector<policy::CompileCache::Part> parts;
  parts.reserve(devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    if (plan.devices[i].device != devices[i].name) return;
    parts.push_back(plan.devices.shared(i));
  }
  std::vector<std::string> layout;
  for (const policy::SetDef& s : plan.sets) layout.push_back(s.name);
  caches_.compiled.store(devices, std::move(parts), std::move(layout));
  caches_.compiled.checkNext();
}

void Manager::startCheck() {
  {
    auto locked = caches_.sources.lock();
    caches_.sources.clear();  // every file is read again: the check owes nothing to the cache
  }
  try {
    shareStartedFrom();
  } catch (const std::exception&) {  // out of memory: the check holds a copy of its own
    auto sources = caches_.sources.lock();
    caches_.sources.clear();
    auto compiled = caches_.compiled.lock();
    caches_.compiled.clear();
  }
  reloadStarted_ = std::chrono::steady_clock::now();
  startReloadWorker(true);
  if (!reloadJob_) {
    startedFrom_.reset();
    log(LogLevel::Error, "compiled-policy",
        "START CHECK NOT RUN: the policy started from is not compared with the profiles until "
        "the next reload");
  }
}

// Every field of the policy and of the plan as compiled (policy_fields.h
// packs each one: what the file held is what compared), and the warnings.
void Manager::compareStartCheck(ReloadJob& job) {
  if (!job.outcome || !job.outcome->result || !job.startCheck) return;
  const Loaded& fresh = *job.outcome->result;
  const StartedFrom& from = *job.startCheck;
  job.sameAsStarted = *fresh.policy == *from.policy && fresh.plan == from.plan &&
                      warningsOf(job.outcome->diagnostics) == from.warnings;
}

void Manager::finishStartCheck(ReloadJob& job) {
  LoadOutcome outcome = std::move(*job.outcome);
  std::optional<StartedFrom> from = std::exchange(startedFrom_, std::nullopt);
  CompiledPolicyStore store(stateDir_);
  if (!outcome.result) {
    log(LogLevel::Error, "compiled-policy",
        "START CHECK: the profiles are refused, although they read the same at start; the "
        "policy started from stays in force as the last good one");
    store.remove();
    applyReload(finishLoad(std::move(outcome), "start check"));
    return;
  }
  const Loaded& fresh = *outcome.result;
  if (from && job.sameAsStarted) {
    log(LogLevel::Info, "compiled-policy",
        "start check: a load from scratch gives the policy started from (" +
            std::to_string(fresh.plan.devices.size()) + " devices, " +
            fixed1(msSince(reloadStarted_)) +
            " ms off the loop); reloads compile only what "
            "changed");
    saveLastGood(fresh.sources);
    return;
  }
  log(LogLevel::Error, "compiled-policy",
      "START CHECK: THE COMPILED POLICY STARTED FROM DIFFERS FROM A LOAD OF THE PROFILES FROM "
      "SCRATCH; the table is rebuilt from the profiles now (the difference follows)");
  store.remove();
  applyReload(finishLoad(std::move(outcome), "start check"), true);
}

// Packed and written on a thread of its own: the loop only copies the plan in
// force (its compiled sets; the policy is shared, it does not change once in
// force) and goes on. One save at a time: a newer one waits for the older.
void Manager::saveCompiled(const policy::PolicySources& sources,
                           const std::vector<std::string>& notes,
                           const std::vector<std::string>& warnings) {
  if (!policy_ || !enforcer_ || !enforcer_->running()) return;
  joinCompiledSave();
  CompiledPolicyStore store(stateDir_);
  std::string build = buildIdentity();
  if (build.empty()) {
    store.remove();
    return;
  }
  try {
    auto job = std::make_unique<CompiledSave>();
    CompiledSave* running = job.get();
    job->worker = std::jthread([running, fd = savedFd_, store, build = std::move(build),
                                key = optionsKey(options_.load),
                                shared = std::shared_ptr<const policy::Policy>(policy_),
                                plan = *enforcer_->running(), sources, notes, warnings]() noexcept {
      auto started = std::chrono::steady_clock::now();
      try {
        CompiledPolicy c{build, key, sources, notes, warnings, {}, {}, nullptr};
        auto saved = store.save(c, *shared, plan);
        if (saved) running->bytes = *saved;
        if (!saved) running->error = saved.error();
      } catch (const std::exception& ex) {
        running->error = ex.what();
      }
      if (!running->error.empty()) store.remove();
      running->ms = msSince(started);
      uint64_t one = 1;
      while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
      }
    });
    compiledSave_ = std::move(job);
  } catch (const std::exception& ex) {
    store.remove();
    log(LogLevel::Warning, "compiled-policy",
        std::string("compiled policy not saved: ") + ex.what() +
            "; the next start parses every profile");
  }
}

void Manager::joinCompiledSave() {
  if (!compiledSave_) return;
  std::unique_ptr<CompiledSave> job = std::move(compiledSave_);
  job->worker.join();
  CompiledPolicyStore store(stateDir_);
  if (!job->error.empty()) {
    log(LogLevel::Warning, "compiled-policy",
        "compiled policy not saved: " + job->error + "; the next start parses every profile");
  } else {
    log(LogLevel::Debug, "compiled-policy",
        "compiled policy saved in " + store.path() + " (" + std::to_string(job->bytes) +
            " bytes, " + fixed1(job->ms) + " ms off the loop)");
  }
}

int Manager::setupSavedEvents() {
  savedFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (savedFd_ < 0) return -errno;
  return sd_event_add_io(loop_.get(), &savedSource_, savedFd_, EPOLLIN, onCompiledSaved, this);
}

int Manager::onCompiledSaved(sd_event_source*, int fd, uint32_t, void* self) noexcept {
  uint64_t count = 0;
  if (read(fd, &count, sizeof count) < 0) return 0;
  try {
    static_cast<Manager*>(self)->joinCompiledSave();
  } catch (const std::exception&) {
  }
  return 0;
}

}  // namespace ringfence::daemon
