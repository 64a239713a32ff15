// Packets the ruleset logs to NFLOG (dropped by the policy, monitor-mode
// violations, spoofing, unknown hosts), read from nfnetlink_log with libmnl.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "netlink/handles.h"
#include "policy/net_types.h"

namespace ringfence::netlink {

struct LoggedPacket {
  std::string prefix;  // the rule's log prefix, e.g. "ringfence drop out "
  policy::IpAddress src;
  policy::IpAddress dst;
  uint8_t proto = 0;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t inIfindex = 0;      // the input interface (a bridge, for bridged packets)
  uint32_t physInIfindex = 0;  // for bridged packets: the bridge port
  std::string mac;             // source MAC as text, when the kernel gave one
  bool arp = false;  // an ARP frame (bridge table): src/dst are its sender and target addresses
  std::optional<policy::IpAddress> ndTarget;  // a neighbour advertisement's target
  // Neither IP nor ARP (a bridge table's frame of another EtherType): only
  // the prefix, the MAC and the port mean anything.
  bool other = false;
};

// Parses one NFULNL_MSG_PACKET message; nothing if it is not one or is malformed.
std::optional<LoggedPacket> parseLogMessage(const nlmsghdr* nlh);
// Parses an IPv4/IPv6 packet (from the network header) into `out`: the
// transport protocol and, for TCP/UDP, the ports, behind any chain of IPv6
// extension headers (hop-by-hop, routing, fragment, destination options,
// AH; ESP and "no next header" end it). Fragments: only a first fragment
// shows ports (an IPv4 offset > 0 or an IPv6 non-first fragment has none).
bool parsePacket(const uint8_t* data, size_t len, LoggedPacket& out);

class NflogReader {
 public:
  // Binds NFLOG `group`, copying the first 512 bytes of each packet.
  static std::expected<NflogReader, std::string> open(uint16_t group);
  int fd() const;
  // Reads what is pending without blocking. `lost` grows when the kernel had
  // to drop messages for us (ENOBUFS): the count is reported, never hidden.
  std::vector<LoggedPacket> read(uint64_t& lost);

 private:
  explicit NflogReader(MnlSocketPtr s) : socket_(std::move(s)) {}
  MnlSocketPtr socket_;
};

}  // namespace ringfence::netlink
