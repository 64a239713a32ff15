// The violation/isolation decisions, driven by a fake clock.
#include "policy/violations.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "policy/loader.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

using namespace std::chrono_literals;

class Judge : public ::testing::Test {
 protected:
  void SetUp() override {
    dir.write("p/pump.yaml", "device: pump\nidentity:\n  addresses: [198.51.100.10]\n");
    dir.write("p/ws.yaml",
              "device: ws\nidentity:\n  addresses: [198.51.100.50]\nviolations:\n  threshold: 3\n"
              "  window: 60s\n  release: 1h\n");
    dir.write(
        "p/alarm.yaml",
        "device: alarm\nidentity:\n  addresses: [198.51.100.60]\nviolations:\n  action: alert\n");
    dir.write("p/mon.yaml",
              "device: mon\nidentity:\n  addresses: [198.51.100.30]\nmode: monitor\n");
    LoadOptions o;
    o.configFile = dir.file("absent.yaml");
    o.profilesDir = dir.file("p");
    LoadResult r = loadPolicy(o);
    ASSERT_TRUE(r.ok());
    policy = std::move(r.policy);
  }
  Violation v(const std::string& device, uint16_t dport, uint16_t sport = 40000) {
    Violation x;
    x.device = device;
    x.flow = {*parseIpAddress("198.51.100.10"), *parseIpAddress("203.0.113.99"), 6, sport, dport};
    return x;
  }
  test::TempDir dir;
  Policy policy;
  WallTime t0 = WallTime{} + 1000h;
};

TEST_F(Judge, FirstViolationIsolatesWithTheDefaults) {
  ViolationJudge j(policy);
  auto actions = j.observe(v("pump", 443), t0);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::Isolate);
  EXPECT_EQ(actions[0].by, "policy");
  EXPECT_EQ(actions[0].reason,
            "1 violation within 60s, last: tcp 198.51.100.10:40000 -> 203.0.113.99:443");
  EXPECT_TRUE(j.isIsolated("pump"));
  EXPECT_FALSE(j.isolations().at("pump").releaseAt) << "release: manual by default";
  EXPECT_TRUE(j.observe(v("pump", 22), t0 + 1s).empty()) << "already isolated";
  EXPECT_EQ(j.violations("pump"), 2u);
}

TEST_F(Judge, RetransmissionsOfOneAttemptCountOnce) {
  ViolationJudge j(policy);
  j.observe(v("ws", 443), t0);
  for (int i = 1; i < 10; ++i)
    EXPECT_TRUE(j.observe(v("ws", 443), t0 + std::chrono::seconds(i)).empty());
  EXPECT_EQ(j.violations("ws"), 1u);
  EXPECT_EQ(j.violationsTotal(), 1u);
  j.observe(v("ws", 443), t0 + 2min);  // a new attempt, long after
  EXPECT_EQ(j.violations("ws"), 2u);
}

TEST_F(Judge, ThresholdWithinTheWindow) {
  ViolationJudge j(policy);
  EXPECT_TRUE(j.observe(v("ws", 1), t0).empty());
  EXPECT_TRUE(j.observe(v("ws", 2), t0 + 30s).empty());
  EXPECT_TRUE(j.observe(v("ws", 3), t0 + 61s).empty()) << "the first fell out of the window";
  auto actions = j.observe(v("ws", 4), t0 + 62s);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::Isolate);
  EXPECT_EQ(j.isolations().at("ws").releaseAt, t0 + 62s + 1h);
}

TEST_F(Judge, AutomaticRelease) {
  ViolationJudge j(policy);
  for (uint16_t p = 1; p <= 3; ++p) j.observe(v("ws", p), t0);
  ASSERT_TRUE(j.isIsolated("ws"));
  EXPECT_EQ(j.nextRelease(), t0 + 1h);
  EXPECT_TRUE(j.tick(t0 + 59min).empty());
  auto released = j.tick(t0 + 1h);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].kind, ActionKind::Release);
  EXPECT_FALSE(j.isIsolated("ws"));
  EXPECT_FALSE(j.nextRelease());
  EXPECT_TRUE(j.observe(v("ws", 9), t0 + 1h + 1s).empty())
      << "a released device starts with a clean slate";
}

TEST_F(Judge, AlertActionNeverIsolatesAndAlertsOncePerWindow) {
  ViolationJudge j(policy);
  auto first = j.observe(v("alarm", 1), t0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].kind, ActionKind::Alert);
  EXPECT_TRUE(j.observe(v("alarm", 2), t0 + 10s).empty());
  EXPECT_EQ(j.observe(v("alarm", 3), t0 + 61s).size(), 1u);
  EXPECT_FALSE(j.isIsolated("alarm"));
}

