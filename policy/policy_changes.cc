#include "policy/policy_changes.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace ringfence::policy {
namespace {

using enum ChangeSeverity;

// One allowed flow as written, after groups are resolved.
struct Flow {
  int kind;  // 0 outbound, 1 inbound, 2 maintenance
  Proto proto;
  IpPrefix peer;
  PortRange ports;
  auto operator<=>(const Flow&) const = default;
};

std::string describe(const Flow& f) {
  static const char* const kKinds[] = {"outbound", "inbound", "maintenance"};
  std::string s = std::string(kKinds[f.kind]) + " " + toString(f.proto) + " " +
                  (f.kind == 1 ? "from " : "to ") + toString(f.peer);
  if (f.proto == Proto::Tcp || f.proto == Proto::Udp) {
    s += " port " + std::to_string(f.ports.low);
    if (f.ports.high != f.ports.low) s += "-" + std::to_string(f.ports.high);
  }
  return s;
}

// Flow -> critical.
std::map<Flow, bool> flowsOf(const Device& d) {
  std::map<Flow, bool> out;
  auto add = [&](const std::vector<Rule>& rules, int kind) {
    for (const Rule& r : rules) {
      auto ports = r.ports;  // a copy
      if (ports.empty()) ports.push_back({0, 65535});
      for (const ResolvedPeer& p : r.resolved) {
        for (const PortRange& range : ports) {
          bool& critical = out[Flow{kind, r.proto, p.prefix, range}];
          critical = critical || r.critical;
        }
      }
    }
  };
  add(d.outbound, 0);
  add(d.inbound, 1);
  add(d.maintenance, 2);
  return out;
}

// "3 flows removed: a, b, c and 1 more"
std::string flowList(size_t count, const char* what, const std::vector<const Flow*>& flows) {
  constexpr size_t kShown = 3;
  std::string s = std::to_string(count) + (count == 1 ? " flow " : " flows ") + what + ": ";
  for (size_t i = 0; i < flows.size() && i < kShown; ++i) {
    s += (i ? ", " : "") + describe(*flows[i]);
  }
  if (flows.size() > kShown) s += " and " + std::to_string(flows.size() - kShown) + " more";
  return s;
}

// Enforce is the strictest, learn the weakest.
int strictness(Mode m) {
  switch (m) {
    case Mode::Enforce:
      return 2;
    case Mode::Monitor:
      return 1;
    case Mode::Learn:
      return 0;
  }
  return 0;
}

int strictness(UnknownDevices u) {
  switch (u) {
    case UnknownDevices::Drop:
      return 2;
    case UnknownDevices::Alert:
      return 1;
    case UnknownDevices::Allow:
      return 0;
  }
  return 0;
}

std::string seconds(std::chrono::seconds s) { return std::to_string(s.count()) + "s"; }

std::string releaseText(const std::optional<std::chrono::seconds>& r) {
  return r ? "after " + seconds(*r) : "manual";
}

std::string addressList(const std::vector<IpAddress>& addrs) {
  std::string s;
  for (const IpAddress& a : addrs) s += (s.empty() ? "" : ", ") + toString(a);
  return s;
}

// "tcp/22", "udp/161", or the protocol number: "132/38412".
std::string serviceText(const std::pair<uint8_t, uint16_t>& service) {
  std::string proto = service.first == 6    ? "tcp"
                      : service.first == 17 ? "udp"
                                            : std::to_string(service.first);
  return proto + "/" + std::to_string(service.second);
}

class Reporter {
 public:
  explicit Reporter(std::vector<PolicyChange>& out) : out_(out) {}

