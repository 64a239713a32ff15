#include "netlink/monitor.h"

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ringfence::netlink {

std::expected<NftMonitor, std::string> NftMonitor::open() {
  MnlSocketPtr s(mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!s) return std::unexpected(std::string("open monitor socket: ") + std::strerror(errno));
  if (mnl_socket_bind(s.get(), 1u << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
    return std::unexpected(std::string("subscribe to nftables changes: ") + std::strerror(errno));
  }
  int rcvbuf = 8 << 20;
  setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  return NftMonitor(std::move(s));
}

int NftMonitor::fd() const { return mnl_socket_get_fd(socket_.get()); }

bool NftMonitor::tableTouchedByOthers(const std::string& table, uint32_t ownPortId) {
  bool touched = false;
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return touched;
      if (errno == ENOBUFS) {  // we lost notifications: assume the worst
        touched = true;
        continue;
      }
      return true;
    }
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
      if (type == NFT_MSG_NEWGEN || nlh->nlmsg_pid == ownPortId) continue;
      // Every table-scoped message starts with NFTA_*_TABLE (attribute 1) after the nfgenmsg.
      forEachInMessage(nlh, sizeof(nfgenmsg), [&](const nlattr* attr) {
        if (mnl_attr_get_type(attr) == 1 && table == mnl_attr_get_str(attr)) touched = true;
      });
    }
  }
}

void NftMonitor::drain() {
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
    if (n < 0 && errno != ENOBUFS) return;  // EAGAIN: empty
  }
}

}  // namespace ringfence::netlink
