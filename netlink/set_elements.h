// Reads a set's elements back from the kernel in one dump: their keys, the
// packet counters of sets whose elements carry a `counter` expression (the
// plan's count4/count6), and the time left of elements with a timeout
// (maintenance windows), and their comments (the device name of an isolation).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "netlink/nft_socket.h"

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

}  // namespace ringfence::netlink
