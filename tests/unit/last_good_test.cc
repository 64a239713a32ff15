// The last good policy on disk: what is saved comes back byte for byte, and
// a damaged, truncated or foreign file is refused, never half used.
#include "daemon/last_good.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "tests/support/temp_dir.h"

namespace ringfence::daemon {
namespace {

LastGoodPolicy sample() {
  LastGoodPolicy p;
  p.sources.config = policy::SourceFile{"/etc/ringfence/ringfence.yaml", "table: rf\n"};
  p.sources.profiles.push_back({"/etc/ringfence/profiles/a.yaml", "device: a\n\xff binary\n"});
  p.sources.profiles.push_back({"/etc/ringfence/profiles/b.yaml", ""});
  p.generation = 7;
  p.hash = policy::sourcesHash(p.sources);
  p.savedAt = 1733112000123456;
  return p;
}

TEST(LastGood, SavedAndLoadedBack) {
  test::TempDir dir;
  LastGoodStore store(dir.file("state"));
  EXPECT_FALSE(store.load()->has_value());  // none yet
  ASSERT_TRUE(store.save(sample()).has_value());
  auto loaded = store.load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->sources, sample().sources);
  EXPECT_EQ((*loaded)->generation, 7u);
  EXPECT_EQ((*loaded)->hash, sample().hash);
  EXPECT_EQ((*loaded)->savedAt, 1733112000123456u);
  struct stat st {};
  EXPECT_NE(stat(dir.file("state/last-good-policy.tmp").c_str(), &st), 0);  // no leftover
}

// Written first (while the kernel applies the policy), in place only once
// replaced; dropped unreplaced (the kernel refused it), it leaves nothing and
// the older saved policy stays.
TEST(LastGood, WrittenBesideThenReplacedOrDropped) {
  test::TempDir dir;
  LastGoodStore store(dir.file("state"));
  const std::string tmp = dir.file("state/last-good-policy.tmp");
  struct stat st {};
  {
    auto written = store.write(sample());
    ASSERT_TRUE(written.has_value()) << written.error();
    EXPECT_EQ(stat(tmp.c_str(), &st), 0);
    EXPECT_FALSE(store.load()->has_value()) << "not in place before replace()";
    ASSERT_TRUE(written->replace().has_value());
  }
  EXPECT_NE(stat(tmp.c_str(), &st), 0);
  ASSERT_TRUE(store.load()->has_value());
  EXPECT_EQ((*store.load())->generation, 7u);

  LastGoodPolicy newer = sample();
  newer.generation = 8;
  {
    auto written = store.write(newer);
    ASSERT_TRUE(written.has_value());
    auto moved = std::move(*written);  // still one temporary file, owned once
    EXPECT_EQ(stat(tmp.c_str(), &st), 0);
  }
  EXPECT_NE(stat(tmp.c_str(), &st), 0) << "dropped unreplaced: removed";
  EXPECT_EQ((*store.load())->generation, 7u) << "the older one stays";
}

// A temporary file that cannot be opened for writing (here a directory in its
// place) fails the write, and what is in its place is not the writer's to remove.
TEST(LastGood, AWriteThatCannotOpenItsFileRemovesNothing) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("state/last-good-policy.tmp"));
  auto written = LastGoodStore(dir.file("state")).write(sample());
  ASSERT_FALSE(written.has_value());
  EXPECT_NE(written.error().find("cannot write"), std::string::npos) << written.error();
  EXPECT_TRUE(std::filesystem::is_directory(dir.file("state/last-good-policy.tmp")));
  EXPECT_FALSE(LastGoodStore(dir.file("state")).load()->has_value());
}

TEST(LastGood, EveryTruncationIsRefused) {
  std::string text = formatLastGood(sample());
  ASSERT_TRUE(parseLastGood(text).has_value());
  for (size_t cut = 0; cut < text.size(); ++cut) {
    EXPECT_FALSE(parseLastGood(text.substr(0, cut)).has_value()) << "cut at " << cut;
  }
}

TEST(LastGood, AlteredSourcesAreRefused) {
  std::string text = formatLastGood(sample());
  size_t at = text.find("device: a");
  ASSERT_NE(at, std::string::npos);
  text[at] = 'D';
  auto parsed = parseLastGood(text);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().find("hash"), std::string::npos) << parsed.error();
  EXPECT_FALSE(parseLastGood("ringfence-isolations 1\n").has_value());
}

TEST(LastGood, AFifoInItsPlaceIsAnErrorNotAHang) {
  test::TempDir dir;
  LastGoodStore store(dir.path().string());
  ASSERT_EQ(mkfifo(store.path().c_str(), 0600), 0);
  auto loaded = store.load();
  ASSERT_FALSE(loaded.has_value());
}

// The file is written as it is serialized, through a buffer: small texts
// gathered, a text longer than the buffer written at once; the bytes are
// those of the whole text, and their hash that of the whole text.
TEST(LastGood, WrittenInPiecesIsTheWholeText) {
  LastGoodPolicy p = sample();
  for (int i = 0; i < 3000; ++i) {
    p.sources.profiles.push_back(
        {"/etc/ringfence/profiles/gen-" + std::to_string(i) + ".yaml",
         "device: gen-" + std::to_string(i) + "\n" + std::string(500, 'x')});
  }
  p.sources.profiles.push_back({"/etc/ringfence/profiles/z.yaml", std::string(3 << 20, 'z')});
  p.hash = policy::sourcesHash(p.sources);
  const std::string whole = formatLastGood(p);
  ASSERT_GT(whole.size(), size_t{4} << 20);
  EXPECT_NE(whole.find(policy::serializeSources(p.sources)), std::string::npos);
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : policy::serializeSources(p.sources)) {
    h ^= c;
    h *= 1099511628211ull;
  }
  EXPECT_EQ(p.hash, h);
  test::TempDir dir;
  LastGoodStore store(dir.file("state"));
  ASSERT_TRUE(store.save(p).has_value());
  EXPECT_EQ(test::readFile(store.path()), whole);
  auto written = store.write(p);
  ASSERT_TRUE(written.has_value()) << written.error();
  ASSERT_TRUE(written->replace().has_value());
  EXPECT_EQ(test::readFile(store.path()), whole);
  auto loaded = store.load();
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  EXPECT_EQ((*loaded)->sources, p.sources);
}

TEST(LastGood, SaveFailureIsReported) {
  test::TempDir dir;
  dir.write("file", "x");
  LastGoodStore store(dir.file("file"));  // a file where the directory should be
  auto saved = store.save(sample());
  ASSERT_FALSE(saved.has_value());
  EXPECT_NE(saved.error().find("last-good-policy"), std::string::npos) << saved.error();
}

}  // namespace
}  // namespace ringfence::daemon
