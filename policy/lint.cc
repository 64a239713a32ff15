#include "policy/lint.h"

#include <map>
#include <optional>
#include <string_view>

namespace ringfence::policy {
namespace {

void checkBinding(const Device& d, Diagnostics& diags) {
  if (d.mac || !d.interface.empty()) return;
  diags.warning(d.where, "device '" + d.name +
                             "' has neither mac: nor interface:, so any host on its segment can "
                             "use its address; bind it (docs/ruleset.md, anti-spoofing)");
}

// An unbound device counts as on the only device interface; with several,
// where it is cannot be known.
std::string_view segmentOf(const Device& d, const DaemonConfig& config) {
  if (!d.interface.empty()) return d.interface;
  const auto& ifs = config.deviceInterfaces;
  return ifs.size() == 1 ? std::string_view(ifs.front()) : std::string_view();
}

void checkSharedSegments(const Policy& policy, Diagnostics& diags) {
  if (policy.config.topology != "routed") return;  // a bridge judges traffic between its ports
  std::map<std::string_view, const Device*> enforced;
  std::optional<std::string_view> last;  // most devices share the segment before
  for (const Device& d : policy.devices) {
    if (d.mode != Mode::Enforce) continue;
    std::string_view seg = segmentOf(d, policy.config);
    if (seg.empty() || seg == last) continue;
    enforced.try_emplace(seg, &d);
    last = seg;
  }
  for (const Device& d : policy.devices) {
    if (d.mode == Mode::Enforce) continue;
    auto e = enforced.find(segmentOf(d, policy.config));
    if (e == enforced.end()) continue;
    diags.warning(d.where, "device '" + d.name + "' (" + toString(d.mode) +
                               " mode) shares interface '" + std::string(e->first) +
                               "' with enforced device '" + e->second->name +
                               "': on one segment they reach each other without the gateway "
                               "(docs/ruleset.md, what a routed gateway cannot see)");
  }
}

}  // namespace

void lintPolicy(const Policy& policy, Diagnostics& diags) {
  for (const Device& d : policy.devices) checkBinding(d, diags);
  checkSharedSegments(policy, diags);
}

}  // namespace ringfence::policy
