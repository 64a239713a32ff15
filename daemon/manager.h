// The daemon: loads the policy, applies it, and serves on sd-event: SIGHUP
// reloads, SIGTERM/SIGINT stop (leaving the ruleset in force), nftables
// notifications reveal a tampered table, which is put back at once.
#pragma once

#include <systemd/sd-event.h>

#include <memory>
#include <optional>

#include "daemon/containment.h"
#include "daemon/enforcer.h"
#include "daemon/options.h"
#include "netlink/monitor.h"
#include "netlink/netlink_sink.h"
#include "netlink/nflog.h"

namespace ringfence::daemon {

struct EventLoopFree {
  void operator()(sd_event* e) const { sd_event_unref(e); }
};

class Manager {
 public:
  explicit Manager(DaemonOptions options) : options_(std::move(options)) {}  // no I/O
  // Loads, applies and serves until stopped; returns the process exit code.
  int run();

 private:
  struct Loaded {
    std::unique_ptr<policy::Policy> policy;  // stable address: the judge refers to it
    policy::Plan plan;
  };
  std::optional<Loaded> load(const char* why);
  void armTimer();
  int setupLoop();
  void reload();
  void reassert();

  static int onSignal(sd_event_source*, const struct signalfd_siginfo* info, void* self) noexcept;
  static int onMonitor(sd_event_source*, int fd, uint32_t revents, void* self) noexcept;
  static int onNflog(sd_event_source*, int fd, uint32_t revents, void* self) noexcept;
  static int onTimer(sd_event_source*, uint64_t usec, void* self) noexcept;
  static int onConntrack(sd_event_source*, int fd, uint32_t revents, void* self) noexcept;

  DaemonOptions options_;
  std::unique_ptr<sd_event, EventLoopFree> loop_;
  std::optional<netlink::NetlinkSink> sink_;
  std::optional<netlink::NftMonitor> monitor_;
  std::optional<Enforcer> enforcer_;
  std::optional<netlink::NflogReader> nflog_;
  std::optional<netlink::ConntrackEvents> ctEvents_;
  std::optional<Containment> containment_;
  std::unique_ptr<policy::Policy> policy_;
  sd_event_source* timer_ = nullptr;
  uint64_t nflogLost_ = 0;
  uint64_t generation_ = 0;
};

// ringfenced --check: validate and print the plan; never touches the kernel.
int runCheck(const DaemonOptions& options);

}  // namespace ringfence::daemon
