// Element keys held inline (policy/key_bytes.h).
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

}  // namespace
}  // namespace ringfence::policy
