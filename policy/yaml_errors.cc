#include "policy/yaml_errors.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

namespace ringfence::policy {
namespace {

constexpr std::string_view kPrefix = "invalid YAML: ";
constexpr std::string_view kQuotingHint =
    "quote values that contain ': ', ' #', or start with @, *, &, !, |, >, %, `";

struct Line {
  int number = 0;         // 1-based
  std::string_view raw;   // without the line break
  int indent = 0;         // leading spaces
  std::string_view body;  // after the indentation, without a comment or trailing blanks
};

// The end of `s` outside quotes before a comment (" #", or "#" first).
size_t commentStart(std::string_view s) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == '\\' && quote == '"')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      if (i == 0 || s[i - 1] == ' ' || s[i - 1] == '[' || s[i - 1] == ',' || s[i - 1] == '{')
        quote = c;
    } else if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
      return i;
    }
  }
  return s.size();
}

std::vector<Line> splitLines(std::string_view text) {
  std::vector<Line> out;
  int number = 1;
  for (size_t start = 0; start < text.size(); ++number) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    Line l;
    l.number = number;
    l.raw = text.substr(start, nl - start);
    if (l.raw.ends_with('\r')) l.raw.remove_suffix(1);
    size_t first = l.raw.find_first_not_of(' ');
    l.indent = static_cast<int>(first == std::string_view::npos ? l.raw.size() : first);
    std::string_view rest = l.raw.substr(static_cast<size_t>(l.indent));
    rest = rest.substr(0, commentStart(rest));
    while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
    l.body = rest;
    out.push_back(l);
    start = nl + 1;
  }
  return out;
}

bool isContent(const Line& l) { return !l.body.empty(); }

