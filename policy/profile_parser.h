// Device profiles and group files: YAML tree -> model, with every error found.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "policy/model.h"
#include "policy/yaml_tree.h"

namespace ringfence::policy {

// Returns the device when the profile is usable for cross-file checks (it has
// a valid name); errors in its other fields are still reported to `diags`.
std::optional<Device> parseProfile(const YamlNode& root, const SharedText& file,
                                   Diagnostics& diags);

std::map<std::string, Group> parseGroups(const YamlNode& root, const std::string& file,
                                         Diagnostics& diags);

// Linux interface names: 1..15 characters, no '/', ':' or white space.
bool isValidInterfaceName(std::string_view name);
std::string interfaceNameError(const std::string& name);

}  // namespace ringfence::policy
