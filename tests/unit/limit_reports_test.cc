#include "daemon/limit_reports.h"

#include <gtest/gtest.h>

namespace ringfence::daemon {
namespace {

using std::chrono::seconds;

TEST(LimitReports, OneLinePerWindowAndTheCountOfTheRest) {
  LimitReports r;
  policy::WallTime t0{};
  auto first = r.drop("pump", LimitKind::OutboundRate, "udp a -> b", t0);
  ASSERT_TRUE(first);
  EXPECT_NE(first->find("device pump over its limits.outbound_new_per_second"), std::string::npos);
  for (int i = 1; i <= 99; ++i)
    EXPECT_FALSE(r.drop("pump", LimitKind::OutboundRate, "udp a -> b", t0 + seconds(i % 59)));
  // Another limit of the same device and another device have windows of their own.
  EXPECT_TRUE(r.drop("pump", LimitKind::Connections, "tcp a -> b", t0 + seconds(1)));
  EXPECT_TRUE(r.drop("mon", LimitKind::InboundRate, "tcp b -> c", t0 + seconds(1)));
  auto next = r.drop("pump", LimitKind::OutboundRate, "udp a -> b", t0 + seconds(61));
  ASSERT_TRUE(next);
  EXPECT_NE(next->find("99 more were dropped in the previous window"), std::string::npos) << *next;
  EXPECT_EQ(r.dropped("pump"), 102u);
  EXPECT_EQ(r.dropped("mon"), 1u);
  EXPECT_EQ(r.dropped("nobody"), 0u);
}

TEST(ConntrackWatch, WarnsOnceAboveTheThresholdAndSaysWhenItIsOver) {
  ConntrackWatch w(80);
  EXPECT_EQ(w.observe(100, 1000), "");
  std::string warn = w.observe(800, 1000);
  EXPECT_NE(warn.find("CONNTRACK TABLE FILLING UP: 800 of 1000 entries (80 %)"), std::string::npos)
      << warn;
  EXPECT_EQ(w.observe(900, 1000), "") << "once";
  EXPECT_EQ(w.observe(750, 1000), "") << "hysteresis: not yet ten points below";
  EXPECT_NE(w.observe(600, 1000).find("back to 600 of 1000"), std::string::npos);
  EXPECT_FALSE(w.over());
  EXPECT_NE(w.observe(1000, 1000), "") << "and again when it fills up again";
  EXPECT_EQ(ConntrackWatch(1).observe(5, 0), "") << "no maximum: nothing to say";
  ConntrackWatch low(1);
  EXPECT_NE(low.observe(30, 1000), "");
  EXPECT_NE(low.observe(0, 1000).find("back to 0 of 1000"), std::string::npos)
      << "a low threshold clears too";
}

}  // namespace
}  // namespace ringfence::daemon
