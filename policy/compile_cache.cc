#include "policy/compile_cache.h"

#include <stdexcept>

#include "policy/forget_unused.h"
#include "policy/packing.h"
#include "policy/policy_fields.h"

namespace ringfence::policy {

DeviceElements CompileCache::Entry::appendTo(std::vector<SetDef>& sets) const {
  DeviceElements out = runtime;
  // An element packed as fields(SetElement) gives it; its set is its slice's.
  Unpacker r(packed);
  try {
    for (ElementSlice& slice : out.slices) {
      std::vector<SetElement>& elements = sets.at(slice.set).elements;
      uint32_t count = slice.end - slice.begin;
      slice.begin = static_cast<uint32_t>(elements.size());
      slice.end = slice.begin + count;
      for (uint32_t e = 0; e < count; ++e) r(elements.emplace_back());
    }
  } catch (const PackingError& ex) {
    throw std::logic_error(std::string("compile cache: a packed entry is short: ") + ex.what());
  }
  if (!r.done()) throw std::logic_error("compile cache: a packed entry is too long");
  return out;
}

void CompileCache::begin(std::vector<std::string> layout) {
  if (layout != layout_) {
    entries_.clear();
    layout_ = std::move(layout);
  }
  counts_ = {};
}

const CompileCache::Entry* CompileCache::find(const DeviceList::Ptr& d) const {
  auto it = entries_.find(d->name);
  if (it == entries_.end()) return nullptr;
  if (it->second.device != d && !(*it->second.device == *d)) return nullptr;
  return &it->second;
}

void CompileCache::store(const DeviceList::Ptr& d, const CompiledDevice& compiled) {
  Entry e{d, compiled.runtime, {}, compiled.limit, true};
  Packer p(e.packed);
  for (const auto& [set, el] : compiled.elements) p(el);
  e.packed.shrink_to_fit();
  entries_.insert_or_assign(d->name, std::move(e));
}

void CompileCache::keep(const DeviceList::Ptr& d) {
  if (auto it = entries_.find(d->name); it != entries_.end()) {
    it->second.device = d;  // equal to the one compiled from: found by its address next time
    it->second.used = true;
  }
}

void CompileCache::clear() {
  entries_.clear();
  layout_.clear();
}

void CompileCache::end() {
  forgetUnused(entries_);
  last_ = counts_;
}

}  // namespace ringfence::policy
