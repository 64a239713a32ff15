// Neighbour pinning: after every policy applied, each address of a MAC-bound
// device gets a permanent neighbour entry (ARP or NDP) with the profile's MAC
// on the device's interface, so that gratuitous ARP or an unsolicited
// neighbour advertisement from another host cannot divert its traffic. Pins of
// devices that left the policy or lost their MAC are removed, also those an
// earlier run left behind (the kernel marks them as ours). See docs/neighbours.md.
#pragma once

#include <optional>
#include <string>

#include "netlink/neighbours.h"
#include "policy/model.h"

namespace ringfence::daemon {

class Neighbours {
 public:
  Neighbours() = default;  // no I/O until the first sync
  // Makes the kernel's pins what `policy` says; failures are logged, never fatal
  // (the ruleset in force does not depend on them).
  void sync(const policy::Policy& policy);

 private:
  std::optional<netlink::NeighbourTable> table_;
};

}  // namespace ringfence::daemon
