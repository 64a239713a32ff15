#include "policy/compile_cache.h"

#include <stdexcept>

namespace ringfence::policy {

std::vector<CompileCache::Part> CompileCache::find(const DeviceList& devices,
                                                   const std::vector<std::string>& layout) const {
  std::vector<Part> out(devices.size());
  if (layout != layout_) return out;
  // Both lists by name: a device that is the one compiled last, or equal to
  // it, takes its part. A list out of name order only finds fewer.
  for (size_t i = 0, j = 0; i < devices_.size() && j < devices.size();) {
    if (devices_.shared(i) == devices.shared(j)) {  // the same device: nothing to compare
      out[j++] = parts_[i++];
      continue;
    }
    const Device& old = devices_[i];
    const Device& now = devices[j];
    if (old.name < now.name) {
      ++i;
    } else if (now.name < old.name) {
      ++j;
    } else {
      if (old == now) out[j] = parts_[i];
      ++i, ++j;
    }
  }
  return out;
}

void CompileCache::store(const DeviceList& devices, std::vector<Part> parts,
                         std::vector<std::string> layout) {
  if (parts.size() != devices.size())
    throw std::invalid_argument("CompileCache::store: a part for each device");
  devices_ = devices;
  parts_ = std::move(parts);
  layout_ = std::move(layout);
  checking_ = false;
}

void CompileCache::clear() {
  devices_.clear();
  parts_.clear();
  layout_.clear();
  checking_ = false;
}

}  // namespace ringfence::policy
