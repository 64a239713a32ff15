// Reads a set's elements back from the kernel in one dump: their keys, the
// packet counters of sets whose elements carry a `counter` expression (the
// plan's count4/count6), and the time left of elements with a timeout
// (maintenance windows), and their comments (the device name of an isolation).
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <vector>

#include "netlink/nft_socket.h"
#include "policy/net_types.h"

namespace ringfence::netlink {

struct KernelElement {
  std::vector<uint8_t> key;  // as the plan encodes it (network byte order)
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t expiresInMs = 0;  // 0: no timeout
  std::string comment;       // the element's comment (userdata), empty if none
};

std::expected<std::vector<KernelElement>, KernelError> readSetElements(NftSocket& socket,
                                                                       const std::string& table,
                                                                       const std::string& set);

// An element of an address-keyed set, with the address its key starts with.
struct AddressElement {
  policy::IpAddress address;
  KernelElement element;
};
// The elements of an IPv4 set and its IPv6 twin, each dump tried twice. No
// table or set (ENOENT) is no element; any other failure of a set is handed to
// `failed` and that set contributes nothing.
std::vector<AddressElement> readAddressSets(
    NftSocket& socket, const std::string& table, const std::string& set4, const std::string& set6,
    const std::function<void(const std::string& set, const KernelError& error)>& failed);

}  // namespace ringfence::netlink
