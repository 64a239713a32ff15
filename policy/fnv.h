// FNV-1a, 64 bits: stable across runs and builds. For hashing keys, sums
// of files and fingerprints of compiled parts; not against an adversary.
#pragma once

#include <cstdint>
#include <string_view>

namespace ringfence::policy {

inline constexpr uint64_t kFnvBasis = 14695981039346656037ull;

// `h` carried on over `bytes` (any range of bytes or chars).
template <typename Bytes>
uint64_t fnv1a(uint64_t h, const Bytes& bytes) {
  for (auto b : bytes) h = (h ^ static_cast<uint8_t>(b)) * 1099511628211ull;
  return h;
}
inline uint64_t fnv1a(uint64_t h, uint8_t byte) { return (h ^ byte) * 1099511628211ull; }

}  // namespace ringfence::policy
