// yaml-cpp's syntax errors, translated: what to fix, on the line to fix.
#include "policy/yaml_errors.h"

#include <gtest/gtest.h>

#include "policy/yaml_tree.h"

namespace ringfence::policy {
namespace {

constexpr const char* kProfile = R"(device: monitor-icu-07
description: Patient monitor, ICU bed 7
identity:
  addresses: [198.51.100.30]
  mac: "02:00:00:00:00:30"
allow:
  outbound:
    - to: "@central-station"
      proto: tcp
      ports: [2575]
      comment: HL7 v2 over MLLP
  inbound:
    - from: "@central-station"
      proto: tcp
      ports: [24105]
)";

// `kProfile` with line `line` (1-based) replaced.
std::string edit(int line, const std::string& replacement) {
  std::string text = kProfile;
  size_t start = 0;
  for (int n = 1; n < line; ++n) start = text.find('\n', start) + 1;
  size_t end = text.find('\n', start);
  return text.substr(0, start) + replacement + text.substr(end);
}

// The one diagnostic that parsing `text` gives, as "LINE:COLUMN: MESSAGE".
std::string diagnose(const std::string& text) {
  Diagnostics diags;
  EXPECT_FALSE(parseYaml(text, "p.yaml", diags).has_value());
  if (diags.all().size() != 1)
    return "expected one diagnostic, got " + std::to_string(diags.all().size());
  const Diagnostic& d = diags.all()[0];
  EXPECT_EQ(d.where.file, "p.yaml");
  return std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": " + d.message;
}

TEST(YamlErrors, TheExampleParses) {
  Diagnostics diags;
  EXPECT_TRUE(parseYaml(kProfile, "p.yaml", diags).has_value());
  EXPECT_EQ(diags.all().size(), 0u);
}

TEST(YamlErrors, MissingColonAfterAKeyIsReportedOnItsLine) {
  // yaml-cpp: 5:6 illegal map value
  EXPECT_EQ(diagnose(edit(4, "  addresses [198.51.100.30]")),
            "4:12: invalid YAML: missing ':' after the key 'addresses'? write 'addresses: VALUE'");
  // yaml-cpp: 2:12 illegal map value
  EXPECT_EQ(diagnose(edit(1, "device monitor-icu-07")),
            "1:7: invalid YAML: missing ':' after the key 'device'? write 'device: VALUE'");
  EXPECT_EQ(diagnose(edit(9, "      proto = tcp")),
            "9:12: invalid YAML: missing ':' after the key 'proto'? write 'proto: VALUE'");
}

TEST(YamlErrors, TabInTheIndentation) {
  // yaml-cpp: 5:2 end of map not found
  EXPECT_EQ(diagnose(edit(5, "\tmac: \"02:00:00:00:00:30\"")),
            "5:1: invalid YAML: a tab in the indentation: YAML indents with spaces only; replace "
            "the tab with spaces");
  EXPECT_EQ(diagnose(edit(9, "    \t  proto: tcp")),
            "9:5: invalid YAML: a tab in the indentation: YAML indents with spaces only; replace "
            "the tab with spaces");
}

TEST(YamlErrors, MisindentedKeyIsReportedWhereItIsNotWhereYamlCppGivesUp) {
  // yaml-cpp: 12:3 end of map not found; the odd one is line 7.
  EXPECT_EQ(diagnose(edit(7, " outbound:")),
            "7:2: invalid YAML: 'outbound:' is indented by 1 space; keys of 'allow' are at 2 (as "
            "'inbound:' on line 12)");
  EXPECT_EQ(diagnose(edit(5, "   mac: \"02:00:00:00:00:30\"")),
            "5:4: invalid YAML: 'mac:' is indented by 3 spaces; keys of 'identity' are at 2 (as "
            "'addresses:' on line 4)");
  EXPECT_EQ(diagnose(edit(9, "     proto: tcp")),
            "9:6: invalid YAML: 'proto:' is indented by 5 spaces; keys of the list item on line 8 "
            "are at 6 (as 'to:' on line 8)");
  EXPECT_EQ(diagnose(edit(3, " identity:")),
            "3:2: invalid YAML: 'identity:' is indented by 1 space; top-level keys are at 0 (as "
            "'description:' on line 2)");
}

TEST(YamlErrors, ValueStartingWithAReservedCharacter) {
  // yaml-cpp: 8:11 unknown token
  EXPECT_EQ(diagnose(edit(8, "    - to: @central-station")),
            "8:11: invalid YAML: a value starting with '@' must be quoted: \"@central-station\"");
  EXPECT_EQ(diagnose(edit(8, "    - to: [@central-station, 203.0.113.1]")),
            "8:12: invalid YAML: a value starting with '@' must be quoted: \"@central-station\"");
  EXPECT_EQ(diagnose(edit(8, "    - to: *central")),
            "8:11: invalid YAML: a value starting with '*' must be quoted: \"*central\"");
}

TEST(YamlErrors, ValueHoldingColonSpace) {
  // yaml-cpp: 11:22 illegal map value
  EXPECT_EQ(diagnose(edit(11, "      comment: HL7 v2: MLLP")),
            "11:16: invalid YAML: the value of 'comment' contains ': ', so it must be quoted: "
            "comment: \"HL7 v2: MLLP\"");
  EXPECT_EQ(diagnose(edit(2, "description: Monitor: ICU bed 7  # the ICU")),
            "2:14: invalid YAML: the value of 'description' contains ': ', so it must be quoted: "
            "description: \"Monitor: ICU bed 7\"");
}

TEST(YamlErrors, UnclosedFlowList) {
  // yaml-cpp: 5:6 end of sequence flow not found
  EXPECT_EQ(diagnose(edit(4, "  addresses: [198.51.100.30")),
            "4:14: invalid YAML: '[' is never closed: end the list with ']'");
}

TEST(YamlErrors, OtherErrorsKeepYamlCppsWordsWithAHint) {
  EXPECT_EQ(diagnose(edit(1, "device: &a &b monitor-icu-07")),
            "1:12: invalid YAML: cannot assign multiple anchors to the same node; quote values "
            "that contain ': ', ' #', or start with @, *, &, !, |, >, %, `");
}

TEST(YamlErrors, PointsBackFromABlankLine) {
  YamlErrorReport r = explainYamlError("a: b\n\n# c\n\n", 3, 0, "something odd");
  EXPECT_EQ(r.line, 1);
  EXPECT_EQ(r.column, 5);
  EXPECT_EQ(r.message.rfind("invalid YAML: something odd; quote values", 0), 0u);
}

TEST(YamlErrors, BlockScalarsAndFlowListsCarryNoIndentation) {
  // The lines inside `|` and a multi-line list do not count as keys.
  std::string text = "a: |\n   free\n    text\nb: [1,\n      2]\nc:\n  d: 1\n   e: 2\n";
  YamlErrorReport r = explainYamlError(text, 7, 3, "end of map not found");
  EXPECT_EQ(r.line, 8);
  EXPECT_EQ(r.message,
            "invalid YAML: 'e:' is indented by 3 spaces; keys of 'c' are at 2 (as 'd:' on line 7)");
}

}  // namespace
}  // namespace ringfence::policy
