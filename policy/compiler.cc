#include "policy/compiler.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "policy/boxes.h"
#include "policy/bridge_table.h"
#include "policy/chains.h"
#include "policy/compile_cache.h"
#include "policy/fnv.h"
#include "policy/parallel.h"

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

void putAddress(KeyBytes& out, const IpAddress& a) {
  out.insert(out.end(), a.bytes.begin(), a.bytes.begin() + static_cast<long>(a.size()));
}
void putPort(KeyBytes& out, uint16_t port) {
  out.push_back(static_cast<uint8_t>(port >> 8));
  out.push_back(static_cast<uint8_t>(port & 0xff));
}
void putIfname(KeyBytes& out, const std::string& name) {
  std::array<uint8_t, 16> padded{};
  std::copy_n(name.begin(), std::min(name.size(), padded.size()), padded.begin());
  out.insert(out.end(), padded.begin(), padded.begin() + keyLength(KeyType::IfName));
}

std::string ruleOrigin(const SourceLocation& where) {
  std::string s = std::filesystem::path(where.file.str()).filename().string() + ":" +
                  std::to_string(where.line);
  std::replace(s.begin(), s.end(), '"', '\'');
  return s.substr(0, 120);
}

class Compiler {
 public:
  explicit Compiler(const Policy& policy) : policy_(policy) {}
  // With the cache: it shares the devices of `policy` from now on.
  Compiler(const Policy& policy, CompileCache& cache) : policy_(policy), cache_(&cache) {}

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
    addDevices();
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
    SetDef& isolated = declare(
        n("isolated", f), {a},
        "addresses of isolated devices (filled by the daemon, and by the packet path at the "
        "first forbidden packet of an instant device)");
    isolated.dynamic = true;
    size_t addresses = 0;
    for (const Device& d : policy_.devices) {
      for (const IpAddress& x : d.addresses) addresses += x.family == f.family;
    }
    isolated.size = isolatedSetSize(addresses);
    declare(n("instant", f), {a},
            "devices isolated at their first forbidden packet, by the kernel itself (threshold 1)");
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

  static SetElement addressElement(const IpAddress& a, const SharedText& comment) {
    SetElement e;
    putAddress(e.low, a);
    e.comment = comment;
    return e;
  }

  // The sets a device's elements go to, per family, looked up once.
  struct FamilySets {
    uint32_t dev, count, self, learn, monitor, observe, macbound, mac, ifbound, iface, inlimit,
        shardOut, shardIn, allowOut, allowIn, criticalOut, criticalIn, instant;
    std::string maintenance;
    // "goto CHAIN" of each range shard, out and in: one text for all its devices.
    std::array<SharedText, kRangeShards> gotoOut, gotoIn;
  };
  FamilySets familySets(const FamilyNames& f) const {
    auto at = [&](const char* base) { return static_cast<uint32_t>(index_.at(n(base, f))); };
    FamilySets sets{at("dev"),
                    at("count"),
                    at("self"),
                    at("learn"),
                    at("monitor"),
                    at("observe"),
                    at("macbound"),
                    at("mac"),
                    at("ifbound"),
                    at("iface"),
                    at("inlimit"),
                    at("shard_out"),
                    at("shard_in"),
                    at("allow_out"),
                    at("allow_in"),
                    at("critical_out"),
                    at("critical_in"),
                    at("instant"),
                    n("maintenance", f),
                    {},
                    {}};
    for (unsigned shard = 0; shard < kRangeShards; ++shard) {
      sets.gotoOut[shard] = "goto " + rangeChainName(std::string("out") + f.suffix, shard);
      sets.gotoIn[shard] = "goto " + rangeChainName(std::string("in") + f.suffix, shard);
    }
    return sets;
  }
  uint32_t setIndex(const std::string& name) const {
    return static_cast<uint32_t>(index_.at(name));
  }

  // Every device's part of the plan, compiled on its own (devices compile in
  // parallel), or taken from the cache when compiled before against the same
  // set layout: the plan shares it with the cache.
  void addDevices() {
    for (const FamilyNames& f : kFamilies) familySets_.push_back(familySets(f));
    const DeviceList& devices = policy_.devices;
    std::vector<CompileCache::Part> parts(devices.size());
    std::vector<std::string> layout;
    if (cache_) {
      for (const SetDef& s : plan_.sets) layout.push_back(s.name);
      parts = cache_->find(devices, layout);
    }
    std::vector<CompileCache::Part> found;  // a check's: taken only if compiled the same
    if (cache_ && cache_->checking()) found = std::exchange(parts, decltype(parts)(devices.size()));
    size_t reused = 0;
    for (const CompileCache::Part& p : parts) reused += p ? 1 : 0;
    constexpr size_t kDevicesPerThread = 256;
    parallelFor(devices.size(), kDevicesPerThread, 8, [&](size_t i) {
      if (parts[i]) return;
      DeviceElements made = compileDevice(devices[i]);
      if (!found.empty() && found[i] && *found[i] == made) {
        parts[i] = found[i];
      } else {
        parts[i] = SharedList<DeviceElements>::make(std::move(made));
      }
    });
    if (cache_) {
      try {
        cache_->count(devices.size() - reused, reused);
        cache_->store(devices, parts, std::move(layout));
      } catch (...) {
        cache_->clear();
        throw;
      }
    }
    plan_.devices.reserve(parts.size());
    for (auto& part : parts) plan_.devices.push_back(std::move(part));
  }

