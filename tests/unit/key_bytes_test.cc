// Element keys: inline up to 23 bytes, in a block of their own beyond
// (policy/key_bytes.h).
#include "policy/key_bytes.h"

#include <gtest/gtest.h>

namespace ringfence::policy {
namespace {

TEST(KeyBytes, BuildsFrontToBackComparesAndRefusesMoreThanItsCapacity) {
  KeyBytes k;
  EXPECT_TRUE(k.empty());
  k.push_back(1);
  std::vector<uint8_t> more = {2, 3};
  k.insert(k.end(), more.begin(), more.end());
  EXPECT_EQ(k, std::vector<uint8_t>({1, 2, 3}));
  EXPECT_EQ(k, KeyBytes({1, 2, 3}));
  EXPECT_LT(KeyBytes({1, 2}), k);
  EXPECT_LT(k, KeyBytes({1, 3}));
  EXPECT_THROW(k.insert(k.begin(), more.begin(), more.end()), std::logic_error);
  k.assign(KeyBytes::kCapacity, 7);
  EXPECT_EQ(k.size(), KeyBytes::kCapacity);
  EXPECT_THROW(k.push_back(0), std::length_error);
  EXPECT_EQ(k.size(), KeyBytes::kCapacity);  // unchanged by the refusal
}

KeyBytes counting(size_t n, uint8_t from) {
  KeyBytes k;
  for (size_t i = 0; i < n; ++i) k.push_back(static_cast<uint8_t>(from + i));
  return k;
}

std::vector<uint8_t> countingVector(size_t n, uint8_t from) {
  std::vector<uint8_t> v;
  for (size_t i = 0; i < n; ++i) v.push_back(static_cast<uint8_t>(from + i));
  return v;
}

TEST(KeyBytes, KeepsItsBytesWhenItOutgrowsTheInlineRoom) {
  static_assert(sizeof(KeyBytes) == 24);
  // Byte by byte across the inline limit, and in one insert across it.
  for (size_t n : {KeyBytes::kInline, KeyBytes::kInline + 1, KeyBytes::kCapacity}) {
    EXPECT_EQ(counting(n, 1), countingVector(n, 1)) << n;
  }
  KeyBytes k = counting(20, 1);
  std::vector<uint8_t> tail = countingVector(20, 21);
  k.insert(k.end(), tail.begin(), tail.end());
  EXPECT_EQ(k, countingVector(40, 1));
  k.clear();
  EXPECT_TRUE(k.empty());
  k.assign(size_t{30}, uint8_t{9});
  EXPECT_EQ(k, std::vector<uint8_t>(30, 9));
}

// A key appended or assigned from its own bytes keeps them, across the
// inline limit too (its bytes move to their own block as it grows).
TEST(KeyBytes, TakesItsOwnBytes) {
  KeyBytes k = counting(20, 1);
  k.insert(k.end(), k.begin(), k.end());
  EXPECT_EQ(k.size(), 40u);
  std::vector<uint8_t> twice = countingVector(20, 1);
  twice.insert(twice.end(), twice.begin(), twice.end());
  EXPECT_EQ(k, twice);
  k.assign(k.begin() + 10, k.end());
  twice.erase(twice.begin(), twice.begin() + 10);
  EXPECT_EQ(k, twice);
  std::vector<uint8_t> tooLong(41, 1);
  KeyBytes kept = counting(4, 1);
  EXPECT_THROW(kept.assign(tooLong.begin(), tooLong.end()), std::length_error);
  EXPECT_EQ(kept, countingVector(4, 1));  // unchanged by the refusal
}

TEST(KeyBytes, CopiesMovesAndAssignsInlineAndLongKeys) {
  for (size_t n : {size_t{4}, KeyBytes::kInline, size_t{24}, KeyBytes::kCapacity}) {
    const KeyBytes original = counting(n, 3);
    KeyBytes copy(original);
    EXPECT_EQ(copy, original);
    if (n > KeyBytes::kInline) {
      EXPECT_NE(copy.data(), original.data());  // a block each
    }
    KeyBytes moved(std::move(copy));
    EXPECT_EQ(moved, original);
    EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): moved from is empty
    // Assignments over a long key and over a short one, both ways.
    KeyBytes longKey = counting(KeyBytes::kCapacity, 100);
    KeyBytes shortKey = counting(2, 200);
    longKey = original;
    shortKey = original;
    EXPECT_EQ(longKey, original);
    EXPECT_EQ(shortKey, original);
    longKey = counting(KeyBytes::kCapacity, 50);
    shortKey = std::move(longKey);
    EXPECT_EQ(shortKey, countingVector(KeyBytes::kCapacity, 50));
    KeyBytes& self = shortKey;
    shortKey = self;
    EXPECT_EQ(shortKey, countingVector(KeyBytes::kCapacity, 50));
  }
  // Order does not depend on where the bytes are held.
  EXPECT_LT(counting(KeyBytes::kInline, 1), counting(KeyBytes::kInline + 1, 1));
  EXPECT_LT(counting(30, 1), counting(4, 2));
  EXPECT_GT(counting(4, 2), counting(30, 1));
}

}  // namespace
}  // namespace ringfence::policy
