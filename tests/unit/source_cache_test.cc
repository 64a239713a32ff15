// Reloading what changed (policy/source_cache.h): a load with the cache
// means exactly what a load without it means, reads again only the files
// that changed, parses again only the texts that changed, and validates
// across files every time.
#include "policy/source_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "policy/compiler.h"
#include "policy/nft_text.h"
#include "policy/sources.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

namespace fs = std::filesystem;

std::string meaning(const LoadResult& r) {
  std::string out;
  for (const Diagnostic& d : r.diagnostics.sorted()) out += formatDiagnostic(d) + "\n";
  if (r.ok()) out += renderNft(compilePlan(r.policy));
  return out;
}

class CachedLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy(RINGFENCE_SOURCE_DIR "/profiles", dir.path() / "p", fs::copy_options::recursive);
    options.configFile = dir.file("p/ringfence.yaml");
    options.configRequired = true;
  }

  LoadResult load(SourceCache* cache) {
    auto locked = cache ? cache->lock() : std::unique_lock<std::mutex>();
    Diagnostics diags;
    PolicySources sources = readPolicySources(options, diags, cache);
    LoadResult r = loadPolicy(sources, options, cache);
    if (cache) cache->endLoad();
    diags.append(r.diagnostics);
    r.diagnostics = std::move(diags);
    return r;
  }
  std::string profile(const std::string& name) { return dir.file("p/devices/" + name); }
  void edit(const std::string& path, const std::string& from, const std::string& to) {
    std::string text = test::readFile(path);
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    dir.write(fs::relative(path, dir.path()).string(), text.replace(at, from.size(), to));
  }

  test::TempDir dir;
  LoadOptions options;
  // No racy window: the files of a test are all written within it.
  SourceCache cache{std::chrono::nanoseconds(0)};
};

TEST_F(CachedLoad, MeansWhatAnUncachedLoadMeans) {
  std::string uncached = meaning(load(nullptr));
  EXPECT_EQ(meaning(load(&cache)), uncached);
  EXPECT_EQ(meaning(load(&cache)), uncached);  // everything taken from the cache
  EXPECT_EQ(cache.lastLoad().read, 0u);
  EXPECT_EQ(cache.lastLoad().parsed, 0u);
  EXPECT_EQ(cache.lastLoad().reused, 5u);
}

TEST_F(CachedLoad, ReadsAndParsesOnlyTheChangedProfile) {
  ASSERT_TRUE(load(&cache).ok());
  EXPECT_EQ(cache.lastLoad().read, 5u);
  EXPECT_EQ(cache.lastLoad().parsed, 5u);
  edit(profile("pump-3w-01.yaml"), "ports: [123]", "ports: [123, 124]");
  LoadResult r = load(&cache);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(cache.lastLoad().read, 1u);
  EXPECT_EQ(cache.lastLoad().reused, 4u);
  EXPECT_EQ(cache.lastLoad().parsed, 1u);
  EXPECT_NE(renderNft(compilePlan(r.policy)).find("udp . 124"), std::string::npos);
  EXPECT_EQ(meaning(r), meaning(load(nullptr)));
}

TEST_F(CachedLoad, AnEditThatKeepsSizeAndModificationTimeIsStillSeen) {
  ASSERT_TRUE(load(&cache).ok());
  std::string path = profile("pump-3w-01.yaml");
  auto mtime = fs::last_write_time(path);
  edit(path, "ports: [443]", "ports: [444]");  // same size
  fs::last_write_time(path, mtime);            // and the old time: the change time moves
  LoadResult r = load(&cache);
  EXPECT_EQ(cache.lastLoad().read, 1u);
  EXPECT_NE(renderNft(compilePlan(r.policy)).find("tcp . 444"), std::string::npos);
}

TEST_F(CachedLoad, ATouchedFileIsReadButNotParsedAgain) {
  ASSERT_TRUE(load(&cache).ok());
  fs::last_write_time(profile("ct-scanner-01.yaml"), fs::file_time_type::clock::now());
  ASSERT_TRUE(load(&cache).ok());
  EXPECT_EQ(cache.lastLoad().read, 1u);
  EXPECT_EQ(cache.lastLoad().parsed, 0u);
}

