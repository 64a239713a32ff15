// The simple reader must build exactly yaml-cpp's tree for every text it
// accepts, and accept the profiles admins write. Compared here on the
// example profiles, the test data, generated policies, a table of tricky
// texts and many random texts built from YAML's sharp edges.
#include "policy/yaml_simple.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/policy_generator.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

namespace fs = std::filesystem;

std::string dump(const YamlNode& n) {
  std::ostringstream out;
  out << n.line << ':' << n.column << ' ';
  switch (n.kind) {
    case YamlNode::Kind::Null:
      out << "null";
      break;
    case YamlNode::Kind::Scalar:
      out << (n.quoted ? "'" : "") << n.scalar << (n.quoted ? "'" : "");
      break;
    case YamlNode::Kind::Sequence:
      out << '[';
      for (const YamlNode& i : n.items) out << dump(i) << ", ";
      out << ']';
      break;
    case YamlNode::Kind::Map:
      out << '{';
      for (const YamlEntry& e : n.entries) out << dump(e.key) << " => " << dump(e.value) << ", ";
      out << '}';
      break;
  }
  return out.str();
}

// True when the simple reader accepted `text`; fails the test when its tree
// differs from yaml-cpp's or yaml-cpp has anything to say about the text.
bool sameAsYamlCpp(const std::string& text) {
  auto simple = parseSimpleYaml(text, YamlLimits{});
  if (!simple) return false;
  Diagnostics diags;
  auto full = parseYamlWithYamlCpp(text, "f.yaml", diags);
  EXPECT_TRUE(full) << "accepted what yaml-cpp refuses:\n" << text;
  EXPECT_TRUE(diags.all().empty()) << "accepted what yaml-cpp reports:\n" << text;
  if (full) {
    EXPECT_EQ(dump(*simple), dump(*full)) << text;
    EXPECT_TRUE(*simple == *full) << text;
  }
  return true;
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(YamlSimple, ReadsEveryExampleProfileAsYamlCppDoes) {
  fs::path root = RINGFENCE_SOURCE_DIR;
  std::vector<fs::path> files = {root / "profiles/ringfence.yaml", root / "profiles/groups.yaml"};
  for (const auto& e : fs::directory_iterator(root / "profiles/devices")) files.push_back(e.path());
  for (const auto& e : fs::directory_iterator(root / "tests/data/golden/profiles")) {
    files.push_back(e.path());
  }
  for (const fs::path& f : files) {
    EXPECT_TRUE(sameAsYamlCpp(readFile(f))) << "declined " << f;
  }
}

TEST(YamlSimple, ReadsGeneratedPoliciesAsYamlCppDoes) {
  test::TempDir dir;
  test::writeGeneratedPolicy(dir.path(), 300);
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
    if (!e.is_regular_file()) continue;
    EXPECT_TRUE(sameAsYamlCpp(readFile(e.path()))) << "declined " << e.path();
    ++files;
  }
  EXPECT_EQ(files, 302);
}

TEST(YamlSimple, MatchesOrDeclinesTheRejectionCorpus) {
  for (const auto& e : fs::directory_iterator(fs::path(RINGFENCE_TEST_DATA) / "reject")) {
    sameAsYamlCpp(readFile(e.path()));
  }
}

