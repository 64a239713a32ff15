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
