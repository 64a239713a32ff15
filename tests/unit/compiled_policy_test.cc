// The compiled policy file (daemon/compiled_policy.h): what is saved is read
// back field for field; a file cut short, grown, or with any byte changed is
// refused with a reason (never a partial policy); an absent file is no error;
// the build and the load options are told apart.
#include "daemon/compiled_policy.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <utility>

#include "policy/compiler.h"
#include "policy/policy_packing.h"
#include "tests/support/policy_generator.h"
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
  auto back = parse(apart);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->policyBytes, policyBytes);
}

// A generated policy of `devices` devices, written under `dir`, and its plan.
std::pair<policy::Policy, policy::Plan> generated(const test::TempDir& dir, size_t devices) {
  policy::LoadOptions o;
  o.configFile = test::writeGeneratedPolicy(dir.path() / "policy", devices).string();
  o.configRequired = true;
  policy::LoadResult r = policy::loadPolicy(o);
  EXPECT_TRUE(r.ok());
  policy::Plan plan = policy::compilePlan(r.policy);
  return {std::move(r.policy), std::move(plan)};
}

std::string fileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Unpacking from a file read whole gives back the memory of the pages it
// has unpacked as it goes: the plan and the policy come out the same, and
// the pages behind are zeros afterwards (given back), the bytes around the
// region untouched.
TEST(CompiledPolicy, UnpackingGivesBackWhatItRead) {
  test::TempDir dir;
  auto [policy, plan] = generated(dir, 600);
  std::string policyBytes, planBytes;
  policy::Packer packPolicy(policyBytes), packPlan(planBytes);
  policy::packPolicy(packPolicy, policy);
  policy::packCompiledPlan(packPlan, plan);
  ASSERT_GT(planBytes.size(), size_t{512} << 10);
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (const std::string* bytes : {&planBytes, &policyBytes}) {
    // The region 100 bytes into the text, and 100 bytes after it.
    std::string text = std::string(100, 'a') + *bytes + std::string(100, 'z');
    std::string_view region(text.data() + 100, bytes->size());
    policy::Unpacker u(region);
    giveBackAsUnpacked(u, region, 64 << 10);  // every 64 KiB
    if (bytes == &planBytes) {
      EXPECT_EQ(policy::unpackPlan(u), plan);
    } else {
      EXPECT_EQ(policy::unpackPolicy(u), policy);
    }
    EXPECT_TRUE(u.done());
    EXPECT_EQ(text.substr(0, 100), std::string(100, 'a'));
    EXPECT_EQ(text.substr(text.size() - 100), std::string(100, 'z'));
    // The second page of the region was given back; its last pages were not.
    size_t second = (reinterpret_cast<uintptr_t>(region.data()) / page + 1) * page -
                    reinterpret_cast<uintptr_t>(region.data());
    if (bytes == &planBytes) {
      EXPECT_EQ(region.substr(second + page, page), std::string(page, '\0'));
    }
    EXPECT_EQ(region.substr(region.size() - 64), bytes->substr(bytes->size() - 64));
  }
}

// A save writes the file as it packs it, a piece at a time, its sizes written
// in place and its sum read back: the very bytes of the file packed whole,
// whatever the size of the pieces (1: after every element of every list).
TEST(CompiledPolicy, WrittenInPiecesAsPackedWhole) {
  test::TempDir dir;
  auto [loaded, plan] = generated(dir, 60);
  std::string a, b;
  CompiledPolicy c = sample(a, b);
  std::string whole = formatCompiledPolicy(c, &loaded, &plan);
  ASSERT_GT(whole.size(), 60'000u);
  for (size_t spillAt : {size_t{1}, size_t{7}, size_t{4096}, whole.size() / 3, size_t{1} << 20}) {
    std::string path = (dir.path() / ("piece-" + std::to_string(spillAt))).string();
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    uint64_t size = writeCompiledPolicy(fd, c, &loaded, &plan, spillAt);
    close(fd);
    EXPECT_EQ(size, whole.size()) << spillAt;
    EXPECT_TRUE(fileText(path) == whole) << "pieces of " << spillAt;
  }
  CompiledPolicyStore store((dir.path() / "state").string());
  auto saved = store.save(c, loaded, plan);
  ASSERT_TRUE(saved) << saved.error();
  EXPECT_EQ(*saved, whole.size());
  auto back = store.load();
  ASSERT_TRUE(back) << back.error();
  ASSERT_TRUE(*back);
  EXPECT_EQ(std::string((*back)->planBytes), std::string(parse(whole)->planBytes));
}

// A save that cannot write all of its file (here: a file size limit, as a
// full disk) fails with the reason, keeps the file there was, and leaves no
// temporary file. In a child process: the limit is the process's.
TEST(CompiledPolicyStore, ASaveThatCannotWriteKeepsTheOldFile) {
  test::TempDir dir;
  auto [loaded, plan] = generated(dir, 500);
  std::string a, b;
  CompiledPolicy c = sample(a, b);
  CompiledPolicyStore store((dir.path() / "state").string());
  std::string old = formatCompiledPolicy(c);
  ASSERT_TRUE(store.save(old));
  ASSERT_GT(formatCompiledPolicy(c, &loaded, &plan).size(), size_t{1} << 20);  // pieces of 1 MiB
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit limit{size_t{1} << 18, size_t{1} << 18};
    setrlimit(RLIMIT_FSIZE, &limit);
    auto saved = store.save(c, loaded, plan);
    bool reason =
        !saved && saved.error() == "cannot write " + store.path() + ": " + std::strerror(EFBIG);
    _exit(reason ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the save failed with its reason";
  EXPECT_TRUE(fileText(store.path()) == old);
  EXPECT_FALSE(std::filesystem::exists(store.path() + ".tmp"));
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
