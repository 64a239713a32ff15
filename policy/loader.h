// Loading a whole policy: configuration, groups and every profile, with all
// errors of all files reported in one run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/diagnostic.h"
#include "policy/model.h"
#include "policy/paths.h"
#include "policy/yaml_tree.h"

namespace ringfence::policy {

inline constexpr const char* kDefaultConfigFile = RINGFENCE_DEFAULT_CONFIG_FILE;

struct LoadOptions {
  std::string configFile = kDefaultConfigFile;
  // A configuration named by the admin must exist; the default one may be absent.
  bool configRequired = false;
  // Command-line overrides (relative to the working directory, as usual for options).
  std::optional<std::string> profilesDir;
  std::optional<std::string> groupsFile;
  std::optional<std::string> stateDir;
  std::optional<std::string> table;
};

struct LoadResult {
  Policy policy;
  Diagnostics diagnostics;
  bool ok() const { return !diagnostics.hasErrors(); }
};

// Reads everything; the policy is usable only when ok().
LoadResult loadPolicy(const LoadOptions& options);

// The configuration alone (used by loadPolicy; exposed for tests).
DaemonConfig parseConfig(const YamlNode& root, const std::string& file, Diagnostics& diags);

struct ResolvedProfile;  // source_cache.h
// What the cross-file checks know of each device's profile file, by the
// device's place in load order (parallel to policy.devices; empty: nothing known).
struct ProfileFacts {
  std::vector<int64_t> modifiedNs;  // SourceFile::modifiedNs
  // Files that already have errors of their own: a device whose addresses
  // were refused gets no follow-on "can never match" warnings.
  std::vector<char> refused;
  std::vector<const std::string*> paths;  // where a cache keeps the file
  // What resolving the same parsed device gave in an earlier load (the
  // cache's; nullptr: nothing), taken if it still holds.
  std::vector<const ResolvedProfile*> resolvedBefore;
  // Parsed in this load (not taken from a cache): held only by the load and
  // by the cache's note of the parse, which the resolution replaces, so it
  // is resolved in place rather than copied.
  std::vector<char> parsedNow;
};
class SourceCache;

// Cross-file checks and group resolution over already parsed devices, in
// load order. A name, address or MAC that two devices claim is an error on
// the claim in the file modified last (on a tie, the later one in load
// order): that is the file just added or edited.
// With a cache, a device resolved before from the same parsed device, against
// the same members of the groups it names, is taken as it was. Returns each
// device's compiled size (limits.h), in the final (name) order.
std::vector<size_t> resolvePolicy(Policy& policy, Diagnostics& diags,
                                  const ProfileFacts& facts = {}, SourceCache* cache = nullptr);

bool isValidTableName(std::string_view name);

}  // namespace ringfence::policy
