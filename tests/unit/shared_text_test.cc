// Shared texts (policy/shared_text.h): one pointer wide, the count of
// holders kept with the bytes.
#include "policy/shared_text.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ringfence::policy {
namespace {

TEST(SharedText, CopiesShareOneTextAndEqualTextsCompareEqual) {
  static_assert(sizeof(SharedText) == sizeof(void*));
  SharedText a("gen-0001.yaml:12");
  SharedText copy = a;
  EXPECT_TRUE(copy.sameObject(a));
  EXPECT_EQ(copy.data(), a.data());
  SharedText other(std::string("gen-0001.yaml:12"));
  EXPECT_FALSE(other.sameObject(a));
  EXPECT_EQ(other, a);
  EXPECT_FALSE(SharedText("gen-0001.yaml:13") == a);
  SharedText moved = std::move(copy);
  EXPECT_TRUE(moved.sameObject(a));
  EXPECT_TRUE(copy.sameObject(SharedText()));  // NOLINT(bugprone-use-after-move): now none
  EXPECT_TRUE(copy.empty());
  moved = SharedText();
  EXPECT_EQ(a.str(), "gen-0001.yaml:12");  // still held by a
  SharedText& self = a;
  a = self;
  EXPECT_EQ(a.str(), "gen-0001.yaml:12");
}

TEST(SharedText, IsCopiedAndReleasedFromTwoThreadsAtOnce) {
  // The holders' count is atomic: copies made and dropped on two threads
  // leave the text intact, and the last holder frees it (the sanitizer
  // build reports a block freed twice or never).
  SharedText text(std::string(100, 'x'));
  auto churn = [&text] {
    std::vector<SharedText> held;
    for (int round = 0; round < 200; ++round) {
      for (int i = 0; i < 100; ++i) held.push_back(text);
      held.clear();
    }
  };
  std::thread other(churn);
  churn();
  other.join();
  EXPECT_EQ(text.str(), std::string(100, 'x'));
}

}  // namespace
}  // namespace ringfence::policy
