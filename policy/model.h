// The validated policy: what the admin's files mean, independent of YAML and
// of the kernel. Everything here has passed validation.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policy/diagnostic.h"
#include "policy/inline_vector.h"
#include "policy/net_types.h"
#include "policy/paths.h"
#include "policy/shared_list.h"
#include "policy/shared_text.h"

namespace ringfence::policy {

enum class Mode { Enforce, Monitor, Learn };
enum class Proto { Tcp, Udp, Icmp, Icmpv6 };
enum class Direction { Outbound, Inbound };
enum class ViolationAction { Isolate, Alert };
enum class UnknownDevices { Drop, Alert, Allow };

const char* toString(Mode m);
const char* toString(Proto p);
const char* toString(Direction d);
const char* toString(ViolationAction a);
const char* toString(UnknownDevices u);
std::optional<Proto> parseProto(std::string_view text);
uint8_t ipProtocolNumber(Proto p);
std::optional<Proto> protoFromNumber(uint8_t number);  // nothing for other protocols

struct PortRange {
  uint16_t low = 0;
  uint16_t high = 0;
  auto operator<=>(const PortRange&) const = default;
  bool operator==(const PortRange&) const = default;
};

// One value of `to:` / `from:`, as written.
struct PeerSpec {
  enum class Kind { Prefix, Group, Any };
  Kind kind = Kind::Prefix;
  IpPrefix prefix;   // Kind::Prefix
  SharedText group;  // Kind::Group, without '@' (one text for the group in many peers)
  SourceLocation where;
  bool operator==(const PeerSpec&) const = default;
};

// A peer prefix after groups are resolved, remembering where it came from.
struct ResolvedPeer {
  IpPrefix prefix;
  SharedText via;  // "@group" or "any", empty for a literal address (one text per rule and group)
  bool operator==(const ResolvedPeer&) const = default;
};

// The small fields last, together: half a million rules at 100,000 devices.
struct Rule {
  // One or two nearly always: in place, not in heap blocks of their own.
  InlineVector<PeerSpec, 1> peers;
  InlineVector<ResolvedPeer, 1> resolved;  // filled by the loader once groups are known
  InlineVector<PortRange, 4> ports;        // empty for icmp/icmpv6
  SharedText comment;
  SourceLocation where;  // the rule's own node
  Direction direction = Direction::Outbound;
  Proto proto = Proto::Tcp;
  bool critical = false;
  bool operator==(const Rule&) const = default;
};
static_assert(sizeof(Rule) <= 168);

struct ViolationPolicy {
  ViolationAction action = ViolationAction::Isolate;
  uint32_t threshold = 1;
  std::chrono::seconds window{60};
  std::optional<std::chrono::seconds> release;  // nullopt = manual
  bool operator==(const ViolationPolicy&) const = default;
};

// Defaults of the outbound limits: far above what a legacy device opens, far
// below what a compromised one scanning or flooding through allowed flows does.
inline constexpr uint32_t kDefaultOutboundNewPerSecond = 200;
inline constexpr uint32_t kDefaultConcurrentConnections = 1024;

struct Device {
  std::string name;
  SharedText file;       // one text with every location in the file
  SourceLocation where;  // the `device:` value
  std::string description;
  std::vector<std::pair<std::string, std::string>> inventory;  // file order
  std::vector<IpAddress> addresses;
  std::vector<SourceLocation> addressWhere;  // parallel to `addresses`
  std::optional<MacAddress> mac;
  SourceLocation macWhere;
  std::string interface;  // empty = any
  Mode mode = Mode::Enforce;
  std::vector<Rule> outbound;
  std::vector<Rule> inbound;
  std::vector<Rule> maintenance;  // outbound-shaped, open only during a window
  ViolationPolicy violations;
  std::optional<uint32_t> inboundNewPerSecond;
  // Outbound limits (docs/limits.md) as the profile sets them: new
  // connections per second and concurrent connections the device opens, per
  // address. Unset: the default for an enforce device, none for learn and
  // monitor (where everything passes); see outboundRate/outboundConnections.
  std::optional<uint32_t> outboundNewPerSecond;
  std::optional<uint32_t> concurrentConnections;

