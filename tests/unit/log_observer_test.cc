// The log's observer (the bus's Event signal): every event at info or above,
// whatever the log level, cleaned as the log cleans it, never re-entered and
// never from another thread.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "daemon/log.h"

namespace ringfence::daemon {
namespace {

struct Heard {
  std::string level, event, message, device;
};

TEST(LogObserver, HearsEveryEventAtInfoOrAbove) {
  std::vector<Heard> heard;
  setLogLevel(LogLevel::Error);  // the log prints only errors; the observer hears more
  setLogObserver([&](LogLevel l, const std::string& e, const std::string& m, const std::string& d) {
    heard.push_back({levelName(l), e, m, d});
    log(LogLevel::Warning, "inner", "logged by the observer");  // not heard again
  });
  log(LogLevel::Debug, "nflog", "a debug line");
  log(LogLevel::Info, "maintenance-stopped", "window closed", "vendorbox");
  log(LogLevel::Warning, "alert", "ALERT for pump:\nforged line", "pump");
  std::thread([] { log(LogLevel::Warning, "elsewhere", "from a worker thread"); }).join();
  setLogObserver({});
  log(LogLevel::Warning, "after", "no observer any more");
  setLogLevel(LogLevel::Info);

  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[0].level, "info");
  EXPECT_EQ(heard[0].event, "maintenance-stopped");
  EXPECT_EQ(heard[0].device, "vendorbox");
  EXPECT_EQ(heard[1].level, "warning");
  EXPECT_EQ(heard[1].message, "ALERT for pump:\\nforged line");  // one line, as on stderr
}

}  // namespace
}  // namespace ringfence::daemon
