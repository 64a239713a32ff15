#include "policy/bridge_table.h"

#include <algorithm>

#include "policy/failsafe.h"

namespace ringfence::policy {
namespace {

constexpr int kPortsPriority = -300;  // before br_netfilter (0) hands frames to inet
constexpr int kGuardPriority = 100;   // after it: what inet let through is marked
constexpr const char* kUplinks = "uplinks";

Log log(const std::string& what) { return Log{kNflogGroup, std::string(kLogPrefix) + what + " "}; }
Verdict verdict(VerdictKind k) { return Verdict{k, {}}; }
PlanRule rule(std::vector<Expr> exprs, Verdict v, std::string comment) {
  return PlanRule{std::move(exprs), std::move(v), std::move(comment)};
}
Lookup in(std::vector<Field> key, std::string set) {
  return Lookup{std::move(key), std::move(set), false};
}
Lookup notIn(std::vector<Field> key, std::string set) {
  return Lookup{std::move(key), std::move(set), true};
}
Expr fromUplink() { return in({Field::Iifname}, kUplinks); }
Expr toUplink() { return in({Field::Oifname}, kUplinks); }

void copySet(Plan& out, const Plan& inet, const char* name) {
  if (const SetDef* s = inet.findSet(name))
    out.sets.push_back(inet.wholeSet(static_cast<size_t>(s - inet.sets.data())));
}

// MACs of devices: all MAC-bound ones (`devmacs`), those bound to a port
// too (`portmacs`), and those with their port (`macport`). A MAC belongs to
// one device at most (the loader refuses two), so no element repeats.
// `names`: each device's name as one text for the three sets (parallel to
// the policy's devices).
SetDef deviceMacs(const Policy& policy, const std::vector<SharedText>& names, const char* name) {
  std::string which = name;
  SetDef s;
  s.name = name;
  s.key = {KeyType::EtherAddr};
  if (which == "macport") s.key.push_back(KeyType::IfName);
  s.comment = which == "devmacs"    ? "MACs of devices (they may claim only their own addresses)"
              : which == "portmacs" ? "MACs of port-bound devices"
                                    : "a port-bound device's MAC . its port";
  for (size_t i = 0; i < policy.devices.size(); ++i) {
    const Device& d = policy.devices[i];
    if (!d.mac || (which != "devmacs" && d.interface.empty())) continue;
    SetElement e;
    e.low.assign(d.mac->bytes.begin(), d.mac->bytes.end());
    if (which == "macport") {
      std::vector<uint8_t> port(keyLength(KeyType::IfName), 0);
      std::copy_n(d.interface.begin(), std::min(d.interface.size(), port.size() - 1), port.begin());
      e.low.insert(e.low.end(), port.begin(), port.end());
    }
    e.comment = names[i];
    s.elements.push_back(std::move(e));
  }
  return s;
}

constexpr uint32_t kOurMarks = kMarkFromDevicePort | kMarkToDevicePort | kMarkJudged;

// Frames entering on a port. From an uplink: its MAC and ARP sender are
// remembered (a device port may not use them), then on to the inet table.
// From a device port (every other port, so a port added later is one at
// once): marked, then the checks that need the port.
Chain portsChain() {
  Chain c;
  c.name = "ports";
  c.base = BaseHook{"prerouting", kPortsPriority, true};
  auto& r = c.rules;
  r.push_back(rule({MetaMarkOr{0, kOurMarks}}, verdict(VerdictKind::Continue),
                   "our mark bits mean only what this table says"));
  // One lookup of the port decides which checks a frame gets (every frame
  // crosses this chain: each rule costs throughput).
  r.push_back(rule({fromUplink()}, Verdict{VerdictKind::Jump, "from_lan"},
                   "from the LAN: remembered, then judged in inet"));
  r.push_back(rule({MetaMarkOr{kMarkFromDevicePort, 0}}, verdict(VerdictKind::Continue),
                   "a device port: every port that is not an uplink"));
  // The bridge learns a MAC's port from any frame that gets past this
  // chain: a device port may not use another port's or the LAN side's MACs.
  r.push_back(rule({in({Field::EtherSaddr}, "lan_macs"), Counter{}, log("spoof mac")},
                   verdict(VerdictKind::Drop),
                   "a MAC of the LAN side (the router's, a LAN host's) on a device port"));
  r.push_back(
      rule({in({Field::EtherSaddr}, "portmacs"),
            notIn({Field::EtherSaddr, Field::Iifname}, "macport"), Counter{}, log("spoof mac")},
           verdict(VerdictKind::Drop), "a port-bound device's MAC on another port"));
  r.push_back(rule({in({Field::IpSaddr}, "ifbound4"),
                    notIn({Field::IpSaddr, Field::Iifname}, "iface4"), log("spoof iface")},
                   verdict(VerdictKind::Drop), "a device address on another port"));
  r.push_back(rule({in({Field::Ip6Saddr}, "ifbound6"),
                    notIn({Field::Ip6Saddr, Field::Iifname}, "iface6"), log("spoof iface")},
                   verdict(VerdictKind::Drop), "a device address on another port"));
  r.push_back(rule({EtherTypeIs{kEtherTypeArp}}, Verdict{VerdictKind::Jump, "arp_claims"},
                   "what an ARP frame claims"));
  r.push_back(rule({ByteIs{ByteField::Icmpv6Type, 136}}, Verdict{VerdictKind::Jump, "nd_claims"},
                   "what a neighbour advertisement claims"));
  r.push_back(rule({ByteIs{ByteField::Icmpv6Type, 134}, Counter{}, log("rogue ra")},
                   verdict(VerdictKind::Drop), "a router advertisement: a rogue router"));
  r.push_back(rule({ByteIs{ByteField::L4Proto, 17}}, Verdict{VerdictKind::Jump, "port_udp"},
                   "UDP: is it a DHCP server's?"));
  // A fragment hides what it carries from the checks above (a fragmented
  // router advertisement); nothing on a segment needs fragmented multicast.
  r.push_back(rule({ByteIs{ByteField::Ip6Nexthdr, 44},
                    InPrefix{Field::Ip6Daddr, *parseIpPrefix("ff00::/8").prefix}, Counter{}},
                   verdict(VerdictKind::Drop), "fragmented IPv6 multicast"));
  for (uint8_t type : {uint8_t{1}, uint8_t{2}}) {
    r.push_back(
        rule({ByteIs{ByteField::PktType, type}, EtherTypeIs{kEtherTypeArp, true},
              Meter{Field::Iifname, "port_broadcast", MeterKind::Rate, kPortBroadcastPerSecond},
              Counter{}},
             verdict(VerdictKind::Drop),
             std::string(type == 1 ? "broadcast" : "multicast") + " over the port's rate"));
  }
  r.push_back(
      rule({EtherTypeIs{kEtherTypeArp},
            Meter{Field::Iifname, "port_broadcast", MeterKind::Rate, kPortBroadcastPerSecond},
            Counter{}},
           verdict(VerdictKind::Drop), "ARP over the port's rate (each frame counts once)"));
  return c;
}

// A frame from an uplink: its MAC and ARP sender are remembered, then on to
// the inet table.
Chain fromLanChain() {
  Chain c;
  c.name = "from_lan";
  auto& r = c.rules;
  r.push_back(rule({in({Field::EtherSaddr}, "devmacs"), Counter{}, log("spoof mac")},
                   verdict(VerdictKind::Drop),
                   "a device's MAC from the LAN side: it would move the device's port"));
  r.push_back(rule({SetUpdate{{Field::EtherSaddr}, "lan_macs"}}, verdict(VerdictKind::Continue),
                   "MACs of the LAN side"));
  r.push_back(
      rule({notIn({Field::ArpSaddrIp}, "dev4"), SetUpdate{{Field::ArpSaddrIp}, "lan_addrs"}},
           verdict(VerdictKind::Continue), "addresses the LAN side claims by ARP"));
  r.push_back(rule({}, verdict(VerdictKind::Accept), "judged in inet"));
  return c;
}

// UDP from a device port: DHCP servers answer only from the LAN side (the
// sets hold UDP ports alone, so nothing else could match them).
Chain portUdpChain() {
  Chain c;
  c.name = "port_udp";
  auto& r = c.rules;
  r.push_back(
      rule({in({Field::L4Proto, Field::ThSport}, "rogue_servers"), Counter{}, log("rogue dhcp")},
           verdict(VerdictKind::Drop), "a DHCP server's answer: a rogue DHCP server"));
  r.push_back(
      rule({in({Field::L4Proto, Field::ThDport}, "dhcp_clients"), Counter{}, log("rogue dhcp")},
           verdict(VerdictKind::Drop),
           "to DHCP clients, whatever the source port: a rogue DHCP server"));
  return c;
}

// Frames for the gateway that the bridge hands up without prerouting (the
// reserved group addresses 01:80:c2:00:00:0x) are marked here.
Chain portsInputChain() {
  Chain c;
  c.name = "ports_in";
  c.base = BaseHook{"input", kPortsPriority, true};
  c.rules.push_back(rule({notIn({Field::Iifname}, kUplinks), MetaMarkOr{kMarkFromDevicePort, 0}},
                         verdict(VerdictKind::Continue), "from a device port"));
  return c;
}

// An ARP frame from a device port may claim only its sender's own address.
Chain arpChain(const DaemonConfig& config) {
  Chain c;
  c.name = "arp_claims";
  auto& r = c.rules;
  r.push_back(rule({InPrefix{Field::ArpSaddrIp, *parseIpPrefix("0.0.0.0/32").prefix}},
                   verdict(VerdictKind::Return), "an ARP probe claims nothing"));
  r.push_back(rule({in({Field::ArpSaddrIp}, "lan_addrs"), Counter{}, log("spoof arp")},
                   verdict(VerdictKind::Drop),
                   "claims an address of the LAN side (the router's, a LAN host's)"));
  r.push_back(
      rule({in({Field::ArpSaddrIp}, "macbound4"),
            notIn({Field::ArpSaddrIp, Field::ArpSaddrEther}, "mac4"), Counter{}, log("spoof arp")},
           verdict(VerdictKind::Drop), "claims a MAC-bound device's address"));
  r.push_back(
      rule({in({Field::ArpSaddrIp}, "ifbound4"),
            notIn({Field::ArpSaddrIp, Field::Iifname}, "iface4"), Counter{}, log("spoof arp")},
           verdict(VerdictKind::Drop), "claims a port-bound device's address"));
  r.push_back(
      rule({in({Field::EtherSaddr}, "devmacs"),
            notIn({Field::ArpSaddrIp, Field::EtherSaddr}, "mac4"), Counter{}, log("spoof arp")},
           verdict(VerdictKind::Drop),
           "a device claims an address that is not its own (the router's, a neighbour's)"));
  if (config.unknownDevices == UnknownDevices::Drop) {
    r.push_back(rule({notIn({Field::ArpSaddrIp}, "dev4"), Counter{}, log("unknown src")},
                     verdict(VerdictKind::Drop), "a host that no profile claims"));
  }
  return c;
}

// A neighbour advertisement for a MAC-bound device's IPv6 address from
// another MAC. The target is raw payload, which nft can compare but not look
// up in a typed set: one rule per such address, in a chain that only
// neighbour advertisements from device ports reach.
Chain ndChain(const Policy& policy) {
  Chain c;
  c.name = "nd_claims";
  for (const Device& d : policy.devices) {
    if (!d.mac) continue;
    for (const IpAddress& a : d.addresses) {
      if (a.family != Family::V6) continue;
      c.rules.push_back(rule(
          {FieldIs{Field::NdTarget, std::vector<uint8_t>(a.bytes.begin(), a.bytes.begin() + 16)},
           FieldIs{Field::EtherSaddr,
                   std::vector<uint8_t>(d.mac->bytes.begin(), d.mac->bytes.end()), true},
           Counter{}, log("spoof nd")},
          verdict(VerdictKind::Drop), "claims " + d.name + "'s address"));
    }
  }
  return c;
}

Chain towardChain() {
  Chain c;
  c.name = "to_port";
  c.base = BaseHook{"forward", kPortsPriority, true};
  c.rules.push_back(rule({notIn({Field::Oifname}, kUplinks), MetaMarkOr{kMarkToDevicePort}},
                         verdict(VerdictKind::Continue), "to a device port"));
  return c;
}

// After br_netfilter: a frame between a device port and anything else
// passes only if the inet table let it through, or is ARP (checked above).
// If br_netfilter stops calling the inet hooks, nothing of it passes.
Chain guardChain() {
  Chain c;
  c.name = "guard";
  c.base = BaseHook{"forward", kGuardPriority, true};
  auto& r = c.rules;
  // Accepts in any order mean the same; the one most frames take comes first.
  r.push_back(rule({MetaMarkHas{kMarkJudged}}, verdict(VerdictKind::Accept),
                   "let through by the inet table"));
  r.push_back(rule({fromUplink(), toUplink()}, verdict(VerdictKind::Accept),
                   "between uplinks: not the devices' traffic"));
  r.push_back(rule({EtherTypeIs{kEtherTypeArp}}, verdict(VerdictKind::Accept), "ARP"));
  r.push_back(rule({Counter{}, log("unjudged")}, verdict(VerdictKind::Drop),
                   "not judged (br_netfilter off? another protocol?): never passes"));
  return c;
}

// Filled by the packet path from the uplinks; an entry lives an hour after
// its last frame.
SetDef learnedSet(const char* name, KeyType key, const char* comment) {
  SetDef s;
  s.name = name;
  s.key = {key};
  s.dynamic = true;
  s.timeout = true;
  s.timeoutMs = 3600 * 1000;
  s.size = 65536;
  s.comment = comment;
  return s;
}

SetDef dhcpClients() {
  return udpPortSet("dhcp_clients", "ports DHCP clients listen on: only servers send there",
                    {{68, "DHCP client"}, {546, "DHCPv6 client"}});
}

SetDef portMeter() {
  SetDef s;
  s.name = "port_broadcast";
  s.key = {KeyType::IfName};
  s.dynamic = true;
  s.size = 4096;
  s.comment = "broadcast and multicast rate of each device port";
  return s;
}

}  // namespace

SetDef ifnameSet(const char* name, std::vector<std::string> names, const char* comment) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  SetDef s;
  s.name = name;
  s.key = {KeyType::IfName};
  s.comment = comment;
  for (const std::string& n : names) {
    SetElement e;
    e.low.assign(keyLength(KeyType::IfName), 0);
    std::copy_n(n.begin(), std::min(n.size(), keyLength(KeyType::IfName) - 1), e.low.begin());
    s.elements.push_back(std::move(e));
  }
  return s;
}

