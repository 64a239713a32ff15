#include "policy/plan_diff.h"

#include <gtest/gtest.h>

#include <set>

#include "daemon/enforcer.h"
#include "policy/compiler.h"
#include "policy/loader.h"
#include "policy/nft_text.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

class Diff : public ::testing::Test {
 protected:
  void SetUp() override {
    dir.write("ringfence.yaml", "profiles: p\n");
    write("a", "198.51.100.1", "[443]", "");
    write("b", "198.51.100.2", "[22]", "limits:\n  inbound_new_per_second: 5\n");
  }
  void write(const std::string& name, const std::string& addr, const std::string& ports,
             const std::string& extra) {
    dir.write("p/" + name + ".yaml",
              "device: " + name + "\nidentity:\n  addresses: [" + addr +
                  "]\nallow:\n  outbound:\n    - to: 203.0.113.0/24\n      proto: tcp\n"
                  "      ports: " +
                  ports +
                  "\n    - to: 203.0.113.9\n      proto: udp\n"
                  "      ports: [53]\n" +
                  extra);
  }
  Plan compile(const std::string& extraConfig = "") {
    dir.write("ringfence.yaml", "profiles: p\n" + extraConfig);
    LoadOptions o;
    o.configFile = dir.file("ringfence.yaml");
    LoadResult r = loadPolicy(o);
    EXPECT_TRUE(r.ok());
    return compilePlan(r.policy);
  }
  test::TempDir dir;
};

TEST_F(Diff, SamePolicyNoChange) {
  Plan a = compile(), b = compile();
  EXPECT_TRUE(diffPlans(a, b).empty());
}

// A device compiled again whose part has the fingerprint of the one in force
// (plans from two compiles: equal parts, other objects) is compared element
// by element: a part that differs under an equal fingerprint still changes.
TEST_F(Diff, PartsAreComparedNotPassedOverOnTheirFingerprint) {
  Plan a = compile(), b = compile();
  ASSERT_FALSE(a.devices.empty());
  ASSERT_NE(a.devices.shared(0), b.devices.shared(0)) << "two compiles, two objects";
  EXPECT_TRUE(diffPlans(a, b).empty());
  DeviceElements& part = b.devices.edit(0);
  ASSERT_FALSE(part.elements.empty());
  SetElement first = part.elements[0].copy();
  first.comment = first.comment.str() + " (another rule)";
  part.elements.replace(0, first);  // the fingerprint stays what it was
  EXPECT_EQ(part.fingerprint, a.devices[0].fingerprint);
  PlanDiff d = diffPlans(a, b);
  EXPECT_EQ(d.elementChanges(), 2u) << "replaced: removed and added";
}

TEST_F(Diff, OneDeviceEditTouchesOnlyItsElements) {
  Plan before = compile();
  write("a", "198.51.100.1", "[443, 8443]", "");
  Plan after = compile();
  PlanDiff d = diffPlans(before, after);
  EXPECT_FALSE(d.rebuild);
  ASSERT_EQ(d.sets.size(), 1u);
  unsigned shard = rangeShard("a");
  EXPECT_EQ(d.sets[0].set,
            std::string("allow_out4_ranges_") + (shard < 10 ? "0" : "") + std::to_string(shard));
  EXPECT_EQ(d.sets[0].removed.size(), 0u);
  ASSERT_EQ(d.sets[0].added.size(), 1u);
  EXPECT_EQ(renderElementKey(*after.findSet(d.sets[0].set), *d.sets[0].added[0]),
            "198.51.100.1 . 203.0.113.0/24 . tcp . 8443");
  EXPECT_TRUE(d.chainsRewritten.empty());
}

TEST_F(Diff, RemovedDeviceRemovesItsElementsAndLimit) {
  Plan before = compile();
  std::filesystem::remove(dir.file("p/b.yaml"));
  Plan after = compile();
  PlanDiff d = diffPlans(before, after);
  EXPECT_FALSE(d.rebuild);
  ASSERT_EQ(d.limitsRemoved.size(), 1u);
  EXPECT_TRUE(d.limitsAdded.empty());
  size_t removed = 0;
  for (const SetChange& c : d.sets) {
    removed += c.removed.size();
    EXPECT_TRUE(c.added.empty());
  }
  // dev4, count4, self4, shard_out4, shard_in4, allow_out4 (udp 53), its range shard, inlimit4,
  // orate4_200, conns4_1024, instant4 (isolated at the first violation: the default threshold 1)
  EXPECT_EQ(removed, 11u);
}

