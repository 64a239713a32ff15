#include "netlink/conntrack.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "netlink/handles.h"

namespace ringfence::netlink {
namespace {

struct Entry {
  uint8_t family;
  std::vector<char> tupleOrig;  // the CTA_TUPLE_ORIG attribute, header included
};

struct DumpState {
  const std::vector<policy::IpAddress>* addresses;
  uint32_t keep;
  std::vector<Entry> matches;
};

bool addressIn(const nlattr* ipNest, const std::vector<policy::IpAddress>& addresses) {
  bool found = false;
  forEachNested(ipNest, [&](const nlattr* a) {
    uint16_t type = mnl_attr_get_type(a);
    policy::IpAddress ip;
    if ((type == CTA_IP_V4_SRC || type == CTA_IP_V4_DST) && mnl_attr_get_payload_len(a) == 4) {
      ip.family = policy::Family::V4;
      std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), 4);
    } else if ((type == CTA_IP_V6_SRC || type == CTA_IP_V6_DST) &&
               mnl_attr_get_payload_len(a) == 16) {
      ip.family = policy::Family::V6;
      std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), 16);
    } else {
      return;
    }
    found |= std::find(addresses.begin(), addresses.end(), ip) != addresses.end();
  });
  return found;
}

int onEntry(const nlmsghdr* nlh, void* data) noexcept {
  auto* st = static_cast<DumpState*>(data);
  const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  const nlattr* orig = nullptr;
  uint32_t mark = 0;
  forEachInMessage(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    if (mnl_attr_get_type(a) == CTA_TUPLE_ORIG) orig = a;
    if (mnl_attr_get_type(a) == CTA_MARK && mnl_attr_get_payload_len(a) == 4)
      mark = be32toh(mnl_attr_get_u32(a));
  });
  if (!orig || (mark & st->keep)) return MNL_CB_OK;
  bool match = false;
  forEachNested(orig, [&](const nlattr* t) {
    match |= mnl_attr_get_type(t) == CTA_TUPLE_IP && addressIn(t, *st->addresses);
  });
  if (match) {
    const char* begin = reinterpret_cast<const char*>(orig);
    st->matches.push_back(
        Entry{nfg->nfgen_family, std::vector<char>(begin, begin + orig->nla_len)});
  }
  return MNL_CB_OK;
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

}  // namespace

std::expected<size_t, std::string> deleteConntrackFlows(
    const std::vector<policy::IpAddress>& addresses, uint32_t keepMarkBits) {
  MnlSocketPtr s(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
  if (!s || mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return std::unexpected("conntrack socket: " + std::string(std::strerror(errno)));
  }
  uint32_t portid = mnl_socket_get_portid(s.get());
  std::vector<char> buf(1 << 16);
  DumpState st{&addresses, keepMarkBits, {}};
  nlmsghdr* dump = header(buf.data(), IPCTNL_MSG_CT_GET, NLM_F_DUMP, AF_UNSPEC, 1);
  if (mnl_socket_sendto(s.get(), dump, dump->nlmsg_len) < 0) {
    return std::unexpected("conntrack dump: " + std::string(std::strerror(errno)));
  }
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(s.get(), buf.data(), buf.size());
    if (n < 0) return std::unexpected("conntrack dump: " + std::string(std::strerror(errno)));
    int rc = mnl_cb_run(buf.data(), static_cast<size_t>(n), 1, portid, onEntry, &st);
    if (rc == MNL_CB_STOP) break;
    if (rc < 0) return std::unexpected("conntrack dump: " + std::string(std::strerror(errno)));
  }
  size_t deleted = 0;
  uint32_t seq = 2;
  for (const Entry& e : st.matches) {
    nlmsghdr* del = header(buf.data(), IPCTNL_MSG_CT_DELETE, NLM_F_ACK, e.family, seq);
    std::memcpy(mnl_nlmsg_get_payload_tail(del), e.tupleOrig.data(), e.tupleOrig.size());
    del->nlmsg_len += MNL_ALIGN(static_cast<uint32_t>(e.tupleOrig.size()));
    if (mnl_socket_sendto(s.get(), del, del->nlmsg_len) < 0) continue;
    ssize_t n = mnl_socket_recvfrom(s.get(), buf.data(), buf.size());
    if (n > 0 && mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, nullptr, nullptr) >= 0)
      ++deleted;
    ++seq;  // ENOENT (already gone) is fine: the flow is cut either way
  }
  return deleted;
}

}  // namespace ringfence::netlink
