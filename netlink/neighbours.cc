#include "netlink/neighbours.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

namespace ringfence::netlink {
namespace {

uint8_t addressFamily(const policy::IpAddress& a) {
  return a.family == policy::Family::V4 ? AF_INET : AF_INET6;
}

bool readAddress(const nlattr* a, uint8_t family, policy::IpAddress& out) {
  size_t len = mnl_attr_get_payload_len(a);
  if ((family == AF_INET && len != 4) || (family == AF_INET6 && len != 16)) return false;
  out.family = family == AF_INET ? policy::Family::V4 : policy::Family::V6;
  out.bytes = {};
  std::memcpy(out.bytes.data(), mnl_attr_get_payload(a), len);
  return true;
}

nlmsghdr* neighbourRequest(char* buf, uint16_t type, uint16_t flags, int ifindex,
                           const policy::IpAddress& address, uint16_t state) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  auto* nd = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  nd->ndm_family = addressFamily(address);
  nd->ndm_ifindex = ifindex;
  nd->ndm_state = state;
  nd->ndm_type = RTN_UNICAST;
  mnl_attr_put(nlh, NDA_DST, address.size(), address.bytes.data());
  return nlh;
}

}  // namespace

int interfaceIndex(const std::string& name) {
  return static_cast<int>(if_nametoindex(name.c_str()));
}

std::expected<NeighbourTable, std::string> NeighbourTable::open() {
  MnlSocketPtr s(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
  if (!s) return std::unexpected(std::string("open rtnetlink socket: ") + std::strerror(errno));
  if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return std::unexpected(std::string("bind rtnetlink socket: ") + std::strerror(errno));
  timeval timeout{10, 0};  // a kernel that never answers must not hang the daemon
  setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  NeighbourTable t(std::move(s));
  t.seq_ = static_cast<uint32_t>(time(nullptr));
  return t;
}

template <typename F>
std::expected<void, std::string> NeighbourTable::exchange(nlmsghdr* request, F&& onMessage) {
  request->nlmsg_seq = ++seq_;
  if (mnl_socket_sendto(socket_.get(), request, request->nlmsg_len) < 0)
    return std::unexpected(std::string("rtnetlink send: ") + std::strerror(errno));
  std::vector<char> buf(32768);  // dump messages come in batches of up to 32 KiB
  uint32_t portid = mnl_socket_get_portid(socket_.get());
  struct Context {
    F* onMessage;
  } context{&onMessage};
  auto callback = [](const nlmsghdr* nlh, void* data) noexcept -> int {
    try {
      (*static_cast<Context*>(data)->onMessage)(nlh);
    } catch (...) {
      return MNL_CB_ERROR;
    }
    return MNL_CB_OK;
  };
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
    if (n < 0) return std::unexpected(std::string("rtnetlink receive: ") + std::strerror(errno));
    errno = 0;
    int rc = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq_, portid, callback, &context);
    if (rc == MNL_CB_STOP) return {};  // NLMSG_DONE, or the acknowledgement
    if (rc < 0) return std::unexpected(std::string(std::strerror(errno ? errno : EPROTO)));
  }
}

std::expected<std::vector<NeighbourEntry>, std::string> NeighbourTable::dump() {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETNEIGH;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* nd = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  nd->ndm_family = AF_UNSPEC;
  std::vector<NeighbourEntry> entries;
  auto r = exchange(nlh, [&](const nlmsghdr* m) {
    if (m->nlmsg_type != RTM_NEWNEIGH || m->nlmsg_len < NLMSG_HDRLEN + sizeof(ndmsg)) return;
    const auto* n = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(m));
    if (n->ndm_family != AF_INET && n->ndm_family != AF_INET6) return;
    NeighbourEntry e;
    e.ifindex = n->ndm_ifindex;
    e.permanent = (n->ndm_state & NUD_PERMANENT) != 0;
    bool haveDst = false;
    forEachInMessage(m, sizeof(ndmsg), [&](const nlattr* a) {
      uint16_t type = mnl_attr_get_type(a);
      if (type == NDA_DST) haveDst = readAddress(a, n->ndm_family, e.address);
      if (type == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6) {
        policy::MacAddress mac;
        std::memcpy(mac.bytes.data(), mnl_attr_get_payload(a), 6);
        e.mac = mac;
      }
      if (type == NDA_PROTOCOL && mnl_attr_get_payload_len(a) >= 1) e.protocol = mnl_attr_get_u8(a);
    });
    if (haveDst) entries.push_back(e);
  });
  if (!r) return std::unexpected("neighbour dump: " + r.error());
  return entries;
}

std::expected<std::vector<ConnectedRoute>, std::string> NeighbourTable::connectedRoutes() {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* rt = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rt->rtm_family = AF_UNSPEC;
  std::vector<ConnectedRoute> routes;
  auto r = exchange(nlh, [&](const nlmsghdr* m) {
    if (m->nlmsg_type != RTM_NEWROUTE || m->nlmsg_len < NLMSG_HDRLEN + sizeof(rtmsg)) return;
    const auto* rm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(m));
    if (rm->rtm_family != AF_INET && rm->rtm_family != AF_INET6) return;
    bool local = rm->rtm_type == RTN_LOCAL;
    // IPv6 gives connected routes universe scope: no gateway is what marks them.
    if (!local && (rm->rtm_type != RTN_UNICAST || rm->rtm_dst_len == 0)) return;
    ConnectedRoute c;
    c.local = local;
    c.prefix.address.family = rm->rtm_family == AF_INET ? policy::Family::V4 : policy::Family::V6;
    c.prefix.length = rm->rtm_dst_len;
    uint32_t table = rm->rtm_table;
    bool gateway = false;
    forEachInMessage(m, sizeof(rtmsg), [&](const nlattr* a) {
      uint16_t type = mnl_attr_get_type(a);
      if (type == RTA_DST) readAddress(a, rm->rtm_family, c.prefix.address);
      if (type == RTA_OIF && mnl_attr_get_payload_len(a) == 4)
        c.ifindex = static_cast<int>(mnl_attr_get_u32(a));
      if (type == RTA_TABLE && mnl_attr_get_payload_len(a) == 4) table = mnl_attr_get_u32(a);
      if (type == RTA_GATEWAY) gateway = true;
    });
    if (table == (local ? RT_TABLE_LOCAL : RT_TABLE_MAIN) && !gateway && c.ifindex > 0)
      routes.push_back(c);
  });
  if (!r) return std::unexpected("route dump: " + r.error());
  return routes;
}

std::expected<void, std::string> NeighbourTable::pin(int ifindex, const policy::IpAddress& address,
                                                     const policy::MacAddress& mac) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = neighbourRequest(buf.data(), RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ifindex,
                                   address, NUD_PERMANENT);
  mnl_attr_put(nlh, NDA_LLADDR, mac.bytes.size(), mac.bytes.data());
  mnl_attr_put_u8(nlh, NDA_PROTOCOL, kNeighbourProtocol);
  auto r = exchange(nlh, [](const nlmsghdr*) {});
  if (!r) return std::unexpected("pin " + policy::toString(address) + ": " + r.error());
  return {};
}

std::expected<void, std::string> NeighbourTable::remove(int ifindex,
                                                        const policy::IpAddress& address) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = neighbourRequest(buf.data(), RTM_DELNEIGH, 0, ifindex, address, 0);
  auto r = exchange(nlh, [](const nlmsghdr*) {});
  if (!r && errno != ENOENT)
    return std::unexpected("unpin " + policy::toString(address) + ": " + r.error());
  return {};
}

}  // namespace ringfence::netlink
