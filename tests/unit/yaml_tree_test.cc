#include "policy/yaml_tree.h"

#include <gtest/gtest.h>

#include <string>

namespace ringfence::policy {
namespace {

std::string onlyMessage(const Diagnostics& d) {
  return d.all().size() == 1 ? formatDiagnostic(d.all()[0])
                             : "(" + std::to_string(d.all().size()) + " diagnostics)";
}

TEST(YamlTree, KeepsMarksAndQuoting) {
  Diagnostics d;
  auto root = parseYaml("a: 1\nb: \"2\"\nc: [x, y]\n", "f.yaml", d);
  ASSERT_TRUE(root);
  ASSERT_EQ(root->kind, YamlNode::Kind::Map);
  ASSERT_EQ(root->entries.size(), 3u);
  EXPECT_FALSE(root->entries[0].value.quoted);
  EXPECT_TRUE(root->entries[1].value.quoted);
  EXPECT_EQ(root->entries[2].value.items[1].line, 3);
  EXPECT_EQ(root->entries[2].value.items[1].column, 8);
  EXPECT_TRUE(d.all().empty());
}

TEST(YamlTree, RefusesDuplicateKeysAndKeepsTheFirst) {
  Diagnostics d;
  auto root = parseYaml("a: 1\nb: 2\na: 3\n", "f.yaml", d);
  ASSERT_TRUE(root);
  EXPECT_EQ(onlyMessage(d), "f.yaml:3:1: error: duplicate key 'a' (first at line 1, column 1)");
  ASSERT_EQ(root->entries.size(), 2u);
  EXPECT_EQ(root->entries[0].value.scalar, "1");
}

TEST(YamlTree, DuplicateKeysInFlowMappings) {
  Diagnostics d;
  parseYaml("m: {x: 1, x: 2}\n", "f.yaml", d);
  EXPECT_EQ(onlyMessage(d), "f.yaml:1:11: error: duplicate key 'x' (first at line 1, column 5)");
}

std::string nested(int depth) {
  return std::string(static_cast<size_t>(depth), '[') +
         std::string(static_cast<size_t>(depth), ']');
}

TEST(YamlTree, AcceptsSixtyFourLevels) {
  Diagnostics d;
  EXPECT_TRUE(parseYaml(nested(64), "f.yaml", d));
  EXPECT_TRUE(d.all().empty());
}

TEST(YamlTree, RefusesSixtyFiveLevels) {
  Diagnostics d;
  EXPECT_FALSE(parseYaml(nested(65), "f.yaml", d));
  EXPECT_EQ(onlyMessage(d), "f.yaml:1:65: error: nested deeper than 64 levels");
}

TEST(YamlTree, DeepNestingDoesNotOverflowTheStack) {
  Diagnostics d;
  EXPECT_FALSE(parseYaml(nested(200000), "f.yaml", d));
  EXPECT_TRUE(d.hasErrors());
}

TEST(YamlTree, DeepBlockNestingIsRefusedToo) {
  std::string text;
  for (int i = 0; i < 70; ++i) text += std::string(static_cast<size_t>(i) * 2, ' ') + "k:\n";
  Diagnostics d;
  EXPECT_FALSE(parseYaml(text, "f.yaml", d));
  EXPECT_NE(onlyMessage(d).find("nested deeper than 64 levels"), std::string::npos);
}

TEST(YamlTree, RefusesAliasBombs) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; ++c, ++prev) {
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) text += std::string(i ? ", " : "") + "*" + prev;
    text += "]\n";
  }
  Diagnostics d;
  EXPECT_FALSE(parseYaml(text, "f.yaml", d));
  EXPECT_NE(onlyMessage(d).find("expands to more than 100000 nodes"), std::string::npos);
}

TEST(YamlTree, SmallAliasesExpand) {
  Diagnostics d;
  auto root = parseYaml("a: &p [1, 2]\nb: *p\n", "f.yaml", d);
  ASSERT_TRUE(root);
  EXPECT_EQ(root->entries[1].value.items.size(), 2u);
  EXPECT_EQ(root->entries[1].value.line, 2);
}

TEST(YamlTree, RefusesFilesOverOneMebibyte) {
  std::string text = "a: \"" + std::string(1024 * 1024, 'x') + "\"\n";
  Diagnostics d;
  EXPECT_FALSE(parseYaml(text, "f.yaml", d));
  EXPECT_NE(onlyMessage(d).find("f.yaml:1:1: error: file is larger than 1048576 bytes"),
            std::string::npos);
}

TEST(YamlTree, EmptyDocumentIsNull) {
  Diagnostics d;
  auto root = parseYaml("# nothing\n", "f.yaml", d);
  ASSERT_TRUE(root);
  EXPECT_EQ(root->kind, YamlNode::Kind::Null);
}

TEST(YamlTree, SyntaxErrorsCarryTheirPlace) {
  Diagnostics d;
  EXPECT_FALSE(parseYaml("a: [1, 2\nb: 3\n", "f.yaml", d));
  // yaml-cpp stops on line 2; the list is opened, and never closed, on line 1.
  EXPECT_EQ(onlyMessage(d),
            "f.yaml:1:4: error: invalid YAML: '[' is never closed: end the list with ']'");
}

}  // namespace
}  // namespace ringfence::policy
