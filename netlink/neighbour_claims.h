// Who claims which address: ARP packets and IPv6 neighbour solicitations and
// advertisements received on the device interfaces, read from packet sockets
// (one per interface and protocol; a classic BPF filter passes only NS/NA of
// the IPv6 traffic). Read-only: the kernel handles the packets as always.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "netlink/handles.h"
#include "policy/net_types.h"

namespace ringfence::netlink {

struct NeighbourClaim {
  int ifindex = 0;
  policy::IpAddress address;  // the address the sender speaks for
  policy::MacAddress mac;     // the link-layer address it gives for it
  const char* what = "";      // "ARP reply", "ARP request", "neighbour advertisement", ...
};

// The claim in one Ethernet frame (link header included), if it makes one.
std::optional<NeighbourClaim> parseNeighbourClaim(const uint8_t* frame, size_t len, int ifindex);

class NeighbourClaims {
 public:
  // Packet sockets on `ifindexes`; fails if none can be opened.
  static std::expected<NeighbourClaims, std::string> open(const std::vector<int>& ifindexes);
  NeighbourClaims(NeighbourClaims&&) noexcept;
  NeighbourClaims& operator=(NeighbourClaims&&) noexcept;
  ~NeighbourClaims();
  const std::vector<int>& fds() const { return fds_; }
  // Pending claims on `fd`, without blocking (at most `limit` frames).
  std::vector<NeighbourClaim> read(int fd, size_t limit = 256);

 private:
  NeighbourClaims() = default;
  std::vector<int> fds_;
};

}  // namespace ringfence::netlink
