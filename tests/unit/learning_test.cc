#include "policy/learning.h"

#include <gtest/gtest.h>

#include "policy/profile_parser.h"
#include "policy/yaml_tree.h"

namespace ringfence::policy {
namespace {

ObservedFlow flow(Direction d, const char* peer, uint8_t proto, uint16_t port) {
  return {d, *parseIpAddress(peer), proto, port};
}

TEST(Learning, CountsAndKnowsWhatIsNew) {
  LearnedFlows l;
  EXPECT_TRUE(l.record("lab", flow(Direction::Outbound, "203.0.113.50", 6, 4001)));
  EXPECT_FALSE(l.record("lab", flow(Direction::Outbound, "203.0.113.50", 6, 4001)));
  EXPECT_EQ(l.flows("lab").begin()->second, 2u);
  EXPECT_TRUE(l.flows("other").empty());
}

TEST(Learning, SurvivesARoundTripThroughText) {
  LearnedFlows l;
  l.record("lab", flow(Direction::Outbound, "203.0.113.50", 6, 4001), 7);
  l.record("lab", flow(Direction::Inbound, "2001:db8:200::9", 58, 0));
  std::vector<std::string> problems;
  LearnedFlows back = LearnedFlows::parse(l.serialize() + "garbage line\n", problems);
  EXPECT_EQ(back.serialize(), l.serialize());
  EXPECT_EQ(problems, std::vector<std::string>{"line 3 unreadable, skipped"});
}

TEST(Learning, BoundedPerDevice) {
  LearnedFlows l;
  for (uint32_t i = 0; i < LearnedFlows::kMaxFlowsPerDevice + 5; ++i) {
    l.record("scanner", flow(Direction::Outbound, "203.0.113.1", 17, static_cast<uint16_t>(i + 1)));
  }
  EXPECT_EQ(l.flows("scanner").size(), LearnedFlows::kMaxFlowsPerDevice);
  EXPECT_EQ(l.dropped(), 5u);
}

TEST(Learning, ProposedAllowBlockIsAValidProfile) {
  LearnedFlows l;
  l.record("lab", flow(Direction::Outbound, "203.0.113.50", 6, 4001), 3);
  l.record("lab", flow(Direction::Outbound, "203.0.113.50", 6, 4002));
  l.record("lab", flow(Direction::Outbound, "2001:db8:200::11", 17, 53));
  l.record("lab", flow(Direction::Inbound, "203.0.113.70", 1, 0));
  l.record("lab",
           flow(Direction::Outbound, "203.0.113.9", 47, 0));  // GRE: not expressible, left out
  std::string block = l.allowBlock("lab");
  EXPECT_EQ(
      block,
      "allow:\n"
      "  outbound:\n"
      "    - to: \"203.0.113.50\"\n      proto: tcp\n      ports: [4001, 4002]\n      comment: "
      "\"learned: 4 flows\"\n"
      "    - to: \"2001:db8:200::11\"\n      proto: udp\n      ports: [53]\n      comment: "
      "\"learned: 1 flow\"\n"
      "  inbound:\n"
      "    - from: \"203.0.113.70\"\n      proto: icmp\n      comment: \"learned: 1 flow\"\n");
  Diagnostics diags;
  auto root = parseYaml(
      "device: lab\nidentity:\n  addresses: [198.51.100.40, \"2001:db8:100::40\"]\n" + block,
      "proposed.yaml", diags);
  ASSERT_TRUE(root);
  auto device = parseProfile(*root, "proposed.yaml", diags);
  for (const Diagnostic& d : diags.all()) ADD_FAILURE() << formatDiagnostic(d);
  ASSERT_TRUE(device);
  EXPECT_EQ(device->outbound.size(), 2u);
  EXPECT_EQ(device->inbound.size(), 1u);
}

}  // namespace
}  // namespace ringfence::policy
