#include "daemon/neighbours.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "daemon/log.h"

namespace ringfence::daemon {
namespace {

// An address to pin: one per device address, in a block of them all.
struct Want {
  int ifindex = 0;
  policy::IpAddress address;
  policy::MacAddress mac;
  const policy::Device* device = nullptr;  // of the policy being pinned
  bool current = false;                    // the kernel holds it already, as ours
  bool failed = false;                     // the kernel refused it
  uint32_t added = 0;                      // its place among them all
  auto key() const { return std::tie(ifindex, address); }
};

// Sorts `v` by `less` (no two entries equal: sorted in place, where a
// stable sort would take a buffer of them beside it) and keeps, of adjacent
// entries that `same` says share a key, the last in that order (as
// assigning into a map in that order would); a block at the new size only
// if some were dropped.
template <typename T, typename Less, typename Same>
void sortKeepLast(std::vector<T>& v, Less less, Same same) {
  std::sort(v.begin(), v.end(), less);
  size_t out = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i + 1 < v.size() && same(v[i], v[i + 1])) continue;  // a later one has its key
    if (out != i) v[out] = std::move(v[i]);
    ++out;
  }
  if (out == v.size()) return;
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(out), v.end());
  v.shrink_to_fit();
}

// The interface whose connected route covers `a` most closely, among `allowed`
// (every interface when `allowed` is empty); 0 if none.
int coveringInterface(const std::vector<netlink::ConnectedRoute>& routes,
                      const std::set<int>& allowed, const policy::IpAddress& a) {
  int best = 0, bestLength = -1;
  for (const netlink::ConnectedRoute& r : routes) {
    if (r.local || (!allowed.empty() && !allowed.contains(r.ifindex))) continue;
    if (r.prefix.address.family != a.family || !r.prefix.contains(a)) continue;
    if (r.prefix.length > bestLength) best = r.ifindex, bestLength = r.prefix.length;
  }
  return best;
}

}  // namespace

Neighbours::~Neighbours() {
  for (sd_event_source* s : sources_) sd_event_source_disable_unref(s);
}

void Neighbours::attach(sd_event* loop) {
  loop_ = loop;
  std::set<int> interfaces = std::move(watched_);
  watch(interfaces);
}

void Neighbours::sync(const policy::Policy& policy) {
  pin(policy);
  std::set<int> ifindexes;
  for (const std::string& name : policy.config.deviceInterfaces) {
    if (int i = netlink::interfaceIndex(name)) ifindexes.insert(i);
  }
  for (const policy::Device& d : policy.devices) {
    if (!d.interface.empty()) {
      if (int i = netlink::interfaceIndex(d.interface)) ifindexes.insert(i);
    }
  }
  // A MAC is one device's (the loader refuses a MAC claimed twice); were it
  // not, the greatest name would have it.
  macOwner_ = {};
  macOwner_.reserve(static_cast<size_t>(std::count_if(policy.devices.begin(), policy.devices.end(),
                                                      [](const auto& d) { return d.mac; })));
  for (const policy::Device& d : policy.devices) {
    if (d.mac) macOwner_.emplace_back(*d.mac, d.name);
  }
  sortKeepLast(
      macOwner_, [](const auto& a, const auto& b) { return a < b; },
      [](const auto& a, const auto& b) { return a.first == b.first; });
  if (ifindexes != watched_) watch(ifindexes);
}

void Neighbours::watch(const std::set<int>& ifindexes) {
  for (sd_event_source* s : sources_) sd_event_source_disable_unref(s);
  sources_.clear();
  claims_.reset();
  watched_ = ifindexes;
  if (!loop_ || ifindexes.empty()) return;
  auto c = netlink::NeighbourClaims::open({ifindexes.begin(), ifindexes.end()});
  if (!c) {
    log(LogLevel::Error, "neighbour-error",
        "ARP and neighbour discovery on the device interfaces are not watched (spoofing "
        "attempts are not reported; the pins still hold): " +
            c.error());
    return;
  }
  claims_.emplace(std::move(*c));
  for (int fd : claims_->fds()) {
    sd_event_source* s = nullptr;
    if (int rc = sd_event_add_io(loop_, &s, fd, EPOLLIN, onReadable, this); rc < 0) {
      log(LogLevel::Error, "neighbour-error",
          std::string("cannot watch ARP and neighbour discovery: ") + std::strerror(-rc));
      continue;
    }
    sources_.push_back(s);
  }
}

