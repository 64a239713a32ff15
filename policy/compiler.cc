#include "policy/compiler.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "policy/boxes.h"
#include "policy/bridge_table.h"
#include "policy/chains.h"

namespace ringfence::policy {
namespace {

struct FamilyNames {
  Family family;
  const char* suffix;  // "4" / "6"
  KeyType addr;
  Field saddr;
  Field daddr;
};
constexpr FamilyNames kFamilies[] = {
    {Family::V4, "4", KeyType::Ipv4Addr, Field::IpSaddr, Field::IpDaddr},
    {Family::V6, "6", KeyType::Ipv6Addr, Field::Ip6Saddr, Field::Ip6Daddr},
};

std::string n(const char* base, const FamilyNames& f) { return std::string(base) + f.suffix; }

void putAddress(std::vector<uint8_t>& out, const IpAddress& a) {
  out.insert(out.end(), a.bytes.begin(), a.bytes.begin() + static_cast<long>(a.size()));
}
void putPort(std::vector<uint8_t>& out, uint16_t port) {
  out.push_back(static_cast<uint8_t>(port >> 8));
  out.push_back(static_cast<uint8_t>(port & 0xff));
}
void putIfname(std::vector<uint8_t>& out, const std::string& name) {
  std::vector<uint8_t> padded(keyLength(KeyType::IfName), 0);
  std::copy(name.begin(), name.end(), padded.begin());
  out.insert(out.end(), padded.begin(), padded.end());
}

std::string ruleOrigin(const SourceLocation& where) {
  std::string s =
      std::filesystem::path(where.file).filename().string() + ":" + std::to_string(where.line);
  std::replace(s.begin(), s.end(), '"', '\'');
  return s.substr(0, 120);
}

class Compiler {
 public:
  explicit Compiler(const Policy& policy) : policy_(policy) {}

  Plan run() {
    plan_.table = policy_.config.table;
    for (const FamilyNames& f : kFamilies) declareFamilySets(f);
    SetDef& ifs = declare("devifs", {KeyType::IfName}, "interfaces that face devices");
    for (const std::string& i : policy_.config.deviceInterfaces) {
      SetElement e;
      putIfname(e.low, i);
      ifs.elements.push_back(std::move(e));
    }
    auto service = [](uint8_t proto, uint16_t port, std::string comment) {
      SetElement e;
      e.low.push_back(proto);
      putPort(e.low, port);
      e.comment = std::move(comment);
      return e;
    };
    SetDef& base = declare("gateway_base", {KeyType::InetProto, KeyType::InetService},
                           "what devices always reach on the gateway");
    base.elements.push_back(service(17, 67, "DHCP"));
    base.elements.push_back(service(17, 547, "DHCPv6"));
    SetDef& rogue = declare("rogue_servers", {KeyType::InetProto, KeyType::InetService},
                            "source ports of DHCP servers: never a device's");
    rogue.elements.push_back(service(17, 67, "DHCP server"));
    rogue.elements.push_back(service(17, 547, "DHCPv6 server"));
    SetDef& services = declare("gateway_services", {KeyType::InetProto, KeyType::InetService},
                               "gateway_services: what devices may reach on the gateway");
    for (const auto& [proto, port] : policy_.config.gatewayServices)
      services.elements.push_back(service(proto, port, "gateway_services"));
    if (policy_.config.topology == "bridge") {
      SetDef& link = declare("link_services", {KeyType::InetProto, KeyType::InetService},
                             "what devices on the bridge send to all: DHCP and DHCPv6");
      for (uint16_t port : {uint16_t{67}, uint16_t{68}, uint16_t{546}, uint16_t{547}})
        link.elements.push_back(service(17, port, port < 100 ? "DHCP" : "DHCPv6"));
    }
    for (const Device& d : policy_.devices) addDevice(d);
    buildChains();
    if (policy_.config.topology == "bridge")
      plan_.companions.push_back(bridgeTable(policy_, plan_));
    return std::move(plan_);
  }

 private:
  SetDef& declare(std::string name, std::vector<KeyType> key, std::string comment,
                  bool interval = false) {
    SetDef s;
    s.name = std::move(name);
    s.key = std::move(key);
    s.interval = interval;
    s.comment = std::move(comment);
    index_[s.name] = plan_.sets.size();
    plan_.sets.push_back(std::move(s));
    return plan_.sets.back();
  }
  SetDef& set(const std::string& name) { return plan_.sets[index_.at(name)]; }