TEST_F(CachedLoad, AChangedGroupIsCheckedInEveryProfileThatUsesIt) {
  ASSERT_TRUE(load(&cache).ok());
  edit(dir.file("p/groups.yaml"), "  pump-servers:", "  pump-server:");
  LoadResult r = load(&cache);
  EXPECT_EQ(cache.lastLoad().parsed, 0u);  // the profiles are unchanged
  EXPECT_FALSE(r.ok());
  EXPECT_NE(meaning(r).find("pump-3w-01.yaml:16:11: error: undefined group '@pump-servers'"),
            std::string::npos)
      << meaning(r);
  EXPECT_EQ(meaning(r), meaning(load(nullptr)));
}

// An unchanged device is the very object the last load made (DeviceList): only
// what changed is resolved again, and a changed group resolves again exactly
// the devices that name it.
TEST_F(CachedLoad, OnlyTheDevicesOfAChangedFileOrGroupAreResolvedAgain) {
  LoadResult first = load(&cache);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(cache.lastLoad().resolved, 5u);
  LoadResult second = load(&cache);
  EXPECT_EQ(cache.lastLoad().resolved, 0u);
  EXPECT_EQ(cache.lastLoad().resolveReused, 5u);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(second.policy.devices.shared(i), first.policy.devices.shared(i));

  // A policy still held (in force) keeps its devices as they were, whatever
  // a later load resolves again (in place only what it parsed itself).
  const std::string held = renderNft(compilePlan(second.policy));
  edit(dir.file("p/groups.yaml"), "lis: [203.0.113.50]", "lis: [203.0.113.50, 203.0.113.51]");
  LoadResult third = load(&cache);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(renderNft(compilePlan(second.policy)), held);
  EXPECT_EQ(cache.lastLoad().resolved, 1u);
  for (size_t i = 0; i < 5; ++i) {
    bool usesLis = third.policy.devices[i].name == "lab-analyzer-01";
    EXPECT_EQ(third.policy.devices.shared(i) == second.policy.devices.shared(i), !usesLis)
        << third.policy.devices[i].name;
  }
  EXPECT_NE(renderNft(compilePlan(third.policy)).find("203.0.113.51"), std::string::npos);
  EXPECT_EQ(meaning(third), meaning(load(nullptr)));

  // A group that goes is an error in its users, and they are resolved again when it is back.
  edit(dir.file("p/groups.yaml"), "  lis:", "  lis-old:");
  LoadResult gone = load(&cache);
  EXPECT_FALSE(gone.ok());
  EXPECT_EQ(meaning(gone), meaning(load(nullptr)));
  edit(dir.file("p/groups.yaml"), "  lis-old:", "  lis:");
  LoadResult back = load(&cache);
  EXPECT_TRUE(back.ok()) << meaning(back);
  EXPECT_EQ(cache.lastLoad().resolved, 1u);
  EXPECT_EQ(meaning(back), meaning(third));
}

// A start check's load: every profile parsed and resolved again, and a
// device equal to the one of its name it was given replaced by that one (the
// cache then keeps that one too); a device that differs stays its own.
TEST_F(CachedLoad, ALoadSharesTheDevicesEqualToThoseItWasGiven) {
  LoadResult given = load(nullptr);
  ASSERT_TRUE(given.ok());
  edit(profile("pump-3w-01.yaml"), "ports: [123]", "ports: [123, 124]");
  cache.shareEqual(given.policy.devices);
  LoadResult checked = load(&cache);
  ASSERT_TRUE(checked.ok());
  EXPECT_EQ(cache.lastLoad().parsed, 5u);
  EXPECT_EQ(cache.lastLoad().resolved, 5u);
  EXPECT_EQ(meaning(checked), meaning(load(nullptr)));
  ASSERT_EQ(checked.policy.devices.size(), given.policy.devices.size());
  for (size_t i = 0; i < checked.policy.devices.size(); ++i) {
    bool changed = checked.policy.devices[i].name == "pump-3w-01";
    EXPECT_EQ(checked.policy.devices.shared(i) == given.policy.devices.shared(i), !changed)
        << checked.policy.devices[i].name;
  }
  LoadResult again = load(&cache);  // nothing changed: the cache's devices, the shared ones
  EXPECT_EQ(cache.lastLoad().parsed, 0u);
  for (size_t i = 0; i < again.policy.devices.size(); ++i)
    EXPECT_EQ(again.policy.devices.shared(i), checked.policy.devices.shared(i));
}

