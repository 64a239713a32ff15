// The plan applied through netlink must be the same ruleset as `compile`'s
// text loaded by nft: both are listed back by the kernel and compared.
#include <gtest/gtest.h>

#include <iostream>

#include "netlink/encoder.h"
#include "netlink/nft_socket.h"
#include "netlink/set_elements.h"
#include "policy/compiler.h"
#include "policy/failsafe.h"
#include "policy/loader.h"
#include "policy/nft_text.h"
#include "tests/support/compile.h"
#include "tests/support/lab.h"
#include "tests/support/temp_dir.h"

namespace ringfence::test {
namespace {

int applyFull(const policy::Plan& plan, uint32_t flags) {
  auto sock = netlink::NftSocket::open();
  if (!sock) {
    std::cerr << sock.error().message() << "\n";
    return 1;
  }
  auto existing = sock->getTable(plan.table);
  if (!existing) return 2;
  netlink::Batch batch(sock->nextSeq());
  // As the daemon's sink: a bridge table of that name is replaced or removed.
  auto bridge = sock->getTable(plan.table, NFPROTO_BRIDGE);
  netlink::encodeFullApply(batch, plan,
                           {existing->has_value(), flags, bridge && bridge->has_value()});
  batch.finish();
  auto sent = sock->send(batch);
  if (!sent) {
    std::cerr << sent.error().message() << "\n";
    return 3;
  }
  return 0;
}

// Every table: the bridge topology's plan has a bridge table too.
std::string listTable(const ScopedNetns& ns, const std::string& table) {
  std::string out;
  EXPECT_EQ(ns.exec("nft list table inet " + table, &out), 0) << out;
  std::string all;
  EXPECT_EQ(ns.exec("nft list ruleset", &all), 0) << all;
  return all;
}

TEST(NetlinkApply, SameRulesetAsNftLoadingTheText) {
  RINGFENCE_REQUIRE_ROOT();
  for (const std::string config :
       {RINGFENCE_TEST_DATA "/golden/ringfence.yaml", RINGFENCE_TEST_DATA "/bridge/ringfence.yaml",
        RINGFENCE_SOURCE_DIR "/profiles/ringfence.yaml"}) {
    policy::Plan plan = compileValidConfig(config);
    ScopedNetns viaNetlink("nl"), viaNft("nft");
    ASSERT_EQ(runInNetns(viaNetlink, [&] { return applyFull(plan, 0); }), 0);
    TempDir dir;
    std::string file = dir.write("r.nft", policy::renderNft(plan));
    std::string out;
    ASSERT_EQ(viaNft.exec("nft -f " + shellQuote(file), &out), 0) << out;
    EXPECT_EQ(listTable(viaNetlink, plan.table), listTable(viaNft, plan.table)) << config;
  }
}

TEST(NetlinkApply, ReplacesAnExistingTableAtomically) {
  RINGFENCE_REQUIRE_ROOT();
  policy::Plan plan = compileValidConfig(RINGFENCE_TEST_DATA "/golden/ringfence.yaml");
  ScopedNetns ns("replace");
  std::string out;
  ASSERT_EQ(ns.exec("nft 'add table inet rf_golden; add chain inet rf_golden stale'", &out), 0)
      << out;
  ASSERT_EQ(runInNetns(ns, [&] { return applyFull(plan, 0); }), 0);
  std::string listed = listTable(ns, plan.table);
  EXPECT_EQ(listed.find("chain stale"), std::string::npos);
  EXPECT_NE(listed.find("chain forward"), std::string::npos);
}

TEST(NetlinkApply, KernelRefusalNamesTheMessage) {
  RINGFENCE_REQUIRE_ROOT();
  policy::Plan plan = compileValidConfig(RINGFENCE_TEST_DATA "/golden/ringfence.yaml");
  // A map element naming a limit object that does not exist: the kernel refuses it.
  const policy::SetDef* inlimit = plan.findSet("inlimit4");
  ASSERT_NE(inlimit, nullptr);
  auto set = static_cast<uint32_t>(inlimit - plan.sets.data());
  bool changed = false;
  for (size_t i = 0; i < plan.devices.size() && !changed; ++i) {
    for (const policy::ElementSlice& slice : plan.devices[i].slices) {
      if (slice.set != set) continue;
      policy::ElementList& elements = plan.devices.edit(i).elements;
      policy::SetElement e = elements.at(slice.begin).copy();
      e.data = "no_such_limit";
      elements.replace(slice.begin, e);
      changed = true;
      break;
    }
  }
  ASSERT_TRUE(changed);
  ScopedNetns ns("refuse");
  int rc = runInNetns(ns, [&] {
    auto sock = netlink::NftSocket::open();
    netlink::Batch batch(sock->nextSeq());
    netlink::encodeFullApply(batch, plan, {false, 0});
    batch.finish();
    auto sent = sock->send(batch);
    if (sent) return 10;
    std::string m = sent.error().message();
    std::cerr << "refusal: " << m << "\n";
    return m.find("set inlimit4") != std::string::npos && m.find("a-pump") != std::string::npos
               ? 0
               : 11;
  });
  EXPECT_EQ(rc, 0);
  std::string out;
  EXPECT_NE(ns.exec("nft list table inet rf_golden", &out), 0) << "nothing may be applied: " << out;
}

// The per-device counters come back by address: the kernel's figures, not ours;
// element comments (the device name) come back too.
TEST(NetlinkApply, ReadsPerDeviceCounters) {
  RINGFENCE_REQUIRE_ROOT();
  policy::Plan plan = compileValidConfig(RINGFENCE_TEST_DATA "/golden/ringfence.yaml");
  ScopedNetns ns("counters");
  ASSERT_EQ(runInNetns(ns, [&] { return applyFull(plan, 0); }), 0);
  std::string out;
  // Give a-pump's element known figures; b-monitor's stays at zero.
  ASSERT_EQ(
      ns.exec("nft 'delete element inet rf_golden count4 { 198.51.100.10 }; "
              "add element inet rf_golden count4 { 198.51.100.10 counter packets 5 bytes 300 }'",
              &out),
      0)
      << out;
  int rc = runInNetns(ns, [&] {
    auto sock = netlink::NftSocket::open();
    auto got = netlink::readSetElements(*sock, "rf_golden", "count4");
    if (!got) {
      std::cerr << got.error().message() << "\n";
      return 10;
    }
    if (got->size() != 2) return 11;
    for (const netlink::KernelElement& c : *got) {
      std::vector<uint8_t> pump = {198, 51, 100, 10}, monitor = {198, 51, 100, 20};
      if (c.key == pump && (c.packets != 5 || c.bytes != 300)) return 12;
      if (c.key == monitor && (c.packets != 0 || c.bytes != 0)) return 13;
      if (c.key == monitor && c.comment != "b-monitor") return 16;  // the comment comes back
      if (c.key != pump && c.key != monitor) return 14;
    }
    auto missing = netlink::readSetElements(*sock, "rf_golden", "no_such_set");
    return !missing && missing.error().error == ENOENT ? 0 : 15;
  });
  EXPECT_EQ(rc, 0);
}

TEST(NetlinkApply, FailsafeSameAsNftAndReplacesAPolicyTable) {
  RINGFENCE_REQUIRE_ROOT();
  using Uplinks = std::optional<std::vector<std::string>>;
  for (const auto& [ifs, uplinks] :
       {std::pair{std::vector<std::string>{"dev0", "lan0"}, Uplinks{}},
        std::pair{std::vector<std::string>{}, Uplinks{std::vector<std::string>{}}},
        std::pair{std::vector<std::string>{"dev0"}, Uplinks{std::vector<std::string>{"lan0"}}}}) {
    policy::Plan plan = policy::failsafePlan("rf_golden", ifs, uplinks);
    ScopedNetns viaNetlink("nl"), viaNft("nft");
    // Over a compiled table of the same name, as at a start with a refused policy.
    policy::Plan full = compileValidConfig(RINGFENCE_TEST_DATA "/golden/ringfence.yaml");
    policy::Plan bridged = compileValidConfig(RINGFENCE_TEST_DATA "/bridge/ringfence.yaml");
    ASSERT_EQ(runInNetns(viaNetlink, [&] { return applyFull(uplinks ? full : bridged, 0); }), 0);
    ASSERT_EQ(runInNetns(viaNetlink, [&] { return applyFull(plan, 0); }), 0);
    TempDir dir;
    std::string file = dir.write("r.nft", policy::renderNft(plan));
    std::string out;
    ASSERT_EQ(viaNft.exec("nft -f " + shellQuote(file), &out), 0) << out;
    std::string listed = listTable(viaNetlink, plan.table);
    EXPECT_EQ(listed, listTable(viaNft, plan.table));
    EXPECT_EQ(listed.find("chain forward"), std::string::npos) << listed;
    EXPECT_NE(listed.find("chain failsafe"), std::string::npos) << listed;
  }
}

}  // namespace
}  // namespace ringfence::test