TEST_F(Diff, ChangedLimitReplacesObjectAndItsMapElement) {
  Plan before = compile();
  write("b", "198.51.100.2", "[22]", "limits:\n  inbound_new_per_second: 9\n");
  Plan after = compile();
  PlanDiff d = diffPlans(before, after);
  ASSERT_EQ(d.limitsRemoved.size(), 1u);
  ASSERT_EQ(d.limitsAdded.size(), 1u);
  ASSERT_EQ(d.sets.size(), 1u);
  EXPECT_EQ(d.sets[0].set, "inlimit4");
  EXPECT_EQ(d.sets[0].removed.size(), 1u);
  EXPECT_EQ(d.sets[0].added.size(), 1u);
}

TEST_F(Diff, ConfigurationChangesRewriteChainsOrRebuild) {
  Plan before = compile();
  Plan allowUnknown = compile("unknown_devices: allow\n");  // the diff points into it
  PlanDiff chains = diffPlans(before, allowUnknown);
  EXPECT_FALSE(chains.rebuild);
  ASSERT_EQ(chains.chainsRewritten.size(), 2u);
  EXPECT_EQ(chains.chainsRewritten[0]->name, "unknown_src");
  EXPECT_TRUE(diffPlans(before, compile("table: other\n")).rebuild);
}

// Applying the diff to the running plan's elements must give the next plan's.
void expectDiffTransforms(const Plan& before, const Plan& after) {
  PlanDiff d = diffPlans(before, after);
  ASSERT_FALSE(d.rebuild);
  for (size_t i = 0; i < after.sets.size(); ++i) {
    auto render = [&](const ElementView& e) {
      return renderElementKey(after.sets[i], e) + " : " + e.data.str() + " # " + e.comment.str();
    };
    std::multiset<std::string> have;
    for (const SetElement& e : before.wholeSet(i).elements) have.insert(render(e));
    for (const SetChange& c : d.sets) {
      if (c.set != after.sets[i].name) continue;
      for (const ElementRef& e : c.removed) {
        auto it = have.find(render(*e));
        ASSERT_NE(it, have.end()) << "removing an element that is not there: " << render(*e);
        have.erase(it);
      }
      for (const ElementRef& e : c.added) have.insert(render(*e));
    }
    std::multiset<std::string> want;
    for (const SetElement& e : after.wholeSet(i).elements) want.insert(render(e));
    EXPECT_EQ(have, want) << after.sets[i].name;
  }
}

TEST_F(Diff, ApplyingTheDifferenceGivesTheNewPlan) {
  Plan p0 = compile();
  write("c", "198.51.100.3", "[1, \"5-9\"]", "");  // a new device
  Plan p1 = compile();
  expectDiffTransforms(p0, p1);
  std::filesystem::remove(dir.file("p/a.yaml"));  // a device removed, another's ports changed
  write("b", "198.51.100.2", "[22, 23]", "limits:\n  inbound_new_per_second: 5\n");
  Plan p2 = compile();
  expectDiffTransforms(p1, p2);
  write("c", "198.51.100.1", "[1]", "");  // an address moves to another device
  Plan p3 = compile();
  expectDiffTransforms(p2, p3);
  Plan p4 = compile("device_interfaces: [dev0]\n");  // elements that belong to no device
  expectDiffTransforms(p3, p4);
  expectDiffTransforms(p4, p0);
}

class FakeSink : public RulesetSink {
 public:
  std::expected<ApplyStats, std::string> replace(const Plan& plan,
                                                 const std::string& alsoDelete) override {
    calls.push_back("replace " + plan.table + (alsoDelete.empty() ? "" : " delete " + alsoDelete));
    if (refuse) return std::unexpected(std::string("refused"));
    return ApplyStats{1, 1};
  }
  std::expected<ApplyStats, std::string> update(const Plan&, const Plan&,
                                                const PlanDiff& d) override {
    calls.push_back("update " + std::to_string(d.elementChanges()));
    if (refuse) return std::unexpected(std::string("refused"));
    return ApplyStats{1, 1};
  }
  std::vector<std::string> calls;
  bool refuse = false;
};

TEST_F(Diff, EnforcerUsesTheDifferenceAndKeepsTheRunningPlanOnRefusal) {
  FakeSink sink;
  daemon::Enforcer e(sink);
  ASSERT_TRUE(e.start(compile()));
  write("a", "198.51.100.1", "[443, 8443]", "");
  auto report = e.reload(compile());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->elementChanges, 1u);
  EXPECT_TRUE(e.reload(compile()));  // nothing changed: the kernel is not asked
  sink.refuse = true;
  write("a", "198.51.100.1", "[1]", "");
  EXPECT_FALSE(e.reload(compile()));
  sink.refuse = false;
  EXPECT_NE(renderNft(*e.running()).find("8443"), std::string::npos)
      << "refused plan must not replace the running one";
  EXPECT_TRUE(e.reload(compile("table: other\n")));
  EXPECT_EQ(sink.calls, (std::vector<std::string>{"replace ringfence", "update 1", "update 3",
                                                  "replace other delete ringfence"}));
}

}  // namespace
}  // namespace ringfence::policy
