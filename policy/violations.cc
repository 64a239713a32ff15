#include "policy/violations.h"

#include <algorithm>

namespace ringfence::policy {
namespace {

// How long a flow counts as "the same attempt": retransmissions of a refused
// connection come within seconds; a new attempt after this is counted again.
constexpr std::chrono::seconds kSameAttempt{30};
// Bound on remembered flows per device, so a scan of every port cannot grow memory.
constexpr size_t kMaxRememberedFlows = 65536;  // about 6 MB for a device that floods

std::string protoName(uint8_t p) {
  auto proto = protoFromNumber(p);
  return proto ? toString(*proto) : "proto " + std::to_string(p);
}

// Keeps the most recently seen half: amortised O(log n) per violation even
// when a device scans every port. A flow forgotten this way and retried
// later counts again, so counts are exact up to kMaxRememberedFlows distinct
// flows per kSameAttempt and over-count (never under-count) beyond that.
void forgetOldestHalf(std::map<FlowKey, WallTime>& flows) {
  std::vector<std::map<FlowKey, WallTime>::iterator> all;
  all.reserve(flows.size());
  for (auto it = flows.begin(); it != flows.end(); ++it) all.push_back(it);
  auto half = all.begin() + static_cast<long>(all.size() / 2);
  std::nth_element(all.begin(), half, all.end(),
                   [](auto a, auto b) { return a->second < b->second; });
  for (auto it = all.begin(); it != half; ++it)
    flows.erase(*it);  // exactly half, even when times tie
}

// Adds what is missing; true when something was added.
bool addAddresses(std::vector<IpAddress>& into, const std::vector<IpAddress>& more) {
  bool added = false;
  for (const IpAddress& a : more) {
    if (std::find(into.begin(), into.end(), a) == into.end()) {
      into.push_back(a);
      added = true;
    }
  }
  return added;
}

// The device's current addresses and MAC join the isolation's.
bool absorb(Isolation& iso, const Device& d) {
  bool changed = addAddresses(iso.addresses, d.addresses);
  if (d.mac && iso.mac != d.mac) {
    iso.mac = d.mac;
    changed = true;
  }
  return changed;
}

}  // namespace

std::string describeFlow(const FlowKey& f) {
  bool ports = f.proto == 6 || f.proto == 17;
  auto end = [&](const IpAddress& a, uint16_t port) {
    std::string s = a.family == Family::V6 ? "[" + toString(a) + "]" : toString(a);
    return ports ? s + ":" + std::to_string(port) : s;
  };
  return protoName(f.proto) + " " + end(f.src, f.sport) + " -> " + end(f.dst, f.dport);
}

void ViolationJudge::setPolicy(const Policy& policy) { policy_ = &policy; }

std::vector<Action> ViolationJudge::observe(const Violation& v, WallTime now) {
  DeviceState& st = devices_[v.device];
  auto seen = st.recentFlows.find(v.flow);
  bool repeat = seen != st.recentFlows.end() && now - seen->second < kSameAttempt;
  st.recentFlows[v.flow] = now;
  if (st.recentFlows.size() > kMaxRememberedFlows) forgetOldestHalf(st.recentFlows);
  if (repeat) return {};
  ++st.count;
  ++total_;
  st.last = now;

  const Device* d = policy_->findDevice(v.device);
  if (!d) return {};
  const ViolationPolicy& vp = d->violations;
  st.window.push_back(now);
  while (!st.window.empty() && now - st.window.front() >= vp.window) st.window.pop_front();
  if (st.window.size() < vp.threshold) return {};

  std::string reason = std::to_string(st.window.size()) + " violation" +
                       (st.window.size() > 1 ? "s" : "") + " within " +
                       std::to_string(vp.window.count()) + "s, last: " + describeFlow(v.flow);
  switch (d->mode) {
    case Mode::Monitor:
    case Mode::Learn:
      return {};  // reported, never isolated automatically
    case Mode::Enforce:
      break;
  }
  switch (vp.action) {
    case ViolationAction::Isolate:
      if (auto a = isolate(v.device, reason, "policy", now)) return {*a};
      return {};
    case ViolationAction::Alert:
      if (st.alertedAt && now - *st.alertedAt < vp.window) return {};  // one alert per window
      st.alertedAt = now;
      return {Action{ActionKind::Alert, v.device, reason, "policy", {}, std::nullopt}};
  }
  return {};
}

std::optional<Action> ViolationJudge::isolate(const std::string& device, const std::string& reason,
                                              const std::string& by, WallTime now) {
  if (isolations_.count(device)) return std::nullopt;
  Isolation iso{device, reason, by, now, std::nullopt, {}, std::nullopt};
  if (const Device* d = policy_->findDevice(device)) {
    if (d->violations.release) iso.releaseAt = now + *d->violations.release;
    absorb(iso, *d);
  }
  std::vector<IpAddress> addresses = iso.addresses;
  std::optional<MacAddress> mac = iso.mac;
  isolations_.emplace(device, std::move(iso));
  return Action{ActionKind::Isolate, device, reason, by, std::move(addresses), mac};
}

std::optional<Action> ViolationJudge::release(const std::string& device, const std::string& reason,
                                              const std::string& by) {
  auto it = isolations_.find(device);
  if (it == isolations_.end()) return std::nullopt;
  std::vector<IpAddress> addresses = std::move(it->second.addresses);
  std::optional<MacAddress> mac = it->second.mac;
  isolations_.erase(it);
  DeviceState& st = devices_[device];
  st.window.clear();  // a released device starts with a clean slate
  st.recentFlows.clear();
  return Action{ActionKind::Release, device, reason, by, std::move(addresses), mac};
}

std::vector<Action> ViolationJudge::tick(WallTime now) {
  std::vector<std::string> due;
  for (const auto& [device, iso] : isolations_) {
    if (iso.releaseAt && *iso.releaseAt <= now) due.push_back(device);
  }
  std::vector<Action> out;
  for (const std::string& device : due) {
    if (auto a = release(device, "automatic release after the configured duration", "policy"))
      out.push_back(*a);
  }
  return out;
}

std::optional<WallTime> ViolationJudge::nextRelease() const {
  std::optional<WallTime> next;
  for (const auto& [device, iso] : isolations_) {
    if (iso.releaseAt && (!next || *iso.releaseAt < *next)) next = iso.releaseAt;
  }
  return next;
}

void ViolationJudge::restore(const std::vector<Isolation>& isolations) {
  for (const Isolation& iso : isolations) isolations_[iso.device] = iso;
}

void ViolationJudge::restoreCount(const std::string& device, uint64_t count,
                                  std::optional<WallTime> last) {
  DeviceState& st = devices_[device];
  st.count = count;
  st.last = last;
}

FollowResult ViolationJudge::followPolicy() {
  FollowResult result;
  std::vector<std::string> gone;
  for (auto& [name, iso] : isolations_) {
    if (const Device* d = policy_->findDevice(name)) {
      result.changed |= absorb(iso, *d);
    } else {
      gone.push_back(name);
    }
  }
  // Who has the addresses and MACs of isolations whose device left: built
  // only for them (most reloads keep every isolated device).
  std::map<IpAddress, const Device*> byAddress;
  std::map<MacAddress, const Device*> byMac;
  if (!gone.empty()) {
    for (const Device& d : policy_->devices) {
      for (const IpAddress& a : d.addresses) byAddress.emplace(a, &d);
      if (d.mac) byMac.emplace(*d.mac, &d);
    }
  }
  for (const std::string& name : gone) {
    Isolation& iso = isolations_.at(name);
    const Device* owner = nullptr;
    std::string via;
    for (const IpAddress& a : iso.addresses) {
      if (auto it = byAddress.find(a); it != byAddress.end()) {
        owner = it->second;
        via = "address " + toString(a);
        break;
      }
    }
    if (!owner && iso.mac) {
      if (auto it = byMac.find(*iso.mac); it != byMac.end()) {
        owner = it->second;
        via = "MAC " + toString(*iso.mac);
      }
    }
    if (!owner || isolations_.count(owner->name)) {
      result.orphans.push_back(name);
      continue;
    }
    Isolation moved = std::move(iso);
    isolations_.erase(name);
    moved.device = owner->name;
    absorb(moved, *owner);
    isolations_.emplace(owner->name, std::move(moved));
    result.moved.push_back({name, owner->name, via});
    result.changed = true;
  }
  return result;
}

std::optional<std::string> ViolationJudge::adoptKernelAddress(const IpAddress& address,
                                                              const std::string& comment,
                                                              WallTime now) {
  for (const auto& [name, iso] : isolations_) {
    if (std::find(iso.addresses.begin(), iso.addresses.end(), address) != iso.addresses.end())
      return std::nullopt;
  }
  std::string name;
  for (const Device& d : policy_->devices) {
    if (std::find(d.addresses.begin(), d.addresses.end(), address) != d.addresses.end()) {
      name = d.name;
      break;
    }
  }
  if (name.empty()) name = comment.empty() ? toString(address) : comment;
  auto it = isolations_.find(name);
  if (it == isolations_.end()) {
    Isolation iso{
        name,         "found isolated in the kernel table at start; not in the state file",
        "kernel",     now,
        std::nullopt, {},
        std::nullopt};
    it = isolations_.emplace(name, std::move(iso)).first;
  }
  it->second.addresses.push_back(address);
  return name;
}

bool ViolationJudge::isOrphan(const std::string& device) const {
  return isolations_.count(device) && !policy_->findDevice(device);
}

size_t ViolationJudge::rememberedFlows(const std::string& device) const {
  auto it = devices_.find(device);
  return it == devices_.end() ? 0 : it->second.recentFlows.size();
}

uint64_t ViolationJudge::violations(const std::string& device) const {
  auto it = devices_.find(device);
  return it == devices_.end() ? 0 : it->second.count;
}

std::optional<WallTime> ViolationJudge::lastViolation(const std::string& device) const {
  auto it = devices_.find(device);
  return it == devices_.end() ? std::nullopt : it->second.last;
}

}  // namespace ringfence::policy