Plan bridgeTable(const Policy& policy, const Plan& inet) {
  const DaemonConfig& config = policy.config;
  Plan p;
  p.table = inet.table;
  p.family = TableFamily::Bridge;
  p.sets.push_back(ifnameSet(kUplinks, config.uplinkInterfaces,
                             "bridge ports that face the LAN; every other port faces devices"));
  for (const char* name : {"dev4", "macbound4", "mac4", "ifbound4", "iface4", "macbound6", "mac6",
                           "ifbound6", "iface6", "rogue_servers"})
    copySet(p, inet, name);
  std::vector<SharedText> names;
  names.reserve(policy.devices.size());
  for (const Device& d : policy.devices) names.push_back(d.mac ? SharedText(d.name) : SharedText());
  for (const char* name : {"devmacs", "portmacs", "macport"})
    p.sets.push_back(deviceMacs(policy, names, name));
  p.sets.push_back(learnedSet("lan_macs", KeyType::EtherAddr, "MACs seen on the uplinks"));
  p.sets.push_back(learnedSet("lan_addrs", KeyType::Ipv4Addr,
                              "addresses the uplinks claim by ARP (never a device's)"));
  p.sets.push_back(dhcpClients());
  p.sets.push_back(portMeter());
  p.needsBridgeNetfilter = true;
  p.chains.push_back(fromLanChain());
  p.chains.push_back(portUdpChain());
  p.chains.push_back(portsChain());
  p.chains.push_back(portsInputChain());
  p.chains.push_back(arpChain(config));
  p.chains.push_back(ndChain(policy));
  p.chains.push_back(towardChain());
  p.chains.push_back(guardChain());
  return p;
}

