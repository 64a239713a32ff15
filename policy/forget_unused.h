// The caches' end of a load or compile: entries not used in it (found,
// stored or kept: their `usedIn` is the current one's number) are forgotten,
// the others wait to be used again. Marking by number, not by a flag,
// leaves no mark behind for a lookup between two of them.
#pragma once

#include <cstdint>
#include <iterator>

namespace ringfence::policy {

template <typename Map>
void forgetUnused(Map& entries, uint64_t current) {
  std::erase_if(entries, [current](const auto& e) { return e.second.usedIn != current; });
}

}  // namespace ringfence::policy