  void declareFamilySets(const FamilyNames& f) {
    KeyType a = f.addr;
    std::vector<KeyType> flow = {a, a, KeyType::InetProto, KeyType::InetService};
    declare(n("dev", f), {a}, "addresses of all devices");
    declare(n("count", f), {a}, "device addresses, counting the packets let through").counters =
        true;
    declare(n("isolated", f), {a}, "addresses of isolated devices (filled by the daemon)");
    if (f.family == Family::V4)
      declare(setname::kIsolatedMac, {KeyType::EtherAddr},
              "MACs of isolated devices (filled by the daemon)");
    declare(n("self", f), {a, a},
            "device address . itself (is an ICMP error's sender an endpoint?)");
    declare(n("learn", f), {a}, "devices in learn mode");
    declare(n("monitor", f), {a}, "devices in monitor mode");
    declare(n("observe", f), {a}, "devices whose flows are recorded (learn and monitor)");
    declare(n("macbound", f), {a}, "devices bound to a MAC");
    declare(n("mac", f), {a, KeyType::EtherAddr}, "device address . its MAC");
    declare(n("ifbound", f), {a}, "devices bound to an interface");
    declare(n("iface", f), {a, KeyType::IfName}, "device address . its interface");
    SetDef& limits =
        declare(n("inlimit", f), {a}, "device address : its inbound new-connection limit");
    limits.data = KeyType::LimitObject;
    declare(n("allow_out", f), flow, "device . peer . proto . port the device may open");
    declare(n("allow_in", f), flow, "device . peer . proto . port a peer may open");
    for (const char* dir : {"out", "in"}) {
      SetDef& shards =
          declare("shard_" + std::string(dir) + f.suffix, {a}, "device address : its range shard");
      shards.data = KeyType::Verdict;
      std::string allow = std::string("allow_") + dir + f.suffix;
      for (unsigned shard = 0; shard < kRangeShards; ++shard) {
        declare(rangeSetName(allow, shard), flow, "as " + allow + ", with prefixes and ranges",
                true);
      }
    }
    for (auto [kind, values, what] :
         {std::tuple{kRateSets, &limits_.rates, "new outbound connections per second"},
          std::tuple{kConnectionSets, &limits_.connections, "concurrent outbound connections"}}) {
      for (uint32_t v : *values) {
        std::string name = limitSetName(kind, f.suffix, v);
        declare(name, {a}, "device addresses limited to " + std::to_string(v) + " " + what);
        SetDef& meter = declare(name + "_meter", {a}, "their state (filled by the packet path)");
        meter.dynamic = true;
        meter.size = kMeterSize;
      }
    }
    declare(n("critical_out", f), flow, "outbound flows that stay open during isolation", true);
    declare(n("critical_in", f), flow, "inbound flows that stay open during isolation", true);
    SetDef& maint =
        declare(n("maintenance", f), flow,
                "maintenance flows, open while a window lasts (filled by the daemon)", true);
    maint.timeout = true;
  }

  static SetElement addressElement(const IpAddress& a, const std::string& comment) {
    SetElement e;
    putAddress(e.low, a);
    e.comment = comment;
    return e;
  }

  void addDevice(const Device& d) {
    std::vector<size_t> before(plan_.sets.size());
    for (size_t i = 0; i < plan_.sets.size(); ++i) before[i] = plan_.sets[i].elements.size();
    DeviceElements runtime = addDeviceElements(d);
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](const auto& bytes) {
      for (auto b : bytes) h = (h ^ static_cast<uint8_t>(b)) * 1099511628211ull;
      h = (h ^ 0xff) * 1099511628211ull;
    };
    for (size_t i = 0; i < plan_.sets.size(); ++i) {
      size_t end = plan_.sets[i].elements.size();
      if (end == before[i]) continue;
      runtime.slices.push_back(
          {static_cast<uint32_t>(i), static_cast<uint32_t>(before[i]), static_cast<uint32_t>(end)});
      mix(std::to_string(i));
      for (size_t e = before[i]; e < end; ++e) {
        const SetElement& el = plan_.sets[i].elements[e];
        mix(el.low);
        mix(el.high);
        mix(el.data);
        mix(el.comment);
      }
    }
    runtime.fingerprint = h;
    plan_.devices.push_back(std::move(runtime));
  }

