// "Would this flow be allowed, and by which rule?" answered from the policy
// alone. Isolation and maintenance windows are run-time state that the
// daemon layers on top of this answer.
#pragma once

#include <cstdint>
#include <expected>
#include <string>

#include "policy/model.h"

namespace ringfence::policy {

struct FlowQuery {
  std::string device;
  Direction direction = Direction::Outbound;  // outbound: the device opens it
  IpAddress peer;
  Proto proto = Proto::Tcp;
  uint16_t port = 0;  // destination port; ignored for icmp/icmpv6
};

struct FlowVerdict {
  bool allowed = false;
  std::string decidedBy;  // "profiles/x.yaml:12 (outbound rule)" or why nothing matched
  bool critical = false;  // allowed by a `critical: true` rule
};

enum class FlowCheckError { NoSuchDevice, InvalidArgument };
struct FlowCheckFailure {
  FlowCheckError kind;
  std::string message;
};

std::expected<FlowVerdict, FlowCheckFailure> checkFlow(const Policy& policy, const FlowQuery& q);

}  // namespace ringfence::policy
