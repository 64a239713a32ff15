#include "policy/yaml_simple.h"

#include <climits>
#include <exception>
#include <string>
#include <unordered_set>
#include <vector>

#include "policy/text_check.h"

namespace ringfence::policy {
namespace {

// The reader stops at the first thing it does not accept; yaml-cpp reads
// the text then.
struct Declined {};

struct Line {
  int number;          // 1-based
  int indent;          // leading spaces
  std::string_view s;  // the whole line, without its newline
};

bool isKeyStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool isKeyChar(char c) { return isKeyStart(c) || c == '-' || c == '.'; }

// First characters of a plain scalar that are sure not to be an indicator.
bool isPlainStart(char c) { return isKeyStart(c) || c == '.' || c == '/' || c == '(' || c == '+'; }

bool isPrintable(char c) { return c >= 0x20 && c <= 0x7e; }

// Characters of a plain scalar in a flow sequence that never end it nor
// start anything else in it (",", "]", "?", ":" and the other indicators
// are left to yaml-cpp).
bool isFlowPlain(char c) {
  return isKeyChar(c) || c == ' ' || c == '/' || c == '+' || c == '(' || c == ')' || c == '=';
}

// yaml-cpp reports these plain scalars as nulls; this reader leaves them to it.
bool isNullWord(std::string_view s) {
  return s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// Non-ASCII text is accepted in comments only (the scalars and keys this
// reader takes are ASCII), and only as well-formed UTF-8 without a C1
// control, a line or paragraph separator or a byte order mark, none of
// which could then change how yaml-cpp sees lines and columns.
bool plainUtf8(std::string_view text) {
  bool ascii = true;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return true;
  return isValidUtf8(text) && !firstControlCharacter(text) &&
         text.find("\xE2\x80\xA8") == std::string_view::npos &&
         text.find("\xE2\x80\xA9") == std::string_view::npos &&
         text.find("\xEF\xBB\xBF") == std::string_view::npos;
}

class SimpleReader {
 public:
  static constexpr size_t kMaxKeyLength = 256;

  SimpleReader(std::string_view text, const YamlLimits& limits) : limits_(limits) {
    if (text.empty() || text.back() != '\n') throw Declined{};
    if (!plainUtf8(text)) throw Declined{};
    int number = 0;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      std::string_view s = text.substr(start, end - start);
      start = end + 1;
      ++number;
      size_t indent = 0;
      while (indent < s.size() && s[indent] == ' ') ++indent;
      for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) throw Declined{};  // tabs, carriage returns, controls
      }
      if (indent == s.size() || s[indent] == '#') continue;  // blank or a comment
      if (indent == 0 && (s.starts_with("---") || s.starts_with("...") || s[0] == '%')) {
        throw Declined{};  // document markers and directives
      }
      lines_.push_back(Line{number, static_cast<int>(indent), s});
    }
    if (lines_.empty()) throw Declined{};
  }

  YamlNode read() {
    YamlNode root;
    const Line& first = lines_[0];
    if (isDash(first, first.indent)) {
      sequence(first.indent, root, 1);
    } else {
      map(first.indent, root, 1);
    }
    if (at_ != lines_.size()) throw Declined{};  // a line indented less than the root
    return root;
  }

 private:
  static bool isDash(const Line& l, int col) {
    auto c = static_cast<size_t>(col);
    return c < l.s.size() && l.s[c] == '-' && (c + 1 == l.s.size() || l.s[c + 1] == ' ');
  }

  // The length of a key at `p` ("name:" followed by a space or the end of
  // the line), or 0.
  static size_t keyLength(std::string_view s, size_t p) {
    if (p >= s.size() || !isKeyStart(s[p])) return 0;
    size_t e = p;
    while (e < s.size() && isKeyChar(s[e])) ++e;
    if (e >= s.size() || s[e] != ':') return 0;
    if (e + 1 < s.size() && s[e + 1] != ' ') return 0;
    if (e - p > kMaxKeyLength) return 0;  // yaml-cpp ends a simple key at 1,024 characters
    return e - p;
  }

  // Half of yaml-cpp's path's limits, with room to spare: a key counts one
  // level below its mapping, so at the default 64 levels the deepest text
  // read here nests 31 collections; anything larger is yaml-cpp's to refuse.
  void count(int depth) {
    if (++nodes_ > limits_.maxNodes / 2 || depth > limits_.maxDepth / 2) throw Declined{};
  }

