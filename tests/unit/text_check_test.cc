// UTF-8 and control characters in policy text.
#include "policy/text_check.h"

#include <gtest/gtest.h>

#include "policy/sources.h"

namespace ringfence::policy {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  for (std::string_view s : {"", "plain ascii\n",
                             "\xEF\xBB\xBF"
                             "bom",
                             "caf\xC3\xA9", "\xE2\x82\xAC euro", "\xF0\x9F\x98\x80",
                             "\xF4\x8F\xBF\xBF", "\xED\x9F\xBF", "\xEE\x80\x80", "\xC2\x80"}) {
    EXPECT_EQ(firstInvalidUtf8(s), std::nullopt) << ::testing::PrintToString(std::string(s));
  }
}

TEST(Utf8, FindsTheFirstIllFormedSequence) {
  struct Case {
    std::string text;
    size_t offset;
  };
  for (const Case& c : std::vector<Case>{
           {"ab\x80", 2},            // lone continuation byte
           {"\xC0\xAF", 0},          // overlong '/'
           {"\xC1\xBF", 0},          // overlong
           {"x\xE0\x80\xAF", 1},     // overlong, 3 bytes
           {"\xF0\x80\x80\xAF", 0},  // overlong, 4 bytes
           {"ok \xED\xA0\x80", 3},   // surrogate U+D800
           {"\xED\xBF\xBF", 0},      // surrogate U+DFFF
           {"\xF4\x90\x80\x80", 0},  // U+110000
           {"\xF5\x80\x80\x80", 0},  // beyond
           {"\xFF", 0},
           {"\xFE\xFF", 0},  // UTF-16 byte order mark
           {"\xC3", 0},      // truncated at the end
           {"\xE2\x82", 0},
           {"\xF0\x9F\x98", 0},
           {"\xC3\x28", 0},          // second byte not a continuation
           {"caf\xC3\xA9 \xE9", 6},  // Latin-1 after valid UTF-8
       }) {
    EXPECT_EQ(firstInvalidUtf8(c.text), c.offset) << ::testing::PrintToString(c.text);
  }
}

TEST(ControlCharacters, FindsC0DelAndC1ButNotTabsAndLineBreaks) {
  EXPECT_EQ(firstControlCharacter("a\tb\r\nc"), std::nullopt);
  auto esc = firstControlCharacter("ok\x1b[2J");
  ASSERT_TRUE(esc);
  EXPECT_EQ(esc->codePoint, 0x1Bu);
  EXPECT_EQ(esc->offset, 2u);
  EXPECT_EQ(firstControlCharacter(std::string("a\0b", 3))->codePoint, 0u);
  EXPECT_EQ(firstControlCharacter("\x7f")->codePoint, 0x7Fu);
  auto csi = firstControlCharacter("\xC3\xA9\xC2\x9B");  // é, then U+009B (CSI)
  ASSERT_TRUE(csi);
  EXPECT_EQ(csi->codePoint, 0x9Bu);
  EXPECT_EQ(csi->offset, 2u);
  EXPECT_EQ(codePointName(0x9B), "U+009B");
}

TEST(ControlCharacters, EscapeForDisplayIsPrintableUtf8) {
  EXPECT_EQ(escapeForDisplay("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(escapeForDisplay("a\nb\xff\x1b\xC2\x9B"), "a\\x0Ab\\xFF\\x1B\\u{009B}");
  EXPECT_TRUE(isPrintableUtf8(escapeForDisplay("\xED\xA0\x80\x01\x7f")));
  EXPECT_FALSE(isPrintableUtf8("a\tb"));
  EXPECT_TRUE(isPrintableUtf8("plain"));
}

PolicySources profile(const std::string& text) {
  PolicySources s;
  s.profiles.push_back({"p/a.yaml", text});
  return s;
}

std::vector<std::string> errors(const std::string& text) {
  std::vector<std::string> out;
  for (const Diagnostic& d : loadPolicy(profile(text), LoadOptions{}).diagnostics.sorted()) {
    out.push_back(formatDiagnostic(d));
  }
  return out;
}

const std::string kIdentity = "identity:\n  addresses: [198.51.100.1]\n";
const std::string kControl = "free text may hold tabs and line breaks, no other control characters";

TEST(ControlCharacters, RefusedInEveryFreeTextField) {
  EXPECT_EQ(errors("device: a\ndescription: \"x\\ay\"\n" + kIdentity),
            std::vector<std::string>{"p/a.yaml:2:14: error: control character U+0007 in "
                                     "description: " +
                                     kControl});
  EXPECT_EQ(errors("device: a\ninventory:\n  vendor: \"B\\x9bD\"\n" + kIdentity),
            std::vector<std::string>{"p/a.yaml:3:11: error: control character U+009B in "
                                     "inventory value 'vendor': " +
                                     kControl});
  EXPECT_EQ(errors("device: a\ninventory:\n  \"ven\\0dor\": BD\n" + kIdentity),
            std::vector<std::string>{
                "p/a.yaml:3:3: error: control character U+0000 in an inventory key: " + kControl});
  EXPECT_EQ(errors("device: a\n" + kIdentity +
                   "allow:\n  outbound:\n    - to: 203.0.113.1\n      proto: tcp\n      ports: "
                   "[443]\n      comment: \"server\\r\\n2026-01-01 released\\b\"\n"),
            std::vector<std::string>{"p/a.yaml:9:16: error: control character U+0008 in comment: " +
                                     kControl});
  // A raw control byte, not an escape.
  EXPECT_EQ(errors("device: a\ndescription: ab\x7f"
                   "cd\n" +
                   kIdentity),
            std::vector<std::string>{"p/a.yaml:2:14: error: control character U+007F in "
                                     "description: " +
                                     kControl});
  // Tabs and line breaks are text.
  EXPECT_EQ(errors("device: a\ndescription: \"ward\\t3W\\r\\nbed 4\"\n" + kIdentity),
            std::vector<std::string>{});
}

TEST(ControlCharacters, EscapeThatIsNotUtf8IsRefused) {
  std::vector<std::string> e = errors("device: a\ndescription: \"x\\uD800\"\n" + kIdentity);
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_TRUE(isPrintableUtf8(e[0]));
}

TEST(ControlCharacters, MessagesQuotingValuesStayPrintable) {
  std::vector<std::string> e = errors("device: a\nmode: \"en\\x1bforce\"\n" + kIdentity);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "p/a.yaml:2:7: error: invalid mode 'en\\x1Bforce' (enforce, monitor or learn)");
}

TEST(ControlCharacters, EveryDiagnosticIsPrintableUtf8) {
  Diagnostics d;
  d.error({"p/bad\xff.yaml", 2, 3}, "invalid mode 'x\xC0\xAF\ny'");
  d.warning({"p/ok.yaml", 1, 1}, "plain \xC3\xA9");
  ASSERT_EQ(d.all().size(), 2u);
  EXPECT_EQ(formatDiagnostic(d.all()[0]),
            "p/bad\\xFF.yaml:2:3: error: invalid mode 'x\\xC0\\xAF\\x0Ay'");
  EXPECT_EQ(formatDiagnostic(d.all()[1]), "p/ok.yaml:1:1: warning: plain \xC3\xA9");
  EXPECT_EQ(d.errorCount(), 1u);
}

}  // namespace
}  // namespace ringfence::policy
