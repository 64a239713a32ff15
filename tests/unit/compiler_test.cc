// The compiled plan: a golden file for a configuration that uses every
// feature, and properties that must hold for any plan.
#include "policy/compiler.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "policy/chains.h"
#include "policy/loader.h"
#include "policy/nft_text.h"
#include "tests/support/compile.h"
#include "tests/support/plan_text.h"
#include "tests/support/policy_generator.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

Policy loadOk(const std::string& config) { return test::loadValidConfig(config); }

// Elements of a range set, whatever shard they are in.
std::vector<std::string> rangeKeys(const Plan& plan, const std::string& allowSet) {
  std::vector<std::string> out;
  for (size_t i = 0; i < plan.sets.size(); ++i) {
    if (plan.sets[i].name.rfind(allowSet + "_ranges_", 0) != 0) continue;
    SetDef s = plan.wholeSet(i);
    for (const SetElement& e : s.elements) out.push_back(renderElementKey(s, e));
  }
  return out;
}

std::vector<std::string> keys(const Plan& plan, const std::string& set) {
  std::vector<std::string> out;
  SetDef s = test::wholeSet(plan, set);
  if (s.name == "?") {
    ADD_FAILURE() << "no set " << set;
    return out;
  }
  for (const SetElement& e : s.elements) out.push_back(renderElementKey(s, e));
  return out;
}

// Set RINGFENCE_UPDATE_GOLDEN=1 to rewrite the golden file after a reviewed change.
TEST(Compiler, GoldenPlan) {
  const std::string golden = RINGFENCE_TEST_DATA "/golden/expected.nft";
  std::string text = renderNft(compilePlan(loadOk(RINGFENCE_TEST_DATA "/golden/ringfence.yaml")));
  if (std::getenv("RINGFENCE_UPDATE_GOLDEN")) std::ofstream(golden) << text;
  EXPECT_EQ(text, test::readFile(golden));
}

TEST(Compiler, ExactFlowsInHashSetsTheRestInIntervalSets) {
  Plan plan = compilePlan(loadOk(RINGFENCE_TEST_DATA "/golden/ringfence.yaml"));
  EXPECT_EQ(keys(plan, "allow_out4"),
            (std::vector<std::string>{"198.51.100.10 . 203.0.113.5 . udp . 123",
                                      "198.51.100.10 . 203.0.113.6 . udp . 123"}));
  // The /24 on 443 and the /26 inside it on 8000-8010 become disjoint pieces.
  EXPECT_EQ(rangeKeys(plan, "allow_out4"), (std::vector<std::string>{
                                               "198.51.100.10 . 203.0.113.1 . icmp . 0-65535",
                                               "198.51.100.10 . 203.0.113.0/26 . tcp . 443",
                                               "198.51.100.10 . 203.0.113.64/26 . tcp . 443",
                                               "198.51.100.10 . 203.0.113.64/26 . tcp . 8000-8010",
                                               "198.51.100.10 . 203.0.113.128/25 . tcp . 443",
                                               "198.51.100.10 . 203.0.113.5 . udp . 5000-5001",
                                               "198.51.100.10 . 203.0.113.6 . udp . 5000-5001",
                                           }));
  EXPECT_EQ(keys(plan, "critical_out6"),
            (std::vector<std::string>{"2001:db8:100::10 . 2001:db8:200::20 . tcp . 443",
                                      "2001:db8:100::10 . 2001:db8:200::20 . tcp . 8443"}));
  EXPECT_EQ(rangeKeys(plan, "allow_in6"),
            (std::vector<std::string>{"2001:db8:100::10 . 2001:db8:200::/64 . 58 . 0-65535"}));
}

