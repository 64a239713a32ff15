// The compiled ruleset plan: one nftables `inet` table described without the
// kernel. The nft text printer and the netlink layer both render this same
// plan, so what `ringfencectl compile` shows is what the daemon sends.
//
// Design for scale: per-packet cost does not depend on the number of devices
// or rules. Every per-device fact lives in a set or map keyed by the device's
// address; chains hold a fixed number of rules. Exact peer+port pairs go to
// hash sets, prefixes, port ranges and ICMP go to interval sets (which the
// kernel evaluates more slowly), and elements of an interval set never
// overlap (the kernel's concatenated-interval set refuses overlaps).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "policy/boxed.h"
#include "policy/net_types.h"
#include "policy/set_element.h"
#include "policy/shared_list.h"
#include "policy/shared_text.h"

namespace ringfence::policy {

enum class KeyType {
  Ipv4Addr,
  Ipv6Addr,
  InetProto,
  InetService,
  EtherAddr,
  IfName,
  LimitObject,
  Verdict
};
size_t keyLength(KeyType t);  // bytes in a key (IfName: 16, LimitObject: 0 = a name)
const char* nftTypeName(KeyType t);

struct SetDef {
  std::string name;
  std::vector<KeyType> key;
  std::optional<KeyType> data;  // set => map
  bool interval = false;
  bool timeout = false;    // elements may carry a timeout (maintenance windows)
  bool counters = false;   // every element counts the packets whose lookup found it
  bool dynamic = false;    // filled by the packet path (a meter), never by the daemon
  uint32_t size = 0;       // > 0: at most this many elements
  uint64_t timeoutMs = 0;  // > 0 (with `timeout`): the elements' default timeout
  std::string comment;
  std::vector<SetElement> elements;
  bool operator==(const SetDef&) const = default;
};

// A set of (udp . port) keys, each element with its comment.
SetDef udpPortSet(std::string name, std::string comment,
                  const std::vector<std::pair<uint16_t, std::string>>& ports);

struct LimitObject {
  std::string name;
  uint32_t perSecond = 0;
  uint32_t burst = 0;  // packets
  std::string device;
  bool operator==(const LimitObject&) const = default;
};

// Packet and connection fields that rules and set keys are made of.
enum class Field {
  IpSaddr,
  IpDaddr,
  Ip6Saddr,
  Ip6Daddr,
  L4Proto,
  ThDport,
  ThSport,
  EtherSaddr,
  Iifname,
  Oifname,
  // The source address of the connection's original or reply direction. For
  // an ICMP error (ct state related) these are the endpoints of the flow it quotes.
  CtOrigIpSaddr,
  CtReplyIpSaddr,
  CtOrigIp6Saddr,
  CtReplyIp6Saddr,
  // ARP's sender fields (bridge table): the address and MAC a frame claims.
  ArpSaddrIp,
  ArpSaddrEther,
  // The target address of a neighbour advertisement (ICMPv6 bytes 8-23), as
  // raw payload: compared with constants only (FieldIs), never a set key.
  NdTarget
};
KeyType fieldType(Field f);
const char* nftFieldText(Field f);

// Conntrack state bits, as the kernel numbers them.
enum CtStateBit : uint32_t {
  kCtInvalid = 1,
  kCtEstablished = 2,
  kCtRelated = 4,
  kCtNew = 8,
};

// Bits of the conntrack mark that the ruleset sets; the rest of the mark is
// left alone for the admin's own use.
inline constexpr uint32_t kCtMarkObserve = 0x10000000;    // flow of a learn/monitor device
inline constexpr uint32_t kCtMarkViolation = 0x20000000;  // monitor-mode flow outside the allowlist
inline constexpr uint32_t kCtMarkCritical = 0x40000000;   // admitted by a `critical: true` rule
inline constexpr uint32_t kCtMarkCounted = 0x08000000;    // spent its device's outbound rate once

// Bits of the packet mark (meta mark) in the bridge topology: the bridge
// table says which side a frame came from and goes to, since the inet chains
// see only the bridge itself (docs/bridge.md), and the inet account chain
// marks what it let through.
inline constexpr uint32_t kMarkFromDevicePort = 0x01000000;
inline constexpr uint32_t kMarkToDevicePort = 0x02000000;
inline constexpr uint32_t kMarkJudged = 0x04000000;

inline constexpr uint16_t kNflogGroup = 7411;

// The accounting chain hooks forward after the filter chain (priority 0): a
// packet reaches it only when the filter let it through.
inline constexpr int kAccountPriority = 100;

// Range sets (CIDR peers, port ranges, ICMP) are split into shards by device:
// the kernel's concatenated interval sets cost time in proportion to their
// size on every insert, so 16 small sets apply about 16 times faster than
// one big one, and a one-device change touches one small set. A verdict map
// sends each device's packets to its shard: per-packet cost stays constant.
inline constexpr unsigned kRangeShards = 16;
// The isolated sets: the packet path adds to them, so they have a size (the
// kernel refuses additions beyond it, the daemon's too, and sizes its hash
// table by it): the first of 65,536, 262,144, 1,048,576 and 4,194,304 that
// holds twice the policy's addresses of the family and 4,096 more (few
// steps: a new size rebuilds the table).
uint32_t isolatedSetSize(size_t addresses);
unsigned rangeShard(std::string_view device);

struct Lookup {  // key fields, concatenated, looked up in a set
  std::vector<Field> key;
  std::string set;
  bool negate = false;
  bool operator==(const Lookup&) const = default;
};
struct InPrefix {  // an address field within a prefix
  Field field;
  IpPrefix prefix;
  bool operator==(const InPrefix&) const = default;
};
struct CtStateIs {
  uint32_t states = 0;
  bool operator==(const CtStateIs&) const = default;
};
struct LimitByMap {  // the limit object named by looking `key` up in `map`; matches when over
  Field key;
  std::string map;
  bool operator==(const LimitByMap&) const = default;
};
struct VerdictMapLookup {  // key fields looked up in a verdict map; its verdict applies
  std::vector<Field> key;
  std::string map;
  bool operator==(const VerdictMapLookup&) const = default;
};
struct CtMarkOr {
  uint32_t bits = 0;
  bool operator==(const CtMarkOr&) const = default;
};
struct Log {
  uint16_t group = kNflogGroup;
  std::string prefix;
  bool operator==(const Log&) const = default;
};
struct Counter {
  bool operator==(const Counter&) const = default;
};
// One byte of the packet or of its connection, compared with a value.
enum class ByteField {
  L4Proto,      // meta l4proto
  Icmpv6Type,   // icmpv6 type
  Ip6Hoplimit,  // ip6 hoplimit
  CtDirection,  // ct direction: 0 original, 1 reply
  PktType,      // meta pkttype: 0 host, 1 broadcast, 2 multicast
  Ip6Nexthdr,   // ip6 nexthdr: the first header after the IPv6 header
};
struct ByteIs {
  ByteField field;
  uint8_t value = 0;
  bool operator==(const ByteIs&) const = default;
};
struct CtMarkHas {  // every one of `bits` is set in the connection's mark (negate: not all)
  uint32_t bits = 0;
  bool negate = false;
  bool operator==(const CtMarkHas&) const = default;
};
// A meter: the packet's `key` is added to the dynamic set `set`, whose
// elements each keep their own state; matches when that element is over
// `value` (Rate: new connections per second, burst `value`; Connections:
// concurrent connections in conntrack).
enum class MeterKind { Rate, Connections };
struct Meter {
  Field key;
  std::string set;
  MeterKind kind = MeterKind::Rate;
  uint32_t value = 0;
  bool operator==(const Meter&) const = default;
};
struct MetaMarkOr {  // clears the bits of `clear`, then sets `bits`, in the packet mark
  uint32_t bits = 0;
  uint32_t clear = 0;
  bool operator==(const MetaMarkOr&) const = default;
};
// The packet's `key` is added to the dynamic set `set`, or its element's
// timeout renewed (the set's default timeout); it always matches.
struct SetUpdate {
  std::vector<Field> key;
  std::string set;
  bool operator==(const SetUpdate&) const = default;
};
struct MetaMarkHas {  // every one of `bits` is set in the packet mark (negate: not all)
  uint32_t bits = 0;
  bool negate = false;
  bool operator==(const MetaMarkHas&) const = default;
};
struct FieldIs {  // the field equals `value` (network byte order; negate: differs)
  Field field;
  std::vector<uint8_t> value;
  bool negate = false;
  bool operator==(const FieldIs&) const = default;
};
struct EtherTypeIs {  // meta protocol: the frame's EtherType
  uint16_t value = 0;
  bool negate = false;
  bool operator==(const EtherTypeIs&) const = default;
};
inline constexpr uint16_t kEtherTypeArp = 0x0806;
using Expr = std::variant<Lookup, InPrefix, CtStateIs, LimitByMap, VerdictMapLookup, CtMarkOr, Log,
                          Counter, ByteIs, CtMarkHas, Meter, MetaMarkOr, MetaMarkHas, EtherTypeIs,
                          SetUpdate, FieldIs>;

enum class VerdictKind { Continue, Accept, Drop, Return, Jump, Goto };
struct Verdict {
  VerdictKind kind = VerdictKind::Continue;
  std::string chain;  // Jump, Goto
  bool operator==(const Verdict&) const = default;
};

struct PlanRule {
  std::vector<Expr> exprs;
  Verdict verdict;
  std::string comment;
  bool operator==(const PlanRule&) const = default;
};

struct BaseHook {
  std::string hook = "forward";
  int priority = 0;
  bool acceptByDefault = true;
  bool operator==(const BaseHook&) const = default;
};

struct Chain {
  std::string name;
  std::optional<BaseHook> base;
  std::vector<PlanRule> rules;
  bool operator==(const Chain&) const = default;
};

// Where one device's elements of one set are in its part: elements[begin, end).
struct ElementSlice {
  uint32_t set = 0;  // index into Plan::sets
  uint32_t begin = 0;
  uint32_t end = 0;
  bool operator==(const ElementSlice&) const = default;
};

// One device's part of the plan: its elements of every set, its limit
// object, and the elements of its maintenance windows (added at run time,
// precomputed; its isolation's come from isolationElements(), compiler.h). A
// part is a function of the device alone (and of the plan's set layout): it
// never changes once compiled, and the plans and the compile cache that hold
// it share it (SharedList), so a reload that keeps a device keeps its part
// and the diff passes over it by its address.
struct DeviceElements {
  std::string device;
  std::vector<ElementSlice> slices;                             // in set order, each set once
  ElementList elements;                                         // grouped by set, as `slices` say
  Boxed<LimitObject> limit;                                     // the device's inbound limit
  uint64_t fingerprint = 0;                                     // of every element in `slices`
  std::vector<std::pair<std::string, SetElement>> maintenance;  // set name, element (a timeout)
  bool operator==(const DeviceElements&) const = default;
};

enum class TableFamily { Inet, Bridge };

struct Plan {
  std::string table;
  TableFamily family = TableFamily::Inet;
  // Tables applied in the same transaction, always rebuilt whole (the bridge
  // topology's `bridge` table). A companion has no companions itself.
  std::vector<Plan> companions;
  // The inet chains must see bridged frames: br_netfilter's sysctls
  // (bridge-nf-call-iptables, -ip6tables) are switched on before the apply.
  bool needsBridgeNetfilter = false;
  std::vector<LimitObject> limits;  // the table's own; a device's is in its part
  // Each set's `elements` are its own and those added at run time; a
  // device's are in its part (setElements() gives them all).
  std::vector<SetDef> sets;
  std::vector<Chain> chains;
  SharedList<DeviceElements> devices;  // sorted by device name

