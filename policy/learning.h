// Flows observed for learn and monitor devices: what each device really
// talks to, counted, kept across restarts, and turned into a proposed
// `allow:` block that `ringfencectl validate` accepts.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "policy/model.h"

namespace ringfence::policy {

struct ObservedFlow {
  Direction direction = Direction::Outbound;
  IpAddress peer;
  uint8_t proto = 0;
  uint16_t port = 0;  // destination port; 0 for icmp
  auto operator<=>(const ObservedFlow&) const = default;
};

class LearnedFlows {
 public:
  static constexpr size_t kMaxFlowsPerDevice = 10000;

  // Counts one flow; true when it was not known before (worth saving).
  bool record(const std::string& device, const ObservedFlow& flow, uint64_t count = 1);
  const std::map<ObservedFlow, uint64_t>& flows(const std::string& device) const;
  uint64_t dropped() const { return dropped_; }  // flows past the per-device bound

  // One line per flow: device, direction, peer, proto, port, count (tab separated).
  std::string serialize() const;
  // Reads serialize()'s output; unreadable lines are reported in `problems`.
  static LearnedFlows parse(const std::string& text, std::vector<std::string>& problems);

  // A YAML `allow:` block for the device: one rule per peer and protocol.
  std::string allowBlock(const std::string& device) const;

 private:
  std::map<std::string, std::map<ObservedFlow, uint64_t>> devices_;
  uint64_t dropped_ = 0;
};

}  // namespace ringfence::policy
