#include "daemon/neighbours.h"

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "daemon/log.h"

namespace ringfence::daemon {
namespace {

struct Pin {
  policy::MacAddress mac;
  std::string device;
};
using PinKey = std::pair<int, policy::IpAddress>;  // ifindex, address

// The interface whose connected route covers `a` most closely, among `allowed`
// (every interface when `allowed` is empty); 0 if none.
int coveringInterface(const std::vector<netlink::ConnectedRoute>& routes,
                      const std::set<int>& allowed, const policy::IpAddress& a) {
  int best = 0, bestLength = -1;
  for (const netlink::ConnectedRoute& r : routes) {
    if (!allowed.empty() && !allowed.contains(r.ifindex)) continue;
    if (r.prefix.address.family != a.family || !r.prefix.contains(a)) continue;
    if (r.prefix.length > bestLength) best = r.ifindex, bestLength = r.prefix.length;
  }
  return best;
}

}  // namespace

void Neighbours::sync(const policy::Policy& policy) {
  if (!table_) {
    auto t = netlink::NeighbourTable::open();
    if (!t) {
      log(LogLevel::Error, "neighbour-error", "neighbours are not pinned: " + t.error());
      return;
    }
    table_.emplace(std::move(*t));
  }
  std::set<int> deviceInterfaces;
  for (const std::string& name : policy.config.deviceInterfaces) {
    if (int i = netlink::interfaceIndex(name)) deviceInterfaces.insert(i);
  }
  std::optional<std::vector<netlink::ConnectedRoute>> routes;
  std::map<PinKey, Pin> wanted;
  for (const policy::Device& d : policy.devices) {
    if (!d.mac) continue;
    int named = 0;
    if (!d.interface.empty()) {
      named = netlink::interfaceIndex(d.interface);
      if (!named) {
        log(LogLevel::Warning, "neighbour-skipped",
            "interface " + d.interface + " does not exist; the addresses of " + d.name +
                " are not pinned",
            d.name);
        continue;
      }
    }
    for (const policy::IpAddress& a : d.addresses) {
      int ifindex = named;
      if (!ifindex) {
        if (!routes) {
          auto r = table_->connectedRoutes();
          if (!r) log(LogLevel::Error, "neighbour-error", r.error());
          routes = r ? std::move(*r) : std::vector<netlink::ConnectedRoute>{};
        }
        ifindex = coveringInterface(*routes, deviceInterfaces, a);
      }
      if (!ifindex) {
        log(LogLevel::Warning, "neighbour-skipped",
            policy::toString(a) + " of " + d.name +
                " is not pinned: no device interface has a connected route to it; set "
                "identity.interface",
            d.name);
        continue;
      }
      wanted[{ifindex, a}] = Pin{*d.mac, d.name};
    }
  }

  auto existing = table_->dump();
  if (!existing) {
    log(LogLevel::Error, "neighbour-error", "neighbours are not pinned: " + existing.error());
    return;
  }
  std::set<PinKey> current;  // already pinned as wanted
  size_t removed = 0, failed = 0;
  for (const netlink::NeighbourEntry& e : *existing) {
    PinKey key{e.ifindex, e.address};
    auto w = wanted.find(key);
    bool ours = e.permanent && e.protocol == netlink::kNeighbourProtocol;
    if (w != wanted.end()) {
      if (ours && e.mac == w->second.mac) current.insert(key);
      continue;
    }
    if (!ours) continue;
    if (auto r = table_->remove(e.ifindex, e.address); !r) {
      log(LogLevel::Error, "neighbour-error", r.error());
      ++failed;
    } else {
      log(LogLevel::Info, "neighbour-unpinned",
          policy::toString(e.address) + " is no longer pinned (no MAC-bound device has it)");
      ++removed;
    }
  }
  size_t added = 0;
  for (const auto& [key, pin] : wanted) {
    if (current.contains(key)) continue;
    if (auto r = table_->pin(key.first, key.second, pin.mac); !r) {
      log(LogLevel::Error, "neighbour-error", r.error() + "; " + pin.device + " is not protected",
          pin.device);
      ++failed;
      continue;
    }
    log(LogLevel::Debug, "neighbour-pinned",
        policy::toString(key.second) + " pinned to " + policy::toString(pin.mac), pin.device);
    ++added;
  }
  log(failed ? LogLevel::Warning : LogLevel::Info, "neighbours-pinned",
      std::to_string(wanted.size()) + " device addresses pinned to their MACs (" +
          std::to_string(added) + " new, " + std::to_string(removed) + " removed" +
          (failed ? ", " + std::to_string(failed) + " failed" : std::string()) + ")");
}

}  // namespace ringfence::daemon
