// The validated policy: what the admin's files mean, independent of YAML and
// of the kernel. Everything here has passed validation.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policy/diagnostic.h"
#include "policy/net_types.h"
#include "policy/paths.h"

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
};

// One value of `to:` / `from:`, as written.
struct PeerSpec {
  enum class Kind { Prefix, Group, Any };
  Kind kind = Kind::Prefix;
  IpPrefix prefix;    // Kind::Prefix
  std::string group;  // Kind::Group, without '@'
  SourceLocation where;
  bool operator==(const PeerSpec&) const = default;
};

// A peer prefix after groups are resolved, remembering where it came from.
struct ResolvedPeer {
  IpPrefix prefix;
  std::string via;  // "@group" or "any", empty for a literal address
  bool operator==(const ResolvedPeer&) const = default;
};

struct Rule {
  Direction direction = Direction::Outbound;
  std::vector<PeerSpec> peers;
  std::vector<ResolvedPeer> resolved;  // filled by the loader once groups are known
  Proto proto = Proto::Tcp;
  std::vector<PortRange> ports;  // empty for icmp/icmpv6
  std::string comment;
  bool critical = false;
  SourceLocation where;  // the rule's own node
  bool operator==(const Rule&) const = default;
};

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
  std::string file;
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

// The devices of a policy. Each device is immutable once it is in a list, and
// shared rather than copied between the policies and caches that hold it: a
// reload keeps every device that did not change as the very object it was
// (docs/policy-loading.md, "Reloading what changed"), so comparing two
// policies, or a policy with a cache, is mostly comparing pointers. Reading
// gives const Device&; edit() gives a device to write, copying it first when
// another holder shares it.
class DeviceList {
 public:
  using Ptr = std::shared_ptr<const Device>;
  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Device;
    using difference_type = std::ptrdiff_t;
    using pointer = const Device*;
    using reference = const Device&;
    const_iterator() = default;
    explicit const_iterator(std::vector<Ptr>::const_iterator it) : it_(it) {}
    reference operator*() const { return **it_; }
    pointer operator->() const { return it_->get(); }
    reference operator[](difference_type n) const { return *it_[n]; }
    const_iterator& operator++() { return ++it_, *this; }
    const_iterator operator++(int) { return const_iterator(it_++); }
    const_iterator& operator--() { return --it_, *this; }
    const_iterator operator--(int) { return const_iterator(it_--); }
    const_iterator& operator+=(difference_type n) { return it_ += n, *this; }
    const_iterator& operator-=(difference_type n) { return it_ -= n, *this; }
    friend const_iterator operator+(const_iterator a, difference_type n) { return a += n; }
    friend const_iterator operator+(difference_type n, const_iterator a) { return a += n; }
    friend const_iterator operator-(const_iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return a.it_ - b.it_;
    }
    bool operator==(const const_iterator&) const = default;
    auto operator<=>(const const_iterator&) const = default;
    std::vector<Ptr>::const_iterator base() const { return it_; }

   private:
    std::vector<Ptr>::const_iterator it_;
  };

  DeviceList() = default;
  DeviceList(std::initializer_list<Device> devices) {
    for (const Device& d : devices) push_back(d);
  }
  // A device made to be shared by lists (and written by edit() while only one holds it).
  static Ptr make(Device d) { return std::make_shared<Device>(std::move(d)); }

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const Device& operator[](size_t i) const { return *items_[i]; }
  const Device& at(size_t i) const { return *items_.at(i); }
  const Device& front() const { return *items_.front(); }
  const Device& back() const { return *items_.back(); }
  const_iterator begin() const { return const_iterator(items_.begin()); }
  const_iterator end() const { return const_iterator(items_.end()); }
  const Ptr& shared(size_t i) const { return items_[i]; }
  const std::vector<Ptr>& shared() const { return items_; }

  void push_back(Device d) { items_.push_back(make(std::move(d))); }
  void push_back(Ptr d) { items_.push_back(std::move(d)); }
  void reserve(size_t n) { items_.reserve(n); }
  void clear() { items_.clear(); }
  void erase(const_iterator it) { items_.erase(it.base()); }
  void set(size_t i, Ptr d) { items_[i] = std::move(d); }
  // The device at `i`, to write: a copy of its own when another holder shares it.
  Device& edit(size_t i);
  // The whole list, to sort or to fill; every pointer must come from make().
  std::vector<Ptr>& items() { return items_; }

  // Device by device: the same object, or equal field for field.
  bool operator==(const DeviceList& o) const;

 private:
  std::vector<Ptr> items_;
};

struct Group {
  std::string name;
  std::vector<IpPrefix> members;
  SourceLocation where;
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
};

struct Policy {
  DaemonConfig config;
  std::map<std::string, Group> groups;
  DeviceList devices;  // sorted by name

  const Device* findDevice(std::string_view name) const;
};

}  // namespace ringfence::policy
