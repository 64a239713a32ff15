#include "policy/flow_check.h"

#include <algorithm>

namespace ringfence::policy {
namespace {

const Rule* findRule(const std::vector<Rule>& rules, const IpAddress& peer, Proto proto,
                     uint16_t port) {
  for (const Rule& r : rules) {
    if (r.proto != proto) continue;
    bool peerOk = std::any_of(r.resolved.begin(), r.resolved.end(),
                              [&](const ResolvedPeer& p) { return p.prefix.contains(peer); });
    if (!peerOk) continue;
    bool icmp = proto == Proto::Icmp || proto == Proto::Icmpv6;
    bool portOk = icmp || std::any_of(r.ports.begin(), r.ports.end(), [&](const PortRange& p) {
                    return p.low <= port && port <= p.high;
                  });
    if (portOk) return &r;
  }
  return nullptr;
}

// One end's view: the device's own rules in the given direction, then its mode.
FlowVerdict judge(const Device& d, Direction dir, const IpAddress& peer, Proto proto,
                  uint16_t port) {
  const std::vector<Rule>& rules = dir == Direction::Outbound ? d.outbound : d.inbound;
  if (const Rule* r = findRule(rules, peer, proto, port)) {
    std::string by = formatLocation(r->where) + " (" + toString(dir) + " rule of " + d.name;
    if (!r->comment.empty()) by += ": " + r->comment.str();
    by += r->critical ? ", critical)" : ")";
    return {true, by, r->critical};
  }
  switch (d.mode) {
    case Mode::Learn:
      return {true, d.name + " is in learn mode: every flow passes (" + d.file.str() + ")", false};
    case Mode::Monitor:
      return {
          true,
          d.name + " is in monitor mode: passes, reported as a violation (" + d.file.str() + ")",
          false};
    case Mode::Enforce:
      break;
  }
  return {false,
          "no " + std::string(toString(dir)) + " rule of " + d.name + " allows it (" +
              d.file.str() + ")",
          false};
}

const Device* deviceWithAddress(const Policy& policy, const IpAddress& a) {
  for (const Device& d : policy.devices) {
    if (std::find(d.addresses.begin(), d.addresses.end(), a) != d.addresses.end()) return &d;
  }
  return nullptr;
}

}  // namespace

std::expected<FlowVerdict, FlowCheckFailure> checkFlow(const Policy& policy, const FlowQuery& q) {
  const Device* d = policy.findDevice(q.device);
  if (!d)
    return std::unexpected(
        FlowCheckFailure{FlowCheckError::NoSuchDevice, "no such device '" + q.device + "'"});
  bool icmp = q.proto == Proto::Icmp || q.proto == Proto::Icmpv6;
  if (!icmp && q.port == 0) {
    return std::unexpected(
        FlowCheckFailure{FlowCheckError::InvalidArgument, "tcp and udp need a port (1-65535)"});
  }
  if ((q.proto == Proto::Icmp && q.peer.family != Family::V4) ||
      (q.proto == Proto::Icmpv6 && q.peer.family != Family::V6)) {
    return std::unexpected(FlowCheckFailure{
        FlowCheckError::InvalidArgument,
        std::string(toString(q.proto)) + " does not fit peer " + toString(q.peer)});
  }
  if (!d->hasFamily(q.peer.family)) {
    return FlowVerdict{false,
                       d->name + " has no " +
                           std::string(q.peer.family == Family::V4 ? "IPv4" : "IPv6") +
                           " address, so no such flow exists",
                       false};
  }
  FlowVerdict own = judge(*d, q.direction, q.peer, q.proto, q.port);
  // A flow between two devices must be allowed by both: the other end judges
  // it in the opposite direction.
  const Device* other = deviceWithAddress(policy, q.peer);
  if (!own.allowed || !other || other == d) return own;
  Direction opposite =
      q.direction == Direction::Outbound ? Direction::Inbound : Direction::Outbound;
  // The other end sees our device's address as its peer; any of our addresses of that family.
  auto mine = std::find_if(d->addresses.begin(), d->addresses.end(),
                           [&](const IpAddress& a) { return a.family == q.peer.family; });
  FlowVerdict theirs = judge(*other, opposite, *mine, q.proto, q.port);
  if (!theirs.allowed) return theirs;
  return FlowVerdict{true, own.decidedBy + " and " + theirs.decidedBy, own.critical};
}

}  // namespace ringfence::policy
