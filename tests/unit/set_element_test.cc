// A device part's elements held as bytes (policy/set_element.h): what goes
// in comes out, equal elements make equal bytes, and bytes from a file are
// checked before they are taken.
#include "policy/set_element.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringfence::policy {
namespace {

SetElement element(std::vector<uint8_t> low, std::vector<uint8_t> high, std::string data,
                   std::string comment, uint64_t timeoutMs = 0) {
  SetElement e;
  e.low.assign(low.begin(), low.end());
  e.high.assign(high.begin(), high.end());
  if (!data.empty()) e.data = data;
  if (!comment.empty()) e.comment = comment;
  e.timeoutMs = timeoutMs;
  return e;
}

std::vector<SetElement> sample() {
  std::vector<uint8_t> v6pair(40), v6high(40, 0xff);
  for (size_t i = 0; i < v6pair.size(); ++i) v6pair[i] = static_cast<uint8_t>(i);
  return {
      element({100, 64, 0, 1}, {}, "", "pump"),
      element({100, 64, 0, 1}, {}, "goto ranges_out4_08", "pump"),
      element(v6pair, v6high, "", "pump.yaml:12"),  // the longest key, an interval
      element({1, 2, 3}, {1, 2, 9}, "", ""),        // neither text
      element({7}, {}, "limit_pump", "pump.yaml:12", 3'600'000),
  };
}

TEST(ElementList, GivesBackWhatWentIn) {
  ElementList list;
  for (const SetElement& e : sample()) list.push_back(e);
  std::vector<SetElement> in = sample();
  ASSERT_EQ(list.size(), in.size());
  size_t i = 0;
  for (ElementView e : list) {
    EXPECT_EQ(e.copy(), in[i]) << i;
    EXPECT_EQ(e, ElementView(in[i])) << i;
    ++i;
  }
  EXPECT_EQ(i, in.size());
  EXPECT_EQ(list.texts().size(), 4u) << "pump, the goto, pump.yaml:12, limit_pump: each once";
  // A device's every element that names it holds one text.
  EXPECT_TRUE(list[0].comment.sameObject(list[1].comment));
  EXPECT_THROW(list.at(in.size()), std::out_of_range);
  EXPECT_TRUE(list[2].high.size() == 40 && list[3].data.empty() && list[3].comment.empty());
}

TEST(ElementList, EqualElementsAreEqualBytesWhereverTheirTextsComeFrom) {
  // The same elements, their texts separate objects or one: the same list.
  ElementList a, b;
  for (const SetElement& e : sample()) a.push_back(e);
  SharedText shared("pump");
  for (SetElement e : sample()) {
    if (e.comment == "pump") e.comment = shared;
    b.push_back(e);
  }
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.bytes(), b.bytes());
  ElementList c = a;
  SetElement other = c[4].copy();
  other.timeoutMs += 1;
  c.replace(4, other);
  EXPECT_NE(a, c);
  EXPECT_EQ(c[4].timeoutMs, 3'600'001u);
  EXPECT_EQ(c[3], a[3]);
}

TEST(ElementList, ManyTextsAreFoundByTheirBytes) {
  // Beyond a few texts, an index finds them: each comment still held once,
  // and the list the same as one made of copies of them.
  ElementList a, b;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 50; ++i) {
      SetElement e = element({static_cast<uint8_t>(i), static_cast<uint8_t>(round)}, {}, "",
                             "line " + std::to_string(i));
      a.push_back(e);
      b.push_back(e);
    }
  }
  a.shrink_to_fit();
  EXPECT_EQ(a.texts().size(), 50u);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(a[7].comment.sameObject(a[57].comment));
  EXPECT_EQ(a[57].comment, "line 7");
}

TEST(ElementList, IsMadeFromItsBytesOnlyIfEveryElementIsWellFormed) {
  ElementList list;
  for (const SetElement& e : sample()) list.push_back(e);
  std::string bytes(list.bytes());
  auto made = ElementList::fromBytes(bytes, list.texts());
  ASSERT_TRUE(made);
  EXPECT_EQ(*made, list);
  EXPECT_EQ((*made)[2].copy(), sample()[2]);
  EXPECT_TRUE(ElementList::fromBytes("", {}));  // no element at all

  auto refused = [&](std::string b, std::vector<SharedText> texts) {
    return !ElementList::fromBytes(b, std::move(texts)).has_value();
  };
  // Cut short anywhere: refused (within an element, or a text left unnamed).
  for (size_t n = 1; n < bytes.size(); ++n)
    EXPECT_TRUE(refused(bytes.substr(0, n), list.texts())) << n;
  // A text missing, one more, or in another order: refused.
  std::vector<SharedText> texts = list.texts();
  EXPECT_TRUE(refused(bytes, {texts.begin(), texts.end() - 1}));
  std::vector<SharedText> more = texts;
  more.emplace_back("unused");
  EXPECT_TRUE(refused(bytes, more));
  // Texts named first in another order than they are held: another form of
  // the same elements, which would not compare equal to them.
  ElementList two;
  two.push_back(element({1}, {}, "", "a"));
  two.push_back(element({2}, {}, "", "b"));
  two.push_back(element({3}, {}, "", "b"));
  std::string swapped(two.bytes());
  ASSERT_EQ(swapped.size(), 15u);
  std::swap(swapped[3], swapped[8]);  // b, a, b
  EXPECT_TRUE(refused(swapped, two.texts()));
  // An element's own bytes: a key longer than any, an unknown flag, an empty
  // low key, a zero timeout, an empty text.
  ElementList one;
  one.push_back(element({1, 2, 3, 4}, {}, "", "c", 5));
  std::string good(one.bytes());
  ASSERT_TRUE(ElementList::fromBytes(good, {SharedText("c")}));
  // The same elements in another form: an index padded with a zero byte,
  // or a text held twice.
  std::string padded(one.bytes());
  ASSERT_EQ(padded[3], 0);
  padded[3] = static_cast<char>(0x80);
  padded.insert(padded.begin() + 4, '\0');
  EXPECT_TRUE(refused(padded, {SharedText("c")}));
  ElementList twice;
  twice.push_back(element({1}, {}, "", "a"));
  twice.push_back(element({2}, {}, "", "b"));
  std::string again(twice.bytes());
  EXPECT_TRUE(refused(again, {SharedText("a"), SharedText("a")}));
  ASSERT_TRUE(ElementList::fromBytes(again, {SharedText("a"), SharedText("b")}));
  std::string b = good;
  b[0] = 41;
  EXPECT_TRUE(refused(b, {SharedText("c")}));
  b = good;
  b[2] |= 8;
  EXPECT_TRUE(refused(b, {SharedText("c")}));
  b = good;
  b[0] = 0;
  EXPECT_TRUE(refused(b, {SharedText("c")}));
  b = good;
  std::fill(b.begin() + 4, b.begin() + 12, '\0');  // after the lengths, flags and index
  EXPECT_TRUE(refused(b, {SharedText("c")}));
  EXPECT_TRUE(refused(good, {SharedText("")}));
  EXPECT_TRUE(refused(good, {}));
}

}  // namespace
}  // namespace ringfence::policy
