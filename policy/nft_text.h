// Plan -> nft text, the form admins review and `nft -f` reads.
#pragma once

#include <string>

#include "policy/plan.h"

namespace ringfence::policy {

std::string renderNft(const Plan& plan);

// One element's key as nft writes it ("198.51.100.10 . 203.0.113.0/24 . tcp . 443").
std::string renderElementKey(const SetDef& set, const ElementView& element);

std::string renderRule(const PlanRule& rule);

}  // namespace ringfence::policy