  const SetDef* findSet(std::string_view name) const;
  // Every element of the set at `index`: its own, then each device's in
  // device order. The references are valid while the plan is.
  std::vector<ElementRef> setElements(size_t index) const;
  // The same for the sets [first, last), in one pass over the devices.
  std::vector<std::vector<ElementRef>> setElements(size_t first, size_t last) const;
  // How many elements each set has in all (by set index).
  std::vector<size_t> setSizes() const;
  // The set at `index` with every element in it (a copy).
  SetDef wholeSet(size_t index) const;
  // Every limit object: the table's own, then each device's in device order.
  std::vector<const LimitObject*> allLimits() const;
  // Adds run-time elements (isolation, maintenance) to the named sets.
  void addElements(const std::vector<std::pair<std::string, SetElement>>& elements);
  // Removes elements with the same key from the named sets.
  void removeElements(const std::vector<std::pair<std::string, SetElement>>& elements);
  const DeviceElements* findDevice(std::string_view name) const;
  size_t elementCount() const;
  bool operator==(const Plan&) const = default;
};

// Names of the sets that the daemon fills at run time.
namespace setname {
inline constexpr const char* kIsolated4 = "isolated4";
inline constexpr const char* kIsolated6 = "isolated6";
inline constexpr const char* kIsolatedMac = "isolated_mac";
inline constexpr const char* kInstant4 = "instant4";  // compiled: devices isolated by the kernel
inline constexpr const char* kInstant6 = "instant6";
inline constexpr const char* kMaintenance4 = "maintenance4";
inline constexpr const char* kMaintenance6 = "maintenance6";
inline constexpr const char* kCount4 = "count4";  // device addresses, with packet counters
inline constexpr const char* kCount6 = "count6";
}  // namespace setname

// NFLOG prefixes: "<kLogPrefix><what> <direction> ", parsed back by the daemon.
inline constexpr const char* kLogPrefix = "ringfence ";

}  // namespace ringfence::policy
