#include "netlink/netlink_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "netlink/encoder.h"

namespace ringfence::netlink {

namespace {

// The bridge topology's inet chains judge bridged frames only if br_netfilter
// hands them over; its sysctls are per network namespace. Without them the
// bridge table's guard drops every device frame: closed, but useless.
std::expected<void, std::string> enableBridgeNetfilter(const policy::Plan& plan) {
  bool needed = false;
  for (const policy::Plan& c : plan.companions) needed = needed || c.needsBridgeNetfilter;
  if (!needed) return {};
  for (const char* name : {"bridge-nf-call-iptables", "bridge-nf-call-ip6tables"}) {
    std::string path = std::string("/proc/sys/net/bridge/") + name;
    // Already on (sysctl.d at boot): nothing to write, which a unit with
    // ProtectKernelTunables=yes could not do anyway.
    if (int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); in >= 0) {
      char value = 0;
      bool on = ::read(in, &value, 1) == 1 && value == '1';
      ::close(in);
      if (on) continue;
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      return std::unexpected(
          "cannot enable " + path + ": " + std::strerror(errno) +
          (errno == ENOENT ? " (load br_netfilter: modprobe br_netfilter)" : ""));
    }
    bool ok = ::write(fd, "1\n", 2) == 2;
    int err = errno;
    ::close(fd);
    if (!ok) {
      return std::unexpected("cannot enable " + path + ": " + std::strerror(err) +
                             " (set it to 1 in /etc/sysctl.d: docs/bridge.md)");
    }
  }
  return {};
}

}  // namespace

// A kernel without nftables' bridge family answers an error: then there is
// no such table either.
bool NetlinkSink::hasBridgeTable(const std::string& name) {
  auto t = socket_.getTable(name, NFPROTO_BRIDGE);
  return t && t->has_value();
}

std::expected<NetlinkSink, std::string> NetlinkSink::open(bool ownTable) {
  auto s = NftSocket::open();
  if (!s) return std::unexpected(s.error().message());
  return NetlinkSink(std::move(*s), ownTable);
}

namespace {

// Work meant to go alongside a transaction that was never sent is done all the same.
struct AlongsideDone {
  std::function<void()>& work;
  ~AlongsideDone() {
    if (work) std::exchange(work, {})();
  }
};

}  // namespace

std::expected<policy::ApplyStats, std::string> NetlinkSink::send(
    Batch& batch, std::chrono::steady_clock::time_point encodeStarted) {
  batch.finish();
  auto sending = std::chrono::steady_clock::now();
  std::optional<std::jthread> alongside;
  if (alongside_) {
    try {
      alongside.emplace(alongside_);
      alongside_ = {};
    } catch (const std::system_error&) {  // no thread to be had: done here, first
      std::exchange(alongside_, {})();
      sending = std::chrono::steady_clock::now();
    }
  }
  auto sent = socket_.send(batch);
  auto done = std::chrono::steady_clock::now();
  alongside.reset();  // joined: done before the result is known
  if (!sent) return std::unexpected(sent.error().message());
  using Ms = std::chrono::duration<double, std::milli>;
  return policy::ApplyStats{batch.messageCount(), batch.size(), Ms(sending - encodeStarted).count(),
                            Ms(done - sending).count()};
}

std::expected<policy::ApplyStats, std::string> NetlinkSink::replace(const policy::Plan& plan,
                                                                    const std::string& alsoDelete) {
  AlongsideDone done{alongside_};
  if (auto bridged = enableBridgeNetfilter(plan); !bridged) return std::unexpected(bridged.error());
  auto existing = socket_.getTable(plan.table);
  if (!existing) return std::unexpected(existing.error().message());
  std::optional<TableInfo> old;
  bool oldBridge = false;
  if (!alsoDelete.empty() && alsoDelete != plan.table) {
    auto o = socket_.getTable(alsoDelete);
    if (!o) return std::unexpected(o.error().message());
    old = *o;
    oldBridge = hasBridgeTable(alsoDelete);
  }
  bool bridge = hasBridgeTable(plan.table);
  auto attempt = [&](uint32_t flags) {
    auto started = std::chrono::steady_clock::now();
    Batch batch(socket_.nextSeq());
    if (old) encodeDeleteTable(batch, alsoDelete, oldBridge);
    encodeFullApply(batch, plan, {existing->has_value(), flags, bridge});
    return send(batch, started);
  };
  if (!probed_ && wantOwner_) {
    // Kernels before 6.9 refuse PERSIST; an OWNER table without it would vanish
    // with the daemon (fail open), so such kernels get an unowned table.
    auto owned = attempt(kTableFlagOwner | kTableFlagPersist);
    if (owned) {
      probed_ = true;
      tableFlags_ = kTableFlagOwner | kTableFlagPersist;
      return owned;
    }
    // A refusal of the plan itself says nothing about the flags: the next
    // apply (the last good policy, the failsafe) probes again, and gets an
    // owned table.
    if (owned.error().find("Operation not supported") == std::string::npos) return owned;
    probed_ = true;
  }
  return attempt(tableFlags_);
}

std::expected<policy::ApplyStats, std::string> NetlinkSink::update(const policy::Plan& running,
                                                                   const policy::Plan& next,
                                                                   const policy::PlanDiff& diff) {
  AlongsideDone done{alongside_};
  if (diff.companionsChanged) {
    if (auto bridged = enableBridgeNetfilter(next); !bridged)
      return std::unexpected(bridged.error());
  }
  auto started = std::chrono::steady_clock::now();
  Batch batch(socket_.nextSeq());
  encodeDiff(batch, running, next, diff, tableFlags_);
  if (batch.messageCount() == 0) return policy::ApplyStats{};
  return send(batch, started);
}

}  // namespace ringfence::netlink
