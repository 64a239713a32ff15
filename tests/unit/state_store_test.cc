// The isolations file: version 3 round trip (counters included), versions 2 and 1 still
// read, problems summarized.
#include "daemon/state_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>

#include "tests/support/temp_dir.h"

namespace ringfence::daemon {
namespace {

using namespace std::chrono_literals;

policy::Isolation sample() {
  policy::Isolation iso;
  iso.device = "pump\twith tab";
  iso.reason = "line one\nline two \\ backslash";
  iso.by = "uid:0";
  iso.since = policy::WallTime{} + 1000h;
  iso.releaseAt = policy::WallTime{} + 1001h;
  iso.addresses = {*policy::parseIpAddress("198.51.100.10"),
                   *policy::parseIpAddress("2001:db8:100::10")};
  iso.mac = policy::parseMac("02:00:00:00:00:10");
  return iso;
}

TEST(StateStore, VersionThreeRoundTrips) {
  std::string text = StateStore::serialize({sample()});
  EXPECT_EQ(text.rfind("ringfence-isolations 3\n", 0), 0u);
  LoadedState state = StateStore::parse(text, "f");
  EXPECT_TRUE(state.problems.empty());
  ASSERT_EQ(state.isolations.size(), 1u);
  const policy::Isolation& iso = state.isolations[0];
  policy::Isolation want = sample();
  EXPECT_EQ(iso.device, want.device);
  EXPECT_EQ(iso.reason, want.reason);
  EXPECT_EQ(iso.by, want.by);
  EXPECT_EQ(iso.since, want.since);
  EXPECT_EQ(iso.releaseAt, want.releaseAt);
  EXPECT_EQ(iso.addresses, want.addresses);
  EXPECT_EQ(iso.mac, want.mac);
}

TEST(StateStore, NoAddressesNoMacRoundTrip) {
  policy::Isolation iso = sample();
  iso.addresses.clear();
  iso.mac.reset();
  iso.releaseAt.reset();
  LoadedState state = StateStore::parse(StateStore::serialize({iso}), "f");
  ASSERT_EQ(state.isolations.size(), 1u);
  EXPECT_TRUE(state.isolations[0].addresses.empty());
  EXPECT_FALSE(state.isolations[0].mac);
  EXPECT_FALSE(state.isolations[0].releaseAt);
}

TEST(StateStore, CountersRoundTrip) {
  CounterMap counters;
  counters["pump\twith tab"] = {7, policy::WallTime{} + 1000h + 1234567us, 3};
  counters["monitor"] = {0, std::nullopt, 12};
  std::string text = StateStore::serialize({sample()}, counters);
  EXPECT_NE(text.find("\ncounters\tmonitor\t0\t-\t12\n"), std::string::npos) << text;
  LoadedState state = StateStore::parse(text, "f");
  EXPECT_TRUE(state.problems.empty());
  ASSERT_EQ(state.isolations.size(), 1u);
  EXPECT_EQ(state.counters, counters);
}

TEST(StateStore, VersionTwoFilesLoadWithoutCounters) {
  LoadedState state = StateStore::parse(
      "ringfence-isolations 2\n"
      "isolated\tpump\t3600000000\t-\tuid:0\tok\t198.51.100.10\t02:00:00:00:00:10\n",
      "f");
  EXPECT_TRUE(state.problems.empty());
  ASSERT_EQ(state.isolations.size(), 1u);
  EXPECT_EQ(state.isolations[0].addresses.size(), 1u);
  EXPECT_TRUE(state.counters.empty()) << "counters start at 0";
}

TEST(StateStore, BadCounterLinesAreSkippedAndTheIsolationsStay) {
  LoadedState state = StateStore::parse(
      "ringfence-isolations 3\n"
      "isolated\tpump\t3600000000\t-\tuid:0\tok\t198.51.100.10\t-\n"
      "counters\tpump\t-1\t-\t0\n"
      "counters\tpump\t5\tsoon\t0\n"
      "counters\tpump\t5\t-\n"
      "counters\t\t5\t-\t0\n"
      "counters\tmonitor\t4\t3600000000\t2\n",
      "f");
  EXPECT_EQ(state.problems.size(), 4u);
  ASSERT_EQ(state.isolations.size(), 1u);
  ASSERT_EQ(state.counters.size(), 1u);
  EXPECT_EQ(state.counters.at("monitor").violations, 4u);
  EXPECT_EQ(state.counters.at("monitor").probes, 2u);
  EXPECT_EQ(state.counters.at("monitor").lastViolation, policy::WallTime{} + 1h);
}

TEST(StateStore, VersionOneLinesAreStillRead) {
  LoadedState state = StateStore::parse(
      "ringfence-isolations 1\nisolated\tpump\t3600000000\t-\tuid:0\tsuspicious\n", "f");
  EXPECT_TRUE(state.problems.empty());
  ASSERT_EQ(state.isolations.size(), 1u);
  EXPECT_EQ(state.isolations[0].device, "pump");
  EXPECT_EQ(state.isolations[0].reason, "suspicious");
  EXPECT_TRUE(state.isolations[0].addresses.empty()) << "they come from the policy";
}

TEST(StateStore, UnreadableLinesAreSummarizedAfterTen) {
  std::string text = "ringfence-isolations 2\n";
  for (int i = 0; i < 25; ++i) text += "stale " + std::to_string(i) + "\n";
  text += "isolated\tpump\t3600000000\t-\tuid:0\tok\t198.51.100.10\t-\n";
  text += "isolated\tbad\t3600000000\t-\tuid:0\tok\tnot-an-address\t-\n";
  LoadedState state = StateStore::parse(text, "FILE");
  ASSERT_EQ(state.problems.size(), LoadedState::kMaxProblems);
  EXPECT_EQ(state.problems[0], "FILE:2: unreadable line skipped");
  EXPECT_EQ(state.moreProblems, 16u);
  ASSERT_EQ(state.isolations.size(), 1u) << "the readable line still counts";
  EXPECT_EQ(state.isolations[0].device, "pump");
}

TEST(StateStore, SaveAndLoadThroughTheDirectory) {
  test::TempDir dir;
  StateStore store(dir.file("state"));
  ASSERT_TRUE(store.save({sample()}));
  LoadedState state = store.load();
  ASSERT_EQ(state.isolations.size(), 1u);
  EXPECT_EQ(state.isolations[0].addresses.size(), 2u);
}

TEST(StateStore, AStateDirThatIsAFileFailsLoudly) {
  test::TempDir dir;
  std::string file = dir.write("state", "not a directory\n");
  StateStore store(file);
  auto saved = store.save({sample()});
  ASSERT_FALSE(saved);
  EXPECT_NE(saved.error().find("Not a directory"), std::string::npos) << saved.error();
}

// Runs `f` on another thread and fails the test if it takes longer than 5 s;
// a FIFO that blocked the reader is then opened for writing and closed, which
// releases the reader, so a failing test still ends.
template <typename F>
auto within5s(const std::string& fifo, F f) {
  auto future = std::async(std::launch::async, f);
  if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    ADD_FAILURE() << "reading the state blocked for more than 5 s";
    int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
  }
  return future.get();
}

TEST(StateStore, AFifoAsIsolationsIsAProblemAndNeverBlocks) {
  test::TempDir dir;
  StateStore store(dir.file("state"));
  ASSERT_TRUE(store.saveLearned(""));  // creates the directory
  ASSERT_EQ(::mkfifo(store.path().c_str(), 0600), 0);
  LoadedState state = within5s(store.path(), [&] { return store.load(); });
  EXPECT_TRUE(state.isolations.empty());
  ASSERT_EQ(state.problems.size(), 1u);
  EXPECT_NE(state.problems[0].find("FIFO"), std::string::npos) << state.problems[0];
  EXPECT_NE(state.problems[0].find(store.path()), std::string::npos) << state.problems[0];
}

TEST(StateStore, AFifoAsLearnedIsAnErrorAndNeverBlocks) {
  test::TempDir dir;
  StateStore store(dir.file("state"));
  ASSERT_TRUE(store.save({}));  // creates the directory
  ASSERT_EQ(::mkfifo(store.learnedPath().c_str(), 0600), 0);
  auto learned = within5s(store.learnedPath(), [&] { return store.loadLearned(); });
  ASSERT_FALSE(learned);
  EXPECT_NE(learned.error().find("FIFO"), std::string::npos) << learned.error();
}

TEST(StateStore, MissingFilesAreAnEmptyState) {
  test::TempDir dir;
  StateStore store(dir.file("state"));
  LoadedState state = store.load();
  EXPECT_TRUE(state.isolations.empty());
  EXPECT_TRUE(state.problems.empty());
  auto learned = store.loadLearned();
  ASSERT_TRUE(learned);
  EXPECT_EQ(*learned, "");
}

}  // namespace
}  // namespace ringfence::daemon
