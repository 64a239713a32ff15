// One event, one line: no message, event or device name can forge another.
#include "daemon/log.h"

#include <gtest/gtest.h>

namespace ringfence::daemon {
namespace {

TEST(Log, EveryFieldStaysOnOneLine) {
  testing::internal::CaptureStderr();
  log(LogLevel::Warning, "ev\nent", "reason: x\nerror: FORGED\r\x1b[2J", "dev\nice\xff");
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out,
            "warning: reason: x\\nerror: FORGED\\r\\x1b[2J [event=ev\\nent device=dev\\nice"
            "\xef\xbf\xbd]\n");
}

TEST(Log, PlainTextIsUnchanged) {
  testing::internal::CaptureStderr();
  log(LogLevel::Error, "state-unwritable", "caf\xc3\xa9 \\ tab-free", "pump");
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "error: caf\xc3\xa9 \\ tab-free [event=state-unwritable device=pump]\n");
}

}  // namespace
}  // namespace ringfence::daemon
