// Containment over a kernel that refuses: an isolation by hand is reported
// as failed, stays recorded and saved, and the kernel change is retried.
#include "daemon/containment.h"

#include <gtest/gtest.h>

#include "daemon/enforcer.h"
#include "policy/compiler.h"
#include "policy/loader.h"
#include "tests/support/temp_dir.h"

namespace ringfence::daemon {
namespace {

class RefusingSink : public policy::RulesetSink {
 public:
  std::expected<policy::ApplyStats, std::string> replace(const policy::Plan&,
                                                         const std::string&) override {
    return policy::ApplyStats{1, 1};
  }
  std::expected<policy::ApplyStats, std::string> update(const policy::Plan&, const policy::Plan&,
                                                        const policy::PlanDiff&) override {
    ++updates;
    if (refuse) return std::unexpected(std::string("Operation not permitted"));
    return policy::ApplyStats{1, 1};
  }
  bool refuse = false;
  int updates = 0;
};

class ContainmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy::LoadOptions o;
    o.configFile = RINGFENCE_TEST_DATA "/golden/ringfence.yaml";
    o.configRequired = true;
    policy::LoadResult r = policy::loadPolicy(o);
    ASSERT_TRUE(r.ok());
    policy_ = std::move(r.policy);
    containment.restore();
    policy::Plan plan = policy::compilePlan(policy_);
    containment.usePolicy(policy_, &plan);
    ASSERT_TRUE(enforcer.start(std::move(plan)));
  }
  test::TempDir dir;
  RefusingSink sink;
  Enforcer enforcer{sink};
  StateStore store{dir.file("state")};
  Containment containment{enforcer, store};
  policy::Policy policy_;
};

// A new policy changes the owners of addresses and MACs only for the devices
// that changed, and they are then what a containment given that policy from
// the start finds: an address that moved has its new owner, one whose device
// left has none.
TEST_F(ContainmentTest, OwnersFollowTheDevicesThatChanged) {
  auto addr = [](const char* a) { return policy::parseIpAddress(a).value(); };
  EXPECT_EQ(containment.deviceOf(addr("198.51.100.10")), "a-pump");
  policy::Policy next = policy_;
  ASSERT_EQ(next.devices[1].name, "b-monitor");
  next.devices.erase(next.devices.begin() + 1);  // b-monitor leaves
  policy::Device& pump = next.devices.edit(0);   // a-pump gives up its IPv6 address and MAC
  std::optional<policy::MacAddress> mac = pump.mac;
  policy::IpAddress moved = pump.addresses.at(1);
  pump.addresses.pop_back();
  pump.addressWhere.pop_back();
  pump.mac.reset();
  policy::Device d = next.devices[0];
  d.name = "d-heir";  // which a new device takes
  d.addresses = {moved, addr("198.51.100.99")};
  d.addressWhere.resize(2);
  d.mac = mac;
  next.devices.push_back(std::move(d));
  containment.usePolicy(next, nullptr);

  StateStore otherStore{dir.file("other-state")};
  Containment fresh{enforcer, otherStore};
  fresh.restore();
  fresh.usePolicy(next, nullptr);
  for (const char* a :
       {"198.51.100.10", "2001:db8:100::10", "198.51.100.20", "198.51.100.30", "198.51.100.99"})
    EXPECT_EQ(containment.deviceOf(addr(a)), fresh.deviceOf(addr(a))) << a;
  EXPECT_EQ(containment.deviceOf(addr("2001:db8:100::10")), "d-heir");
  EXPECT_EQ(containment.deviceOf(addr("198.51.100.99")), "d-heir");
  EXPECT_EQ(containment.deviceOf(addr("198.51.100.20")), "") << "its device left";
  EXPECT_EQ(containment.deviceOf(addr("198.51.100.10")), "a-pump");

  containment.usePolicy(policy_, nullptr);  // and back
  EXPECT_EQ(containment.deviceOf(addr("2001:db8:100::10")), "a-pump");
  EXPECT_EQ(containment.deviceOf(addr("198.51.100.20")), "b-monitor");
}

