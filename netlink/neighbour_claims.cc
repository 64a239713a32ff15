#include "netlink/neighbour_claims.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace ringfence::netlink {
namespace {

constexpr size_t kEth = 14;

policy::MacAddress macAt(const uint8_t* p) {
  policy::MacAddress m;
  std::memcpy(m.bytes.data(), p, 6);
  return m;
}

policy::IpAddress addressAt(const uint8_t* p, policy::Family f) {
  policy::IpAddress a;
  a.family = f;
  std::memcpy(a.bytes.data(), p, a.size());
  return a;
}

// ICMPv6 options after the fixed part: the link-layer address option `type`.
std::optional<policy::MacAddress> linkOption(const uint8_t* p, size_t len, uint8_t type) {
  while (len >= 8) {
    size_t optLen = size_t{p[1]} * 8;
    if (optLen == 0 || optLen > len) return std::nullopt;
    if (p[0] == type && optLen >= 8) return macAt(p + 2);
    p += optLen;
    len -= optLen;
  }
  return std::nullopt;
}

// IPv6 frames: passes NS (135) and NA (136) right behind the IPv6 header.
constexpr std::array<sock_filter, 7> kNdFilter{{
    {BPF_LD | BPF_B | BPF_ABS, 0, 0, kEth + 6},   // next header
    {BPF_JMP | BPF_JEQ | BPF_K, 0, 4, 58},        // ICMPv6
    {BPF_LD | BPF_B | BPF_ABS, 0, 0, kEth + 40},  // ICMPv6 type
    {BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 135},       // neighbour solicitation
    {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 136},       // neighbour advertisement
    {BPF_RET | BPF_K, 0, 0, 0xffff},
    {BPF_RET | BPF_K, 0, 0, 0},
}};

int openSocket(int ifindex, uint16_t protocol) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(protocol));
  if (fd < 0) return -1;
  if (protocol == ETH_P_IPV6) {
    sock_fprog prog{static_cast<unsigned short>(kNdFilter.size()),
                    const_cast<sock_filter*>(kNdFilter.data())};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
      close(fd);
      return -1;
    }
  }
  int on = 1;
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &on, sizeof on);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(protocol);
  sll.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::optional<NeighbourClaim> parseNeighbourClaim(const uint8_t* frame, size_t len, int ifindex) {
  if (len < kEth) return std::nullopt;
  uint16_t type = static_cast<uint16_t>(frame[12] << 8 | frame[13]);
  const uint8_t* p = frame + kEth;
  size_t n = len - kEth;
  NeighbourClaim c;
  c.ifindex = ifindex;
  if (type == ETH_P_ARP) {
    // Ethernet/IPv4 only: htype 1, ptype 0x0800, hlen 6, plen 4.
    if (n < 28 || p[0] != 0 || p[1] != 1 || p[2] != 0x08 || p[3] != 0 || p[4] != 6 || p[5] != 4)
      return std::nullopt;
    uint16_t op = static_cast<uint16_t>(p[6] << 8 | p[7]);
    if (op != 1 && op != 2) return std::nullopt;
    c.mac = macAt(p + 8);
    c.address = addressAt(p + 14, policy::Family::V4);
    if (c.address == policy::IpAddress{}) return std::nullopt;  // a probe claims nothing
    bool gratuitous = std::memcmp(p + 14, p + 24, 4) == 0;
    c.what = gratuitous ? "gratuitous ARP" : op == 2 ? "ARP reply" : "ARP request";
    return c;
  }
  if (type != ETH_P_IPV6 || n < 40 + 24 || p[6] != 58) return std::nullopt;
  const uint8_t* icmp = p + 40;
  size_t icmpLen = n - 40;
  if (icmp[0] == 136) {  // target address, target link-layer option (or the frame's source)
    c.address = addressAt(icmp + 8, policy::Family::V6);
    c.mac = linkOption(icmp + 24, icmpLen - 24, 2).value_or(macAt(frame + 6));
    c.what = "neighbour advertisement";
    return c;
  }
  if (icmp[0] == 135) {  // source address with a source link-layer option
    policy::IpAddress src = addressAt(p + 8, policy::Family::V6);
    std::optional<policy::MacAddress> mac = linkOption(icmp + 24, icmpLen - 24, 1);
    if (!mac || src == policy::IpAddress{policy::Family::V6, {}}) return std::nullopt;
    c.address = src;
    c.mac = *mac;
    c.what = "neighbour solicitation";
    return c;
  }
  return std::nullopt;
}

std::expected<NeighbourClaims, std::string> NeighbourClaims::open(
    const std::vector<int>& ifindexes) {
  NeighbourClaims c;
  std::string error;
  for (int ifindex : ifindexes) {
    for (uint16_t protocol : {uint16_t{ETH_P_ARP}, uint16_t{ETH_P_IPV6}}) {
      int fd = openSocket(ifindex, protocol);
      if (fd < 0) {
        error = std::string("packet socket: ") + std::strerror(errno);
        continue;
      }
      c.fds_.push_back(fd);
    }
  }
  if (c.fds_.empty()) return std::unexpected(error.empty() ? "no device interface" : error);
  return c;
}

NeighbourClaims::NeighbourClaims(NeighbourClaims&& o) noexcept : fds_(std::move(o.fds_)) {
  o.fds_.clear();
}
NeighbourClaims& NeighbourClaims::operator=(NeighbourClaims&& o) noexcept {
  if (this != &o) {
    for (int fd : fds_) close(fd);
    fds_ = std::move(o.fds_);
    o.fds_.clear();
  }
  return *this;
}
NeighbourClaims::~NeighbourClaims() {
  for (int fd : fds_) close(fd);
}

std::vector<NeighbourClaim> NeighbourClaims::read(int fd, size_t limit) {
  std::vector<NeighbourClaim> claims;
  std::array<uint8_t, 2048> buf;
  for (size_t i = 0; i < limit; ++i) {
    sockaddr_ll from{};
    socklen_t fromLen = sizeof from;
    ssize_t n =
        recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
    if (n < 0) break;  // EAGAIN: nothing more
    if (from.sll_pkttype == PACKET_OUTGOING) continue;
    if (auto c = parseNeighbourClaim(buf.data(), static_cast<size_t>(n), from.sll_ifindex))
      claims.push_back(*c);
  }
  return claims;
}

}  // namespace ringfence::netlink