TEST(Compiler, DeviceMembershipSets) {
  Plan plan = compilePlan(loadOk(RINGFENCE_TEST_DATA "/golden/ringfence.yaml"));
  EXPECT_EQ(keys(plan, "dev4"), (std::vector<std::string>{"198.51.100.10", "198.51.100.20"}));
  EXPECT_EQ(keys(plan, "dev6"), (std::vector<std::string>{"2001:db8:100::10", "2001:db8:100::30"}));
  EXPECT_EQ(keys(plan, "monitor4"), (std::vector<std::string>{"198.51.100.20"}));
  EXPECT_EQ(keys(plan, "learn6"), (std::vector<std::string>{"2001:db8:100::30"}));
  EXPECT_EQ(keys(plan, "observe4"), (std::vector<std::string>{"198.51.100.20"}));
  EXPECT_EQ(keys(plan, "mac4"), (std::vector<std::string>{"198.51.100.10 . 02:00:00:00:00:10"}));
  EXPECT_EQ(keys(plan, "iface6"), (std::vector<std::string>{"2001:db8:100::10 . \"dev0\"",
                                                            "2001:db8:100::30 . \"dev1\""}));
  EXPECT_EQ(keys(plan, "devifs"), (std::vector<std::string>{"\"dev0\"", "\"dev1\""}));
  EXPECT_TRUE(keys(plan, "isolated4").empty()) << "isolation is run-time state";
  EXPECT_TRUE(keys(plan, "maintenance4").empty()) << "maintenance is closed by default";
  EXPECT_TRUE(plan.limits.empty()) << "the device's limit is in its part";
  ASSERT_EQ(plan.allLimits().size(), 1u);
  EXPECT_EQ(plan.allLimits()[0]->perSecond, 7u);
}

TEST(Compiler, RunTimeElementsPerDevice) {
  Policy policy = loadOk(RINGFENCE_TEST_DATA "/golden/ringfence.yaml");
  Plan plan = compilePlan(policy);
  const DeviceElements* pump = plan.findDevice("a-pump");
  ASSERT_TRUE(pump);
  const Device* device = policy.findDevice("a-pump");
  ASSERT_TRUE(device);
  auto isolation = isolationElements(device->name, device->addresses, device->mac);
  ASSERT_EQ(isolation.size(), 3u);
  EXPECT_EQ(isolation[0].first, "isolated4");
  EXPECT_EQ(isolation[1].first, "isolated6");
  EXPECT_EQ(isolation[2].first, "isolated_mac");
  std::vector<std::string> maint;
  for (const auto& [set, e] : pump->maintenance)
    maint.push_back(set + " " + renderElementKey(*plan.findSet(set), e));
  EXPECT_EQ(maint,
            (std::vector<std::string>{"maintenance4 198.51.100.10 . 203.0.113.200 . tcp . 22",
                                      "maintenance4 198.51.100.10 . 203.0.113.200 . tcp . 443"}));
  EXPECT_FALSE(plan.findDevice("nope"));
}

TEST(Compiler, RuleCountDoesNotGrowWithDevices) {
  test::TempDir dir;
  dir.write("ringfence.yaml", "profiles: p\n");
  auto ruleCount = [](const Plan& p) {
    size_t n = 0;
    for (const Chain& c : p.chains) n += c.rules.size();
    return n;
  };
  dir.write("p/d0.yaml", "device: d0\nidentity:\n  addresses: [10.0.0.1]\n");
  size_t one = ruleCount(compilePlan(loadOk(dir.file("ringfence.yaml"))));
  for (int i = 1; i < 50; ++i) {
    dir.write("p/d" + std::to_string(i) + ".yaml",
              "device: d" + std::to_string(i) + "\nidentity:\n  addresses: [10.0.1." +
                  std::to_string(i) +
                  "]\nallow:\n  outbound:\n    - to: [10.9.0.0/16, 10.8.0.1]\n      proto: tcp\n   "
                  "   ports: [1, \"5-9\"]\n");
  }
  Plan many = compilePlan(loadOk(dir.file("ringfence.yaml")));
  EXPECT_EQ(ruleCount(many), one);
  EXPECT_EQ(keys(many, "allow_out4").size(), 49u);
  EXPECT_EQ(rangeKeys(many, "allow_out4").size(), 49u * 3);
}

TEST(Compiler, EachDeviceGoesToItsRangeShard) {
  Plan plan = compilePlan(loadOk(RINGFENCE_TEST_DATA "/golden/ringfence.yaml"));
  std::string chain = "goto ranges_out4_" + std::string(rangeShard("a-pump") < 10 ? "0" : "") +
                      std::to_string(rangeShard("a-pump"));
  SetDef shards = test::wholeSet(plan, "shard_out4");
  ASSERT_FALSE(shards.elements.empty());
  EXPECT_EQ(shards.elements[0].data, chain);
  std::string set = "allow_out4_ranges_" + chain.substr(chain.size() - 2);
  EXPECT_EQ(test::wholeSet(plan, set).elements.size(), 7u) << set;
  EXPECT_LT(rangeShard("a-pump"), kRangeShards);
  EXPECT_EQ(rangeShard("a-pump"), rangeShard(std::string("a-pump"))) << "stable";
}

