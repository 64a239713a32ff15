// The daemon's one nfnetlink socket for nftables: sends a batch as one
// transaction and reads every acknowledgement. When the table is OWNER-
// flagged, only this socket may change it, so the daemon keeps it for life.
#pragma once

#include <linux/netfilter.h>

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>

#include "netlink/batch.h"
#include "netlink/handles.h"

namespace ringfence::netlink {

struct KernelError {
  int error = 0;           // positive errno
  std::string what;        // what the refused message carried (set, device, profile lines)
  std::string kernelSays;  // the kernel's extended ack message, if any
  std::string message() const;
};

struct TableInfo {
  uint32_t flags = 0;
  uint32_t ownerPortId = 0;  // 0 = not owned
};

class NftSocket {
 public:
  // Opens and binds the socket; errors are errno values (EPERM without CAP_NET_ADMIN).
  static std::expected<NftSocket, KernelError> open();

  // Sends `batch` (finished) and waits for the verdict on every message. On
  // refusal the kernel applied nothing; the first refused message is reported.
  std::expected<void, KernelError> send(const Batch& batch);

  // The table's flags, or nullopt when it does not exist.
  std::expected<std::optional<TableInfo>, KernelError> getTable(const std::string& name,
                                                                uint8_t family = NFPROTO_INET);

  // Sends `request` (NLM_F_DUMP; its sequence number is set here) and hands
  // every reply message to `each` until the dump is done. `what` names the
  // request in errors.
  std::expected<void, KernelError> dump(nlmsghdr* request,
                                        const std::function<void(const nlmsghdr*)>& each,
                                        const std::string& what);

  uint32_t portId() const;
  uint32_t nextSeq() { return seq_ += 1 << 20; }  // room for any batch's messages

 private:
  explicit NftSocket(MnlSocketPtr s) : socket_(std::move(s)) {}
  MnlSocketPtr socket_;
  uint32_t seq_ = 0;
};

}  // namespace ringfence::netlink
