#include "netlink/netlink_sink.h"

#include <cerrno>

#include "netlink/encoder.h"

namespace ringfence::netlink {

std::expected<NetlinkSink, std::string> NetlinkSink::open(bool ownTable) {
  auto s = NftSocket::open();
  if (!s) return std::unexpected(s.error().message());
  return NetlinkSink(std::move(*s), ownTable);
}

std::expected<policy::ApplyStats, std::string> NetlinkSink::send(Batch& batch) {
  batch.finish();
  auto sent = socket_.send(batch);
  if (!sent) return std::unexpected(sent.error().message());
  return policy::ApplyStats{batch.messageCount(), batch.size()};
}

std::expected<policy::ApplyStats, std::string> NetlinkSink::replace(const policy::Plan& plan,
                                                                    const std::string& alsoDelete) {
  auto existing = socket_.getTable(plan.table);
  if (!existing) return std::unexpected(existing.error().message());
  std::optional<TableInfo> old;
  if (!alsoDelete.empty() && alsoDelete != plan.table) {
    auto o = socket_.getTable(alsoDelete);
    if (!o) return std::unexpected(o.error().message());
    old = *o;
  }
  auto attempt = [&](uint32_t flags) {
    Batch batch(socket_.nextSeq());
    if (old) encodeDeleteTable(batch, alsoDelete);
    encodeFullApply(batch, plan, {existing->has_value(), flags});
    return send(batch);
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
  Batch batch(socket_.nextSeq());
  encodeDiff(batch, running, next, diff);
  if (batch.messageCount() == 0) return policy::ApplyStats{};
  return send(batch);
}

}  // namespace ringfence::netlink
