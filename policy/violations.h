// Deciding what a violation means: events and time in, actions out, no I/O.
// A violation is one forbidden flow (a 5-tuple): the retransmissions of one
// attempt count once. `violations.threshold` violations within
// `violations.window` trigger `violations.action`. Monitor and learn devices
// are never isolated automatically. Isolations end by hand or, with
// `violations.release`, when their time is up.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/model.h"

namespace ringfence::policy {

using WallClock = std::chrono::system_clock;
using WallTime = WallClock::time_point;
// CLOCK_REALTIME microseconds, as the bus and the state files carry times.
inline uint64_t toMicros(WallTime t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

struct FlowKey {
  IpAddress src;
  IpAddress dst;
  uint8_t proto = 0;
  uint16_t sport = 0;
  uint16_t dport = 0;
  auto operator<=>(const FlowKey&) const = default;
};
std::string describeFlow(const FlowKey& f);

struct Violation {
  std::string device;
  Direction direction = Direction::Outbound;
  FlowKey flow;
  bool dropped = true;  // false: a monitor-mode flow that was let through
};

// An isolation cuts off addresses, not a name: `addresses` are the device's
// when it was isolated, grown with the addresses it has in every later
// policy, and stay cut off until a release, whatever happens to its profile.
struct Isolation {
  std::string device;
  std::string reason;
  std::string by;  // "policy" for automatic isolation, else the caller ("uid:0")
  WallTime since;
  std::optional<WallTime> releaseAt;
  std::vector<IpAddress> addresses;
  std::optional<MacAddress> mac;
};

// What following a new policy did to the isolations (ViolationJudge::followPolicy).
struct IsolationMove {
  std::string from, to;
  std::string via;  // "address 10.0.0.5" or "MAC 02:00:00:00:00:01"
};
struct FollowResult {
  std::vector<IsolationMove> moved;  // renamed devices: the isolation now has the new name
  std::vector<std::string> orphans;  // isolations that no device of the policy owns
  bool changed = false;              // addresses, MACs or names changed: worth saving
};

enum class ActionKind { Isolate, Release, Alert };
struct Action {
  ActionKind kind;
  std::string device;
  std::string reason;
  std::string by;
  std::vector<IpAddress> addresses;  // Isolate, Release: the addresses cut off or freed
  std::optional<MacAddress> mac;     // Isolate, Release: the MAC cut off or freed
};

class ViolationJudge {
 public:
  // The policy supplies each device's mode and `violations` settings; it must
  // outlive the judge or be replaced with setPolicy (on reload).
  explicit ViolationJudge(const Policy& policy) : policy_(&policy) {}
  void setPolicy(const Policy& policy);

  // One observed violation. Returns nothing when it is a repeat of a flow
  // already counted, or when it does not reach the threshold.
  std::vector<Action> observe(const Violation& v, WallTime now);
  // Automatic releases that are due.
  std::vector<Action> tick(WallTime now);
  // When tick() next has something to do.
  std::optional<WallTime> nextRelease() const;

  // By hand (D-Bus, ctl). Isolating an isolated device or releasing a free
  // one changes nothing and returns nullopt.
  std::optional<Action> isolate(const std::string& device, const std::string& reason,
                                const std::string& by, WallTime now);
  std::optional<Action> release(const std::string& device, const std::string& reason,
                                const std::string& by);
  // Isolations read back at start; devices no longer in the policy stay
  // isolated (so an edit can never release anyone by accident).
  void restore(const std::vector<Isolation>& isolations);
  // A device's counters read back at start: its count and last violation go
  // on from them. violationsTotal() stays the count since start.
  void restoreCount(const std::string& device, uint64_t count, std::optional<WallTime> last);
  // After setPolicy (and restore): every isolation whose device is in the
  // policy gains the device's current addresses and MAC; one whose name is
  // gone follows its addresses or MAC to the device that now owns them (a
  // rename: re-keyed, since/reason/by kept), unless that device is isolated
  // already; the rest are orphans, kept as they are.
  FollowResult followPolicy();
  // An address found in the kernel's isolated sets at start. Nothing happens
  // when an isolation already holds it; otherwise it joins (or becomes) the
  // isolation of its owner in the policy, else of the device named by
  // `comment` (the element's comment, the device name of an earlier run),
  // else of a device named after the address. Returns the isolation's name.
  std::optional<std::string> adoptKernelAddress(const IpAddress& address,
                                                const std::string& comment, WallTime now);
  // Isolated, and no device of the policy has its name.
  bool isOrphan(const std::string& device) const;

  const std::map<std::string, Isolation>& isolations() const { return isolations_; }
  bool isIsolated(const std::string& device) const { return isolations_.count(device) > 0; }
  uint64_t violations(const std::string& device) const;
  uint64_t violationsTotal() const { return total_; }
  std::optional<WallTime> lastViolation(const std::string& device) const;
  size_t rememberedFlows(const std::string& device) const;  // bounded, for a flood

 private:
  struct DeviceState {
    std::map<FlowKey, WallTime> recentFlows;  // flows already counted, by last sighting
    std::deque<WallTime> window;              // times of counted violations
    uint64_t count = 0;
    std::optional<WallTime> last;
    std::optional<WallTime> alertedAt;
  };

  const Policy* policy_;
  std::map<std::string, DeviceState> devices_;
  std::map<std::string, Isolation> isolations_;
  uint64_t total_ = 0;
};

}  // namespace ringfence::policy