int Neighbours::onReadable(sd_event_source*, int fd, uint32_t, void* self) noexcept {
  try {
    auto* n = static_cast<Neighbours*>(self);
    if (!n->claims_) return 0;
    policy::WallTime now = policy::WallClock::now();
    for (const netlink::NeighbourClaim& c : n->claims_->read(fd)) n->onClaim(c, now);
  } catch (const std::exception& ex) {
    log(LogLevel::Error, "internal-error", std::string("neighbour watch failed: ") + ex.what());
  }
  return 0;
}

void Neighbours::onClaim(const netlink::NeighbourClaim& c, policy::WallTime now) {
  const Pinned* target = find(pinned_, c.address);
  bool held = target != nullptr;
  if (!held) target = find(unpinned_, c.address);
  bool own = own_.contains(c.address);
  if (!own && (!target || target->mac == c.mac)) return;
  auto key = std::pair{c.mac, c.address};
  auto last = reported_.find(key);
  if (last != reported_.end() && now - last->second < kReportEvery) {
    ++suppressed_[key];
    return;
  }
  if (reported_.size() >= kMaxReported) reported_.clear(), suppressed_.clear();
  reported_[key] = now;
  uint64_t more = 0;
  if (auto s = suppressed_.find(key); s != suppressed_.end())
    more = s->second, suppressed_.erase(s);
  const std::string* owner = find(macOwner_, c.mac);
  std::string sender = owner ? "device " + *owner + " (" + policy::toString(c.mac) + ")"
                             : "unknown host " + policy::toString(c.mac);
  std::string victim = own ? "the gateway's own address " + policy::toString(c.address)
                           : policy::toString(c.address) + " of " + target->device + " (" +
                                 (held ? "pinned to " : "bound to ") +
                                 policy::toString(target->mac) + ")";
  std::string tail = own ? "" : held ? "; the pin holds" : "; NOT pinned, the claim may succeed";
  if (more) tail += "; " + std::to_string(more) + " more such claims since the last report";
  log(LogLevel::Warning, "neighbour-spoofing",
      sender + " claimed " + victim + " with a " + c.what + tail, owner ? *owner : std::string());
}

