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
      return {Action{ActionKind::Alert, v.device, reason, "policy"}};
  }
  return {};
}

std::optional<Action> ViolationJudge::isolate(const std::string& device, const std::string& reason,
                                              const std::string& by, WallTime now) {
  if (isolations_.count(device)) return std::nullopt;
  Isolation iso{device, reason, by, now, std::nullopt};
  if (const Device* d = policy_->findDevice(device); d && d->violations.release) {
    iso.releaseAt = now + *d->violations.release;
  }
  isolations_.emplace(device, std::move(iso));
  return Action{ActionKind::Isolate, device, reason, by};
}

std::optional<Action> ViolationJudge::release(const std::string& device, const std::string& reason,
                                              const std::string& by) {
  if (!isolations_.erase(device)) return std::nullopt;
  DeviceState& st = devices_[device];
  st.window.clear();  // a released device starts with a clean slate
  st.recentFlows.clear();
  return Action{ActionKind::Release, device, reason, by};
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
