// Reloads off the event loop: a worker thread reads, validates and compiles
// the policy (the slow part: a large policy takes seconds), the loop keeps
// isolating and answering D-Bus meanwhile, and applies the result when the
// worker signals its eventfd. One reload runs at a time; requests that come
// while it runs are served together by one more reload after it, so a file
// changed after the first one read it is not missed.
#include <sys/eventfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>

#include "daemon/log.h"
#include "daemon/manager.h"

namespace ringfence::daemon {

Manager::~Manager() {
  reloadJob_.reset();  // joins a running worker before its eventfd goes
  compiledSave_.reset();
  if (savedSource_) sd_event_source_unref(savedSource_);
  if (savedFd_ >= 0) close(savedFd_);
  if (reloadSource_) sd_event_source_unref(reloadSource_);
  sd_event_source_disable_unref(ctSource_);
  if (reloadFd_ >= 0) close(reloadFd_);
}

int Manager::setupReloadEvents() {
  reloadFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (reloadFd_ < 0) return -errno;
  return sd_event_add_io(loop_.get(), &reloadSource_, reloadFd_, EPOLLIN, onReloadDone, this);
}

void Manager::beginReload() {
  reloadStarted_ = std::chrono::steady_clock::now();
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%lu",
             static_cast<unsigned long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                            reloadStarted_.time_since_epoch())
                                            .count()));
  log(LogLevel::Info, "reload", "reloading the policy");
}

void Manager::reloadAsync(std::function<void(const ReloadResult&)> done) {
  if (reloadJob_) {
    reloadAgain_ = true;
    nextReloadWaiters_.push_back(std::move(done));
    log(LogLevel::Info, "reload", "a reload is running; another one follows it");
    return;
  }
  reloadWaiters_.push_back(std::move(done));
  startReloadWorker();
}

// The job is published only once its thread runs: a thread that cannot be
// created answers the waiters with an error and leaves no job behind (a job
// without a thread would make every later reload wait for it forever).
void Manager::startReloadWorker(bool startCheck) {
  if (!startCheck) beginReload();
  int fd = reloadFd_;
  try {
    auto job = std::make_unique<ReloadJob>();
    if (startCheck) {
      if (!startedFrom_) return;         // nothing to compare with
      job->startCheck = &*startedFrom_;  // it stays until the check is finished
    }
    ReloadJob* running = job.get();
    job->worker = std::jthread([running, fd, options = options_.load,
                                caches = &caches_]() noexcept {
      try {
        running->outcome = loadFiles(options, *caches);
        if (running->startCheck) compareStartCheck(*running);
      } catch (const std::exception& ex) {
        LoadOutcome failed;
        failed.diagnostics.error({"ringfenced", 0, 0}, std::string("loading failed: ") + ex.what());
        running->outcome = std::move(failed);
      }
      uint64_t one = 1;
      while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
      }
    });
    reloadJob_ = std::move(job);
  } catch (const std::exception& ex) {
    std::string why = std::string("reload failed: cannot start the loading thread: ") + ex.what();
    log(LogLevel::Error, "internal-error", why + "; the policy in force stays");
    auto waiters = std::move(reloadWaiters_);
    reloadWaiters_.clear();
    ReloadResult failed = std::unexpected(std::vector<std::string>{why});
    for (auto& done : waiters) {
      try {
        if (done) done(failed);
      } catch (const std::exception&) {
      }
    }
  }
}

int Manager::onReloadDone(sd_event_source*, int fd, uint32_t, void* self) noexcept {
  auto* m = static_cast<Manager*>(self);
  uint64_t count = 0;
  if (read(fd, &count, sizeof count) < 0 || !m->reloadJob_) return 0;
  std::unique_ptr<ReloadJob> job = std::move(m->reloadJob_);
  auto waiters = std::move(m->reloadWaiters_);
  m->reloadWaiters_.clear();
  auto answer = [&](const ReloadResult& result) {
    for (auto& done : waiters) {
      if (done) done(result);
    }
  };
  try {
    job->worker.join();  // it has signalled: the outcome is complete
    if (job->startCheck) {
      m->finishStartCheck(*job);
    } else {
      answer(m->applyReload(m->finishLoad(std::move(*job->outcome), "reload")));
    }
    m->armTimer();  // new release deadlines, or a retry of a state write the reload made
  } catch (const std::exception& ex) {
    log(LogLevel::Error, "internal-error", std::string("reload failed: ") + ex.what());
    try {
      answer(std::unexpected(std::vector<std::string>{std::string("reload failed: ") + ex.what()}));
    } catch (const std::exception&) {
    }
  }
  try {
    if (m->reloadAgain_) {
      m->reloadAgain_ = false;
      m->reloadWaiters_ = std::move(m->nextReloadWaiters_);
      m->nextReloadWaiters_.clear();
      m->startReloadWorker();
    }
  } catch (const std::exception& ex) {
    log(LogLevel::Error, "internal-error", std::string("reload failed: ") + ex.what());
  }
  return 0;
}

}  // namespace ringfence::daemon
