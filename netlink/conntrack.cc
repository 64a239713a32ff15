#include "netlink/conntrack.h"

#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ringfence::netlink {
namespace {

std::unexpected<std::string> failure(const std::string& what) {
  return std::unexpected(what + ": " + std::strerror(errno));
}

void readAddress(const nlattr* a, policy::IpAddress& out) {
  size_t len = mnl_attr_get_payload_len(a);
  if (len != 4 && len != 16) return;
  out.family = len == 4 ? policy::Family::V4 : policy::Family::V6;
  std::memcpy(out.bytes.data(), mnl_attr_get_payload(a), len);
}

nlmsghdr* header(char* buf, uint16_t type, uint16_t flags, uint8_t family, uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | type);
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  return nlh;
}

MnlSocketPtr openSocket(unsigned groups, int flags) {
  MnlSocketPtr s(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | flags));
  if (s && mnl_socket_bind(s.get(), groups, MNL_SOCKET_AUTOPID) < 0) s.reset();
  return s;
}

}  // namespace

std::optional<CtFlow> parseConntrackMessage(const nlmsghdr* nlh) {
  if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK ||
      nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg)) {
    return std::nullopt;
  }
  CtFlow f;
  f.family = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh))->nfgen_family;
  bool haveTuple = false;
  forEachInMessage(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    uint16_t type = mnl_attr_get_type(a);
    if (type == CTA_MARK && mnl_attr_get_payload_len(a) == 4) f.mark = be32toh(mnl_attr_get_u32(a));
    if (type != CTA_TUPLE_ORIG) return;
    haveTuple = true;
    const char* begin = reinterpret_cast<const char*>(a);
    f.tupleOrig.assign(begin, begin + a->nla_len);
    forEachNested(a, [&](const nlattr* t) {
      if (mnl_attr_get_type(t) == CTA_TUPLE_IP) {
        forEachNested(t, [&](const nlattr* ip) {
          uint16_t k = mnl_attr_get_type(ip);
          if (k == CTA_IP_V4_SRC || k == CTA_IP_V6_SRC) readAddress(ip, f.src);
          if (k == CTA_IP_V4_DST || k == CTA_IP_V6_DST) readAddress(ip, f.dst);
        });
      } else if (mnl_attr_get_type(t) == CTA_TUPLE_PROTO) {
        forEachNested(t, [&](const nlattr* p) {
          uint16_t k = mnl_attr_get_type(p);
          if (k == CTA_PROTO_NUM && mnl_attr_get_payload_len(p) >= 1) f.proto = mnl_attr_get_u8(p);
          if (k == CTA_PROTO_SRC_PORT && mnl_attr_get_payload_len(p) == 2)
            f.sport = be16toh(mnl_attr_get_u16(p));
          if (k == CTA_PROTO_DST_PORT && mnl_attr_get_payload_len(p) == 2)
            f.dport = be16toh(mnl_attr_get_u16(p));
        });
      }
    });
  });
  if (!haveTuple) return std::nullopt;
  return f;
}

std::expected<std::vector<CtFlow>, std::string> dumpConntrack() {
  MnlSocketPtr s = openSocket(0, 0);
  if (!s) return failure("conntrack socket");
  uint32_t portid = mnl_socket_get_portid(s.get());
  std::vector<char> buf(1 << 17);
  nlmsghdr* dump = header(buf.data(), IPCTNL_MSG_CT_GET, NLM_F_DUMP, AF_UNSPEC, 1);
  if (mnl_socket_sendto(s.get(), dump, dump->nlmsg_len) < 0) return failure("conntrack dump");
  std::vector<CtFlow> flows;
  auto collect = [](const nlmsghdr* nlh, void* data) noexcept -> int {
    if (auto f = parseConntrackMessage(nlh))
      static_cast<std::vector<CtFlow>*>(data)->push_back(std::move(*f));
    return MNL_CB_OK;
  };
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(s.get(), buf.data(), buf.size());
    if (n < 0) return failure("conntrack dump");
    int rc = mnl_cb_run(buf.data(), static_cast<size_t>(n), 1, portid, collect, &flows);
    if (rc == MNL_CB_STOP) break;
    if (rc < 0) return failure("conntrack dump");
  }
  return flows;
}

std::expected<size_t, std::string> deleteConntrackFlows(
    const std::vector<policy::IpAddress>& addresses, uint32_t keepMarkBits) {
  auto flows = dumpConntrack();
  if (!flows) return std::unexpected(flows.error());
  MnlSocketPtr s = openSocket(0, 0);
  if (!s) return failure("conntrack socket");
  uint32_t portid = mnl_socket_get_portid(s.get());
  std::vector<char> buf(1 << 16);
  auto mine = [&](const policy::IpAddress& a) {
    return std::find(addresses.begin(), addresses.end(), a) != addresses.end();
  };
  size_t deleted = 0;
  uint32_t seq = 2;
  for (const CtFlow& f : *flows) {
    if ((f.mark & keepMarkBits) || !(mine(f.src) || mine(f.dst))) continue;
    nlmsghdr* del = header(buf.data(), IPCTNL_MSG_CT_DELETE, NLM_F_ACK, f.family, seq);
    std::memcpy(mnl_nlmsg_get_payload_tail(del), f.tupleOrig.data(), f.tupleOrig.size());
    del->nlmsg_len += MNL_ALIGN(static_cast<uint32_t>(f.tupleOrig.size()));
    if (mnl_socket_sendto(s.get(), del, del->nlmsg_len) < 0) continue;
    ssize_t n = mnl_socket_recvfrom(s.get(), buf.data(), buf.size());
    if (n > 0 && mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, nullptr, nullptr) >= 0)
      ++deleted;
    ++seq;  // ENOENT (already gone) is fine: the flow is cut either way
  }
  return deleted;
}

std::expected<ConntrackEvents, std::string> ConntrackEvents::open() {
  MnlSocketPtr s = openSocket(NF_NETLINK_CONNTRACK_NEW, SOCK_NONBLOCK);
  if (!s) return failure("subscribe to conntrack events");
  int rcvbuf = 16 << 20;
  setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  return ConntrackEvents(std::move(s));
}

int ConntrackEvents::fd() const { return mnl_socket_get_fd(socket_.get()); }

std::vector<CtFlow> ConntrackEvents::read(bool& lost) {
  std::vector<CtFlow> out;
  std::vector<char> buf(1 << 17);
  for (int batches = 0; batches < 64; ++batches) {  // then yield to the event loop
    ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == ENOBUFS) {
        lost = true;
        continue;
      }
      break;
    }
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      if (auto f = parseConntrackMessage(nlh)) out.push_back(std::move(*f));
    }
  }
  return out;
}

}  // namespace ringfence::netlink