TEST_F(Judge, MonitorDevicesAreNeverIsolatedAutomatically) {
  ViolationJudge j(policy);
  for (uint16_t p = 1; p < 50; ++p) EXPECT_TRUE(j.observe(v("mon", p), t0).empty());
  EXPECT_FALSE(j.isIsolated("mon"));
  EXPECT_EQ(j.violations("mon"), 49u);
}

TEST_F(Judge, ManualIsolationAndRelease) {
  ViolationJudge j(policy);
  auto iso = j.isolate("mon", "suspicious", "uid:0", t0);
  ASSERT_TRUE(iso);
  EXPECT_EQ(iso->by, "uid:0");
  EXPECT_FALSE(j.isolate("mon", "again", "uid:0", t0));
  EXPECT_TRUE(j.release("mon", "checked", "uid:0"));
  EXPECT_FALSE(j.release("mon", "again", "uid:0"));
}

TEST_F(Judge, RestoredIsolationsStayEvenForUnknownDevices) {
  ViolationJudge j(policy);
  j.restore({{"pump", "earlier", "policy", t0, std::nullopt, {}, std::nullopt},
             {"gone", "earlier", "uid:0", t0, std::nullopt, {}, std::nullopt}});
  EXPECT_TRUE(j.isIsolated("pump"));
  EXPECT_TRUE(j.isIsolated("gone"));
  EXPECT_TRUE(j.tick(t0 + 1000h).empty());
}

TEST_F(Judge, ScanningEveryPortCountsEveryFlowInBoundedMemory) {
  ViolationJudge j(policy);
  for (uint32_t round = 0; round < 2; ++round) {  // every flow twice: counted once
    for (uint32_t p = 1; p <= 60000; ++p) {
      j.observe(v("mon", static_cast<uint16_t>(p)), t0 + std::chrono::milliseconds(p / 10 + round));
    }
  }
  EXPECT_EQ(j.violations("mon"), 60000u) << "every distinct flow counts, exactly once";
  for (uint32_t p = 0; p < 70000; ++p) {  // past the bound, memory stays bounded
    j.observe(v("mon", static_cast<uint16_t>(p % 60000), static_cast<uint16_t>(1 + p / 60000)),
              t0 + 10s);
  }
  EXPECT_LE(j.rememberedFlows("mon"), 65537u);
}

}  // namespace
}  // namespace ringfence::policy