// Where a key ends: the ':' followed by a blank or the end, outside quotes
// and brackets; npos when `body` is not "key: value".
size_t keyColon(std::string_view body) {
  char quote = 0;
  int depth = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (quote) {
      if (c == '\\' && quote == '"')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if ((c == '"' || c == '\'') && (i == 0 || body[i - 1] == ' ')) {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ':' && depth == 0 && (i + 1 == body.size() || body[i + 1] == ' ')) {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string spaces(int n) { return std::to_string(n) + (n == 1 ? " space" : " spaces"); }

YamlErrorReport report(int line, int column, std::string message) {
  return {line, column, std::string(kPrefix) + std::move(message)};
}

// The last content line before `line` (1-based), if any.
const Line* previousContent(const std::vector<Line>& lines, int line) {
  for (int n = std::min<int>(line - 1, static_cast<int>(lines.size())); n >= 1; --n) {
    if (isContent(lines[n - 1])) return &lines[n - 1];
  }
  return nullptr;
}

std::optional<YamlErrorReport> tabInIndentation(const std::vector<Line>& lines, int upTo) {
  for (const Line& l : lines) {
    if (l.number > upTo) break;
    size_t first = l.raw.find_first_not_of(" \t");
    if (first == std::string_view::npos || l.raw[first] == '#') continue;
    size_t tab = l.raw.substr(0, first).find('\t');
    if (tab == std::string_view::npos) continue;
    return report(l.number, static_cast<int>(tab) + 1,
                  "a tab in the indentation: YAML indents with spaces only; replace the tab "
                  "with spaces");
  }
  return std::nullopt;
}

// A plain value that YAML reads as something else: '@' and '`' are reserved,
// '*' names an alias.
std::optional<YamlErrorReport> reservedStart(const Line& l, int column, std::string_view msg) {
  if (column < 0 || static_cast<size_t>(column) >= l.raw.size()) return std::nullopt;
  char c = l.raw[static_cast<size_t>(column)];
  bool reserved = (msg == "unknown token" && (c == '@' || c == '`')) ||
                  (msg == "the referenced anchor is not defined" && c == '*');
  if (!reserved) return std::nullopt;
  std::string_view rest = l.raw.substr(static_cast<size_t>(column));
  rest = rest.substr(0, commentStart(rest));
  size_t end = rest.find_first_of(",]}");
  if (end != std::string_view::npos) rest = rest.substr(0, end);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return report(l.number, column + 1,
                std::string("a value starting with '") + c + "' must be quoted: \"" +
                    std::string(rest) + "\"");
}

// "key: text: more": the second ': ' ends a key that cannot be there.
std::optional<YamlErrorReport> colonInValue(const Line& l, int column) {
  size_t colon = keyColon(l.body);
  size_t mark = static_cast<size_t>(column - l.indent);
  if (colon == std::string_view::npos || column < l.indent || mark <= colon) return std::nullopt;
  std::string_view key = l.body.substr(0, colon);
  if (key.starts_with("- ")) key.remove_prefix(2);
  std::string_view value = l.body.substr(colon + 1);
  while (value.starts_with(' ')) value.remove_prefix(1);
  return report(l.number, l.indent + static_cast<int>(l.body.size() - value.size()) + 1,
                "the value of '" + std::string(key) + "' contains ': ', so it must be quoted: " +
                    std::string(key) + ": \"" + std::string(value) + "\"");
}

// "key value" (or "key = value") before the line where yaml-cpp found a ':'.
std::optional<YamlErrorReport> missingColon(const std::vector<Line>& lines, const Line& at) {
  const Line* prev = previousContent(lines, at.number);
  if (!prev || keyColon(prev->body) != std::string_view::npos) return std::nullopt;
  std::string_view body = prev->body;
  int offset = prev->indent;
  if (body.starts_with("- ")) body.remove_prefix(2), offset += 2;
  size_t end = body.find_first_of(" \t[{=");
  if (end == 0 || end == std::string_view::npos) return std::nullopt;
  std::string key(body.substr(0, end));
  return report(prev->number, offset + static_cast<int>(end) + 1,
                "missing ':' after the key '" + key + "'? write '" + key + ": VALUE'");
}

// An unclosed '[' or '{' before the mark: reported where it opens.
std::optional<YamlErrorReport> unclosedFlow(const std::vector<Line>& lines, int line) {
  std::vector<std::pair<const Line*, size_t>> open;
  for (const Line& l : lines) {
    if (l.number > line) break;
    char quote = 0;
    for (size_t i = 0; i < l.body.size(); ++i) {
      char c = l.body[i];
      if (quote) {
        if (c == '\\' && quote == '"')
          ++i;
        else if (c == quote)
          quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '[' || c == '{') {
        open.emplace_back(&l, i);
      } else if ((c == ']' || c == '}') && !open.empty()) {
        open.pop_back();
      }
    }
  }
  if (open.empty()) return std::nullopt;
  const auto& [l, i] = open.back();
  char c = l->body[i];
  return report(l->number, l->indent + static_cast<int>(i) + 1,
                std::string("'") + c + "' is never closed: end the " +
                    (c == '[' ? "list with ']'" : "mapping with '}'"));
}

// Block indentation, line by line: each open mapping or list is a level at
// some indentation. A line that matches none of the enclosing levels is the
// mistake, or the first line of the level it disagrees with is, when that
// level is the one indented against the file's usual step.
class IndentationCheck {
 public:
  explicit IndentationCheck(const std::vector<Line>& lines) : lines_(lines) {}

  std::optional<YamlErrorReport> run(int upTo) {
    for (const Line& l : lines_) {
      if (l.number > upTo) break;
      if (skip(l)) continue;
      if (stack_.empty())
        stack_.push_back(Level{l.indent, false, Owner::Root, "", -1, l.number, keyOf(l.body)});
      if (auto mistake = place(l)) return mistake;
      enter(l);
    }
    return std::nullopt;
  }

 private:
  enum class Owner { Root, Key, Item };
  struct Level {
    int indent;
    bool list;  // "- " items
    Owner owner;
    std::string ownerKey;
    int ownerIndent;
    int firstLine;
    std::string firstKey;
  };

  static std::string keyOf(std::string_view body) {
    if (body.starts_with("-")) return "-";
    size_t colon = keyColon(body);
    return std::string(colon == std::string_view::npos ? body : body.substr(0, colon + 1));
  }

  // Lines inside a block scalar or a flow collection carry no structure.
  bool skip(const Line& l) {
    if (!isContent(l)) return true;
    if (scalarIndent_ >= 0 && l.indent > scalarIndent_) return true;
    scalarIndent_ = -1;
    bool inside = flowDepth_ > 0;
    for (char c : l.body) flowDepth_ += (c == '[' || c == '{') - (c == ']' || c == '}');
    if (flowDepth_ < 0) flowDepth_ = 0;
    return inside;
  }

  std::optional<YamlErrorReport> place(const Line& l) {
    bool item = l.body.starts_with("- ") || l.body == "-";
    Level& top = stack_.back();
    if (opens_ && (l.indent > top.indent || (item && l.indent == top.indent && !top.list))) {
      steps_[l.indent - openIndent_] += !item || l.indent > openIndent_;
      stack_.push_back(
          Level{l.indent, item, Owner::Key, openKey_, openIndent_, l.number, keyOf(l.body)});
      opens_ = false;
      return std::nullopt;
    }
    opens_ = false;
    std::vector<Level> popped;
    while (stack_.size() > 1 &&
           (l.indent < stack_.back().indent ||
            (!item && stack_.back().list && l.indent == stack_.back().indent))) {
      popped.push_back(stack_.back());
      stack_.pop_back();
    }
    if (l.indent == stack_.back().indent) return std::nullopt;
    popped.push_back(stack_.back());
    return blame(l, item, popped);
  }

  // After `l` is placed: the levels it opens.
  void enter(const Line& l) {
    std::string_view body = l.body;
    int column = l.indent;
    if (body.starts_with("- ") || body == "-") {
      stack_.back().list = true;
      size_t rest = body.find_first_not_of(' ', 1);
      if (rest == std::string_view::npos) {
        opens_ = true, openKey_ = "", openIndent_ = column;
        return;
      }
      body.remove_prefix(rest);
      column += static_cast<int>(rest);
      if (keyColon(body) == std::string_view::npos) return;
      stack_.push_back(Level{column, false, Owner::Item, "", l.indent, l.number, keyOf(body)});
    }
    size_t colon = keyColon(body);
    if (colon == std::string_view::npos) return;
    std::string_view value = body.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    if (value.empty() || value[0] == '&' || value[0] == '!') {
      opens_ = true;
      openKey_ = std::string(body.substr(0, colon));
      openIndent_ = column;
    } else if (value[0] == '|' || value[0] == '>') {
      scalarIndent_ = column;
    }
  }

  // The step most blocks use; on a tie, YAML's customary 2.
  int usualStep() const {
    int best = 2, count = steps_.contains(2) ? steps_.at(2) : 0;
    for (auto [step, n] : steps_) {
      if (n > count) best = step, count = n;
    }
    return best;
  }

  static std::string membersOf(const Level& v) {
    if (v.list) return "items of '" + v.ownerKey + "'";
    switch (v.owner) {
      case Owner::Root:
        return "top-level keys";
      case Owner::Key:
        return "keys of '" + v.ownerKey + "'";
      case Owner::Item:
        return "keys of the list item on line " + std::to_string(v.firstLine);
    }
    return "keys";
  }

  // `l` is at no enclosing level. Which level it meant: the innermost one of
  // its kind that its indentation lies inside.
  std::optional<YamlErrorReport> blame(const Line& l, bool item, const std::vector<Level>& levels) {
    const Level* meant = nullptr;
    for (const Level& v : levels) {
      if (v.ownerIndent < l.indent && v.list == item) {
        meant = &v;
        break;
      }
    }
    if (!meant) meant = &levels.back();
    std::string key = keyOf(l.body);
    if (meant->owner == Owner::Key && l.indent == meant->ownerIndent + usualStep() &&
        meant->indent != l.indent) {
      const Line& first = lines_[static_cast<size_t>(meant->firstLine - 1)];
      return report(first.number, first.indent + 1,
                    "'" + meant->firstKey + "' is indented by " + spaces(first.indent) + "; " +
                        membersOf(*meant) + " are at " + std::to_string(l.indent) + " (as '" + key +
                        "' on line " + std::to_string(l.number) + ")");
    }
    int at = lastLine(*meant, l.number);
    const Line& sibling = lines_[static_cast<size_t>(at - 1)];
    size_t offset = static_cast<size_t>(std::max(0, meant->indent - sibling.indent));
    std::string siblingKey = keyOf(sibling.body.substr(std::min(offset, sibling.body.size())));
    return report(l.number, l.indent + 1,
                  "'" + key + "' is indented by " + spaces(l.indent) + "; " + membersOf(*meant) +
                      " are at " + std::to_string(meant->indent) + " (as '" + siblingKey +
                      "' on line " + std::to_string(at) + ")");
  }

  // The last line before `before` that starts a member of `v`.
  int lastLine(const Level& v, int before) const {
    for (int n = before - 1; n > v.firstLine; --n) {
      const Line& l = lines_[static_cast<size_t>(n - 1)];
      if (isContent(l) && l.indent == v.indent) return n;
    }
    return v.firstLine;
  }

  const std::vector<Line>& lines_;
  std::vector<Level> stack_;
  std::map<int, int> steps_;  // indentation step -> how often a block used it
  bool opens_ = false;        // the last line ended with "key:" (or "-"): a block may follow
  std::string openKey_;
  int openIndent_ = 0;
  int scalarIndent_ = -1;  // inside a block scalar: lines indented more than this
  int flowDepth_ = 0;
};

}  // namespace

YamlErrorReport explainYamlError(std::string_view text, int line, int column,
                                 std::string_view yamlMessage) {
  std::vector<Line> lines = splitLines(text);
  int at = line + 1;
  if (auto tab = tabInIndentation(lines, at)) return *tab;
  if (at >= 1 && at <= static_cast<int>(lines.size())) {
    const Line& l = lines[static_cast<size_t>(at - 1)];
    if (auto r = reservedStart(l, column, yamlMessage)) return *r;
    if (yamlMessage == "illegal map value") {
      if (auto r = colonInValue(l, column)) return *r;
      if (auto r = missingColon(lines, l)) return *r;
    }
  }
  if (yamlMessage == "end of sequence flow not found" ||
      yamlMessage == "end of map flow not found") {
    if (auto r = unclosedFlow(lines, at)) return *r;
  }
  if (yamlMessage == "illegal map value" || yamlMessage == "end of map not found" ||
      yamlMessage == "end of sequence not found") {
    if (auto r = IndentationCheck(lines).run(at)) return *r;
  }
  // yaml-cpp may point past the mistake, at a blank line or the end of the text.
  if (at > static_cast<int>(lines.size()) ||
      (at >= 1 && !isContent(lines[static_cast<size_t>(at - 1)]))) {
    if (const Line* prev = previousContent(lines, at)) {
      return report(prev->number, static_cast<int>(prev->raw.size()) + 1,
                    std::string(yamlMessage) + "; " + std::string(kQuotingHint));
    }
  }
  return report(std::max(at, 1), std::max(column, 0) + 1,
                std::string(yamlMessage) + "; " + std::string(kQuotingHint));
}

}  // namespace ringfence::policy
