// libFuzzer target for the saved form of policy sources (the daemon's last
// good policy): any bytes are refused or parsed, what parses serializes back
// to exactly the input, and loading it from memory never crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/sources.h"

using namespace ringfence::policy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sources = parseSerializedSources(text);
  if (!sources) return 0;
  if (serializeSources(*sources) != text) __builtin_trap();
  LoadResult r = loadPolicy(*sources, LoadOptions{});
  return r.policy.devices.size() > sources->profiles.size() ? -1 : 0;
}
