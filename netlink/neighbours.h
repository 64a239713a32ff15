// The kernel's neighbour table (ARP and NDP) and connected routes over
// rtnetlink (libmnl): pins a device's address to its MAC with a permanent
// entry, which gratuitous ARP and unsolicited neighbour advertisements cannot
// overwrite. Our entries carry NDA_PROTOCOL kNeighbourProtocol, so that a
// later run finds the pins an earlier one made.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "netlink/handles.h"
#include "policy/net_types.h"

namespace ringfence::netlink {

// The originator mark of our neighbour entries (an otherwise unused value).
inline constexpr uint8_t kNeighbourProtocol = 0xf5;

struct NeighbourEntry {
  int ifindex = 0;
  policy::IpAddress address;
  std::optional<policy::MacAddress> mac;
  bool permanent = false;
  uint8_t protocol = 0;  // 0 when the kernel gave none
};

// A prefix reachable directly on an interface (a route of the main table without
// a gateway), or one of the gateway's own addresses (`local`, a host prefix).
struct ConnectedRoute {
  int ifindex = 0;
  policy::IpPrefix prefix;
  bool local = false;
};

class NeighbourTable {
 public:
  static std::expected<NeighbourTable, std::string> open();

  std::expected<std::vector<NeighbourEntry>, std::string> dump();
  std::expected<std::vector<ConnectedRoute>, std::string> connectedRoutes();
  // A permanent entry address -> mac on ifindex, replacing any entry there.
  std::expected<void, std::string> pin(int ifindex, const policy::IpAddress& address,
                                       const policy::MacAddress& mac);
  std::expected<void, std::string> remove(int ifindex, const policy::IpAddress& address);

 private:
  explicit NeighbourTable(MnlSocketPtr s) : socket_(std::move(s)) {}
  // Sends one request and reads until its end (dump) or its acknowledgement;
  // `onMessage` sees every data message.
  template <typename F>
  std::expected<void, std::string> exchange(nlmsghdr* request, F&& onMessage);
  MnlSocketPtr socket_;
  uint32_t seq_ = 0;
};

// 0 when there is no such interface.
int interfaceIndex(const std::string& name);

}  // namespace ringfence::netlink
