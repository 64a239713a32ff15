// The last good policy on disk: what is saved comes back byte for byte, and
// a damaged, truncated or foreign file is refused, never half used.
#include "daemon/last_good.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

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
