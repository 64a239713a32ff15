#include "netlink/nflog.h"

#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace ringfence::netlink {
namespace {

void config(std::vector<char>& buf, nlmsghdr*& nlh, uint16_t group, uint32_t seq) {
  nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htobe16(group);
}

std::expected<void, std::string> talk(mnl_socket* s, nlmsghdr* nlh) {
  if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0)
    return std::unexpected(std::string(std::strerror(errno)));
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  ssize_t n = mnl_socket_recvfrom(s, buf.data(), buf.size());
  if (n < 0) return std::unexpected(std::string(std::strerror(errno)));
  if (mnl_cb_run(buf.data(), static_cast<size_t>(n), nlh->nlmsg_seq, mnl_socket_get_portid(s),
                 nullptr, nullptr) < 0) {
    return std::unexpected(std::string(std::strerror(errno)));
  }
  return {};
}

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Bytes of each logged packet that the kernel copies: enough for the ports
// behind a chain of IPv6 extension headers of up to about 450 bytes.
constexpr uint32_t kCopyRange = 512;

}  // namespace

// IPv6: walks the extension headers from `off` (the first one's type is
// `next`) to the transport header. Returns its offset, or 0 when the packet
// shows no ports: a non-first fragment, or a chain longer than what was
// captured. `proto` ends as the transport protocol, or as the last header
// type that could be read.
size_t walkIpv6Headers(const uint8_t* data, size_t len, uint8_t next, size_t off, uint8_t& proto) {
  constexpr int kMaxHeaders = 16;  // more is no legitimate packet; the walk stays bounded
  for (int n = 0; n < kMaxHeaders; ++n) {
    proto = next;
    switch (next) {
      case 0:     // hop-by-hop options
      case 43:    // routing
      case 60:    // destination options
      case 51: {  // authentication header: length in 4-byte units, minus 2
        if (len < off + 2) return 0;
        size_t hlen =
            next == 51 ? (size_t{data[off + 1]} + 2) * 4 : (size_t{data[off + 1]} + 1) * 8;
        next = data[off];
        off += hlen;
        break;
      }
      case 44: {  // fragment: only the first one carries the transport header
        if (len < off + 8) return 0;
        bool first = (be16(data + off + 2) & 0xfff8) == 0;
        next = data[off];
        off += 8;
        if (!first) {
          proto = next;
          return 0;
        }
        break;
      }
      default:  // a transport protocol, ESP (50) or no next header (59): the end
        return off;
    }
  }
  proto = next;
  return 0;
}

// An Ethernet/IPv4 ARP frame, as the bridge table logs it: hardware type 1,
// protocol 0x0800, address lengths 6 and 4.
bool parseArp(const uint8_t* data, size_t len, LoggedPacket& out) {
  if (len < 28 || be16(data) != 1 || be16(data + 2) != 0x0800 || data[4] != 6 || data[5] != 4)
    return false;
  out.arp = true;
  out.src.family = out.dst.family = policy::Family::V4;
  std::memcpy(out.src.bytes.data(), data + 14, 4);
  std::memcpy(out.dst.bytes.data(), data + 24, 4);
  return true;
}

bool parsePacket(const uint8_t* data, size_t len, LoggedPacket& out) {
  if (len < 1) return false;
  if (parseArp(data, len, out)) return true;
  size_t l4 = 0;
  if ((data[0] >> 4) == 4) {
    if (len < 20) return false;
    size_t ihl = static_cast<size_t>(data[0] & 0x0f) * 4;
    if (ihl < 20 || len < ihl) return false;
    out.src.family = out.dst.family = policy::Family::V4;
    std::memcpy(out.src.bytes.data(), data + 12, 4);
    std::memcpy(out.dst.bytes.data(), data + 16, 4);
    out.proto = data[9];
    bool firstFragment = (be16(data + 6) & 0x1fff) == 0;
    if (!firstFragment) return true;
    l4 = ihl;
  } else if ((data[0] >> 4) == 6) {
    if (len < 40) return false;
    out.src.family = out.dst.family = policy::Family::V6;
    std::memcpy(out.src.bytes.data(), data + 8, 16);
    std::memcpy(out.dst.bytes.data(), data + 24, 16);
    l4 = walkIpv6Headers(data, len, data[6], 40, out.proto);
    if (!l4) return true;
  } else {
    return false;
  }
  if ((out.proto == 6 || out.proto == 17) && len >= l4 + 4) {
    out.sport = be16(data + l4);
    out.dport = be16(data + l4 + 2);
  }
  if (out.proto == 58 && len >= l4 + 24 && data[l4] == 136) {  // a neighbour advertisement
    policy::IpAddress target;
    target.family = policy::Family::V6;
    std::memcpy(target.bytes.data(), data + l4 + 8, 16);
    out.ndTarget = target;
  }
  return true;
}

