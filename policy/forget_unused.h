// The caches' end of a load or compile: entries neither stored nor kept since
// the last one are forgotten, the others wait to be used again.
#pragma once

namespace ringfence::policy {

template <typename Map>
void forgetUnused(Map& entries) {
  for (auto it = entries.begin(); it != entries.end();) {
    if (!it->second.used) {
      it = entries.erase(it);
    } else {
      it->second.used = false;
      ++it;
    }
  }
}

}  // namespace ringfence::policy