TEST(Compiler, IsDeterministic) {
  Policy p = loadOk(RINGFENCE_TEST_DATA "/golden/ringfence.yaml");
  EXPECT_EQ(renderNft(compilePlan(p)), renderNft(compilePlan(p)));
}

const Chain* chainNamed(const Plan& plan, const std::string& name) {
  for (const Chain& c : plan.chains)
    if (c.name == name) return &c;
  ADD_FAILURE() << "no chain " << name;
  return nullptr;
}

// A forged device address is judged as spoofing before anything can charge
// it to the device: in both base chains the jump to the shared spoof chain
// comes before the first rule that logs.
TEST(Compiler, BothBaseChainsCheckSpoofingBeforeAnyViolation) {
  Plan plan = compilePlan(loadOk(RINGFENCE_TEST_DATA "/golden/ringfence.yaml"));
  const Chain* spoof = chainNamed(plan, "spoof");
  ASSERT_TRUE(spoof);
  EXPECT_FALSE(spoof->base);
  EXPECT_EQ(spoof->rules.size(), 6u);
  for (const char* name : {"forward", "input"}) {
    const Chain* c = chainNamed(plan, name);
    ASSERT_TRUE(c);
    size_t jumpAt = c->rules.size(), firstLog = c->rules.size(),
           firstJumpToChecks = c->rules.size();
    for (size_t i = 0; i < c->rules.size(); ++i) {
      const PlanRule& r = c->rules[i];
      bool logs = false;
      for (const Expr& e : r.exprs) logs = logs || std::holds_alternative<Log>(e);
      if (logs && firstLog == c->rules.size()) firstLog = i;
      if (r.verdict.kind == VerdictKind::Jump && r.verdict.chain == "spoof") jumpAt = i;
      if (r.verdict.kind == VerdictKind::Jump && r.verdict.chain != "spoof" &&
          r.verdict.chain.rfind("isolated_", 0) != 0 && firstJumpToChecks == c->rules.size())
        firstJumpToChecks = i;
    }
    ASSERT_LT(jumpAt, c->rules.size()) << name;
    EXPECT_LT(jumpAt, firstLog) << name;
    EXPECT_LT(jumpAt, firstJumpToChecks) << name;
  }
}

// The inbound limit is spent by allowed flows only: forbidden SYNs from a
// LAN scanner must not starve a device's allowed and critical inbound flows.
TEST(Compiler, InboundLimitCountsOnlyAllowedFlowsAfterTheCriticalOnes) {
  Plan plan = compilePlan(loadOk(RINGFENCE_TEST_DATA "/golden/ringfence.yaml"));
  auto limitAt = [](const Chain& c) {
    for (size_t i = 0; i < c.rules.size(); ++i) {
      for (const Expr& e : c.rules[i].exprs)
        if (std::holds_alternative<LimitByMap>(e)) return i;
    }
    return c.rules.size();
  };
  for (const char* fam : {"4", "6"}) {
    const Chain* in = chainNamed(plan, std::string("in") + fam);
    ASSERT_TRUE(in);
    size_t at = limitAt(*in);
    ASSERT_LT(at, in->rules.size());
    const std::string limitRule = renderRule(in->rules[at]);
    EXPECT_NE(limitRule.find("@allow_in" + std::string(fam) + " "), std::string::npos) << limitRule;
    EXPECT_EQ(in->rules[at].verdict.kind, VerdictKind::Drop);
    bool criticalBefore = false;
    for (size_t i = 0; i < at; ++i)
      criticalBefore =
          criticalBefore || renderRule(in->rules[i]).find("@critical_in") != std::string::npos;
    EXPECT_TRUE(criticalBefore) << "the limit comes after the critical flows";
    const Chain* shard = chainNamed(plan, rangeChainName(std::string("in") + fam, 3));
    ASSERT_TRUE(shard);
    at = limitAt(*shard);
    ASSERT_EQ(at, 0u);
    EXPECT_NE(renderRule(shard->rules[0]).find(rangeSetName(std::string("allow_in") + fam, 3)),
              std::string::npos);
    EXPECT_EQ(shard->rules.size(), 3u);
    const Chain* out = chainNamed(plan, std::string("out") + fam);
    ASSERT_TRUE(out);
    EXPECT_EQ(limitAt(*out), out->rules.size()) << "no limit on outbound flows";
  }
}

