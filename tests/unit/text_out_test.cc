// UTF-8 for the bus, control characters escaped for the log, bounded reasons.
#include "policy/text_out.h"

#include <gtest/gtest.h>

namespace ringfence::policy {
namespace {

const std::string kFffd = "\xef\xbf\xbd";

TEST(Utf8Out, ValidTextIsUnchanged) {
  for (std::string s : {"", "plain", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x92\x89 pump",
                        "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_TRUE(isValidUtf8(s)) << s;
    EXPECT_EQ(validUtf8(s), s);
  }
}

TEST(Utf8Out, InvalidSequencesBecomeReplacementCharacters) {
  EXPECT_EQ(validUtf8("caf\xe9"), "caf" + kFffd);
  EXPECT_EQ(validUtf8("\xff\xfe"), kFffd + kFffd);
  EXPECT_EQ(validUtf8("\xc0\xaf"), kFffd + kFffd) << "overlong";
  EXPECT_EQ(validUtf8("\xed\xa0\x80"), kFffd + kFffd + kFffd) << "a surrogate";
  EXPECT_EQ(validUtf8("\xf4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd) << "above U+10FFFF";
  EXPECT_EQ(validUtf8("\xe2\x82"), kFffd) << "a truncated sequence is one maximal subpart";
  EXPECT_EQ(validUtf8("\xe2\x82x"), kFffd + "x");
  EXPECT_EQ(validUtf8("a\x80z"), "a" + kFffd + "z");
  for (std::string s : {"caf\xe9", "\xff", "\xc0\xaf", "\xe2\x82"}) {
    EXPECT_FALSE(isValidUtf8(s));
    EXPECT_TRUE(isValidUtf8(validUtf8(s)));
  }
}

TEST(Utf8Out, EveryByteStringComesOutValid) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; b += 7) {
      std::string s = {static_cast<char>(a), static_cast<char>(b), '\xa0'};
      EXPECT_TRUE(isValidUtf8(validUtf8(s)));
    }
  }
}

TEST(LogText, ControlCharactersAreEscaped) {
  EXPECT_EQ(escapeControls("a\nerror: forged"), "a\\nerror: forged");
  EXPECT_EQ(escapeControls("\r\t\x1b[31m\x7f\x01"), "\\r\\t\\x1b[31m\\x7f\\x01");
  EXPECT_EQ(escapeControls("caf\xc3\xa9 \\ ok"), "caf\xc3\xa9 \\ ok");
  EXPECT_EQ(escapeControls(std::string("a\0b", 3)), "a\\x00b");
}

TEST(Reasons, AreBoundedPrintableUtf8) {
  EXPECT_FALSE(reasonProblem("suspicious traffic to 203.0.113.99"));
  EXPECT_FALSE(reasonProblem("caf\xc3\xa9"));
  EXPECT_FALSE(reasonProblem(std::string(kMaxReasonBytes, 'a')));
  EXPECT_NE(reasonProblem("")->find("empty"), std::string::npos);
  EXPECT_NE(reasonProblem(std::string(kMaxReasonBytes + 1, 'a'))->find("at most 512"),
            std::string::npos);
  EXPECT_NE(reasonProblem(std::string(1 << 20, 'a'))->find("1048576 bytes"), std::string::npos);
  EXPECT_NE(reasonProblem("caf\xe9")->find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(reasonProblem("a\nb")->find("control character"), std::string::npos);
  EXPECT_NE(reasonProblem("a\tb")->find("control character"), std::string::npos);
  EXPECT_NE(reasonProblem("a\x1b[2Jb")->find("control character"), std::string::npos);
}

}  // namespace
}  // namespace ringfence::policy
