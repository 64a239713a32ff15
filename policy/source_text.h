// The checks on a policy file's bytes that come before YAML
// (docs/policy-loading.md): not empty, at most 1 MiB, UTF-8, ending with a
// newline. Then the YAML tree.
#pragma once

#include <optional>

#include "policy/diagnostic.h"
#include "policy/sources.h"
#include "policy/yaml_tree.h"

namespace ringfence::policy {

// Nothing, after reporting why, when the text cannot be used.
std::optional<YamlNode> parseSourceFile(const SourceFile& f, Diagnostics& diags);

}  // namespace ringfence::policy
