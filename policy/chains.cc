#include "policy/chains.h"

#include <optional>

namespace ringfence::policy {
namespace {

struct FamilyFields {
  const char* suffix;
  Field saddr;
  Field daddr;
};
constexpr FamilyFields kFamilies[] = {{"4", Field::IpSaddr, Field::IpDaddr},
                                      {"6", Field::Ip6Saddr, Field::Ip6Daddr}};

std::string s(const char* base, const FamilyFields& f) { return std::string(base) + f.suffix; }

Lookup in(std::vector<Field> key, std::string set) {
  return Lookup{std::move(key), std::move(set), false};
}
Lookup notIn(std::vector<Field> key, std::string set) {
  return Lookup{std::move(key), std::move(set), true};
}
Log log(const std::string& what) { return Log{kNflogGroup, std::string(kLogPrefix) + what + " "}; }
Verdict verdict(VerdictKind k) { return Verdict{k, {}}; }
Verdict jump(std::string chain) { return Verdict{VerdictKind::Jump, std::move(chain)}; }

PlanRule rule(std::vector<Expr> exprs, Verdict v, std::string comment) {
  return PlanRule{std::move(exprs), std::move(v), std::move(comment)};
}

// Which side a packet comes from or goes to. Routed: the interface. Bridge:
// the inet hooks see only the bridge, so the bridge table marks frames from
// and to device ports (docs/bridge.md); frames the bridge hands up on the
// port itself, without its hooks (the reserved group addresses), carry no
// mark, only the port's name.
bool bridged(const DaemonConfig& config) { return config.topology == "bridge"; }
Expr fromDevicePort(const DaemonConfig& config) {
  if (bridged(config)) return MetaMarkHas{kMarkFromDevicePort, false};
  return Lookup{{Field::Iifname}, "devifs", false};
}
// The matches of "not from a device port" (all must hold).
std::vector<Expr> notFromDevicePort(const DaemonConfig& config) {
  std::vector<Expr> out = {Lookup{{Field::Iifname}, "devifs", true}};
  if (bridged(config)) out.push_back(MetaMarkHas{kMarkFromDevicePort, true});
  return out;
}
std::vector<Expr> with(std::vector<Expr> exprs, const std::vector<Expr>& more) {
  exprs.insert(exprs.end(), more.begin(), more.end());
  return exprs;
}
Expr toDevicePort(const DaemonConfig& config) {
  if (bridged(config)) return MetaMarkHas{kMarkToDevicePort, false};
  return Lookup{{Field::Oifname}, "devifs", false};
}

std::string twoDigits(unsigned n) { return (n < 10 ? "0" : "") + std::to_string(n); }

// Rules for one direction of a device's new flows. `device` is the device's
// address field, `peer` the other end's. A `return` means allowed.
// Instant isolation (threshold 1): the packet path itself adds the source to
// the isolated set at its first forbidden packet, daemon alive or not; the
// daemon, told by the log rule that follows, persists it, adds the MAC and
// cuts the device's flows. Only after the anti-spoofing checks, so only a
// device's own packet isolates it.
PlanRule instantIsolation(const FamilyFields& f) {
  return rule({in({f.saddr}, s("instant", f)), SetUpdate{{f.saddr}, s("isolated", f)}},
              verdict(VerdictKind::Continue), "threshold 1: isolated in the kernel at once");
}

std::vector<Chain> deviceChains(const FamilyFields& f, bool outbound) {
  Field device = outbound ? f.saddr : f.daddr;
  Field peer = outbound ? f.daddr : f.saddr;
  const std::string dir = outbound ? "out" : "in";
  const std::string base = dir + f.suffix;  // out4
  std::vector<Field> flow = {device, peer, Field::L4Proto, Field::ThDport};
  std::string allow = std::string(outbound ? "allow_out" : "allow_in") + f.suffix;

  Chain c;
  c.name = base;
  c.rules.push_back(rule({CtStateIs{kCtInvalid}, Counter{}, log("invalid " + dir)},
                         verdict(VerdictKind::Drop), "packets that belong to no valid connection"));
  c.rules.push_back(rule({in({device}, s("observe", f)), CtMarkOr{kCtMarkObserve}},
                         verdict(VerdictKind::Continue),
                         "record flows of learn and monitor devices"));
  c.rules.push_back(
      rule({in(flow, std::string(outbound ? "critical_out" : "critical_in") + f.suffix),
            CtMarkOr{kCtMarkCritical}},
           verdict(VerdictKind::Return), "critical flows (kept open during isolation)"));
  // The inbound limit counts allowed flows only, after the critical ones: a
  // LAN host's forbidden SYNs must not use up the budget of the device's
  // allowed and critical flows.
  auto limited = [&](const std::string& set) {
    return rule({in(flow, set), LimitByMap{device, s("inlimit", f)}, Counter{}, log("limit in")},
                verdict(VerdictKind::Drop), "allowed new inbound connections over the limit");
  };
  if (!outbound) c.rules.push_back(limited(allow));
  c.rules.push_back(rule({in(flow, allow)}, verdict(VerdictKind::Return), "allowed flows, exact"));
  c.rules.push_back(rule({VerdictMapLookup{{device}, "shard_" + base}},
                         verdict(VerdictKind::Continue),
                         "prefixes and ranges: on to the device's shard"));
  c.rules.push_back(rule({}, Verdict{VerdictKind::Goto, base + "_rest"}, "no shard"));

  Chain rest;
  rest.name = base + "_rest";
  if (outbound) {
    rest.rules.push_back(rule({in(flow, s("maintenance", f))}, verdict(VerdictKind::Return),
                              "maintenance flows during a window"));
  }
  rest.rules.push_back(rule({in({device}, s("learn", f))}, verdict(VerdictKind::Return),
                            "learn mode: everything passes"));
  rest.rules.push_back(
      rule({in({device}, s("monitor", f)), CtMarkOr{kCtMarkViolation}, log("monitor " + dir)},
           verdict(VerdictKind::Return), "monitor mode: passes, reported as a violation"));
  if (outbound) rest.rules.push_back(instantIsolation(f));
  rest.rules.push_back(
      rule({log("drop " + dir)}, verdict(VerdictKind::Drop), "enforce mode: a violation"));

  std::vector<Chain> out = {std::move(c), std::move(rest)};
  for (unsigned shard = 0; shard < kRangeShards; ++shard) {
    Chain r;
    r.name = rangeChainName(base, shard);
    if (!outbound) r.rules.push_back(limited(rangeSetName(allow, shard)));
    r.rules.push_back(rule({in(flow, rangeSetName(allow, shard))}, verdict(VerdictKind::Return),
                           "allowed flows, prefixes and ranges"));
    r.rules.push_back(rule({}, Verdict{VerdictKind::Goto, base + "_rest"}, "not allowed here"));
    out.push_back(std::move(r));
  }
  return out;
}

Chain isolatedChain(const FamilyFields& f, bool outbound) {
  Field device = outbound ? f.saddr : f.daddr;
  Field peer = outbound ? f.daddr : f.saddr;
  const char* dir = outbound ? "out" : "in";
  Chain c;
  c.name = std::string("isolated_") + dir + f.suffix;
  c.rules.push_back(rule(
      {CtStateIs{kCtNew}, in({device, peer, Field::L4Proto, Field::ThDport},
                             std::string(outbound ? "critical_out" : "critical_in") + f.suffix)},
      verdict(VerdictKind::Return), "new critical flows"));
  c.rules.push_back(rule({CtStateIs{kCtRelated}, CtMarkHas{kCtMarkCritical}},
                         verdict(VerdictKind::Return),
                         "ICMP errors about critical flows (judged on in chain related)"));
  c.rules.push_back(rule({log(std::string("isolated ") + dir)}, verdict(VerdictKind::Drop),
                         "everything else of an isolated device"));
  return c;
}

Chain unknownChain(UnknownDevices mode, bool source) {
  Chain c;
  c.name = source ? "unknown_src" : "unknown_dst";
  switch (mode) {
    case UnknownDevices::Drop:
      if (source)
        c.rules.push_back(rule({log("unknown src")}, verdict(VerdictKind::Continue), "report"));
      c.rules.push_back(rule({}, verdict(VerdictKind::Drop), "unknown_devices: drop"));
      break;
    case UnknownDevices::Alert:
      if (source)
        c.rules.push_back(rule({log("unknown src")}, verdict(VerdictKind::Continue), "report"));
      c.rules.push_back(rule({}, verdict(VerdictKind::Return), "unknown_devices: alert"));
      break;
    case UnknownDevices::Allow:
      c.rules.push_back(rule({}, verdict(VerdictKind::Return), "unknown_devices: allow"));
      break;
  }
  return c;
}

// Link-scope traffic that must pass, matched by what it is. None of it can
// be routed: the kernel never forwards the limited broadcast or link-local
// multicast, and it lowers the hop limit before the forward hook, so a
// packet seen there with hop limit 255 was bridged, not routed. It reaches
// the forward chain only between hosts on one bridge (br_netfilter), and it
// never leaves that segment. A source prefix is never a reason to pass:
// forwarded packets can carry any source.
std::vector<PlanRule> linkScopeRules(const DaemonConfig& config) {
  auto p = [](const char* text) { return *parseIpPrefix(text).prefix; };
  std::vector<PlanRule> out;
  if (bridged(config)) {
    // A bridge passes link-scope frames between its ports: only what devices
    // need passes unjudged (DHCP, IGMP, neighbour discovery and MLD); other
    // multicast and broadcast (mDNS, LLMNR, NetBIOS) is judged like any flow.
    // Each by its frame too (meta pkttype): a packet to a multicast address
    // in a frame to one host's MAC is judged like any unicast.
    ByteIs broadcast{ByteField::PktType, 1}, multicast{ByteField::PktType, 2};
    out.push_back(rule({broadcast, InPrefix{Field::IpDaddr, p("255.255.255.255/32")},
                        in({Field::L4Proto, Field::ThDport}, "link_services")},
                       verdict(VerdictKind::Accept), "DHCP by broadcast"));
    out.push_back(rule(
        {multicast, InPrefix{Field::IpDaddr, p("224.0.0.0/24")}, ByteIs{ByteField::L4Proto, 2}},
        verdict(VerdictKind::Accept), "IGMP"));
    out.push_back(
        rule({multicast, InPrefix{Field::Ip6Daddr, p("ff02::/16")}, ByteIs{ByteField::L4Proto, 58}},
             verdict(VerdictKind::Accept), "neighbour discovery and MLD"));
    out.push_back(rule({multicast, InPrefix{Field::Ip6Daddr, p("ff02::1:2/128")},
                        in({Field::L4Proto, Field::ThDport}, "link_services")},
                       verdict(VerdictKind::Accept), "DHCPv6 to its servers"));
  } else {
    out.push_back(rule({InPrefix{Field::IpDaddr, p("255.255.255.255/32")}},
                       verdict(VerdictKind::Accept),
                       "limited broadcast (DHCP discovery): never routed"));
    out.push_back(rule({InPrefix{Field::IpDaddr, p("224.0.0.0/24")}}, verdict(VerdictKind::Accept),
                       "link-local multicast: never routed"));
    out.push_back(rule({InPrefix{Field::Ip6Daddr, p("ff02::/16")}}, verdict(VerdictKind::Accept),
                       "link-local multicast (neighbour discovery, MLD): never routed"));
  }
  for (uint8_t type : {uint8_t{135}, uint8_t{136}}) {
    out.push_back(rule({ByteIs{ByteField::Ip6Hoplimit, 255}, ByteIs{ByteField::Icmpv6Type, type}},
                       verdict(VerdictKind::Accept),
                       std::string("unicast neighbour ") +
                           (type == 135 ? "solicitation" : "advertisement") +
                           " on one bridge (hop limit 255: not routed)"));
  }
  return out;
}

// ICMP errors (ct state related: conntrack found the flow they quote). From a
// device interface one passes only when its sender is the endpoint of the
// quoted flow that sends in the error's direction; conntrack itself checks
// that it goes to the source of the quoted packet. From the LAN side routers
// on the path may send them (fragmentation needed, time exceeded).
Chain relatedChain(const DaemonConfig& config) {
  Chain c;
  c.name = "related";
  c.rules.push_back(rule(notFromDevicePort(config), verdict(VerdictKind::Accept),
                         "from the LAN side: routers on the path may report errors"));
  const Field sender[2][2] = {{Field::CtOrigIpSaddr, Field::CtReplyIpSaddr},
                              {Field::CtOrigIp6Saddr, Field::CtReplyIp6Saddr}};
  for (size_t fam = 0; fam < 2; ++fam) {
    const FamilyFields& f = kFamilies[fam];
    for (uint8_t dir : {uint8_t{0}, uint8_t{1}}) {
      c.rules.push_back(
          rule({ByteIs{ByteField::CtDirection, dir}, in({f.saddr, sender[fam][dir]}, s("self", f))},
               verdict(VerdictKind::Accept), "an error from the device about its own flow"));
    }
  }
  c.rules.push_back(rule({log("drop out")}, verdict(VerdictKind::Drop),
                         "an error quoting a flow its sender is not part of"));
  return c;
}

// An isolated device that takes another address is still cut off by its
// MAC. Its own addresses stay on the isolated path, where its critical
// flows keep working.
std::vector<PlanRule> isolatedMacRules() {
  std::vector<PlanRule> out;
  for (const FamilyFields& f : kFamilies) {
    out.push_back(rule({in({Field::EtherSaddr}, setname::kIsolatedMac),
                        notIn({f.saddr}, s("isolated", f)), log("isolated out")},
                       verdict(VerdictKind::Drop),
                       "an isolated device's MAC with another address"));
  }
  return out;
}

// Anti-spoofing, shared by the forward and input chains: both jump here
// before any rule that reports a violation, so a forged packet is reported
// as spoofing and never charged to the device whose address it carries.
// A device address arriving from the LAN side is forged too: without that
// rule, a LAN host could open forbidden flows in a device's name and have it
// isolated for them.
Chain spoofChain(const DaemonConfig& config) {
  Chain c;
  c.name = "spoof";
  auto& r = c.rules;
  for (const FamilyFields& f : kFamilies) {
    r.push_back(rule({in({f.saddr}, s("macbound", f)),
                      notIn({f.saddr, Field::EtherSaddr}, s("mac", f)), log("spoof mac")},
                     verdict(VerdictKind::Drop), "a device address from the wrong MAC"));
    // Bridge: the bridge table checks the port, which only it sees.
    if (bridged(config)) continue;
    r.push_back(rule({in({f.saddr}, s("ifbound", f)),
                      notIn({f.saddr, Field::Iifname}, s("iface", f)), log("spoof iface")},
                     verdict(VerdictKind::Drop), "a device address on the wrong interface"));
  }
  for (const FamilyFields& f : kFamilies) {
    r.push_back(
        rule(with(notFromDevicePort(config), {in({f.saddr}, s("dev", f)), log("spoof iface")}),
             verdict(VerdictKind::Drop), "a device address from a non-device interface"));
  }
  return c;
}

// The gateway is a wall too: from device interfaces only ARP (not IP, not
// here), neighbour discovery, DHCP and the configured gateway_services reach
// it. Replies to the gateway's own traffic pass; isolated devices reach
// nothing else; any other try is a violation of the device, or an unknown host.
Chain inputChain(const DaemonConfig& config) {
  Chain c;
  c.name = "input";
  c.base = BaseHook{"input", 0, true};
  auto& r = c.rules;
  r.push_back(rule({CtStateIs{kCtEstablished}}, verdict(VerdictKind::Accept),
                   "replies to the gateway's own traffic, sessions it admitted"));
  r.push_back(rule({}, jump("spoof"), "forged device addresses, before any violation"));
  r.push_back(
      rule(notFromDevicePort(config), verdict(VerdictKind::Accept), "not from a device interface"));
  for (uint8_t type : {uint8_t{133}, uint8_t{135}, uint8_t{136}}) {
    r.push_back(rule({ByteIs{ByteField::Ip6Hoplimit, 255}, ByteIs{ByteField::Icmpv6Type, type}},
                     verdict(VerdictKind::Accept),
                     type == 133 ? "router solicitation" : "neighbour discovery"));
  }
  r.push_back(rule({ByteIs{ByteField::Icmpv6Type, 134}, Counter{}, log("rogue ra")},
                   verdict(VerdictKind::Drop),
                   "a router advertisement from a device port: a rogue router"));
  r.push_back(
      rule({in({Field::L4Proto, Field::ThSport}, "rogue_servers"), Counter{}, log("rogue dhcp")},
           verdict(VerdictKind::Drop),
           "a DHCP server's answer from a device port: a rogue DHCP server"));
  r.push_back(rule({in({Field::L4Proto, Field::ThDport}, "gateway_base")},
                   verdict(VerdictKind::Accept), "DHCP"));
  r.push_back(rule({ByteIs{ByteField::PktType, 1}}, verdict(VerdictKind::Drop),
                   "other broadcasts: chatter, not aimed at the gateway"));
  r.push_back(rule({ByteIs{ByteField::PktType, 2}}, verdict(VerdictKind::Drop),
                   "other multicast (mDNS, MLD, IGMP): chatter, not aimed at the gateway"));
  for (const FamilyFields& f : kFamilies) {
    r.push_back(rule({in({f.saddr}, s("isolated", f)), log("isolated out")},
                     verdict(VerdictKind::Drop), "an isolated device reaches nothing"));
  }
  for (PlanRule& mr : isolatedMacRules()) r.push_back(std::move(mr));
  for (uint8_t proto : {uint8_t{1}, uint8_t{58}}) {
    r.push_back(rule({CtStateIs{kCtRelated}, ByteIs{ByteField::L4Proto, proto}}, jump("related"),
                     "ICMP errors about the gateway's own flows"));
  }
  r.push_back(rule({in({Field::L4Proto, Field::ThDport}, "gateway_services")},
                   verdict(VerdictKind::Accept), "gateway_services"));
  for (const FamilyFields& f : kFamilies) {
    r.push_back(instantIsolation(f));
    r.push_back(rule({in({f.saddr}, s("dev", f)), log("drop out")}, verdict(VerdictKind::Drop),
                     "a device reaching the gateway: a violation"));
  }
  r.push_back(rule({log("unknown src")}, verdict(VerdictKind::Drop),
                   "a host that no profile claims reaching the gateway"));
  return c;
}

}  // namespace

std::string rangeSetName(const std::string& allowSet, unsigned shard) {
  return allowSet + "_ranges_" + twoDigits(shard);
}

std::string rangeChainName(const std::string& deviceChain, unsigned shard) {
  return "ranges_" + deviceChain + "_" + twoDigits(shard);
}

OutboundLimits outboundLimits(const Policy& policy) {
  OutboundLimits out;
  std::optional<uint32_t> lastRate, lastConnections;  // most devices repeat the one before
  for (const Device& d : policy.devices) {
    if (auto v = d.outboundRate(); v && v != lastRate) out.rates.insert(*(lastRate = v));
    if (auto v = d.outboundConnections(); v && v != lastConnections)
      out.connections.insert(*(lastConnections = v));
  }
  return out;
}

std::string limitSetName(const char* kind, const char* family, uint32_t value) {
  return std::string(kind) + family + "_" + std::to_string(value);
}

namespace {

// New connections that devices open, once their own rules (and a receiving
// device's) let them through: over the device's rate or its concurrent
// connections they are dropped and reported. Critical flows are never limited.
std::vector<PlanRule> outboundLimitRules(const OutboundLimits& limits) {
  std::vector<PlanRule> out;
  for (const FamilyFields& f : kFamilies) {
    // Until a flow gets its first reply every packet of it is ct state new:
    // the rate counts a connection once, by its first packet, which marks it.
    for (uint32_t v : limits.rates) {
      std::string set = limitSetName(kRateSets, f.suffix, v);
      out.push_back(rule(
          {CtMarkHas{kCtMarkCritical, true}, CtMarkHas{kCtMarkCounted, true}, in({f.saddr}, set),
           Meter{f.saddr, set + "_meter", MeterKind::Rate, v}, Counter{}, log("limit out")},
          verdict(VerdictKind::Drop),
          "new outbound connections over limits.outbound_new_per_second"));
    }
    for (uint32_t v : limits.connections) {
      std::string set = limitSetName(kConnectionSets, f.suffix, v);
      out.push_back(rule(
          {CtMarkHas{kCtMarkCritical, true}, in({f.saddr}, set),
           Meter{f.saddr, set + "_meter", MeterKind::Connections, v}, Counter{}, log("conns out")},
          verdict(VerdictKind::Drop), "outbound connections over limits.concurrent_connections"));
    }
    if (!limits.rates.empty()) {
      out.push_back(rule(
          {CtMarkHas{kCtMarkCounted, true}, in({f.saddr}, s("dev", f)), CtMarkOr{kCtMarkCounted}},
          verdict(VerdictKind::Continue), "the connection has spent its device's rate once"));
    }
  }
  return out;
}

}  // namespace

std::vector<Chain> buildRulesetChains(const DaemonConfig& config, const OutboundLimits& limits) {
  Chain forward;
  forward.name = "forward";
  forward.base = BaseHook{"forward", 0, true};
  auto& r = forward.rules;
  // Established flows first: per-packet cost is one conntrack lookup. Everything
  // below judges new flows and ICMP errors (related); isolation cuts
  // established flows by deleting the device's conntrack entries (critical
  // flows keep theirs), and a packet that arrives after that starts a new
  // entry and is judged here.
  r.push_back(rule({CtStateIs{kCtEstablished}}, verdict(VerdictKind::Accept),
                   "replies and established flows"));
  for (const FamilyFields& f : kFamilies) {
    r.push_back(
        rule({in({f.saddr}, s("isolated", f))}, jump(s("isolated_out", f)), "isolated devices"));
    r.push_back(
        rule({in({f.daddr}, s("isolated", f))}, jump(s("isolated_in", f)), "isolated devices"));
  }
  r.push_back(rule({}, jump("spoof"), "forged device addresses"));
  // After isolation and anti-spoofing, before the unknown-host checks: a
  // DHCP discovery from 0.0.0.0 or a solicitation from a link-local address
  // is no host's identity.
  for (PlanRule& lr : linkScopeRules(config)) r.push_back(std::move(lr));
  for (PlanRule& mr : isolatedMacRules()) r.push_back(std::move(mr));
  for (const FamilyFields& f : kFamilies) {
    r.push_back(rule({fromDevicePort(config), notIn({f.saddr}, s("dev", f))}, jump("unknown_src"),
                     "from a host that no profile claims"));
    if (bridged(config)) {
      r.push_back(rule({in({Field::Iifname}, "devifs"), notIn({f.saddr}, s("dev", f))},
                       jump("unknown_src"), "from a host that no profile claims, on the port"));
    }
    r.push_back(rule({toDevicePort(config), notIn({f.daddr}, s("dev", f))}, jump("unknown_dst"),
                     "to a host that no profile claims"));
  }
  // Related traffic other than ICMP errors (flows a conntrack helper
  // expects) is judged below like a new flow.
  for (uint8_t proto : {uint8_t{1}, uint8_t{58}}) {
    r.push_back(rule({CtStateIs{kCtRelated}, ByteIs{ByteField::L4Proto, proto}}, jump("related"),
                     "ICMP errors: is the sender an endpoint of the flow it quotes?"));
  }
  for (const FamilyFields& f : kFamilies) {
    r.push_back(rule({in({f.saddr}, s("dev", f))}, jump(s("out", f)), "new flows from devices"));
    r.push_back(rule({in({f.daddr}, s("dev", f))}, jump(s("in", f)), "new flows to devices"));
  }
  for (PlanRule& lr : outboundLimitRules(limits)) r.push_back(std::move(lr));

  // Per-device accounting of what passed: one lookup each way, counted by
  // the element it finds (PacketsAllowed on the bus).
  Chain account;
  account.name = "account";
  account.base = BaseHook{"forward", kAccountPriority, true};
  if (bridged(config)) {
    account.rules.push_back(rule({MetaMarkOr{kMarkJudged}}, verdict(VerdictKind::Continue),
                                 "let through here: the bridge table passes only such frames"));
  }
  for (const FamilyFields& f : kFamilies) {
    account.rules.push_back(rule({in({f.saddr}, s("count", f))}, verdict(VerdictKind::Continue),
                                 "count packets from devices"));
    account.rules.push_back(rule({in({f.daddr}, s("count", f))}, verdict(VerdictKind::Continue),
                                 "count packets to devices"));
  }

  std::vector<Chain> chains;
  chains.push_back(std::move(forward));
  chains.push_back(std::move(account));
  chains.push_back(inputChain(config));
  chains.push_back(spoofChain(config));
  chains.push_back(unknownChain(config.unknownDevices, true));
  chains.push_back(unknownChain(config.unknownDevices, false));
  chains.push_back(relatedChain(config));
  for (const FamilyFields& f : kFamilies) {
    chains.push_back(isolatedChain(f, true));
    chains.push_back(isolatedChain(f, false));
    for (bool outbound : {true, false}) {
      for (Chain& c : deviceChains(f, outbound)) chains.push_back(std::move(c));
    }
  }
  return chains;
}

}  // namespace ringfence::policy