void Neighbours::pin(const policy::Policy& policy) {
  auto started = std::chrono::steady_clock::now();
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
  std::vector<Want> wanted;
  size_t bound = 0;  // addresses of MAC-bound devices: made at its size
  for (const policy::Device& d : policy.devices) bound += d.mac ? d.addresses.size() : 0;
  wanted.reserve(bound);
  // Each cause is reported when it first appears, not at every apply.
  std::set<std::string> skipped;
  size_t newlySkipped = 0;
  unpinnable_ = 0;
  auto skip = [&](std::string why, const std::string& device, size_t addresses) {
    unpinnable_ += addresses;
    if (!skipped_.contains(why) && ++newlySkipped <= kMaxSkipReports)
      log(LogLevel::Warning, "neighbour-skipped", why, device);
    skipped.insert(std::move(why));
  };
  for (const policy::Device& d : policy.devices) {
    if (!d.mac) continue;
    int named = 0;
    if (!d.interface.empty()) {
      named = netlink::interfaceIndex(d.interface);
      if (!named) {
        skip("interface " + d.interface + " does not exist; the addresses of " + d.name +
                 " are not pinned",
             d.name, d.addresses.size());
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
        skip(policy::toString(a) + " of " + d.name +
                 " is not pinned: no device interface has a connected route to it; set "
                 "identity.interface",
             d.name, 1);
        continue;
      }
      wanted.push_back(
          {ifindex, a, *d.mac, &d, false, false, static_cast<uint32_t>(wanted.size())});
    }
  }
  // The last device to name an address on an interface has it.
  sortKeepLast(
      wanted,
      [](const Want& a, const Want& b) {
        return std::tie(a.ifindex, a.address, a.added) < std::tie(b.ifindex, b.address, b.added);
      },
      [](const Want& a, const Want& b) { return a.key() == b.key(); });
  // What is pinned, by address (the kernel refused those `failed`), and what not.
  auto remember = [&](bool pinned) {
    size_t failed = pinned
                        ? static_cast<size_t>(std::count_if(wanted.begin(), wanted.end(),
                                                            [](const Want& w) { return w.failed; }))
                        : wanted.size();
    pinned_ = {};  // made anew at its size, not at the largest it ever was
    unpinned_ = {};
    pinned_.reserve(wanted.size() - failed);
    unpinned_.reserve(failed);
    // By address. Of one address on several interfaces: not pinned if any
    // of its pins failed (the last that failed says to what), else the last
    // interface's.
    std::sort(wanted.begin(), wanted.end(), [](const Want& a, const Want& b) {
      return std::tie(a.address, a.ifindex) < std::tie(b.address, b.ifindex);
    });
    for (size_t i = 0, end = 0; i < wanted.size(); i = end) {
      const Want* lastFailed = nullptr;
      for (end = i; end < wanted.size() && wanted[end].address == wanted[i].address; ++end) {
        if (!pinned || wanted[end].failed) lastFailed = &wanted[end];
      }
      const Want& w = lastFailed ? *lastFailed : wanted[end - 1];
      (lastFailed ? unpinned_ : pinned_).emplace_back(w.address, Pinned{w.mac, w.device->name});
    }
  };

  if (newlySkipped > kMaxSkipReports) {
    log(LogLevel::Warning, "neighbour-skipped",
        std::to_string(newlySkipped - kMaxSkipReports) +
            " more reasons why device addresses are not pinned, new since the last apply "
            "(not listed)");
  }
  skipped_ = std::move(skipped);
  if (!routes) {
    auto r = table_->connectedRoutes();
    if (r) routes = std::move(*r);
  }
  own_.clear();
  if (routes) {
    for (const netlink::ConnectedRoute& r : *routes) {
      if (r.local && deviceInterfaces.contains(r.ifindex)) own_.insert(r.prefix.address);
    }
  }

  auto existing = table_->dump();
  if (!existing) {
    log(LogLevel::Error, "neighbour-error", "neighbours are not pinned: " + existing.error());
    remember(false);  // claims are still reported, never as held by a pin
    return;
  }
  size_t removed = 0, failed = 0;
  for (const netlink::NeighbourEntry& e : *existing) {
    auto w = std::lower_bound(wanted.begin(), wanted.end(), std::tie(e.ifindex, e.address),
                              [](const Want& a, const auto& key) { return a.key() < key; });
    bool ours = e.permanent && e.protocol == netlink::kNeighbourProtocol;
    if (w != wanted.end() && w->key() == std::tie(e.ifindex, e.address)) {
      if (ours && e.mac == w->mac) w->current = true;
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
  size_t added = 0, pinFailed = 0;
  for (Want& w : wanted) {
    if (w.current) continue;
    const std::string& device = w.device->name;
    if (auto r = table_->pin(w.ifindex, w.address, w.mac); !r) {
      log(LogLevel::Error, "neighbour-error", r.error() + "; " + device + " is not protected",
          device);
      ++failed, ++pinFailed;
      w.failed = true;
      continue;
    }
    log(LogLevel::Debug, "neighbour-pinned",
        policy::toString(w.address) + " pinned to " + policy::toString(w.mac), device);
    ++added;
  }
  remember(true);
  log(failed ? LogLevel::Warning : LogLevel::Info, "neighbours-pinned",
      std::to_string(wanted.size() - pinFailed) + " device addresses pinned to their MACs (" +
          std::to_string(added) + " new, " + std::to_string(removed) + " removed" +
          (failed ? ", " + std::to_string(failed) + " failed" : std::string()) +
          (unpinnable_ ? ", " + std::to_string(unpinnable_) + " not pinnable" : std::string()) +
          ") in " +
          std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count()) +
          " us");
}

}  // namespace ringfence::daemon
