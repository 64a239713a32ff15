// A policy and its compiled plan packed into bytes and back, so that the
// daemon can start from what it compiled before (docs/policy-loading.md,
// "Starting from the compiled policy") instead of parsing every profile.
// Unpacking a truncated or altered input throws PackingError; the bytes are
// this build's own (host byte order, no version of their own: the file that
// holds them names the build, daemon/compiled_policy.h).
#pragma once

#include <string>
#include <string_view>

#include "policy/model.h"
#include "policy/packing.h"
#include "policy/plan.h"

namespace ringfence::policy {

void packPolicy(Packer& p, const Policy& policy);
Policy unpackPolicy(Unpacker& u);

// The plan as compiled: the elements the daemon adds at run time (isolation,
// maintenance windows: the sets filledAtRunTime names) are left out, so
// packing the plan in force gives the bytes of packing its compile.
void packCompiledPlan(Packer& p, const Plan& plan);
Plan unpackPlan(Unpacker& u);
bool filledAtRunTime(const SetDef& set);

}  // namespace ringfence::policy
