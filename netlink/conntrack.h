// Cutting live flows: deletes the conntrack entries of a device's flows, so
// an established TCP session dies at once (its next packet is judged as new).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "policy/net_types.h"

namespace ringfence::netlink {

// Deletes every entry whose original source or destination is one of
// `addresses`, except entries whose mark has any of `keepMarkBits` (flows
// admitted by a critical rule). Returns how many were deleted.
std::expected<size_t, std::string> deleteConntrackFlows(
    const std::vector<policy::IpAddress>& addresses, uint32_t keepMarkBits);

}  // namespace ringfence::netlink
