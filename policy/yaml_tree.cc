#include "policy/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <sstream>
#include <unordered_map>

#include "policy/yaml_errors.h"
#include "policy/yaml_simple.h"

namespace ringfence::policy {
namespace {

struct LimitExceeded {
  int line;
  int column;
  std::string message;
};

class TreeBuilder final : public YAML::EventHandler {
 public:
  TreeBuilder(const std::string& file, Diagnostics& diags, const YamlLimits& limits)
      : file_(file), diags_(diags), limits_(limits) {}

  std::optional<YamlNode> takeRoot() { return std::move(root_); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    YamlNode n = leaf(mark, YamlNode::Kind::Null);
    add(std::move(n), anchor, 1);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      throw LimitExceeded{mark.line + 1, mark.column + 1,
                          "alias refers to a node that contains it"};
    }
    YamlNode copy = it->second.node;
    copy.line = mark.line + 1;
    copy.column = mark.column + 1;
    add(std::move(copy), 0, it->second.size);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    checkTag(mark, tag);
    YamlNode n = leaf(mark, YamlNode::Kind::Scalar);
    n.scalar = value;
    n.quoted = (tag == "!");
    add(std::move(n), anchor, 1);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, YamlNode::Kind::Sequence);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, YamlNode::Kind::Map);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    YamlNode node;
    YAML::anchor_t anchor = 0;
    size_t size = 1;  // nodes in this subtree, aliases expanded
    std::optional<YamlNode> key;
    bool dropValue = false;  // the value of a duplicate key
    std::unordered_map<std::string, std::pair<int, int>> seenKeys;
  };
  struct Anchored {
    YamlNode node;
    size_t size;
  };

  YamlNode leaf(const YAML::Mark& mark, YamlNode::Kind kind) const {
    YamlNode n;
    n.kind = kind;
    n.line = mark.line + 1;
    n.column = mark.column + 1;
    return n;
  }

  void checkTag(const YAML::Mark& mark, const std::string& tag) {
    if (!tag.empty() && tag != "?" && tag != "!") {
      diags_.error({file_, mark.line + 1, mark.column + 1},
                   "YAML tags are not supported (found '" + tag + "')");
    }
  }

  void open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
            YamlNode::Kind kind) {
    checkTag(mark, tag);
    if (static_cast<int>(stack_.size()) >= limits_.maxDepth) {
      throw LimitExceeded{mark.line + 1, mark.column + 1,
                          "nested deeper than " + std::to_string(limits_.maxDepth) + " levels"};
    }
    Frame f;
    f.node = leaf(mark, kind);
    f.anchor = anchor;
    stack_.push_back(std::move(f));
    countNodes(1, mark.line + 1, mark.column + 1);
  }

  void close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.key) {  // a map whose last key had no value: cannot happen with yaml-cpp, be safe
      f.node.entries.push_back(YamlEntry{std::move(*f.key), YamlNode{}});
    }
    attach(std::move(f.node), f.anchor, f.size);
  }

  void countNodes(size_t n, int line, int column) {
    total_ += n;
    if (total_ > limits_.maxNodes) {
      throw LimitExceeded{line, column,
                          "document expands to more than " + std::to_string(limits_.maxNodes) +
                              " nodes (anchors and aliases included)"};
    }
  }

  void add(YamlNode&& n, YAML::anchor_t anchor, size_t size) {
    countNodes(size, n.line, n.column);
    attach(std::move(n), anchor, size);
  }

  void attach(YamlNode&& n, YAML::anchor_t anchor, size_t size) {
    if (anchor != 0) anchors_[anchor] = Anchored{n, size};
    if (stack_.empty()) {
      root_ = std::move(n);
      return;
    }
    Frame& parent = stack_.back();
    parent.size += size;
    if (parent.node.kind == YamlNode::Kind::Sequence) {
      parent.node.items.push_back(std::move(n));
      return;
    }
    if (!parent.key) {
      acceptKey(parent, std::move(n));
      return;
    }
    if (n.kind == YamlNode::Kind::Null) {
      // yaml-cpp marks an empty value where the next token starts; the key is where it is.
      n.line = parent.key->line;
      n.column = parent.key->column;
    }
    if (!parent.dropValue)
      parent.node.entries.push_back(YamlEntry{std::move(*parent.key), std::move(n)});
    parent.key.reset();
    parent.dropValue = false;
  }

  void acceptKey(Frame& map, YamlNode&& key) {
    map.dropValue = false;
    if (key.kind != YamlNode::Kind::Scalar) {
      diags_.error({file_, key.line, key.column},
                   std::string("a key must be a string, not ") + describeKind(key.kind));
      map.dropValue = true;
    } else {
      auto [it, inserted] = map.seenKeys.try_emplace(key.scalar, key.line, key.column);
      if (!inserted) {
        diags_.error({file_, key.line, key.column},
                     "duplicate key '" + key.scalar + "' (first at line " +
                         std::to_string(it->second.first) + ", column " +
                         std::to_string(it->second.second) + ")");
        map.dropValue = true;
      }
    }
    map.key = std::move(key);
  }

  const std::string& file_;
  Diagnostics& diags_;
  const YamlLimits& limits_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchored> anchors_;
  std::optional<YamlNode> root_;
  size_t total_ = 0;
};

