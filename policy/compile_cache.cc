#include "policy/compile_cache.h"

#include "policy/forget_unused.h"

namespace ringfence::policy {

void CompileCache::begin(std::vector<std::string> layout) {
  ++compile_;
  if (layout != layout_) {
    entries_.clear();
    layout_ = std::move(layout);
  }
  counts_ = {};
}

const CompileCache::Entry* CompileCache::find(const DeviceList::Ptr& d) const {
  auto it = entries_.find(d->name);
  if (it == entries_.end()) return nullptr;
  if (it->second.device == d) {
    it->second.usedIn = compile_;
    return &it->second;
  }
  if (!(*it->second.device == *d)) return nullptr;
  return &it->second;
}

void CompileCache::store(const DeviceList::Ptr& d, SharedList<DeviceElements>::Ptr part) {
  entries_.insert_or_assign(d->name, Entry{d, std::move(part), compile_});
}

void CompileCache::keep(const DeviceList::Ptr& d) {
  if (auto it = entries_.find(d->name); it != entries_.end()) {
    it->second.device = d;  // equal to the one compiled from: found by its address next time
    it->second.usedIn = compile_;
  }
}

void CompileCache::clear() {
  entries_.clear();
  layout_.clear();
}

void CompileCache::end() {
  forgetUnused(entries_, compile_);
  last_ = counts_;
}

}  // namespace ringfence::policy
