// InlineVector (policy/inline_vector.h): in place up to N elements, in one
// heap block beyond; every element made is destroyed once, whichever way
// the vector was copied, moved or grown.
#include "policy/inline_vector.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ringfence::policy {
namespace {

// Counts the objects alive, to catch one destroyed twice or never.
struct Counted {
  static inline int alive = 0;
  std::string text;
  explicit Counted(std::string t = "") : text(std::move(t)) { ++alive; }
  Counted(const Counted& o) : text(o.text) { ++alive; }
  Counted(Counted&& o) noexcept : text(std::move(o.text)) { ++alive; }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) noexcept = default;
  ~Counted() { --alive; }
  bool operator==(const Counted& o) const { return text == o.text; }
};

// Long enough that a moved-from text is seen as empty, not left in place.
std::string word(int i) { return "element number " + std::to_string(i) + " of the test"; }

template <uint32_t N>
std::vector<std::string> texts(const InlineVector<Counted, N>& v) {
  std::vector<std::string> out;
  for (const Counted& c : v) out.push_back(c.text);
  return out;
}

TEST(InlineVector, StaysInPlaceUpToNThenGrowsInOneBlock) {
  {
    InlineVector<Counted, 2> v;
    EXPECT_TRUE(v.empty());
    v.emplace_back(word(0));
    v.push_back(Counted(word(1)));
    EXPECT_EQ(v.capacity(), 2u);  // in place
    const Counted* inPlace = v.data();
    EXPECT_GE(reinterpret_cast<const char*>(inPlace), reinterpret_cast<const char*>(&v));
    EXPECT_LT(reinterpret_cast<const char*>(inPlace), reinterpret_cast<const char*>(&v + 1));
    v.emplace_back(word(2));
    EXPECT_EQ(v.capacity(), 4u);
    EXPECT_EQ(texts(v), (std::vector<std::string>{word(0), word(1), word(2)}));
    EXPECT_EQ(v.front().text, word(0));
    EXPECT_EQ(v.back().text, word(2));
    EXPECT_EQ(Counted::alive, 3);
    v.pop_back();
    EXPECT_EQ(Counted::alive, 2);
    v.clear();
    EXPECT_TRUE(v.empty());
    EXPECT_EQ(Counted::alive, 0);
    v.emplace_back(word(3));
  }
  EXPECT_EQ(Counted::alive, 0);
}

// An element of the vector itself, pushed when the vector grows, is copied
// before it moves.
TEST(InlineVector, PushingItsOwnElementWhileGrowing) {
  {
    InlineVector<Counted, 1> v;
    v.emplace_back(word(0));
    v.push_back(v[0]);  // grows out of place
    v.push_back(v[1]);  // grows again
    EXPECT_EQ(texts(v), (std::vector<std::string>{word(0), word(0), word(0)}));
  }
  EXPECT_EQ(Counted::alive, 0);
}

TEST(InlineVector, CopiesAndMovesInPlaceAndOnTheHeap) {
  for (int n : {0, 1, 2, 3, 9}) {
    {
      InlineVector<Counted, 2> a;
      for (int i = 0; i < n; ++i) a.emplace_back(word(i));
      std::vector<std::string> want = texts(a);
      InlineVector<Counted, 2> copy(a);
      EXPECT_EQ(texts(copy), want) << n;
      EXPECT_TRUE(copy == a) << n;
      InlineVector<Counted, 2> moved(std::move(a));
      EXPECT_EQ(texts(moved), want) << n;
      EXPECT_TRUE(a.empty()) << n;  // NOLINT(bugprone-use-after-move): left empty
      a.emplace_back(word(100));    // and usable
      InlineVector<Counted, 2> assigned;
      assigned.emplace_back(word(50));
      assigned.emplace_back(word(51));
      assigned.emplace_back(word(52));  // on the heap before
      assigned = copy;
      EXPECT_EQ(texts(assigned), want) << n;
      assigned = std::move(moved);
      EXPECT_EQ(texts(assigned), want) << n;
      assigned = assigned;  // NOLINT: self-assignment keeps it
      EXPECT_EQ(texts(assigned), want) << n;
      EXPECT_EQ(Counted::alive, 1 + 2 * n) << n;  // a, copy, assigned
    }
    EXPECT_EQ(Counted::alive, 0) << n;
  }
}

// A copy that throws midway destroys what it made and frees its block.
struct Throwing {
  static inline int alive = 0;
  static inline int copiesLeft = 0;
  Throwing() { ++alive; }
  Throwing(const Throwing&) {
    if (copiesLeft-- == 0) throw std::runtime_error("copy refused");
    ++alive;
  }
  Throwing(Throwing&&) noexcept { ++alive; }
  ~Throwing() { --alive; }
};

TEST(InlineVector, ACopyThatThrowsLeavesNothingBehind) {
  {
    InlineVector<Throwing, 1> v;
    for (int i = 0; i < 3; ++i) v.emplace_back();
    Throwing::copiesLeft = 1;  // the second copy throws, on the heap already
    EXPECT_THROW((InlineVector<Throwing, 1>(v)), std::runtime_error);
    EXPECT_EQ(Throwing::alive, 3);
  }
  EXPECT_EQ(Throwing::alive, 0);
}

TEST(InlineVector, ComparesAndBuildsLikeAVector) {
  InlineVector<int, 4> v = {1, 2, 3};
  EXPECT_TRUE(v == (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(v == (std::vector<int>{1, 2}));
  EXPECT_FALSE(v == (InlineVector<int, 4>{1, 2, 4}));
  v = {7, 8, 9, 10, 11};
  EXPECT_TRUE(v == (std::vector<int>{7, 8, 9, 10, 11}));
  std::vector<int> from = {4, 5};
  EXPECT_TRUE((InlineVector<int, 1>(from) == from));
  v.reserve(100);
  EXPECT_EQ(v.capacity(), 100u);
  EXPECT_TRUE(v == (std::vector<int>{7, 8, 9, 10, 11}));
  static_assert(sizeof(InlineVector<uint32_t, 4>) == 24);  // a std::vector's size, no block
}

}  // namespace
}  // namespace ringfence::policy