TEST_F(ContainmentTest, AnIsolationTheKernelRefusesIsAnErrorButStaysRecordedAndSaved) {
  sink.refuse = true;
  auto done = containment.isolate("a-pump", "test", "uid:0", policy::WallClock::now());
  ASSERT_FALSE(done);
  EXPECT_NE(done.error().find("Operation not permitted"), std::string::npos) << done.error();
  EXPECT_TRUE(containment.judge()->isIsolated("a-pump"));
  EXPECT_EQ(containment.kernelChangesPending(), 1u);
  LoadedState saved = store.load();
  ASSERT_EQ(saved.isolations.size(), 1u);
  EXPECT_EQ(saved.isolations[0].device, "a-pump");
  ASSERT_TRUE(containment.nextDeadline());

  // The retry asks the kernel again; while it refuses, the change stays pending.
  int before = sink.updates;
  containment.onTime(policy::WallClock::now() + 2 * Containment::kRetrySave);
  EXPECT_EQ(sink.updates, before + 1);
  EXPECT_EQ(containment.kernelChangesPending(), 1u);
  EXPECT_TRUE(containment.nextDeadline());

  // A second request is nothing to do (the isolation is recorded), not a success.
  auto again = containment.isolate("a-pump", "test", "uid:0", policy::WallClock::now());
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST_F(ContainmentTest, AReleaseAfterARefusedIsolationEndsTheRetry) {
  sink.refuse = true;
  ASSERT_FALSE(containment.isolate("a-pump", "test", "uid:0", policy::WallClock::now()));
  // The isolation never reached the kernel: nothing is left to take out.
  auto released = containment.release("a-pump", "test", "uid:0");
  ASSERT_TRUE(released);
  EXPECT_TRUE(*released);
  EXPECT_EQ(containment.kernelChangesPending(), 0u);
  EXPECT_TRUE(store.load().isolations.empty());
}

TEST_F(ContainmentTest, ReleasingADeviceThatIsNotIsolatedIsNothingToDo) {
  auto released = containment.release("a-pump", "test", "uid:0");
  ASSERT_TRUE(released);
  EXPECT_FALSE(*released);
}

}  // namespace
}  // namespace ringfence::daemon

