// What we send to the kernel, without a socket: the golden plan is encoded
// into one batch in memory, every message is parsed back with libnftnl and
// printed, and the print must equal the reviewed golden file.
#include <gtest/gtest.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "netlink/encoder.h"
#include "netlink/handles.h"
#include "policy/compiler.h"
#include "policy/failsafe.h"
#include "policy/loader.h"
#include "tests/support/compile.h"
#include "tests/support/policy_generator.h"
#include "tests/support/temp_dir.h"

namespace ringfence::netlink {
namespace {

policy::Plan goldenPlan() {
  return test::compileValidConfig(RINGFENCE_TEST_DATA "/golden/ringfence.yaml");
}

// One line per message: its type, then libnftnl's own print of it.
std::string printBatch(const Batch& batch) {
  std::string out;
  const std::vector<char> bytes = batch.bytes();
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes.data());
  int len = static_cast<int>(bytes.size());
  char buf[8192];
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
    uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
    if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN || nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
      out += nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN ? "batch begin\n" : "batch end\n";
      continue;
    }
    switch (type) {
      case NFT_MSG_NEWRULE: {
        RulePtr r(nftnl_rule_alloc());
        EXPECT_EQ(nftnl_rule_nlmsg_parse(nlh, r.get()), 0);
        nftnl_rule_snprintf(buf, sizeof buf, r.get(), NFTNL_OUTPUT_DEFAULT, 0);
        out += std::string("rule ") + buf + "\n";
        break;
      }
      case NFT_MSG_NEWSET: {
        SetPtr s(nftnl_set_alloc());
        EXPECT_EQ(nftnl_set_nlmsg_parse(nlh, s.get()), 0);
        out += std::string("set ") + nftnl_set_get_str(s.get(), NFTNL_SET_NAME) + " flags " +
               std::to_string(nftnl_set_get_u32(s.get(), NFTNL_SET_FLAGS)) + " keytype " +
               std::to_string(nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_TYPE)) + " keylen " +
               std::to_string(nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_LEN)) + "\n";
        break;
      }
      case NFT_MSG_NEWSETELEM: {
        SetPtr s(nftnl_set_alloc());
        EXPECT_EQ(nftnl_set_elems_nlmsg_parse(nlh, s.get()), 0);
        nftnl_set_snprintf(buf, sizeof buf, s.get(), NFTNL_OUTPUT_DEFAULT, 0);
        out += std::string("elements ") + buf + "\n";
        break;
      }
      case NFT_MSG_NEWCHAIN: {
        ChainPtr c(nftnl_chain_alloc());
        EXPECT_EQ(nftnl_chain_nlmsg_parse(nlh, c.get()), 0);
        nftnl_chain_snprintf(buf, sizeof buf, c.get(), NFTNL_OUTPUT_DEFAULT, 0);
        out += std::string("chain ") + buf + "\n";
        break;
      }
      default:
        out += "message " + std::to_string(type) + " seq " +
               std::to_string(nlh->nlmsg_seq - batch.firstSeq()) + "\n";
    }
  }
  return out;
}

// RINGFENCE_UPDATE_GOLDEN=1 rewrites the golden file after a reviewed change.
TEST(NetlinkEncode, GoldenBatch) {
  policy::Plan plan = goldenPlan();
  Batch batch(1000);
  encodeFullApply(batch, plan, {true, kTableFlagOwner | kTableFlagPersist});
  batch.finish();
  std::string printed = printBatch(batch);
  const std::string golden = RINGFENCE_TEST_DATA "/golden/expected-netlink.txt";
  if (std::getenv("RINGFENCE_UPDATE_GOLDEN")) std::ofstream(golden) << printed;
  EXPECT_EQ(printed, test::readFile(golden));
}

// Sequence numbers follow one another from the first; every message that
// asks for an acknowledgement says what it carries.
void expectSequencesAndDescriptions(const Batch& batch, uint32_t first) {
  const std::vector<char> bytes = batch.bytes();
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes.data());
  int len = static_cast<int>(bytes.size());
  uint32_t expected = first;
  size_t acked = 0;
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len), ++expected) {
    EXPECT_EQ(nlh->nlmsg_seq, expected);
    if (nlh->nlmsg_flags & NLM_F_ACK) {
      ++acked;
      EXPECT_FALSE(batch.describe(nlh->nlmsg_seq).empty()) << nlh->nlmsg_seq;
    }
  }
  EXPECT_EQ(acked, batch.messageCount());
  EXPECT_EQ(len, 0) << "the batch parses to its end";
}

TEST(NetlinkEncode, EveryMessageHasItsOwnSequenceAndDescription) {
  policy::Plan plan = goldenPlan();
  Batch batch(77);
  encodeFullApply(batch, plan, {false, 0});
  batch.finish();
  expectSequencesAndDescriptions(batch, 77);
}