TEST(YamlSimple, TrickyTexts) {
  struct Case {
    const char* text;
    bool accepted;
  };
  const Case cases[] = {
      {"a: 1\n", true},
      {"a: b c  \n", true},
      {"a: b # c\n", true},
      {"a: b#c\n", false},
      {"a: 2001:db8::1\n", true},
      {"a: [2001:db8::1]\n", false},
      {"a: [\"2001:db8::1\", x]\n", true},
      {"a: []\n", true},
      {"a: [ ]\n", true},
      {"a: [x,]\n", false},
      {"a: [x, [y]]\n", false},
      {"a: {x: 1}\n", false},
      {"a:\n", true},
      {"a: # c\nb: 1\n", true},
      {"a: null\n", false},
      {"a: ~\n", false},
      {"a: b: c\n", false},
      {"a: b:\n", false},
      {"a: 'it''s'\n", false},
      {"a: \"x\\ty\"\n", false},
      {"a: \"x\" y\n", false},
      {"a: \"x\"# y\n", false},
      {"a: \"x\" # y\n", true},
      {"\"a\": 1\n", false},
      {"a: 1\na: 2\n", false},
      {"a: 1\n  b: 2\n", false},
      {"a: x\n  y\n", false},
      {"a:\n- 1\n- 2\nb: 3\n", true},
      {"a:\n  - 1\n  - 2\nb: 3\n", true},
      {"a:\n  - x: 1\n    y: 2\n  - x: 3\n", true},
      {"a:\n  - x: 1\n   y: 2\n", false},
      {"a:\n  - x: 1\n      y: 2\n", false},
      {"- a\n- b\n", true},
      {"- - a\n", false},
      {"-\n  a: 1\n", false},
      {"a: &x 1\nb: *x\n", false},
      {"a: !t 1\n", false},
      {"a: |\n  x\n", false},
      {"a: >\n  x\n", false},
      {"--- \na: 1\n", false},
      {"a: 1\n...\n", false},
      {"%YAML 1.2\n---\na: 1\n", false},
      {"a:\tb\n", false},
      {"a: b\r\n", false},
      {"a: b", false},
      {"# only a comment\n", false},
      {"a: -1\n", false},
      {"a: @x\n", false},
      {"a: \"@x\"\n", true},
      {"a: 'x'\n", true},
      {"a: x # é\n", true},
      {"a: é\n", false},
      {"  a: 1\n  b: 2\n", true},
      {"  a: 1\nb: 2\n", false},
      {"a:\n    b: 1\n  c: 2\n", false},
      {"a:\n  b:\n    c: [1, 2]\n  d: x\n", true},
      {"a: x:y\n", true},
      {"a: (x) + y, z\n", true},
      {"a:b\n", false},
      {"? a\n: b\n", false},
      {"-  a:\n- b-\n", true},  // a's value is null: "b-" is no list at a's column
      {"- k:\n  -  a:\n  - b-\n", true},
      {"-  a:\n- x- y\n", true},
      {"null: 1\n", false},
      {"Null:\n", false},
      {"nulls: 1\n", true},
      {"a: 1 # \xC3\xA9\n", true},
      {"# \xC3\n", false},
      {"a: 1 # \xC3\n", false},
      {"a: 1 # \xC2\x85\n", false},
      {"a: 1 # \xE2\x80\xA8\n", false},
      {"\xEF\xBB\xBF"
       "a: 1\n",
       false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(sameAsYamlCpp(c.text), c.accepted) << c.text;
  }
}

TEST(YamlSimple, ManyKeysAndADuplicateAmongThem) {
  std::string text, nested = "sub:\n";
  for (int i = 0; i < 40; ++i) {
    text += "key" + std::to_string(i) + ": " + std::to_string(i) + "\n";
    nested += "  key" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  }
  EXPECT_TRUE(sameAsYamlCpp(text));
  EXPECT_TRUE(sameAsYamlCpp(text + nested));
  for (int dup : {3, 15, 16, 17, 39}) {
    EXPECT_FALSE(sameAsYamlCpp(text + "key" + std::to_string(dup) + ": x\n")) << dup;
    EXPECT_FALSE(sameAsYamlCpp(text + nested + "  key" + std::to_string(dup) + ": x\n")) << dup;
  }
}

TEST(YamlSimple, LongKeysAreLeftToYamlCpp) {
  // yaml-cpp takes a key only when its ':' is at most 1,024 characters on.
  for (size_t n : {200u, 256u, 257u, 1024u, 1025u, 4000u}) {
    std::string key(n, 'a');
    for (const std::string& text : {key + ": b\n", "- " + key + ": b\n", "x: 1\n" + key + ":\n"}) {
      EXPECT_EQ(sameAsYamlCpp(text), n <= 256) << n;
    }
  }
}

// Random texts from YAML's sharp edges: every one the reader accepts must
// be yaml-cpp's tree.
TEST(YamlSimple, RandomTextsMatchYamlCpp) {
  const std::vector<std::string> keys = {"a",     "b", "to", "ports", "x-y",  "k.1",  "_z", "a b",
                                         "\"q\"", "-", "?",  "a:b",   "null", "NULL", "~",  "1"};
  const std::vector<std::string> values = {
      "1",
      "x",
      "a b",
      "a:b",
      "a: b",
      "a #c",
      "a#b",
      "null",
      "~",
      "-1",
      "@x",
      "\"q\"",
      "'q'",
      "'i''t'",
      "\"a\\tb\"",
      "[a, b]",
      "[a,b]",
      "[ ]",
      "[]",
      "[a, [b]]",
      "{a: 1}",
      "&x a",
      "*x",
      "!t a",
      "|",
      ">",
      "2001:db8::1",
      "[2001:db8::1]",
      "a,b",
      "a ]",
      "x  ",
      "\"a\" b",
      "[\"a\", 'b' ]",
      "[a, ]",
      "[a b, c]",
      "(a)",
      "+1",
      ".5",
      "/p",
      "x:",
      "\"\"",
      "''",
      "[\"\"]",
      "a'b",
      "a\"b",
      "[a'b]",
      "# c",
      "x # c",
      "R&D *x!",
      "a|b>c",
      "a%b@c`d",
      "a{b}[c]",
      "a\\b",
      "a?b",
      "a - b",
      "a -",
      "a :b",
      "a,",
      "...",
      "---",
      "a: ",
      "x\"y\"",
      "[a&b, c*d, e!f]",
      "[g|h, i>j, k%l, m@n]",
      "[o`p, q\\r, s?t, u-v, w=x]",
      "[a ,b]",
      "[ a , b ]",
      "x #",
  };
  const std::vector<std::string> shapes = {
      "K: V",     "K:",   "- V", "- K: V", "- K:", "-",       "# c",       "",
      "K: V # c", "--- ", "...", "  ",     "K:  ", "-  K: V", "- K: V # c"};
  std::mt19937 rng(20261207);
  auto pick = [&rng](const std::vector<std::string>& v) -> const std::string& {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  int accepted = 0;
  const int texts = 20000;
  for (int t = 0; t < texts; ++t) {
    std::string text;
    int lines = std::uniform_int_distribution<int>(1, 7)(rng);
    for (int l = 0; l < lines; ++l) {
      int indent = std::uniform_int_distribution<int>(0, 3)(rng) * 2 -
                   (std::uniform_int_distribution<int>(0, 9)(rng) == 0 ? 1 : 0);
      std::string line(static_cast<size_t>(std::max(indent, 0)), ' ');
      for (char c : pick(shapes)) {
        if (c == 'K') {
          line += pick(keys);
        } else if (c == 'V') {
          line += pick(values);
        } else {
          line += c;
        }
      }
      text += line + "\n";
    }
    if (sameAsYamlCpp(text)) ++accepted;
    if (::testing::Test::HasFailure()) break;
  }
  // The generator must reach the reader's accepting paths often enough to test them.
  EXPECT_GT(accepted, texts / 20);
}

// Every text of up to three lines from short line shapes, each at indents
// 0 to 3: the columns where one line's dash or key meets another's.
TEST(YamlSimple, EveryShortTextMatchesYamlCpp) {
  const std::vector<std::string> shapes = {"a:",   "- a:", "-  a:", "- a",    "a: b",
                                           "- b-", "b-",   "-",     "a: [b]", "- - a"};
  std::vector<std::string> lines;
  for (int indent = 0; indent <= 3; ++indent) {
    for (const std::string& shape : shapes) {
      lines.push_back(std::string(static_cast<size_t>(indent), ' ') + shape + "\n");
    }
  }
  int accepted = 0;
  for (const std::string& a : lines) {
    for (const std::string& b : lines) {
      for (const std::string& c : lines) {
        if (sameAsYamlCpp(a + b + c)) ++accepted;
      }
      if (sameAsYamlCpp(a + b)) ++accepted;
    }
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(accepted, 500);
}

// Random well-formed documents in the styles admins use (indented or not,
// maps inside list items, comments between lines), with the scalars above:
// deep structure the line-by-line texts rarely reach.
class TreeWriter {
 public:
  TreeWriter(std::mt19937& rng, const std::vector<std::string>& scalars)
      : rng_(rng), scalars_(scalars) {}

  std::string document() {
    out_.clear();
    width_ = 1 + static_cast<int>(rng_() % 4);
    map(0, 0, false);
    return out_;
  }

 private:
  bool chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }
  std::string scalar() { return scalars_[rng_() % scalars_.size()]; }
  std::string key() { return std::string(1, static_cast<char>('a' + rng_() % 6)); }
  void comment(int indent) {
    if (chance(10)) out_ += std::string(static_cast<size_t>(indent), ' ') + "# note\n";
    if (chance(5)) out_ += "\n";
  }

  // Writes a mapping's entries at `indent`; with `inItem` the first key
  // follows a "- " already written.
  void map(int indent, int depth, bool inItem) {
    int n = 1 + static_cast<int>(rng_() % 4);
    for (int i = 0; i < n; ++i) {
      if (i > 0 || !inItem) {
        comment(indent);
        out_ += std::string(static_cast<size_t>(indent), ' ');
      }
      out_ += key() + std::to_string(i) + ":";
      value(indent, depth);
    }
  }

  void sequence(int indent, int depth) {
    int n = 1 + static_cast<int>(rng_() % 3);
    for (int i = 0; i < n; ++i) {
      comment(indent);
      out_ += std::string(static_cast<size_t>(indent), ' ') + "-" + (chance(10) ? "  " : " ");
      int itemIndent = static_cast<int>(out_.size() - out_.rfind('\n') - 1);
      if (depth < 6 && chance(40)) {
        map(itemIndent, depth + 1, true);
      } else {
        out_ += scalar() + (chance(10) ? " # c" : "") + "\n";
      }
    }
  }

  // After "key:": a scalar on the line, or a block below it.
  void value(int indent, int depth) {
    int kind = static_cast<int>(rng_() % 10);
    if (depth >= 6 || kind < 5) {
      out_ += " " + scalar() + (chance(10) ? " # c" : "") + "\n";
    } else if (kind < 6) {
      out_ += chance(50) ? "\n" : "  # c\n";  // an empty value
    } else if (kind < 8) {
      out_ += "\n";
      sequence(chance(30) ? indent : indent + width_, depth + 1);
    } else {
      out_ += "\n";
      map(indent + width_, depth + 1, false);
    }
  }

  std::mt19937& rng_;
  const std::vector<std::string>& scalars_;
  std::string out_;
  int width_ = 2;
};

TEST(YamlSimple, RandomDocumentsMatchYamlCpp) {
  const std::vector<std::string> scalars = {"1",
                                            "x",
                                            "a b",
                                            "a:b",
                                            "2001:db8::1",
                                            "\"2001:db8::1\"",
                                            "'q'",
                                            "\"\"",
                                            "[]",
                                            "[a, b]",
                                            "[\"a\", 'b', 3]",
                                            "[ a b , c ]",
                                            "(a) + b",
                                            "R&D *x!",
                                            "a|b>c",
                                            "a%b@c`d",
                                            "a{b}[c]",
                                            "a,b",
                                            "a - b",
                                            "x:y:z",
                                            "8000-8010",
                                            "198.18.0.0/24",
                                            ".5",
                                            "+1",
                                            "/p",
                                            "a'b",
                                            "x\"y\"",
                                            "a: b",
                                            "null",
                                            "-1",
                                            "@x",
                                            "a#b",
                                            "[a, ]"};
  std::mt19937 rng(42);
  TreeWriter writer(rng, scalars);
  int accepted = 0;
  const int texts = 20000;
  for (int t = 0; t < texts; ++t) {
    if (sameAsYamlCpp(writer.document())) ++accepted;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(accepted, texts / 10);
}

// Every profile of a generated policy, cut and edited at random.
TEST(YamlSimple, EditedProfilesMatchYamlCpp) {
  test::TempDir dir;
  test::writeGeneratedPolicy(dir.path(), 20);
  std::vector<std::string> texts;
  for (const auto& e : fs::directory_iterator(dir.path() / "devices")) {
    texts.push_back(readFile(e.path()));
  }
  texts.push_back(readFile(fs::path(RINGFENCE_SOURCE_DIR) / "profiles/devices/ct-scanner-01.yaml"));
  const std::string inserts[] = {" ", "  ", "-", ":", "#",  "\"", "'",
                                 "[", "]",  ",", "x", "\n", "- "};
  std::mt19937 rng(7);
  int accepted = 0;
  const int edits = 20000;
  for (int t = 0; t < edits; ++t) {
    std::string text = texts[t % texts.size()];
    int n = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int k = 0; k < n && !text.empty(); ++k) {
      size_t at = std::uniform_int_distribution<size_t>(0, text.size() - 1)(rng);
      if (rng() % 2) {
        text.erase(at, 1 + rng() % 3);
      } else {
        text.insert(at, inserts[rng() % std::size(inserts)]);
      }
    }
    if (text.empty() || text.back() != '\n') text += '\n';
    if (sameAsYamlCpp(text)) ++accepted;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(accepted, edits / 20);
}

}  // namespace
}  // namespace ringfence::policy