  bool hasFamily(Family f) const;
  // Isolated by the kernel itself at its first forbidden outbound packet
  // (docs/ruleset.md, "Instant isolation"): an enforce device whose action
  // is isolate with threshold 1.
  bool isolatesInKernel() const {
    return mode == Mode::Enforce && violations.action == ViolationAction::Isolate &&
           violations.threshold == 1;
  }
  std::optional<uint32_t> outboundRate() const {
    if (outboundNewPerSecond) return outboundNewPerSecond;
    if (mode == Mode::Enforce) return kDefaultOutboundNewPerSecond;
    return std::nullopt;
  }
  std::optional<uint32_t> outboundConnections() const {
    if (concurrentConnections) return concurrentConnections;
    if (mode == Mode::Enforce) return kDefaultConcurrentConnections;
    return std::nullopt;
  }
  bool operator==(const Device&) const = default;
};

// The devices of a policy, shared rather than copied between the policies
// and caches that hold them (shared_list.h).
using DeviceList = SharedList<Device>;

// Calls changed(old, now) for every device that is not the same object in
// two lists sorted by name: (old, nullptr) for one that left, (nullptr, now)
// for one that came, (old, now) for one whose device was made again (a
// reload makes again only what changed). Linear, and no more than pointer
// comparisons for the devices that stayed.
template <typename F>
void forEachChangedDevice(const DeviceList& before, const DeviceList& after, F changed) {
  size_t i = 0, j = 0;
  while (i < before.size() || j < after.size()) {
    if (i < before.size() && j < after.size() && before.shared(i) == after.shared(j)) {
      ++i, ++j;  // the same device: not even its name is read
      continue;
    }
    if (j == after.size() || (i < before.size() && before[i].name < after[j].name)) {
      changed(&before[i++], static_cast<const Device*>(nullptr));
    } else if (i == before.size() || after[j].name < before[i].name) {
      changed(static_cast<const Device*>(nullptr), &after[j++]);
    } else {
      if (before.shared(i) != after.shared(j)) changed(&before[i], &after[j]);
      ++i, ++j;
    }
  }
}

struct Group {
  std::string name;
  std::vector<IpPrefix> members;
  SourceLocation where;
  bool operator==(const Group&) const = default;
};

struct DaemonConfig {
  std::string file;  // the configuration file read, empty if none
  std::string profilesDir = RINGFENCE_CONFIG_DIR "/profiles";
  std::string groupsFile = RINGFENCE_CONFIG_DIR "/groups.yaml";
  std::string stateDir = RINGFENCE_STATE_DIR;
  std::string table = "ringfence";
  std::vector<std::string> deviceInterfaces;
  UnknownDevices unknownDevices = UnknownDevices::Drop;
  std::string adminGroup = "ringfence";
  // Extension: (protocol number, port) pairs that devices may reach on the
  // gateway itself; beyond them only ARP, neighbour discovery and DHCP.
  std::vector<std::pair<uint8_t, uint16_t>> gatewayServices;
  // `topology: routed` (the only one this version enforces) and the bridge
  // topology's LAN-facing ports, accepted and checked for the contract.
  std::string topology = "routed";
  std::vector<std::string> uplinkInterfaces;
  // Extension: warn when the conntrack table is this full (percent of
  // nf_conntrack_max).
  uint32_t conntrackWarnPercent = 80;
  bool operator==(const DaemonConfig&) const = default;
};

struct Policy {
  DaemonConfig config;
  std::map<std::string, Group> groups;
  DeviceList devices;  // sorted by name

  const Device* findDevice(std::string_view name) const;
  bool operator==(const Policy&) const = default;
};

}  // namespace ringfence::policy
