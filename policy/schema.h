// Typed reads from a YamlNode that report precise errors: the building blocks
// of the profile, group and configuration parsers.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/diagnostic.h"
#include "policy/yaml_tree.h"

namespace ringfence::policy {

class NodeReader {
 public:
  NodeReader(SharedText file, Diagnostics& diags) : file_(std::move(file)), diags_(diags) {}

  const std::string& file() const { return file_.str(); }
  const SharedText& fileText() const { return file_; }  // shared by every location in it
  Diagnostics& diags() { return diags_; }
  SourceLocation at(const YamlNode& n) const { return {file_, n.line, n.column}; }
  void error(const YamlNode& n, std::string message) { diags_.error(at(n), std::move(message)); }
  void warning(const YamlNode& n, std::string message) {
    diags_.warning(at(n), std::move(message));
  }

  // Each returns nothing after reporting an error on `n`; `what` names the field.
  bool isMap(const YamlNode& n, std::string_view what);
  std::optional<std::string> text(const YamlNode& n, std::string_view what);
  std::optional<uint64_t> integer(const YamlNode& n, std::string_view what, uint64_t min,
                                  uint64_t max);
  std::optional<bool> boolean(const YamlNode& n, std::string_view what);
  std::optional<std::chrono::seconds> duration(const YamlNode& n, std::string_view what);
  // One value or a list of values (a list must not be empty); `null` is an error.
  std::vector<const YamlNode*> oneOrMany(const YamlNode& n, std::string_view what);
  // A list (possibly empty; `null` counts as empty).
  std::optional<std::vector<const YamlNode*>> list(const YamlNode& n, std::string_view what);

 private:
  SharedText file_;  // shared by every location it makes
  Diagnostics& diags_;
};

// The keys of one mapping: every key must be one of `allowed` (an unknown key
// is an error that suggests the closest allowed one).
class MapFields {
 public:
  MapFields(NodeReader& reader, const YamlNode& map,
            std::initializer_list<std::string_view> allowed, std::string_view context);

  const YamlNode* get(std::string_view key) const;
  // Reports "missing required key" at the mapping when absent.
  const YamlNode* require(std::string_view key) const;
  // The key node itself (for errors about the key rather than its value).
  const YamlNode* keyNode(std::string_view key) const;

 private:
  NodeReader& reader_;
  const YamlNode& map_;
  std::string context_;
};

// Names of devices and groups: ^[a-z0-9][a-z0-9_.-]{0,62}$
bool isValidName(std::string_view name);
// A duration such as 30s, 5m, 2h, 1d.
std::optional<std::chrono::seconds> parseDuration(std::string_view text);
std::string closestMatch(std::string_view word, std::initializer_list<std::string_view> choices);

}  // namespace ringfence::policy
