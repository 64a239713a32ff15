// PlanRule -> libnftnl rule: the same expressions `nft` generates for the
// rule's text (payload loads with their protocol dependencies, concatenated
// registers, lookups, ct, bitwise, log, objref, immediate verdicts).
#pragma once

#include <string>

#include "netlink/handles.h"
#include "policy/plan.h"

namespace ringfence::netlink {

RulePtr buildRule(uint8_t family, const std::string& table, const std::string& chain,
                  const policy::PlanRule& rule);

// Register for a key component at `offset` bytes into a concatenation.
uint32_t keyRegister(size_t offset);

// Bytes a key component takes in a register-aligned key (each part padded to 4).
size_t paddedLength(policy::KeyType t);

}  // namespace ringfence::netlink
