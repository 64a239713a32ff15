// The bridge topology's second table (family `bridge`, same name), applied
// in the same transaction as the inet table (docs/bridge.md). It does what
// only the bridge sees: which port a frame came from and goes to (marked on
// the packet for the inet chains, which see only the bridge device), the
// port a device is bound to, ARP claims, rogue routers and DHCP servers, the
// broadcast rate of a port; and it drops every IP frame between a device
// port and anything else that the inet table did not let through, so the
// bridge fails closed if br_netfilter stops handing frames to it.
#pragma once

#include "policy/model.h"
#include "policy/plan.h"

namespace ringfence::policy {

// Broadcast and multicast frames per second (and burst) from one device port.
inline constexpr uint32_t kPortBroadcastPerSecond = 200;

// `inet` is `policy` compiled: the bridge table copies the sets it needs.
Plan bridgeTable(const Policy& policy, const Plan& inet);

// The failsafe's bridge table: nothing between a device port (any port not
// in `uplinks`) and anything else; to the gateway itself only ARP and
// neighbour discovery. With no uplink known (the configuration is refused),
// nothing is bridged at all.
Plan failsafeBridgeTable(const std::string& table, const std::vector<std::string>& uplinks);

// An interface-name set with these names (sorted, without repeats).
SetDef ifnameSet(const char* name, std::vector<std::string> names, const char* comment);

}  // namespace ringfence::policy
