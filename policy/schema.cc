#include "policy/schema.h"

#include <algorithm>

namespace ringfence::policy {
namespace {

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string quoted(std::string_view s) {
  constexpr size_t kMax = 60;
  if (s.size() > kMax) return "'" + std::string(s.substr(0, kMax)) + "...'";
  return "'" + std::string(s) + "'";
}

}  // namespace

bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto lowerOrDigit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lowerOrDigit(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return lowerOrDigit(c) || c == '_' || c == '.' || c == '-'; });
}

std::optional<std::chrono::seconds> parseDuration(std::string_view text) {
  if (text.size() < 2 || text.size() > 9) return std::nullopt;
  uint64_t value = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  uint64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  if (value == 0) return std::nullopt;
  constexpr uint64_t kMaxSeconds = 10ull * 366 * 86400;  // ten years: beyond that it is a typo
  if (value * unit > kMaxSeconds) return std::nullopt;
  return std::chrono::seconds(value * unit);
}

std::string closestMatch(std::string_view word, std::initializer_list<std::string_view> choices) {
  std::string best;
  size_t bestDistance = 3;  // suggest only near misses
  for (std::string_view c : choices) {
    // A truncated key ("state" for "state_dir") is as near a miss as a typo.
    bool truncated = word.size() >= 3 && c.size() > word.size() && c.substr(0, word.size()) == word;
    size_t d = truncated ? 1 : editDistance(word, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

bool NodeReader::isMap(const YamlNode& n, std::string_view what) {
  if (n.kind == YamlNode::Kind::Map) return true;
  error(n, std::string(what) + " must be a mapping, not " + describeKind(n.kind));
  return false;
}

std::optional<std::string> NodeReader::text(const YamlNode& n, std::string_view what) {
  if (n.kind == YamlNode::Kind::Scalar) return n.scalar;
  error(n, std::string(what) + " must be a string, not " + describeKind(n.kind));
  return std::nullopt;
}

std::optional<uint64_t> NodeReader::integer(const YamlNode& n, std::string_view what, uint64_t min,
                                            uint64_t max) {
  bool digits =
      n.kind == YamlNode::Kind::Scalar && !n.quoted && !n.scalar.empty() && n.scalar.size() <= 19 &&
      std::all_of(n.scalar.begin(), n.scalar.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    error(n, std::string(what) + " must be an integer, not " +
                 (n.kind == YamlNode::Kind::Scalar ? quoted(n.scalar) : describeKind(n.kind)));
    return std::nullopt;
  }
  uint64_t v = std::stoull(n.scalar);
  if (v < min || v > max) {
    error(n, std::string(what) + " must be between " + std::to_string(min) + " and " +
                 std::to_string(max) + ", not " + n.scalar);
    return std::nullopt;
  }
  return v;
}

std::optional<bool> NodeReader::boolean(const YamlNode& n, std::string_view what) {
  if (n.kind == YamlNode::Kind::Scalar && !n.quoted) {
    if (n.scalar == "true") return true;
    if (n.scalar == "false") return false;
  }
  error(n, std::string(what) + " must be true or false, not " +
               (n.kind == YamlNode::Kind::Scalar ? quoted(n.scalar) : describeKind(n.kind)));
  return std::nullopt;
}

std::optional<std::chrono::seconds> NodeReader::duration(const YamlNode& n, std::string_view what) {
  if (n.kind == YamlNode::Kind::Scalar) {
    if (auto d = parseDuration(n.scalar)) return d;
  }
  error(n, std::string(what) +
               " must be a duration such as 30s, 5m, 2h or 1d (at most 10 years), not " +
               (n.kind == YamlNode::Kind::Scalar ? quoted(n.scalar) : describeKind(n.kind)));
  return std::nullopt;
}

std::vector<const YamlNode*> NodeReader::oneOrMany(const YamlNode& n, std::string_view what) {
  std::vector<const YamlNode*> out;
  switch (n.kind) {
    case YamlNode::Kind::Scalar:
      out.push_back(&n);
      break;
    case YamlNode::Kind::Sequence:
      if (n.items.empty()) error(n, std::string(what) + " must not be empty");
      for (const YamlNode& item : n.items) out.push_back(&item);
      break;
    case YamlNode::Kind::Null:
      error(n, std::string(what) + " must not be empty");
      break;
    case YamlNode::Kind::Map:
      error(n, std::string(what) + " must be a value or a list of values, not a mapping");
      break;
  }
  return out;
}

std::optional<std::vector<const YamlNode*>> NodeReader::list(const YamlNode& n,
                                                             std::string_view what) {
  std::vector<const YamlNode*> out;
  if (n.kind == YamlNode::Kind::Null) return out;
  if (n.kind != YamlNode::Kind::Sequence) {
    error(n, std::string(what) + " must be a list, not " + describeKind(n.kind));
    return std::nullopt;
  }
  for (const YamlNode& item : n.items) out.push_back(&item);
  return out;
}

MapFields::MapFields(NodeReader& reader, const YamlNode& map,
                     std::initializer_list<std::string_view> allowed, std::string_view context)
    : reader_(reader), map_(map), context_(context) {
  for (const auto& [key, value] : map_.entries) {
    if (std::find(allowed.begin(), allowed.end(), key.scalar) != allowed.end()) continue;
    std::string message = "unknown key " + quoted(key.scalar) + " in " + context_;
    std::string hint = closestMatch(key.scalar, allowed);
    if (!hint.empty()) message += " (did you mean '" + hint + "'?)";
    reader_.error(key, message);
  }
}

const YamlNode* MapFields::get(std::string_view key) const {
  for (const auto& [k, v] : map_.entries) {
    if (k.scalar == key) return &v;
  }
  return nullptr;
}

const YamlNode* MapFields::keyNode(std::string_view key) const {
  for (const auto& [k, v] : map_.entries) {
    if (k.scalar == key) return &k;
  }
  return nullptr;
}

const YamlNode* MapFields::require(std::string_view key) const {
  const YamlNode* v = get(key);
  if (!v) reader_.error(map_, "missing required key '" + std::string(key) + "' in " + context_);
  return v;
}

}  // namespace ringfence::policy
