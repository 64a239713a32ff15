// One event, one line: no message, event or device name can forge another.
#include "daemon/log.h"

#include <gtest/gtest.h>

#include <regex>

namespace ringfence::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

// Outside the journal (as under ctest) every line starts with its time.
std::string withoutTime(const std::string& line) {
  static const std::regex stamp(
      "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z ");
  std::smatch m;
  if (!std::regex_search(line, m, stamp)) return "NO TIMESTAMP: " + line;
  return m.suffix();
}

TEST(Log, EveryFieldStaysOnOneLine) {
  testing::internal::CaptureStderr();
  log(LogLevel::Warning, "ev\nent", "reason: x\nerror: FORGED\r\x1b[2J", "dev\nice\xff");
  std::string out = withoutTime(testing::internal::GetCapturedStderr());
  EXPECT_EQ(out,
            "warning: reason: x\\nerror: FORGED\\r\\x1b[2J [event=ev\\nent device=dev\\nice"
            "\xef\xbf\xbd]\n");
}

TEST(Log, PlainTextIsUnchanged) {
  testing::internal::CaptureStderr();
  log(LogLevel::Error, "state-unwritable", "caf\xc3\xa9 \\ tab-free", "pump");
  EXPECT_EQ(withoutTime(testing::internal::GetCapturedStderr()),
            "error: caf\xc3\xa9 \\ tab-free [event=state-unwritable device=pump]\n");
}

TEST(Log, TimestampIsRfc3339UtcWithMilliseconds) {
  system_clock::time_point t{seconds(1796235956) + milliseconds(123)};
  EXPECT_EQ(rfc3339Utc(t), "2026-12-02T18:25:56.123Z");
  EXPECT_EQ(rfc3339Utc(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  // Microseconds are cut, never rounded up into the next second.
  EXPECT_EQ(rfc3339Utc(system_clock::time_point{seconds(59) + std::chrono::microseconds(999999)}),
            "1970-01-01T00:00:59.999Z");
  EXPECT_EQ(rfc3339Utc(system_clock::time_point{milliseconds(-1)}), "1969-12-31T23:59:59.999Z");
}

TEST(Log, LineStartsWithTheTimeOutsideTheJournal) {
  system_clock::time_point t{seconds(1796235956) + milliseconds(7)};
  EXPECT_EQ(formatLogLine(t, LogLevel::Info, "policy-applied", "applied", "pump"),
            "2026-12-02T18:25:56.007Z info: applied [event=policy-applied device=pump]\n");
  EXPECT_EQ(formatLogLine(std::nullopt, LogLevel::Warning, "probe", "p", ""),
            "warning: p [event=probe]\n");
}

TEST(Log, StderrLinesCarryTheCurrentTime) {
  testing::internal::CaptureStderr();
  auto before = system_clock::now();
  log(LogLevel::Error, "x", "y");
  std::string out = testing::internal::GetCapturedStderr();
  auto after = system_clock::now();
  ASSERT_GE(out.size(), 25u);
  std::string stamp = out.substr(0, 24);  // same width: they compare as text
  EXPECT_GE(stamp, rfc3339Utc(before));
  EXPECT_LE(stamp, rfc3339Utc(after));
  EXPECT_EQ(withoutTime(out), "error: y [event=x]\n");
}

}  // namespace
}  // namespace ringfence::daemon
