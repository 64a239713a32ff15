#include "policy/plan_diff.h"

#include <algorithm>
#include <tuple>
#include <unordered_set>

#include "policy/fnv.h"
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
  size_t operator()(const ElementRef& r) const {
    ElementView e = *r;
    return fnv1a(fnv1a(kFnvBasis, e.low), e.high);
  }
};
struct KeyEqual {
  bool operator()(const ElementRef& a, const ElementRef& b) const { return (*a).sameKey(*b); }
};

// Key-based difference of two lists (one device's elements in one set, or
// the window of a set's own elements that differs).
void diffLists(const std::vector<ElementRef>& before, const std::vector<ElementRef>& after,
               SetChange& change) {
  std::unordered_set<ElementRef, KeyHash, KeyEqual> old(before.begin(), before.end());
  for (const ElementRef& e : after) {
    auto it = old.find(e);
    if (it == old.end()) {
      change.added.push_back(e);
      continue;
    }
    if (!(**it == *e)) {  // same key, other data or comment: replace it
      change.removed.push_back(*it);
      change.added.push_back(e);
    }
    old.erase(it);
  }
  for (const ElementRef& e : before) {
    if (old.count(e)) change.removed.push_back(e);
  }
}

// A set's own elements (interfaces, services, run-time ones) usually differ
// in few places: the common prefix and suffix are skipped with plain
// comparisons, and only the window is hashed. Keys are unique within a set,
// so this is exact.
void diffOwn(const std::vector<SetElement>& b, const std::vector<SetElement>& a,
             SetChange& change) {
  size_t prefix = 0;
  while (prefix < b.size() && prefix < a.size() && b[prefix] == a[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < b.size() - prefix && suffix < a.size() - prefix &&
         b[b.size() - 1 - suffix] == a[a.size() - 1 - suffix]) {
    ++suffix;
  }
  std::vector<ElementRef> before, after;
  for (size_t i = prefix; i < b.size() - suffix; ++i) before.push_back(&b[i]);
  for (size_t i = prefix; i < a.size() - suffix; ++i) after.push_back(&a[i]);
  diffLists(before, after, change);
}

bool sameLimit(const LimitObject& a, const LimitObject& b);

// The element changes: each set's own elements compared whole, and the
// devices' parts walked together by name. A part that is the same object in
// both plans (a device the reload kept) is passed over without looking at
// its elements; parts with equal elements, in order, give no change. A
// device's limit object goes with its part.
std::vector<SetChange> diffElements(const Plan& running, const Plan& next, PlanDiff& diff) {
  size_t sets = next.sets.size();
  std::vector<SetChange> changes(sets);
  for (size_t i = 0; i < sets; ++i) {
    changes[i].set = next.sets[i].name;
    diffOwn(running.sets[i].elements, next.sets[i].elements, changes[i]);
  }
  auto take = [&](const DeviceElements& d, bool added) {
    for (const ElementSlice& slice : d.slices) {
      auto& list = added ? changes[slice.set].added : changes[slice.set].removed;
      for (uint32_t i = slice.begin; i < slice.end; ++i) list.emplace_back(&d.elements, i);
    }
    if (d.limit) (added ? diff.limitsAdded : diff.limitsRemoved).push_back(&*d.limit);
  };
  auto bySet = [sets](const DeviceElements& d) {
    std::vector<std::vector<ElementRef>> out(sets);
    for (const ElementSlice& slice : d.slices) {
      for (uint32_t i = slice.begin; i < slice.end; ++i)
        out.at(slice.set).emplace_back(&d.elements, i);
    }
    return out;
  };
  size_t i = 0, j = 0;
  while (i < running.devices.size() || j < next.devices.size()) {
    const DeviceElements* old = i < running.devices.size() ? &running.devices[i] : nullptr;
    const DeviceElements* fresh = j < next.devices.size() ? &next.devices[j] : nullptr;
    if (old && fresh && old->device == fresh->device) {
      if (old != fresh) {
        // Another object (the device was compiled again): its elements are
        // compared, never passed over on their fingerprint alone.
        bool sameElements = old->fingerprint == fresh->fingerprint &&
                            old->slices == fresh->slices && old->elements == fresh->elements;
        if (!sameElements) {
          auto before = bySet(*old), after = bySet(*fresh);
          for (size_t s = 0; s < sets; ++s) {
            if (!before[s].empty() || !after[s].empty()) diffLists(before[s], after[s], changes[s]);
          }
        }
        bool sameLimits = old->limit && fresh->limit && sameLimit(*old->limit, *fresh->limit);
        if (old->limit && !sameLimits) diff.limitsRemoved.push_back(&*old->limit);
        if (fresh->limit && !sameLimits) diff.limitsAdded.push_back(&*fresh->limit);
      }
      ++i, ++j;
    } else if (old && (!fresh || old->device < fresh->device)) {
      take(*old, false);
      ++i;
    } else {
      take(*fresh, true);
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
  // The elements of the maps of limit objects, listed when first needed.
  std::vector<std::vector<ElementRef>> runningElements, nextElements;
  for (const LimitObject* removed : diff.limitsRemoved) {
    bool replaced = std::any_of(diff.limitsAdded.begin(), diff.limitsAdded.end(),
                                [&](const LimitObject* l) { return l->name == removed->name; });
    if (!replaced) continue;
    if (nextElements.empty()) {
      runningElements.resize(next.sets.size());
      nextElements.resize(next.sets.size());
      for (size_t i = 0; i < next.sets.size(); ++i) {
        if (next.sets[i].data != KeyType::LimitObject) continue;
        runningElements[i] = running.setElements(i);
        nextElements[i] = next.setElements(i);
      }
    }
    for (size_t i = 0; i < next.sets.size(); ++i) {
      if (next.sets[i].data != KeyType::LimitObject) continue;
      SetChange extra{next.sets[i].name, {}, {}};
      for (const ElementRef& e : runningElements[i]) {
        if ((*e).data == removed->name) extra.removed.push_back(e);
      }
      for (const ElementRef& e : nextElements[i]) {
        if ((*e).data == removed->name) extra.added.push_back(e);
      }
      if (extra.removed.empty() && extra.added.empty()) continue;
      auto it = std::find_if(diff.sets.begin(), diff.sets.end(),
                             [&](const SetChange& c) { return c.set == extra.set; });
      if (it == diff.sets.end()) {
        diff.sets.push_back(std::move(extra));
        continue;
      }
      auto merge = [](std::vector<ElementRef>& into, const std::vector<ElementRef>& from) {
        for (const ElementRef& e : from) {
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
  for (SetChange& change : diffElements(running, next, diff)) {
    // Sets with timeouts (maintenance windows) hold only run-time elements that
    // the kernel expires by itself: a reload never touches them.
    if (next.findSet(change.set)->timeout) continue;
    if (!change.added.empty() || !change.removed.empty()) diff.sets.push_back(std::move(change));
  }

  // The table's own limits; the devices' went with their parts.
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
