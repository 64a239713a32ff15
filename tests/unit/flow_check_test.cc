#include "policy/flow_check.h"

#include <gtest/gtest.h>

#include "policy/device_ref.h"
#include "policy/loader.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

class FlowCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    dir.write("groups.yaml", "groups:\n  pacs: [203.0.113.30, \"2001:db8:200::30\"]\n");
    dir.write("p/ct.yaml", R"(device: ct
identity:
  addresses: [198.51.100.20, "2001:db8:100::20"]
allow:
  outbound:
    - to: "@pacs"
      proto: tcp
      ports: [104, "11112-11114"]
      comment: DICOM
    - to: 203.0.113.0/24
      proto: icmp
      critical: true
    - to: 198.51.100.30
      proto: tcp
      ports: [2575]
  inbound:
    - from: "@pacs"
      proto: tcp
      ports: [104]
)");
    dir.write("p/mon.yaml", R"(device: mon
identity:
  addresses: [198.51.100.30]
mode: monitor
allow:
  inbound:
    - from: 198.51.100.20
      proto: tcp
      ports: [2575]
)");
    dir.write("p/pump.yaml", "device: pump\nidentity:\n  addresses: [198.51.100.10]\n");
    LoadOptions o;
    o.configFile = dir.file("absent.yaml");
    o.profilesDir = dir.file("p");
    o.groupsFile = dir.file("groups.yaml");
    LoadResult r = loadPolicy(o);
    ASSERT_TRUE(r.ok());
    policy = std::move(r.policy);
  }
  FlowVerdict check(const std::string& device, Direction dir, const std::string& peer, Proto proto,
                    uint16_t port) {
    auto v = checkFlow(policy, {device, dir, *parseIpAddress(peer), proto, port});
    EXPECT_TRUE(v.has_value());
    return v.value_or(FlowVerdict{});
  }
  test::TempDir dir;
  Policy policy;
};

TEST_F(FlowCheck, AllowedFlowsNameTheirRule) {
  FlowVerdict v = check("ct", Direction::Outbound, "203.0.113.30", Proto::Tcp, 104);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.decidedBy, dir.file("p/ct.yaml") + ":6 (outbound rule of ct: DICOM)");
  EXPECT_TRUE(check("ct", Direction::Outbound, "2001:db8:200::30", Proto::Tcp, 11113).allowed);
  EXPECT_TRUE(check("ct", Direction::Inbound, "203.0.113.30", Proto::Tcp, 104).allowed);
  FlowVerdict icmp = check("ct", Direction::Outbound, "203.0.113.99", Proto::Icmp, 0);
  EXPECT_TRUE(icmp.allowed);
  EXPECT_TRUE(icmp.critical);
}

TEST_F(FlowCheck, OtherPortsPeersDirectionsAndProtocolsAreDenied) {
  EXPECT_FALSE(check("ct", Direction::Outbound, "203.0.113.30", Proto::Tcp, 105).allowed);
  EXPECT_FALSE(check("ct", Direction::Outbound, "203.0.113.31", Proto::Tcp, 104).allowed);
  EXPECT_FALSE(check("ct", Direction::Outbound, "203.0.113.30", Proto::Udp, 104).allowed);
  EXPECT_FALSE(check("ct", Direction::Inbound, "203.0.113.30", Proto::Tcp, 11112).allowed);
  FlowVerdict v = check("ct", Direction::Outbound, "2001:db8:200::1", Proto::Icmpv6, 0);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.decidedBy, "no outbound rule of ct allows it (" + dir.file("p/ct.yaml") + ")");
}

TEST_F(FlowCheck, DeviceToDeviceNeedsBothEnds) {
  FlowVerdict v = check("ct", Direction::Outbound, "198.51.100.30", Proto::Tcp, 2575);
  EXPECT_TRUE(v.allowed);
  EXPECT_NE(v.decidedBy.find("inbound rule of mon"), std::string::npos) << v.decidedBy;
  // pump has no rules: ct may not reach it even if ct's own rule allowed it.
  EXPECT_FALSE(check("mon", Direction::Outbound, "198.51.100.10", Proto::Tcp, 80).allowed);
}

TEST_F(FlowCheck, MonitorModePassesAndSaysSo) {
  FlowVerdict v = check("mon", Direction::Outbound, "203.0.113.1", Proto::Udp, 53);
  EXPECT_TRUE(v.allowed);
  EXPECT_NE(v.decidedBy.find("monitor mode"), std::string::npos);
}

TEST_F(FlowCheck, Errors) {
  auto none = checkFlow(
      policy, {"nope", Direction::Outbound, *parseIpAddress("203.0.113.1"), Proto::Tcp, 1});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, FlowCheckError::NoSuchDevice);
  auto noPort =
      checkFlow(policy, {"ct", Direction::Outbound, *parseIpAddress("203.0.113.1"), Proto::Tcp, 0});
  ASSERT_FALSE(noPort);
  EXPECT_EQ(noPort.error().kind, FlowCheckError::InvalidArgument);
  auto family =
      checkFlow(policy, {"ct", Direction::Outbound, *parseIpAddress("::1"), Proto::Icmp, 0});
  ASSERT_FALSE(family);
  EXPECT_EQ(family.error().kind, FlowCheckError::InvalidArgument);
}

TEST(DeviceArgument, ANameOrAnAddressOfTheDevice) {
  std::vector<DeviceAddresses> devices = {
      {"pump", {*parseIpAddress("198.51.100.10"), *parseIpAddress("2001:db8::10")}},
      {"198.51.100.20", {*parseIpAddress("198.51.100.21")}},  // a name may look like an address
      {"monitor", {*parseIpAddress("198.51.100.20")}},
  };
  EXPECT_EQ(resolveDeviceArgument("pump", devices).value(), "pump");
  EXPECT_EQ(resolveDeviceArgument("198.51.100.10", devices).value(), "pump");
  EXPECT_EQ(resolveDeviceArgument("2001:db8:0::10", devices).value(), "pump");
  EXPECT_EQ(resolveDeviceArgument("198.51.100.20", devices).value(), "198.51.100.20");
  EXPECT_EQ(resolveDeviceArgument("198.51.100.21", devices).value(), "198.51.100.20");
  EXPECT_EQ(resolveDeviceArgument("198.51.100.99", devices).error(),
            "no device has address 198.51.100.99");
  EXPECT_EQ(resolveDeviceArgument("2001:DB8::99", devices).error(),
            "no device has address 2001:db8::99");
  EXPECT_EQ(resolveDeviceArgument("nope", devices).error(), "no such device 'nope'");
  EXPECT_EQ(resolveDeviceArgument("198.51.100.0/24", devices).error(),
            "no such device '198.51.100.0/24'");
}

}  // namespace
}  // namespace ringfence::policy