Plan failsafeBridgeTable(const std::string& table, const std::vector<std::string>& uplinks) {
  Plan p;
  p.table = table;
  p.family = TableFamily::Bridge;
  Log failsafe{kNflogGroup, kFailsafeLogPrefix};
  Chain forward;
  forward.name = "failsafe";
  forward.base = BaseHook{"forward", kPortsPriority, true};
  Chain input;
  input.name = "failsafe_input";
  input.base = BaseHook{"input", kPortsPriority, true};
  if (uplinks.empty()) {
    forward.rules.push_back(rule({failsafe}, verdict(VerdictKind::Drop),
                                 "failsafe: no uplink known, nothing is bridged"));
    p.chains.push_back(std::move(forward));
    return p;
  }
  p.sets.push_back(ifnameSet(kUplinks, uplinks, "bridge ports that face the LAN"));
  forward.rules.push_back(rule({fromUplink(), toUplink()}, verdict(VerdictKind::Accept),
                               "between uplinks: not the devices' traffic"));
  forward.rules.push_back(
      rule({failsafe}, verdict(VerdictKind::Drop), "failsafe: nothing to or from a device port"));
  auto& r = input.rules;
  r.push_back(rule({fromUplink()}, verdict(VerdictKind::Accept), "from the LAN"));
  r.push_back(rule({EtherTypeIs{kEtherTypeArp}}, verdict(VerdictKind::Accept), "ARP"));
  for (uint8_t type : {uint8_t{133}, uint8_t{135}, uint8_t{136}}) {
    r.push_back(rule({ByteIs{ByteField::Ip6Hoplimit, 255}, ByteIs{ByteField::Icmpv6Type, type}},
                     verdict(VerdictKind::Accept),
                     type == 133 ? "router solicitation" : "neighbour discovery"));
  }
  r.push_back(rule({failsafe}, verdict(VerdictKind::Drop),
                   "failsafe: nothing else from a device port reaches the gateway"));
  p.chains.push_back(std::move(forward));
  p.chains.push_back(std::move(input));
  return p;
}

}  // namespace ringfence::policy
