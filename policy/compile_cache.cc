#include "policy/compile_cache.h"

namespace ringfence::policy {

void CompileCache::begin(std::vector<std::string> layout) {
  if (layout != layout_) {
    entries_.clear();
    layout_ = std::move(layout);
  }
  counts_ = {};
}

const CompiledDevice* CompileCache::find(const Device& d) const {
  auto it = entries_.find(d.name);
  if (it == entries_.end() || !(it->second.device == d)) return nullptr;
  return &it->second.compiled;
}

void CompileCache::store(const Device& d, CompiledDevice compiled) {
  Entry& e = entries_.insert_or_assign(d.name, Entry{d, std::move(compiled), true}).first->second;
  e.used = true;
}

void CompileCache::keep(const std::string& device) {
  if (auto it = entries_.find(device); it != entries_.end()) it->second.used = true;
}

void CompileCache::end() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.used) {
      it = entries_.erase(it);
    } else {
      it->second.used = false;
      ++it;
    }
  }
  last_ = counts_;
}

}  // namespace ringfence::policy