// gateway_services (an extension): what devices may reach on the gateway itself.
TEST(Compiler, GatewayServicesBecomeTheInputChainsSet) {
  test::TempDir dir;
  dir.write("p/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  std::string config =
      dir.write("ringfence.yaml", "profiles: p\ngateway_services: [tcp/22, \"udp/161\"]\n");
  Plan plan = compilePlan(loadOk(config));
  EXPECT_EQ(keys(plan, "gateway_services"), (std::vector<std::string>{"tcp . 22", "udp . 161"}));
  EXPECT_EQ(keys(plan, "gateway_base"), (std::vector<std::string>{"udp . 67", "udp . 547"}));
  EXPECT_EQ(keys(plan, "self4"), (std::vector<std::string>{"198.51.100.1 . 198.51.100.1"}));
}

TEST(Compiler, InvalidGatewayServicesAreRefused) {
  test::TempDir dir;
  dir.write("p/a.yaml", "device: a\nidentity:\n  addresses: [198.51.100.1]\n");
  LoadOptions o;
  o.configFile = dir.write("ringfence.yaml",
                           "profiles: p\ngateway_services: [icmp/1, tcp/0, tcp, udp/70000]\n");
  o.configRequired = true;
  LoadResult r = loadPolicy(o);
  size_t errors = 0;
  for (const Diagnostic& d : r.diagnostics.all()) {
    if (formatDiagnostic(d).find("invalid gateway service") != std::string::npos) ++errors;
  }
  EXPECT_EQ(errors, 4u);
}

}  // namespace
}  // namespace ringfence::policy

