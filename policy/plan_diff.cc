#include "policy/plan_diff.h"

#include <algorithm>
#include <tuple>
#include <unordered_set>

#include "policy/nft_text.h"

namespace ringfence::policy {
namespace {

bool sameShape(const SetDef& a, const SetDef& b) {
  return a.key == b.key && a.data == b.data && a.interval == b.interval && a.timeout == b.timeout &&
         a.comment == b.comment;
}

bool sameChainHead(const Chain& a, const Chain& b) {
  if (a.base.has_value() != b.base.has_value()) return false;
  if (!a.base) return true;
  return a.base->hook == b.base->hook && a.base->priority == b.base->priority &&
         a.base->acceptByDefault == b.base->acceptByDefault;
}

// Elements are identified by their key (low and high ends), hashed in place.
struct KeyHash {
  size_t operator()(const SetElement* e) const {
    uint64_t h = 1469598103934665603ull;
    for (uint8_t b : e->low) h = (h ^ b) * 1099511628211ull;
    for (uint8_t b : e->high) h = (h ^ b) * 1099511628211ull;
    return h;
  }
};
struct KeyEqual {
  bool operator()(const SetElement* a, const SetElement* b) const {
    return a->low == b->low && a->high == b->high;
  }
};

SetChange diffElements(const SetDef& before, const SetDef& after) {
  SetChange change;
  change.set = after.name;
  std::unordered_set<const SetElement*, KeyHash, KeyEqual> old;
  old.reserve(before.elements.size());
  for (const SetElement& e : before.elements) old.insert(&e);
  for (const SetElement& e : after.elements) {
    auto it = old.find(&e);
    if (it == old.end()) {
      change.added.push_back(&e);
      continue;
    }
    if (!(**it == e)) {  // same key, other data or comment: replace it
      change.removed.push_back(*it);
      change.added.push_back(&e);
    }
    old.erase(it);
  }
  for (const SetElement& e : before.elements) {
    if (old.count(&e)) change.removed.push_back(&e);
  }
  return change;
}

bool sameLimit(const LimitObject& a, const LimitObject& b) {
  return std::tie(a.name, a.perSecond, a.burst) == std::tie(b.name, b.perSecond, b.burst);
}

bool sameRules(const Chain& a, const Chain& b) {
  if (a.rules.size() != b.rules.size()) return false;
  for (size_t i = 0; i < a.rules.size(); ++i) {
    if (renderRule(a.rules[i]) != renderRule(b.rules[i])) return false;
  }
  return true;
}

// A limit object in use cannot be deleted: the map elements that name a
// replaced limit are removed before it and added back after it.
void replaceReferencesToReplacedLimits(const Plan& running, const Plan& next, PlanDiff& diff) {
  for (const LimitObject* removed : diff.limitsRemoved) {
    bool replaced = std::any_of(diff.limitsAdded.begin(), diff.limitsAdded.end(),
                                [&](const LimitObject* l) { return l->name == removed->name; });
    if (!replaced) continue;
    for (size_t i = 0; i < next.sets.size(); ++i) {
      if (next.sets[i].data != KeyType::LimitObject) continue;
      SetChange extra{next.sets[i].name, {}, {}};
      for (const SetElement& e : running.sets[i].elements) {
        if (e.data == removed->name) extra.removed.push_back(&e);
      }
      for (const SetElement& e : next.sets[i].elements) {
        if (e.data == removed->name) extra.added.push_back(&e);
      }
      if (extra.removed.empty() && extra.added.empty()) continue;
      auto it = std::find_if(diff.sets.begin(), diff.sets.end(),
                             [&](const SetChange& c) { return c.set == extra.set; });
      if (it == diff.sets.end()) {
        diff.sets.push_back(std::move(extra));
        continue;
      }
      auto merge = [](std::vector<const SetElement*>& into,
                      const std::vector<const SetElement*>& from) {
        for (const SetElement* e : from) {
          if (std::find(into.begin(), into.end(), e) == into.end()) into.push_back(e);
        }
      };
      merge(it->removed, extra.removed);
      merge(it->added, extra.added);
    }
  }
}

}  // namespace

size_t PlanDiff::elementChanges() const {
  size_t n = 0;
  for (const SetChange& s : sets) n += s.added.size() + s.removed.size();
  return n;
}

PlanDiff diffPlans(const Plan& running, const Plan& next) {
  PlanDiff diff;
  bool sameSets = running.sets.size() == next.sets.size();
  for (size_t i = 0; sameSets && i < next.sets.size(); ++i) {
    sameSets =
        running.sets[i].name == next.sets[i].name && sameShape(running.sets[i], next.sets[i]);
  }
  bool sameChains = running.chains.size() == next.chains.size();
  for (size_t i = 0; sameChains && i < next.chains.size(); ++i) {
    sameChains = running.chains[i].name == next.chains[i].name &&
                 sameChainHead(running.chains[i], next.chains[i]);
  }
  if (running.table != next.table || !sameSets || !sameChains) {
    diff.rebuild = true;
    return diff;
  }
  for (size_t i = 0; i < next.sets.size(); ++i) {
    // Most sets do not change at all: a plain comparison is far cheaper than hashing.
    if (running.sets[i].elements == next.sets[i].elements) continue;
    SetChange change = diffElements(running.sets[i], next.sets[i]);
    if (!change.added.empty() || !change.removed.empty()) diff.sets.push_back(std::move(change));
  }
  for (const LimitObject& old : running.limits) {
    auto it = std::find_if(next.limits.begin(), next.limits.end(),
                           [&](const LimitObject& l) { return l.name == old.name; });
    if (it == next.limits.end() || !sameLimit(old, *it)) diff.limitsRemoved.push_back(&old);
  }
  for (const LimitObject& fresh : next.limits) {
    auto it = std::find_if(running.limits.begin(), running.limits.end(),
                           [&](const LimitObject& l) { return l.name == fresh.name; });
    if (it == running.limits.end() || !sameLimit(*it, fresh)) diff.limitsAdded.push_back(&fresh);
  }
  replaceReferencesToReplacedLimits(running, next, diff);
  for (size_t i = 0; i < next.chains.size(); ++i) {
    if (!sameRules(running.chains[i], next.chains[i]))
      diff.chainsRewritten.push_back(&next.chains[i]);
  }
  return diff;
}

}  // namespace ringfence::policy