  DeviceElements addDeviceElements(const Device& d) {
    DeviceElements runtime;
    runtime.device = d.name;
    runtime.isolation = isolationElements(d.name, d.addresses, d.mac);
    for (const FamilyNames& f : kFamilies) {
      std::vector<IpAddress> addrs;
      for (const IpAddress& a : d.addresses) {
        if (a.family == f.family) addrs.push_back(a);
      }
      if (addrs.empty()) continue;
      for (const IpAddress& a : addrs) {
        set(n("dev", f)).elements.push_back(addressElement(a, d.name));
        set(n("count", f)).elements.push_back(addressElement(a, d.name));
        SetElement self = addressElement(a, d.name);
        putAddress(self.low, a);
        set(n("self", f)).elements.push_back(std::move(self));
        if (d.mode == Mode::Learn) set(n("learn", f)).elements.push_back(addressElement(a, d.name));
        if (d.mode == Mode::Monitor)
          set(n("monitor", f)).elements.push_back(addressElement(a, d.name));
        if (d.mode != Mode::Enforce)
          set(n("observe", f)).elements.push_back(addressElement(a, d.name));
        if (d.mac) {
          set(n("macbound", f)).elements.push_back(addressElement(a, d.name));
          SetElement e = addressElement(a, d.name);
          e.low.insert(e.low.end(), d.mac->bytes.begin(), d.mac->bytes.end());
          set(n("mac", f)).elements.push_back(std::move(e));
        }
        if (!d.interface.empty()) {
          set(n("ifbound", f)).elements.push_back(addressElement(a, d.name));
          SetElement e = addressElement(a, d.name);
          putIfname(e.low, d.interface);
          set(n("iface", f)).elements.push_back(std::move(e));
        }
        if (auto v = d.outboundRate())
          set(limitSetName(kRateSets, f.suffix, *v)).elements.push_back(addressElement(a, d.name));
        if (auto v = d.outboundConnections()) {
          set(limitSetName(kConnectionSets, f.suffix, *v))
              .elements.push_back(addressElement(a, d.name));
        }
        if (d.inboundNewPerSecond) {
          SetElement e = addressElement(a, d.name);
          e.data = limitName(d);
          set(n("inlimit", f)).elements.push_back(std::move(e));
        }
        for (const char* dir : {"out", "in"}) {
          SetElement e = addressElement(a, d.name);
          e.data = "goto " + rangeChainName(dir + std::string(f.suffix), rangeShard(d.name));
          set("shard_" + std::string(dir) + f.suffix).elements.push_back(std::move(e));
        }
      }
      auto flows = [&](const std::vector<Rule>& rules, Direction dir, bool critical) {
        std::vector<const Rule*> out;
        for (const Rule& r : rules) {
          if (r.direction == dir && r.critical == critical) out.push_back(&r);
        }
        return out;
      };
      unsigned shard = rangeShard(d.name);
      addFlows(f, addrs, flows(d.outbound, Direction::Outbound, false), n("allow_out", f), shard);
      addFlows(f, addrs, flows(d.inbound, Direction::Inbound, false), n("allow_in", f), shard);
      addIntervals(f, addrs, flows(d.outbound, Direction::Outbound, true),
                   set(n("critical_out", f)).elements);
      addIntervals(f, addrs, flows(d.inbound, Direction::Inbound, true),
                   set(n("critical_in", f)).elements);
      std::vector<SetElement> maint;
      addIntervals(f, addrs, flows(d.maintenance, Direction::Outbound, false), maint);
      for (SetElement& e : maint)
        runtime.maintenance.emplace_back(n("maintenance", f), std::move(e));
    }
    if (d.inboundNewPerSecond) {
      plan_.limits.push_back(
          {limitName(d), *d.inboundNewPerSecond, *d.inboundNewPerSecond, d.name});
    }
    return runtime;
  }

  static std::string limitName(const Device& d) { return "lim_" + d.name; }

  static bool isExact(const PeerPortBox& b) {
    return b.peer.isHost() && b.ports.low == b.ports.high;
  }