namespace ringfence::policy {
namespace {

// Isolations follow the device's addresses and MAC across policies.
class Follow : public ::testing::Test {
 protected:
  Policy load(const std::map<std::string, std::string>& files) {
    test::TempDir& d = *dirs.emplace_back(std::make_unique<test::TempDir>());
    for (const auto& [name, text] : files) d.write("p/" + name, text);
    LoadOptions o;
    o.configFile = d.file("absent.yaml");
    o.profilesDir = d.file("p");
    LoadResult r = loadPolicy(o);
    EXPECT_TRUE(r.ok());
    return std::move(r.policy);
  }
  static std::string profile(const std::string& name, const std::string& address,
                             const std::string& mac = "") {
    return "device: " + name + "\nidentity:\n  addresses: [" + address + "]\n" +
           (mac.empty() ? "" : "  mac: \"" + mac + "\"\n");
  }
  std::vector<std::unique_ptr<test::TempDir>> dirs;
  WallTime t0 = WallTime{} + 1000h;
};

TEST_F(Follow, AnIsolationRecordsTheAddressesAndMacOfTheDevice) {
  Policy p = load({{"pump.yaml", profile("pump", "198.51.100.10", "02:00:00:00:00:10")}});
  ViolationJudge j(p);
  auto a = j.isolate("pump", "why", "uid:0", t0);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->addresses.size(), 1u);
  EXPECT_EQ(toString(a->addresses[0]), "198.51.100.10");
  const Isolation& iso = j.isolations().at("pump");
  ASSERT_TRUE(iso.mac);
  EXPECT_EQ(toString(*iso.mac), "02:00:00:00:00:10");
  auto r = j.release("pump", "done", "uid:0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->addresses, a->addresses) << "a release frees exactly what was cut off";
  ASSERT_TRUE(a->mac) << "the MAC is cut off too";
  EXPECT_EQ(toString(*a->mac), "02:00:00:00:00:10");
  EXPECT_EQ(r->mac, a->mac) << "and freed on release";
}

TEST_F(Follow, ARenamedDeviceKeepsItsIsolationUnderTheNewName) {
  Policy before = load({{"pump.yaml", profile("pump", "198.51.100.10")}});
  ViolationJudge j(before);
  j.isolate("pump", "suspicious", "uid:0", t0);
  Policy after = load({{"infusion.yaml", profile("infusion", "198.51.100.10")}});
  j.setPolicy(after);
  FollowResult f = j.followPolicy();
  ASSERT_EQ(f.moved.size(), 1u);
  EXPECT_EQ(f.moved[0].from, "pump");
  EXPECT_EQ(f.moved[0].to, "infusion");
  EXPECT_EQ(f.moved[0].via, "address 198.51.100.10");
  EXPECT_TRUE(f.orphans.empty());
  EXPECT_TRUE(f.changed);
  EXPECT_FALSE(j.isIsolated("pump"));
  ASSERT_TRUE(j.isIsolated("infusion"));
  const Isolation& iso = j.isolations().at("infusion");
  EXPECT_EQ(iso.reason, "suspicious");
  EXPECT_EQ(iso.by, "uid:0");
  EXPECT_EQ(iso.since, t0);
}

TEST_F(Follow, AMacFindsADeviceWhoseAddressChangedToo) {
  Policy before = load({{"pump.yaml", profile("pump", "198.51.100.10", "02:00:00:00:00:10")}});
  ViolationJudge j(before);
  j.isolate("pump", "x", "uid:0", t0);
  Policy after = load({{"new.yaml", profile("new", "198.51.100.11", "02:00:00:00:00:10")}});
  j.setPolicy(after);
  FollowResult f = j.followPolicy();
  ASSERT_EQ(f.moved.size(), 1u);
  EXPECT_EQ(f.moved[0].via, "MAC 02:00:00:00:00:10");
  const Isolation& iso = j.isolations().at("new");
  EXPECT_EQ(iso.addresses.size(), 2u) << "the old address stays cut off with the new one";
}

TEST_F(Follow, ARemovedDeviceIsAnOrphanThatKeepsItsAddressesUntilReleased) {
  Policy before = load({{"pump.yaml", profile("pump", "198.51.100.10")}});
  ViolationJudge j(before);
  j.isolate("pump", "x", "uid:0", t0);
  Policy after = load({{"other.yaml", profile("other", "198.51.100.20")}});
  j.setPolicy(after);
  FollowResult f = j.followPolicy();
  EXPECT_TRUE(f.moved.empty());
  ASSERT_EQ(f.orphans, std::vector<std::string>{"pump"});
  EXPECT_TRUE(j.isOrphan("pump"));
  EXPECT_FALSE(j.isOrphan("other"));
  EXPECT_EQ(j.isolations().at("pump").addresses.size(), 1u);
  EXPECT_TRUE(j.tick(t0 + 10000h).empty()) << "only a release ends it";
  auto r = j.release("pump", "checked", "uid:0");
  ASSERT_TRUE(r);
  EXPECT_EQ(toString(r->addresses.at(0)), "198.51.100.10");
}

TEST_F(Follow, AnOrphanDoesNotTakeOverADeviceIsolatedAlready) {
  Policy before =
      load({{"a.yaml", profile("a", "198.51.100.10")}, {"b.yaml", profile("b", "198.51.100.20")}});
  ViolationJudge j(before);
  j.isolate("a", "x", "uid:0", t0);
  j.isolate("b", "y", "uid:0", t0);
  Policy after = load({{"b.yaml", profile("b", "198.51.100.10")}});  // b now has a's address
  j.setPolicy(after);
  FollowResult f = j.followPolicy();
  EXPECT_TRUE(f.moved.empty());
  EXPECT_EQ(f.orphans, std::vector<std::string>{"a"});
  EXPECT_EQ(j.isolations().at("b").reason, "y");
}

TEST_F(Follow, VersionOneIsolationsGetTheirAddressesFromThePolicy) {
  Policy p = load({{"pump.yaml", profile("pump", "198.51.100.10")}});
  ViolationJudge j(p);
  j.restore({{"pump", "earlier", "uid:0", t0, std::nullopt, {}, std::nullopt}});
  FollowResult f = j.followPolicy();
  EXPECT_TRUE(f.changed);
  EXPECT_EQ(j.isolations().at("pump").addresses.size(), 1u);
  EXPECT_FALSE(j.followPolicy().changed) << "following again changes nothing";
}

TEST_F(Follow, AddressesFoundInTheKernelBecomeIsolations) {
  Policy p = load({{"pump.yaml", profile("pump", "198.51.100.10")}});
  ViolationJudge j(p);
  auto owned = j.adoptKernelAddress(*parseIpAddress("198.51.100.10"), "old-name", t0);
  ASSERT_TRUE(owned);
  EXPECT_EQ(*owned, "pump") << "the policy's owner wins over the comment";
  EXPECT_EQ(j.isolations().at("pump").by, "kernel");
  EXPECT_FALSE(j.adoptKernelAddress(*parseIpAddress("198.51.100.10"), "", t0)) << "known";
  EXPECT_EQ(j.adoptKernelAddress(*parseIpAddress("198.51.100.99"), "gone", t0), "gone");
  EXPECT_EQ(j.adoptKernelAddress(*parseIpAddress("198.51.100.98"), "", t0), "198.51.100.98");
  EXPECT_TRUE(j.isOrphan("gone"));
}

}  // namespace
}  // namespace ringfence::policy
