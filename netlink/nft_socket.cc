#include "netlink/nft_socket.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ringfence::netlink {
namespace {

std::unexpected<KernelError> failure(int error, std::string what) {
  return std::unexpected(KernelError{error, std::move(what), {}});
}

// Reads one nlmsgerr's extended ack message, if the kernel sent one.
std::string extAckMessage(const nlmsghdr* nlh) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  size_t offset = sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
  std::string message;
  forEachInMessage(nlh, offset, [&](const nlattr* attr) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG) message = mnl_attr_get_str(attr);
  });
  return message;
}

}  // namespace

std::string KernelError::message() const {
  std::string m = what.empty() ? std::string("netlink") : what;
  m += ": " + std::string(std::strerror(error));
  if (!kernelSays.empty()) m += " (" + kernelSays + ")";
  return m;
}

std::expected<NftSocket, KernelError> NftSocket::open() {
  MnlSocketPtr s(mnl_socket_open(NETLINK_NETFILTER));
  if (!s) return failure(errno, "open netlink socket");
  if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return failure(errno, "bind netlink socket");
  int on = 1;
  mnl_socket_setsockopt(s.get(), NETLINK_EXT_ACK, &on, sizeof on);
  mnl_socket_setsockopt(s.get(), NETLINK_CAP_ACK, &on, sizeof on);
  int rcvbuf = 4 << 20;
  setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  timeval timeout{10, 0};  // a kernel that never answers must not hang the daemon
  setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  NftSocket sock(std::move(s));
  sock.seq_ = static_cast<uint32_t>(time(nullptr));
  return sock;
}

uint32_t NftSocket::portId() const { return mnl_socket_get_portid(socket_.get()); }

std::expected<void, KernelError> NftSocket::send(const Batch& batch) {
  int fd = mnl_socket_get_fd(socket_.get());
  // The whole batch goes in one sendmsg (the kernel reads a transaction
  // from one message), its pieces gathered; the socket must be able to hold it.
  int sndbuf = static_cast<int>(batch.size() + (1 << 16));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  std::vector<iovec> pieces = batch.pieces();
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  msghdr message{};
  message.msg_name = &kernel;
  message.msg_namelen = sizeof kernel;
  message.msg_iov = pieces.data();
  message.msg_iovlen = pieces.size();
  ssize_t sent = sendmsg(fd, &message, 0);
  if (sent < 0 || static_cast<size_t>(sent) != batch.size()) {
    return failure(sent < 0 ? errno : EMSGSIZE,
                   "send batch of " + std::to_string(batch.size()) + " bytes");
  }
  size_t pending = batch.messageCount();
  std::optional<KernelError> firstError;
  std::vector<char> buf(1 << 16);
  uint32_t portid = portId();
  while (pending > 0) {
    ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
    if (n < 0)
      return failure(errno, "read acknowledgements (" + std::to_string(pending) + " missing)");
    const nlmsghdr* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_pid != portid || nlh->nlmsg_type != NLMSG_ERROR) continue;
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      --pending;
      if (err->error != 0 && !firstError) {
        firstError = KernelError{-err->error, batch.describe(nlh->nlmsg_seq), extAckMessage(nlh)};
      }
    }
  }
  if (firstError) return std::unexpected(*firstError);
  return {};
}

std::expected<std::optional<TableInfo>, KernelError> NftSocket::getTable(const std::string& name,
                                                                         uint8_t family) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  uint32_t seq = nextSeq();
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETTABLE, family, NLM_F_ACK, seq);
  TablePtr t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  if (mnl_socket_sendto(socket_.get(), nlh, nlh->nlmsg_len) < 0)
    return failure(errno, "get table " + name);
  std::optional<TableInfo> info;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
    if (n < 0) return failure(errno, "get table " + name);
    const nlmsghdr* m = reinterpret_cast<const nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
      if (m->nlmsg_seq != seq) continue;
      if (m->nlmsg_type == NLMSG_ERROR) {
        int error = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m))->error;
        if (error == ENOENT) return std::optional<TableInfo>{};
        if (error != 0) return failure(error, "get table " + name);
        return info;
      }
      TablePtr got(nftnl_table_alloc());
      if (nftnl_table_nlmsg_parse(m, got.get()) == 0) {
        TableInfo ti;
        ti.flags = nftnl_table_get_u32(got.get(), NFTNL_TABLE_FLAGS);
        if (nftnl_table_is_set(got.get(), NFTNL_TABLE_OWNER))
          ti.ownerPortId = nftnl_table_get_u32(got.get(), NFTNL_TABLE_OWNER);
        info = ti;
      }
    }
  }
}

std::expected<void, KernelError> NftSocket::dump(nlmsghdr* request,
                                                 const std::function<void(const nlmsghdr*)>& each,
                                                 const std::string& what) {
  request->nlmsg_seq = nextSeq();
  if (mnl_socket_sendto(socket_.get(), request, request->nlmsg_len) < 0)
    return failure(errno, what);
  std::vector<char> buf(1 << 16);  // a dump message can be up to 64 KiB
  uint32_t portid = portId();
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
    if (n < 0) return failure(errno, what);
    const nlmsghdr* m = reinterpret_cast<const nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
      if (m->nlmsg_seq != request->nlmsg_seq || m->nlmsg_pid != portid) continue;
      if (m->nlmsg_type == NLMSG_DONE) return {};
      if (m->nlmsg_type == NLMSG_ERROR) {
        int error = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m))->error;
        if (error != 0) return failure(error, what);
        return {};
      }
      each(m);
    }
  }
}

}  // namespace ringfence::netlink