  // The elements grouped by set (in set order, each set's in the order they
  // were made), with the slices pointing into that grouping and the fingerprint.
  DeviceElements compileDevice(const Device& d) const {
    Out made;
    std::optional<LimitObject> limit;
    DeviceElements out = addDeviceElements(d, made, limit);
    out.limit = std::move(limit);
    std::stable_sort(made.begin(), made.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    uint64_t h = kFnvBasis;
    auto mix = [&h](const auto& bytes) { h = fnv1a(fnv1a(h, bytes), uint8_t{0xff}); };
    out.elements.reserve(made.size());
    size_t sets = 0;  // a slice each, made at their size (several hundred thousand parts)
    for (size_t i = 0; i < made.size(); ++i) sets += i == 0 || made[i].first != made[i - 1].first;
    out.slices.reserve(sets);
    for (size_t i = 0; i < made.size();) {
      uint32_t set = made[i].first;
      size_t end = i;
      mix(std::to_string(set));
      for (; end < made.size() && made[end].first == set; ++end) {
        SetElement& el = made[end].second;
        mix(el.low);
        mix(el.high);
        mix(el.data.str());
        mix(el.comment.str());
        out.elements.push_back(el);
      }
      out.slices.push_back({set, static_cast<uint32_t>(i), static_cast<uint32_t>(end)});
      i = end;
    }
    out.elements.shrink_to_fit();
    out.fingerprint = h;
    return out;
  }

  using Out = std::vector<std::pair<uint32_t, SetElement>>;

  DeviceElements addDeviceElements(const Device& d, Out& out,
                                   std::optional<LimitObject>& limit) const {
    DeviceElements runtime;
    runtime.device = d.name;
    auto put = [&out](uint32_t set, SetElement e) { out.emplace_back(set, std::move(e)); };
    const SharedText name(d.name);  // the comment of every address element
    const SharedText limitObject = d.inboundNewPerSecond ? SharedText(limitName(d)) : SharedText();
    unsigned shard = rangeShard(d.name);
    for (size_t fi = 0; fi < std::size(kFamilies); ++fi) {
      const FamilyNames& f = kFamilies[fi];
      const FamilySets& sets = familySets_[fi];
      std::vector<IpAddress> addrs;
      for (const IpAddress& a : d.addresses) {
        if (a.family == f.family) addrs.push_back(a);
      }
      if (addrs.empty()) continue;
      std::optional<uint32_t> rateSet, connectionSet;
      if (auto v = d.outboundRate()) rateSet = setIndex(limitSetName(kRateSets, f.suffix, *v));
      if (auto v = d.outboundConnections())
        connectionSet = setIndex(limitSetName(kConnectionSets, f.suffix, *v));
      const SharedText& gotoOut = sets.gotoOut[shard];
      const SharedText& gotoIn = sets.gotoIn[shard];
      for (const IpAddress& a : addrs) {
        put(sets.dev, addressElement(a, name));
        put(sets.count, addressElement(a, name));
        SetElement self = addressElement(a, name);
        putAddress(self.low, a);
        put(sets.self, std::move(self));
        if (d.mode == Mode::Learn) put(sets.learn, addressElement(a, name));
        if (d.mode == Mode::Monitor) put(sets.monitor, addressElement(a, name));
        if (d.mode != Mode::Enforce) put(sets.observe, addressElement(a, name));
        if (d.isolatesInKernel()) put(sets.instant, addressElement(a, name));
        if (d.mac) {
          put(sets.macbound, addressElement(a, name));
          SetElement e = addressElement(a, name);
          e.low.insert(e.low.end(), d.mac->bytes.begin(), d.mac->bytes.end());
          put(sets.mac, std::move(e));
        }
        if (!d.interface.empty()) {
          put(sets.ifbound, addressElement(a, name));
          SetElement e = addressElement(a, name);
          putIfname(e.low, d.interface);
          put(sets.iface, std::move(e));
        }
        if (rateSet) put(*rateSet, addressElement(a, name));
        if (connectionSet) put(*connectionSet, addressElement(a, name));
        if (d.inboundNewPerSecond) {
          SetElement e = addressElement(a, name);
          e.data = limitObject;
          put(sets.inlimit, std::move(e));
        }
        SetElement toOut = addressElement(a, name);
        toOut.data = gotoOut;
        put(sets.shardOut, std::move(toOut));
        SetElement toIn = addressElement(a, name);
        toIn.data = gotoIn;
        put(sets.shardIn, std::move(toIn));
      }
      auto flows = [&](const std::vector<Rule>& rules, Direction dir, bool critical) {
        std::vector<const Rule*> selected;
        for (const Rule& r : rules) {
          if (r.direction == dir && r.critical == critical) selected.push_back(&r);
        }
        return selected;
      };
      addFlows(f, addrs, flows(d.outbound, Direction::Outbound, false), sets.allowOut,
               n("allow_out", f), shard, out);
      addFlows(f, addrs, flows(d.inbound, Direction::Inbound, false), sets.allowIn,
               n("allow_in", f), shard, out);
      addIntervals(f, addrs, flows(d.outbound, Direction::Outbound, true), sets.criticalOut, out);
      addIntervals(f, addrs, flows(d.inbound, Direction::Inbound, true), sets.criticalIn, out);
      Out maint;
      addIntervals(f, addrs, flows(d.maintenance, Direction::Outbound, false), 0, maint);
      for (auto& [unused, e] : maint)
        runtime.maintenance.emplace_back(sets.maintenance, std::move(e));
    }
    if (d.inboundNewPerSecond)
      limit =
          LimitObject{limitObject.str(), *d.inboundNewPerSecond, *d.inboundNewPerSecond, d.name};
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
      auto ports = r->ports;                           // a copy
      if (ports.empty()) ports.push_back({0, 65535});  // icmp: no ports, any value matches
      SharedText origin;  // made once per rule, and only if the rule has a peer here
      for (const ResolvedPeer& p : r->resolved) {
        if (p.prefix.address.family != f.family) continue;
        if (origin.empty()) origin = ruleOrigin(r->where);
        for (const PortRange& range : ports) {
          out[ipProtocolNumber(r->proto)].push_back({p.prefix, range, origin});
        }
      }
    }
    return out;
  }

