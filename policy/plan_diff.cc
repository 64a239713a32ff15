#include "policy/plan_diff.h"

#include <algorithm>
#include <tuple>
#include <unordered_set>

#include "policy/nft_text.h"

namespace ringfence::policy {
namespace {

bool sameShape(const SetDef& a, const SetDef& b) {
  return a.key == b.key && a.data == b.data && a.interval == b.interval && a.timeout == b.timeout &&
         a.dynamic == b.dynamic && a.size == b.size && a.counters == b.counters &&
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

// Elements come out of the compiler in device order, so two plans of the same
// set usually differ only in a window (the changed devices): the common
// prefix and suffix are skipped with plain comparisons, and only the window
// is hashed. Keys are unique within a set, so this is exact.
SetChange diffElements(const SetDef& before, const SetDef& after) {
  SetChange change;
  change.set = after.name;
  const auto& b = before.elements;
  const auto& a = after.elements;
  size_t prefix = 0;
  while (prefix < b.size() && prefix < a.size() && b[prefix] == a[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < b.size() - prefix && suffix < a.size() - prefix &&
         b[b.size() - 1 - suffix] == a[a.size() - 1 - suffix]) {
    ++suffix;
  }
  std::unordered_set<const SetElement*, KeyHash, KeyEqual> old;
  old.reserve(b.size() - prefix - suffix);
  for (size_t i = prefix; i < b.size() - suffix; ++i) old.insert(&b[i]);
  for (size_t i = prefix; i < a.size() - suffix; ++i) {
    const SetElement& e = a[i];
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
  for (size_t i = prefix; i < b.size() - suffix; ++i) {
    if (old.count(&b[i])) change.removed.push_back(&b[i]);
  }
  return change;
}

// Key-based difference of two small lists (one device's elements in one set).
void diffLists(const std::vector<const SetElement*>& before,
               const std::vector<const SetElement*>& after, SetChange& change) {
  std::unordered_set<const SetElement*, KeyHash, KeyEqual> old(before.begin(), before.end());
  for (const SetElement* e : after) {
    auto it = old.find(e);
    if (it == old.end()) {
      change.added.push_back(e);
      continue;
    }
    if (!(**it == *e)) {
      change.removed.push_back(*it);
      change.added.push_back(e);
    }
    old.erase(it);
  }
  for (const SetElement* e : before) {
    if (old.count(e)) change.removed.push_back(e);
  }
}

std::vector<std::vector<const SetElement*>> elementsBySet(const Plan& plan,
                                                          const DeviceElements& d) {
  std::vector<std::vector<const SetElement*>> out(plan.sets.size());
  for (const ElementSlice& slice : d.slices) {
    for (uint32_t i = slice.begin; i < slice.end; ++i)
      out[slice.set].push_back(&plan.sets[slice.set].elements[i]);
  }
  return out;
}

// The element changes, device by device: devices whose elements have the same
// fingerprint are skipped without looking at their elements. Sets that hold
// elements of no device (the device interfaces) are compared whole.
std::vector<SetChange> diffByDevice(const Plan& running, const Plan& next) {
  size_t sets = next.sets.size();
  std::vector<SetChange> changes(sets);
  for (size_t i = 0; i < sets; ++i) changes[i].set = next.sets[i].name;
  auto covered = [&](const Plan& p) {
    std::vector<size_t> n(sets, 0);
    for (const DeviceElements& d : p.devices) {
      for (const ElementSlice& slice : d.slices) n[slice.set] += slice.end - slice.begin;
    }
    return n;
  };
  std::vector<size_t> coveredOld = covered(running), coveredNew = covered(next);
  std::vector<bool> whole(sets, false);
  for (size_t i = 0; i < sets; ++i) {
    whole[i] = coveredOld[i] != running.sets[i].elements.size() ||
               coveredNew[i] != next.sets[i].elements.size();
    if (whole[i]) changes[i] = diffElements(running.sets[i], next.sets[i]);
  }
  auto take = [&](const Plan& p, const DeviceElements& d, bool added) {
    for (const ElementSlice& slice : d.slices) {
      if (whole[slice.set]) continue;
      auto& list = added ? changes[slice.set].added : changes[slice.set].removed;
      for (uint32_t i = slice.begin; i < slice.end; ++i)
        list.push_back(&p.sets[slice.set].elements[i]);
    }
  };
  size_t i = 0, j = 0;
  while (i < running.devices.size() || j < next.devices.size()) {
    const DeviceElements* old = i < running.devices.size() ? &running.devices[i] : nullptr;
    const DeviceElements* fresh = j < next.devices.size() ? &next.devices[j] : nullptr;
    if (old && fresh && old->device == fresh->device) {
      if (old->fingerprint != fresh->fingerprint) {
        auto before = elementsBySet(running, *old), after = elementsBySet(next, *fresh);
        for (size_t s = 0; s < sets; ++s) {
          if (!whole[s] && (!before[s].empty() || !after[s].empty()))
            diffLists(before[s], after[s], changes[s]);
        }
      }
      ++i, ++j;
    } else if (old && (!fresh || old->device < fresh->device)) {
      take(running, *old, false);
      ++i;
    } else {
      take(next, *fresh, true);
      ++j;
    }
  }
  return changes;
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
  for (SetChange& change : diffByDevice(running, next)) {
    // Sets with timeouts (maintenance windows) hold only run-time elements that
    // the kernel expires by itself: a reload never touches them.
    if (next.findSet(change.set)->timeout) continue;
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
  // The bridge table holds no run-time elements: compared by its text.
  auto text = [](const Plan& p) {
    std::string out;
    for (const Plan& c : p.companions) out += renderNft(c);
    return out;
  };
  diff.companionsChanged = text(running) != text(next);
  return diff;
}

}  // namespace ringfence::policy