  void config(const DaemonConfig& a, const DaemonConfig& b) {
    device_.clear();
    if (a.unknownDevices != b.unknownDevices) {
      say(strictness(b.unknownDevices) < strictness(a.unknownDevices) ? Warning : Notice,
          std::string("unknown_devices changed from ") + toString(a.unknownDevices) + " to " +
              toString(b.unknownDevices));
    }
    for (const std::string& i : a.deviceInterfaces) {
      if (std::find(b.deviceInterfaces.begin(), b.deviceInterfaces.end(), i) ==
          b.deviceInterfaces.end()) {
        say(Warning, "device interface '" + i + "' removed: its traffic is no longer filtered");
      }
    }
    for (const std::string& i : b.deviceInterfaces) {
      if (std::find(a.deviceInterfaces.begin(), a.deviceInterfaces.end(), i) ==
          a.deviceInterfaces.end()) {
        say(Notice, "device interface '" + i + "' added");
      }
    }
    if (a.table != b.table) say(Notice, "table changed from " + a.table + " to " + b.table);
    // A service newly open on the gateway itself is more that devices reach.
    auto has = [](const DaemonConfig& c, const std::pair<uint8_t, uint16_t>& service) {
      return std::find(c.gatewayServices.begin(), c.gatewayServices.end(), service) !=
             c.gatewayServices.end();
    };
    for (const auto& service : b.gatewayServices) {
      if (!has(a, service)) {
        say(Warning, "gateway service " + serviceText(service) + " opened to devices");
      }
    }
    for (const auto& service : a.gatewayServices) {
      if (!has(b, service)) say(Notice, "gateway service " + serviceText(service) + " closed");
    }
    if (a.adminGroup != b.adminGroup) {
      say(Warning, "admin_group changed from " + a.adminGroup + " to " + b.adminGroup +
                       ": other users may now isolate, release and reload");
    }
  }

  void added(const Device& d) {
    device_ = d.name;
    say(Notice, "device added (" + addressList(d.addresses) + ", " + toString(d.mode) + ")");
  }

  void removed(const Device& d, UnknownDevices now) {
    device_ = d.name;
    say(Warning, "device removed (" + addressList(d.addresses) + ", was in " + d.file.str() +
                     "): its traffic is now that of an unknown host (unknown_devices: " +
                     toString(now) + ")");
  }

  void changed(const Device& a, const Device& b) {
    device_ = b.name;
    addresses(a, b);
    identity(a, b);
    if (a.mode != b.mode) {
      say(strictness(b.mode) < strictness(a.mode) ? Warning : Notice,
          std::string("mode changed from ") + toString(a.mode) + " to " + toString(b.mode));
    }
    flows(a, b);
    violations(a.violations, b.violations);
    limit(a, b);
  }

 private:
  void say(ChangeSeverity s, std::string what) {
    out_.push_back(PolicyChange{s, device_, std::move(what)});
  }