  static void place(YamlNode& n, YamlNode::Kind kind, int line, size_t column) {
    n.kind = kind;
    n.line = line;
    n.column = static_cast<int>(column) + 1;
  }

  // Whether `key` is already a key of the mapping: a look along its few
  // entries, or in `keys` once it has many.
  static bool seen(std::unordered_set<std::string>& keys, const std::vector<YamlEntry>& entries,
                   std::string_view key) {
    constexpr size_t kScan = 16;
    if (entries.size() < kScan) {
      for (const YamlEntry& e : entries) {
        if (e.key.scalar == key) return true;
      }
      return false;
    }
    if (keys.empty()) {
      for (const YamlEntry& e : entries) keys.insert(e.key.scalar);
    }
    return !keys.emplace(key).second;
  }

  // A block mapping whose keys start at `col`; the first key is on the
  // current line (after a "- " when the mapping is a sequence's item).
  void map(int col, YamlNode& out, int depth) {
    count(depth);
    place(out, YamlNode::Kind::Map, lines_[at_].number, static_cast<size_t>(col));
    bool first = true;
    std::unordered_set<std::string> keys;
    while (at_ < lines_.size()) {
      const Line& l = lines_[at_];
      if (!first) {
        if (l.indent < col) break;
        if (l.indent > col) throw Declined{};
        if (isDash(l, col)) break;  // the caller decides whether that is an error
      }
      first = false;
      auto c = static_cast<size_t>(col);
      size_t len = keyLength(l.s, c);
      if (len == 0) throw Declined{};
      std::string_view key = l.s.substr(c, len);
      if (isNullWord(key)) throw Declined{};  // yaml-cpp reads it as a null: not a string key
      YamlEntry entry;
      place(entry.key, YamlNode::Kind::Scalar, l.number, c);
      entry.key.scalar = std::string(key);
      count(depth + 1);
      if (seen(keys, out.entries, key)) throw Declined{};  // yaml-cpp's path reports it
      size_t p = c + len + 1;
      while (p < l.s.size() && l.s[p] == ' ') ++p;  // keyLength(): ':' then a space or the end
      if (p == l.s.size() || l.s[p] == '#') {
        ++at_;
        if (at_ < lines_.size() && lines_[at_].indent > col) {
          const Line& next = lines_[at_];
          if (isDash(next, next.indent)) {
            sequence(next.indent, entry.value, depth + 1);
          } else {
            map(next.indent, entry.value, depth + 1);
          }
        } else if (at_ < lines_.size() && lines_[at_].indent == col && isDash(lines_[at_], col)) {
          sequence(col, entry.value, depth + 1);  // "key:" then "- item" at the key's indent
        } else {
          count(depth + 1);
          place(entry.value, YamlNode::Kind::Null, l.number, c);  // as parseYaml places it
        }
      } else {
        inlineValue(l, p, entry.value, depth + 1);
        ++at_;
        if (at_ < lines_.size() && lines_[at_].indent > col) throw Declined{};
      }
      out.entries.push_back(std::move(entry));
    }
  }

  // A block sequence whose dashes are at `col`, from the current line.
  void sequence(int col, YamlNode& out, int depth) {
    count(depth);
    place(out, YamlNode::Kind::Sequence, lines_[at_].number, static_cast<size_t>(col));
    while (at_ < lines_.size()) {
      const Line& l = lines_[at_];
      if (l.indent < col) break;
      if (l.indent > col) throw Declined{};
      if (!isDash(l, col)) break;
      size_t p = static_cast<size_t>(col) + 1;
      while (p < l.s.size() && l.s[p] == ' ') ++p;
      if (p == l.s.size() || l.s[p] == '#') throw Declined{};  // an item on the next lines
      YamlNode item;
      if (keyLength(l.s, p) > 0) {
        map(static_cast<int>(p), item, depth + 1);
      } else {
        inlineValue(l, p, item, depth + 1);
        ++at_;
        if (at_ < lines_.size() && lines_[at_].indent > col) throw Declined{};
      }
      out.items.push_back(std::move(item));
    }
  }

