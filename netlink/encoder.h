// Plan -> one nftables transaction. Pure: builds the batch in memory, no
// socket (so tests parse it back and compare).
#pragma once

#include <cstdint>

#include "netlink/batch.h"
#include "policy/plan.h"
#include "policy/plan_diff.h"

namespace ringfence::netlink {

// Table flags (nf_tables.h): OWNER lets only our socket change the table;
// PERSIST (kernel 6.9+) keeps it when that socket closes, so a daemon that
// stops leaves the ruleset in force.
inline constexpr uint32_t kTableFlagOwner = 0x2;
inline constexpr uint32_t kTableFlagPersist = 0x4;

struct FullApply {
  bool replaceExisting = false;  // the table exists: delete and recreate it in the same batch
  uint32_t tableFlags = 0;
  bool bridgeTableExists = false;  // a bridge table of that name exists: replace or remove it
  // From this many elements on, they are encoded on two threads (below it a
  // thread costs more than it saves); the messages carry the same elements
  // in the same order either way.
  size_t twoThreadsFrom = 20000;
  // The elements of several sets are listed in one pass over the devices'
  // parts, sets of this many elements at least (or a sixteenth of all) at a
  // time: fewer passes, or fewer references held at once.
  size_t listedAtOnce = size_t{1} << 17;
};

// Everything in `plan`, atomically replacing whatever table of that name exists.
void encodeFullApply(Batch& batch, const policy::Plan& plan, const FullApply& how);

// Only what differs; `diff` must be diffPlans(running, next) and not a rebuild.
// A changed companion (the bridge table) is rebuilt whole with `tableFlags`.
void encodeDiff(Batch& batch, const policy::Plan& running, const policy::Plan& next,
                const policy::PlanDiff& diff, uint32_t tableFlags = 0);

// Removes the table, and with `bridgeToo` the bridge table of that name
// (used by tests and by a table rename).
void encodeDeleteTable(Batch& batch, const std::string& table, bool bridgeToo = false);

// nft's datatype numbers, concatenated as nft does (6 bits per part).
uint32_t kernelKeyType(const std::vector<policy::KeyType>& key);

}  // namespace ringfence::netlink
