// The common case of a profile, read without yaml-cpp: block mappings and
// sequences indented by spaces, single-line plain and quoted scalars, and
// one-line flow sequences of scalars, as admins and the examples write them.
// It builds exactly the tree parseYaml() builds from yaml-cpp's events
// (the same nodes, marks and quoting) and declines everything else: any
// other construct, anything yaml-cpp would report (a duplicate key, a tab,
// bad indentation), anything it is not sure of. A declined text is then
// parsed by yaml-cpp as before, so the errors and their wording never
// change. tests/unit/yaml_simple_test.cc and fuzz/fuzz_profile.cc compare
// the two on every text this reader accepts.
#pragma once

#include <optional>
#include <string_view>

#include "policy/yaml_tree.h"

namespace ringfence::policy {

// The tree of `text`, or nothing when this reader declines it.
std::optional<YamlNode> parseSimpleYaml(std::string_view text, const YamlLimits& limits);

}  // namespace ringfence::policy
