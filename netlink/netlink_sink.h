// RulesetSink over nfnetlink. Marks the table OWNER|PERSIST where the kernel
// supports it (no other process may change it; it stays when we exit), and
// falls back to an unowned table on older kernels, where the daemon's
// monitor puts a flushed table back.
#pragma once

#include <chrono>
#include <functional>

#include "netlink/nft_socket.h"
#include "policy/ruleset_sink.h"

namespace ringfence::netlink {

class NetlinkSink final : public policy::RulesetSink {
 public:
  static std::expected<NetlinkSink, std::string> open(bool ownTable = true);

  std::expected<policy::ApplyStats, std::string> replace(const policy::Plan& plan,
                                                         const std::string& alsoDelete) override;
  std::expected<policy::ApplyStats, std::string> update(const policy::Plan& running,
                                                        const policy::Plan& next,
                                                        const policy::PlanDiff& diff) override;

  // `work`, which needs no part of the next transaction (replace or update),
  // is done on another thread while the kernel applies it, so on another
  // core; it is done by the time that call returns, sent or not. It must
  // not throw (it may run while an exception unwinds).
  void alongsideNext(std::function<void()> work) { alongside_ = std::move(work); }

  uint32_t portId() const { return socket_.portId(); }
  bool ownsTable() const { return tableFlags_ != 0; }

 private:
  bool hasBridgeTable(const std::string& name);
  explicit NetlinkSink(NftSocket s, bool own) : socket_(std::move(s)), wantOwner_(own) {}
  std::expected<policy::ApplyStats, std::string> send(
      Batch& batch, std::chrono::steady_clock::time_point encodeStarted);

  NftSocket socket_;
  bool wantOwner_;
  uint32_t tableFlags_ = 0;
  bool probed_ = false;
  std::function<void()> alongside_;
};

}  // namespace ringfence::netlink