// Every element the batch adds, in order, as "set: element" (libnftnl's print).
std::vector<std::string> elementLines(const Batch& batch) {
  std::vector<std::string> out;
  const std::vector<char> bytes = batch.bytes();
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes.data());
  int len = static_cast<int>(bytes.size());
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
    if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN || nlh->nlmsg_type == NFNL_MSG_BATCH_END ||
        NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM)
      continue;
    SetPtr s(nftnl_set_alloc());
    EXPECT_EQ(nftnl_set_elems_nlmsg_parse(nlh, s.get()), 0);
    struct Context {
      std::string set;
      std::vector<std::string>* out;
    } context{nftnl_set_get_str(s.get(), NFTNL_SET_NAME), &out};
    nftnl_set_elem_foreach(
        s.get(),
        [](nftnl_set_elem* e, void* data) {
          char buf[1024];
          nftnl_set_elem_snprintf(buf, sizeof buf, e, NFTNL_OUTPUT_DEFAULT, 0);
          auto* c = static_cast<Context*>(data);
          c->out->push_back(c->set + ": " + buf);
          return 0;
        },
        &context);
  }
  return out;
}

// The elements encoded on two threads are those encoded on one, in the same
// order, and the messages are numbered and described as ever.
TEST(NetlinkEncode, TwoThreadsEncodeTheSameElementsInTheSameOrder) {
  test::TempDir dir;
  policy::Plan generated =
      test::compileValidConfig(test::writeGeneratedPolicy(dir.path() / "policy", 1000).string());
  size_t elements = generated.elementCount();
  ASSERT_GE(elements, FullApply{}.twoThreadsFrom) << "the generated plan is split by default";
  Batch one(1), two(500), always(9), grouped(3), groupedOne(4);
  encodeFullApply(one, generated, {false, 0, false, elements + 1});
  encodeFullApply(two, generated, {false, 0});
  encodeFullApply(always, generated, {false, 0, false, 0});
  // The sets listed a sixteenth of the elements at a time (or a set), on two threads and on one.
  encodeFullApply(grouped, generated, {false, 0, false, 0, 1});
  encodeFullApply(groupedOne, generated, {false, 0, false, elements + 1, 1});
  for (Batch* b : {&one, &two, &always, &grouped, &groupedOne}) b->finish();
  std::vector<std::string> serial = elementLines(one);
  EXPECT_EQ(serial.size(), elements);
  EXPECT_EQ(elementLines(two), serial);
  EXPECT_EQ(elementLines(always), serial);
  EXPECT_EQ(elementLines(grouped), serial);
  EXPECT_EQ(elementLines(groupedOne), serial);
  expectSequencesAndDescriptions(two, 500);
  expectSequencesAndDescriptions(always, 9);
  // The second half is a piece of the batch as it was encoded, not a copy;
  // the pieces together are the batch.
  EXPECT_EQ(one.pieces().size(), 1u);
  EXPECT_EQ(two.pieces().size(), 3u);  // first half, second half, what followed
  size_t bytes = 0;
  for (const iovec& v : two.pieces()) bytes += v.iov_len;
  EXPECT_EQ(bytes, two.size());
  EXPECT_EQ(two.bytes().size(), two.size());
  // A small plan too, split always: its one message per set is cut in the middle.
  policy::Plan golden = goldenPlan();
  Batch small(1), smallSplit(1), smallGrouped(1);
  encodeFullApply(small, golden, {false, 0});
  encodeFullApply(smallSplit, golden, {false, 0, false, 0});
  encodeFullApply(smallGrouped, golden, {false, 0, false, 0, 1});
  small.finish();
  smallSplit.finish();
  smallGrouped.finish();
  EXPECT_FALSE(elementLines(small).empty());
  EXPECT_EQ(elementLines(smallSplit), elementLines(small));
  EXPECT_EQ(elementLines(smallGrouped), elementLines(small));
  expectSequencesAndDescriptions(smallSplit, 1);
  // And a plan without a single element (the failsafe without interfaces;
  // fewer than two elements are never split): every set, no element.
  policy::Plan none = policy::failsafePlan("rf", {}, std::vector<std::string>{});
  ASSERT_EQ(none.elementCount(), 0u);
  Batch empty(1);
  encodeFullApply(empty, none, {false, 0, false, 0, 1});
  empty.finish();
  EXPECT_TRUE(elementLines(empty).empty());
  expectSequencesAndDescriptions(empty, 1);
}

TEST(NetlinkEncode, KeyTypesAreNftDatatypes) {
  using policy::KeyType;
  EXPECT_EQ(kernelKeyType({KeyType::Ipv4Addr}), 7u);
  EXPECT_EQ(kernelKeyType(
                {KeyType::Ipv4Addr, KeyType::Ipv4Addr, KeyType::InetProto, KeyType::InetService}),
            (((7u << 6 | 7u) << 6 | 12u) << 6) | 13u);
}

}  // namespace
}  // namespace ringfence::netlink