// A parse equal to the device given, once given its resolved peers, is that
// device from the parse on (no parse of its own held beside it); any other
// field that differs, and the parse is not taken. The parse is left as it was.
TEST_F(CachedLoad, AParseIsTheDeviceGivenOnlyIfEqualToIt) {
  LoadResult given = load(nullptr);
  ASSERT_TRUE(given.ok());
  cache.shareEqual(given.policy.devices);
  for (size_t i = 0; i < given.policy.devices.size(); ++i) {
    Device parse = given.policy.devices[i];
    bool resolvedAny = false;
    for (auto* rules : {&parse.outbound, &parse.inbound, &parse.maintenance}) {
      for (Rule& r : *rules) {
        resolvedAny = resolvedAny || !r.resolved.empty();
        r.resolved.clear();
      }
    }
    EXPECT_EQ(cache.sameParse(parse), given.policy.devices.shared(i)) << parse.name;
    if (!resolvedAny) continue;
    EXPECT_FALSE(parse == given.policy.devices[i]) << "left with its resolved peers";
    Device other = parse;
    ASSERT_FALSE(other.addresses.empty());
    other.description += ".";
    EXPECT_EQ(cache.sameParse(other), nullptr) << parse.name;
    other = parse;
    other.outbound.emplace_back();
    EXPECT_EQ(cache.sameParse(other), nullptr) << parse.name;
  }
}

// A device given whose parse is the same but whose resolution is not (a
// compiled policy altered with a valid sum) is resolved again and not taken.
TEST_F(CachedLoad, ADeviceWithTheSameParseButAnotherResolutionIsNotTaken) {
  LoadResult given = load(nullptr);
  ASSERT_TRUE(given.ok());
  DeviceList altered = given.policy.devices;
  size_t pump = 0;
  while (pump < altered.size() && altered[pump].name != "pump-3w-01") ++pump;
  ASSERT_LT(pump, altered.size());
  Device& d = altered.edit(pump);
  ASSERT_FALSE(d.outbound.empty());
  ASSERT_FALSE(d.outbound[0].resolved.empty());
  d.outbound[0].resolved[0].prefix.length = 16;
  cache.shareEqual(altered);
  LoadResult checked = load(&cache);
  ASSERT_TRUE(checked.ok());
  EXPECT_EQ(meaning(checked), meaning(given));
  for (size_t i = 0; i < checked.policy.devices.size(); ++i) {
    EXPECT_EQ(checked.policy.devices.shared(i) == altered.shared(i), i != pump)
        << checked.policy.devices[i].name;
  }
  EXPECT_EQ(checked.policy.devices[pump], given.policy.devices[pump]);
  EXPECT_FALSE(checked.policy.devices[pump] == altered[pump]);
}

TEST_F(CachedLoad, ARemovedProfileIsGoneAndAConflictAcrossFilesIsFound) {
  ASSERT_TRUE(load(&cache).ok());
  fs::remove(profile("ws-radiology-win7.yaml"));
  LoadResult r = load(&cache);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.policy.devices.size(), 4u);
  EXPECT_EQ(cache.lastLoad().reused, 4u);
  // A new file claims the pump's address: the unchanged pump profile is checked against it.
  std::string copy = test::readFile(profile("pump-3w-01.yaml"));
  dir.write("p/devices/zz-copy.yaml", copy.replace(copy.find("pump-3w-01"), 10, "pump-copy1"));
  r = load(&cache);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(meaning(r).find("address 198.51.100.10 is already claimed by device 'pump-3w-01'"),
            std::string::npos)
      << meaning(r);
}

