#include "daemon/containment.h"

#include <net/if.h>

#include <cerrno>

#include "daemon/log.h"
#include "netlink/conntrack.h"
#include "policy/compiler.h"

namespace ringfence::daemon {
namespace {

constexpr int kLinesPerSecond = 10;     // per device: a flood cannot fill the disk
constexpr size_t kListedOneByOne = 10;  // isolations restored or orphaned, logged each

std::string joined(const std::vector<policy::IpAddress>& addresses) {
  std::string out;
  for (const policy::IpAddress& a : addresses)
    out += (out.empty() ? "" : ", ") + policy::toString(a);
  return out.empty() ? "no address" : out;
}

// Set name and key: what identifies an element.
using ElementKey = std::pair<std::string, policy::KeyBytes>;

bool inPlan(const policy::Plan& plan, const std::string& set, const policy::SetElement& e) {
  const policy::SetDef* s = plan.findSet(set);
  if (!s) return false;
  for (const policy::SetElement& x : s->elements) {
    if (x.low == e.low && x.high == e.high) return true;
  }
  return false;
}

// Probes: a flow seen again within this long is the same attempt; at most this
// many flows are remembered per device (a scan of every port cannot grow memory).
constexpr std::chrono::seconds kSameProbe{30};
constexpr size_t kMaxProbeFlows = 16384;

std::string protoText(uint8_t proto) {
  auto p = policy::protoFromNumber(proto);
  return p ? policy::toString(*p) : std::to_string(proto);
}

struct Prefix {
  std::string what;  // drop, monitor, isolated, spoof, unknown
  policy::Direction direction = policy::Direction::Outbound;
};

std::optional<Prefix> parsePrefix(const std::string& prefix) {
  const std::string base = policy::kLogPrefix;
  if (prefix.rfind(base, 0) != 0) return std::nullopt;
  std::string rest = prefix.substr(base.size());
  auto space = rest.find(' ');
  Prefix p{rest.substr(0, space)};
  if (rest.find(" in ") != std::string::npos) p.direction = policy::Direction::Inbound;
  return p;
}

std::string interfaceName(uint32_t index) {
  char name[IF_NAMESIZE] = {};
  return index && if_indextoname(index, name) ? name : "?";
}

}  // namespace

void Containment::restore() {
  LoadedState state = store_.load();
  for (const std::string& problem : state.problems) {
    log(LogLevel::Error, "state-unreadable",
        "STATE PROBLEM: " + problem + "; every isolation that can be read stays in force");
  }
  if (state.moreProblems) {
    log(LogLevel::Error, "state-unreadable",
        "STATE PROBLEM: " + std::to_string(state.moreProblems) + " more unreadable lines in " +
            store_.path() + " skipped");
  }
  restored_ = std::move(state.isolations);
  restoredCounters_ = std::move(state.counters);
  if (auto text = store_.loadLearned(); !text) {
    log(LogLevel::Error, "state-unreadable",
        "STATE PROBLEM: " + text.error() + "; learning starts afresh");
  } else {
    std::vector<std::string> problems;
    learned_ = policy::LearnedFlows::parse(*text, problems);
    for (const std::string& p : problems) {
      log(LogLevel::Warning, "state-unreadable", store_.learnedPath() + ": " + p);
    }
  }
  for (size_t i = 0; i < restored_.size() && i < kListedOneByOne; ++i) {
    const policy::Isolation& iso = restored_[i];
    log(LogLevel::Info, "isolation-restored",
        "device " + iso.device + " stays isolated: " + iso.reason, iso.device);
  }
  if (restored_.size() > kListedOneByOne) {
    log(LogLevel::Info, "isolation-restored",
        std::to_string(restored_.size() - kListedOneByOne) + " more isolations read from " +
            store_.path() + " stay in force");
  }
}

void Containment::logFollow(const policy::FollowResult& follow) {
  for (const policy::IsolationMove& m : follow.moved) {
    log(LogLevel::Warning, "isolation-followed",
        "ISOLATION FOLLOWS THE DEVICE: isolation of " + m.from + " follows its " + m.via +
            " to device " + m.to + "; " + m.to + " is isolated until released",
        m.to);
  }
  for (size_t i = 0; i < follow.orphans.size() && i < kListedOneByOne; ++i) {
    const std::string& name = follow.orphans[i];
    const policy::Isolation& iso = judge_->isolations().at(name);
    log(LogLevel::Warning, "isolation-orphaned",
        "device " + name + " is isolated but no longer in the policy; its addresses (" +
            joined(iso.addresses) + ") stay cut off until it is released",
        name);
  }
  if (follow.orphans.size() > kListedOneByOne) {
    log(LogLevel::Warning, "isolation-orphaned",
        std::to_string(follow.orphans.size() - kListedOneByOne) +
            " more isolations of devices no longer in the policy stay in force");
  }
}

const std::string* Containment::findMac(const std::map<policy::MacAddress, std::string>& in,
                                        const std::string& mac) {
  std::optional<policy::MacAddress> m = policy::parseMac(mac);
  if (!m) return nullptr;
  auto it = in.find(*m);
  return it == in.end() ? nullptr : &it->second;
}

// Who owns each address and MAC, and each MAC's port: only the devices that
// changed since the last policy are taken out and put in again (a reload of
// one profile among thousands touches one device's entries).
void Containment::indexDevices(const policy::DeviceList& devices) {
  auto forget = [&](const policy::Device& d) {
    for (const policy::IpAddress& a : d.addresses) {
      if (auto it = owners_.find(a); it != owners_.end() && it->second == d.name) owners_.erase(it);
    }
    if (!d.mac) return;
    if (auto it = macOwners_.find(*d.mac); it != macOwners_.end() && it->second == d.name) {
      macOwners_.erase(it);
      macPorts_.erase(*d.mac);
    }
  };
  auto index = [&](const policy::Device& d) {
    for (const policy::IpAddress& a : d.addresses) owners_[a] = d.name;
    if (!d.mac) return;
    if (!d.interface.empty()) macPorts_[*d.mac] = d.interface;
    macOwners_[*d.mac] = d.name;
  };
  std::vector<const policy::Device*> fresh;
  policy::forEachChangedDevice(indexed_, devices,
                               [&](const policy::Device* old, const policy::Device* now) {
                                 if (old) forget(*old);
                                 if (now) fresh.push_back(now);
                               });
  owners_.reserve(devices.size() * 2);
  for (const policy::Device* d : fresh) index(*d);  // once every old entry is out
  indexed_ = devices;
}

void Containment::usePolicy(const policy::Policy& policy, policy::Plan* plan) {
  bool first = !judge_;
  conntrack_.setPercent(policy.config.conntrackWarnPercent);
  if (first) {
    judge_.emplace(policy);
    judge_->restore(restored_);
    for (const auto& [device, c] : restoredCounters_) {
      judge_->restoreCount(device, c.violations, c.lastViolation);
      probes_[device].count = c.probes;
    }
    savedCounters_ = std::move(restoredCounters_);
  } else {
    judge_->setPolicy(policy);
  }
  bridged_ = policy.config.topology == "bridge";
  indexDevices(policy.devices);
  policy::FollowResult follow = judge_->followPolicy();
  bool changed = follow.changed;
  if (first) {
    std::set<std::string> adopted;
    for (const auto& [a, comment] : kernelIsolated_) {
      auto name = judge_->adoptKernelAddress(a, comment, policy::WallClock::now());
      if (!name) continue;
      adopted.insert(*name);
      log(LogLevel::Error, "isolation-found-in-kernel",
          "address " + policy::toString(a) + " was isolated in the kernel table but is not in " +
              store_.path() + ": it stays isolated as " + *name + " until released",
          *name);
    }
    kernelIsolated_.clear();
    if (!adopted.empty()) {
      follow = judge_->followPolicy();  // the owners' other addresses, and renames
      changed = true;
    }
    // The packet path may have isolated them (docs/ruleset.md, instant
    // isolation): their live flows were never cut.
    for (const auto& [device, iso] : judge_->isolations()) {
      if (adopted.contains(device) && !iso.addresses.empty()) cutFlowsOf(device, iso.addresses);
    }
  }
  logFollow(follow);
  if (changed) save("isolations changed by the new policy");
  if (!plan) return;
  std::set<ElementKey> added;
  Enforcer::Elements elements;
  for (const auto& [device, iso] : judge_->isolations()) {
    for (auto& [set, e] : policy::isolationElements(device, iso.addresses, iso.mac)) {
      if (added.insert({set, e.low}).second && !inPlan(*plan, set, e))
        elements.emplace_back(set, std::move(e));
    }
  }
  plan->addElements(elements);
}

// Where a logged packet came in: its interface, or in the bridge topology
// its bridge port (the interface of a bridged packet is the bridge).
std::string Containment::where(const netlink::LoggedPacket& p) const {
  return interfaceName(bridged_ && p.physInIfindex ? p.physInIfindex : p.inIfindex);
}

std::string Containment::deviceOf(const policy::IpAddress& a) const {
  auto it = owners_.find(a);
  return it == owners_.end() ? std::string() : it->second;
}

bool Containment::mayLog(const std::string& key, policy::WallTime now) {
  LogBudget& b = logBudget_[key];
  if (now - b.since >= std::chrono::seconds(1)) {
    if (b.suppressed) {
      log(LogLevel::Warning, "log-suppressed",
          std::to_string(b.suppressed) + " more events of " + key +
              " were counted but not logged (rate limit)",
          key);
    }
    b = LogBudget{now, 0, 0};
  }
  if (b.used < kLinesPerSecond) {
    ++b.used;
    return true;
  }
  ++b.suppressed;
  return false;
}

void Containment::onPackets(const std::vector<netlink::LoggedPacket>& packets,
                            policy::WallTime now) {
  for (const netlink::LoggedPacket& p : packets) {
    std::optional<Prefix> prefix = parsePrefix(p.prefix);
    if (!prefix) continue;
    if (p.other) {
      onForgedMac(p, now);
      continue;
    }
    // A neighbour claim (the bridge table's "spoof arp", "spoof nd") counts
    // for its sender, if any (onNeighbourClaim).
    bool ndClaim = p.ndTarget && p.prefix == std::string(policy::kLogPrefix) + "spoof nd ";
    bool spoof = prefix->what == "spoof" && !p.arp && !ndClaim;
    if (prefix->what == "drop" || prefix->what == "isolated" || spoof) {
      bool out = prefix->what == "spoof" || prefix->direction == policy::Direction::Outbound;
      if (std::string d = deviceOf(out ? p.src : p.dst); !d.empty()) ++dropped_[d];
    }
    if (prefix->what == "drop" || prefix->what == "monitor") {
      // Who opened the flow decides who answers for it. Outbound: the device
      // it came from. Inbound from a host that is not a device: a probe of
      // the receiver, never a violation. Inbound from another device: the
      // opener's violation (its own rules let it out), except toward a
      // monitor-mode device, whose rules are only reported: that stays the
      // receiver's report and isolates nobody.
      bool dropped = prefix->what == "drop";
      std::string opener = deviceOf(p.src);
      if (prefix->direction == policy::Direction::Outbound) {
        if (!opener.empty()) onViolation(p, opener, policy::Direction::Outbound, dropped, now);
        continue;
      }
      std::string receiver = deviceOf(p.dst);
      if (opener.empty()) {
        if (!receiver.empty()) onProbe(p, receiver, dropped, now);
      } else if (dropped) {
        onViolation(p, opener, policy::Direction::Outbound, true, now);
      } else if (!receiver.empty()) {
        onViolation(p, receiver, policy::Direction::Inbound, false, now);
      }
    } else if (prefix->what == "limit" || prefix->what == "conns") {
      bool in = prefix->direction == policy::Direction::Inbound;
      std::string device = deviceOf(in ? p.dst : p.src);
      if (device.empty()) continue;
      ++dropped_[device];
      LimitKind kind = prefix->what == "conns" ? LimitKind::Connections
                       : in                    ? LimitKind::InboundRate
                                               : LimitKind::OutboundRate;
      policy::FlowKey flow{p.src, p.dst, p.proto, p.sport, p.dport};
      if (auto line = limitReports_.drop(device, kind, policy::describeFlow(flow), now))
        log(LogLevel::Warning, "over-limit", *line, device);
    } else if (prefix->what == "invalid") {
      onInvalid(p, prefix->direction, now);
    } else if (prefix->what == "rogue") {
      onRogue(p, p.prefix.find(" ra ") != std::string::npos, now);
    } else if (prefix->what == "unknown") {
      onUnknownHost(p, now);
    } else if (prefix->what == "spoof" && p.arp) {
      onNeighbourClaim(p, p.src, "an ARP frame", now);
    } else if (ndClaim) {
      onNeighbourClaim(p, *p.ndTarget, "a neighbour advertisement", now);
    } else if (prefix->what == "unjudged") {
      if (mayLog("unjudged", now)) {
        log(LogLevel::Error, "bridge-unjudged",
            "a bridged frame the inet table never judged was dropped (is br_netfilter on? "
            "net.bridge.bridge-nf-call-iptables and -ip6tables must be 1)");
      }
    } else if (prefix->what == "spoof") {
      std::string device = deviceOf(p.src);
      if (mayLog("spoof " + device, now)) {
        log(LogLevel::Warning, "spoofing",
            "packet with " + device + "'s address " + policy::toString(p.src) + " from MAC " +
                (p.mac.empty() ? "?" : p.mac) + " on " + where(p) + " dropped",
            device);
      }
    }
  }
}

// The bridge table dropped a frame for its source MAC alone: another port's
// device's, or the LAN side's (which would move that MAC's bridge port).
void Containment::onForgedMac(const netlink::LoggedPacket& p, policy::WallTime now) {
  if (!mayLog("mac " + p.mac, now)) return;
  const std::string* owner = findMac(macOwners_, p.mac);
  log(LogLevel::Warning, "spoofing",
      "frame from MAC " + p.mac +
          (owner ? " (device " + *owner + "'s)"
                 : " (a MAC of the LAN side, or a device's from it)") +
          " on " + where(p) + " dropped: it would move that MAC's bridge port");
}

// The bridge table dropped an ARP frame or neighbour advertisement that claims an address its
// sender does not own. The sender is named by its MAC when that is a device's.
void Containment::onNeighbourClaim(const netlink::LoggedPacket& p, const policy::IpAddress& claimed,
                                   const char* how, policy::WallTime now) {
  // A MAC is forgeable: a device's MAC on a port that is not the device's
  // is a host on that port, and the device is not blamed.
  const std::string* owner = findMac(macOwners_, p.mac);
  std::string sender = owner ? *owner : std::string();
  std::string port = where(p);
  if (const std::string* bound = findMac(macPorts_, p.mac); bound && *bound != port) sender.clear();
  std::string victim = deviceOf(claimed);
  if (!sender.empty()) ++dropped_[sender];
  if (!mayLog("arp " + (sender.empty() ? p.mac : sender), now)) return;
  std::string who = !sender.empty() ? "device " + sender + " (" + p.mac + ")"
                    : owner         ? "a host using device " + *owner + "'s MAC " + p.mac
                                    : "unknown host " + (p.mac.empty() ? "?" : p.mac);
  std::string what =
      victim.empty() ? policy::toString(claimed) : policy::toString(claimed) + " of " + victim;
  log(LogLevel::Warning, "neighbour-spoofing",
      who + " claimed " + what + " with " + how + " on " + port + "; dropped by the bridge",
      sender);
}

void Containment::onUnknownHost(const netlink::LoggedPacket& p, policy::WallTime now) {
  std::string key = policy::toString(p.src) + "/" + p.mac + "/" + where(p);
  if (auto known = unknownReported_.find(key); known != unknownReported_.end()) {
    known->second = now;
    return;
  }
  // Bounded memory: hosts silent for kForgetUnknown are forgotten (and
  // reported again when they return); past kMaxUnknownHosts, new hosts are
  // counted and summed up once a minute (the kernel still drops every packet).
  // The sweep for silent hosts runs at most once a second: a flood of new
  // sources against a full table must not cost a pass over it per packet.
  if (unknownReported_.size() >= kMaxUnknownHosts &&
      now - unknownSweptAt_ >= std::chrono::seconds(1)) {
    unknownSweptAt_ = now;
    std::erase_if(unknownReported_,
                  [&](const auto& h) { return now - h.second >= kForgetUnknown; });
  }
  if (unknownReported_.size() >= kMaxUnknownHosts) {
    ++unknownUnlisted_;
    if (now - unknownSummaryAt_ >= std::chrono::minutes(1)) {
      unknownSummaryAt_ = now;
      log(LogLevel::Warning, "unknown-host",
          std::to_string(unknownUnlisted_) + " more unknown hosts since start, not listed one by " +
              "one (at most " + std::to_string(kMaxUnknownHosts) +
              " are remembered); the last: " + policy::toString(p.src) + " (MAC " +
              (p.mac.empty() ? "?" : p.mac) + ") on " + where(p));
    }
    return;
  }
  unknownReported_.emplace(key, now);
  // Signalled once per host (at most kMaxUnknownHosts); a burst of new hosts
  // (a sweep of spoofed sources) is logged at most kLinesPerSecond times a
  // second, the rest counted by mayLog.
  if (events_) events_->unknownHost(policy::toString(p.src), p.mac, where(p));
  if (!mayLog("unknown hosts", now)) return;
  log(LogLevel::Warning, "unknown-host",
      "unknown host " + policy::toString(p.src) + " (MAC " + (p.mac.empty() ? "?" : p.mac) +
          ") on " + where(p) + ": no profile claims it");
}

// A packet of no valid connection (a FIN, NULL or Xmas scan, a bad flag
// combination, a late packet of a closed connection). Toward a device (the
// forward chain judges a device's own packets first, so the sender is no
// device): a probe. From a device: reported and counted, never a violation
// (a late retransmission is no attack).
void Containment::onInvalid(const netlink::LoggedPacket& p, policy::Direction direction,
                            policy::WallTime now) {
  if (direction == policy::Direction::Inbound) {
    if (std::string receiver = deviceOf(p.dst); !receiver.empty()) {
      ++dropped_[receiver];
      onProbe(p, receiver, true, now);
    }
    return;
  }
  std::string device = deviceOf(p.src);
  if (device.empty()) return;
  ++dropped_[device];
  if (!mayLog("invalid " + device, now)) return;
  policy::FlowKey flow{p.src, p.dst, p.proto, p.sport, p.dport};
  log(LogLevel::Warning, "invalid-packet",
      "packet of no valid connection from " + device + " dropped: " + policy::describeFlow(flow) +
          " (a scan with odd TCP flags, or a late packet of a closed connection); not a "
          "violation",
      device);
}

void Containment::onRogue(const netlink::LoggedPacket& p, bool routerAdvertisement,
                          policy::WallTime now) {
  const std::string* owner = findMac(macOwners_, p.mac);
  std::string device = owner ? *owner : std::string();
  if (!device.empty()) ++dropped_[device];
  if (!mayLog("rogue " + (device.empty() ? std::string("from unknown hosts") : device), now))
    return;
  // Attributed by MAC only, which a host can forge: reported, never a violation.
  log(LogLevel::Warning, "rogue-server",
      std::string(routerAdvertisement ? "ROGUE ROUTER ADVERTISEMENT" : "ROGUE DHCP SERVER") +
          " from " + policy::toString(p.src) + " (MAC " + (p.mac.empty() ? "?" : p.mac) +
          (device.empty() ? ", no device's" : ", device " + device + "'s") + ") on " + where(p) +
          " dropped: a device port may not " +
          (routerAdvertisement ? "announce routes" : "hand out addresses"),
      device);
}

void Containment::onViolation(const netlink::LoggedPacket& p, const std::string& device,
                              policy::Direction direction, bool dropped, policy::WallTime now) {
  policy::FlowKey flow{p.src, p.dst, p.proto, p.sport, p.dport};
  policy::Violation v{device, direction, flow, dropped};
  uint64_t before = judge_->violations(device);
  std::vector<policy::Action> actions = judge_->observe(v, now);
  if (judge_->violations(device) != before) {
    if (mayLog(device, now)) {
      log(LogLevel::Warning, "violation",
          "violation by " + device + " (" + policy::toString(direction) + "): " +
              policy::describeFlow(flow) + (dropped ? ", dropped" : ", allowed (monitor mode)"),
          device);
    }
    ViolationRecord r{policy::toMicros(now),
                      policy::toString(direction),
                      policy::toString(p.src),
                      policy::toString(p.dst),
                      protoText(p.proto),
                      p.sport,
                      p.dport,
                      dropped};
    if (events_)
      events_->violation(device, r.direction, r.src, r.dst, r.proto, r.sport, r.dport, r.dropped);
    std::deque<ViolationRecord>& recent = recent_[device];
    recent.push_back(std::move(r));
    if (recent.size() > kRecentViolations) recent.pop_front();
  }
  for (const policy::Action& a : actions) (void)perform(a);  // a refusal is logged and retried
}

void Containment::onProbe(const netlink::LoggedPacket& p, const std::string& device, bool dropped,
                          policy::WallTime now) {
  policy::FlowKey flow{p.src, p.dst, p.proto, p.sport, p.dport};
  Probes& probes = probes_[device];
  // One flow counts once, as a violation does: retransmissions are no new probe.
  auto seen = probes.recent.find(flow);
  bool repeat = seen != probes.recent.end() && now - seen->second < kSameProbe;
  probes.recent[flow] = now;
  if (probes.recent.size() > kMaxProbeFlows) {
    std::erase_if(probes.recent, [&](const auto& f) { return now - f.second >= kSameProbe; });
    if (probes.recent.size() > kMaxProbeFlows) probes.recent.clear();  // over-counts, never under
  }
  if (repeat) return;
  ++probes.count;
  // Counted exactly (ProbesReceived) and signalled once per flow (the
  // contract); logged at most kLinesPerSecond times a second per device.
  if (mayLog("probe " + device, now)) {
    log(LogLevel::Warning, "probe",
        "probe of " + device + " from " + policy::toString(p.src) +
            ", a host that is not a device: " + policy::describeFlow(flow) +
            (dropped ? ", dropped" : ", allowed (monitor mode)") +
            "; it never counts toward isolation",
        device);
  }
  if (events_)
    events_->probe(device, policy::toString(p.src), policy::toString(p.dst), protoText(p.proto),
                   p.sport, p.dport);
}

bool Containment::learnFlow(const netlink::CtFlow& f, bool onlyNew) {
  if (!(f.mark & policy::kCtMarkObserve)) return false;  // only flows the ruleset marked
  bool isIcmp = f.proto == 1 || f.proto == 58;
  uint16_t port = isIcmp ? 0 : f.dport;
  auto note = [&](const std::string& device, const policy::ObservedFlow& flow) {
    if (device.empty() || (onlyNew && learned_.flows(device).contains(flow))) return false;
    return learned_.record(device, flow);
  };
  bool fresh = note(deviceOf(f.src), {policy::Direction::Outbound, f.dst, f.proto, port});
  fresh |= note(deviceOf(f.dst), {policy::Direction::Inbound, f.src, f.proto, port});
  return fresh;
}

void Containment::onConntrack(const std::vector<netlink::CtFlow>& flows, bool lost) {
  bool fresh = false;
  for (const netlink::CtFlow& f : flows) {
    if (f.mark & policy::kCtMarkObserve) ++observedEvents_;
    fresh |= learnFlow(f, false);
  }
  if (fresh) saveLearned();
  if (lost) {
    ++eventLosses_;
    log(LogLevel::Error, "events-lost",
        "conntrack events were lost (receive buffer full); resynchronising from the table");
    learnFromConntrackTable();
  }
}

void Containment::learnFromConntrackTable() {
  auto all = netlink::dumpConntrack();
  if (!all) {
    log(LogLevel::Error, "conntrack-error", "resynchronisation failed: " + all.error());
    return;
  }
  // A flow already known was counted by its event: the table adds only what
  // no event brought.
  bool fresh = false;
  for (const netlink::CtFlow& f : *all) fresh |= learnFlow(f, true);
  if (fresh) saveLearned();
}

void Containment::logLearnedSummary() const {
  size_t flows = 0;
  for (const auto& [device, n] : learnedCounts()) flows += n;
  log(LogLevel::Info, "learned-summary",
      "conntrack events of observed flows: " + std::to_string(observedEvents_) + " received, " +
          std::to_string(eventLosses_) + " losses (each healed by a resync); " +
          std::to_string(flows) + " distinct flows kept (at most " +
          std::to_string(policy::LearnedFlows::kMaxFlowsPerDevice) + " per device)");
}

std::map<std::string, size_t> Containment::learnedCounts() const {
  std::map<std::string, size_t> out;
  for (const auto& [a, device] : owners_) out[device] = learned_.flows(device).size();
  return out;
}

void Containment::saveLearned() {
  if (auto saved = store_.saveLearned(learned_.serialize()); !saved) {
    log(LogLevel::Error, "state-unwritable", "cannot save learned flows: " + saved.error());
  }
}

void Containment::onTime(policy::WallTime now) {
  for (const policy::Action& a : judge_->tick(now)) (void)perform(a);
  if (kernelCheckAt_ <= now) {
    kernelCheckAt_ = now + kKernelCheck;
    adoptFromKernel(now);
  }
  if (conntrackCheckAt_ <= now) {
    conntrackCheckAt_ = now + ConntrackWatch::kEvery;
    if (auto fill = readConntrackFill()) {
      bool wasOver = conntrack_.over();
      if (std::string line = conntrack_.observe(fill->first, fill->second); !line.empty())
        log(wasOver ? LogLevel::Info : LogLevel::Warning, "conntrack-fill", line);
    }
  }
  if (retryAt_ && *retryAt_ <= now) {
    retryKernel();
    retrySave();
  }
}

void Containment::retryKernel() {
  std::map<std::string, policy::Action> pending;
  pending.swap(kernelPending_);
  for (auto& [device, a] : pending) {
    bool isolate = a.kind == policy::ActionKind::Isolate;
    auto applied = applyIsolation(a, isolate);
    if (!applied) {
      kernelPending_.emplace(device, std::move(a));
      continue;
    }
    log(LogLevel::Info, "isolation-applied",
        std::string(isolate ? "isolation" : "release") + " of " + device +
            " is now in force in the kernel",
        device);
  }
  if (!kernelPending_.empty()) retryAt_ = policy::WallClock::now() + kRetrySave;
}

Containment::ChangeResult Containment::isolate(const std::string& device, const std::string& reason,
                                               const std::string& by, policy::WallTime now) {
  auto a = judge_->isolate(device, reason, by, now);
  if (!a) return false;
  if (auto done = perform(*a); !done) return std::unexpected(done.error());
  return true;
}

Containment::ChangeResult Containment::release(const std::string& device, const std::string& reason,
                                               const std::string& by) {
  auto a = judge_->release(device, reason, by);
  if (!a) return false;
  if (auto done = perform(*a); !done) return std::unexpected(done.error());
  return true;
}

std::expected<void, std::string> Containment::applyIsolation(const policy::Action& a,
                                                             bool isolate) {
  const policy::Plan* running = enforcer_.running();
  // Nothing in force yet: the first apply puts every isolation into the plan.
  if (!running) return {};
  // Addresses that another isolation still holds stay in the kernel.
  std::set<policy::IpAddress> held;
  std::set<policy::MacAddress> heldMacs;
  for (const auto& [device, iso] : judge_->isolations()) {
    if (device == a.device) continue;
    held.insert(iso.addresses.begin(), iso.addresses.end());
    if (iso.mac) heldMacs.insert(*iso.mac);
  }
  Enforcer::Elements change;
  auto consider = [&](std::vector<std::pair<std::string, policy::SetElement>> elements,
                      bool heldElsewhere) {
    for (auto& [set, e] : elements) {
      bool present = inPlan(*running, set, e);
      if (isolate ? present : (!present || heldElsewhere)) continue;
      change.emplace_back(set, std::move(e));
    }
  };
  for (const policy::IpAddress& address : a.addresses)
    consider(policy::isolationElements(a.device, {address}, std::nullopt), held.count(address) > 0);
  // The MAC too: a device that changes its address stays cut off.
  if (a.mac) consider(policy::isolationElements(a.device, {}, a.mac), heldMacs.count(*a.mac) > 0);
  Enforcer::Elements none;
  auto applied =
      isolate ? enforcer_.changeElements(change, none) : enforcer_.changeElements(none, change);
  if (!applied) return std::unexpected(applied.error());
  if (isolate && !a.addresses.empty()) cutFlowsOf(a.device, a.addresses);
  return {};
}

void Containment::cutFlowsOf(const std::string& device,
                             const std::vector<policy::IpAddress>& addresses) {
  auto cut = netlink::deleteConntrackFlows(addresses, policy::kCtMarkCritical);
  if (!cut)
    log(LogLevel::Error, "conntrack-error",
        "cannot cut live flows of " + device + ": " + cut.error(), device);
}

std::expected<void, std::string> Containment::perform(const policy::Action& a) {
  std::expected<void, std::string> applied;
  auto refused = [&](const char* what, const char* meanwhile) {
    kernelPending_.insert_or_assign(a.device, a);
    retryAt_ = policy::WallClock::now() + kRetrySave;
    log(LogLevel::Error, "apply-failed",
        std::string(what) + " of " + a.device +
            " is NOT in force in the kernel: " + applied.error() + "; " + meanwhile +
            "; retrying every " + std::to_string(kRetrySave.count()) + "s and at the next apply",
        a.device);
  };
  switch (a.kind) {
    case policy::ActionKind::Isolate:
      applied = applyIsolation(a, true);
      if (applied)
        kernelPending_.erase(a.device);
      else
        refused("isolation", "it stays recorded and saved");
      save("isolation of " + a.device);
      log(LogLevel::Warning, "device-isolated",
          "device " + a.device + " isolated by " + a.by + ": " + a.reason, a.device);
      if (events_) events_->isolated(a.device, a.reason, a.by);
      break;
    case policy::ActionKind::Release:
      applied = applyIsolation(a, false);
      if (applied)
        kernelPending_.erase(a.device);
      else
        refused("release", "the kernel still isolates it");
      save("release of " + a.device);
      log(LogLevel::Info, "device-released",
          "device " + a.device + " released by " + a.by + ": " + a.reason, a.device);
      if (events_) events_->released(a.device, a.reason, a.by);
      break;
    case policy::ActionKind::Alert:
      log(LogLevel::Warning, "alert", "ALERT for " + a.device + ": " + a.reason, a.device);
      break;
  }
  return applied;
}

void Containment::save(const std::string& what) {
  std::vector<policy::Isolation> all;
  for (const auto& [device, iso] : judge_->isolations()) all.push_back(iso);
  CounterMap counts = counters();
  auto saved = store_.save(all, counts);
  std::string before = saveError_;
  if (!saved) {
    saveError_ = store_.path() + ": " + saved.error();
    retryAt_ = policy::WallClock::now() + kRetrySave;
    if (what != "retry" || before != saveError_) {
      log(LogLevel::Error, "state-unwritable",
          what + " is in force in the kernel but NOT saved: " + saved.error() +
              "; retrying every " + std::to_string(kRetrySave.count()) + "s");
    }
  } else {
    savedCounters_ = std::move(counts);
    saveError_.clear();
    if (kernelPending_.empty()) retryAt_.reset();
    if (!before.empty()) {
      log(LogLevel::Info, "state-saved",
          "isolations saved to " + store_.path() + " (" + std::to_string(all.size()) +
              " in force); the earlier write failures are over");
    }
  }
  if (events_ && before != saveError_) events_->stateSaveChanged();
}

CounterMap Containment::counters() const {
  CounterMap out;
  for (const auto& [device, iso] : judge_->isolations())
    out[device] = {judge_->violations(device), judge_->lastViolation(device),
                   probesReceived(device)};
  return out;
}

}  // namespace ringfence::daemon
