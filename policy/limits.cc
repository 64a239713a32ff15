#include "policy/limits.h"

#include <algorithm>
#include <map>
#include <set>

#include "policy/boxes.h"
#include "policy/parallel.h"

namespace ringfence::policy {
namespace {

// "490,000"
std::string grouped(size_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

size_t addressCount(const Device& d, Family f) {
  return static_cast<size_t>(std::count_if(d.addresses.begin(), d.addresses.end(),
                                           [f](const IpAddress& a) { return a.family == f; }));
}

// The compiler's grouping (policy/compiler.cc): boxes by protocol, for the
// peers of one family; icmp rules match any port value.
std::map<uint8_t, std::vector<PeerPortBox>> boxesByProto(Family f,
                                                         const std::vector<const Rule*>& rules) {
  std::map<uint8_t, std::vector<PeerPortBox>> out;
  for (const Rule* r : rules) {
    auto ports = r->ports;  // a copy
    if (ports.empty()) ports.push_back({0, 65535});
    for (const ResolvedPeer& p : r->resolved) {
      if (p.prefix.address.family != f) continue;
      for (const PortRange& range : ports) {
        out[ipProtocolNumber(r->proto)].push_back({p.prefix, range, {}});
      }
    }
  }
  return out;
}

std::vector<const Rule*> select(const std::vector<Rule>& rules, Direction dir, bool critical) {
  std::vector<const Rule*> out;
  for (const Rule& r : rules) {
    if (r.direction == dir && r.critical == critical) out.push_back(&r);
  }
  return out;
}

// Exact host+port flows are one element each (once per peer and port), the
// rest is made disjoint: the compiler's allow sets.
size_t flowElements(Family f, const std::vector<const Rule*>& rules) {
  size_t n = 0;
  for (const auto& [proto, boxes] : boxesByProto(f, rules)) {
    std::vector<PeerPortBox> ranged;
    std::set<std::pair<IpAddress, uint16_t>> seen;
    for (const PeerPortBox& b : boxes) {
      if (!(b.peer.isHost() && b.ports.low == b.ports.high)) {
        ranged.push_back(b);
      } else if (seen.insert({b.peer.address, b.ports.low}).second) {
        ++n;
      }
    }
    if (!ranged.empty()) n += disjointBoxCount(ranged);
  }
  return n;
}

// The compiler's interval sets (critical, maintenance): everything disjoint.
size_t intervalElements(Family f, const std::vector<const Rule*>& rules) {
  size_t n = 0;
  for (const auto& [proto, boxes] : boxesByProto(f, rules)) n += disjointBoxCount(boxes);
  return n;
}

}  // namespace

size_t compiledSize(const Device& d) {
  // Per address: dev, count, self, isolated, the two range shards; observe and
  // learn/monitor; the MAC and interface bindings; the inbound limit; the
  // outbound limits' member sets; instant isolation.
  size_t perAddress = 6 + (d.isolatesInKernel() ? 1 : 0) + (d.outboundRate() ? 1 : 0) +
                      (d.outboundConnections() ? 1 : 0) + (d.mode != Mode::Enforce ? 2 : 0) +
                      (d.mac ? 2 : 0) + (d.interface.empty() ? 0 : 2) +
                      (d.inboundNewPerSecond ? 1 : 0);
  size_t n = 0;
  for (Family f : {Family::V4, Family::V6}) {
    size_t addrs = addressCount(d, f);
    if (addrs == 0) continue;
    size_t flows = flowElements(f, select(d.outbound, Direction::Outbound, false)) +
                   flowElements(f, select(d.inbound, Direction::Inbound, false)) +
                   intervalElements(f, select(d.outbound, Direction::Outbound, true)) +
                   intervalElements(f, select(d.inbound, Direction::Inbound, true)) +
                   intervalElements(f, select(d.maintenance, Direction::Outbound, false));
    n += addrs * (perAddress + flows);
  }
  return n + (d.mac ? 1 : 0);  // isolated_mac
}

namespace {

// What a rule adds as written: peers x port ranges x the device's addresses.
size_t writtenSize(const Device& d, const Rule& r) {
  size_t n = 0;
  for (const ResolvedPeer& p : r.resolved) n += addressCount(d, p.prefix.address.family);
  return n * std::max<size_t>(1, r.ports.size());
}

std::string largestRules(const Device& d) {
  std::vector<const Rule*> rules;
  for (const auto* list : {&d.outbound, &d.inbound, &d.maintenance}) {
    for (const Rule& r : *list) rules.push_back(&r);
  }
  std::stable_sort(rules.begin(), rules.end(), [&](const Rule* a, const Rule* b) {
    return writtenSize(d, *a) > writtenSize(d, *b);
  });
  std::string out;
  for (size_t i = 0; i < rules.size() && i < 3; ++i) {
    const Rule& r = *rules[i];
    if (writtenSize(d, r) == 0) break;
    out += (out.empty() ? "" : ", ") + std::string("line ") + std::to_string(r.where.line) + " (" +
           grouped(r.resolved.size()) + " peers x " + grouped(std::max<size_t>(1, r.ports.size())) +
           " ports)";
  }
  return out.empty() ? "" : "; the largest rules: " + out;
}

}  // namespace

std::vector<DeviceSize> compiledSizes(const Policy& policy) {
  std::vector<DeviceSize> out(policy.devices.size());
  constexpr size_t kDevicesPerThread = 256;  // devices count on every core
  parallelFor(policy.devices.size(), kDevicesPerThread, 8, [&](size_t i) {
    out[i] = {policy.devices[i].name, compiledSize(policy.devices[i])};
  });
  return out;
}

size_t compiledTotal(const Policy& policy, const std::vector<DeviceSize>& sizes) {
  // devifs, the gateway's DHCP and DHCPv6 (gateway_base), the DHCP servers' ports (rogue_servers)
  // and gateway_services
  size_t n = policy.config.deviceInterfaces.size() + 4 + policy.config.gatewayServices.size();
  for (const DeviceSize& s : sizes) n += s.elements;
  return n;
}

void checkPlanLimits(const Policy& policy, Diagnostics& diags, const PlanLimits& limits) {
  std::vector<size_t> sizes(policy.devices.size());
  constexpr size_t kDevicesPerThread = 256;  // devices count on every core
  parallelFor(policy.devices.size(), kDevicesPerThread, 8,
              [&](size_t i) { sizes[i] = compiledSize(policy.devices[i]); });
  checkPlanLimits(policy, sizes, diags, limits);
}

void checkPlanLimits(const Policy& policy, const std::vector<size_t>& sizes, Diagnostics& diags,
                     const PlanLimits& limits) {
  size_t total = policy.config.deviceInterfaces.size() + 4 + policy.config.gatewayServices.size();
  for (size_t i = 0; i < sizes.size(); ++i) {
    total += sizes[i];
    if (sizes[i] <= limits.perDevice) continue;
    const Device& d = policy.devices[i];
    diags.error(d.where, "device '" + d.name + "' compiles to " + grouped(sizes[i]) +
                             " set elements, more than the limit of " + grouped(limits.perDevice) +
                             " per device" + largestRules(d) +
                             ": use prefixes, port ranges or fewer peers");
  }
  if (total <= limits.total) return;
  std::vector<size_t> largest(sizes.size());
  for (size_t i = 0; i < largest.size(); ++i) largest[i] = i;
  std::stable_sort(largest.begin(), largest.end(),
                   [&](size_t a, size_t b) { return sizes[a] > sizes[b]; });
  std::string names;
  for (size_t i = 0; i < largest.size() && i < 3; ++i) {
    names +=
        (i ? ", " : "") + policy.devices[largest[i]].name + " (" + grouped(sizes[largest[i]]) + ")";
  }
  std::string where = policy.config.file.empty() ? policy.config.profilesDir : policy.config.file;
  diags.error({where, 1, 1}, "the policy compiles to " + grouped(total) +
                                 " set elements in all, more than the limit of " +
                                 grouped(limits.total) + "; the largest devices: " + names);
}

}  // namespace ringfence::policy
