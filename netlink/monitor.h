// Watches nftables change notifications for changes to our table made by
// anyone else (`nft flush ruleset`, `nft delete table ...`).
#pragma once

#include <expected>
#include <string>

#include "netlink/handles.h"

namespace ringfence::netlink {

class NftMonitor {
 public:
  static std::expected<NftMonitor, std::string> open();

  int fd() const;
  // Reads what is pending without blocking. True when our table may have
  // been changed by another socket than `ownPortId` (or notifications were
  // lost, which must be treated the same).
  bool tableTouchedByOthers(const std::string& table, uint32_t ownPortId);
  // Discards what is pending, lost notifications included. For right after
  // one of our own large transactions: a full apply of 10,000 devices sends
  // more notifications than the socket holds, and the loss must not read as
  // tampering (which would rebuild the table, and overflow again, forever).
  void drain();

 private:
  explicit NftMonitor(MnlSocketPtr s) : socket_(std::move(s)) {}
  MnlSocketPtr socket_;
};

}  // namespace ringfence::netlink