namespace ringfence::policy {
namespace {

TEST(IsolationElements, OneAddressElementPerAddressCommentedWithTheDevice) {
  auto v4 = *parseIpAddress("198.51.100.10");
  auto v6 = *parseIpAddress("2001:db8:100::10");
  auto elements = isolationElements("pump", {v6, v4}, std::nullopt);
  ASSERT_EQ(elements.size(), 2u);
  EXPECT_EQ(elements[0].first, "isolated4") << "IPv4 first, as the compiler orders them";
  EXPECT_EQ(elements[0].second.low, std::vector<uint8_t>({198, 51, 100, 10}));
  EXPECT_EQ(elements[0].second.comment, "pump");
  EXPECT_EQ(elements[1].first, "isolated6");
  EXPECT_EQ(elements[1].second.low.size(), 16u);
  std::string longName(300, 'x');
  EXPECT_EQ(isolationElements(longName, {v4}, std::nullopt)[0].second.comment.size(),
            kMaxIsolationComment)
      << "a name from a hand-edited state file cannot overflow the element's userdata";
}

// An isolated device that takes another address is still cut off by its MAC:
// the isolation's elements include it, so the daemon adds it on isolation
// and removes it on release like the address elements.
TEST(IsolationElements, TheMacOfTheIsolationToo) {
  auto v4 = *parseIpAddress("198.51.100.10");
  auto mac = *parseMac("02:00:00:00:00:10");
  auto elements = isolationElements("pump", {v4}, mac);
  ASSERT_EQ(elements.size(), 2u);
  EXPECT_EQ(elements[1].first, setname::kIsolatedMac);
  EXPECT_EQ(elements[1].second.low, std::vector<uint8_t>({2, 0, 0, 0, 0, 0x10}));
  EXPECT_EQ(elements[1].second.comment, "pump");
  auto macOnly = isolationElements("pump", {}, mac);
  ASSERT_EQ(macOnly.size(), 1u);
  EXPECT_EQ(macOnly[0].first, setname::kIsolatedMac);
}

TEST(Compiler, AMacBoundDevicesIsolationElementsIncludeItsMac) {
  test::TempDir dir;
  dir.write("p/a.yaml",
            "device: a\nidentity:\n  addresses: [198.51.100.1]\n  mac: \"02:00:00:00:00:01\"\n");
  dir.write("p/b.yaml", "device: b\nidentity:\n  addresses: [198.51.100.2]\n");
  std::string config = dir.write("ringfence.yaml", "profiles: p\n");
  Policy policy = loadOk(config);
  Plan plan = compilePlan(policy);
  const SetDef* set = plan.findSet(setname::kIsolatedMac);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->key, std::vector<KeyType>{KeyType::EtherAddr});
  EXPECT_TRUE(set->elements.empty()) << "filled by the daemon";
  const Device* a = policy.findDevice("a");
  const Device* b = policy.findDevice("b");
  ASSERT_TRUE(a && b);
  auto isolationA = isolationElements(a->name, a->addresses, a->mac);
  ASSERT_EQ(isolationA.size(), 2u);
  EXPECT_EQ(isolationA[1].first, setname::kIsolatedMac);
  EXPECT_EQ(isolationElements(b->name, b->addresses, b->mac).size(), 1u);
  // Forward and input drop an isolated MAC with an address that is not isolated.
  for (const char* name : {"forward", "input"}) {
    const Chain* c = chainNamed(plan, name);
    ASSERT_TRUE(c);
    int found = 0;
    for (const PlanRule& r : c->rules) {
      std::string text = renderRule(r);
      if (text.rfind("ether saddr @isolated_mac ", 0) == 0 &&
          text.find("@isolated") != std::string::npos &&
          text.find("log prefix \"ringfence isolated out \"") != std::string::npos &&
          r.verdict.kind == VerdictKind::Drop)
        ++found;
    }
    EXPECT_EQ(found, 2) << name;
  }
}

// Devices compile on several threads: the plan is the same on every run, in
// device order, and each device's part holds its own elements and no other's,
// each set's in one slice, in set order.
TEST(Compiler, ParallelCompileIsDeterministicAndKeepsEachDeviceItsSlices) {
  test::TempDir dir;
  Policy policy = loadOk(test::writeGeneratedPolicy(dir.path(), 1500).string());
  Plan plan = compilePlan(policy);
  EXPECT_EQ(renderNft(compilePlan(policy)), renderNft(plan));
  ASSERT_EQ(plan.devices.size(), 1500u);
  size_t inDev4 = 0;
  for (size_t i = 0; i < plan.devices.size(); ++i) {
    const DeviceElements& d = plan.devices[i];
    EXPECT_EQ(d.device, policy.devices[i].name);
    uint32_t nextFree = 0;
    for (size_t k = 0; k < d.slices.size(); ++k) {
      const ElementSlice& slice = d.slices[k];
      ASSERT_LT(slice.set, plan.sets.size());
      if (k > 0) {
        EXPECT_GT(slice.set, d.slices[k - 1].set) << d.device;
      }
      const SetDef& set = plan.sets[slice.set];
      EXPECT_EQ(slice.begin, nextFree) << d.device << " " << set.name;
      EXPECT_LT(slice.begin, slice.end);
      nextFree = slice.end;
      if (set.name == "dev4") inDev4 += slice.end - slice.begin;
      if (set.name == "dev4" || set.name == "count4" || set.name == "shard_out4") {
        for (uint32_t e = slice.begin; e < slice.end; ++e)
          EXPECT_EQ(d.elements.at(e).comment, d.device) << set.name;
      }
    }
    EXPECT_EQ(nextFree, d.elements.size()) << d.device;
  }
  // Every compiled element of the address sets is in some device's part.
  EXPECT_TRUE(plan.findSet("dev4")->elements.empty());
  EXPECT_EQ(inDev4, test::wholeSet(plan, "dev4").elements.size());
}

// The isolated sets hold every address of the policy twice over, in few steps.
TEST(Compiler, IsolatedSetSizeGrowsInStepsWithThePolicy) {
  EXPECT_EQ(isolatedSetSize(0), 65536u);
  EXPECT_EQ(isolatedSetSize(30000), 65536u);
  EXPECT_EQ(isolatedSetSize(31000), 262144u);
  EXPECT_EQ(isolatedSetSize(150000), 1048576u);
  EXPECT_EQ(isolatedSetSize(1000000), 4194304u);
  EXPECT_EQ(isolatedSetSize(5000000), 4194304u);  // the largest step
  Policy policy;
  for (uint32_t i = 0; i < 33000; ++i) {  // 2 x 33,000 + 4,096 > 65,536
    Device d;
    d.name = "d" + std::to_string(i);
    IpAddress a;
    a.family = Family::V4;
    a.bytes = {100, static_cast<uint8_t>(64 + (i >> 16)), static_cast<uint8_t>(i >> 8),
               static_cast<uint8_t>(i)};
    d.addresses.push_back(a);
    policy.devices.push_back(std::move(d));
  }
  Plan plan = compilePlan(policy);
  EXPECT_EQ(plan.findSet("isolated4")->size, 262144u);
  EXPECT_EQ(plan.findSet("isolated6")->size, 65536u);  // no IPv6 address
  EXPECT_TRUE(plan.findSet("isolated4")->dynamic);
}

}  // namespace
}  // namespace ringfence::policy
