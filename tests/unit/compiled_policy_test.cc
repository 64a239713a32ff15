// The compiled policy file (daemon/compiled_policy.h): what is saved is read
// back field for field; a file cut short, grown, or with any byte changed is
// refused with a reason (never a partial policy); an absent file is no error;
// the build and the load options are told apart.
#include "daemon/compiled_policy.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>

#include "policy/compiler.h"
#include "policy/policy_packing.h"
#include "tests/support/temp_dir.h"

namespace ringfence::daemon {
namespace {

CompiledPolicy sample(std::string& policyBytes, std::string& planBytes) {
  policyBytes = std::string(5000, 'p') + "policy";
  planBytes = std::string(3000, 'q') + "plan";
  CompiledPolicy c;
  c.build = buildIdentity();
  c.options = "options";
  c.sources.config = policy::SourceFile{"/etc/ringfence/ringfence.yaml", "profiles: profiles\n"};
  policy::SourceFile profile{"/etc/ringfence/profiles/pump.yaml", "device: pump\n"};
  profile.stamp = policy::FileStamp{1, 2, 13, 4, 5};
  c.sources.profiles.push_back(profile);
  c.readingNotes = {"note"};
  c.warnings = {"a warning", "another"};
  c.policyBytes = policyBytes;
  c.planBytes = planBytes;
  return c;
}

auto parse(std::string text) {
  return parseCompiledPolicy(std::make_shared<const std::string>(std::move(text)));
}

TEST(CompiledPolicy, ComesBackFieldForField) {
  std::string a, b;
  CompiledPolicy c = sample(a, b);
  auto back = parse(formatCompiledPolicy(c));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->build, c.build);
  EXPECT_EQ(back->options, c.options);
  EXPECT_EQ(back->sources, c.sources);
  ASSERT_EQ(back->sources.profiles.size(), 1u);
  EXPECT_EQ(back->sources.profiles[0].stamp, c.sources.profiles[0].stamp);
  EXPECT_EQ(back->readingNotes, c.readingNotes);
  EXPECT_EQ(back->warnings, c.warnings);
  EXPECT_EQ(back->policyBytes, c.policyBytes);
  EXPECT_EQ(back->planBytes, c.planBytes);
}

// A save packs the policy and the plan straight into the file: the same bytes
// as packing them first and saving those.
TEST(CompiledPolicy, PackedInPlaceAsPackedApart) {
  policy::LoadOptions o;
  o.configFile = RINGFENCE_TEST_DATA "/golden/ringfence.yaml";
  o.configRequired = true;
  policy::LoadResult r = policy::loadPolicy(o);
  ASSERT_TRUE(r.ok());
  policy::Plan plan = policy::compilePlan(r.policy);
  std::string policyBytes, planBytes;
  policy::Packer packPolicy(policyBytes), packPlan(planBytes);
  policy::packPolicy(packPolicy, r.policy);
  policy::packCompiledPlan(packPlan, plan);
  std::string a, b;
  CompiledPolicy c = sample(a, b);
  c.policyBytes = policyBytes;
  c.planBytes = planBytes;
  std::string apart = formatCompiledPolicy(c);
  EXPECT_EQ(formatCompiledPolicy(c, &r.policy, &plan), apart);
  EXPECT_EQ(formatCompiledPolicy(c, &r.policy, &plan, apart.size() / 2), apart);
  auto back = parse(apart);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->policyBytes, policyBytes);
}

TEST(CompiledPolicy, AnyChangedByteIsRefused) {
  std::string a, b;
  std::string file = formatCompiledPolicy(sample(a, b));
  for (size_t i = 0; i < file.size(); i += (i < 64 || i + 64 > file.size()) ? 1 : 97) {
    std::string bad = file;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_FALSE(parse(bad)) << "byte " << i;
  }
}

TEST(CompiledPolicy, ACutOrGrownFileIsRefused) {
  std::string a, b;
  std::string file = formatCompiledPolicy(sample(a, b));
  for (size_t n : {size_t{0}, size_t{10}, size_t{40}, file.size() / 2, file.size() - 1}) {
    auto r = parse(file.substr(0, n));
    EXPECT_FALSE(r) << "cut at " << n;
  }
  auto longer = parse(file + "x");
  ASSERT_FALSE(longer);
  EXPECT_EQ(longer.error(), "the file is truncated or too long");
  auto other = parse("ringfence-last-good-policy 1\n");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error(), "not a compiled policy file");
}

TEST(CompiledPolicy, TheSumCatchesAChangedWord) {
  std::string a, b;
  std::string file = formatCompiledPolicy(sample(a, b));
  std::string bad = file;
  bad[file.size() / 2] = static_cast<char>(bad[file.size() / 2] + 1);
  auto r = parse(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "the data does not match its sum");
}

TEST(CompiledPolicyStore, SavesLoadsAndRemoves) {
  test::TempDir dir;
  CompiledPolicyStore store(dir.path().string());
  auto none = store.load();
  ASSERT_TRUE(none) << none.error();
  EXPECT_FALSE(*none);
  std::string a, b;
  ASSERT_TRUE(store.save(formatCompiledPolicy(sample(a, b))));
  struct stat st {};
  ASSERT_EQ(stat(store.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_TRUE(*loaded);
  EXPECT_EQ((*loaded)->planBytes, b);
  { std::ofstream(store.path(), std::ios::app) << "x"; }
  auto grown = store.load();
  ASSERT_FALSE(grown);
  EXPECT_NE(grown.error().find(store.path() + ": "), std::string::npos) << grown.error();
  store.remove();
  auto gone = store.load();
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  ASSERT_EQ(mkfifo(store.path().c_str(), 0600), 0);
  EXPECT_FALSE(store.load());  // refused at once, never waited on
}

TEST(CompiledPolicy, BuildAndOptionsAreToldApart) {
  EXPECT_FALSE(buildIdentity().empty());
  EXPECT_EQ(buildIdentity(), buildIdentity());
  policy::LoadOptions o;
  o.configFile = "/etc/ringfence/ringfence.yaml";
  std::string key = optionsKey(o);
  EXPECT_EQ(optionsKey(o), key);
  policy::LoadOptions other = o;
  other.stateDir = "/var/lib/elsewhere";
  EXPECT_NE(optionsKey(other), key);
  other = o;
  other.profilesDir = "/srv/profiles";
  EXPECT_NE(optionsKey(other), key);
  other = o;
  other.configFile = "/etc/ringfence/other.yaml";
  EXPECT_NE(optionsKey(other), key);
}

}  // namespace
}  // namespace ringfence::daemon
