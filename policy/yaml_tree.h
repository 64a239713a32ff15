// A guarded YAML reader. yaml-cpp accepts duplicate keys silently, does not
// bound nesting (deep input overflows its recursive parser) and expands
// aliases without limit; this reader builds its own tree from yaml-cpp's
// events and refuses all three before any data reaches the model. Most
// texts never reach yaml-cpp: the simple reader (yaml_simple.h) builds the
// same tree for the common case, and leaves every other text to yaml-cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/diagnostic.h"

namespace ringfence::policy {

struct YamlEntry;

struct YamlNode {
  enum class Kind { Null, Scalar, Sequence, Map };
  Kind kind = Kind::Null;
  int line = 0;  // 1-based
  int column = 0;
  std::string scalar;              // Kind::Scalar
  bool quoted = false;             // a quoted scalar is always a string, never a number or a bool
  std::vector<YamlNode> items;     // Kind::Sequence
  std::vector<YamlEntry> entries;  // Kind::Map, in file order, unique keys

  bool operator==(const YamlNode&) const;
};

struct YamlEntry {
  YamlNode key;
  YamlNode value;

  bool operator==(const YamlEntry&) const = default;
};

struct YamlLimits {
  size_t maxBytes = 1024 * 1024;  // profiles.md: a file larger than 1 MiB is an error
  int maxDepth = 64;              // profiles.md: nested deeper than 64 levels is an error
  size_t maxNodes = 100000;       // after alias expansion: stops "billion laughs" documents
};

// Parses one YAML document. Problems are reported to `diags` against `file`.
// Returns the root (Kind::Null for an empty document), or nothing when the
// text cannot be used at all (syntax error, limits exceeded, several documents).
std::optional<YamlNode> parseYaml(std::string_view text, const std::string& file,
                                  Diagnostics& diags, const YamlLimits& limits = {});

// parseYaml() without the simple reader: yaml-cpp for every text. For the
// tests and the fuzzer that compare the two.
std::optional<YamlNode> parseYamlWithYamlCpp(std::string_view text, const std::string& file,
                                             Diagnostics& diags, const YamlLimits& limits = {});

const char* describeKind(YamlNode::Kind kind);

}  // namespace ringfence::policy
