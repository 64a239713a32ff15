// Packing a policy and its plan (policy/policy_packing.h): what is unpacked
// is what was packed, field for field, and compiles to the very same plan;
// the run-time elements of the plan in force are left out; and a truncated
// or altered input is refused with PackingError, never half read.
#include "policy/policy_packing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "policy/compiler.h"
#include "tests/support/compile.h"
#include "tests/support/plan_text.h"
#include "tests/support/policy_generator.h"
#include "tests/support/temp_dir.h"

namespace ringfence::policy {
namespace {

std::string packed(const Policy& p) {
  std::string out;
  Packer packer(out);
  packPolicy(packer, p);
  return out;
}

std::string packed(const Plan& p) {
  std::string out;
  Packer packer(out);
  packCompiledPlan(packer, p);
  return out;
}

Policy unpackedPolicy(std::string_view bytes) {
  Unpacker u(bytes);
  Policy p = unpackPolicy(u);
  EXPECT_TRUE(u.done());
  return p;
}

Plan unpackedPlan(std::string_view bytes) {
  Unpacker u(bytes);
  Plan p = unpackPlan(u);
  EXPECT_TRUE(u.done());
  return p;
}

void expectRoundTrip(const Policy& p) {
  std::string bytes = packed(p);
  Policy back = unpackedPolicy(bytes);
  EXPECT_EQ(back.devices, p.devices);
  ASSERT_EQ(back.groups.size(), p.groups.size());
  EXPECT_EQ(back.config.stateDir, p.config.stateDir);
  EXPECT_EQ(back.config.deviceInterfaces, p.config.deviceInterfaces);
  EXPECT_EQ(back.config.topology, p.config.topology);
  EXPECT_EQ(packed(back), bytes);
  Plan plan = compilePlan(p);
  EXPECT_EQ(test::planEverything(compilePlan(back)), test::planEverything(plan));
  std::string planBytes = packed(plan);
  Plan planBack = unpackedPlan(planBytes);
  EXPECT_EQ(test::planEverything(planBack), test::planEverything(plan));
  EXPECT_EQ(packed(planBack), planBytes);
  // Field for field too: the start check compares a load with what it
  // started from this way (daemon/manager_compiled.cc).
  EXPECT_TRUE(back == p);
  EXPECT_TRUE(planBack == plan);
}

TEST(PolicyPacking, TheExampleProfilesComeBackAsTheyWent) {
  expectRoundTrip(test::loadValidConfig(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml"));
}

TEST(PolicyPacking, AGeneratedPolicyComesBackAsItWent) {
  test::TempDir dir;
  expectRoundTrip(test::loadValidConfig(test::writeGeneratedPolicy(dir.path(), 300)));
}

TEST(PolicyPacking, EveryTestPolicyComesBackAsItWent) {
  for (const char* config : {"/isolate/ringfence.yaml", "/instant/ringfence.yaml"}) {
    SCOPED_TRACE(config);
    expectRoundTrip(test::loadValidConfig(std::string(RINGFENCE_TEST_DATA) + config));
  }
}

// The start check's comparison sees a change in any one field.
TEST(PolicyPacking, OneChangedFieldIsADifference) {
  Policy p = test::loadValidConfig(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml");
  Plan plan = compilePlan(p);
  Policy q = p;
  EXPECT_TRUE(q == p);
  q.devices.edit(0).outbound.at(0).where.column += 1;
  EXPECT_FALSE(q == p);
  Plan other = plan;
  EXPECT_TRUE(other == plan);
  ElementList& elements = other.devices.edit(0).elements;
  SetElement first = elements.at(0).copy();
  first.comment = first.comment.str() + " ";
  elements.replace(0, first);
  EXPECT_FALSE(other == plan);
  other = plan;
  other.chains.at(0).rules.at(0).comment += " ";
  EXPECT_FALSE(other == plan);
}

// Texts come back equal; the same bytes unpacked again soon after come back
// as one shared text (as a compile shares a device's or a rule's comment),
// and an empty one as no text at all.
TEST(PolicyPacking, TheSameTextUnpackedAgainIsShared) {
  std::vector<SharedText> texts = {"gen-1.yaml:12", "gen-1.yaml:12", "",
                                   "other",         "gen-1.yaml:12", "gen-1.yaml:13"};
  std::string bytes;
  Packer p(bytes);
  p(texts);
  std::vector<SharedText> back;
  Unpacker u(bytes);
  u(back);
  ASSERT_TRUE(u.done());
  EXPECT_EQ(back, texts);
  EXPECT_TRUE(back[0].sameObject(back[1]));
  EXPECT_TRUE(back[0].sameObject(back[4]));
  EXPECT_FALSE(back[0].sameObject(back[3]));
  EXPECT_FALSE(back[0].sameObject(back[5]));  // as long, other bytes
  EXPECT_TRUE(back[2].sameObject(SharedText()));

  // A compiled plan, as compiled and as unpacked: a device's part holds
  // each of its texts once (its name among them), however many elements
  // name it.
  Plan plan = test::compileValidConfig(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml");
  Plan unpacked = unpackedPlan(packed(plan));
  ASSERT_TRUE(unpacked == plan);
  for (const Plan* p : {&plan, &unpacked}) {
    const DeviceElements& part = p->devices[0];
    size_t named = 0;
    for (ElementView e : part.elements) named += e.comment == part.device;
    EXPECT_GT(named, 2u);
    const std::vector<SharedText>& held = part.elements.texts();
    EXPECT_EQ(std::count(held.begin(), held.end(), SharedText(part.device)), 1);
    std::set<std::string> distinct(held.begin(), held.end());
    EXPECT_EQ(distinct.size(), held.size()) << (p == &plan ? "compiled" : "unpacked");
  }
}

// A device's slices, packed as they came, are taken only as compiled: one
// per set with elements, in set order, covering the elements in order.
TEST(PolicyPacking, SlicesThatDoNotCoverTheElementsAreRefused) {
  Plan plan = test::compileValidConfig(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml");
  ASSERT_GE(plan.devices[0].slices.size(), 2u);
  EXPECT_TRUE(unpackedPlan(packed(plan)) == plan);
  auto refused = [&](auto alter) {
    Plan bad = plan;
    alter(bad.devices.edit(0).slices);
    std::string bytes = packed(bad);
    Unpacker u(bytes);
    EXPECT_THROW(unpackPlan(u), PackingError);
  };
  refused([](auto& s) { std::swap(s[0].begin, s[0].end); });             // reversed
  refused([](auto& s) { s[0].end = s[0].begin; });                       // empty
  refused([](auto& s) { s[1].begin += 1; });                             // a gap
  refused([](auto& s) { s.back().end += 1; });                           // past the elements
  refused([](auto& s) { s.pop_back(); });                                // elements left over
  refused([](auto& s) { std::swap(s[0].set, s[1].set); });               // out of set order
  refused([&](auto& s) { s.back().set = uint32_t(plan.sets.size()); });  // no such set
}

TEST(PolicyPacking, RunTimeElementsAreLeftOut) {
  Plan plan = test::compileValidConfig(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml");
  std::string compiled = packed(plan);
  ASSERT_NE(plan.findSet(setname::kIsolated4), nullptr);
  SetElement e;
  e.low = KeyBytes{198, 51, 100, 10};
  plan.addElements({{setname::kIsolated4, e}});
  EXPECT_EQ(packed(plan), compiled);
  Plan back = unpackedPlan(compiled);
  EXPECT_TRUE(back.findSet(setname::kIsolated4)->elements.empty());
}

TEST(PolicyPacking, EveryTruncationIsRefused) {
  Plan plan = test::compileValidConfig(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml");
  std::string planBytes = packed(plan);
  std::string policyBytes =
      packed(test::loadValidConfig(RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml"));
  size_t step = std::max<size_t>(1, planBytes.size() / 3000);
  for (size_t n = 0; n < planBytes.size(); n += step) {
    Unpacker u(std::string_view(planBytes).substr(0, n));
    EXPECT_THROW(unpackPlan(u), PackingError) << "plan cut at " << n;
  }
  step = std::max<size_t>(1, policyBytes.size() / 3000);
  for (size_t n = 0; n < policyBytes.size(); n += step) {
    Unpacker u(std::string_view(policyBytes).substr(0, n));
    EXPECT_THROW(unpackPolicy(u), PackingError) << "policy cut at " << n;
  }
}

TEST(Packing, ValuesComeBackAndBadInputIsRefused) {
  std::string out;
  Packer p(out);
  std::vector<std::string> words{"a", "", "ccc"};
  std::optional<int32_t> some = -7, none;
  std::map<std::string, uint16_t> ports{{"https", 443}, {"ssh", 22}};
  std::variant<int64_t, std::string> alt = std::string("x");
  p(true, uint8_t{200}, words, some, none, ports, alt, std::string_view("view"));
  Unpacker u(out);
  bool flag = false;
  uint8_t byte = 0;
  std::vector<std::string> words2;
  std::optional<int32_t> some2, none2 = 1;
  std::map<std::string, uint16_t> ports2;
  std::variant<int64_t, std::string> alt2;
  std::string_view view;
  u(flag, byte, words2, some2, none2, ports2, alt2, view);
  EXPECT_TRUE(u.done());
  EXPECT_TRUE(flag);
  EXPECT_EQ(byte, 200);
  EXPECT_EQ(words2, words);
  EXPECT_EQ(some2, some);
  EXPECT_EQ(none2, std::nullopt);
  EXPECT_EQ(ports2, ports);
  EXPECT_EQ(alt2, alt);
  EXPECT_EQ(view, "view");

  std::string badFlag(1, '\2');
  Unpacker u1(badFlag);
  EXPECT_THROW(u1(flag), PackingError);
  std::string twice;
  Packer p2(twice);
  p2.u32(2);
  p2(std::string("k"), uint16_t{1}, std::string("k"), uint16_t{2});
  Unpacker u2(twice);
  EXPECT_THROW(u2(ports2), PackingError);
  std::string tooMany;
  Packer p3(tooMany);
  p3.u32(1000000);
  Unpacker u3(tooMany);
  EXPECT_THROW(u3(words2), PackingError);
  std::string unknownAlternative;
  Packer p4(unknownAlternative);
  p4.u32(5);
  Unpacker u4(unknownAlternative);
  EXPECT_THROW(u4(alt2), PackingError);
}

}  // namespace
}  // namespace ringfence::policy