namespace ringfence::daemon {
namespace {

struct CountingEvents : GatewayEvents {
  void violation(const std::string&, const std::string&, const std::string&, const std::string&,
                 const std::string&, uint16_t, uint16_t, bool) override {}
  void isolated(const std::string&, const std::string&, const std::string&) override {}
  void released(const std::string&, const std::string&, const std::string&) override {}
  void unknownHost(const std::string&, const std::string&, const std::string&) override {
    ++unknown;
  }
  void probe(const std::string&, const std::string&, const std::string&, const std::string&,
             uint16_t, uint16_t) override {
    ++probes;
  }
  void policyReloaded(uint64_t) override {}
  int unknown = 0;
  int probes = 0;
};

netlink::LoggedPacket unknownFrom(uint32_t n) {
  netlink::LoggedPacket p;
  p.prefix = std::string(policy::kLogPrefix) + "unknown src ";
  p.src = *policy::parseIpAddress("10." + std::to_string((n >> 16) & 255) + "." +
                                  std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255));
  p.dst = *policy::parseIpAddress("203.0.113.20");
  p.proto = 6;
  p.dport = 443;
  p.mac = "02:00:00:00:00:99";
  return p;
}

TEST_F(ContainmentTest, UnknownHostsAreRateLimitedAndBoundedInMemory) {
  CountingEvents events;
  containment.setEvents(&events);
  policy::WallTime t0 = policy::WallClock::now();
  // A sweep of 6,000 spoofed sources, each seen twice: one signal per host,
  // up to the bound of hosts remembered.
  std::vector<netlink::LoggedPacket> sweep;
  for (uint32_t i = 0; i < 6000; ++i) {
    sweep.push_back(unknownFrom(i));
    sweep.push_back(unknownFrom(i));
  }
  containment.onPackets(sweep, t0);
  EXPECT_EQ(events.unknown, 4096);
  // A remembered host is not reported again, a new one is counted only.
  containment.onPackets({unknownFrom(7), unknownFrom(9999)}, t0 + std::chrono::minutes(5));
  EXPECT_EQ(events.unknown, 4096);
  // Ten minutes later the silent ones are forgotten: a new host is reported
  // again, and host 7 (seen 5 minutes ago) is still remembered.
  containment.onPackets({unknownFrom(7), unknownFrom(9998)}, t0 + std::chrono::minutes(11));
  EXPECT_EQ(events.unknown, 4097);
  containment.setEvents(nullptr);
}

TEST_F(ContainmentTest, ProbesAreCountedAndSignalledPerFlowNeverAsViolations) {
  CountingEvents events;
  containment.setEvents(&events);
  std::vector<netlink::LoggedPacket> scan;
  for (uint16_t port = 1; port <= 500; ++port) {
    netlink::LoggedPacket p;
    p.prefix = std::string(policy::kLogPrefix) + "drop in ";
    p.src = *policy::parseIpAddress("203.0.113.66");
    p.dst = *policy::parseIpAddress("198.51.100.10");  // a-pump
    p.proto = 6;
    p.sport = 40000;
    p.dport = port;
    scan.push_back(p);
  }
  containment.onPackets(scan, policy::WallClock::now());
  EXPECT_EQ(containment.probesReceived("a-pump"), 500u);
  EXPECT_EQ(events.probes, 500);
  containment.onPackets(scan, policy::WallClock::now());  // retries of the same flows
  EXPECT_EQ(containment.probesReceived("a-pump"), 500u);
  EXPECT_EQ(events.probes, 500);
  EXPECT_EQ(containment.judge()->violations("a-pump"), 0u);
  containment.setEvents(nullptr);
}

// A false ARP claim dropped by the bridge table, in a-pump's MAC but not on
// a-pump's port (dev0): a host forging that MAC, so nobody is charged, and
// never a violation.
TEST_F(ContainmentTest, AFalseArpClaimInADevicesMacOnAnotherPortBlamesNobody) {
  netlink::LoggedPacket p;
  p.prefix = std::string(policy::kLogPrefix) + "spoof arp ";
  p.arp = true;
  p.src = *policy::parseIpAddress("198.51.100.20");  // b-monitor's address
  p.dst = p.src;
  p.mac = "02:00:00:00:00:10";  // a-pump's MAC; inIfindex 0 is no port of a-pump's
  containment.onPackets({p, p}, policy::WallClock::now());
  EXPECT_EQ(containment.packetsDropped("a-pump"), 0u);
  EXPECT_EQ(containment.packetsDropped("b-monitor"), 0u) << "the victim is not charged";
  EXPECT_EQ(containment.judge()->violations("a-pump"), 0u);
  EXPECT_EQ(containment.judge()->violations("b-monitor"), 0u);
  EXPECT_FALSE(containment.judge()->isIsolated("a-pump"));
}

netlink::LoggedPacket dropped(const char* prefix, const char* src, const char* dst,
                              uint16_t dport) {
  netlink::LoggedPacket p;
  p.prefix = std::string(policy::kLogPrefix) + prefix;
  p.src = *policy::parseIpAddress(src);
  p.dst = *policy::parseIpAddress(dst);
  p.proto = 6;
  p.sport = 40000;
  p.dport = dport;
  return p;
}

// A restart keeps an isolated device's counters: Violations, LastViolationAt
// and ProbesReceived go on from the saved values; the total since start does not.
TEST_F(ContainmentTest, AnIsolatedDevicesCountersSurviveARestart) {
  policy::WallTime t = policy::WallTime{} + std::chrono::hours(500000);
  containment.onPackets({dropped("drop out ", "198.51.100.10", "192.0.2.1", 22),
                         dropped("drop out ", "198.51.100.10", "192.0.2.1", 23),
                         dropped("drop out ", "198.51.100.10", "192.0.2.1", 24),
                         dropped("drop in ", "203.0.113.66", "198.51.100.10", 25),
                         dropped("drop in ", "203.0.113.66", "198.51.100.10", 26)},
                        t);
  ASSERT_TRUE(containment.judge()->isIsolated("a-pump"));
  ASSERT_EQ(containment.judge()->violations("a-pump"), 3u);
  ASSERT_EQ(containment.probesReceived("a-pump"), 2u);
  // A probe after the isolation was saved reaches the file at stop.
  containment.onPackets({dropped("drop in ", "203.0.113.66", "198.51.100.10", 27)}, t);
  containment.saveCounters();

  Containment restarted{enforcer, store};
  restarted.restore();
  policy::Plan plan = policy::compilePlan(policy_);
  restarted.usePolicy(policy_, &plan);
  EXPECT_TRUE(restarted.judge()->isIsolated("a-pump"));
  EXPECT_EQ(restarted.judge()->violations("a-pump"), 3u);
  EXPECT_EQ(restarted.judge()->lastViolation("a-pump"), t);
  EXPECT_EQ(restarted.probesReceived("a-pump"), 3u);
  EXPECT_EQ(restarted.judge()->violationsTotal(), 0u) << "the total counts since start";
  EXPECT_EQ(restarted.judge()->violations("b-monitor"), 0u);

  restarted.onPackets({dropped("drop out ", "198.51.100.10", "192.0.2.1", 28)}, t);
  EXPECT_EQ(restarted.judge()->violations("a-pump"), 4u);

  // A release forgets them: a released device starts again from 0 after a restart.
  ASSERT_TRUE(restarted.release("a-pump", "fixed", "uid:0"));
  EXPECT_TRUE(store.load().counters.empty());
}

}  // namespace
}  // namespace ringfence::daemon
