// Boxed (policy/boxed.h): an optional in a heap block, copied by value and
// compared by value.
#include "policy/boxed.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace ringfence::policy {
namespace {

TEST(Boxed, HoldsCopiesAndComparesLikeAnOptional) {
  Boxed<std::string> empty;
  EXPECT_FALSE(empty);
  EXPECT_TRUE(empty == Boxed<std::string>(std::nullopt));
  Boxed<std::string> a = std::optional<std::string>("limit of pump-1");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, "limit of pump-1");
  EXPECT_EQ(a->size(), 15u);
  EXPECT_FALSE(a == empty);
  Boxed<std::string> copy = a;
  EXPECT_TRUE(copy == a);
  EXPECT_NE(&*copy, &*a);  // a value of its own
  *copy += "!";
  EXPECT_FALSE(copy == a);
  EXPECT_EQ(*a, "limit of pump-1");
  copy = a;
  EXPECT_TRUE(copy == a);
  Boxed<std::string> moved = std::move(copy);
  EXPECT_TRUE(moved == a);
  moved.reset();
  EXPECT_TRUE(moved == empty);
  EXPECT_EQ(moved.emplace("x"), "x");
  EXPECT_TRUE(moved.has_value());
}

}  // namespace
}  // namespace ringfence::policy
