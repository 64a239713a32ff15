// The bridge topology's plan (docs/bridge.md): one compiler, the topology a
// parameter. The inet chains match device ports by the packet mark the
// bridge table sets, the bridge table does what only the bridge sees, and
// the failsafe bridges nothing to or from a device port.
#include "policy/bridge_table.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "policy/compiler.h"
#include "policy/failsafe.h"
#include "policy/loader.h"
#include "policy/nft_text.h"
#include "policy/plan_diff.h"
#include "tests/support/compile.h"
#include "tests/support/plan_text.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

Policy loadOk(const std::string& config) { return test::loadValidConfig(config); }

const Chain* findChain(const Plan& plan, const std::string& name) {
  for (const Chain& c : plan.chains) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string chainText(const Plan& plan, const std::string& name) {
  const Chain* c = findChain(plan, name);
  if (!c) return "no chain " + name;
  std::string out;
  for (const PlanRule& r : c->rules) out += renderRule(r) + "\n";
  return out;
}

const std::string kBridge = RINGFENCE_TEST_DATA "/bridge/ringfence.yaml";

// Set RINGFENCE_UPDATE_GOLDEN=1 to rewrite the golden file after a reviewed change.
TEST(BridgeTable, GoldenPlan) {
  const std::string golden = RINGFENCE_TEST_DATA "/bridge/expected.nft";
  std::string text = renderNft(compilePlan(loadOk(kBridge)));
  if (std::getenv("RINGFENCE_UPDATE_GOLDEN")) std::ofstream(golden) << text;
  EXPECT_EQ(text, test::readFile(golden));
}

TEST(BridgeTable, TheRoutedPlanHasNoBridgeTable) {
  Plan plan = compilePlan(loadOk(RINGFENCE_TEST_DATA "/golden/ringfence.yaml"));
  EXPECT_TRUE(plan.companions.empty());
  EXPECT_NE(chainText(plan, "forward").find("iifname @devifs"), std::string::npos);
}

TEST(BridgeTable, InetChainsMatchDevicePortsByTheMark) {
  Plan plan = compilePlan(loadOk(kBridge));
  for (const Chain& c : plan.chains) {
    std::string text = chainText(plan, c.name);
    EXPECT_EQ(text.find("oifname @devifs"), std::string::npos) << c.name << ":\n" << text;
    EXPECT_EQ(text.find(". iifname"), std::string::npos) << c.name << ":\n" << text;
  }
  // What the bridge hands up on the port itself (reserved group MACs)
  // carries no mark: the port's name says it is a device's.
  EXPECT_NE(chainText(plan, "input")
                .find("iifname != @devifs meta mark & 0x01000000 != "
                      "0x01000000 accept"),
            std::string::npos);
  std::string forward = chainText(plan, "forward");
  EXPECT_NE(forward.find("meta mark & 0x01000000 == 0x01000000 ip saddr != @dev4 jump unknown_src"),
            std::string::npos)
      << forward;
  EXPECT_NE(forward.find("meta mark & 0x02000000 == 0x02000000 ip daddr != @dev4 jump unknown_dst"),
            std::string::npos)
      << forward;
  // What passes unjudged is only what devices need on a segment.
  EXPECT_EQ(forward.find("ip daddr 224.0.0.0/24 accept"), std::string::npos) << forward;
  EXPECT_NE(forward.find("meta pkttype multicast ip daddr 224.0.0.0/24 meta l4proto 2 accept"),
            std::string::npos)
      << forward;
  EXPECT_NE(forward.find("iifname @devifs ip saddr != @dev4 jump unknown_src"), std::string::npos);
  EXPECT_EQ(chainText(plan, "account").rfind("meta mark set meta mark | 0x04000000", 0), 0u);
}

TEST(BridgeTable, TheBridgeTableMarksChecksPortsAndGuards) {
  Plan plan = compilePlan(loadOk(kBridge));
  ASSERT_EQ(plan.companions.size(), 1u);
  const Plan& bridge = plan.companions[0];
  EXPECT_EQ(bridge.family, TableFamily::Bridge);
  EXPECT_EQ(bridge.table, plan.table);
  EXPECT_TRUE(bridge.needsBridgeNetfilter);
  ASSERT_NE(bridge.findSet("uplinks"), nullptr);
  EXPECT_EQ(renderElementKey(*bridge.findSet("uplinks"), bridge.findSet("uplinks")->elements[0]),
            "\"lan0\"");
  // Copies of the inet sets it needs, element for element.
  for (const char* name : {"dev4", "mac4", "iface4", "iface6", "rogue_servers"}) {
    ASSERT_NE(bridge.findSet(name), nullptr) << name;
    EXPECT_EQ(bridge.findSet(name)->elements, test::wholeSet(plan, name).elements) << name;
  }
  const SetDef* macs = bridge.findSet("devmacs");
  ASSERT_NE(macs, nullptr);
  ASSERT_EQ(macs->elements.size(), 1u);
  EXPECT_EQ(renderElementKey(*macs, macs->elements[0]), "02:00:00:00:00:10");

  std::string ports = chainText(bridge, "ports");
  EXPECT_EQ(ports.rfind("meta mark set meta mark & 0xf8ffffff", 0), 0u) << "cleared first";
  // One lookup of the port, then the LAN side's checks in their own chain.
  EXPECT_LT(ports.find("iifname @uplinks jump from_lan"), ports.find("meta mark set meta mark | "));
  EXPECT_EQ(ports.find("@uplinks", ports.find("@uplinks") + 1), std::string::npos) << "one lookup";
  std::string fromLan = chainText(bridge, "from_lan");
  EXPECT_EQ(fromLan.rfind("ether saddr @devmacs counter log prefix \"ringfence spoof mac \"", 0),
            0u)
      << fromLan;
  EXPECT_NE(fromLan.find("update @lan_macs { ether saddr }"), std::string::npos);
  EXPECT_NE(fromLan.find("arp saddr ip != @dev4 update @lan_addrs { arp saddr ip }"),
            std::string::npos);
  const Chain* lan = findChain(bridge, "from_lan");
  ASSERT_NE(lan, nullptr);
  ASSERT_FALSE(lan->rules.empty());
  EXPECT_EQ(lan->rules.back().verdict.kind, VerdictKind::Accept) << "then judged in inet";
  EXPECT_TRUE(lan->rules.back().exprs.empty()) << "whatever the frame";
  std::string udp = chainText(bridge, "port_udp");
  EXPECT_NE(ports.find("meta l4proto udp jump port_udp"), std::string::npos);
  EXPECT_NE(ports.find("ether saddr @lan_macs counter log prefix \"ringfence spoof mac \""),
            std::string::npos);
  EXPECT_NE(ports.find("ether saddr @portmacs ether saddr . iifname != @macport"),
            std::string::npos);
  EXPECT_NE(udp.find("meta l4proto . th dport @dhcp_clients"), std::string::npos);
  EXPECT_NE(ports.find("ip6 nexthdr 44 ip6 daddr ff00::/8 counter drop"), std::string::npos);
  const SetDef* macport = bridge.findSet("macport");
  ASSERT_NE(macport, nullptr);
  ASSERT_EQ(macport->elements.size(), 1u);
  EXPECT_EQ(renderElementKey(*macport, macport->elements[0]), "02:00:00:00:00:10 . \"dev0\"");
  EXPECT_NE(chainText(bridge, "ports_in").find("iifname != @uplinks meta mark set"),
            std::string::npos);
  EXPECT_NE(ports.find("meta mark set meta mark | 0x01000000"), std::string::npos);
  EXPECT_NE(ports.find("ip saddr @ifbound4 ip saddr . iifname != @iface4 log prefix "
                       "\"ringfence spoof iface \""),
            std::string::npos);
  EXPECT_NE(ports.find("icmpv6 type 134"), std::string::npos);
  EXPECT_NE(udp.find("meta l4proto . th sport @rogue_servers"), std::string::npos);
  // Every set the UDP checks look up holds UDP ports alone: the gate hides nothing.
  for (const char* name : {"rogue_servers", "dhcp_clients"}) {
    const SetDef* set = bridge.findSet(name);
    ASSERT_NE(set, nullptr) << name;
    EXPECT_EQ(set->key, (std::vector<KeyType>{KeyType::InetProto, KeyType::InetService})) << name;
    for (const SetElement& e : set->elements) EXPECT_EQ(e.low.data()[0], 17) << name;
  }
  // port_udp only drops: it never ends a frame's way through ports otherwise.
  const Chain* portUdp = findChain(bridge, "port_udp");
  ASSERT_NE(portUdp, nullptr);
  for (const PlanRule& r : portUdp->rules) EXPECT_EQ(r.verdict.kind, VerdictKind::Drop);
  std::string arp = chainText(bridge, "arp_claims");
  EXPECT_NE(arp.find("arp saddr ip . arp saddr ether != @mac4"), std::string::npos) << arp;
  EXPECT_NE(arp.find("ether saddr @devmacs arp saddr ip . ether saddr != @mac4"), std::string::npos)
      << arp;
  EXPECT_NE(arp.find("arp saddr ip != @dev4"), std::string::npos) << "unknown_devices: drop";
  EXPECT_NE(arp.find("arp saddr ip @lan_addrs"), std::string::npos) << "the router's address";
  EXPECT_EQ(chainText(bridge, "nd_claims"),
            "@th,64,128 0x20010db8010000000000000000000010 ether saddr != 02:00:00:00:00:10 "
            "counter log prefix \"ringfence spoof nd \" group 7411 drop comment \"claims "
            "a-pump's address\"\n")
      << "one rule per IPv6 address of a MAC-bound device";
  std::string guard = chainText(bridge, "guard");
  EXPECT_NE(guard.find("meta mark & 0x04000000 == 0x04000000 accept"), std::string::npos);
  EXPECT_NE(guard.find("log prefix \"ringfence unjudged \" group 7411 drop"), std::string::npos);
  const Chain* g = findChain(bridge, "guard");
  ASSERT_TRUE(g && g->base);
  EXPECT_GT(g->base->priority, 0) << "after br_netfilter (0) has handed the frame to inet";
  const Chain* p = findChain(bridge, "ports");
  ASSERT_TRUE(p && p->base);
  EXPECT_LT(p->base->priority, 0) << "before br_netfilter";
}

TEST(BridgeTable, UnknownHostsAllowedKeepTheirArp) {
  test::TempDir dir;
  dir.write("p/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n  interface: p1\n");
  dir.write("ringfence.yaml",
            "profiles: p\ntopology: bridge\ndevice_interfaces: [p1]\nuplink_interfaces: [up0]\n"
            "unknown_devices: alert\n");
  Plan plan = compilePlan(loadOk(dir.file("ringfence.yaml")));
  ASSERT_EQ(plan.companions.size(), 1u);
  EXPECT_EQ(chainText(plan.companions[0], "arp_claims").find("!= @dev4"), std::string::npos);
}

TEST(BridgeTable, FailsafeBridgesNothingToOrFromADevicePort) {
  Plan plan = failsafePlan("ringfence", {"p1"}, std::vector<std::string>{"up0"});
  ASSERT_EQ(plan.companions.size(), 1u);
  const Plan& bridge = plan.companions[0];
  EXPECT_EQ(chainText(bridge, "failsafe"),
            "iifname @uplinks oifname @uplinks accept comment \"between uplinks: not the devices' "
            "traffic\"\nlog prefix \"ringfence failsafe \" group 7411 drop comment \"failsafe: "
            "nothing to or from a device port\"\n");
  std::string input = chainText(bridge, "failsafe_input");
  EXPECT_NE(input.find("meta protocol arp accept"), std::string::npos);
  EXPECT_NE(input.rfind("drop comment \"failsafe: nothing else from a device port reaches the "
                        "gateway\"\n"),
            std::string::npos);
  EXPECT_FALSE(bridge.needsBridgeNetfilter) << "the failsafe must hold without br_netfilter";
  EXPECT_TRUE(isFailsafePlan(plan));
}

TEST(BridgeTable, FailsafeWithoutAnUplinkBridgesNothingAtAll) {
  Plan plan = failsafePlan("ringfence", {}, std::vector<std::string>{});
  ASSERT_EQ(plan.companions.size(), 1u);
  EXPECT_EQ(chainText(plan.companions[0], "failsafe"),
            "log prefix \"ringfence failsafe \" group 7411 drop comment \"failsafe: no uplink "
            "known, nothing is bridged\"\n");
  EXPECT_TRUE(failsafePlan("ringfence", {"dev0"}).companions.empty());
}

TEST(BridgeTable, AChangedBridgeTableIsRebuiltOnReload) {
  Policy policy = loadOk(kBridge);
  Plan running = compilePlan(policy);
  policy.config.uplinkInterfaces = {"lan0", "lan1"};
  Plan next = compilePlan(policy);
  EXPECT_TRUE(diffPlans(running, next).companionsChanged);
  EXPECT_FALSE(diffPlans(running, running).companionsChanged);
  EXPECT_TRUE(diffPlans(running, running).empty());
}

}  // namespace
}  // namespace ringfence::policy