  // Boxes of one protocol for the rules' peers of this family.
  static std::map<uint8_t, std::vector<PeerPortBox>> boxesByProto(
      const FamilyNames& f, const std::vector<const Rule*>& rules) {
    std::map<uint8_t, std::vector<PeerPortBox>> out;
    for (const Rule* r : rules) {
      std::vector<PortRange> ports = r->ports;
      if (ports.empty()) ports.push_back({0, 65535});  // icmp: no ports, any value matches
      for (const ResolvedPeer& p : r->resolved) {
        if (p.prefix.address.family != f.family) continue;
        for (const PortRange& range : ports) {
          out[ipProtocolNumber(r->proto)].push_back({p.prefix, range, ruleOrigin(r->where)});
        }
      }
    }
    return out;
  }

  // Exact host+port flows go to the hash set `name`, the rest to the device's range shard.
  void addFlows(const FamilyNames& f, const std::vector<IpAddress>& addrs,
                const std::vector<const Rule*>& rules, const std::string& name, unsigned shard) {
    std::vector<SetElement>& exact = set(name).elements;
    for (const auto& [proto, boxes] : boxesByProto(f, rules)) {
      std::vector<PeerPortBox> ranged;
      std::set<std::pair<IpAddress, uint16_t>> seen;
      for (const PeerPortBox& b : boxes) {
        if (!isExact(b)) {
          ranged.push_back(b);
          continue;
        }
        if (!seen.insert({b.peer.address, b.ports.low}).second) continue;
        for (const IpAddress& a : addrs) {
          SetElement e;
          putAddress(e.low, a);
          putAddress(e.low, b.peer.address);
          e.low.push_back(proto);
          putPort(e.low, b.ports.low);
          e.comment = b.origin;
          exact.push_back(std::move(e));
        }
      }
      emitIntervals(addrs, proto, ranged, set(rangeSetName(name, shard)).elements);
    }
  }

  void addIntervals(const FamilyNames& f, const std::vector<IpAddress>& addrs,
                    const std::vector<const Rule*>& rules, std::vector<SetElement>& out) {
    for (const auto& [proto, boxes] : boxesByProto(f, rules))
      emitIntervals(addrs, proto, boxes, out);
  }

  static void emitIntervals(const std::vector<IpAddress>& addrs, uint8_t proto,
                            const std::vector<PeerPortBox>& boxes, std::vector<SetElement>& out) {
    if (boxes.empty()) return;
    for (const PeerPortBox& b : disjointBoxes(boxes)) {
      for (const IpAddress& a : addrs) {
        SetElement e;
        putAddress(e.low, a);
        putAddress(e.high, a);
        putAddress(e.low, b.peer.address);
        putAddress(e.high, b.peer.last());
        e.low.push_back(proto);
        e.high.push_back(proto);
        putPort(e.low, b.ports.low);
        putPort(e.high, b.ports.high);
        e.comment = b.origin;
        out.push_back(std::move(e));
      }
    }
  }

  void buildChains();

  const Policy& policy_;
  OutboundLimits limits_ = outboundLimits(policy_);
  Plan plan_;
  std::map<std::string, size_t> index_;
};

}  // namespace

void Compiler::buildChains() { plan_.chains = buildRulesetChains(policy_.config, limits_); }

std::vector<std::pair<std::string, SetElement>> isolationElements(
    const std::string& device, const std::vector<IpAddress>& addresses,
    const std::optional<MacAddress>& mac) {
  std::vector<std::pair<std::string, SetElement>> out;
  for (const FamilyNames& f : kFamilies) {
    for (const IpAddress& a : addresses) {
      if (a.family != f.family) continue;
      SetElement e;
      putAddress(e.low, a);
      // Device names have at most 63 bytes; a name read from a hand-edited
      // state file is cut so the comment stays far below the kernel's
      // 255-byte element userdata.
      e.comment = device.substr(0, kMaxIsolationComment);
      out.emplace_back(n("isolated", f), std::move(e));
    }
  }
  if (mac) {
    SetElement e;
    e.low.assign(mac->bytes.begin(), mac->bytes.end());
    e.comment = device.substr(0, kMaxIsolationComment);
    out.emplace_back(setname::kIsolatedMac, std::move(e));
  }
  return out;
}

Plan compilePlan(const Policy& policy) { return Compiler(policy).run(); }

}  // namespace ringfence::policy