std::optional<LoggedPacket> parseLogMessage(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) return std::nullopt;
  if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg)) return std::nullopt;
  LoggedPacket p;
  bool havePayload = false;
  uint32_t inDev = 0, physInDev = 0;
  forEachInMessage(nlh, sizeof(nfgenmsg), [&](const nlattr* attr) {
    const auto* value = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
    size_t len = mnl_attr_get_payload_len(attr);
    switch (mnl_attr_get_type(attr)) {
      case NFULA_PREFIX:
        p.prefix.assign(reinterpret_cast<const char*>(value),
                        strnlen(reinterpret_cast<const char*>(value), len));
        break;
      case NFULA_PAYLOAD:
        havePayload = parsePacket(value, len, p);
        break;
      case NFULA_IFINDEX_INDEV:
        if (len >= 4) inDev = be32toh(*reinterpret_cast<const uint32_t*>(value));
        break;
      case NFULA_IFINDEX_PHYSINDEV:  // a bridged packet: the port, not the bridge
        if (len >= 4) physInDev = be32toh(*reinterpret_cast<const uint32_t*>(value));
        break;
      case NFULA_HWADDR:
        if (len >= 4) {
          size_t hwlen = std::min<size_t>(be16(value), std::min<size_t>(8, len - 4));
          for (size_t i = 0; i < hwlen; ++i) {
            char octet[4];
            std::snprintf(octet, sizeof octet, i ? ":%02x" : "%02x", value[4 + i]);
            p.mac += octet;
          }
        }
        break;
      default:
        break;
    }
  });
  if (!havePayload) {
    // A frame the bridge table dropped for its MAC alone says who sent it.
    if (p.mac.empty() || p.prefix.rfind("ringfence spoof mac", 0) != 0) return std::nullopt;
    p.other = true;
  }
  p.inIfindex = inDev;
  p.physInIfindex = physInDev;
  return p;
}

std::expected<NflogReader, std::string> NflogReader::open(uint16_t group) {
  MnlSocketPtr s(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
  if (!s) return std::unexpected("open NFLOG socket: " + std::string(std::strerror(errno)));
  if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return std::unexpected("bind NFLOG socket: " + std::string(std::strerror(errno)));
  }
  int rcvbuf = 16 << 20;  // a flood must not overflow us before we read
  setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = nullptr;
  config(buf, nlh, group, 1);
  nfulnl_msg_config_cmd bind{NFULNL_CFG_CMD_BIND};
  mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof bind, &bind);
  if (auto r = talk(s.get(), nlh); !r)
    return std::unexpected("bind NFLOG group " + std::to_string(group) + ": " + r.error());
  config(buf, nlh, group, 2);
  nfulnl_msg_config_mode mode{};
  mode.copy_range = htobe32(kCopyRange);
  mode.copy_mode = NFULNL_COPY_PACKET;
  mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof mode, &mode);
  // Deliver every packet at once: the default batches up to 100 packets or 1 s,
  // and an isolation must not wait for that. Floods are absorbed by the buffer.
  mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htobe32(1));
  if (auto r = talk(s.get(), nlh); !r) return std::unexpected("configure NFLOG: " + r.error());
  int flags = fcntl(mnl_socket_get_fd(s.get()), F_GETFL);
  fcntl(mnl_socket_get_fd(s.get()), F_SETFL, flags | O_NONBLOCK);
  return NflogReader(std::move(s));
}

int NflogReader::fd() const { return mnl_socket_get_fd(socket_.get()); }

std::vector<LoggedPacket> NflogReader::read(uint64_t& lost) {
  std::vector<LoggedPacket> out;
  std::vector<char> buf(1 << 17);
  for (int batches = 0; batches < 64; ++batches) {  // then yield to the event loop
    ssize_t n = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == ENOBUFS) {
        ++lost;
        continue;
      }
      break;  // EAGAIN: nothing more for now
    }
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      if (auto p = parseLogMessage(nlh)) out.push_back(std::move(*p));
    }
  }
  return out;
}

}  // namespace ringfence::netlink