// Stops at the start of a second document without building it.
class SecondDocumentProbe final : public YAML::EventHandler {
 public:
  struct Found {
    int line, column;
  };
  void OnDocumentStart(const YAML::Mark& m) override { throw Found{m.line + 1, m.column + 1}; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

const char* describeKind(YamlNode::Kind kind) {
  switch (kind) {
    case YamlNode::Kind::Null:
      return "an empty value";
    case YamlNode::Kind::Scalar:
      return "a scalar";
    case YamlNode::Kind::Sequence:
      return "a list";
    case YamlNode::Kind::Map:
      return "a mapping";
  }
  return "?";
}

bool YamlNode::operator==(const YamlNode&) const = default;

std::optional<YamlNode> parseYaml(std::string_view text, const std::string& file,
                                  Diagnostics& diags, const YamlLimits& limits) {
  if (auto root = parseSimpleYaml(text, limits)) return root;
  return parseYamlWithYamlCpp(text, file, diags, limits);
}

std::optional<YamlNode> parseYamlWithYamlCpp(std::string_view text, const std::string& file,
                                             Diagnostics& diags, const YamlLimits& limits) {
  if (text.size() > limits.maxBytes) {
    diags.error({file, 1, 1}, "file is larger than " + std::to_string(limits.maxBytes) +
                                  " bytes (" + std::to_string(text.size()) + ")");
    return std::nullopt;
  }
  std::istringstream in{std::string(text)};
  try {
    YAML::Parser parser(in);
    TreeBuilder builder(file, diags, limits);
    if (!parser.HandleNextDocument(builder)) {
      YamlNode empty;
      empty.line = 1;
      empty.column = 1;
      return empty;
    }
    std::optional<YamlNode> root = builder.takeRoot();
    try {
      SecondDocumentProbe probe;
      parser.HandleNextDocument(probe);
    } catch (const SecondDocumentProbe::Found& f) {
      diags.error({file, f.line, f.column}, "a file holds exactly one YAML document");
      return std::nullopt;
    }
    return root;
  } catch (const LimitExceeded& e) {
    diags.error({file, e.line, e.column}, e.message);
  } catch (const YAML::Exception& e) {
    YamlErrorReport r = explainYamlError(text, e.mark.line, e.mark.column, e.msg);
    diags.error({file, r.line, r.column}, std::move(r.message));
  } catch (const std::exception& e) {
    diags.error({file, 1, 1}, std::string("cannot parse: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace ringfence::policy
