// Everything a compiled plan holds, as one text, for tests that compare two
// plans whole: its nft text (sets, elements, chains, companions), its limit
// objects, and what the daemon keeps of each device.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "policy/nft_text.h"
#include "policy/plan.h"

namespace ringfence::test {

using policy::DeviceElements;
using policy::ElementSlice;
using policy::LimitObject;
using policy::Plan;
using policy::SetElement;

inline std::string planElements(const std::vector<std::pair<std::string, SetElement>>& list) {
  std::string out;
  for (const auto& [set, e] : list) {
    out += set + " " + std::string(e.low.begin(), e.low.end()) + "|" +
           std::string(e.high.begin(), e.high.end()) + " " + e.data.str() + " " + e.comment.str() +
           " " + std::to_string(e.timeoutMs) + ";";
  }
  return out;
}

// Everything a plan holds: its text (sets, elements, chains, companions),
// its limit objects, and what the daemon keeps of each device.
inline std::string planEverything(const Plan& plan) {
  std::string out = renderNft(plan);
  for (const LimitObject* l : plan.allLimits()) {
    out += "limit " + l->name + " " + std::to_string(l->perSecond) + "/" +
           std::to_string(l->burst) + " " + l->device + "\n";
  }
  for (const DeviceElements& d : plan.devices) {
    out += "device " + d.device + " " + std::to_string(d.fingerprint) + "\n";
    for (const ElementSlice& s : d.slices) {
      out += " slice " + std::to_string(s.set) + " " + std::to_string(s.begin) + "-" +
             std::to_string(s.end) + "\n";
    }
    std::vector<std::pair<std::string, SetElement>> own;
    for (const ElementSlice& s : d.slices) {
      for (uint32_t e = s.begin; e < s.end; ++e)
        own.emplace_back(plan.sets.at(s.set).name, d.elements.at(e).copy());
    }
    out += " elements " + planElements(own) + "\n";
    out += " maintenance " + planElements(d.maintenance) + "\n";
  }
  return out;
}

}  // namespace ringfence::test

namespace ringfence::test {
// The set `name` of `plan` with every element in it: its own, then each
// device's (Plan::wholeSet); an empty set named "?" when there is none.
inline policy::SetDef wholeSet(const Plan& plan, const std::string& name) {
  for (size_t i = 0; i < plan.sets.size(); ++i) {
    if (plan.sets[i].name == name) return plan.wholeSet(i);
  }
  policy::SetDef none;
  none.name = "?";
  return none;
}
}  // namespace ringfence::test
