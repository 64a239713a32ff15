#include "policy/net_types.h"

#include <gtest/gtest.h>

namespace ringfence::policy {
namespace {

TEST(NetTypes, ParsesAddresses) {
  EXPECT_EQ(toString(*parseIpAddress("198.51.100.10")), "198.51.100.10");
  EXPECT_EQ(toString(*parseIpAddress("2001:DB8:0::10")), "2001:db8::10");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1.2.3.4 ", "1..2.3",
                          "::g", "1.2.3.-4"}) {
    EXPECT_FALSE(parseIpAddress(bad)) << bad;
  }
}

TEST(NetTypes, ParsesPrefixes) {
  EXPECT_EQ(toString(*parseIpPrefix("203.0.113.64/26").prefix), "203.0.113.64/26");
  EXPECT_EQ(toString(*parseIpPrefix("2001:db8::/48").prefix), "2001:db8::/48");
  EXPECT_EQ(toString(*parseIpPrefix("0.0.0.0/0").prefix), "0.0.0.0/0");
  EXPECT_TRUE(parseIpPrefix("203.0.113.1").prefix->isHost());
  EXPECT_EQ(parseIpPrefix("203.0.113.1/24").error,
            "prefix '203.0.113.1/24' has host bits set (did you mean 203.0.113.0/24?)");
  EXPECT_FALSE(parseIpPrefix("203.0.113.0/").prefix);
  EXPECT_FALSE(parseIpPrefix("2001:db8::/129").prefix);
  EXPECT_FALSE(parseIpPrefix("203.0.113.0/024").prefix);
}

TEST(NetTypes, PrefixContainment) {
  IpPrefix net = *parseIpPrefix("203.0.113.64/26").prefix;
  EXPECT_TRUE(net.contains(*parseIpAddress("203.0.113.127")));
  EXPECT_FALSE(net.contains(*parseIpAddress("203.0.113.128")));
  EXPECT_FALSE(net.contains(*parseIpAddress("::1")));
  EXPECT_EQ(toString(net.last()), "203.0.113.127");
  EXPECT_TRUE(net.contains(*parseIpPrefix("203.0.113.96/27").prefix));
  EXPECT_FALSE(net.contains(*parseIpPrefix("203.0.113.0/24").prefix));
}

TEST(NetTypes, ParsesMacs) {
  EXPECT_EQ(toString(*parseMac("02:AB:00:00:00:10")), "02:ab:00:00:00:10");
  for (const char* bad :
       {"02:00:00:00:00", "02-00-00-00-00-10", "02:00:00:00:00:1g", "0200.0000.0010"}) {
    EXPECT_FALSE(parseMac(bad)) << bad;
  }
}

}  // namespace
}  // namespace ringfence::policy