  void addresses(const Device& a, const Device& b) {
    std::set<IpAddress> before(a.addresses.begin(), a.addresses.end());
    std::set<IpAddress> after(b.addresses.begin(), b.addresses.end());
    std::vector<IpAddress> lost, gained;
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                        std::back_inserter(lost));
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                        std::back_inserter(gained));
    if (!lost.empty()) say(Warning, "address removed: " + addressList(lost));
    if (!gained.empty()) say(Notice, "address added: " + addressList(gained));
  }

  void identity(const Device& a, const Device& b) {
    if (a.mac && !b.mac) {
      say(Warning, "MAC binding removed (was " + toString(*a.mac) + ")");
    } else if (!a.mac && b.mac) {
      say(Notice, "MAC binding added (" + toString(*b.mac) + ")");
    } else if (a.mac && b.mac && *a.mac != *b.mac) {
      say(Notice, "MAC binding changed from " + toString(*a.mac) + " to " + toString(*b.mac));
    }
    if (!a.interface.empty() && b.interface.empty()) {
      say(Warning, "interface binding removed (was " + a.interface + ")");
    } else if (a.interface.empty() && !b.interface.empty()) {
      say(Notice, "interface binding added (" + b.interface + ")");
    } else if (a.interface != b.interface) {
      say(Notice, "interface binding changed from " + a.interface + " to " + b.interface);
    }
  }

  void flows(const Device& a, const Device& b) {
    std::map<Flow, bool> before = flowsOf(a), after = flowsOf(b);
    std::vector<const Flow*> lost, gained, nowCritical, noLongerCritical;
    for (const auto& [f, critical] : before) {
      auto it = after.find(f);
      if (it == after.end()) {
        lost.push_back(&f);
      } else if (critical && !it->second) {
        noLongerCritical.push_back(&f);
      } else if (!critical && it->second) {
        nowCritical.push_back(&f);
      }
    }
    for (const auto& [f, critical] : after) {
      if (!before.contains(f)) gained.push_back(&f);
    }
    if (!lost.empty()) say(Warning, flowList(lost.size(), "removed", lost));
    if (!gained.empty()) say(Notice, flowList(gained.size(), "added", gained));
    if (!noLongerCritical.empty()) {
      say(Warning, flowList(noLongerCritical.size(), "no longer critical (cut when isolated)",
                            noLongerCritical));
    }
    if (!nowCritical.empty()) {
      say(Warning, flowList(nowCritical.size(), "now critical (open while isolated)", nowCritical));
    }
  }

  void violations(const ViolationPolicy& a, const ViolationPolicy& b) {
    if (a.action != b.action) {
      say(b.action == ViolationAction::Alert ? Warning : Notice,
          std::string("violations action changed from ") + toString(a.action) + " to " +
              toString(b.action));
    }
    if (a.threshold != b.threshold) {
      say(b.threshold > a.threshold ? Warning : Notice,
          "violations threshold " + std::string(b.threshold > a.threshold ? "raised" : "lowered") +
              " from " + std::to_string(a.threshold) + " to " + std::to_string(b.threshold));
    }
    if (a.window != b.window) {
      // With a threshold above 1, a shorter window needs the violations closer together.
      bool weaker = b.window < a.window && b.threshold > 1;
      say(weaker ? Warning : Notice,
          "violations window changed from " + seconds(a.window) + " to " + seconds(b.window));
    }
    if (a.release != b.release) {
      bool weaker = b.release && (!a.release || *b.release < *a.release);
      say(weaker ? Warning : Notice,
          "release changed from " + releaseText(a.release) + " to " + releaseText(b.release));
    }
  }

  void limit(const Device& a, const Device& b) {
    const auto& x = a.inboundNewPerSecond;
    const auto& y = b.inboundNewPerSecond;
    if (x && !y) {
      say(Warning, "inbound limit removed (was " + std::to_string(*x) + " new connections/s)");
    } else if (!x && y) {
      say(Notice, "inbound limit added (" + std::to_string(*y) + " new connections/s)");
    } else if (x && y && *x != *y) {
      say(*y > *x ? Warning : Notice,
          std::string("inbound limit ") + (*y > *x ? "raised" : "lowered") + " from " +
              std::to_string(*x) + " to " + std::to_string(*y) + " new connections/s");
    }
  }

  std::vector<PolicyChange>& out_;
  std::string device_;
};

}  // namespace

std::vector<PolicyChange> policyChanges(const Policy& before, const Policy& after) {
  std::vector<PolicyChange> out;
  Reporter report(out);
  report.config(before.config, after.config);
  // Both sides by name (a loaded policy's devices are sorted already), walked together.
  auto byName = [](const Policy& p) {
    std::vector<const Device*> out;
    out.reserve(p.devices.size());
    for (const Device& d : p.devices) out.push_back(&d);
    auto less = [](const Device* a, const Device* b) { return a->name < b->name; };
    if (!std::is_sorted(out.begin(), out.end(), less))
      std::stable_sort(out.begin(), out.end(), less);
    return out;
  };
  std::vector<const Device*> old = byName(before), now = byName(after);
  for (size_t i = 0, j = 0; i < old.size() || j < now.size();) {
    if (j == now.size() || (i < old.size() && old[i]->name < now[j]->name)) {
      report.removed(*old[i++], after.config.unknownDevices);
    } else if (i == old.size() || now[j]->name < old[i]->name) {
      report.added(*now[j++]);
    } else {
      // Most are unchanged: the very device, shared by both policies (DeviceList).
      if (old[i] != now[j] && !(*old[i] == *now[j])) report.changed(*old[i], *now[j]);
      ++i, ++j;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const PolicyChange& a, const PolicyChange& b) {
    return a.device < b.device;
  });
  return out;
}

std::string formatChange(const PolicyChange& c) {
  return (c.device.empty() ? std::string("policy") : "device '" + c.device + "'") + ": " + c.what;
}

std::vector<std::string> describeChanges(const Policy& before, const Policy& after) {
  std::vector<std::string> out;
  for (const PolicyChange& c : policyChanges(before, after)) {
    out.push_back((c.severity == Warning ? "warning: " : "") + formatChange(c));
  }
  return out;
}

bool hasWarnings(const std::vector<PolicyChange>& changes) {
  return std::any_of(changes.begin(), changes.end(),
                     [](const PolicyChange& c) { return c.severity == Warning; });
}

}  // namespace ringfence::policy