// The profiles directory is listed again only when an entry came, went or was
// renamed since its last listing (its times show it), and never within
// kMinListingWindow of its last change: every file is still looked at.
TEST_F(CachedLoad, TheDirectoryIsListedAgainOnlyWhenItsEntriesChanged) {
  std::this_thread::sleep_for(SourceCache::kMinListingWindow + std::chrono::milliseconds(50));
  std::string uncached = meaning(load(nullptr));
  ASSERT_TRUE(load(&cache).ok());
  EXPECT_TRUE(cache.lastLoad().listed);
  EXPECT_EQ(meaning(load(&cache)), uncached);
  EXPECT_FALSE(cache.lastLoad().listed) << "the directory did not change";

  std::string copy = test::readFile(profile("pump-3w-01.yaml"));
  copy.replace(copy.find("pump-3w-01"), 10, "pump-other");
  copy.replace(copy.find("198.51.100.10"), 13, "198.51.100.99");
  copy.replace(copy.find("02:00:00:00:00:10"), 17, "02:00:00:00:00:99");
  dir.write("p/devices/pump-other.yaml", copy);
  LoadResult added = load(&cache);
  EXPECT_TRUE(cache.lastLoad().listed);
  EXPECT_EQ(added.policy.devices.size(), 6u) << meaning(added);
  EXPECT_EQ(meaning(load(&cache)), meaning(load(nullptr)));
  EXPECT_TRUE(cache.lastLoad().listed) << "changed within the window: listed every time";

  // Changes older than the window are seen by the directory's times alone.
  std::this_thread::sleep_for(SourceCache::kMinListingWindow + std::chrono::milliseconds(50));
  ASSERT_TRUE(load(&cache).ok());
  fs::rename(profile("pump-other.yaml"), profile("pump-renamed.yaml"));
  std::this_thread::sleep_for(SourceCache::kMinListingWindow + std::chrono::milliseconds(50));
  LoadResult renamed = load(&cache);
  EXPECT_TRUE(cache.lastLoad().listed);
  EXPECT_NE(meaning(renamed).find("pump-renamed.yaml"), std::string::npos);
  fs::remove(profile("pump-renamed.yaml"));
  std::this_thread::sleep_for(SourceCache::kMinListingWindow + std::chrono::milliseconds(50));
  EXPECT_EQ(load(&cache).policy.devices.size(), 5u);
  EXPECT_EQ(meaning(load(&cache)), uncached);
}

TEST_F(CachedLoad, AFileReadSoonAfterItsChangeIsReadAgainOnEveryLoad) {
  SourceCache fresh;  // the default window: every file of the test was just written
  ASSERT_TRUE(load(&fresh).ok());
  ASSERT_TRUE(load(&fresh).ok());
  EXPECT_EQ(fresh.lastLoad().read, 5u);    // none of the texts is trusted unread
  EXPECT_EQ(fresh.lastLoad().parsed, 0u);  // but none is parsed again
}

TEST(SourceCacheRacy, ATextReadWithinTheWindowIsNeverReusedUnread) {
  SourceCache cache;
  FileStamp stamp{1, 2, 3, 1'000'000'000'000, 1'000'000'000'000};
  EXPECT_TRUE(cache.racy(stamp, stamp.modifiedNs + 1'000'000'000));
  EXPECT_FALSE(cache.racy(stamp, stamp.modifiedNs + 3'000'000'000));
  cache.storeText("/p.yaml", std::nullopt, "text");  // as a racy read stores it
  EXPECT_EQ(cache.text("/p.yaml", stamp, stamp.modifiedNs + 60'000'000'000), nullptr);
}

// A text is kept for reuse under the listing's stamp only if the file read
// is the file listed: when the path names another file by the time it is
// read (a switched directory link), the text is never reused unread.
TEST(SourceCacheRacy, ATextIsKeptOnlyUnderTheStampOfTheFileRead) {
  SourceCache cache;  // the default window
  FileStamp listed{1, 2, 3, 1'000'000'000'000, 1'000'000'000'000};
  int64_t later = listed.modifiedNs + 3'000'000'000;
  EXPECT_EQ(cache.stampToKeep(listed, listed, later), listed);
  FileStamp other = listed;
  other.inode = 9;  // another file under the same path
  EXPECT_EQ(cache.stampToKeep(listed, other, later), std::nullopt);
  other = listed;
  other.changedNs += 1;  // the same file, written since it was listed
  EXPECT_EQ(cache.stampToKeep(listed, other, later), std::nullopt);
  EXPECT_EQ(cache.stampToKeep(listed, listed, listed.modifiedNs + 1'000'000'000), std::nullopt)
      << "within the window";
}

TEST(SourceCacheRacy, AFileModifiedWithinTheWindowIsReadAgain) {
  SourceCache cache;  // the default window
  FileStamp stamp{1, 2, 3, 1'000'000'000'000, 1'000'000'000'000};
  cache.storeText("/p.yaml", stamp, "text");
  cache.endLoad();
  int64_t modified = stamp.modifiedNs;
  EXPECT_EQ(cache.text("/p.yaml", stamp, modified + 1'000'000'000), nullptr);  // 1 s later
  ASSERT_NE(cache.text("/p.yaml", stamp, modified + 3'000'000'000), nullptr);  // 3 s later
  EXPECT_EQ(*cache.text("/p.yaml", stamp, modified + 3'000'000'000), "text");
  FileStamp other = stamp;
  other.inode = 9;  // replaced by another file (an editor's rename)
  EXPECT_EQ(cache.text("/p.yaml", other, modified + 3'000'000'000), nullptr);
}

}  // namespace
}  // namespace ringfence::policy
