// The failsafe table: nothing to or from a device interface, nothing at all
// without one, every drop logged, and the run-time sets the daemon fills.
#include "policy/failsafe.h"

#include <gtest/gtest.h>

#include "policy/nft_text.h"

namespace ringfence::policy {
namespace {

std::vector<std::string> renderedRules(const Plan& plan) {
  std::vector<std::string> out;
  for (const Chain& c : plan.chains) {
    for (const PlanRule& r : c.rules) out.push_back(renderRule(r));
  }
  return out;
}

TEST(Failsafe, DropsAndLogsEverythingThroughDeviceInterfaces) {
  Plan plan = failsafePlan("ringfence", {"dev1", "dev0", "dev0"});
  EXPECT_EQ(plan.table, "ringfence");
  ASSERT_EQ(plan.chains.size(), 2u);
  ASSERT_TRUE(plan.chains[0].base);
  EXPECT_EQ(plan.chains[0].base->hook, "forward");
  EXPECT_EQ(plan.chains[0].base->priority, 0);
  const SetDef* ifs = plan.findSet("devifs");
  ASSERT_NE(ifs, nullptr);
  ASSERT_EQ(ifs->elements.size(), 2u);  // sorted, duplicates once
  EXPECT_EQ(renderElementKey(*ifs, ifs->elements[0]), "\"dev0\"");
  EXPECT_EQ(renderElementKey(*ifs, ifs->elements[1]), "\"dev1\"");
  // A key of another length than its set's (no compiled plan has one) is
  // named, not read past its end.
  SetElement shortKey = ifs->elements[0];
  shortKey.low = {'d', 'e', 'v'};
  EXPECT_EQ(renderElementKey(*ifs, shortKey), "(a key of 3 bytes, not 16)");
  Plan forwardOnly = plan;
  forwardOnly.chains.resize(1);
  std::vector<std::string> rules = renderedRules(forwardOnly);
  auto has = [&](const std::string& text) {
    for (const std::string& r : rules) {
      if (r.rfind(text, 0) == 0) return true;
    }
    return false;
  };
  const std::string logged = " log prefix \"ringfence failsafe \" group 7411 drop";
  EXPECT_TRUE(has("iifname @devifs" + logged));
  EXPECT_TRUE(has("oifname @devifs" + logged));
  // Nothing is accepted before the drops: not even established flows.
  for (const std::string& r : rules) {
    EXPECT_EQ(r.find("accept"), std::string::npos) << r;
    EXPECT_NE(r.find(logged), std::string::npos) << r;
  }
  EXPECT_TRUE(isFailsafePlan(plan));
}

// The gateway itself: from device interfaces only neighbour discovery and
// DHCP, isolated addresses nothing, every drop logged; the rest passes.
TEST(Failsafe, DevicesReachOnlyNeighbourDiscoveryAndDhcpOnTheGateway) {
  Plan plan = failsafePlan("ringfence", {"dev0"});
  ASSERT_EQ(plan.chains.size(), 2u);
  const Chain& in = plan.chains[1];
  ASSERT_TRUE(in.base);
  EXPECT_EQ(in.base->hook, "input");
  EXPECT_EQ(in.base->priority, 0);
  EXPECT_TRUE(in.base->acceptByDefault);
  std::vector<std::string> rules;
  for (const PlanRule& r : in.rules) rules.push_back(renderRule(r));
  const std::string logged = "log prefix \"ringfence failsafe \" group 7411 drop";
  ASSERT_EQ(rules.size(), 9u);
  EXPECT_EQ(rules[0].rfind("ip saddr @isolated4 " + logged, 0), 0u) << rules[0];
  EXPECT_EQ(rules[1].rfind("ip6 saddr @isolated6 " + logged, 0), 0u) << rules[1];
  EXPECT_EQ(rules[2].rfind("ether saddr @isolated_mac " + logged, 0), 0u) << rules[2];
  EXPECT_EQ(rules[3].rfind("iifname != @devifs accept", 0), 0u) << rules[3];
  for (size_t i = 4; i < 7; ++i) {
    EXPECT_EQ(rules[i].rfind("ip6 hoplimit 255 icmpv6 type ", 0), 0u) << rules[i];
    EXPECT_NE(rules[i].find("accept"), std::string::npos) << rules[i];
  }
  EXPECT_EQ(rules[7].rfind("meta l4proto . th dport @gateway_base accept", 0), 0u) << rules[7];
  EXPECT_EQ(rules[8].rfind(logged, 0), 0u) << rules[8];
  const SetDef* base = plan.findSet("gateway_base");
  ASSERT_NE(base, nullptr);
  ASSERT_EQ(base->elements.size(), 2u);
  EXPECT_EQ(renderElementKey(*base, base->elements[0]), "udp . 67");
  EXPECT_EQ(renderElementKey(*base, base->elements[1]), "udp . 547");
  EXPECT_TRUE(isFailsafePlan(plan));
}

TEST(Failsafe, WithoutDeviceInterfacesNothingIsForwardedAndInputIsLeftAlone) {
  Plan plan = failsafePlan("rf_x", {});
  ASSERT_EQ(plan.chains.size(), 1u);
  EXPECT_EQ(plan.findSet("gateway_base"), nullptr);
  EXPECT_TRUE(isFailsafePlan(plan));
  EXPECT_FALSE(plan.chains[0].base->acceptByDefault);
  const PlanRule& last = plan.chains[0].rules.back();
  EXPECT_EQ(renderRule(last).rfind("log prefix \"ringfence failsafe \" group 7411 drop", 0), 0u)
      << renderRule(last);
  EXPECT_NE(renderNft(plan).find("policy drop;"), std::string::npos);
}

TEST(Failsafe, DeclaresTheIsolationSets) {
  Plan plan = failsafePlan("ringfence", {"dev0"});
  const SetDef* v4 = plan.findSet(setname::kIsolated4);
  const SetDef* v6 = plan.findSet(setname::kIsolated6);
  ASSERT_NE(v4, nullptr);
  ASSERT_NE(v6, nullptr);
  EXPECT_EQ(v4->key, std::vector<KeyType>{KeyType::Ipv4Addr});
  EXPECT_EQ(v6->key, std::vector<KeyType>{KeyType::Ipv6Addr});
  const SetDef* mac = plan.findSet(setname::kIsolatedMac);
  ASSERT_NE(mac, nullptr) << "the daemon adds isolation MACs in failsafe too";
  EXPECT_EQ(mac->key, std::vector<KeyType>{KeyType::EtherAddr});
  SetElement e;
  e.low = {198, 51, 100, 10};
  plan.addElements({{setname::kIsolated4, e}});
  EXPECT_EQ(plan.findSet(setname::kIsolated4)->elements.size(), 1u);
  EXPECT_TRUE(plan.devices.empty());
}

TEST(Failsafe, ACompiledPlanIsNotTheFailsafe) {
  Plan plan;
  plan.chains.push_back(Chain{"forward", BaseHook{}, {}});
  EXPECT_FALSE(isFailsafePlan(plan));
}

}  // namespace
}  // namespace ringfence::policy