  // A value that starts at `p` and ends on this line: a scalar or a flow
  // sequence of scalars, then nothing but spaces and a comment.
  void inlineValue(const Line& l, size_t p, YamlNode& out, int depth) {
    std::string_view s = l.s;
    if (s[p] == '[') {
      count(depth);
      place(out, YamlNode::Kind::Sequence, l.number, p);
      ++p;
      skipSpaces(s, p);
      if (p < s.size() && s[p] == ']') {
        ++p;
      } else {
        while (true) {
          YamlNode item;
          p = flowScalar(l, p, item, depth + 1);
          out.items.push_back(std::move(item));
          skipSpaces(s, p);
          if (p >= s.size()) throw Declined{};
          if (s[p] == ']') {
            ++p;
            break;
          }
          if (s[p] != ',') throw Declined{};
          ++p;
          skipSpaces(s, p);
        }
      }
      lineEnd(s, p);
      return;
    }
    count(depth);
    if (s[p] == '"' || s[p] == '\'') {
      p = quoted(l, p, out);
      lineEnd(s, p);
      return;
    }
    if (!isPlainStart(s[p])) throw Declined{};
    size_t start = p;
    size_t end = p;
    for (; p < s.size(); ++p) {
      char c = s[p];
      if (!isPrintable(c)) throw Declined{};
      if (c == '#') {
        if (s[p - 1] != ' ') throw Declined{};
        break;
      }
      if (c == ':' && (p + 1 == s.size() || s[p + 1] == ' ')) throw Declined{};
      if (c != ' ') end = p + 1;
    }
    plain(l, start, end, out);
  }

  // One item of a flow sequence: a quoted scalar or a plain one that ends
  // at ',' or ']'. Returns where it ends.
  size_t flowScalar(const Line& l, size_t p, YamlNode& out, int depth) {
    count(depth);
    std::string_view s = l.s;
    if (p >= s.size()) throw Declined{};
    if (s[p] == '"' || s[p] == '\'') return quoted(l, p, out);
    if (!isPlainStart(s[p])) throw Declined{};
    size_t start = p;
    size_t end = p;
    for (; p < s.size() && s[p] != ',' && s[p] != ']'; ++p) {
      char c = s[p];
      if (!isFlowPlain(c)) throw Declined{};
      if (c != ' ') end = p + 1;
    }
    plain(l, start, end, out);
    return p;
  }

  void plain(const Line& l, size_t start, size_t end, YamlNode& out) {
    std::string_view value = l.s.substr(start, end - start);
    if (isNullWord(value)) throw Declined{};
    place(out, YamlNode::Kind::Scalar, l.number, start);
    out.scalar = std::string(value);
  }

  // A quoted scalar without escapes on one line. Returns where it ends.
  size_t quoted(const Line& l, size_t p, YamlNode& out) {
    std::string_view s = l.s;
    char q = s[p];
    size_t close = p + 1;
    for (; close < s.size() && s[close] != q; ++close) {
      if (!isPrintable(s[close]) || s[close] == '\\') throw Declined{};
    }
    if (close >= s.size()) throw Declined{};                          // continues on the next line
    if (close + 1 < s.size() && s[close + 1] == q) throw Declined{};  // '' is an escape
    place(out, YamlNode::Kind::Scalar, l.number, p);
    out.scalar = std::string(s.substr(p + 1, close - p - 1));
    out.quoted = true;
    return close + 1;
  }

  static void skipSpaces(std::string_view s, size_t& p) {
    while (p < s.size() && s[p] == ' ') ++p;
  }

  // After a value: the end of the line, or spaces and a comment.
  static void lineEnd(std::string_view s, size_t p) {
    size_t from = p;
    skipSpaces(s, p);
    if (p == s.size()) return;
    if (s[p] == '#' && p > from) return;
    throw Declined{};
  }

  const YamlLimits& limits_;
  std::vector<Line> lines_;
  size_t at_ = 0;
  size_t nodes_ = 0;
};

}  // namespace

std::optional<YamlNode> parseSimpleYaml(std::string_view text, const YamlLimits& limits) {
  // Lines and columns are ints, as in the tree.
  if (text.size() > limits.maxBytes || text.size() > static_cast<size_t>(INT_MAX)) {
    return std::nullopt;
  }
  try {
    SimpleReader reader(text, limits);
    return reader.read();
  } catch (const Declined&) {
    return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;  // out of memory: yaml-cpp's path reports it, as it always did
  }
}

}  // namespace ringfence::policy