  // Exact host+port flows go to the hash set `exactSet`, the rest to the
  // device's range shard of `name`.
  void addFlows(const FamilyNames& f, const std::vector<IpAddress>& addrs,
                const std::vector<const Rule*>& rules, uint32_t exactSet, const std::string& name,
                unsigned shard, Out& out) const {
    std::optional<uint32_t> rangeSet;
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
          out.emplace_back(exactSet, std::move(e));
        }
      }
      if (ranged.empty()) continue;
      if (!rangeSet) rangeSet = setIndex(rangeSetName(name, shard));
      emitIntervals(addrs, proto, ranged, *rangeSet, out);
    }
  }

  void addIntervals(const FamilyNames& f, const std::vector<IpAddress>& addrs,
                    const std::vector<const Rule*>& rules, uint32_t set, Out& out) const {
    for (const auto& [proto, boxes] : boxesByProto(f, rules))
      emitIntervals(addrs, proto, boxes, set, out);
  }

  static void emitIntervals(const std::vector<IpAddress>& addrs, uint8_t proto,
                            const std::vector<PeerPortBox>& boxes, uint32_t set, Out& out) {
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
        out.emplace_back(set, std::move(e));
      }
    }
  }

  void buildChains();

  const Policy& policy_;
  CompileCache* cache_ = nullptr;
  OutboundLimits limits_ = outboundLimits(policy_);
  Plan plan_;
  std::map<std::string, size_t> index_;
  std::vector<FamilySets> familySets_;  // as kFamilies
};

}  // namespace

void Compiler::buildChains() { plan_.chains = buildRulesetChains(policy_.config, limits_); }

std::vector<std::pair<std::string, SetElement>> isolationElements(
    const std::string& device, const std::vector<IpAddress>& addresses,
    const std::optional<MacAddress>& mac) {
  std::vector<std::pair<std::string, SetElement>> out;
  // Device names have at most 63 bytes; a name read from a hand-edited
  // state file is cut so the comment stays far below the kernel's 255-byte
  // element userdata. One text for all of the device's elements.
  const SharedText comment(device.substr(0, kMaxIsolationComment));
  for (const FamilyNames& f : kFamilies) {
    for (const IpAddress& a : addresses) {
      if (a.family != f.family) continue;
      SetElement e;
      putAddress(e.low, a);
      e.comment = comment;
      out.emplace_back(n("isolated", f), std::move(e));
    }
  }
  if (mac) {
    SetElement e;
    e.low.assign(mac->bytes.begin(), mac->bytes.end());
    e.comment = comment;
    out.emplace_back(setname::kIsolatedMac, std::move(e));
  }
  return out;
}

Plan compilePlan(const Policy& policy) { return Compiler(policy).run(); }

Plan compilePlan(const Policy& policy, CompileCache& cache) {
  return Compiler(policy, cache).run();
}

}  // namespace ringfence::policy
